//! The command log of SSH sessions (DESIGN §7): the commands typed at the shell prompt,
//! reconstructed from what the user typed and what the terminal echoed. Pure: the terminal task
//! feeds it input and output text and stores what it returns.
//!
//! How: two small models run side by side.
//! - A line editor replays the keystrokes (printable text, Backspace, Ctrl-U, Ctrl-W, Ctrl-K,
//!   Ctrl-A/E/B/F, Delete, Home/End and the arrow keys left and right, bracketed paste). Keys
//!   whose effect only the shell knows (up/down history recall, Tab completion, Ctrl-R, Alt-…)
//!   make the line *uncertain*.
//! - A one-line screen model applies the echo (printable text with wide characters, CR, BS,
//!   erase-in-line, cursor moves, insert/delete characters, deferred wrap at the terminal width)
//!   and remembers at which cell the user started typing (the end of the prompt).
//!
//! Enter queues the line. When the echo of that Enter (the newline) arrives, the line on the
//! screen after the prompt is the command: for a certain line it must equal what the editor
//! built (so input that was *not* echoed — a password at a `sudo` prompt — is never logged); an
//! uncertain line is taken from the screen as the shell redrew it. The shell processes input in
//! order, so by the time the newline of an Enter arrives, the echo of every key before it has.
//! A line typed before its prompt was drawn (typed ahead) matches when it follows a prompt's
//! last character (`$`, `#`, `>`, `%`).
//!
//! Not handled (the log may miss or garble such commands): full-screen programs (nothing is
//! logged while the alternate screen is on); continuation lines of multi-line commands are logged
//! one per line; typed-ahead lines after a history recall may be paired with the wrong newline;
//! shells that draw a right-hand prompt (zsh RPROMPT) or redraw the whole line on every key in
//! ways other than the sequences above (fish, vi mode) log only lines whose echo is plain.

use std::collections::VecDeque;

/// A command as logged: when Enter was pressed and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub at_ms: i64,
    pub text: String,
}

/// Longest line kept (characters); longer input is cut, not grown without bound. No logged
/// command is longer.
pub const MAX_LINE: usize = 4096;
/// Lines waiting for their echo; older ones are dropped (their echo never came).
pub const MAX_PENDING: usize = 16;
/// A line whose echo has not come after this many newlines was not echoed (a password).
const MAX_WAIT_LINES: u32 = 64;
/// Longest escape sequence parameter string kept.
const MAX_PARAMS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Esc,
    Csi,
    Ss3,
    /// Operating system command (window title): skipped until BEL or ST.
    Osc,
    OscEsc,
    /// ESC ( X and similar: one more character to skip.
    Charset,
}

/// Splits a character stream into plain characters and escape sequences.
#[derive(Debug)]
struct EscapeParser {
    state: Escape,
    params: String,
}

enum Token {
    Char(char),
    /// ESC followed by one character (not `[`, `O` or `]`): Alt-key on input, a control
    /// function (save cursor, keypad mode) in output; neither changes the line as modelled.
    Esc,
    Csi {
        params: String,
        last: char,
    },
    Ss3(char),
}

impl EscapeParser {
    fn new() -> Self {
        EscapeParser {
            state: Escape::None,
            params: String::new(),
        }
    }

    fn feed(&mut self, c: char) -> Option<Token> {
        match self.state {
            Escape::None => {
                if c == '\x1b' {
                    self.state = Escape::Esc;
                    None
                } else {
                    Some(Token::Char(c))
                }
            }
            Escape::Esc => {
                self.state = Escape::None;
                match c {
                    '[' => {
                        self.state = Escape::Csi;
                        self.params.clear();
                        None
                    }
                    'O' => {
                        self.state = Escape::Ss3;
                        None
                    }
                    ']' => {
                        self.state = Escape::Osc;
                        None
                    }
                    '(' | ')' | '*' | '+' | '#' | '%' => {
                        self.state = Escape::Charset;
                        None
                    }
                    _ => Some(Token::Esc),
                }
            }
            Escape::Csi => {
                if ('\x40'..='\x7e').contains(&c) {
                    self.state = Escape::None;
                    Some(Token::Csi {
                        params: std::mem::take(&mut self.params),
                        last: c,
                    })
                } else {
                    if self.params.len() < MAX_PARAMS {
                        self.params.push(c);
                    }
                    None
                }
            }
            Escape::Ss3 => {
                self.state = Escape::None;
                Some(Token::Ss3(c))
            }
            Escape::Osc => {
                match c {
                    '\x07' => self.state = Escape::None,
                    '\x1b' => self.state = Escape::OscEsc,
                    _ => {}
                }
                None
            }
            Escape::OscEsc => {
                self.state = if c == '\\' { Escape::None } else { Escape::Osc };
                None
            }
            Escape::Charset => {
                self.state = Escape::None;
                None
            }
        }
    }
}

