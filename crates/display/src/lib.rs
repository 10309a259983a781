//! The session engine's pure parts (DESIGN §3 `display/`): no sockets, no files, no clock of
//! their own, so each is unit-tested here and fuzzed in `fuzz/`.
//!
//! - [`display`]: a remote screen's changes → Guacamole drawing instructions, paced by the
//!   browser's `sync` replies; [`region`] the dirty region it keeps; [`image`] the tiles' PNG
//!   and JPEG encodings and thumbnails.
//! - [`keyframes`]: when a recording gets its next full picture.
//! - [`command_log`]: the commands typed at an SSH shell prompt, from what was typed and what the
//!   terminal echoed (a hostile target controls the echo).
//! - [`escapes`]: what an SSH target's output may make the browser's terminal do.
//! - [`utf8`]: text from a byte stream that splits characters between reads.
#![forbid(unsafe_code)]

pub mod command_log;
pub mod display;
pub mod escapes;
pub mod image;
pub mod keyframes;
pub mod region;
pub mod utf8;

pub use command_log::{Command, CommandLog};
pub use display::{Display, Screen};
pub use escapes::EscapeFilter;
pub use keyframes::KeyframeSchedule;
pub use region::{DirtyRegion, Rect};
pub use utf8::Utf8Stream;
