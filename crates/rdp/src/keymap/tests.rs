//! The keymap's tables, checked key by key against the layouts (see keymap.rs for sources).

use ironrdp_input::Database;
use proptest::prelude::*;

use super::*;

/// `Operation` has no `PartialEq`; keyboard operations in a comparable form.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Down(bool, u8),
    Up(bool, u8),
    TextDown(char),
    TextUp(char),
}

fn op(operation: Operation) -> Op {
    match operation {
        Operation::KeyPressed(code) => Op::Down(code.as_u8().0, code.as_u8().1),
        Operation::KeyReleased(code) => Op::Up(code.as_u8().0, code.as_u8().1),
        Operation::UnicodeKeyPressed(c) => Op::TextDown(c),
        Operation::UnicodeKeyReleased(c) => Op::TextUp(c),
        other => panic!("not a keyboard operation: {other:?}"),
    }
}

const SHIFT_L: u32 = 0xFFE1;

fn press(keyboard: &mut Keyboard, keysym: u32) -> Option<Op> {
    keyboard.key(keysym, true).map(op)
}

fn release(keyboard: &mut Keyboard, keysym: u32) -> Option<Op> {
    keyboard.key(keysym, false).map(op)
}

/// Presses `c` the way the browser does (Shift first when `shifted`) and returns what the
/// character's press and release sent; the release happens with Shift still held.
fn type_char(layout: Layout, c: char, shifted: bool) -> (Option<Op>, Option<Op>) {
    let mut keyboard = Keyboard::new(layout);
    if shifted {
        assert_eq!(press(&mut keyboard, SHIFT_L), Some(Op::Down(false, 0x2A)));
    }
    let keysym = u32::from(c);
    (press(&mut keyboard, keysym), release(&mut keyboard, keysym))
}

#[test]
fn layout_names_round_trip_and_errors_say_what_is_allowed() {
    for layout in [Layout::Us, Layout::Jis] {
        assert_eq!(layout.to_string().parse::<Layout>(), Ok(layout));
    }
    let error = "de".parse::<Layout>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown keyboard layout \"de\": the allowed values are \"us\" and \"jis\""
    );
    assert!("US".parse::<Layout>().is_err());
}

#[test]
fn layouts_announce_the_keyboard_windows_expects() {
    assert_eq!(Layout::Us.keyboard_layout(), 0x0409);
    assert_eq!(Layout::Us.keyboard_type(), KeyboardType(4));
    assert_eq!(Layout::Us.keyboard_subtype(), 0);
    assert_eq!(Layout::Us.function_key_count(), 12);
    assert_eq!(Layout::Jis.keyboard_layout(), 0x0411);
    assert_eq!(Layout::Jis.keyboard_type(), KeyboardType(7));
    assert_eq!(Layout::Jis.keyboard_subtype(), 2);
    assert_eq!(Layout::Jis.function_key_count(), 12);
}

#[test]
fn jis_keys_press_and_release_their_scancodes() {
    let table: &[(u32, &str, u8)] = &[
        (0xFF2A, "Zenkaku_Hankaku 半角/全角", 0x29),
        (0xFF28, "Zenkaku", 0x29),
        (0xFF29, "Hankaku", 0x29),
        (0xFF21, "Kanji", 0x29),
        (0xFF23, "Henkan_Mode 変換", 0x79),
        (0xFF22, "Muhenkan 無変換", 0x7B),
        (0xFF27, "Hiragana_Katakana かな", 0x70),
        (0xFF25, "Hiragana", 0x70),
        (0xFF26, "Katakana", 0x70),
        (0xFF24, "Romaji", 0x70),
        (0xFF2D, "Kana_Lock", 0x70),
        (0xFF30, "Eisu_toggle 英数", 0x3A),
        (0x00A5, "yen ¥", 0x7D),
        (0x005C, "backslash (¥ key)", 0x7D),
    ];
    for &(keysym, name, code) in table {
        let mut keyboard = Keyboard::new(Layout::Jis);
        assert_eq!(
            press(&mut keyboard, keysym),
            Some(Op::Down(false, code)),
            "{name}"
        );
        assert_eq!(
            release(&mut keyboard, keysym),
            Some(Op::Up(false, code)),
            "{name}"
        );
    }
    // The ろ key's shifted legend, and the ¥ key's.
    assert_eq!(
        type_char(Layout::Jis, '_', true).0,
        Some(Op::Down(false, 0x73))
    );
    assert_eq!(
        type_char(Layout::Jis, '|', true).0,
        Some(Op::Down(false, 0x7D))
    );
}

