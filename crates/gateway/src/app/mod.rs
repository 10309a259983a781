//! What every feature stands on, and where they are put together: the route table (every route
//! with the access it needs), the guard every request passes, the shared state, the throttle,
//! HTTP plumbing and errors, configuration, TLS and the server with its services.

pub mod config;
pub mod connections;
pub mod error;
pub mod fields;
pub mod guard;
pub mod routes;
pub mod server;
pub mod services;
pub mod state;
pub mod throttle;
pub mod tls;
pub mod web;

#[cfg(test)]
mod route_tests;
