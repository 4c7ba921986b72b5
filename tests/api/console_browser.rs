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

/// The next message the sink received, within ten seconds.
async fn next_mail(
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<crate::helpers::smtp::Delivered>,
) -> crate::helpers::smtp::Delivered {
    tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .expect("a message within ten seconds")
        .unwrap()
}

#[tokio::test]
async fn realm_and_organization_administrators_walk_the_console_in_a_browser() {
    if !chrome_available() {
        return;
    }
    // The public URL is the server's own address: the browser follows every redirect.
    let dns = TestDns::start().await;
    let port = free_port();
    let app = spawn_configured(database_url().await, None, |s| {
        s.listen = format!("127.0.0.1:{port}");
        s.public_url = format!("http://127.0.0.1:{port}");
        s.dns_server = Some(dns.addr);
    })
    .await;
    let (smtp_port, mut inbox) = crate::helpers::smtp::smtp_sink().await;
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/smtp",
        Some(json!({ "host": "127.0.0.1", "port": smtp_port, "security": "none", "from": "no-reply@demo.test" })),
    )
    .await;
    let chrome = Chrome::start(&[]).await;

    // A realm administrator signs in, creates an organization and invites a member.
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
    chrome.fill("email", "newcomer@demo.test").await;
    chrome
        .submit("section.card form.stack button[type=submit]")
        .await;
    landed(&chrome, "/invitations?notice=invited").await;
    let to_globex = next_mail(&mut inbox).await;
    assert_eq!(to_globex.to, ["<newcomer@demo.test>"]);
    assert!(!chrome.html().await.contains(&to_globex.link().unwrap()));
    for (name, path) in [
        ("console-users", "/admin/console/realms/demo/users"),
        ("console-clients", "/admin/console/realms/demo/clients"),
        (
            "console-client",
            "/admin/console/realms/demo/clients/demo-app",
        ),
        (
            "console-identity-providers",
            "/admin/console/realms/demo/identity-providers",
        ),
        (
            "console-registration",
            "/admin/console/realms/demo/registration",
        ),
        ("console-keys", "/admin/console/realms/demo/keys"),
        (
            "console-admin-keys",
            "/admin/console/realms/demo/admin-keys",
        ),
        ("console-events", "/admin/console/realms/demo/events"),
        ("console-exchanges", "/admin/console/realms/demo/exchanges"),
        ("console-settings", "/admin/console/realms/demo/settings"),
        (
            "console-org-profile",
            "/admin/console/realms/demo/organizations/globex/profile",
        ),
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
    // organization is the start page. They invite the same person, add a domain and
    // verify it by its DNS record.
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
    let to_acme = next_mail(&mut inbox).await;
    let org = "/realms/demo/console/organizations/acme";
    chrome.open(&app.url(&format!("{org}/domains"))).await;
    chrome.fill("domain", "acme-corp.test").await;
    chrome
        .submit("section.card form.stack button[type=submit]")
        .await;
    landed(&chrome, "/domains?notice=created").await;
    let page = chrome.html().await;
    let at = page.find("tessera-verification=").expect("the challenge");
    let value = &page[at..at + page[at..].find('<').unwrap()];
    dns.publish("_tessera.acme-corp.test", &[value]);
    chrome
        .submit("form[action$=\"/domains/acme-corp.test/verify\"] button")
        .await;
    landed(&chrome, "/domains?notice=verified").await;
    chrome.check_page("org-console-domains").await;
    for (name, path) in [
        ("org-console-profile", "profile"),
        ("org-console-identity-providers", "identity-providers"),
        ("org-console-clients", "clients"),
        ("org-console-events", "events"),
    ] {
        chrome.open(&app.url(&format!("{org}/{path}"))).await;
        chrome.check_page(name).await;
    }

    // The invitee accepts both invitations by their e-mailed links: a new account for
    // the first, signing in with it for the second.
    chrome.open(&to_globex.link().unwrap()).await;
    chrome.check_page("invitation").await;
    chrome.fill_in("#username", "newcomer").await;
    chrome.fill_in("#new-password", "newcomer-password").await;
    chrome.submit("form:has(#new-password) button").await;
    assert!(
        chrome
            .html()
            .await
            .contains("You joined Globex Corporation")
    );
    chrome.open(&to_acme.link().unwrap()).await;
    chrome
        .fill_in("#signin-password", "newcomer-password")
        .await;
    chrome.submit("form:has(#signin-password) button").await;
    assert!(chrome.html().await.contains("You joined"));

    // The organization's administrator makes the newcomer an administrator too.
    let users = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/users?search=newcomer",
            None,
        )
        .await;
    let id = users["items"][0]["id"].as_str().unwrap().to_owned();
    chrome.open(&app.url(&format!("{org}/members"))).await;
    let form = format!("form[action$=\"/members/{id}/roles\"]");
    chrome
        .click(&format!("{form} input[value=\"admin\"]"))
        .await;
    chrome.submit(&format!("{form} button")).await;
    landed(&chrome, "/members?notice=saved").await;
    let members = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/organizations/acme/members",
            None,
        )
        .await;
    let roles = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == id.as_str())
        .map(|m| m["roles"].clone())
        .expect("the newcomer is a member");
    assert!(roles.to_string().contains("\"admin\""), "{roles}");

    // Another organization's page, by URL tampering: not found.
    chrome
        .open(&app.url("/realms/demo/console/organizations/globex/members"))
        .await;
    assert!(!chrome.html().await.contains("Globex Corporation"));
    chrome.check_page("org-console-not-found").await;
}
