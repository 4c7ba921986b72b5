//! RP-initiated logout and back-channel logout. Only tests; the kit (`Agent`, `Rp`, the
//! back-channel receiver) is in helpers/.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A client `rp` with a post-logout redirect and a back-channel logout URI; signs `demo` in.
async fn signed_in_rp(app: &TestApp, backchannel: Option<&str>) -> (Agent, Value, String) {
    let (_, secret) = app
        .create_client(
            "demo",
            json!({
                "client_id": "rp",
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "email"],
                "post_logout_redirect_uris": ["http://127.0.0.1:9999/bye"],
                "backchannel_logout_uri": backchannel,
            }),
        )
        .await;
    let secret = secret.unwrap();
    let mut rp = Rp::new("demo", "rp", Some(&secret), REDIRECT);
    rp.scope = "openid email".into();
    let mut b = Agent::default();
    let cb = rp.login_demo(app, &mut b, &[]).await;
    let res = rp.redeem_with(app, &cb["code"], VERIFIER).await;
    assert_eq!(res.status(), StatusCode::OK);
    (b, res.json().await.unwrap(), secret)
}

#[tokio::test]
async fn logout_with_id_token_hint_ends_the_session_revokes_tokens_and_notifies_the_backchannel() {
    let app = spawn_app().await;
    let (bcl_url, mut bcl) = backchannel_receiver().await;
    let (mut b, tokens, secret) = signed_in_rp(&app, Some(&bcl_url)).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let url = format!(
        "{}?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye-1",
        app.endpoint("demo", "logout"),
        "http%3A%2F%2F127.0.0.1%3A9999%2Fbye"
    );
    let res = b.get(&app, &url).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "http://127.0.0.1:9999/bye?state=bye-1"
    );

    // The back-channel logout token (BCL-1).
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), bcl.recv())
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
    assert_eq!(
        c["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    let (_, id) = jwt_parts(id_token);
    assert_eq!(c["sid"], id["sid"]);
    assert_eq!(c["sub"], id["sub"]);
    assert!(c.get("nonce").is_none() && c["jti"].is_string() && c["iat"].is_i64());
    // A logout token is not an access token (BCL-2).
    let res = app
        .http
        .get(app.endpoint("demo", "userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Tokens of the session are dead (BCL-6), and the browser is logged out.
    let at = tokens["access_token"].as_str().unwrap();
    let res = app
        .http
        .get(app.endpoint("demo", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let rt = tokens["refresh_token"].as_str().unwrap();
    let res = app
        .post_basic(
            "demo",
            "token",
            "rp",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let demo = Rp::demo_app_offline(&app);
    let res = b
        .get(&app, &demo.auth_url(&app, &[("prompt", "none")]))
        .await;
    assert_eq!(demo.callback(&res)["error"], "login_required");
}

#[tokio::test]
async fn logout_without_a_hint_asks_for_confirmation_and_checks_csrf() {
    let app = spawn_app().await;
    let (mut b, tokens, _) = signed_in_rp(&app, None).await;
    let page = b.get(&app, &app.endpoint("demo", "logout")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let body = page.text().await.unwrap();
    assert!(body.contains("Sign out?"));
    // A forged confirmation without the browser's CSRF value is refused.
    let res = b
        .post(
            &app,
            &app.url("/realms/demo/protocol/openid-connect/logout/confirm"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let i = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = body[i..i + body[i..].find('"').unwrap()].to_owned();
    let res = b
        .post(
            &app,
            &app.url("/realms/demo/protocol/openid-connect/logout/confirm"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You are signed out"));
    let at = tokens["access_token"].as_str().unwrap();
    let res = app
        .http
        .get(app.endpoint("demo", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_refuses_unregistered_post_logout_redirect_uris_and_foreign_hints() {
    let app = spawn_app().await;
    let (mut b, tokens, _) = signed_in_rp(&app, None).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    for uri in [
        "http%3A%2F%2F127.0.0.1%3A9999%2Fbye%2F",
        "https%3A%2F%2Fevil.example%2F",
    ] {
        let url = format!(
            "{}?id_token_hint={id_token}&post_logout_redirect_uri={uri}",
            app.endpoint("demo", "logout")
        );
        let res = b.get(&app, &url).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(res.headers().get("location").is_none());
    }
    // An access token is not an ID token hint.
    let at = tokens["access_token"].as_str().unwrap();
    let res = b
        .get(
            &app,
            &format!("{}?id_token_hint={at}", app.endpoint("demo", "logout")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
