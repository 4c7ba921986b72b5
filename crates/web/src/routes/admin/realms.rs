use super::users::{PasswordParamsRep, double_option};
use super::{Caller, Page, PageQuery, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_domain::{
    ApprovalSettings, Branding, DisplayName, GrantType, Lifetimes, LogoUri, Realm, RealmSettings,
    RegistrationMode, RegistrationPolicy, SigningAlg,
};
use tessera_oidc::admin::keys::KeyInfo;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(delete)
        .service(list_keys)
        .service(rotate_keys);
}

#[derive(Serialize, ToSchema)]
pub struct RealmRep {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub enabled: bool,
    /// RS256, ES256 or EdDSA.
    pub access_token_alg: String,
    pub access_token_lifetime_secs: i64,
    pub session_idle_secs: i64,
    pub session_max_secs: i64,
    pub refresh_idle_secs: i64,
    pub refresh_max_secs: i64,
    /// Argon2id costs of new password hashes; absent = OWASP defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_params: Option<PasswordParamsRep>,
    /// Organizations and the `organization` scope; off: no organization claim anywhere.
    pub organizations_enabled: bool,
    /// Longest actor chain a token exchange may build.
    pub max_delegation_depth: i64,
    /// Dynamic client registration: who may register, and open registration's limits.
    pub registration: RegistrationRep,
    /// The name the sign-in pages show; absent: the realm's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The logo the sign-in pages show (https).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// Audit log entries older than this many days are swept.
    pub audit_retention_days: i64,
    /// How long a device code lives (RFC 8628).
    pub device_code_lifetime_secs: i64,
    /// Seconds a device must leave between polls.
    pub device_poll_interval_secs: i64,
    /// The longest a CIBA request lives.
    pub ciba_lifetime_secs: i64,
    /// Seconds a CIBA client must leave between polls.
    pub ciba_poll_interval_secs: i64,
    pub created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationRep {
    /// closed, initial-token (an initial access token from an administrator) or open.
    pub mode: String,
    /// Open registration: hosts (or private-use schemes) redirect URIs may name.
    pub allowed_hosts: Vec<String>,
    /// Open registration: scopes a registered client may ask for.
    pub allowed_scopes: Vec<String>,
    /// Open registration: grant types a registered client may use.
    pub allowed_grant_types: Vec<String>,
    /// Open registration: most dynamically registered clients the realm holds.
    pub max_clients: u32,
    /// Open registration: registrations per minute from one address.
    pub rate_per_minute: u32,
    /// What every self-registered client's tokens may be for (resource URIs or client ids).
    pub audiences: Vec<String>,
}

impl From<&RegistrationPolicy> for RegistrationRep {
    fn from(p: &RegistrationPolicy) -> Self {
        Self {
            mode: p.mode.as_str().to_owned(),
            allowed_hosts: p.open.allowed_hosts.clone(),
            allowed_scopes: p.open.allowed_scopes.clone(),
            allowed_grant_types: p
                .open
                .allowed_grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            max_clients: p.open.max_clients,
            rate_per_minute: p.open.rate_per_minute,
            audiences: p.open.audiences.clone(),
        }
    }
}

/// Changes to the registration settings; what is absent stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    /// closed, initial-token (default) or open.
    #[schema(schema_with = schema::optional_registration_mode)]
    pub mode: Option<String>,
    /// Hosts (or private-use schemes) redirect URIs of openly registered clients may
    /// name; at most 100.
    #[schema(schema_with = schema::optional_registration_hosts)]
    pub allowed_hosts: Option<Vec<String>>,
    /// Scopes openly registered clients may ask for; at most 100.
    #[schema(schema_with = schema::optional_scopes)]
    pub allowed_scopes: Option<Vec<String>>,
    /// Grant types openly registered clients may use: authorization_code and
    /// refresh_token (never client_credentials nor token exchange).
    #[schema(schema_with = schema::optional_open_grant_types)]
    pub allowed_grant_types: Option<Vec<String>>,
    /// Most dynamically registered clients the realm holds, 1 to 1000000 (default 100).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_clients: Option<u32>,
    /// Open registrations per minute from one address, 1 to 10000 (default 10).
    #[schema(minimum = 1, maximum = 10_000)]
    pub rate_per_minute: Option<u32>,
    /// The audiences of every client that registers itself or comes with a metadata
    /// document (resource URIs such as an MCP server's, or client ids of the realm); at
    /// most 50.
    #[schema(schema_with = schema::optional_registration_audiences)]
    pub audiences: Option<Vec<String>>,
}

