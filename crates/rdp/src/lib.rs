//! Hoshu's RDP adapter, the parts without I/O (DESIGN §3): IronRDP's connector and active stage
//! are sans-IO already; this crate adds what Hoshu decides around them. The tokio driver that
//! reads and writes sockets is `hoshu-gateway`'s `session::rdp`.

#![forbid(unsafe_code)]

pub mod failure;
pub mod keymap;
pub mod limits;
pub mod pin;
pub mod pointer;
pub mod settings;
