//! The tamper-evident audit log of DESIGN §7: every event is chained to the one before by
//! `hash_n = SHA-256(hash_{n−1} ‖ canonical(event_n))`, so an edit, a deletion or a reordering
//! anywhere breaks the chain at (or right after) the event that was touched.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The hash that the first event links to.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// What happened. The string form is what is stored and hashed, so it never changes once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A matrix challenge was issued (for a known or an unknown login ID).
    LoginChallenge,
    /// Later challenges from one source within a minute of its first, counted by login ID in
    /// one event (anyone may ask for a matrix; one event each would grow the log without bound).
    LoginChallengesRepeated,
    LoginSuccess,
    LoginFailure,
    /// An answer arrived for a locked account; refused without looking at it.
    LoginRefusedLocked,
    /// Too many consecutive failures locked the account.
    Lockout,
    Logout,
    /// A registration code was used to set a pattern.
    Registration,
    /// A registration attempt was refused (bad code or policy violations).
    RegistrationRefused,
    UserAdded,
    UserReset,
    /// An administrator locked the account indefinitely.
    UserLocked,
    UserUnlocked,
    TargetAdded,
    TargetRemoved,
    /// An administrator pinned a new SSH host key for a target.
    TargetHostKeyAccepted,
    /// A remote session on a target was opened (or refused, with the reason).
    SessionOpened,
    SessionRefused,
    /// A remote session ended; carries the recording's SHA-256, bytes and outcome.
    SessionClosed,
    /// A live session stopped being allowed (lock, contract, approval, user) and was ended.
    SessionRevoked,
    /// An admin or auditor started or stopped watching a live session (立会い); the actor is
    /// the watcher, the subject the target, `session` the session id.
    WatchStarted,
    WatchEnded,
    GatewayStarted,
    /// The gateway stopped on a signal, after sealing its sessions.
    GatewayStopped,
    VendorAdded,
    /// A vendor's application moved (from, to, note).
    ApplicationMoved,
    SystemAdded,
    ContractAdded,
    ContractChanged,
    ContractRemoved,
    DocumentAdded,
    DeviceLent,
    /// A device was registered for a user and given an enrolment code (DESIGN §6).
    DeviceAdded,
    /// A device enrolled: its client certificate was issued (or the enrolment was refused).
    DeviceEnrolled,
    DeviceEnrolRefused,
    /// A device was revoked (lost or returned); its certificate stops working at once.
    DeviceRevoked,
    /// A device's posture turned compliant or non-compliant (not every report: only changes).
    DevicePosture,
    /// A vendor's own posture rules were set or cleared (`policy`: the rules now in force).
    VendorPosture,
    WorkRequested,
    /// A work request was approved, rejected, revoked or withdrawn.
    WorkDecided,
    /// An emergency stop was put in force, or lifted.
    EmergencyStop,
    EmergencyStopLifted,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginChallenge => "login.challenge",
            AuditKind::LoginChallengesRepeated => "login.challenge_repeated",
            AuditKind::LoginSuccess => "login.success",
            AuditKind::LoginFailure => "login.failure",
            AuditKind::LoginRefusedLocked => "login.refused_locked",
            AuditKind::Lockout => "login.lockout",
            AuditKind::Logout => "session.logout",
            AuditKind::Registration => "user.register",
            AuditKind::RegistrationRefused => "user.register_refused",
            AuditKind::UserAdded => "user.add",
            AuditKind::UserReset => "user.reset",
            AuditKind::UserLocked => "user.lock",
            AuditKind::UserUnlocked => "user.unlock",
            AuditKind::TargetAdded => "target.add",
            AuditKind::TargetRemoved => "target.remove",
            AuditKind::TargetHostKeyAccepted => "target.host_key_accepted",
            AuditKind::SessionOpened => "session.open",
            AuditKind::SessionRefused => "session.refused",
            AuditKind::SessionClosed => "session.close",
            AuditKind::SessionRevoked => "session.revoked",
            AuditKind::WatchStarted => "session.watch_start",
            AuditKind::WatchEnded => "session.watch_end",
            AuditKind::GatewayStarted => "gateway.start",
            AuditKind::GatewayStopped => "gateway.stop",
            AuditKind::VendorAdded => "vendor.add",
            AuditKind::ApplicationMoved => "vendor.application",
            AuditKind::SystemAdded => "system.add",
            AuditKind::ContractAdded => "contract.add",
            AuditKind::ContractChanged => "contract.change",
            AuditKind::ContractRemoved => "contract.remove",
            AuditKind::DocumentAdded => "document.add",
            AuditKind::DeviceLent => "device.lent",
            AuditKind::DeviceAdded => "device.add",
            AuditKind::DeviceEnrolled => "device.enrol",
            AuditKind::DeviceEnrolRefused => "device.enrol_refused",
            AuditKind::DeviceRevoked => "device.revoke",
            AuditKind::DevicePosture => "device.posture",
            AuditKind::VendorPosture => "vendor.posture",
            AuditKind::WorkRequested => "work.request",
            AuditKind::WorkDecided => "work.decide",
            AuditKind::EmergencyStop => "emergency.stop",
            AuditKind::EmergencyStopLifted => "emergency.lift",
        }
    }
}

