//! People's own pages: the account page (`/realms/{realm}/account`), "Forgot password?"
//! and the links mailed to people. The account page's person is whoever the realm's
//! browser session names (the authorization endpoint's cookie); without one the browser
//! signs in through the built-in client `tessera-account` and comes back. Every form
//! carries a CSRF token (the account page's bound to the session, the sign-in pages'
//! the browser's double-submit cookie); every page is `no-store` under the strict CSP.

use crate::AppState;
use crate::routes::browser::{
    branded, cookies, error_page, finish, html, page_form, query_params, realm_error_page,
    session_cookie,
};
use crate::routes::console::utc;
use crate::routes::person::{person, see_other};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_oidc::interaction::account::{AccountView, Person};
use tessera_oidc::interaction::brand::Brand;
use tessera_oidc::interaction::builtin_client::PersonPages;
use tessera_oidc::interaction::recovery::{EmailOutcome, ForgotOutcome};
use tessera_oidc::{OAuthError, Params};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/realms/{realm}/account", web::get().to(account))
        .route("/realms/{realm}/account/", web::get().to(account))
        .route("/realms/{realm}/account/callback", web::get().to(callback))
        .route("/realms/{realm}/account/email", web::get().to(email_link))
        .route(
            "/realms/{realm}/login-actions/confirm-email",
            web::post().to(confirm_email),
        )
        .route(
            "/realms/{realm}/account/{action:.+}",
            web::post().to(account_form),
        )
        .service(
            web::resource("/realms/{realm}/login-actions/forgot-password")
                .route(web::get().to(forgot))
                .route(web::post().to(forgot_form)),
        )
        .service(
            web::resource("/realms/{realm}/login-actions/reset-password")
                .route(web::get().to(reset))
                .route(web::post().to(reset_form)),
        );
}

fn home(realm: &str) -> String {
    format!("/realms/{realm}/account")
}

/// A page's status for a refusal (403 for a refusal, as the other pages).
fn status_of(e: &OAuthError) -> StatusCode {
    match e {
        OAuthError::AccessDenied(_) => StatusCode::FORBIDDEN,
        e => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
    }
}

async fn callback(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    crate::routes::person::callback(&state, &realm, &req, PersonPages::Account).await
}

/// An application with access, as the page lists it.
struct GrantLine {
    id: String,
    client: String,
    since_text: String,
    offline: bool,
}

/// One of the person's sessions as the page lists it.
struct SessionLine {
    id: String,
    started_text: String,
    upstream: bool,
    current: bool,
}

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage<'a> {
    v: &'a AccountView,
    sessions: Vec<SessionLine>,
    grants: Vec<GrantLine>,
    base: String,
    /// Where a waiting CIBA request is reviewed.
    requests_base: String,
    csrf: String,
    logout: String,
    notice: Option<&'static str>,
    error: Option<String>,
    brand: &'a Brand,
}

/// The confirmation after an action (`?notice=…`): fixed texts, nothing echoed.
fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "Your profile is saved.",
        "password" => "Your password is changed; your other sessions have ended.",
        "email-sent" => {
            "Check your inbox: we mailed a link to the new address. It becomes \
                         yours when you open it."
        }
        "verify-sent" => "Check your inbox: we mailed you a verification link.",
        "signed-out" => "That session has ended.",
        "unlinked" => "The provider is unlinked.",
        "revoked" => "The application's access has ended.",
        "left" => "You left the organization.",
        _ => return None,
    })
}

async fn render_account(
    state: &AppState,
    req: &HttpRequest,
    realm: &str,
    p: &Person,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let v = match state.provider.account_view(p).await {
        Ok(v) => v,
        Err(e) => return realm_error_page(state, realm, &e).await,
    };
    let q = crate::routes::console::query(req);
    let logout = state.provider.account_logout_url(realm);
    let page = AccountPage {
        sessions: v
            .sessions
            .iter()
            .map(|s| SessionLine {
                id: s.id.clone(),
                started_text: format!("{} UTC", utc(s.started)),
                upstream: s.upstream,
                current: s.current,
            })
            .collect(),
        grants: v
            .grants
            .iter()
            .map(|g| GrantLine {
                id: g.id.clone(),
                client: g.client.clone(),
                since_text: format!("{} UTC", utc(g.since)),
                offline: g.offline,
            })
            .collect(),
        v: &v,
        base: home(realm),
        requests_base: format!("/realms/{realm}/device/requests"),
        csrf: state.provider.account_csrf(p),
        logout,
        notice: if error.is_none() {
            q.get("notice").and_then(|n| notice(n))
        } else {
            None
        },
        error,
        brand: &v.brand,
    };
    branded(html(status, page.render()), &v.brand)
}

async fn account(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    match person(&state, &req, &realm, PersonPages::Account).await {
        Ok(p) => render_account(&state, &req, &realm, &p, StatusCode::OK, None).await,
        Err(res) => res,
    }
}

