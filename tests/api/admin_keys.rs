//! Scoped admin keys (biscuit) over HTTP: minted at the command line or through the API,
//! accepted by the admin API as bearer tokens on their realm's paths, attenuated offline by
//! their holders (checks enforced with the verifier's facts and the server's clock), and
//! revoked with every key derived from them.

use crate::helpers::{
    PW, TestApp, acme_administered_by, add_user, assert_oauth_error, console_token, fast_realm,
    ok_json, s, spawn_app, spawn_replica,
};
use biscuit_auth::macros::block;
use biscuit_auth::{Biscuit, KeyPair, PublicKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, UNIX_EPOCH};

/// A request to the admin API with `key` as the bearer.
async fn with_key(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.http.request(method, app.url(path)).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// Asserts the admin API refuses `key` here with this status and error.
async fn refused(app: &TestApp, key: &str, method: Method, path: &str, status: u16, error: &str) {
    let res = with_key(app, key, method, path, None).await;
    assert_oauth_error(res, status, error).await;
}

async fn status(app: &TestApp, key: &str, method: Method, path: &str) -> StatusCode {
    with_key(app, key, method, path, None).await.status()
}

/// `tessera admin-key create …`'s three lines: (key, id, public key).
fn cli_mint(app: &TestApp, args: &[&str]) -> (String, String, String) {
    let mut all = vec!["admin-key", "create"];
    all.extend_from_slice(args);
    let out = app.cli(&all);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let field = |i: usize, name: &str| {
        lines[i]
            .strip_prefix(&format!("{name} "))
            .unwrap_or_else(|| panic!("line {i} is not `{name} …`: {stdout}"))
            .to_owned()
    };
    (field(0, "key"), field(1, "id"), field(2, "public-key"))
}

/// Mints through the API with the master admin token; returns the creation response.
async fn api_mint(app: &TestApp, realm: &str, body: Value) -> Value {
    let res = app
        .admin(
            Method::POST,
            &format!("/admin/realms/{realm}/admin-keys"),
            Some(body),
        )
        .await;
    ok_json(res, StatusCode::CREATED).await
}

/// A holder's attenuation: `key` with one more block of checks, made offline with only
/// the realm's public key.
fn attenuate(key: &str, public_key: &str, checks: biscuit_auth::builder::BlockBuilder) -> String {
    let root: PublicKey = public_key.parse().unwrap();
    Biscuit::from_base64(key, root)
        .unwrap()
        .append(checks)
        .unwrap()
        .to_base64()
        .unwrap()
}

/// Adds organization `alias` to `realm`.
async fn add_org(app: &TestApp, realm: &str, alias: &str) {
    app.admin_ok(
        Method::POST,
        &format!("/admin/realms/{realm}/organizations"),
        Some(json!({ "alias": alias, "name": alias })),
    )
    .await;
}

#[tokio::test]
async fn a_key_minted_at_the_command_line_prints_three_lines_and_administers_its_realm() {
    let app = spawn_app().await;
    let (key, id, public_key) = cli_mint(&app, &["--realm", "demo", "--name", "ci"]);
    assert!(public_key.starts_with("ed25519/"), "{public_key}");
    // The key lists the realm's clients, and creates one (the audit log names it).
    let res = with_key(&app, &key, Method::GET, "/admin/realms/demo/clients", None).await;
    let clients = ok_json(res, StatusCode::OK).await;
    assert!(clients.to_string().contains("demo-service"), "{clients}");
    let res = with_key(
        &app,
        &key,
        Method::POST,
        "/admin/realms/demo/clients",
        Some(json!({ "client_id": "made-by-key", "scopes": ["openid"] })),
    )
    .await;
    ok_json(res, StatusCode::CREATED).await;
    // The realm's public key through the API is the CLI's.
    let pk = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/admin-keys/public-key",
            None,
        )
        .await;
    assert_eq!(s(&pk, "public_key"), public_key);
    // Listed by id, through the API and the CLI, never with the key.
    let list = app
        .admin_ok(Method::GET, "/admin/realms/demo/admin-keys", None)
        .await;
    let item = &list["items"][0];
    assert_eq!(s(item, "id"), id);
    assert_eq!(s(item, "name"), "ci");
    assert_eq!(item["read_only"], false);
    assert!(item.get("key").is_none(), "{item}");
    assert!(!list.to_string().contains(&key));
    let out = app.cli(&["admin-key", "list", "--realm", "demo"]);
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.contains(&id) && listed.contains("ci"), "{listed}");
    assert!(!listed.contains(&key));
    // The audit log has the mint (the operator's) and the key's own change, by key id.
    let events = app
        .admin_ok(Method::GET, "/admin/realms/demo/events", None)
        .await;
    let items = events["items"].as_array().unwrap();
    let by_key = items
        .iter()
        .find(|e| e["principal"] == "admin_key")
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(s(by_key, "actor"), id);
    assert_eq!(by_key["target"], "/admin/realms/{realm}/clients");
    assert!(
        items
            .iter()
            .any(|e| e["principal"] == "operator" && e["target"] == "tessera admin-key create"),
        "{events}"
    );
    // A key cannot mint keys (they would outlive its revocation).
    let res = with_key(
        &app,
        &key,
        Method::POST,
        "/admin/realms/demo/admin-keys",
        Some(json!({})),
    )
    .await;
    assert_oauth_error(res, 403, "insufficient_scope").await;
}

