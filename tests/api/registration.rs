//! Dynamic client registration (RFC 7591) and its management (RFC 7592) over HTTP:
//! initial access tokens (count, expiry, reuse, realms, organizations), open
//! registration's limits, every metadata error code, and read/update/delete with good,
//! wrong and foreign registration tokens. BCP-3, BCP-15, BCL-8, ISO-1, ISO-10 and Keycloak
//! CVE-2026-9705 (SECURITY-CASES.md).

use crate::helpers::{
    Agent, PW, REDIRECT, Rp, TestApp, acme_administered_by, add_user, assert_invalid_token,
    assert_no_store, assert_oauth_error, console_token, fast_realm, header, ok_json, s, set_realm,
    spawn_app, userinfo,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tessera_oidc::admin::AdminPrincipal;
use tessera_oidc::clients::metadata::ClientMetadata;

fn endpoint(app: &TestApp, realm: &str) -> String {
    app.url(&format!(
        "/realms/{realm}/clients-registrations/openid-connect"
    ))
}

/// A realm administrator's initial token for `realm`.
async fn initial_token(app: &TestApp, realm: &str, body: Value) -> String {
    let v = app
        .admin_ok(
            Method::POST,
            &format!("/admin/realms/{realm}/clients-initial-access"),
            Some(body),
        )
        .await;
    s(&v, "token")
}

async fn register(app: &TestApp, realm: &str, token: Option<&str>, body: &Value) -> Response {
    let mut req = app.http.post(endpoint(app, realm)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// The metadata of a browser client of [`REDIRECT`].
fn web_app() -> Value {
    json!({
        "client_name": "Registered app",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid profile email offline_access",
        "client_uri": "https://app.example/",
        "contacts": ["ops@app.example"],
        "software_id": "app-1",
        "software_version": "1.0",
    })
}

async fn registered(app: &TestApp, realm: &str, token: &str, body: &Value) -> Value {
    let res = register(app, realm, Some(token), body).await;
    assert_no_store(&res);
    ok_json(res, StatusCode::CREATED).await
}

async fn manage(app: &TestApp, method: Method, uri: &str, token: &str) -> Response {
    app.http
        .request(method, uri)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn put(app: &TestApp, uri: &str, token: &str, body: &Value) -> Response {
    app.http
        .put(uri)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The statuses of ten registrations in realm demo sent at once (`token`: none, open).
async fn register_at_once(app: &TestApp, token: Option<&str>, body: &Value) -> Vec<u16> {
    let tries = (0..10).map(|_| register(app, "demo", token, body));
    futures::future::join_all(tries)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect()
}

/// How many of `statuses` are 201, and how many `refused`.
fn outcomes(statuses: &[u16], refused: u16) -> (usize, usize) {
    let n = |status: u16| statuses.iter().filter(|s| **s == status).count();
    (n(201), n(refused))
}

/// The `organization_id` of registered client `c` (JSON null when it has none).
async fn organization_of(app: &TestApp, realm: &str, c: &Value) -> Value {
    let stored = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{realm}/clients/{}", s(c, "client_id")),
            None,
        )
        .await;
    stored["organization_id"].clone()
}

/// The initial access token `tessera client initial-token` printed.
fn shown_token(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("initial access token (shown once): "))
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned()
}

#[tokio::test]
async fn discovery_advertises_the_registration_endpoint() {
    let app = spawn_app().await;
    let d: Value = app.discovery("demo").await.json().await.unwrap();
    assert_eq!(
        d["registration_endpoint"],
        format!(
            "{}/clients-registrations/openid-connect",
            d["issuer"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn an_initial_token_registers_as_many_clients_as_its_count_then_is_refused() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({ "count": 2 })).await;
    let a = registered(&app, "demo", &token, &web_app()).await;
    assert!(s(&a, "client_id").starts_with("dcr-"));
    assert_eq!(s(&a, "client_secret").len(), 43);
    assert_eq!(a["client_secret_expires_at"], 0);
    assert!(a["client_id_issued_at"].as_i64().unwrap() > 0);
    assert_eq!(s(&a, "registration_access_token").len(), 43);
    assert_eq!(
        s(&a, "registration_client_uri"),
        format!(
            "{}/realms/demo/clients-registrations/openid-connect/{}",
            crate::helpers::PUBLIC_URL,
            s(&a, "client_id")
        )
    );
    // Everything registered is echoed.
    assert_eq!(a["client_name"], "Registered app");
    assert_eq!(a["redirect_uris"], json!([REDIRECT]));
    assert_eq!(
        a["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(a["response_types"], json!(["code"]));
    assert_eq!(a["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(a["application_type"], "web");
    assert_eq!(a["scope"], "email offline_access openid profile");
    assert_eq!(a["client_uri"], "https://app.example/");
    assert_eq!(a["contacts"], json!(["ops@app.example"]));
    assert_eq!(a["software_id"], "app-1");
    assert_eq!(a["software_version"], "1.0");
    let b = registered(&app, "demo", &token, &web_app()).await;
    assert_ne!(a["client_id"], b["client_id"]);
    // Used up.
    let res = register(&app, "demo", Some(&token), &web_app()).await;
    assert_invalid_token(res).await;
    // The list shows what is left, never the token; a used-up token can be deleted.
    let list = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/clients-initial-access",
            None,
        )
        .await;
    let item = &list["items"][0];
    assert_eq!(item["remaining"], 0);
    assert!(item.get("token").is_none(), "{item}");
    let del = app
        .admin(
            Method::DELETE,
            &format!(
                "/admin/realms/demo/clients-initial-access/{}",
                s(item, "id")
            ),
            None,
        )
        .await;
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn concurrent_registrations_never_overspend_an_initial_token() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({ "count": 3 })).await;
    let statuses = register_at_once(&app, Some(&token), &web_app()).await;
    assert_eq!(outcomes(&statuses, 401), (3, 7), "{statuses:?}");
}

#[tokio::test]
async fn an_expired_deleted_or_foreign_initial_token_registers_nothing() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({ "count": 5, "expires_in": 60 })).await;
    // Another realm's token, same metadata: 401 (ISO-1).
    fast_realm(&app, "other").await;
    assert_invalid_token(register(&app, "other", Some(&token), &web_app()).await).await;
    app.clock.advance(61);
    assert_invalid_token(register(&app, "demo", Some(&token), &web_app()).await).await;
    // Deleted before use.
    let v = app
        .admin_ok(
            Method::POST,
            "/admin/realms/demo/clients-initial-access",
            Some(json!({})),
        )
        .await;
    app.admin_ok(
        Method::DELETE,
        &format!("/admin/realms/demo/clients-initial-access/{}", s(&v, "id")),
        None,
    )
    .await;
    assert_invalid_token(register(&app, "demo", Some(&s(&v, "token")), &web_app()).await).await;
}

#[tokio::test]
async fn without_a_token_registration_is_refused_unless_the_realm_is_open() {
    let app = spawn_app().await;
    // Default: initial-token.
    let res = register(&app, "demo", None, &web_app()).await;
    let www = header(&res, "www-authenticate").unwrap_or_default();
    assert!(www.starts_with("Bearer"), "{www}");
    assert_invalid_token(res).await;
    assert_invalid_token(register(&app, "demo", Some("not-a-token"), &web_app()).await).await;
    let res = app
        .http
        .post(endpoint(&app, "demo"))
        .basic_auth("demo-app", Some(app.seeded("demo-app")))
        .json(&web_app())
        .send()
        .await
        .unwrap();
    assert_invalid_token(res).await;
    // Closed: even a live initial token registers nothing.
    let token = initial_token(&app, "demo", json!({})).await;
    set_realm(
        &app,
        "demo",
        json!({ "registration": { "mode": "closed" } }),
    )
    .await;
    assert_invalid_token(register(&app, "demo", Some(&token), &web_app()).await).await;
    set_realm(
        &app,
        "demo",
        json!({ "registration": { "mode": "initial-token" } }),
    )
    .await;
    registered(&app, "demo", &token, &web_app()).await;
}

#[tokio::test]
async fn every_metadata_error_has_its_rfc_7591_code_and_spends_no_token() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({ "count": 1 })).await;
    let with = |extra: Value| {
        let mut b = web_app();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (
            with(json!({ "redirect_uris": ["http://app.example/cb"] })),
            "invalid_redirect_uri",
        ),
        (
            with(json!({ "redirect_uris": ["https://app.example/cb#x"] })),
            "invalid_redirect_uri",
        ),
        (
            with(json!({ "redirect_uris": ["javascript:alert(1)"] })),
            "invalid_redirect_uri",
        ),
        (
            with(json!({ "redirect_uris": ["https://u@app.example/cb"] })),
            "invalid_redirect_uri",
        ),
        (
            with(
                json!({ "application_type": "native", "redirect_uris": ["https://app.example/cb"] }),
            ),
            "invalid_redirect_uri",
        ),
        (
            with(json!({ "redirect_uris": ["com.example.app:/cb"] })),
            "invalid_redirect_uri",
        ),
        (with(json!({ "redirect_uris": [] })), "invalid_redirect_uri"),
        (
            with(json!({ "redirect_uris": "https://app.example/cb" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "response_types": ["token"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "response_types": [] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "grant_types": ["client_credentials"], "response_types": ["code"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "grant_types": ["password"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "grant_types": ["implicit"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "token_endpoint_auth_method": "client_secret_jwt" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "token_endpoint_auth_method": "private_key_jwt" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": { "keys": [{ "kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c" }] },
            })),
            "invalid_client_metadata",
        ),
        (
            with(json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": { "keys": [{ "kty": "EC" }] },
                "jwks_uri": "https://app.example/jwks",
            })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "jwks_uri": "https://app.example/jwks" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "client_credentials"],
            })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "application_type": "desktop" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "logo_uri": "javascript:alert(1)" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "tos_uri": "http://app.example/tos" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "policy_uri": "ftp://app.example/p" })),
            "invalid_client_metadata",
        ),
        (with(json!({ "client_uri": 7 })), "invalid_client_metadata"),
        (
            with(json!({ "contacts": ["not an address"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "scope": "openid \"quoted\"" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "software_id": "" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "software_version": "x".repeat(201) })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "client_name": "n".repeat(201) })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "post_logout_redirect_uris": ["http://app.example/bye"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "backchannel_logout_uri": "http://app.example/bcl" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "id_token_signed_response_alg": "none" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "client_id": "chosen" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "client_secret": "chosen" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "software_statement": "eyJ.eyJ.sig" })),
            "invalid_software_statement",
        ),
        (json!([web_app()]), "invalid_client_metadata"),
    ];
    for (body, code) in cases {
        let res = register(&app, "demo", Some(&token), &body).await;
        let got = assert_oauth_error(res, 400, code).await;
        assert!(
            !got["error_description"].as_str().unwrap().is_empty(),
            "{body}"
        );
    }
    for (ct, body) in [
        ("text/plain", web_app().to_string()),
        ("application/x-www-form-urlencoded", "client_name=x".into()),
        ("application/json", "{not json".into()),
    ] {
        let res = app
            .http
            .post(endpoint(&app, "demo"))
            .bearer_auth(&token)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_oauth_error(res, 400, "invalid_client_metadata").await;
    }
    // None of those spent the token's one use; unknown metadata is ignored (RFC 7591 §2).
    let mut ok = web_app();
    ok["frobnicate"] = json!(true);
    registered(&app, "demo", &token, &ok).await;
}

