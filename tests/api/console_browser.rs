//! The console's main journeys in headless Chromium, every page checked by axe-core (no
//! serious or critical violation). With `TESSERA_SCREENSHOTS=docs/console` the walk also
//! takes the screenshots in `docs/console/` (1280 and 390 px).

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

/// Waits until the browser has followed the console's sign-in to a page whose URL ends
/// with `end` (the callback moves on by a navigation of its own).
async fn landed(chrome: &Chrome, end: &str) {
    for _ in 0..100 {
        let ready = chrome
            .client
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .is_some_and(|v| v == "complete");
        if ready && chrome.url().await.ends_with(end) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never reached {end}: at {}", chrome.url().await);
}

async fn sign_in(chrome: &Chrome, app: &TestApp, home: &str, user: &str, pw: &str, end: &str) {
    chrome.open(&app.url(&format!("{home}/"))).await;
    chrome.fill("username", user).await;
    chrome.fill("password", pw).await;
    chrome.submit("form.stack button[type=submit]").await;
    landed(chrome, end).await;
}

#[tokio::test]
async fn realm_and_organization_administrators_walk_the_console_in_a_browser() {
    if !chrome_available() {
        return;
    }
    let app = spawn_federated().await;
    let (port, mut inbox) = crate::helpers::smtp::smtp_sink().await;
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/smtp",
        Some(json!({ "host": "127.0.0.1", "port": port, "security": "none", "from": "no-reply@demo.test" })),
    )
    .await;
    let chrome = Chrome::start(&[]).await;

    // A realm administrator signs in and creates an organization.
    sign_in(
        &chrome,
        &app,
        "/admin/console",
        "admin",
        &app.seeded("admin"),
        "/admin/console/realms",
    )
    .await;
    chrome.check_page("console-realms").await;
    chrome
        .open(&app.url("/admin/console/realms/demo/organizations"))
        .await;
    chrome.check_page("console-organizations").await;
    chrome.fill("alias", "globex").await;
    chrome.fill("name", "Globex Corporation").await;
    chrome.submit("form.stack button[type=submit]").await;
    landed(&chrome, "/organizations/globex/members?notice=created").await;
    chrome.check_page("console-org-members").await;
    for (name, path) in [
        ("console-users", "/admin/console/realms/demo/users"),
        ("console-clients", "/admin/console/realms/demo/clients"),
        (
            "console-client",
            "/admin/console/realms/demo/clients/demo-app",
        ),
        ("console-keys", "/admin/console/realms/demo/keys"),
        (
            "console-admin-keys",
            "/admin/console/realms/demo/admin-keys",
        ),
        ("console-events", "/admin/console/realms/demo/events"),
        ("console-exchanges", "/admin/console/realms/demo/exchanges"),
        ("console-settings", "/admin/console/realms/demo/settings"),
    ] {
        chrome.open(&app.url(path)).await;
        chrome.check_page(name).await;
    }
    chrome
        .open(&app.url("/admin/console/realms/demo/users?q=demo"))
        .await;
    chrome.submit("table.list a").await;
    chrome.check_page("console-user").await;

    // The organization's administrator signs in at their realm's console: their one
    // organization is the start page; they invite someone by e-mail.
    sign_in(
        &chrome,
        &app,
        "/realms/demo/console",
        "demo",
        &app.seeded("demo"),
        "/realms/demo/console/organizations/acme/members",
    )
    .await;
    chrome.check_page("org-console-members").await;
    chrome.fill("email", "newcomer@demo.test").await;
    chrome
        .submit("section.card form.stack button[type=submit]")
        .await;
    landed(&chrome, "/invitations?notice=invited").await;
    chrome.check_page("org-console-invitations").await;
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.to, ["<newcomer@demo.test>"]);
    assert!(!chrome.html().await.contains(&mail.link().unwrap()));
    chrome
        .open(&app.url("/realms/demo/console/organizations/acme/domains"))
        .await;
    chrome.fill("domain", "acme-corp.test").await;
    chrome
        .submit("section.card form.stack button[type=submit]")
        .await;
    landed(&chrome, "/domains?notice=created").await;
    chrome.check_page("org-console-domains").await;
    chrome
        .open(&app.url("/realms/demo/console/organizations/acme/events"))
        .await;
    chrome.check_page("org-console-events").await;
    // Another organization's page, by URL tampering: not found.
    chrome
        .open(&app.url("/realms/demo/console/organizations/globex/members"))
        .await;
    assert!(!chrome.html().await.contains("Globex Corporation"));
    chrome.check_page("org-console-not-found").await;
}
