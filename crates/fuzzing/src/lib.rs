//! The bodies of Hoshu's fuzz targets (DESIGN §3: every parser of untrusted input is fuzzed).
//!
//! Each target is a plain `fn(&[u8])` that panics when an invariant breaks, so the same code
//! runs in two places: `fuzz/fuzz_targets/*.rs` hands it libFuzzer's inputs (`cargo +nightly
//! fuzz run <target>` in `fuzz/`), and `tests/corpora.rs` replays the committed corpora and
//! regression inputs through it under `cargo test`, without nightly or libFuzzer.
//!
//! | target | untrusted side | body |
//! |---|---|---|
//! | `guac_decoder` | the browser | [`guac_decoder`] |
//! | `guac_recording` | a recording file on disk | [`guac_recording`] |
//! | `rfb_client` | a VNC server (the target) | [`rfb_client`] |
//! | `demo_target_server` | a VNC client of the demo target | [`demo_target_server`] |
//! | `posture_report` | a lent device | [`posture_report`] |
//! | `command_log` | an SSH target's echo | [`command_log`] |
#![forbid(unsafe_code)]

mod command_log;
mod demo_target;
mod guac;
mod posture;
mod rfb;

pub use command_log::command_log;
pub use demo_target::demo_target_server;
pub use guac::{guac_decoder, guac_recording};
pub use posture::posture_report;
pub use rfb::rfb_client;

/// A target's body: panics when an invariant breaks.
pub type Body = fn(&[u8]);

/// Every target by its cargo-fuzz name (the name of its `fuzz/fuzz_targets/` file and of its
/// corpus directory).
pub const TARGETS: [(&str, Body); 6] = [
    ("guac_decoder", guac_decoder),
    ("guac_recording", guac_recording),
    ("rfb_client", rfb_client),
    ("demo_target_server", demo_target_server),
    ("posture_report", posture_report),
    ("command_log", command_log),
];
