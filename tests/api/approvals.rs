//! Requests approved on another device (issue 17): the device authorization grant
//! (RFC 8628) and CIBA (poll and ping), driven over HTTP with the person's approval on
//! the real pages (`/realms/{realm}/device`, `/realms/{realm}/device/requests/{id}`).

use crate::helpers::smtp::smtp_sink;
use crate::helpers::*;
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, Ordering};

const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const CIBA: &str = "urn:openid:params:grant-type:ciba";
const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A realm `r` with user `alice` (verified `alice@r.example`), a public device client `tv`
/// and a confidential CIBA client `svc` (poll); `svc`'s secret.
async fn setup(app: &TestApp, r: &str) -> (String, String) {
    fast_realm(app, r).await;
    let alice = add_user(app, r, "alice", PW).await;
    app.create_client(
        r,
        json!({
            "client_id": "tv", "public": true, "name": "Living Room TV",
            "grant_types": [DEVICE, "refresh_token"],
            "scopes": ["openid", "profile", "offline_access", "organization"],
        }),
    )
    .await;
    let (_, secret) = app
        .create_client(
            r,
            json!({
                "client_id": "svc", "name": "Payments Service",
                "grant_types": [CIBA, TE],
                "scopes": ["openid", "profile"],
            }),
        )
        .await;
    (alice, secret.unwrap())
}