#[test]
fn jis_only_keys_do_not_exist_on_the_us_keyboard() {
    let mut keyboard = Keyboard::new(Layout::Us);
    for keysym in [0xFF2A, 0xFF21, 0xFF22, 0xFF23, 0xFF27, 0xFF30] {
        assert_eq!(press(&mut keyboard, keysym), None, "{keysym:#x}");
    }
    assert_eq!(press(&mut keyboard, 0xA5), Some(Op::TextDown('¥')));
}

/// The printable ASCII characters that are not letters, digits or space, with the key and
/// Shift state that type them (JIS: OADG 109A legends).
const US_PUNCTUATION: &[(char, u8, bool)] = &[
    ('!', 0x02, true),
    ('@', 0x03, true),
    ('#', 0x04, true),
    ('$', 0x05, true),
    ('%', 0x06, true),
    ('^', 0x07, true),
    ('&', 0x08, true),
    ('*', 0x09, true),
    ('(', 0x0A, true),
    (')', 0x0B, true),
    ('-', 0x0C, false),
    ('_', 0x0C, true),
    ('=', 0x0D, false),
    ('+', 0x0D, true),
    ('[', 0x1A, false),
    ('{', 0x1A, true),
    (']', 0x1B, false),
    ('}', 0x1B, true),
    (';', 0x27, false),
    (':', 0x27, true),
    ('\'', 0x28, false),
    ('"', 0x28, true),
    ('`', 0x29, false),
    ('~', 0x29, true),
    ('\\', 0x2B, false),
    ('|', 0x2B, true),
    (',', 0x33, false),
    ('<', 0x33, true),
    ('.', 0x34, false),
    ('>', 0x34, true),
    ('/', 0x35, false),
    ('?', 0x35, true),
];

const JIS_PUNCTUATION: &[(char, u8, bool)] = &[
    ('!', 0x02, true),
    ('"', 0x03, true),
    ('#', 0x04, true),
    ('$', 0x05, true),
    ('%', 0x06, true),
    ('&', 0x07, true),
    ('\'', 0x08, true),
    ('(', 0x09, true),
    (')', 0x0A, true),
    ('-', 0x0C, false),
    ('=', 0x0C, true),
    ('^', 0x0D, false),
    ('~', 0x0D, true),
    ('\\', 0x7D, false),
    ('|', 0x7D, true),
    ('@', 0x1A, false),
    ('`', 0x1A, true),
    ('[', 0x1B, false),
    ('{', 0x1B, true),
    (';', 0x27, false),
    ('+', 0x27, true),
    (':', 0x28, false),
    ('*', 0x28, true),
    (']', 0x2B, false),
    ('}', 0x2B, true),
    (',', 0x33, false),
    ('<', 0x33, true),
    ('.', 0x34, false),
    ('>', 0x34, true),
    ('/', 0x35, false),
    ('?', 0x35, true),
    ('_', 0x73, true),
];

#[test]
fn punctuation_types_on_the_layouts_key() {
    for (layout, table) in [(Layout::Us, US_PUNCTUATION), (Layout::Jis, JIS_PUNCTUATION)] {
        // Every ASCII punctuation character is in the table once.
        let listed: Vec<char> = table.iter().map(|&(c, _, _)| c).collect();
        let expected: Vec<char> = (0x21u8..=0x7E)
            .map(char::from)
            .filter(char::is_ascii_punctuation)
            .collect();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected, "{layout}");

        for &(c, code, shifted) in table {
            let (down, up) = type_char(layout, c, shifted);
            assert_eq!(down, Some(Op::Down(false, code)), "{layout} {c:?}");
            assert_eq!(up, Some(Op::Up(false, code)), "{layout} {c:?}");
        }
    }
}

