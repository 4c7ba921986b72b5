//! `/admin/realms/{realm}/smtp`: the realm's mail server for invitation links.

use super::{Caller, schema};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::AdminJson;
use actix_web::{HttpResponse, delete, get, put, web};
use serde::{Deserialize, Serialize};
use tessera_domain::{Email, SmtpSecurity, SmtpSettings};
use tessera_oidc::OAuthError;
use tessera_oidc::admin::smtp::SmtpView;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the handlers; each one's route and OpenAPI path come from its own attributes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_smtp).service(put_smtp).service(delete_smtp);
}

/// A realm's SMTP server. The password is never shown.
#[derive(Serialize, ToSchema)]
pub struct SmtpRep {
    pub host: String,
    pub port: u16,
    /// starttls, tls or none (none only for a loopback server).
    pub security: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A password is stored (sealed).
    pub has_password: bool,
    /// The sender address of the realm's messages.
    pub from: String,
}

impl From<SmtpView> for SmtpRep {
    fn from(v: SmtpView) -> Self {
        Self {
            host: v.settings.host,
            port: v.settings.port,
            security: v.settings.security.as_str().to_owned(),
            username: v.settings.username,
            has_password: v.has_password,
            from: v.settings.from.as_str().to_owned(),
        }
    }
}

/// A mail server: `host` (a host name or IP address: at most 253 characters of A-Z, a-z,
/// 0-9, '.', '-', ':', '[' and ']'), `port` (1 to 65535; default 587 for starttls, 465 for
/// tls), `security` (starttls by default, tls, or none for a server of
/// [`SmtpSettings::LOOPBACK_HOSTS`] only), `username` (1 to 256 characters, no control
/// characters), `password` (write-only; omit to keep the stored one with the same username)
/// and `from`. Its schema is written out in [`smtp_body_schema`]: which hosts are allowed
/// depends on `security`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpBody {
    pub host: String,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl utoipa::PartialSchema for SmtpBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        schema::smtp_body(&SmtpSettings::LOOPBACK_HOSTS)
    }
}

impl ToSchema for SmtpBody {}

#[utoipa::path(tag = "realms",
    responses((status = 200, body = SmtpRep), (status = 404, description = "no such realm, or no SMTP server", body = super::ErrorBody)))]
#[get("/{realm}/smtp")]
pub async fn get_smtp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match state.provider.get_realm_smtp(&caller, &realm).await? {
        Some(v) => Ok(HttpResponse::Ok().json(SmtpRep::from(v))),
        None => Err(ApiError(OAuthError::NotFound(
            "the realm has no SMTP server".into(),
        ))),
    }
}

#[utoipa::path(tag = "realms", request_body = SmtpBody,
    responses((status = 200, body = SmtpRep), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[put("/{realm}/smtp")]
pub async fn put_smtp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: AdminJson<SmtpBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let security = match b.security.as_deref() {
        Some(s) => SmtpSecurity::parse(s)?,
        None => SmtpSecurity::StartTls,
    };
    let settings = SmtpSettings {
        host: b.host,
        port: b.port.unwrap_or(match security {
            SmtpSecurity::Tls => 465,
            _ => 587,
        }),
        security,
        username: b.username,
        from: Email::parse(&b.from)?,
    };
    let view = state
        .provider
        .put_realm_smtp(&caller, &realm, settings, b.password)
        .await?;
    Ok(HttpResponse::Ok().json(SmtpRep::from(view)))
}

#[utoipa::path(tag = "realms",
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
#[delete("/{realm}/smtp")]
pub async fn delete_smtp(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.provider.delete_realm_smtp(&caller, &realm).await?;
    Ok(HttpResponse::NoContent().finish())
}
