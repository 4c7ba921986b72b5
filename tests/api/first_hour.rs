//! The first hour of a new user, and changes that apply at once (issue "the first hour and
//! the long run"): clients that work out of the box, the CLI beside a running server, a safe
//! first start, and texts that say what is wrong.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of_failure(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The line `label  value` of `client show`.
fn field(shown: &str, label: &str) -> String {
    shown
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {shown}"))
        .trim()
        .to_owned()
}

/// Polls until `ok` holds, failing after `within`; returns how long it took.
async fn within<F, Fut>(within: Duration, mut ok: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !ok().await {
        assert!(start.elapsed() < within, "not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

async fn discovery_status(app: &TestApp, realm: &str) -> StatusCode {
    app.discovery(realm).await.status()
}

#[tokio::test]
async fn a_client_created_with_a_redirect_uri_signs_users_in_with_the_default_scopes_at_once() {
    let app = spawn_app().await;
    let rp = Rp::new("demo", "webapp", None, REDIRECT);
    // Asked for before it exists: the server caches that it does not.
    let res = app.http.get(rp.auth_url(&app, &[])).send().await.unwrap();
    assert!(!res.status().is_redirection());
    let out = app.cli(&[
        "client",
        "create",
        "--realm",
        "demo",
        "--client-id",
        "webapp",
        "--redirect-uri",
        REDIRECT,
    ]);
    let shown = stdout(&out);
    assert_eq!(
        field(&shown, "grant types"),
        "authorization_code refresh_token"
    );
    assert_eq!(
        field(&shown, "scopes"),
        "email offline_access openid organization profile"
    );
    assert_eq!(field(&shown, "issuer"), issuer("demo"));
    let secret = shown
        .lines()
        .find_map(|l| l.strip_prefix("client secret (shown once): "))
        .unwrap()
        .to_owned();
    let rp = Rp {
        secret: Some(secret),
        scope: "openid profile email offline_access".into(),
        ..rp
    };
    // The CLI is another process: the server learns of the client through the change log.
    let took = within(Duration::from_secs(1), || async {
        let res = app.http.get(rp.auth_url(&app, &[])).send().await.unwrap();
        res.status() == StatusCode::OK
    })
    .await;
    eprintln!("the new client was served after {took:?}");
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let tokens = rp.tokens(&app, &cb["code"]).await;
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    assert_eq!(
        claims(&s(&tokens, "access_token"))["scope"],
        "email offline_access openid profile"
    );
}

#[tokio::test]
async fn a_service_client_without_redirect_uris_gets_client_credentials_and_no_scopes() {
    let app = spawn_app().await;
    let (_, secret) = app
        .create_client("demo", json!({ "client_id": "svc" }))
        .await;
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/clients/svc", None)
        .await;
    assert_eq!(got["grant_types"], json!(["client_credentials"]));
    assert_eq!(got["scopes"], json!([]));
    app.client_credentials("demo", "svc", &secret.unwrap())
        .await;
    // --scope replaces the defaults.
    let (_, _) = app
        .create_client(
            "demo",
            json!({ "client_id": "web2", "redirect_uris": [REDIRECT], "scopes": ["openid"] }),
        )
        .await;
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/clients/web2", None)
        .await;
    assert_eq!(got["scopes"], json!(["openid"]));
    assert_eq!(
        got["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
}

#[tokio::test]
async fn invalid_scope_names_every_refused_scope_in_one_answer() {
    let app = spawn_app().await;
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-service",
            &app.demo_secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api:read email openid"),
            ],
        )
        .await;
    let body = assert_oauth_error(res, 400, "invalid_scope").await;
    let d = s(&body, "error_description");
    assert!(
        d.contains("email") && d.contains("openid") && !d.contains("api:read"),
        "{d}"
    );
    let rp = Rp {
        scope: "openid nope:one nope:two".into(),
        ..Rp::demo_app(&app)
    };
    let res = app.http.get(rp.auth_url(&app, &[])).send().await.unwrap();
    let cb = rp.callback(&res);
    assert_eq!(cb["error"], "invalid_scope");
    assert!(
        cb["error_description"].contains("nope:one nope:two"),
        "{cb:?}"
    );
}

#[tokio::test]
async fn clients_are_shown_updated_and_their_secrets_rotated_by_client_id() {
    let app = spawn_app().await;
    // The admin API takes the client_id where it takes the id.
    let by_id = app
        .admin_ok(Method::GET, "/admin/realms/demo/clients/demo-service", None)
        .await;
    let uuid = s(&by_id, "id");
    let by_uuid = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/demo/clients/{uuid}"),
            None,
        )
        .await;
    assert_eq!(by_id, by_uuid);
    let rotated = app
        .admin_ok(
            Method::POST,
            "/admin/realms/demo/clients/demo-service/client-secret",
            None,
        )
        .await;
    let new = s(&rotated, "secret");
    app.client_credentials("demo", "demo-service", &new).await;

    // The CLI: update keeps what is not given, rotate makes the old secret stop at once.
    let shown = stdout(&app.cli(&[
        "client",
        "update",
        "--realm",
        "demo",
        "--client-id",
        "demo-service",
        "--scope",
        "api:read",
    ]));
    assert_eq!(field(&shown, "scopes"), "api:read");
    assert_eq!(field(&shown, "grant types"), "client_credentials");
    let shown = stdout(&app.cli(&[
        "client",
        "show",
        "--realm",
        "demo",
        "--client-id",
        "demo-service",
    ]));
    assert_eq!(field(&shown, "id"), uuid);
    let out = stdout(&app.cli(&[
        "client",
        "secret",
        "rotate",
        "--realm",
        "demo",
        "--client-id",
        "demo-service",
    ]));
    let newer = out.trim().rsplit(' ').next().unwrap().to_owned();
    assert_ne!(newer, new);
    within(Duration::from_secs(1), || async {
        app.post_basic(
            "demo",
            "token",
            "demo-service",
            &new,
            &[("grant_type", "client_credentials")],
        )
        .await
        .status()
            == StatusCode::UNAUTHORIZED
    })
    .await;
    let token = app.client_credentials("demo", "demo-service", &newer).await;
    assert_eq!(claims(&s(&token, "access_token"))["scope"], "api:read");
}

#[tokio::test]
async fn a_realm_created_by_the_cli_is_served_within_a_second_even_after_a_404() {
    let app = spawn_app().await;
    assert_eq!(discovery_status(&app, "shop").await, StatusCode::NOT_FOUND);
    let out = stdout(&app.cli(&["realm", "create", "shop"]));
    assert!(out.contains(&issuer("shop")), "{out}");
    let took = within(Duration::from_secs(1), || async {
        discovery_status(&app, "shop").await == StatusCode::OK
    })
    .await;
    eprintln!("realm served {took:?} after the CLI wrote it");
    // And deleted through the CLI: gone as fast.
    stdout(&app.cli(&["realm", "delete", "shop"]));
    within(Duration::from_secs(1), || async {
        discovery_status(&app, "shop").await == StatusCode::NOT_FOUND
    })
    .await;
}

#[tokio::test]
async fn every_realm_has_the_admin_and_member_role_templates() {
    let app = spawn_app().await;
    stdout(&app.cli(&["realm", "create", "shop"]));
    stdout(&app.cli(&["org", "create", "--realm", "shop", "widgets"]));
    let user = add_user(&app, "shop", "ann", "correct horse battery").await;
    assert!(!user.is_empty());
    stdout(&app.cli(&[
        "org",
        "member",
        "add",
        "--realm",
        "shop",
        "--org",
        "widgets",
        "--username",
        "ann",
        "--role",
        "member",
    ]));
    let roles = app
        .admin_ok(Method::GET, "/admin/realms/shop/organization-roles", None)
        .await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .or(roles.as_array())
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"admin") && names.contains(&"member"),
        "{roles}"
    );
}