/// Every form of the account page: the session, then its CSRF token, then the action.
async fn account_form(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (realm, action) = path.into_inner();
    let p = match person(&state, &req, &realm, PersonPages::Account).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let params = match crate::form::read_form(&req, payload, &[]).await {
        Ok(f) => f,
        Err(e) => return realm_error_page(&state, &realm, &e.0).await,
    };
    if !state.provider.account_csrf_ok(&p, params.get("csrf")) {
        let e = OAuthError::AccessDenied(
            "the form was not sent from your account page (its security token is missing \
             or stale); reload the page and try again"
                .into(),
        );
        return realm_error_page(&state, &realm, &e).await;
    }
    let ip = crate::extract::client_ip(&req, &state.trusted_proxies);
    let f = |k: &str| params.get(k).unwrap_or_default();
    let pr = &state.provider;
    let done = match action.as_str() {
        "profile" => pr
            .account_profile(&p, f("given_name"), f("family_name"))
            .await
            .map(|_| "saved"),
        "password" => pr
            .account_password(&p, f("current_password"), f("new_password"), ip)
            .await
            .map(|_| "password"),
        "email" => pr
            .account_email(&p, f("email"), f("current_password"), ip)
            .await
            .map(|_| "email-sent"),
        "verify-email" => pr.account_verify_email(&p).await.map(|_| "verify-sent"),
        "sessions/end" => pr
            .account_end_session(&p, f("session"))
            .await
            .map(|_| "signed-out"),
        "grants/revoke" => pr
            .account_revoke_grant(&p, f("grant"))
            .await
            .map(|_| "revoked"),
        "sign-out-everywhere" => pr
            .account_sign_out_everywhere(&p)
            .await
            .map(|_| "signed-out"),
        "unlink" => pr
            .account_unlink(&p, f("provider"), ip)
            .await
            .map(|_| "unlinked"),
        "leave" => pr
            .account_leave_org(&p, f("organization"), ip)
            .await
            .map(|_| "left"),
        _ => return crate::routes::browser::not_found_page(),
    };
    match done {
        Ok(n) => see_other(&format!("{}?notice={n}", home(&realm))),
        Err(e @ OAuthError::ServerError(_)) => realm_error_page(&state, &realm, &e).await,
        Err(e) => {
            // The person may have just ended this session: then the page signs in again.
            match state
                .provider
                .account_person(&realm, cookies(&req).session_token())
                .await
            {
                Ok(Some(p)) => {
                    render_account(
                        &state,
                        &req,
                        &realm,
                        &p,
                        status_of(&e),
                        Some(e.description().to_string()),
                    )
                    .await
                }
                _ => realm_error_page(&state, &realm, &e).await,
            }
        }
    }
}

#[derive(Template)]
#[template(path = "account/done.html")]
struct DonePage<'a> {
    title: &'a str,
    text: &'a str,
    link: Option<(String, &'a str)>,
    brand: &'a Brand,
}

pub(crate) fn done_page(
    brand: &Brand,
    title: &str,
    text: &str,
    link: Option<(String, &str)>,
) -> HttpResponse {
    branded(
        html(
            StatusCode::OK,
            DonePage {
                title,
                text,
                link,
                brand,
            }
            .render(),
        ),
        brand,
    )
}

#[derive(Template)]
#[template(path = "account/confirm_email.html")]
struct ConfirmEmailPage<'a> {
    action: String,
    csrf: &'a str,
    token: &'a str,
    username: &'a str,
    email: &'a str,
    change: bool,
    brand: &'a Brand,
}

/// A link mailed to verify or change an address asks to confirm: mail scanners fetch
/// every link, so only the confirmation's POST (with this browser's CSRF token) uses it.
async fn email_link(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let params = match query_params(&req) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let c = cookies(&req);
    let token = params.get("token").unwrap_or_default();
    let res = match state.provider.email_link_page(&realm, token).await {
        Ok(view) => branded(
            html(
                StatusCode::OK,
                ConfirmEmailPage {
                    action: format!("/realms/{realm}/login-actions/confirm-email"),
                    csrf: c.csrf(),
                    token,
                    username: &view.username,
                    email: &view.email,
                    change: view.change,
                    brand: &view.brand,
                }
                .render(),
            ),
            &view.brand,
        ),
        Err(e) => realm_error_page(&state, &realm, &e).await,
    };
    finish(&state, &realm, &c, res, None)
}

/// The confirmation: the link is used, once.
async fn confirm_email(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, c) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    if !c.csrf_matches(params.get("csrf")) {
        return error_page(&OAuthError::AccessDenied(
            "the form has expired; open the link in your e-mail again".into(),
        ));
    }
    let ip = crate::extract::client_ip(&req, &state.trusted_proxies);
    let token = params.get("token").unwrap_or_default();
    match state.provider.open_email_link(&realm, token, ip).await {
        Ok(outcome) => {
            let brand = state.provider.realm_brand(&realm).await;
            let (title, text) = match outcome {
                EmailOutcome::Verified => (
                    "Your e-mail address is verified",
                    "Thank you: the address is confirmed as yours.",
                ),
                EmailOutcome::Changed => (
                    "Your e-mail address is changed",
                    "The new address is now your account's, and it is verified.",
                ),
            };
            done_page(
                &brand,
                title,
                text,
                Some((home(&realm), "Go to your account")),
            )
        }
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage<'a> {
    action: String,
    csrf: &'a str,
    sends_mail: bool,
    error: Option<&'a str>,
    brand: &'a Brand,
}

