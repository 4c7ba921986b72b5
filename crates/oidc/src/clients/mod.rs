//! Clients: how they authenticate at our endpoints, and how one is built from metadata.

pub mod auth;
pub mod metadata;
