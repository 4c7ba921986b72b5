//! The browser endpoints: authorization, login and consent pages, userinfo.
//! Pages are askama templates; errors before the redirect URI is proven are a page.

use crate::AppState;
use crate::error::ApiError;
use crate::form::{bearer_token, is_form, read_form};
use crate::words::{self, Explanation, Permission};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use tessera_oidc::authorize::ResponseMode;
use tessera_oidc::crypto::random_id;
use tessera_oidc::interaction::brand::Brand;
use tessera_oidc::interaction::code_flow::{
    Browser, ClientResponse, LoginOption, NewSession, Step,
};
use tessera_oidc::interaction::invitations::{
    InvitationAction, InvitationForm, InvitationOutcome, InvitationView,
};
use tessera_oidc::{OAuthError, Params};

const SESSION_COOKIE: &str = "tessera_session";
const CSRF_COOKIE: &str = "tessera_csrf";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/realms/{realm}/protocol/openid-connect/auth")
            .route(web::get().to(authorize))
            .route(web::post().to(authorize)),
    )
    .route(
        "/realms/{realm}/login-actions/authenticate",
        web::post().to(login),
    )
    .route(
        "/realms/{realm}/login-actions/consent",
        web::post().to(consent),
    )
    .route(
        "/realms/{realm}/login-actions/organization",
        web::post().to(choose_org),
    )
    .service(
        web::resource("/realms/{realm}/invitations/accept")
            .route(web::get().to(invitation))
            .route(web::post().to(answer_invitation)),
    )
    .service(
        web::resource("/realms/{realm}/protocol/openid-connect/logout")
            .route(web::get().to(logout))
            .route(web::post().to(logout)),
    )
    .route(
        "/realms/{realm}/protocol/openid-connect/logout/confirm",
        web::post().to(logout_confirm),
    )
    .service(
        web::resource("/realms/{realm}/protocol/openid-connect/userinfo")
            .route(web::get().to(userinfo))
            .route(web::post().to(userinfo)),
    );
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    client_name: &'a str,
    action: String,
    broker_action: String,
    forgot: String,
    sealed: &'a str,
    login_hint: &'a str,
    buttons: Vec<&'a LoginOption>,
    error: Option<&'a str>,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "link_account.html")]
struct LinkAccountPage<'a> {
    client_name: &'a str,
    action: String,
    pending: &'a str,
    email: &'a str,
    provider: &'a str,
    error: Option<&'a str>,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "choose_org.html")]
struct ChooseOrgPage<'a> {
    client_name: &'a str,
    action: String,
    sealed: &'a str,
    orgs: &'a [(String, String)],
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    client_name: &'a str,
    client_host: Option<&'a str>,
    action: String,
    sealed: &'a str,
    /// What each scope lets the application do, in words.
    permissions: Vec<Permission>,
    /// `(name, identifier)` of the APIs it will reach for you.
    apis: &'a [(String, String)],
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage<'a> {
    action: String,
    token: &'a str,
    csrf: &'a str,
    view: &'a InvitationView,
    error: Option<&'a str>,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "joined.html")]
struct JoinedPage<'a> {
    org_name: &'a str,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    words: Explanation,
    message: &'a str,
    code: &'a str,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    brand: Brand,
}

