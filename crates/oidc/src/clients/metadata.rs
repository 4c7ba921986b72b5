//! One way to make a client: its metadata as callers hold it (strings from JSON, flags or
//! seed code) is parsed into domain types and checked against the same rules, whoever
//! creates it (admin API, CLI, first-start seeding; dynamic registration next).

use crate::{OAuthError, Provider};
use tessera_domain::{
    AccessTokenFormat, ClientId, ExchangePolicy, GrantType, NewClient, OidcSettings,
    OrgClaimFormat, OrgSettings, RealmId, RedirectUri, Scope, ScopeSet, SigningAlg,
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
    /// Default: client_credentials for a confidential client, none for a public one.
    pub grant_types: Option<Vec<String>>,
    pub scopes: Vec<String>,
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

impl Provider {
    /// Parses and checks a client's metadata for `realm`.
    pub async fn build_client(
        &self,
        realm: RealmId,
        m: ClientMetadata,
    ) -> Result<NewClient, OAuthError> {
        let grant_types = match m.grant_types {
            Some(g) => g
                .iter()
                .map(|g| GrantType::parse(g))
                .collect::<Result<_, _>>()?,
            None if m.public => vec![],
            None => vec![GrantType::ClientCredentials],
        };
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
            scopes: ScopeSet::from_list(&m.scopes)?,
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
