//! The keystroke log of a graphical session (DESIGN §7): X11 keysyms the browser sends, turned
//! into readable text lines with timestamps. Printable characters are kept as typed; special
//! keys are named in brackets (`[Enter]`, `[Ctrl+C]`); a line ends at Enter or after a pause, so
//! a search for "shutdown" finds the line it was typed on. Pure and bounded.

/// A finished line of the log: when its first key was pressed, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLine {
    pub at_ms: u64,
    pub text: String,
}

/// Longest line kept; longer typing is split.
const MAX_LINE_CHARS: usize = 1000;
/// A pause this long without keys ends the line.
const PAUSE_MS: u64 = 5_000;

/// The name of a special key, or `None` for keys that produce text or are modifiers.
fn special_name(keysym: u32) -> Option<&'static str> {
    Some(match keysym {
        0xff0d | 0xff8d => "Enter",
        0xff08 => "BackSpace",
        0xff09 => "Tab",
        0xff1b => "Esc",
        0xffff => "Delete",
        0xff50 => "Home",
        0xff57 => "End",
        0xff51 => "Left",
        0xff52 => "Up",
        0xff53 => "Right",
        0xff54 => "Down",
        0xff55 => "PageUp",
        0xff56 => "PageDown",
        0xff63 => "Insert",
        0xff61 => "Print",
        0xff13 => "Pause",
        0xff22 => "Muhenkan",
        0xff23 => "Henkan",
        0xff27 => "Hiragana_Katakana",
        0xff2a => "Zenkaku_Hankaku",
        0xffbe => "F1",
        0xffbf => "F2",
        0xffc0 => "F3",
        0xffc1 => "F4",
        0xffc2 => "F5",
        0xffc3 => "F6",
        0xffc4 => "F7",
        0xffc5 => "F8",
        0xffc6 => "F9",
        0xffc7 => "F10",
        0xffc8 => "F11",
        0xffc9 => "F12",
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    Ctrl,
    Alt,
    Super,
}

fn modifier(keysym: u32) -> Option<Modifier> {
    match keysym {
        0xffe3 | 0xffe4 => Some(Modifier::Ctrl),
        // Alt and Meta, left and right.
        0xffe7..=0xffea => Some(Modifier::Alt),
        0xffeb | 0xffec => Some(Modifier::Super),
        _ => None,
    }
}

/// Keys that only change what other keys type (Shift, Caps Lock, AltGr, Num Lock): the browser
/// has already applied them to the keysyms that follow, so they add nothing to the log.
fn is_shift_like(keysym: u32) -> bool {
    matches!(keysym, 0xffe1 | 0xffe2 | 0xffe5 | 0xffe6 | 0xfe03 | 0xff7f)
}

/// The character a keysym types: Latin-1 keysyms are their code point, Unicode keysyms are
/// `0x0100_0000 + code point` (X11 convention); shifts are already applied by the browser.
fn character(keysym: u32) -> Option<char> {
    let code = match keysym {
        0x20..=0x7e | 0xa0..=0xff => keysym,
        0x0100_0000..=0x0110_ffff => keysym - 0x0100_0000,
        _ => return None,
    };
    char::from_u32(code).filter(|c| !c.is_control())
}

/// Accumulates key presses into lines.
#[derive(Debug, Default)]
pub struct KeystrokeLog {
    line: String,
    chars: usize,
    started_ms: u64,
    last_ms: u64,
    ctrl: bool,
    alt: bool,
    super_key: bool,
}

impl KeystrokeLog {
    pub fn new() -> KeystrokeLog {
        KeystrokeLog::default()
    }

    fn take(&mut self) -> Option<KeyLine> {
        if self.line.is_empty() {
            return None;
        }
        self.chars = 0;
        Some(KeyLine {
            at_ms: self.started_ms,
            text: std::mem::take(&mut self.line),
        })
    }

    fn push(&mut self, at_ms: u64, text: &str) -> Option<KeyLine> {
        let finished = if self.chars >= MAX_LINE_CHARS {
            self.take()
        } else {
            None
        };
        if self.line.is_empty() {
            self.started_ms = at_ms;
        }
        self.line.push_str(text);
        self.chars += text.chars().count();
        finished
    }

    /// A key event; returns the lines it finished (a pause before it, Enter, or length).
    pub fn key(&mut self, at_ms: u64, keysym: u32, pressed: bool) -> Vec<KeyLine> {
        if let Some(m) = modifier(keysym) {
            match m {
                Modifier::Ctrl => self.ctrl = pressed,
                Modifier::Alt => self.alt = pressed,
                Modifier::Super => self.super_key = pressed,
            }
            return Vec::new();
        }
        if !pressed || is_shift_like(keysym) {
            return Vec::new();
        }
        let mut done = Vec::new();
        if !self.line.is_empty() && at_ms.saturating_sub(self.last_ms) >= PAUSE_MS {
            done.extend(self.take());
        }
        self.last_ms = at_ms;
        let chord = self.ctrl || self.alt || self.super_key;
        let named = special_name(keysym);
        let text = match (chord, named, character(keysym)) {
            (false, None, Some(c)) => c.to_string(),
            (_, name, c) => {
                let key = match (name, c) {
                    (Some(name), _) => name.to_owned(),
                    (None, Some(c)) => c.to_uppercase().collect(),
                    (None, None) => format!("0x{keysym:x}"),
                };
                let mut label = String::from("[");
                for (on, word) in [
                    (self.ctrl, "Ctrl+"),
                    (self.alt, "Alt+"),
                    (self.super_key, "Super+"),
                ] {
                    if on {
                        label.push_str(word);
                    }
                }
                label.push_str(&key);
                label.push(']');
                label
            }
        };
        done.extend(self.push(at_ms, &text));
        if named == Some("Enter") {
            done.extend(self.take());
        }
        done
    }

    /// The line being typed now, if any (it stays in the log).
    pub fn in_progress(&self) -> Option<KeyLine> {
        (!self.line.is_empty()).then(|| KeyLine {
            at_ms: self.started_ms,
            text: self.line.clone(),
        })
    }

    /// The unfinished line, at the session's end.
    pub fn finish(&mut self) -> Option<KeyLine> {
        self.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(log: &mut KeystrokeLog, at: u64, text: &str) -> Vec<KeyLine> {
        let mut out = Vec::new();
        for c in text.chars() {
            let keysym = if (c as u32) < 0x100 {
                c as u32
            } else {
                0x0100_0000 + c as u32
            };
            out.extend(log.key(at, keysym, true));
            out.extend(log.key(at, keysym, false));
        }
        out
    }

    #[test]
    fn shift_keys_add_nothing_to_the_line() {
        let mut log = KeystrokeLog::new();
        for (keysym, pressed) in [
            (0xffe1, true),
            (u32::from(b'E'), true),
            (u32::from(b'E'), false),
            (0xffe1, false),
            (0xfe03, true),
            (u32::from(b'@'), true),
            (0xfe03, false),
            (0xffe5, true),
        ] {
            assert!(log.key(1_000, keysym, pressed).is_empty());
        }
        assert_eq!(log.finish().map(|l| l.text).as_deref(), Some("E@"));
    }

    #[test]
    fn lines_end_at_enter_with_special_keys_named() {
        let mut log = KeystrokeLog::new();
        assert!(typed(&mut log, 1000, "shutdowm").is_empty());
        log.key(1100, 0xff08, true);
        typed(&mut log, 1200, "n -h now");
        let lines = log.key(1300, 0xff0d, true);
        assert_eq!(
            lines,
            vec![KeyLine {
                at_ms: 1000,
                text: "shutdowm[BackSpace]n -h now[Enter]".to_owned()
            }]
        );
    }

    #[test]
    fn chords_japanese_and_pauses() {
        let mut log = KeystrokeLog::new();
        log.key(0, 0xffe3, true);
        log.key(0, u32::from('c'), true);
        log.key(0, 0xffe3, false);
        typed(&mut log, 10, "保守");
        let lines = log.key(10 + PAUSE_MS, u32::from('x'), true);
        assert_eq!(lines[0].text, "[Ctrl+C]保守");
        assert_eq!(log.in_progress().map(|l| l.text).as_deref(), Some("x"));
        assert_eq!(log.finish().map(|l| l.text).as_deref(), Some("x"));
        assert_eq!(log.finish(), None);
        assert_eq!(log.in_progress(), None);
    }

    #[test]
    fn long_typing_is_split_and_bounded() {
        let mut log = KeystrokeLog::new();
        let lines = typed(&mut log, 0, &"a".repeat(MAX_LINE_CHARS * 2 + 5));
        assert_eq!(lines.len(), 2);
        assert!(
            lines
                .iter()
                .all(|l| l.text.chars().count() == MAX_LINE_CHARS)
        );
    }
}
