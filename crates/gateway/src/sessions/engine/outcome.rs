//! How a session (or a watcher's view of one) ended, as a typed value: a stable code, its
//! parameters, and the sentence in Japanese and in English. The user's browser is told in the
//! user's language; the session list and the audit log keep the English text and the code.

use hoshu_domain::Denial;
use hoshu_rdp::failure::Failure;

use super::ssh::SshError;
use crate::ui::i18n::Lang;

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    // The browser.
    BrowserClosed,
    UserDisconnected,
    BrowserGone,
    BrowserSilent,
    BrowserStalled {
        secs: u64,
    },
    BrowserNeverConnected,
    BrowserMalformed {
        detail: String,
    },
    // The session's policy in time.
    IdleTimeout {
        secs: u64,
    },
    MaxDuration {
        secs: u64,
    },
    // The gateway.
    RecordingFailed,
    /// Ended through the kill switch by an administrator.
    EndedByAdministrator {
        login: String,
    },
    /// The access decision no longer allows the session (a stop, a revoked approval …).
    Denied(Denial),
    /// The user or the target was removed while the session ran.
    UserOrTargetGone,
    /// The user's login session ended (logout, expiry, reset, lock).
    LoggedOut,
    ShuttingDown,
    /// The session's task stopped without ending the session (a panic): sealed by its guard.
    TaskEnded,
    /// Found unfinished at start: the gateway was killed or crashed while it ran.
    GatewayStoppedUnexpectedly,
    // The target, whatever its protocol.
    Unreachable {
        target: String,
        address: String,
        detail: String,
    },
    ConnectTimeout {
        target: String,
        address: String,
        secs: u64,
    },
    ConnectionFailed {
        target: String,
        detail: String,
    },
    TargetClosed {
        target: String,
    },
    TargetProtocol {
        target: String,
        detail: String,
    },
    HandshakeTimeout {
        target: String,
        protocol: String,
        secs: u64,
    },
    /// The target asked for a desktop larger than one session's framebuffer budget.
    DesktopTooLarge {
        target: String,
        width: u16,
        height: u16,
        max_pixels: u32,
    },
    /// The target's desktop does not fit in what is left of the gateway's memory for
    /// framebuffers, which the other sessions hold.
    FramebufferBudget {
        target: String,
        width: u32,
        height: u32,
        budget_mib: u64,
    },
    /// The target changed the desktop's size more often than any real desktop does.
    ResizeChurn {
        target: String,
        resizes: u32,
        secs: u64,
    },
    // RDP.
    Rdp {
        target: String,
        failure: Failure,
    },
    RdpNoPin {
        target: String,
    },
    RdpCertificateChanged {
        target: String,
        presented: String,
    },
    RdpLogonTimeout {
        target: String,
        secs: u64,
    },
    RdpServerEnded {
        target: String,
        reason: String,
    },
    /// The RDP target restarted its desktop (Deactivate All, Demand Active) more often than
    /// any real server does.
    RdpReactivationChurn {
        target: String,
        reactivations: u32,
        secs: u64,
    },
    CredentialsTimeout {
        secs: u64,
    },
    CredentialsTooLong,
    UsernameNeeded,
    // SSH.
    Ssh(SshErrorOutcome),
    ShellNotOpened {
        target: String,
        detail: String,
    },
    ShellEnded {
        target: String,
        status: u32,
    },
    TargetEndedSession {
        target: String,
    },
    // A watcher's view.
    WatchSessionEnded {
        outcome: Box<Outcome>,
    },
    /// A watcher came when the session had already ended.
    WatchNotLive,
    WatchFull,
    WatchNotAudited,
    WatcherGone,
    WatcherClosed,
    WatcherSilent,
    WatcherMalformed,
    WatcherBehind,
}

/// An SSH failure as an outcome: `SshError` itself holds a russh error only as text, so it can
/// be cloned and compared here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshErrorOutcome {
    pub code: &'static str,
    pub en: String,
    pub ja: String,
}

