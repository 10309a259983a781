//! What the browser sends, as typed events.
//!
//! guacamole-common-js 1.5.0 sends (notes, "Client->server"): `mouse,x,y,mask`,
//! `key,keysym,pressed`, `size,w,h`, `sync,ts`, `ack,…`, `nop`,
//! `disconnect`, stream instructions (`clipboard`, `blob`, `end`, and
//! file/pipe/argv/put/get), and on the tunnel's internal channel
//! `0.,4.ping,<ts>`. Later protocol versions append arguments to existing
//! instructions, so extra trailing arguments are ignored, as guacd does;
//! missing or malformed ones are errors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::encode::{Status, StreamIndex};
use crate::instruction::Instruction;

/// Pressed mouse buttons and scroll steps, as `Guacamole.Client` builds the
/// mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MouseButtons(pub u8);

impl MouseButtons {
    pub const LEFT: u8 = 1;
    pub const MIDDLE: u8 = 2;
    pub const RIGHT: u8 = 4;
    /// Scroll up: sent as a press then a release.
    pub const UP: u8 = 8;
    /// Scroll down: sent as a press then a release.
    pub const DOWN: u8 = 16;

    pub fn contains(self, button: u8) -> bool {
        self.0 & button == button
    }
}

/// One instruction from the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Pointer position in display pixels (floored by the client; may lie
    /// outside the display while dragging) and buttons.
    Mouse {
        x: i32,
        y: i32,
        buttons: MouseButtons,
    },
    /// An X11 keysym pressed or released (Return is 65293).
    Key { keysym: u32, pressed: bool },
    /// The browser asks for a display size (the page calls `sendSize`).
    Size { width: u32, height: u32 },
    /// The browser has rendered the frame that ended with the `sync`
    /// carrying this timestamp: the signal for flow control.
    Sync { timestamp_ms: u64 },
    /// The browser opens a clipboard stream (paste into the target); its data
    /// follows in `Blob`s until `End`.
    Clipboard {
        stream: StreamIndex,
        mimetype: String,
    },
    /// The browser opens a stream with the value of connection parameter `name` (its answer
    /// to `required`); the value follows in `Blob`s until `End`.
    Argv {
        stream: StreamIndex,
        mimetype: String,
        name: String,
    },
    /// A piece of a browser stream's data, base64-decoded.
    Blob { stream: StreamIndex, data: Vec<u8> },
    /// A browser stream ends.
    End { stream: StreamIndex },
    /// The browser acknowledges (or refuses, with an error status) a blob of
    /// a stream the gateway opened.
    Ack {
        stream: StreamIndex,
        message: String,
        status: Status,
    },
    /// Keep-alive, every 5 s; nothing to do.
    Nop,
    /// The user disconnects; the WebSocket closes next.
    Disconnect,
    /// Tunnel keep-alive `0.,4.ping,<ts>`: echo it verbatim with
    /// [`ServerInstruction::TunnelPing`](crate::ServerInstruction::TunnelPing)
    /// or the browser declares the tunnel unstable after 1.5 s.
    Ping { timestamp: String },
    /// Any other instruction (file, pipe, put, get, other internal
    /// ops). The gateway forwards none of them (DESIGN §5: no file
    /// transfer); it may refuse streams with an `ack` error.
    Unsupported { opcode: String },
}

/// A browser instruction whose arguments do not fit its opcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("{opcode} instruction is missing its {argument} argument")]
    MissingArgument {
        opcode: &'static str,
        argument: &'static str,
    },
    #[error("{opcode} instruction has an invalid {argument} argument")]
    InvalidArgument {
        opcode: &'static str,
        argument: &'static str,
    },
}