#[tokio::test]
async fn every_auth_method_and_application_type_registers() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({ "count": 10 })).await;
    let post = registered(
        &app,
        "demo",
        &token,
        &json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post" }),
    )
    .await;
    assert_eq!(post["token_endpoint_auth_method"], "client_secret_post");
    assert!(post["client_secret"].is_string());
    // Defaults: authorization_code, code, client_secret_basic, web.
    assert_eq!(post["grant_types"], json!(["authorization_code"]));
    let native = registered(
        &app,
        "demo",
        &token,
        &json!({
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1/cb"],
        }),
    )
    .await;
    assert!(native.get("client_secret").is_none(), "{native}");
    assert!(native.get("client_secret_expires_at").is_none());
    assert_eq!(native["application_type"], "native");
    let jwks = json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }] });
    let pkj = registered(
        &app,
        "demo",
        &token,
        &json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwks,
        }),
    )
    .await;
    assert_eq!(pkj["jwks"], jwks);
    assert_eq!(pkj["response_types"], json!([]));
    assert!(pkj.get("client_secret").is_none());
    let uri = registered(
        &app,
        "demo",
        &token,
        &json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://app.example/jwks.json",
        }),
    )
    .await;
    assert_eq!(uri["jwks_uri"], "https://app.example/jwks.json");
    // A service client registered with an initial token gets client_credentials tokens.
    let svc = registered(
        &app,
        "demo",
        &token,
        &json!({ "grant_types": ["client_credentials"], "scope": "api:read" }),
    )
    .await;
    let t = app
        .client_credentials("demo", &s(&svc, "client_id"), &s(&svc, "client_secret"))
        .await;
    assert_eq!(t["scope"], "api:read");
}

