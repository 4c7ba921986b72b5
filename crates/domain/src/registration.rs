//! Dynamic client registration (RFC 7591): who may register in a realm, and the limits
//! on registrations nobody vouched for.

use crate::{DomainError, GrantType, OrgId, RealmId, Scope, UnixTime};
use serde::{Deserialize, Serialize};

/// Who may register clients at a realm's registration endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationMode {
    /// Nobody: the endpoint answers 401 to every registration.
    Closed,
    /// Holders of an initial access token minted by an administrator (RFC 7591 §3).
    #[default]
    InitialToken,
    /// Anyone, within the realm's [`OpenRegistration`] limits; initial tokens still work
    /// (and are not held to those limits).
    Open,
}

impl RegistrationMode {
    pub const ALL: [RegistrationMode; 3] = [Self::Closed, Self::InitialToken, Self::Open];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::InitialToken => "initial-token",
            Self::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| DomainError::new("registration", "use closed, initial-token or open"))
    }
}

/// What an anonymous registration may ask for. Checked on top of the rules every client
/// obeys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRegistration {
    /// Hosts redirect URIs may name (exact, case-insensitive), or the private-use schemes
    /// of native apps. Empty: no redirect URI passes, so nothing can be registered.
    pub allowed_hosts: Vec<String>,
    /// Scopes a registered client may ask for.
    pub allowed_scopes: Vec<String>,
    /// Grant types it may use: never client_credentials nor token exchange, which would
    /// give an anonymous party tokens of its own.
    #[serde(with = "grant_names")]
    pub allowed_grant_types: Vec<GrantType>,
    /// Most open-registered clients the realm holds at once.
    pub max_clients: u32,
    /// Registrations per minute from one address (IPv6: one /64).
    pub rate_per_minute: u32,
    /// The audiences (RFC 8707 targets: resource URIs or client ids of the realm) of every
    /// client that registers itself or comes with a metadata document, e.g. the realm's MCP
    /// servers. Their tokens may be for these and nothing else.
    #[serde(default)]
    pub audiences: Vec<String>,
}

impl Default for OpenRegistration {
    fn default() -> Self {
        Self {
            allowed_hosts: vec![],
            allowed_scopes: ["openid", "profile", "email", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            allowed_grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            max_clients: 100,
            rate_per_minute: 10,
            audiences: vec![],
        }
    }
}

impl OpenRegistration {
    pub fn validate(&self) -> Result<(), DomainError> {
        let err = |r: &str| Err(DomainError::new("registration_policy", r.to_owned()));
        if self.allowed_grant_types.iter().any(|g| {
            matches!(
                g,
                GrantType::ClientCredentials | GrantType::TokenExchange | GrantType::JwtBearer
            )
        }) {
            return err(
                "open registration never allows client_credentials, token exchange or jwt-bearer",
            );
        }
        if self.allowed_hosts.len() > 100 || self.allowed_scopes.len() > 100 {
            return err("at most 100 allowed hosts and 100 allowed scopes");
        }
        if let Some(h) = self.allowed_hosts.iter().find(|h| {
            h.is_empty()
                || h.len() > 253
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        }) {
            return Err(DomainError::new(
                "registration_policy",
                format!("{h:?} is not a host name, address or private-use scheme"),
            ));
        }
        for s in &self.allowed_scopes {
            Scope::parse(s)?;
        }
        if self.audiences.len() > 50 {
            return err("at most 50 audiences");
        }
        if let Some(a) = self
            .audiences
            .iter()
            .find(|a| crate::ResourceUri::parse(a).is_err() && crate::ClientId::parse(a).is_err())
        {
            return Err(DomainError::new(
                "registration_policy",
                format!("audience {a:?} is neither a client id nor an absolute URI"),
            ));
        }
        if !(1..=1_000_000).contains(&self.max_clients) {
            return err("max_clients must be within 1..=1000000");
        }
        if !(1..=10_000).contains(&self.rate_per_minute) {
            return err("rate_per_minute must be within 1..=10000");
        }
        Ok(())
    }

    /// Whether a redirect URI's host (or, without one, its scheme) is allowed.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        let Ok(u) = url::Url::parse(uri) else {
            return false;
        };
        let name = match u.host_str() {
            Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
            _ => u.scheme().to_ascii_lowercase(),
        };
        self.allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&name))
    }
}

/// A realm's registration settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistrationPolicy {
    pub mode: RegistrationMode,
    pub open: OpenRegistration,
}

/// An initial access token as stored: its hash, never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialAccessToken {
    pub id: uuid::Uuid,
    pub realm_id: RealmId,
    /// Clients it registers belong to this organization.
    pub org_id: Option<OrgId>,
    /// Registrations left.
    pub remaining: i64,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
    /// Who minted it (`sub` of the administrator).
    pub created_by: String,
}

/// Grant types by their RFC names in the stored JSON.
mod grant_names {
    use crate::GrantType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[GrantType], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|g| g.as_str()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<GrantType>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|g| GrantType::parse(g).map_err(serde::de::Error::custom))
            .collect()
    }
}
