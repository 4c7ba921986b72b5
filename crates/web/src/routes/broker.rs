//! Sign-in through upstream providers: the login page's provider buttons, the upstream's
//! redirect back (`…/broker/{alias}/endpoint`), the account-link form, and the upstream's
//! back-channel logout.

use crate::AppState;
use crate::error::ApiError;
use crate::form::read_form;
use crate::routes::browser::{answer, cookies, error_page, page_form, query_params};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_oidc::OAuthError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/realms/{realm}/login-actions/broker",
        web::post().to(start),
    )
    .route("/realms/{realm}/login-actions/link", web::post().to(link))
    .route(
        "/realms/{realm}/broker/{alias}/endpoint",
        web::get().to(callback),
    )
    .route(
        "/realms/{realm}/broker/{alias}/backchannel-logout",
        web::post().to(backchannel_logout),
    );
}

/// A provider's button on the login page: off to the upstream.
async fn start(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, c) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let browser = c.browser(&req, &state);
    let step = state
        .provider
        .start_broker(
            &realm,
            params.get("state").unwrap_or_default(),
            params.get("provider").unwrap_or_default(),
            &browser,
        )
        .await;
    answer(&state, &realm, &c, step.map(|s| (s, None))).await
}

/// The upstream sends the browser back here with `code` and `state` (or `error`).
async fn callback(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, alias) = path.into_inner();
    let params = match query_params(&req) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let c = cookies(&req);
    let browser = c.browser(&req, &state);
    let step = state
        .provider
        .broker_callback(&realm, &alias, &params, &browser)
        .await;
    answer(&state, &realm, &c, step).await
}

/// The link page: the existing account's password.
async fn link(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, c) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let browser = c.browser(&req, &state);
    let step = state
        .provider
        .link_account(
            &realm,
            params.get("pending").unwrap_or_default(),
            params.get("password").unwrap_or_default(),
            &browser,
        )
        .await;
    answer(&state, &realm, &c, step).await
}

/// OIDC Back-Channel Logout 1.0 §2.8: 200 when done, 400 with a JSON error otherwise.
async fn backchannel_logout(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (realm, alias) = path.into_inner();
    let params = read_form(&req, payload, &[]).await?;
    match state
        .provider
        .upstream_backchannel_logout(&realm, &alias, &params)
        .await
    {
        Ok(_) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()),
        Err(e @ OAuthError::ServerError(_)) => Err(e.into()),
        Err(e) => Err(OAuthError::invalid_request(e.description()).into()),
    }
}