#[tokio::test]
async fn a_read_only_key_reads_and_is_refused_writes_with_insufficient_scope() {
    let app = spawn_app().await;
    let (key, _, _) = cli_mint(&app, &["--realm", "demo", "--read-only"]);
    assert_eq!(
        status(&app, &key, Method::GET, "/admin/realms/demo/users").await,
        StatusCode::OK
    );
    let res = with_key(
        &app,
        &key,
        Method::POST,
        "/admin/realms/demo/clients",
        Some(json!({ "client_id": "nope" })),
    )
    .await;
    assert_oauth_error(res, 403, "insufficient_scope").await;
}

#[tokio::test]
async fn a_key_works_only_on_paths_of_its_realm() {
    let app = spawn_app().await;
    let (key, _, _) = cli_mint(&app, &["--realm", "demo"]);
    for (method, path) in [
        (Method::GET, "/admin/realms/master/clients"),
        (Method::GET, "/admin/realms"),
        (Method::POST, "/admin/realms"),
    ] {
        let res = with_key(&app, &key, method, path, Some(json!({ "name": "x" }))).await;
        assert_oauth_error(res, 403, "insufficient_scope").await;
    }
    // A key of realm master opens only master's paths, not demo's.
    let (master_key, _, _) = cli_mint(&app, &["--realm", "master"]);
    refused(
        &app,
        &master_key,
        Method::GET,
        "/admin/realms/demo/clients",
        403,
        "insufficient_scope",
    )
    .await;
}

