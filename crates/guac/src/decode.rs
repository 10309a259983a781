//! Bounded, incremental instruction decoder.
//!
//! The browser is untrusted input. The decoder takes bytes in chunks of any
//! size (an instruction may be split anywhere, even inside a UTF-8 sequence),
//! yields whole instructions, and holds at most one partial instruction, whose
//! size the [`Limits`] bound. Every length is checked against the limits
//! *before* the bytes it announces are accepted, so a hostile length prefix
//! costs nothing. After the first error the decoder refuses all further input:
//! a peer that broke the framing once cannot be resynchronised safely.

use crate::instruction::Instruction;

/// Hard limits on one instruction. A violation is a [`DecodeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Elements per instruction, opcode included.
    pub max_elements: usize,
    /// Length of one element's value in UTF-16 code units, as the length
    /// prefix counts it.
    pub max_element_length: usize,
    /// Bytes of one whole instruction on the wire: length prefixes, values,
    /// separators and the terminator.
    pub max_instruction_length: usize,
}

impl Default for Limits {
    /// Room for everything guacamole-common-js 1.5.0 sends. Its longest
    /// instruction is a `blob` of a clipboard or file stream:
    /// `ArrayBufferWriter.DEFAULT_BLOB_LENGTH` is 6048 bytes, 8064 base64
    /// characters. Its longest argument list is a handful of elements.
    fn default() -> Self {
        Self {
            max_elements: 64,
            max_element_length: 16 * 1024,
            max_instruction_length: 64 * 1024,
        }
    }
}

/// Why the decoder stopped. Once returned, every later call returns it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("instruction has more than {limit} elements")]
    TooManyElements { limit: usize },
    #[error("element length exceeds the limit of {limit} utf-16 code units")]
    ElementTooLong { limit: usize },
    #[error("instruction exceeds the limit of {limit} bytes")]
    InstructionTooLong { limit: usize },
    #[error("element length must be decimal digits followed by '.', found byte 0x{found:02x}")]
    InvalidLength { found: u8 },
    #[error("expected ',' or ';' after an element value, found byte 0x{found:02x}")]
    MissingSeparator { found: u8 },
    #[error("element value is not valid utf-8")]
    InvalidUtf8,
    #[error("element length ends inside a character outside the basic multilingual plane")]
    LengthSplitsCharacter,
    #[error("input ended inside an instruction")]
    Truncated,
}

/// Result of one [`Decoder::decode`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Bytes of the input taken. Less than the input only when an
    /// instruction completed; pass the rest to the next call.
    pub consumed: usize,
    /// The instruction completed by this call, if any.
    pub instruction: Option<Instruction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the decimal length prefix of an element.
    Length { value: usize, digits: usize },
    /// Reading an element's value: `remaining` UTF-16 code units to go, and
    /// `continuation` bytes still owed by the current UTF-8 sequence.
    Value { remaining: usize, continuation: u8 },
    /// A value just ended: `,` (next element) or `;` (end) must follow.
    Separator,
}

const START: State = State::Length {
    value: 0,
    digits: 0,
};

/// Incremental decoder. See the module documentation.
#[derive(Debug, Clone)]
pub struct Decoder {
    limits: Limits,
    state: State,
    /// Bytes of the current instruction seen so far.
    instruction_len: usize,
    /// UTF-8 bytes of the element value being read.
    value: Vec<u8>,
    /// Finished elements of the current instruction, opcode first.
    elements: Vec<String>,
    failed: Option<DecodeError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: START,
            instruction_len: 0,
            value: Vec::new(),
            elements: Vec::new(),
            failed: None,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// True between instructions: no partial instruction is held. A
    /// WebSocket message must hold whole instructions only (notes, "Wire
    /// format"), so the gateway checks this after each message.
    pub fn is_idle(&self) -> bool {
        self.failed.is_none() && self.instruction_len == 0
    }

