//! How the pages look and read: branding (the realm's display name and logo, an
//! organization's logo), consent in words, error pages in words, and every page walked in
//! headless Chromium with axe-core finding no serious or critical violation. With
//! `TESSERA_SCREENSHOTS=docs/pages` the walk also takes the screenshots in `docs/pages/`.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "looks";
const ORDERS: &str = "https://api.northwind.example/orders";

const REALM_LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="176" height="48" viewBox="0 0 176 48"><rect width="48" height="48" rx="12" fill="#0f766e"/><path d="M14 34V14h6l8 12V14h6v20h-6l-8-12v12z" fill="#fff"/><text x="60" y="32" font-family="Arial, sans-serif" font-size="20" font-weight="700" fill="#0f766e">Northwind</text></svg>"##;
const ORG_LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20"><circle cx="10" cy="10" r="10" fill="#c2410c"/><path d="M10 4l5 12H5z" fill="#fff"/></svg>"##;

/// Realm `looks` branded "Northwind Health" with a logo; organizations acme ("Acme
/// Corporation", with a logo) and globex, both with member pat; the API "Order history"
/// (`ORDERS`); the app "Shop" (consent required) whose tokens may be for it; a provider
/// button "Contoso ID". The logos are served over https on loopback.
struct Looks {
    app: TestApp,
    shop: Rp,
    realm_logo: String,
    _idp: FakeIdp,
}

async fn looks() -> Looks {
    let app = spawn_federated().await;
    fast_realm(&app, REALM).await;
    let realm_logo = format!(
        "https://localhost:{}/",
        https_file("image/svg+xml", REALM_LOGO.into()).await
    );
    let org_logo = format!(
        "https://localhost:{}/",
        https_file("image/svg+xml", ORG_LOGO.into()).await
    );
    set_realm(
        &app,
        REALM,
        json!({ "display_name": "Northwind Health", "logo_uri": realm_logo }),
    )
    .await;
    let pat = add_user(&app, REALM, "pat", PW).await;
    for (alias, name, logo) in [
        ("acme", "Acme Corporation", Some(org_logo.as_str())),
        ("globex", "Globex", None),
    ] {
        let org = app
            .admin_ok(
                Method::POST,
                &format!("/admin/realms/{REALM}/organizations"),
                Some(json!({ "alias": alias, "name": name, "logo_uri": logo })),
            )
            .await;
        app.admin_ok(
            Method::POST,
            &format!(
                "/admin/realms/{REALM}/organizations/{}/members",
                s(&org, "id")
            ),
            Some(json!({ "user_id": pat, "roles": [] })),
        )
        .await;
    }
    app.create_client(
        REALM,
        json!({
            "client_id": "orders-api",
            "name": "Order history",
            "grant_types": ["client_credentials"],
            "resource_uris": [ORDERS],
        }),
    )
    .await;
    let (_, secret) = app
        .create_client(
            REALM,
            json!({
                "client_id": "shop",
                "name": "Shop",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "scopes": ["openid", "profile", "email", "offline_access", "organization", "orders:read"],
                "audiences": [ORDERS],
                "consent_required": true,
            }),
        )
        .await;
    let mut shop = Rp::new(REALM, "shop", secret.as_deref(), REDIRECT);
    shop.scope = "openid profile email offline_access organization orders:read".into();
    let idp = FakeIdp::start().await;
    add_idp(
        &app,
        REALM,
        idp.registration("contoso"),
        json!({ "display_name": "Contoso ID" }),
    )
    .await;
    Looks {
        app,
        shop,
        realm_logo,
        _idp: idp,
    }
}

/// The consent page pat gets from the shop after choosing acme.
async fn consent_page(l: &Looks) -> String {
    let mut agent = Agent::default();
    let res = l
        .shop
        .sign_in(&l.app, &mut agent, "pat", PW, &[("resource", ORDERS)])
        .await;
    let chooser = expect_status(res, StatusCode::OK).await;
    let state = hidden(&chooser, "state").expect("the organization chooser");
    let res = agent
        .post(
            &l.app,
            &l.app
                .url(&format!("/realms/{REALM}/login-actions/organization")),
            &[("state", &state), ("organization", "acme")],
        )
        .await;
    expect_status(res, StatusCode::OK).await
}

