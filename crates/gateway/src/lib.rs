//! The Hoshu gateway (DESIGN §2–§3): one folder per feature, each with its operations
//! (`mod.rs`) and its JSON API, pages, command line and texts; `app` puts them together (routes,
//! guard, state, server) and `ui` holds what every page shares (layout, forms, languages).
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod ui;

pub mod audit;
pub mod demo;
pub mod devices;
pub mod emergency;
pub mod login;
pub mod portal;
pub mod sessions;
pub mod targets;
pub mod vendors;
pub mod work;
