//! The organization-admin exchange (issue 15, point 4): an admin web app trades the ID token
//! of an organization's administrator, signed by the organization's own provider, for a
//! client of the organization and that person's admin tokens, at
//! `POST /realms/{realm}/organizations/{alias}/token-exchange`, from the browser (CORS for
//! the organization's verified domains only). node-oidc-provider is the real upstream (its
//! ID tokens carry `org_id`/`org_role` with `ACCOUNT_CLAIMS`, and it sends back-channel
//! logouts); [`FakeIdp`] signs what no real provider would. One test drives it from a page
//! in headless Chromium. Case ids (XID-*) are from SECURITY-CASES.md.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The admin app's origin: under acme's verified domain `acme.test`.
const ORIGIN: &str = "https://admin.acme.test";

/// Organizations of realm demo: acme (seeded; given external id `ext-acme` and the
/// verified domains `acme.test` and `example.test`, where node-oidc-provider's accounts
/// have their addresses), globex (`ext-globex`, `globex.test`) and initech
/// (`initech.test`, no external id).
async fn organizations(app: &TestApp) {
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/organizations/acme",
        Some(json!({"alias": "acme", "name": "Acme", "external_id": "ext-acme"})),
    )
    .await;
    for domain in ["acme.test", "example.test"] {
        app.admin_ok(
            Method::PUT,
            &format!("/admin/realms/demo/organizations/acme/domains/{domain}"),
            Some(json!({ "verified": true })),
        )
        .await;
    }
    for body in [
        json!({"alias": "globex", "name": "Globex", "external_id": "ext-globex",
               "domains": [{"name": "globex.test", "verified": true}]}),
        json!({"alias": "initech", "name": "Initech",
               "domains": [{"name": "initech.test", "verified": true}]}),
    ] {
        app.admin_ok(Method::POST, "/admin/realms/demo/organizations", Some(body))
            .await;
    }
}

/// acme's members the exchange brought in (managed members; the seeded one is not).
async fn newcomers(app: &TestApp) -> Vec<Value> {
    let members = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/organizations/acme/members",
            None,
        )
        .await;
    members["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["managed"] == true)
        .cloned()
        .collect()
}

