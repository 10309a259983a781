//! The `posture_report` target; its body, with what it checks, is `hoshu_fuzzing::posture_report`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoshu_fuzzing::posture_report(data));
