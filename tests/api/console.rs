//! The console over HTTP: signing in through the realm's own login page, the session
//! cookie's rules, CSRF on every form, and the authorization of every page through the one
//! admin principal (realm administrators of realm `master`; an organization's
//! administrators see their organization only, anything else is 404).

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_seeded_realm_admin_signs_in_and_creates_an_organization_logged_in_the_audit_log() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    let (status, page) = c.get(&app, "/admin/console/realms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("/admin/console/realms/demo/organizations"),
        "{page}"
    );
    assert!(page.contains(">admin<"), "the signed-in person is named");

    let res = c
        .post(
            &app,
            "/admin/console/realms/demo/organizations",
            &[("alias", "globex"), ("name", "Globex Corp")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = header(&res, "location").unwrap();
    assert_eq!(
        to,
        "/admin/console/realms/demo/organizations/globex/members?notice=created"
    );
    let (status, page) = c.get(&app, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Globex Corp") && page.contains("Created."),
        "{page}"
    );
    let org = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/globex", None)
        .await;
    assert_eq!(org["name"], "Globex Corp");

    let events = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/events?kind=admin_change",
            None,
        )
        .await;
    let e = &events["items"][0];
    assert_eq!(e["action"], "create", "{events}");
    assert_eq!(e["principal"], "realm_admin");
    assert!(s(e, "actor").ends_with("via tessera-console"), "{e}");
    assert!(s(e, "target").contains("/organizations"), "{e}");
}

#[tokio::test]
async fn the_console_session_cookie_is_http_only_strict_secure_and_scoped_to_its_console() {
    let app = spawn_app().await;
    let mut agent = Agent::default();
    let res = agent.get(&app, &app.url("/admin/console/realms")).await;
    assert_eq!(
        res.status(),
        StatusCode::FOUND,
        "a bookmark asks to sign in first"
    );
    let pending = header(&res, "set-cookie").unwrap();
    assert!(pending.starts_with("tessera_console_login="), "{pending}");
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/admin/console"] {
        assert!(pending.contains(attr), "{attr} in {pending}");
    }
    // Signed in, the bookmark is where the console goes back to.
    let to = header(&res, "location").unwrap();
    let state = hidden(
        &agent
            .get(&app, &local(&app, &to))
            .await
            .text()
            .await
            .unwrap(),
        "state",
    )
    .unwrap();
    let res = agent
        .post(
            &app,
            &app.url("/realms/master/login-actions/authenticate"),
            &[
                ("state", &state),
                ("username", "admin"),
                ("password", &app.seeded("admin")),
            ],
        )
        .await;
    let res = agent
        .get(&app, &local(&app, &header(&res, "location").unwrap()))
        .await;
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("tessera_console="))
        .expect("a session cookie");
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/admin/console",
    ] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    assert!(
        !session.to_ascii_lowercase().contains("max-age"),
        "a browser-session cookie"
    );
    let page = res.text().await.unwrap();
    assert!(
        page.contains("content=\"0;url=/admin/console/realms\""),
        "back to the bookmark: {page}"
    );
    assert!(res_csp(&agent, &app).await.contains("script-src 'self'"));
}