async fn device_authorization(app: &TestApp, r: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(app.endpoint(r, "auth/device"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn poll_device(app: &TestApp, r: &str, client: &str, code: &str) -> reqwest::Response {
    app.http
        .post(app.endpoint(r, "token"))
        .form(&[
            ("grant_type", DEVICE),
            ("client_id", client),
            ("device_code", code),
        ])
        .send()
        .await
        .unwrap()
}

async fn poll_ciba(app: &TestApp, r: &str, secret: &str, id: &str) -> reqwest::Response {
    app.post_basic(
        r,
        "token",
        "svc",
        secret,
        &[("grant_type", CIBA), ("auth_req_id", id)],
    )
    .await
}

/// Polls as `poll_device` does and expects the RFC 8628 §3.5 error `error` (HTTP 400).
async fn device_poll_says(app: &TestApp, r: &str, client: &str, code: &str, error: &str) {
    assert_oauth_error(poll_device(app, r, client, code).await, 400, error).await;
}

/// Polls as `poll_ciba` does and expects the CIBA Core §11 error `error` (HTTP 400).
async fn ciba_poll_says(app: &TestApp, r: &str, secret: &str, id: &str, error: &str) {
    assert_oauth_error(poll_ciba(app, r, secret, id).await, 400, error).await;
}

/// Starts a device request of `tv` and approves it as alice through the pages; the
/// device authorization response.
async fn approved_device(app: &TestApp, r: &str, scope: &str) -> Value {
    let d = ok_json(
        device_authorization(app, r, &[("client_id", "tv"), ("scope", scope)]).await,
        StatusCode::OK,
    )
    .await;
    approve_user_code(app, r, "alice", &s(&d, "user_code")).await;
    d
}

#[tokio::test]
async fn a_device_signs_in_once_the_person_approves_on_the_verification_page() {
    let app = spawn_app().await;
    let (alice, _) = setup(&app, "dv").await;
    let doc = app.discovery_document("dv").await;
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{}/protocol/openid-connect/auth/device", issuer("dv"))
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(DEVICE))
    );

    let res = device_authorization(
        &app,
        "dv",
        &[
            ("client_id", "tv"),
            ("scope", "openid profile offline_access"),
        ],
    )
    .await;
    assert_no_store(&res);
    let d = ok_json(res, StatusCode::OK).await;
    let user_code = s(&d, "user_code");
    assert!(
        user_code.len() == 9
            && user_code.chars().enumerate().all(|(i, c)| if i == 4 {
                c == '-'
            } else {
                "BCDFGHJKLMNPQRSTVWXZ".contains(c)
            }),
        "{user_code}"
    );
    assert_eq!(d["verification_uri"], format!("{}/device", issuer("dv")));
    assert_eq!(
        d["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", issuer("dv"))
    );
    assert_eq!(
        (d["expires_in"].as_i64(), d["interval"].as_i64()),
        (Some(600), Some(5))
    );
    let code = s(&d, "device_code");

    let res = poll_device(&app, "dv", "tv", &code).await;
    assert_no_store(&res);
    assert_oauth_error(res, 400, "authorization_pending").await;
    // Polling again at once is too fast: slow_down, and the interval grows by 5 s.
    device_poll_says(&app, "dv", "tv", &code, "slow_down").await;
    app.clock.advance(5);
    device_poll_says(&app, "dv", "tv", &code, "slow_down").await;
    // Now 15 s: counted from the last (refused) poll.
    app.clock.advance(15);
    device_poll_says(&app, "dv", "tv", &code, "authorization_pending").await;

    // The person opens the complete URI on their phone, signs in, and finds the code filled in.
    let mut phone = Agent::default();
    let (status, page) = open_signed_in(
        &app,
        &mut phone,
        "dv",
        &local_url(&app, &s(&d, "verification_uri_complete")),
        "alice",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("value=\"{user_code}\"")), "{page}");
    // Typed in lower case and without the dash, it is the same code.
    let typed = user_code.replace('-', "").to_lowercase();
    let res = enter_code(&app, &mut phone, "dv", &page, &typed).await;
    let approval = expect_status(res, StatusCode::OK).await;
    assert!(
        approval.contains("Living Room TV") && approval.contains(&user_code),
        "{approval}"
    );
    let res = decide(&app, &mut phone, "dv", &approval, "allow").await;
    assert!(
        expect_status(res, StatusCode::OK)
            .await
            .contains("go back to your device")
    );
    // The same page answered twice changes nothing more.
    let res = decide(&app, &mut phone, "dv", &approval, "deny").await;
    expect_status(res, StatusCode::NOT_FOUND).await;

    app.clock.advance(15);
    let t = ok_json(poll_device(&app, "dv", "tv", &code).await, StatusCode::OK).await;
    let id = claims(&s(&t, "id_token"));
    assert_eq!(
        (id["sub"].as_str(), id["aud"].as_str()),
        (Some(alice.as_str()), Some("tv"))
    );
    assert_eq!(claims(&s(&t, "access_token"))["client_id"], "tv");
    assert!(t["refresh_token"].is_string(), "{t}");
    // Redeemed once.
    app.clock.advance(15);
    device_poll_says(&app, "dv", "tv", &code, "invalid_grant").await;
    // An ordinary grant: its refresh token works.
    let res = app
        .http
        .post(app.endpoint("dv", "token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "tv"),
            ("refresh_token", &s(&t, "refresh_token")),
        ])
        .send()
        .await
        .unwrap();
    ok_json(res, StatusCode::OK).await;
    // The audit log names the request, the client and how the person signed in.
    app.provider.flush_audit_log().await.unwrap();
    let events = app
        .admin_ok(Method::GET, "/admin/realms/dv/events?kind=security", None)
        .await;
    let approve = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "approve")
        .unwrap_or_else(|| panic!("{events}"));
    assert!(
        s(approve, "target").contains("device request")
            && s(approve, "target").contains("client tv"),
        "{approve}"
    );
    assert_eq!(approve["source"], "password");
}