#[tokio::test]
async fn a_registered_client_signs_users_in_and_its_deletion_ends_its_tokens() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({})).await;
    let c = registered(&app, "demo", &token, &web_app()).await;
    let mut rp = Rp::new(
        "demo",
        &s(&c, "client_id"),
        Some(&s(&c, "client_secret")),
        REDIRECT,
    );
    rp.scope = "openid profile email offline_access".into();
    let mut agent = Agent::default();
    let cb = rp
        .login_consenting(
            &app,
            &mut agent,
            "demo",
            &app.seeded("demo"),
            &[("prompt", "consent")],
        )
        .await;
    let t = rp.tokens(&app, &cb["code"]).await;
    let at = s(&t, "access_token");
    assert_eq!(userinfo(&app, "demo", &at).await.status(), StatusCode::OK);
    let uri = s(&c, "registration_client_uri").replace(crate::helpers::PUBLIC_URL, &app.base);
    let rat = s(&c, "registration_access_token");
    let res = manage(&app, Method::DELETE, &uri, &rat).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_no_store(&res);
    // Its JWT is dead at userinfo and introspection, its refresh token refreshes nothing.
    assert_invalid_token(userinfo(&app, "demo", &at).await).await;
    let i = app
        .introspect("demo", "demo-service", &app.demo_secret, &at)
        .await;
    assert_eq!(i["active"], false);
    let res = rp.refresh(&app, &s(&t, "refresh_token"), None).await;
    assert!(res.status().is_client_error());
    // The registration is gone, and its token with it.
    assert_invalid_token(manage(&app, Method::GET, &uri, &rat).await).await;
}

