//! The authorization code flow as a browser and a confidential client drive it: `demo-app`
//! with `offline_access` ([`Rp::demo_app_offline`]). Only tests; the kit is in helpers/.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn code_flow_with_pkce_issues_id_access_and_refresh_tokens_and_userinfo() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let mut b = Agent::default();
    let cb = rp.login_demo(&app, &mut b, &[]).await;
    assert_eq!(cb["state"], "st-1");
    assert_eq!(cb["iss"], issuer("demo"));
    let res = rp.redeem_with(&app, &cb["code"], VERIFIER).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["refresh_token"].as_str().unwrap().len() >= 43);

    let (h, id) = jwt_parts(t["id_token"].as_str().unwrap());
    assert_eq!(h["typ"], "JWT");
    assert_eq!(h["alg"], "RS256");
    assert_eq!(id["iss"], issuer("demo"));
    assert_eq!(id["aud"], "demo-app");
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["email"], "demo@example.com");
    assert_eq!(id["preferred_username"], "demo");
    assert!(id["sid"].is_string() && id["auth_time"].is_i64() && id["at_hash"].is_string());
    let (exp, iat) = (id["exp"].as_i64().unwrap(), id["iat"].as_i64().unwrap());
    assert!(exp > iat && exp - iat <= 3600);

    let at = t["access_token"].as_str().unwrap();
    let (_, ac) = jwt_parts(at);
    assert_eq!(ac["sub"], id["sub"]);
    let info: Value = app
        .http
        .get(app.endpoint("demo", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["email_verified"], true);
}

