//! Secrets never reach the logs (SECURITY-CASES PKCE-8, §3.8.7): authorization codes, PKCE
//! verifiers, passwords, client secrets, refresh, access, ID and logout tokens, session
//! cookies. A capturing `tracing` subscriber at TRACE (and the `log` bridge) is installed
//! once for this test binary; it records while at least one test of this module runs, so
//! the server's own events, its libraries' (actix, sqlx, sea-orm, reqwest for back-channel
//! logout) and anything else in the process are searched. Each test drives full flows,
//! failures included, with secrets unique to it, then searches the captured text for each
//! secret in the forms it travelled in (raw, form-encoded, Basic-encoded).

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Tests of this module currently running; events are recorded only while it is non-zero.
static RECORDING: AtomicUsize = AtomicUsize::new(0);
static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn buffer() -> Arc<Mutex<Vec<u8>>> {
    BUFFER
        .get_or_init(|| {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            use tracing_subscriber::{Layer, filter};
            let buf = Arc::new(Mutex::new(Vec::new()));
            let sink = buf.clone();
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(move || Sink(sink.clone()))
                .with_ansi(false)
                .with_target(true)
                .with_thread_names(true)
                .with_filter(filter::LevelFilter::TRACE)
                .with_filter(filter::filter_fn(|_| RECORDING.load(Ordering::SeqCst) > 0));
            tracing_subscriber::registry()
                .with(layer)
                .try_init()
                .expect("no other global tracing subscriber or logger in this test binary");
            buf
        })
        .clone()
}

/// Records while alive.
struct Recording {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl Recording {
    fn start() -> Self {
        let buf = buffer();
        RECORDING.fetch_add(1, Ordering::SeqCst);
        Self { buf }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The secrets a test handled, with what they are.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: impl Into<String>, secret: impl AsRef<str>) {
        let (what, secret) = (what.into(), secret.as_ref().to_owned());
        assert!(secret.len() >= 8, "{what} is too short to search for");
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != secret {
            self.0.push((format!("{what} (form-encoded)"), encoded));
        }
        // A JWT may be logged in part: its signature identifies it.
        if secret.matches('.').count() == 2 {
            let sig = secret.rsplit('.').next().unwrap().to_owned();
            self.0.push((format!("{what} (signature)"), sig));
        }
        self.0.push((what, secret));
    }

    fn basic(&mut self, what: &str, id: &str, secret: &str) {
        self.add(
            format!("{what} (Basic header)"),
            STANDARD.encode(format!("{id}:{secret}")),
        );
    }

    fn tokens(&mut self, what: &str, t: &Value) {
        for k in ["access_token", "refresh_token", "id_token"] {
            if let Some(v) = t[k].as_str() {
                self.add(format!("{what} {k}"), v);
            }
        }
    }

