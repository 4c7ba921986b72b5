use crate::{
    ClientId, ClientUuid, DomainError, ExchangePolicy, OrgClaimFormat, OrgId, OrgScope, RealmId,
    Scope, ScopeSet, SigningAlg, UnixTime,
};
use std::fmt;
use url::Url;

/// Grant types a client may be allowed. `password` and `implicit` are deliberately
/// absent (RFC 9700 §2.4 / §2.1.2): they parse as unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    TokenExchange,
    /// RFC 7523 §2.1: a trusted issuer's JWT as the authorization grant.
    JwtBearer,
    /// RFC 8628: a device polls while the person approves on another device.
    DeviceCode,
    /// OpenID CIBA Core 1.0: a client polls (or is pinged) while the person it named
    /// approves on their own device.
    Ciba,
}

impl GrantType {
    pub const ALL: [GrantType; 7] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::TokenExchange,
        GrantType::JwtBearer,
        GrantType::DeviceCode,
        GrantType::Ciba,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::Ciba => "urn:openid:params:grant-type:ciba",
        }
    }

    /// `None` for anything we do not know; the token endpoint answers `unsupported_grant_type`.
    pub fn from_param(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::from_param(s).ok_or_else(|| {
            DomainError::new(
                "grant_type",
                "use authorization_code, client_credentials, refresh_token, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer, urn:ietf:params:oauth:grant-type:device_code or urn:openid:params:grant-type:ciba",
            )
        })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a client's access tokens are self-contained JWTs (RFC 9068) or opaque handles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessTokenFormat {
    #[default]
    Jwt,
    Opaque,
}

impl AccessTokenFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenFormat::Jwt => "jwt",
            AccessTokenFormat::Opaque => "opaque",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "jwt" => Ok(Self::Jwt),
            "opaque" => Ok(Self::Opaque),
            _ => Err(DomainError::new("access_token_format", "use jwt or opaque")),
        }
    }
}

/// A registered redirect URI. Matching is exact string comparison (RFC 9700 §2.1),
/// so the original text is kept as sent, never normalized.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Absolute URI without fragment; `http` only for loopback hosts (RFC 9700 §2.6, RFC 8252 §7.3).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("redirect_uri", why.to_owned());
        if s.len() > 2048 {
            return Err(err("longer than 2048 characters"));
        }
        let url = Url::parse(s).map_err(|e| err(&e.to_string()))?;
        if url.fragment().is_some() {
            return Err(err("must not contain a fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain user information"));
        }
        match url.scheme() {
            "https" => {}
            "http" if Self::is_loopback(&url) => {}
            "http" => return Err(err("http is only allowed for loopback addresses")),
            // Private-use schemes of native apps (RFC 8252 §7.1) carry a dot.
            other if other.contains('.') => {}
            _ => {
                return Err(err(
                    "use https, loopback http or a reverse-domain private scheme",
                ));
            }
        }
        Ok(Self(s.to_owned()))
    }

    fn is_loopback(url: &Url) -> bool {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a client proves itself at the token, introspection and revocation endpoints
/// (RFC 7591 §2 `token_endpoint_auth_method`). A client has exactly one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// A shared secret in the `Authorization: Basic` header; a `client_secret_basic`
    /// client may not send it in the body instead, nor a `client_secret_post` client in
    /// the header (one method per client, as node-oidc-provider holds it).
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
    /// A JWT signed by a key of the client's own key set (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// A public client: identified by its `client_id` alone.
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                DomainError::new(
                    "token_endpoint_auth_method",
                    "use client_secret_basic, client_secret_post, private_key_jwt or none",
                )
            })
    }

    /// Whether the client holds a secret we generated.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }
}

/// Where a `private_key_jwt` client's (or a token-only issuer's) public keys are: a JWK
/// set registered with it, or a URL where it publishes its set (fetched through the
/// outbound client).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKeys {
    /// The JWK set as JSON text, checked to be `{"keys": [...]}` when registered.
    Jwks(String),
    JwksUri(Url),
}

impl ClientKeys {
    /// A `jwks_uri`: an absolute https URL (http only for loopback, as for redirect URIs).
    pub fn parse_uri(s: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("jwks_uri", why.to_owned());
        if s.len() > 2048 {
            return Err(err("longer than 2048 characters"));
        }
        let url = Url::parse(s).map_err(|_| err("must be an absolute URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if RedirectUri::is_loopback(&url) => {}
            _ => return Err(err("must use https")),
        }
        if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain a fragment or user information"));
        }
        Ok(Self::JwksUri(url))
    }