#[tokio::test]
async fn cli_commands_that_find_no_realm_say_how_to_create_it() {
    let app = spawn_app().await;
    let err = stderr_of_failure(&app.cli(&["client", "list", "--realm", "nope"]));
    assert!(
        err.contains("realm not found") && err.contains("tessera realm create"),
        "{err}"
    );
    assert!(
        !err.contains("backtrace") && err.lines().count() == 1,
        "{err}"
    );
}

#[tokio::test]
async fn a_public_url_without_a_scheme_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let out = tessera_cmd()
        .arg("--data-dir")
        .arg(&app.settings.data_dir)
        .args(["--public-url", "127.0.0.1:18085", "realm", "list"])
        .output()
        .unwrap();
    let err = stderr_of_failure(&out);
    assert!(err.contains("absolute http or https URL"), "{err}");
}

#[tokio::test]
async fn an_unreachable_database_is_reported_with_the_drivers_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = tessera_cmd()
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--database-url",
            "postgres://u:secret-pw@127.0.0.1:1/x",
            "realm",
            "list",
        ])
        .output()
        .unwrap();
    let err = stderr_of_failure(&out);
    assert!(err.contains("Connection refused"), "{err}");
    assert!(
        !err.contains("pool timed out") && !err.contains("secret-pw"),
        "{err}"
    );
}

