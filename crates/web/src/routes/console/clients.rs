//! Clients in the realm console: search, create, edit (redirect URIs, scopes, grant
//! types, audiences and resource URIs), the secret rotated and shown once, and the token
//! exchange policy with its dry run ("would this exchange be allowed, and why").

use super::{Console, ConsoleForm, Layout, done, html, outcome, query};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use tessera_domain::{Client, ExchangePolicy};
use tessera_oidc::clients::metadata::ClientMetadata;
use tessera_oidc::console::views::{PAGE, next_cursor};
use tessera_oidc::{OAuthError, Params};

const BASE: &str = "/admin/console/realms";

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let r = "/admin/console/realms/{realm}/clients";
    cfg.route(r, web::get().to(clients))
        .route(r, web::post().to(create))
        .route(&format!("{r}/{{id}}"), web::get().to(client))
        .route(&format!("{r}/{{id}}"), web::post().to(update))
        .route(&format!("{r}/{{id}}/secret"), web::post().to(rotate_secret))
        .route(&format!("{r}/{{id}}/delete"), web::post().to(delete))
        .route(
            &format!("{r}/{{id}}/exchange-policy"),
            web::post().to(set_policy),
        )
        .route(
            &format!("{r}/{{id}}/exchange-policy/evaluate"),
            web::post().to(evaluate),
        );
}

fn realm_of(req: &HttpRequest) -> String {
    req.match_info().get("realm").unwrap_or_default().to_owned()
}

fn id_of(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or_default().to_owned()
}

fn realm_layout(c: &Console, req: &HttpRequest, realm: &str) -> Layout {
    super::realm::realm_layout(c, req, realm, "clients")
}

/// One value per line, as the form's text areas show lists.
fn lines_of<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join("\n")
}

