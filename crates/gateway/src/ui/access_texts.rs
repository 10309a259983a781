//! Japanese and English text of the access model's pages: vendors and the application flow,
//! contracts, work requests, emergency stops, notifications, and the access decision's reasons
//! (their English comes from the domain crate).

use hoshu_domain::{ApplicationState, Denial, LockScope};
use hoshu_storage::WorkRequestState;

use crate::ui::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum A {
    Vendors,
    NewVendor,
    VendorName,
    Contacts,
    SystemsList,
    SystemsHelp,
    Tools,
    Protocols,
    Frequency,
    SubmitHearingSheet,
    State,
    Application,
    Timeline,
    Note,
    MoveTo,
    NoMoves,
    HearingSheet,
    Documents,
    AttachDocument,
    DocumentHelp,
    Attach,
    Devices,
    AssetTag,
    Contracts,
    ContractTitle,
    ValidFrom,
    ValidUntil,
    AddContract,
    Users,
    AddUser,
    DemoDays,
    DemoDaysHelp,
    RegistrationCodeIssued,
    WorkRequests,
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
    EmergencyStop,
    EmergencyHelp,
    Scope,
    ScopeAll,
    ScopeVendor,
    ScopeTarget,
    ScopeUser,
    NameOfScope,
    Reason,
    StopNow,
    Lift,
    LocksInForce,
    NoLocks,
    Notifications,
    AuditLog,
    Manager,
    SearchLogs,
    SearchHelp,
    NoHits,
    Typed,
    Keystrokes,
    NoKeystrokes,
    Speed,
    SkipIdle,
    ChainIntact,
    ChainBroken,
    Kind,
    Who,
    Filter,
    DownloadJsonl,
    Subject,
    Detail,
    Older,
    Actor,
    Id,
}