#[test]
fn a_shift_state_the_key_cannot_use_sends_the_character() {
    // A US keyboard types ':' as Shift+; but the JIS ':' key is unshifted.
    assert_eq!(type_char(Layout::Jis, ':', true).0, Some(Op::TextDown(':')));
    // A JIS keyboard types '@' unshifted but US needs Shift+2.
    assert_eq!(type_char(Layout::Us, '@', false).0, Some(Op::TextDown('@')));
    assert_eq!(
        type_char(Layout::Jis, '`', false),
        (Some(Op::TextDown('`')), Some(Op::TextUp('`')))
    );
    assert_eq!(type_char(Layout::Us, '1', true).0, Some(Op::TextDown('1')));
}

#[test]
fn letters_digits_and_space_use_their_keys() {
    for layout in [Layout::Us, Layout::Jis] {
        for (c, code) in [
            ('q', 0x10),
            ('p', 0x19),
            ('a', 0x1E),
            ('l', 0x26),
            ('z', 0x2C),
            ('m', 0x32),
        ] {
            assert_eq!(type_char(layout, c, false).0, Some(Op::Down(false, code)));
            // Upper case is the same key, with or without Shift (Caps Lock).
            let upper = c.to_ascii_uppercase();
            assert_eq!(
                type_char(layout, upper, true).0,
                Some(Op::Down(false, code))
            );
            assert_eq!(
                type_char(layout, upper, false).0,
                Some(Op::Down(false, code))
            );
        }
        for (c, code) in [('1', 0x02), ('5', 0x06), ('9', 0x0A), ('0', 0x0B)] {
            assert_eq!(type_char(layout, c, false).0, Some(Op::Down(false, code)));
        }
        assert_eq!(type_char(layout, ' ', true).0, Some(Op::Down(false, 0x39)));
    }
}

#[test]
fn function_keys_and_the_extended_flag() {
    let table: &[(u32, bool, u8)] = &[
        (0xFF0D, false, 0x1C), // Return
        (0xFF08, false, 0x0E), // BackSpace
        (0xFF09, false, 0x0F), // Tab
        (0xFF1B, false, 0x01), // Escape
        (0xFFBE, false, 0x3B), // F1
        (0xFFC7, false, 0x44), // F10
        (0xFFC8, false, 0x57), // F11
        (0xFFC9, false, 0x58), // F12
        (0xFFE1, false, 0x2A), // Shift_L
        (0xFFE2, false, 0x36), // Shift_R
        (0xFFE3, false, 0x1D), // Control_L
        (0xFFE4, true, 0x1D),  // Control_R
        (0xFFE9, false, 0x38), // Alt_L
        (0xFFEA, true, 0x38),  // Alt_R
        (0xFE03, true, 0x38),  // ISO_Level3_Shift (AltGr)
        (0xFFE7, true, 0x5B),  // Meta_L
        (0xFFE8, true, 0x5C),  // Meta_R
        (0xFFEB, true, 0x5B),  // Super_L
        (0xFFEC, true, 0x5C),  // Super_R
        (0xFF67, true, 0x5D),  // Menu
        (0xFFE5, false, 0x3A), // Caps_Lock
        (0xFF7F, false, 0x45), // Num_Lock
        (0xFF14, false, 0x46), // Scroll_Lock
        (0xFF61, true, 0x37),  // Print
        (0xFF51, true, 0x4B),  // Left
        (0xFF52, true, 0x48),  // Up
        (0xFF53, true, 0x4D),  // Right
        (0xFF54, true, 0x50),  // Down
        (0xFF63, true, 0x52),  // Insert
        (0xFFFF, true, 0x53),  // Delete
        (0xFF50, true, 0x47),  // Home
        (0xFF57, true, 0x4F),  // End
        (0xFF55, true, 0x49),  // Prior
        (0xFF56, true, 0x51),  // Next
        (0xFF8D, true, 0x1C),  // KP_Enter
        (0xFFAF, true, 0x35),  // KP_Divide
        (0xFFAA, false, 0x37), // KP_Multiply
        (0xFFAD, false, 0x4A), // KP_Subtract
        (0xFFAB, false, 0x4E), // KP_Add
        (0xFFAE, false, 0x53), // KP_Decimal
        (0xFFB0, false, 0x52), // KP_0
        (0xFFB5, false, 0x4C), // KP_5
        (0xFFB9, false, 0x49), // KP_9
        (0xFF95, false, 0x47), // KP_Home
        (0xFF9F, false, 0x53), // KP_Delete
    ];
    for layout in [Layout::Us, Layout::Jis] {
        for &(keysym, is_extended, code) in table {
            let mut keyboard = Keyboard::new(layout);
            let down = press(&mut keyboard, keysym);
            assert_eq!(
                down,
                Some(Op::Down(is_extended, code)),
                "{layout} {keysym:#x}"
            );
            let up = release(&mut keyboard, keysym);
            assert_eq!(up, Some(Op::Up(is_extended, code)), "{layout} {keysym:#x}");
        }
    }
}

