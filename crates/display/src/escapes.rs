//! What a target's output may make the browser's terminal do. The gateway hands an SSH target's
//! bytes to xterm.js; a hostile target controls them. [`EscapeFilter`] sits between the two,
//! streaming (a sequence may be split anywhere between reads) with bounded state, and:
//!
//! - drops OSC 52 (xterm ctlseqs "Manipulate Selection Data": set or read the clipboard) unless
//!   the target's policy lets text out to the browser;
//! - drops xterm window operations (`CSI Ps ; Ps ; Ps t`, XTWINOPS: move, resize, iconify,
//!   report): a target has no business with the user's browser window;
//! - clamps every numeric CSI parameter to [`MAX_PARAM`] (ECMA-48 §5.4.2 sets no bound; a
//!   `CSI 4294967296 b`, REP, would have the browser repeat a character four billion times);
//! - drops a control string (OSC, DCS; ECMA-48 §5.6) longer than [`MAX_STRING`] whole, and
//!   SOS, PM and APC strings always (xterm.js ignores them): a 10 MB title or an endless sixel
//!   image never reaches the browser, and the filter never holds more than that much.
//!
//! Everything else passes unchanged: text (valid or not; the browser decodes UTF-8 itself),
//! C0 controls, and the other escape and control sequences. The C1 forms of the introducers
//! (U+009B CSI, U+009D OSC …, UTF-8 `C2 9B` …) are treated as their 7-bit forms, since xterm.js
//! acts on them too.

/// The largest numeric CSI parameter passed on: more than any row, column or repeat a screen of
/// at most 1000×1000 cells needs, and more than any mode number (DEC private modes are ≤ 9999).
pub const MAX_PARAM: u32 = 9999;
/// The longest control string passed on: OSC titles, hyperlinks (OSC 8) and DCS requests fit.
pub const MAX_STRING: usize = 4096;
/// The longest OSC 52 passed on when copying out is allowed (base64 of 48 KiB of text).
pub const MAX_CLIPBOARD: usize = 64 * 1024;
/// Parameter and intermediate bytes of one CSI sequence kept; a longer one is dropped.
const MAX_CSI: usize = 256;

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;
const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;
/// The lead byte of the UTF-8 encoding of the C1 controls U+0080..U+009F.
const C1_LEAD: u8 = 0xc2;

/// Which control string is being read (ECMA-48 §8.3.27 DCS, §8.3.89 OSC, §8.3.128 SOS, §8.3.94
/// PM, §8.3.2 APC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Osc,
    Dcs,
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// `C2` seen in the ground state: a C1 control may follow.
    GroundC1,
    Esc,
    Csi,
    /// A CSI sequence longer than [`MAX_CSI`]: skipped to its final byte.
    CsiSkip,
    Str {
        kind: Kind,
        dropped: bool,
    },
    /// ESC inside a control string: `\` ends it (ST).
    StrEsc {
        kind: Kind,
        dropped: bool,
    },
    /// `C2` inside a control string: `9C` ends it (ST).
    StrC1 {
        kind: Kind,
        dropped: bool,
    },
}

/// The streaming filter of one terminal session's output.
#[derive(Debug)]
pub struct EscapeFilter {
    copy_out: bool,
    state: State,
    /// How the sequence being read was introduced (`ESC [` or `C2 9B` …), as received.
    intro: Vec<u8>,
    /// INVARIANT: at most [`MAX_CSI`] bytes in a CSI sequence and [`MAX_CLIPBOARD`] in a
    /// control string; cleared when a string is dropped.
    held: Vec<u8>,
}

impl EscapeFilter {
    /// `copy_out`: whether the target's clipboard policy lets text out to the browser (OSC 52).
    pub fn new(copy_out: bool) -> EscapeFilter {
        EscapeFilter {
            copy_out,
            state: State::Ground,
            intro: Vec::new(),
            held: Vec::new(),
        }
    }

