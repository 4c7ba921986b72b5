//! The console's pages: the realm administrators' console at `/admin/console` and each
//! realm's organization administrators' console at `/realms/{realm}/console`. Every page
//! is server-rendered and every action a plain form (no JavaScript needed). Each request
//! finds its console session, checks the form's CSRF token, and asks the engine's one
//! admin principal what the person may do: the pages never decide on their own.

mod clients;
mod idps;
mod keys;
mod org;
mod realm;
mod registration;

use crate::AppState;
use crate::form::read_form;
use crate::routes::browser::{error_page, not_found_page};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_domain::ConsoleSession;
use tessera_oidc::admin::principal::AdminTarget;
use tessera_oidc::admin::{AdminCredentials, AdminPrincipal};
use tessera_oidc::console::ConsoleHome;
use tessera_oidc::{OAuthError, Params, Provider};

const SESSION_COOKIE: &str = "tessera_console";
const PENDING_COOKIE: &str = "tessera_console_login";

pub fn configure(cfg: &mut web::ServiceConfig) {
    for base in ["/admin/console", "/realms/{realm}/console"] {
        cfg.route(base, web::get().to(to_root))
            .route(&format!("{base}/"), web::get().to(home))
            .route(&format!("{base}/callback"), web::get().to(callback))
            .route(&format!("{base}/logout"), web::post().to(logout));
    }
    cfg.route(
        "/realms/{realm}/console/sign-in/{idp}",
        web::get().to(sign_in_through),
    );
    realm::configure(cfg);
    clients::configure(cfg);
    idps::configure(cfg);
    registration::configure(cfg);
    for base in [
        "/admin/console/realms/{realm}/organizations/{org}",
        "/realms/{realm}/console/organizations/{org}",
    ] {
        org::configure(cfg, base);
        keys::configure(cfg, base);
    }
    keys::configure(cfg, "/admin/console/realms/{realm}");
}

/// Which console a request is for.
fn home_of(req: &HttpRequest) -> ConsoleHome {
    match req.match_info().get("realm") {
        Some(r) if !req.path().starts_with("/admin/console") => ConsoleHome::Orgs(r.to_owned()),
        _ => ConsoleHome::Realms,
    }
}

fn cookie<'a>(
    state: &AppState,
    home: &ConsoleHome,
    name: &'a str,
    value: String,
    same_site: SameSite,
) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(home.path())
        .http_only(true)
        .same_site(same_site)
        .secure(state.provider.public_url_is_https())
        .finish()
}

fn removal<'a>(state: &AppState, home: &ConsoleHome, name: &'a str) -> Cookie<'a> {
    let mut c = cookie(state, home, name, String::new(), SameSite::Strict);
    c.make_removal();
    c
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

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

async fn to_root(req: HttpRequest) -> HttpResponse {
    see_other(&format!("{}/", home_of(&req).path()))
}

/// Sends the browser to sign in, coming back to `back`.
async fn sign_in(
    state: &AppState,
    home: &ConsoleHome,
    back: &str,
    via: Option<&tessera_domain::IdpAlias>,
) -> HttpResponse {
    match state.provider.console_login(home, back, via).await {
        Ok(start) => {
            let mut pending = cookie(state, home, PENDING_COOKIE, start.pending, SameSite::Lax);
            pending.set_max_age(actix_web::cookie::time::Duration::seconds(
                tessera_oidc::console::session::PENDING_LIFETIME_SECS,
            ));
            HttpResponse::Found()
                .insert_header((header::LOCATION, start.authorize_url))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .cookie(pending)
                .finish()
        }
        Err(e) => error_page(&e),
    }
}

/// A sign-in to the organization console through one identity provider, with a fresh
/// upstream login: how a realm administrator tries a provider out.
async fn sign_in_through(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let home = home_of(&req);
    match tessera_domain::IdpAlias::parse(req.match_info().get("idp").unwrap_or_default()) {
        Ok(alias) => sign_in(&state, &home, &format!("{}/", home.path()), Some(&alias)).await,
        Err(_) => not_found_page(),
    }
}

#[derive(Template)]
#[template(path = "console/continue.html")]
struct ContinuePage<'a> {
    next: &'a str,
}

/// The end of the sign-in. The session cookie is `SameSite=Strict`: a redirect chain that
/// began at another site (an upstream provider) would not send it, so this page moves on
/// with a navigation of its own.
async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let home = home_of(&req);
    let q = query(&req);
    if let Some(e) = q.get("error") {
        let e = match e.as_str() {
            "access_denied" => OAuthError::AccessDenied("the sign-in was cancelled".into()),
            _ => {
                OAuthError::invalid_request("the sign-in did not complete; open the console again")
            }
        };
        return error_page(&e);
    }
    let pending = req.cookie(PENDING_COOKIE).map(|c| c.value().to_owned());
    let finished = state
        .provider
        .console_callback_finish(
            &home,
            pending.as_deref(),
            q.get("state").map(String::as_str),
            q.get("code").map(String::as_str),
        )
        .await;
    match finished {
        Ok((_, secret, back)) => {
            let mut res = html(StatusCode::OK, ContinuePage { next: &back }.render());
            let _ = res.add_cookie(&cookie(
                &state,
                &home,
                SESSION_COOKIE,
                secret,
                SameSite::Strict,
            ));
            let _ = res.add_cookie(&removal(&state, &home, PENDING_COOKIE));
            res
        }
        Err(e) => error_page(&e),
    }
}