impl ClientEvent {
    /// Types one decoded instruction from the browser.
    pub fn parse(instruction: &Instruction) -> Result<ClientEvent, EventError> {
        let args = Args {
            opcode: "",
            values: &instruction.args,
        };
        let event = match instruction.opcode.as_str() {
            "mouse" => {
                let args = args.named("mouse");
                ClientEvent::Mouse {
                    x: args.number(0, "x")?,
                    y: args.number(1, "y")?,
                    buttons: MouseButtons(args.number(2, "button mask")?),
                }
            }
            "key" => {
                let args = args.named("key");
                ClientEvent::Key {
                    keysym: args.number(0, "keysym")?,
                    pressed: match args.get(1, "pressed")? {
                        "1" => true,
                        "0" => false,
                        _ => return Err(args.invalid("pressed")),
                    },
                }
            }
            "size" => {
                let args = args.named("size");
                ClientEvent::Size {
                    width: args.number(0, "width")?,
                    height: args.number(1, "height")?,
                }
            }
            "sync" => ClientEvent::Sync {
                timestamp_ms: args.named("sync").number(0, "timestamp")?,
            },
            "clipboard" => {
                let args = args.named("clipboard");
                ClientEvent::Clipboard {
                    stream: StreamIndex(args.number(0, "stream")?),
                    mimetype: args.get(1, "mimetype")?.to_owned(),
                }
            }
            "argv" => {
                let args = args.named("argv");
                ClientEvent::Argv {
                    stream: StreamIndex(args.number(0, "stream")?),
                    mimetype: args.get(1, "mimetype")?.to_owned(),
                    name: args.get(2, "name")?.to_owned(),
                }
            }
            "blob" => {
                let args = args.named("blob");
                ClientEvent::Blob {
                    stream: StreamIndex(args.number(0, "stream")?),
                    // `btoa` output: standard alphabet, padded. The decoder's
                    // element limit bounds its size.
                    data: BASE64
                        .decode(args.get(1, "data")?)
                        .map_err(|_| args.invalid("data"))?,
                }
            }
            "end" => ClientEvent::End {
                stream: StreamIndex(args.named("end").number(0, "stream")?),
            },
            "ack" => {
                let args = args.named("ack");
                ClientEvent::Ack {
                    stream: StreamIndex(args.number(0, "stream")?),
                    message: args.get(1, "message")?.to_owned(),
                    status: Status(args.number(2, "status")?),
                }
            }
            "nop" => ClientEvent::Nop,
            "disconnect" => ClientEvent::Disconnect,
            "" if instruction.args.first().map(String::as_str) == Some("ping") => {
                ClientEvent::Ping {
                    timestamp: args.named("ping").get(1, "timestamp")?.to_owned(),
                }
            }
            other => ClientEvent::Unsupported {
                opcode: other.to_owned(),
            },
        };
        Ok(event)
    }
}

/// An instruction's arguments, with the opcode for error messages.
#[derive(Clone, Copy)]
struct Args<'a> {
    opcode: &'static str,
    values: &'a [String],
}

impl<'a> Args<'a> {
    fn named(self, opcode: &'static str) -> Self {
        Self { opcode, ..self }
    }

