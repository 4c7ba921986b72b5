//! Upstream OpenID providers a realm trusts for sign-in (brokered login), and the links
//! between their users and ours.

use crate::{ClientKeys, DomainError, DomainName, IdpId, OrgId, RealmId, UnixTime, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `[a-z0-9][a-z0-9_-]{0,63}`, unique per realm; part of the broker URLs registered at
/// the upstream, so it is URL-safe and never UUID-shaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdpAlias(String);

impl IdpAlias {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if crate::org::is_slug(s, b"-_") {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "alias",
                "use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdpAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How we authenticate at the upstream's token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UpstreamAuthMethod {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

impl UpstreamAuthMethod {
    pub const ALL: [Self; 2] = [Self::ClientSecretBasic, Self::ClientSecretPost];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            _ => Err(DomainError::new(
                "auth_method",
                "use client_secret_basic or client_secret_post",
            )),
        }
    }
}

/// A claim every login through a provider must carry with exactly this value
/// (`hd=acme.com`: Google Workspace's hosted domain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredClaim {
    pub name: String,
    pub value: String,
}

impl RequiredClaim {
    /// `NAME=VALUE`, the name a JSON member name of at most 64 characters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.split_once('=') {
            Some((n, v)) => Self::new(n, v),
            None => Err(DomainError::new("required_claims", "use NAME=VALUE")),
        }
    }

    pub fn new(name: &str, value: &str) -> Result<Self, DomainError> {
        // Characters, as JSON Schema counts them in the admin API's document.
        if name.is_empty() || name.chars().count() > 64 || value.chars().count() > 256 {
            return Err(DomainError::new(
                "required_claims",
                "a claim name of 1 to 64 characters and a value of at most 256",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// What an administrator sets on a provider (the secret travels apart, sealed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpSettings {
    pub alias: IdpAlias,
    pub display_name: Option<String>,
    /// Exactly as the upstream's discovery document states it.
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub auth_method: UpstreamAuthMethod,
    /// The upstream's `email_verified: true` marks our copy of the address verified.
    pub trust_email: bool,
    /// Sign-in goes on without an e-mail address from the upstream.
    pub email_optional: bool,
    /// First sign-in of an unknown upstream user creates a local user.
    pub create_users: bool,
    /// An organization's provider: the users it signs in are managed members.
    pub org_id: Option<OrgId>,
    /// Domains of the organization this provider answers for.
    pub domains: Vec<DomainName>,
    /// A login hint under one of `domains` (verified by the organization) goes straight here.
    pub redirect_on_domain: bool,
    /// No button on the login page (still reachable by `kc_idp_hint` and by domain).
    pub hide_on_login: bool,
    pub required_claims: Vec<RequiredClaim>,
    pub enabled: bool,
    /// The provider's tokens are accepted in token exchange and the JWT bearer grant.
    pub accept_tokens: Option<TokenTrust>,
    /// A token-only issuer: its keys, where a sign-in provider's come from discovery.
    /// Such a provider has no client id, no secret and no login button.
    pub keys: Option<ClientKeys>,
    /// Its ID tokens obtain organization-admin credentials (the organization-admin
    /// exchange) for the organization it is linked to.
    pub org_admin_exchange: Option<OrgAdminExchange>,
}

impl IdpSettings {
    pub const DEFAULT_SCOPES: [&'static str; 3] = ["openid", "profile", "email"];

    /// Defaults of a new provider: `openid profile email`, basic auth, users created on
    /// first sign-in, upstream e-mails not trusted.
    pub fn new(alias: IdpAlias, issuer: String, client_id: String) -> Self {
        Self {
            alias,
            display_name: None,
            issuer,
            client_id,
            scopes: Self::DEFAULT_SCOPES.map(str::to_owned).to_vec(),
            auth_method: UpstreamAuthMethod::default(),
            trust_email: false,
            email_optional: false,
            create_users: true,
            org_id: None,
            domains: Vec::new(),
            redirect_on_domain: false,
            hide_on_login: false,
            required_claims: Vec::new(),
            enabled: true,
            accept_tokens: None,
            keys: None,
            org_admin_exchange: None,
        }
    }

    /// A provider that only vouches for tokens: never a sign-in.
    pub fn token_only(&self) -> bool {
        self.keys.is_some()
    }

    /// The issuer must be an absolute http(s) URL without query, fragment or user part
    /// (OIDC Discovery §4.3 compares it byte for byte); the scopes include `openid`.
    pub fn validate(&self) -> Result<(), DomainError> {
        let url = url::Url::parse(&self.issuer)
            .map_err(|_| DomainError::new("issuer", "must be an absolute URL"))?;
        if !matches!(url.scheme(), "https" | "http")
            || url.host_str().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
            || self.issuer.len() > 512
        {
            return Err(DomainError::new(
                "issuer",
                "use an http(s) URL with no query, fragment or user part, at most 512 bytes",
            ));
        }
        if self.token_only() {
            if self.accept_tokens.is_none() {
                return Err(DomainError::new(
                    "accept_tokens",
                    "a provider with its own keys (jwks or jwks_uri) exists to accept tokens",
                ));
            }
            // No sign-in: nothing to send there by domain either.
            if !self.domains.is_empty() {
                return Err(DomainError::new(
                    "domains",
                    "a token-only issuer (jwks or jwks_uri) signs nobody in: no domains",
                ));
            }
            if !self.client_id.is_empty() || self.org_admin_exchange.is_some() {
                return Err(DomainError::new(
                    "client_id",
                    "a token-only issuer (jwks or jwks_uri) has no client id and no \
                     organization-admin exchange: it signs nobody in",
                ));
            }
        }
        if let Some(t) = &self.accept_tokens {
            t.validate()?;
        }
        if let Some(x) = &self.org_admin_exchange {
            x.validate()?;
            if self.org_id.is_none() {
                return Err(DomainError::new(
                    "org_admin_exchange",
                    "only an organization's provider issues organization-admin credentials",
                ));
            }
        }
        // RFC 6749 Appendix A.1: VSCHAR.
        if self.token_only() && self.client_id.is_empty() {
            // No client at the issuer.
        } else if self.client_id.is_empty()
            || self.client_id.len() > 255
            || !self.client_id.bytes().all(|b| (0x20..=0x7e).contains(&b))
        {
            return Err(DomainError::new(
                "client_id",
                "use 1 to 255 printable ASCII characters",
            ));
        }
        let scope_ok = |s: &String| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        };
        if !self.scopes.iter().all(scope_ok) || !self.scopes.iter().any(|s| s == "openid") {
            return Err(DomainError::new(
                "scopes",
                "scope tokens (printable ASCII, no quotes or backslashes), including openid",
            ));
        }
        if self
            .display_name
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > 100)
        {
            return Err(DomainError::new("display_name", "use 1 to 100 characters"));
        }
        if self.redirect_on_domain && self.domains.is_empty() {
            return Err(DomainError::new(
                "redirect_on_domain",
                "needs at least one domain",
            ));
        }
        if !self.domains.is_empty() && self.org_id.is_none() {
            return Err(DomainError::new(
                "domains",
                "only an organization's provider has domains",
            ));
        }
        Ok(())
    }
}

/// How a provider's subjects become local users when they arrive as tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapUsers {
    /// Only an account already linked to that upstream subject (by a sign-in).
    #[default]
    Link,
    /// Or the one account whose verified address the upstream vouches for
    /// (`email_verified: true`, and the provider trusts its e-mails); linked on first use.
    Email,
    /// Or, failing both, a new user (linked, a managed member of the provider's
    /// organization).
    Create,
}

impl MapUsers {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Email => "email",
            Self::Create => "create",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "link" => Ok(Self::Link),
            "email" => Ok(Self::Email),
            "create" => Ok(Self::Create),
            _ => Err(DomainError::new("map_users", "use link, email or create")),
        }
    }
}

