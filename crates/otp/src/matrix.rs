//! The challenge matrix: 64 cells in four 4×4 blocks, one random digit each.

use std::fmt;

use rand_core::{CryptoRng, RngCore};

use crate::OtpError;

/// Number of cells in a matrix: four blocks of 4×4 (DESIGN §4).
pub const CELLS: usize = 64;

/// One cell of the matrix, `0..=63`.
///
/// Cell `i` is in block `i / 16`, row `(i % 16) / 4`, column `i % 4`; the
/// gateway shows the four blocks in four colours.
// INVARIANT: the index is below 64; `new` and `at` are the only ways in from
// outside, and `Matrix::digit` indexes its 64-digit array with it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Cell(pub(crate) u8);

impl Cell {
    /// The cell with index `i`, or `None` when `i > 63`.
    pub fn new(i: u8) -> Option<Cell> {
        (usize::from(i) < CELLS).then_some(Cell(i))
    }

    /// The cell at `row`, `col` of `block`, or `None` when any is out of range.
    pub fn at(block: u8, row: u8, col: u8) -> Option<Cell> {
        if block < 4 && row < 4 && col < 4 {
            Some(Cell(block * 16 + row * 4 + col))
        } else {
            None
        }
    }

    pub fn index(self) -> u8 {
        self.0
    }

    /// Block `0..=3`.
    pub fn block(self) -> u8 {
        self.0 / 16
    }

    /// Row `0..=3` within the block.
    pub fn row(self) -> u8 {
        (self.0 % 16) / 4
    }

    /// Column `0..=3` within the block.
    pub fn col(self) -> u8 {
        self.0 % 4
    }
}

/// A challenge: one digit `0..=9` per cell.
///
/// A new matrix is drawn for every login attempt. It is shown to the user, so
/// it is not secret by itself, but together with the typed answer it leaks the
/// pattern (see [`strength`](crate::strength())); `Debug` therefore prints no
/// digits, so matrices do not end up in logs next to answers.
#[derive(Clone, PartialEq, Eq)]
pub struct Matrix([u8; CELLS]);

impl Matrix {
    /// Draws 64 independent digits, each uniform on `0..=9`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Matrix {
        // A byte is uniform on 0..=255; `byte % 10` would make 0..=5 more
        // likely than 6..=9 (26 vs 25 preimages). Rejecting 250..=255 leaves
        // 250 = 25 × 10 values, so the remainder is exactly uniform. About 2 %
        // of bytes are rejected, so one or two refills are usually enough.
        let mut digits = [0u8; CELLS];
        let mut filled = 0;
        let mut buf = [0u8; CELLS];
        while filled < CELLS {
            rng.fill_bytes(&mut buf);
            for &b in buf.iter().filter(|&&b| b < 250) {
                if filled == CELLS {
                    break;
                }
                digits[filled] = b % 10;
                filled += 1;
            }
        }
        Matrix(digits)
    }

    /// The digit `0..=9` in `cell`.
    pub fn digit(&self, cell: Cell) -> u8 {
        self.0[usize::from(cell.0)]
    }

    /// The 64 digits as ASCII, cell 0 first: the `"matrix"` field of the
    /// login challenge (DESIGN §4 JSON contract).
    pub fn digits(&self) -> String {
        self.0.iter().map(|&d| char::from(b'0' + d)).collect()
    }

    /// Parses exactly 64 ASCII digits, the inverse of [`Matrix::digits`].
    pub fn from_digits(s: &str) -> Result<Matrix, OtpError> {
        let bytes = s.as_bytes();
        if bytes.len() != CELLS {
            return Err(OtpError::MatrixLength {
                got: s.chars().count(),
            });
        }
        let mut digits = [0u8; CELLS];
        for (position, (&b, d)) in bytes.iter().zip(digits.iter_mut()).enumerate() {
            if !b.is_ascii_digit() {
                return Err(OtpError::MatrixNotDigit { position });
            }
            *d = b - b'0';
        }
        Ok(Matrix(digits))
    }

    /// Builds a matrix from digit values (tests and simulations).
    #[cfg(test)]
    pub(crate) fn from_values(values: [u8; CELLS]) -> Matrix {
        assert!(values.iter().all(|&d| d < 10), "test matrices hold digits");
        Matrix(values)
    }
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Matrix(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn cell_coordinates_follow_design() {
        // DESIGN §4: block i/16, row (i%16)/4, column i%4.
        let c = Cell::new(45).expect("45 is a cell");
        assert_eq!((c.block(), c.row(), c.col()), (2, 3, 1));
        assert_eq!(Cell::at(2, 3, 1), Some(c));
        assert_eq!(Cell::new(63).map(Cell::index), Some(63));
        assert_eq!(Cell::new(64), None);
        assert_eq!(Cell::at(4, 0, 0), None);
        for i in 0..64u8 {
            let c = Cell::new(i).expect("in range");
            assert_eq!(Cell::at(c.block(), c.row(), c.col()), Some(c));
        }
    }

    #[test]
    fn digits_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let m = Matrix::generate(&mut rng);
        let s = m.digits();
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(Matrix::from_digits(&s), Ok(m));
    }

    #[test]
    fn from_digits_rejects_bad_input() {
        assert_eq!(
            Matrix::from_digits("123"),
            Err(OtpError::MatrixLength { got: 3 })
        );
        let mut s = "0".repeat(64);
        s.replace_range(10..11, "a");
        assert_eq!(
            Matrix::from_digits(&s),
            Err(OtpError::MatrixNotDigit { position: 10 })
        );
        // 64 bytes but not 64 ASCII digits: a multibyte character.
        let s = format!("{}é", "0".repeat(62));
        assert_eq!(s.len(), 64);
        assert!(Matrix::from_digits(&s).is_err());
    }

    #[test]
    fn debug_hides_digits() {
        let m = Matrix::from_values([7; CELLS]);
        assert_eq!(format!("{m:?}"), "Matrix(..)");
    }

    /// Chi-square goodness of fit of 10^6 digits against the uniform
    /// distribution on 0..=9.
    ///
    /// A generator using `byte % 10` without rejection gives digits 0..=5 a
    /// probability of 26/256 and 6..=9 one of 25/256; over 10^6 digits that is
    /// about +1 560 per low digit and -2 340 per high digit, a chi-square near
    /// 1 300, far above the threshold. This test catches such a regression.
    #[test]
    fn digits_are_uniform_chi_square() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_0001);
        let mut counts = [0u64; 10];
        for _ in 0..15_625 {
            let m = Matrix::generate(&mut rng);
            for &d in &m.0 {
                counts[usize::from(d)] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        assert_eq!(total, 1_000_000);
        let expected = total as f64 / 10.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        // 9 degrees of freedom, p = 0.001.
        assert!(chi2 < 27.88, "chi-square {chi2} with counts {counts:?}");
    }

    /// The same statistic on the biased generator, to show the test above
    /// can fail.
    #[test]
    fn chi_square_detects_modulo_bias() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_0001);
        let mut counts = [0u64; 10];
        let mut buf = [0u8; 1000];
        for _ in 0..1000 {
            rng.fill_bytes(&mut buf);
            for &b in &buf {
                counts[usize::from(b % 10)] += 1;
            }
        }
        let expected = 100_000.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 > 27.88, "biased chi-square {chi2}");
    }
}
