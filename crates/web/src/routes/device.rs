//! Approving on this device what was asked for on another: the verification page of
//! the device grant (`/realms/{realm}/device`, RFC 8628 §3.3) and the page of a CIBA
//! request (`/realms/{realm}/device/requests/{id}`, linked from the notice mail and the
//! account page). The person signs in through the built-in client `tessera-device`;
//! every form carries the session-bound CSRF token, the decision form also the ticket
//! the engine sealed to the request and the session.

use crate::AppState;
use crate::routes::account::done_page;
use crate::routes::browser::{branded, html, page_form, query_params, realm_error_page};
use crate::routes::person::{callback as pages_callback, person};
use crate::words;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_domain::ApprovalKind;
use tessera_oidc::OAuthError;
use tessera_oidc::interaction::account::Person;
use tessera_oidc::interaction::approve::{ApprovalView, CodeOutcome, Decided};
use tessera_oidc::interaction::brand::Brand;
use tessera_oidc::interaction::builtin_client::PersonPages;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/realms/{realm}/device")
            .route(web::get().to(code_page))
            .route(web::post().to(code_form)),
    )
    .route("/realms/{realm}/device/callback", web::get().to(callback))
    .route(
        "/realms/{realm}/device/requests/{id}",
        web::get().to(request_page),
    )
    .route("/realms/{realm}/device/decide", web::post().to(decide));
}

const PAGES: PersonPages = PersonPages::Device;

#[derive(Template)]
#[template(path = "device/code.html")]
struct CodePage<'a> {
    action: String,
    csrf: &'a str,
    username: &'a str,
    user_code: &'a str,
    error: Option<&'a str>,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "device/approve.html")]
struct ApprovePage<'a> {
    v: &'a ApprovalView,
    is_device: bool,
    permissions: Vec<words::Permission>,
    action: String,
    csrf: &'a str,
    username: &'a str,
    brand: &'a Brand,
}

fn render_code(
    state: &AppState,
    p: &Person,
    realm: &str,
    typed: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let brand = Brand::of(&p.ctx.realm, None);
    branded(
        html(
            status,
            CodePage {
                action: format!("/realms/{realm}/device"),
                csrf: &state.provider.account_csrf(p),
                username: p.user.username.as_str(),
                // Shown back only as what a code can be: letters and a dash.
                user_code: &typed
                    .chars()
                    .filter(|c| c.is_ascii_alphabetic() || *c == '-')
                    .take(9)
                    .collect::<String>(),
                error,
                brand: &brand,
            }
            .render(),
        ),
        &brand,
    )
}

fn render_approval(state: &AppState, p: &Person, realm: &str, v: &ApprovalView) -> HttpResponse {
    branded(
        html(
            StatusCode::OK,
            ApprovePage {
                v,
                is_device: v.kind == ApprovalKind::Device,
                permissions: words::permissions(&v.scopes, &v.brand.name, v.organization.as_ref()),
                action: format!("/realms/{realm}/device/decide"),
                csrf: &state.provider.account_csrf(p),
                username: p.user.username.as_str(),
                brand: &v.brand,
            }
            .render(),
        ),
        &v.brand,
    )
}

async fn callback(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    pages_callback(&state, &realm, &req, PAGES).await
}

/// The code form, filled in from `verification_uri_complete`: the person still presses
/// Continue and then sees the code beside the client (RFC 8628 §5.4).
async fn code_page(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let p = match person(&state, &req, &realm, PAGES).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let q = query_params(&req).unwrap_or_default();
    let typed = q.get("user_code").unwrap_or_default();
    render_code(&state, &p, &realm, typed, StatusCode::OK, None)
}

async fn code_form(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, _) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let p = match person(&state, &req, &realm, PAGES).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let typed = params.get("user_code").unwrap_or_default();
    if !state.provider.account_csrf_ok(&p, params.get("csrf")) {
        return render_code(
            &state,
            &p,
            &realm,
            typed,
            StatusCode::FORBIDDEN,
            Some("This form has expired. Enter the code again."),
        );
    }
    let ip = crate::extract::client_ip(&req, &state.trusted_proxies);
    match state.provider.enter_user_code(&p, typed, ip).await {
        Ok(CodeOutcome::Found(v)) => render_approval(&state, &p, &realm, &v),
        Ok(CodeOutcome::Unknown) => render_code(
            &state,
            &p,
            &realm,
            typed,
            StatusCode::BAD_REQUEST,
            Some("That code is not valid or has expired. Check the code on your device."),
        ),
        Ok(CodeOutcome::RateLimited { retry_after_secs }) => {
            let mut res = render_code(
                &state,
                &p,
                &realm,
                typed,
                StatusCode::TOO_MANY_REQUESTS,
                Some("Too many wrong codes. Wait a minute and try again."),
            );
            if let Ok(v) = retry_after_secs.to_string().parse() {
                res.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
            res
        }
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}

async fn request_page(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, id) = path.into_inner();
    let p = match person(&state, &req, &realm, PAGES).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    match state.provider.ciba_request_view(&p, &id).await {
        Ok(Some(v)) => render_approval(&state, &p, &realm, &v),
        Ok(None) => {
            let e = OAuthError::NotFound(
                "this request is not waiting for you: it was answered, has expired, or is someone else's"
                    .into(),
            );
            realm_error_page(&state, &realm, &e).await
        }
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}

async fn decide(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, _) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let p = match person(&state, &req, &realm, PAGES).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    if !state.provider.account_csrf_ok(&p, params.get("csrf")) {
        let e = OAuthError::invalid_request("this page has expired; open the request again");
        return realm_error_page(&state, &realm, &e).await;
    }
    let approve = match params.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            let e = OAuthError::invalid_request("choose Allow or Deny");
            return realm_error_page(&state, &realm, &e).await;
        }
    };
    let decided = state
        .provider
        .decide_approval(
            &p,
            params.get("ticket").unwrap_or_default(),
            approve,
            params.get("organization"),
        )
        .await;
    let brand = Brand::of(&p.ctx.realm, None);
    match decided {
        Ok(Ok(Decided::Approved { kind, client })) => {
            let text = match kind {
                ApprovalKind::Device => {
                    format!("{client} is now signed in as you. You can go back to your device.")
                }
                ApprovalKind::Ciba => format!("{client} has been told and may now act for you."),
            };
            done_page(&brand, "Allowed", &text, None)
        }
        Ok(Ok(Decided::Denied { client, .. })) => done_page(
            &brand,
            "Denied",
            &format!("{client} was told no. Nothing was shared."),
            None,
        ),
        Ok(Ok(Decided::Gone)) => {
            let e = OAuthError::NotFound("this request was already answered or has expired".into());
            realm_error_page(&state, &realm, &e).await
        }
        Ok(Err(v)) => render_approval(&state, &p, &realm, &v),
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}
