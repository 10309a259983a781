//! Posture problems (DESIGN §6) in the reader's language: the domain's `Display` is the
//! English text; the Japanese here says the same thing, naming the same commands and settings.

use hoshu_domain::PostureProblem;
use hoshu_domain::posture::{Family, family};

use crate::ui::i18n::Lang;

const DAY_SECS: i64 = 86_400;

impl Lang {
    /// One reason a device is not compliant, with what to do about it.
    pub fn posture_problem(self, problem: &PostureProblem) -> String {
        if self == Lang::En {
            return problem.to_string();
        }
        match problem {
            PostureProblem::FingerprintMismatch => {
                "この報告は登録された貸与端末とは別の機器から届いています。貸与端末を使うか、この端末の登録を管理者に依頼してください。".to_owned()
            }
            PostureProblem::ReportStale {
                age_secs,
                limit_secs,
            } => format!(
                "最後の状態報告が{age_secs}秒前です(上限{limit_secs}秒)。端末で hoshu-agent が動いていて、ゲートウェイに接続できるか確認してください。"
            ),
            PostureProblem::ClockAhead { ahead_secs } => format!(
                "端末の時計がゲートウェイより{ahead_secs}秒進んでいます。時刻の自動同期をオンにしてください。"
            ),
            PostureProblem::NoAntivirus => {
                "ウイルス対策ソフトが動いていません。貸与時のウイルス対策ソフト(LinuxはClamAV、WindowsはMicrosoft Defender)を導入して起動してください。".to_owned()
            }
            PostureProblem::AntivirusNotRunning { product } => match family(product) {
                Family::ClamAv => {
                    "ClamAVが動いていません。起動してください(systemctl start clamav-daemon)。"
                        .to_owned()
                }
                Family::Defender => {
                    "Microsoft Defenderが動いていません。Windows セキュリティ →「ウイルスと脅威の防止」でオンにしてください。".to_owned()
                }
                _ => format!("{product}が動いていません。起動してください。"),
            },
            PostureProblem::RealTimeOff { product } => match family(product) {
                Family::ClamAv => {
                    "ClamAVのオンアクセススキャンがオフです。clamonaccを起動してください(systemctl start clamav-clamonacc)。".to_owned()
                }
                Family::Defender => {
                    "Microsoft Defenderのリアルタイム保護がオフです。Windows セキュリティ →「ウイルスと脅威の防止の設定」でオンにしてください。".to_owned()
                }
                _ => format!("{product}のリアルタイム保護がオフです。オンにしてください。"),
            },
            PostureProblem::SignaturesOutdated {
                product,
                age_secs,
                limit_days,
            } => {
                let days = age_secs / DAY_SECS;
                let age = if days > i64::from(*limit_days) {
                    format!("{days}日古い")
                } else {
                    format!("{limit_days}日より古い")
                };
                format!(
                    "{}のウイルス定義が{age}(上限{limit_days}日)。{}",
                    short_name(product),
                    update_advice(product)
                )
            }
            PostureProblem::SignaturesReportedOutdated { product } => format!(
                "{}が自らウイルス定義を古いと報告しています。{}",
                short_name(product),
                update_advice(product)
            ),
            PostureProblem::SignatureDateUnknown { product } => format!(
                "{}のウイルス定義の日付を読めませんでした。{}また、hoshu-agent に読み取る権限があるか確認してください。",
                short_name(product),
                update_advice(product)
            ),
            PostureProblem::SignaturesFromTheFuture {
                product,
                ahead_secs,
            } => format!(
                "{}のウイルス定義の日付がゲートウェイの時計より{}日先になっており、正しくありません。端末の時計を合わせてから、{}",
                short_name(product),
                ahead_secs / DAY_SECS,
                update_advice(product)
            ),
            PostureProblem::FirewallOff => {
                "ファイアウォールがオフです。オンにしてください(Linux: systemctl enable --now nftables、Windows: Windows セキュリティ →「ファイアウォールとネットワーク保護」、macOS: システム設定 → ネットワーク → ファイアウォール)。".to_owned()
            }
            PostureProblem::FirewallUnknown => {
                "ファイアウォールの状態を読めませんでした。hoshu-agent を root(Linux)または管理者として実行してください。".to_owned()
            }
        }
    }

    /// Every reason, joined for one line.
    pub fn posture_problems(self, problems: &[PostureProblem]) -> String {
        let separator = if self == Lang::Ja { " " } else { "; " };
        problems
            .iter()
            .map(|p| self.posture_problem(p))
            .collect::<Vec<_>>()
            .join(separator)
    }
}

/// The product as a vendor knows it: "ClamAV" rather than "ClamAV 1.0.7/27482".
fn short_name(product: &str) -> &str {
    match family(product) {
        Family::ClamAv => "ClamAV",
        Family::Defender => "Microsoft Defender",
        Family::XProtect => "XProtect",
        Family::Other => product,
    }
}