/// Asymmetric JWS algorithms a provider's tokens may use: never `none`, never HMAC (whose
/// "key" would be the provider's public key, RFC 8725 §3.1).
pub const TOKEN_ALGS: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

/// What a provider's tokens must satisfy to be accepted (token exchange, JWT bearer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenTrust {
    /// `aud` must name one of these (ID tokens: or our client id at the provider).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// `iat` no older than this, seconds.
    #[serde(default = "default_max_age")]
    pub max_age_secs: i64,
    /// Algorithms accepted; empty: the asymmetric ones the provider announces (RS256
    /// for a token-only issuer).
    #[serde(default)]
    pub allowed_algs: Vec<String>,
    /// Every token carries a `jti`, used once.
    #[serde(default)]
    pub require_jti: bool,
    /// The claim naming the subject.
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    #[serde(default)]
    pub map_users: MapUsers,
}

fn default_max_age() -> i64 {
    TokenTrust::DEFAULT_MAX_AGE_SECS
}

fn default_subject_claim() -> String {
    "sub".into()
}

impl Default for TokenTrust {
    fn default() -> Self {
        Self {
            audiences: Vec::new(),
            max_age_secs: Self::DEFAULT_MAX_AGE_SECS,
            allowed_algs: Vec::new(),
            require_jti: false,
            subject_claim: default_subject_claim(),
            map_users: MapUsers::default(),
        }
    }
}