#[tokio::test]
async fn second_redemption_of_a_code_fails_and_revokes_the_first_tokens_bcp_8() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    let first: Value = rp.tokens(&app, &cb["code"]).await;
    assert_oauth_error(
        rp.redeem_with(&app, &cb["code"], VERIFIER).await,
        400,
        "invalid_grant",
    )
    .await;
    let at = first["access_token"].as_str().unwrap();
    let info = app
        .http
        .get(app.endpoint("demo", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    assert!(
        info.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, at)
            .await["active"],
        false
    );
    let rt = first["refresh_token"].as_str().unwrap();
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-app",
            &app.seeded("demo-app"),
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn parallel_redemptions_of_one_code_give_exactly_one_success() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    let results =
        futures::future::join_all((0..8).map(|_| rp.redeem_with(&app, &cb["code"], VERIFIER)))
            .await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn refresh_rotates_and_replaying_a_rotated_token_revokes_the_family_bcp_10() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    let t: Value = rp.tokens(&app, &cb["code"]).await;
    let secret = app.seeded("demo-app");
    let refresh = |rt: String, scope: Option<&'static str>| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
            ];
            if let Some(s) = scope {
                form.push(("scope", s));
            }
            app.post_basic("demo", "token", "demo-app", &secret, &form)
                .await
        }
    };
    let rt1 = t["refresh_token"].as_str().unwrap().to_owned();
    let res = refresh(rt1.clone(), Some("openid email")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    let t2: Value = res.json().await.unwrap();
    assert_eq!(t2["scope"], "email openid");
    let (_, id2) = jwt_parts(t2["id_token"].as_str().unwrap());
    let (_, id1) = jwt_parts(t["id_token"].as_str().unwrap());
    for c in ["iss", "sub", "aud", "auth_time", "azp"] {
        assert_eq!(id1[c], id2[c], "{c} must not change on refresh");
    }
    let rt2 = t2["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    // Broader scope than granted (BCP-11).
    assert_oauth_error(
        refresh(rt2.clone(), Some("openid api:read")).await,
        400,
        "invalid_scope",
    )
    .await;
    // Replay of the rotated token: invalid_grant, and the whole family dies.
    assert_oauth_error(refresh(rt1, None).await, 400, "invalid_grant").await;
    assert_oauth_error(refresh(rt2, None).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_session_skips_the_login_page_and_prompt_none_without_one_is_login_required() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let mut b = Agent::default();
    rp.login_demo(&app, &mut b, &[]).await;
    // Same browser: straight back with a code, even with prompt=none.
    let res = b
        .get(
            &app,
            &rp.auth_url(&app, &[("prompt", "none"), ("state", "st-2")]),
        )
        .await;
    let cb = rp.callback(&res);
    assert!(cb.contains_key("code"));
    assert_eq!(cb["state"], "st-2");
    // A fresh browser with prompt=none.
    let res = Agent::default()
        .get(&app, &rp.auth_url(&app, &[("prompt", "none")]))
        .await;
    let cb = rp.callback(&res);
    assert_eq!(cb["error"], "login_required");
    assert_eq!(cb["iss"], issuer("demo"));
    assert!(!cb.contains_key("code"));
}

#[tokio::test]
async fn wrong_password_shows_the_login_page_again_and_issues_nothing() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let mut b = Agent::default();
    let body = b
        .get(&app, &rp.auth_url(&app, &[]))
        .await
        .text()
        .await
        .unwrap();
    let state = hidden(&body, "state").expect("state field");
    let res = b
        .post(
            &app,
            &app.url("/realms/demo/login-actions/authenticate"),
            &[
                ("state", &state),
                ("username", "demo"),
                ("password", "wrong"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("location").is_none());
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Invalid username or password")
    );
}

#[tokio::test]
async fn a_sealed_request_from_another_browser_is_refused_login_csrf() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let mut attacker = Agent::default();
    let body = attacker
        .get(&app, &rp.auth_url(&app, &[]))
        .await
        .text()
        .await
        .unwrap();
    let state = hidden(&body, "state").expect("state field");
    let mut victim = Agent::default();
    victim.get(&app, &app.url("/")).await;
    let pw = app.seeded("demo");
    let res = victim
        .post(
            &app,
            &app.url("/realms/demo/login-actions/authenticate"),
            &[("state", &state), ("username", "demo"), ("password", &pw)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn unknown_client_or_unregistered_redirect_uri_shows_an_error_page_never_a_redirect_bcp_1_bcp_2()
 {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    for extra in [
        vec![("client_id", "nope")],
        vec![("redirect_uri", "http://127.0.0.1:9999/cb/x")],
        vec![("redirect_uri", "http://127.0.0.1.evil.com:9999/cb")],
        vec![("redirect_uri", "https://127.0.0.1:9999/cb")],
    ] {
        let res = Agent::default().get(&app, &rp.auth_url(&app, &extra)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(res.headers().get("location").is_none());
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    // Loopback: only the port may vary.
    let res = Agent::default()
        .get(
            &app,
            &rp.auth_url(&app, &[("redirect_uri", "http://127.0.0.1:4444/cb")]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_grant_and_only_its_client_may_do_it() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    let t: Value = rp.tokens(&app, &cb["code"]).await;
    let (rt, at) = (
        t["refresh_token"].as_str().unwrap(),
        t["access_token"].as_str().unwrap(),
    );
    // Another client of the realm may not revoke it.
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "demo-service",
            &app.demo_secret,
            &[("token", rt)],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    let secret = app.seeded("demo-app");
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "demo-app",
            &secret,
            &[("token", rt), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-app",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, at)
            .await["active"],
        false
    );
}

#[tokio::test]
async fn id_token_algorithm_follows_the_client_setting() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    for alg in ["ES256", "EdDSA"] {
        let id = format!("app-{}", alg.to_lowercase());
        let (_, secret) = app
            .create_client(
                "demo",
                serde_json::json!({
                    "client_id": id, "grant_types": ["authorization_code"], "id_token_alg": alg,
                    "redirect_uris": [REDIRECT], "scopes": ["openid"],
                }),
            )
            .await;
        let cb = rp
            .login_demo(
                &app,
                &mut Agent::default(),
                &[("client_id", &id), ("scope", "openid")],
            )
            .await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &cb["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        let t: Value = app
            .post_basic("demo", "token", &id, &secret.unwrap(), &form)
            .await
            .json()
            .await
            .unwrap();
        let (h, c) = jwt_parts(t["id_token"].as_str().unwrap());
        assert_eq!(h["alg"], alg);
        assert_eq!(c["aud"], id.as_str());
        // No refresh_token grant for this client: no refresh token.
        assert!(t.get("refresh_token").is_none());
    }
}

#[tokio::test]
async fn disabling_a_user_deactivates_their_access_tokens_and_stops_refresh() {
    let app = spawn_app().await;
    let rp = Rp::demo_app_offline(&app);
    let cb = rp.login_demo(&app, &mut Agent::default(), &[]).await;
    let t: Value = rp.tokens(&app, &cb["code"]).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, at)
            .await["active"],
        true
    );
    let sub = jwt_parts(at).1["sub"].as_str().unwrap().to_owned();
    let res = app
        .admin(
            reqwest::Method::PUT,
            &format!("/admin/realms/demo/users/{sub}"),
            Some(serde_json::json!({"username": "demo", "email": "demo@example.com", "enabled": false})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, at)
            .await["active"],
        false
    );
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-app",
            &app.seeded("demo-app"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}