#[tokio::test]
async fn a_denied_an_expired_and_another_clients_device_code_each_get_their_error() {
    let app = spawn_app().await;
    setup(&app, "dx").await;
    app.create_client("dx", json!({ "client_id": "radio", "public": true, "grant_types": [DEVICE], "scopes": ["openid"] }))
        .await;
    // A client without the grant may not start one.
    assert_oauth_error(
        device_authorization(&app, "dx", &[("client_id", "radio-x")]).await,
        401,
        "invalid_client",
    )
    .await;
    app.create_client(
        "dx",
        json!({ "client_id": "web", "public": true, "redirect_uris": [REDIRECT] }),
    )
    .await;
    assert_oauth_error(
        device_authorization(&app, "dx", &[("client_id", "web")]).await,
        400,
        "unauthorized_client",
    )
    .await;
    assert_oauth_error(
        device_authorization(
            &app,
            "dx",
            &[("client_id", "tv"), ("scope", "openid admin")],
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;

    // Denied.
    let d = ok_json(
        device_authorization(&app, "dx", &[("client_id", "tv"), ("scope", "openid")]).await,
        StatusCode::OK,
    )
    .await;
    let mut phone = Agent::default();
    let (_, page) = open_signed_in(
        &app,
        &mut phone,
        "dx",
        &app.url("/realms/dx/device"),
        "alice",
    )
    .await;
    let page = expect_status(
        enter_code(&app, &mut phone, "dx", &page, &s(&d, "user_code")).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        expect_status(
            decide(&app, &mut phone, "dx", &page, "deny").await,
            StatusCode::OK
        )
        .await
        .contains("Denied")
    );
    // Another client learns nothing about it, and its poll does not count against the device.
    device_poll_says(&app, "dx", "radio", &s(&d, "device_code"), "invalid_grant").await;
    device_poll_says(&app, "dx", "tv", &s(&d, "device_code"), "access_denied").await;

    // Expired: neither the page nor the token endpoint takes it any more.
    let e = ok_json(
        device_authorization(&app, "dx", &[("client_id", "tv")]).await,
        StatusCode::OK,
    )
    .await;
    app.clock.advance(601);
    let (_, page) = open_signed_in(
        &app,
        &mut phone,
        "dx",
        &app.url("/realms/dx/device"),
        "alice",
    )
    .await;
    let res = enter_code(&app, &mut phone, "dx", &page, &s(&e, "user_code")).await;
    assert!(
        expect_status(res, StatusCode::BAD_REQUEST)
            .await
            .contains("not valid or has expired")
    );
    device_poll_says(&app, "dx", "tv", &s(&e, "device_code"), "expired_token").await;
    device_poll_says(&app, "dx", "tv", "not-a-device-code", "invalid_grant").await;
}

#[tokio::test]
async fn parallel_polls_on_three_servers_redeem_an_approved_device_code_exactly_once() {
    let app = spawn_app().await;
    setup(&app, "dp").await;
    let d = approved_device(&app, "dp", "openid").await;
    let replicas = [spawn_replica(&app).await, spawn_replica(&app).await];
    let servers = [&app, &replicas[0], &replicas[1]];
    let code = s(&d, "device_code");
    let polls = servers.iter().flat_map(|a| {
        [
            poll_device(a, "dp", "tv", &code),
            poll_device(a, "dp", "tv", &code),
        ]
    });
    let answers = futures::future::join_all(polls).await;
    let ok = answers
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 1, "exactly one poll gets the tokens");
}

/// A server answers a device it already read as pending from memory; an approval given
/// through another server reaches it through the change log, not after a cache lifetime.
#[tokio::test]
async fn a_server_that_read_a_device_code_as_pending_hands_out_the_tokens_once_another_approves() {
    let app = spawn_app().await;
    setup(&app, "dm").await;
    app.create_client("dm", json!({ "client_id": "radio", "public": true, "grant_types": [DEVICE], "scopes": ["openid"] }))
        .await;
    let replica = spawn_replica(&app).await;
    let d = ok_json(
        device_authorization(&app, "dm", &[("client_id", "tv"), ("scope", "openid")]).await,
        StatusCode::OK,
    )
    .await;
    let code = s(&d, "device_code");
    for server in [&app, &replica] {
        for _ in 0..2 {
            server.clock.advance(5);
            device_poll_says(server, "dm", "tv", &code, "authorization_pending").await;
        }
    }
    // Kept per request: another client polling this code learns nothing, from memory too.
    device_poll_says(&replica, "dm", "radio", &code, "invalid_grant").await;

    approve_user_code(&app, "dm", "alice", &s(&d, "user_code")).await;
    // Four polls at the interval, 2 s in all: well within the 30 s after which a pending
    // answer is read again anyway, so only the change log can have told the replica.
    let mut tokens = None;
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        replica.clock.advance(5);
        let res = poll_device(&replica, "dm", "tv", &code).await;
        if res.status() == StatusCode::OK {
            tokens = Some(res.json::<Value>().await.unwrap());
            break;
        }
        assert_oauth_error(res, 400, "authorization_pending").await;
    }
    let tokens = tokens.expect("the replica still answers pending 2 s after the approval");
    assert!(tokens["access_token"].is_string());
    // The deciding server forgot at once: its next poll hears the code was used.
    app.clock.advance(5);
    device_poll_says(&app, "dm", "tv", &code, "invalid_grant").await;
}

