//! Background jobs, one file each. Each has a `run_once` that tests call directly and a
//! `spawn` loop that `Application::run_until_stopped` starts.

pub mod cache_sync;
pub mod exchange_log;
pub mod expiry_sweep;
