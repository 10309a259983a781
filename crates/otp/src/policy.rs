//! Registration policy and [`enrol`], which checks a proposed secret against it.

use serde::Deserialize;

use crate::banned::{self, BannedShape};
use crate::{CELLS, Cell, MAX_ANSWER_LEN, OtpError, Secret};

/// Longest fixed password any policy may allow: an answer is at most
/// [`MAX_ANSWER_LEN`] bytes and may hold 64 digits, so a longer fixed
/// password could be registered but never typed in a verifiable answer.
pub const MAX_FIXED_LEN: usize = MAX_ANSWER_LEN - CELLS;

/// Whether a fixed password may or must accompany the pattern.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FixedPolicy {
    /// No fixed password; registering one is a violation.
    Off,
    /// The user chooses.
    #[default]
    Allowed,
    /// Every user must register one.
    Required,
}

/// The rules a pattern and fixed password must follow, as the administrator
/// writes them in the configuration file (unknown keys are refused; missing
/// keys take the defaults below). Check it once with [`Policy::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Fewest cells in a pattern (default 4).
    pub min_cells: usize,
    /// Most cells in a pattern (default 16, at most 64).
    pub max_cells: usize,
    /// Whether a cell may appear more than once (default false; SECUREMATRIX
    /// allows it).
    pub allow_repeats: bool,
    /// Fixed password off, allowed or required (default allowed).
    pub fixed: FixedPolicy,
    /// Shortest fixed password, in characters (default 4).
    pub fixed_min_len: usize,
    /// Longest fixed password, in characters (default 32, at most
    /// [`MAX_FIXED_LEN`]).
    pub fixed_max_len: usize,
    /// Cell sequences banned by the administrator, matched as contiguous runs
    /// of the pattern (default none).
    pub banned: Vec<Vec<u8>>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            min_cells: 4,
            max_cells: 16,
            allow_repeats: false,
            fixed: FixedPolicy::Allowed,
            fixed_min_len: 4,
            fixed_max_len: 32,
            banned: Vec::new(),
        }
    }
}

impl Policy {
    /// Checks that the policy itself makes sense: a registration could
    /// satisfy it and every registered secret fits the answer bound.
    ///
    /// [`enrol`] clamps to the hard limits (1..=64 cells, fixed password at
    /// most [`MAX_FIXED_LEN`]) even for a policy that was not validated.
    pub fn validate(&self) -> Result<(), OtpError> {
        if self.min_cells == 0 || self.min_cells > self.max_cells || self.max_cells > CELLS {
            return Err(OtpError::PolicyCellBounds {
                min: self.min_cells,
                max: self.max_cells,
            });
        }
        if self.fixed != FixedPolicy::Off
            && (self.fixed_min_len == 0
                || self.fixed_min_len > self.fixed_max_len
                || self.fixed_max_len > MAX_FIXED_LEN)
        {
            return Err(OtpError::PolicyFixedBounds {
                min: self.fixed_min_len,
                max: self.fixed_max_len,
            });
        }
        if let Some(index) = self
            .banned
            .iter()
            .position(|seq| seq.is_empty() || seq.iter().any(|&c| usize::from(c) >= CELLS))
        {
            return Err(OtpError::PolicyBannedEntry { index });
        }
        Ok(())
    }
}

/// One rule a proposed registration breaks.
///
/// `Display` is an English sentence for the user that says what to change;
/// [`Violation::code`] is the stable id the gateway translates by. Messages
/// may name cells of the proposed pattern: show them to the user who is
/// registering, do not log them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("pattern has {got} cells; use at least {min}")]
    TooShort { min: usize, got: usize },
    #[error("pattern has {got} cells; use at most {max}")]
    TooLong { max: usize, got: usize },
    #[error("cell {0} does not exist; use cells 0 to 63")]
    CellOutOfRange(u8),
    #[error("cell {0} is used more than once; use each cell only once")]
    RepeatedCell(u8),
    #[error("a fixed password is required; add one")]
    FixedRequired,
    #[error("a fixed password is not allowed; leave it empty")]
    FixedNotAllowed,
    #[error("fixed password has {got} characters; use at least {min}")]
    FixedTooShort { min: usize, got: usize },
    #[error("fixed password has {got} characters; use at most {max}")]
    FixedTooLong { max: usize, got: usize },
    #[error(
        "fixed password has characters outside printable ASCII; use only letters a-z and A-Z, digits, punctuation and spaces"
    )]
    FixedNotPrintableAscii,
    #[error("fixed password position {got} is past the end of the pattern; use 0 to {max}")]
    InsertOutOfRange { max: usize, got: usize },
    #[error("pattern contains {0}; choose a less regular pattern")]
    BannedShape(BannedShape),
}

