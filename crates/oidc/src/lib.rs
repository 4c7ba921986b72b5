//! The protocol engine: realms and their keys, client authentication, grants, token
//! minting and validation, introspection, revocation, discovery and administration.
//! No HTTP types here: `web` parses requests into [`Params`] and calls in.
//!
//! Rooms: `authorize/` and `token/` (one grant per file) are the two big endpoints,
//! `endpoints/` the small ones; `tokens/` mints and reads what we sign; `interaction/`
//! is everything a person does in the browser; `clients/` authenticates and builds
//! clients; `admin/` is administration behind one principal; `crypto/` holds keys,
//! JWS and sealing. Protocol rooms never import `admin/`.

pub mod accounts;
pub mod admin;
pub mod approvals;
mod audit_log;
pub mod authorize;
pub(crate) mod batch_log;
pub mod cache_sync;
pub mod clients;
pub mod console;
pub mod crypto;
pub mod endpoints;
mod error;
pub mod federation;
pub mod interaction;
pub mod mail;
pub mod outbound;
pub mod params;
mod provider;
pub mod registration;
pub mod telemetry;
#[cfg(test)]
mod test_support;
pub mod token;
pub mod tokens;

pub use error::OAuthError;
pub use params::Params;
#[cfg(test)]
pub(crate) use provider::test_util;
pub use provider::{CACHE_TTL, Provider, ProviderConfig, RealmCtx};