impl TokenTrust {
    pub const DEFAULT_MAX_AGE_SECS: i64 = 3600;

    pub fn validate(&self) -> Result<(), DomainError> {
        if !(10..=86_400).contains(&self.max_age_secs) {
            return Err(DomainError::new("max_token_age", "use 10 to 86400 seconds"));
        }
        if self.audiences.len() > 20
            || self
                .audiences
                .iter()
                .any(|a| a.is_empty() || a.chars().count() > 2048)
        {
            return Err(DomainError::new(
                "token_audiences",
                "at most 20, each of 1 to 2048 characters",
            ));
        }
        if let Some(bad) = self
            .allowed_algs
            .iter()
            .find(|a| !TOKEN_ALGS.contains(&a.as_str()))
        {
            return Err(DomainError::new(
                "allowed_algs",
                format!(
                    "{} is not accepted: use {}",
                    bad.chars().take(16).collect::<String>(),
                    TOKEN_ALGS.join(", ")
                ),
            ));
        }
        if self.subject_claim.is_empty() || self.subject_claim.chars().count() > 64 {
            return Err(DomainError::new(
                "subject_claim",
                "a claim name of 1 to 64 characters",
            ));
        }
        Ok(())
    }
}

/// The organization-admin exchange: which claims of the provider's ID token make its
/// holder an administrator of the organization the provider is linked to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgAdminExchange {
    /// Must equal the organization's external id.
    #[serde(default = "default_org_claim")]
    pub org_claim: String,
    /// Must be one of `admin_roles` (case-insensitive).
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    #[serde(default = "default_admin_roles")]
    pub admin_roles: Vec<String>,
    /// When set, this claim must be one of the organization's verified domains.
    #[serde(default)]
    pub domain_claim: Option<String>,
}

fn default_org_claim() -> String {
    "org_id".into()
}

fn default_role_claim() -> String {
    "org_role".into()
}

fn default_admin_roles() -> Vec<String> {
    vec!["owner".into(), "admin".into()]
}

impl Default for OrgAdminExchange {
    fn default() -> Self {
        Self {
            org_claim: default_org_claim(),
            role_claim: default_role_claim(),
            admin_roles: default_admin_roles(),
            domain_claim: None,
        }
    }
}

