//! The vendors feature's refusals, in Japanese and English.

use axum::http::StatusCode;
use hoshu_domain::{ApplicationState, TransitionError};

use crate::app::error::Problem;
use crate::ui::i18n::Lang;

/// Why a vendor, contract or document operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorRefusal {
    /// A contract ends before it starts.
    ContractDates,
    /// A contract names no business system.
    ContractWithoutSystem,
    /// A document of a type that is not accepted.
    DocumentType,
    /// A document whose first bytes are not what its name says.
    DocumentContent {
        filename: String,
        extension: String,
    },
    DocumentEmpty,
    DocumentTooLarge {
        max_mib: usize,
    },
    /// The vendor has no contract with this id.
    NoSuchContractOfVendor {
        vendor: String,
        contract: i64,
    },
    /// A form was sent without the file it attaches.
    NoFile,
    /// An application state that does not exist.
    UnknownState {
        given: String,
    },
}

impl Problem for VendorRefusal {
    fn code(&self) -> &'static str {
        match self {
            VendorRefusal::ContractDates => "contract-dates",
            VendorRefusal::ContractWithoutSystem => "contract-without-system",
            VendorRefusal::DocumentType => "document-type",
            VendorRefusal::DocumentContent { .. } => "document-content",
            VendorRefusal::DocumentEmpty => "document-empty",
            VendorRefusal::DocumentTooLarge { .. } => "document-too-large",
            VendorRefusal::NoSuchContractOfVendor { .. } => "no-such-contract",
            VendorRefusal::NoFile => "no-file",
            VendorRefusal::UnknownState { .. } => "application-state",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            VendorRefusal::NoSuchContractOfVendor { .. } => StatusCode::NOT_FOUND,
            VendorRefusal::DocumentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (VendorRefusal::ContractDates, Lang::Ja) => {
                "契約の終了日は開始日以降にしてください。".to_owned()
            }
            (VendorRefusal::ContractDates, Lang::En) => {
                "the contract must end on or after the day it starts".to_owned()
            }
            (VendorRefusal::ContractWithoutSystem, Lang::Ja) => {
                "契約には業務システムを1つ以上指定してください。".to_owned()
            }
            (VendorRefusal::ContractWithoutSystem, Lang::En) => {
                "a contract covers at least one business system; name one".to_owned()
            }
            (VendorRefusal::DocumentType, Lang::Ja) => {
                "書類は PDF、PNG、JPEG、Word(.docx)、Excel(.xlsx)、テキスト、CSV のいずれかにしてください。".to_owned()
            }
            (VendorRefusal::DocumentType, Lang::En) => {
                "documents must be PDF, PNG, JPEG, Word (.docx), Excel (.xlsx), text or CSV files"
                    .to_owned()
            }
            (VendorRefusal::DocumentContent { filename, extension }, Lang::Ja) => format!(
                "「{filename}」は正しい .{extension} ファイルではありません。元の書類を添付してください。"
            ),
            (VendorRefusal::DocumentContent { filename, extension }, Lang::En) => format!(
                "{filename:?} is not a valid .{extension} file; attach the original document"
            ),
            (VendorRefusal::DocumentEmpty, Lang::Ja) => "ファイルが空です。".to_owned(),
            (VendorRefusal::DocumentEmpty, Lang::En) => "the file is empty".to_owned(),
            (VendorRefusal::DocumentTooLarge { max_mib }, Lang::Ja) => {
                format!("書類は{max_mib} MiBまでです。")
            }
            (VendorRefusal::DocumentTooLarge { max_mib }, Lang::En) => {
                format!("documents may be at most {max_mib} MiB")
            }
            (VendorRefusal::NoSuchContractOfVendor { vendor, contract }, Lang::Ja) => {
                format!("{vendor} には ID {contract} の契約がありません。")
            }
            (VendorRefusal::NoSuchContractOfVendor { vendor, contract }, Lang::En) => {
                format!("vendor {vendor} has no contract with id {contract}")
            }
            (VendorRefusal::NoFile, Lang::Ja) => "添付するファイルを選んでください。".to_owned(),
            (VendorRefusal::NoFile, Lang::En) => "choose a file to attach".to_owned(),
            (VendorRefusal::UnknownState { given }, Lang::Ja) => {
                format!("申請の状態「{given}」はありません。")
            }
            (VendorRefusal::UnknownState { given }, Lang::En) => {
                format!("there is no application state {given:?}")
            }
        }
    }
}

