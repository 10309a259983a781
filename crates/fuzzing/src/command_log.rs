//! The SSH command log: what the user typed and what a hostile target echoed, as bytes, through
//! the UTF-8 decoder into the line editor, as the gateway's terminal task feeds them.

use std::collections::HashSet;

use hoshu_display::command_log::{MAX_LINE, MAX_PENDING};
use hoshu_display::{Command, CommandLog, Utf8Stream};

/// Ends one step of the script. Never valid in UTF-8, so a step's text cannot contain it;
/// the other invalid bytes still reach the decoder.
pub const STEP_END: u8 = 0xff;

/// One direction of the terminal: its decoder, and every byte and character it passed, to
/// check the decoder against `String::from_utf8_lossy` at the end.
#[derive(Default)]
struct Direction {
    decoder: Utf8Stream,
    bytes: Vec<u8>,
    text: String,
}

impl Direction {
    fn decode(&mut self, bytes: &[u8]) -> String {
        let text = self.decoder.decode(bytes);
        self.bytes.extend_from_slice(bytes);
        self.text.push_str(&text);
        text
    }
}

/// A command log with its two decoders, as one terminal task holds them.
struct Terminal {
    log: CommandLog,
    input: Direction,
    output: Direction,
}

impl Terminal {
    fn new(cols: u16) -> Self {
        Terminal {
            log: CommandLog::new(cols),
            input: Direction::default(),
            output: Direction::default(),
        }
    }

    /// Feeds one step in pieces of `chunk` bytes (a step's bytes arrive in any split).
    fn step(&mut self, step: &Step<'_>, at_ms: i64, chunk: usize) -> Vec<Command> {
        let mut done = Vec::new();
        match *step {
            Step::Input(bytes) => {
                for piece in bytes.chunks(chunk) {
                    let text = self.input.decode(piece);
                    self.log.input(&text, at_ms);
                }
            }
            Step::Output(bytes) => {
                for piece in bytes.chunks(chunk) {
                    let text = self.output.decode(piece);
                    done.extend(self.log.output(&text));
                }
            }
            Step::Resize(cols) => self.log.resize(cols),
            Step::Wait(_) => {}
        }
        assert!(
            self.log.pending_lines() <= MAX_PENDING,
            "{} lines pending",
            self.log.pending_lines()
        );
        done
    }
}

enum Step<'a> {
    /// Keys the user sent.
    Input(&'a [u8]),
    /// What the target sent.
    Output(&'a [u8]),
    /// The browser's terminal changed width.
    Resize(u16),
    /// Milliseconds pass.
    Wait(i64),
}

/// A decimal number at the start of `bytes`, saturating.
fn number(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u64, |n, b| {
            n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        })
}

fn parse_step(step: &[u8]) -> Option<Step<'_>> {
    let (&tag, rest) = step.split_first()?;
    Some(match tag {
        b'i' => Step::Input(rest),
        b'o' => Step::Output(rest),
        b'r' => Step::Resize(u16::try_from(number(rest)).unwrap_or(u16::MAX)),
        b'w' => Step::Wait(i64::try_from(number(rest)).unwrap_or(i64::MAX)),
        // Anything else is the target talking: most of what the fuzzer makes is hostile echo.
        _ => Step::Output(step),
    })
}

/// The decoder lost nothing and invented nothing: what it gave is what
/// `String::from_utf8_lossy` makes of the same bytes, but for one U+FFFD an incomplete
/// character at the end would become (the decoder holds it for the next read).
fn check_decoder(direction: &Direction) {
    let lossy = String::from_utf8_lossy(&direction.bytes);
    let rest = lossy.strip_prefix(direction.text.as_str());
    assert!(
        rest.is_some_and(|rest| rest.is_empty() || rest == "\u{fffd}"),
        "decoded {:?} from {:?}",
        direction.text,
        direction.bytes
    );
}

/// The command log on a script of keys, echo and resizes.
///
/// Input: a byte for the terminal's width in columns, a byte for the chunk size, then steps
/// ending in [`STEP_END`]: `i` keys, `o` echo, `r<cols>` resize, `w<ms>` time passes (anything
/// else is echo). Two terminals run side by side, one given each step whole and one given it in
/// pieces, through their own [`Utf8Stream`]s. Checked:
///
/// - the pieces change nothing (the decoders carry split characters, the log keeps its state
///   between calls), and each decoder agrees with `String::from_utf8_lossy`;
/// - no command is longer than [`MAX_LINE`] characters, empty, or padded with blanks;
/// - at most [`MAX_PENDING`] lines wait for their echo;
/// - every character of a command was echoed: input that was not echoed (a password) never
///   reaches the log;
/// - commands come in the order they were typed, with the time of their Enter.
pub fn command_log(data: &[u8]) {
    let [cols, chunk, script @ ..] = data else {
        return;
    };
    let chunk = usize::from(chunk % 16) + 1;
    let mut whole = Terminal::new(u16::from(*cols));
    let mut pieces = Terminal::new(u16::from(*cols));
    let mut echoed = HashSet::new();
    let mut clock = 0i64;
    let mut last_logged = i64::MIN;
    for step in script.split(|&b| b == STEP_END).filter_map(parse_step) {
        match step {
            Step::Input(_) => clock = clock.saturating_add(1),
            Step::Wait(ms) => clock = clock.saturating_add(ms),
            Step::Output(_) | Step::Resize(_) => {}
        }
        let echo_before = whole.output.text.len();
        let logged = whole.step(&step, clock, usize::MAX);
        let logged_in_pieces = pieces.step(&step, clock, chunk);
        assert_eq!(logged, logged_in_pieces, "split reads changed the log");
        echoed.extend(whole.output.text[echo_before..].chars());

        for command in &logged {
            let text = &command.text;
            let chars = text.chars().count();
            assert!(chars <= MAX_LINE, "a command of {chars} characters");
            assert!(!text.is_empty(), "an empty command");
            assert_eq!(text.trim(), text, "a command with blanks around it");
            if let Some(c) = text.chars().find(|c| *c != ' ' && !echoed.contains(c)) {
                panic!("{c:?} of command {text:?} was never echoed");
            }
            assert!(
                (last_logged..=clock).contains(&command.at_ms),
                "command at {} after one at {last_logged}, clock {clock}",
                command.at_ms
            );
            last_logged = command.at_ms;
        }
    }
    for terminal in [&whole, &pieces] {
        check_decoder(&terminal.input);
        check_decoder(&terminal.output);
    }
    assert_eq!(
        whole.input.text, pieces.input.text,
        "split input decoded differently"
    );
    assert_eq!(
        whole.output.text, pieces.output.text,
        "split output decoded differently"
    );
}
