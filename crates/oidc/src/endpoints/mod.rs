//! The protocol's small endpoints, one file each: discovery, introspection (RFC 7662),
//! revocation (RFC 7009) and userinfo.

pub mod discovery;
pub mod introspect;
pub mod revoke;
pub mod userinfo;