    /// Panics naming every secret found, with the log line around it.
    fn assert_absent_from(&self, log: &str) {
        let found: Vec<String> = self
            .0
            .iter()
            .filter_map(|(what, s)| {
                log.find(s.as_str()).map(|i| {
                    let start = log[..i].rfind('\n').map_or(0, |n| n + 1);
                    let end = log[i..].find('\n').map_or(log.len(), |n| i + n);
                    format!("{what} in: {}", &log[start..end.min(start + 600)])
                })
            })
            .collect();
        assert!(
            found.is_empty(),
            "secrets in the logs:\n{}",
            found.join("\n")
        );
    }
}

/// The capture must have seen the server's side of the requests, or the search means nothing.
fn assert_server_was_recorded(log: &str) {
    if let Ok(path) = std::env::var("TESSERA_TEST_LOG_DUMP") {
        std::fs::write(path, log).unwrap();
    }
    // The HTTP server's request handling on its worker threads (the server turns sqlx's
    // statement logging off, so there are no database events to see).
    for marker in ["actix-server worker", "actix_http::h1::dispatcher"] {
        assert!(log.contains(marker), "no {marker} events were captured");
    }
}

/// A canary logged here must be found, or the search itself is broken.
fn canary() -> String {
    let c = unique("canary-secret");
    tracing::debug!(target: "tessera::canary", value = %c, "canary");
    c
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn pkce_8_codes_verifiers_passwords_secrets_and_tokens_of_full_flows_never_reach_the_logs() {
    let rec = Recording::start();
    let app = spawn_app().await;
    let mut secrets = Secrets::default();

    // A client and a user created through the admin API, with secrets chosen here.
    let client_secret = unique("client-secret-0123456789");
    let password = format!("{}+&=\"' é", unique("pw"));
    let wrong_password = unique("wrong-pw");
    secrets.add("client secret", &client_secret);
    secrets.basic("client secret", "rp", &client_secret);
    secrets.add("password", &password);
    secrets.add("wrong password", &wrong_password);
    let admin = app.admin_token().await;
    secrets.add("admin token", &admin);
    let (bcl_url, mut bcl) = backchannel_receiver().await;
    let res = app
        .http
        .post(app.url("/admin/realms/demo/clients"))
        .bearer_auth(&admin)
        .json(&json!({
            "client_id": "rp", "secret": client_secret,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "scopes": ["openid", "profile", "email"],
            "post_logout_redirect_uris": ["http://127.0.0.1:9999/bye"],
            "backchannel_logout_uri": bcl_url,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let first_password = unique("first-pw");
    secrets.add("first password", &first_password);
    let user = add_user(&app, "demo", "carol", &first_password).await;
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/demo/users/{user}/password"),
            Some(json!({ "password": password })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // A generated secret, shown once.
    let (_, generated) = app
        .create_client(
            "demo",
            json!({ "client_id": "svc", "access_token_format": "opaque" }),
        )
        .await;
    let generated = generated.unwrap();
    secrets.add("generated client secret", &generated);
    secrets.basic("generated client secret", "svc", &generated);

    let rp = Rp::new("demo", "rp", Some(&client_secret), REDIRECT);
    let verifier = new_verifier();
    let challenge = s256(&verifier);
    secrets.add("verifier", &verifier);
    let pkce = [("code_challenge", challenge.as_str())];

    // A failed login, then a good one.
    let mut agent = Agent::default();
    let state = rp
        .login_page(&app, &mut agent, &rp.auth_url(&app, &pkce))
        .await;
    let res = rp
        .submit_login(&app, &mut agent, &state, "carol", &wrong_password)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = rp
        .submit_login(&app, &mut agent, &state, "carol", &password)
        .await;
    let code1 = rp.callback(&res)["code"].clone();
    secrets.add("code 1", &code1);
    for (k, v) in &agent.cookies {
        secrets.add(format!("cookie {k}"), v);
    }

    // A wrong verifier, then the right one for the spent code.
    let wrong_verifier = new_verifier();
    secrets.add("wrong verifier", &wrong_verifier);
    let res = rp.redeem_with(&app, &code1, &wrong_verifier).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let res = rp.redeem_with(&app, &code1, &verifier).await;
    assert_oauth_error(res, 400, "invalid_grant").await;

    // A good redemption, a refresh, and a refresh replay.
    let code2 = rp.callback(&agent.get(&app, &rp.auth_url(&app, &pkce)).await)["code"].clone();
    secrets.add("code 2", &code2);
    let res = rp.redeem_with(&app, &code2, &verifier).await;
    assert_eq!(res.status(), StatusCode::OK);
    let t1: Value = res.json().await.unwrap();
    secrets.tokens("first", &t1);
    let res = rp.refresh(&app, &s(&t1, "refresh_token"), None).await;
    let t2: Value = res.json().await.unwrap();
    secrets.tokens("refreshed", &t2);
    let res = rp.refresh(&app, &s(&t1, "refresh_token"), None).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    assert_invalid_token(userinfo(&app, "demo", &s(&t2, "access_token")).await).await;
    let res = rp.redeem_with(&app, &code2, &verifier).await;
    assert_oauth_error(res, 400, "invalid_grant").await;

    // Wrong client secrets, Basic and in the body.
    let wrong_secret = unique("wrong-client-secret");
    secrets.add("wrong client secret", &wrong_secret);
    secrets.basic("wrong client secret", "rp", &wrong_secret);
    let code3 = rp.callback(&agent.get(&app, &rp.auth_url(&app, &pkce)).await)["code"].clone();
    secrets.add("code 3", &code3);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code3.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let res = app
        .post_basic("demo", "token", "rp", &wrong_secret, &form)
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let mut post = form.to_vec();
    post.extend([
        ("client_id", "rp"),
        ("client_secret", wrong_secret.as_str()),
    ]);
    let res = app
        .http
        .post(app.endpoint("demo", "token"))
        .form(&post)
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    // The right secret in the body, which rp (client_secret_basic) may not use.
    let mut post = form.to_vec();
    post.extend([
        ("client_id", "rp"),
        ("client_secret", client_secret.as_str()),
    ]);
    let res = app
        .http
        .post(app.endpoint("demo", "token"))
        .form(&post)
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    // Basic that works.
    let res = app
        .post_basic("demo", "token", "rp", &client_secret, &form)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t3: Value = res.json().await.unwrap();
    secrets.tokens("third", &t3);

    // Userinfo, introspection (with an opaque token too), revocation.
    assert_eq!(
        userinfo(&app, "demo", &s(&t3, "access_token"))
            .await
            .status(),
        StatusCode::OK
    );
    let garbage = unique("garbage-bearer");
    secrets.add("garbage bearer", &garbage);
    assert_invalid_token(userinfo(&app, "demo", &garbage).await).await;
    let opaque = app.client_credentials("demo", "svc", &generated).await;
    secrets.tokens("opaque", &opaque);
    for token in [s(&t3, "access_token"), s(&opaque, "access_token")] {
        assert_eq!(
            app.introspect("demo", "svc", &generated, &token).await["active"],
            true
        );
    }
    assert_invalid_token(userinfo(&app, "demo", &s(&opaque, "access_token")).await).await;
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "svc",
            &generated,
            &[("token", &s(&opaque, "access_token"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // An expired code.
    let code4 = rp.callback(&agent.get(&app, &rp.auth_url(&app, &pkce)).await)["code"].clone();
    secrets.add("code 4", &code4);
    app.clock.advance(61);
    let res = rp.redeem_with(&app, &code4, &verifier).await;
    assert_oauth_error(res, 400, "invalid_grant").await;

    // Logout with the ID token, back to the client.
    let res = agent
        .get(
            &app,
            &format!(
                "{}?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
                app.endpoint("demo", "logout"),
                s(&t3, "id_token"),
                "http%3A%2F%2F127.0.0.1%3A9999%2Fbye"
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_oauth_error(
        rp.refresh(&app, &s(&t3, "refresh_token"), None).await,
        400,
        "invalid_grant",
    )
    .await;
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), bcl.recv())
        .await
        .unwrap()
        .unwrap();
    let logout_token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .unwrap()
        .1
        .to_string();
    secrets.add("logout token", &logout_token);

    let c = canary();
    let log = rec.text();
    assert!(log.contains(&c), "the canary was not captured");
    assert_server_was_recorded(&log);
    secrets.assert_absent_from(&log);
}

#[tokio::test]
async fn secrets_in_rejected_malformed_and_misdirected_requests_never_reach_the_logs() {
    let rec = Recording::start();
    let app = spawn_app().await;
    let mut secrets = Secrets::default();
    let demo_secret = app.seeded("demo-app");
    secrets.add("demo-app secret", &demo_secret);
    secrets.basic("demo-app secret", "demo-app", &demo_secret);
    let demo_pw = app.seeded("demo");
    secrets.add("demo password", &demo_pw);
    let demo = Rp::demo_app(&app);

    // A real code and refresh token, then misused in every way.
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    secrets.add("code", &cb["code"]);
    let t = demo.tokens(&app, &cb["code"]).await;
    secrets.tokens("demo", &t);
    let (rt, at) = (s(&t, "refresh_token"), s(&t, "access_token"));
    let code = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await)["code"].clone();
    secrets.add("unused code", &code);
    let verifier = new_verifier();
    secrets.add("stray verifier", &verifier);

    let raw = |body: Vec<u8>, basic: Option<String>| {
        let app = &app;
        async move {
            let mut req = app
                .http
                .post(app.endpoint("demo", "token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if let Some(h) = basic {
                req = req.header("authorization", h);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("demo-app:{demo_secret}"))
    );
    // Repeated parameters.
    let body =
        format!("grant_type=authorization_code&code={code}&code={code}&code_verifier={verifier}");
    assert_eq!(raw(body.into_bytes(), Some(basic.clone())).await, 400);
    // Non-UTF-8 next to secrets.
    let mut body = format!("grant_type=refresh_token&refresh_token={rt}&x=").into_bytes();
    body.extend([0xff, 0xfe]);
    assert_eq!(raw(body, Some(basic.clone())).await, 400);
    // Oversized.
    let body = format!(
        "grant_type=refresh_token&refresh_token={rt}&pad={}",
        "p".repeat(200_000)
    );
    assert_eq!(raw(body.into_bytes(), Some(basic.clone())).await, 400);
    // A Basic header without a colon, made of a secret.
    let nocolon = format!("Basic {}", STANDARD.encode(&demo_secret));
    secrets.add("Basic without colon", STANDARD.encode(&demo_secret));
    assert_eq!(
        raw(b"grant_type=client_credentials".to_vec(), Some(nocolon)).await,
        401
    );
    // Basic and client_secret together.
    let body = format!("grant_type=client_credentials&client_secret={demo_secret}");
    assert_eq!(raw(body.into_bytes(), Some(basic.clone())).await, 400);
    // Secrets in the query string of a GET.
    let res = app
        .http
        .get(format!(
            "{}?grant_type=refresh_token&refresh_token={rt}&client_secret={demo_secret}",
            app.endpoint("demo", "token")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Another realm, an unknown realm.
    for realm in ["master", "no-such-realm"] {
        let res = app
            .post_basic(
                realm,
                "token",
                "demo-app",
                &demo_secret,
                &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            )
            .await;
        assert!(res.status().is_client_error());
        let res = userinfo(&app, realm, &at).await;
        assert!(res.status().is_client_error());
    }
    // The access token at the admin API; as an ID token hint; the refresh token as a code.
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = Agent::default()
        .get(
            &app,
            &format!("{}?id_token_hint={at}", app.endpoint("demo", "logout")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = demo.redeem_with(&app, &rt, &verifier).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    // The password through a forged login state, and in a login that is rate limited.
    let res = agent
        .post(
            &app,
            &demo.login_action(&app),
            &[
                ("state", "forged"),
                ("username", "demo"),
                ("password", &demo_pw),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let mut fresh = Agent::default();
    let state2 = demo
        .login_page(&app, &mut fresh, &demo.auth_url(&app, &[]))
        .await;
    for i in 0..6 {
        let wrong = format!("{demo_pw}-{i}");
        secrets.add(format!("wrong password {i}"), &wrong);
        demo.submit_login(&app, &mut fresh, &state2, "demo", &wrong)
            .await;
    }
    let res = demo
        .submit_login(&app, &mut fresh, &state2, "demo", &demo_pw)
        .await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    // A password set through the admin API that violates nothing but is refused in a
    // profile update.
    let users: Value = app
        .admin(Method::GET, "/admin/realms/demo/users?search=demo", None)
        .await
        .json()
        .await
        .unwrap();
    let id = s(&users["items"][0], "id");
    let sneaky = unique("sneaky-password");
    secrets.add("password in a profile update", &sneaky);
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/demo/users/{id}"),
            Some(json!({ "username": "demo", "password": sneaky })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The unused code is still good: none of the above touched it.
    demo.tokens(&app, &code).await;

    let c = canary();
    let log = rec.text();
    assert!(log.contains(&c), "the canary was not captured");
    assert_server_was_recorded(&log);
    secrets.assert_absent_from(&log);
}

/// The captured lines of one request, by the unique id it was sent with.
fn lines_of<'a>(log: &'a str, request_id: &str) -> Vec<&'a str> {
    let needle = format!("request_id={request_id}");
    log.lines().filter(|l| l.contains(&needle)).collect()
}

/// Whether a captured text line carries `key=value` (strings are quoted by the formatter).
fn has(line: &str, key: &str, value: &str) -> bool {
    line.contains(&format!(" {key}={value}"))
        || line.contains(&format!("{{{key}={value}"))
        || line.contains(&format!("{key}=\"{value}\""))
}

/// The one line among `lines` that has every `key=value`; panics showing the log otherwise.
fn line_with<'a>(lines: &[&'a str], fields: &[(&str, &str)], log: &str) -> &'a str {
    lines
        .iter()
        .find(|l| fields.iter().all(|(k, v)| has(l, k, v)))
        .unwrap_or_else(|| {
            panic!(
                "no line with {fields:?} among\n{}\n\nin\n{log}",
                lines.join("\n")
            )
        })
}

const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

#[tokio::test]
async fn security_events_request_lines_and_admin_changes_are_logged_with_their_fields_and_no_secret()
 {
    let rec = Recording::start();
    let app = spawn_app().await;
    let mut secrets = Secrets::default();
    let admin = app.admin_token().await;
    secrets.add("admin token", &admin);
    let demo_secret = app.seeded("demo-app");
    secrets.add("demo-app secret", &demo_secret);
    secrets.basic("demo-app secret", "demo-app", &demo_secret);
    let token_url = app.endpoint("demo", "token");

    // An admin change: one info line saying who, what and where.
    let client_id = unique("obs-svc");
    let create = unique("rid-create");
    let res = app
        .http
        .post(app.url("/admin/realms/demo/clients"))
        .bearer_auth(&admin)
        .header("x-request-id", &create)
        .json(&json!({ "client_id": client_id, "grant_types": ["client_credentials", TE] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let svc_secret = s(&created, "secret");
    secrets.add("svc secret", &svc_secret);
    secrets.basic("svc secret", &client_id, &svc_secret);

    // A wrong client secret.
    let wrong = unique("wrong-svc-secret");
    secrets.add("wrong client secret", &wrong);
    secrets.basic("wrong client secret", &client_id, &wrong);
    let bad_client = unique("rid-bad-client");
    let res = app
        .http
        .post(&token_url)
        .basic_auth(&client_id, Some(&wrong))
        .header("x-request-id", &bad_client)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;

    // A token exchange the client's (absent) policy refuses.
    let at = s(
        &app.client_credentials("demo", &client_id, &svc_secret)
            .await,
        "access_token",
    );
    secrets.add("svc access token", &at);
    let refused = unique("rid-exchange");
    let res = app
        .http
        .post(&token_url)
        .basic_auth(&client_id, Some(&svc_secret))
        .header("x-request-id", &refused)
        .form(&[
            ("grant_type", TE),
            ("subject_token", at.as_str()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    let refused_code = s(&res.json().await.unwrap(), "error");

    // A refresh token rotated, then presented again.
    let demo = Rp::demo_app_offline(&app);
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    secrets.add("code", &cb["code"]);
    let t = demo.tokens(&app, &cb["code"]).await;
    secrets.tokens("demo", &t);
    let rt = s(&t, "refresh_token");
    let refresh = |id: String| {
        app.http
            .post(&token_url)
            .basic_auth("demo-app", Some(&demo_secret))
            .header("x-request-id", id)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
            ])
            .send()
    };
    let res = refresh(unique("rid-refresh")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    secrets.tokens("refreshed", &res.json().await.unwrap());
    let reuse = unique("rid-reuse");
    assert_oauth_error(refresh(reuse.clone()).await.unwrap(), 400, "invalid_grant").await;

    // Failed logins: a known account with a wrong password, and a name that matches no
    // account (it could be a password typed into the wrong field: never logged).
    let pw = unique("obs-user-pw");
    secrets.add("user password", &pw);
    let user = add_user(&app, "demo", &unique("obs-user"), &pw).await;
    let username = app
        .admin_ok(
            reqwest::Method::GET,
            &format!("/admin/realms/demo/users/{user}"),
            None,
        )
        .await["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_pw = unique("obs-wrong-pw");
    secrets.add("wrong user password", &wrong_pw);
    let typed_name = unique("typed-name");
    secrets.add("typed name of no account", &typed_name);
    let mut agent = Agent::default();
    let state = demo
        .login_page(&app, &mut agent, &demo.auth_url(&app, &[]))
        .await;
    for name in [username.as_str(), typed_name.as_str()] {
        let res = demo
            .submit_login(&app, &mut agent, &state, name, &wrong_pw)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The sign-in form posted from a browser without its CSRF cookie.
    let res = demo
        .submit_login(&app, &mut Agent::default(), &state, &username, &pw)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    secrets.add("sealed state", &state);
    for (k, v) in &agent.cookies {
        secrets.add(format!("cookie {k}"), v);
    }
    let realm_id = app
        .provider
        .realm("demo")
        .await
        .unwrap()
        .realm
        .id
        .to_string();

    let c = canary();
    let log = rec.text();
    assert!(log.contains(&c), "the canary was not captured");
    assert_server_was_recorded(&log);
    secrets.assert_absent_from(&log);

    let token_route = "/realms/{realm}/protocol/openid-connect/token";
    let lines = lines_of(&log, &create);
    let admin_line = line_with(
        &lines,
        &[
            ("action", "create"),
            ("route", "/admin/realms/{realm}/clients"),
        ],
        &log,
    );
    assert!(admin_line.contains("INFO") && admin_line.contains("tessera::admin"));
    for (k, v) in [
        ("principal", "realm_admin"),
        ("client_id", "tessera-admin"),
        ("realm", "demo"),
    ] {
        assert!(has(admin_line, k, v), "{k}={v} not in {admin_line}");
    }

    let lines = lines_of(&log, &bad_client);
    let request = line_with(&lines, &[("route", token_route), ("status", "401")], &log);
    assert!(
        request.contains("INFO") && has(request, "method", "POST"),
        "{request}"
    );
    assert!(request.contains("latency_ms=") && has(request, "realm", "demo"));
    let warn = line_with(
        &lines,
        &[
            ("event", "invalid_client"),
            ("reason", "bad_secret"),
            ("client_id", &client_id),
        ],
        &log,
    );
    assert!(warn.contains("WARN"), "{warn}");

    let lines = lines_of(&log, &refused);
    let warn = line_with(
        &lines,
        &[
            ("event", "token_exchange_refused"),
            ("error", &refused_code),
            ("client_id", &client_id),
        ],
        &log,
    );
    assert!(warn.contains("WARN") && warn.contains("reason="), "{warn}");

    let lines = lines_of(&log, &reuse);
    let warn = line_with(
        &lines,
        &[
            ("event", "reuse"),
            ("what", "refresh token"),
            ("realm", "demo"),
        ],
        &log,
    );
    assert!(warn.contains("WARN"), "{warn}");
    line_with(
        &lines,
        &[
            ("route", token_route),
            ("status", "400"),
            ("client_id", "demo-app"),
        ],
        &log,
    );

    let all: Vec<&str> = log.lines().collect();
    let warn = line_with(
        &all,
        &[
            ("event", "login_failed"),
            ("outcome", "bad_credentials"),
            ("user_id", &user),
        ],
        &log,
    );
    assert!(
        warn.contains("WARN") && has(warn, "realm", "demo"),
        "{warn}"
    );
    assert!(!warn.contains(&username), "{warn}");
    let csrf = line_with(
        &all,
        &[("event", "csrf_failure"), ("realm", &realm_id)],
        &log,
    );
    assert!(csrf.contains("WARN"), "{csrf}");
}

#[test]
fn the_search_finds_secrets_raw_form_encoded_basic_encoded_and_by_jwt_signature() {
    let mut secrets = Secrets::default();
    secrets.add("password", "p@ss word+&=");
    secrets.basic("secret", "id", "s3cr3t-value");
    secrets.add(
        "jwt",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz",
    );
    for leaked in [
        "... password=p%40ss+word%2B%26%3D ...",
        "... p@ss word+&= ...",
        &format!(
            "authorization: Basic {}",
            STANDARD.encode("id:s3cr3t-value")
        ),
        "token tail c2lnbmF0dXJlLWJ5dGVz",
    ] {
        let log = format!("line one\n{leaked}\nline three");
        let caught = std::panic::catch_unwind(|| secrets.assert_absent_from(&log));
        assert!(caught.is_err(), "missed: {leaked}");
    }
    secrets.assert_absent_from("nothing secret here\n");
}