#[tokio::test]
async fn holders_attenuate_keys_offline_to_reads_a_path_prefix_or_one_organization() {
    let app = spawn_app().await;
    // Realm demo has organization acme.
    add_org(&app, "demo", "beta").await;
    let minted = api_mint(&app, "demo", json!({ "name": "holder" })).await;
    let (key, pk) = (s(&minted, "key"), s(&minted, "public_key"));
    assert!(minted["id"].as_str().is_some());

    let reads = attenuate(&key, &pk, block!(r#"check if operation("read");"#));
    assert_eq!(
        status(&app, &reads, Method::GET, "/admin/realms/demo/clients").await,
        StatusCode::OK
    );
    refused(
        &app,
        &reads,
        Method::DELETE,
        "/admin/realms/demo/organizations/beta",
        403,
        "insufficient_scope",
    )
    .await;

    let clients_only = attenuate(
        &key,
        &pk,
        block!(r#"check if resource($r), $r.starts_with("/admin/realms/demo/clients");"#),
    );
    assert_eq!(
        status(
            &app,
            &clients_only,
            Method::GET,
            "/admin/realms/demo/clients"
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, &clients_only, Method::GET, "/admin/realms/demo/users").await,
        StatusCode::FORBIDDEN
    );

    let acme_only = attenuate(&key, &pk, block!(r#"check if organization("acme");"#));
    assert_eq!(
        status(
            &app,
            &acme_only,
            Method::GET,
            "/admin/realms/demo/organizations/acme"
        )
        .await,
        StatusCode::OK
    );
    for path in [
        "/admin/realms/demo/organizations/beta",
        "/admin/realms/demo/clients",
    ] {
        assert_eq!(
            status(&app, &acme_only, Method::GET, path).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }

    // A holder's expiry is checked against the server's clock, not the wall clock.
    let now = app.provider.clock().now().0 as u64;
    let until = UNIX_EPOCH + Duration::from_secs(now + 60);
    let short = attenuate(
        &key,
        &pk,
        block!("check if time($t), $t < {until};", until = until),
    );
    assert_eq!(
        status(&app, &short, Method::GET, "/admin/realms/demo/clients").await,
        StatusCode::OK
    );
    app.clock.advance(61);
    refused(
        &app,
        &short,
        Method::GET,
        "/admin/realms/demo/clients",
        401,
        "invalid_token",
    )
    .await;
    // The key it came from does not expire.
    assert_eq!(
        status(&app, &key, Method::GET, "/admin/realms/demo/clients").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_key_minted_to_expire_is_refused_once_the_clock_passes_its_expiry() {
    let app = spawn_app().await;
    let minted = api_mint(&app, "demo", json!({ "expires_in": 60 })).await;
    let key = s(&minted, "key");
    assert_eq!(
        minted["expires_at"].as_i64().unwrap(),
        app.provider.clock().now().0 + 60
    );
    assert_eq!(
        status(&app, &key, Method::GET, "/admin/realms/demo/clients").await,
        StatusCode::OK
    );
    app.clock.advance(60);
    refused(
        &app,
        &key,
        Method::GET,
        "/admin/realms/demo/clients",
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_organization_key_administers_its_organization_only() {
    let app = spawn_app().await;
    fast_realm(&app, "kr").await;
    let alice = add_user(&app, "kr", "alice", PW).await;
    acme_administered_by(&app, "kr", &alice).await;
    add_org(&app, "kr", "beta").await;
    let (key, _, _) = cli_mint(&app, &["--realm", "kr", "--organization", "acme"]);
    for path in [
        "/admin/realms/kr/organizations/acme",
        "/admin/realms/kr/organizations/acme/members",
    ] {
        assert_eq!(
            status(&app, &key, Method::GET, path).await,
            StatusCode::OK,
            "{path}"
        );
    }
    refused(
        &app,
        &key,
        Method::GET,
        "/admin/realms/kr/organizations/beta",
        404,
        "not_found",
    )
    .await;
    refused(
        &app,
        &key,
        Method::GET,
        "/admin/realms/kr/clients",
        403,
        "insufficient_scope",
    )
    .await;

    // The organization's administrator mints, lists and revokes its keys, and no others.
    let token = console_token(&app, "kr", "alice").await;
    let as_alice = |method: Method, path: &str, body: Option<Value>| {
        let mut req = app.http.request(method, app.url(path)).bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let res = as_alice(
        Method::POST,
        "/admin/realms/kr/organizations/acme/admin-keys",
        Some(json!({ "read_only": true })),
    )
    .await
    .unwrap();
    let minted = ok_json(res, StatusCode::CREATED).await;
    let acme = app
        .admin_ok(Method::GET, "/admin/realms/kr/organizations/acme", None)
        .await;
    assert_eq!(minted["organization_id"], acme["id"]);
    assert_eq!(
        status(
            &app,
            &s(&minted, "key"),
            Method::GET,
            "/admin/realms/kr/organizations/acme/members"
        )
        .await,
        StatusCode::OK
    );
    let res = as_alice(
        Method::POST,
        "/admin/realms/kr/organizations/beta/admin-keys",
        Some(json!({})),
    )
    .await
    .unwrap();
    assert_oauth_error(res, 404, "not_found").await;
    let res = as_alice(
        Method::POST,
        "/admin/realms/kr/admin-keys",
        Some(json!({ "organization": "acme" })),
    )
    .await
    .unwrap();
    assert_oauth_error(res, 403, "insufficient_scope").await;
    let res = as_alice(
        Method::GET,
        "/admin/realms/kr/organizations/acme/admin-keys",
        None,
    )
    .await
    .unwrap();
    let list = ok_json(res, StatusCode::OK).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    // A realm key's id is not the organization's to revoke.
    let (_, realm_key_id, _) = cli_mint(&app, &["--realm", "kr"]);
    let res = as_alice(
        Method::DELETE,
        &format!("/admin/realms/kr/organizations/acme/admin-keys/{realm_key_id}"),
        None,
    )
    .await
    .unwrap();
    assert_oauth_error(res, 404, "not_found").await;
    let res = as_alice(
        Method::DELETE,
        &format!(
            "/admin/realms/kr/organizations/acme/admin-keys/{}",
            s(&minted, "id")
        ),
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = with_key(
        &app,
        &s(&minted, "key"),
        Method::GET,
        "/admin/realms/kr/organizations/acme",
        None,
    )
    .await;
    assert_oauth_error(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn revoking_a_key_stops_it_and_every_key_derived_from_it() {
    let app = spawn_app().await;
    let minted = api_mint(&app, "demo", json!({})).await;
    let (key, id, pk) = (
        s(&minted, "key"),
        s(&minted, "id"),
        s(&minted, "public_key"),
    );
    let derived = attenuate(&key, &pk, block!(r#"check if operation("read");"#));
    // Another instance on the same database.
    let replica = spawn_replica(&app).await;
    for (server, k) in [(&app, &key), (&app, &derived), (&replica, &derived)] {
        assert_eq!(
            status(server, k, Method::GET, "/admin/realms/demo/clients").await,
            StatusCode::OK
        );
    }
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/demo/admin-keys/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for (server, k) in [(&app, &key), (&app, &derived), (&replica, &derived)] {
        refused(
            server,
            k,
            Method::GET,
            "/admin/realms/demo/clients",
            401,
            "invalid_token",
        )
        .await;
    }
    let list = app
        .admin_ok(Method::GET, "/admin/realms/demo/admin-keys", None)
        .await;
    assert!(list["items"][0]["revoked_at"].as_i64().is_some(), "{list}");
    // At the command line too.
    let (cli_key, cli_id, _) = cli_mint(&app, &["--realm", "demo"]);
    let out = app.cli(&["admin-key", "revoke", "--realm", "demo", &cli_id]);
    assert!(out.status.success(), "{out:?}");
    refused(
        &app,
        &cli_key,
        Method::GET,
        "/admin/realms/demo/users",
        401,
        "invalid_token",
    )
    .await;
    // An id the realm never minted names nothing.
    let res = app
        .admin(Method::DELETE, "/admin/realms/demo/admin-keys/abc123", None)
        .await;
    assert_oauth_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn tampered_keys_and_keys_of_another_root_are_invalid_tokens() {
    let app = spawn_app().await;
    let (key, _, _) = cli_mint(&app, &["--realm", "demo"]);
    // One character changed in the middle of the signed payload.
    let mut bytes = key.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    // The same facts under a root key that is not the realm's.
    let forged = Biscuit::builder()
        .code(r#"key_realm("demo"); key_scope("realm"); right("read"); right("write");"#)
        .unwrap()
        .build(&KeyPair::new())
        .unwrap()
        .to_base64()
        .unwrap();
    for bad in [&tampered, &forged] {
        refused(
            &app,
            bad,
            Method::GET,
            "/admin/realms/demo/clients",
            401,
            "invalid_token",
        )
        .await;
    }
}