async fn forgot_page(
    state: &AppState,
    realm: &str,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let sends = match state.provider.realm(realm).await {
        Ok(ctx) => state.provider.realm_can_mail(&ctx).await,
        Err(e) => Err(e),
    };
    let sends_mail = match sends {
        Ok(s) => s,
        Err(e) => return realm_error_page(state, realm, &e).await,
    };
    let brand = state.provider.realm_brand(realm).await;
    branded(
        html(
            status,
            ForgotPage {
                action: format!("/realms/{realm}/login-actions/forgot-password"),
                csrf,
                sends_mail,
                error,
                brand: &brand,
            }
            .render(),
        ),
        &brand,
    )
}

async fn forgot(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let c = cookies(&req);
    let res = forgot_page(&state, &realm, c.csrf(), StatusCode::OK, None).await;
    finish(&state, &realm, &c, res, None)
}

async fn forgot_form(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, c) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    if !c.csrf_matches(params.get("csrf")) {
        let res = forgot_page(
            &state,
            &realm,
            c.csrf(),
            StatusCode::FORBIDDEN,
            Some("The form has expired; please send it again."),
        )
        .await;
        return finish(&state, &realm, &c, res, None);
    }
    let ip = crate::extract::client_ip(&req, &state.trusted_proxies);
    let login = params.get("username").unwrap_or_default();
    match state.provider.forgot_password(&realm, login, ip).await {
        Ok(ForgotOutcome::Answered) => {
            let brand = state.provider.realm_brand(&realm).await;
            done_page(
                &brand,
                "Check your e-mail",
                "If this name belongs to an account with an e-mail address, a link to set \
                 a new password is on its way to it. The link works once, for 30 minutes.",
                None,
            )
        }
        Ok(ForgotOutcome::NoMail) => {
            forgot_page(&state, &realm, c.csrf(), StatusCode::OK, None).await
        }
        Ok(ForgotOutcome::RateLimited { retry_after_secs }) => {
            let mut res = forgot_page(
                &state,
                &realm,
                c.csrf(),
                StatusCode::TOO_MANY_REQUESTS,
                Some("Too many requests for a new password. Wait a few minutes and try again."),
            )
            .await;
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(e @ OAuthError::InvalidRequest(_)) => {
            forgot_page(
                &state,
                &realm,
                c.csrf(),
                StatusCode::BAD_REQUEST,
                Some(&e.description()),
            )
            .await
        }
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage<'a> {
    action: String,
    csrf: &'a str,
    token: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    brand: &'a Brand,
}

/// The reset link's form, while the link works; the error page once it does not.
async fn reset_page(
    state: &AppState,
    realm: &str,
    token: &str,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    match state.provider.reset_page(realm, token).await {
        Ok(view) => branded(
            html(
                status,
                ResetPage {
                    action: format!("/realms/{realm}/login-actions/reset-password"),
                    csrf,
                    token,
                    username: &view.username,
                    error,
                    brand: &view.brand,
                }
                .render(),
            ),
            &view.brand,
        ),
        Err(e) => realm_error_page(state, realm, &e).await,
    }
}

async fn reset(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let params: Params = match query_params(&req) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let c = cookies(&req);
    let token = params.get("token").unwrap_or_default();
    let res = reset_page(&state, &realm, token, c.csrf(), StatusCode::OK, None).await;
    finish(&state, &realm, &c, res, None)
}

async fn reset_form(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, c) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let token = params.get("token").unwrap_or_default();
    if !c.csrf_matches(params.get("csrf")) {
        let res = reset_page(
            &state,
            &realm,
            token,
            c.csrf(),
            StatusCode::FORBIDDEN,
            Some("The form has expired; please send it again."),
        )
        .await;
        return finish(&state, &realm, &c, res, None);
    }
    let ip = crate::extract::client_ip(&req, &state.trusted_proxies);
    let password = params.get("password").unwrap_or_default();
    match state
        .provider
        .reset_password(&realm, token, password, ip)
        .await
    {
        Ok(()) => {
            let brand = state.provider.realm_brand(&realm).await;
            let mut res = done_page(
                &brand,
                "Your password is set",
                "Every session of your account has ended. Go back to the application and \
                 sign in with the new password.",
                None,
            );
            // This browser's session ended too.
            let _ = res.add_removal_cookie(&session_cookie(&state, &realm));
            res
        }
        // A refused password: the form again, the link still works.
        Err(e @ OAuthError::InvalidRequest(_)) if !e.description().contains("this link") => {
            reset_page(
                &state,
                &realm,
                token,
                c.csrf(),
                StatusCode::BAD_REQUEST,
                Some(&e.description()),
            )
            .await
        }
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}