#[tokio::test]
async fn guessing_user_codes_is_limited_per_person() {
    let app = spawn_app().await;
    setup(&app, "dg").await;
    let d = ok_json(
        device_authorization(&app, "dg", &[("client_id", "tv")]).await,
        StatusCode::OK,
    )
    .await;
    let mut phone = Agent::default();
    let (_, mut page) = open_signed_in(
        &app,
        &mut phone,
        "dg",
        &app.url("/realms/dg/device"),
        "alice",
    )
    .await;
    for guess in [
        "BBBB-BBBB",
        "CCCC-CCCC",
        "nonsense",
        "DDDD-DDDD",
        "FFFF-FFFF",
    ] {
        let res = enter_code(&app, &mut phone, "dg", &page, guess).await;
        page = expect_status(res, StatusCode::BAD_REQUEST).await;
    }
    // The sixth try is refused before the code is looked at, even the right one.
    let res = enter_code(&app, &mut phone, "dg", &page, &s(&d, "user_code")).await;
    assert_eq!(header(&res, "retry-after").as_deref(), Some("60"));
    expect_status(res, StatusCode::TOO_MANY_REQUESTS).await;
    app.clock.advance(60);
    let res = enter_code(&app, &mut phone, "dg", &page, &s(&d, "user_code")).await;
    assert!(
        expect_status(res, StatusCode::OK)
            .await
            .contains("Living Room TV")
    );
}

/// What a notification endpoint received (`(authorization, body)`) and the status it answers.
type Pings = web::Data<(Mutex<Vec<(String, String)>>, AtomicU16)>;

/// A CIBA client's notification endpoint: records `(authorization, body)`, answers `status`.
struct PingEndpoint {
    url: String,
    got: Pings,
    _handle: ServerHandle,
}

async fn ping_endpoint(status: u16) -> PingEndpoint {
    async fn take(req: HttpRequest, body: String, s: Pings) -> HttpResponse {
        let auth = header_of(&req, "authorization");
        s.0.lock().unwrap().push((auth, body));
        HttpResponse::build(
            actix_web::http::StatusCode::from_u16(s.1.load(Ordering::SeqCst)).unwrap(),
        )
        .finish()
    }
    fn header_of(req: &HttpRequest, name: &str) -> String {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
    let got = web::Data::new((Mutex::new(vec![]), AtomicU16::new(status)));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/ping",
        listener.local_addr().unwrap().port()
    );
    let data = got.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/ping", web::post().to(take))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    PingEndpoint {
        url,
        got,
        _handle: handle,
    }
}

impl PingEndpoint {
    /// Waits until `n` notifications arrived; what arrived.
    async fn received(&self, n: usize) -> Vec<(String, String)> {
        for _ in 0..100 {
            if self.got.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.got.0.lock().unwrap().clone()
    }
}

/// The page of the realm's newest waiting request (as the console lists them), opened
/// in `agent` signed in as `user`.
async fn newest_request_page(app: &TestApp, agent: &mut Agent, r: &str, user: &str) -> String {
    let list = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{r}/approval-requests"),
            None,
        )
        .await;
    let id = s(&list["items"][0], "id");
    let url = app.url(&format!("/realms/{r}/device/requests/{id}"));
    let (status, page) = open_signed_in(app, agent, r, &url, user).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

async fn ciba_auth(
    app: &TestApp,
    r: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.post_basic(r, "ext/ciba/auth", "svc", secret, form)
        .await
}

#[tokio::test]
async fn a_ciba_client_acts_for_the_person_after_they_approve_from_the_mailed_link() {
    let app = spawn_app().await;
    let (alice, secret) = setup(&app, "cb").await;
    let (port, mut inbox) = smtp_sink().await;
    app.admin_ok(
        Method::PUT,
        "/admin/realms/cb/smtp",
        Some(json!({ "host": "127.0.0.1", "port": port, "security": "none", "from": "no-reply@cb.test" })),
    )
    .await;
    let doc = app.discovery_document("cb").await;
    assert_eq!(
        doc["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping"])
    );
    assert_eq!(
        doc["backchannel_user_code_parameter_supported"],
        json!(false)
    );

