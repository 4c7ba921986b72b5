//! Multi-tenant isolation of the browser flow (SECURITY-CASES §3.7 ISO-3, ISO-6, with ISO-1,
//! ISO-12, INT-5, REV-4 where the flow touches them): codes, refresh tokens, sessions and
//! sealed login state of realm `alpha` mean nothing in realm `beta`. Both realms have the
//! same client ids and secrets, the same redirect URI and the same usernames (`alice` with
//! the same password in both), so only the realm binding can tell them apart.

use crate::helpers::*;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

const SHARED_SECRET: &str = "the-very-same-secret-in-alpha-and-beta-0123";
const ALICE_PW: &str = "alice-uses-one-password-everywhere";

struct Realms {
    alpha: Rp,
    beta: Rp,
    spa_alpha: Rp,
    spa_beta: Rp,
    consent_alpha: Rp,
    consent_beta: Rp,
    alice_alpha: String,
    alice_beta: String,
}

async fn two_realms(app: &TestApp) -> Realms {
    let mut subs = vec![];
    for realm in ["alpha", "beta"] {
        fast_realm(app, realm).await;
        let scopes = json!(["openid", "profile", "email", "offline_access"]);
        let grants = json!(["authorization_code", "refresh_token"]);
        for body in [
            json!({ "client_id": "app", "secret": SHARED_SECRET, "grant_types": grants,
                    "redirect_uris": [REDIRECT], "scopes": scopes }),
            json!({ "client_id": "spa", "public": true, "grant_types": grants,
                    "redirect_uris": [REDIRECT], "scopes": scopes }),
            json!({ "client_id": "third", "secret": SHARED_SECRET, "grant_types": grants,
                    "redirect_uris": [REDIRECT], "scopes": scopes, "consent_required": true }),
        ] {
            app.create_client(realm, body).await;
        }
        subs.push(add_user(app, realm, "alice", ALICE_PW).await);
        add_user(
            app,
            realm,
            "bob",
            &format!("bob-in-{realm}-has-his-own-password"),
        )
        .await;
    }
    let rp = |realm: &str, id: &str, secret: Option<&str>| Rp::new(realm, id, secret, REDIRECT);
    Realms {
        alpha: rp("alpha", "app", Some(SHARED_SECRET)),
        beta: rp("beta", "app", Some(SHARED_SECRET)),
        spa_alpha: rp("alpha", "spa", None),
        spa_beta: rp("beta", "spa", None),
        consent_alpha: rp("alpha", "third", Some(SHARED_SECRET)),
        consent_beta: rp("beta", "third", Some(SHARED_SECRET)),
        alice_beta: subs.pop().unwrap(),
        alice_alpha: subs.pop().unwrap(),
    }
}

fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn iso_3_a_code_of_realm_alpha_is_invalid_grant_at_beta_and_stays_redeemable_at_alpha() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    for (a, b) in [(&r.alpha, &r.beta), (&r.spa_alpha, &r.spa_beta)] {
        let cb = a
            .login(&app, &mut Agent::default(), "alice", ALICE_PW, &[])
            .await;
        assert_eq!(cb["iss"], issuer("alpha"));
        let res = b.redeem_with(&app, &cb["code"], VERIFIER).await;
        let body = assert_oauth_error(res, 400, "invalid_grant").await;
        assert!(body.get("access_token").is_none());
        // Beta's refusal neither spent nor revoked alpha's code.
        let t = a.tokens(&app, &cb["code"]).await;
        let (_, id) = jwt_parts(&s(&t, "id_token"));
        assert_eq!(id["iss"], issuer("alpha"));
        assert_eq!(id["sub"], r.alice_alpha.as_str());
    }
    assert_ne!(r.alice_alpha, r.alice_beta);
}

