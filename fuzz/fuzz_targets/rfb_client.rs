//! The `rfb_client` target; its body, with what it checks, is `hoshu_fuzzing::rfb_client`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoshu_fuzzing::rfb_client(data));