impl RegistrationBody {
    fn apply(self, base: RegistrationPolicy) -> Result<RegistrationPolicy, ApiError> {
        let mut open = base.open;
        if let Some(h) = self.allowed_hosts {
            open.allowed_hosts = h;
        }
        if let Some(s) = self.allowed_scopes {
            open.allowed_scopes = s;
        }
        if let Some(g) = self.allowed_grant_types {
            open.allowed_grant_types = g
                .iter()
                .map(|g| GrantType::parse(g))
                .collect::<Result<_, _>>()?;
        }
        open.max_clients = self.max_clients.unwrap_or(open.max_clients);
        open.rate_per_minute = self.rate_per_minute.unwrap_or(open.rate_per_minute);
        if let Some(a) = self.audiences {
            open.audiences = a;
        }
        Ok(RegistrationPolicy {
            mode: match self.mode {
                Some(m) => RegistrationMode::parse(&m)?,
                None => base.mode,
            },
            open,
        })
    }
}

fn rep(state: &AppState, r: Realm) -> RealmRep {
    RealmRep {
        id: r.id.to_string(),
        issuer: state.provider.issuer_for(&r.name),
        name: r.name.to_string(),
        enabled: r.enabled,
        access_token_alg: r.access_token_alg.to_string(),
        access_token_lifetime_secs: r.access_token_lifetime_secs,
        session_idle_secs: r.lifetimes.session_idle_secs,
        session_max_secs: r.lifetimes.session_max_secs,
        refresh_idle_secs: r.lifetimes.refresh_idle_secs,
        refresh_max_secs: r.lifetimes.refresh_max_secs,
        password_params: r.password_params.map(Into::into),
        organizations_enabled: r.organizations_enabled,
        max_delegation_depth: r.max_delegation_depth,
        registration: (&r.registration).into(),
        display_name: r.branding.display_name.map(|n| n.as_str().to_owned()),
        logo_uri: r.branding.logo_uri.map(|l| l.as_str().to_owned()),
        audit_retention_days: r.audit_retention_days,
        device_code_lifetime_secs: r.approvals.device_code_lifetime_secs,
        device_poll_interval_secs: r.approvals.device_poll_interval_secs,
        ciba_lifetime_secs: r.approvals.ciba_lifetime_secs,
        ciba_poll_interval_secs: r.approvals.ciba_poll_interval_secs,
        created_at: r.created_at.0,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RealmSettingsBody {
    pub enabled: Option<bool>,
    /// RS256 (default), ES256 or EdDSA.
    #[schema(schema_with = schema::optional_signing_alg)]
    pub access_token_alg: Option<String>,
    /// 10 to 86400 (default 300).
    #[schema(minimum = 10, maximum = 86400)]
    pub access_token_lifetime_secs: Option<i64>,
    /// Argon2id costs of new password hashes; `null` resets to the OWASP defaults
    /// (m_cost 19456, t_cost 2, p_cost 1). Existing hashes are upgraded at the next login.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PasswordParamsRep>)]
    pub password_params: Option<Option<PasswordParamsRep>>,
    /// Browser session idle timeout, 60 to 31536000 (default 1800).
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub session_idle_secs: Option<i64>,
    /// Browser session absolute lifetime, 60 to 31536000 (default 36000).
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub session_max_secs: Option<i64>,
    /// Refresh token idle lifetime, 60 to 31536000 (default 1800).
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub refresh_idle_secs: Option<i64>,
    /// Refresh token family absolute lifetime, 60 to 31536000 (default 36000).
    #[schema(minimum = 60, maximum = 31_536_000)]
    pub refresh_max_secs: Option<i64>,
    /// Organizations and the `organization` scope (default true).
    pub organizations_enabled: Option<bool>,
    /// Longest `act` chain of token exchange, 1 to 10 (default 3).
    #[schema(minimum = 1, maximum = 10)]
    pub max_delegation_depth: Option<i64>,
    /// Dynamic client registration (RFC 7591): who may register, and open
    /// registration's limits.
    pub registration: Option<RegistrationBody>,
    /// The name the sign-in pages show, 1 to 128 characters; `null`: the realm's name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schema::optional_realm_display_name)]
    pub display_name: Option<Option<String>>,
    /// The logo the sign-in pages show: an https URL of at most 2048 characters;
    /// `null`: no logo.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schema::optional_logo_uri)]
    pub logo_uri: Option<Option<String>>,
    /// Days the audit log keeps an entry, 1 to 3650 (default 365).
    #[schema(minimum = 1, maximum = 3650)]
    pub audit_retention_days: Option<i64>,
    /// How long a device code lives, 60 to 3600 seconds (default 600).
    #[schema(minimum = 60, maximum = 3600)]
    pub device_code_lifetime_secs: Option<i64>,
    /// Seconds a device must leave between polls, 1 to 60 (default 5).
    #[schema(minimum = 1, maximum = 60)]
    pub device_poll_interval_secs: Option<i64>,
    /// The longest a CIBA request lives, 60 to 3600 seconds (default 300).
    #[schema(minimum = 60, maximum = 3600)]
    pub ciba_lifetime_secs: Option<i64>,
    /// Seconds a CIBA client must leave between polls, 1 to 60 (default 5).
    #[schema(minimum = 1, maximum = 60)]
    pub ciba_poll_interval_secs: Option<i64>,
}

impl RealmSettingsBody {
    fn into_settings(self, base: RealmSettings) -> Result<RealmSettings, ApiError> {
        Ok(RealmSettings {
            enabled: self.enabled.unwrap_or(base.enabled),
            access_token_alg: match self.access_token_alg {
                Some(a) => SigningAlg::parse(&a)?,
                None => base.access_token_alg,
            },
            access_token_lifetime_secs: self
                .access_token_lifetime_secs
                .unwrap_or(base.access_token_lifetime_secs),
            password_params: match self.password_params {
                Some(p) => p.map(Into::into),
                None => base.password_params,
            },
            lifetimes: Lifetimes {
                session_idle_secs: self
                    .session_idle_secs
                    .unwrap_or(base.lifetimes.session_idle_secs),
                session_max_secs: self
                    .session_max_secs
                    .unwrap_or(base.lifetimes.session_max_secs),
                refresh_idle_secs: self
                    .refresh_idle_secs
                    .unwrap_or(base.lifetimes.refresh_idle_secs),
                refresh_max_secs: self
                    .refresh_max_secs
                    .unwrap_or(base.lifetimes.refresh_max_secs),
            },
            organizations_enabled: self
                .organizations_enabled
                .unwrap_or(base.organizations_enabled),
            max_delegation_depth: self
                .max_delegation_depth
                .unwrap_or(base.max_delegation_depth),
            registration: match self.registration {
                Some(r) => r.apply(base.registration)?,
                None => base.registration,
            },
            branding: Branding {
                display_name: match self.display_name {
                    Some(n) => n.as_deref().map(DisplayName::parse).transpose()?,
                    None => base.branding.display_name,
                },
                logo_uri: match self.logo_uri {
                    Some(l) => l.as_deref().map(LogoUri::parse).transpose()?,
                    None => base.branding.logo_uri,
                },
            },
            audit_retention_days: self
                .audit_retention_days
                .unwrap_or(base.audit_retention_days),
            approvals: ApprovalSettings {
                device_code_lifetime_secs: self
                    .device_code_lifetime_secs
                    .unwrap_or(base.approvals.device_code_lifetime_secs),
                device_poll_interval_secs: self
                    .device_poll_interval_secs
                    .unwrap_or(base.approvals.device_poll_interval_secs),
                ciba_lifetime_secs: self
                    .ciba_lifetime_secs
                    .unwrap_or(base.approvals.ciba_lifetime_secs),
                ciba_poll_interval_secs: self
                    .ciba_poll_interval_secs
                    .unwrap_or(base.approvals.ciba_poll_interval_secs),
            },
        })
    }
}

/// A new realm: its name and the settings of [`RealmSettingsBody`]. Its schema is that
/// object with `name` added (one object, not an `allOf` that a generator cannot satisfy).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRealmBody {
    /// 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'.
    pub name: String,
    #[serde(flatten)]
    pub settings: RealmSettingsBody,
}

impl utoipa::PartialSchema for CreateRealmBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{RefOr, schema::Schema};
        let mut settings = match RealmSettingsBody::schema() {
            RefOr::T(Schema::Object(o)) => o,
            other => return other,
        };
        settings
            .properties
            .insert("name".to_owned(), schema::realm_name().into());
        settings.required.insert(0, "name".to_owned());
        settings.description = Some("A new realm: its name and its settings.".to_owned());
        RefOr::T(Schema::Object(settings))
    }
}

