//! The console's management pages over HTTP: clients (create with the secret shown once,
//! edit, search), the exchange policy editor and its dry run, identity providers added
//! from an issuer's discovery document, initial access tokens for a realm and for an
//! organization, and an organization's profile.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The secret a page shows once.
fn shown_secret(body: &str) -> Option<String> {
    let start = body.find("<p class=\"secret\">")? + "<p class=\"secret\">".len();
    let end = body[start..].find("</p>")? + start;
    Some(body[start..end].trim().to_owned())
}

#[tokio::test]
async fn a_client_created_in_the_console_shows_its_secret_once_and_is_edited_and_found() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    let clients = "/admin/console/realms/demo/clients";
    let res = c
        .post(
            &app,
            clients,
            &[
                ("client_id", "billing"),
                ("name", "Billing"),
                ("kind", "confidential"),
                ("redirect_uris", "https://billing.example/cb"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let secret = shown_secret(&res.text().await.unwrap()).expect("the secret, once");
    assert_eq!(secret.len(), 43);
    // The secret works, and the client's own page never shows it again.
    let (status, page) = c.get(&app, &format!("{clients}/billing")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(&secret) && shown_secret(&page).is_none());
    let token = app
        .post_basic(
            "demo",
            "token",
            "billing",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        )
        .await;
    assert_eq!(token.status(), StatusCode::BAD_REQUEST, "authenticated");
    // Edit: a second redirect URI, an audience, consent; what the form lacks stays.
    let res = c
        .post(
            &app,
            &format!("{clients}/billing"),
            &[
                ("name", "Billing app"),
                ("enabled", "on"),
                ("consent_required", "on"),
                (
                    "redirect_uris",
                    "https://billing.example/cb\nhttps://billing.example/cb2",
                ),
                ("grant_types", "authorization_code refresh_token"),
                ("scopes", "openid profile"),
                ("audiences", "demo-service"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/clients/billing", None)
        .await;
    assert_eq!(got["name"], "Billing app");
    assert_eq!(
        got["redirect_uris"],
        json!(["https://billing.example/cb", "https://billing.example/cb2"])
    );
    assert_eq!(got["audiences"], json!(["demo-service"]));
    assert_eq!(got["consent_required"], true);
    // A bad redirect URI changes nothing and says why.
    let res = c
        .post(
            &app,
            &format!("{clients}/billing"),
            &[
                ("name", "Broken"),
                ("redirect_uris", "not a uri"),
                ("grant_types", "authorization_code"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("Nothing was changed."));
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/clients/billing", None)
        .await;
    assert_eq!(got["name"], "Billing app");
    // Search by part of the name, any case.
    let (_, body) = c.get(&app, &format!("{clients}?q=BILL")).await;
    assert!(
        body.contains("billing") && !body.contains("demo-service"),
        "{body}"
    );
    // Delete.
    let res = c
        .post(&app, &format!("{clients}/billing/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, _) = c.get(&app, &format!("{clients}/billing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_exchange_policy_editor_saves_a_policy_and_the_dry_run_says_why() {
    let app = spawn_app().await;
    let user_token = Rp::demo_user_access_token(&app).await;
    let mut c = realm_admin(&app).await;
    let page = "/admin/console/realms/demo/clients/demo-app";
    let evaluate = format!("{page}/exchange-policy/evaluate");
    let dry_run = |audience: &'static str| {
        [
            ("subject_token", user_token.clone()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token".to_owned(),
            ),
            ("audience", audience.to_owned()),
        ]
    };
    let form = dry_run("demo-service");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = c.post(&app, &evaluate, &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains("would be allowed"), "{body}");
    assert!(body.contains("demo-service"), "the token it would issue");
    // The policy now allows no audience but the client itself: the same request is
    // refused, with the reason and the error code the token endpoint would answer.
    let res = c
        .post(
            &app,
            &format!("{page}/exchange-policy"),
            &[("policy", r#"{"audiences": []}"#)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c.post(&app, &evaluate, &form).await;
    let body = res.text().await.unwrap();
    assert!(body.contains("would be refused"), "{body}");
    assert!(body.contains("invalid_target"), "{body}");
    // A policy that is not JSON changes nothing.
    let res = c
        .post(
            &app,
            &format!("{page}/exchange-policy"),
            &[("policy", "{audiences: [")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let got = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/clients/demo-app/exchange-policy",
            None,
        )
        .await;
    assert_eq!(got["audiences"], json!([]), "{got}");
    // Nothing of the dry runs reached the exchange log.
    let log = app
        .admin_ok(Method::GET, "/admin/realms/demo/token-exchanges", None)
        .await;
    assert_eq!(log["items"].as_array().map_or(0, Vec::len), 0, "{log}");
}

#[tokio::test]
async fn a_provider_is_added_from_its_issuer_after_a_discovery_preview_and_turned_off() {
    let app = spawn_app().await;
    let idp = FakeIdp::start().await;
    let mut c = realm_admin(&app).await;
    let idps = "/admin/console/realms/demo/identity-providers";
    let res = c
        .post(
            &app,
            &format!("{idps}/preview"),
            &[("issuer", &idp.issuer())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains(&idp.url("/token")), "{body}");
    assert!(body.contains(&idp.url("/jwks")), "{body}");
    assert!(body.contains("RS256"), "{body}");
    // An address that answers no discovery is refused with the reason.
    let res = c
        .post(
            &app,
            &format!("{idps}/preview"),
            &[("issuer", &app.url("/nothing-here"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let reg = idp.registration("corp");
    let res = c
        .post(
            &app,
            idps,
            &[
                ("issuer", &idp.issuer()),
                ("alias", "corp"),
                ("display_name", "Corp SSO"),
                ("client_id", reg["client_id"].as_str().unwrap()),
                ("client_secret", reg["client_secret"].as_str().unwrap()),
                ("auth_method", "client_secret_basic"),
                ("create_users", "on"),
                ("organization", "acme"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, body) = c.get(&app, &format!("{idps}/corp")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("/realms/demo/broker/corp/endpoint"),
        "the redirect URI to register: {body}"
    );
    assert!(!body.contains(reg["client_secret"].as_str().unwrap()));
    // The test sign-in goes straight to the provider, asking for a fresh login, and ends
    // signed in to the realm's organization console as the person the provider vouched
    // for (who administers no organization).
    // The provider answers for acme, which accepts addresses under its own domains.
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/organizations/acme/domains/acme.test",
        Some(json!({ "verified": true })),
    )
    .await;
    idp.set(|b| b.email = "tester@acme.test".into());
    let mut tester = Agent::default();
    let res = tester
        .get(&app, &app.url("/realms/demo/console/sign-in/corp"))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = header(&res, "location").unwrap();
    assert!(
        to.contains("kc_idp_hint=corp") && to.contains("prompt=login"),
        "{to}"
    );
    let to_upstream = tester.get(&app, &local(&app, &to)).await;
    let upstream = header(&to_upstream, "location").expect("to the provider");
    assert!(upstream.starts_with(&idp.issuer()), "{upstream}");
    let answer = tester.get(&app, &upstream).await;
    let back = header(&answer, "location").expect("the provider answers at once");
    let back = tester.get(&app, &local(&app, &back)).await;
    let status = back.status();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        back.text().await.unwrap()
    );
    let callback = header(&back, "location").unwrap();
    assert!(
        callback.contains("/realms/demo/console/callback?"),
        "{callback}"
    );
    let res = tester.get(&app, &local(&app, &callback)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = tester.get(&app, &app.url("/realms/demo/console/")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("you administer no organization"),
        "the console session of the upstream's person"
    );
    // The organization's administrator sees it among the organization's providers.
    let mut org = demo_org_admin(&app).await;
    let (status, body) = org
        .get(
            &app,
            "/realms/demo/console/organizations/acme/identity-providers",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Corp SSO") && body.contains(&idp.issuer()),
        "{body}"
    );
    // Off: the stored secret stays, the provider stops signing people in.
    let res = c.post(&app, &format!("{idps}/corp/enabled"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let got = app
        .admin_ok(Method::GET, &idp_path("demo", Some("corp")), None)
        .await;
    assert_eq!(got["enabled"], false);
    let res = c
        .post(&app, &format!("{idps}/corp/enabled"), &[("enabled", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "on again, same secret");
    let got = app
        .admin_ok(Method::GET, &idp_path("demo", Some("corp")), None)
        .await;
    assert_eq!(got["enabled"], true);
    // An organization's administrator cannot add providers.
    let res = org
        .post(
            &app,
            "/admin/console/realms/demo/identity-providers/preview",
            &[("issuer", &idp.issuer())],
        )
        .await;
    assert_ne!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn initial_access_tokens_are_shown_once_and_an_organizations_own_register_its_clients() {
    let app = spawn_app().await;
    let mut org = demo_org_admin(&app).await;
    let page = "/realms/demo/console/organizations/acme/clients";
    let res = org
        .post(&app, page, &[("count", "1"), ("expires_in", "600")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = shown_secret(&res.text().await.unwrap()).expect("the token, once");
    let res = app
        .http
        .post(app.url("/realms/demo/clients-registrations/openid-connect"))
        .bearer_auth(&token)
        .json(&json!({
            "client_name": "Acme tool",
            "redirect_uris": ["https://tool.acme.example/cb"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let registered: serde_json::Value = res.json().await.unwrap();
    let (status, body) = org.get(&app, page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(s(&registered, "client_id").as_str()),
        "{body}"
    );
    assert!(!body.contains(&token), "never shown again");
    assert!(body.contains("<td>0</td>"), "used up: {body}");
    // The realm's own tokens: minted and revoked by a realm administrator only.
    let mut c = realm_admin(&app).await;
    let realm_page = "/admin/console/realms/demo/registration";
    let res = c.post(&app, realm_page, &[("count", "3")]).await;
    let body = res.text().await.unwrap();
    let token = shown_secret(&body).expect("the token, once");
    let listed = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/clients-initial-access",
            None,
        )
        .await;
    let id = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["remaining"] == 3)
        .map(|t| s(t, "id"))
        .expect("the realm's token");
    let res = c
        .post(&app, &format!("{realm_page}/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .http
        .post(app.url("/realms/demo/clients-registrations/openid-connect"))
        .bearer_auth(&token)
        .json(&json!({ "redirect_uris": ["https://x.example/cb"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "revoked");
    let (status, _) = org
        .get(&app, "/admin/console/realms/demo/registration")
        .await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_organization_admin_edits_its_profile_but_not_its_status_and_a_realm_admin_deletes_it() {
    let app = spawn_app().await;
    let mut org = demo_org_admin(&app).await;
    let profile = "/realms/demo/console/organizations/acme/profile";
    let (status, body) = org.get(&app, profile).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Delete organization"));
    let res = org
        .post(
            &app,
            profile,
            &[
                ("name", "Acme Corporation"),
                ("description", "Makers of everything"),
                // Ignored from the organization console: attributes (tokens may carry
                // them) and the status stay with the realm's administrators.
                ("attributes", r#"{"tier": "gold"}"#),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/acme", None)
        .await;
    assert_eq!(got["name"], "Acme Corporation");
    assert_eq!(got["description"], "Makers of everything");
    assert!(got["attributes"].get("tier").is_none(), "{got}");
    assert_eq!(got["enabled"], true);
    let res = org
        .post(
            &app,
            profile,
            &[("name", "X"), ("logo_uri", "javascript:alert(1)")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Deleting is for realm administrators; the organization console has no such form
    // and its post is refused.
    let res = org
        .post(&app, "/realms/demo/console/organizations/acme/delete", &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut c = realm_admin(&app).await;
    let res = c
        .post(
            &app,
            "/admin/console/realms/demo/organizations/acme/profile",
            &[
                ("name", "Acme Corporation"),
                ("attributes", r#"{"tier": "gold"}"#),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "unchecked: disabled");
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/acme", None)
        .await;
    assert_eq!(got["enabled"], false);
    assert_eq!(got["attributes"]["tier"], "gold");
    let res = c
        .post(
            &app,
            "/admin/console/realms/demo/organizations/acme/profile",
            &[("name", "Acme"), ("attributes", "[1, 2]")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = c
        .post(
            &app,
            "/admin/console/realms/demo/organizations/acme/delete",
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .admin(Method::GET, "/admin/realms/demo/organizations/acme", None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// SQL statements one console page render costs: the least of three renders (a background
/// job's statement may land inside one of them).
async fn statements(app: &TestApp, c: &mut ConsoleBrowser, path: &str) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..3 {
        let before = app.provider.store().statement_count();
        let (status, _) = c.get(app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        least = least.min(app.provider.store().statement_count() - before);
    }
    least
}

#[tokio::test]
async fn every_console_page_costs_the_same_statements_with_few_or_sixty_more_rows() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    let mut org = demo_org_admin(&app).await;
    let user = app
        .admin_ok(Method::GET, "/admin/realms/demo/users?search=demo", None)
        .await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let realm = "/admin/console/realms/demo";
    let acme = "/realms/demo/console/organizations/acme";
    let realm_pages = [
        "organizations".to_owned(),
        "users".into(),
        format!("users/{user}"),
        "clients".into(),
        "clients/demo-app".into(),
        "identity-providers".into(),
        "registration".into(),
        "keys".into(),
        "admin-keys".into(),
        "exchanges".into(),
        "approvals".into(),
        "events".into(),
        "settings".into(),
        "organizations/acme/members".into(),
    ];
    let org_pages = [
        "profile",
        "members",
        "invitations",
        "domains",
        "identity-providers",
        "clients",
        "admin-keys",
        "events",
    ];
    let mut few = Vec::new();
    for p in &realm_pages {
        few.push(statements(&app, &mut c, &format!("{realm}/{p}")).await);
    }
    for p in org_pages {
        few.push(statements(&app, &mut org, &format!("{acme}/{p}")).await);
    }
    // Sixty more users (members of acme), clients, organizations, audit entries and
    // device requests waiting for approval.
    let (_, tv) = app
        .create_client(
            "demo",
            json!({ "client_id": "bulk-tv", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"] }),
        )
        .await;
    let tv = tv.unwrap();
    for i in 0..60 {
        let res = app
            .post_basic("demo", "auth/device", "bulk-tv", &tv, &[])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let u = app
            .admin_ok(
                Method::POST,
                "/admin/realms/demo/users",
                Some(json!({ "username": format!("bulk-{i:02}"), "email": format!("bulk-{i:02}@demo.test") })),
            )
            .await;
        app.admin_ok(
            Method::POST,
            "/admin/realms/demo/organizations/acme/members",
            Some(json!({ "user_id": s(&u, "id"), "roles": ["member"] })),
        )
        .await;
        app.create_client(
            "demo",
            json!({ "client_id": format!("bulk-{i:02}"), "organization_id": "acme" }),
        )
        .await;
        app.admin_ok(
            Method::POST,
            "/admin/realms/demo/organizations",
            Some(json!({ "alias": format!("bulk-{i:02}"), "name": format!("Bulk {i}") })),
        )
        .await;
    }
    let mut many = Vec::new();
    for p in &realm_pages {
        many.push(statements(&app, &mut c, &format!("{realm}/{p}")).await);
    }
    for p in org_pages {
        many.push(statements(&app, &mut org, &format!("{acme}/{p}")).await);
    }
    let names: Vec<String> = realm_pages
        .iter()
        .cloned()
        .chain(org_pages.iter().map(|p| format!("acme/{p}")))
        .collect();
    for ((name, f), m) in names.iter().zip(&few).zip(&many) {
        assert_eq!(f, m, "{name}: {f} statements, then {m} with 60 more rows");
        assert!(*m <= 16, "{name}: {m} statements");
    }
}

#[tokio::test]
async fn an_unverified_domain_claim_cannot_squat_another_organizations_domain() {
    let app = spawn_app().await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations",
        Some(json!({ "alias": "globex", "name": "Globex" })),
    )
    .await;
    let mut org = demo_org_admin(&app).await;
    let domains = "/realms/demo/console/organizations/acme/domains";
    let res = org.post(&app, domains, &[("domain", "globex.test")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Globex claims its own domain: acme's unverified claim passes to it.
    let globex = "/admin/realms/demo/organizations/globex/domains/globex.test";
    let res = app
        .admin(Method::PUT, globex, Some(json!({ "verified": false })))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let (_, page) = org.get(&app, domains).await;
    assert!(!page.contains("globex.test"), "{page}");
    // Once verified it is Globex's: acme's claim is refused and changes nothing.
    app.admin_ok(Method::PUT, globex, Some(json!({ "verified": true })))
        .await;
    let res = org.post(&app, domains, &[("domain", "globex.test")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let got = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/globex", None)
        .await;
    assert!(got.to_string().contains("globex.test"), "{got}");
}

#[tokio::test]
async fn a_realm_admin_makes_another_master_user_a_realm_admin_in_the_console_and_keeps_one() {
    let app = spawn_app().await;
    let ops = add_user(&app, "master", "ops", PW).await;
    let mut c = realm_admin(&app).await;
    let page = format!("/admin/console/realms/master/users/{ops}");
    let (_, body) = c.get(&app, &page).await;
    assert!(body.contains("Make realm administrator"), "{body}");
    let res = c
        .post(&app, &format!("{page}/realm-admin"), &[("grant", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The new administrator signs in to the realm console.
    let mut other = ConsoleBrowser::sign_in(&app, "/admin/console", "master", "ops", PW).await;
    let (status, _) = other.get(&app, "/admin/console/realms").await;
    assert_eq!(status, StatusCode::OK);
    // They take the role from the seeded administrator, then cannot take their own:
    // realm master keeps one administrator.
    let admin = app
        .admin_ok(Method::GET, "/admin/realms/master/users?search=admin", None)
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "admin")
        .map(|u| s(u, "id"))
        .unwrap();
    let res = other
        .post(
            &app,
            &format!("/admin/console/realms/master/users/{admin}/realm-admin"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = other.post(&app, &format!("{page}/realm-admin"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let (status, _) = c.get(&app, "/admin/console/realms").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the seeded admin's role is gone"
    );
}

#[tokio::test]
async fn hostile_console_forms_and_paths_get_a_page_never_a_server_error() {
    let app = spawn_app().await;
    let mut c = realm_admin(&app).await;
    let realm = "/admin/console/realms/demo";
    let long = "x".repeat(5000);
    let junk: [&str; 6] = [
        "",
        "\u{0}",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "../../etc/passwd",
        &long,
    ];
    let posts = [
        "clients",
        "clients/demo-app",
        "clients/demo-app/exchange-policy",
        "clients/demo-app/exchange-policy/evaluate",
        "clients/no-such/delete",
        "identity-providers",
        "identity-providers/preview",
        "identity-providers/no-such/enabled",
        "registration",
        "registration/not-a-uuid/revoke",
        "organizations/acme/profile",
        "organizations/acme/clients",
        "settings",
    ];
    let fields = [
        "client_id",
        "name",
        "redirect_uris",
        "policy",
        "subject_token",
        "subject_token_type",
        "audience",
        "issuer",
        "alias",
        "client_secret",
        "organization",
        "count",
        "expires_in",
        "attributes",
        "logo_uri",
        "audit_retention_days",
    ];
    for path in posts {
        for value in junk {
            let form: Vec<(&str, &str)> = fields.iter().map(|f| (*f, value)).collect();
            let res = c.post(&app, &format!("{realm}/{path}"), &form).await;
            assert!(
                res.status().as_u16() < 500,
                "{path} with {:?}: {}",
                &value[..value.len().min(20)],
                res.status()
            );
        }
    }
    for path in [
        "clients/%00",
        "clients/%FF%FE",
        "identity-providers/..%2F..%2Fx",
        "identity-providers/UPPER",
        "organizations/%20/profile",
        "users/not-a-uuid",
    ] {
        let (status, _) = c.get(&app, &format!("{realm}/{path}")).await;
        assert!(status.as_u16() < 500, "{path}: {status}");
    }
    let (status, _) = c.get(&app, &format!("{realm}/clients/{long}")).await;
    assert!(status.as_u16() < 500);
    // The test sign-in of a provider that does not exist, or is no alias, signs nobody in.
    for idp in ["no-such", "%00", "..", "A%20B"] {
        let res = app
            .http
            .get(app.url(&format!("/realms/demo/console/sign-in/{idp}")))
            .send()
            .await
            .unwrap();
        assert!(res.status().as_u16() < 500, "{idp}: {}", res.status());
    }
}

#[tokio::test]
async fn two_administrators_demoting_each_other_at_once_leave_one_administrator() {
    let app = spawn_app().await;
    let demo = app
        .admin_ok(Method::GET, "/admin/realms/demo/users?search=demo", None)
        .await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = |id: &str| format!("/admin/realms/demo/organizations/acme/members/{id}/roles");
    let admins = |v: &serde_json::Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["roles"].to_string().contains("\"admin\""))
            .count()
    };
    for round in 0..8 {
        let other = app
            .admin_ok(
                Method::POST,
                "/admin/realms/demo/users",
                Some(json!({ "username": format!("second-{round}") })),
            )
            .await;
        let other = s(&other, "id");
        app.admin_ok(
            Method::POST,
            "/admin/realms/demo/organizations/acme/members",
            Some(json!({ "user_id": other, "roles": ["admin"] })),
        )
        .await;
        // Both administrators lose the role at once: by a demotion and by leaving.
        let (demote, leave) = (
            roles(&demo),
            format!("/admin/realms/demo/organizations/acme/members/{other}"),
        );
        let (a, b) = tokio::join!(
            app.admin(Method::PUT, &demote, Some(json!({ "roles": ["member"] }))),
            app.admin(Method::DELETE, &leave, None),
        );
        let ok = [a.status(), b.status()]
            .iter()
            .filter(|s| s.is_success())
            .count();
        let refused = [a.status(), b.status()]
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((ok, refused), (1, 1), "round {round}");
        let members = app
            .admin_ok(
                Method::GET,
                "/admin/realms/demo/organizations/acme/members",
                None,
            )
            .await;
        assert_eq!(admins(&members), 1, "round {round}: {members}");
        // Leave the organization as it was for the next round: demo its one administrator.
        if !b.status().is_success() {
            let res = app
                .admin(
                    Method::PUT,
                    &roles(&demo),
                    Some(json!({ "roles": ["admin"] })),
                )
                .await;
            assert!(res.status().is_success());
            let res = app
                .admin(
                    Method::DELETE,
                    &format!("/admin/realms/demo/organizations/acme/members/{other}"),
                    None,
                )
                .await;
            assert!(res.status().is_success());
        }
    }
}