impl From<&SshError> for SshErrorOutcome {
    fn from(e: &SshError) -> Self {
        SshErrorOutcome {
            code: e.code(),
            en: e.to_string(),
            ja: e.japanese(),
        }
    }
}

impl Outcome {
    /// A stable word for the session list's filters, the audit log and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::BrowserClosed => "browser-closed",
            Outcome::UserDisconnected => "user-disconnected",
            Outcome::BrowserGone => "browser-gone",
            Outcome::BrowserSilent => "browser-silent",
            Outcome::BrowserStalled { .. } => "browser-stalled",
            Outcome::BrowserNeverConnected => "browser-never-connected",
            Outcome::BrowserMalformed { .. } => "browser-malformed",
            Outcome::IdleTimeout { .. } => "idle-timeout",
            Outcome::MaxDuration { .. } => "max-duration",
            Outcome::RecordingFailed => "recording-failed",
            Outcome::EndedByAdministrator { .. } => "ended-by-administrator",
            Outcome::Denied(denial) => denial.code(),
            Outcome::UserOrTargetGone => "gone",
            Outcome::LoggedOut => "logged-out",
            Outcome::ShuttingDown => "shutting-down",
            Outcome::TaskEnded => "task-ended",
            Outcome::GatewayStoppedUnexpectedly => "gateway-stopped",
            Outcome::Unreachable { .. } => "unreachable",
            Outcome::ConnectTimeout { .. } => "connect-timeout",
            Outcome::ConnectionFailed { .. } => "connection-failed",
            Outcome::TargetClosed { .. } => "target-closed",
            Outcome::TargetProtocol { .. } => "target-protocol",
            Outcome::HandshakeTimeout { .. } => "handshake-timeout",
            Outcome::DesktopTooLarge { .. } => "desktop-too-large",
            Outcome::FramebufferBudget { .. } => "framebuffer-budget",
            Outcome::ResizeChurn { .. } => "resize-churn",
            Outcome::Rdp { failure, .. } => match failure {
                Failure::Credentials => "rdp-credentials",
                Failure::NlaRequired => "rdp-nla-required",
                Failure::TlsRequired => "rdp-tls-required",
                Failure::StandardSecurityOnly => "rdp-standard-security",
                Failure::Refused(_) => "rdp-refused",
                Failure::Protocol(_) => "rdp-protocol",
            },
            Outcome::RdpNoPin { .. } => "rdp-no-pin",
            Outcome::RdpCertificateChanged { .. } => "rdp-certificate-changed",
            Outcome::RdpLogonTimeout { .. } => "rdp-logon-timeout",
            Outcome::RdpServerEnded { .. } => "rdp-server-ended",
            Outcome::RdpReactivationChurn { .. } => "rdp-reactivation-churn",
            Outcome::CredentialsTimeout { .. } => "credentials-timeout",
            Outcome::CredentialsTooLong => "credentials-too-long",
            Outcome::UsernameNeeded => "username-needed",
            Outcome::Ssh(e) => e.code,
            Outcome::ShellNotOpened { .. } => "shell-not-opened",
            Outcome::ShellEnded { .. } => "shell-ended",
            Outcome::TargetEndedSession { .. } => "target-ended-session",
            Outcome::WatchSessionEnded { .. } => "session-ended",
            Outcome::WatchNotLive => "no-such-live-session",
            Outcome::WatchFull => "watchers-full",
            Outcome::WatchNotAudited => "watch-not-audited",
            Outcome::WatcherGone => "watcher-gone",
            Outcome::WatcherClosed => "watcher-closed",
            Outcome::WatcherSilent => "watcher-silent",
            Outcome::WatcherMalformed => "watcher-malformed",
            Outcome::WatcherBehind => "watcher-behind",
        }
    }

    /// The sentence in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.english(),
            Lang::Ja => self.japanese(),
        }
    }

    fn english(&self) -> String {
        match self {
            Outcome::BrowserClosed => "browser closed the session".to_owned(),
            Outcome::UserDisconnected => "disconnected by the user".to_owned(),
            Outcome::BrowserGone => "browser went away".to_owned(),
            Outcome::BrowserSilent => "browser stopped answering".to_owned(),
            Outcome::BrowserStalled { secs } => format!("the browser took no data for {secs} s"),
            Outcome::BrowserNeverConnected => "the browser never connected".to_owned(),
            Outcome::BrowserMalformed { detail } => {
                format!("browser sent a malformed message: {detail}")
            }
            Outcome::IdleTimeout { secs } => {
                format!("no input for {secs} s; the session ended (idle timeout)")
            }
            Outcome::MaxDuration { secs } => {
                format!("the maximum session time of {secs} s was reached")
            }
            Outcome::RecordingFailed => {
                "the session could not be recorded any more, so it ended; tell the administrator"
                    .to_owned()
            }
            Outcome::EndedByAdministrator { login } => format!("ended by administrator {login}"),
            Outcome::Denied(denial) => denial.to_string(),
            Outcome::UserOrTargetGone => "the user or the target no longer exists".to_owned(),
            Outcome::LoggedOut => "your login session ended; log in again".to_owned(),
            Outcome::ShuttingDown => "the gateway is shutting down".to_owned(),
            Outcome::TaskEnded => {
                "the session ended unexpectedly in the gateway; open the target again, and tell the administrator if it happens again".to_owned()
            }
            Outcome::GatewayStoppedUnexpectedly => "the gateway stopped unexpectedly".to_owned(),
            Outcome::Unreachable {
                target,
                address,
                detail,
            } => format!(
                "cannot reach {target} ({address}): {detail}; ask the administrator whether it is running"
            ),
            Outcome::ConnectTimeout {
                target,
                address,
                secs,
            } => format!("{target} ({address}) did not answer within {secs} s; try again later"),
            Outcome::ConnectionFailed { target, detail } if detail.is_empty() => {
                format!("connection to {target} failed")
            }
            Outcome::ConnectionFailed { target, detail } => {
                format!("connection to {target} failed: {detail}")
            }
            Outcome::TargetClosed { target } => format!("{target} closed the connection"),
            Outcome::TargetProtocol { target, detail } => format!("{target}: {detail}"),
            Outcome::HandshakeTimeout {
                target,
                protocol,
                secs,
            } => format!("{target} did not complete the {protocol} handshake within {secs} s"),
            Outcome::DesktopTooLarge {
                target,
                width,
                height,
                max_pixels,
            } => format!(
                "{target} asked for a {width}×{height} desktop, larger than the {} million pixels a session may hold; ask the target's administrator for a smaller screen size",
                max_pixels / 1_000_000
            ),
            Outcome::FramebufferBudget {
                target,
                width,
                height,
                budget_mib,
            } => format!(
                "{target}'s {width}×{height} desktop does not fit in the memory the gateway keeps for remote desktops ({budget_mib} MiB, held by the sessions already open); try again when other sessions have ended, use a smaller screen size, or ask the administrator to raise the gateway's framebuffer budget"
            ),
            Outcome::ResizeChurn {
                target,
                resizes,
                secs,
            } => format!(
                "{target} changed the screen size {resizes} times within {secs} s, so the session was ended to protect the gateway; ask the target's administrator to check the server"
            ),
            Outcome::Rdp { target, failure } => failure.message(target),
            Outcome::RdpNoPin { target } => format!(
                "{target} has no pinned certificate; ask the administrator to accept the target's certificate"
            ),
            Outcome::RdpCertificateChanged { target, presented } => format!(
                "the certificate of {target} has changed (it now presents {presented}), so the session was refused; ask the administrator to check the server and accept the new certificate"
            ),
            Outcome::RdpLogonTimeout { target, secs } => {
                format!("{target} did not complete the RDP log-on within {secs} s; try again later")
            }
            Outcome::RdpServerEnded { target, reason } => {
                format!("{target} ended the session: {reason}")
            }
            Outcome::RdpReactivationChurn {
                target,
                reactivations,
                secs,
            } => format!(
                "{target} restarted its desktop {reactivations} times within {secs} s, so the session was ended to protect the gateway; ask the target's administrator to check the server"
            ),
            Outcome::CredentialsTimeout { secs } => {
                format!("no credentials were given within {} minutes; open the target again", secs / 60)
            }
            Outcome::CredentialsTooLong => "the credentials given are too long".to_owned(),
            Outcome::UsernameNeeded => {
                "a user name is needed for this target; open it again and type one".to_owned()
            }
            Outcome::Ssh(e) => e.en.clone(),
            Outcome::ShellNotOpened { target, detail } => {
                format!("{target} did not open a shell: {detail}")
            }
            Outcome::ShellEnded { target, status } => {
                format!("the shell on {target} ended (exit status {status})")
            }
            Outcome::TargetEndedSession { target } => format!("{target} closed the session"),
            Outcome::WatchSessionEnded { outcome } => {
                format!("the session ended: {}", outcome.english())
            }
            Outcome::WatchNotLive => "the session has ended".to_owned(),
            Outcome::WatchFull => {
                "this session has as many watchers as it allows; try again later".to_owned()
            }
            Outcome::WatchNotAudited => {
                "watching cannot be recorded in the audit log; tell the administrator".to_owned()
            }
            Outcome::WatcherGone => "the watcher's browser went away".to_owned(),
            Outcome::WatcherClosed => "the watcher closed the view".to_owned(),
            Outcome::WatcherSilent => "the watcher's browser stopped answering".to_owned(),
            Outcome::WatcherMalformed => {
                "the watcher's browser sent a malformed instruction".to_owned()
            }
            Outcome::WatcherBehind => {
                "this view fell too far behind the session; open it again".to_owned()
            }
        }
    }

    fn japanese(&self) -> String {
        match self {
            Outcome::BrowserClosed => "ブラウザがセッションを閉じました。".to_owned(),
            Outcome::UserDisconnected => "利用者が切断しました。".to_owned(),
            Outcome::BrowserGone => "ブラウザとの接続が切れました。".to_owned(),
            Outcome::BrowserSilent => "ブラウザからの応答がなくなりました。".to_owned(),
            Outcome::BrowserStalled { secs } => {
                format!("ブラウザが{secs}秒間データを受け取りませんでした。")
            }
            Outcome::BrowserNeverConnected => "ブラウザが接続しませんでした。".to_owned(),
            Outcome::BrowserMalformed { detail } => {
                format!("ブラウザから不正なメッセージが届きました: {detail}")
            }
            Outcome::IdleTimeout { secs } => {
                format!("{secs}秒間操作がなかったため、セッションを終了しました(無操作タイムアウト)。")
            }
            Outcome::MaxDuration { secs } => {
                format!("セッションの最大時間({secs}秒)に達しました。")
            }
            Outcome::RecordingFailed => {
                "セッションを録画できなくなったため終了しました。管理者に連絡してください。"
                    .to_owned()
            }
            Outcome::EndedByAdministrator { login } => {
                format!("管理者 {login} が終了しました。")
            }
            Outcome::Denied(denial) => Lang::Ja.denial(denial),
            Outcome::UserOrTargetGone => "ユーザーまたは接続先が削除されました。".to_owned(),
            Outcome::LoggedOut => {
                "ログインセッションが終了しました。もう一度ログインしてください。".to_owned()
            }
            Outcome::ShuttingDown => "ゲートウェイを停止するため、セッションを終了しました。".to_owned(),
            Outcome::TaskEnded => {
                "ゲートウェイ内でセッションが予期せず終了しました。接続先をもう一度開いてください。繰り返す場合は管理者に連絡してください。".to_owned()
            }
            Outcome::GatewayStoppedUnexpectedly => {
                "ゲートウェイが予期せず停止しました。".to_owned()
            }
            Outcome::Unreachable {
                target,
                address,
                detail,
            } => format!(
                "{target}({address})に接続できません: {detail}。動作しているか管理者に確認してください。"
            ),
            Outcome::ConnectTimeout {
                target,
                address,
                secs,
            } => format!(
                "{target}({address})が{secs}秒以内に応答しませんでした。しばらくしてからお試しください。"
            ),
            Outcome::ConnectionFailed { target, detail } if detail.is_empty() => {
                format!("{target} との接続が失敗しました。")
            }
            Outcome::ConnectionFailed { target, detail } => {
                format!("{target} との接続が失敗しました: {detail}")
            }
            Outcome::TargetClosed { target } => format!("{target} が接続を閉じました。"),
            Outcome::TargetProtocol { target, detail } => {
                format!("{target} との通信に誤りがありました: {detail}")
            }
            Outcome::HandshakeTimeout {
                target,
                protocol,
                secs,
            } => format!("{target} が{secs}秒以内に{protocol}の接続手順を終えませんでした。"),
            Outcome::DesktopTooLarge {
                target,
                width,
                height,
                max_pixels,
            } => format!(
                "{target} が {width}×{height} の画面を求めましたが、1つのセッションで扱える{}百万画素を超えています。接続先の管理者に画面サイズを小さくするよう依頼してください。",
                max_pixels / 1_000_000
            ),
            Outcome::FramebufferBudget {
                target,
                width,
                height,
                budget_mib,
            } => format!(
                "{target} の {width}×{height} の画面は、ゲートウェイがリモート画面用に確保しているメモリ({budget_mib} MiB、開いているセッションが使用中)に収まりません。他のセッションが終わってからやり直すか、画面サイズを小さくするか、ゲートウェイの画面メモリ上限を上げるよう管理者に依頼してください。"
            ),
            Outcome::ResizeChurn {
                target,
                resizes,
                secs,
            } => format!(
                "{target} が{secs}秒間に画面サイズを{resizes}回変えたため、ゲートウェイを守るためにセッションを終了しました。接続先の管理者にサーバーの確認を依頼してください。"
            ),
            Outcome::Rdp { target, failure } => match failure {
                Failure::Credentials => format!(
                    "{target} がユーザー名またはパスワードを拒否しました。確認してください(保存された資格情報の更新は管理者に依頼してください)。"
                ),
                Failure::NlaRequired => format!(
                    "{target} はネットワークレベル認証(NLA)を必要としますが、接続先は TLS のみに設定されています。セキュリティ設定を nla か any にするよう管理者に依頼してください。"
                ),
                Failure::TlsRequired => format!(
                    "{target} はネットワークレベル認証(NLA)に対応していませんが、接続先は NLA のみに設定されています。セキュリティ設定を tls か any にするよう管理者に依頼してください。"
                ),
                Failure::StandardSecurityOnly => format!(
                    "{target} は安全でない標準 RDP セキュリティにしか対応していません。サーバで TLS か NLA を有効にするよう管理者に依頼してください。"
                ),
                Failure::Refused(reason) => format!("{target} が接続を拒否しました: {reason}"),
                Failure::Protocol(_) => format!(
                    "{target} への RDP 接続がログオン中に失敗しました。サーバが RDP で許されないデータを送ってきました。もう一度お試しください。続く場合は管理者に連絡してください。"
                ),
            },
            Outcome::RdpNoPin { target } => format!(
                "{target} の証明書が登録されていません。接続先の証明書を承認するよう管理者に依頼してください。"
            ),
            Outcome::RdpCertificateChanged { target, presented } => format!(
                "{target} の証明書が変わったため(現在は {presented})、接続を拒否しました。サーバを確認して新しい証明書を承認するよう管理者に依頼してください。"
            ),
            Outcome::RdpLogonTimeout { target, secs } => format!(
                "{target} が{secs}秒以内に RDP のログオンを終えませんでした。しばらくしてからお試しください。"
            ),
            Outcome::RdpServerEnded { target, reason } => {
                format!("{target} がセッションを終了しました: {reason}")
            }
            Outcome::RdpReactivationChurn {
                target,
                reactivations,
                secs,
            } => format!(
                "{target} が{secs}秒間に画面を{reactivations}回作り直したため、ゲートウェイを守るためにセッションを終了しました。接続先の管理者にサーバーの確認を依頼してください。"
            ),
            Outcome::CredentialsTimeout { secs } => format!(
                "{}分以内に資格情報が入力されませんでした。接続先をもう一度開いてください。",
                secs / 60
            ),
            Outcome::CredentialsTooLong => "入力された資格情報が長すぎます。".to_owned(),
            Outcome::UsernameNeeded => {
                "この接続先にはユーザー名が必要です。もう一度開いて入力してください。".to_owned()
            }
            Outcome::Ssh(e) => e.ja.clone(),
            Outcome::ShellNotOpened { target, detail } => {
                format!("{target} がシェルを開きませんでした: {detail}")
            }
            Outcome::ShellEnded { target, status } => {
                format!("{target} のシェルが終了しました(exit status {status})。")
            }
            Outcome::TargetEndedSession { target } => {
                format!("{target} がセッションを閉じました。")
            }
            Outcome::WatchSessionEnded { outcome } => {
                format!("セッションが終了しました: {}", outcome.japanese())
            }
            Outcome::WatchNotLive => "セッションはすでに終了しています。".to_owned(),
            Outcome::WatchFull => {
                "このセッションの立会い者は上限に達しています。しばらくしてからお試しください。"
                    .to_owned()
            }
            Outcome::WatchNotAudited => {
                "立会いを監査ログに記録できません。管理者に連絡してください。".to_owned()
            }
            Outcome::WatcherGone => "立会い者のブラウザとの接続が切れました。".to_owned(),
            Outcome::WatcherClosed => "立会い者が画面を閉じました。".to_owned(),
            Outcome::WatcherSilent => "立会い者のブラウザからの応答がなくなりました。".to_owned(),
            Outcome::WatcherMalformed => {
                "立会い者のブラウザから不正な命令が届きました。".to_owned()
            }
            Outcome::WatcherBehind => {
                "この画面はセッションから大きく遅れました。もう一度開いてください。".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_in_both_languages_without_command_lines() {
        let outcomes = [
            Outcome::ShuttingDown,
            Outcome::RdpNoPin {
                target: "win".into(),
            },
            Outcome::RdpCertificateChanged {
                target: "win".into(),
                presented: "SHA256:ab".into(),
            },
            Outcome::FramebufferBudget {
                target: "big".into(),
                width: 4096,
                height: 4096,
                budget_mib: 100,
            },
            Outcome::WatchSessionEnded {
                outcome: Box::new(Outcome::EndedByAdministrator {
                    login: "demo-admin".into(),
                }),
            },
        ];
        let (name, address) = ("box".to_owned(), "10.0.0.1:22".to_owned());
        let ssh = [
            SshError::NotSsh {
                name: name.clone(),
                address: address.clone(),
            },
            SshError::PacketTooLarge {
                name: name.clone(),
                address: address.clone(),
                size: 1 << 30,
            },
            SshError::NoCommonAlgorithm {
                name: name.clone(),
                address: address.clone(),
                kind: "cipher".into(),
            },
            SshError::ClosedInHandshake {
                name: name.clone(),
                address: address.clone(),
            },
            SshError::Timeout {
                name: name.clone(),
                address: address.clone(),
            },
        ];
        let mut codes = std::collections::BTreeSet::new();
        for e in &ssh {
            let outcome = Outcome::Ssh(e.into());
            // Every handshake failure names the target and its address in both languages.
            for text in [outcome.message(Lang::En), outcome.message(Lang::Ja)] {
                assert!(
                    text.contains("box") && text.contains("10.0.0.1:22"),
                    "{text}"
                );
            }
            assert!(codes.insert(outcome.code()), "{} twice", outcome.code());
        }
        let outcomes = outcomes
            .into_iter()
            .chain(ssh.iter().map(|e| Outcome::Ssh(e.into())));
        for outcome in outcomes {
            let (en, ja) = (outcome.message(Lang::En), outcome.message(Lang::Ja));
            assert_ne!(en, ja);
            assert!(
                !en.contains("hoshu admin") && !ja.contains("hoshu admin"),
                "{en}"
            );
            assert!(!en.contains('`') && !ja.contains('`'), "{en}");
        }
        assert_eq!(
            Outcome::ShuttingDown.message(Lang::En),
            "the gateway is shutting down"
        );
    }
}
