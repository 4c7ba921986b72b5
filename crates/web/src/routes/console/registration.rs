//! Client registration in the console: initial access tokens (RFC 7591) for the realm
//! (`/admin/console/realms/{realm}/registration`) and for an organization, beside the
//! clients it owns (`…/organizations/{org}/clients`, in both consoles). A minted token
//! is shown on the answer to the form only.

use super::{Console, ConsoleForm, Layout, html, outcome, query, utc};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_oidc::OAuthError;
use tessera_oidc::console::views::{PAGE, next_cursor};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let realm = "/admin/console/realms/{realm}/registration";
    cfg.route(realm, web::get().to(page))
        .route(realm, web::post().to(mint))
        .route(&format!("{realm}/{{id}}/revoke"), web::post().to(revoke));
    for base in [
        "/admin/console/realms/{realm}/organizations/{org}/clients",
        "/realms/{realm}/console/organizations/{org}/clients",
    ] {
        cfg.route(base, web::get().to(page))
            .route(base, web::post().to(mint))
            .route(&format!("{base}/{{id}}/revoke"), web::post().to(revoke));
    }
}

struct TokenRow {
    id: String,
    remaining: i64,
    expires: String,
    created: String,
}

struct OwnedClient {
    client_id: String,
    name: String,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "console/registration.html")]
struct RegistrationPage {
    layout: Layout,
    /// This page's own path: forms post here.
    here: String,
    /// Where a realm administrator opens a client (empty for an organization's admins).
    client_base: String,
    registration_endpoint: String,
    org_scoped: bool,
    clients: Vec<OwnedClient>,
    next: Option<String>,
    tokens: Vec<TokenRow>,
    minted: Option<String>,
}

/// The realm, the organization if the path names one, and the page's own path.
fn scope(req: &HttpRequest) -> (String, Option<String>, String) {
    let p = req.match_info();
    let realm = p.get("realm").unwrap_or_default().to_owned();
    let org = p.get("org").map(str::to_owned);
    let here = match (&org, super::home_of(req)) {
        (None, _) => format!("/admin/console/realms/{realm}/registration"),
        (Some(o), tessera_oidc::console::ConsoleHome::Realms) => {
            format!("/admin/console/realms/{realm}/organizations/{o}/clients")
        }
        (Some(o), home) => format!("{}/organizations/{o}/clients", home.path()),
    };
    (realm, org, here)
}

async fn render(
    state: &AppState,
    c: &Console,
    req: &HttpRequest,
    minted: Option<String>,
) -> HttpResponse {
    let (realm, org, here) = scope(req);
    let p = &state.provider;
    let q = query(req);
    let loaded = async {
        let tokens = p
            .list_initial_tokens(&c.principal, &realm, org.as_deref(), None, Some(PAGE))
            .await?;
        let (layout, clients) = match &org {
            Some(o) => {
                let (org, _) = p.get_org(&c.principal, &realm, o).await?;
                let clients = p
                    .list_clients(
                        &c.principal,
                        &realm,
                        Some(o),
                        None,
                        q.get("after").cloned(),
                        Some(PAGE),
                    )
                    .await?;
                let base = here.trim_end_matches("/clients");
                let layout = super::org::org_layout(c, req, &realm, &org.name, base, "clients");
                (layout, clients)
            }
            None => (
                super::realm::realm_layout(c, req, &realm, "registration"),
                vec![],
            ),
        };
        Ok::<_, OAuthError>((tokens, layout, clients))
    }
    .await;
    let (tokens, layout, clients) = match loaded {
        Ok(x) => x,
        Err(e) => return c.fail(req, e, &format!("{}/", c.home.path())),
    };
    let realm_console = matches!(c.home, tessera_oidc::console::ConsoleHome::Realms);
    html(
        StatusCode::OK,
        RegistrationPage {
            layout,
            client_base: match realm_console {
                true => format!("/admin/console/realms/{realm}/clients"),
                false => String::new(),
            },
            registration_endpoint: match tessera_domain::RealmName::parse(&realm) {
                Ok(name) => format!(
                    "{}/clients-registrations/openid-connect",
                    p.issuer_for(&name)
                ),
                Err(_) => String::new(),
            },
            org_scoped: org.is_some(),
            next: next_cursor(&clients, |c| c.client_id.to_string()),
            clients: clients
                .into_iter()
                .map(|c| OwnedClient {
                    client_id: c.client_id.to_string(),
                    name: c.name,
                    enabled: c.enabled,
                })
                .collect(),
            tokens: tokens
                .into_iter()
                .map(|t| TokenRow {
                    id: t.id.to_string(),
                    remaining: t.remaining,
                    expires: utc(t.expires_at.0),
                    created: utc(t.created_at.0),
                })
                .collect(),
            minted,
            here,
        }
        .render(),
    )
}

async fn page(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    render(&state, &c, &req, None).await
}

/// Mints an initial access token; the answer is the page with the token, this once.
async fn mint(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org, here) = scope(&req);
    let number = |name: &str| -> Result<Option<i64>, OAuthError> {
        params
            .get(name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    OAuthError::InvalidRequest(format!("{name} must be a whole number").into())
                })
            })
            .transpose()
    };
    let res = async {
        let count = number("count")?;
        let expires_in = number("expires_in")?;
        state
            .provider
            .mint_initial_token(&c.principal, &realm, org.as_deref(), count, expires_in)
            .await
    }
    .await;
    match res {
        Ok((token, _)) => render(&state, &c, &req, Some(token)).await,
        Err(e) => c.fail(&req, e, &here),
    }
}

async fn revoke(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, org, here) = scope(&req);
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    let res = state
        .provider
        .delete_initial_token(&c.principal, &realm, org.as_deref(), &id)
        .await;
    outcome(&c, &req, res, &here, "revoked")
}