    let res = ciba_auth(
        &app,
        "cb",
        &secret,
        &[
            ("scope", "openid profile"),
            ("login_hint", "alice@cb.example"),
            ("binding_message", "Pay 12 EUR to ACME"),
        ],
    )
    .await;
    assert_no_store(&res);
    let a = ok_json(res, StatusCode::OK).await;
    assert_eq!(
        (a["expires_in"].as_i64(), a["interval"].as_i64()),
        (Some(300), Some(5))
    );
    let id = s(&a, "auth_req_id");
    ciba_poll_says(&app, "cb", &secret, &id, "authorization_pending").await;

    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        mail.data.contains("Pay 12 EUR to ACME") && mail.data.contains("Payments Service"),
        "{}",
        mail.data
    );
    let link = mail.link().unwrap();
    assert!(link.contains("/realms/cb/device/requests/"), "{link}");

    // Someone else signed in sees nothing of it.
    add_user(&app, "cb", "mallory", PW).await;
    let mut other = Agent::default();
    let (status, _) =
        open_signed_in(&app, &mut other, "cb", &local_url(&app, &link), "mallory").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut phone = Agent::default();
    let (status, page) =
        open_signed_in(&app, &mut phone, "cb", &local_url(&app, &link), "alice").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Pay 12 EUR to ACME") && page.contains("Payments Service"),
        "{page}"
    );
    // The account page lists the waiting request too.
    let account = expect_status(
        phone.get(&app, &app.url("/realms/cb/account")).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        account.contains("Payments Service") && account.contains("/device/requests/"),
        "{account}"
    );
    assert!(
        expect_status(
            decide(&app, &mut phone, "cb", &page, "allow").await,
            StatusCode::OK
        )
        .await
        .contains("Allowed")
    );

    app.clock.advance(5);
    let t = ok_json(poll_ciba(&app, "cb", &secret, &id).await, StatusCode::OK).await;
    let at = claims(&s(&t, "access_token"));
    assert_eq!(
        (at["sub"].as_str(), at["client_id"].as_str()),
        (Some(alice.as_str()), Some("svc"))
    );
    assert_eq!(claims(&s(&t, "id_token"))["sub"], alice.as_str());
    assert!(
        t["refresh_token"].is_null(),
        "no refresh token: the client has no refresh grant"
    );
    // An ordinary grant of svc: under its exchange policy it acts for alice downstream.
    app.create_client("cb", json!({ "client_id": "orders", "scopes": ["openid"] }))
        .await;
    let clients = app
        .admin_ok(Method::GET, "/admin/realms/cb/clients", None)
        .await;
    let svc = clients["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "svc")
        .unwrap();
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/cb/clients/{}/exchange-policy", s(svc, "id")),
        Some(json!({ "subject_token_types": [AT], "audiences": ["orders"] })),
    )
    .await;
    let res = app
        .post_basic(
            "cb",
            "token",
            "svc",
            &secret,
            &[
                ("grant_type", TE),
                ("subject_token", &s(&t, "access_token")),
                ("subject_token_type", AT),
                ("audience", "orders"),
            ],
        )
        .await;
    let x = claims(&s(&ok_json(res, StatusCode::OK).await, "access_token"));
    assert_eq!(
        (x["sub"].as_str(), x["client_id"].as_str()),
        (Some(alice.as_str()), Some("svc"))
    );
    assert!(
        x["aud"] == json!("orders")
            || x["aud"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("orders"))),
        "{x}"
    );
    app.provider.flush_audit_log().await.unwrap();
    let events = app
        .admin_ok(Method::GET, "/admin/realms/cb/events?kind=security", None)
        .await;
    let approve = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "approve")
        .unwrap()
        .clone();
    assert!(
        s(&approve, "target").contains("Pay 12 EUR to ACME")
            && s(&approve, "target").contains("ciba request"),
        "{approve}"
    );
}