/// The application flow's refusals (seed §6), from the domain's rule.
impl Problem for TransitionError {
    fn code(&self) -> &'static str {
        match self {
            TransitionError::Illegal { .. } => "application-move",
            TransitionError::ReasonRequired => "rejection-reason",
            TransitionError::DocumentsRequired => "documents-required",
            TransitionError::DevicesRequired => "devices-required",
            TransitionError::ContractRequired => "contract-required",
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::Ja => match self {
                TransitionError::Illegal { from, to, .. } => {
                    let allowed: Vec<&str> = from.next().iter().map(|s| lang.application_state(*s)).collect();
                    let allowed = if allowed.is_empty() {
                        "なし(申請は終了しています)".to_owned()
                    } else {
                        allowed.join("、")
                    };
                    format!(
                        "申請は「{}」のため「{}」に進めません。「{}」から進める先: {allowed}",
                        lang.application_state(*from),
                        lang.application_state(*to),
                        lang.application_state(*from)
                    )
                }
                TransitionError::ReasonRequired => {
                    "却下には理由をメモに書いてください(保守業者が何を直せばよいか分かるように)。"
                        .to_owned()
                }
                TransitionError::DocumentsRequired => {
                    "正式申請には書類が1つ以上必要です。先に署名済みの申請書を添付してください。"
                        .to_owned()
                }
                TransitionError::DevicesRequired => {
                    "この段階の前に、保守業者のユーザーへ端末を1台以上貸与してください(保守業者のページで登録できます)。"
                        .to_owned()
                }
                TransitionError::ContractRequired => {
                    "有効にする前に、本日以降有効な契約を登録してください。".to_owned()
                }
            },
        }
    }
}

impl Lang {
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
}

/// The vendor pages' texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorText {
    NewVendor,
    VendorName,
    Contacts,
    SystemsList,
    SystemsHelp,
    Tools,
    Protocols,
    Frequency,
    SubmitHearingSheet,
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
    Contracts,
    ContractTitle,
    AddContract,
    Users,
    AddUser,
    DemoDays,
    DemoDaysHelp,
    RegistrationCodeIssued,
    Manager,
}

impl crate::ui::i18n::Text for VendorText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            VendorText::NewVendor => (
                "新しい保守業者(ヒアリングシート)",
                "New vendor (hearing sheet)",
            ),
            VendorText::VendorName => ("業者名", "Vendor name"),
            VendorText::Contacts => (
                "連絡先(担当者・電話・メール)",
                "Contacts (person, phone, mail)",
            ),
            VendorText::SystemsList => ("保守する業務システム", "Business systems maintained"),
            VendorText::SystemsHelp => ("カンマ区切り", "separated by commas"),
            VendorText::Tools => (
                "使用するツール・アプリケーション",
                "Tools and applications used",
            ),
            VendorText::Protocols => ("接続方式", "Protocols"),
            VendorText::Frequency => ("想定する作業頻度", "Expected frequency of work"),
            VendorText::SubmitHearingSheet => {
                ("ヒアリングシートを登録", "Submit the hearing sheet")
            }
            VendorText::Application => ("申請フロー", "Application flow"),
            VendorText::Timeline => ("経過", "Timeline"),
            VendorText::Note => ("メモ", "Note"),
            VendorText::MoveTo => ("次の状態へ", "Move to"),
            VendorText::NoMoves => ("この申請は終了しています。", "This application has ended."),
            VendorText::HearingSheet => ("ヒアリングシート", "Hearing sheet"),
            VendorText::Documents => ("書類", "Documents"),
            VendorText::AttachDocument => ("書類を添付", "Attach a document"),
            VendorText::DocumentHelp => (
                "PDF・PNG・JPEG・Word・Excel・テキスト・CSV、10 MiB まで",
                "PDF, PNG, JPEG, Word, Excel, text or CSV, up to 10 MiB",
            ),
            VendorText::Attach => ("添付", "Attach"),
            VendorText::Contracts => ("保守契約", "Maintenance contracts"),
            VendorText::ContractTitle => ("契約名", "Contract title"),
            VendorText::AddContract => ("契約を追加", "Add contract"),
            VendorText::Users => ("利用者", "Users"),
            VendorText::AddUser => ("利用者を追加", "Add user"),
            VendorText::DemoDays => ("デモ利用日数", "Demo days"),
            VendorText::DemoDaysHelp => (
                "デモユーザーにする場合のみ(デモ対象だけに接続できます)",
                "Only for a demo user (demo targets only)",
            ),
            VendorText::RegistrationCodeIssued => (
                "利用者を追加しました。次の登録コードを本人に渡してください(一度だけ使えます):",
                "User added. Give them this registration code (it works once):",
            ),
            VendorText::Manager => (
                "業者管理者(自社の全セッションを閲覧)",
                "Vendor manager (sees all the company's sessions)",
            ),
        }
    }
}