    /// Declares the end of input: an error if it ended inside an
    /// instruction, or if the decoder had failed earlier.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.instruction_len != 0 {
            return Err(DecodeError::Truncated);
        }
        Ok(())
    }

    /// Decodes from `input` until one instruction completes or the input is
    /// used up.
    pub fn decode(&mut self, input: &[u8]) -> Result<Step, DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        for (index, &byte) in input.iter().enumerate() {
            match self.accept(byte) {
                Ok(None) => {}
                Ok(Some(instruction)) => {
                    return Ok(Step {
                        consumed: index + 1,
                        instruction: Some(instruction),
                    });
                }
                Err(error) => {
                    // Drop the partial instruction: nothing more will be
                    // decoded, so it would only hold memory.
                    self.value = Vec::new();
                    self.elements = Vec::new();
                    self.failed = Some(error.clone());
                    return Err(error);
                }
            }
        }
        Ok(Step {
            consumed: input.len(),
            instruction: None,
        })
    }

    /// Iterates over the instructions completed by `input`. The iterator
    /// takes all of `input`; a trailing partial instruction is kept for the
    /// next call. After an error it ends.
    pub fn feed<'d, 'i>(&'d mut self, input: &'i [u8]) -> Feed<'d, 'i> {
        Feed {
            decoder: self,
            input,
        }
    }

    /// Takes one byte of the current instruction.
    fn accept(&mut self, byte: u8) -> Result<Option<Instruction>, DecodeError> {
        self.instruction_len += 1;
        if self.instruction_len > self.limits.max_instruction_length {
            return Err(DecodeError::InstructionTooLong {
                limit: self.limits.max_instruction_length,
            });
        }
        match self.state {
            State::Length { value, digits } => match byte {
                b'0'..=b'9' => {
                    // Checked against the limit digit by digit, so a long
                    // run of digits can neither overflow nor get far.
                    let too_long = DecodeError::ElementTooLong {
                        limit: self.limits.max_element_length,
                    };
                    let value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(usize::from(byte - b'0')))
                        .filter(|&v| v <= self.limits.max_element_length)
                        .ok_or(too_long)?;
                    self.state = State::Length {
                        value,
                        digits: digits + 1,
                    };
                }
                b'.' if digits > 0 => {
                    if value == 0 {
                        self.elements.push(String::new());
                        self.state = State::Separator;
                    } else {
                        self.state = State::Value {
                            remaining: value,
                            continuation: 0,
                        };
                    }
                }
                _ => return Err(DecodeError::InvalidLength { found: byte }),
            },
            State::Value {
                remaining,
                continuation,
            } => {
                self.value.push(byte);
                let (remaining, continuation) = if continuation > 0 {
                    if byte & 0b1100_0000 != 0b1000_0000 {
                        return Err(DecodeError::InvalidUtf8);
                    }
                    (remaining, continuation - 1)
                } else {
                    // The lead byte tells the sequence length and so the
                    // UTF-16 units it will count: four-byte sequences are the
                    // characters outside the BMP, a surrogate pair in UTF-16.
                    // Overlong forms and encoded surrogates pass this coarse
                    // check and are caught by `String::from_utf8` below.
                    let (units, continuation) = match byte {
                        0x00..=0x7f => (1, 0),
                        0xc2..=0xdf => (1, 1),
                        0xe0..=0xef => (1, 2),
                        0xf0..=0xf4 => (2, 3),
                        _ => return Err(DecodeError::InvalidUtf8),
                    };
                    if units > remaining {
                        return Err(DecodeError::LengthSplitsCharacter);
                    }
                    (remaining - units, continuation)
                };
                if remaining == 0 && continuation == 0 {
                    let value = String::from_utf8(std::mem::take(&mut self.value))
                        .map_err(|_| DecodeError::InvalidUtf8)?;
                    self.elements.push(value);
                    self.state = State::Separator;
                } else {
                    self.state = State::Value {
                        remaining,
                        continuation,
                    };
                }
            }
            State::Separator => match byte {
                b',' => {
                    if self.elements.len() >= self.limits.max_elements {
                        return Err(DecodeError::TooManyElements {
                            limit: self.limits.max_elements,
                        });
                    }
                    self.state = START;
                }
                b';' => {
                    self.state = START;
                    self.instruction_len = 0;
                    let mut elements = std::mem::take(&mut self.elements).into_iter();
                    // INVARIANT: Separator is entered only after an element
                    // was pushed, so `elements` has at least the opcode.
                    let opcode = elements.next().unwrap_or_default();
                    return Ok(Some(Instruction {
                        opcode,
                        args: elements.collect(),
                    }));
                }
                _ => return Err(DecodeError::MissingSeparator { found: byte }),
            },
        }
        Ok(None)
    }
}

/// Iterator returned by [`Decoder::feed`].
#[derive(Debug)]
pub struct Feed<'d, 'i> {
    decoder: &'d mut Decoder,
    input: &'i [u8],
}

