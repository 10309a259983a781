//! The portal's texts.

use crate::ui::i18n::Lang;

impl Lang {
    /// A portal notification: its kind and the work request it is about.
    pub fn notification(self, kind: &str, subject: Option<i64>) -> String {
        let n = subject.map_or_else(String::new, |id| format!(" #{id}"));
        match (self, kind) {
            (Lang::Ja, "work-request-new") => format!("新しい作業申請{n}があります。"),
            (Lang::En, "work-request-new") => format!("New work request{n} to decide."),
            (Lang::Ja, "work-request-approved") => format!("作業申請{n}が承認されました。"),
            (Lang::En, "work-request-approved") => format!("Work request{n} was approved."),
            (Lang::Ja, "work-request-rejected") => format!("作業申請{n}は却下されました。"),
            (Lang::En, "work-request-rejected") => format!("Work request{n} was rejected."),
            (Lang::Ja, "work-request-revoked") => format!("作業申請{n}の承認が取り消されました。"),
            (Lang::En, "work-request-revoked") => {
                format!("The approval of work request{n} was revoked.")
            }
            (Lang::Ja, "work-request-withdrawn") => format!("作業申請{n}は取り下げられました。"),
            (Lang::En, "work-request-withdrawn") => format!("Work request{n} was withdrawn."),
            (_, other) => format!("{other}{n}"),
        }
    }
}

/// The portal's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalText {
    PortalTitle,
    Welcome,
    Role,
    RecentLogins,
    Result,
    Success,
    Failure,
    NoLogins,
    Notifications,
    YourDevices,
    NoDevices,
}

impl crate::ui::i18n::Text for PortalText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            PortalText::PortalTitle => ("ポータル", "Portal"),
            PortalText::Welcome => ("ようこそ", "Welcome"),
            PortalText::Role => ("役割", "Role"),
            PortalText::RecentLogins => ("最近のログイン", "Recent logins"),
            PortalText::Result => ("結果", "Result"),
            PortalText::Success => ("成功", "Success"),
            PortalText::Failure => ("失敗", "Failure"),
            PortalText::NoLogins => ("まだ記録がありません。", "Nothing recorded yet."),
            PortalText::Notifications => ("お知らせ", "Notifications"),
            PortalText::YourDevices => ("あなたの貸与端末", "Your lent devices"),
            PortalText::NoDevices => ("貸与された端末はありません。", "No device is lent to you."),
        }
    }
}
