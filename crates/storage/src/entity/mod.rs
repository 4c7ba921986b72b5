//! sea-orm entities. They never leave this crate: repositories map them to domain types.

pub mod client;
pub mod opaque_token;
pub mod realm;
pub mod revoked_token;
pub mod signing_key;
