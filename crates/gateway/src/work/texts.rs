//! The work-request feature's refusals, in Japanese and English.

use axum::http::StatusCode;
use hoshu_storage::WorkRequestState;

use crate::app::error::Problem;
use crate::ui::i18n::Lang;

/// Why a work request or a decision on one was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkRefusal {
    NotAVendor,
    WindowOrder,
    WindowOver,
    WindowTooLong {
        max_days: i64,
    },
    TargetCount {
        max: usize,
    },
    /// A target that does not exist, or that the user may not see (said alike).
    UnknownTarget {
        name: String,
    },
    UnknownDecision,
    NotYourRequest,
    NotWithdrawable {
        state: WorkRequestState,
    },
    NotADecider,
    OwnRequest,
    ReasonRequired,
    WrongState {
        state: WorkRequestState,
        expected: WorkRequestState,
    },
    DecidedMeanwhile,
}

impl Problem for WorkRefusal {
    fn code(&self) -> &'static str {
        match self {
            WorkRefusal::NotAVendor => "work-not-a-vendor",
            WorkRefusal::WindowOrder => "work-window-order",
            WorkRefusal::WindowOver => "work-window-over",
            WorkRefusal::WindowTooLong { .. } => "work-window-too-long",
            WorkRefusal::TargetCount { .. } => "work-target-count",
            WorkRefusal::UnknownTarget { .. } => "no-such-target",
            WorkRefusal::UnknownDecision => "work-decision",
            WorkRefusal::NotYourRequest => "work-not-yours",
            WorkRefusal::NotWithdrawable { .. } => "work-not-withdrawable",
            WorkRefusal::NotADecider => "work-not-a-decider",
            WorkRefusal::OwnRequest => "work-own-request",
            WorkRefusal::ReasonRequired => "work-reason-required",
            WorkRefusal::WrongState { .. } => "work-state",
            WorkRefusal::DecidedMeanwhile => "changed-meanwhile",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            WorkRefusal::NotAVendor
            | WorkRefusal::NotYourRequest
            | WorkRefusal::NotADecider
            | WorkRefusal::OwnRequest => StatusCode::FORBIDDEN,
            WorkRefusal::UnknownTarget { .. } => StatusCode::NOT_FOUND,
            WorkRefusal::NotWithdrawable { .. }
            | WorkRefusal::WrongState { .. }
            | WorkRefusal::DecidedMeanwhile => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (WorkRefusal::NotAVendor, Lang::Ja) => {
                "作業申請は保守業者の技術者が行います。".to_owned()
            }
            (WorkRefusal::NotAVendor, Lang::En) => {
                "work requests are made by vendor engineers".to_owned()
            }
            (WorkRefusal::WindowOrder, Lang::Ja) => {
                "作業の終了日時は開始日時より後にしてください。".to_owned()
            }
            (WorkRefusal::WindowOrder, Lang::En) => {
                "the work window must end after it starts".to_owned()
            }
            (WorkRefusal::WindowOver, Lang::Ja) => {
                "作業期間はすでに終わっています。これから先の日時を選んでください。".to_owned()
            }
            (WorkRefusal::WindowOver, Lang::En) => {
                "the work window is already over; choose a time in the future".to_owned()
            }
            (WorkRefusal::WindowTooLong { max_days }, Lang::Ja) => format!(
                "1件の申請で申請できるのは{max_days}日までです。長い作業は分けて申請してください。"
            ),
            (WorkRefusal::WindowTooLong { max_days }, Lang::En) => {
                format!("one request may cover at most {max_days} days; split longer work")
            }
            (WorkRefusal::TargetCount { max }, Lang::Ja) => {
                format!("接続先を1〜{max}件選んでください。")
            }
            (WorkRefusal::TargetCount { max }, Lang::En) => format!("name 1 to {max} targets"),
            (WorkRefusal::UnknownTarget { name }, Lang::Ja) => {
                format!("あなたが使える「{name}」という接続先はありません。")
            }
            (WorkRefusal::UnknownTarget { name }, Lang::En) => {
                format!("no target named {name:?} is available to you")
            }
            (WorkRefusal::UnknownDecision, Lang::Ja) => {
                "判断は承認・却下・取り消し・取り下げのいずれかです。".to_owned()
            }
            (WorkRefusal::UnknownDecision, Lang::En) => {
                "decision must be approve, reject, revoke or withdraw".to_owned()
            }
            (WorkRefusal::NotYourRequest, Lang::Ja) => {
                "申請を取り下げられるのは申請した技術者だけです。".to_owned()
            }
            (WorkRefusal::NotYourRequest, Lang::En) => {
                "only the engineer who made a request may withdraw it".to_owned()
            }
            (WorkRefusal::NotWithdrawable { state }, Lang::Ja) => format!(
                "この申請は「{}」です。取り下げられるのは承認待ちか承認済みの申請だけです。",
                lang.work_state(*state)
            ),
            (WorkRefusal::NotWithdrawable { state }, Lang::En) => format!(
                "the request is {}; only pending or approved requests can be withdrawn",
                state.as_str()
            ),
            (WorkRefusal::NotADecider, Lang::Ja) => {
                "作業申請を判断できるのは承認者と管理者だけです。".to_owned()
            }
            (WorkRefusal::NotADecider, Lang::En) => {
                "only approvers and administrators decide work requests".to_owned()
            }
            (WorkRefusal::OwnRequest, Lang::Ja) => "自分の作業申請は判断できません。".to_owned(),
            (WorkRefusal::OwnRequest, Lang::En) => {
                "you cannot decide your own work request".to_owned()
            }
            (WorkRefusal::ReasonRequired, Lang::Ja) => {
                "技術者が何を直せばよいか分かるよう、コメントに理由を書いてください。".to_owned()
            }
            (WorkRefusal::ReasonRequired, Lang::En) => {
                "say why in the comment, so the engineer knows what to change".to_owned()
            }
            (WorkRefusal::WrongState { state, expected }, Lang::Ja) => format!(
                "この申請は「{}」で、「{}」ではありません。再読み込みして現在の状態を確認してください。",
                lang.work_state(*state),
                lang.work_state(*expected)
            ),
            (WorkRefusal::WrongState { state, expected }, Lang::En) => format!(
                "the request is {}, not {}; reload to see its current state",
                state.as_str(),
                expected.as_str()
            ),
            (WorkRefusal::DecidedMeanwhile, Lang::Ja) => {
                "この申請は他の人が先に判断しました。再読み込みしてください。".to_owned()
            }
            (WorkRefusal::DecidedMeanwhile, Lang::En) => {
                "the request was decided by someone else meanwhile; reload".to_owned()
            }
        }
    }
}