#[tokio::test]
async fn consent_says_in_words_what_each_scope_and_api_gives_away() {
    let l = looks().await;
    let page = consent_page(&l).await;
    for words in [
        "Shop</span> wants to use your account",
        "Sign you in with your Northwind Health account",
        "See your profile",
        "See your e-mail address",
        "Keep access while you are away",
        "Know that you act for Acme Corporation",
        // A scope we do not define: its name, plainly.
        "<span class=\"what\">orders:read</span>",
        // The API by the name of the client that serves it, its URI as a detail.
        "<span class=\"what\">Order history</span><small class=\"scope\">https://api.northwind.example/orders</small>",
    ] {
        assert!(page.contains(words), "missing {words:?} in {page}");
    }
    // Raw scope names only ever as the small print under the words.
    assert!(!page.contains("<code>"), "{page}");
    assert!(
        page.contains("<small class=\"scope\">email</small>"),
        "{page}"
    );
    // The organization's brand is on the page it is named on.
    assert!(page.contains("class=\"org-chip\""), "{page}");
}

#[tokio::test]
async fn the_login_page_shows_the_realms_display_name_and_logo_and_lets_only_that_logo_in() {
    let l = looks().await;
    let res = Agent::default()
        .get(&l.app, &l.shop.auth_url(&l.app, &[]))
        .await;
    let csp = header(&res, "content-security-policy").unwrap();
    let page = expect_status(res, StatusCode::OK).await;
    assert!(
        page.contains("<p class=\"realm\">Northwind Health</p>"),
        "{page}"
    );
    assert!(
        page.contains(&format!("<img class=\"logo\" src=\"{}\"", l.realm_logo)),
        "{page}"
    );
    assert!(page.contains("Continue with Contoso ID"), "{page}");
    // img-src names the logo's origin, never `https:` at large; scripts stay our own.
    let origin = l.realm_logo.trim_end_matches('/');
    assert!(
        csp.contains(&format!("img-src 'self' data: {origin};")),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("https:;"),
        "{csp}"
    );

    // A login for an organization shows the organization too.
    let res = Agent::default()
        .get(
            &l.app,
            &l.shop.auth_url(&l.app, &[("organization", "acme")]),
        )
        .await;
    let page = expect_status(res, StatusCode::OK).await;
    assert!(
        page.contains("<span class=\"visually-hidden\">Organization: </span>Acme Corporation"),
        "{page}"
    );
}

#[tokio::test]
async fn error_pages_say_what_happened_and_what_to_do_and_keep_the_code_as_a_detail() {
    let app = spawn_app().await;
    let rp = Rp::demo_app(&app);
    for (what, url, title) in [
        (
            "unknown client",
            rp.auth_url(&app, &[("client_id", "nobody")]),
            "This application is not set up correctly",
        ),
        (
            "no client",
            rp.auth_url(&app, &[("client_id", "")]),
            "This application is not set up correctly",
        ),
        (
            "unregistered redirect",
            rp.auth_url(&app, &[("redirect_uri", "https://evil.example/cb")]),
            "This application is not set up correctly",
        ),
        (
            "forged invitation",
            app.url("/realms/demo/invitations/accept?token=forged"),
            "This invitation cannot be used",
        ),
    ] {
        let page = assert_error_page(Agent::default().get(&app, &url).await, what).await;
        assert!(
            page.contains(&format!("<h1>{title}</h1>")),
            "{what}: {page}"
        );
        assert!(page.contains("What you can do:"), "{what}: {page}");
        // In the look of the realm the request is for.
        assert!(
            page.contains("<p class=\"realm\">demo</p>"),
            "{what}: {page}"
        );
        // The protocol code appears once, in the small print for support.
        let tech = page.find("<p class=\"tech\">").expect("the details line");
        let code = page.find("<code>").expect("the code");
        assert!(code > tech, "{what}: the code outside the details: {page}");
        assert_eq!(page.matches("<code>").count(), 1, "{what}: {page}");
    }
    // An expired sign-in form: start again.
    let res = Agent::default()
        .post(
            &app,
            &rp.login_action(&app),
            &[("state", "stale"), ("username", "demo"), ("password", "x")],
        )
        .await;
    let page = assert_error_page(res, "stale form").await;
    assert!(page.contains("<h1>This page has expired</h1>"), "{page}");
}