impl Violation {
    /// Stable snake_case id; for a banned shape, [`BannedShape::code`] says
    /// which one.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::TooShort { .. } => "too_short",
            Violation::TooLong { .. } => "too_long",
            Violation::CellOutOfRange(_) => "cell_out_of_range",
            Violation::RepeatedCell(_) => "repeated_cell",
            Violation::FixedRequired => "fixed_required",
            Violation::FixedNotAllowed => "fixed_not_allowed",
            Violation::FixedTooShort { .. } => "fixed_too_short",
            Violation::FixedTooLong { .. } => "fixed_too_long",
            Violation::FixedNotPrintableAscii => "fixed_not_printable_ascii",
            Violation::InsertOutOfRange { .. } => "insert_out_of_range",
            Violation::BannedShape(_) => "banned_shape",
        }
    }
}

/// Checks a proposed registration and returns the [`Secret`], or every rule
/// it breaks (not just the first), in a stable order: pattern length, cells,
/// fixed password, insert position, shapes.
///
/// `fixed` of `None` or `Some("")` means no fixed password; then `insert` is
/// still checked to be within `0..=k` but is stored as 0. The fixed password
/// itself is not kept in the secret: hash it with [`hash_fixed`](crate::hash_fixed)
/// (the empty string when there is none).
pub fn enrol(
    policy: &Policy,
    cells: &[u8],
    fixed: Option<&str>,
    insert: usize,
) -> Result<Secret, Vec<Violation>> {
    let mut violations = Vec::new();
    let k = cells.len();

    // Hard limits hold whatever the policy says: a secret has 1..=64 cells
    // (its encoding and the answer bound depend on it).
    let min = policy.min_cells.max(1);
    let max = policy.max_cells.min(CELLS);
    if k < min {
        violations.push(Violation::TooShort { min, got: k });
    }
    if k > max {
        violations.push(Violation::TooLong { max, got: k });
    }

    // Each offending value once, in order of first appearance.
    let mut seen = [false; 256];
    let mut reported = [false; 256];
    for &c in cells {
        let i = usize::from(c);
        if i >= CELLS {
            if !reported[i] {
                violations.push(Violation::CellOutOfRange(c));
            }
            reported[i] = true;
        } else if seen[i] && !policy.allow_repeats {
            if !reported[i] {
                violations.push(Violation::RepeatedCell(c));
            }
            reported[i] = true;
        }
        seen[i] = true;
    }

    let fixed = fixed.filter(|f| !f.is_empty());
    match (policy.fixed, fixed) {
        (FixedPolicy::Required, None) => violations.push(Violation::FixedRequired),
        (FixedPolicy::Off, Some(_)) => violations.push(Violation::FixedNotAllowed),
        (FixedPolicy::Allowed | FixedPolicy::Required, Some(f)) => {
            let got = f.chars().count();
            let min = policy.fixed_min_len.max(1);
            let max = policy.fixed_max_len.min(MAX_FIXED_LEN);
            if got < min {
                violations.push(Violation::FixedTooShort { min, got });
            }
            if got > max {
                violations.push(Violation::FixedTooLong { max, got });
            }
            // Printable ASCII keeps one byte per character (the answer is
            // split by byte length) and avoids look-alike Unicode that
            // different keyboards and browsers would type differently.
            if !f.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
                violations.push(Violation::FixedNotPrintableAscii);
            }
        }
        (FixedPolicy::Off | FixedPolicy::Allowed, None) => {}
    }

    if insert > k {
        violations.push(Violation::InsertOutOfRange {
            max: k,
            got: insert,
        });
    }

    violations.extend(
        banned::find(cells, policy.allow_repeats, &policy.banned)
            .into_iter()
            .map(Violation::BannedShape),
    );

    if !violations.is_empty() {
        return Err(violations);
    }
    let pattern = cells.iter().filter_map(|&c| Cell::new(c)).collect();
    // INVARIANT: no violation means 1 <= k <= 64, every cell in range (so
    // nothing was filtered out) and insert <= k, as `Secret` requires.
    Ok(Secret {
        pattern,
        insert: if fixed.is_some() { insert } else { 0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: Result<Secret, Vec<Violation>>) -> Vec<&'static str> {
        match r {
            Ok(_) => Vec::new(),
            Err(v) => v.iter().map(Violation::code).collect(),
        }
    }

    #[test]
    fn defaults() {
        let p = Policy::default();
        assert_eq!((p.min_cells, p.max_cells), (4, 16));
        assert!(!p.allow_repeats);
        assert_eq!(p.fixed, FixedPolicy::Allowed);
        assert_eq!((p.fixed_min_len, p.fixed_max_len), (4, 32));
        assert!(p.banned.is_empty());
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn deserialises_with_defaults_and_refuses_unknown_keys() {
        let p: Policy = serde_json::from_str("{}").expect("empty object is the default");
        assert_eq!(p, Policy::default());

        let p: Policy =
            serde_json::from_str(r#"{"min_cells": 6, "fixed": "required", "banned": [[0, 1, 2]]}"#)
                .expect("valid policy");
        assert_eq!(p.min_cells, 6);
        assert_eq!(p.fixed, FixedPolicy::Required);
        assert_eq!(p.banned, [vec![0, 1, 2]]);
        assert_eq!(p.max_cells, 16);

        for s in ["off", "allowed", "required"] {
            let p: Policy = serde_json::from_str(&format!(r#"{{"fixed": "{s}"}}"#))
                .expect("known fixed policy");
            assert_ne!(format!("{:?}", p.fixed), "");
        }
        assert!(serde_json::from_str::<Policy>(r#"{"min_cell": 6}"#).is_err());
        assert!(serde_json::from_str::<Policy>(r#"{"fixed": "maybe"}"#).is_err());
    }

    #[test]
    fn validate_rejects_impossible_policies() {
        let bad = |f: fn(&mut Policy)| {
            let mut p = Policy::default();
            f(&mut p);
            p.validate()
        };
        assert_eq!(
            bad(|p| p.min_cells = 0),
            Err(OtpError::PolicyCellBounds { min: 0, max: 16 })
        );
        assert!(bad(|p| p.min_cells = 17).is_err());
        assert!(bad(|p| p.max_cells = 65).is_err());
        assert!(bad(|p| p.fixed_min_len = 0).is_err());
        assert!(bad(|p| p.fixed_max_len = MAX_FIXED_LEN + 1).is_err());
        assert_eq!(
            bad(|p| p.banned = vec![vec![1, 2], vec![]]),
            Err(OtpError::PolicyBannedEntry { index: 1 })
        );
        assert!(bad(|p| p.banned = vec![vec![64]]).is_err());
        // Fixed length bounds do not matter when fixed passwords are off.
        assert_eq!(
            bad(|p| {
                p.fixed = FixedPolicy::Off;
                p.fixed_min_len = 0;
            }),
            Ok(())
        );
    }

    #[test]
    fn accepts_a_good_registration() {
        let p = Policy::default();
        let s = enrol(&p, &[0, 9, 18, 27], Some("abcd"), 2).expect("valid");
        assert_eq!(
            s.cells().iter().map(|c| c.index()).collect::<Vec<_>>(),
            [0, 9, 18, 27]
        );
        assert_eq!(s.insert(), 2);
        // Insert at the very end is fine.
        assert_eq!(
            enrol(&p, &[0, 9, 18, 27], Some("abcd"), 4).map(|s| s.insert()),
            Ok(4)
        );
    }

    #[test]
    fn no_fixed_password_normalises_insert() {
        let p = Policy::default();
        for fixed in [None, Some("")] {
            let s = enrol(&p, &[0, 9, 18, 27], fixed, 3).expect("valid");
            assert_eq!(s.insert(), 0);
        }
        assert_eq!(
            enrol(&p, &[0, 9, 18, 27], None, 5).map(|s| s.insert()),
            Err(vec![Violation::InsertOutOfRange { max: 4, got: 5 }])
        );
    }

    #[test]
    fn returns_every_violation_at_once() {
        let p = Policy::default();
        let r = enrol(&p, &[5, 5, 9], Some("ab"), 0);
        assert_eq!(
            r,
            Err(vec![
                Violation::TooShort { min: 4, got: 3 },
                Violation::RepeatedCell(5),
                Violation::FixedTooShort { min: 4, got: 2 },
            ])
        );

        // A worse one: five rules broken in one request.
        let r = enrol(&p, &[4, 5, 6, 7, 70, 70, 4], Some("pass\u{e9}"), 9);
        assert_eq!(
            codes(r),
            [
                "cell_out_of_range",
                "repeated_cell",
                "fixed_not_printable_ascii",
                "insert_out_of_range",
                "banned_shape",
            ]
        );
    }

    #[test]
    fn length_bounds_and_hard_limits() {
        let p = Policy::default();
        // Stepping by 17 puts consecutive cells in different blocks: no shape.
        let seventeen: Vec<u8> = (0..17u16).map(|i| (i * 17 % 64) as u8).collect();
        assert_eq!(
            enrol(&p, &seventeen, None, 0).map(|_| ()),
            Err(vec![Violation::TooLong { max: 16, got: 17 }])
        );
        assert_eq!(
            enrol(&p, &[], None, 0).map(|_| ()),
            Err(vec![Violation::TooShort { min: 4, got: 0 }])
        );
        // An unvalidated policy still cannot produce an unencodable secret.
        let loose = Policy {
            min_cells: 0,
            max_cells: 1000,
            allow_repeats: true,
            fixed_max_len: 10_000,
            ..Policy::default()
        };
        assert_eq!(codes(enrol(&loose, &[], None, 0)), ["too_short"]);
        let sixty_five: Vec<u8> = (0..65).map(|i| (i * 7 % 64) as u8).collect();
        assert_eq!(
            enrol(&loose, &sixty_five, None, 0).map(|_| ()),
            Err(vec![Violation::TooLong { max: 64, got: 65 }])
        );
        let long_fixed = "x".repeat(MAX_FIXED_LEN + 1);
        assert_eq!(
            codes(enrol(&loose, &[1, 2, 3, 9], Some(&long_fixed), 0)),
            ["fixed_too_long"]
        );
    }

    #[test]
    fn fixed_policy_off_allowed_required() {
        let cells = [0, 9, 18, 27];
        let off = Policy {
            fixed: FixedPolicy::Off,
            ..Policy::default()
        };
        assert_eq!(
            codes(enrol(&off, &cells, Some("abcd"), 0)),
            ["fixed_not_allowed"]
        );
        assert!(enrol(&off, &cells, Some(""), 0).is_ok());

        let required = Policy {
            fixed: FixedPolicy::Required,
            ..Policy::default()
        };
        assert_eq!(codes(enrol(&required, &cells, None, 0)), ["fixed_required"]);
        assert_eq!(
            codes(enrol(&required, &cells, Some(""), 0)),
            ["fixed_required"]
        );
        assert!(enrol(&required, &cells, Some("a b~"), 0).is_ok());

        let allowed = Policy::default();
        assert_eq!(
            enrol(&allowed, &cells, Some(&"y".repeat(33)), 0).map(|_| ()),
            Err(vec![Violation::FixedTooLong { max: 32, got: 33 }])
        );
        assert_eq!(
            codes(enrol(&allowed, &cells, Some("ab\tcd"), 0)),
            ["fixed_not_printable_ascii"]
        );
    }

    #[test]
    fn repeats_when_allowed() {
        let p = Policy {
            allow_repeats: true,
            ..Policy::default()
        };
        assert!(enrol(&p, &[3, 3, 8, 3], None, 0).is_ok());
        assert_eq!(
            enrol(&p, &[3, 3, 3, 8], None, 0).map(|_| ()),
            Err(vec![Violation::BannedShape(BannedShape::SameCellRepeated)])
        );
    }

    #[test]
    fn banned_shapes_and_admin_list() {
        let p = Policy {
            banned: vec![vec![9, 8, 7, 6, 5]],
            ..Policy::default()
        };
        assert_eq!(
            enrol(&p, &[20, 9, 8, 7, 6, 5], None, 0).map(|_| ()),
            Err(vec![Violation::BannedShape(BannedShape::AdminList)])
        );
        assert_eq!(
            enrol(&p, &[12, 8, 4, 0, 33], None, 0).map(|_| ()),
            Err(vec![Violation::BannedShape(BannedShape::Column)])
        );
    }

    #[test]
    fn messages_are_lowercase_sentences_with_distinct_codes() {
        let all = [
            Violation::TooShort { min: 4, got: 3 },
            Violation::TooLong { max: 16, got: 17 },
            Violation::CellOutOfRange(70),
            Violation::RepeatedCell(5),
            Violation::FixedRequired,
            Violation::FixedNotAllowed,
            Violation::FixedTooShort { min: 4, got: 2 },
            Violation::FixedTooLong { max: 32, got: 40 },
            Violation::FixedNotPrintableAscii,
            Violation::InsertOutOfRange { max: 8, got: 9 },
            Violation::BannedShape(BannedShape::Corners),
        ];
        assert_eq!(all[0].to_string(), "pattern has 3 cells; use at least 4");
        assert_eq!(
            all[10].to_string(),
            "pattern contains the four corners of a block; choose a less regular pattern"
        );
        let mut codes: Vec<_> = all.iter().map(Violation::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for v in &all {
            let text = v.to_string();
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            assert!(text.contains("; "), "says what to change: {text}");
        }
    }
}
