//! Clients: how they authenticate at our endpoints, and how one is built from metadata.

pub mod assertion;
pub mod auth;
pub mod document;
pub(crate) mod keys;
pub mod metadata;