impl Iterator for Feed<'_, '_> {
    type Item = Result<Instruction, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.input.is_empty() {
            return None;
        }
        match self.decoder.decode(self.input) {
            Ok(Step {
                consumed,
                instruction,
            }) => {
                self.input = self.input.get(consumed..).unwrap_or_default();
                instruction.map(Ok)
            }
            Err(error) => {
                self.input = &[];
                Some(Err(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(decoder: &mut Decoder, input: &[u8]) -> Result<Vec<Instruction>, DecodeError> {
        decoder.feed(input).collect()
    }

    fn instr(opcode: &str, args: &[&str]) -> Instruction {
        Instruction::new(opcode, args.iter().copied())
    }

    #[test]
    fn decodes_instructions_from_the_notes() {
        let mut decoder = Decoder::default();
        let got = decode_all(
            &mut decoder,
            b"5.mouse,3.100,3.150,1.1;3.key,2.97,1.1;0.,4.ping,13.1795654184886;10.disconnect;",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                instr("mouse", &["100", "150", "1"]),
                instr("key", &["97", "1"]),
                instr("", &["ping", "1795654184886"]),
                instr("disconnect", &[]),
            ]
        );
        assert!(decoder.is_idle());
        assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn counts_utf16_code_units_not_bytes_or_code_points() {
        // "a😀é": 1 + 2 + 1 UTF-16 units, 1 + 4 + 2 bytes.
        let mut decoder = Decoder::default();
        let got = decode_all(&mut decoder, "9.clipboard,4.a😀é;".as_bytes()).unwrap();
        assert_eq!(got, vec![instr("clipboard", &["a😀é"])]);

        // Counting code points (as guacd does) would say 3 and is refused:
        // the value is then followed by 'é' instead of a separator.
        let mut decoder = Decoder::default();
        assert!(decode_all(&mut decoder, "1.x,3.a😀é;".as_bytes()).is_err());
    }

    #[test]
    fn a_length_that_ends_inside_a_surrogate_pair_is_an_error() {
        let mut decoder = Decoder::default();
        assert_eq!(
            decode_all(&mut decoder, "1.x,1.😀;".as_bytes()),
            Err(DecodeError::LengthSplitsCharacter)
        );
    }

    #[test]
    fn every_split_point_gives_the_same_instructions() {
        let input = "4.name,4.a😀é;0.,0.;4.sync,3.123;".as_bytes();
        let mut whole = Decoder::default();
        let expected = decode_all(&mut whole, input).unwrap();
        for split in 0..=input.len() {
            let mut decoder = Decoder::default();
            let (a, b) = input.split_at(split);
            let mut got = decode_all(&mut decoder, a).unwrap();
            got.extend(decode_all(&mut decoder, b).unwrap());
            assert_eq!(got, expected, "split at {split}");
        }
        // And one byte at a time.
        let mut decoder = Decoder::default();
        let mut got = Vec::new();
        for byte in input {
            got.extend(decode_all(&mut decoder, std::slice::from_ref(byte)).unwrap());
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn decode_stops_after_each_instruction() {
        let mut decoder = Decoder::default();
        let step = decoder.decode(b"3.nop;3.nop").unwrap();
        assert_eq!(step.consumed, 6);
        assert_eq!(step.instruction, Some(instr("nop", &[])));
        let step = decoder.decode(b"3.nop").unwrap();
        assert_eq!(step.consumed, 5);
        assert_eq!(step.instruction, None);
        assert!(!decoder.is_idle());
        assert_eq!(decoder.finish(), Err(DecodeError::Truncated));
    }

    #[test]
    fn framing_errors_are_typed() {
        let cases: &[(&[u8], DecodeError)] = &[
            (b";", DecodeError::InvalidLength { found: b';' }),
            (b".x;", DecodeError::InvalidLength { found: b'.' }),
            (b"-1.x;", DecodeError::InvalidLength { found: b'-' }),
            (b"3x.nop;", DecodeError::InvalidLength { found: b'x' }),
            (b"3.nop,;", DecodeError::InvalidLength { found: b';' }),
            (b"3.nopx", DecodeError::MissingSeparator { found: b'x' }),
            (
                b"3.nop 3.nop;",
                DecodeError::MissingSeparator { found: b' ' },
            ),
            (b"1.\xff;", DecodeError::InvalidUtf8),
            (b"1.\x80;", DecodeError::InvalidUtf8),
            // Overlong encoding of '/'.
            (b"1.\xc0\xaf;", DecodeError::InvalidUtf8),
            // An encoded surrogate half, which UTF-8 forbids.
            (b"1.\xed\xa0\x80;", DecodeError::InvalidUtf8),
            // A lead byte followed by a non-continuation byte.
            (b"1.\xc3a;", DecodeError::InvalidUtf8),
        ];
        for (input, expected) in cases {
            let mut decoder = Decoder::default();
            let got =
                decode_all(&mut decoder, b"3.nop;").and_then(|_| decode_all(&mut decoder, input));
            let printable = String::from_utf8_lossy(input);
            assert_eq!(got.as_ref(), Err(expected), "input {printable:?}");
        }
    }

    #[test]
    fn refuses_all_input_after_an_error() {
        let mut decoder = Decoder::default();
        assert!(decoder.decode(b"3.nopx").is_err());
        assert_eq!(
            decoder.decode(b"3.nop;"),
            Err(DecodeError::MissingSeparator { found: b'x' })
        );
        assert_eq!(
            decoder.finish(),
            Err(DecodeError::MissingSeparator { found: b'x' })
        );
        assert!(!decoder.is_idle());
    }

    #[test]
    fn element_count_limit() {
        let limits = Limits {
            max_elements: 3,
            ..Limits::default()
        };
        let mut decoder = Decoder::new(limits);
        assert_eq!(
            decode_all(&mut decoder, b"1.a,1.b,1.c;").unwrap(),
            vec![instr("a", &["b", "c"])]
        );
        assert_eq!(
            decode_all(&mut decoder, b"1.a,1.b,1.c,"),
            Err(DecodeError::TooManyElements { limit: 3 })
        );
    }

    #[test]
    fn element_length_limit_counts_utf16_units_and_rejects_the_prefix_early() {
        let limits = Limits {
            max_element_length: 4,
            ..Limits::default()
        };
        let mut decoder = Decoder::new(limits);
        assert_eq!(
            decode_all(&mut decoder, "1.x,4.😀😀;".as_bytes()).unwrap(),
            vec![instr("x", &["😀😀"])]
        );
        // Rejected at the digit that makes the length too large, before any
        // of the announced value is read.
        assert_eq!(
            decode_all(&mut decoder, b"5"),
            Err(DecodeError::ElementTooLong { limit: 4 })
        );
        let mut decoder = Decoder::new(limits);
        assert_eq!(
            decode_all(&mut decoder, b"99999999999999999999999999999999"),
            Err(DecodeError::ElementTooLong { limit: 4 })
        );
    }

    #[test]
    fn lengths_cannot_overflow_even_without_limits() {
        let mut decoder = Decoder::new(Limits {
            max_elements: usize::MAX,
            max_element_length: usize::MAX,
            max_instruction_length: usize::MAX,
        });
        assert_eq!(
            decode_all(&mut decoder, &[b'9'; 40]),
            Err(DecodeError::ElementTooLong { limit: usize::MAX })
        );
    }

    #[test]
    fn instruction_length_limit_counts_wire_bytes() {
        let limits = Limits {
            max_instruction_length: 10,
            ..Limits::default()
        };
        let mut decoder = Decoder::new(limits);
        // Exactly 10 bytes is allowed, and the count restarts per instruction.
        assert_eq!(
            decode_all(&mut decoder, b"1.a,3.bcd;1.a,3.bcd;")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            decode_all(&mut decoder, b"1.a,4.bcde;"),
            Err(DecodeError::InstructionTooLong { limit: 10 })
        );
        // Leading zeros in a length are digits like any other: bounded by
        // the instruction length, not a way around it.
        let mut decoder = Decoder::new(limits);
        assert_eq!(
            decode_all(&mut decoder, b"000000000001.a;"),
            Err(DecodeError::InstructionTooLong { limit: 10 })
        );
    }

    #[test]
    fn memory_is_released_after_an_error() {
        let mut decoder = Decoder::default();
        let mut input = b"1.a,9999.".to_vec();
        input.extend(std::iter::repeat_n(b'z', 9000));
        input.push(0xff);
        assert_eq!(
            decode_all(&mut decoder, &input),
            Err(DecodeError::InvalidUtf8)
        );
        assert_eq!(decoder.value.capacity(), 0);
        assert_eq!(decoder.elements.capacity(), 0);
    }

    proptest! {
        #[test]
        fn arbitrary_chunking_never_changes_the_result(
            input in proptest::collection::vec(
                prop_oneof![
                    Just(b'0'), Just(b'1'), Just(b'3'), Just(b'.'), Just(b','), Just(b';'),
                    Just(b'a'), Just(0xf0), Just(0x9f), Just(0x98), Just(0x80), any::<u8>(),
                ],
                0..64,
            ),
            cuts in proptest::collection::vec(0usize..64, 0..8),
        ) {
            let mut whole = Decoder::new(Limits { max_elements: 4, max_element_length: 8, max_instruction_length: 32 });
            let expected: Vec<_> = whole.feed(&input).collect();

            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
            cuts.sort_unstable();
            let mut decoder = Decoder::new(whole.limits());
            let mut got = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([input.len()]) {
                got.extend(decoder.feed(&input[start..cut]));
                start = cut;
            }
            // A failed decoder answers every later chunk with the same error;
            // compare up to and including the first one.
            if let Some(first_error) = got.iter().position(Result::is_err) {
                got.truncate(first_error + 1);
            }
            prop_assert_eq!(got, expected);
            prop_assert_eq!(decoder.finish(), whole.finish());
        }
    }
}