async fn res_csp(agent: &Agent, app: &TestApp) -> String {
    let mut a = agent.clone();
    let res = a.get(app, &app.url("/admin/console/realms")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = header(&res, "content-security-policy").unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    csp
}

#[tokio::test]
async fn a_console_form_without_the_sessions_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    for csrf in [None, Some("forged"), Some("")] {
        let mut form = vec![("alias", "evil"), ("name", "Evil")];
        if let Some(t) = csrf {
            form.push(("csrf", t));
        }
        let res = c
            .agent
            .post(
                &app,
                &app.url("/admin/console/realms/demo/organizations"),
                &form,
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "csrf {csrf:?}");
        let page = res.text().await.unwrap();
        assert!(page.contains("security token"), "{page}");
    }
    let res = app
        .admin(Method::GET, "/admin/realms/demo/organizations/evil", None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_session_pages_ask_to_sign_in_and_forms_change_nothing() {
    let app = spawn_app().await;
    let mut agent = Agent::default();
    for path in [
        "/admin/console/realms/demo/users",
        "/realms/demo/console/organizations/acme/members",
    ] {
        let res = agent.get(&app, &app.url(path)).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{path}");
        assert!(
            header(&res, "location")
                .unwrap()
                .contains("/protocol/openid-connect/auth?")
        );
    }
    let res = agent
        .post(
            &app,
            &app.url("/admin/console/realms/demo/organizations"),
            &[("alias", "evil"), ("csrf", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location").as_deref(), Some("/admin/console/"));
    // A made-up session cookie is no session.
    agent
        .cookies
        .insert("tessera_console".into(), "made-up".into());
    let res = agent.get(&app, &app.url("/admin/console/realms")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn an_organization_admin_sees_only_their_organization_and_other_urls_are_404() {
    let app = spawn_app().await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations",
        Some(json!({ "alias": "globex", "name": "Globex" })),
    )
    .await;
    let mut c = demo_org_admin(&app).await;
    // The one organization they administer is their start page.
    let (status, page) = c.follow(&app, "/realms/demo/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Acme Inc.") && page.contains("demo@example.com"),
        "{page}"
    );
    for section in [
        "profile",
        "members",
        "invitations",
        "domains",
        "identity-providers",
        "clients",
        "admin-keys",
        "events",
    ] {
        let (status, _) = c
            .get(
                &app,
                &format!("/realms/demo/console/organizations/acme/{section}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{section}");
        // Another organization of the realm, one that does not exist, and tampering.
        for org in ["globex", "nope", "..%2Facme"] {
            let (status, page) = c
                .get(
                    &app,
                    &format!("/realms/demo/console/organizations/{org}/{section}"),
                )
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{org}/{section}");
            assert!(!page.contains("Globex"), "nothing of it shows");
        }
    }
    // Writes to another organization are 404 too, and change nothing.
    let res = c
        .post(
            &app,
            "/realms/demo/console/organizations/globex/domains",
            &[("domain", "globex.example")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for (path, form) in [
        ("profile", &[("name", "Mine")][..]),
        ("clients", &[("count", "1")][..]),
        ("admin-keys", &[("name", "mine")][..]),
        ("delete", &[][..]),
    ] {
        let res = c
            .post(
                &app,
                &format!("/realms/demo/console/organizations/globex/{path}"),
                form,
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/globex", None)
        .await;
    assert_eq!(got["name"], "Globex");
    // The organization console's session is no session of the realm administrators'
    // console, nor of another realm's organization console.
    let (status, _) = c.get(&app, "/admin/console/realms/demo/users").await;
    assert_eq!(status, StatusCode::FOUND);
    fast_realm(&app, "other").await;
    let (status, _) = c
        .get(&app, "/realms/other/console/organizations/acme/members")
        .await;
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn an_organization_admin_grants_only_roles_they_hold_and_keeps_one_admin() {
    let app = spawn_app().await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organization-roles",
        Some(json!({ "name": "billing" })),
    )
    .await;
    let bob = add_user(&app, "demo", "bob", PW).await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations/acme/members",
        Some(json!({ "user_id": bob, "roles": ["member"] })),
    )
    .await;
    let users = app
        .admin_ok(Method::GET, "/admin/realms/demo/users?search=demo", None)
        .await;
    let demo = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "demo")
        .map(|u| s(u, "id"))
        .unwrap();
    let mut c = demo_org_admin(&app).await;
    let roles =
        |user: &str| format!("/realms/demo/console/organizations/acme/members/{user}/roles");

    let res = c
        .post(
            &app,
            &roles(&bob),
            &[("role", "member"), ("role", "billing")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "demo does not hold billing"
    );
    let res = c.post(&app, &roles(&bob), &[("role", "admin")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "demo holds admin");
    assert_eq!(member_roles(&app, &bob).await, Some(json!(["admin"])));
    // Two administrators: demo may step down, and then bob is the last one.
    let res = c.post(&app, &roles(&demo), &[("role", "member")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(member_roles(&app, &demo).await, Some(json!(["member"])));
    let mut b = ConsoleBrowser::sign_in(&app, "/realms/demo/console", "demo", "bob", PW).await;
    let res = b.post(&app, &roles(&bob), &[("role", "member")]).await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "the last administrator stays"
    );
    let res = b
        .post(
            &app,
            &format!("/realms/demo/console/organizations/acme/members/{bob}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("at least one administrator")
    );
    assert_eq!(member_roles(&app, &bob).await, Some(json!(["admin"])));
    // demo is no administrator any more: the organization is gone from their console.
    let (status, _) = c
        .get(&app, "/realms/demo/console/organizations/acme/members")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_master_user_without_the_admin_role_is_refused_realm_administration() {
    let app = spawn_app().await;
    add_user(&app, "master", "eve", PW).await;
    let mut agent = Agent::default();
    let res = agent.get(&app, &app.url("/admin/console/")).await;
    let state = hidden(
        &agent
            .get(&app, &local(&app, &header(&res, "location").unwrap()))
            .await
            .text()
            .await
            .unwrap(),
        "state",
    )
    .unwrap();
    let res = agent
        .post(
            &app,
            &app.url("/realms/master/login-actions/authenticate"),
            &[("state", &state), ("username", "eve"), ("password", PW)],
        )
        .await;
    agent
        .get(&app, &local(&app, &header(&res, "location").unwrap()))
        .await;
    for path in ["/admin/console/realms", "/admin/console/realms/demo/users"] {
        let res = agent.get(&app, &app.url(path)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn signing_out_ends_the_console_session_and_offers_the_realms_logout() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    let stolen = c.agent.clone();
    let res = c.post(&app, "/admin/console/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = header(&res, "location").unwrap();
    assert!(
        to.starts_with(&format!(
            "{PUBLIC_URL}/realms/master/protocol/openid-connect/logout?client_id=tessera-console"
        )),
        "{to}"
    );
    // The old cookie, replayed, is no session.
    let mut replay = stolen;
    let res = replay.get(&app, &app.url("/admin/console/realms")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn a_console_session_ends_after_its_idle_timeout() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    let (status, _) = c.get(&app, "/admin/console/realms").await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(1801);
    let (status, _) = c.get(&app, "/admin/console/realms").await;
    assert_eq!(
        status,
        StatusCode::FOUND,
        "idle for longer than the realm allows"
    );
}

#[tokio::test]
async fn a_realm_admin_disables_a_user_and_signs_them_out_everywhere() {
    let app = spawn_app().await;
    let bob = add_user(&app, "demo", "bob", PW).await;
    let secret = app.seeded("demo-app");
    let mut rp = Rp::new(
        "demo",
        "demo-app",
        Some(&secret),
        "http://127.0.0.1:9999/cb",
    );
    rp.scope = "openid offline_access".into();
    let mut agent = Agent::default();
    let cb = rp.login_consenting(&app, &mut agent, "bob", PW, &[]).await;
    let tokens = rp.tokens(&app, &cb["code"]).await;
    let mut c = realm_admin(&app).await;
    let (status, page) = c
        .get(&app, &format!("/admin/console/realms/demo/users/{bob}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("with a password"),
        "a live session shows: {page}"
    );
    let res = c
        .post(
            &app,
            &format!("/admin/console/realms/demo/users/{bob}/disable"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let user = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/demo/users/{bob}"),
            None,
        )
        .await;
    assert_eq!(user["enabled"], false);
    let (_, page) = c
        .get(&app, &format!("/admin/console/realms/demo/users/{bob}"))
        .await;
    assert!(page.contains("No live session"), "{page}");
    let refreshed = rp.refresh(&app, &s(&tokens, "refresh_token"), None).await;
    assert_eq!(
        refreshed.status(),
        StatusCode::BAD_REQUEST,
        "the offline grant is revoked"
    );
}

/// A member's roles in `acme` of realm `demo`, as the admin API lists them.
async fn member_roles(app: &TestApp, id: &str) -> Option<serde_json::Value> {
    let m = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/organizations/acme/members",
            None,
        )
        .await;
    m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["user_id"] == id)
        .map(|x| x["roles"].clone())
}

/// The TXT value a domains page asks to publish for `domain`.
fn challenge_in(page: &str, domain: &str) -> String {
    let at = page
        .find(&format!("<code>_tessera.{domain}</code>"))
        .expect("the record's name");
    let rest = &page[at..];
    let i = rest.find("<code class=\"secret\">").unwrap() + 21;
    html_unescape(&rest[i..i + rest[i..].find("</code>").unwrap()])
}

#[tokio::test]
async fn an_organization_admin_adds_a_domain_and_verifies_it_by_a_dns_txt_record() {
    let dns = TestDns::start().await;
    let app = spawn_configured(database_url().await, None, |s| {
        s.dns_server = Some(dns.addr)
    })
    .await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations",
        Some(json!({ "alias": "globex", "name": "Globex" })),
    )
    .await;
    let mut c = demo_org_admin(&app).await;
    let domains = "/realms/demo/console/organizations/acme/domains";
    let res = c.post(&app, domains, &[("domain", "acme.test")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = c.get(&app, domains).await;
    assert!(page.contains("not verified"), "{page}");
    let value = challenge_in(&page, "acme.test");
    assert!(value.starts_with("tessera-verification="), "{value}");
    let verify = format!("{domains}/acme.test/verify");

    // Nothing published, then another value: not verified, and it says why.
    let res = c.post(&app, &verify, &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("TXT record is not there yet")
    );
    dns.publish(
        "_tessera.acme.test",
        &["tessera-verification=someone-elses"],
    );
    let res = c.post(&app, &verify, &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let org = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/acme", None)
        .await;
    assert_eq!(org["domains"][0]["verified"], false, "{org}");

    // The organization's own value, among other records: verified.
    dns.publish(
        "_tessera.acme.test",
        &["v=spf1 -all", &value, "tessera-verification=someone-elses"],
    );
    let res = c.post(&app, &verify, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        header(&res, "location")
            .unwrap()
            .ends_with("notice=verified")
    );
    let org = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/acme", None)
        .await;
    assert_eq!(org["domains"][0]["name"], "acme.test");
    assert_eq!(org["domains"][0]["verified"], true, "{org}");

    // The value is bound to its organization: another's differs, and an organization
    // administrator cannot declare a domain verified through the API.
    let mut admin = realm_admin(&app).await;
    let globex = "/admin/console/realms/demo/organizations/globex/domains";
    admin.post(&app, globex, &[("domain", "globex.test")]).await;
    let (_, page) = admin.get(&app, globex).await;
    assert_ne!(challenge_in(&page, "globex.test"), value);
    let ada = add_user(&app, "demo", "ada", PW).await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations/acme/members",
        Some(json!({ "user_id": ada, "roles": ["admin"] })),
    )
    .await;
    let token = console_token(&app, "demo", "ada").await;
    let res = app
        .http
        .put(app.url("/admin/realms/demo/organizations/acme/domains/mine.test"))
        .bearer_auth(&token)
        .json(&json!({ "verified": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn realm_settings_and_smtp_are_set_in_the_console_and_a_test_message_arrives() {
    let app = spawn_app().await;
    let (port, mut inbox) = crate::helpers::smtp::smtp_sink().await;
    let mut c = realm_admin(&app).await;
    let (status, page) = c.get(&app, "/admin/console/realms/demo/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("cannot be e-mailed until a server is set"),
        "{page}"
    );
    let settings = [
        ("access_token_alg", "ES256"),
        ("access_token_lifetime_secs", "600"),
        ("session_idle_secs", "900"),
        ("session_max_secs", "7200"),
        ("refresh_idle_secs", "900"),
        ("refresh_max_secs", "7200"),
        ("registration", "closed"),
    ];
    let res = c
        .post(&app, "/admin/console/realms/demo/settings", &settings)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let realm = app.admin_ok(Method::GET, "/admin/realms/demo", None).await;
    assert_eq!(realm["access_token_alg"], "ES256", "{realm}");
    assert_eq!(realm["access_token_lifetime_secs"], 600);
    assert_eq!(
        realm["organizations_enabled"], false,
        "an unticked box is off"
    );
    // A value the realm refuses changes nothing and says why.
    let mut bad = settings.to_vec();
    bad[1] = ("access_token_lifetime_secs", "soon");
    let res = c
        .post(&app, "/admin/console/realms/demo/settings", &bad)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("whole number"));

    let port = port.to_string();
    let res = c
        .post(
            &app,
            "/admin/console/realms/demo/settings/smtp",
            &[
                ("host", "127.0.0.1"),
                ("port", &port),
                ("security", "none"),
                ("username", ""),
                ("password", ""),
                ("from", "no-reply@demo.test"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .post(
            &app,
            "/admin/console/realms/demo/settings/smtp/test",
            &[("to", "ops@demo.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.to, ["<ops@demo.test>"]);
    assert!(mail.data.contains("Test message from Tessera realm demo"));

    // An organization administrator invites by e-mail; the link goes to the address only.
    let mut o = demo_org_admin(&app).await;
    let res = o
        .post(
            &app,
            "/realms/demo/console/organizations/acme/invitations",
            &[("email", "newcomer@demo.test"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.to, ["<newcomer@demo.test>"]);
    let link = mail.link().expect("an invitation link");
    let (_, page) = o
        .get(&app, "/realms/demo/console/organizations/acme/invitations")
        .await;
    assert!(
        page.contains("newcomer@demo.test") && page.contains("pending"),
        "{page}"
    );
    let token = link.split("token=").nth(1).unwrap_or(&link);
    assert!(!page.contains(token), "the link is never shown");
}

/// The admin key a console page shows once.
fn minted_key(page: &str) -> String {
    let i = page.find("<p class=\"secret\">").expect("a minted key") + 18;
    html_unescape(&page[i..i + page[i..].find("</p>").unwrap()])
}

#[tokio::test]
async fn admin_keys_are_minted_once_and_revoked_in_the_console() {
    let app = spawn_app().await;
    let call = |key: String, path: &'static str| {
        let req = app.http.get(app.url(path)).bearer_auth(key);
        async move { req.send().await.unwrap().status() }
    };
    // A realm administrator mints a read-only key of realm demo.
    let mut c = realm_admin(&app).await;
    let keys = "/admin/console/realms/demo/admin-keys";
    let res = c
        .post(
            &app,
            keys,
            &[("name", "ci"), ("read_only", "on"), ("expires_in", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    let key = minted_key(&res.text().await.unwrap());
    assert_eq!(
        call(key.clone(), "/admin/realms/demo/clients").await,
        StatusCode::OK
    );
    let (_, page) = c.get(&app, keys).await;
    assert!(page.contains("ci") && page.contains(">read<"), "{page}");
    assert!(!page.contains(&key), "the list never shows a key");
    let i = page.find("/admin-keys/").unwrap() + 12;
    let id = page[i..i + page[i..].find('/').unwrap()].to_owned();
    let res = c.post(&app, &format!("{keys}/{id}/revoke"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        call(key, "/admin/realms/demo/clients").await,
        StatusCode::UNAUTHORIZED
    );

    // An organization administrator mints a key of their organization only.
    let mut o = demo_org_admin(&app).await;
    let res = o
        .post(
            &app,
            "/realms/demo/console/organizations/acme/admin-keys",
            &[("name", "acme-bot")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let key = minted_key(&res.text().await.unwrap());
    assert_eq!(
        call(key.clone(), "/admin/realms/demo/organizations/acme/members").await,
        StatusCode::OK
    );
    assert_eq!(
        call(key, "/admin/realms/demo/users").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_exchange_log_page_lists_exchanges_filtered_by_subject_and_client() {
    let app = spawn_app().await;
    let secret = app.seeded("demo-app");
    let user_token = Rp::demo_user_access_token(&app).await;
    let sub = s(&claims(&user_token), "sub");
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-app",
            &secret,
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", &user_token),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("audience", "demo-service"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let mut c = realm_admin(&app).await;
    let page = "/admin/console/realms/demo/exchanges";
    let (status, body) = c.get(&app, &format!("{page}?subject={sub}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&sub) && body.contains("demo-app"), "{body}");
    let (_, body) = c.get(&app, &format!("{page}?client=someone-else")).await;
    assert!(body.contains("No exchange matches."), "{body}");
}

#[tokio::test]
async fn the_cli_makes_another_realm_administrator_and_keeps_the_last_one() {
    let app = spawn_app().await;
    add_user(&app, "master", "ops", PW).await;
    let out = app.cli(&[
        "user",
        "roles",
        "--realm",
        "master",
        "--username",
        "ops",
        "--add",
        "admin",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("realm roles: admin"));
    let mut c = ConsoleBrowser::sign_in(&app, "/admin/console", "master", "ops", PW).await;
    let (status, _) = c.get(&app, "/admin/console/realms").await;
    assert_eq!(status, StatusCode::OK, "ops administers the realms now");
    // Taken back, the console refuses ops at once.
    let out = app.cli(&[
        "user",
        "roles",
        "--realm",
        "master",
        "--username",
        "ops",
        "--remove",
        "admin",
    ]);
    assert!(out.status.success());
    let (status, _) = c.get(&app, "/admin/console/realms").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The seeded admin is now the last one: their role stays.
    let out = app.cli(&[
        "user",
        "roles",
        "--realm",
        "master",
        "--username",
        "admin",
        "--remove",
        "admin",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least one administrator"));
}
