//! The demo desktop's bitmap font: printable ASCII (0x20–0x7E), designed for Hoshu.
//!
//! Each glyph is 5 pixels wide and 9 rows tall: rows 0–6 hold capitals and digits, rows 7–8 hold
//! descenders (g, j, p, q, y, comma). A glyph sits in a 6×10 cell, leaving one blank column and row
//! between neighbours. The art below is the source of truth: it is parsed at compile time, and a
//! malformed picture fails the build rather than drawing garbage.

/// Width of a character cell in font pixels (glyph plus one column of spacing).
pub const CELL_WIDTH: u16 = 6;
/// Height of a character cell in font pixels (glyph plus one row of spacing).
pub const CELL_HEIGHT: u16 = 10;

const GLYPH_WIDTH: usize = 5;
const GLYPH_ROWS: usize = 9;
const FIRST: u8 = 0x20;
const GLYPH_COUNT: usize = 95;
const GLYPHS_PER_BAND: usize = 16;

// Bands of 16 glyphs: a line naming the characters (each above the middle of its glyph), then the
// nine rows of each glyph side by side, separated by one space.
const ART: &str = r#"
        !     "     #     $     %     &     '     (     )     *     +     ,     -     .     /
..... ..#.. .#.#. .#.#. ..#.. ##... .##.. ..#.. ...#. .#... ..... ..... ..... ..... ..... ....#
..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..... ..... ....#
..... ..#.. ..... ##### #.#.. ...#. #.#.. .#... .#... ...#. #.#.# ..#.. ..... ..... ..... ...#.
..... ..#.. ..... .#.#. .###. ..#.. .#... ..... .#... ...#. .###. ##### ..... ##### ..... ..#..
..... ..#.. ..... ##### ..#.# .#... #.#.# ..... .#... ...#. #.#.# ..#.. ..... ..... ..... .#...
..... ..... ..... .#.#. ####. #..## #..#. ..... ..#.. ..#.. ..#.. ..#.. .##.. ..... .##.. #....
..... ..#.. ..... .#.#. ..#.. ...## .##.# ..... ...#. .#... ..... ..... .##.. ..... .##.. #....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... .....
  0     1     2     3     4     5     6     7     8     9     :     ;     <     =     >     ?
.###. ..#.. .###. ##### ...#. ##### ..##. ##### .###. .###. ..... ..... ...#. ..... .#... .###.
#...# .##.. #...# ...#. ..##. #.... .#... ....# #...# #...# .##.. .##.. ..#.. ..... ..#.. #...#
#..## ..#.. ....# ..#.. .#.#. ####. #.... ...#. #...# #...# .##.. .##.. .#... ##### ...#. ....#
#.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#.. .###. .#### ..... ..... #.... ..... ....# ...#.
##..# ..#.. ..#.. ....# ##### ....# #...# .#... #...# ....# .##.. .##.. .#... ##### ...#. ..#..
#...# ..#.. .#... #...# ...#. #...# #...# .#... #...# ...#. .##.. .##.. ..#.. ..... ..#.. .....
.###. .###. ##### .###. ...#. .###. .###. .#... .###. .##.. ..... ..#.. ...#. ..... .#... ..#..
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
  @     A     B     C     D     E     F     G     H     I     J     K     L     M     N     O
.###. .###. ####. .###. ###.. ##### ##### .###. #...# .###. ..### #...# #.... #...# #...# .###.
#...# #...# #...# #...# #..#. #.... #.... #...# #...# ..#.. ...#. #..#. #.... ##.## #...# #...#
....# #...# #...# #.... #...# #.... #.... #.... #...# ..#.. ...#. #.#.. #.... #.#.# ##..# #...#
.##.# ##### ####. #.... #...# ####. ####. #.### ##### ..#.. ...#. ##... #.... #.#.# #.#.# #...#
#.#.# #...# #...# #.... #...# #.... #.... #...# #...# ..#.. ...#. #.#.. #.... #...# #..## #...#
#.#.# #...# #...# #...# #..#. #.... #.... #...# #...# ..#.. #..#. #..#. #.... #...# #...# #...#
.###. #...# ####. .###. ###.. ##### #.... .#### #...# .###. .##.. #...# ##### #...# #...# .###.
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
  P     Q     R     S     T     U     V     W     X     Y     Z     [     \     ]     ^     _
