//! The instruction type shared by the decoder and the encoder, and the one
//! place that writes elements on the wire.
//!
//! Wire format (notes/guacamole-protocol.md, "Wire format"): elements
//! `LENGTH.VALUE` joined by `,`, terminated by `;`; the first element is the
//! opcode. LENGTH is the value's length in UTF-16 code units, because
//! guacamole-common-js 1.5.0 cuts values with `String.substring`. guacd counts
//! code points instead; the two agree on the Basic Multilingual Plane, and we
//! must speak to the browser, so a character outside it counts 2.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// One decoded or to-be-encoded instruction: an opcode and its arguments.
///
/// The opcode `""` is the tunnel's internal channel (the tunnel UUID, pings);
/// guacamole-common-js never hands those to `Guacamole.Client`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Instruction {
    pub opcode: String,
    pub args: Vec<String>,
}

impl Instruction {
    pub fn new<A: Into<String>>(
        opcode: impl Into<String>,
        args: impl IntoIterator<Item = A>,
    ) -> Self {
        Self {
            opcode: opcode.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// Appends the wire form of this instruction to `out`.
    pub fn encode_into(&self, out: &mut String) {
        push_str_element(out, &self.opcode);
        for arg in &self.args {
            out.push(',');
            push_str_element(out, arg);
        }
        out.push(';');
    }

    /// The wire form of this instruction.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }
}

/// One argument for [`write_instruction`], written without building a
/// `String` per argument first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// Text, written as is.
    Str(&'a str),
    /// A signed decimal integer (coordinates, layers).
    Int(i64),
    /// An unsigned decimal integer (sizes, stream indices, timestamps).
    Uint(u64),
    /// Bytes written as standard padded base64, the encoding `blob` uses
    /// (guacamole-common-js decodes blobs with `window.atob`).
    Base64(&'a [u8]),
}

/// Appends `opcode` and `args` to `out` as one instruction.
pub fn write_instruction(out: &mut String, opcode: &str, args: &[Arg<'_>]) {
    push_str_element(out, opcode);
    for arg in args {
        out.push(',');
        match *arg {
            Arg::Str(value) => push_str_element(out, value),
            Arg::Int(value) => push_str_element(out, &value.to_string()),
            Arg::Uint(value) => push_str_element(out, &value.to_string()),
            Arg::Base64(data) => {
                // Padded base64 is 4 ASCII characters per started 3 bytes, and
                // ASCII's byte length is its UTF-16 length. A slice holds at
                // most isize::MAX bytes, so this cannot overflow a usize.
                let len = data.len().div_ceil(3) * 4;
                out.push_str(&len.to_string());
                out.push('.');
                BASE64.encode_string(data, out);
            }
        }
    }
    out.push(';');
}

/// Length of `value` as the protocol counts it: UTF-16 code units.
pub fn utf16_len(value: &str) -> usize {
    // ASCII is the overwhelmingly common case (numbers, base64, opcodes).
    if value.is_ascii() {
        value.len()
    } else {
        value.chars().map(char::len_utf16).sum()
    }
}

fn push_str_element(out: &mut String, value: &str) {
    out.push_str(&utf16_len(value).to_string());
    out.push('.');
    out.push_str(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lengths_in_utf16_code_units() {
        // U+1F600 is outside the BMP: one code point, two UTF-16 units, four
        // UTF-8 bytes. The browser's substring counts 2.
        let instr = Instruction::new("name", ["a😀é"]);
        assert_eq!(instr.encode(), "4.name,4.a😀é;");
    }

    #[test]
    fn encodes_empty_opcode_and_empty_args() {
        let instr = Instruction::new("", ["ping", ""]);
        assert_eq!(instr.encode(), "0.,4.ping,0.;");
        assert_eq!(
            Instruction::new("nop", Vec::<String>::new()).encode(),
            "3.nop;"
        );
    }

    #[test]
    fn writes_integer_and_base64_arguments() {
        let mut out = String::new();
        write_instruction(
            &mut out,
            "blob",
            &[
                Arg::Int(-1),
                Arg::Uint(u64::MAX),
                Arg::Base64(b"hello"),
                Arg::Str("x"),
            ],
        );
        assert_eq!(out, "4.blob,2.-1,20.18446744073709551615,8.aGVsbG8=,1.x;");
        out.clear();
        write_instruction(&mut out, "blob", &[Arg::Base64(b"")]);
        assert_eq!(out, "4.blob,0.;");
    }
}
