//! The audit log (DESIGN §7): search, verification, exports, and the syslog exporter.

pub mod api;
pub mod cli;
pub mod export;
pub mod pages;
pub mod texts;
