//! Answers: how one is formed, and how it is verified without telling which
//! part was wrong.
//!
//! An answer is `d[0..p] ‖ fixed ‖ d[p..k]` where `d[j]` is the digit under the
//! `j`-th pattern cell and `p` the insert position (DESIGN §4). The fixed part's
//! length is `len(answer) - k`, so it may itself contain digits.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, Version};
use rand_core::{CryptoRng, RngCore};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::{CELLS, Cell, Matrix, OtpError, Secret};

/// Longest answer looked at, in bytes: 64 digits and a fixed password of at
/// most [`MAX_FIXED_LEN`](crate::MAX_FIXED_LEN). Longer answers are wrong
/// without being split, but still cost one Argon2 run.
pub const MAX_ANSWER_LEN: usize = 256;

// OWASP password storage cheat sheet, Argon2id first option: m = 19 MiB,
// t = 2, p = 1 (also the argon2 crate's defaults). One parameter set for
// every hash, so every verification costs the same.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

/// Verified against when there is no real hash to use (unknown login, no
/// stored hash, malformed answer), so that those failures cost one Argon2 run
/// like any other. A constant rather than computed on first use: computing it
/// lazily would make the first such request twice as slow as the rest. It is
/// the hash of a random string that was not kept; its result is discarded
/// anyway. The tests check it has the current parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$8gGaRXE0XPXEJRBqtv/KVA$a/1bEt0iJFpoykVgZVh4t4UB4XB0TVrDTwmXgBwsAqU";

/// Stands in for the pattern of an unknown login, so the digit comparison
/// runs too (its result is discarded).
const DUMMY_PATTERN: [Cell; 8] = [Cell(0); 8];

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

fn params() -> Params {
    Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
        .expect("the constant OWASP parameters are within argon2's bounds")
}

/// The Argon2id hash of a fixed password, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). `Debug` prints
/// `FixedHash(***)`: it is an offline-guessable credential.
#[derive(Clone, PartialEq, Eq)]
pub struct FixedHash(String);

impl FixedHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts a stored PHC string made by [`hash_fixed`].
    ///
    /// Only Argon2id version 19 with exactly this crate's parameters is
    /// accepted: verification time must not depend on which user is logging
    /// in, and a stored hash must not be able to ask for more memory. A change
    /// of parameters is therefore a migration (re-register fixed passwords).
    pub fn from_phc(s: String) -> Result<FixedHash, OtpError> {
        let parsed = PasswordHash::new(&s).map_err(|_| OtpError::HashNotPhc)?;
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(OtpError::HashNotPhc);
        }
        if parsed.algorithm != ARGON2ID_IDENT || parsed.version != Some(Version::V0x13.into()) {
            return Err(OtpError::HashAlgorithm);
        }
        if Params::try_from(&parsed).ok() != Some(params()) {
            return Err(OtpError::HashParams);
        }
        Ok(FixedHash(s))
    }
}

impl fmt::Debug for FixedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FixedHash(***)")
    }
}

/// Hashes a fixed password with Argon2id (m = 19456 KiB, t = 2, p = 1) and a
/// 16-byte salt from `rng`.
///
/// Hash the empty string for a user without a fixed password, so that every
/// verification runs the same code.
pub fn hash_fixed<R: RngCore + CryptoRng>(fixed: &str, rng: &mut R) -> Result<FixedHash, OtpError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(OtpError::Hash)?;
    let hash = argon2()
        .hash_password(fixed.as_bytes(), &salt)
        .map_err(OtpError::Hash)?;
    Ok(FixedHash(hash.to_string()))
}

/// The answer a user holding `secret` types for `matrix`, with `fixed` in its
/// place (the seed example: fixed `abcd` at `p = 0` with 8 cells gives
/// `abcd85425679`).
pub fn answer(matrix: &Matrix, secret: &Secret, fixed: &str) -> String {
    let mut digits = secret
        .cells()
        .iter()
        .map(|&c| char::from(b'0' + matrix.digit(c)));
    let mut out = String::with_capacity(secret.cells().len() + fixed.len());
    out.extend(digits.by_ref().take(secret.insert()));
    out.push_str(fixed);
    out.extend(digits);
    out
}

/// An answer split by the secret's shape: the digits compared, the fixed part
/// still to be checked.
struct Split<'a> {
    /// The answer is ASCII, at most [`MAX_ANSWER_LEN`] bytes and has room for
    /// `k` digits. Depends only on lengths and on what the client sent.
    shape_ok: bool,
    /// `shape_ok` and every typed digit equals the expected one.
    digits_ok: Choice,
    /// The fixed part, empty when the shape is wrong.
    fixed: &'a str,
}