#[test]
fn a_release_sends_what_the_press_sent_though_shift_changed() {
    let mut keyboard = Keyboard::new(Layout::Jis);
    press(&mut keyboard, SHIFT_L);
    assert_eq!(
        press(&mut keyboard, u32::from('"')),
        Some(Op::Down(false, 0x03))
    );
    assert_eq!(
        press(&mut keyboard, u32::from(':')),
        Some(Op::TextDown(':'))
    );
    assert_eq!(release(&mut keyboard, SHIFT_L), Some(Op::Up(false, 0x2A)));
    assert_eq!(
        release(&mut keyboard, u32::from('"')),
        Some(Op::Up(false, 0x03))
    );
    assert_eq!(
        release(&mut keyboard, u32::from(':')),
        Some(Op::TextUp(':'))
    );
    assert!(!keyboard.any_down());
}

#[test]
fn text_no_key_types_goes_out_as_unicode() {
    let table: &[(u32, char)] = &[
        (0x00E9, 'é'),       // eacute, Latin-1
        (0x0100_3042, 'あ'), // Unicode keysym
        (0x0100_6F22, '漢'),
        (0x0100_00E9, 'é'),  // Latin-1 written as a Unicode keysym
        (0x04A2, '「'),      // kana_openingbracket
        (0x04B1, 'ア'),      // kana_A
        (0x04C1, 'チ'),      // kana_CHI
        (0x04DD, 'ン'),      // kana_N
        (0x04DF, '゜'),      // semivoicedsound
        (0x047E, '‾'),       // overline
        (0xFFBD, '='),       // KP_Equal
        (0x0101_F600, '😀'), // outside the BMP: ironrdp sends the surrogate pair
    ];
    for layout in [Layout::Us, Layout::Jis] {
        for &(keysym, c) in table {
            let mut keyboard = Keyboard::new(layout);
            assert_eq!(
                press(&mut keyboard, keysym),
                Some(Op::TextDown(c)),
                "{keysym:#x}"
            );
            assert_eq!(
                release(&mut keyboard, keysym),
                Some(Op::TextUp(c)),
                "{keysym:#x}"
            );
        }
    }
    assert_eq!(KANA_KEYSYMS.chars().count(), 0x04DF - 0x04A1 + 1);
}

#[test]
fn unknown_keysyms_and_releases_of_keys_not_down_send_nothing() {
    let unknown = [
        0x0000_0000,
        0x0000_001B, // a control character
        0x0000_0080,
        0xFF13,      // Pause: needs the E1 prefix, which ironrdp-input cannot send
        0xFFCA,      // F13
        0xFFED,      // Hyper_L
        0xFF91,      // KP_F1
        0x06C1,      // Cyrillic_a, a legacy keysym the browser never sends
        0x0100_0007, // a control character as a Unicode keysym
        0x0100_D800, // a surrogate
        0x0111_0000, // beyond Unicode
        u32::MAX,
    ];
    let mut keyboard = Keyboard::new(Layout::Jis);
    for keysym in unknown {
        assert_eq!(press(&mut keyboard, keysym), None, "{keysym:#x}");
        assert_eq!(release(&mut keyboard, keysym), None, "{keysym:#x}");
    }
    assert_eq!(release(&mut keyboard, u32::from('a')), None);
    assert!(!keyboard.any_down());
}

