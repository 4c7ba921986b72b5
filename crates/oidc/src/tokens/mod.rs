//! What we sign and read back: access tokens (RFC 9068), ID tokens, and the organization
//! claim both carry.

pub mod access_token;
pub mod id_token;
pub mod org_claims;
pub mod targets;
