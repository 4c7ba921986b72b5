//! The ten findings of the hostile review, each driven as the attacker drove it, and the
//! behaviour that must hold instead (docs/security-cases.md, SEC-1 … SEC-10).

use crate::helpers::smtp::smtp_sink;
use crate::helpers::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Realm `realm`: organization `acme` (alice its admin), user `victim`; clients `console`
/// (an admin console), `thirdparty` (consent, `openid` only) and `console2` (an admin
/// console that asks for consent).
struct Fx {
    realm: String,
    console: Rp,
    thirdparty: Rp,
    console2: Rp,
    console_uuid: String,
    victim: String,
}

async fn fixture(app: &TestApp, realm: &str) -> Fx {
    fast_realm(app, realm).await;
    let client = |id: &str, extra: Value| {
        let mut body = json!({
            "client_id": id,
            "grant_types": ["authorization_code"],
            "redirect_uris": [REDIRECT],
            "scopes": ["openid", "profile", "email"],
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let (console_uuid, console_secret) = app
        .create_client(realm, client("console", json!({ "admin_console": true })))
        .await;
    let (_, tp_secret) = app
        .create_client(
            realm,
            client(
                "thirdparty",
                json!({ "consent_required": true, "scopes": ["openid", "tessera:admin"] }),
            ),
        )
        .await;
    let (_, c2_secret) = app
        .create_client(
            realm,
            client(
                "console2",
                json!({ "admin_console": true, "consent_required": true }),
            ),
        )
        .await;
    let alice = add_user(app, realm, "alice", PW).await;
    let victim = add_user(app, realm, "victim", PW).await;
    acme_administered_by(app, realm, &alice).await;
    Fx {
        realm: realm.into(),
        console: Rp::new(realm, "console", console_secret.as_deref(), REDIRECT),
        thirdparty: Rp::new(realm, "thirdparty", tp_secret.as_deref(), REDIRECT),
        console2: Rp::new(realm, "console2", c2_secret.as_deref(), REDIRECT),
        console_uuid,
        victim,
    }
}

/// alice signs in to `rp` with `scope` (consenting if asked): her access token.
async fn alice_token(app: &TestApp, rp: &Rp, scope: &str) -> String {
    let mut rp = rp.clone();
    rp.scope = scope.into();
    let mut agent = Agent::default();
    let cb = rp.login_consenting(app, &mut agent, "alice", PW, &[]).await;
    s(&rp.tokens(app, &cb["code"]).await, "access_token")
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    let mut req = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn sec_1_the_admin_api_takes_only_tokens_an_admin_console_got_with_the_admin_scope() {
    let app = spawn_app().await;
    let fx = fixture(&app, "sec-1").await;
    let members = format!("/admin/realms/{}/organizations/acme/members", fx.realm);
    let invitations = format!("/admin/realms/{}/organizations/acme/invitations", fx.realm);
    // A third-party app alice consented to for `openid` only.
    let foreign = alice_token(&app, &fx.thirdparty, "openid").await;
    for (method, path, body) in [
        (Method::GET, &members, None),
        (
            Method::POST,
            &invitations,
            Some(json!({ "email": "x@y.example", "roles": ["admin"] })),
        ),
    ] {
        let res = call(&app, method, path, &foreign, body).await;
        assert_eq!(res.status(), 401, "{path}");
    }
    // Even the console's token is no admin credential without the admin scope.
    let plain = alice_token(&app, &fx.console, "openid").await;
    assert_eq!(
        call(&app, Method::GET, &members, &plain, None)
            .await
            .status(),
        401
    );
    // A client that is no admin console cannot get the scope at all.
    let mut tp = fx.thirdparty.clone();
    tp.scope = "openid tessera:admin".into();
    let mut agent = Agent::default();
    let res = agent.get(&app, &tp.auth_url(&app, &[])).await;
    assert_eq!(tp.callback(&res)["error"], "invalid_scope");
    // Even a first-party console asks before it may administer (no silent grant).
    let mut console = fx.console.clone();
    console.scope = "openid tessera:admin".into();
    let mut agent = Agent::default();
    let page = console.sign_in(&app, &mut agent, "alice", PW, &[]).await;
    assert_eq!(page.status(), 200, "the consent page");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Manage the organizations")
    );
    let res = agent
        .get(&app, &console.auth_url(&app, &[("prompt", "none")]))
        .await;
    assert_eq!(console.callback(&res)["error"], "consent_required");
    // The console with the admin scope: the admin API as audience, members readable.
    let admin = alice_token(&app, &fx.console, "openid tessera:admin").await;
    let c = claims(&admin);
    assert!(
        c["aud"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("{PUBLIC_URL}/admin"))),
        "{c}"
    );
    assert_eq!(
        call(&app, Method::GET, &members, &admin, None)
            .await
            .status(),
        200
    );
    // Realm-wide administration stays 403 for an organization's administrator.
    let users = format!("/admin/realms/{}/users", fx.realm);
    assert_eq!(
        call(&app, Method::GET, &users, &admin, None).await.status(),
        403
    );
    // Withdrawing the setting ends the console's tokens' use at once.
    let client = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{}/clients/{}", fx.realm, fx.console_uuid),
            None,
        )
        .await;
    let mut body = json!({});
    for k in ["client_id", "redirect_uris", "grant_types", "scopes"] {
        body[k] = client[k].clone();
    }
    body["admin_console"] = json!(false);
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{}/clients/{}", fx.realm, fx.console_uuid),
        Some(body),
    )
    .await;
    assert_eq!(
        call(&app, Method::GET, &members, &admin, None)
            .await
            .status(),
        401
    );
    // A console that asks for consent says plainly that it will manage organizations.
    let mut c2 = fx.console2.clone();
    c2.scope = "openid tessera:admin".into();
    let mut agent = Agent::default();
    let page = c2.sign_in(&app, &mut agent, "alice", PW, &[]).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Manage the organizations you administer"),
        "{page}"
    );
}

