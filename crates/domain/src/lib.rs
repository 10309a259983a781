//! Hoshu's domain: identifiers, roles, the login lock-out rule and the audit chain.
//!
//! Pure: no I/O, no clock (callers pass `now`), so every rule here is unit-tested without a database.
#![forbid(unsafe_code)]

pub mod audit;
pub mod ids;
pub mod lockout;
pub mod target;

pub use audit::{
    AuditEvent, AuditKind, ChainBreak, ChainedEvent, GENESIS_HASH, chain_hash, verify_chain,
};
pub use ids::{Role, TargetId, UnknownRole, UserId, VendorId};
pub use lockout::{LockoutPolicy, LoginState};
pub use target::{ClipboardPolicy, Protocol, UnknownClipboardPolicy, UnknownProtocol};