    /// What of `input` goes on to the browser; a sequence not yet complete waits in the filter.
    pub fn filter(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            self.byte(b, &mut out);
        }
        out
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.state {
            State::Ground => match b {
                ESC => self.state = State::Esc,
                C1_LEAD => self.state = State::GroundC1,
                _ => out.push(b),
            },
            State::GroundC1 => {
                self.state = State::Ground;
                match c1_introducer(b) {
                    Some(intro) => self.begin(&[C1_LEAD, b], intro),
                    None => {
                        out.push(C1_LEAD);
                        self.byte(b, out);
                    }
                }
            }
            State::Esc => {
                self.state = State::Ground;
                match b {
                    b'[' | b']' | b'P' | b'X' | b'^' | b'_' => self.begin(&[ESC, b], b),
                    ESC => {
                        out.push(ESC);
                        self.state = State::Esc;
                    }
                    // VT500 parser (as xterm.js): C0 controls are executed in the escape
                    // state and DEL is ignored, without ending it. Passing `ESC BEL` on and
                    // then `[` as text would let the browser read a CSI the filter never saw,
                    // so the filter stays in the escape state too.
                    CAN | SUB => out.push(b),
                    0x00..=0x1f => {
                        out.push(b);
                        self.state = State::Esc;
                    }
                    0x7f => self.state = State::Esc,
                    // A C1 control ends the escape sequence wherever it comes ("anywhere"
                    // transitions); the ESC before it does nothing.
                    C1_LEAD => self.state = State::GroundC1,
                    _ => out.extend_from_slice(&[ESC, b]),
                }
            }
            State::Csi => match b {
                0x20..=0x3f if self.held.len() < MAX_CSI => self.held.push(b),
                0x20..=0x3f => {
                    self.held = Vec::new();
                    self.state = State::CsiSkip;
                }
                0x40..=0x7e => {
                    self.state = State::Ground;
                    self.end_csi(b, out);
                }
                _ => self.abort(b, out),
            },
            State::CsiSkip => match b {
                0x20..=0x3f => {}
                0x40..=0x7e => self.state = State::Ground,
                _ => self.abort(b, out),
            },
            State::Str { kind, dropped } => match b {
                BEL if kind == Kind::Osc => self.end_string(&[BEL], dropped, out),
                ESC => self.state = State::StrEsc { kind, dropped },
                C1_LEAD => self.state = State::StrC1 { kind, dropped },
                CAN | SUB => self.drop_string(),
                _ => self.hold(kind, dropped, b),
            },
            State::StrEsc { dropped, .. } => {
                if b == b'\\' {
                    self.end_string(&[ESC, b'\\'], dropped, out);
                } else {
                    // ECMA-48 §5.6: a string ends only at ST; an escape sequence inside it ends
                    // it unfinished in xterm, and the escape sequence counts.
                    self.drop_string();
                    self.byte(ESC, out);
                    self.byte(b, out);
                }
            }
            State::StrC1 { kind, dropped } => match b {
                0x9c => self.end_string(&[C1_LEAD, b], dropped, out),
                // Any other C1 control ends the string unfinished in xterm.js ("anywhere"
                // transitions), and may begin a sequence of its own (`C2 9D` inside a title
                // is a new OSC): the string is dropped and the control read as in text.
                0x80..=0x9f => {
                    self.drop_string();
                    self.state = State::GroundC1;
                    self.byte(b, out);
                }
                _ => {
                    // A character of the string's text (U+00A0…U+00BF).
                    self.state = State::Str { kind, dropped };
                    self.hold(kind, dropped, C1_LEAD);
                    self.byte(b, out);
                }
            },
        }
    }

    /// A sequence introduced by `intro_bytes` (as received), whose 7-bit final is `intro`.
    fn begin(&mut self, intro_bytes: &[u8], intro: u8) {
        self.intro.clear();
        self.intro.extend_from_slice(intro_bytes);
        self.held.clear();
        self.state = match intro {
            b'[' => State::Csi,
            b']' => State::Str {
                kind: Kind::Osc,
                dropped: false,
            },
            b'P' => State::Str {
                kind: Kind::Dcs,
                dropped: false,
            },
            _ => State::Str {
                kind: Kind::Ignored,
                dropped: true,
            },
        };
    }

    /// A CSI sequence interrupted: C0 controls are executed in its middle (VT500 parser), so
    /// they pass and the sequence goes on; ESC starts a new sequence; CAN and SUB cancel it;
    /// anything else ends it unfinished.
    fn abort(&mut self, b: u8, out: &mut Vec<u8>) {
        match b {
            CAN | SUB => {
                self.held.clear();
                self.state = State::Ground;
            }
            ESC => {
                self.held.clear();
                self.state = State::Esc;
            }
            0x00..=0x1f => out.push(b),
            0x7f => {}
            _ => {
                self.held.clear();
                self.state = State::Ground;
                self.byte(b, out);
            }
        }
    }

    fn end_csi(&mut self, final_byte: u8, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held);
        // xterm ctlseqs, XTWINOPS: `CSI Ps ; Ps ; Ps t` without private marker or intermediate
        // manipulates or reports the window (sub-parameters with `:` included).
        let plain = held
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b';' || *b == b':');
        if final_byte == b't' && plain {
            return;
        }
        out.extend_from_slice(&self.intro);
        let mut digits = 0u64;
        let mut in_number = false;
        for &b in &held {
            if b.is_ascii_digit() {
                digits = digits
                    .saturating_mul(10)
                    .saturating_add(u64::from(b - b'0'));
                in_number = true;
                continue;
            }
            if in_number {
                push_number(out, digits);
                (digits, in_number) = (0, false);
            }
            out.push(b);
        }
        if in_number {
            push_number(out, digits);
        }
        out.push(final_byte);
        self.held = held;
        self.held.clear();
    }

    fn hold(&mut self, kind: Kind, dropped: bool, b: u8) {
        if dropped {
            return;
        }
        let limit = if kind == Kind::Osc && self.copy_out && is_clipboard(&self.held) {
            MAX_CLIPBOARD
        } else {
            MAX_STRING
        };
        if self.held.len() < limit {
            self.held.push(b);
        } else {
            // Too long: the whole string is dropped, and its memory freed now.
            self.held = Vec::new();
            self.state = State::Str {
                kind,
                dropped: true,
            };
        }
    }

    fn end_string(&mut self, terminator: &[u8], dropped: bool, out: &mut Vec<u8>) {
        let kind = match self.state {
            State::Str { kind, .. } | State::StrEsc { kind, .. } | State::StrC1 { kind, .. } => {
                kind
            }
            _ => Kind::Ignored,
        };
        self.state = State::Ground;
        let refused = dropped
            || kind == Kind::Ignored
            || (kind == Kind::Osc && is_clipboard(&self.held) && !self.copy_out);
        if !refused {
            out.extend_from_slice(&self.intro);
            out.extend_from_slice(&self.held);
            out.extend_from_slice(terminator);
        }
        self.held.clear();
        if self.held.capacity() > MAX_STRING {
            self.held = Vec::new();
        }
    }

    fn drop_string(&mut self) {
        self.held = Vec::new();
        self.state = State::Ground;
    }
}