fn update_advice(product: &str) -> String {
    match family(product) {
        Family::ClamAv => "ClamAVを更新してください(freshclam)。".to_owned(),
        Family::Defender => {
            "Microsoft Defenderを更新してください(Windows セキュリティ →「ウイルスと脅威の防止」→「保護の更新」、または Update-MpSignature)。".to_owned()
        }
        Family::XProtect => {
            "バックグラウンドのセキュリティアップデートをインストールしてください(システム設定 → 一般 → ソフトウェア・アップデートで「セキュリティ対応とシステムファイルをインストール」をオン)。".to_owned()
        }
        Family::Other => format!("{product}を更新してください。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_signatures_are_said_in_both_languages() {
        let problem = PostureProblem::SignaturesOutdated {
            product: "ClamAV".to_owned(),
            age_secs: 9 * DAY_SECS + 60,
            limit_days: 3,
        };
        let ja = Lang::Ja.posture_problem(&problem);
        assert!(
            ja.contains("ウイルス定義が9日古い") && ja.contains("ClamAVを更新してください"),
            "{ja}"
        );
        let en = Lang::En.posture_problem(&problem);
        assert!(
            en.contains("9 days old") && en.contains("update ClamAV"),
            "{en}"
        );
    }
}

/// Why a lending, a revocation or a posture rule change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRefusal {
    AssetTag,
    HolderRole {
        login: String,
        role: hoshu_domain::Role,
    },
    LendingOver,
    NotTheVendorsUser {
        login: String,
        vendor: String,
    },
    ReportAge,
    SignatureAge,
}

impl crate::app::error::Problem for DeviceRefusal {
    fn code(&self) -> &'static str {
        match self {
            DeviceRefusal::AssetTag => "asset-tag",
            DeviceRefusal::HolderRole { .. } => "device-holder-role",
            DeviceRefusal::LendingOver => "lending-over",
            DeviceRefusal::NotTheVendorsUser { .. } => "device-holder-vendor",
            DeviceRefusal::ReportAge => "posture-report-age",
            DeviceRefusal::SignatureAge => "posture-signature-age",
        }
    }

    fn status(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::BAD_REQUEST
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (DeviceRefusal::AssetTag, Lang::Ja) => {
                "資産番号は英数字・「-」「_」「.」で1〜64文字にしてください。".to_owned()
            }
            (DeviceRefusal::AssetTag, Lang::En) => {
                "the asset tag must be 1–64 letters, digits, '-', '_' or '.'".to_owned()
            }
            (DeviceRefusal::HolderRole { login, role }, Lang::Ja) => format!(
                "端末を貸与できるのは保守業者のユーザー(または管理者)です。{login} は{}です。",
                lang.role(*role)
            ),
            (DeviceRefusal::HolderRole { login, role }, Lang::En) => format!(
                "devices are lent to vendor users (or operators); {login} is {}",
                role.as_str()
            ),
            (DeviceRefusal::LendingOver, Lang::Ja) => {
                "貸与期限は未来の日付にしてください。".to_owned()
            }
            (DeviceRefusal::LendingOver, Lang::En) => {
                "the lending period must end in the future".to_owned()
            }
            (DeviceRefusal::NotTheVendorsUser { login, vendor }, Lang::Ja) => format!(
                "{login} は {vendor} のユーザーではありません。保守業者の技術者に貸与してください(先にユーザーを追加してください)。"
            ),
            (DeviceRefusal::NotTheVendorsUser { login, vendor }, Lang::En) => format!(
                "{login} is not a user of {vendor}; lend the device to one of the vendor's engineers (add them first)"
            ),
            (DeviceRefusal::ReportAge, Lang::Ja) => {
                "状態報告の有効期間は60〜86400秒にしてください(エージェントは60秒ごとに報告します)。".to_owned()
            }
            (DeviceRefusal::ReportAge, Lang::En) => {
                "max report age must be 60 to 86400 seconds (agents report every 60 s)".to_owned()
            }
            (DeviceRefusal::SignatureAge, Lang::Ja) => {
                "ウイルス定義の有効日数は365日以内にしてください。".to_owned()
            }
            (DeviceRefusal::SignatureAge, Lang::En) => {
                "max signature age must be at most 365 days".to_owned()
            }
        }
    }
}

/// What the devices' own API (enrolment and reports, used by hoshu-agent) refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRefusal {
    Fingerprint,
    /// The same answer for an unknown, used, expired or revoked code: a guesser learns nothing.
    Code,
    Csr {
        detail: String,
    },
    /// One answer for no certificate, an unknown one and a revoked one: the device learns only
    /// that it must enrol (again).
    Certificate,
    Report {
        detail: String,
    },
}