/// Accepts an invitation link by creating an account; returns the page's answer.
async fn accept_new(app: &TestApp, realm: &str, link: &str, username: &str) -> Response {
    let path = link.strip_prefix(PUBLIC_URL).unwrap_or(link);
    let mut agent = Agent::default();
    let page = agent.get(app, &app.url(path)).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    let csrf = hidden(&body, "csrf").unwrap();
    let token = hidden(&body, "token").unwrap();
    agent
        .post(
            app,
            &app.url(&format!("/realms/{realm}/invitations/accept")),
            &[
                ("token", &token),
                ("csrf", &csrf),
                ("action", "create"),
                ("username", username),
                ("password", PW),
            ],
        )
        .await
}

async fn email_verified(app: &TestApp, realm: &str, username: &str) -> Value {
    let users = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{realm}/users?search={username}"),
            None,
        )
        .await;
    let u = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap()
        .clone();
    u["email_verified"].clone()
}

#[tokio::test]
async fn sec_2_an_invitation_verifies_an_email_only_when_the_link_was_mailed_to_it() {
    let app = spawn_app().await;
    let fx = fixture(&app, "sec-2").await;
    let invitations = format!("/admin/realms/{}/organizations/acme/invitations", fx.realm);
    let admin = alice_token(&app, &fx.console, "openid tessera:admin").await;
    // No SMTP: an organization's administrator gets no link, nothing is created.
    let res = call(
        &app,
        Method::POST,
        &invitations,
        &admin,
        Some(json!({ "email": "ceo@bigbank.example" })),
    )
    .await;
    let body = expect_status(res, StatusCode::CONFLICT).await;
    assert!(!body.contains("token="), "{body}");
    // A realm administrator may take the link; it does not verify the address.
    let v = app
        .admin_ok(
            Method::POST,
            &invitations,
            Some(json!({ "email": "handed@bigbank.example" })),
        )
        .await;
    assert_eq!(v["emailed"], false);
    let res = accept_new(&app, &fx.realm, &s(&v, "link"), "handed").await;
    assert_eq!(res.status(), 200);
    assert_eq!(email_verified(&app, &fx.realm, "handed").await, false);

    // With the realm's SMTP server, the link goes by e-mail and only there.
    let (port, mut inbox) = smtp_sink().await;
    let smtp = format!("/admin/realms/{}/smtp", fx.realm);
    let rep = app
        .admin_ok(
            Method::PUT,
            &smtp,
            Some(json!({
                "host": "127.0.0.1", "port": port, "security": "none",
                "username": "mailer", "password": "smtp-secret-7", "from": "no-reply@sec2.example",
            })),
        )
        .await;
    assert_eq!(rep["has_password"], true);
    assert!(rep.get("password").is_none());
    let shown = app.admin_ok(Method::GET, &smtp, None).await;
    assert!(!shown.to_string().contains("smtp-secret-7"));
    // The stored password never follows the settings to another server.
    let moved = app
        .admin_ok(
            Method::PUT,
            &smtp,
            Some(json!({
                "host": "localhost", "port": port, "security": "none",
                "username": "mailer", "from": "no-reply@sec2.example",
            })),
        )
        .await;
    assert_eq!(moved["has_password"], false);
    app.admin_ok(
        Method::PUT,
        &smtp,
        Some(json!({
            "host": "127.0.0.1", "port": port, "security": "none",
            "username": "mailer", "password": "smtp-secret-7", "from": "no-reply@sec2.example",
        })),
    )
    .await;
    // Plaintext SMTP only to a loopback server.
    let res = app
        .admin(
            Method::PUT,
            &smtp,
            Some(json!({ "host": "smtp.example.com", "security": "none", "from": "a@b.example" })),
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = call(
        &app,
        Method::POST,
        &invitations,
        &admin,
        Some(json!({ "email": "Mailed@BigBank.example" })),
    )
    .await;
    let v = ok_json(res, StatusCode::CREATED).await;
    assert!(v.get("link").is_none(), "{v}");
    assert_eq!(v["emailed"], true);
    let mail = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
        .await
        .expect("a message within 10 s")
        .unwrap();
    assert_eq!(mail.to, ["<Mailed@BigBank.example>"]);
    assert_eq!(mail.from, "<no-reply@sec2.example>");
    // The sealed password was opened for the realm and used.
    assert_eq!(mail.auth.as_deref(), Some("mailer:smtp-secret-7"));
    assert!(mail.data.contains("Acme"), "{}", mail.data);
    let link = mail
        .link()
        .unwrap_or_else(|| panic!("a link in {}", mail.data));
    let res = accept_new(&app, &fx.realm, &link, "mailed").await;
    assert_eq!(res.status(), 200);
    assert_eq!(email_verified(&app, &fx.realm, "mailed").await, true);
    // Only a bare address is mailed: a display-name form would reach someone else.
    let res = call(
        &app,
        Method::POST,
        &invitations,
        &admin,
        Some(json!({ "email": "victim<attacker@evil.example>" })),
    )
    .await;
    assert_eq!(res.status(), 400);
    // Resending e-mails a new link too; the first one is spent.
    let id = s(&v, "id");
    let res = call(
        &app,
        Method::POST,
        &format!("{invitations}/{id}/resend"),
        &admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(res.status(), 409, "accepted invitations are not resent");
}

#[tokio::test]
async fn sec_3_a_username_cannot_be_another_persons_email_nor_an_email_another_persons_username() {
    let app = spawn_app().await;
    fast_realm(&app, "sec-3").await;
    let users = "/admin/realms/sec-3/users";
    let create = |body: Value| app.admin(Method::POST, users, Some(body));
    let res =
        create(json!({ "username": "real", "email": "Victim@Victim.example", "password": PW }))
            .await;
    assert_eq!(res.status(), 201);
    // The attacker's username is the victim's address (after normalization).
    let res = create(json!({ "username": "victim@victim.example", "password": PW })).await;
    assert_oauth_error(res, 409, "conflict").await;
    // And the other way round: an address that is someone's username.
    let res = create(json!({ "username": "carol@x.example", "password": PW })).await;
    assert_eq!(res.status(), 201);
    let res =
        create(json!({ "username": "mallory", "email": "CAROL@x.example", "password": PW })).await;
    assert_oauth_error(res, 409, "conflict").await;
    // Renaming into the namespace is refused too.
    let res = create(json!({ "username": "mallory", "password": PW })).await;
    let mallory = s(&ok_json(res, StatusCode::CREATED).await, "id");
    let res = app
        .admin(
            Method::PUT,
            &format!("{users}/{mallory}"),
            Some(json!({ "username": "victim@victim.example" })),
        )
        .await;
    assert_oauth_error(res, 409, "conflict").await;
    // The owner signs in with the address.
    let (_, secret) = app
        .create_client(
            "sec-3",
            json!({ "client_id": "app", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT], "scopes": ["openid"] }),
        )
        .await;
    let rp = Rp::new("sec-3", "app", secret.as_deref(), REDIRECT);
    let mut agent = Agent::default();
    let cb = rp
        .login(
            &app,
            &mut agent,
            "Victim@Victim.example",
            PW,
            &[("scope", "openid")],
        )
        .await;
    assert!(cb.contains_key("code"), "{cb:?}");
}

#[tokio::test]
async fn sec_4_org_admins_cannot_add_or_seize_accounts_and_an_organization_deletes_only_its_own() {
    let app = spawn_app().await;
    let fx = fixture(&app, "sec-4").await;
    let admin = alice_token(&app, &fx.console, "openid tessera:admin").await;
    let members = format!("/admin/realms/{}/organizations/acme/members", fx.realm);
    for body in [
        json!({ "user_id": fx.victim, "managed": true }),
        json!({ "user_id": fx.victim }),
    ] {
        let res = call(&app, Method::POST, &members, &admin, Some(body)).await;
        assert_oauth_error(res, 403, "insufficient_scope").await;
    }
    app.admin_ok(
        Method::DELETE,
        &format!("/admin/realms/{}/organizations/acme", fx.realm),
        None,
    )
    .await;
    app.admin_ok(
        Method::GET,
        &format!("/admin/realms/{}/users/{}", fx.realm, fx.victim),
        None,
    )
    .await;
}

#[tokio::test]
async fn sec_5_the_actor_of_a_delegation_is_the_calling_client() {
    let app = spawn_app().await;
    let demo_app = app
        .admin_ok(Method::GET, "/admin/realms/demo/clients?limit=500", None)
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "demo-app")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/demo/clients/{demo_app}/exchange-policy"),
        Some(json!({ "audiences": ["demo-service"], "delegate": true })),
    )
    .await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let subject = s(&rp.tokens(&app, &cb["code"]).await, "access_token");
    let bystander = app.demo_token().await;
    let te = |actor: String| {
        let rp = rp.clone();
        let subject = subject.clone();
        let app = &app;
        async move {
            rp.token(
                app,
                &[
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("subject_token", &subject),
                    (
                        "subject_token_type",
                        "urn:ietf:params:oauth:token-type:access_token",
                    ),
                    ("actor_token", &actor),
                    (
                        "actor_token_type",
                        "urn:ietf:params:oauth:token-type:access_token",
                    ),
                ],
            )
            .await
        }
    };
    // demo-service took no part: its token cannot make it the actor.
    assert_oauth_error(te(bystander).await, 400, "invalid_request").await;
    // The caller's own token: the actor is the caller.
    let own = app
        .client_credentials("demo", "demo-app", &app.seeded("demo-app"))
        .await;
    let res = te(s(&own, "access_token")).await;
    let v = ok_json(res, StatusCode::OK).await;
    assert_eq!(
        claims(&s(&v, "access_token"))["act"]["client_id"],
        "demo-app"
    );
    let log = app
        .admin_ok(Method::GET, "/admin/realms/demo/token-exchanges", None)
        .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["client_id"] == "demo-app"),
        "{log}"
    );
}

