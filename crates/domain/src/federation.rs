//! Upstream OpenID providers a realm trusts for sign-in (brokered login), and the links
//! between their users and ours.

use crate::{DomainError, DomainName, IdpId, OrgId, RealmId, UnixTime, UserId};
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
        }
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
        // RFC 6749 Appendix A.1: VSCHAR.
        if self.client_id.is_empty()
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