/// The first numeric parameter of a CSI sequence, `default` when absent or zero.
fn first_param(params: &str, default: usize) -> usize {
    params
        .trim_start_matches('?')
        .split(';')
        .next()
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
        .min(MAX_LINE)
}

/// Cells a character takes on the terminal: 2 for East Asian wide characters (CJK, kana,
/// Hangul, full-width forms, emoji), 0 for combining marks, else 1.
fn cell_width(c: char) -> usize {
    let u = u32::from(c);
    match u {
        0x0300..=0x036f | 0x200b..=0x200f | 0x3099..=0x309a | 0xfe00..=0xfe0f => 0,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

/// Stands in the cell after a wide character.
const WIDE_TAIL: char = '\0';

/// The terminal's current line as the echo draws it (one logical line over several rows).
#[derive(Debug)]
struct ScreenLine {
    cells: Vec<char>,
    cursor: usize,
    /// A character was printed in the last column: the next one goes to the next row, but CR
    /// still returns to the start of this row (VT100 deferred wrap).
    wrap_pending: bool,
    width: usize,
}

impl ScreenLine {
    fn row_start(&self) -> usize {
        let cursor = if self.wrap_pending {
            self.cursor.saturating_sub(1)
        } else {
            self.cursor
        };
        cursor - cursor % self.width
    }

    fn put(&mut self, c: char) {
        let w = cell_width(c);
        if w == 0 || self.cursor + w > MAX_LINE {
            return;
        }
        // A wide character does not fit in the last column: it goes to the next row.
        if w == 2 && self.cursor % self.width == self.width - 1 {
            self.set(self.cursor, ' ');
            self.cursor += 1;
        }
        self.set(self.cursor, c);
        if w == 2 {
            self.set(self.cursor + 1, WIDE_TAIL);
        }
        self.cursor += w;
        self.wrap_pending = self.cursor.is_multiple_of(self.width);
    }

    fn set(&mut self, at: usize, c: char) {
        if self.cells.len() <= at {
            self.cells.resize(at + 1, ' ');
        }
        self.cells[at] = c;
    }

    fn clear_range(&mut self, from: usize, to: usize) {
        let to = to.min(self.cells.len());
        for cell in self.cells.iter_mut().take(to).skip(from) {
            *cell = ' ';
        }
    }

    /// The text from cell `from` on, without trailing blanks.
    fn text_from(&self, from: usize) -> String {
        let text: String = self
            .cells
            .iter()
            .skip(from)
            .filter(|&&c| c != WIDE_TAIL)
            .collect();
        text.trim_end().to_owned()
    }

    fn clear(&mut self) {
        self.cells.clear();
        self.cursor = 0;
        self.wrap_pending = false;
    }
}

/// The line as the user's keys built it.
#[derive(Debug, Default)]
struct LineEditor {
    line: Vec<char>,
    cursor: usize,
    /// A key changed the line in a way only the shell knows (history, completion).
    uncertain: bool,
    /// Inside a bracketed paste: everything is text.
    pasting: bool,
    /// Screen cell where typing of this line began (the end of the prompt).
    start_cell: Option<usize>,
    /// When the first key of this line came.
    started_ms: i64,
}

impl LineEditor {
    fn insert(&mut self, c: char) {
        if self.line.len() < MAX_LINE {
            self.line.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    fn delete_word_before(&mut self) {
        let mut from = self.cursor;
        while from > 0 && self.line[from - 1] == ' ' {
            from -= 1;
        }
        while from > 0 && self.line[from - 1] != ' ' {
            from -= 1;
        }
        self.line.drain(from..self.cursor);
        self.cursor = from;
    }
}

#[derive(Debug)]
struct Pending {
    at_ms: i64,
    line: String,
    uncertain: bool,
    start_cell: Option<usize>,
    waited: u32,
}

/// Whether `line` ends `text` right after a prompt (`$`, `#`, `>` or `%`, then blanks): for
/// lines typed before their prompt was drawn, whose start on the screen is not known. Not `:`
/// (a password prompt), so a password typed ahead is not matched by chance.
fn after_a_prompt(text: &str, line: &str) -> bool {
    text.strip_suffix(line).is_some_and(|before| {
        before.ends_with(' ') && before.trim_end().ends_with(['$', '#', '>', '%'])
    })
}

/// Reconstructs commands from a terminal session's input and output.
#[derive(Debug)]
pub struct CommandLog {
    editor: LineEditor,
    input_escape: EscapeParser,
    output_escape: EscapeParser,
    screen: ScreenLine,
    pending: VecDeque<Pending>,
    /// A full-screen program is running (alternate screen): its keys are not commands.
    alternate_screen: bool,
}

impl CommandLog {
    pub fn new(cols: u16) -> Self {
        CommandLog {
            editor: LineEditor::default(),
            input_escape: EscapeParser::new(),
            output_escape: EscapeParser::new(),
            screen: ScreenLine {
                cells: Vec::new(),
                cursor: 0,
                wrap_pending: false,
                width: usize::from(cols.max(1)),
            },
            pending: VecDeque::new(),
            alternate_screen: false,
        }
    }

    /// Lines typed (Enter pressed) whose echo has not come yet; at most [`MAX_PENDING`]. Public
    /// so the fuzz target can check that bound from outside.
    pub fn pending_lines(&self) -> usize {
        self.pending.len()
    }

    /// The line being typed, as the terminal echoed it after the prompt, and when its first key
    /// came: stored as it grows, so a gateway that is killed keeps it. What was not echoed (a
    /// password) is not in it, as it is not in a finished command; nothing while a full-screen
    /// program runs.
    pub fn in_progress(&self) -> Option<Command> {
        if self.alternate_screen || self.editor.line.is_empty() {
            return None;
        }
        let start = self.editor.start_cell?;
        let text = self.screen.text_from(start);
        let text = text.trim();
        (!text.is_empty()).then(|| Command {
            at_ms: self.editor.started_ms,
            text: text.to_owned(),
        })
    }

    pub fn resize(&mut self, cols: u16) {
        self.screen.width = usize::from(cols.max(1));
    }

    /// Keys the user sent at `at_ms`.
    pub fn input(&mut self, text: &str, at_ms: i64) {
        for c in text.chars() {
            if let Some(token) = self.input_escape.feed(c) {
                self.key(token, at_ms);
            }
        }
    }

    fn key(&mut self, token: Token, at_ms: i64) {
        if self.editor.start_cell.is_none() {
            self.editor.start_cell = Some(self.screen.cursor);
            self.editor.started_ms = at_ms;
        }
        let e = &mut self.editor;
        if e.pasting {
            match token {
                Token::Csi { params, last: '~' } if params == "201" => e.pasting = false,
                Token::Char('\r') => e.insert('\n'),
                Token::Char(c) if c >= ' ' || c == '\n' || c == '\t' => e.insert(c),
                _ => {}
            }
            return;
        }
        match token {
            Token::Char('\r' | '\n') => self.enter(at_ms),
            Token::Char('\x7f' | '\x08') if e.cursor > 0 => {
                e.cursor -= 1;
                e.line.remove(e.cursor);
            }
            Token::Char('\x15') => {
                e.line.drain(..e.cursor);
                e.cursor = 0;
            }
            Token::Char('\x17') => e.delete_word_before(),
            Token::Char('\x0b') => e.line.truncate(e.cursor),
            Token::Char('\x01') => e.cursor = 0,
            Token::Char('\x05') => e.cursor = e.line.len(),
            Token::Char('\x02') => e.cursor = e.cursor.saturating_sub(1),
            Token::Char('\x06') => e.cursor = (e.cursor + 1).min(e.line.len()),
            Token::Char('\x04') if e.cursor < e.line.len() => {
                e.line.remove(e.cursor);
            }
            // Ctrl-C abandons the line.
            Token::Char('\x03') => self.editor = LineEditor::default(),
            Token::Char(c) if c >= ' ' && c != '\x7f' => e.insert(c),
            Token::Char(_) => e.uncertain = true,
            Token::Csi { params, last } => match (params.as_str(), last) {
                (_, 'D') => e.cursor = e.cursor.saturating_sub(first_param(&params, 1)),
                (_, 'C') => e.cursor = (e.cursor + first_param(&params, 1)).min(e.line.len()),
                (_, 'H') | ("1" | "7", '~') => e.cursor = 0,
                (_, 'F') | ("4" | "8", '~') => e.cursor = e.line.len(),
                ("3", '~') if e.cursor < e.line.len() => {
                    e.line.remove(e.cursor);
                }
                ("200", '~') => e.pasting = true,
                _ => e.uncertain = true,
            },
            Token::Ss3('D') => e.cursor = e.cursor.saturating_sub(1),
            Token::Ss3('C') => e.cursor = (e.cursor + 1).min(e.line.len()),
            Token::Ss3('H') => e.cursor = 0,
            Token::Ss3('F') => e.cursor = e.line.len(),
            Token::Ss3(_) | Token::Esc => e.uncertain = true,
        }
    }

    fn enter(&mut self, at_ms: i64) {
        let editor = std::mem::take(&mut self.editor);
        if self.alternate_screen {
            return;
        }
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(Pending {
            at_ms,
            line: editor.line.iter().collect(),
            uncertain: editor.uncertain,
            start_cell: editor.start_cell,
            waited: 0,
        });
    }

    /// Text the target sent; returns the commands whose echo completed.
    pub fn output(&mut self, text: &str) -> Vec<Command> {
        let mut done = Vec::new();
        for c in text.chars() {
            if let Some(token) = self.output_escape.feed(c) {
                self.draw(token, &mut done);
            }
        }
        done
    }

    fn draw(&mut self, token: Token, done: &mut Vec<Command>) {
        let s = &mut self.screen;
        match token {
            Token::Char('\r') => {
                s.cursor = s.row_start();
                s.wrap_pending = false;
            }
            Token::Char('\n') => {
                // Readline moves down inside a line that spans rows with LF too: only an LF
                // past the line's last row ends it.
                let next_row = s.row_start() + s.width;
                let last = s.cells.iter().rposition(|&c| c != ' ').unwrap_or(0);
                if !s.cells.is_empty() && next_row <= last {
                    s.cursor = next_row + (s.cursor - s.row_start()).min(s.width - 1);
                    s.wrap_pending = false;
                } else {
                    self.line_done(done);
                }
            }
            Token::Char('\x08') => {
                if s.wrap_pending {
                    s.wrap_pending = false;
                    s.cursor -= 1;
                }
                if s.cursor > s.row_start() {
                    s.cursor -= 1;
                }
            }
            Token::Char('\t') => {
                // A pending wrap ends first, as before a CSI sequence: the cursor is on the last
                // column and the tab stays there. Left pending, the flag outlived the move, and
                // a later backspace stepped back from a column the cursor was no longer one past
                // (below zero at width 1; found by the command_log fuzz target).
                if s.wrap_pending {
                    s.wrap_pending = false;
                    s.cursor -= 1;
                }
                let col = s.cursor - s.row_start();
                s.cursor = s.row_start() + ((col / 8 + 1) * 8).min(s.width - 1);
            }
            Token::Char(c) if c >= ' ' && c != '\x7f' => s.put(c),
            Token::Char(_) | Token::Esc | Token::Ss3(_) => {}
            Token::Csi { params, last } => {
                let n = first_param(&params, 1);
                let start = s.row_start();
                if s.wrap_pending && last != 'm' {
                    s.cursor -= 1;
                    s.wrap_pending = false;
                }
                match last {
                    'K' => match first_param(&params, 0) {
                        1 => s.clear_range(start, s.cursor + 1),
                        2 => s.clear_range(start, start + s.width),
                        _ => s.clear_range(s.cursor, start + s.width),
                    },
                    'J' => match first_param(&params, 0) {
                        0 => s.cells.truncate(s.cursor),
                        1 => s.clear_range(0, s.cursor + 1),
                        _ => s.clear(),
                    },
                    'C' => s.cursor = (s.cursor + n).min(start + s.width - 1),
                    'D' => s.cursor = s.cursor.saturating_sub(n).max(start),
                    'G' => s.cursor = start + (n - 1).min(s.width - 1),
                    'A' => s.cursor = s.cursor.saturating_sub(n * s.width),
                    'B' => s.cursor = (s.cursor + n * s.width).min(MAX_LINE),
                    'H' | 'f' => {
                        let col = params
                            .split(';')
                            .nth(1)
                            .and_then(|p| p.parse::<usize>().ok())
                            .unwrap_or(1)
                            .max(1);
                        s.cursor = (col - 1).min(s.width - 1);
                    }
                    'P' => {
                        let end = (start + s.width).min(s.cells.len());
                        if s.cursor < end {
                            let n = n.min(end - s.cursor);
                            s.cells.drain(s.cursor..s.cursor + n);
                            s.cells
                                .splice(end - n..end - n, std::iter::repeat_n(' ', n));
                        }
                    }
                    '@' if s.cursor < s.cells.len() => {
                        let n = n.min(MAX_LINE - s.cells.len().min(MAX_LINE));
                        s.cells
                            .splice(s.cursor..s.cursor, std::iter::repeat_n(' ', n));
                    }
                    'X' => s.clear_range(s.cursor, s.cursor + n),
                    'h' | 'l' if params.starts_with('?') => {
                        let on = last == 'h';
                        if params[1..]
                            .split(';')
                            .any(|p| matches!(p, "1049" | "1047" | "47"))
                        {
                            self.alternate_screen = on;
                            self.editor = LineEditor::default();
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A line of output ended: if it is the echo of a queued Enter, that line is a command.
    fn line_done(&mut self, done: &mut Vec<Command>) {
        let screen = &self.screen;
        let mut matched = None;
        for (i, p) in self.pending.iter().enumerate() {
            let shown = screen.text_from(p.start_cell.unwrap_or(0));
            let command = if p.uncertain {
                // Only the first queued line can be paired with this newline.
                (i == 0).then_some(shown)
            } else if p.line.trim().is_empty() {
                (i == 0).then(String::new)
            } else if (p.start_cell.is_some() && shown == p.line.trim_end())
                || after_a_prompt(&screen.text_from(0), p.line.trim_end())
            {
                Some(p.line.clone())
            } else {
                None
            };
            if let Some(command) = command {
                matched = Some((i, command));
                break;
            }
        }
        match matched {
            Some((i, command)) => {
                let p = self
                    .pending
                    .drain(..=i)
                    .next_back()
                    .expect("drain(..=i) of a found index yields it last");
                let command = command.trim().to_owned();
                if !command.is_empty() {
                    done.push(Command {
                        at_ms: p.at_ms,
                        text: command,
                    });
                }
            }
            None => {
                for p in &mut self.pending {
                    p.waited += 1;
                }
                self.pending.retain(|p| p.waited < MAX_WAIT_LINES);
            }
        }
        self.screen.clear();
        // Output lines before the user types are prompt text: the start cell is taken again at
        // the next key.
        if self.editor.line.is_empty() && !self.editor.uncertain {
            self.editor.start_cell = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "\x1b]0;root@host: ~\x07root@host:~# ";

    fn texts(commands: Vec<Command>) -> Vec<String> {
        commands.into_iter().map(|c| c.text).collect()
    }

    /// A session: the prompt, then for each step the keys and the shell's echo.
    fn session(steps: &[(&str, &str)]) -> Vec<String> {
        let mut log = CommandLog::new(80);
        let mut out = texts(log.output(PROMPT));
        for (i, (keys, echo)) in steps.iter().enumerate() {
            log.input(keys, i as i64);
            out.extend(texts(log.output(echo)));
        }
        out
    }

    #[test]
    fn typed_command_with_its_echo() {
        let got = session(&[("echo hi\r", "echo hi\r\nhi\r\n"), ("", PROMPT)]);
        assert_eq!(got, ["echo hi"]);
    }

    #[test]
    fn backspace_ctrl_u_and_ctrl_w_edit_the_line() {
        let got = session(&[
            ("lx\x7f", "lx\x08 \x08"),
            ("s -l\r", "s -l\r\n"),
            ("", PROMPT),
            (
                "rm -rf /tmp/a\x17\x15",
                "rm -rf /tmp/a\x08\x08\x08\x08\x08\x08\x1b[K\x08\x08\x08\x08\x08\x08\x08\x1b[K",
            ),
            ("pwd\r", "pwd\r\n/root\r\n"),
            ("", PROMPT),
            ("cat a b\x17c\r", "cat a b\x08\x1b[Kc\r\n"),
        ]);
        assert_eq!(got, ["ls -l", "pwd", "cat a c"]);
    }

    #[test]
    fn arrow_keys_edit_in_the_middle() {
        // "ecoh": left, Backspace (deletes the o), right, o → "echo"; readline's echo moves the
        // cursor and deletes with CSI P. Then "eho": left twice, c inserted with CSI @.
        let got = session(&[
            ("ecoh\x1b[D\x7f\x1b[Co\r", "ecoh\x08\x08\x1b[P\x1b[Co\r\n"),
            ("", PROMPT),
            ("eho\x1bOD\x1bODc\r", "eho\x08\x08\x1b[1@c\r\n"),
        ]);
        assert_eq!(got, ["echo", "echo"]);
    }

    #[test]
    fn history_recall_is_read_from_the_echo() {
        let got = session(&[
            ("uname -a\r", "uname -a\r\nLinux\r\n"),
            ("", PROMPT),
            ("\x1b[A", "uname -a"),
            ("\x7fr\r", "\x08\x1b[Kr\r\n"),
        ]);
        assert_eq!(got, ["uname -a", "uname -r"]);
    }

    #[test]
    fn tab_completion_is_read_from_the_echo() {
        let got = session(&[("syst\t", "systemctl "), ("status\r", "status\r\n")]);
        assert_eq!(got, ["systemctl status"]);
    }

    #[test]
    fn input_that_is_not_echoed_is_never_logged() {
        let got = session(&[
            ("sudo ls\r", "sudo ls\r\n[sudo] password for admin: "),
            ("s3cret\r", "\r\n"),
            ("", "file\r\n"),
            ("", PROMPT),
            ("id\r", "id\r\nuid=0(root)\r\n"),
        ]);
        assert_eq!(got, ["sudo ls", "id"]);
    }

    #[test]
    fn the_line_in_progress_is_what_was_echoed_after_the_prompt() {
        let mut log = CommandLog::new(80);
        log.output(PROMPT);
        assert_eq!(log.in_progress(), None);
        log.input("systemctl rest", 7);
        log.output("systemctl rest");
        log.input("a", 9);
        log.output("a");
        assert_eq!(
            log.in_progress(),
            Some(Command {
                at_ms: 7,
                text: "systemctl resta".into()
            })
        );
        log.input("rt\r", 11);
        log.output("rt\r\n");
        assert_eq!(log.in_progress(), None);
    }

    #[test]
    fn a_password_being_typed_is_not_a_line_in_progress() {
        let mut log = CommandLog::new(80);
        log.output(PROMPT);
        log.input("sudo ls\r", 1);
        log.output("sudo ls\r\n[sudo] password for admin: ");
        log.input("s3cr", 2);
        assert_eq!(log.in_progress(), None);
        // Nor while a full-screen program runs.
        let mut log = CommandLog::new(80);
        log.output("\x1b[?1049h");
        log.input(":wq", 3);
        log.output(":wq");
        assert_eq!(log.in_progress(), None);
    }

    #[test]
    fn typed_ahead_lines_pair_with_their_echo() {
        let mut log = CommandLog::new(80);
        log.output(PROMPT);
        log.input("echo a\recho b\r", 5);
        let got = texts(log.output(&format!("echo a\r\na\r\n{PROMPT}echo b\r\nb\r\n{PROMPT}")));
        assert_eq!(got, ["echo a", "echo b"]);
    }

    #[test]
    fn lines_typed_before_the_prompt_is_drawn() {
        let mut log = CommandLog::new(80);
        log.output(PROMPT);
        log.input("echo a\r", 1);
        let mut got = texts(log.output("echo a\r\na\r\n"));
        // The next line is typed while the prompt is still on its way.
        log.input("exit\r", 2);
        got.extend(texts(log.output(&format!("{PROMPT}exit\r\nlogout\r\n"))));
        assert_eq!(got, ["echo a", "exit"]);
        // Not after a password prompt: input that was not echoed stays out.
        log.input("hunter2\r", 3);
        assert!(log.output("Password: hunter2\r\n").is_empty());
    }

    #[test]
    fn japanese_and_wide_characters() {
        let got = session(&[("echo 日本語\x7f\r", "echo 日本語\x08\x08\x1b[K\r\n")]);
        assert_eq!(got, ["echo 日本"]);
    }

    #[test]
    fn long_lines_wrap_at_the_terminal_width() {
        let mut log = CommandLog::new(20);
        log.output("$ ");
        let command = "echo 0123456789abcdefghij";
        log.input(&format!("{command}\r"), 1);
        // Readline's wrap: the character in the last column, then " \r" to move to row 2.
        let echo = format!("{} \r{}\r\n", &command[..18], &command[18..]);
        assert_eq!(texts(log.output(&echo)), [command]);
    }

    #[test]
    fn full_screen_programs_log_nothing() {
        let got = session(&[
            ("vi x\r", "vi x\r\n\x1b[?1049h\x1b[H\x1b[2J~\r\n~\r\n"),
            (":wq\r", "\x1b[?1049l"),
            ("", PROMPT),
            ("ls\r", "ls\r\n"),
        ]);
        assert_eq!(got, ["vi x", "ls"]);
    }

    #[test]
    fn bracketed_paste_is_text() {
        let got = session(&[(
            "\x1b[200~echo pasted\x1b[201~\r",
            "\x1b[7mecho pasted\x1b[27m\r\x1b[13Cecho pasted\r\n",
        )]);
        assert_eq!(got, ["echo pasted"]);
    }

    #[test]
    fn ctrl_c_and_empty_lines_are_not_commands() {
        let got = session(&[
            ("sleep 9", "sleep 9"),
            ("\x03", "^C\r\n"),
            ("", PROMPT),
            ("\r", "\r\n"),
            ("", PROMPT),
            ("true\r", "true\r\n"),
        ]);
        assert_eq!(got, ["true"]);
    }

    #[test]
    fn a_tab_after_the_last_column_ends_the_pending_wrap() {
        // xterm: the tab stays on the last column, and the next character overwrites it.
        let mut log = CommandLog::new(10);
        log.output("0123456789\tx");
        assert_eq!(log.screen.text_from(0), "012345678x");
        assert!(log.screen.wrap_pending);
        // At width 1 every character leaves a wrap pending; tabs then backspaces once walked
        // the cursor below zero (fuzz/regressions/command_log/).
        let mut log = CommandLog::new(1);
        log.output("ab\t\t\t\x08\x08c");
        log.resize(0);
        log.output("\t\x08\t\x08\x08\r\n");
        assert_eq!(log.screen.cursor, 0);
    }

    #[test]
    fn hostile_input_stays_bounded() {
        let mut log = CommandLog::new(80);
        log.input(&"x".repeat(100_000), 0);
        log.output(&"y".repeat(100_000));
        log.output(&format!("\x1b[{}C\x1b[99999@", "9".repeat(500)));
        for _ in 0..1000 {
            log.input("a\r", 0);
        }
        assert!(log.pending.len() <= MAX_PENDING);
        assert!(log.screen.cells.len() <= MAX_LINE + 1);
        assert!(log.editor.line.len() <= MAX_LINE);
    }
}
