//! Keys from the browser to the RDP server. guacamole-common-js sends X11 keysyms (`key,keysym,
//! pressed`); RDP wants the set-1 scancode of a physical key on the keyboard the client announced
//! (MS-RDPBCGR 2.2.8.1.2.2.1, TS_FP_KEYBOARD_EVENT), or a UTF-16 code unit for text no key
//! produces (2.2.8.1.2.2.2, TS_FP_UNICODE_KEYBOARD_EVENT). This module makes that choice and
//! remembers it per key held, so a release always undoes exactly what its press did.
//!
//! Facts used below, and where they come from:
//! - keysym values: X11 `keysymdef.h`; which keysyms the browser sends: guacamole-common-js
//!   `Keyboard.js` (`keycodeKeysyms`, `keyidentifier_keysym`, `keysym_from_charcode`).
//! - set-1 scancodes, the E0 (extended) keys and the Japanese keys: Microsoft's "Keyboard Scan
//!   Code Specification" (USB HID usage → set 1: International1 ろ 0x73, International2 かな
//!   0x70, International3 ¥ 0x7D, International4 変換 0x79, International5 無変換 0x7B), the same
//!   table guacamole-server's `base.keymap` and `ja_jp_qwerty.keymap` encode.
//! - the JIS 106/109 printable layout: the OADG 109A legend, as xkeyboard-config `symbols/jp`
//!   (`jp(common)`, `jp(OADG109A)`) and guacamole-server's `ja_jp_qwerty.keymap` both give it.
//!
//! Left out on purpose (they send nothing): Pause, whose set-1 code has the E1 prefix
//! (KBDFLAGS_EXTENDED1) that `ironrdp_input::Scancode` cannot carry (Ctrl+Pause, Break, is
//! E0 46 and works); F13–F24, KP_F1–KP_F4 and Hyper, which neither announced keyboard has;
//! legacy keysym blocks other than katakana (Cyrillic, Greek …), which guacamole-common-js
//! never sends since it writes every code point above 0xFF as a Unicode keysym.

use std::fmt;
use std::str::FromStr;

use ironrdp_input::{Operation, Scancode};
use ironrdp_pdu::gcc::KeyboardType;

/// The keyboard the RDP server is told the client has; it decides which scancode types which
/// character. The server's own input language should match it (as with any RDP client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// US English, IBM enhanced 101/102-key keyboard.
    Us,
    /// Japanese JIS 106/109-key keyboard (OADG 109A).
    Jis,
}

/// A layout name that is not one of ours (in configuration files).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown keyboard layout {0:?}: the allowed values are \"us\" and \"jis\"")]
pub struct UnknownLayout(String);

impl FromStr for Layout {
    type Err = UnknownLayout;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "us" => Ok(Self::Us),
            "jis" => Ok(Self::Jis),
            other => Err(UnknownLayout(other.to_owned())),
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Us => "us",
            Self::Jis => "jis",
        })
    }
}

impl Layout {
    /// TS_UD_CS_CORE `keyboardLayout` (MS-RDPBCGR 2.2.1.3.2): the input locale identifier,
    /// 0x0409 en-US, 0x0411 ja-JP.
    pub fn keyboard_layout(self) -> u32 {
        match self {
            Self::Us => 0x0409,
            Self::Jis => 0x0411,
        }
    }

    /// TS_UD_CS_CORE `keyboardType` (MS-RDPBCGR 2.2.1.3.2; the values of Win32
    /// `GetKeyboardType`): 4 = IBM enhanced 101/102-key, 7 = Japanese. Windows only loads the
    /// 106/109-key scancode table (kbd106: 半角/全角, 変換, ¥, ろ …) for type 7; with type 4 and
    /// layout 0x0411 those keys type the wrong characters.
    pub fn keyboard_type(self) -> KeyboardType {
        match self {
            Self::Us => KeyboardType::IBM_ENHANCED,
            Self::Jis => KeyboardType::JAPANESE,
        }
    }

    /// TS_UD_CS_CORE `keyboardSubType`, an OEM value. For the Japanese 106/109-key keyboard
    /// Windows uses 2: the i8042prt override for it is `OverrideKeyboardType` 7 with
    /// `OverrideKeyboardSubtype` 2 (`PCAT_106KEY`), and FreeRDP announces type 7 / subtype 2 for
    /// 0x0411 layouts. 0 (none) for the US keyboard, as mstsc and IronRDP send.
    pub fn keyboard_subtype(self) -> u32 {
        match self {
            Self::Us => 0,
            Self::Jis => 2,
        }
    }

