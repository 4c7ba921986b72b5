//! The `tessera` binary's library half: configuration and start-up, shared by `main`
//! and the integration tests.

pub mod config;
pub mod jobs;
pub mod logging;
pub mod startup;
