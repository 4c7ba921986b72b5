//! One way to make a client: its metadata as callers hold it (strings from JSON, flags or
//! seed code) is parsed into domain types and checked against the same rules, whoever
//! creates it (admin API, CLI, first-start seeding; dynamic registration next).

use crate::{OAuthError, Provider};
use tessera_domain::{
    AccessTokenFormat, ApiSettings, ApplicationType, AuthMethod, CibaDelivery, Client, ClientId,
    ClientKeys, ClientProfile, ExchangePolicy, GrantType, NewClient, OidcSettings, OrgClaimFormat,
    OrgSettings, Realm, RealmId, RedirectUri, ResourceUri, Scope, ScopeSet, SigningAlg,
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
    /// client_secret_basic (default for confidential clients), client_secret_post,
    /// private_key_jwt or none (what `public` means).
    pub token_endpoint_auth_method: Option<String>,
    /// A `private_key_jwt` client's public keys: a JWK set, or where it publishes one.
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    /// Identifiers of the API the client serves (RFC 8707), unique within the realm.
    pub resource_uris: Vec<String>,
    /// What its access tokens may carry in `aud`: client ids of the realm or resource URIs.
    pub audiences: Vec<String>,
    /// web or native; given, it decides which redirect URIs are allowed.
    pub application_type: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub contacts: Vec<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    /// CIBA token delivery: poll (default) or ping.
    pub backchannel_token_delivery_mode: Option<String>,
    /// Where a ping client hears that a person decided (required with ping).
    pub backchannel_client_notification_endpoint: Option<String>,
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
            token_endpoint_auth_method: Some(c.auth_method.as_str().to_owned()),
            jwks: c.keys.as_ref().and_then(ClientKeys::jwks),
            jwks_uri: c.keys.as_ref().and_then(ClientKeys::jwks_uri),
            resource_uris: c
                .apis
                .resource_uris
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            audiences: c.apis.audiences.clone(),
            application_type: Some(c.profile.application_type.as_str().to_owned()),
            client_uri: c.profile.client_uri.clone(),
            logo_uri: c.profile.logo_uri.clone(),
            tos_uri: c.profile.tos_uri.clone(),
            policy_uri: c.profile.policy_uri.clone(),
            contacts: c.profile.contacts.clone(),
            software_id: c.profile.software_id.clone(),
            software_version: c.profile.software_version.clone(),
            backchannel_token_delivery_mode: c
                .allows_grant(GrantType::Ciba)
                .then(|| c.oidc.ciba_delivery.mode().to_owned()),
            backchannel_client_notification_endpoint: c
                .oidc
                .ciba_delivery
                .endpoint()
                .map(|u| u.as_str().to_owned()),
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
        let auth_method = match (m.token_endpoint_auth_method.as_deref(), m.public) {
            (None, true) => AuthMethod::None,
            (None, false) => AuthMethod::ClientSecretBasic,
            (Some(a), public) => {
                let a = AuthMethod::parse(a)?;
                if public && a != AuthMethod::None {
                    return Err(OAuthError::invalid_request(
                        "a public client's token_endpoint_auth_method is none",
                    ));
                }
                a
            }
        };
        let public = auth_method == AuthMethod::None;
        let grant_types: Vec<GrantType> = match m.grant_types {
            Some(g) => g
                .iter()
                .map(|g| GrantType::parse(g))
                .collect::<Result<_, _>>()?,
            // A client with somewhere to send users back to signs them in.
            None if !m.redirect_uris.is_empty() => {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            }
            None if public => vec![],
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
        let keys = client_keys(auth_method, m.jwks.as_ref(), m.jwks_uri.as_deref())?;
        let apis = self
            .api_settings(realm, &m.resource_uris, &m.audiences)
            .await?;
        let redirect_uris = uris(&m.redirect_uris)?;
        let application_type = match m.application_type.as_deref() {
            Some(t) => {
                let t = ApplicationType::parse(t)?;
                if let Some(bad) = redirect_uris.iter().find(|u| !suits(t, u)) {
                    return Err(OAuthError::InvalidRequest(
                        format!(
                            "redirect URI {} does not suit a {} application",
                            bad.as_str(),
                            t.as_str()
                        )
                        .into(),
                    ));
                }
                t
            }
            None => ApplicationType::Web,
        };
        let profile = ClientProfile {
            application_type,
            client_uri: info_uri("client_uri", m.client_uri)?,
            logo_uri: info_uri("logo_uri", m.logo_uri)?,
            tos_uri: info_uri("tos_uri", m.tos_uri)?,
            policy_uri: info_uri("policy_uri", m.policy_uri)?,
            contacts: contacts(m.contacts)?,
            software_id: short_text("software_id", m.software_id)?,
            software_version: short_text("software_version", m.software_version)?,
        };
        let c = NewClient {
            name: m.name.unwrap_or_else(|| m.client_id.clone()),
            client_id: ClientId::parse(&m.client_id)?,
            enabled: m.enabled,
            auth_method,
            keys,
            redirect_uris,
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
                ciba_delivery: ciba_delivery(
                    m.backchannel_token_delivery_mode.as_deref(),
                    m.backchannel_client_notification_endpoint.as_deref(),
                )?,
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
            apis,
            profile,
        };
        validate(&c)?;
        Ok(c)
    }

    /// Resource URIs must be absolute URIs; audiences client ids of the realm or
    /// absolute URIs. Uniqueness of resource URIs is the store's (one atomic insert).
    async fn api_settings(
        &self,
        realm: RealmId,
        resource_uris: &[String],
        audiences: &[String],
    ) -> Result<ApiSettings, OAuthError> {
        if resource_uris.len() > 20 || audiences.len() > 50 {
            return Err(OAuthError::invalid_request(
                "at most 20 resource URIs and 50 audiences",
            ));
        }
        let resource_uris = resource_uris
            .iter()
            .map(|r| ResourceUri::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(audiences.len());
        for a in audiences {
            let client = match ClientId::parse(a) {
                Ok(id) => self.store().find_client_by_client_id(realm, &id).await?,
                Err(_) => None,
            };
            if client.is_none() && ResourceUri::parse(a).is_err() {
                return Err(unknown_audience(a));
            }
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        Ok(ApiSettings {
            resource_uris,
            audiences: out,
        })
    }
}

/// CIBA Core §4: poll, or ping with a notification endpoint (and nothing else).
fn ciba_delivery(mode: Option<&str>, endpoint: Option<&str>) -> Result<CibaDelivery, OAuthError> {
    match (mode, endpoint) {
        (None | Some("poll"), None) => Ok(CibaDelivery::Poll),
        (Some("ping"), Some(e)) => Ok(CibaDelivery::Ping {
            endpoint: RedirectUri::parse(e)?,
        }),
        (Some("ping"), None) => Err(OAuthError::invalid_request(
            "ping delivery needs backchannel_client_notification_endpoint",
        )),
        (None | Some("poll"), Some(_)) => Err(OAuthError::invalid_request(
            "backchannel_client_notification_endpoint is for ping delivery",
        )),
        (Some(_), _) => Err(OAuthError::invalid_request(
            "backchannel_token_delivery_mode is poll or ping",
        )),
    }
}

/// A registered JWK set (a `private_key_jwt` client's, a token-only issuer's): public keys
/// only, each with a `kty`, 1 to 20 of them, in at most 64 KiB.
pub(crate) fn public_jwk_set(set: &serde_json::Value) -> Result<ClientKeys, OAuthError> {
    let list = set
        .get("keys")
        .and_then(|k| k.as_array())
        .filter(|k| !k.is_empty() && k.len() <= 20)
        .ok_or_else(|| {
            OAuthError::invalid_request("jwks must be {\"keys\": [...]} with 1 to 20 keys")
        })?;
    // Private or symmetric key material has no business in a public set.
    let secret = ["d", "p", "q", "dp", "dq", "qi", "k"];
    if list.iter().any(|k| {
        !k.is_object()
            || k.get("kty").and_then(|t| t.as_str()).is_none()
            || secret.iter().any(|m| k.get(m).is_some())
    }) {
        return Err(OAuthError::invalid_request(
            "jwks keys must be public JWKs with a kty",
        ));
    }
    let text = set.to_string();
    if text.len() > 64 * 1024 {
        return Err(OAuthError::invalid_request("jwks is larger than 64 KiB"));
    }
    Ok(ClientKeys::Jwks(text))
}

/// A `private_key_jwt` client has exactly one of `jwks` and `jwks_uri`; no other client
/// has keys.
fn client_keys(
    method: AuthMethod,
    jwks: Option<&serde_json::Value>,
    jwks_uri: Option<&str>,
) -> Result<Option<ClientKeys>, OAuthError> {
    let keys = match (jwks, jwks_uri) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "give jwks or jwks_uri, not both",
            ));
        }
        (Some(set), None) => Some(public_jwk_set(set)?),
        (None, Some(uri)) => Some(ClientKeys::parse_uri(uri)?),
        (None, None) => None,
    };
    match (method, &keys) {
        (AuthMethod::PrivateKeyJwt, None) => Err(OAuthError::invalid_request(
            "private_key_jwt needs jwks or jwks_uri",
        )),
        (AuthMethod::PrivateKeyJwt, Some(_)) | (_, None) => Ok(keys),
        (_, Some(_)) => Err(OAuthError::invalid_request(
            "jwks and jwks_uri are only for private_key_jwt clients",
        )),
    }
}

