//! Audiences and resource indicators (RFC 8707): what a client's access tokens are for,
//! how requests narrow it, who may exchange them, and the three-hop service flow. Also
//! the interoperability points that came with it: userinfo's form-encoded token (RFC
//! 6750 §2.2) and RFC 8414 metadata.

use crate::helpers::{
    Agent, PW, REDIRECT, Rp, TestApp, add_user, assert_no_store, assert_oauth_error, claims,
    fast_realm, hidden, ok_json, s, spawn_app,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const ORDERS: &str = "https://api.example/orders";
const INVENTORY: &str = "https://api.example/inventory";
const BILLING: &str = "https://billing.example/";

/// Realm `r` with app `A` (signs users in; its tokens may be for orders or billing),
/// API `B` (serves orders; may exchange for inventory), API `C` (serves inventory), and
/// user bob. Returns the secrets of A, B and C.
async fn setup(app: &TestApp, realm: &str) -> (String, String, String) {
    fast_realm(app, realm).await;
    let (_, b) = app
        .create_client(
            realm,
            json!({
                "client_id": "orders-api",
                "name": "Orders",
                "grant_types": ["client_credentials", TE],
                "resource_uris": [ORDERS],
                "scopes": ["orders:read", "inventory:read"],
            }),
        )
        .await;
    let (_, c) = app
        .create_client(
            realm,
            json!({
                "client_id": "inventory-api",
                "name": "Inventory",
                "grant_types": ["client_credentials", TE],
                "resource_uris": [INVENTORY],
                "scopes": ["inventory:read"],
            }),
        )
        .await;
    let (_, a) = app
        .create_client(
            realm,
            json!({
                "client_id": "A",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                "scopes": ["openid", "profile", "offline_access", "orders:read", "inventory:read"],
                "audiences": [ORDERS, BILLING],
            }),
        )
        .await;
    for (client, audiences) in [
        ("orders-api", json!([INVENTORY])),
        ("inventory-api", json!([])),
    ] {
        let c = app
            .admin_ok(
                Method::GET,
                &format!("/admin/realms/{realm}/clients/{client}"),
                None,
            )
            .await;
        app.admin_ok(
            Method::PUT,
            &format!(
                "/admin/realms/{realm}/clients/{}/exchange-policy",
                s(&c, "id")
            ),
            Some(json!({ "subject_token_types": [AT], "audiences": audiences })),
        )
        .await;
    }
    add_user(app, realm, "bob", PW).await;
    (a.unwrap(), b.unwrap(), c.unwrap())
}

fn rp(realm: &str, secret: &str) -> Rp {
    let mut rp = Rp::new(realm, "A", Some(secret), REDIRECT);
    rp.scope = "openid offline_access orders:read inventory:read".into();
    rp
}

fn aud(token: &str) -> Vec<String> {
    match &claims(token)["aud"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(v) => v.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
        other => panic!("aud {other}"),
    }
}

#[tokio::test]
async fn access_tokens_carry_the_clients_audiences_and_the_issuer_while_meant_for_userinfo() {
    let app = spawn_app().await;
    let (a, _, _) = setup(&app, "r1").await;
    let rp = rp("r1", &a);
    let mut agent = Agent::default();
    let cb = rp.login(&app, &mut agent, "bob", PW, &[]).await;
    let t = rp.tokens(&app, &cb["code"]).await;
    let issuer = crate::helpers::issuer("r1");
    assert_eq!(
        aud(&s(&t, "access_token")),
        [issuer.as_str(), ORDERS, BILLING]
    );
    // Without openid the token is not for userinfo: only the APIs.
    let cc = app
        .post_basic(
            "r1",
            "token",
            "A",
            &a,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "orders:read"),
            ],
        )
        .await;
    let cc = ok_json(cc, StatusCode::OK).await;
    assert_eq!(aud(&s(&cc, "access_token")), [ORDERS, BILLING]);
    let narrowed = app
        .post_basic(
            "r1",
            "token",
            "A",
            &a,
            &[
                ("grant_type", "client_credentials"),
                ("resource", BILLING),
                ("scope", "orders:read"),
            ],
        )
        .await;
    let narrowed = ok_json(narrowed, StatusCode::OK).await;
    assert_eq!(aud(&s(&narrowed, "access_token")), [BILLING]);
}