/// What a browser gets at an address that names nothing.
pub(crate) fn not_found_page() -> HttpResponse {
    html(
        StatusCode::NOT_FOUND,
        NotFoundPage {
            brand: Brand::product(),
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    action: String,
    csrf: &'a str,
    params: Vec<(&'static str, String)>,
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutPage<'a> {
    brand: &'a Brand,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    action: &'a str,
    params: &'a [(&'static str, String)],
}

pub(crate) fn html(status: StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    match body {
        Ok(b) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(b),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A friendly page for errors that must not go back to the client, before we know
/// which realm the request is for (a malformed body).
pub(crate) fn error_page(e: &OAuthError) -> HttpResponse {
    error_page_for(e, &Brand::product())
}

/// [`error_page`] in the realm's look, when the request names one (the product's when it
/// names none that exists).
pub(crate) async fn realm_error_page(
    state: &AppState,
    realm: &str,
    e: &OAuthError,
) -> HttpResponse {
    let brand = state.provider.realm_brand(realm).await;
    branded(error_page_for(e, &brand), &brand)
}

fn error_page_for(e: &OAuthError, brand: &Brand) -> HttpResponse {
    if let OAuthError::ServerError(cause) = e {
        tracing::error!(%cause, "browser request failed");
    }
    // On a page, a refusal is 403 (the token endpoint answers access_denied with 400).
    let status = match e {
        OAuthError::AccessDenied(_) => StatusCode::FORBIDDEN,
        e => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
    };
    let mut res = html(
        status,
        ErrorPage {
            words: words::explain(e),
            message: &e.description(),
            code: e.code(),
            brand,
        }
        .render(),
    );
    if matches!(e, OAuthError::TemporarilyUnavailable) {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    res
}

fn cookie<'a>(
    state: &AppState,
    realm: &str,
    name: &'a str,
    value: String,
    max_age: Option<i64>,
) -> Cookie<'a> {
    let mut c = Cookie::build(name, value)
        .path(format!("/realms/{realm}/"))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.provider.public_url_is_https())
        .finish();
    if let Some(secs) = max_age {
        c.set_max_age(actix_web::cookie::time::Duration::seconds(secs));
    }
    c
}

/// The realm session's cookie as set, to remove it.
pub(crate) fn session_cookie<'a>(state: &AppState, realm: &str) -> Cookie<'a> {
    cookie(state, realm, SESSION_COOKIE, String::new(), None)
}

pub(crate) fn query_params(req: &HttpRequest) -> Result<Params, OAuthError> {
    // RFC 8707: `resource` (and `audience`) may name several targets.
    Params::parse_form(req.query_string().as_bytes(), &["resource", "audience"])
}

/// The response that carries the result to the client (RFC 6749 §4.1.2, OAuth form post).
fn to_client(resp: &ClientResponse) -> HttpResponse {
    match resp.response_mode {
        ResponseMode::Query => {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &resp.params {
                ser.append_pair(k, v);
            }
            let sep = if resp.redirect_uri.contains('?') {
                '&'
            } else {
                '?'
            };
            HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("{}{sep}{}", resp.redirect_uri, ser.finish()),
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        ResponseMode::FormPost => with_csp(
            html(
                StatusCode::OK,
                FormPostPage {
                    action: &resp.redirect_uri,
                    params: &resp.params,
                }
                .render(),
            ),
            &crate::pages::csp_for_client(&resp.redirect_uri),
        ),
    }
}

pub(crate) fn render(realm: &str, step: &Step) -> HttpResponse {
    let (redirect_uri, brand, res) = match step {
        Step::Login {
            client_name,
            redirect_uri,
            sealed,
            login_hint,
            brand,
            providers,
            error,
        } => {
            let res = html(
                if error.is_some() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::OK
                },
                LoginPage {
                    client_name,
                    action: format!("/realms/{realm}/login-actions/authenticate"),
                    broker_action: format!("/realms/{realm}/login-actions/broker"),
                    forgot: format!("/realms/{realm}/login-actions/forgot-password"),
                    sealed,
                    login_hint: login_hint.as_deref().unwrap_or_default(),
                    buttons: providers.iter().filter(|p| p.visible).collect(),
                    error: *error,
                    brand,
                }
                .render(),
            );
            // Its forms may also lead to the upstream providers (button, or an address
            // under an organization's domain).
            let origins: Vec<&str> = providers.iter().map(|p| p.origin.as_str()).collect();
            let csp = crate::pages::csp_for_flow(redirect_uri, &origins);
            return with_csp(res, &with_images(&csp, brand));
        }
        Step::Upstream { location } => {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.as_str()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
        }
        Step::LinkAccount {
            client_name,
            redirect_uri,
            pending,
            email,
            provider,
            brand,
            error,
        } => (
            redirect_uri,
            brand,
            html(
                if error.is_some() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::OK
                },
                LinkAccountPage {
                    client_name,
                    action: format!("/realms/{realm}/login-actions/link"),
                    pending,
                    email,
                    provider,
                    error: *error,
                    brand,
                }
                .render(),
            ),
        ),
        Step::ChooseOrg {
            client_name,
            redirect_uri,
            sealed,
            orgs,
            brand,
        } => (
            redirect_uri,
            brand,
            html(
                StatusCode::OK,
                ChooseOrgPage {
                    client_name,
                    action: format!("/realms/{realm}/login-actions/organization"),
                    sealed,
                    orgs,
                    brand,
                }
                .render(),
            ),
        ),
        Step::Consent {
            client_name,
            client_host,
            redirect_uri,
            sealed,
            scopes,
            apis,
            organization,
            brand,
        } => (
            redirect_uri,
            brand,
            html(
                StatusCode::OK,
                ConsentPage {
                    client_name,
                    client_host: client_host.as_deref(),
                    action: format!("/realms/{realm}/login-actions/consent"),
                    sealed,
                    permissions: words::permissions(scopes, &brand.name, organization.as_ref()),
                    apis,
                    brand,
                }
                .render(),
            ),
        ),
        Step::Respond(resp) => return to_client(resp),
    };
    // The form posts here, and the answer redirects to the client: both must be allowed.
    let csp = crate::pages::csp_for_client(redirect_uri);
    with_csp(res, &with_images(&csp, brand))
}