#[test]
fn a_repeated_press_repeats_the_key_and_one_release_ends_it() {
    let mut keyboard = Keyboard::new(Layout::Us);
    assert_eq!(press(&mut keyboard, 0xFF54), Some(Op::Down(true, 0x50)));
    assert_eq!(press(&mut keyboard, 0xFF54), Some(Op::Down(true, 0x50)));
    assert_eq!(release(&mut keyboard, 0xFF54), Some(Op::Up(true, 0x50)));
    assert_eq!(release(&mut keyboard, 0xFF54), None);
}

#[test]
fn a_key_shared_by_two_keysyms_goes_up_with_the_last() {
    let mut keyboard = Keyboard::new(Layout::Us);
    assert_eq!(press(&mut keyboard, 0xFFEA), Some(Op::Down(true, 0x38)));
    assert_eq!(press(&mut keyboard, 0xFE03), Some(Op::Down(true, 0x38)));
    assert_eq!(release(&mut keyboard, 0xFFEA), None);
    assert_eq!(release(&mut keyboard, 0xFE03), Some(Op::Up(true, 0x38)));

    press(&mut keyboard, 0xFFEA);
    press(&mut keyboard, 0xFE03);
    let released: Vec<Op> = keyboard.release_all().into_iter().map(op).collect();
    assert_eq!(released, [Op::Up(true, 0x38)]);
}

#[test]
fn release_all_releases_exactly_what_is_down_last_first() {
    let mut keyboard = Keyboard::new(Layout::Jis);
    press(&mut keyboard, SHIFT_L);
    press(&mut keyboard, 0xFFE3); // Control_L
    press(&mut keyboard, u32::from('a'));
    press(&mut keyboard, 0x0100_3042);
    press(&mut keyboard, 0xFF13); // not a key here: nothing to release
    release(&mut keyboard, 0xFFE3);
    let released: Vec<Op> = keyboard.release_all().into_iter().map(op).collect();
    assert_eq!(
        released,
        [Op::TextUp('あ'), Op::Up(false, 0x1E), Op::Up(false, 0x2A)]
    );
    assert!(!keyboard.any_down());
    assert!(keyboard.release_all().is_empty());
    assert_eq!(release(&mut keyboard, u32::from('a')), None);
}

#[test]
fn presses_beyond_the_bound_are_dropped() {
    let mut keyboard = Keyboard::new(Layout::Us);
    let keysyms: Vec<u32> = (0..MAX_KEYS_DOWN + 8)
        .map(|i| 0x0100_3041 + u32::try_from(i).unwrap_or(0))
        .collect();
    let sent = keysyms
        .iter()
        .filter(|&&keysym| keyboard.key(keysym, true).is_some())
        .count();
    assert_eq!(sent, MAX_KEYS_DOWN);
    assert_eq!(keyboard.release_all().len(), MAX_KEYS_DOWN);
}

/// Keysyms worth drawing often: modifiers, JIS keys, ASCII, kana, Unicode, and anything.
fn keysym() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(vec![
            0xFFE1,
            0xFFE2,
            0xFFE3,
            0xFFE4,
            0xFFE9,
            0xFFEA,
            0xFE03,
            0xFF2A,
            0xFF30,
            0xFF13,
            0x00A5,
            0x005C,
            0x0022,
            0x003A,
            0x005F,
            0xFFBD,
            0x04A2,
            0x0100_3042,
        ]),
        0x20u32..=0xFF,
        0xFF00u32..=0xFFFF,
        0x0100_0000u32..=0x0111_0000,
        any::<u32>(),
    ]
}

proptest! {
    #[test]
    fn any_event_sequence_ends_with_nothing_down_on_the_server(
        jis in any::<bool>(),
        events in prop::collection::vec((keysym(), any::<bool>()), 0..200),
    ) {
        let layout = if jis { Layout::Jis } else { Layout::Us };
        let mut keyboard = Keyboard::new(layout);
        let mut server = Database::new();
        let mut typed = Vec::new();
        for (keysym, pressed) in events {
            if let Some(operation) = keyboard.key(keysym, pressed) {
                if let Operation::UnicodeKeyPressed(c) = operation {
                    typed.push(c);
                }
                server.apply([operation]);
            }
        }
        server.apply(keyboard.release_all());
        prop_assert!(!keyboard.any_down());
        prop_assert!(server.keyboard_state().not_any());
        for c in typed {
            prop_assert!(!server.is_unicode_key_pressed(c));
        }
    }
}
