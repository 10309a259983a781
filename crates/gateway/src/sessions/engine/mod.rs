//! The session engine: what runs between the browser's WebSocket and the target's connection,
//! per protocol, with the recorders and the watchers. Its pure parts (display, region, images,
//! keyframes, the command-log line editor, the UTF-8 stream decoder) are the crate
//! `hoshu-display`.

pub mod budget;
pub mod cast;
pub mod cpu;
pub mod desktop;
pub mod keylog;
pub mod lifetime;
pub mod outcome;
pub mod rdp;
mod rdp_tls;
pub mod recorder;
pub mod ssh;
pub mod terminal;
pub mod tunnel;
pub mod vnc;
pub mod watchers;
pub mod watching;
