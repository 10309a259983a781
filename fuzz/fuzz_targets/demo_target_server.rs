//! The `demo_target_server` target; its body, with what it checks, is `hoshu_fuzzing::demo_target_server`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoshu_fuzzing::demo_target_server(data));
