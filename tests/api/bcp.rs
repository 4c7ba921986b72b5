//! RFC 9700 (OAuth 2.0 Security BCP) as negative tests, SECURITY-CASES §2.1 BCP-1…BCP-21,
//! the RFC 6749 / OIDC Core baseline negatives of §2.2, the §1.0 checks on happy paths, and
//! back-channel logout (§2.10) cases that logout.rs leaves open.
//!
//! Only tests: the browser and relying-party kit they drive (`Agent`, `Rp`) is in
//! helpers/, shared with the other test files.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// BCP-1, BCP-2, BCP-3: redirect URIs and open redirectors
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcp_1_every_redirect_uri_variant_gets_an_error_page_without_location() {
    let app = spawn_app().await;
    let registered = "https://app.example/cb";
    app.create_client(
        "demo",
        json!({ "client_id": "exact", "grant_types": ["authorization_code"],
                "redirect_uris": [registered], "scopes": ["openid"] }),
    )
    .await;
    let mut exact = Rp::new("demo", "exact", None, registered);
    exact.scope = "openid".into();
    for bad in [
        "https://app.example/cb/x",
        "https://app.example/CB",
        "https://APP.example/cb",
        "HTTPS://app.example/cb",
        "https://app.example/cb?x=1",
        "https://app.example/cb?",
        "https://app.example.evil.com/cb",
        "https://app.example/cb/..;/evil",
        "https://app.example/cb/../cb",
        "https://app.example/./cb",
        "https://user@app.example@evil/cb",
        "https://app.example@evil.example/cb",
        "https://evil.example#@app.example/cb",
        "https://evil.example\\@app.example/cb",
        "https://app.example/%63b",
        "https://app.example/%2563b",
        "https://app.example/cb%2F",
        "https://app.example/cb%00",
        "https://app.example/cb/",
        "https://app.example/cb#frag",
        "https://app.example/cb#",
        "https://app.example:443/cb",
        "https://app.example:8443/cb",
        "http://app.example/cb",
        "//app.example/cb",
        "app.example/cb",
        " https://app.example/cb",
        "https://app.example/cb ",
        "https://app.example/cb\t",
        "https://xn--app-example/cb",
        // Loopback URIs are only accepted when a loopback URI is registered (CVE-2020-15233).
        "http://127.0.0.1/cb",
        "http://127.0.0.1:443/cb",
        "http://localhost/cb",
    ] {
        let res = Agent::default()
            .get(&app, &exact.auth_url(&app, &[("redirect_uri", bad)]))
            .await;
        assert_error_page(res, bad).await;
    }
    // The loopback client: only the port may vary, nothing else.
    let demo = Rp::demo_app(&app);
    for bad in [
        "http://127.0.0.1:9999/cb/",
        "http://127.0.0.1:9999/CB",
        "http://127.0.0.1:9999/cb?x=1",
        "http://127.0.0.1:9999/cb#f",
        "http://127.0.0.1:9999/cb/../cb",
        "http://127.0.0.1:9999/%63b",
        "http://127.0.0.2:9999/cb",
        "http://127.1:9999/cb",
        "http://2130706433:9999/cb",
        "http://localhost:9999/cb",
        "http://[::1]:9999/cb",
        "https://127.0.0.1:9999/cb",
        "http://127.0.0.1:/cb",
        "http://127.0.0.1:99x/cb",
        "http://127.0.0.1:9999@evil.example/cb",
        "http://evil.example@127.0.0.1:9999/cb",
        "http://127.0.0.1:9999\\@evil.example/cb",
        "http://127.0.0.1.evil.example:9999/cb",
        "http://127.0.0.1:9999.evil.example/cb",
    ] {
        let res = Agent::default()
            .get(&app, &demo.auth_url(&app, &[("redirect_uri", bad)]))
            .await;
        assert_error_page(res, bad).await;
    }
    // Controls: the exact URI, and the loopback URI on another port (RFC 8252 §7.3).
    for (rp, ok) in [
        (&exact, registered),
        (&demo, "http://127.0.0.1:51234/cb"),
        (&demo, "http://127.0.0.1/cb"),
    ] {
        let res = Agent::default()
            .get(&app, &rp.auth_url(&app, &[("redirect_uri", ok)]))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{ok}");
    }
}

#[tokio::test]
async fn bcp_1_s2_2_a_code_must_be_redeemed_with_the_identical_redirect_uri() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    // The loopback port varies at the authorization endpoint…
    let other_port = Rp {
        redirect: "http://127.0.0.1:4444/cb".into(),
        ..demo.clone()
    };
    let cb = other_port.login_demo(&app, &mut agent, &[]).await;
    // …and the token request must repeat that very URI, not the registered one.
    let res = demo.redeem_with(&app, &cb["code"], VERIFIER).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    for variant in [
        "http://127.0.0.1:9999/cb/",
        "http://127.0.0.1:9999/cb?x",
        "http://localhost:9999/cb",
    ] {
        let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
        let res = demo
            .token(
                &app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &cb["code"]),
                    ("redirect_uri", variant),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    // Control: the same URI as in the request.
    let cb = other_port.callback(&agent.get(&app, &other_port.auth_url(&app, &[])).await);
    other_port.tokens(&app, &cb["code"]).await;
}

#[tokio::test]
async fn s2_2_a_code_redeemed_without_the_redirect_uri_of_its_request_is_refused() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let res = demo
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"] == "invalid_grant" || body["error"] == "invalid_request",
        "{body}"
    );
}