/// A text area's or field's list: one item per line or separated by spaces.
fn list_of(params: &Params, name: &str) -> Vec<String> {
    params
        .get(name)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A dry run's answer as the page shows it.
struct EvaluationView {
    allowed: bool,
    error: Option<&'static str>,
    reasons: Vec<String>,
    claims: Option<String>,
}

/// A client as the console lists and shows it.
struct ClientRow {
    client_id: String,
    name: String,
    enabled: bool,
    kind: &'static str,
    confidential: bool,
    consent: bool,
    /// Lists separated by spaces, as the edit form takes them.
    grants: String,
    scopes: String,
    audiences: String,
    resources: String,
    exchange: bool,
    /// CIBA token delivery: poll or ping, and where a ping goes.
    ciba_mode: &'static str,
    ciba_endpoint: String,
}

impl From<&Client> for ClientRow {
    fn from(c: &Client) -> Self {
        let confidential = c.auth_method.uses_secret();
        Self {
            client_id: c.client_id.to_string(),
            name: c.name.clone(),
            enabled: c.enabled,
            kind: if c.auth_method.uses_secret() {
                "confidential (secret)"
            } else if c.keys.is_some() {
                "confidential (private_key_jwt)"
            } else {
                "public"
            },
            confidential,
            grants: c
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            consent: c.oidc.consent_required,
            scopes: c.scopes.to_string(),
            audiences: c.apis.audiences.join(" "),
            resources: c
                .apis
                .resource_uris
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            exchange: c.exchange.is_some(),
            ciba_mode: c.oidc.ciba_delivery.mode(),
            ciba_endpoint: c
                .oidc
                .ciba_delivery
                .endpoint()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    layout: Layout,
    base: String,
    clients: Vec<ClientRow>,
    q: String,
    next: Option<String>,
}

async fn clients(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let realm = realm_of(&req);
    let q = query(&req);
    let search = q.get("q").cloned().unwrap_or_default();
    match state
        .provider
        .list_clients(
            &c.principal,
            &realm,
            None,
            Some(search.as_str()).filter(|s| !s.is_empty()),
            q.get("after").cloned(),
            Some(PAGE),
        )
        .await
    {
        Ok(list) => {
            let next = next_cursor(&list, |c| c.client_id.to_string());
            let layout = realm_layout(&c, &req, &realm);
            html(
                StatusCode::OK,
                ClientsPage {
                    layout,
                    base: format!("{BASE}/{realm}"),
                    clients: list.iter().map(ClientRow::from).collect(),
                    q: search,
                    next,
                }
                .render(),
            )
        }
        Err(e) => c.fail(&req, e, BASE),
    }
}

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    layout: Layout,
    base: String,
    client: ClientRow,
    /// A secret just rotated: shown on this response only.
    secret: Option<String>,
    /// The exchange policy as JSON, for its editor.
    policy: String,
    redirect_text: String,
    logout_text: String,
    /// The answer of a dry run just made.
    evaluation: Option<EvaluationView>,
}

async fn client_page(
    state: &AppState,
    c: &Console,
    req: &HttpRequest,
    secret: Option<String>,
) -> HttpResponse {
    let realm = realm_of(req);
    match state
        .provider
        .get_client(&c.principal, &realm, &id_of(req))
        .await
    {
        Ok(client) => {
            let mut layout = realm_layout(c, req, &realm);
            layout.title = format!("Client {}", client.name);
            page_of(layout, &realm, &client, secret, None)
        }
        Err(e) => c.fail(req, e, &format!("{BASE}/{realm}/clients")),
    }
}

async fn client(c: Console, state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    client_page(&state, &c, &req, None).await
}

/// A new secret, shown once on the page that answers the post (never in a URL).
async fn rotate_secret(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    match state
        .provider
        .regenerate_secret(&c.principal, &realm, &id)
        .await
    {
        Ok(secret) => client_page(&state, &c, &req, Some(secret)).await,
        Err(e) => c.fail(&req, e, &format!("{BASE}/{realm}/clients/{id}")),
    }
}

/// A new client from the create form: confidential (a secret, shown once), public
/// (browser or native apps, PKCE) or a service (client credentials only).
async fn create(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let realm = realm_of(&req);
    let back = format!("{BASE}/{realm}/clients");
    let client_id = params
        .get("client_id")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut m = ClientMetadata::new(client_id);
    m.name = params.get("name").map(|n| n.trim().to_owned());
    m.redirect_uris = list_of(&params, "redirect_uris");
    m.public = params.get("kind") == Some("public");
    if params.get("kind") == Some("service") {
        m.redirect_uris.clear();
        m.grant_types = Some(vec!["client_credentials".into()]);
    }
    match state
        .provider
        .create_client(&c.principal, &realm, m, None)
        .await
    {
        Ok((client, secret)) => {
            let to = format!("{back}/{}", client.client_id);
            match secret {
                // The secret goes on this response only, never into a URL.
                Some(secret) => {
                    let mut layout = realm_layout(&c, &req, &realm);
                    layout.title = format!("Client {}", client.name);
                    layout.notice = Some("Created.");
                    page_of(layout, &realm, &client, Some(secret), None)
                }
                None => done(&to, "created"),
            }
        }
        Err(e) => c.fail(&req, e, &back),
    }
}

fn page_of(
    layout: Layout,
    realm: &str,
    client: &Client,
    secret: Option<String>,
    evaluation: Option<EvaluationView>,
) -> HttpResponse {
    html(
        StatusCode::OK,
        ClientPage {
            layout,
            base: format!("{BASE}/{realm}"),
            client: ClientRow::from(client),
            secret,
            policy: client
                .exchange
                .as_ref()
                .and_then(|p| serde_json::to_string_pretty(p).ok())
                .unwrap_or_default(),
            redirect_text: lines_of(client.redirect_uris.iter().map(|r| r.as_str())),
            logout_text: lines_of(
                client
                    .oidc
                    .post_logout_redirect_uris
                    .iter()
                    .map(|r| r.as_str()),
            ),
            evaluation,
        }
        .render(),
    )
}

/// The edit form: what it shows is replaced, everything else about the client stays.
async fn update(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, id) = (realm_of(&req), id_of(&req));
    let back = format!("{BASE}/{realm}/clients/{id}");
    let p = &state.provider;
    let res = async {
        let old = p.get_client(&c.principal, &realm, &id).await?;
        let mut m = ClientMetadata::from(&old);
        m.name = params.get("name").map(|n| n.trim().to_owned());
        m.enabled = params.get("enabled") == Some("on");
        m.consent_required = params.get("consent_required") == Some("on");
        m.redirect_uris = list_of(&params, "redirect_uris");
        m.post_logout_redirect_uris = list_of(&params, "post_logout_redirect_uris");
        m.grant_types = Some(list_of(&params, "grant_types"));
        m.scopes = Some(list_of(&params, "scopes"));
        m.audiences = list_of(&params, "audiences");
        m.resource_uris = list_of(&params, "resource_uris");
        if let Some(mode) = params.get("ciba_delivery_mode") {
            let endpoint = params.get("ciba_notification_endpoint").map(str::trim);
            m.backchannel_token_delivery_mode = Some(mode.to_owned());
            m.backchannel_client_notification_endpoint = match mode {
                "ping" => endpoint.filter(|e| !e.is_empty()).map(str::to_owned),
                _ => None,
            };
        }
        p.update_client(&c.principal, &realm, &id, m).await
    }
    .await;
    match res {
        // A renamed client_id is not editable here, so the page stays where it is.
        Ok(_) => done(&back, "saved"),
        Err(e) => c.fail(&req, e, &back),
    }
}

async fn delete(
    ConsoleForm(c, _): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, id) = (realm_of(&req), id_of(&req));
    match state
        .provider
        .delete_client(&c.principal, &realm, &id)
        .await
    {
        Ok(()) => done(&format!("{BASE}/{realm}/clients"), "removed"),
        Err(e) => c.fail(&req, e, &format!("{BASE}/{realm}/clients/{id}")),
    }
}

