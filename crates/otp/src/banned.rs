//! Banned pattern shapes: the built-in easy-to-guess shapes and the admin list.
//!
//! Built-in shapes are looked for in every run of four consecutive pattern
//! entries, always within one block (blocks are shown apart, in four colours):
//! a full row, column or diagonal in order or reversed, the four corners in any
//! order, and the same position in all four blocks. With repeats allowed, one
//! cell three or more times in a row is banned too.

use std::fmt;

use crate::CELLS;

/// A shape that makes a pattern easy to guess or to shoulder-surf.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BannedShape {
    /// A full row of one block, left to right or right to left.
    Row,
    /// A full column of one block, top to bottom or bottom to top.
    Column,
    /// A full diagonal of one block, either diagonal, either direction.
    Diagonal,
    /// The four corners of one block, in any order.
    Corners,
    /// The same cell three or more times in a row (only when repeats are allowed).
    SameCellRepeated,
    /// The same position in all four blocks, block 0 to 3 or 3 to 0.
    SameCellEveryBlock,
    /// A sequence on the administrator's list.
    AdminList,
}

impl BannedShape {
    /// Stable snake_case id for translation.
    pub fn code(self) -> &'static str {
        match self {
            BannedShape::Row => "row",
            BannedShape::Column => "column",
            BannedShape::Diagonal => "diagonal",
            BannedShape::Corners => "corners",
            BannedShape::SameCellRepeated => "same_cell_repeated",
            BannedShape::SameCellEveryBlock => "same_cell_every_block",
            BannedShape::AdminList => "admin_list",
        }
    }
}

impl fmt::Display for BannedShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BannedShape::Row => "a full row of a block",
            BannedShape::Column => "a full column of a block",
            BannedShape::Diagonal => "a full diagonal of a block",
            BannedShape::Corners => "the four corners of a block",
            BannedShape::SameCellRepeated => "the same cell three or more times in a row",
            BannedShape::SameCellEveryBlock => "the same cell in all four blocks",
            BannedShape::AdminList => "a sequence banned by the administrator",
        })
    }
}

/// Lines of a 4×4 block as positions `0..=15` within the block, in their
/// natural order; the reverse order is banned as well.
const ROWS: [[u8; 4]; 4] = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]];
const COLUMNS: [[u8; 4]; 4] = [[0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15]];
const DIAGONALS: [[u8; 4]; 2] = [[0, 5, 10, 15], [3, 6, 9, 12]];
const CORNERS: [u8; 4] = [0, 3, 12, 15];

/// Every banned shape found in `cells`, each kind once, in declaration order.
///
/// `cells` are raw indices as the user sent them; entries outside `0..=63` are
/// reported elsewhere and simply never match a built-in shape here.
pub fn find(cells: &[u8], allow_repeats: bool, admin: &[Vec<u8>]) -> Vec<BannedShape> {
    let mut found = Vec::new();
    let mut add = |shape| {
        if !found.contains(&shape) {
            found.push(shape);
        }
    };

    for w in cells.windows(4) {
        let w: [u8; 4] = [w[0], w[1], w[2], w[3]];
        if let Some(local) = within_one_block(w) {
            let is_line = |lines: &[[u8; 4]]| {
                lines.iter().any(|line| {
                    let mut reversed = *line;
                    reversed.reverse();
                    local == *line || local == reversed
                })
            };
            if is_line(&ROWS) {
                add(BannedShape::Row);
            }
            if is_line(&COLUMNS) {
                add(BannedShape::Column);
            }
            if is_line(&DIAGONALS) {
                add(BannedShape::Diagonal);
            }
            let mut sorted = local;
            sorted.sort_unstable();
            if sorted == CORNERS {
                add(BannedShape::Corners);
            }
        }
        if same_position_every_block(w) {
            add(BannedShape::SameCellEveryBlock);
        }
    }

    // Without repeats the policy already reports each repeated cell; saying
    // "three in a row" as well would be the same complaint twice.
    if allow_repeats && cells.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        add(BannedShape::SameCellRepeated);
    }

    // An empty entry would match every pattern; `Policy::validate` rejects it
    // and here it is ignored (also `windows(0)` would panic).
    if admin
        .iter()
        .any(|seq| !seq.is_empty() && cells.windows(seq.len()).any(|w| w == seq.as_slice()))
    {
        add(BannedShape::AdminList);
    }
    found
}

/// The positions within the block when all four cells are valid and in one block.
fn within_one_block(w: [u8; 4]) -> Option<[u8; 4]> {
    let block = w[0] / 16;
    let ok = w.iter().all(|&c| usize::from(c) < CELLS && c / 16 == block);
    ok.then(|| w.map(|c| c % 16))
}