    /// TS_UD_CS_CORE `keyboardFunctionKey`: F1–F12 on both keyboards.
    pub fn function_key_count(self) -> u32 {
        12
    }

    /// The key that types `c` on this layout, and whether Shift must be held for it; `None`
    /// when no key types it. Letters and space type with or without Shift (case follows
    /// Shift and Caps Lock on the server), so they report `Shift::Either`.
    fn key_for(self, c: char) -> Option<(u8, Shift)> {
        use Shift::{Either, No, Yes};
        // The letter block is QWERTY on both keyboards.
        if let Some(code) = letter_scancode(c.to_ascii_lowercase()) {
            return Some((code, Either));
        }
        Some(match (self, c) {
            (_, ' ') => (0x39, Either),
            (_, '1'..='9') => (0x02 + (c as u8 - b'1'), No),
            (_, '0') => (0x0B, No),
            (_, ',') => (0x33, No),
            (_, '<') => (0x33, Yes),
            (_, '.') => (0x34, No),
            (_, '>') => (0x34, Yes),
            (_, '/') => (0x35, No),
            (_, '?') => (0x35, Yes),
            (_, '-') => (0x0C, No),
            (_, '!') => (0x02, Yes),
            (_, '#') => (0x04, Yes),
            (_, '$') => (0x05, Yes),
            (_, '%') => (0x06, Yes),

            // US 101/102: the top row shifts to !@#$%^&*(), and the punctuation keys carry
            // two ASCII characters each.
            (Self::Us, '@') => (0x03, Yes),
            (Self::Us, '^') => (0x07, Yes),
            (Self::Us, '&') => (0x08, Yes),
            (Self::Us, '*') => (0x09, Yes),
            (Self::Us, '(') => (0x0A, Yes),
            (Self::Us, ')') => (0x0B, Yes),
            (Self::Us, '_') => (0x0C, Yes),
            (Self::Us, '=') => (0x0D, No),
            (Self::Us, '+') => (0x0D, Yes),
            (Self::Us, '[') => (0x1A, No),
            (Self::Us, '{') => (0x1A, Yes),
            (Self::Us, ']') => (0x1B, No),
            (Self::Us, '}') => (0x1B, Yes),
            (Self::Us, ';') => (0x27, No),
            (Self::Us, ':') => (0x27, Yes),
            (Self::Us, '\'') => (0x28, No),
            (Self::Us, '"') => (0x28, Yes),
            (Self::Us, '`') => (0x29, No),
            (Self::Us, '~') => (0x29, Yes),
            (Self::Us, '\\') => (0x2B, No),
            (Self::Us, '|') => (0x2B, Yes),

            // JIS 106/109 (OADG 109A): Shift+2..9 are "&'() shifted one key left of US, the
            // right of the top row is - ^ ¥, @ and [ follow P, ; : ] follow L, and ろ follows /.
            // Shift+0 types nothing.
            (Self::Jis, '"') => (0x03, Yes),
            (Self::Jis, '&') => (0x07, Yes),
            (Self::Jis, '\'') => (0x08, Yes),
            (Self::Jis, '(') => (0x09, Yes),
            (Self::Jis, ')') => (0x0A, Yes),
            (Self::Jis, '=') => (0x0C, Yes),
            (Self::Jis, '^') => (0x0D, No),
            (Self::Jis, '~') => (0x0D, Yes),
            // The ¥ key: Windows' Japanese layout types U+005C on it (shown as ¥ in Japanese
            // fonts), so both the backslash and the yen keysym (a Mac JIS keyboard sends U+00A5)
            // go here. The ろ key types U+005C too; one key for one character keeps a release
            // unambiguous, and Shift+ろ is still the only `_`.
            (Self::Jis, '\\' | '¥') => (0x7D, No),
            (Self::Jis, '|') => (0x7D, Yes),
            (Self::Jis, '@') => (0x1A, No),
            (Self::Jis, '`') => (0x1A, Yes),
            (Self::Jis, '[') => (0x1B, No),
            (Self::Jis, '{') => (0x1B, Yes),
            (Self::Jis, ';') => (0x27, No),
            (Self::Jis, '+') => (0x27, Yes),
            (Self::Jis, ':') => (0x28, No),
            (Self::Jis, '*') => (0x28, Yes),
            (Self::Jis, ']') => (0x2B, No),
            (Self::Jis, '}') => (0x2B, Yes),
            (Self::Jis, '_') => (0x73, Yes),
            _ => return None,
        })
    }
}