/// A page outside the flow (no client to send the browser to) showing the brand's
/// logos: the strict policy, with their origins as images.
pub(crate) fn branded(res: HttpResponse, brand: &Brand) -> HttpResponse {
    let origins = brand.image_origins();
    if origins.is_empty() {
        return res;
    }
    with_csp(
        res,
        &crate::pages::with_images(crate::pages::PAGE_CSP, &origins),
    )
}

/// `csp` letting the page show the brand's logos.
fn with_images(csp: &str, brand: &Brand) -> String {
    crate::pages::with_images(csp, &brand.image_origins())
}

fn with_csp(mut res: HttpResponse, csp: &str) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// The browser's cookies; a CSRF value is minted when the browser has none yet.
pub(crate) struct Cookies {
    session: Option<String>,
    csrf: String,
    new_csrf: bool,
}

impl Cookies {
    /// The realm session's cookie token, if the browser sent one.
    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The CSRF value of this browser (double submit), and whether it was sent (a new one
    /// proves nothing).
    pub(crate) fn csrf_matches(&self, sent: Option<&str>) -> bool {
        !self.new_csrf
            && sent.is_some_and(|v| tessera_oidc::crypto::ct_eq(v.as_bytes(), self.csrf.as_bytes()))
    }

    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// What the engine needs of the browser; the address is the TCP peer, or what a
    /// trusted proxy says it is (`extract::client_ip`), never a header anyone could send.
    pub(crate) fn browser(&self, req: &HttpRequest, state: &AppState) -> Browser<'_> {
        Browser {
            session_token: self.session.as_deref(),
            csrf: &self.csrf,
            ip: crate::extract::client_ip(req, &state.trusted_proxies),
        }
    }
}

pub(crate) fn cookies(req: &HttpRequest) -> Cookies {
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    match req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64)
    {
        Some(csrf) => Cookies {
            session,
            csrf,
            new_csrf: false,
        },
        None => Cookies {
            session,
            csrf: random_id(),
            new_csrf: true,
        },
    }
}

pub(crate) fn finish(
    state: &AppState,
    realm: &str,
    c: &Cookies,
    mut res: HttpResponse,
    new_session: Option<NewSession>,
) -> HttpResponse {
    if c.new_csrf {
        let _ = res.add_cookie(&cookie(state, realm, CSRF_COOKIE, c.csrf.clone(), None));
    }
    if let Some(s) = new_session {
        let _ = res.add_cookie(&cookie(
            state,
            realm,
            SESSION_COOKIE,
            s.token,
            Some(s.max_age_secs),
        ));
    }
    res
}

/// The answer to a step of the flow: the next page or the redirect to the client (with a
/// new session's cookie), or the error page.
pub(crate) async fn answer(
    state: &AppState,
    realm: &str,
    c: &Cookies,
    step: Result<(Step, Option<NewSession>), OAuthError>,
) -> HttpResponse {
    match step {
        Ok((step, session)) => finish(state, realm, c, render(realm, &step), session),
        Err(e) => realm_error_page(state, realm, &e).await,
    }
}

