#![forbid(unsafe_code)]
//! Matrix one-time password (DESIGN §4, seed §2).
//!
//! A user registers a *pattern* — an ordered list of cells of a 64-cell matrix
//! (four 4×4 blocks) — and optionally a *fixed password* inserted at a position
//! among the digits. At login the gateway shows a fresh [`Matrix`] of random
//! digits; the user types the digits under the pattern's cells, in order, with
//! the fixed password in its place. [`verify()`] checks the answer.
//!
//! This crate is pure: no I/O, no clock. Randomness is injected as a
//! `rand_core` 0.6 `RngCore + CryptoRng`; challenge ids, expiry, lockout and
//! encryption at rest belong to the gateway.
//!
//! - [`matrix`]: [`Cell`] and [`Matrix`] (uniform digits, no modulo bias).
//! - [`policy`]: [`Policy`], [`enrol`] and every [`Violation`] it reports.
//! - [`banned`]: the built-in [`BannedShape`]s and the admin list.
//! - [`secret`]: the registered [`Secret`] and its compact encoding.
//! - [`verify`](mod@verify): [`answer`], [`hash_fixed`], [`verify()`](fn@verify).
//! - [`strength`](mod@strength): honest strength figures shown at registration.
//!
//! ```
//! use hoshu_otp::{Matrix, Policy, answer, enrol, hash_fixed, verify};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = rand::rngs::OsRng;
//!
//! // Registration: the policy lists every problem at once.
//! let policy = Policy::default();
//! let secret = enrol(&policy, &[0, 9, 18, 27], Some("abcd"), 2)
//!     .map_err(|violations| format!("{} violations", violations.len()))?;
//! let hash = hash_fixed("abcd", &mut rng)?;
//! let stored = secret.to_bytes(); // encrypted by the caller
//!
//! // Login: a new matrix per attempt; the user types digits and fixed part.
//! let matrix = Matrix::generate(&mut rng);
//! let typed = answer(&matrix, &secret, "abcd");
//! let secret = hoshu_otp::Secret::from_bytes(&stored)?;
//! assert!(verify(&matrix, Some(&secret), Some(&hash), &typed));
//! assert!(!verify(&matrix, None, None, &typed));
//! # Ok(())
//! # }
//! ```

pub mod banned;
pub mod matrix;
pub mod policy;
pub mod secret;
pub mod strength;
pub mod verify;

pub use banned::BannedShape;
pub use matrix::{CELLS, Cell, Matrix};
pub use policy::{FixedPolicy, MAX_FIXED_LEN, Policy, Violation, enrol};
pub use secret::Secret;
pub use strength::{Strength, strength};
pub use verify::{FixedHash, MAX_ANSWER_LEN, answer, hash_fixed, verify, verify_digits};

/// Errors from parsing stored or transmitted values and from hashing.
///
/// Policy violations at registration are not errors of this kind: [`enrol`]
/// returns every [`Violation`] at once so the user can fix them together.
/// No message carries secret material (cells, digits, passwords).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    #[error("matrix must have {CELLS} digits, got {got} characters")]
    MatrixLength { got: usize },
    #[error("matrix has a character that is not a digit 0-9 at position {position}")]
    MatrixNotDigit { position: usize },

    #[error("secret encoding is too short to hold its header")]
    SecretTruncated,
    #[error("secret encoding has unknown version {0}")]
    SecretVersion(u8),
    #[error("secret encoding declares {declared} cells but holds {actual}")]
    SecretLength { declared: usize, actual: usize },
    #[error("secret encoding has no cells")]
    SecretEmpty,
    #[error("secret encoding has more than {CELLS} cells")]
    SecretTooLong,
    #[error("secret encoding names a cell outside 0..=63")]
    SecretCellOutOfRange,
    #[error("secret encoding puts the fixed password past the end of the pattern")]
    SecretInsertOutOfRange,

    #[error("fixed-password hash is not a valid phc string")]
    HashNotPhc,
    #[error("fixed-password hash is not argon2id version 19")]
    HashAlgorithm,
    #[error(
        "fixed-password hash uses other argon2id parameters than m=19456,t=2,p=1 with a 32-byte output; re-register the fixed password"
    )]
    HashParams,
    #[error("hashing the fixed password failed: {0}")]
    Hash(argon2::password_hash::Error),

    #[error(
        "policy cell bounds {min}..={max} are invalid; need 1 <= min_cells <= max_cells <= {CELLS}"
    )]
    PolicyCellBounds { min: usize, max: usize },
    #[error(
        "policy fixed-password length bounds {min}..={max} are invalid; need 1 <= fixed_min_len <= fixed_max_len <= {MAX_FIXED_LEN}"
    )]
    PolicyFixedBounds { min: usize, max: usize },
    #[error("policy banned sequence number {index} is empty or names a cell outside 0..=63")]
    PolicyBannedEntry { index: usize },
}
