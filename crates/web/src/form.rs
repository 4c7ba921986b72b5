//! Reading form posts at the edge: content type, a size limit, and the Basic header.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use tessera_oidc::clients::auth::{BasicCredentials, parse_basic};
use tessera_oidc::{OAuthError, Params};

/// Largest form body we read: room for one of our largest access tokens (introspection,
/// revocation, token exchange); other requests are far smaller.
pub const MAX_FORM_BYTES: usize = 128 * 1024;

/// Whether the body is declared `application/x-www-form-urlencoded`.
pub fn is_form(req: &HttpRequest) -> bool {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// Reads and parses an `application/x-www-form-urlencoded` body, stopping at the limit.
pub async fn read_form(
    req: &HttpRequest,
    mut payload: web::Payload,
    repeatable: &[&str],
) -> Result<Params, ApiError> {
    if !is_form(req) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError(OAuthError::invalid_request(
                "the request body could not be read",
            ))
        })?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(OAuthError::invalid_request("the request body is too large").into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Params::parse_form(&body, repeatable)?)
}

/// Client credentials from `Authorization: Basic`, if that header is present.
pub fn basic_auth(req: &HttpRequest) -> Result<Option<BasicCredentials>, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request("more than one Authorization header").into());
    }
    let parsed = v
        .to_str()
        .map_err(|_| OAuthError::InvalidClient("client authentication failed".into()))
        .and_then(parse_basic);
    if let Err(OAuthError::InvalidClient(_)) = &parsed {
        // Decided here, before the engine sees a client: the header is not logged.
        tracing::warn!(
            target: "tessera::security",
            event = "invalid_client",
            realm = req
                .match_info()
                .get("realm")
                .filter(|r| tessera_domain::RealmName::parse(r).is_ok()),
            reason = "malformed_basic_header",
            "client authentication failed"
        );
    }
    Ok(Some(parsed?))
}

/// The bearer token from `Authorization: Bearer` (RFC 6750 §2.1).
pub fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let missing = || {
        ApiError(OAuthError::InvalidToken(
            "a bearer access token is required".into(),
        ))
    };
    let v = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    v.get(..7)
        .filter(|s| s.eq_ignore_ascii_case("bearer "))
        .map(|_| v[7..].trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)
}