/// A console page's request, its session found and its caller resolved.
pub(crate) struct Console {
    pub home: ConsoleHome,
    pub session: ConsoleSession,
    pub principal: AdminPrincipal,
    pub user: String,
}

/// Why a console request does not go on: the response to send instead.
pub(crate) type Refusal = HttpResponse;

/// The live console session of the request, or a response that signs in again.
async fn session(state: &AppState, req: &HttpRequest) -> Result<ConsoleSession, Refusal> {
    let home = home_of(req);
    let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let found = match secret {
        Some(s) => state.provider.console_session(&home, &s).await,
        None => Ok(None),
    };
    match found {
        Ok(Some(s)) => Ok(s),
        Ok(None) if req.method() == actix_web::http::Method::GET => {
            let back = match req.query_string() {
                "" => req.path().to_owned(),
                q => format!("{}?{q}", req.path()),
            };
            Err(sign_in(state, &home, &back, None).await)
        }
        Ok(None) => Err(see_other(&format!("{}/", home.path()))),
        Err(e) => Err(error_page(&e)),
    }
}

/// Resolves the caller through the engine's admin principal, for the realm and
/// organization the path names.
async fn resolve(
    state: &AppState,
    req: &HttpRequest,
    s: ConsoleSession,
) -> Result<Console, Refusal> {
    let home = home_of(req);
    let path = req.match_info();
    let resolved = state
        .provider
        .resolve_admin(
            AdminCredentials::Console(&s),
            AdminTarget {
                realm: path.get("realm"),
                org: path.get("org"),
                write: req.method() != actix_web::http::Method::GET,
                path: req.path(),
            },
        )
        .await;
    let principal = match resolved {
        Ok(p) => p,
        Err(OAuthError::InvalidToken(_)) => {
            let mut res = see_other(&format!("{}/", home.path()));
            let _ = res.add_cookie(&removal(state, &home, SESSION_COOKIE));
            return Err(res);
        }
        Err(OAuthError::NotFound(_)) => return Err(not_found_page()),
        Err(e) => return Err(error_page(&e)),
    };
    // For the audit log entry of a change that succeeds (telemetry::observe).
    req.extensions_mut().insert(principal.clone());
    let user = match state.provider.console_user(&s).await {
        Ok(u) => u.username.to_string(),
        Err(e) => return Err(error_page(&e)),
    };
    Ok(Console {
        home,
        session: s,
        principal,
        user,
    })
}

/// A page request: session, then caller.
async fn enter(state: &AppState, req: &HttpRequest) -> Result<Console, Refusal> {
    let s = session(state, req).await?;
    resolve(state, req, s).await
}

/// A form post: session, then the form and its CSRF token, then caller. A post without
/// the session's token changes nothing (403).
async fn enter_form(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Console, Params), Refusal> {
    let s = session(state, req).await?;
    let params = read_form(req, payload, &["role"])
        .await
        .map_err(|e| error_page(&e.0))?;
    if !Provider::console_csrf_ok(&s, params.get("csrf")) {
        return Err(error_page(&OAuthError::AccessDenied(
            "the form was not sent from this console (its security token is missing or \
             stale); reload the page and try again"
                .into(),
        )));
    }
    let c = resolve(state, req, s).await?;
    Ok((c, params))
}

/// An extractor's refusal: the page or redirect to answer with instead of the handler's.
pub(crate) struct Refused(Box<std::cell::RefCell<Option<HttpResponse>>>);

impl From<Refusal> for Refused {
    fn from(r: Refusal) -> Self {
        Refused(Box::new(std::cell::RefCell::new(Some(r))))
    }
}

impl std::fmt::Debug for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("console refusal")
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("console refusal")
    }
}

impl actix_web::ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        self.0
            .borrow()
            .as_ref()
            .map_or(StatusCode::INTERNAL_SERVER_ERROR, HttpResponse::status)
    }

    fn error_response(&self) -> HttpResponse {
        self.0
            .borrow_mut()
            .take()
            .unwrap_or_else(|| HttpResponse::InternalServerError().finish())
    }
}

type Extracted<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, Refused>>>>;

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, Refused> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Refused::from(HttpResponse::InternalServerError().finish()))
}

/// A page handler takes `Console` to run only for a signed-in caller the principal
/// resolved; anyone else gets the sign-in, a 404 or an error page instead.
impl actix_web::FromRequest for Console {
    type Error = Refused;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            Ok(enter(&state, &req).await?)
        })
    }
}

/// A form post's caller and parameters, the form's CSRF token checked (see [`enter_form`]).
pub(crate) struct ConsoleForm(pub Console, pub Params);