impl Lang {
    pub fn work_state(self, state: WorkRequestState) -> &'static str {
        let (ja, en) = match state {
            WorkRequestState::Pending => ("承認待ち", "Pending"),
            WorkRequestState::Approved => ("承認済み", "Approved"),
            WorkRequestState::Rejected => ("却下", "Rejected"),
            WorkRequestState::Revoked => ("承認取消", "Revoked"),
            WorkRequestState::Withdrawn => ("取り下げ", "Withdrawn"),
        };
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// The work request page's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkText {
    NewWorkRequest,
    Purpose,
    Starts,
    Ends,
    WindowHelp,
    Request,
    Approve,
    Reject,
    Revoke,
    Withdraw,
    Comment,
    NoWorkRequests,
}

impl crate::ui::i18n::Text for WorkText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            WorkText::NewWorkRequest => ("作業を申請する", "Request work"),
            WorkText::Purpose => ("作業内容", "Purpose"),
            WorkText::Starts => ("開始", "Starts"),
            WorkText::Ends => ("終了", "Ends"),
            WorkText::WindowHelp => (
                "日時は組織の標準時(日本時間)です。最長31日。",
                "Times are in the organisation's time zone (Japan). At most 31 days.",
            ),
            WorkText::Request => ("申請", "Request"),
            WorkText::Approve => ("承認", "Approve"),
            WorkText::Reject => ("却下", "Reject"),
            WorkText::Revoke => ("承認を取り消す", "Revoke"),
            WorkText::Withdraw => ("取り下げ", "Withdraw"),
            WorkText::Comment => ("コメント", "Comment"),
            WorkText::NoWorkRequests => ("作業申請はありません。", "No work requests."),
        }
    }
}
