//! Token exchange (RFC 8693): token type identifiers, the per-client exchange policy, and
//! the single-use impersonation tokens administrators mint.

use crate::{ClientUuid, DomainError, OrgId, RealmId, UnixTime, UserId};
use serde::{Deserialize, Serialize};

/// Token type identifiers (RFC 8693 §3) we accept or issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenType {
    #[serde(rename = "urn:ietf:params:oauth:token-type:access_token")]
    AccessToken,
    #[serde(rename = "urn:ietf:params:oauth:token-type:refresh_token")]
    RefreshToken,
    #[serde(rename = "urn:ietf:params:oauth:token-type:jwt")]
    Jwt,
    #[serde(rename = "urn:ietf:params:oauth:token-type:id_token")]
    IdToken,
    /// Minted by `POST /admin/realms/{realm}/users/{id}/impersonation-tokens`.
    #[serde(rename = "urn:tessera:params:oauth:token-type:impersonation_token")]
    Impersonation,
}

impl TokenType {
    pub const ALL: [TokenType; 5] = [
        TokenType::AccessToken,
        TokenType::RefreshToken,
        TokenType::Jwt,
        TokenType::IdToken,
        TokenType::Impersonation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            Self::RefreshToken => "urn:ietf:params:oauth:token-type:refresh_token",
            Self::Jwt => "urn:ietf:params:oauth:token-type:jwt",
            Self::IdToken => "urn:ietf:params:oauth:token-type:id_token",
            Self::Impersonation => "urn:tessera:params:oauth:token-type:impersonation_token",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::new("token_type", "not a supported token type"))
    }
}

/// Whom a client may impersonate. Realm administrators never.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpersonationScope {
    #[default]
    Nobody,
    AllUsers,
    /// Members of these organizations only.
    Organizations(Vec<OrgId>),
}

/// What a client may do at the token endpoint with the token-exchange grant. Absent on a
/// client: it may not exchange at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangePolicy {
    /// Subject token types it may present (default: access tokens only).
    #[serde(default = "default_subject_types")]
    pub subject_token_types: Vec<TokenType>,
    /// Target audiences (client ids of this realm) it may ask for; its own client id is
    /// always allowed.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// May present an `actor_token` (delegation).
    #[serde(default)]
    pub delegate: bool,
    #[serde(default)]
    pub impersonate: ImpersonationScope,
    /// Scopes an exchanged token may carry at most; `None`: no ceiling beyond the subject's.
    #[serde(default)]
    pub scope_ceiling: Option<Vec<String>>,
    /// Longest lifetime of an exchanged token, seconds; `None`: the realm's.
    #[serde(default)]
    pub max_lifetime_secs: Option<i64>,
    /// May ask for `requested_token_type=…:refresh_token`.
    #[serde(default)]
    pub refresh_tokens: bool,
    /// Access tokens issued to this client name this client id in `may_act` (RFC 8693
    /// §4.4): only it may then act for their subject in a delegation.
    #[serde(default)]
    pub may_act: Option<String>,
    /// Identity providers of the realm (aliases) whose tokens the client may present: as
    /// subject tokens here, and as assertions of the JWT bearer grant.
    #[serde(default)]
    pub trusted_idps: Vec<String>,
}

fn default_subject_types() -> Vec<TokenType> {
    vec![TokenType::AccessToken]
}

impl Default for ExchangePolicy {
    fn default() -> Self {
        Self {
            subject_token_types: default_subject_types(),
            audiences: vec![],
            delegate: false,
            impersonate: ImpersonationScope::Nobody,
            scope_ceiling: None,
            max_lifetime_secs: None,
            refresh_tokens: false,
            may_act: None,
            trusted_idps: vec![],
        }
    }
}

impl ExchangePolicy {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(m) = self.max_lifetime_secs
            && !(10..=86_400).contains(&m)
        {
            return Err(DomainError::new(
                "max_lifetime_secs",
                "must be within 10..=86400",
            ));
        }
        if self.audiences.len() > 100 {
            return Err(DomainError::new("audiences", "at most 100"));
        }
        if self.trusted_idps.is_empty()
            && (self.subject_token_types.contains(&TokenType::Jwt)
                || self.subject_token_types.contains(&TokenType::IdToken))
        {
            return Err(DomainError::new(
                "subject_token_types",
                "jwt and id_token subjects come from trusted identity providers: name them in \
                 trusted_idps",
            ));
        }
        if self.trusted_idps.len() > 20 {
            return Err(DomainError::new("trusted_idps", "at most 20"));
        }
        // The identity-provider alias form (`IdpAlias`), checked here without importing it.
        if let Some(bad) = self
            .trusted_idps
            .iter()
            .find(|a| !crate::org::is_slug(a, b"-_"))
        {
            return Err(DomainError::new(
                "trusted_idps",
                format!(
                    "{:?} is not an identity provider alias",
                    bad.chars().take(64).collect::<String>()
                ),
            ));
        }
        Ok(())
    }
}

/// A single-use impersonation token as stored: only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpersonationToken {
    pub realm_id: RealmId,
    pub token_hash: Vec<u8>,
    pub user_id: UserId,
    /// The one client that may redeem it.
    pub client: ClientUuid,
    /// Who minted it (the admin token's `sub` and `client_id`): becomes `act`.
    pub admin_sub: String,
    pub admin_client_id: String,
    pub reason: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// One exchange, as the lineage and audit log record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRecord {
    pub realm_id: RealmId,
    pub parent_jti: String,
    pub child_jti: String,
    pub subject: String,
    /// Outermost actor first (JSON array of `{sub, client_id}`), empty without actors.
    pub actors: Vec<String>,
    pub client_id: String,
    pub reason: Option<String>,
    /// The issuer of an external subject token (its `jti`, or its digest, is `parent_jti`).
    pub external_issuer: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types_round_trip_and_unknown_ones_are_refused() {
        for t in TokenType::ALL {
            assert_eq!(TokenType::parse(t.as_str()).unwrap(), t);
        }
        assert!(TokenType::parse("urn:ietf:params:oauth:token-type:saml2").is_err());
        assert!(TokenType::parse("access_token").is_err());
    }

    #[test]
    fn policy_json_has_safe_defaults_and_refuses_unknown_fields() {
        let p: ExchangePolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, ExchangePolicy::default());
        assert!(!p.delegate && p.impersonate == ImpersonationScope::Nobody);
        assert!(serde_json::from_str::<ExchangePolicy>(r#"{"impersonate_admins":true}"#).is_err());
        let p: ExchangePolicy =
            serde_json::from_str(r#"{"impersonate":"all_users","max_lifetime_secs":5}"#).unwrap();
        assert!(p.validate().is_err());
    }
}