/// Whether a character needs Shift on its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shift {
    No,
    Yes,
    Either,
}

/// Set-1 scancodes of the QWERTY letter block.
fn letter_scancode(c: char) -> Option<u8> {
    const ROWS: [(&str, u8); 3] = [("qwertyuiop", 0x10), ("asdfghjkl", 0x1E), ("zxcvbnm", 0x2C)];
    ROWS.iter().find_map(|(row, first)| {
        let column = row.chars().position(|letter| letter == c)?;
        // INVARIANT: rows are at most 10 letters, so the sum stays below 0x36.
        Some(first + u8::try_from(column).ok()?)
    })
}

/// What a key press sent, so its release can send the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Key(Scancode),
    Unicode(char),
}

impl Sent {
    fn press(self) -> Operation {
        match self {
            Self::Key(code) => Operation::KeyPressed(code),
            Self::Unicode(c) => Operation::UnicodeKeyPressed(c),
        }
    }

    fn release(self) -> Operation {
        match self {
            Self::Key(code) => Operation::KeyReleased(code),
            Self::Unicode(c) => Operation::UnicodeKeyReleased(c),
        }
    }
}

const fn plain(code: u8) -> Sent {
    Sent::Key(Scancode::from_u8(false, code))
}

/// Keys with the E0 prefix in set 1 (MS-RDPBCGR 2.2.8.1.2.2.1: KBDFLAGS_EXTENDED).
const fn extended(code: u8) -> Sent {
    Sent::Key(Scancode::from_u8(true, code))
}