/// OpenID Connect Registration §2: web clients redirect to https (http only on
/// loopback), native clients to loopback http or a private-use scheme (RFC 8252).
pub(crate) fn suits(t: ApplicationType, u: &RedirectUri) -> bool {
    let scheme = u.as_str().split(':').next().unwrap_or_default();
    match t {
        ApplicationType::Web => scheme == "https" || scheme == "http",
        ApplicationType::Native => scheme != "https",
    }
}

/// A page about the client: an absolute https URL (http only for loopback).
fn info_uri(field: &'static str, v: Option<String>) -> Result<Option<String>, OAuthError> {
    let Some(v) = v else { return Ok(None) };
    let ok = v.len() <= 2048
        && url::Url::parse(&v).is_ok_and(|u| {
            u.scheme() == "https" || (u.scheme() == "http" && RedirectUri::parse(&v).is_ok())
        });
    if !ok {
        return Err(OAuthError::InvalidRequest(
            format!("{field} must be an https URL").into(),
        ));
    }
    Ok(Some(v))
}

fn contacts(v: Vec<String>) -> Result<Vec<String>, OAuthError> {
    if v.len() > 10
        || v.iter().any(|c| {
            c.len() > 254
                || !c.contains('@')
                || c.chars().any(|ch| ch.is_whitespace() || ch.is_control())
        })
    {
        return Err(OAuthError::invalid_request(
            "contacts must be at most 10 e-mail addresses",
        ));
    }
    Ok(v)
}

