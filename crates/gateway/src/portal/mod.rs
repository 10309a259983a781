//! The portal: what a user sees first (the targets they may open, their devices, work and
//! notifications).

pub mod pages;
pub mod texts;
