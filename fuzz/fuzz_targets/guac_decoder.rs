//! The Guacamole instruction decoder on arbitrary bytes from a browser.
//!
//! Beyond "never panics, never grows without bound" (the limits hold memory
//! to one instruction), it checks that chunking never changes the result,
//! that small limits are enforced, and that what decodes re-encodes to
//! something that decodes the same.
#![no_main]

use hoshu_guac::{ClientEvent, DecodeError, Decoder, Instruction, Limits};
use libfuzzer_sys::fuzz_target;

fn decode_whole(
    limits: Limits,
    input: &[u8],
) -> (
    Vec<Result<Instruction, DecodeError>>,
    Result<(), DecodeError>,
) {
    let mut decoder = Decoder::new(limits);
    let out = decoder.feed(input).collect();
    (out, decoder.finish())
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    // The control byte picks the chunk size and whether to use tight limits,
    // so the fuzzer explores limit violations on short inputs too.
    let chunk = usize::from(control & 0x3f) + 1;
    let limits = if control & 0x40 != 0 {
        Limits {
            max_elements: 4,
            max_element_length: 16,
            max_instruction_length: 48,
        }
    } else {
        Limits::default()
    };

    let (whole, whole_end) = decode_whole(limits, input);

    let mut decoder = Decoder::new(limits);
    let mut chunked = Vec::new();
    for piece in input.chunks(chunk) {
        chunked.extend(decoder.feed(piece));
        if chunked.last().is_some_and(Result::is_err) {
            break;
        }
    }
    assert_eq!(whole, chunked, "chunking changed the result");
    if whole.last().is_none_or(Result::is_ok) {
        assert_eq!(whole_end, decoder.finish());
    }

    for instruction in whole.iter().filter_map(|r| r.as_ref().ok()) {
        let elements = 1 + instruction.args.len();
        assert!(elements <= limits.max_elements);
        for element in std::iter::once(&instruction.opcode).chain(&instruction.args) {
            assert!(hoshu_guac::utf16_len(element) <= limits.max_element_length);
        }
        // Typing must not panic; errors are fine.
        let _ = ClientEvent::parse(instruction);

        // Re-encoding is canonical (no leading zeros), so it is never longer
        // than the input and decodes to the same instruction.
        let encoded = instruction.encode();
        assert!(encoded.len() <= limits.max_instruction_length);
        let (again, end) = decode_whole(limits, encoded.as_bytes());
        assert_eq!(again, vec![Ok(instruction.clone())]);
        assert_eq!(end, Ok(()));
    }
});