#[tokio::test]
async fn res_1_res_2_res_4_a_resource_outside_the_clients_audiences_is_invalid_target_everywhere() {
    let app = spawn_app().await;
    let (a, _, _) = setup(&app, "r2").await;
    let rp = rp("r2", &a);
    // At /auth: an error back to the client, before any login.
    let mut agent = Agent::default();
    let res = agent
        .get(
            &app,
            &rp.auth_url(&app, &[("resource", "https://evil.example/")]),
        )
        .await;
    let cb = rp.callback(&res);
    assert_eq!(cb["error"], "invalid_target", "{cb:?}");
    // Not an absolute URI.
    let res = agent
        .get(&app, &rp.auth_url(&app, &[("resource", "orders")]))
        .await;
    assert_eq!(rp.callback(&res)["error"], "invalid_target");
    // RES-4: another realm's API is not this client's audience.
    fast_realm(&app, "other").await;
    app.create_client(
        "other",
        json!({ "client_id": "their-api", "resource_uris": ["https://their.example/api"] }),
    )
    .await;
    // client_credentials.
    for bad in [
        ("resource", "https://their.example/api"),
        ("resource", "https://evil.example/"),
        ("resource", "https://api.example/orders#frag"),
        ("audience", "inventory-api"),
    ] {
        let res = app
            .post_basic(
                "r2",
                "token",
                "A",
                &a,
                &[("grant_type", "client_credentials"), bad],
            )
            .await;
        assert_oauth_error(res, 400, "invalid_target").await;
    }
}

#[tokio::test]
async fn res_3_res_5_code_and_refresh_requests_may_only_narrow_the_targets_of_the_grant() {
    let app = spawn_app().await;
    let (a, _, _) = setup(&app, "r3").await;
    let rp = rp("r3", &a);
    let mut agent = Agent::default();
    let cb = rp
        .login(&app, &mut agent, "bob", PW, &[("resource", ORDERS)])
        .await;
    // Billing was not part of this grant: refused before the code is spent.
    let res = rp
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", crate::helpers::VERIFIER),
                ("resource", BILLING),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_target").await;
    let t = rp.tokens(&app, &cb["code"]).await;
    // RES-5: a token for what was asked for, and nothing else (not userinfo either).
    assert_eq!(aud(&s(&t, "access_token")), [ORDERS]);
    let rt = s(&t, "refresh_token");
    // A refresh asking for more is refused and leaves the refresh token usable.
    let res = rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("resource", BILLING),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_target").await;
    let res = rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("resource", ORDERS),
                ("scope", "orders:read"),
            ],
        )
        .await;
    let t2 = ok_json(res, StatusCode::OK).await;
    assert_eq!(aud(&s(&t2, "access_token")), [ORDERS]);
}

