//! The `command_log` target; its body, with what it checks, is `hoshu_fuzzing::command_log`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hoshu_fuzzing::command_log(data));