#[tokio::test]
async fn ciba_requests_are_refused_with_the_codes_of_ciba_core() {
    let app = spawn_app().await;
    let (_, secret) = setup(&app, "ce").await;
    fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        [("scope", "openid")].iter().chain(extra).copied().collect()
    }
    for (form, status, code) in [
        (with(&[("login_hint", "nobody")]), 400, "unknown_user_id"),
        (with(&[]), 400, "invalid_request"),
        (
            with(&[("login_hint", "alice"), ("id_token_hint", "x.y.z")]),
            400,
            "invalid_request",
        ),
        (
            vec![("scope", "profile"), ("login_hint", "alice")],
            400,
            "invalid_request",
        ),
        (
            with(&[("login_hint", "alice"), ("binding_message", "line\nbreak")]),
            400,
            "invalid_binding_message",
        ),
        (
            with(&[("login_hint", "alice"), ("requested_expiry", "-5")]),
            400,
            "invalid_request",
        ),
        (
            with(&[("login_hint", "alice"), ("login_hint_token", "a.b.c")]),
            400,
            "invalid_request",
        ),
        (
            with(&[("login_hint_token", "a.b.c")]),
            400,
            "invalid_request",
        ),
        (
            vec![("scope", "openid email"), ("login_hint", "alice")],
            400,
            "invalid_scope",
        ),
    ] {
        let res = ciba_auth(&app, "ce", &secret, &form).await;
        let body = assert_oauth_error(res, status, code).await;
        assert!(!s(&body, "error_description").contains("alice"), "{body}");
    }
    // A disabled person is as unknown as nobody.
    let bob = add_user(&app, "ce", "bob", PW).await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/ce/users/{bob}"),
        Some(json!({ "username": "bob", "enabled": false })),
    )
    .await;
    assert_oauth_error(
        ciba_auth(&app, "ce", &secret, &with(&[("login_hint", "bob")])).await,
        400,
        "unknown_user_id",
    )
    .await;
    // Only confidential clients allowed the grant; only the client that asked polls.
    let (_, other) = app
        .create_client("ce", json!({ "client_id": "other", "grant_types": ["client_credentials", CIBA], "scopes": ["openid"] }))
        .await;
    let other = other.unwrap();
    let a = ok_json(
        ciba_auth(&app, "ce", &secret, &with(&[("login_hint", "alice")])).await,
        StatusCode::OK,
    )
    .await;
    let res = app
        .post_basic(
            "ce",
            "token",
            "other",
            &other,
            &[("grant_type", CIBA), ("auth_req_id", &s(&a, "auth_req_id"))],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    ciba_poll_says(
        &app,
        "ce",
        &secret,
        &s(&a, "auth_req_id"),
        "authorization_pending",
    )
    .await;
    // An unanswered request expires.
    app.clock.advance(301);
    ciba_poll_says(&app, "ce", &secret, &s(&a, "auth_req_id"), "expired_token").await;
    let (_, cc) = app
        .create_client(
            "ce",
            json!({ "client_id": "cc", "grant_types": ["client_credentials"] }),
        )
        .await;
    let res = app
        .post_basic(
            "ce",
            "ext/ciba/auth",
            "cc",
            &cc.unwrap(),
            &with(&[("login_hint", "alice")]),
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/ce/clients",
            Some(json!({ "client_id": "pub", "public": true, "grant_types": [CIBA] })),
        )
        .await;
    expect_status(res, StatusCode::BAD_REQUEST).await;
    // The person's ID token (issued to this client) is a hint; another client's is not.
    let d = approved_device(&app, "ce", "openid").await;
    app.clock.advance(5);
    let t = ok_json(
        poll_device(&app, "ce", "tv", &s(&d, "device_code")).await,
        StatusCode::OK,
    )
    .await;
    let hint = s(&t, "id_token");
    let res = ciba_auth(&app, "ce", &secret, &with(&[("id_token_hint", &hint)])).await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_ping_client_is_told_of_the_decision_and_polls_when_its_endpoint_fails() {
    let app = spawn_app().await;
    let (_, _) = setup(&app, "cp").await;
    let good = ping_endpoint(204).await;
    let (_, secret) = app
        .create_client(
            "cp",
            json!({
                "client_id": "pinged", "name": "Pinged Service", "grant_types": [CIBA], "scopes": ["openid"],
                "backchannel_token_delivery_mode": "ping",
                "backchannel_client_notification_endpoint": good.url,
            }),
        )
        .await;
    let secret = secret.unwrap();
    let start = |token: &'static str| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let mut form = vec![("scope", "openid"), ("login_hint", "alice")];
            if !token.is_empty() {
                form.push(("client_notification_token", token));
            }
            app.post_basic("cp", "ext/ciba/auth", "pinged", &secret, &form)
                .await
        }
    };
    // A ping client must send its notification token.
    assert_oauth_error(start("").await, 400, "invalid_request").await;
    let a = ok_json(start("notify-me-8f2c").await, StatusCode::OK).await;
    let id = s(&a, "auth_req_id");
    // A second server has read the request as pending; the ping may send the client there.
    let replica = spawn_replica(&app).await;
    let poll_replica = || async {
        replica.clock.advance(5);
        replica
            .post_basic(
                "cp",
                "token",
                "pinged",
                &secret,
                &[("grant_type", CIBA), ("auth_req_id", &id)],
            )
            .await
    };
    assert_oauth_error(poll_replica().await, 400, "authorization_pending").await;
    let mut phone = Agent::default();
    let page = newest_request_page(&app, &mut phone, "cp", "alice").await;
    assert!(
        expect_status(
            decide(&app, &mut phone, "cp", &page, "allow").await,
            StatusCode::OK
        )
        .await
        .contains("Allowed")
    );
    let got = good.received(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "Bearer notify-me-8f2c");
    assert_eq!(
        serde_json::from_str::<Value>(&got[0].1).unwrap(),
        json!({ "auth_req_id": id })
    );
    // At once after the ping: never a pending answer kept from before the decision.
    ok_json(poll_replica().await, StatusCode::OK).await;

    // An endpoint that keeps failing is tried three times; the client still polls.
    good.got.1.store(503, Ordering::SeqCst);
    let a = ok_json(start("notify-me-again").await, StatusCode::OK).await;
    let page = newest_request_page(&app, &mut phone, "cp", "alice").await;
    expect_status(
        decide(&app, &mut phone, "cp", &page, "deny").await,
        StatusCode::OK,
    )
    .await;
    let got = good.received(4).await;
    assert_eq!(
        got.len(),
        4,
        "one ping, then three tries of the failing one"
    );
    let res = app
        .post_basic(
            "cp",
            "token",
            "pinged",
            &secret,
            &[("grant_type", CIBA), ("auth_req_id", &s(&a, "auth_req_id"))],
        )
        .await;
    assert_oauth_error(res, 400, "access_denied").await;
}