/// An event about to be appended. `detail` holds kind-specific fields; never a secret, a
/// password, an OTP answer or a pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub kind: AuditKind,
    /// Login ID of who did it (`None` for the system or an anonymous caller).
    pub actor: Option<String>,
    /// Login ID (or other name) of what it was done to.
    pub subject: Option<String>,
    /// Source address of the request, if it came over the network.
    pub source: Option<String>,
    pub detail: Map<String, Value>,
}

impl AuditEvent {
    pub fn new(kind: AuditKind) -> Self {
        AuditEvent {
            kind,
            actor: None,
            subject: None,
            source: None,
            detail: Map::new(),
        }
    }

    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(key.to_owned(), value.into());
        self
    }
}

/// An event as stored: its place in the chain, its time and both hashes. `detail` is the exact
/// JSON text that was hashed, so verification never depends on how a serializer orders keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub detail: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl ChainedEvent {
    /// Seals `event` as number `seq`, linked to `prev_hash`.
    pub fn seal(event: &AuditEvent, seq: i64, at_ms: i64, prev_hash: [u8; 32]) -> ChainedEvent {
        let mut sealed = ChainedEvent {
            seq,
            at_ms,
            kind: event.kind.as_str().to_owned(),
            actor: event.actor.clone(),
            subject: event.subject.clone(),
            source: event.source.clone(),
            detail: Value::Object(event.detail.clone()).to_string(),
            prev_hash,
            hash: [0; 32],
        };
        sealed.hash = chain_hash(&prev_hash, &sealed.canonical());
        sealed
    }

    /// The bytes that are hashed: a JSON array of every field but the hashes. The sequence number
    /// is inside, so moving an event to another place changes its hash.
    pub fn canonical(&self) -> Vec<u8> {
        let fields = Value::Array(vec![
            Value::from(self.seq),
            Value::from(self.at_ms),
            Value::from(self.kind.as_str()),
            self.actor.as_deref().map_or(Value::Null, Value::from),
            self.subject.as_deref().map_or(Value::Null, Value::from),
            self.source.as_deref().map_or(Value::Null, Value::from),
            Value::from(self.detail.as_str()),
        ]);
        fields.to_string().into_bytes()
    }
}

pub fn chain_hash(prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(canonical);
    hasher.finalize().into()
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at event {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Walks events in storage order and returns how many were verified and the last hash, or the
/// first event that does not fit.
pub fn verify_chain(
    events: impl IntoIterator<Item = ChainedEvent>,
) -> Result<(i64, [u8; 32]), ChainBreak> {
    let mut expected_seq = 1;
    let mut prev = GENESIS_HASH;
    for event in events {
        if event.seq != expected_seq {
            return Err(ChainBreak {
                seq: event.seq,
                reason: format!(
                    "expected event {expected_seq} here: events were deleted or reordered"
                ),
            });
        }
        if event.prev_hash != prev {
            return Err(ChainBreak {
                seq: event.seq,
                reason: "does not link to the event before it: an event before it was removed, \
                         replaced or moved"
                    .to_owned(),
            });
        }
        if chain_hash(&prev, &event.canonical()) != event.hash {
            return Err(ChainBreak {
                seq: event.seq,
                reason: "its contents were changed after it was written".to_owned(),
            });
        }
        prev = event.hash;
        expected_seq += 1;
    }
    Ok((expected_seq - 1, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEvent> {
        let mut prev = GENESIS_HASH;
        (1..=n)
            .map(|seq| {
                let event = AuditEvent::new(AuditKind::LoginFailure)
                    .subject(format!("user{seq}"))
                    .source("192.0.2.1")
                    .detail("reason", "wrong answer");
                let sealed = ChainedEvent::seal(&event, seq, 1_700_000_000_000 + seq, prev);
                prev = sealed.hash;
                sealed
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let events = chain(5);
        let last = events[4].hash;
        assert_eq!(verify_chain(events), Ok((5, last)));
        assert_eq!(verify_chain(Vec::new()), Ok((0, GENESIS_HASH)));
    }

    #[test]
    fn an_edit_is_found_at_the_edited_event() {
        let mut events = chain(5);
        events[2].subject = Some("someone-else".into());
        assert_eq!(verify_chain(events).map_err(|b| b.seq), Err(3));
    }

    #[test]
    fn a_deletion_is_found_where_the_gap_is() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(verify_chain(events).map_err(|b| b.seq), Err(3));
    }

    #[test]
    fn renumbering_after_a_deletion_is_found_by_the_broken_link() {
        let mut events = chain(5);
        events.remove(1);
        for (i, event) in events.iter_mut().enumerate() {
            event.seq = i as i64 + 1;
        }
        assert_eq!(verify_chain(events).map_err(|b| b.seq), Err(2));
    }

    #[test]
    fn a_swap_is_found_at_the_first_moved_event() {
        let mut events = chain(5);
        events.swap(1, 3);
        assert_eq!(verify_chain(events).map_err(|b| b.seq), Err(4));
    }
}