fn same_position_every_block(w: [u8; 4]) -> bool {
    let c = w[0] % 16;
    let forward = [c, c + 16, c + 32, c + 48];
    let backward = [c + 48, c + 32, c + 16, c];
    w == forward || w == backward
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(cells: &[u8]) -> Vec<BannedShape> {
        find(cells, false, &[])
    }

    #[test]
    fn row_in_order_and_reversed() {
        assert_eq!(shapes(&[4, 5, 6, 7]), [BannedShape::Row]);
        assert_eq!(shapes(&[43, 42, 41, 40]), [BannedShape::Row]);
        // Embedded in a longer pattern.
        assert_eq!(shapes(&[60, 1, 28, 29, 30, 31, 9]), [BannedShape::Row]);
        // Not in order, gapped, or across blocks: allowed.
        assert!(shapes(&[4, 6, 5, 7]).is_empty());
        assert!(shapes(&[4, 5, 9, 6, 7]).is_empty());
        assert!(shapes(&[2, 3, 16, 17]).is_empty());
        // Three cells of a row only.
        assert!(shapes(&[4, 5, 6, 20]).is_empty());
    }

    #[test]
    fn column_in_order_and_reversed() {
        assert_eq!(shapes(&[1, 5, 9, 13]), [BannedShape::Column]);
        assert_eq!(shapes(&[63, 59, 55, 51]), [BannedShape::Column]);
        assert!(shapes(&[1, 9, 5, 13]).is_empty());
    }

    #[test]
    fn both_diagonals_both_directions() {
        assert_eq!(shapes(&[0, 5, 10, 15]), [BannedShape::Diagonal]);
        assert_eq!(shapes(&[15, 10, 5, 0]), [BannedShape::Diagonal]);
        assert_eq!(shapes(&[19, 22, 25, 28]), [BannedShape::Diagonal]);
        assert_eq!(shapes(&[28, 25, 22, 19]), [BannedShape::Diagonal]);
        assert!(shapes(&[0, 5, 10, 11]).is_empty());
    }

    #[test]
    fn corners_in_any_order() {
        assert_eq!(shapes(&[32, 35, 47, 44]), [BannedShape::Corners]);
        assert_eq!(shapes(&[47, 32, 44, 35]), [BannedShape::Corners]);
        // Corners of different blocks do not count.
        assert!(shapes(&[0, 3, 12, 31]).is_empty());
    }

    #[test]
    fn same_position_in_every_block() {
        assert_eq!(shapes(&[5, 21, 37, 53]), [BannedShape::SameCellEveryBlock]);
        assert_eq!(shapes(&[53, 37, 21, 5]), [BannedShape::SameCellEveryBlock]);
        assert!(shapes(&[5, 37, 21, 53]).is_empty());
        assert!(shapes(&[5, 21, 37, 54]).is_empty());
    }

    #[test]
    fn same_cell_three_times_only_when_repeats_allowed() {
        assert_eq!(
            find(&[8, 8, 8, 2], true, &[]),
            [BannedShape::SameCellRepeated]
        );
        assert_eq!(
            find(&[1, 8, 8, 8, 8], true, &[]),
            [BannedShape::SameCellRepeated]
        );
        assert!(find(&[8, 8, 2, 8], true, &[]).is_empty());
        // With repeats off, the policy's RepeatedCell covers it.
        assert!(find(&[8, 8, 8, 2], false, &[]).is_empty());
    }

    #[test]
    fn admin_list_matches_contiguous_runs() {
        let admin = vec![vec![10, 20, 30], vec![]];
        assert_eq!(
            find(&[10, 20, 30, 40], false, &admin),
            [BannedShape::AdminList]
        );
        assert_eq!(
            find(&[1, 10, 20, 30, 2], false, &admin),
            [BannedShape::AdminList]
        );
        assert_eq!(find(&[10, 20, 30], false, &admin), [BannedShape::AdminList]);
        // Not contiguous, or only a prefix of the banned run.
        assert!(find(&[10, 20, 2, 30], false, &admin).is_empty());
        assert!(find(&[10, 20], false, &admin).is_empty());
    }

    #[test]
    fn several_shapes_reported_once_each() {
        let cells = [0, 1, 2, 3, 3, 2, 1, 0, 0, 4, 8, 12];
        assert_eq!(shapes(&cells), [BannedShape::Row, BannedShape::Column]);
    }

    #[test]
    fn out_of_range_cells_never_match() {
        assert!(shapes(&[64, 65, 66, 67]).is_empty());
        assert!(shapes(&[200, 201, 202, 203]).is_empty());
        assert!(shapes(&[255, 255, 255, 255]).is_empty());
    }

    #[test]
    fn codes_and_messages_are_distinct() {
        let all = [
            BannedShape::Row,
            BannedShape::Column,
            BannedShape::Diagonal,
            BannedShape::Corners,
            BannedShape::SameCellRepeated,
            BannedShape::SameCellEveryBlock,
            BannedShape::AdminList,
        ];
        let mut codes: Vec<_> = all.iter().map(|s| s.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for s in all {
            let text = s.to_string();
            assert_eq!(text, text.to_lowercase());
        }
    }
}