#[tokio::test]
async fn read_update_and_delete_take_only_the_clients_current_registration_token() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({ "count": 2 })).await;
    let a = registered(&app, "demo", &token, &web_app()).await;
    let b = registered(&app, "demo", &token, &web_app()).await;
    let local =
        |v: &Value| s(v, "registration_client_uri").replace(crate::helpers::PUBLIC_URL, &app.base);
    let (a_uri, a_rat) = (local(&a), s(&a, "registration_access_token"));
    let (b_uri, b_rat) = (local(&b), s(&b, "registration_access_token"));
    // Read: the same token works twice and is given back as it is (RFC 7592 §3: not
    // rotated), the secret is not shown again.
    for _ in 0..2 {
        let res = manage(&app, Method::GET, &a_uri, &a_rat).await;
        assert_no_store(&res);
        let got = ok_json(res, StatusCode::OK).await;
        assert_eq!(got["client_id"], a["client_id"]);
        assert_eq!(got["redirect_uris"], a["redirect_uris"]);
        assert!(got.get("client_secret").is_none(), "{got}");
        assert_eq!(got["registration_access_token"], a_rat.as_str(), "{got}");
    }
    // Wrong, foreign (another client's, another realm's), missing: 401.
    assert_invalid_token(manage(&app, Method::GET, &a_uri, "wrong").await).await;
    assert_invalid_token(manage(&app, Method::GET, &a_uri, &b_rat).await).await;
    assert_invalid_token(manage(&app, Method::DELETE, &b_uri, &a_rat).await).await;
    let res = put(
        &app,
        &b_uri,
        &a_rat,
        &json!({ "client_id": b["client_id"], "redirect_uris": [REDIRECT] }),
    )
    .await;
    assert_invalid_token(res).await;
    fast_realm(&app, "other").await;
    let elsewhere = a_uri.replace("/realms/demo/", "/realms/other/");
    assert_invalid_token(manage(&app, Method::GET, &elsewhere, &a_rat).await).await;
    let res = app.http.get(&a_uri).send().await.unwrap();
    assert_invalid_token(res).await;
    // An admin-created client has no registration token at all.
    let admin_made = app.url("/realms/demo/clients-registrations/openid-connect/demo-app");
    assert_invalid_token(manage(&app, Method::GET, &admin_made, &a_rat).await).await;
    // B is untouched by all that.
    assert_eq!(
        manage(&app, Method::GET, &b_uri, &b_rat).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_update_replaces_the_metadata_and_rotates_the_registration_token() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({})).await;
    let c = registered(&app, "demo", &token, &web_app()).await;
    let uri = s(&c, "registration_client_uri").replace(crate::helpers::PUBLIC_URL, &app.base);
    let rat = s(&c, "registration_access_token");
    let id = c["client_id"].clone();
    // RFC 7592 §2.2: client_id required and matching; a given secret must be the current one.
    let res = put(&app, &uri, &rat, &json!({ "redirect_uris": [REDIRECT] })).await;
    assert_oauth_error(res, 400, "invalid_client_metadata").await;
    let res = put(
        &app,
        &uri,
        &rat,
        &json!({ "client_id": "dcr-other", "redirect_uris": [REDIRECT] }),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_client_metadata").await;
    let res = put(
        &app,
        &uri,
        &rat,
        &json!({ "client_id": id, "client_secret": "wrong", "redirect_uris": [REDIRECT] }),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_client_metadata").await;
    let res = put(
        &app,
        &uri,
        &rat,
        &json!({ "client_id": id, "redirect_uris": ["http://evil.example/cb"] }),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_redirect_uri").await;
    // Refused updates rotated nothing: the token still works.
    let res = put(
        &app,
        &uri,
        &rat,
        &json!({ "client_id": id, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none" }),
    )
    .await;
    let updated = ok_json(res, StatusCode::OK).await;
    // Omitted fields are reset to their defaults.
    assert_eq!(updated["token_endpoint_auth_method"], "none");
    assert_eq!(updated["grant_types"], json!(["authorization_code"]));
    assert!(updated.get("client_uri").is_none(), "{updated}");
    assert!(updated.get("contacts").is_none(), "{updated}");
    assert!(updated.get("client_secret").is_none());
    let new_rat = s(&updated, "registration_access_token");
    assert_ne!(new_rat, rat);
    assert_invalid_token(manage(&app, Method::GET, &uri, &rat).await).await;
    let got = ok_json(
        manage(&app, Method::GET, &uri, &new_rat).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["token_endpoint_auth_method"], "none");
    // Back to a secret method: refused, there is no secret to use.
    let res = put(
        &app,
        &uri,
        &new_rat,
        &json!({ "client_id": id, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post" }),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_client_metadata").await;
}

#[tokio::test]
async fn a_disabled_clients_registration_token_opens_nothing() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({})).await;
    let c = registered(&app, "demo", &token, &web_app()).await;
    let uri = s(&c, "registration_client_uri").replace(crate::helpers::PUBLIC_URL, &app.base);
    let rat = s(&c, "registration_access_token");
    let op = AdminPrincipal::operator();
    let cid = s(&c, "client_id");
    let old = app.provider.get_client(&op, "demo", &cid).await.unwrap();
    let m = ClientMetadata {
        enabled: false,
        ..ClientMetadata::from(&old)
    };
    app.provider
        .update_client(&op, "demo", &cid, m)
        .await
        .unwrap();
    // Keycloak CVE-2026-9705: the old token must not re-enable or change it.
    assert_invalid_token(manage(&app, Method::GET, &uri, &rat).await).await;
    let res = put(
        &app,
        &uri,
        &rat,
        &json!({ "client_id": cid, "redirect_uris": [REDIRECT] }),
    )
    .await;
    assert_invalid_token(res).await;
    let still = app.provider.get_client(&op, "demo", &cid).await.unwrap();
    assert!(!still.enabled);
}

#[tokio::test]
async fn open_registration_obeys_the_realms_limits() {
    let app = spawn_app().await;
    set_realm(
        &app,
        "demo",
        json!({ "registration": {
            "mode": "open",
            "allowed_hosts": ["127.0.0.1", "app.example"],
            "max_clients": 2,
            "rate_per_minute": 100,
        } }),
    )
    .await;
    let realm = app.admin_ok(Method::GET, "/admin/realms/demo", None).await;
    assert_eq!(realm["registration"]["mode"], "open");
    assert_eq!(
        realm["registration"]["allowed_grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let open = |extra: Value| {
        let mut b = json!({ "redirect_uris": ["https://app.example/cb"] });
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let refused = [
        (
            open(json!({ "redirect_uris": ["https://evil.example/cb"] })),
            "invalid_redirect_uri",
        ),
        (
            open(json!({ "redirect_uris": ["https://app.example.evil.example/cb"] })),
            "invalid_redirect_uri",
        ),
        (
            open(json!({ "grant_types": ["authorization_code", "client_credentials"] })),
            "invalid_client_metadata",
        ),
        (
            open(
                json!({ "grant_types": ["authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"] }),
            ),
            "invalid_client_metadata",
        ),
        (
            open(json!({ "scope": "openid api:write" })),
            "invalid_client_metadata",
        ),
        (
            open(json!({ "scope": "openid tessera:admin" })),
            "invalid_client_metadata",
        ),
        (
            open(json!({ "post_logout_redirect_uris": ["https://evil.example/bye"] })),
            "invalid_client_metadata",
        ),
        (
            open(json!({ "backchannel_logout_uri": "https://evil.example/bcl" })),
            "invalid_client_metadata",
        ),
    ];
    for (body, code) in refused {
        assert_oauth_error(register(&app, "demo", None, &body).await, 400, code).await;
    }
    // Without `scope`: the realm's defaults that open registration allows.
    let a = ok_json(
        register(&app, "demo", None, &open(json!({}))).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(a["scope"], "email openid profile");
    // Its updates are held to the same limits.
    let uri = s(&a, "registration_client_uri").replace(crate::helpers::PUBLIC_URL, &app.base);
    let res = put(
        &app,
        &uri,
        &s(&a, "registration_access_token"),
        &json!({ "client_id": a["client_id"], "redirect_uris": ["https://evil.example/cb"] }),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_redirect_uri").await;
    ok_json(
        register(&app, "demo", None, &open(json!({}))).await,
        StatusCode::CREATED,
    )
    .await;
    // The realm holds as many as it allows.
    assert_oauth_error(
        register(&app, "demo", None, &open(json!({}))).await,
        403,
        "access_denied",
    )
    .await;
    // An initial token is not held to open registration's limits.
    let token = initial_token(&app, "demo", json!({})).await;
    let svc = registered(
        &app,
        "demo",
        &token,
        &json!({ "grant_types": ["client_credentials"] }),
    )
    .await;
    assert_eq!(svc["grant_types"], json!(["client_credentials"]));
    // Never client_credentials in the policy itself.
    let res = app
        .admin(
            Method::PUT,
            "/admin/realms/demo",
            Some(json!({ "registration": { "allowed_grant_types": ["client_credentials"] } })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_open_registrations_never_exceed_the_cap_which_counts_only_open_ones() {
    let app = spawn_app().await;
    set_realm(
        &app,
        "demo",
        json!({ "registration": {
            "mode": "open",
            "allowed_hosts": ["app.example"],
            "max_clients": 3,
            "rate_per_minute": 100,
        } }),
    )
    .await;
    // Clients an administrator vouched for (an initial token) take no open seat.
    let token = initial_token(&app, "demo", json!({ "count": 2 })).await;
    registered(&app, "demo", &token, &web_app()).await;
    registered(&app, "demo", &token, &web_app()).await;
    let body = json!({ "redirect_uris": ["https://app.example/cb"] });
    let statuses = register_at_once(&app, None, &body).await;
    assert_eq!(outcomes(&statuses, 403), (3, 7), "{statuses:?}");
}

#[tokio::test]
async fn open_registration_is_rate_limited_per_address() {
    let app = spawn_app().await;
    set_realm(
        &app,
        "demo",
        json!({ "registration": { "mode": "open", "allowed_hosts": ["app.example"], "rate_per_minute": 2 } }),
    )
    .await;
    let body = json!({ "redirect_uris": ["https://app.example/cb"] });
    // Refused metadata counts too: probing is registration traffic.
    let bad = json!({ "redirect_uris": ["https://evil.example/cb"] });
    assert_eq!(register(&app, "demo", None, &bad).await.status(), 400);
    assert_eq!(register(&app, "demo", None, &body).await.status(), 201);
    let res = register(&app, "demo", None, &body).await;
    let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_oauth_error(res, 429, "temporarily_unavailable").await;
    // Initial tokens are not rate limited.
    let token = initial_token(&app, "demo", json!({})).await;
    registered(&app, "demo", &token, &body).await;
    app.clock.advance(31);
    assert_eq!(register(&app, "demo", None, &body).await.status(), 201);
}

#[tokio::test]
async fn an_org_admin_mints_initial_tokens_for_their_own_organization_only() {
    let app = spawn_app().await;
    fast_realm(&app, "corp").await;
    let alice = add_user(&app, "corp", "alice", PW).await;
    acme_administered_by(&app, "corp", &alice).await;
    let globex = app
        .admin_ok(
            Method::POST,
            "/admin/realms/corp/organizations",
            Some(json!({ "alias": "globex", "name": "Globex" })),
        )
        .await;
    let console = console_token(&app, "corp", "alice").await;
    let call = |method: Method, path: &str, body: Option<Value>| {
        let mut req = app
            .http
            .request(method, app.url(path))
            .bearer_auth(&console);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let res = call(
        Method::POST,
        "/admin/realms/corp/organizations/acme/clients-initial-access",
        Some(json!({ "count": 1 })),
    )
    .await
    .unwrap();
    let minted = ok_json(res, StatusCode::CREATED).await;
    let acme = app
        .admin_ok(Method::GET, "/admin/realms/corp/organizations/acme", None)
        .await;
    assert_eq!(minted["organization_id"], acme["id"]);
    // Another organization: 404, as if it did not exist (ISO-10); realm-wide: 403.
    for path in [
        "/admin/realms/corp/organizations/globex/clients-initial-access".to_owned(),
        format!(
            "/admin/realms/corp/organizations/{}/clients-initial-access",
            s(&globex, "id")
        ),
    ] {
        let res = call(Method::POST, &path, Some(json!({}))).await.unwrap();
        assert_oauth_error(res, 404, "not_found").await;
    }
    let res = call(
        Method::POST,
        "/admin/realms/corp/clients-initial-access",
        Some(json!({ "organization": "acme" })),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let list = ok_json(
        call(
            Method::GET,
            "/admin/realms/corp/organizations/acme/clients-initial-access",
            None,
        )
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The client it registers belongs to acme.
    let c = registered(&app, "corp", &s(&minted, "token"), &web_app()).await;
    assert_eq!(organization_of(&app, "corp", &c).await, acme["id"]);
    // A realm administrator mints for an organization by alias in the body.
    let v = app
        .admin_ok(
            Method::POST,
            "/admin/realms/corp/clients-initial-access",
            Some(json!({ "organization": "globex", "count": 2, "expires_in": 600 })),
        )
        .await;
    assert_eq!(v["organization_id"], globex["id"]);
    assert_eq!(v["remaining"], 2);
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/corp/clients-initial-access",
            Some(json!({ "count": 0 })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_cli_mints_initial_tokens_and_sets_the_registration_mode() {
    let app = spawn_app().await;
    let out = app.cli(&["client", "initial-token", "--realm", "demo", "--count", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let token = shown_token(&text);
    registered(&app, "demo", &token, &web_app()).await;
    let out = app.cli(&[
        "realm",
        "update",
        "demo",
        "--registration",
        "open",
        "--registration-allowed-host",
        "app.example",
        "--registration-max-clients",
        "5",
        "--registration-rate-per-minute",
        "30",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server learns of the CLI's write through the change log (within a second).
    let mut realm = Value::Null;
    for _ in 0..50 {
        realm = app.admin_ok(Method::GET, "/admin/realms/demo", None).await;
        if realm["registration"]["mode"] == "open" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        realm["registration"],
        json!({
            "mode": "open",
            "allowed_hosts": ["app.example"],
            "allowed_scopes": ["openid", "profile", "email", "offline_access"],
            "allowed_grant_types": ["authorization_code", "refresh_token"],
            "max_clients": 5,
            "rate_per_minute": 30,
            "audiences": [],
        })
    );
    let out = app.cli(&[
        "realm",
        "update",
        "demo",
        "--registration-allowed-grant-type",
        "client_credentials",
    ]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn the_cli_mints_an_organizations_initial_token_that_expires_when_told() {
    let app = spawn_app().await;
    let initech = app
        .admin_ok(
            Method::POST,
            "/admin/realms/demo/organizations",
            Some(json!({ "alias": "initech", "name": "Initech" })),
        )
        .await;
    let before = crate::helpers::unix_now();
    let out = app.cli(&[
        "client",
        "initial-token",
        "--realm",
        "demo",
        "--count",
        "2",
        "--expires-in",
        "120",
        "--organization",
        "initech",
    ]);
    let after = crate::helpers::unix_now();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let summary = text.lines().next().unwrap();
    assert!(
        summary.ends_with(&format!(", for organization {}", s(&initech, "id"))),
        "{text}"
    );
    let until: i64 = summary
        .split(" until ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!((before + 120..=after + 120).contains(&until), "{text}");
    let token = shown_token(&text);
    // The client it registers belongs to initech.
    let c = registered(&app, "demo", &token, &web_app()).await;
    assert_eq!(organization_of(&app, "demo", &c).await, initech["id"]);
    // Expired with a registration left: refused.
    app.clock.advance(200);
    assert_invalid_token(register(&app, "demo", Some(&token), &web_app()).await).await;
}

#[tokio::test]
async fn bcl_8_every_registered_setting_round_trips_through_read_and_update() {
    let app = spawn_app().await;
    let token = initial_token(&app, "demo", json!({})).await;
    let mut body = web_app();
    body["post_logout_redirect_uris"] = json!(["https://app.example/bye"]);
    body["backchannel_logout_uri"] = json!("https://app.example/bcl");
    body["logo_uri"] = json!("https://app.example/logo.png");
    body["tos_uri"] = json!("https://app.example/tos");
    body["policy_uri"] = json!("https://app.example/policy");
    body["id_token_signed_response_alg"] = json!("ES256");
    body["token_endpoint_auth_method"] = json!("client_secret_post");
    let c = registered(&app, "demo", &token, &body).await;
    let uri = s(&c, "registration_client_uri").replace(crate::helpers::PUBLIC_URL, &app.base);
    let read = ok_json(
        manage(&app, Method::GET, &uri, &s(&c, "registration_access_token")).await,
        StatusCode::OK,
    )
    .await;
    for (k, v) in body.as_object().unwrap() {
        let want = if k == "scope" {
            json!("email offline_access openid profile")
        } else {
            v.clone()
        };
        assert_eq!(read[k], want, "{k} after registration");
    }
    // What registration cannot set survives an update: the exchange policy here.
    let policy = format!(
        "/admin/realms/demo/clients/{}/exchange-policy",
        s(&c, "client_id")
    );
    app.admin_ok(
        Method::PUT,
        &policy,
        Some(json!({ "audiences": ["demo-service"] })),
    )
    .await;
    // An update with what was read changes nothing (no setting silently dropped).
    let mut again = body.clone();
    again["client_id"] = c["client_id"].clone();
    let updated = ok_json(
        put(&app, &uri, &s(&c, "registration_access_token"), &again).await,
        StatusCode::OK,
    )
    .await;
    for (k, _) in body.as_object().unwrap() {
        assert_eq!(updated[k], read[k], "{k} after update");
    }
    let kept = app.admin_ok(Method::GET, &policy, None).await;
    assert_eq!(kept["audiences"], json!(["demo-service"]));
}

#[tokio::test]
async fn bcp_3_an_openly_registered_client_always_asks_the_user_for_consent() {
    let app = spawn_app().await;
    set_realm(
        &app,
        "demo",
        json!({ "registration": { "mode": "open", "allowed_hosts": ["127.0.0.1"] } }),
    )
    .await;
    let c = ok_json(
        register(&app, "demo", None, &json!({ "redirect_uris": [REDIRECT] })).await,
        StatusCode::CREATED,
    )
    .await;
    let rp = Rp::new(
        "demo",
        &s(&c, "client_id"),
        Some(&s(&c, "client_secret")),
        REDIRECT,
    );
    // Nobody vouched for it: the user sees a consent page, not a redirect with a code.
    let mut agent = Agent::default();
    let res = rp
        .sign_in(&app, &mut agent, "demo", &app.seeded("demo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        crate::helpers::hidden(&page, "state").is_some(),
        "a consent page"
    );
    // The same user signing in to an initial-token client is not asked.
    let token = initial_token(&app, "demo", json!({})).await;
    let trusted = registered(&app, "demo", &token, &web_app()).await;
    let rp = Rp::new(
        "demo",
        &s(&trusted, "client_id"),
        Some(&s(&trusted, "client_secret")),
        REDIRECT,
    );
    let cb = rp
        .login(
            &app,
            &mut Agent::default(),
            "demo",
            &app.seeded("demo"),
            &[],
        )
        .await;
    assert!(cb.contains_key("code"), "{cb:?}");
}