fn short_text(field: &'static str, v: Option<String>) -> Result<Option<String>, OAuthError> {
    match v {
        Some(t) if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) => {
            Err(OAuthError::InvalidRequest(
                format!("{field} must be 1 to 200 printable characters").into(),
            ))
        }
        v => Ok(v),
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
    if c.is_public() && c.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(OAuthError::invalid_request(
            "a public client cannot use client_credentials",
        ));
    }
    if c.is_public() && c.grant_types.contains(&GrantType::JwtBearer) {
        return Err(OAuthError::invalid_request(
            "a public client cannot use the jwt-bearer grant",
        ));
    }
    // CIBA Core §4: the client authenticates at the backchannel endpoint.
    if c.is_public() && c.grant_types.contains(&GrantType::Ciba) {
        return Err(OAuthError::invalid_request(
            "a public client cannot use CIBA",
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

/// An audience that names no client of the realm and is no absolute URI: a conflict with
/// the realm's clients when it could be a client id (one may be created later), malformed
/// otherwise.
pub(crate) fn unknown_audience(a: &str) -> OAuthError {
    let why = format!("audience {a:?} is neither a client of this realm nor an absolute URI");
    if !a.is_empty() && a.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        OAuthError::Conflict(why.into())
    } else {
        OAuthError::InvalidRequest(why.into())
    }
}