async fn authorize(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = if req.method() == Method::POST {
        read_form(&req, payload, &[]).await.map_err(|e| e.0)
    } else {
        query_params(&req)
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let c = cookies(&req);
    let browser = c.browser(&req, &state);
    match state.provider.authorize(&realm, &params, &browser).await {
        Ok(step) => finish(&state, &realm, &c, render(&realm, &step), None),
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}

/// A page's form post and the browser's cookies; a malformed body gets the error page.
pub(crate) async fn page_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Params, Cookies), HttpResponse> {
    let params = read_form(req, payload, &[])
        .await
        .map_err(|e| error_page(&e.0))?;
    Ok((params, cookies(req)))
}

async fn login(
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
    let (sealed, username, password) = (
        params.get("state").unwrap_or_default(),
        params.get("username").unwrap_or_default(),
        params.get("password").unwrap_or_default(),
    );
    let step = state
        .provider
        .login(&realm, sealed, username, password, &browser)
        .await;
    answer(&state, &realm, &c, step).await
}

async fn consent(
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
    let approve = params.get("decision") == Some("allow");
    let step = state
        .provider
        .consent(
            &realm,
            params.get("state").unwrap_or_default(),
            approve,
            &browser,
        )
        .await;
    answer(&state, &realm, &c, step.map(|s| (s, None))).await
}

async fn choose_org(
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
        .choose_org(
            &realm,
            params.get("state").unwrap_or_default(),
            params.get("organization").unwrap_or_default(),
            &browser,
        )
        .await;
    answer(&state, &realm, &c, step.map(|s| (s, None))).await
}

fn invitation_page(
    realm: &str,
    token: &str,
    csrf: &str,
    view: &InvitationView,
    error: Option<&str>,
) -> HttpResponse {
    let res = html(
        if error.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        InvitationPage {
            action: format!("/realms/{realm}/invitations/accept"),
            token,
            csrf,
            view,
            error,
            brand: &view.brand,
        }
        .render(),
    );
    branded(res, &view.brand)
}

/// The invitation link: a verified, pending invitation shows who is invited where.
async fn invitation(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let params = match query_params(&req) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let token = params.get("token").unwrap_or_default();
    let c = cookies(&req);
    match state.provider.invitation_page(&realm, token).await {
        Ok(view) => finish(
            &state,
            &realm,
            &c,
            invitation_page(&realm, token, &c.csrf, &view, None),
            None,
        ),
        Err(e) => realm_error_page(&state, &realm, &e).await,
    }
}

async fn answer_invitation(
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
    let form = InvitationForm {
        token,
        csrf_field: params.get("csrf").unwrap_or_default(),
        csrf_cookie: &c.csrf,
        action: match params.get("action") {
            Some("create") => InvitationAction::Create,
            _ => InvitationAction::SignIn,
        },
        username: params.get("username").unwrap_or_default(),
        password: params.get("password").unwrap_or_default(),
        ip: crate::extract::client_ip(&req, &state.trusted_proxies),
    };
    let res = match state.provider.answer_invitation(&realm, form).await {
        Ok(InvitationOutcome::Joined { org_name, brand }) => branded(
            html(
                StatusCode::OK,
                JoinedPage {
                    org_name: &org_name,
                    brand: &brand,
                }
                .render(),
            ),
            &brand,
        ),
        Ok(InvitationOutcome::Again { view, error }) => {
            invitation_page(&realm, token, &c.csrf, &view, Some(error))
        }
        Err(e) => realm_error_page(&state, &realm, &e).await,
    };
    finish(&state, &realm, &c, res, None)
}

/// UserInfo: the access token in the `Authorization: Bearer` header (RFC 6750 §2.1) or,
/// in a POST, as the form parameter `access_token` (§2.2, what several RP libraries send
/// by default); exactly one of them. A token in the query string (§2.3) is not looked at.
/// Failures carry `WWW-Authenticate: Bearer`.
async fn userinfo(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        let form = req.method() == Method::POST && is_form(&req);
        let in_form = if form {
            read_form(&req, payload, &[])
                .await?
                .get("access_token")
                .map(str::to_owned)
        } else {
            None
        };
        let in_header = req.headers().contains_key(header::AUTHORIZATION);
        let token = match in_form {
            Some(_) if in_header => {
                return Err(OAuthError::invalid_request(
                    "use one way to send the access token, not the header and the form together",
                )
                .into());
            }
            Some(t) => t,
            None => bearer_token(&req)?.to_owned(),
        };
        Ok::<_, ApiError>(state.provider.userinfo(&realm, &token).await?)
    }
    .await;
    match result {
        Ok(info) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(info),
        Err(e) => e.error_response(),
    }
}