/// The policy editor: the policy as JSON (every field of the admin API's), or empty to
/// remove it and with it the client's token exchange.
async fn set_policy(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, id) = (realm_of(&req), id_of(&req));
    let back = format!("{BASE}/{realm}/clients/{id}");
    let res = async {
        let policy = match params
            .get("policy")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => None,
            Some(text) => Some(serde_json::from_str::<ExchangePolicy>(text).map_err(|e| {
                OAuthError::InvalidRequest(format!("the policy is not valid: {e}").into())
            })?),
        };
        state
            .provider
            .set_exchange_policy(&c.principal, &realm, &id, policy)
            .await
    }
    .await;
    outcome(&c, &req, res, &back, "saved")
}

/// The dry run: the form's fields are the token exchange request's parameters; nothing
/// is consumed, written or signed.
async fn evaluate(
    ConsoleForm(c, params): ConsoleForm,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let (realm, id) = (realm_of(&req), id_of(&req));
    let p = &state.provider;
    let res = async {
        let e = p
            .evaluate_exchange(&c.principal, &realm, &id, &params)
            .await?;
        let client = p.get_client(&c.principal, &realm, &id).await?;
        Ok::<_, OAuthError>((client, e))
    }
    .await;
    match res {
        Ok((client, e)) => {
            let view = EvaluationView {
                allowed: e.allowed,
                error: e.error,
                reasons: e.reasons,
                claims: e
                    .claims
                    .as_ref()
                    .and_then(|p| serde_json::to_string_pretty(p).ok()),
            };
            let mut layout = realm_layout(&c, &req, &realm);
            layout.title = format!("Client {}", client.name);
            page_of(layout, &realm, &client, None, Some(view))
        }
        Err(e) => c.fail(&req, e, &format!("{BASE}/{realm}/clients/{id}")),
    }
}