    /// A JWK set document: a JSON object with a `keys` array, at most 64 KiB.
    pub fn parse_jwks(s: &str) -> Result<Self, DomainError> {
        let v: serde_json::Value =
            serde_json::from_str(s).map_err(|_| DomainError::new("jwks", "not a JSON document"))?;
        if s.len() > 64 * 1024 || !v.get("keys").is_some_and(|k| k.is_array()) {
            return Err(DomainError::new(
                "jwks",
                "a JSON Web Key Set ({\"keys\": [...]}) of at most 64 KiB",
            ));
        }
        Ok(Self::Jwks(v.to_string()))
    }

    /// The registered set as JSON (RFC 7591 `jwks`), when the keys were given that way.
    pub fn jwks(&self) -> Option<serde_json::Value> {
        match self {
            Self::Jwks(set) => serde_json::from_str(set).ok(),
            Self::JwksUri(_) => None,
        }
    }

    /// Where the client publishes its set (RFC 7591 `jwks_uri`), when it does.
    pub fn jwks_uri(&self) -> Option<String> {
        match self {
            Self::JwksUri(u) => Some(u.to_string()),
            Self::Jwks(_) => None,
        }
    }
}

/// OpenID Connect Registration `application_type`: which redirect URIs suit the client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApplicationType {
    /// https redirect URIs (http only on `localhost` and loopback addresses).
    #[default]
    Web,
    /// Loopback http or private-use scheme redirect URIs (RFC 8252).
    Native,
}

impl ApplicationType {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationType::Web => "web",
            ApplicationType::Native => "native",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "web" => Ok(Self::Web),
            "native" => Ok(Self::Native),
            _ => Err(DomainError::new("application_type", "use web or native")),
        }
    }
}

/// An API's identifier as RFC 8707 `resource` names it: an absolute URI without a
/// fragment. Compared as sent, like redirect URIs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceUri(String);

impl ResourceUri {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("resource", why.to_owned());
        if s.len() > 2048 {
            return Err(err("longer than 2048 characters"));
        }
        let url = Url::parse(s).map_err(|_| err("must be an absolute URI"))?;
        if url.fragment().is_some() {
            return Err(err("must not contain a fragment"));
        }
        if s.contains(char::is_whitespace) {
            return Err(err("must not contain white space"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client tells people about itself (RFC 7591 §2): shown on the consent page and
/// returned by dynamic registration, never trusted for anything else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientProfile {
    pub application_type: ApplicationType,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    /// E-mail addresses of the people responsible for the client.
    pub contacts: Vec<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
}

/// How a client takes part in browser sign-in (OpenID Connect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// Third-party clients ask the user; first-party clients (false) skip the consent page.
    pub consent_required: bool,
    pub id_token_alg: SigningAlg,
    /// Exact-match targets of RP-initiated logout.
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Where OIDC back-channel logout tokens are POSTed.
    pub backchannel_logout_uri: Option<RedirectUri>,
    /// How a CIBA client learns that the person decided (CIBA Core §5).
    pub ciba_delivery: CibaDelivery,
}

/// CIBA token delivery: poll only, or a ping to the client's notification endpoint
/// (after which it takes the tokens at the token endpoint, as a poll would).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CibaDelivery {
    #[default]
    Poll,
    Ping {
        endpoint: RedirectUri,
    },
}

impl CibaDelivery {
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Ping { .. } => "ping",
        }
    }

    pub fn endpoint(&self) -> Option<&RedirectUri> {
        match self {
            Self::Poll => None,
            Self::Ping { endpoint } => Some(endpoint),
        }
    }
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            consent_required: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            ciba_delivery: CibaDelivery::Poll,
        }
    }
}

/// The scope of tokens for the admin API: a person lets an admin console act as them in
/// administering what they administer (an organization's members and invitations).
/// Only clients with [`Client::admin_console`] may ask for it.
pub const ADMIN_SCOPE: &str = "tessera:admin";