fn split<'a>(matrix: &Matrix, pattern: &[Cell], insert: usize, answer: &'a str) -> Split<'a> {
    let bytes = answer.as_bytes();
    let k = pattern.len();
    // ASCII guarantees byte positions are character boundaries below. The
    // early checks depend on the attacker's own input and on k, whose
    // timing is drowned by the Argon2 run that always follows.
    let shape_ok = bytes.len() <= MAX_ANSWER_LEN && bytes.len() >= k && answer.is_ascii();

    // Fixed-size buffers: the comparison always covers k bytes, whatever was
    // typed, and the expected digits are wiped afterwards.
    let mut expected = [0u8; CELLS];
    let mut typed = [0u8; CELLS];
    for (e, &c) in expected.iter_mut().zip(pattern) {
        *e = b'0' + matrix.digit(c);
    }

    let mut fixed = "";
    if shape_ok {
        let fixed_len = bytes.len() - k;
        // INVARIANT (Secret): insert <= k <= len, so all three ranges exist;
        // `get` keeps this panic-free even if that were ever broken.
        if let (Some(before), Some(middle), Some(after)) = (
            bytes.get(..insert),
            answer.get(insert..insert + fixed_len),
            bytes.get(insert + fixed_len..),
        ) {
            for (t, &b) in typed.iter_mut().zip(before.iter().chain(after)) {
                *t = b;
            }
            fixed = middle;
        }
    }

    let digits_ok = match (typed.get(..k), expected.get(..k)) {
        (Some(t), Some(e)) => t.ct_eq(e) & Choice::from(u8::from(shape_ok)),
        _ => Choice::from(0),
    };
    expected.zeroize();
    typed.zeroize();
    Split {
        shape_ok,
        digits_ok,
        fixed,
    }
}

/// Runs Argon2id on `fixed` against `phc`. Always runs it exactly once: a PHC
/// string that does not parse (impossible for a [`FixedHash`]) falls back to
/// the dummy hash.
fn fixed_matches(phc: &str, fixed: &str) -> Choice {
    let (parsed, real) = match PasswordHash::new(phc) {
        Ok(p) => (p, 1),
        Err(_) => match PasswordHash::new(DUMMY_HASH) {
            Ok(p) => (p, 0),
            Err(_) => return Choice::from(0),
        },
    };
    #[cfg(test)]
    tests::ARGON2_RUNS.with(|n| n.set(n.get() + 1));
    let ok = argon2().verify_password(fixed.as_bytes(), &parsed).is_ok();
    Choice::from(u8::from(ok)) & Choice::from(real)
}

/// Verifies a typed answer against the user's secret and fixed-password hash.
///
/// `secret` or `hash` `None` (unknown login, no credential) gives `false` after
/// the same work as a real check. The digits are compared in constant time and
/// Argon2id always runs once — against the dummy hash when there is no real
/// one or the answer has the wrong shape — even after a digit mismatch, so the
/// time taken does not tell which part was wrong (DESIGN §4). The answer is
/// `true` only if the digits and the fixed part are both right.
pub fn verify(
    matrix: &Matrix,
    secret: Option<&Secret>,
    hash: Option<&FixedHash>,
    answer: &str,
) -> bool {
    let (pattern, insert, secret_known) = match secret {
        Some(s) => (s.cells(), s.insert(), 1),
        None => (&DUMMY_PATTERN[..], 0, 0),
    };
    let split = split(matrix, pattern, insert, answer);
    let (phc, hash_known) = match hash {
        Some(h) if split.shape_ok => (h.as_str(), 1),
        _ => (DUMMY_HASH, 0),
    };
    let fixed_ok = fixed_matches(phc, split.fixed);
    let ok = split.digits_ok & fixed_ok & Choice::from(secret_known) & Choice::from(hash_known);
    bool::from(ok)
}

/// Checks only the digits of an answer (the fixed part is cut out by length
/// and ignored). For benchmarks and diagnostics; a login must use [`verify`].
pub fn verify_digits(matrix: &Matrix, secret: &Secret, answer: &str) -> bool {
    bool::from(split(matrix, secret.cells(), secret.insert(), answer).digits_ok)
}

#[cfg(test)]
mod tests;