impl actix_web::FromRequest for ConsoleForm {
    type Error = Refused;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let body = <web::Payload as actix_web::FromRequest>::from_request(&req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|_| Refused::from(HttpResponse::BadRequest().finish()))?;
            let state = app_state(&req)?;
            let (c, params) = enter_form(&state, &req, body).await?;
            Ok(ConsoleForm(c, params))
        })
    }
}

async fn home(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let s = match session(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match home_of(&req) {
        ConsoleHome::Realms => see_other("/admin/console/realms"),
        ConsoleHome::Orgs(_) => org::home(&state, &req, s).await,
    }
}

async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let home = home_of(&req);
    let s = match session(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let params = match read_form(&req, payload, &[]).await {
        Ok(p) => p,
        Err(e) => return error_page(&e.0),
    };
    if !Provider::console_csrf_ok(&s, params.get("csrf")) {
        return error_page(&OAuthError::AccessDenied(
            "the form was not sent from this console; reload the page and try again".into(),
        ));
    }
    if let Err(e) = state.provider.end_console_session(&s).await {
        return error_page(&e);
    }
    let mut res = see_other(&state.provider.console_logout_url(&home));
    let _ = res.add_cookie(&removal(&state, &home, SESSION_COOKIE));
    res
}

/// The query string's parameters (the last of a repeated name); never fails.
pub(crate) fn query(req: &HttpRequest) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// A section link of the side navigation.
pub(crate) struct Nav {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// What every console page shows around its content.
pub(crate) struct Layout {
    pub title: String,
    pub home: String,
    pub realm: Option<String>,
    pub realm_href: String,
    pub org_name: Option<String>,
    pub user: String,
    pub csrf: String,
    pub nav: Vec<Nav>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

impl Console {
    pub(crate) fn layout(&self, title: impl Into<String>, req: &HttpRequest) -> Layout {
        Layout {
            title: title.into(),
            home: self.home.path(),
            realm: None,
            realm_href: String::new(),
            org_name: None,
            user: self.user.clone(),
            csrf: self.session.csrf.clone(),
            nav: vec![],
            notice: query(req).get("notice").and_then(|n| notice(n)),
            error: None,
        }
    }

    /// The frame of a page inside a realm or an organization: its sections under `base`
    /// in the side navigation, `section` marked and named in the title.
    pub(crate) fn sectioned(
        &self,
        req: &HttpRequest,
        sections: &[(&'static str, &'static str)],
        base: &str,
        section: &str,
    ) -> Layout {
        let title = sections
            .iter()
            .find(|(s, _)| *s == section)
            .map_or("Console", |(_, t)| *t);
        let mut l = self.layout(title, req);
        l.nav = sections
            .iter()
            .map(|(s, label)| Nav {
                label,
                href: format!("{base}/{s}"),
                current: *s == section,
            })
            .collect();
        l
    }

    /// A refused or failed action, shown in the console's frame with a way back.
    pub(crate) fn fail(&self, req: &HttpRequest, e: OAuthError, back: &str) -> HttpResponse {
        if let OAuthError::ServerError(cause) = &e {
            tracing::error!(%cause, "console request failed");
        }
        let status = match &e {
            OAuthError::AccessDenied(_) => StatusCode::FORBIDDEN,
            e => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        };
        if status == StatusCode::NOT_FOUND {
            return not_found_page();
        }
        let mut layout = self.layout("That did not work", req);
        layout.error = Some(e.description().to_string());
        html(
            status,
            MessagePage {
                layout,
                message: "Nothing was changed.".into(),
                link: Some((back.to_owned(), "Go back".into())),
            }
            .render(),
        )
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub message: String,
    pub link: Option<(String, String)>,
}

/// The confirmation a page shows after an action redirected to it (`?notice=…`): fixed
/// texts, so nothing from the URL is echoed.
fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "Created.",
        "saved" => "Saved.",
        "removed" => "Removed.",
        "invited" => "The invitation is on its way by e-mail.",
        "resent" => "A new invitation link is on its way by e-mail.",
        "revoked" => "Revoked.",
        "rotated" => "New keys are active.",
        "retired" => "The key is retired.",
        "signed-out" => "Every session of this user has ended.",
        "password" => "The password is set.",
        "verified" => "The domain is verified.",
        "mail-sent" => "The mail server accepted the test message.",
        _ => return None,
    })
}

/// A Unix time as the console shows it, in UTC.
pub(crate) fn utc(secs: i64) -> String {
    match actix_web::cookie::time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
        Err(_) => secs.to_string(),
    }
}

/// The answer to a form: back to `back` with its notice when it did what it asked, else
/// why not, in the console's frame.
pub(crate) fn outcome<T>(
    c: &Console,
    req: &HttpRequest,
    res: Result<T, OAuthError>,
    back: &str,
    notice: &str,
) -> HttpResponse {
    match res {
        Ok(_) => done(back, notice),
        Err(e) => c.fail(req, e, back),
    }
}

/// Where to go after a successful action: a page of the console, with its notice.
pub(crate) fn done(to: &str, notice: &str) -> HttpResponse {
    see_other(&format!("{to}?notice={notice}"))
}