    fn get(self, index: usize, argument: &'static str) -> Result<&'a str, EventError> {
        self.values
            .get(index)
            .map(String::as_str)
            .ok_or(EventError::MissingArgument {
                opcode: self.opcode,
                argument,
            })
    }

    /// A decimal number: optional `-` for signed types, then ASCII digits
    /// only (Rust's `parse` would also take a leading `+`, which no browser
    /// sends).
    fn number<T: std::str::FromStr>(
        self,
        index: usize,
        argument: &'static str,
    ) -> Result<T, EventError> {
        let text = self.get(index, argument)?;
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.invalid(argument));
        }
        text.parse().map_err(|_| self.invalid(argument))
    }

    fn invalid(self, argument: &'static str) -> EventError {
        EventError::InvalidArgument {
            opcode: self.opcode,
            argument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opcode: &str, args: &[&str]) -> Result<ClientEvent, EventError> {
        ClientEvent::parse(&Instruction::new(opcode, args.iter().copied()))
    }

    #[test]
    fn parses_what_guacamole_common_js_sends() {
        assert_eq!(
            parse("mouse", &["100", "150", "5"]),
            Ok(ClientEvent::Mouse {
                x: 100,
                y: 150,
                buttons: MouseButtons(MouseButtons::LEFT | MouseButtons::RIGHT),
            })
        );
        assert_eq!(
            parse("mouse", &["-3", "0", "0", "1795654184886"]),
            Ok(ClientEvent::Mouse {
                x: -3,
                y: 0,
                buttons: MouseButtons(0),
            })
        );
        assert_eq!(
            parse("key", &["65293", "1"]),
            Ok(ClientEvent::Key {
                keysym: 65293,
                pressed: true,
            })
        );
        assert_eq!(
            parse("key", &["97", "0"]),
            Ok(ClientEvent::Key {
                keysym: 97,
                pressed: false,
            })
        );
        assert_eq!(
            parse("size", &["640", "480"]),
            Ok(ClientEvent::Size {
                width: 640,
                height: 480,
            })
        );
        assert_eq!(
            parse("sync", &["1795654056793"]),
            Ok(ClientEvent::Sync {
                timestamp_ms: 1_795_654_056_793,
            })
        );
        assert_eq!(
            parse("argv", &["3", "text/plain", "password"]),
            Ok(ClientEvent::Argv {
                stream: StreamIndex(3),
                mimetype: "text/plain".into(),
                name: "password".into(),
            })
        );
        assert_eq!(
            parse("clipboard", &["0", "text/plain"]),
            Ok(ClientEvent::Clipboard {
                stream: StreamIndex(0),
                mimetype: "text/plain".into(),
            })
        );
        assert_eq!(
            parse("blob", &["0", "44GT44KT44Gr44Gh44Gv"]),
            Ok(ClientEvent::Blob {
                stream: StreamIndex(0),
                data: "こんにちは".as_bytes().to_vec(),
            })
        );
        assert_eq!(
            parse("end", &["0"]),
            Ok(ClientEvent::End {
                stream: StreamIndex(0),
            })
        );
        assert_eq!(
            parse("ack", &["1", "OK", "0"]),
            Ok(ClientEvent::Ack {
                stream: StreamIndex(1),
                message: "OK".into(),
                status: Status::SUCCESS,
            })
        );
        assert_eq!(parse("nop", &[]), Ok(ClientEvent::Nop));
        assert_eq!(parse("disconnect", &[]), Ok(ClientEvent::Disconnect));
        assert_eq!(
            parse("", &["ping", "1795654184886"]),
            Ok(ClientEvent::Ping {
                timestamp: "1795654184886".into(),
            })
        );
    }

    #[test]
    fn other_instructions_are_unsupported_not_errors() {
        assert_eq!(
            parse("file", &["1", "application/pdf", "secret.pdf"]),
            Ok(ClientEvent::Unsupported {
                opcode: "file".into(),
            })
        );
        assert_eq!(
            parse("", &["other"]),
            Ok(ClientEvent::Unsupported { opcode: "".into() })
        );
    }

    #[test]
    fn malformed_arguments_are_typed_errors() {
        let missing = |opcode, argument| Err(EventError::MissingArgument { opcode, argument });
        let invalid = |opcode, argument| Err(EventError::InvalidArgument { opcode, argument });
        assert_eq!(parse("mouse", &["1", "2"]), missing("mouse", "button mask"));
        assert_eq!(
            parse("mouse", &["1", "2", "256"]),
            invalid("mouse", "button mask")
        );
        assert_eq!(parse("mouse", &["+1", "2", "0"]), invalid("mouse", "x"));
        assert_eq!(parse("mouse", &["", "2", "0"]), invalid("mouse", "x"));
        assert_eq!(parse("mouse", &["1.5", "2", "0"]), invalid("mouse", "x"));
        assert_eq!(parse("key", &["-1", "1"]), invalid("key", "keysym"));
        assert_eq!(parse("key", &["97", "true"]), invalid("key", "pressed"));
        assert_eq!(
            parse("size", &["99999999999", "1"]),
            invalid("size", "width")
        );
        assert_eq!(parse("sync", &[]), missing("sync", "timestamp"));
        assert_eq!(
            parse("blob", &["0", "not base64!"]),
            invalid("blob", "data")
        );
        assert_eq!(
            parse("ack", &["1", "OK", "70000"]),
            invalid("ack", "status")
        );
        assert_eq!(parse("", &["ping"]), missing("ping", "timestamp"));
        assert_eq!(
            EventError::MissingArgument {
                opcode: "sync",
                argument: "timestamp"
            }
            .to_string(),
            "sync instruction is missing its timestamp argument"
        );
    }
}