#[tokio::test]
async fn sec_6_a_stalled_request_body_gets_408_and_its_connection_closes_while_others_are_served() {
    let app = spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let start = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut sock = TcpStream::connect(&addr).await.unwrap();
        sock.write_all(
            b"POST /realms/demo/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n\
              grant_type=",
        )
        .await
        .unwrap();
        stalled.push(sock);
    }
    // Meanwhile the server answers health and token requests at once.
    let t = Instant::now();
    let health = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    app.demo_token().await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // Every stalled connection is answered 408 and closed within the bound (about 10 s).
    let mut waits = Vec::new();
    for mut sock in stalled {
        waits.push(tokio::spawn(async move {
            let mut buf = Vec::new();
            let read =
                tokio::time::timeout(Duration::from_secs(20), sock.read_to_end(&mut buf)).await;
            (read.is_ok(), String::from_utf8_lossy(&buf).into_owned())
        }));
    }
    for w in waits {
        let (closed, answer) = w.await.unwrap();
        assert!(closed, "a stalled connection stayed open");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(16), "{took:?}");
}

#[tokio::test]
async fn sec_7_the_invitation_page_is_the_same_whether_or_not_the_address_has_an_account() {
    let app = spawn_app().await;
    let fx = fixture(&app, "sec-7").await;
    let invitations = format!("/admin/realms/{}/organizations/acme/invitations", fx.realm);
    let mut pages = Vec::new();
    // victim has an account (victim@sec-7.example); the other address has none.
    for email in ["victim@sec-7.example", "nobody@sec-7.example"] {
        let v = app
            .admin_ok(Method::POST, &invitations, Some(json!({ "email": email })))
            .await;
        let link = s(&v, "link");
        let token = link.split_once("token=").unwrap().1.to_owned();
        let mut agent = Agent::default();
        let page = agent
            .get(&app, &app.url(link.strip_prefix(PUBLIC_URL).unwrap()))
            .await;
        assert_eq!(page.status(), 200);
        let body = page.text().await.unwrap();
        let csrf = hidden(&body, "csrf").unwrap();
        pages.push(
            body.replace(&token, "T")
                .replace(&csrf, "C")
                .replace(email, "E"),
        );
    }
    assert_eq!(pages[0], pages[1]);
}