impl crate::app::error::Problem for AgentRefusal {
    fn code(&self) -> &'static str {
        match self {
            AgentRefusal::Fingerprint => "device-fingerprint",
            AgentRefusal::Code => "enrolment-code",
            AgentRefusal::Csr { .. } => "device-csr",
            AgentRefusal::Certificate => "device-certificate",
            AgentRefusal::Report { .. } => "posture-report",
        }
    }

    fn status(&self) -> axum::http::StatusCode {
        match self {
            AgentRefusal::Code | AgentRefusal::Certificate => axum::http::StatusCode::FORBIDDEN,
            _ => axum::http::StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AgentRefusal::Fingerprint, Lang::Ja) => {
                "fingerprint は16進数64桁(小文字、SHA-256)にしてください。".to_owned()
            }
            (AgentRefusal::Fingerprint, Lang::En) => {
                "fingerprint must be 64 lowercase hex digits (SHA-256)".to_owned()
            }
            (AgentRefusal::Code, Lang::Ja) => {
                "登録コードが正しくないか、使用済みか、期限切れです。管理者に新しいコードを依頼してください。".to_owned()
            }
            (AgentRefusal::Code, Lang::En) => {
                "enrolment code is wrong, used or expired; ask your administrator for a new one"
                    .to_owned()
            }
            (AgentRefusal::Csr { detail }, Lang::Ja) => {
                format!("証明書署名要求(CSR)を読めません: {detail}")
            }
            (AgentRefusal::Csr { detail }, Lang::En) => detail.clone(),
            (AgentRefusal::Certificate, Lang::Ja) => {
                "この要求には、登録済みで失効していない端末のクライアント証明書が必要です。端末で hoshu-agent enroll を実行して登録してください。".to_owned()
            }
            (AgentRefusal::Certificate, Lang::En) => {
                "this request needs the client certificate of an enrolled, not revoked device; enrol it with hoshu-agent enroll".to_owned()
            }
            (AgentRefusal::Report { detail }, Lang::Ja) => {
                format!("状態報告を読めません: {detail}")
            }
            (AgentRefusal::Report { detail }, Lang::En) => format!("posture report: {detail}"),
        }
    }
}

/// Texts of the device lists and forms (vendor page, portal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceText {
    Devices,
    AssetTag,
    Holder,
    LendingPeriod,
    DeviceState,
    LastReport,
    Posture,
    Enrolled,
    AwaitingEnrolment,
    Revoked,
    LendingEnded,
    Compliant,
    NotCompliant,
    NoReport,
    Revoke,
    LendDevice,
    LentUntil,
    LendAndIssueCode,
    CodeIssued,
    CodeHelp,
    Legacy,
    PosturePolicy,
    FollowsGlobal,
    VendorRule,
    AddUsersFirst,
}

impl crate::ui::i18n::Text for DeviceText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            DeviceText::Devices => ("貸与端末", "Lent devices"),
            DeviceText::AssetTag => ("資産番号", "Asset tag"),
            DeviceText::Holder => ("利用者", "Holder"),
            DeviceText::LendingPeriod => ("貸与期間", "Lending period"),
            DeviceText::DeviceState => ("状態", "State"),
            DeviceText::LastReport => ("最終報告", "Last report"),
            DeviceText::Posture => ("セキュリティ状態", "Posture"),
            DeviceText::Enrolled => ("登録済み", "Enrolled"),
            DeviceText::AwaitingEnrolment => ("登録待ち", "Waiting for enrolment"),
            DeviceText::Revoked => ("失効", "Revoked"),
            DeviceText::LendingEnded => ("貸与期間終了", "Lending ended"),
            DeviceText::Compliant => ("適合", "Compliant"),
            DeviceText::NotCompliant => ("不適合", "Not compliant"),
            DeviceText::NoReport => ("報告なし", "No report yet"),
            DeviceText::Revoke => ("失効させる", "Revoke"),
            DeviceText::LendDevice => ("端末を貸与(登録)", "Lend a device (register it)"),
            DeviceText::LentUntil => ("貸与終了日", "Lent until"),
            DeviceText::LendAndIssueCode => (
                "貸与して登録コードを発行",
                "Lend and issue the enrolment code",
            ),
            DeviceText::CodeIssued => (
                "端末の登録コードです。この画面でしか表示されません(7日間有効、1回限り)。",
                "The device's enrolment code: shown only now, valid 7 days, once.",
            ),
            DeviceText::CodeHelp => (
                "貸与端末で次のコマンドを実行してください。証明書と、ブラウザに取り込む PKCS#12 ファイルが作られます:",
                "On the lent device, run this; it makes the certificate and a PKCS#12 file for the browser:",
            ),
            DeviceText::Legacy => (
                "端末登録の導入前に記録された資産番号(利用者・証明書なし)",
                "Asset tags recorded before device registration (no holder, no certificate)",
            ),
            DeviceText::PosturePolicy => ("端末のセキュリティ条件", "Device posture policy"),
            DeviceText::FollowsGlobal => ("全体設定に従います。", "Follows the global policy."),
            DeviceText::VendorRule => ("この業者の設定", "this vendor's rule"),
            DeviceText::AddUsersFirst => (
                "端末は保守業者の利用者に貸与します。先に利用者を追加してください。",
                "Devices are lent to the vendor's users: add a user first.",
            ),
        }
    }
}