/// The 7-bit final of a C1 control that introduces a sequence the filter reads (`9B` CSI, `9D`
/// OSC, `90` DCS, `98` SOS, `9E` PM, `9F` APC; ECMA-48 §5.3).
fn c1_introducer(b: u8) -> Option<u8> {
    match b {
        0x9b | 0x9d | 0x90 | 0x98 | 0x9e | 0x9f => Some(b - 0x40),
        _ => None,
    }
}

/// Whether an OSC's text is xterm's "Manipulate Selection Data" (`52;…`). The terminal reads
/// the number as a number, so `052;…` is the same command.
fn is_clipboard(text: &[u8]) -> bool {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, rest) = text.split_at(digits);
    let number = &number[number.iter().take_while(|&&b| b == b'0').count()..];
    number == b"52" && (rest.is_empty() || rest[0] == b';')
}

fn push_number(out: &mut Vec<u8>, value: u64) {
    let clamped = value.min(u64::from(MAX_PARAM));
    out.extend_from_slice(clamped.to_string().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` through a new filter, split into pieces of every size from 1 to 7: the output
    /// must not depend on how the bytes arrive.
    fn through(copy_out: bool, input: &[u8]) -> Vec<u8> {
        let whole = EscapeFilter::new(copy_out).filter(input);
        for size in 1..8 {
            let mut filter = EscapeFilter::new(copy_out);
            let split: Vec<u8> = input.chunks(size).flat_map(|c| filter.filter(c)).collect();
            assert_eq!(split, whole, "pieces of {size}");
        }
        whole
    }

    #[test]
    fn text_controls_and_ordinary_sequences_pass_unchanged() {
        let plain: &[&[u8]] = &[
            b"hello\r\n\x07\x08\t",
            "日本語 é\u{a0}".as_bytes(),
            b"\xff\xfe invalid utf-8 \xc3",
            b"\x1b[1;31mred\x1b[0m \x1b[?1049h\x1b[?1049l \x1b[2J\x1b[H",
            b"\x1b7\x1b8 \x1b(B \x1bc \x1b[38:2::10:20:30m",
            b"\x1b]0;user@host: ~\x07 \x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\",
            b"\x1bP$qm\x1b\\",
            b"\x1b[?2004h \x1b[9999;9999H",
        ];
        for input in plain {
            assert_eq!(through(false, input), *input, "{input:?}");
        }
    }

    #[test]
    fn clipboard_writes_pass_only_when_copying_out_is_allowed() {
        let set = b"a\x1b]52;c;aG9zaHU=\x07b\x1b]52;c;?\x1b\\c\xc2\x9d52;p;eA==\xc2\x9cd";
        assert_eq!(through(false, set), b"abcd");
        assert_eq!(through(true, set), set);
    }

    #[test]
    fn window_operations_are_dropped_and_huge_parameters_clamped() {
        assert_eq!(
            through(false, b"a\x1b[8;9999;9999tb\x1b[3;0;0t\x1b[18tc"),
            b"abc"
        );
        // Private or intermediate forms of `t` are other functions (DECSWBV is `CSI Ps SP t`).
        assert_eq!(through(false, b"\x1b[5 t"), b"\x1b[5 t");
        assert_eq!(
            through(
                false,
                b"\x1b[99999999;99999999H\x1b[4294967296b\xc2\x9b00012X"
            ),
            b"\x1b[9999;9999H\x1b[9999b\xc2\x9b12X"
        );
    }

    #[test]
    fn overlong_strings_are_dropped_whole_with_bounded_memory() {
        let mut filter = EscapeFilter::new(false);
        let mut out = filter.filter(b"before\x1b]2;");
        for _ in 0..1000 {
            out.extend(filter.filter(&[b'T'; 10_000]));
            assert!(filter.held.capacity() <= 2 * MAX_CLIPBOARD);
        }
        out.extend(filter.filter(b"\x07after"));
        assert_eq!(out, b"beforeafter");

        let mut sixel = b"x\x1bPq#0;2;0;0;0".to_vec();
        sixel.extend(std::iter::repeat_n(b'~', 100_000));
        sixel.extend_from_slice(b"\x1b\\y");
        assert_eq!(through(false, &sixel), b"xy");

        let mut csi = b"x\x1b[".to_vec();
        csi.extend(std::iter::repeat_n(b'1', 100_000));
        csi.extend_from_slice(b"my");
        assert_eq!(through(false, &csi), b"xy");
    }

    #[test]
    fn controls_inside_sequences_cannot_smuggle_one_past_the_filter() {
        // A C0 control after ESC is executed without ending the escape sequence.
        assert_eq!(through(false, b"a\x1b\x07[8;1;1tb"), b"a\x07b");
        assert_eq!(through(false, b"a\x1b\x7f]52;c;eA==\x07b"), b"ab");
        // A C1 control after ESC begins its own sequence.
        assert_eq!(through(false, b"a\x1b\xc2\x9b8;1;1tb"), b"ab");
        // A C1 control inside a string ends it; the one that begins a sequence counts.
        assert_eq!(
            through(
                false,
                b"a\x1b]0;t\xc2\x9d52;c;eA==\x07b\x1b]0;u\xc2\x9b8;1;1tc"
            ),
            b"abc"
        );
        // Text inside a string with the same lead byte stays text.
        assert_eq!(
            through(false, "\x1b]0;±°\x07".as_bytes()),
            "\x1b]0;±°\x07".as_bytes()
        );
        // Leading zeros and sub-parameters do not disguise what a sequence is.
        assert_eq!(through(false, b"a\x1b]052;c;eA==\x07b\x1b[8:1:1tc"), b"abc");
        assert_eq!(through(false, b"\x1b]520;x\x07"), b"\x1b]520;x\x07");
    }

    #[test]
    fn strings_that_are_never_shown_are_dropped_and_cancelled_ones_too() {
        assert_eq!(
            through(false, b"a\x1bXsos\x1b\\b\x1b^pm\x1b\\c\x1b_apc\x1b\\d"),
            b"abcd"
        );
        assert_eq!(through(false, b"a\x1b]0;title\x18b"), b"ab");
        // ESC inside a string ends it; the escape sequence that follows counts.
        assert_eq!(through(false, b"a\x1b]0;t\x1b[1mb"), b"a\x1b[1mb");
    }
}