/// A registered client as the protocol engine sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientUuid,
    pub realm_id: RealmId,
    pub client_id: ClientId,
    pub name: String,
    pub enabled: bool,
    pub auth_method: AuthMethod,
    /// SHA-256 of the server-generated secret; `Some` exactly for the secret methods.
    pub secret_hash: Option<Vec<u8>>,
    /// The keys of a `private_key_jwt` client.
    pub keys: Option<ClientKeys>,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: ScopeSet,
    /// Roles carried by this client's own (service) tokens, e.g. `admin` in realm `master`.
    pub roles: Vec<String>,
    pub access_token_format: AccessTokenFormat,
    pub oidc: OidcSettings,
    pub org: OrgSettings,
    /// Token exchange policy; `None`: the client may not exchange tokens.
    pub exchange: Option<ExchangePolicy>,
    /// Realm administrators let it act as an admin console: its users' tokens may carry
    /// [`ADMIN_SCOPE`] and the admin API as audience. No other client's tokens are
    /// accepted by the admin API.
    pub admin_console: bool,
    pub apis: ApiSettings,
    pub profile: ClientProfile,
    /// SHA-256 of its RFC 7592 registration access token: `Some` for a client registered
    /// at the registration endpoint (an administrator's edits keep it).
    pub registration_token_hash: Option<Vec<u8>>,
    /// Registered without an initial access token: open registration's limits hold for
    /// its updates too.
    pub registered_openly: bool,
    pub created_at: UnixTime,
}

/// The APIs a client serves and the ones its tokens are for (RFC 8707).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiSettings {
    /// Identifiers of the API this client is (unique within the realm): a token naming
    /// one of them in `aud` is meant for this client.
    pub resource_uris: Vec<ResourceUri>,
    /// What its access tokens may carry in `aud`: client ids of the realm or resource
    /// URIs. All of them unless a request narrows them with `resource` or `audience`.
    pub audiences: Vec<String>,
}

impl ApiSettings {
    /// Whether `aud` names this client's API.
    pub fn serves(&self, aud: &str) -> bool {
        self.resource_uris.iter().any(|r| r.as_str() == aud)
    }
}

/// How a client relates to organizations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgSettings {
    /// An organization's own service client: its client_credentials tokens carry that
    /// organization and stop working when it is disabled or deleted.
    pub bound_to: Option<OrgId>,
    pub claim_format: OrgClaimFormat,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
    pub fn allows_grant(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }
    /// One of its scopes; the parameterized `organization:…` forms count as `organization`.
    pub fn allows_scope(&self, s: &Scope) -> bool {
        if s.as_str() == ADMIN_SCOPE {
            return self.admin_console;
        }
        self.scopes.contains(s.as_str())
            || (OrgScope::is_org_scope(s) && self.scopes.contains(crate::ORG_SCOPE))
    }
    /// The first requested scope the client may not ask for.
    pub fn first_disallowed<'a>(&self, want: &'a ScopeSet) -> Option<&'a Scope> {
        want.iter().find(|s| !self.allows_scope(s))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("realm_id", &self.realm_id)
            .field("client_id", &self.client_id)
            .field("public", &self.is_public())
            .finish_non_exhaustive()
    }
}

/// What an administrator supplies to create or replace a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClient {
    pub client_id: ClientId,
    pub name: String,
    pub enabled: bool,
    pub auth_method: AuthMethod,
    pub keys: Option<ClientKeys>,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: ScopeSet,
    pub roles: Vec<String>,
    pub access_token_format: AccessTokenFormat,
    pub oidc: OidcSettings,
    pub org: OrgSettings,
    pub exchange: Option<ExchangePolicy>,
    pub admin_console: bool,
    pub apis: ApiSettings,
    pub profile: ClientProfile,
}

impl NewClient {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_accepts_https_loopback_http_and_private_schemes() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:9999/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/cb",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn redirect_uri_rejects_plain_http_fragments_userinfo_and_relative() {
        for bad in [
            "http://example.com/cb",
            "https://app.example/cb#x",
            "https://user@app.example/cb",
            "/cb",
            "javascript:alert(1)",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uri_keeps_the_original_text_for_exact_matching() {
        let u = RedirectUri::parse("https://App.example/cb").unwrap();
        assert_eq!(u.as_str(), "https://App.example/cb");
    }

    #[test]
    fn resource_uris_are_absolute_without_fragment() {
        assert!(ResourceUri::parse("https://api.example/orders").is_ok());
        assert!(ResourceUri::parse("urn:example:orders").is_ok());
        for bad in [
            "/orders",
            "https://api.example/o#x",
            "orders",
            "https://a b",
        ] {
            assert!(ResourceUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_and_implicit_are_not_grant_types() {
        assert_eq!(GrantType::from_param("password"), None);
        assert_eq!(GrantType::from_param("implicit"), None);
        assert_eq!(
            GrantType::from_param("client_credentials"),
            Some(GrantType::ClientCredentials)
        );
    }
}