/// The parameters a logout confirmation carries through its form.
const LOGOUT_PARAMS: [&str; 4] = [
    "id_token_hint",
    "post_logout_redirect_uri",
    "state",
    "client_id",
];

async fn logout_params(req: &HttpRequest, payload: web::Payload) -> Result<Params, OAuthError> {
    if req.method() == Method::POST {
        read_form(req, payload, &[]).await.map_err(|e| e.0)
    } else {
        query_params(req)
    }
}

/// RP-initiated logout. With an `id_token_hint` naming the current session the user is
/// signed out at once; otherwise a confirmation page guards against logout CSRF.
async fn logout(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match logout_params(&req, payload).await {
        Ok(params) => run_logout(&state, &realm, &params, &cookies(&req), false).await,
        Err(e) => error_page(&e),
    }
}

async fn logout_confirm(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (params, c) = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    // Double-submit: the form's value must be this browser's CSRF cookie.
    if !c.csrf_matches(params.get("csrf")) {
        return error_page(&OAuthError::invalid_request(
            "the sign-out form has expired; start again",
        ));
    }
    run_logout(&state, &realm, &params, &c, true).await
}

async fn run_logout(
    state: &AppState,
    realm: &str,
    params: &Params,
    c: &Cookies,
    confirmed: bool,
) -> HttpResponse {
    let result = async {
        let session = state
            .provider
            .current_session(realm, c.session.as_deref())
            .await?;
        let lr = state
            .provider
            .logout_request(realm, params, session.as_ref())
            .await?;
        let brand = state.provider.realm_brand(realm).await;
        match session {
            Some(_) if !confirmed && !lr.hint_matches_session => {
                let carried = LOGOUT_PARAMS
                    .iter()
                    .filter_map(|n| params.get(n).map(|v| (*n, v.to_owned())))
                    .collect();
                let page = LogoutPage {
                    action: format!("/realms/{realm}/protocol/openid-connect/logout/confirm"),
                    csrf: &c.csrf,
                    params: carried,
                    brand: &brand,
                };
                let mut res = branded(html(StatusCode::OK, page.render()), &brand);
                // Confirming redirects to the client's post-logout URI.
                if let Some((uri, _)) = &lr.redirect {
                    let csp = crate::pages::csp_for_client(uri);
                    res = with_csp(res, &with_images(&csp, &brand));
                }
                Ok(finish(state, realm, c, res, None))
            }
            Some(s) => {
                state.provider.end_session(realm, &s).await?;
                Ok(signed_out(state, realm, lr.redirect, &brand))
            }
            None => Ok(signed_out(state, realm, lr.redirect, &brand)),
        }
    }
    .await;
    match result {
        Ok(res) => res,
        Err(e) => realm_error_page(state, realm, &e).await,
    }
}

/// After logout: back to the client's registered URI (303), or a page; the cookie goes.
fn signed_out(
    state: &AppState,
    realm: &str,
    redirect: Option<(String, Option<String>)>,
    brand: &Brand,
) -> HttpResponse {
    let mut res = match redirect {
        Some((uri, st)) => {
            let mut target = uri;
            if let Some(st) = st {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", &st)
                    .finish();
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&q);
            }
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        None => branded(
            html(StatusCode::OK, LoggedOutPage { brand }.render()),
            brand,
        ),
    };
    let _ = res.add_removal_cookie(&cookie(state, realm, SESSION_COOKIE, String::new(), None));
    res
}
