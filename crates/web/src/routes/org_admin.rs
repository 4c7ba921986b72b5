//! The organization-admin exchange, `POST /realms/{realm}/organizations/{alias}/token-exchange`,
//! and the only CORS of Tessera: a browser app on one of the organization's verified
//! domains (or under one, over https) may call it. The preflight and the answer name that
//! origin (never `*`, never credentials), with `Vary: Origin`; any other origin gets 403
//! and no CORS header at all. A request without `Origin` is refused too: the issued
//! client's name and redirect URI come from it, so a server-side caller sends the origin
//! of the app it acts for.

use crate::AppState;
use crate::error::ApiError;
use crate::form::{MAX_FORM_BYTES, is_form};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use tessera_oidc::federation::org_admin::OrgAdminRequest;
use tessera_oidc::{OAuthError, Params};

const PATH: &str = "/realms/{realm}/organizations/{alias}/token-exchange";

/// How long a browser may cache a successful preflight.
const PREFLIGHT_MAX_AGE: &str = "600";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PATH)
            .route(web::post().to(exchange))
            .route(web::method(Method::OPTIONS).to(preflight))
            .default_service(web::to(not_allowed)),
    );
}

/// The request's one `Origin`, if it has one that is text.
fn origin(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let mut all = req.headers().get_all(header::ORIGIN);
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(OAuthError::invalid_request("more than one Origin header").into());
    }
    Ok(Some(first.to_str().map_err(|_| {
        ApiError(OAuthError::Forbidden(
            "the Origin header is not valid".into(),
        ))
    })?))
}

/// The CORS headers for an origin the organization accepts.
fn allow(res: &mut HttpResponse, origin: &str) {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
}

async fn preflight(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (realm, alias) = path.into_inner();
    let Some(origin) = origin(&req)? else {
        return Err(OAuthError::Forbidden("a preflight names its Origin".into()).into());
    };
    let at = state
        .provider
        .org_admin_origin(&realm, &alias, origin)
        .await?;
    let mut res = HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    allow(&mut res, at.as_str());
    Ok(res)
}

async fn exchange(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (realm, alias) = path.into_inner();
    let Some(origin) = origin(&req)? else {
        return Err(OAuthError::invalid_request(
            "the Origin header is required: it names the admin application the client is for",
        )
        .into());
    };
    let at = state
        .provider
        .org_admin_origin(&realm, &alias, origin)
        .await?;
    // From here on the origin is the organization's: its app may read every answer.
    let answer = match read_request(&req, payload).await {
        Ok(body) => state
            .provider
            .org_admin_exchange(&realm, &at, &body)
            .await
            .map_err(ApiError),
        Err(e) => Err(e),
    };
    let mut res = match answer {
        Ok(creds) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(creds),
        Err(e) => e.error_response(),
    };
    allow(&mut res, at.as_str());
    Ok(res)
}

/// A JSON body, or a form; anything else, or too large, is `invalid_request`.
async fn read_request(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<OrgAdminRequest, ApiError> {
    let bad = |d: &'static str| ApiError(OAuthError::invalid_request(d));
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim();
    let json = mime.eq_ignore_ascii_case("application/json");
    if !json && !is_form(req) {
        return Err(bad(
            "the body must be application/json or application/x-www-form-urlencoded",
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| bad("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(bad("the request body is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(if json {
        OrgAdminRequest::from_json(&body)?
    } else {
        OrgAdminRequest::from_params(&Params::parse_form(&body, &[])?)?
    })
}

/// POST (and its preflight) only: 405 with `Allow`, no CORS.
async fn not_allowed() -> HttpResponse {
    let mut res = ApiError(OAuthError::invalid_request(
        "this endpoint accepts POST only",
    ))
    .error_response();
    *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    res
}
