//! sea-orm entities. They never leave this crate: repositories map them to domain types.

pub mod authorization_code;
pub mod broker_state;
pub mod change_log;
pub mod client;
pub mod consent;
pub mod federated_identity;
pub mod grant;
pub mod identity_provider;
pub mod impersonation_token;
pub mod invitation;
pub mod login_throttle;
pub mod membership;
pub mod membership_role;
pub mod opaque_token;
pub mod organization;
pub mod organization_domain;
pub mod organization_role;
pub mod realm;
pub mod realm_smtp;
pub mod refresh_token;
pub mod revoked_token;
pub mod signing_key;
pub mod token_exchange;
pub mod upstream_logout_jti;
pub mod user;
pub mod user_session;
