//! Clients: how they authenticate at our endpoints, and how one is built from metadata.

pub mod assertion;
pub mod auth;
pub(crate) mod cache;
pub mod document;
pub(crate) mod keys;
pub mod metadata;

/// `client_assertion_type` of `private_key_jwt` (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// What `private_key_jwt` assertions may be signed with (advertised in discovery).
pub const ASSERTION_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];