#[tokio::test]
async fn branding_is_validated_and_read_back_through_the_admin_api() {
    let app = spawn_app().await;
    let put = |body: Value| {
        let app = &app;
        async move {
            app.admin(Method::PUT, "/admin/realms/demo", Some(body))
                .await
        }
    };
    for bad in [
        json!({ "logo_uri": "http://cdn.example/logo.png" }),
        json!({ "logo_uri": "javascript:alert(1)" }),
        json!({ "logo_uri": "https://u:p@cdn.example/logo.png" }),
        json!({ "display_name": "   " }),
        json!({ "display_name": "x".repeat(129) }),
    ] {
        assert_oauth_error(put(bad.clone()).await, 400, "invalid_request").await;
    }
    let r = ok_json(
        put(json!({ "display_name": " Demo Company ", "logo_uri": "https://cdn.example/l.svg" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["display_name"], "Demo Company");
    assert_eq!(r["logo_uri"], "https://cdn.example/l.svg");
    // Absent: unchanged; null: cleared.
    let r = ok_json(put(json!({ "enabled": true })).await, StatusCode::OK).await;
    assert_eq!(r["display_name"], "Demo Company");
    let r = ok_json(put(json!({ "logo_uri": null })).await, StatusCode::OK).await;
    assert!(r.get("logo_uri").is_none(), "{r}");

    let org = |logo: Value| {
        let app = &app;
        async move {
            app.admin(
                Method::PUT,
                "/admin/realms/demo/organizations/acme",
                Some(json!({ "alias": "acme", "name": "Acme Inc.", "logo_uri": logo })),
            )
            .await
        }
    };
    assert_oauth_error(
        org(json!("data:image/png;base64,AA")).await,
        400,
        "invalid_request",
    )
    .await;
    let o = ok_json(
        org(json!("https://cdn.example/acme.png")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(o["logo_uri"], "https://cdn.example/acme.png");
}

#[tokio::test]
async fn every_page_reads_well_and_passes_axe_in_chromium() {
    if !chrome_available() {
        return;
    }
    let l = looks().await;
    let app = &l.app;
    let chrome = Chrome::start(&[]).await;

    chrome.open(&app.url("/")).await;
    chrome.check_page("start").await;

    // Login with the provider buttons, then with an error.
    chrome
        .open(&l.shop.auth_url(app, &[("resource", ORDERS)]))
        .await;
    chrome.check_page("login").await;
    // The page's CSP holds in this browser (no inline script), and axe ran all the same:
    // WebDriver's scripts are evaluated over the DevTools protocol, outside the policy.
    assert!(chrome.inline_script_blocked().await);
    chrome.fill("username", "pat").await;
    chrome.fill("password", "not the password").await;
    chrome.submit("form.stack button[type=submit]").await;
    let page = chrome.html().await;
    assert!(page.contains("Invalid username or password"), "{page}");
    chrome.check_page("login-error").await;

    // Signed in: pat belongs to two organizations, then consents.
    chrome.fill("password", PW).await;
    chrome.submit("form.stack button[type=submit]").await;
    assert!(chrome.html().await.contains("Choose an organization"));
    chrome.check_page("choose-org").await;
    chrome.submit("form.stack button[type=submit]").await;
    let consent = chrome.html().await;
    assert!(consent.contains("Order history"), "{consent}");
    assert!(consent.contains("Know that you act for Acme Corporation"));
    chrome.check_page("consent").await;

    // The person's own page, opened with the realm's session.
    chrome
        .open(&app.url(&format!("/realms/{REALM}/account")))
        .await;
    let page = chrome.html().await;
    assert!(page.contains("Your account"), "{page}");
    chrome.check_page("account").await;

    // Another device: the verification page, then what the person approves.
    app.create_client(
        REALM,
        serde_json::json!({
            "client_id": "tv", "public": true, "name": "Living Room TV",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
            "scopes": ["openid", "profile"],
        }),
    )
    .await;
    let res = app
        .http
        .post(app.endpoint(REALM, "auth/device"))
        .form(&[("client_id", "tv"), ("scope", "openid profile")])
        .send()
        .await
        .unwrap();
    let device = ok_json(res, reqwest::StatusCode::OK).await;
    chrome
        .open(&app.url(&format!("/realms/{REALM}/device")))
        .await;
    assert!(chrome.html().await.contains("Connect a device"));
    chrome.check_page("device-code").await;
    chrome.fill("user_code", &s(&device, "user_code")).await;
    chrome.submit("form.stack button[type=submit]").await;
    let page = chrome.html().await;
    assert!(
        page.contains("Living Room TV") && page.contains("Check that the device shows the code"),
        "{page}"
    );
    chrome.check_page("device-approve").await;

    // Logout asks first (no ID token names the session), then says it is done.
    chrome
        .open(&app.url(&format!("/realms/{REALM}/protocol/openid-connect/logout")))
        .await;
    let page = chrome.html().await;
    assert!(page.contains("Sign out?"), "{page}");
    chrome.check_page("logout").await;
    chrome.submit("form.stack button[type=submit]").await;
    let page = chrome.html().await;
    assert!(page.contains("You are signed out"), "{page}");
    chrome.check_page("logged-out").await;

    // "Forgot password?" (this realm sends no mail, and says so).
    chrome
        .open(&app.url(&format!("/realms/{REALM}/login-actions/forgot-password")))
        .await;
    assert!(chrome.html().await.contains("Forgot your password?"));
    chrome.check_page("forgot-password").await;

    // A login for one organization shows it.
    chrome
        .open(&l.shop.auth_url(app, &[("organization", "acme")]))
        .await;
    assert!(chrome.html().await.contains("Acme Corporation"));
    chrome.check_page("login-organization").await;

    // Errors.
    chrome
        .open(&l.shop.auth_url(app, &[("client_id", "nobody")]))
        .await;
    assert!(chrome.html().await.contains("not set up correctly"));
    chrome.check_page("error").await;
    chrome.open(&app.url("/no/such/page")).await;
    assert!(chrome.html().await.contains("Page not found"));
    chrome.check_page("not-found").await;

    // An invitation.
    let inv = app
        .admin_ok(
            Method::POST,
            &format!("/admin/realms/{REALM}/organizations/acme/invitations"),
            Some(json!({ "email": "sam@northwind.example" })),
        )
        .await;
    chrome.open(&s(&inv, "link")).await;
    assert!(chrome.html().await.contains("Join Acme Corporation"));
    chrome.check_page("invitation").await;
}

#[tokio::test]
async fn the_cli_sets_and_clears_the_branding_the_pages_show() {
    let app = spawn_app().await;
    let out = app.cli(&[
        "realm",
        "update",
        "demo",
        "--display-name",
        "Demo Company",
        "--logo-uri",
        "https://cdn.example/demo.svg",
    ]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("display name Demo Company, logo https://cdn.example/demo.svg"),
        "{said}"
    );
    let out = app.cli(&[
        "org",
        "update",
        "--realm",
        "demo",
        "acme",
        "--logo-uri",
        "https://cdn.example/acme.svg",
    ]);
    assert!(out.status.success(), "{out:?}");
    // The running server shows them (the CLI's writes reach its caches).
    let rp = Rp::demo_app(&app);
    let url = rp.auth_url(&app, &[("organization", "acme")]);
    let mut page = String::new();
    for _ in 0..100 {
        page = expect_status(Agent::default().get(&app, &url).await, StatusCode::OK).await;
        if page.contains("Demo Company") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        page.contains("<p class=\"realm\">Demo Company</p>"),
        "{page}"
    );
    assert!(page.contains("https://cdn.example/acme.svg"), "{page}");
    // A logo that is not https is refused with a clear line; an empty value clears.
    let out = app.cli(&[
        "realm",
        "update",
        "demo",
        "--logo-uri",
        "http://cdn.example/x.svg",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("logo_uri"),
        "{out:?}"
    );
    let out = app.cli(&["realm", "update", "demo", "--display-name", ""]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("display name -,"));
}