impl ToSchema for CreateRealmBody {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        RealmSettingsBody::schemas(schemas);
    }
}

#[utoipa::path(tag = "realms", operation_id = "list_realms", params(PageQuery),
    responses((status = 200, body = Page<RealmRep>), (status = 401, body = super::ErrorBody)))]
#[get("")]
pub async fn list(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let realms = state
        .provider
        .list_realms(&caller, q.after, q.limit)
        .await?;
    let items: Vec<_> = realms.into_iter().map(|r| rep(&state, r)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, q.limit, |r| r.name.clone())))
}

#[utoipa::path(tag = "realms", operation_id = "create_realm", request_body = CreateRealmBody,
    responses((status = 201, body = RealmRep), (status = 400, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
#[post("")]
pub async fn create(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    body: AdminJson<CreateRealmBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let settings = body.settings.into_settings(RealmSettings::default())?;
    let realm = state
        .provider
        .create_realm(&caller, &body.name, settings)
        .await?;
    Ok(HttpResponse::Created().json(rep(&state, realm)))
}

#[utoipa::path(tag = "realms", operation_id = "get_realm",
    responses((status = 200, body = RealmRep), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}")]
pub async fn get(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let r = state.provider.get_realm(&caller, &realm).await?;
    Ok(HttpResponse::Ok().json(rep(&state, r)))
}

#[utoipa::path(tag = "realms", operation_id = "update_realm", request_body = RealmSettingsBody,
    responses((status = 200, body = RealmRep), (status = 404, body = super::ErrorBody),
        (status = 409, description = "the master realm cannot be disabled", body = super::ErrorBody)))]
