use super::exchange::ExchangePolicyBody;
use super::{Caller, Page, PageQuery, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_domain::Client;
use tessera_oidc::clients::metadata::ClientMetadata;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(delete)
        .service(regenerate_secret);
}

#[derive(Serialize, ToSchema)]
pub struct ClientRep {
    /// Server-assigned id used in admin URLs.
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub enabled: bool,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    /// jwt or opaque.
    pub access_token_format: String,
    pub consent_required: bool,
    /// RS256, ES256 or EdDSA.
    pub id_token_alg: String,
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// A CIBA client's token delivery: poll or ping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_token_delivery_mode: Option<String>,
    /// Where a ping client hears that a person decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_client_notification_endpoint: Option<String>,
    /// The organization this client belongs to (its client_credentials tokens carry it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// map (Keycloak's shape, default) or list (aliases only).
    pub organization_claim: String,
    /// What the client may do with the token-exchange grant; absent: it may not exchange.
    /// Set through `/clients/{id}/exchange-policy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_policy: Option<ExchangePolicyBody>,
    pub admin_console: bool,
    /// client_secret_basic, client_secret_post, private_key_jwt or none.
    pub token_endpoint_auth_method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Identifiers of the API this client serves (RFC 8707).
    pub resource_uris: Vec<String>,
    /// What its access tokens may carry in `aud`.
    pub audiences: Vec<String>,
    /// web or native.
    pub application_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    pub created_at: i64,
    /// Shown once, when the server generated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn rep(c: Client, secret: Option<String>) -> ClientRep {
    // The metadata's strings are what a client is shown as; the rest is the stored record's.
    let m = ClientMetadata::from(&c);
    ClientRep {
        id: c.id.to_string(),
        public: m.public,
        client_id: m.client_id,
        name: c.name,
        enabled: m.enabled,
        redirect_uris: m.redirect_uris,
        grant_types: m.grant_types.unwrap_or_default(),
        scopes: m.scopes.unwrap_or_default(),
        roles: m.roles,
        access_token_format: m.access_token_format.unwrap_or_default(),
        consent_required: m.consent_required,
        id_token_alg: m.id_token_alg.unwrap_or_default(),
        post_logout_redirect_uris: m.post_logout_redirect_uris,
        backchannel_logout_uri: m.backchannel_logout_uri,
        backchannel_token_delivery_mode: m.backchannel_token_delivery_mode,
        backchannel_client_notification_endpoint: m.backchannel_client_notification_endpoint,
        organization_id: m.organization,
        organization_claim: m.organization_claim.unwrap_or_default(),
        exchange_policy: c.exchange.map(Into::into),
        admin_console: m.admin_console,
        token_endpoint_auth_method: m.token_endpoint_auth_method.unwrap_or_default(),
        jwks: m.jwks,
        jwks_uri: m.jwks_uri,
        resource_uris: m.resource_uris,
        audiences: m.audiences,
        application_type: m.application_type.unwrap_or_default(),
        client_uri: m.client_uri,
        logo_uri: m.logo_uri,
        tos_uri: m.tos_uri,
        policy_uri: m.policy_uri,
        contacts: m.contacts,
        software_id: m.software_id,
        software_version: m.software_version,
        created_at: c.created_at.0,
        secret,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    /// 1 to 128 visible ASCII characters.
    #[schema(schema_with = schema::client_id)]
    pub client_id: String,
    /// At most 200 characters (default: the client_id).
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub public: bool,
    /// At most 50: https, loopback http or a private-use scheme with a dot.
    #[serde(default)]
    #[schema(schema_with = schema::client_redirect_uris)]
    pub redirect_uris: Vec<String>,
    /// Default: authorization_code and refresh_token when redirect_uris are given, else
    /// client_credentials for confidential clients.
    #[schema(schema_with = schema::grant_types)]
    pub grant_types: Option<Vec<String>>,
    /// At most 100 scope tokens. Default for a client with the authorization_code grant:
    /// openid, profile, email, offline_access (with refresh_token) and organization (where
    /// the realm has organizations); otherwise none.
    #[schema(schema_with = schema::client_scopes)]
    pub scopes: Option<Vec<String>>,
    /// At most 50, each a single scope-like token.
    #[serde(default)]
    #[schema(schema_with = schema::role_scopes)]
    pub roles: Vec<String>,
    /// jwt (default) or opaque.
    #[schema(schema_with = schema::optional_access_token_format)]
    pub access_token_format: Option<String>,
    /// Ask users for consent (third-party clients); default false.
    #[serde(default)]
    pub consent_required: bool,
    /// RS256 (default), ES256 or EdDSA.
    #[schema(schema_with = schema::optional_signing_alg)]
    pub id_token_alg: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::logout_redirect_uris)]
    pub post_logout_redirect_uris: Vec<String>,
    #[schema(schema_with = schema::optional_redirect_uri)]
    pub backchannel_logout_uri: Option<String>,
    /// CIBA token delivery: poll (default) or ping (then with the notification endpoint).
    #[schema(schema_with = schema::optional_ciba_delivery_mode)]
    pub backchannel_token_delivery_mode: Option<String>,
    /// Where a ping client is told that a person decided (CIBA Core §10.2).
    #[schema(schema_with = schema::optional_redirect_uri)]
    pub backchannel_client_notification_endpoint: Option<String>,
    /// Binds the client to an organization of the realm (an organization's own service
    /// client): its tokens carry the organization and stop working when it is disabled.
    pub organization_id: Option<String>,
    /// Shape of the `organization` claim: map (default) or list.
    #[schema(schema_with = schema::optional_org_claim)]
    pub organization_claim: Option<String>,
    /// The client may act as an admin console: its users may grant it the scope
    /// `tessera:admin`, whose tokens the admin API accepts (for what those users
    /// administer). Default false: no other client's tokens reach the admin API.
    #[serde(default)]
    pub admin_console: bool,
    /// client_secret_basic (default for confidential clients: the secret in the Basic
    /// header only), client_secret_post (in the body only), private_key_jwt (with jwks or
    /// jwks_uri) or none (public).
    #[schema(schema_with = schema::optional_token_endpoint_auth_method)]
    pub token_endpoint_auth_method: Option<String>,
    /// A private_key_jwt client's public keys; or give jwks_uri.
    #[schema(schema_with = schema::optional_jwks)]
    pub jwks: Option<serde_json::Value>,
    #[schema(schema_with = schema::optional_web_url)]
    pub jwks_uri: Option<String>,
    /// Identifiers of the API this client serves (RFC 8707 resource), unique in the realm:
    /// tokens naming one in `aud` are meant for this client, which may then exchange them.
    #[serde(default)]
    #[schema(schema_with = schema::resource_uris)]
    pub resource_uris: Vec<String>,
    /// What this client's access tokens carry in `aud` (client ids of the realm or resource
    /// URIs); a request may narrow them with `resource` or `audience`.
    #[serde(default)]
    #[schema(schema_with = schema::client_audiences)]
    pub audiences: Vec<String>,
    /// web (https redirect URIs, http on loopback) or native (loopback http or a
    /// private-use scheme); omitted, redirect URIs are not checked against a type.
    #[schema(schema_with = schema::optional_application_type)]
    pub application_type: Option<String>,
    #[schema(schema_with = schema::optional_web_url)]
    pub client_uri: Option<String>,
    #[schema(schema_with = schema::optional_web_url)]
    pub logo_uri: Option<String>,
    #[schema(schema_with = schema::optional_web_url)]
    pub tos_uri: Option<String>,
    #[schema(schema_with = schema::optional_web_url)]
    pub policy_uri: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::contacts)]
    pub contacts: Vec<String>,
    #[schema(schema_with = schema::optional_software_text)]
    pub software_id: Option<String>,
    #[schema(schema_with = schema::optional_software_text)]
    pub software_version: Option<String>,
    /// At least 32 characters; omit to have the server generate a 256-bit secret (recommended).
    /// Ignored on update: use the client-secret endpoint.
    #[schema(min_length = 32, max_length = 256)]
    pub secret: Option<String>,
}

