//! Tessera as a broker of upstream OpenID providers: a server the upstreams can send the
//! browser back to ([`spawn_federated`]), providers registered through the admin API
//! ([`add_idp`]), and a browser's way from the login page's provider button to the upstream
//! and back ([`broker_login`]). The upstreams are in `upstream.rs` ([`FakeIdp`]) and
//! `node_peer.rs` ([`NodePeer`]).

use super::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

/// A server whose public URL is the address it listens on, so that an upstream on loopback
/// can send the browser back to its broker endpoint (and POST back-channel logouts to it).
pub async fn spawn_federated() -> TestApp {
    let port = free_port();
    spawn_configured(database_url().await, None, |s| {
        s.listen = format!("127.0.0.1:{port}");
        s.public_url = format!("http://127.0.0.1:{port}");
    })
    .await
}

/// The admin path of the realm's identity providers, or of one of them.
pub fn idp_path(realm: &str, alias: Option<&str>) -> String {
    let all = format!("/admin/realms/{realm}/identity-provider/instances");
    match alias {
        Some(a) => format!("{all}/{a}"),
        None => all,
    }
}

/// Registers `registration` (e.g. [`FakeIdp::registration`]) with `extra` merged over it as
/// an identity provider of `realm`: 201 and the representation.
pub async fn add_idp(app: &TestApp, realm: &str, registration: Value, extra: Value) -> Value {
    let body = merged(registration, &extra);
    let res = app
        .admin(Method::POST, &idp_path(realm, None), Some(body))
        .await;
    ok_json(res, StatusCode::CREATED).await
}

/// Where provider `alias` of `realm` sends the browser back (its registered redirect URI).
pub fn broker_endpoint(app: &TestApp, realm: &str, alias: &str) -> String {
    app.url(&format!("/realms/{realm}/broker/{alias}/endpoint"))
}

/// Where provider `alias` of `realm` POSTs its back-channel logout tokens.
pub fn broker_logout_endpoint(app: &TestApp, realm: &str, alias: &str) -> String {
    app.url(&format!(
        "/realms/{realm}/broker/{alias}/backchannel-logout"
    ))
}

/// The form of provider `alias`'s button on a login page: its action and what pressing the
/// button sends (the form's hidden fields, such as the sealed login state, and
/// `provider=alias`). `None` when the page has no such button.
pub fn provider_form(page: &str, alias: &str) -> Option<(String, Vec<(String, String)>)> {
    let button = page.find(&format!("name=\"provider\" value=\"{alias}\""))?;
    let form = &page[page[..button].rfind("<form")?..button];
    let mut fields: Vec<(String, String)> = form_params(form).into_iter().collect();
    fields.push(("provider".into(), alias.into()));
    Some((form_action(form), fields))
}

/// POSTs `fields` to `action` (a path) as a browser submits a form.
pub async fn submit(
    app: &TestApp,
    agent: &mut Agent,
    action: &str,
    fields: &[(String, String)],
) -> Response {
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (&**k, &**v)).collect();
    agent.post(app, &app.url(action), &form).await
}

/// Opens `rp`'s login page and presses provider `alias`'s button: Tessera's answer (a 303 to
/// the upstream's authorization endpoint).
pub async fn press_provider(app: &TestApp, agent: &mut Agent, rp: &Rp, alias: &str) -> Response {
    let page = agent.get(app, &rp.auth_url(app, &[])).await;
    assert_eq!(page.status(), StatusCode::OK, "expected the login page");
    let page = page.text().await.unwrap();
    let (action, fields) =
        provider_form(&page, alias).unwrap_or_else(|| panic!("no button for {alias}: {page}"));
    assert_eq!(action, format!("/realms/{}/login-actions/broker", rp.realm));
    submit(app, agent, &action, &fields).await
}

/// Follows `to_upstream` (Tessera's 303 to an upstream that answers at once with a redirect
/// back, as [`FakeIdp`] does) and returns Tessera's answer to that redirect.
pub async fn broker_return(app: &TestApp, agent: &mut Agent, to_upstream: Response) -> Response {
    let status = to_upstream.status();
    let Some(upstream) = header(&to_upstream, "location").filter(|_| status.is_redirection())
    else {
        let body = to_upstream.text().await.unwrap();
        panic!("expected a redirect to the upstream, got {status}: {body}");
    };
    let answer = agent.get(app, &upstream).await;
    let back = header(&answer, "location")
        .unwrap_or_else(|| panic!("the upstream answered {} to {upstream}", answer.status()));
    agent.get(app, &back).await
}

/// A login through provider `alias`: the login page of `rp`, its button, the upstream (which
/// answers at once), and Tessera's answer at its broker endpoint: a 303 to `rp`
/// ([`Rp::callback`]), a consent or account-linking page, or an error page.
pub async fn broker_login(app: &TestApp, agent: &mut Agent, rp: &Rp, alias: &str) -> Response {
    let to_upstream = press_provider(app, agent, rp, alias).await;
    broker_return(app, agent, to_upstream).await
}

/// The "link your account" page a brokered login may end in: (form action, `pending` value).
pub async fn link_form(res: Response) -> (String, String) {
    let status = res.status();
    let page = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "expected the link page: {page}");
    assert!(
        page.contains("name=\"password\""),
        "not a link page: {page}"
    );
    let pending = hidden(&page, "pending").expect("the pending link");
    (form_action(&page), pending)
}

/// The page of a login that failed at the upstream: an error page ([`assert_error_page`]),
/// or the same as a 502 when the upstream could not be used at all (its metadata or keys out
/// of reach); never a 500, never a redirect. Its text.
pub async fn assert_upstream_failure_page(res: Response, what: &str) -> String {
    let failed = |s: &StatusCode| s.is_client_error() || *s == StatusCode::BAD_GATEWAY;
    assert_error_page_with(res, what, failed).await
}

/// An error page ([`assert_error_page`]) naming `code` (e.g. `invalid_id_token`): its text.
pub async fn assert_broker_error(res: Response, code: &str) -> String {
    let page = assert_error_page(res, code).await;
    assert!(page.contains(code), "expected {code} on the page: {page}");
    page
}

/// The local user a brokered login ended in: redeems the code of `res` (a 303 to `rp`) and
/// looks the ID token's `sub` up through the admin API. Returns (tokens, user).
pub async fn signed_in_user(app: &TestApp, rp: &Rp, res: &Response) -> (Value, Value) {
    let cb = rp.callback(res);
    let tokens = rp.tokens(app, &cb["code"]).await;
    let sub = s(&claims(&s(&tokens, "id_token")), "sub");
    let user = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{}/users/{sub}", rp.realm),
            None,
        )
        .await;
    (tokens, user)
}

/// The users of `realm` (first page).
pub async fn users(app: &TestApp, realm: &str) -> Vec<Value> {
    let page = app
        .admin_ok(Method::GET, &format!("/admin/realms/{realm}/users"), None)
        .await;
    page["items"].as_array().expect("a page of users").clone()
}

/// The upstream identities linked to a local user:
/// `[{identity_provider, user_id (the upstream sub), user_name?}]`.
pub async fn federated_identities(app: &TestApp, realm: &str, user_id: &str) -> Vec<Value> {
    let links = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{realm}/users/{user_id}/federated-identity"),
            None,
        )
        .await;
    links.as_array().expect("a list of links").clone()
}

/// POSTs a back-channel logout token to provider `alias` of `realm`, as its upstream would.
pub async fn post_logout_token(app: &TestApp, realm: &str, alias: &str, token: &str) -> Response {
    app.http
        .post(broker_logout_endpoint(app, realm, alias))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap()
}