####. .###. ####. .#### ##### #...# #...# #...# #...# #...# ##### .###. #.... .###. ..#.. .....
#...# #...# #...# #.... ..#.. #...# #...# #...# #...# #...# ....# .#... #.... ...#. .#.#. .....
#...# #...# #...# #.... ..#.. #...# #...# #...# .#.#. .#.#. ...#. .#... .#... ...#. #...# .....
####. #...# ####. .###. ..#.. #...# #...# #.#.# ..#.. ..#.. ..#.. .#... ..#.. ...#. ..... .....
#.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.# .#.#. ..#.. .#... .#... ...#. ...#. ..... .....
#.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.# #...# ..#.. #.... .#... ....# ...#. ..... .....
#.... .##.# #...# ####. ..#.. .###. ..#.. .#.#. #...# ..#.. ##### .###. ....# .###. ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... #####
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
  `     a     b     c     d     e     f     g     h     i     j     k     l     m     n     o
.#... ..... #.... ..... ....# ..... ..##. ..... #.... ..#.. ...#. #.... .##.. ..... ..... .....
..#.. ..... #.... ..... ....# ..... .#..# ..... #.... ..... ..... #.... ..#.. ..... ..... .....
...#. .###. #.##. .###. .##.# .###. .#... .#### #.##. .##.. ..##. #..#. ..#.. ##.#. #.##. .###.
..... ....# ##..# #.... #..## #...# ###.. #...# ##..# ..#.. ...#. #.#.. ..#.. #.#.# ##..# #...#
..... .#### #...# #.... #...# ##### .#... #...# #...# ..#.. ...#. ##... ..#.. #.#.# #...# #...#
..... #...# #...# #...# #...# #.... .#... .#### #...# ..#.. ...#. #.#.. ..#.. #.#.# #...# #...#
..... .#### ####. .###. .#### .###. .#... ....# #...# .###. ...#. #..#. .###. #.#.# #...# .###.
..... ..... ..... ..... ..... ..... ..... #...# ..... ..... #..#. ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... .###. ..... ..... .##.. ..... ..... ..... ..... .....
  p     q     r     s     t     u     v     w     x     y     z     {     |     }     ~
..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ...#. ..#.. .#... .....
..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ..#.. ..#.. ..#.. .....
####. .#### #.##. .#### ###.. #...# #...# #...# #...# #...# ##### ..#.. ..#.. ..#.. .#...
#...# #...# ##..# #.... .#... #...# #...# #...# .#.#. #...# ...#. .#... ..#.. ...#. #.#.#
#...# #...# #.... .###. .#... #...# #...# #.#.# ..#.. #...# ..#.. ..#.. ..#.. ..#.. ...#.
####. .#### #.... ....# .#..# #..## .#.#. #.#.# .#.#. .#### .#... ..#.. ..#.. ..#.. .....
#.... ....# #.... ####. ..##. .##.# ..#.. .#.#. #...# ....# ##### ...#. ..#.. .#... .....
#.... ....# ..... ..... ..... ..... ..... ..... ..... #...# ..... ..... ..... ..... .....
#.... ....# ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... ..... ..... .....
"#;

/// Row bitmaps, one `u8` per row, bit 4 = leftmost pixel.
const GLYPHS: [[u8; GLYPH_ROWS]; GLYPH_COUNT] = parse_art(ART.as_bytes());

const fn next_line(art: &[u8], mut pos: usize) -> usize {
    while art[pos] != b'\n' {
        pos += 1;
    }
    pos + 1
}

const fn parse_art(art: &[u8]) -> [[u8; GLYPH_ROWS]; GLYPH_COUNT] {
    let mut glyphs = [[0u8; GLYPH_ROWS]; GLYPH_COUNT];
    // The raw string starts with a newline.
    let mut pos = 1;
    let mut band = 0;
    while band * GLYPHS_PER_BAND < GLYPH_COUNT {
        let first = band * GLYPHS_PER_BAND;
        let mut count = GLYPH_COUNT - first;
        if count > GLYPHS_PER_BAND {
            count = GLYPHS_PER_BAND;
        }
        // The header line must name the glyphs in order, so a shifted picture cannot go unnoticed.
        let mut col = 0;
        while col < count {
            if art[pos + col * 6 + 2] != FIRST + (first + col) as u8 {
                panic!("font art header names the wrong character");
            }
            col += 1;
        }
        pos = next_line(art, pos);
        let mut row = 0;
        while row < GLYPH_ROWS {
            let mut col = 0;
            while col < count {
                let mut bit = 0;
                while bit < GLYPH_WIDTH {
                    match art[pos + col * 6 + bit] {
                        b'#' => glyphs[first + col][row] |= 1 << (GLYPH_WIDTH - 1 - bit),
                        b'.' => {}
                        _ => panic!("font art holds a character other than '.' and '#'"),
                    }
                    bit += 1;
                }
                col += 1;
            }
            pos = next_line(art, pos);
            row += 1;
        }
        band += 1;
    }
    glyphs
}

/// Whether the font has a glyph for this byte (printable ASCII).
pub fn is_printable(byte: u8) -> bool {
    (FIRST..FIRST + GLYPH_COUNT as u8).contains(&byte)
}

/// Calls `plot(x, y)` for every set pixel of `byte`'s glyph, in font pixels relative to the cell's
/// top-left corner. Bytes without a glyph draw a small box, so nothing typed is silently lost.
pub fn for_each_pixel(byte: u8, mut plot: impl FnMut(u16, u16)) {
    const MISSING: [u8; GLYPH_ROWS] = [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f, 0, 0];
    let rows = if is_printable(byte) {
        &GLYPHS[usize::from(byte - FIRST)]
    } else {
        &MISSING
    };
    for (y, bits) in rows.iter().enumerate() {
        for x in 0..GLYPH_WIDTH {
            if bits & (1 << (GLYPH_WIDTH - 1 - x)) != 0 {
                // Both fit in u16: x < 5, y < 9.
                plot(x as u16, y as u16);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_glyph_but_space_has_ink_and_all_differ() {
        assert_eq!(GLYPHS[0], [0; GLYPH_ROWS], "space is blank");
        for (i, glyph) in GLYPHS.iter().enumerate().skip(1) {
            assert_ne!(*glyph, [0; GLYPH_ROWS], "glyph {:#04x} is blank", i + 0x20);
            for (j, other) in GLYPHS.iter().enumerate().skip(i + 1) {
                assert_ne!(
                    glyph,
                    other,
                    "glyphs {:#04x} and {:#04x} look alike",
                    i + 0x20,
                    j + 0x20
                );
            }
        }
    }

    #[test]
    fn letter_shapes_come_out_of_the_art() {
        // 'T': a full top bar, then the middle column.
        assert_eq!(GLYPHS[usize::from(b'T' - FIRST)][0], 0b11111);
        assert_eq!(GLYPHS[usize::from(b'T' - FIRST)][3], 0b00100);
        // 'g' has a descender, 'a' has none.
        assert_ne!(GLYPHS[usize::from(b'g' - FIRST)][7], 0);
        assert_eq!(GLYPHS[usize::from(b'a' - FIRST)][7], 0);
    }
}
