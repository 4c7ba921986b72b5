//! Back-channel logout from the upstream (OIDC Back-Channel Logout as relying party; BCL-7,
//! XID-9).

use super::*;

/// A brokered login of a client with refresh tokens, whose ID token carries upstream
/// session `sid`: (app, fake, client, its tokens).
async fn brokered_session(sid: &str) -> (TestApp, FakeIdp, Rp, Value) {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    fake.set(|b| b.id_token = json!({ "sid": sid }));
    add_idp(&app, "demo", fake.registration("fake"), json!({})).await;
    let rp = browser_client(&app, "rp", false, json!({})).await;
    let cb = rp.callback(&login_via_fake(&app, &rp).await);
    let tokens = rp.tokens(&app, &cb["code"]).await;
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    (app, fake, rp, tokens)
}

#[tokio::test]
async fn upstream_backchannel_logout_ends_the_brokered_session_once_xid_9() {
    let (app, fake, rp, tokens) = brokered_session("up-sid-1").await;
    let aud = fake.behaviour().client_id;
    let token = fake.logout_token(&aud, None, Some("up-sid-1"), json!({}));
    let res = post_logout_token(&app, "demo", "fake", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = rp.refresh(&app, &s(&tokens, "refresh_token"), None).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    // The same token again (same jti) is a replay.
    let res = post_logout_token(&app, "demo", "fake", &token).await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn hostile_upstream_logout_tokens_are_refused_and_the_session_lives_bcl_7() {
    let (app, fake, rp, tokens) = brokered_session("up-sid-1").await;
    let aud = fake.behaviour().client_id;
    let sid = Some("up-sid-1");
    let mut cases = vec![
        (
            "nonce",
            fake.logout_token(&aud, None, sid, json!({ "nonce": "n-1" })),
        ),
        (
            "no events",
            fake.logout_token(&aud, None, sid, json!({ "events": null })),
        ),
        (
            "another issuer",
            fake.logout_token(&aud, None, sid, json!({ "iss": "https://impostor.test" })),
        ),
        (
            "another audience",
            fake.logout_token("another-client", None, sid, json!({})),
        ),
        (
            "neither sub nor sid",
            fake.logout_token(&aud, None, None, json!({})),
        ),
    ];
    // Freshness: iat within ten minutes (a minute of skew ahead), exp not past, a jti.
    let now = unix_now();
    cases.extend([
        (
            "stale iat",
            fake.logout_token(&aud, None, sid, json!({ "iat": now - 700 })),
        ),
        (
            "future iat",
            fake.logout_token(&aud, None, sid, json!({ "iat": now + 300 })),
        ),
        (
            "expired",
            fake.logout_token(&aud, None, sid, json!({ "exp": now - 300 })),
        ),
        (
            "no jti",
            fake.logout_token(&aud, None, sid, json!({ "jti": null })),
        ),
    ]);
    fake.set(|b| b.alg = Alg::None);
    cases.push(("unsigned", fake.logout_token(&aud, None, sid, json!({}))));
    for (what, token) in cases {
        let res = post_logout_token(&app, "demo", "fake", &token).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what}");
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    let res = rp.refresh(&app, &s(&tokens, "refresh_token"), None).await;
    assert_eq!(res.status(), StatusCode::OK, "the session survives");
}

#[tokio::test]
async fn a_sub_only_logout_token_ends_every_session_of_that_upstream_user_and_no_other() {
    let (app, fake, rp, first) = brokered_session("up-sid-1").await;
    // The same upstream user in a second browser (another upstream session)…
    fake.set(|b| b.id_token = json!({ "sid": "up-sid-2" }));
    let cb = rp.callback(&login_via_fake(&app, &rp).await);
    let second = rp.tokens(&app, &cb["code"]).await;
    // …and another upstream user.
    fake.set(|b| {
        b.sub = "upstream-user-2".into();
        b.email = "user2@upstream.test".into();
        b.id_token = json!({ "sid": "up-sid-3" });
    });
    let cb = rp.callback(&login_via_fake(&app, &rp).await);
    let other = rp.tokens(&app, &cb["code"]).await;
    let aud = fake.behaviour().client_id;
    let token = fake.logout_token(&aud, Some("upstream-user-1"), None, json!({}));
    let res = post_logout_token(&app, "demo", "fake", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    for tokens in [&first, &second] {
        let res = rp.refresh(&app, &s(tokens, "refresh_token"), None).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    let res = rp.refresh(&app, &s(&other, "refresh_token"), None).await;
    assert_eq!(res.status(), StatusCode::OK, "another upstream user stays");
}