fn yes() -> bool {
    true
}

impl ClientBody {
    fn parse(self) -> (ClientMetadata, Option<String>) {
        let m = ClientMetadata {
            client_id: self.client_id,
            name: self.name,
            enabled: self.enabled,
            public: self.public,
            redirect_uris: self.redirect_uris,
            grant_types: self.grant_types,
            scopes: self.scopes,
            roles: self.roles,
            access_token_format: self.access_token_format,
            consent_required: self.consent_required,
            id_token_alg: self.id_token_alg,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_token_delivery_mode: self.backchannel_token_delivery_mode,
            backchannel_client_notification_endpoint: self.backchannel_client_notification_endpoint,
            organization: self.organization_id,
            organization_claim: self.organization_claim,
            // Set through /clients/{id}/exchange-policy.
            exchange: None,
            admin_console: self.admin_console,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            resource_uris: self.resource_uris,
            audiences: self.audiences,
            application_type: self.application_type,
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            tos_uri: self.tos_uri,
            policy_uri: self.policy_uri,
            contacts: self.contacts,
            software_id: self.software_id,
            software_version: self.software_version,
        };
        (m, self.secret)
    }
}

#[utoipa::path(tag = "clients", operation_id = "list_clients", params(PageQuery),
    responses((status = 200, body = Page<ClientRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/clients")]
pub async fn list(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let clients = state
        .provider
        .list_clients(&caller, &realm, None, None, q.after, q.limit)
        .await?;
    let items: Vec<_> = clients.into_iter().map(|c| rep(c, None)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |c| c.client_id.clone())))
}

#[utoipa::path(tag = "clients", operation_id = "create_client", request_body = ClientBody,
    responses((status = 201, body = ClientRep), (status = 400, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
#[post("/{realm}/clients")]
pub async fn create(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<ClientBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, secret) = body.into_inner().parse();
    let given = secret.is_some();
    let (client, secret) = state
        .provider
        .create_client(&caller, &realm, c, secret)
        .await?;
    Ok(HttpResponse::Created().json(rep(client, secret.filter(|_| !given))))
}

#[utoipa::path(tag = "clients", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")), operation_id = "get_client",
    responses((status = 200, body = ClientRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/clients/{id}")]
pub async fn get(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let c = state.provider.get_client(&caller, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(rep(c, None)))
}

#[utoipa::path(tag = "clients", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")), operation_id = "update_client", request_body = ClientBody,
    responses((status = 200, body = ClientRep), (status = 404, body = super::ErrorBody)))]
#[put("/{realm}/clients/{id}")]
pub async fn update(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: AdminJson<ClientBody>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let (c, _) = body.into_inner().parse();
    let c = state
        .provider
        .update_client(&caller, &realm, &id, c)
        .await?;
    Ok(HttpResponse::Ok().json(rep(c, None)))
}

#[utoipa::path(tag = "clients", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")), operation_id = "delete_client",
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/clients/{id}")]
pub async fn delete(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    state.provider.delete_client(&caller, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct SecretRep {
    pub secret: String,
}

#[utoipa::path(tag = "clients", params(("realm" = String, Path), ("id" = String, Path, description = "The client's id or its client_id")),
    responses((status = 200, body = SecretRep), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/clients/{id}/client-secret")]
pub async fn regenerate_secret(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let secret = state
        .provider
        .regenerate_secret(&caller, &realm, &id)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(SecretRep { secret }))
}
