//! Targets (DESIGN §5): the servers vendors work on, with their pinned identities and sealed
//! credentials.

pub mod cli;