#[put("/{realm}")]
pub async fn update(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<RealmSettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let cur = state.provider.get_realm(&caller, &realm).await?;
    let base = RealmSettings::from(&cur);
    let r = state
        .provider
        .update_realm(&caller, &realm, body.into_inner().into_settings(base)?)
        .await?;
    Ok(HttpResponse::Ok().json(rep(&state, r)))
}

#[utoipa::path(tag = "realms", operation_id = "delete_realm",
    responses((status = 204), (status = 404, body = super::ErrorBody),
        (status = 409, description = "the master realm cannot be deleted", body = super::ErrorBody)))]
#[delete("/{realm}")]
pub async fn delete(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.provider.delete_realm(&caller, &realm).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct KeyRep {
    pub kid: String,
    pub alg: String,
    /// active (signs), passive (verifies, in JWKS) or retired.
    pub status: String,
    pub created_at: i64,
}

impl From<KeyInfo> for KeyRep {
    fn from(k: KeyInfo) -> Self {
        Self {
            kid: k.kid,
            alg: k.alg.to_string(),
            status: k.status.as_str().to_owned(),
            created_at: k.created_at,
        }
    }
}

#[utoipa::path(tag = "keys",
    responses((status = 200, body = Vec<KeyRep>), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/keys")]
pub async fn list_keys(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let keys: Vec<KeyRep> = state
        .provider
        .list_keys(&caller, &realm)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(keys))
}

#[utoipa::path(tag = "keys",
    responses((status = 200, description = "kids of the new active keys", body = Vec<String>), (status = 404, body = super::ErrorBody)))]
#[post("/{realm}/keys/rotate")]
pub async fn rotate_keys(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.provider.rotate_keys(&caller, &realm).await?))
}
