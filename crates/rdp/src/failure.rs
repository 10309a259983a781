//! Why an RDP connection failed, in words a vendor's engineer can act on. IronRDP's errors say
//! what went wrong in the protocol ("read frame by hint: not enough bytes"); the user needs to
//! know whether to retype a password, ask the administrator, or try again later.

use ironrdp_connector::{ConnectorError, ConnectorErrorKind};
use ironrdp_pdu::nego::FailureCode;

/// What the user is told, with the detail kept for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server (over NLA) refused the user name or password.
    Credentials,
    /// The server requires NLA but the target is set to TLS only.
    NlaRequired,
    /// The server requires TLS (no NLA) but the target is set to NLA only.
    TlsRequired,
    /// The server offers only Standard RDP Security, which Hoshu does not speak.
    StandardSecurityOnly,
    /// The server refused access for another reason it named.
    Refused(String),
    /// Anything else: a protocol error; the detail goes to the log, not the user.
    Protocol(String),
}

impl Failure {
    /// Sorts a connector error. `during_nla`: CredSSP was negotiated and the error came before
    /// the session was up; servers answer wrong credentials by closing the connection after
    /// the NTLM AUTHENTICATE message (FreeRDP, Windows), which IronRDP reports as a read error.
    pub fn of(error: &ConnectorError, during_nla: bool) -> Failure {
        match error.kind() {
            ConnectorErrorKind::Negotiation(failure) => match failure.code() {
                FailureCode::HYBRID_REQUIRED_BY_SERVER => Failure::NlaRequired,
                FailureCode::SSL_NOT_ALLOWED_BY_SERVER => Failure::StandardSecurityOnly,
                FailureCode::SSL_REQUIRED_BY_SERVER => Failure::TlsRequired,
                _ => Failure::Refused(failure.to_string()),
            },
            ConnectorErrorKind::Credssp(_) | ConnectorErrorKind::AccessDenied => {
                Failure::Credentials
            }
            ConnectorErrorKind::Custom | ConnectorErrorKind::General if during_nla => {
                Failure::Credentials
            }
            ConnectorErrorKind::Reason(reason) => Failure::Refused(reason.clone()),
            _ => Failure::Protocol(error.report().to_string()),
        }
    }

    /// Whether the server closed (or reset) the connection: IronRDP reports it as a read
    /// error whose source is the I/O error.
    pub fn is_closed_connection(error: &ConnectorError) -> bool {
        let mut source = std::error::Error::source(error);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                return is_closed(io);
            }
            source = e.source();
        }
        false
    }

    /// The sentence for the user (lowercase, says what to do), naming the target.
    pub fn message(&self, target: &str) -> String {
        match self {
            Failure::Credentials => format!(
                "{target} refused the user name or password; check them (or ask the \
                 administrator to update the target's stored credentials)"
            ),
            Failure::NlaRequired => format!(
                "{target} requires network level authentication (NLA) but the target is set to \
                 TLS only; ask the administrator to set its security to nla or any"
            ),
            Failure::TlsRequired => format!(
                "{target} does not offer network level authentication (NLA) but the target is \
                 set to NLA only; ask the administrator to set its security to tls or any"
            ),
            Failure::StandardSecurityOnly => format!(
                "{target} offers only Standard RDP Security, which is not safe to use; ask the \
                 administrator to enable TLS or NLA on the server"
            ),
            Failure::Refused(reason) => format!("{target} refused the connection: {reason}"),
            Failure::Protocol(_) => format!(
                "the RDP connection to {target} failed during log-on: the server sent something \
                 the RDP protocol does not allow; try again, and tell the administrator if it \
                 keeps failing"
            ),
        }
    }
}

/// Whether an I/O error means the peer closed or reset the connection.
pub fn is_closed(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironrdp_connector::NegotiationFailure;

    fn negotiation(code: FailureCode) -> ConnectorError {
        ConnectorError::new(
            "negotiation",
            ConnectorErrorKind::Negotiation(NegotiationFailure::from(code)),
        )
    }

    #[test]
    fn negotiation_failures_say_which_setting_to_change() {
        assert_eq!(
            Failure::of(&negotiation(FailureCode::HYBRID_REQUIRED_BY_SERVER), false),
            Failure::NlaRequired
        );
        assert_eq!(
            Failure::of(&negotiation(FailureCode::SSL_REQUIRED_BY_SERVER), false),
            Failure::TlsRequired
        );
        assert_eq!(
            Failure::of(&negotiation(FailureCode::SSL_NOT_ALLOWED_BY_SERVER), false),
            Failure::StandardSecurityOnly
        );
        let message = Failure::NlaRequired.message("win-01");
        assert!(message.starts_with("win-01 requires network level authentication"));
        assert!(message.contains("nla or any"));
    }

    #[test]
    fn a_dropped_connection_during_nla_is_the_credentials() {
        let read = ConnectorError::new("read frame by hint", ConnectorErrorKind::Custom);
        assert_eq!(Failure::of(&read, true), Failure::Credentials);
        assert!(matches!(Failure::of(&read, false), Failure::Protocol(_)));
        assert!(
            Failure::Credentials
                .message("srv")
                .contains("user name or password")
        );
    }

    #[test]
    fn a_closed_connection_is_told_apart() {
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "not enough bytes");
        let read =
            ConnectorError::new("read frame by hint", ConnectorErrorKind::Custom).with_source(eof);
        assert!(Failure::is_closed_connection(&read));
        let junk = std::io::Error::new(std::io::ErrorKind::InvalidData, "bad TPKT");
        let read =
            ConnectorError::new("read frame by hint", ConnectorErrorKind::Custom).with_source(junk);
        assert!(!Failure::is_closed_connection(&read));
    }
}