/// Keys that type no character: editing, navigation, modifiers, locks, function keys and the
/// keypad, by keysym (X11 keysymdef.h). `None` for keysyms that are not such a key.
fn function_key(layout: Layout, keysym: u32) -> Option<Sent> {
    Some(match keysym {
        0xFF08 => plain(0x0E),          // BackSpace
        0xFF09 | 0xFE20 => plain(0x0F), // Tab, ISO_Left_Tab (X's name for Shift+Tab)
        0xFF0B => plain(0x4C),          // Clear: keypad 5 without Num Lock
        0xFF0D => plain(0x1C),          // Return
        0xFF14 => plain(0x46),          // Scroll_Lock
        0xFF15 => plain(0x54),          // Sys_Req: Alt+Print sends 0x54, not E0 37
        0xFF1B => plain(0x01),          // Escape
        0xFF50 => extended(0x47),       // Home
        0xFF51 => extended(0x4B),       // Left
        0xFF52 => extended(0x48),       // Up
        0xFF53 => extended(0x4D),       // Right
        0xFF54 => extended(0x50),       // Down
        0xFF55 => extended(0x49),       // Prior (Page Up)
        0xFF56 => extended(0x51),       // Next (Page Down)
        0xFF57 => extended(0x4F),       // End
        0xFF61 => extended(0x37),       // Print
        0xFF63 => extended(0x52),       // Insert
        0xFF67 => extended(0x5D),       // Menu (the application key)
        0xFF6B => extended(0x46),       // Break: Ctrl+Pause sends E0 46
        0xFF7F => plain(0x45),          // Num_Lock
        0xFFFF => extended(0x53),       // Delete

        // Keypad (0xFF80–0xFFBD). The digits and their navigation twins share keys; what
        // they do follows the server's Num Lock.
        0xFF80 => plain(0x39),          // KP_Space
        0xFF89 => plain(0x0F),          // KP_Tab
        0xFF8D => extended(0x1C),       // KP_Enter
        0xFF95 | 0xFFB7 => plain(0x47), // KP_Home, KP_7
        0xFF96 | 0xFFB4 => plain(0x4B), // KP_Left, KP_4
        0xFF97 | 0xFFB8 => plain(0x48), // KP_Up, KP_8
        0xFF98 | 0xFFB6 => plain(0x4D), // KP_Right, KP_6
        0xFF99 | 0xFFB2 => plain(0x50), // KP_Down, KP_2
        0xFF9A | 0xFFB9 => plain(0x49), // KP_Prior, KP_9
        0xFF9B | 0xFFB3 => plain(0x51), // KP_Next, KP_3
        0xFF9C | 0xFFB1 => plain(0x4F), // KP_End, KP_1
        0xFF9D | 0xFFB5 => plain(0x4C), // KP_Begin, KP_5
        0xFF9E | 0xFFB0 => plain(0x52), // KP_Insert, KP_0
        0xFF9F | 0xFFAE => plain(0x53), // KP_Delete, KP_Decimal
        0xFFAA => plain(0x37),          // KP_Multiply
        0xFFAB => plain(0x4E),          // KP_Add
        0xFFAC => Sent::Unicode(','),   // KP_Separator: no such key on either keyboard
        0xFFAD => plain(0x4A),          // KP_Subtract
        0xFFAF => extended(0x35),       // KP_Divide
        0xFFBD => Sent::Unicode('='),   // KP_Equal: no such key on either keyboard
        // F1–F10 are consecutive, F11 and F12 were added later elsewhere.
        0xFFBE..=0xFFC7 => plain(0x3B + (keysym - 0xFFBE) as u8),
        0xFFC8 => plain(0x57), // F11
        0xFFC9 => plain(0x58), // F12

        // Modifiers. guacamole-common-js sends the Windows keys as Meta_L/Meta_R (DOM "Meta",
        // keyCode 91/92) and older versions as Super_L/Super_R; both are E0 5B / E0 5C.
        0xFFE1 => plain(0x2A),    // Shift_L
        0xFFE2 => plain(0x36),    // Shift_R
        0xFFE3 => plain(0x1D),    // Control_L
        0xFFE4 => extended(0x1D), // Control_R
        // Caps_Lock. On JIS this key is 英数 without Shift, so a US keyboard's Caps Lock reaches a
        // JIS server as 英数 unless Shift is held, as on a real JIS keyboard.
        0xFFE5 => plain(0x3A),
        0xFFE7 | 0xFFEB => extended(0x5B), // Meta_L, Super_L
        0xFFE8 | 0xFFEC => extended(0x5C), // Meta_R, Super_R
        0xFFE9 => plain(0x38),             // Alt_L
        0xFFEA | 0xFE03 => extended(0x38), // Alt_R, ISO_Level3_Shift (AltGr is right Alt)

        // The keys only the JIS 106/109 keyboard has. Browsers name them differently
        // (guacamole-common-js: "Zenkaku"/"Hankaku"/"ZenkakuHankaku"/"KanjiMode", "Convert",
        // "NonConvert", "Hiragana"/"Katakana"/"HiraganaKatakana"/"Romaji"/"KanaMode",
        // "Alphanumeric"; Windows alternates between two names on one key as the IME state
        // changes), so every name a key can have maps to that key.
        0xFF21 | 0xFF28 | 0xFF29 | 0xFF2A if layout == Layout::Jis => plain(0x29), // 半角/全角
        0xFF22 if layout == Layout::Jis => plain(0x7B), // Muhenkan 無変換
        0xFF23 if layout == Layout::Jis => plain(0x79), // Henkan_Mode 変換
        // Romaji, Hiragana, Katakana, Hiragana_Katakana, Kana_Lock: カタカナ/ひらがな/ローマ字.
        0xFF24..=0xFF27 | 0xFF2D if layout == Layout::Jis => plain(0x70),
        // Eisu_toggle 英数 is the Caps Lock key's own legend on JIS: unshifted it is 英数, with
        // Shift it is Caps Lock (xkb jp: CAPS [Eisu_toggle, Caps_Lock]). The browser sends
        // Shift separately, so the key alone is right for both.
        0xFF30 if layout == Layout::Jis => plain(0x3A),
        _ => return None,
    })
}

/// Katakana keysyms 0x04A1–0x04DF in order (X11 keysymdef.h, "Katakana, Byte 3 = 4": the JIS X
/// 0201 katakana, each given there with its full-width Unicode character).
const KANA_KEYSYMS: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン゛゜";