#[tokio::test]
async fn two_resources_in_one_request_then_a_refresh_narrowing_to_one_of_them() {
    let app = spawn_app().await;
    let (a, _, _) = setup(&app, "r6").await;
    let rp = rp("r6", &a);
    // Two `resource` parameters at /auth (RFC 8707 §2: repeatable): the grant holds both.
    let mut agent = Agent::default();
    let cb = rp
        .login(
            &app,
            &mut agent,
            "bob",
            PW,
            &[("resource", ORDERS), ("resource", BILLING)],
        )
        .await;
    let t = rp.tokens(&app, &cb["code"]).await;
    assert_eq!(aud(&s(&t, "access_token")), [ORDERS, BILLING]);
    // A refresh for a strict subset of the grant's targets gets a token for that one only.
    let res = rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&t, "refresh_token")),
                ("resource", BILLING),
            ],
        )
        .await;
    let narrowed = ok_json(res, StatusCode::OK).await;
    assert_eq!(aud(&s(&narrowed, "access_token")), [BILLING]);
    // The grant is not narrowed by that: both again with the rotated refresh token.
    let res = rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&narrowed, "refresh_token")),
                ("resource", ORDERS),
                ("resource", BILLING),
            ],
        )
        .await;
    let both = ok_json(res, StatusCode::OK).await;
    assert_eq!(aud(&s(&both, "access_token")), [ORDERS, BILLING]);
    // Two at the token endpoint for client_credentials too, one of them not allowed: refused.
    let cc = |resources: &'static [&'static str]| {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("scope", "orders:read"),
        ];
        form.extend(resources.iter().map(|r| ("resource", *r)));
        let (app, a) = (&app, &a);
        async move { app.post_basic("r6", "token", "A", a, &form).await }
    };
    let res = ok_json(cc(&[BILLING, ORDERS]).await, StatusCode::OK).await;
    assert_eq!(aud(&s(&res, "access_token")), [BILLING, ORDERS]);
    assert_oauth_error(cc(&[ORDERS, INVENTORY]).await, 400, "invalid_target").await;
}

/// `client` of realm r4 exchanges the access token `subject` (RFC 8693), with `extra`.
async fn exchange(
    app: &TestApp,
    client: &str,
    secret: &str,
    subject: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", TE),
        ("subject_token", subject),
        ("subject_token_type", AT),
    ];
    form.extend_from_slice(extra);
    app.post_basic("r4", "token", client, secret, &form).await
}

#[tokio::test]
async fn an_api_exchanges_a_users_token_meant_for_it_for_a_token_for_the_next_api() {
    let app = spawn_app().await;
    let (a, b, c) = setup(&app, "r4").await;
    let rp = rp("r4", &a);
    let mut agent = Agent::default();
    let cb = rp
        .login(&app, &mut agent, "bob", PW, &[("resource", ORDERS)])
        .await;
    let user_token = s(&rp.tokens(&app, &cb["code"]).await, "access_token");
    let bob = claims(&user_token)["sub"].clone();
    // Inventory is not the token's audience: it does not hold it.
    let res = exchange(&app, "inventory-api", &c, &user_token, &[]).await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Orders serves the token's audience: it holds it, and exchanges it for inventory.
    let res = exchange(
        &app,
        "orders-api",
        &b,
        &user_token,
        &[("resource", INVENTORY), ("scope", "inventory:read")],
    )
    .await;
    let hop = ok_json(res, StatusCode::OK).await;
    let hop_token = s(&hop, "access_token");
    let hc = claims(&hop_token);
    assert_eq!(hc["sub"], bob);
    assert_eq!(aud(&hop_token), [INVENTORY]);
    // Inventory accepts it as meant for itself: introspection by inventory says active.
    let intro = app.introspect("r4", "inventory-api", &c, &hop_token).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["sub"], bob);
    // Orders may not ask for a target its policy does not name.
    let res = exchange(
        &app,
        "orders-api",
        &b,
        &user_token,
        &[("resource", BILLING)],
    )
    .await;
    assert_oauth_error(res, 400, "invalid_target").await;
}

