//! The registered secret: the ordered pattern and where the fixed password goes.

use std::fmt;

use zeroize::Zeroize;

use crate::{CELLS, Cell, OtpError};

/// Encoding version written first by [`Secret::to_bytes`].
const VERSION: u8 = 1;
/// Version, cell count, insert position.
const HEADER: usize = 3;

/// What a user registers: an ordered list of cells (the order is part of the
/// secret) and the position `0..=k` of the fixed password among the `k` digits.
///
/// Built by [`enrol`](crate::enrol) (which applies the policy) or
/// [`Secret::from_bytes`] (which only checks the encoding). `Debug` prints
/// `Secret(***)`, and the cells are wiped from memory on drop.
///
/// INVARIANT: `1 <= pattern.len() <= 64` and `insert <= pattern.len()`;
/// `answer` and `verify` slice by these without further checks.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub(crate) pattern: Vec<Cell>,
    pub(crate) insert: usize,
}

impl Secret {
    /// The pattern, in the order the digits are typed.
    pub fn cells(&self) -> &[Cell] {
        &self.pattern
    }

    /// Number of digits typed before the fixed password (0 when there is none).
    pub fn insert(&self) -> usize {
        self.insert
    }

    /// Compact versioned encoding: `[1, k, insert, cell_0 .. cell_k-1]`.
    ///
    /// The bytes are the secret in clear; the caller encrypts them (DESIGN §4:
    /// AEAD with the user id as associated data) and should wipe them after.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.pattern.len());
        // INVARIANT (type): k <= 64 and insert <= k both fit in a byte.
        out.push(VERSION);
        out.push(self.pattern.len() as u8);
        out.push(self.insert as u8);
        out.extend(self.pattern.iter().map(|c| c.index()));
        out
    }

    /// Decodes [`Secret::to_bytes`], rejecting anything else.
    ///
    /// The input is bounded before anything is allocated: at most 3 + 64 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Secret, OtpError> {
        let [version, k, insert, cells @ ..] = b else {
            return Err(OtpError::SecretTruncated);
        };
        if *version != VERSION {
            return Err(OtpError::SecretVersion(*version));
        }
        let k = usize::from(*k);
        if k == 0 {
            return Err(OtpError::SecretEmpty);
        }
        if k > CELLS || cells.len() > CELLS {
            return Err(OtpError::SecretTooLong);
        }
        if cells.len() != k {
            return Err(OtpError::SecretLength {
                declared: k,
                actual: cells.len(),
            });
        }
        let insert = usize::from(*insert);
        if insert > k {
            return Err(OtpError::SecretInsertOutOfRange);
        }
        let pattern = cells
            .iter()
            .map(|&i| Cell::new(i).ok_or(OtpError::SecretCellOutOfRange))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Secret { pattern, insert })
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // The pattern is the long-lived credential; do not leave it in freed
        // heap memory. `zeroize` writes through volatile stores the optimiser
        // keeps.
        for cell in &mut self.pattern {
            cell.0.zeroize();
        }
        self.insert.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret(cells: &[u8], insert: usize) -> Secret {
        Secret {
            pattern: cells.iter().map(|&i| Cell(i)).collect(),
            insert,
        }
    }

    #[test]
    fn round_trip() {
        let s = secret(&[0, 9, 18, 27, 63], 2);
        let bytes = s.to_bytes();
        assert_eq!(bytes, [1, 5, 2, 0, 9, 18, 27, 63]);
        assert_eq!(Secret::from_bytes(&bytes), Ok(s));

        let long = secret(&(0..64).rev().collect::<Vec<u8>>(), 64);
        assert_eq!(Secret::from_bytes(&long.to_bytes()), Ok(long));
    }

    #[test]
    fn debug_hides_everything() {
        assert_eq!(format!("{:?}", secret(&[1, 2, 3, 4], 0)), "Secret(***)");
    }

    #[test]
    fn rejects_garbage() {
        use OtpError::*;
        let cases: [(&[u8], OtpError); 8] = [
            (&[], SecretTruncated),
            (&[1, 1], SecretTruncated),
            (&[2, 1, 0, 5], SecretVersion(2)),
            (&[1, 0, 0], SecretEmpty),
            (&[1, 65, 0], SecretTooLong),
            (
                &[1, 4, 0, 1, 2, 3],
                SecretLength {
                    declared: 4,
                    actual: 3,
                },
            ),
            (&[1, 2, 3, 1, 2], SecretInsertOutOfRange),
            (&[1, 2, 0, 1, 64], SecretCellOutOfRange),
        ];
        for (bytes, err) in cases {
            assert_eq!(Secret::from_bytes(bytes), Err(err), "{bytes:?}");
        }
        let mut too_long = vec![1, 64, 0];
        too_long.extend(std::iter::repeat_n(0, 65));
        assert_eq!(Secret::from_bytes(&too_long), Err(SecretTooLong));
    }

    proptest! {
        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(s) = Secret::from_bytes(&bytes) {
                // Whatever decodes re-encodes to the same bytes.
                prop_assert_eq!(s.to_bytes(), bytes);
            }
        }

        #[test]
        fn from_bytes_accepts_every_well_formed_encoding(
            cells in proptest::collection::vec(0u8..64, 1..=64),
            insert in any::<prop::sample::Index>(),
        ) {
            let insert = insert.index(cells.len() + 1);
            let s = secret(&cells, insert);
            prop_assert_eq!(Secret::from_bytes(&s.to_bytes()), Ok(s));
        }
    }
}
