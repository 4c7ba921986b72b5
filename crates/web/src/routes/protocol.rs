//! Per-realm protocol endpoints in Keycloak's layout: discovery, JWKS, token,
//! introspection and revocation, device authorization (RFC 8628) and backchannel
//! authentication (CIBA).

use crate::AppState;
use crate::error::ApiError;
use crate::form::{basic_auth, read_form};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_oidc::clients::auth::BasicCredentials;
use tessera_oidc::token::REPEATABLE;
use tessera_oidc::{OAuthError, Params};

pub fn configure(cfg: &mut web::ServiceConfig) {
    let post_only = |path: &str, h| {
        web::resource(path.to_owned())
            .route(h)
            .default_service(web::to(method_not_allowed))
    };
    // One document under every name a client may look for it: OpenID Connect Discovery
    // (path appended), RFC 8414 authorization-server metadata with the issuer's path
    // inserted after the well-known prefix, and OIDC discovery the same way (the order
    // MCP clients try). RFC 8414 metadata appended to the issuer is not a location the
    // RFC defines, so it stays 404.
    cfg.service(
        web::resource([
            "/realms/{realm}/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server/realms/{realm}",
            "/.well-known/openid-configuration/realms/{realm}",
        ])
        .route(web::get().to(discovery)),
    )
    .service(
        web::resource("/realms/{realm}/protocol/openid-connect/certs").route(web::get().to(jwks)),
    )
    .service(post_only(
        "/realms/{realm}/protocol/openid-connect/token",
        web::post().to(token),
    ))
    .service(post_only(
        "/realms/{realm}/protocol/openid-connect/token/introspect",
        web::post().to(introspect),
    ))
    .service(post_only(
        "/realms/{realm}/protocol/openid-connect/revoke",
        web::post().to(revoke),
    ))
    .service(post_only(
        "/realms/{realm}/protocol/openid-connect/auth/device",
        web::post().to(device_authorization),
    ))
    .service(post_only(
        "/realms/{realm}/protocol/openid-connect/ext/ciba/auth",
        web::post().to(backchannel_authentication),
    ));
}

fn json_no_store(body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

fn cached_json(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(body)
}

async fn discovery(
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.provider.realm(&realm).await?;
    Ok(cached_json(ctx.discovery_json.clone()))
}

async fn jwks(
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.provider.realm(&realm).await?;
    Ok(cached_json(ctx.keys.jwks_json.clone()))
}

/// A client-authenticated form post: its parameters and its Basic credentials, if any.
async fn client_form(
    req: &HttpRequest,
    payload: web::Payload,
    repeatable: &[&str],
) -> Result<(Params, Option<BasicCredentials>), ApiError> {
    let params = read_form(req, payload, repeatable).await?;
    Ok((params, basic_auth(req)?))
}

async fn token(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (params, basic) = client_form(&req, payload, REPEATABLE).await?;
    Ok(json_no_store(
        state.provider.token(&realm, basic, &params).await?,
    ))
}

async fn introspect(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (params, basic) = client_form(&req, payload, &[]).await?;
    Ok(json_no_store(
        state.provider.introspect(&realm, basic, &params).await?,
    ))
}

async fn revoke(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (params, basic) = client_form(&req, payload, &[]).await?;
    state.provider.revoke(&realm, basic, &params).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// RFC 8628 §3.1: a device code and a user code.
async fn device_authorization(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (params, basic) = client_form(&req, payload, REPEATABLE).await?;
    let ip = crate::extract::client_ip(&req, &state.trusted_proxies);
    Ok(json_no_store(
        state
            .provider
            .device_authorization(&realm, basic, &params, ip)
            .await?,
    ))
}

/// CIBA Core §7: a request for the person a hint names.
async fn backchannel_authentication(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (params, basic) = client_form(&req, payload, REPEATABLE).await?;
    Ok(json_no_store(
        state
            .provider
            .backchannel_authentication(&realm, basic, &params)
            .await?,
    ))
}

/// These endpoints take POST only (RFC 6749 §3.2); anything else is 405 with a JSON error.
async fn method_not_allowed() -> HttpResponse {
    let mut res = actix_web::ResponseError::error_response(&ApiError(OAuthError::invalid_request(
        "this endpoint accepts POST only",
    )));
    *res.status_mut() = actix_web::http::StatusCode::METHOD_NOT_ALLOWED;
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    res
}
