//! The `guac_decoder` target; its body, with what it checks, is `hoshu_fuzzing::guac_decoder`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoshu_fuzzing::guac_decoder(data));