#[tokio::test]
async fn a_first_cli_write_does_not_stop_seeding_and_init_prints_the_seeded_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        tessera_cmd()
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    stdout(&run(&["realm", "create", "shop"]));
    let first = stdout(&run(&["init"]));
    let line = first
        .lines()
        .find(|l| l.contains("client_id tessera-admin"))
        .unwrap_or_else(|| panic!("{first}"));
    assert!(line.trim_start().starts_with("realm master"), "{line}");
    assert!(first.contains("username  demo"), "{first}");
    assert!(stdout(&run(&["init"])).contains("nothing to seed"));
    let realms = stdout(&run(&["realm", "list"]));
    for r in ["master", "demo", "shop"] {
        assert!(realms.lines().any(|l| l.starts_with(r)), "{realms}");
    }
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_data_directory_refuses_to_start() {
    let app = spawn_app().await;
    if app.settings.database_url.is_some() {
        eprintln!("PostgreSQL: servers may share a database; the data-directory lock is SQLite's");
        return;
    }
    let second = tessera::startup::Application::build(&app.settings).await;
    let err = format!(
        "{:#}",
        second.err().expect("the second server must not start")
    );
    assert!(err.contains("another Tessera server is running"), "{err}");
}

#[tokio::test]
async fn a_token_of_another_realm_at_the_admin_api_is_told_which_token_it_takes() {
    let app = spawn_app().await;
    let token = app.demo_token().await;
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = assert_oauth_error(res, 401, "invalid_token").await;
    let d = s(&body, "error_description");
    assert!(
        d.contains("realm master") && d.contains("realm demo"),
        "{d}"
    );
}

#[tokio::test]
async fn unknown_paths_answer_browsers_with_a_page_and_api_clients_with_json() {
    let app = spawn_app().await;
    let page = app
        .http
        .get(app.url("/no/such/page"))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        header(&page, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("Page not found"));
    let api = app.http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let v: Value = api.json().await.unwrap();
    assert_eq!(v["error"], "not_found");
    let docs = app.http.get(app.url("/admin/docs")).send().await.unwrap();
    assert!(docs.status().is_redirection());
    assert_eq!(header(&docs, "location").unwrap(), "/admin/docs/");
}

#[tokio::test]
async fn ctrl_c_lets_a_request_in_flight_finish_like_sigterm() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut serve = ServeProcess::start(&[]).await;
    let body = "grant_type=client_credentials";
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", serve.port))
        .await
        .unwrap();
    // Half a request: headers and part of the body.
    let head = format!(
        "POST /realms/demo/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n\
         Authorization: Basic ZGVtby1zZXJ2aWNlOndyb25n\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sigint = std::process::Command::new("kill")
        .args(["-INT", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sigint.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are no longer taken, the started request is still answered.
    assert!(
        reqwest::get(format!("{}/health/live", serve.base))
            .await
            .is_err()
    );
    sock.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let exited = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        serve.child.try_wait().unwrap().is_some()
    });
    assert!(exited, "the server did not stop:\n{}", serve.log());
    assert!(serve.log().contains("graceful"), "{}", serve.log());
}