#[tokio::test]
async fn realm_administrators_see_waiting_requests_but_never_their_codes() {
    let app = spawn_app().await;
    let (_, secret) = setup(&app, "ca").await;
    let d = ok_json(
        device_authorization(&app, "ca", &[("client_id", "tv")]).await,
        StatusCode::OK,
    )
    .await;
    let form = [
        ("scope", "openid"),
        ("login_hint", "alice"),
        ("binding_message", "Order 4711"),
    ];
    let a = ok_json(ciba_auth(&app, "ca", &secret, &form).await, StatusCode::OK).await;
    let list = app
        .admin_ok(Method::GET, "/admin/realms/ca/approval-requests", None)
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(
        (items[0]["kind"].as_str(), items[0]["username"].as_str()),
        (Some("ciba"), Some("alice"))
    );
    assert_eq!(items[0]["binding_message"], "Order 4711");
    assert_eq!(
        (items[1]["kind"].as_str(), items[1]["client_id"].as_str()),
        (Some("device"), Some("tv"))
    );
    let text = list.to_string();
    for secret in [
        s(&d, "device_code"),
        s(&d, "user_code"),
        s(&a, "auth_req_id"),
    ] {
        assert!(!text.contains(&secret), "{text}");
    }
    // Decided requests leave the list.
    let mut phone = Agent::default();
    let (_, page) = open_signed_in(
        &app,
        &mut phone,
        "ca",
        &app.url(&format!(
            "/realms/ca/device/requests/{}",
            s(&items[0], "id")
        )),
        "alice",
    )
    .await;
    expect_status(
        decide(&app, &mut phone, "ca", &page, "deny").await,
        StatusCode::OK,
    )
    .await;
    let list = app
        .admin_ok(Method::GET, "/admin/realms/ca/approval-requests", None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // An organization's administrator is no realm administrator.
    let bob = add_user(&app, "ca", "bob", PW).await;
    acme_administered_by(&app, "ca", &bob).await;
    let token = console_token(&app, "ca", "bob").await;
    let res = app
        .http
        .get(app.url("/admin/realms/ca/approval-requests"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_cli_sets_a_clients_ciba_delivery_and_the_realms_lifetimes_and_intervals() {
    let app = spawn_app().await;
    fast_realm(&app, "cl").await;
    let out = app.cli(&[
        "client",
        "create",
        "--realm",
        "cl",
        "--client-id",
        "svc",
        "--grant-type",
        CIBA,
        "--ciba-delivery-mode",
        "ping",
        "--ciba-notification-endpoint",
        "https://svc.example/ciba",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ping to https://svc.example/ciba"));
    let out = app.cli(&[
        "client",
        "update",
        "--realm",
        "cl",
        "--client-id",
        "svc",
        "--ciba-delivery-mode",
        "poll",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clients = app
        .admin_ok(Method::GET, "/admin/realms/cl/clients", None)
        .await;
    let svc = clients["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "svc")
        .unwrap();
    assert_eq!(svc["backchannel_token_delivery_mode"], "poll");
    assert!(
        svc["backchannel_client_notification_endpoint"].is_null(),
        "{svc}"
    );
    // Ping without an endpoint, and a public CIBA client, are refused.
    let out = app.cli(&[
        "client",
        "create",
        "--realm",
        "cl",
        "--client-id",
        "bad",
        "--grant-type",
        CIBA,
        "--ciba-delivery-mode",
        "ping",
    ]);
    assert!(!out.status.success());
    let out = app.cli(&[
        "client",
        "create",
        "--realm",
        "cl",
        "--client-id",
        "pub",
        "--public",
        "--grant-type",
        CIBA,
    ]);
    assert!(!out.status.success());

    let out = app.cli(&[
        "realm",
        "update",
        "cl",
        "--device-code-lifetime",
        "900",
        "--device-poll-interval",
        "7",
        "--ciba-lifetime",
        "120",
        "--ciba-poll-interval",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The CLI is another process: the server hears of the change through the change log.
    let mut r = Value::Null;
    for _ in 0..40 {
        r = app.admin_ok(Method::GET, "/admin/realms/cl", None).await;
        if r["device_poll_interval_secs"] == 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (
            &r["device_code_lifetime_secs"],
            &r["device_poll_interval_secs"],
            &r["ciba_lifetime_secs"],
            &r["ciba_poll_interval_secs"]
        ),
        (&json!(900), &json!(7), &json!(120), &json!(3))
    );
    let out = app.cli(&["realm", "update", "cl", "--device-poll-interval", "0"]);
    assert!(!out.status.success(), "an interval of 0 is refused");
    // A new device request carries the realm's settings at once.
    app.create_client(
        "cl",
        json!({ "client_id": "tv", "public": true, "grant_types": [DEVICE] }),
    )
    .await;
    let d = ok_json(
        device_authorization(&app, "cl", &[("client_id", "tv")]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (d["expires_in"].as_i64(), d["interval"].as_i64()),
        (Some(900), Some(7))
    );
}

#[tokio::test]
async fn a_ciba_ping_client_registers_itself_with_its_delivery_metadata() {
    let app = spawn_app().await;
    fast_realm(&app, "cr").await;
    let mint = || async {
        let t = app
            .admin_ok(
                Method::POST,
                "/admin/realms/cr/clients-initial-access",
                Some(json!({ "count": 1 })),
            )
            .await;
        s(&t, "token")
    };
    let register = |token: String, body: Value| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/realms/cr/clients-registrations/openid-connect"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let body = json!({
        "client_name": "Payments Service", "grant_types": [CIBA], "scope": "openid",
        "backchannel_token_delivery_mode": "ping",
        "backchannel_client_notification_endpoint": "https://svc.example/ciba",
    });
    let c = ok_json(register(mint().await, body).await, StatusCode::CREATED).await;
    assert_eq!(c["backchannel_token_delivery_mode"], "ping");
    assert_eq!(
        c["backchannel_client_notification_endpoint"],
        "https://svc.example/ciba"
    );
    let bad = json!({ "grant_types": [CIBA], "backchannel_token_delivery_mode": "ping" });
    assert_oauth_error(
        register(mint().await, bad).await,
        400,
        "invalid_client_metadata",
    )
    .await;
}
