//! Hoshu's domain: identifiers, roles, the login lock-out rule, the audit chain, the vendor
//! application flow and the open-session decision.
//!
//! Pure: no I/O, no clock (callers pass `now`), so every rule here is unit-tested without a database.
#![forbid(unsafe_code)]

pub mod application;
pub mod audit;
pub mod decision;
pub mod ids;
pub mod lockout;
pub mod posture;
pub mod target;

pub use application::{
    ApplicationState, TransitionError, TransitionFacts, UnknownApplicationState, check_transition,
};
pub use audit::{
    AuditEvent, AuditKind, ChainBreak, ChainedEvent, GENESIS_HASH, chain_hash, verify_chain,
};
pub use decision::{
    AccessFacts, ActiveLock, ApprovalWindow, ContractFacts, Denial, DeviceFacts, DeviceStanding,
    LockScope, Reader, TargetFacts, UserFacts, allowed_until, decide, may_read_session,
};
pub use ids::{Role, TargetId, UnknownRole, UserId, VendorId};
pub use lockout::{LockoutPolicy, LoginChannel, LoginState};
pub use posture::{
    AntivirusProduct, Compliance, FirewallState, OsInfo, PolicyOverride, PosturePolicy,
    PostureProblem, PostureReport, ReportError, evaluate,
};
pub use target::{ClipboardPolicy, Protocol, UnknownClipboardPolicy, UnknownProtocol};