impl OrgAdminExchange {
    pub fn validate(&self) -> Result<(), DomainError> {
        let name_ok = |n: &str| !n.is_empty() && n.chars().count() <= 64;
        if !name_ok(&self.org_claim)
            || !name_ok(&self.role_claim)
            || self.domain_claim.as_deref().is_some_and(|d| !name_ok(d))
        {
            return Err(DomainError::new(
                "org_admin_exchange",
                "claim names of 1 to 64 characters",
            ));
        }
        if self.admin_roles.is_empty()
            || self.admin_roles.len() > 10
            || self.admin_roles.iter().any(|r| !name_ok(r))
        {
            return Err(DomainError::new(
                "org_admin_roles",
                "1 to 10 role names of 1 to 64 characters",
            ));
        }
        Ok(())
    }

    /// Whether an upstream role value is one of the administrator roles.
    pub fn is_admin_role(&self, role: &str) -> bool {
        self.admin_roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case(role))
    }
}

/// An upstream provider of a realm as stored: its settings and the sealed client secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityProvider {
    pub id: IdpId,
    pub realm_id: RealmId,
    pub settings: IdpSettings,
    /// The client secret at the upstream, sealed under the master key like signing keys.
    pub secret_sealed: Vec<u8>,
    pub created_at: UnixTime,
}

/// One upstream account linked to one local user: unique per provider and upstream `sub`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FederatedIdentity {
    pub realm_id: RealmId,
    pub idp_id: IdpId,
    pub alias: IdpAlias,
    pub user_id: UserId,
    pub subject: String,
    /// The upstream's `preferred_username` or e-mail at the last sign-in, for display.
    pub username: Option<String>,
    /// The upstream session (`sid`) of the last sign-in.
    pub upstream_sid: Option<String>,
    pub created_at: UnixTime,
    pub last_login: UnixTime,
}

/// Which upstream session a Tessera session came through: what upstream back-channel
/// logout ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamLogin {
    pub idp_id: IdpId,
    pub subject: String,
    pub sid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_url_safe_lower_case_and_not_uuids() {
        assert!(IdpAlias::parse("acme-okta_2").is_ok());
        for bad in [
            "",
            "-x",
            "_x",
            "Acme",
            "a/b",
            "a.b",
            "0190b3c2-8e5f-7000-8000-000000000000",
            &"x".repeat(65),
        ] {
            assert!(IdpAlias::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_need_an_http_issuer_and_the_openid_scope() {
        let alias = IdpAlias::parse("up").unwrap();
        let ok = IdpSettings::new(alias.clone(), "https://idp.example/x".into(), "c".into());
        assert!(ok.validate().is_ok());
        for issuer in [
            "ftp://idp.example",
            "https://idp.example/?a=1",
            "https://u@idp.example",
            "idp.example",
        ] {
            let s = IdpSettings::new(alias.clone(), issuer.into(), "c".into());
            assert!(s.validate().is_err(), "{issuer}");
        }
        let mut s = ok.clone();
        s.client_id = "c\n".into();
        assert!(
            s.validate().is_err(),
            "client ids are VSCHAR (RFC 6749 A.1)"
        );
        let mut s = ok.clone();
        s.scopes = vec!["profile".into()];
        assert!(s.validate().is_err());
        let mut s = ok;
        s.redirect_on_domain = true;
        assert!(s.validate().is_err(), "redirect on domain without domains");
    }

    #[test]
    fn required_claims_are_name_equals_value() {
        let c = RequiredClaim::parse("hd=acme.com").unwrap();
        assert_eq!((c.name.as_str(), c.value.as_str()), ("hd", "acme.com"));
        assert!(RequiredClaim::parse("hd").is_err());
        assert!(RequiredClaim::parse("=x").is_err());
        assert!(
            RequiredClaim::new(&"é".repeat(64), &"é".repeat(256)).is_ok(),
            "characters, not bytes"
        );
        assert!(RequiredClaim::new(&"x".repeat(65), "v").is_err());
    }
}

/// What an issuer offers, read from its discovery document before it is added.
#[derive(Debug, Clone)]
pub struct DiscoveryPreview {
    /// Exactly as the document states it: the issuer to configure.
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    /// Keys its JWKS holds now.
    pub keys: usize,
    pub scopes: Vec<String>,
    /// The ID token algorithms we would accept from it.
    pub signing_algs: Vec<String>,
}