#[tokio::test]
async fn iso_3_a_refresh_token_of_alpha_is_invalid_grant_unrevocable_and_inactive_at_beta() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    for (a, b) in [(&r.alpha, &r.beta), (&r.spa_alpha, &r.spa_beta)] {
        let cb = a
            .login(&app, &mut Agent::default(), "alice", ALICE_PW, &[])
            .await;
        let t = a.tokens(&app, &cb["code"]).await;
        let (rt, at) = (s(&t, "refresh_token"), s(&t, "access_token"));
        let res = b.refresh(&app, &rt, None).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        // REV-4: revoking at beta answers 200 and changes nothing at alpha.
        let res = app
            .post_basic("beta", "revoke", "app", SHARED_SECRET, &[("token", &rt)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app
            .post_basic("beta", "revoke", "app", SHARED_SECRET, &[("token", &at)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        // INT-5: beta knows neither token.
        for token in [&rt, &at] {
            let v = app.introspect("beta", "app", SHARED_SECRET, token).await;
            assert_eq!(v, json!({ "active": false }));
        }
        // ISO-1: nor does beta's userinfo.
        assert_invalid_token(userinfo(&app, "beta", &at).await).await;
        // Alpha: the access token is live and the refresh token rotates as usual (no
        // replay was counted against it).
        assert_eq!(userinfo(&app, "alpha", &at).await.status(), StatusCode::OK);
        let res = a.refresh(&app, &rt, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let t2: Value = res.json().await.unwrap();
        assert_eq!(jwt_parts(&s(&t2, "access_token")).1["iss"], issuer("alpha"));
    }
}

#[tokio::test]
async fn iso_6_a_sealed_login_or_consent_state_of_alpha_is_refused_by_beta() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    let mut agent = Agent::default();
    // The same browser (same CSRF cookie) carries alpha's sealed login state to beta,
    // with credentials that are valid in beta too.
    let login_state = r
        .alpha
        .login_page(&app, &mut agent, &r.alpha.auth_url(&app, &[]))
        .await;
    let res = r
        .beta
        .submit_login(&app, &mut agent, &login_state, "alice", ALICE_PW)
        .await;
    assert!(
        !set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("tessera_session=")),
        "beta started a session"
    );
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_error_page(res, "alpha login state at beta").await;
    let res = agent
        .post(
            &app,
            &r.beta.consent_action(&app),
            &[("state", &login_state), ("decision", "allow")],
        )
        .await;
    assert_error_page(res, "alpha login state at beta consent").await;
    // A consent state of alpha (after alice signed in there).
    let res = r
        .consent_alpha
        .sign_in(&app, &mut agent, "alice", ALICE_PW, &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let consent_state = hidden(&res.text().await.unwrap(), "state").unwrap();
    // Beta has a session for alice in this browser too, so only the realm binding stops it.
    let mut in_beta = agent.clone();
    let beta_state = r
        .consent_beta
        .login_page(&app, &mut in_beta, &r.consent_beta.auth_url(&app, &[]))
        .await;
    let res = r
        .consent_beta
        .submit_login(&app, &mut in_beta, &beta_state, "alice", ALICE_PW)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "beta's consent page");
    let res = in_beta
        .post(
            &app,
            &r.consent_beta.consent_action(&app),
            &[("state", &consent_state), ("decision", "allow")],
        )
        .await;
    assert_error_page(res, "alpha consent state at beta").await;
    let res = in_beta
        .post(
            &app,
            &r.beta.login_action(&app),
            &[
                ("state", &consent_state),
                ("username", "alice"),
                ("password", ALICE_PW),
            ],
        )
        .await;
    assert_error_page(res, "alpha consent state at beta login").await;
    // Controls: each state works in its own realm.
    let res = agent
        .post(
            &app,
            &r.consent_alpha.consent_action(&app),
            &[("state", &consent_state), ("decision", "allow")],
        )
        .await;
    assert_eq!(r.consent_alpha.callback(&res)["iss"], issuer("alpha"));
    let res = r
        .alpha
        .submit_login(&app, &mut agent.clone(), &login_state, "alice", ALICE_PW)
        .await;
    assert!(r.alpha.callback(&res).contains_key("code"));
}

#[tokio::test]
async fn iso_6_a_session_of_alpha_does_not_sign_the_browser_in_to_beta_nor_end_there() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    let mut agent = Agent::default();
    let state = r
        .alpha
        .login_page(&app, &mut agent, &r.alpha.auth_url(&app, &[]))
        .await;
    let res = r
        .alpha
        .submit_login(&app, &mut agent, &state, "alice", ALICE_PW)
        .await;
    // The cookies are scoped to alpha's path, HttpOnly, SameSite=Lax and Secure (https issuer).
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("tessera_session="))
        .expect("session cookie");
    for attr in ["Path=/realms/alpha/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    let t = r.alpha.tokens(&app, &r.alpha.callback(&res)["code"]).await;
    // This test browser sends alpha's cookies to beta anyway: beta does not know them.
    assert!(agent.cookies.contains_key("tessera_session"));
    let res = agent
        .get(&app, &r.beta.auth_url(&app, &[("prompt", "none")]))
        .await;
    assert_authz_error(
        &r.beta.callback(&res),
        "login_required",
        "beta",
        Some("st-1"),
    );
    let res = agent.get(&app, &r.beta.auth_url(&app, &[])).await;
    assert_eq!(res.status(), StatusCode::OK, "beta shows its login page");
    // Beta's logout neither accepts alpha's ID token nor ends alpha's session.
    let res = agent
        .get(
            &app,
            &format!(
                "{}?id_token_hint={}",
                app.endpoint("beta", "logout"),
                s(&t, "id_token")
            ),
        )
        .await;
    assert_error_page(res, "alpha hint at beta").await;
    let mut copy = agent.clone();
    let res = copy.get(&app, &app.endpoint("beta", "logout")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = agent
        .get(&app, &r.alpha.auth_url(&app, &[("prompt", "none")]))
        .await;
    assert!(r.alpha.callback(&res).contains_key("code"));
    assert_eq!(
        userinfo(&app, "alpha", &s(&t, "access_token"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn iso_6_codes_refresh_tokens_and_sealed_states_are_not_interchangeable() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    let mut agent = Agent::default();
    let cb = r
        .alpha
        .login(&app, &mut agent, "alice", ALICE_PW, &[])
        .await;
    let t = r.alpha.tokens(&app, &cb["code"]).await;
    let rt = s(&t, "refresh_token");
    let sealed = r
        .alpha
        .login_page(&app, &mut Agent::default(), &r.alpha.auth_url(&app, &[]))
        .await;
    let cb2 = r
        .alpha
        .callback(&agent.get(&app, &r.alpha.auth_url(&app, &[])).await);
    // A refresh token or a sealed state as a code; a code or a sealed state as a refresh
    // token: in alpha and in beta.
    for rp in [&r.alpha, &r.beta] {
        for handle in [&rt, &sealed, &s(&t, "access_token")] {
            let res = rp.redeem_with(&app, handle, VERIFIER).await;
            assert_oauth_error(res, 400, "invalid_grant").await;
        }
        for handle in [&cb2["code"], &sealed, &s(&t, "id_token")] {
            let res = rp.refresh(&app, handle, None).await;
            assert_oauth_error(res, 400, "invalid_grant").await;
        }
    }
    // None of it touched the real ones.
    r.alpha.tokens(&app, &cb2["code"]).await;
    assert_eq!(
        r.alpha.refresh(&app, &rt, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn iso_same_username_with_another_realms_password_does_not_sign_in() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    let res = r
        .beta
        .sign_in(
            &app,
            &mut Agent::default(),
            "bob",
            "bob-in-alpha-has-his-own-password",
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("location").is_none());
    let cb = r
        .beta
        .login(
            &app,
            &mut Agent::default(),
            "bob",
            "bob-in-beta-has-his-own-password",
            &[],
        )
        .await;
    assert_eq!(cb["iss"], issuer("beta"));
}

#[tokio::test]
async fn iso_12_failed_logins_in_alpha_do_not_lock_the_same_username_out_of_beta() {
    let app = spawn_app().await;
    let r = two_realms(&app).await;
    let mut agent = Agent::default();
    let state = r
        .alpha
        .login_page(&app, &mut agent, &r.alpha.auth_url(&app, &[]))
        .await;
    let mut last = String::new();
    for _ in 0..6 {
        let res = r
            .alpha
            .submit_login(&app, &mut agent, &state, "alice", "wrong")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        last = res.text().await.unwrap();
    }
    assert!(last.contains("Too many failed attempts"), "{last}");
    // Alpha's alice is locked for now, even with the right password…
    let res = r
        .alpha
        .submit_login(&app, &mut agent, &state, "alice", ALICE_PW)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // …beta's alice is not, from the same address.
    let cb = r.beta.login(&app, &mut agent, "alice", ALICE_PW, &[]).await;
    let t = r.beta.tokens(&app, &cb["code"]).await;
    assert_eq!(
        jwt_parts(&s(&t, "id_token")).1["sub"],
        r.alice_beta.as_str()
    );
}