impl A {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            A::Vendors => ("保守業者", "Vendors"),
            A::NewVendor => (
                "新しい保守業者(ヒアリングシート)",
                "New vendor (hearing sheet)",
            ),
            A::VendorName => ("業者名", "Vendor name"),
            A::Contacts => (
                "連絡先(担当者・電話・メール)",
                "Contacts (person, phone, mail)",
            ),
            A::SystemsList => ("保守する業務システム", "Business systems maintained"),
            A::SystemsHelp => ("カンマ区切り", "separated by commas"),
            A::Tools => (
                "使用するツール・アプリケーション",
                "Tools and applications used",
            ),
            A::Protocols => ("接続方式", "Protocols"),
            A::Frequency => ("想定する作業頻度", "Expected frequency of work"),
            A::SubmitHearingSheet => ("ヒアリングシートを登録", "Submit the hearing sheet"),
            A::State => ("状態", "State"),
            A::Application => ("申請フロー", "Application flow"),
            A::Timeline => ("経過", "Timeline"),
            A::Note => ("メモ", "Note"),
            A::MoveTo => ("次の状態へ", "Move to"),
            A::NoMoves => ("この申請は終了しています。", "This application has ended."),
            A::HearingSheet => ("ヒアリングシート", "Hearing sheet"),
            A::Documents => ("書類", "Documents"),
            A::AttachDocument => ("書類を添付", "Attach a document"),
            A::DocumentHelp => (
                "PDF・PNG・JPEG・Word・Excel・テキスト・CSV、10 MiB まで",
                "PDF, PNG, JPEG, Word, Excel, text or CSV, up to 10 MiB",
            ),
            A::Attach => ("添付", "Attach"),
            A::Devices => ("貸与端末", "Lent devices"),
            A::AssetTag => ("資産番号", "Asset tag"),
            A::Contracts => ("保守契約", "Maintenance contracts"),
            A::ContractTitle => ("契約名", "Contract title"),
            A::ValidFrom => ("開始日", "Valid from"),
            A::ValidUntil => ("終了日", "Valid until"),
            A::AddContract => ("契約を追加", "Add contract"),
            A::Users => ("利用者", "Users"),
            A::AddUser => ("利用者を追加", "Add user"),
            A::DemoDays => ("デモ利用日数", "Demo days"),
            A::DemoDaysHelp => (
                "デモユーザーにする場合のみ(デモ対象だけに接続できます)",
                "Only for a demo user (demo targets only)",
            ),
            A::RegistrationCodeIssued => (
                "利用者を追加しました。次の登録コードを本人に渡してください(一度だけ使えます):",
                "User added. Give them this registration code (it works once):",
            ),
            A::WorkRequests => ("作業申請", "Work requests"),
            A::NewWorkRequest => ("作業を申請する", "Request work"),
            A::Purpose => ("作業内容", "Purpose"),
            A::Starts => ("開始", "Starts"),
            A::Ends => ("終了", "Ends"),
            A::WindowHelp => (
                "日時は組織の標準時(日本時間)です。最長31日。",
                "Times are in the organisation's time zone (Japan). At most 31 days.",
            ),
            A::Request => ("申請", "Request"),
            A::Approve => ("承認", "Approve"),
            A::Reject => ("却下", "Reject"),
            A::Revoke => ("承認を取り消す", "Revoke"),
            A::Withdraw => ("取り下げ", "Withdraw"),
            A::Comment => ("コメント", "Comment"),
            A::NoWorkRequests => ("作業申請はありません。", "No work requests."),
            A::EmergencyStop => ("緊急停止", "Emergency stop"),
            A::EmergencyHelp => (
                "対象の接続をすべて直ちに切断し、解除されるまで新しい接続を拒否します。",
                "Cuts every matching session at once and refuses new ones until lifted.",
            ),
            A::Scope => ("範囲", "Scope"),
            A::ScopeAll => ("すべて", "Everything"),
            A::ScopeVendor => ("保守業者", "Vendor"),
            A::ScopeTarget => ("接続先", "Target"),
            A::ScopeUser => ("利用者", "User"),
            A::NameOfScope => (
                "名前(業者名・接続先名・ログインID)",
                "Name (vendor, target or login ID)",
            ),
            A::Reason => ("理由", "Reason"),
            A::StopNow => ("今すぐ停止", "Stop now"),
            A::Lift => ("解除", "Lift"),
            A::LocksInForce => ("実施中の緊急停止", "Emergency stops in force"),
            A::NoLocks => (
                "実施中の緊急停止はありません。",
                "No emergency stop is in force.",
            ),
            A::Notifications => ("お知らせ", "Notifications"),
            A::AuditLog => ("監査ログ", "Audit log"),
            A::SearchLogs => ("操作ログ検索", "Search operation logs"),
            A::SearchHelp => (
                "入力されたキー操作・コマンドを検索",
                "Search typed keystrokes and commands",
            ),
            A::NoHits => ("該当する操作はありません。", "Nothing typed matches."),
            A::Typed => ("入力内容", "Typed"),
            A::Keystrokes => ("キー入力ログ", "Keystroke log"),
            A::Speed => ("再生速度", "Speed"),
            A::SkipIdle => ("無操作をとばす", "Skip idle"),
            A::NoKeystrokes => (
                "記録されたキー入力はありません。",
                "No keystrokes were logged.",
            ),
            A::Manager => (
                "業者管理者(自社の全セッションを閲覧)",
                "Vendor manager (sees all the company's sessions)",
            ),
            A::ChainIntact => (
                "ハッシュチェーンは改ざんされていません",
                "The hash chain is intact",
            ),
            A::ChainBroken => ("ハッシュチェーンが壊れています", "The hash chain is broken"),
            A::Kind => ("種類", "Kind"),
            A::Who => ("実施者・対象", "Actor or subject"),
            A::Filter => ("絞り込み", "Filter"),
            A::DownloadJsonl => ("JSON Lines でダウンロード", "Download as JSON lines"),
            A::Subject => ("対象", "Subject"),
            A::Detail => ("詳細", "Detail"),
            A::Older => ("さらに古いイベント", "Older events"),
            A::Actor => ("実施者", "By"),
            A::Id => ("番号", "No."),
        }
    }
}

