//! The command line, one file per noun. Every command but `serve` works straight on the
//! database as the operator ([`tessera_oidc::admin::AdminPrincipal::operator`]).

pub mod client;
pub mod key;
pub mod org;
pub mod realm;
pub mod serve;
pub mod user;
