//! The audit log over HTTP: every successful administrative change, whoever made it, is in
//! `GET /admin/realms/{realm}/events`, newest first; failures and reads are not; each realm
//! sees its own.

use crate::helpers::{
    PW, acme_administered_by, add_user, console_token, fast_realm, ok_json, s, spawn_app,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn events(app: &crate::helpers::TestApp, realm: &str, query: &str) -> Value {
    app.admin_ok(
        Method::GET,
        &format!("/admin/realms/{realm}/events{query}"),
        None,
    )
    .await
}

#[tokio::test]
async fn every_successful_admin_change_is_logged_with_who_what_and_from_where() {
    let app = spawn_app().await;
    fast_realm(&app, "au").await;
    fast_realm(&app, "other").await;
    let (uuid, _) = app
        .create_client("au", json!({ "client_id": "shop", "scopes": ["openid"] }))
        .await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/au/clients/{uuid}"),
        Some(json!({ "client_id": "shop", "scopes": ["openid", "profile"] })),
    )
    .await;
    // A refused change and a read leave nothing.
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/au/clients",
            Some(json!({ "client_id": "bad id with spaces" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.admin_ok(Method::GET, "/admin/realms/au/clients", None)
        .await;
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/au/clients/{uuid}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let log = events(&app, "au", "").await;
    let items = log["items"].as_array().unwrap();
    let actions: Vec<_> = items.iter().map(|e| s(e, "action")).collect();
    assert_eq!(actions, ["delete", "update", "create"], "{log}");
    let create = &items[2];
    assert_eq!(create["kind"], "admin_change");
    assert_eq!(create["principal"], "realm_admin");
    assert!(s(create, "actor").contains("tessera-admin"), "{create}");
    assert_eq!(create["target"], "/admin/realms/{realm}/clients");
    assert_eq!(create["source"], "127.0.0.1");
    assert!(s(&items[0], "target").contains(&uuid), "{}", items[0]);
    assert!(create["at"].as_i64().unwrap() > 0);
    // Filters and pages.
    let deletes = events(&app, "au", "?action=delete").await;
    assert_eq!(deletes["items"].as_array().unwrap().len(), 1);
    let first = events(&app, "au", "?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let rest = events(
        &app,
        "au",
        &format!("?limit=2&before={}", s(&first, "next")),
    )
    .await;
    assert_eq!(rest["items"][0]["action"], "create");
    assert!(rest.get("next").is_none(), "{rest}");
    // A change at the command line is there too, as the operator's.
    let out = app.cli(&["org", "create", "--realm", "au", "cli-made"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.cli(&["org", "list", "--realm", "au"]);
    let cli = events(&app, "au", "?limit=1").await;
    let entry = &cli["items"][0];
    assert_eq!(entry["principal"], "operator", "{cli}");
    assert_eq!(entry["source"], "cli");
    assert_eq!(entry["action"], "create");
    assert_eq!(entry["target"], "tessera org create");
    // Another realm's log has none of it.
    let other = events(&app, "other", "").await;
    assert_eq!(other["items"], json!([]));
    // Malformed filters are 400.
    for q in [
        "?before=not-a-uuid",
        "?limit=0",
        "?kind=everything",
        "?colour=red",
    ] {
        let res = app
            .admin(Method::GET, &format!("/admin/realms/au/events{q}"), None)
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
    }
}

#[tokio::test]
async fn an_organization_administrators_changes_are_logged_under_the_organization_and_they_cannot_read_the_log()
 {
    let app = spawn_app().await;
    fast_realm(&app, "au").await;
    let alice = add_user(&app, "au", "alice", PW).await;
    acme_administered_by(&app, "au", &alice).await;
    let token = console_token(&app, "au", "alice").await;
    let bob = add_user(&app, "au", "bob", PW).await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/au/organizations/acme/members",
        Some(json!({ "user_id": bob })),
    )
    .await;
    let res = app
        .http
        .put(app.url(&format!(
            "/admin/realms/au/organizations/acme/members/{bob}/roles"
        )))
        .bearer_auth(&token)
        .json(&json!({ "roles": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let log = events(&app, "au", "").await;
    let entry = &log["items"][0];
    assert_eq!(entry["principal"], "org_admin", "{log}");
    assert_eq!(entry["actor"], json!(alice));
    let acme = app
        .admin_ok(Method::GET, "/admin/realms/au/organizations/acme", None)
        .await;
    assert_eq!(entry["organization_id"], acme["id"]);
    // The realm admin's own change under the organization names it too.
    let members = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["organization_id"] == acme["id"])
        .count();
    assert!(members >= 2, "{log}");
    let res = app
        .http
        .get(app.url("/admin/realms/au/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    ok_json(
        app.admin(
            Method::GET,
            "/admin/realms/au/events?kind=admin_change",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn security_events_are_in_the_log_beside_the_changes() {
    let app = spawn_app().await;
    fast_realm(&app, "au").await;
    let te = "urn:ietf:params:oauth:grant-type:token-exchange";
    let (_, secret) = app
        .create_client(
            "au",
            json!({ "client_id": "svc", "grant_types": ["client_credentials", te], "scopes": ["openid"] }),
        )
        .await;
    let secret = secret.unwrap();
    let own = app.client_credentials("au", "svc", &secret).await;
    // An exchange without a policy is refused, and the refusal is an event.
    let res = app
        .post_basic(
            "au",
            "token",
            "svc",
            &secret,
            &[
                ("grant_type", te),
                ("subject_token", &s(&own, "access_token")),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let log = events(&app, "au", "?kind=security").await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{log}");
    assert_eq!(items[0]["action"], "token_exchange_refused");
    assert_eq!(items[0]["actor"], "client svc");
    assert!(
        s(&items[0], "target").starts_with("unauthorized_client"),
        "{log}"
    );
    assert!(
        !log.to_string().contains(&s(&own, "access_token")),
        "no token in the log"
    );
    // The changes are still there, apart.
    let changes = events(&app, "au", "?kind=admin_change").await;
    assert!(
        changes["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] == "admin_change")
    );
}

#[tokio::test]
async fn the_audit_log_keeps_entries_for_the_realms_retention_then_the_sweep_removes_them() {
    let app = spawn_app().await;
    fast_realm(&app, "au").await;
    let res = app
        .admin(
            Method::PUT,
            "/admin/realms/au",
            Some(json!({ "audit_retention_days": 0 })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let r = app
        .admin_ok(
            Method::PUT,
            "/admin/realms/au",
            Some(json!({ "audit_retention_days": 2 })),
        )
        .await;
    assert_eq!(r["audit_retention_days"], 2);
    let logged = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
    let before = logged(&events(&app, "au", "").await);
    assert!(before >= 1, "the update is logged");
    // A day later the entry is within the retention; three days later it is swept, and
    // another realm's (default: a year) stays.
    app.clock.advance(86_400);
    tessera::jobs::expiry_sweep::run_once(&app.provider)
        .await
        .unwrap();
    assert_eq!(logged(&events(&app, "au", "").await), before);
    let demo_before = logged(&events(&app, "master", "").await);
    app.clock.advance(2 * 86_400);
    tessera::jobs::expiry_sweep::run_once(&app.provider)
        .await
        .unwrap();
    assert_eq!(logged(&events(&app, "au", "").await), 0);
    assert_eq!(logged(&events(&app, "master", "").await), demo_before);
}