impl Lang {
    pub fn a(self, text: A) -> &'static str {
        let (ja, en) = text.both();
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    pub fn application_state(self, state: ApplicationState) -> &'static str {
        use ApplicationState as S;
        let (ja, en) = match state {
            S::HearingSheet => ("ヒアリングシート提出", "Hearing sheet submitted"),
            S::BriefingHeld => ("説明会実施", "Briefing held"),
            S::Demo => ("デモ利用中", "Demo"),
            S::UnderReview => ("審査中", "Under review"),
            S::Approved => ("審査承認", "Approved"),
            S::Rejected => ("審査否認", "Rejected"),
            S::FormalApplication => ("本申請", "Formal application"),
            S::DevicesLent => ("端末貸与", "Devices lent"),
            S::Active => ("利用中", "Active"),
            S::Suspended => ("一時停止", "Suspended"),
            S::Ended => ("終了", "Ended"),
        };
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

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

    /// The access decision's reason in this language.
    pub fn denial(self, denial: &Denial) -> String {
        if self == Lang::En {
            return denial.to_string();
        }
        match denial {
            Denial::Locked { scope, reason } => {
                let what = match scope {
                    LockScope::All => "すべてのリモート保守",
                    LockScope::Vendor(_) => "貴社のリモート保守",
                    LockScope::Target(_) => "この接続先",
                    LockScope::User(_) => "あなたのアカウントのリモート保守",
                };
                format!("{what}は緊急停止中です: {reason}")
            }
            Denial::UserInactive => "アカウントがロックされています。管理者に連絡してください。".to_owned(),
            Denial::RoleMayNotOpen(_) => {
                "この役割ではリモート接続できません。接続できるのは管理者と保守業者です。".to_owned()
            }
            Denial::NoVendor => {
                "アカウントがどの保守業者にも属していません。管理者に連絡してください。".to_owned()
            }
            Denial::DemoExpired => {
                "デモアカウントの期限が切れました。延長は管理者に依頼してください。".to_owned()
            }
            Denial::DemoTargetsOnly => {
                "デモアカウントはデモ用の接続先だけに接続できます。この接続先には利用開始済みの申請が必要です。".to_owned()
            }
            Denial::ApplicationNotActive(state) => format!(
                "貴社の申請は「{}」で、まだ利用開始されていません。利用開始後に接続できます。",
                self.application_state(*state)
            ),
            Denial::TargetWithoutSystem => {
                "この接続先はどの業務システムにも属していないため、契約の対象になりません。管理者に連絡してください。".to_owned()
            }
            Denial::NoContract { system } => {
                format!("本日有効な、業務システム「{system}」の保守契約がありません。")
            }
            Denial::NoApproval => {
                "現在有効な承認済みの作業申請がありません。作業を申請し、承認を待ってください。".to_owned()
            }
            Denial::NoDevice => {
                "登録済みの貸与端末が割り当てられていません。貸与された端末(hoshu-agent で登録済み)から接続してください。".to_owned()
            }
            Denial::DeviceNotPresented => {
                "このブラウザは貸与端末の証明書を提示していません。証明書を導入した貸与端末から接続してください。".to_owned()
            }
            Denial::DeviceNotReporting { asset_tag } => format!(
                "端末 {asset_tag} から状態報告が届いていません。端末で hoshu-agent を起動してください。"
            ),
            Denial::DeviceNotCompliant { asset_tag, reasons } => format!(
                "端末 {asset_tag} がセキュリティ条件を満たしていません: {}",
                self.posture_problems(reasons)
            ),
        }
    }

    /// Both languages at once, for messages that reach a user through a channel that does not
    /// know their language (the end of a live session).
    pub fn both_denial(denial: &Denial) -> String {
        format!("{} / {}", Lang::Ja.denial(denial), Lang::En.denial(denial))
    }
}
