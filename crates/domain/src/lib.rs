//! Tessera's vocabulary: identifiers, realms, clients, scopes and keys. No IO here.

mod client;
mod clock;
mod error;
mod ids;
mod keys;
mod scope;

pub use client::{AccessTokenFormat, Client, GrantType, NewClient, RedirectUri};
pub use clock::{Clock, FixedClock, SystemClock, UnixTime};
pub use error::DomainError;
pub use ids::{ClientId, ClientUuid, GrantId, RealmId, RealmName, SessionId, UserId};
pub use keys::{KeyStatus, SigningAlg, StoredKey};
pub use scope::{Scope, ScopeSet};

/// A tenant: its own issuer, keys, clients and (later) users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Realm {
    pub id: RealmId,
    pub name: RealmName,
    pub enabled: bool,
    /// Algorithm of the access tokens this realm signs.
    pub access_token_alg: SigningAlg,
    pub access_token_lifetime_secs: i64,
    pub created_at: UnixTime,
}

/// A realm's settings as an administrator sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealmSettings {
    pub enabled: bool,
    pub access_token_alg: SigningAlg,
    pub access_token_lifetime_secs: i64,
}

impl Default for RealmSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            access_token_alg: SigningAlg::Rs256,
            access_token_lifetime_secs: 300,
        }
    }
}

/// An opaque access token as stored: only the hash of the token value is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueToken {
    pub realm_id: RealmId,
    pub token_hash: Vec<u8>,
    pub jti: String,
    pub client: ClientUuid,
    pub client_id: ClientId,
    pub subject: String,
    pub scope: ScopeSet,
    pub audience: Vec<String>,
    pub roles: Vec<String>,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
}