#[tokio::test]
async fn bcp_2_unknown_missing_disabled_or_unfit_clients_get_an_error_page_never_a_redirect() {
    let app = spawn_app().await;
    app.create_client(
        "demo",
        json!({ "client_id": "off", "enabled": false, "grant_types": ["authorization_code"],
                "redirect_uris": [REDIRECT], "scopes": ["openid"] }),
    )
    .await;
    let demo = Rp::demo_app(&app);
    let long = "c".repeat(500);
    for (what, extra) in [
        ("unknown client", vec![("client_id", "nope")]),
        (
            "unknown client, foreign URI",
            vec![
                ("client_id", "nope"),
                ("redirect_uri", "https://evil.example/"),
            ],
        ),
        ("missing client_id", vec![("client_id", "")]),
        ("malformed client_id", vec![("client_id", "demo app")]),
        ("non-ASCII client_id", vec![("client_id", "démo-app")]),
        ("long client_id", vec![("client_id", long.as_str())]),
        ("disabled client", vec![("client_id", "off")]),
        // A client without the authorization_code grant.
        ("service client", vec![("client_id", "demo-service")]),
        // OIDC Core §3.1.2.1: redirect_uri is REQUIRED with scope=openid.
        ("OIDC without redirect_uri", vec![("redirect_uri", "")]),
        (
            "unregistered URI with prompt=none",
            vec![
                ("redirect_uri", "https://evil.example/cb"),
                ("prompt", "none"),
            ],
        ),
    ] {
        let res = Agent::default()
            .get(&app, &demo.auth_url(&app, &extra))
            .await;
        assert_error_page(res, what).await;
    }
    // An unknown realm: a 404 page, no redirect.
    let nowhere = Rp {
        realm: "nowhere".into(),
        ..demo.clone()
    };
    let res = Agent::default()
        .get(&app, &nowhere.auth_url(&app, &[]))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_error_page(res, "unknown realm").await;
    // Plain OAuth (no openid) may omit redirect_uri when exactly one is registered.
    let res = Agent::default()
        .get(
            &app,
            &demo.auth_url(&app, &[("redirect_uri", ""), ("scope", "profile")]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn bcp_3_errors_of_a_valid_client_go_only_to_its_registered_redirect_uri() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let evil = "https://evil.example/cb";
    for (extra, error) in [
        (vec![("prompt", "none")], "login_required"),
        (vec![("scope", "openid admin")], "invalid_scope"),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
    ] {
        let cb = demo.callback(
            &Agent::default()
                .get(&app, &demo.auth_url(&app, &extra))
                .await,
        );
        assert_authz_error(&cb, error, "demo", Some("st-1"));
        // The same error with an unregistered URI is never delivered there.
        let mut with_evil = extra.clone();
        with_evil.push(("redirect_uri", evil));
        let res = Agent::default()
            .get(&app, &demo.auth_url(&app, &with_evil))
            .await;
        let page = assert_error_page(res, error).await;
        assert!(!page.contains("evil.example"), "{page}");
    }
}

// ---------------------------------------------------------------------------------------
// BCP-4 … BCP-7: PKCE
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcp_4_a_challenge_is_enforced_for_a_confidential_client_and_a_failed_redemption_burns_the_code()
 {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    // CVE-2023-48228: challenge sent, verifier omitted.
    let res = demo
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    // The code is spent: no second guess, even with the right verifier.
    let res = demo.redeem_with(&app, &cb["code"], VERIFIER).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn bcp_5_a_verifier_for_a_code_requested_without_a_challenge_is_invalid_grant() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let no_pkce = [("code_challenge", ""), ("code_challenge_method", "")];
    let cb = demo.login_demo(&app, &mut agent, &no_pkce).await;
    // PKCE downgrade (RFC 9700 §4.8.2): any verifier is refused.
    for verifier in [VERIFIER, &new_verifier()] {
        let cb2 = demo.callback(&agent.get(&app, &demo.auth_url(&app, &no_pkce)).await);
        let res = demo.redeem_with(&app, &cb2["code"], verifier).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    // Control: a confidential client may do without PKCE altogether.
    let res = demo
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn bcp_6_a_public_client_without_a_challenge_is_redirected_with_invalid_request() {
    let app = spawn_app().await;
    let spa = browser_client(&app, "spa", true, json!({})).await;
    for extra in [
        vec![("code_challenge", ""), ("code_challenge_method", "")],
        vec![("code_challenge", "")],
    ] {
        let cb = spa.callback(
            &Agent::default()
                .get(&app, &spa.auth_url(&app, &extra))
                .await,
        );
        assert_authz_error(&cb, "invalid_request", "demo", Some("st-1"));
    }
    // Also when the browser has a session: no code without PKCE.
    let mut agent = Agent::default();
    spa.login_demo(&app, &mut agent, &[]).await;
    let res = agent
        .get(
            &app,
            &spa.auth_url(
                &app,
                &[("code_challenge", ""), ("code_challenge_method", "")],
            ),
        )
        .await;
    assert_authz_error(&spa.callback(&res), "invalid_request", "demo", Some("st-1"));
}

#[tokio::test]
async fn bcp_7_bcp_19_discovery_advertises_s256_only_and_the_iss_response_parameter() {
    let app = spawn_app().await;
    let d: Value = app
        .http
        .get(app.url("/realms/demo/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // §1.0: the issuer is the discovery URL minus the well-known suffix (at the configured
    // public URL, which deliberately differs from the address the tests connect to).
    assert_eq!(
        format!("{}/.well-known/openid-configuration", s(&d, "issuer")),
        format!("{PUBLIC_URL}/realms/demo/.well-known/openid-configuration")
    );
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["response_types_supported"], json!(["code"]));
    let grants = d["grant_types_supported"].as_array().unwrap();
    for banned in ["password", "implicit"] {
        assert!(!grants.contains(&json!(banned)), "{banned} advertised");
    }
}

// ---------------------------------------------------------------------------------------
// BCP-8 … BCP-12: codes and refresh tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcp_8_code_replay_also_revokes_tokens_obtained_by_refreshing_the_first_redemption() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t1 = demo.tokens(&app, &cb["code"]).await;
    let res = demo.refresh(&app, &s(&t1, "refresh_token"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let t2: Value = res.json().await.unwrap();
    // The replay.
    let res = demo.redeem_with(&app, &cb["code"], VERIFIER).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    for at in [s(&t1, "access_token"), s(&t2, "access_token")] {
        assert_invalid_token(userinfo(&app, "demo", &at).await).await;
        let i = app
            .introspect("demo", "demo-service", &app.demo_secret, &at)
            .await;
        assert_eq!(i, json!({ "active": false }));
    }
    let res = demo.refresh(&app, &s(&t2, "refresh_token"), None).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn bcp_9_the_password_grant_is_unsupported_and_cannot_be_registered() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let spa = browser_client(&app, "spa", true, json!({})).await;
    let pw = app.seeded("demo");
    for rp in [&demo, &spa] {
        let res = rp
            .token(
                &app,
                &[
                    ("grant_type", "password"),
                    ("username", "demo"),
                    ("password", &pw),
                    ("scope", "openid"),
                ],
            )
            .await;
        let body = assert_oauth_error(res, 400, "unsupported_grant_type").await;
        assert!(body.get("access_token").is_none());
    }
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/demo/clients",
            Some(json!({ "client_id": "ropc", "grant_types": ["password"] })),
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn bcp_10_a_public_clients_refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    let app = spawn_app().await;
    let spa = browser_client(&app, "spa", true, json!({})).await;
    let cb = spa.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = spa.tokens(&app, &cb["code"]).await;
    let rt1 = s(&t, "refresh_token");
    let res = spa.refresh(&app, &rt1, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    let t2: Value = res.json().await.unwrap();
    let rt2 = s(&t2, "refresh_token");
    assert_ne!(rt1, rt2);
    assert_oauth_error(spa.refresh(&app, &rt1, None).await, 400, "invalid_grant").await;
    assert_oauth_error(spa.refresh(&app, &rt2, None).await, 400, "invalid_grant").await;
    assert_invalid_token(userinfo(&app, "demo", &s(&t2, "access_token")).await).await;
}

#[tokio::test]
async fn bcp_11_a_refresh_cannot_broaden_the_granted_scope() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    demo.login_demo(&app, &mut agent, &[]).await;
    // Each refusal on a fresh grant of `openid profile email`.
    for broader in [
        // The client may have api:read, but this grant does not.
        "openid api:read",
        "openid profile email offline_access",
        "openid unknown",
    ] {
        let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
        let t = demo.tokens(&app, &cb["code"]).await;
        let res = demo
            .refresh(&app, &s(&t, "refresh_token"), Some(broader))
            .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }
    let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
    let t = demo.tokens(&app, &cb["code"]).await;
    let res = demo
        .refresh(&app, &s(&t, "refresh_token"), Some("openid \"x\""))
        .await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    // Narrower is fine, and the access token carries only that.
    let res = demo
        .refresh(&app, &s(&t, "refresh_token"), Some("openid"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t2: Value = res.json().await.unwrap();
    assert_eq!(t2["scope"], "openid");
    let (_, at) = jwt_parts(&s(&t2, "access_token"));
    assert_eq!(at["scope"], "openid");
    let info: Value = userinfo(&app, "demo", &s(&t2, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert!(info.get("email").is_none(), "{info}");
}

#[tokio::test]
async fn bcp_11_a_refresh_refused_for_its_scope_leaves_the_refresh_token_usable() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    let rt = s(&t, "refresh_token");
    let res = demo.refresh(&app, &rt, Some("openid api:read")).await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    let res = demo.refresh(&app, &rt, None).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

#[tokio::test]
async fn rfc_6749_6_a_refresh_without_scope_gets_the_originally_granted_scope() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    let res = demo
        .refresh(&app, &s(&t, "refresh_token"), Some("openid"))
        .await;
    let t2: Value = res.json().await.unwrap();
    let res = demo.refresh(&app, &s(&t2, "refresh_token"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let t3: Value = res.json().await.unwrap();
    assert_eq!(t3["scope"], "email openid profile");
}

#[tokio::test]
async fn bcp_12_another_client_presenting_a_refresh_token_gets_invalid_grant_and_burns_the_family()
{
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let thief = browser_client(&app, "thief", false, json!({})).await;
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    let rt = s(&t, "refresh_token");
    let res = thief.refresh(&app, &rt, None).await;
    let body = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(body.get("access_token").is_none());
    // The stolen token's family is revoked (the code says so for BCP-12).
    assert_oauth_error(demo.refresh(&app, &rt, None).await, 400, "invalid_grant").await;
    let at = s(&t, "access_token");
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, &at)
            .await["active"],
        false
    );
}

#[tokio::test]
async fn s2_2_a_code_issued_to_one_client_is_invalid_grant_for_another() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let other = browser_client(&app, "other", false, json!({})).await;
    let spa = browser_client(&app, "spa", true, json!({})).await;
    for thief in [&other, &spa] {
        let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
        let res = thief.redeem_with(&app, &cb["code"], VERIFIER).await;
        let body = assert_oauth_error(res, 400, "invalid_grant").await;
        assert!(body.get("access_token").is_none());
    }
}

// ---------------------------------------------------------------------------------------
// BCP-13, BCP-14: audiences and subjects
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcp_13_userinfo_refuses_client_tokens_id_tokens_foreign_audiences_and_query_tokens() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    // demo-app may also use client_credentials, even with `openid`: no user behind it.
    let cc = demo
        .token(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
    assert_eq!(cc.status(), StatusCode::OK);
    let cc_at = s(&cc.json().await.unwrap(), "access_token");
    assert_invalid_token(userinfo(&app, "demo", &cc_at).await).await;

    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    // An ID token is not an access token.
    assert_invalid_token(userinfo(&app, "demo", &s(&t, "id_token")).await).await;
    // The master realm's admin token is not for demo's userinfo.
    let admin = app.admin_token().await;
    assert_invalid_token(userinfo(&app, "demo", &admin).await).await;
    // A demo user's token is not for the admin API.
    let at = s(&t, "access_token");
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_invalid_token(res).await;
    // Tokens in the URL are not accepted (RFC 6750 §2.3 query parameters are optional and unsafe).
    let res = app
        .http
        .get(format!(
            "{}?access_token={at}",
            app.endpoint("demo", "userinfo")
        ))
        .send()
        .await
        .unwrap();
    assert_invalid_token(res).await;
    // Control.
    assert_eq!(userinfo(&app, "demo", &at).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn bcp_14_a_client_named_like_a_users_sub_gets_tokens_with_a_different_sub() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    let (_, id) = jwt_parts(&s(&t, "id_token"));
    let user_sub = s(&id, "sub");
    let (uuid, secret) = app
        .create_client(
            "demo",
            json!({ "client_id": user_sub, "scopes": ["openid"] }),
        )
        .await;
    let cc = app
        .client_credentials("demo", &user_sub, &secret.unwrap())
        .await;
    let at = s(&cc, "access_token");
    let (_, claims) = jwt_parts(&at);
    assert_ne!(claims["sub"], user_sub.as_str());
    assert_eq!(claims["sub"], uuid.as_str());
    assert_eq!(claims["client_id"], user_sub.as_str());
    assert_invalid_token(userinfo(&app, "demo", &at).await).await;
}

// ---------------------------------------------------------------------------------------
// BCP-15 … BCP-20: registration, redirects, pages, CORS, iss, proxies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcp_15_bcl_3_the_admin_api_refuses_plain_http_and_other_unsafe_client_uris() {
    let app = spawn_app().await;
    let mut bodies = vec![];
    for uri in [
        "http://example.com/cb",
        "http://127.0.0.1.nip.io/cb",
        "http://localhost.evil.example/cb",
        "http://[::ffff:127.0.0.1]/cb",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "https://app.example/cb#frag",
        "https://user:pw@app.example/cb",
        "/cb",
        "",
    ] {
        bodies.push(json!({ "client_id": "c", "redirect_uris": [uri] }));
        bodies.push(json!({ "client_id": "c", "post_logout_redirect_uris": [uri] }));
        bodies.push(json!({ "client_id": "c", "backchannel_logout_uri": uri }));
    }
    for body in bodies {
        let res = app
            .admin(
                Method::POST,
                "/admin/realms/demo/clients",
                Some(body.clone()),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Controls.
    app.create_client(
        "demo",
        json!({ "client_id": "ok", "redirect_uris": ["https://app.example/cb", "http://127.0.0.1/cb"],
                "post_logout_redirect_uris": ["https://app.example/bye"],
                "backchannel_logout_uri": "https://app.example/bcl" }),
    )
    .await;
}

#[tokio::test]
async fn bcp_16_redirects_after_login_consent_authorization_posts_and_logout_are_303() {
    let app = spawn_app().await;
    let rp = browser_client(
        &app,
        "rp",
        false,
        json!({ "consent_required": true, "post_logout_redirect_uris": ["http://127.0.0.1:9999/bye"] }),
    )
    .await;
    let mut agent = Agent::default();
    // Login POST: the consent page (200), then the consent POST: 303.
    let res = rp
        .sign_in(&app, &mut agent, "demo", &app.seeded("demo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let state = hidden(&res.text().await.unwrap(), "state").unwrap();
    let res = agent
        .post(
            &app,
            &rp.consent_action(&app),
            &[("state", &state), ("decision", "allow")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cb = rp.callback(&res);
    let t = rp.tokens(&app, &cb["code"]).await;
    // Login POST straight to the client (demo-app needs no consent).
    let demo = Rp::demo_app(&app);
    let res = demo
        .sign_in(
            &app,
            &mut Agent::default(),
            "demo",
            &app.seeded("demo"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A POSTed authorization request with a session.
    let url = demo.auth_url(&app, &[]);
    let (endpoint, query) = url.split_once('?').unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = agent.post(&app, endpoint, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    demo.callback(&res);
    // RP-initiated logout back to the client.
    let res = agent
        .get(
            &app,
            &format!(
                "{}?id_token_hint={}&post_logout_redirect_uri={}",
                app.endpoint("demo", "logout"),
                s(&t, "id_token"),
                "http%3A%2F%2F127.0.0.1%3A9999%2Fbye"
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn bcp_17_login_consent_logout_error_and_form_post_pages_cannot_be_framed() {
    let app = spawn_app().await;
    let rp = browser_client(&app, "rp", false, json!({ "consent_required": true })).await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    // Login page, and the login page after a failure.
    let state = rp
        .login_page(&app, &mut agent, &rp.auth_url(&app, &[]))
        .await;
    let res = rp
        .submit_login(&app, &mut agent, &state, "demo", "wrong")
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_unframeable(&res, "failed login");
    // Consent page.
    let res = rp
        .submit_login(&app, &mut agent, &state, "demo", &app.seeded("demo"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_unframeable(&res, "consent page");
    assert!(res.text().await.unwrap().contains("decision"));
    // Logout confirmation and signed-out pages.
    let res = agent.get(&app, &app.endpoint("demo", "logout")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_unframeable(&res, "logout confirmation");
    let res = Agent::default()
        .get(&app, &app.endpoint("demo", "logout"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_unframeable(&res, "signed out");
    // Error pages.
    let res = Agent::default()
        .get(&app, &demo.auth_url(&app, &[("client_id", "nope")]))
        .await;
    assert_error_page(res, "authorization error").await;
    for action in [rp.login_action(&app), rp.consent_action(&app)] {
        let res = agent
            .post(&app, &action, &[("state", "forged"), ("decision", "allow")])
            .await;
        assert_error_page(res, &action).await;
    }
    // The form_post page.
    let res = Agent::default()
        .get(
            &app,
            &demo.auth_url(&app, &[("prompt", "none"), ("response_mode", "form_post")]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_unframeable(&res, "form_post");
}

#[tokio::test]
async fn bcp_18_no_cors_at_the_authorization_endpoint_or_the_login_actions() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let url = demo.auth_url(&app, &[]);
    let no_cors = |res: &Response, what: &str| {
        for h in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "access-control-allow-methods",
        ] {
            assert!(res.headers().get(h).is_none(), "{what}: {h}");
        }
    };
    let res = app
        .http
        .get(&url)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    no_cors(&res, "GET /auth");
    for target in [url.as_str(), &demo.login_action(&app)] {
        let res = app
            .http
            .request(Method::OPTIONS, target)
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap();
        assert!(!res.status().is_success(), "preflight {target}");
        no_cors(&res, "preflight");
    }
    let res = app
        .http
        .post(demo.login_action(&app))
        .header("Origin", "https://evil.example")
        .form(&[("state", "x")])
        .send()
        .await
        .unwrap();
    no_cors(&res, "POST login");
}

#[tokio::test]
async fn bcp_19_iss_is_in_every_authorization_response_including_errors_and_form_post() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let spa = browser_client(&app, "spa", true, json!({})).await;
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    assert_eq!(cb["iss"], issuer("demo"));
    assert_eq!(cb["state"], "st-1");
    let cb = demo.callback(
        &agent
            .get(&app, &demo.auth_url(&app, &[("state", "")]))
            .await,
    );
    assert_eq!(cb["iss"], issuer("demo"));
    assert!(!cb.contains_key("state") && cb.contains_key("code"));
    for (rp, extra, error) in [
        (&demo, vec![("prompt", "none")], "login_required"),
        (&demo, vec![("scope", "openid nope")], "invalid_scope"),
        (
            &demo,
            vec![("response_type", "code token")],
            "unsupported_response_type",
        ),
        (
            &demo,
            vec![("request", "eyJhbGciOiJub25lIn0.e30.")],
            "request_not_supported",
        ),
        (&spa, vec![("code_challenge", "")], "invalid_request"),
    ] {
        let cb = rp.callback(&Agent::default().get(&app, &rp.auth_url(&app, &extra)).await);
        assert_authz_error(&cb, error, "demo", Some("st-1"));
    }
    // form_post: success and error.
    let res = agent
        .get(
            &app,
            &demo.auth_url(&app, &[("response_mode", "form_post")]),
        )
        .await;
    let p = form_params(&res.text().await.unwrap());
    assert_eq!(p["iss"], issuer("demo"));
    assert!(p.contains_key("code"));
    let res = Agent::default()
        .get(
            &app,
            &demo.auth_url(&app, &[("response_mode", "form_post"), ("prompt", "none")]),
        )
        .await;
    let p = form_params(&res.text().await.unwrap());
    assert_authz_error(&p, "login_required", "demo", Some("st-1"));
}

#[tokio::test]
async fn bcp_20_spoofed_forwarded_headers_change_neither_iss_nor_the_token_issuer() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    for (k, v) in [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Port", "8443"),
        ("X-Forwarded-Prefix", "/evil"),
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Real-IP", "203.0.113.9"),
        ("Forwarded", "for=203.0.113.9;host=evil.example;proto=http"),
        (
            "X-Original-URL",
            "/realms/master/protocol/openid-connect/auth",
        ),
    ] {
        agent.headers.push((k.into(), v.into()));
    }
    let url = demo.auth_url(&app, &[]);
    let page = agent.get(&app, &url).await.text().await.unwrap();
    assert!(!page.contains("evil"), "{page}");
    assert_eq!(
        form_action(&page),
        "/realms/demo/login-actions/authenticate"
    );
    let state = hidden(&page, "state").unwrap();
    let res = demo
        .submit_login(&app, &mut agent, &state, "demo", &app.seeded("demo"))
        .await;
    let cb = demo.callback(&res);
    assert_eq!(cb["iss"], issuer("demo"));
    let res = app
        .http
        .post(app.endpoint("demo", "token"))
        .basic_auth("demo-app", Some(app.seeded("demo-app")))
        .header("X-Forwarded-Host", "evil.example")
        .header("Forwarded", "host=evil.example;proto=http")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &cb["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let t: Value = res.json().await.unwrap();
    assert_eq!(jwt_parts(&s(&t, "id_token")).1["iss"], issuer("demo"));
    assert_eq!(jwt_parts(&s(&t, "access_token")).1["iss"], issuer("demo"));
}

/// Realm `rl` (fast hashing) with a public client `app`, and its login page open: the
/// relying party, the browser and the page's sealed state.
async fn login_page_of_a_fast_realm(app: &TestApp) -> (Rp, Agent, String) {
    fast_realm(app, "rl").await;
    app.create_client(
        "rl",
        json!({ "client_id": "app", "public": true, "grant_types": ["authorization_code"],
                "redirect_uris": [REDIRECT], "scopes": ["openid"] }),
    )
    .await;
    let mut rp = Rp::new("rl", "app", None, REDIRECT);
    rp.scope = "openid".into();
    let mut agent = Agent::default();
    let state = rp.login_page(app, &mut agent, &rp.auth_url(app, &[])).await;
    (rp, agent, state)
}

#[tokio::test]
async fn bcp_20_failed_login_budgets_are_keyed_on_the_real_peer_not_forwarded_headers() {
    let app = spawn_app().await;
    let (rp, mut agent, state) = login_page_of_a_fast_realm(&app).await;
    // The address budget is 20 failures; each from a "different" forwarded address and
    // for a different login name (so no account budget runs out).
    let mut last = String::new();
    for i in 0..21 {
        let ip = format!("198.51.100.{i}");
        agent.headers = vec![
            ("X-Forwarded-For".into(), ip.clone()),
            ("X-Real-IP".into(), ip.clone()),
            ("Forwarded".into(), format!("for={ip}")),
        ];
        let res = rp
            .submit_login(&app, &mut agent, &state, &format!("ghost-{i}"), "wrong")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        last = res.text().await.unwrap();
        if i < 20 {
            assert!(last.contains("Invalid username or password"), "attempt {i}");
        }
    }
    assert!(last.contains("Too many failed attempts"), "{last}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_failed_login_budgets_are_keyed_on_the_forwarded_client() {
    // The suite connects from 127.0.0.1: here that is the load balancer.
    let app = spawn_configured(database_url().await, None, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await;
    let (rp, mut agent, state) = login_page_of_a_fast_realm(&app).await;
    async fn attempt(
        app: &TestApp,
        rp: &Rp,
        agent: &mut Agent,
        state: &str,
        client: &str,
        name: String,
    ) -> String {
        // What a client puts first proves nothing; the proxy appends the peer it saw.
        agent.headers = vec![("X-Forwarded-For".into(), format!("203.0.113.9, {client}"))];
        let res = rp.submit_login(app, agent, state, &name, "wrong").await;
        res.text().await.unwrap()
    }
    let mut attempt = async |client: &str, name: String| {
        attempt(&app, &rp, &mut agent, &state, client, name).await
    };
    // 21 failures from 21 clients: no client's budget (20) runs out.
    for i in 0..21 {
        let page = attempt(&format!("198.51.100.{i}"), format!("spread-{i}")).await;
        assert!(page.contains("Invalid username or password"), "client {i}");
    }
    // 20 more from one client exhaust its budget, whatever it writes before the proxy's hop.
    for i in 0..20 {
        let page = attempt("198.51.100.200", format!("one-{i}")).await;
        assert!(page.contains("Invalid username or password"), "attempt {i}");
    }
    let page = attempt("198.51.100.200", "one-99".into()).await;
    assert!(page.contains("Too many failed attempts"), "{page}");
    let page = attempt("198.51.100.201", "other-99".into()).await;
    assert!(page.contains("Invalid username or password"), "{page}");
}

// ---------------------------------------------------------------------------------------
// BCP-21: refresh token lifetimes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcp_21_a_refresh_token_unused_past_the_idle_timeout_is_invalid_grant() {
    let app = spawn_app().await;
    set_realm(&app, "demo", json!({ "refresh_idle_secs": 60 })).await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    // Used within the idle window, twice: the window slides with each rotation.
    let mut rt = s(&t, "refresh_token");
    for _ in 0..2 {
        app.clock.advance(59);
        let res = demo.refresh(&app, &rt, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        rt = s(&res.json().await.unwrap(), "refresh_token");
    }
    app.clock.advance(61);
    assert_oauth_error(demo.refresh(&app, &rt, None).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn bcp_21_refresh_tokens_end_with_the_family_maximum_even_when_used_or_offline() {
    let app = spawn_app().await;
    set_realm(
        &app,
        "demo",
        json!({ "refresh_idle_secs": 60, "refresh_max_secs": 120, "session_idle_secs": 3600 }),
    )
    .await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    let online = demo.tokens(&app, &cb["code"]).await;
    let cb = demo.callback(
        &agent
            .get(
                &app,
                &demo.auth_url(&app, &[("scope", "openid offline_access")]),
            )
            .await,
    );
    let offline = demo.tokens(&app, &cb["code"]).await;
    let (mut rt_on, mut rt_off) = (s(&online, "refresh_token"), s(&offline, "refresh_token"));
    for _ in 0..2 {
        app.clock.advance(55);
        for rt in [&mut rt_on, &mut rt_off] {
            let res = demo.refresh(&app, rt, None).await;
            assert_eq!(res.status(), StatusCode::OK);
            *rt = s(&res.json().await.unwrap(), "refresh_token");
        }
    }
    app.clock.advance(11); // 121 s after the grants began.
    for rt in [&rt_on, &rt_off] {
        assert_oauth_error(demo.refresh(&app, rt, None).await, 400, "invalid_grant").await;
    }
}

// ---------------------------------------------------------------------------------------
// §2.2 baseline negatives
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn s2_2_an_expired_code_is_invalid_grant() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    app.clock.advance(61);
    assert_oauth_error(
        demo.redeem_with(&app, &cb["code"], VERIFIER).await,
        400,
        "invalid_grant",
    )
    .await;
    // Control: 59 s is still fine.
    let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
    app.clock.advance(59);
    demo.tokens(&app, &cb["code"]).await;
}

#[tokio::test]
async fn s2_2_token_endpoint_baseline_negatives() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let spa = browser_client(&app, "spa", true, json!({})).await;
    let service = Rp::new("demo", "demo-service", Some(&app.demo_secret), REDIRECT);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let code = cb["code"].as_str();
    // Unknown grant type.
    let res = demo
        .token(&app, &[("grant_type", "urn:example:nope")])
        .await;
    assert_oauth_error(res, 400, "unsupported_grant_type").await;
    // Known grant type the client may not use.
    let res = service
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    let res = spa
        .token(&app, &[("grant_type", "client_credentials")])
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    // Scope the client does not have (client_credentials).
    let res = service
        .token(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    // Missing code / refresh_token.
    let res = demo
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = demo.token(&app, &[("grant_type", "refresh_token")]).await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Repeated parameters, even with the same value.
    for body in [
        format!("grant_type=authorization_code&code={code}&code={code}&redirect_uri=x"),
        format!("grant_type=authorization_code&grant_type=authorization_code&code={code}"),
        "grant_type=client_credentials&scope=api%3Aread&scope=api%3Aread".to_owned(),
    ] {
        let res = app
            .http
            .post(app.endpoint("demo", "token"))
            .basic_auth("demo-app", Some(app.seeded("demo-app")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Bad or doubled client authentication.
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-app",
            "wrong",
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert!(
        header(&res, "www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .http
        .post(app.endpoint("demo", "token"))
        .basic_auth("demo-app", Some(app.seeded("demo-app")))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-app"),
            ("client_secret", &app.seeded("demo-app")),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
    // GET is not a token request.
    let res = app
        .http
        .get(format!(
            "{}?grant_type=client_credentials",
            app.endpoint("demo", "token")
        ))
        .basic_auth("demo-app", Some(app.seeded("demo-app")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    // After all that, the code is still good: none of the refusals touched it.
    demo.tokens(&app, code).await;
}

#[tokio::test]
async fn s2_2_authorization_errors_of_a_valid_client_are_redirects_with_their_codes() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", "id_token")],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("prompt", "none consent")], "invalid_request"),
        (vec![("prompt", "none select_account")], "invalid_request"),
        (vec![("prompt", "bogus")], "invalid_request"),
        (vec![("scope", "openid nope")], "invalid_scope"),
        (vec![("scope", "openid  email")], "invalid_scope"),
        (vec![("max_age", "-1")], "invalid_request"),
        (vec![("max_age", "soon")], "invalid_request"),
        (vec![("response_mode", "fragment")], "invalid_request"),
        (vec![("request_uri", "urn:x")], "request_not_supported"),
    ] {
        let res = Agent::default()
            .get(&app, &demo.auth_url(&app, &extra))
            .await;
        let cb = demo.callback(&res);
        assert_authz_error(&cb, error, "demo", Some("st-1"));
    }
    // prompt=none with a session but combined with login is still refused.
    let mut agent = Agent::default();
    demo.login_demo(&app, &mut agent, &[]).await;
    let cb = demo.callback(
        &agent
            .get(&app, &demo.auth_url(&app, &[("prompt", "login none")]))
            .await,
    );
    assert_authz_error(&cb, "invalid_request", "demo", Some("st-1"));
}

#[tokio::test]
async fn s2_2_repeated_parameters_at_the_authorization_endpoint_get_an_error_page() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let base = demo.auth_url(&app, &[]);
    for dup in [
        "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        "&client_id=demo-app",
        "&state=st-2",
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    ] {
        let res = Agent::default().get(&app, &format!("{base}{dup}")).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{dup}");
        assert_error_page(res, dup).await;
    }
}

#[tokio::test]
async fn error_descriptions_in_redirects_never_carry_cr_lf_tab_quotes_or_backslashes() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let long = "s".repeat(300);
    let echoed = "s".repeat(100);
    for scope in [
        "openid a\r\nb",
        "openid a\tb",
        "openid x\"y\\z",
        "openid x'y",
        "openid <script>",
        "openid caf\u{e9}",
        &format!("openid {long}"),
        &format!("openid {echoed}"),
    ] {
        let res = Agent::default()
            .get(&app, &demo.auth_url(&app, &[("scope", scope)]))
            .await;
        let cb = demo.callback(&res);
        assert_authz_error(&cb, "invalid_scope", "demo", Some("st-1"));
        let d = &cb["error_description"];
        assert!(!d.is_empty() && d.len() <= 200, "{d}");
    }
    // Echoed through form_post, the description is HTML-escaped.
    let res = Agent::default()
        .get(
            &app,
            &demo.auth_url(
                &app,
                &[("scope", "openid <script>"), ("response_mode", "form_post")],
            ),
        )
        .await;
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>"), "{page}");
    assert_authz_error(&form_params(&page), "invalid_scope", "demo", Some("st-1"));
}

// ---------------------------------------------------------------------------------------
// prompt, max_age, login_hint, consent, form_post
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn prompt_login_and_max_age_force_a_new_login_with_a_new_auth_time() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    let first = demo.tokens(&app, &cb["code"]).await;
    let auth_time = jwt_parts(&s(&first, "id_token")).1["auth_time"]
        .as_i64()
        .unwrap();
    app.clock.advance(30);
    // prompt=login with a live session: the login page again.
    let state = demo
        .login_page(
            &app,
            &mut agent,
            &demo.auth_url(&app, &[("prompt", "login")]),
        )
        .await;
    let res = demo
        .submit_login(&app, &mut agent, &state, "demo", &app.seeded("demo"))
        .await;
    let t = demo.tokens(&app, &demo.callback(&res)["code"]).await;
    let (_, id) = jwt_parts(&s(&t, "id_token"));
    assert_eq!(id["auth_time"].as_i64().unwrap(), auth_time + 30);
    // max_age larger than the session's age: a code at once, auth_time in the ID token.
    let cb = demo.callback(
        &agent
            .get(&app, &demo.auth_url(&app, &[("max_age", "60")]))
            .await,
    );
    let t = demo.tokens(&app, &cb["code"]).await;
    assert_eq!(
        jwt_parts(&s(&t, "id_token")).1["auth_time"]
            .as_i64()
            .unwrap(),
        auth_time + 30
    );
    // Older than max_age: the login page; with prompt=none: login_required.
    app.clock.advance(61);
    demo.login_page(&app, &mut agent, &demo.auth_url(&app, &[("max_age", "60")]))
        .await;
    let cb = demo.callback(
        &agent
            .get(
                &app,
                &demo.auth_url(&app, &[("max_age", "60"), ("prompt", "none")]),
            )
            .await,
    );
    assert_authz_error(&cb, "login_required", "demo", Some("st-1"));
    // max_age=0 a second after the login: the login page.
    let mut fresh = Agent::default();
    demo.login_demo(&app, &mut fresh, &[]).await;
    app.clock.advance(1);
    demo.login_page(&app, &mut fresh, &demo.auth_url(&app, &[("max_age", "0")]))
        .await;
}

#[tokio::test]
async fn max_age_0_is_prompt_login_even_in_the_second_of_the_login() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    demo.login_demo(&app, &mut agent, &[]).await;
    let res = agent
        .get(&app, &demo.auth_url(&app, &[("max_age", "0")]))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "expected the login page");
}

#[tokio::test]
async fn login_hint_prefills_the_username_html_escaped() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let hint = "\"><script>alert(1)</script>";
    let res = Agent::default()
        .get(&app, &demo.auth_url(&app, &[("login_hint", hint)]))
        .await;
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"), "{page}");
    let i = page.find("id=\"username\"").unwrap();
    let v = page[i..].find("value=\"").unwrap() + i + 7;
    let value = html_unescape(&page[v..v + page[v..].find('"').unwrap()]);
    assert_eq!(value, hint);
    // A plain hint, and it does not sign anyone in by itself.
    let mut agent = Agent::default();
    let res = agent
        .get(
            &app,
            &demo.auth_url(&app, &[("login_hint", "demo"), ("prompt", "none")]),
        )
        .await;
    assert_authz_error(&demo.callback(&res), "login_required", "demo", Some("st-1"));
}

#[tokio::test]
async fn consent_is_asked_denied_allowed_remembered_and_asked_again_on_prompt_consent() {
    let app = spawn_app().await;
    let rp = browser_client(&app, "third", false, json!({ "consent_required": true })).await;
    let mut agent = Agent::default();
    let narrow = [("scope", "openid email")];
    // Login leads to the consent page, which lists the scopes.
    let res = rp
        .sign_in(&app, &mut agent, "demo", &app.seeded("demo"), &narrow)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_unframeable(&res, "consent");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("See your e-mail address")
            && page.contains("<small class=\"scope\">openid</small>"),
        "{page}"
    );
    let state = hidden(&page, "state").unwrap();
    // Another browser cannot submit it (CSRF).
    let res = Agent::default()
        .post(
            &app,
            &rp.consent_action(&app),
            &[("state", &state), ("decision", "allow")],
        )
        .await;
    assert_error_page(res, "consent CSRF").await;
    // Deny: access_denied back to the client.
    let res = agent
        .post(
            &app,
            &rp.consent_action(&app),
            &[("state", &state), ("decision", "deny")],
        )
        .await;
    assert_authz_error(&rp.callback(&res), "access_denied", "demo", Some("st-1"));
    // Nothing remembered: asked again; prompt=none says consent_required.
    let cb = rp.callback(
        &agent
            .get(&app, &rp.auth_url(&app, &[narrow[0], ("prompt", "none")]))
            .await,
    );
    assert_authz_error(&cb, "consent_required", "demo", Some("st-1"));
    let res = agent.get(&app, &rp.auth_url(&app, &narrow)).await;
    let state = hidden(&res.text().await.unwrap(), "state").unwrap();
    let res = agent
        .post(
            &app,
            &rp.consent_action(&app),
            &[("state", &state), ("decision", "allow")],
        )
        .await;
    let cb = rp.callback(&res);
    assert_eq!(cb["iss"], issuer("demo"));
    let t = rp.tokens(&app, &cb["code"]).await;
    assert_eq!(t["scope"], "email openid");
    // Remembered, also with prompt=none and in a new session of the same user.
    let cb = rp.callback(&agent.get(&app, &rp.auth_url(&app, &narrow)).await);
    assert!(cb.contains_key("code"));
    let cb = rp.callback(
        &agent
            .get(&app, &rp.auth_url(&app, &[narrow[0], ("prompt", "none")]))
            .await,
    );
    assert!(cb.contains_key("code"));
    let cb = rp
        .login(
            &app,
            &mut Agent::default(),
            "demo",
            &app.seeded("demo"),
            &narrow,
        )
        .await;
    assert!(cb.contains_key("code"));
    // prompt=consent asks again; a broader scope asks again; prompt=none then fails.
    for extra in [vec![narrow[0], ("prompt", "consent")], vec![]] {
        let res = agent.get(&app, &rp.auth_url(&app, &extra)).await;
        assert_eq!(res.status(), StatusCode::OK, "{extra:?}");
        assert!(res.text().await.unwrap().contains("decision"));
    }
    let cb = rp.callback(
        &agent
            .get(&app, &rp.auth_url(&app, &[("prompt", "none")]))
            .await,
    );
    assert_authz_error(&cb, "consent_required", "demo", Some("st-1"));
}

#[tokio::test]
async fn form_post_answers_with_an_auto_submitting_form_and_never_a_code_in_a_url() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let state = "s\"><script>alert(1)</script>&x=1";
    let res = demo
        .sign_in(
            &app,
            &mut agent,
            "demo",
            &app.seeded("demo"),
            &[("response_mode", "form_post"), ("state", state)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("location").is_none());
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_no_store(&res);
    assert_unframeable(&res, "form_post");
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("<form method=\"post\""), "{page}");
    // The auto-submit is our own script file (the page's CSP allows no inline script).
    assert!(page.contains("src=\"/static/form_post.js\""), "{page}");
    let js = app
        .http
        .get(app.url("/static/form_post.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("document.forms[0].submit()"), "{js}");
    assert_eq!(form_action(&page), REDIRECT, "no query in the action");
    let p = form_params(&page);
    assert_eq!(p["state"], state);
    assert_eq!(p["iss"], issuer("demo"));
    let code = &p["code"];
    assert!(!page.contains(&format!("code={code}")), "code in a URL");
    demo.tokens(&app, code).await;
    // An error by form_post: same shape, no code.
    let res = Agent::default()
        .get(
            &app,
            &demo.auth_url(&app, &[("response_mode", "form_post"), ("prompt", "none")]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("location").is_none());
    let page = res.text().await.unwrap();
    assert_eq!(form_action(&page), REDIRECT);
    assert_authz_error(&form_params(&page), "login_required", "demo", Some("st-1"));
}

// ---------------------------------------------------------------------------------------
// §1.0 checks on happy paths, userinfo, public clients
// ---------------------------------------------------------------------------------------

/// RFC 6749 A.12 / A.17: `1*VSCHAR` (%x20-7E).
fn assert_vschar(what: &str, t: &str) {
    assert!(
        !t.is_empty() && t.bytes().all(|b| (0x20..=0x7e).contains(&b)),
        "{what}: {t}"
    );
}

/// At least 96 bits: a base64url handle of ≥ 16 random bytes.
fn assert_strong_handle(what: &str, t: &str) {
    assert_vschar(what, t);
    let raw = URL_SAFE_NO_PAD
        .decode(t)
        .unwrap_or_else(|_| panic!("{what} not base64url"));
    assert!(raw.len() * 8 >= 96, "{what}: {} bits", raw.len() * 8);
}

fn assert_token_response(res: &Response) {
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(res);
    assert!(
        header(res, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
}

fn now(app: &TestApp) -> i64 {
    use tessera_domain::Clock;
    app.clock.now().0
}

#[tokio::test]
async fn s1_0_token_response_id_token_and_authorization_response_checks_on_the_happy_path() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let jwks: Value = app
        .http
        .get(app.endpoint("demo", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A 128-character state with characters that need encoding is echoed unchanged.
    let state: String = "aZ09-._~!*'()&=+/?%# é".chars().cycle().take(128).collect();
    let mut agent = Agent::default();
    let cb = demo
        .login_demo(&app, &mut agent, &[("state", &state), ("nonce", "n-0815")])
        .await;
    assert_eq!(cb["state"], state);
    assert_eq!(cb["iss"], issuer("demo"));
    assert_eq!(cb.len(), 3, "only code, state and iss: {cb:?}");
    let res = demo.redeem_with(&app, &cb["code"], VERIFIER).await;
    assert_token_response(&res);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    let expires_in = t["expires_in"].as_i64().unwrap();
    assert!(expires_in > 0 && expires_in <= 86_400);
    assert_eq!(t["scope"], "email openid profile");
    // Access token: an RFC 9068 JWT with a 128-bit jti; refresh token: a 256-bit handle.
    let at = s(&t, "access_token");
    assert_vschar("access token", &at);
    let (h, ac) = jwt_parts(&at);
    assert_eq!(h["typ"], "at+jwt");
    assert_strong_handle("jti", &s(&ac, "jti"));
    assert_eq!(
        ac["exp"].as_i64().unwrap() - ac["iat"].as_i64().unwrap(),
        expires_in
    );
    assert_strong_handle("refresh token", &s(&t, "refresh_token"));
    // ID token.
    let (h, id) = jwt_parts(&s(&t, "id_token"));
    let kid = s(&h, "kid");
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str() && k["alg"] == h["alg"]),
        "kid {kid} in JWKS"
    );
    let now = now(&app);
    assert_eq!(id["iss"], issuer("demo"));
    assert_eq!(id["aud"], "demo-app");
    assert_eq!(id["azp"], "demo-app");
    assert_eq!(id["nonce"], "n-0815");
    assert!(id["sub"].as_str().is_some_and(|s| !s.is_empty()));
    let (exp, iat, auth_time) = (
        id["exp"].as_i64().unwrap(),
        id["iat"].as_i64().unwrap(),
        id["auth_time"].as_i64().unwrap(),
    );
    assert!(
        exp > now && exp < now + 50 * 365 * 86_400,
        "exp in seconds, not ms"
    );
    assert!(iat <= now && iat > now - 60);
    assert!(auth_time <= now && auth_time > now - 365 * 86_400);
    assert!(id.get("acr").is_none_or(|a| a.as_str() != Some("")));
    // Every issuance is fresh.
    let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
    let t2 = demo.tokens(&app, &cb["code"]).await;
    assert_ne!(t2["refresh_token"], t["refresh_token"]);
    assert_ne!(jwt_parts(&s(&t2, "access_token")).1["jti"], ac["jti"]);
}

#[tokio::test]
async fn s1_0_a_refreshed_id_token_keeps_iss_sub_aud_azp_auth_time_and_has_a_later_iat() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    app.clock.advance(5);
    let res = demo.refresh(&app, &s(&t, "refresh_token"), None).await;
    assert_token_response(&res);
    let t2: Value = res.json().await.unwrap();
    assert_eq!(t2["token_type"], "Bearer");
    assert_strong_handle("refresh token", &s(&t2, "refresh_token"));
    let (_, id1) = jwt_parts(&s(&t, "id_token"));
    let (_, id2) = jwt_parts(&s(&t2, "id_token"));
    for c in ["iss", "sub", "aud", "azp", "auth_time"] {
        assert_eq!(id1[c], id2[c], "{c}");
    }
    assert!(id2["iat"].as_i64().unwrap() > id1["iat"].as_i64().unwrap());
    assert!(id2["exp"].as_i64().unwrap() > now(&app));
}

#[tokio::test]
async fn userinfo_answers_get_and_post_with_a_bearer_header_and_refuses_expired_tokens() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let cb = demo.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = demo.tokens(&app, &cb["code"]).await;
    let at = s(&t, "access_token");
    let sub = jwt_parts(&s(&t, "id_token")).1["sub"].clone();
    for method in [Method::GET, Method::POST] {
        let res = app
            .http
            .request(method.clone(), app.endpoint("demo", "userinfo"))
            .bearer_auth(&at)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{method}");
        assert_no_store(&res);
        let info: Value = res.json().await.unwrap();
        assert_eq!(info["sub"], sub);
        assert_eq!(info["email"], "demo@example.com");
    }
    // Past the access token lifetime (300 s by default).
    app.clock.advance(301);
    assert_invalid_token(userinfo(&app, "demo", &at).await).await;
}

#[tokio::test]
async fn userinfo_without_the_openid_scope_is_403_insufficient_scope() {
    let app = spawn_app().await;
    let (_, secret) = app
        .create_client(
            "demo",
            json!({ "client_id": "plain", "grant_types": ["authorization_code"],
                    "redirect_uris": [REDIRECT], "scopes": ["profile", "email"] }),
        )
        .await;
    let mut rp = Rp::new("demo", "plain", secret.as_deref(), REDIRECT);
    rp.scope = "profile email".into();
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    let t = rp.tokens(&app, &cb["code"]).await;
    assert!(t.get("id_token").is_none(), "no openid, no ID token");
    assert!(t.get("refresh_token").is_none(), "no refresh_token grant");
    let res = userinfo(&app, "demo", &s(&t, "access_token")).await;
    let www = header(&res, "www-authenticate").unwrap_or_default();
    assert_oauth_error(res, 403, "insufficient_scope").await;
    assert!(
        www.starts_with("Bearer") && www.contains("insufficient_scope"),
        "{www}"
    );
}

#[tokio::test]
async fn a_public_client_completes_the_flow_with_pkce_and_no_secret() {
    let app = spawn_app().await;
    let spa = browser_client(&app, "spa", true, json!({})).await;
    let mut agent = Agent::default();
    let verifier = new_verifier();
    let challenge = s256(&verifier);
    let cb = spa
        .login_demo(&app, &mut agent, &[("code_challenge", &challenge)])
        .await;
    let res = spa.redeem_with(&app, &cb["code"], &verifier).await;
    assert_token_response(&res);
    let t: Value = res.json().await.unwrap();
    assert_eq!(jwt_parts(&s(&t, "id_token")).1["aud"], "spa");
    assert_eq!(jwt_parts(&s(&t, "access_token")).1["client_id"], "spa");
    let res = spa.refresh(&app, &s(&t, "refresh_token"), None).await;
    assert_token_response(&res);
    // A public client presenting a secret, or no client_id at all, is not authenticated.
    let cb = spa.callback(
        &agent
            .get(&app, &spa.auth_url(&app, &[("code_challenge", &challenge)]))
            .await,
    );
    for form in [
        vec![
            ("client_id", "spa"),
            ("client_secret", "guess-guess-guess-guess-guess-guess"),
        ],
        vec![],
    ] {
        let mut f = vec![
            ("grant_type", "authorization_code"),
            ("code", cb["code"].as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ];
        f.extend(form);
        let res = app
            .http
            .post(app.endpoint("demo", "token"))
            .form(&f)
            .send()
            .await
            .unwrap();
        assert_oauth_error(res, 401, "invalid_client").await;
    }
    // Nor may it introspect (INT-3).
    let res = app
        .http
        .post(app.endpoint("demo", "token/introspect"))
        .form(&[("client_id", "spa"), ("token", &s(&t, "access_token"))])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    // The untouched code is still good.
    assert_token_response(&spa.redeem_with(&app, &cb["code"], &verifier).await);
}

// ---------------------------------------------------------------------------------------
// §2.10 back-channel logout (complementing logout.rs)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bcl_1_bcl_2_the_logout_token_has_exp_jti_events_and_no_nonce_and_is_no_access_token() {
    let app = spawn_app().await;
    let (url, mut rx) = backchannel_receiver().await;
    let rp = browser_client(&app, "rp", false, json!({ "backchannel_logout_uri": url })).await;
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let t = rp.tokens(&app, &cb["code"]).await;
    let hint = s(&t, "id_token");
    let res = agent
        .get(
            &app,
            &format!("{}?id_token_hint={hint}", app.endpoint("demo", "logout")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .unwrap()
        .1
        .to_string();
    let (h, c) = jwt_parts(&token);
    assert_eq!(h["typ"], "logout+jwt");
    assert_eq!(c["iss"], issuer("demo"));
    assert_eq!(c["aud"], "rp");
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert!(exp > iat && exp - iat <= 600 && iat <= now(&app));
    assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert!(c.get("nonce").is_none());
    assert_eq!(
        c["events"],
        json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    assert_eq!(c["sid"], jwt_parts(&hint).1["sid"]);
    // Type confusion: neither an access token nor an ID token hint.
    assert_invalid_token(userinfo(&app, "demo", &token).await).await;
    let res = Agent::default()
        .get(
            &app,
            &format!("{}?id_token_hint={token}", app.endpoint("demo", "logout")),
        )
        .await;
    assert_error_page(res, "logout token as hint").await;
}

#[tokio::test]
async fn bcl_5_an_unreachable_backchannel_endpoint_does_not_hold_up_the_logout() {
    let app = spawn_app().await;
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rp = browser_client(
        &app,
        "rp",
        false,
        json!({ "backchannel_logout_uri": format!("http://127.0.0.1:{port}/bcl") }),
    )
    .await;
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let t = rp.tokens(&app, &cb["code"]).await;
    let started = std::time::Instant::now();
    let res = agent
        .get(
            &app,
            &format!(
                "{}?id_token_hint={}",
                app.endpoint("demo", "logout"),
                s(&t, "id_token")
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let res = agent
        .get(&app, &rp.auth_url(&app, &[("prompt", "none")]))
        .await;
    assert_authz_error(&rp.callback(&res), "login_required", "demo", Some("st-1"));
}

#[tokio::test]
async fn bcl_6_logout_revokes_the_sessions_online_refresh_tokens_but_not_offline_ones() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = demo.login_demo(&app, &mut agent, &[]).await;
    let online = demo.tokens(&app, &cb["code"]).await;
    let cb = demo.callback(
        &agent
            .get(
                &app,
                &demo.auth_url(&app, &[("scope", "openid offline_access")]),
            )
            .await,
    );
    let offline = demo.tokens(&app, &cb["code"]).await;
    let res = agent
        .get(
            &app,
            &format!(
                "{}?id_token_hint={}",
                app.endpoint("demo", "logout"),
                s(&online, "id_token")
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_oauth_error(
        demo.refresh(&app, &s(&online, "refresh_token"), None).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_invalid_token(userinfo(&app, "demo", &s(&online, "access_token")).await).await;
    let res = demo
        .refresh(&app, &s(&offline, "refresh_token"), None)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "offline access outlives the session"
    );
    let res = agent
        .get(&app, &demo.auth_url(&app, &[("prompt", "none")]))
        .await;
    assert_authz_error(&demo.callback(&res), "login_required", "demo", Some("st-1"));
}

#[tokio::test]
async fn bcp_8_bcp_10_parallel_redemptions_and_refreshes_give_exactly_one_success_every_time() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    demo.login_demo(&app, &mut agent, &[]).await;
    for round in 0..20 {
        let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
        let results = futures::future::join_all(
            (0..8).map(|_| demo.redeem_with(&app, &cb["code"], VERIFIER)),
        )
        .await;
        let codes: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            codes.iter().filter(|c| **c == 200).count(),
            1,
            "code round {round}: {codes:?}"
        );
        assert_eq!(codes.iter().filter(|c| **c == 400).count(), 7, "{codes:?}");

        let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &[])).await);
        let rt = s(&demo.tokens(&app, &cb["code"]).await, "refresh_token");
        let results =
            futures::future::join_all((0..8).map(|_| demo.refresh(&app, &rt, None))).await;
        let codes: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            codes.iter().filter(|c| **c == 200).count(),
            1,
            "refresh round {round}: {codes:?}"
        );
        assert_eq!(codes.iter().filter(|c| **c == 400).count(), 7, "{codes:?}");
    }
}

#[tokio::test]
async fn a_new_login_always_gets_a_new_session_cookie_no_fixation() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    // A session value planted before the login is not adopted.
    agent
        .cookies
        .insert("tessera_session".into(), "planted-by-an-attacker".into());
    demo.login_demo(&app, &mut agent, &[]).await;
    let first = agent.cookies["tessera_session"].clone();
    assert_ne!(first, "planted-by-an-attacker");
    let state = demo
        .login_page(
            &app,
            &mut agent,
            &demo.auth_url(&app, &[("prompt", "login")]),
        )
        .await;
    let res = demo
        .submit_login(&app, &mut agent, &state, "demo", &app.seeded("demo"))
        .await;
    demo.callback(&res);
    assert_ne!(agent.cookies["tessera_session"], first);
}

#[tokio::test]
async fn a_sealed_login_state_expires_after_15_minutes() {
    let app = spawn_app().await;
    let demo = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let state = demo
        .login_page(&app, &mut agent, &demo.auth_url(&app, &[]))
        .await;
    app.clock.advance(15 * 60);
    let res = demo
        .submit_login(&app, &mut agent, &state, "demo", &app.seeded("demo"))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_error_page(res, "expired sealed state").await;
    // A tampered one fails the same way.
    let mut tampered = demo
        .login_page(&app, &mut agent, &demo.auth_url(&app, &[]))
        .await
        .into_bytes();
    tampered[30] = if tampered[30] == b'A' { b'B' } else { b'A' };
    let res = demo
        .submit_login(
            &app,
            &mut agent,
            &String::from_utf8(tampered).unwrap(),
            "demo",
            &app.seeded("demo"),
        )
        .await;
    assert_error_page(res, "tampered sealed state").await;
}

#[tokio::test]
async fn browser_sessions_end_after_their_idle_and_absolute_lifetimes() {
    let app = spawn_app().await;
    set_realm(
        &app,
        "demo",
        json!({ "session_idle_secs": 600, "session_max_secs": 1500 }),
    )
    .await;
    let demo = Rp::demo_app(&app);
    let none = [("prompt", "none")];
    let mut agent = Agent::default();
    demo.login_demo(&app, &mut agent, &[]).await;
    // Each use within the idle window keeps it alive…
    for _ in 0..2 {
        app.clock.advance(590);
        let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &none)).await);
        assert!(cb.contains_key("code"));
    }
    // …until the absolute lifetime (1180 s + 330 s > 1500 s).
    app.clock.advance(330);
    let cb = demo.callback(&agent.get(&app, &demo.auth_url(&app, &none)).await);
    assert_authz_error(&cb, "login_required", "demo", Some("st-1"));
    // And idle: a new session left alone for longer than 600 s.
    let mut idle = Agent::default();
    demo.login_demo(&app, &mut idle, &[]).await;
    app.clock.advance(601);
    let cb = demo.callback(&idle.get(&app, &demo.auth_url(&app, &none)).await);
    assert_authz_error(&cb, "login_required", "demo", Some("st-1"));
}