#[tokio::test]
async fn sec_8_only_a_real_port_makes_a_loopback_redirect_uri_match() {
    let app = spawn_app().await;
    let rp = Rp::demo_app(&app);
    for bad in [
        "http://127.0.0.1:99999999999999999999/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:-1/cb",
    ] {
        let res = app
            .http
            .get(rp.auth_url(&app, &[("redirect_uri", bad)]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert!(header(&res, "location").is_none(), "{bad}");
    }
    let res = app
        .http
        .get(rp.auth_url(&app, &[("redirect_uri", "http://127.0.0.1:65535/cb")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a real port is the loopback exception");
}

#[tokio::test]
async fn sec_9_pages_allow_only_our_scripts_styles_and_forms_and_send_no_referrer() {
    let app = spawn_app().await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let login = agent.get(&app, &rp.auth_url(&app, &[])).await;
    let csp = header(&login, "content-security-policy").unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self' http://127.0.0.1:9999",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert_eq!(header(&login, "referrer-policy").unwrap(), "no-referrer");
    // form_post: no inline script, the client's origin allowed as a form target.
    let state = hidden(&login.text().await.unwrap(), "state").unwrap();
    let res = rp
        .submit_login(&app, &mut agent, &state, "demo", &app.seeded("demo"))
        .await;
    assert_eq!(res.status(), 303);
    let fp = agent
        .get(&app, &rp.auth_url(&app, &[("response_mode", "form_post")]))
        .await;
    assert_eq!(fp.status(), 200);
    let csp = header(&fp, "content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9999"),
        "{csp}"
    );
    let page = fp.text().await.unwrap();
    assert!(
        !page.contains("onload") && !page.contains("<script>"),
        "{page}"
    );
    // Error pages and JSON answers: no referrer either.
    let err = app
        .http
        .get(app.endpoint("demo", "auth"))
        .send()
        .await
        .unwrap();
    assert!(
        header(&err, "content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(header(&err, "referrer-policy").unwrap(), "no-referrer");
    let disc = app
        .http
        .get(app.url("/realms/demo/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&disc, "referrer-policy").unwrap(), "no-referrer");
}

#[tokio::test]
async fn sec_10_malformed_requests_are_answered_and_counted_never_logged_as_errors() {
    let mut serve = ServeProcess::start(&[]).await;
    let (http, port) = (reqwest::Client::new(), serve.port);
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    for raw in [
        long_uri.as_bytes(),
        b"GET / HTTP/9.9\r\n\r\n".as_slice(),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".as_slice(),
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".as_slice(),
    ] {
        let mut sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let _ = sock.write_all(raw).await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut buf)).await;
        let answer = String::from_utf8_lossy(&buf);
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    }
    let metrics = http
        .get(format!("{}/metrics", serve.metrics_base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serve.kill();
    let log = serve.log();
    assert!(!log.contains("ERROR"), "{log}");
    assert!(
        metrics.contains("tessera_malformed_requests_total"),
        "{metrics}"
    );
}
