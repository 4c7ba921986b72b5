//! Clients: how they authenticate at our endpoints.

pub mod auth;
