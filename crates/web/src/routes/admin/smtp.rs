//! `/admin/realms/{realm}/smtp`: the realm's mail server for invitation links.

use super::{Caller, schema};
use crate::AppState;
use crate::error::ApiError;
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpBody {
    /// A host name or IP address: at most 253 characters of A-Z, a-z, 0-9, '.', '-', ':',
    /// '[' and ']'.
    #[schema(min_length = 1, max_length = 253, pattern = r"^[A-Za-z0-9.:\[\]-]+$")]
    pub host: String,
    /// 1 to 65535; default 587 for starttls, 465 for tls.
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    /// starttls (default), tls, or none (loopback servers only).
    #[schema(schema_with = schema::optional_smtp_security)]
    pub security: Option<String>,
    /// 1 to 256 bytes, no control characters.
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]+$"
    )]
    pub username: Option<String>,
    /// Write-only; omit to keep the stored one (same username).
    pub password: Option<String>,
    #[schema(schema_with = schema::email)]
    pub from: String,
}

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
    body: web::Json<SmtpBody>,
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