/// The character a keysym types, if it types one: Latin-1 keysyms are their code point,
/// Unicode keysyms are 0x0100_0000 + code point (keysymdef.h; guacamole-common-js
/// `keysym_from_charcode` produces only these two kinds), and the legacy katakana block.
/// Control characters type nothing here: their keys are function keys.
fn keysym_char(keysym: u32) -> Option<char> {
    let code = match keysym {
        0x20..=0x7E | 0xA0..=0xFF => keysym,
        0x047E => 0x203E, // overline
        0x04A1..=0x04DF => {
            let index = usize::try_from(keysym - 0x04A1).ok()?;
            return KANA_KEYSYMS.chars().nth(index);
        }
        0x0100_0000..=0x0110_FFFF => match keysym - 0x0100_0000 {
            0..=0x1F | 0x7F..=0x9F => return None,
            code => code,
        },
        _ => return None,
    };
    char::from_u32(code)
}

/// Most keys held at once. People have ten fingers and keyboards report a few more with
/// n-key rollover; the bound keeps a hostile browser from growing the map (and the server's
/// key state) without limit. Presses beyond it are dropped.
const MAX_KEYS_DOWN: usize = 32;

/// Keyboard state of one session: the layout announced to the server, and for every keysym
/// the browser holds down, what its press sent.
#[derive(Debug, Clone)]
pub struct Keyboard {
    layout: Layout,
    /// In press order. INVARIANT: one entry per keysym, at most `MAX_KEYS_DOWN` entries.
    down: Vec<(u32, Sent)>,
}

impl Keyboard {
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            down: Vec::new(),
        }
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether any key is held down.
    pub fn any_down(&self) -> bool {
        !self.down.is_empty()
    }

    /// One `key` event from the browser, as the operation to apply to the server's input
    /// state, or `None` when there is nothing to send.
    ///
    /// A printable character goes out as the key that types it on the layout, provided the
    /// Shift state the browser reported (its Shift_L/Shift_R keysyms) is the one that key
    /// needs: a US keyboard typing `:` (Shift+;) at a JIS server holds Shift, but `:` is the
    /// unshifted key 0x28 there and Shift+0x28 would type `*`. Such characters, and those no
    /// key types (é, kana, kanji, ¥ on US), go out as Unicode instead, which types exactly the
    /// character whatever the modifiers. Letters and space always go out as keys, so Ctrl+C
    /// and Shift+letter keep working.
    ///
    /// A release sends what the press of the same keysym sent, even if Shift changed in
    /// between. A release of a keysym that is not down sends nothing: the press was never
    /// sent (unknown keysym, or dropped), so the server has nothing to release.
    pub fn key(&mut self, keysym: u32, pressed: bool) -> Option<Operation> {
        if pressed {
            // The browser's key repeat: press again what the first press sent.
            if let Some((_, sent)) = self.down.iter().find(|(held, _)| *held == keysym) {
                return Some(sent.press());
            }
            if self.down.len() >= MAX_KEYS_DOWN {
                return None;
            }
            let sent = self.resolve(keysym)?;
            self.down.push((keysym, sent));
            Some(sent.press())
        } else {
            let index = self.down.iter().position(|(held, _)| *held == keysym)?;
            let (_, sent) = self.down.remove(index);
            // Two keysyms can share a key (Alt_R and ISO_Level3_Shift); the key stays down
            // until the last of them is released.
            if self.down.iter().any(|(_, other)| *other == sent) {
                return None;
            }
            Some(sent.release())
        }
    }

    /// Releases every key held, last pressed first (modifiers, usually pressed first, go up
    /// last), for when the session ends or the browser loses focus.
    pub fn release_all(&mut self) -> Vec<Operation> {
        let mut released: Vec<Sent> = Vec::with_capacity(self.down.len());
        for (_, sent) in self.down.drain(..).rev() {
            if !released.contains(&sent) {
                released.push(sent);
            }
        }
        released.into_iter().map(Sent::release).collect()
    }

    fn shift_held(&self) -> bool {
        self.down
            .iter()
            .any(|(keysym, _)| matches!(keysym, 0xFFE1 | 0xFFE2))
    }

    fn resolve(&self, keysym: u32) -> Option<Sent> {
        if let Some(sent) = function_key(self.layout, keysym) {
            return Some(sent);
        }
        let c = keysym_char(keysym)?;
        Some(match self.layout.key_for(c) {
            Some((code, Shift::Either)) => plain(code),
            Some((code, Shift::Yes)) if self.shift_held() => plain(code),
            Some((code, Shift::No)) if !self.shift_held() => plain(code),
            _ => Sent::Unicode(c),
        })
    }
}

#[cfg(test)]
mod tests;
