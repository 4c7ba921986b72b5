//! One way to make a client: its metadata as callers hold it (strings from JSON, flags or
//! seed code) is parsed into domain types and checked against the same rules, whoever
//! creates it (admin API, CLI, first-start seeding; dynamic registration next).

use crate::{OAuthError, Provider};
use tessera_domain::{
    AccessTokenFormat, Client, ClientId, ExchangePolicy, GrantType, NewClient, OidcSettings,
    OrgClaimFormat, OrgSettings, Realm, RedirectUri, Scope, ScopeSet, SigningAlg,
};

/// A client's metadata before parsing. `Default` is a disabled confidential client with
/// nothing allowed; start from [`ClientMetadata::new`].
#[derive(Debug, Clone, Default)]
pub struct ClientMetadata {
    pub client_id: String,
    /// Display name; defaults to the client_id.
    pub name: Option<String>,
    pub enabled: bool,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    /// Default: authorization_code and refresh_token with redirect URIs; otherwise
    /// client_credentials for a confidential client, none for a public one.
    pub grant_types: Option<Vec<String>>,
    /// Default: the realm's default scopes for a client that signs users in
    /// ([`default_scopes`]), none otherwise.
    pub scopes: Option<Vec<String>>,
    pub roles: Vec<String>,
    /// jwt (default) or opaque.
    pub access_token_format: Option<String>,
    pub consent_required: bool,
    /// RS256 (default), ES256 or EdDSA.
    pub id_token_alg: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// The organization the client belongs to: its id or alias, in the client's realm.
    pub organization: Option<String>,
    /// map (default) or list.
    pub organization_claim: Option<String>,
    /// Only seeding sets it; elsewhere the policy has its own endpoint.
    pub exchange: Option<ExchangePolicy>,
    /// May ask for the admin API's scope on behalf of its users (an admin console).
    pub admin_console: bool,
}

impl ClientMetadata {
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            enabled: true,
            ..Default::default()
        }
    }
}

impl From<&Client> for ClientMetadata {
    /// A stored client's metadata, to change some of it and build it again (`client update`).
    fn from(c: &Client) -> Self {
        let strings = |v: &[RedirectUri]| v.iter().map(|u| u.as_str().to_owned()).collect();
        Self {
            client_id: c.client_id.to_string(),
            name: Some(c.name.clone()),
            enabled: c.enabled,
            public: c.is_public(),
            redirect_uris: strings(&c.redirect_uris),
            grant_types: Some(
                c.grant_types
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect(),
            ),
            scopes: Some(c.scopes.iter().map(|s| s.as_str().to_owned()).collect()),
            roles: c.roles.clone(),
            access_token_format: Some(c.access_token_format.as_str().to_owned()),
            consent_required: c.oidc.consent_required,
            id_token_alg: Some(c.oidc.id_token_alg.to_string()),
            post_logout_redirect_uris: strings(&c.oidc.post_logout_redirect_uris),
            backchannel_logout_uri: c
                .oidc
                .backchannel_logout_uri
                .as_ref()
                .map(|u| u.as_str().to_owned()),
            organization: c.org.bound_to.map(|o| o.to_string()),
            organization_claim: Some(c.org.claim_format.as_str().to_owned()),
            exchange: c.exchange.clone(),
            admin_console: c.admin_console,
        }
    }
}

impl Provider {
    /// Parses and checks a client's metadata for `realm`.
    pub async fn build_client(
        &self,
        realm: &Realm,
        m: ClientMetadata,
    ) -> Result<NewClient, OAuthError> {
        let grant_types: Vec<GrantType> = match m.grant_types {
            Some(g) => g
                .iter()
                .map(|g| GrantType::parse(g))
                .collect::<Result<_, _>>()?,
            // A client with somewhere to send users back to signs them in.
            None if !m.redirect_uris.is_empty() => {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            }
            None if m.public => vec![],
            None => vec![GrantType::ClientCredentials],
        };
        let scopes = match &m.scopes {
            Some(s) => ScopeSet::from_list(s)?,
            None => default_scopes(realm, &grant_types),
        };
        let realm = realm.id;
        let uris = |v: &[String]| {
            v.iter()
                .map(|u| RedirectUri::parse(u))
                .collect::<Result<Vec<_>, _>>()
        };
        let bound_to = match m.organization.as_deref() {
            // A client may be bound only to an organization of its own realm (ISO-5).
            Some(o) => Some(self.find_org(realm, o).await.map(|o| o.id).map_err(|_| {
                OAuthError::invalid_request("organization_id is not an organization of this realm")
            })?),
            None => None,
        };
        let c = NewClient {
            name: m.name.unwrap_or_else(|| m.client_id.clone()),
            client_id: ClientId::parse(&m.client_id)?,
            enabled: m.enabled,
            public: m.public,
            redirect_uris: uris(&m.redirect_uris)?,
            grant_types,
            scopes,
            roles: m.roles,
            access_token_format: match m.access_token_format {
                Some(f) => AccessTokenFormat::parse(&f)?,
                None => AccessTokenFormat::Jwt,
            },
            oidc: OidcSettings {
                consent_required: m.consent_required,
                id_token_alg: match &m.id_token_alg {
                    Some(a) => SigningAlg::parse(a)?,
                    None => SigningAlg::Rs256,
                },
                post_logout_redirect_uris: uris(&m.post_logout_redirect_uris)?,
                backchannel_logout_uri: m
                    .backchannel_logout_uri
                    .as_deref()
                    .map(RedirectUri::parse)
                    .transpose()?,
            },
            org: OrgSettings {
                bound_to,
                claim_format: match &m.organization_claim {
                    Some(f) => OrgClaimFormat::parse(f)?,
                    None => OrgClaimFormat::Map,
                },
            },
            exchange: m.exchange,
            admin_console: m.admin_console,
        };
        validate(&c)?;
        Ok(c)
    }
}

/// What a client that signs users in may ask for unless told otherwise: `openid profile
/// email`, `offline_access` when it may refresh, `organization` where the realm has
/// organizations. A client without the code grant asks for nothing by default.
pub fn default_scopes(realm: &Realm, grants: &[GrantType]) -> ScopeSet {
    if !grants.contains(&GrantType::AuthorizationCode) {
        return ScopeSet::default();
    }
    let mut s = vec!["openid", "profile", "email"];
    if grants.contains(&GrantType::RefreshToken) {
        s.push("offline_access");
    }
    if realm.organizations_enabled {
        s.push(tessera_domain::ORG_SCOPE);
    }
    // Fixed, valid scope names.
    ScopeSet::from_list(&s).unwrap_or_default()
}

fn validate(c: &NewClient) -> Result<(), OAuthError> {
    if c.name.chars().count() > 200 {
        return Err(OAuthError::invalid_request(
            "name is longer than 200 characters",
        ));
    }
    if c.public && c.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(OAuthError::invalid_request(
            "a public client cannot use client_credentials",
        ));
    }
    if let Some(bad) = c.roles.iter().find(|r| Scope::parse(r).is_err()) {
        return Err(OAuthError::InvalidRequest(
            format!("role {bad:?} is not a single token").into(),
        ));
    }
    if c.redirect_uris.len() > 50 || c.roles.len() > 50 || c.scopes.len() > 100 {
        return Err(OAuthError::invalid_request(
            "too many redirect URIs, roles or scopes",
        ));
    }
    Ok(())
}