/// Registers `issuer` as provider `alias` of organization `org` with the CLI, as the README
/// shows, marked for the exchange unless `extra` says otherwise (`extra` flags appended).
fn org_provider(
    app: &TestApp,
    org: &str,
    alias: &str,
    issuer: &str,
    client: (&str, &str),
    extra: &[&str],
) {
    let mut args = vec![
        "idp",
        "create",
        "--realm",
        "demo",
        alias,
        "--issuer",
        issuer,
        "--client-id",
        client.0,
        "--client-secret-stdin",
        "--organization",
        org,
    ];
    args.extend(extra);
    let out = app.cli_with_stdin(&args, &format!("{}\n", client.1));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server with the [`organizations`] and a [`FakeIdp`] as acme's provider `acme-sso`
/// for the exchange (`extra` CLI flags appended).
async fn with_fake(extra: &[&str]) -> (TestApp, FakeIdp) {
    let app = spawn_federated().await;
    organizations(&app).await;
    let fake = FakeIdp::start().await;
    let b = fake.behaviour();
    let mut flags = vec!["--org-admin-exchange"];
    flags.extend(extra);
    org_provider(
        &app,
        "acme",
        "acme-sso",
        &fake.issuer(),
        (&b.client_id, &b.client_secret),
        &flags,
    );
    (app, fake)
}

/// An ID token of the fake for our client there (`iss`, `aud`, `sub`, `iat`, `exp` in
/// 300 s), `extra` merged over it (a `null` member removes a claim).
fn id_token(fake: &FakeIdp, extra: Value) -> String {
    let b = fake.behaviour();
    let now = unix_now();
    let base = json!({"iss": fake.issuer(), "aud": [b.client_id], "sub": b.sub,
                      "iat": now, "exp": now + 300});
    fake.jwt("JWT", merged(base, &extra))
}

/// What the fake says about an administrator of acme signed in as session `sid`.
fn admin_claims(sid: &str) -> Value {
    json!({"sid": sid, "org_id": "ext-acme", "org_role": "admin",
           "email": "alice@acme.test", "email_verified": true})
}

fn exchange_url(app: &TestApp, org: &str) -> String {
    app.url(&format!("/realms/demo/organizations/{org}/token-exchange"))
}

/// POSTs `body` as JSON to `org`'s exchange from `origin`.
async fn exchange(app: &TestApp, org: &str, origin: Option<&str>, body: Value) -> Response {
    let mut req = app.http.post(exchange_url(app, org)).json(&body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

/// The exchange of `id_token` at acme from [`ORIGIN`].
async fn exchange_id_token(app: &TestApp, id_token: &str) -> Response {
    exchange(app, "acme", Some(ORIGIN), json!({ "id_token": id_token })).await
}

/// A 200 answer with its credentials, readable by [`ORIGIN`]: the body.
async fn credentials(res: Response) -> Value {
    let status = res.status();
    assert_no_store(&res);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(header(&res, "vary").as_deref(), Some("Origin"));
    assert!(header(&res, "access-control-allow-credentials").is_none());
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    for k in [
        "access_token",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
        "registration_access_token",
        "registration_client_uri",
    ] {
        assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {v}");
    }
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_i64().unwrap() > 0);
    v
}

/// No `Access-Control-*` header at all.
fn assert_no_cors(res: &Response) {
    let cors: Vec<_> = res
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");
}

/// The status of `GET /admin/realms/demo/organizations/{org}/members` with `token`.
async fn org_api(app: &TestApp, token: &str, org: &str) -> StatusCode {
    app.http
        .get(app.url(&format!("/admin/realms/demo/organizations/{org}/members")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// An RFC 7592 request for the issued client `creds` with registration token `rat`.
async fn registration(app: &TestApp, method: Method, creds: &Value, rat: &str) -> Response {
    app.http
        .request(method, s(creds, "registration_client_uri"))
        .bearer_auth(rat)
        .send()
        .await
        .unwrap()
}

/// Polls `done` for up to 10 s (a back-channel logout arrives after the browser's answer).
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---- node-oidc-provider: the real upstream ---------------------------------------------

/// A server with the [`organizations`] and node-oidc-provider as acme's provider `peer`
/// for the exchange: its accounts are administrators of `ext-acme`, their ID tokens carry
/// the claims (and `sid`), and it sends its back-channel logouts to Tessera.
async fn with_node_peer() -> (TestApp, NodePeer) {
    let app = spawn_federated().await;
    organizations(&app).await;
    let logout = broker_logout_endpoint(&app, "demo", "peer");
    let peer = NodePeer::start(&[
        (
            "ACCOUNT_CLAIMS",
            r#"{"org_id":"ext-acme","org_role":"admin"}"#,
        ),
        ("CONFORM_ID_TOKEN_CLAIMS", "0"),
        ("BACKCHANNEL_LOGOUT_URI", &logout),
    ])
    .await;
    org_provider(
        &app,
        "acme",
        "peer",
        &peer.issuer(),
        (PEER_CLIENT, PEER_SECRET),
        &["--org-admin-exchange"],
    );
    (app, peer)
}

/// `login`'s ID token from node-oidc-provider (scope `openid email org`), signed in with
/// `agent` (whose session there it stays): an administrator of `ext-acme` with a `sid`.
async fn peer_id_token(app: &TestApp, peer: &NodePeer, agent: &mut Agent, login: &str) -> String {
    let id_token = peer
        .id_token_in(agent, app, login, "openid email org")
        .await;
    let c = claims(&id_token);
    assert_eq!(
        (&c["org_id"], &c["org_role"]),
        (&json!("ext-acme"), &json!("admin"))
    );
    assert!(c["sid"].is_string(), "{c}");
    id_token
}

#[tokio::test]
async fn node_peer_admin_gets_an_acme_client_whose_tokens_administer_acme_only_and_reuses_it() {
    let (app, peer) = with_node_peer().await;
    let mut agent = Agent::default();
    let id_token = peer_id_token(&app, &peer, &mut agent, "carol").await;
    let first = credentials(exchange_id_token(&app, &id_token).await).await;
    let scope = s(&first, "scope");
    assert!(scope.split(' ').any(|x| x == "tessera:admin"), "{scope}");

    // carol is now a managed member of acme with its admin role, and her token administers it.
    let token = s(&first, "access_token");
    assert_eq!(org_api(&app, &token, "acme").await, StatusCode::OK);
    let members = newcomers(&app).await;
    assert_eq!(members.len(), 1, "{members:?}");
    assert!(
        members[0]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin"))
    );
    // Another organization, even one carol administers too, is not this client's: 404.
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations/globex/members",
        Some(json!({ "user_id": claims(&token)["sub"], "roles": ["admin"] })),
    )
    .await;
    assert_eq!(org_api(&app, &token, "globex").await, StatusCode::NOT_FOUND);

    // The same person, session and origin reuse the client, with new credentials.
    let again = credentials(exchange_id_token(&app, &id_token).await).await;
    assert_eq!(again["client_id"], first["client_id"]);
    assert_ne!(again["client_secret"], first["client_secret"]);
    assert_ne!(
        again["registration_access_token"],
        first["registration_access_token"]
    );
    let old_rat = s(&first, "registration_access_token");
    let res = registration(&app, Method::GET, &first, &old_rat).await;
    assert_oauth_error(res, 401, "invalid_token").await;
    // RFC 7592: the client as the app manages it.
    let rat = s(&again, "registration_access_token");
    let info = ok_json(
        registration(&app, Method::GET, &again, &rat).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["client_id"], again["client_id"]);
    assert_eq!(info["client_name"], "admin.acme.test");
    assert_eq!(info["redirect_uris"], json!([format!("{ORIGIN}/callback")]));
    assert_eq!(
        info["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    // Its refresh token works with its new secret.
    let refreshed = app
        .post_basic(
            "demo",
            "token",
            &s(&again, "client_id"),
            &s(&again, "client_secret"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&again, "refresh_token")),
            ],
        )
        .await;
    let refreshed = ok_json(refreshed, StatusCode::OK).await;
    assert_eq!(
        org_api(&app, &s(&refreshed, "access_token"), "acme").await,
        StatusCode::OK
    );

    // Another origin of acme's gets a client of its own.
    let other = exchange(
        &app,
        "acme",
        Some("https://ops.acme.test"),
        json!({ "id_token": id_token }),
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
    let other: Value = other.json().await.unwrap();
    assert_ne!(other["client_id"], first["client_id"]);

    // RFC 7592 DELETE ends the client and its tokens.
    let res = registration(&app, Method::DELETE, &again, &rat).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        org_api(&app, &s(&again, "access_token"), "acme").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        org_api(&app, &s(&other, "access_token"), "acme").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn node_peer_session_end_deletes_the_clients_bound_to_that_session() {
    let (app, peer) = with_node_peer().await;
    let mut agent = Agent::default();
    let id_token = peer_id_token(&app, &peer, &mut agent, "dora").await;
    let creds = credentials(exchange_id_token(&app, &id_token).await).await;
    let rat = s(&creds, "registration_access_token");
    assert_eq!(
        registration(&app, Method::GET, &creds, &rat).await.status(),
        StatusCode::OK
    );
    peer.end_session(&mut agent, &app).await;
    eventually("the upstream logout deletes the client", || async {
        registration(&app, Method::GET, &creds, &rat).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert_eq!(
        org_api(&app, &s(&creds, "access_token"), "acme").await,
        StatusCode::UNAUTHORIZED
    );
    let res = app
        .post_basic(
            "demo",
            "token",
            &s(&creds, "client_id"),
            &s(&creds, "client_secret"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&creds, "refresh_token")),
            ],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

// ---- The hostile upstream --------------------------------------------------------------

#[tokio::test]
async fn upstream_logout_of_a_sid_deletes_its_clients_and_no_other() {
    let (app, fake) = with_fake(&[]).await;
    let one =
        credentials(exchange_id_token(&app, &id_token(&fake, admin_claims("s-1"))).await).await;
    let two =
        credentials(exchange_id_token(&app, &id_token(&fake, admin_claims("s-2"))).await).await;
    assert_ne!(one["client_id"], two["client_id"]);
    let logout = fake.logout_token(&fake.behaviour().client_id, None, Some("s-1"), json!({}));
    let res = post_logout_token(&app, "demo", "acme-sso", &logout).await;
    assert!(res.status().is_success(), "{}", res.status());
    for (creds, alive) in [(&one, false), (&two, true)] {
        let rat = s(creds, "registration_access_token");
        let status = registration(&app, Method::GET, creds, &rat).await.status();
        assert_eq!(status == StatusCode::OK, alive, "{status}");
        let status = org_api(&app, &s(creds, "access_token"), "acme").await;
        assert_eq!(status == StatusCode::OK, alive, "{status}");
    }
}

#[tokio::test]
async fn concurrent_first_exchanges_of_one_session_make_one_client() {
    let (app, fake) = with_fake(&[]).await;
    let token = id_token(&fake, admin_claims("s-1"));
    let (a, b) = tokio::join!(
        exchange_id_token(&app, &token),
        exchange_id_token(&app, &token)
    );
    let (a, b) = (credentials(a).await, credentials(b).await);
    assert_eq!(a["client_id"], b["client_id"]);
    // The one binding's client: the logout of the session finds it.
    let logout = fake.logout_token(&fake.behaviour().client_id, None, Some("s-1"), json!({}));
    let res = post_logout_token(&app, "demo", "acme-sso", &logout).await;
    assert!(res.status().is_success());
    for creds in [&a, &b] {
        let status = org_api(&app, &s(creds, "access_token"), "acme").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn an_id_token_of_another_organization_or_without_an_admin_role_is_access_denied() {
    let (app, fake) = with_fake(&[]).await;
    // initech's provider: the same issuer, but initech has no external id.
    let b = fake.behaviour();
    org_provider(
        &app,
        "initech",
        "initech-sso",
        &fake.issuer(),
        (&b.client_id, &b.client_secret),
        &["--org-admin-exchange"],
    );
    let with = |extra: Value| id_token(&fake, merged(admin_claims("s-1"), &extra));
    for (extra, why) in [
        (json!({"org_id": "ext-globex"}), "another organization"),
        (json!({"org_id": null}), "no organization claim"),
        (
            json!({"org_id": ["ext-acme"]}),
            "an array for the organization",
        ),
        (json!({"org_role": "member"}), "a member"),
        (
            json!({"org_role": ["member", "viewer"]}),
            "no admin role listed",
        ),
        (json!({"org_role": null}), "no role"),
        (json!({"org_role": {"admin": true}}), "a role object"),
    ] {
        let res = exchange_id_token(&app, &with(extra)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{why}");
        // The app may read why (its origin is acme's).
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some(ORIGIN)
        );
        let body = assert_oauth_error(res, 403, "access_denied").await;
        assert!(!body.to_string().contains("access_token"), "{why}: {body}");
    }
    // Without an external id, an organization accepts nothing.
    let res = exchange(
        &app,
        "initech",
        Some("https://admin.initech.test"),
        json!({ "id_token": with(json!({"org_id": "ext-initech", "email": "al@initech.test"})) }),
    )
    .await;
    assert_oauth_error(res, 403, "access_denied").await;
    // globex has no provider for the exchange: acme's administrator's token is not its.
    let res = exchange(
        &app,
        "globex",
        Some("https://admin.globex.test"),
        json!({ "id_token": with(json!({"org_id": "ext-globex"})) }),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    // An array of roles with one admin role, any case: accepted.
    let res = exchange_id_token(&app, &with(json!({"org_role": ["viewer", "OWNER"]}))).await;
    credentials(res).await;
    // Nobody else became anything in acme.
    assert_eq!(newcomers(&app).await.len(), 1);
}

/// An HS256 ID token "signed" with the provider's public RSA key as the HMAC secret (the
/// classic algorithm confusion, RFC 8725 §2.1).
fn hs256_id_token(fake: &FakeIdp, claims: Value) -> String {
    let jwks = fake.jwks();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwks.to_string().as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[tokio::test]
async fn xid_2_xid_3_xid_4_expired_foreign_hs256_unsigned_and_unknown_key_id_tokens_are_invalid_grant()
 {
    let (app, fake) = with_fake(&[]).await;
    let now = unix_now();
    let c = admin_claims("s-1");
    let b = fake.behaviour();
    let mut bad = vec![
        (
            id_token(
                &fake,
                merged(c.clone(), &json!({"iat": now - 4000, "exp": now - 3000})),
            ),
            "expired",
        ),
        (
            id_token(&fake, merged(c.clone(), &json!({"aud": ["someone-else"]}))),
            "another audience",
        ),
        (
            id_token(
                &fake,
                merged(c.clone(), &json!({"aud": [b.client_id, "other"]})),
            ),
            "several audiences without azp",
        ),
        (
            id_token(&fake, {
                let mut no_exp = c.clone();
                no_exp["exp"] = Value::Null;
                no_exp
            }),
            "no exp",
        ),
        (
            id_token(&fake, merged(c.clone(), &json!({"sid": null}))),
            "no sid",
        ),
        (
            id_token(
                &fake,
                merged(c.clone(), &json!({"iss": "https://other.test"})),
            ),
            "another issuer",
        ),
        (
            hs256_id_token(
                &fake,
                merged(
                    c.clone(),
                    &json!({"iss": fake.issuer(), "aud": [b.client_id], "sub": b.sub,
                            "iat": now, "exp": now + 300}),
                ),
            ),
            "HS256",
        ),
        ("x.y.z".to_owned(), "not a JWS"),
    ];
    fake.set(|b| b.alg = Alg::None);
    bad.push((id_token(&fake, c.clone()), "alg none"));
    fake.set(|b| {
        b.alg = Alg::Rs256;
        b.kid = Some("unknown-kid".into());
    });
    bad.push((id_token(&fake, c.clone()), "unknown kid"));
    fake.set(|b| {
        b.kid = None;
        b.foreign_key = true;
    });
    bad.push((id_token(&fake, c.clone()), "a key the JWKS does not serve"));
    for (token, why) in bad {
        let res = exchange_id_token(&app, &token).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{why}");
        let body = assert_oauth_error(res, 400, "invalid_grant").await;
        assert!(body.get("client_id").is_none(), "{why}: {body}");
    }
    // Nothing was created by any of them.
    assert_eq!(newcomers(&app).await, Vec::<Value>::new());
}

#[tokio::test]
async fn cors_allows_the_verified_domains_and_their_subdomains_only_and_no_other_endpoint() {
    let (app, fake) = with_fake(&[]).await;
    let preflight = |origin: &'static str, org: &'static str| {
        let app = &app;
        async move {
            app.http
                .request(Method::OPTIONS, exchange_url(app, org))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
                .await
                .unwrap()
        }
    };
    for origin in [ORIGIN, "https://acme.test", "https://a.b.acme.test:8443"] {
        let res = preflight(origin, "acme").await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert_eq!(
            header(&res, "access-control-allow-methods").as_deref(),
            Some("POST")
        );
        assert_eq!(
            header(&res, "access-control-allow-headers").as_deref(),
            Some("content-type")
        );
        assert_eq!(header(&res, "vary").as_deref(), Some("Origin"));
        assert!(header(&res, "access-control-allow-credentials").is_none());
    }
    for (origin, org) in [
        ("https://acme.test.evil.test", "acme"),
        ("https://evilacme.test", "acme"),
        ("https://admin.acme.test.", "acme"),
        ("null", "acme"),
        ("http://admin.acme.test", "acme"),
        ("https://admin.acme.test/", "acme"),
        ("https://127.0.0.1", "acme"),
        // Verified, but globex's.
        ("https://admin.globex.test", "acme"),
        ("https://admin.acme.test", "nosuchorg"),
        ("https://admin.acme.test", "NOT an alias"),
    ] {
        let res = preflight(origin, org).await;
        assert_no_cors(&res);
        assert_oauth_error(res, 403, "access_denied").await;
    }
    // The POST itself from a look-alike: 403 before the token is looked at, nothing issued.
    for origin in [
        "https://acme.test.evil.test",
        "https://evilacme.test",
        "null",
    ] {
        let res = exchange(
            &app,
            "acme",
            Some(origin),
            json!({ "id_token": id_token(&fake, admin_claims("s-1")) }),
        )
        .await;
        assert_no_cors(&res);
        assert_oauth_error(res, 403, "access_denied").await;
    }
    assert_eq!(newcomers(&app).await, Vec::<Value>::new());
    // No other endpoint answers with CORS, for acme's origin either.
    let token_ep = app.endpoint("demo", "token");
    let discovery = app.url("/realms/demo/.well-known/openid-configuration");
    for res in [
        app.http
            .request(Method::OPTIONS, &token_ep)
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap(),
        app.http
            .post(&token_ep)
            .header("origin", ORIGIN)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        app.http
            .get(&discovery)
            .header("origin", ORIGIN)
            .send()
            .await
            .unwrap(),
    ] {
        assert_no_cors(&res);
    }
}

#[tokio::test]
async fn malformed_requests_are_invalid_request_or_invalid_scope_and_never_a_server_error() {
    let (app, fake) = with_fake(&[]).await;
    let token = id_token(&fake, admin_claims("s-1"));
    let url = exchange_url(&app, "acme");
    // Without Origin: nothing names the app the client would be for.
    let res = exchange(&app, "acme", None, json!({ "id_token": token })).await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let raw = |ct: &'static str, body: Vec<u8>| {
        let (app, url) = (&app, &url);
        async move {
            app.http
                .post(url)
                .header("origin", ORIGIN)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for (ct, body) in [
        ("text/plain", token.clone().into_bytes()),
        ("application/json", b"not json".to_vec()),
        ("application/json", b"{}".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", br#"{"id_token": 5}"#.to_vec()),
        (
            "application/json",
            br#"{"id_token": "a", "extra": 1}"#.to_vec(),
        ),
        (
            "application/json",
            br#"{"id_token": "a", "scope": ["x"]}"#.to_vec(),
        ),
        ("application/json", vec![0xff, 0xfe]),
        (
            "application/json",
            json!({ "id_token": "a".repeat(17 * 1024) })
                .to_string()
                .into_bytes(),
        ),
        ("application/json", vec![b' '; 200 * 1024]),
        (
            "application/x-www-form-urlencoded",
            b"scope=openid".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"id_token=a&id_token=b".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"id_token=%ff".to_vec(),
        ),
    ] {
        let res = raw(ct, body).await;
        // Readable by the app: it learns what it got wrong.
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some(ORIGIN)
        );
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    for scope in ["offline_access", "tessera:admin profile", "\"x"] {
        let res = exchange(
            &app,
            "acme",
            Some(ORIGIN),
            json!({ "id_token": token, "scope": scope }),
        )
        .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }
    let res = app
        .http
        .get(&url)
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_no_cors(&res);
    // A subset of the scopes, form-encoded: accepted, and exactly that scope.
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("id_token", token.as_str()), ("scope", "tessera:admin")])
        .finish();
    let v = credentials(raw("application/x-www-form-urlencoded", form.into_bytes()).await).await;
    assert_eq!(v["scope"], "tessera:admin");
    assert_eq!(
        org_api(&app, &s(&v, "access_token"), "acme").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn client_creation_is_rate_limited_per_organization() {
    let (app, fake) = with_fake(&[]).await;
    for i in 0..10 {
        let res = exchange_id_token(&app, &id_token(&fake, admin_claims(&format!("s-{i}")))).await;
        assert_eq!(res.status(), StatusCode::OK, "exchange {i}");
    }
    let res = exchange_id_token(&app, &id_token(&fake, admin_claims("s-10"))).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_no_store(&res);
    // Reusing a session's client creates nothing: not limited.
    let res = exchange_id_token(&app, &id_token(&fake, admin_claims("s-0"))).await;
    credentials(res).await;
    // A minute later, clients are made again.
    app.clock.advance(61);
    let res = exchange_id_token(&app, &id_token(&fake, admin_claims("s-10"))).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn xid_8_a_disabled_user_or_organization_gets_nothing() {
    let (app, fake) = with_fake(&[]).await;
    let creds =
        credentials(exchange_id_token(&app, &id_token(&fake, admin_claims("s-1"))).await).await;
    let user = claims(&s(&creds, "access_token"))["sub"].clone();
    // XID-8: a disabled user.
    let path = format!("/admin/realms/demo/users/{}", user.as_str().unwrap());
    let rep = app.admin_ok(Method::GET, &path, None).await;
    app.admin_ok(
        Method::PUT,
        &path,
        Some(json!({"username": rep["username"], "email": rep["email"],
                    "email_verified": rep["email_verified"], "enabled": false})),
    )
    .await;
    let res = exchange_id_token(&app, &id_token(&fake, admin_claims("s-2"))).await;
    assert_oauth_error(res, 403, "access_denied").await;
    // A disabled organization: nobody gets anything.
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/organizations/acme",
        Some(json!({"alias": "acme", "name": "Acme", "external_id": "ext-acme", "enabled": false})),
    )
    .await;
    let mut bob = admin_claims("s-3");
    bob["email"] = "bob@acme.test".into();
    fake.set(|b| b.sub = "upstream-bob".into());
    let res = exchange_id_token(&app, &id_token(&fake, bob)).await;
    assert_oauth_error(res, 403, "access_denied").await;
}

#[tokio::test]
async fn xid_1_a_disabled_provider_or_one_not_marked_for_the_exchange_accepts_nothing() {
    // XID-1: the provider is disabled.
    let (app, fake) = with_fake(&["--disabled"]).await;
    let res = exchange_id_token(&app, &id_token(&fake, admin_claims("s-1"))).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    // Another provider of acme, for sign-in only.
    let other = FakeIdp::start().await;
    let b = other.behaviour();
    org_provider(
        &app,
        "acme",
        "acme-login",
        &other.issuer(),
        (&b.client_id, &b.client_secret),
        &[],
    );
    let res = exchange_id_token(&app, &id_token(&other, admin_claims("s-1"))).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn xid_5_the_domain_claim_must_be_a_verified_domain_of_the_organization() {
    let (app, fake) = with_fake(&["--org-domain-claim", "org_domain"]).await;
    let with = |domain: Value| {
        id_token(
            &fake,
            merged(admin_claims("s-1"), &json!({"org_domain": domain})),
        )
    };
    for domain in [
        json!("globex.test"),
        json!("evil.test"),
        json!(null),
        json!(["acme.test"]),
    ] {
        let res = exchange_id_token(&app, &with(domain)).await;
        assert_oauth_error(res, 403, "access_denied").await;
    }
    credentials(exchange_id_token(&app, &with(json!("acme.test"))).await).await;
}

// ---- A real browser --------------------------------------------------------------------

/// Loads `url` in headless Chromium, with `*.acme.test` names on loopback, and returns
/// the text of the page's `#out` once its script is done (virtual time waits for fetches).
async fn browser_result(chromium: &'static str, url: String) -> String {
    let profile = tempfile::tempdir().unwrap();
    let dir = profile.path().to_path_buf();
    // Off the test's runtime: the server under test runs on it.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--ignore-certificate-errors",
                "--host-resolver-rules=MAP admin.acme.test 127.0.0.1, MAP admin.acme.test.evil.test 127.0.0.1",
                "--virtual-time-budget=20000",
                "--timeout=30000",
            ])
            .arg(format!("--user-data-dir={}", dir.display()))
            .arg("--dump-dom")
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let start = dom.find("<pre id=\"out\">").unwrap_or_else(|| {
        panic!(
            "no result in the page:\n{dom}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rest = &dom[start + "<pre id=\"out\">".len()..];
    rest[..rest.find("</pre>").unwrap()].to_owned()
}

#[tokio::test]
async fn a_page_on_the_organization_domain_gets_credentials_and_a_look_alike_page_cannot() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED: chromium is not installed (Debian: apt-get install chromium chromium-driver)"
        );
        return;
    };
    let (app, fake) = with_fake(&[]).await;
    let id_token = id_token(&fake, admin_claims("s-1"));
    // The admin app: it POSTs the ID token as JSON (a preflighted request) and as a form
    // (a simple one, sent without preflight), and shows what it could read.
    let page = format!(
        r#"<!doctype html><html><body><pre id="out">pending</pre><script>
const url = {url};
const token = {token};
const show = (s) => {{ document.getElementById('out').textContent = s; }};
const read = (r) => r.json().then((j) => r.status + ':' + (j.client_id ? 'client' : j.error));
Promise.allSettled([
  fetch(url, {{ method: 'POST', headers: {{ 'content-type': 'application/json' }},
               body: JSON.stringify({{ id_token: token }}) }}).then(read),
  fetch(url, {{ method: 'POST', body: new URLSearchParams({{ id_token: token }}) }}).then(read),
]).then((all) => show(all.map((x) => x.status === 'fulfilled' ? x.value : 'failed').join(' ')));
</script></body></html>"#,
        url = json!(exchange_url(&app, "acme")),
        token = json!(id_token),
    );
    let port = https_page(page).await;

    let look_alike = browser_result(
        chromium,
        format!("https://admin.acme.test.evil.test:{port}/"),
    )
    .await;
    assert_eq!(look_alike, "failed failed");
    assert_eq!(
        newcomers(&app).await,
        Vec::<Value>::new(),
        "the look-alike got nothing issued"
    );

    let allowed = browser_result(chromium, format!("https://admin.acme.test:{port}/")).await;
    assert_eq!(allowed, "200:client 200:client");
}