#[tokio::test]
async fn resource_uris_are_unique_in_a_realm_and_audiences_must_exist() {
    let app = spawn_app().await;
    setup(&app, "r5").await;
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/r5/clients",
            Some(json!({ "client_id": "twin", "resource_uris": [ORDERS] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // An audience that could be a client id but names none is a conflict with the realm's
    // clients (one may be created later); a malformed one is a bad request.
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/r5/clients",
            Some(json!({ "client_id": "x", "audiences": ["no-such-client"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    for body in [
        json!({ "client_id": "x", "audiences": ["no such client"] }),
        json!({ "client_id": "x", "resource_uris": ["not a uri"] }),
        json!({ "client_id": "x", "resource_uris": ["https://api.example/x#f"] }),
    ] {
        let res = app
            .admin(Method::POST, "/admin/realms/r5/clients", Some(body.clone()))
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // A client id of the realm is a valid audience.
    let v = app
        .admin_ok(
            Method::POST,
            "/admin/realms/r5/clients",
            Some(json!({ "client_id": "y", "audiences": ["orders-api", INVENTORY] })),
        )
        .await;
    assert_eq!(v["audiences"], json!(["orders-api", INVENTORY]));
}

#[tokio::test]
async fn the_consent_page_names_the_apis_the_tokens_will_reach() {
    let app = spawn_app().await;
    let (a, _, _) = setup(&app, "r6").await;
    app.admin_ok(
        Method::PUT,
        "/admin/realms/r6/clients/A",
        Some(json!({
            "client_id": "A",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "orders:read"],
            "audiences": [ORDERS, BILLING],
            "consent_required": true,
        })),
    )
    .await;
    let mut rp = rp("r6", &a);
    rp.scope = "openid orders:read".into();
    let mut agent = Agent::default();
    let res = rp
        .sign_in(&app, &mut agent, "bob", PW, &[("resource", ORDERS)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(hidden(&page, "state").is_some(), "a consent page");
    assert!(page.contains("Orders"), "{page}");
    assert!(!page.contains(BILLING), "billing was not asked for: {page}");
}

#[tokio::test]
async fn userinfo_takes_the_token_from_a_post_form_but_never_two_ways_or_from_the_url() {
    let app = spawn_app().await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let at = s(&rp.tokens(&app, &cb["code"]).await, "access_token");
    let url = app.endpoint("demo", "userinfo");
    let res = app
        .http
        .post(&url)
        .form(&[("access_token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_no_store(&res);
    let info = ok_json(res, StatusCode::OK).await;
    assert!(info["sub"].is_string(), "{info}");
    let res = app
        .http
        .post(&url)
        .bearer_auth(&at)
        .form(&[("access_token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = app
        .http
        .get(format!("{url}?access_token={at}"))
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_token").await;
    // A form without the token is a missing token: 401 with the Bearer challenge.
    let res = app
        .http
        .post(&url)
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        crate::helpers::header(&res, "www-authenticate")
            .unwrap_or_default()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn authorization_server_metadata_is_served_with_the_issuer_path_inserted() {
    let app = spawn_app().await;
    let oidc: Value = app.discovery("demo").await.json().await.unwrap();
    for path in [
        "/.well-known/oauth-authorization-server/realms/demo",
        "/.well-known/openid-configuration/realms/demo",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        let v = ok_json(res, StatusCode::OK).await;
        assert_eq!(v, oidc, "{path}");
    }
    let res = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server/realms/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_cli_declares_resource_uris_and_audiences() {
    let app = spawn_app().await;
    let run = |args: &[&str]| {
        let out = app.cli(args);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "client",
        "create",
        "--realm",
        "demo",
        "--client-id",
        "orders-api",
        "--resource-uri",
        ORDERS,
    ]);
    let shown = run(&[
        "client",
        "create",
        "--realm",
        "demo",
        "--client-id",
        "shop",
        "--redirect-uri",
        REDIRECT,
        "--audience",
        ORDERS,
        "--audience",
        "orders-api",
    ]);
    assert!(
        shown
            .lines()
            .any(|l| l.trim_start().starts_with("audiences")
                && l.ends_with(&format!("{ORDERS} orders-api"))),
        "{shown}"
    );
    // A second claim on the same resource URI is refused.
    let out = app.cli(&[
        "client",
        "create",
        "--realm",
        "demo",
        "--client-id",
        "twin",
        "--resource-uri",
        ORDERS,
    ]);
    assert!(!out.status.success());
}
