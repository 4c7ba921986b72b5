//! Dynamic client registration (RFC 7591) and management (RFC 7592) at Keycloak's path
//! `/realms/{realm}/clients-registrations/openid-connect`: JSON in and out, never
//! cached. The initial access token (registration) and the registration access token
//! (management) come as `Authorization: Bearer`.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::client_ip;
use crate::form::bearer_token;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use tessera_oidc::OAuthError;
use tessera_oidc::registration::Registrant;

/// Largest registration body: room for a 64 KiB JWK set and the rest.
const MAX_BODY: usize = 96 * 1024;

const PATH: &str = "/realms/{realm}/clients-registrations/openid-connect";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PATH)
            .route(web::post().to(register))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource(format!("{PATH}/{{client_id}}"))
            .route(web::get().to(read))
            .route(web::put().to(update))
            .route(web::delete().to(remove))
            .default_service(web::to(|| not_allowed("GET, PUT, DELETE"))),
    );
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    res
}

/// A JSON body (RFC 7591 §3.1): another content type, or one too large, is
/// `invalid_client_metadata`.
async fn json_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let bad = |d: &'static str| ApiError(OAuthError::InvalidClientMetadata(d.into()));
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(bad("the body must be application/json"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| bad("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(bad("the request body is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn register(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // A token that is there must be a usable one; none at all is open registration.
    let registrant = if req.headers().contains_key(header::AUTHORIZATION) {
        Registrant::InitialToken(bearer_token(&req)?)
    } else {
        Registrant::Anonymous(client_ip(&req, &state.trusted_proxies))
    };
    let body = json_body(&req, payload).await?;
    let info = state
        .provider
        .register_client(&realm, registrant, &body)
        .await?;
    Ok(no_store(HttpResponse::Created()).json(info))
}

async fn read(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (realm, client_id) = path.into_inner();
    let info = state
        .provider
        .read_registration(&realm, &client_id, bearer_token(&req)?)
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(info))
}

async fn update(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (realm, client_id) = path.into_inner();
    let token = bearer_token(&req)?;
    let body = json_body(&req, payload).await?;
    let info = state
        .provider
        .update_registration(&realm, &client_id, token, &body)
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(info))
}

async fn remove(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (realm, client_id) = path.into_inner();
    state
        .provider
        .delete_registration(&realm, &client_id, bearer_token(&req)?)
        .await?;
    Ok(no_store(HttpResponse::NoContent()).finish())
}

async fn not_allowed(allow: &'static str) -> HttpResponse {
    let mut res = actix_web::ResponseError::error_response(&ApiError(OAuthError::invalid_request(
        format!("this endpoint answers {allow}"),
    )));
    *res.status_mut() = actix_web::http::StatusCode::METHOD_NOT_ALLOWED;
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    res
}
