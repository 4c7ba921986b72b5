//! RFC 7636 (PKCE) over HTTP: SECURITY-CASES §2.3 PKCE-1…PKCE-8. Tessera supports S256 only
//! (RFC 9700 §2.1.1), requires PKCE of public clients, and enforces a challenge whenever one
//! was sent. Challenges are computed independently of the server's code path via [`s256`],
//! which is first checked against RFC 7636 Appendix B.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// A fresh code for `rp` bound to `challenge`, by a browser that already has a session.
async fn code_for(
    app: &TestApp,
    rp: &Rp,
    agent: &mut Agent,
    challenge: &str,
) -> std::collections::HashMap<String, String> {
    let res = agent
        .get(app, &rp.auth_url(app, &[("code_challenge", challenge)]))
        .await;
    let cb = rp.callback(&res);
    assert!(cb.contains_key("code"), "{cb:?}");
    cb
}

/// demo-app and a public client `spa`, and a browser signed in to both.
async fn clients(app: &TestApp) -> (Rp, Rp, Agent) {
    let spa = browser_client(app, "spa", true, json!({})).await;
    let demo = Rp::demo_app(app);
    let mut agent = Agent::default();
    demo.login_demo(app, &mut agent, &[]).await;
    (demo, spa, agent)
}

#[test]
fn the_tests_s256_matches_rfc_7636_appendix_b() {
    assert_eq!(s256(VERIFIER), CHALLENGE);
    let v = new_verifier();
    assert_eq!(v.len(), 43);
    assert_eq!(s256(&v).len(), 43);
}

#[tokio::test]
async fn pkce_1_verifiers_outside_43_to_128_unreserved_characters_are_invalid_grant() {
    let app = spawn_app().await;
    let (demo, spa, mut agent) = clients(&app).await;
    let base = new_verifier();
    let bad: Vec<String> = vec![
        "a".repeat(42),
        "a".repeat(129),
        "A".repeat(1000),
        format!("{}+", &base[..42]),
        format!("{}=", &base[..42]),
        format!("{} ", &base[..42]),
        format!("{}/", &base[..42]),
        format!("{}%", &base[..42]),
        format!("{}\u{e9}", &base[..41]),
        format!("{}\u{0}", &base[..42]),
    ];
    for rp in [&demo, &spa] {
        for verifier in &bad {
            // The challenge is the verifier's own S256 hash: only the syntax rule can refuse it.
            let cb = code_for(&app, rp, &mut agent, &s256(verifier)).await;
            let res = rp.redeem_with(&app, &cb["code"], verifier).await;
            let body = assert_oauth_error(res, 400, "invalid_grant").await;
            assert!(body.get("access_token").is_none(), "{verifier:?}");
        }
    }
    // Controls at the limits and with every unreserved punctuation character.
    for verifier in [
        "a".repeat(43),
        "b".repeat(128),
        format!("{}-._~", &base[..39]),
    ] {
        let cb = code_for(&app, &spa, &mut agent, &s256(&verifier)).await;
        let res = spa.redeem_with(&app, &cb["code"], &verifier).await;
        assert_eq!(res.status(), StatusCode::OK, "{verifier}");
    }
}

#[tokio::test]
async fn pkce_2_challenges_of_the_wrong_length_or_alphabet_are_redirected_invalid_request() {
    let app = spawn_app().await;
    let (demo, spa, _) = clients(&app).await;
    let padded = format!("{}=", &CHALLENGE[..42]);
    let long = format!("{CHALLENGE}A");
    let plus = CHALLENGE.replace('-', "+");
    let slash = CHALLENGE.replace('-', "/");
    let dot = CHALLENGE.replace('-', ".");
    let space = CHALLENGE.replace('-', " ");
    let hex = "a".repeat(64);
    let wrong: [&str; 8] = [
        &CHALLENGE[..42],
        &long,
        &padded,
        &plus,
        &slash,
        &dot,
        &space,
        &hex,
    ];
    for rp in [&demo, &spa] {
        for challenge in wrong {
            let res = Agent::default()
                .get(&app, &rp.auth_url(&app, &[("code_challenge", challenge)]))
                .await;
            assert_authz_error(&rp.callback(&res), "invalid_request", "demo", Some("st-1"));
        }
    }
}

#[tokio::test]
async fn pkce_3_unsupported_challenge_methods_are_redirected_invalid_request() {
    let app = spawn_app().await;
    let (demo, spa, mut agent) = clients(&app).await;
    for rp in [&demo, &spa] {
        for method in ["S512", "s256", "plain", "PLAIN", "S256 ", "none"] {
            // With a session too: no code is issued for a bad method.
            let res = agent
                .get(
                    &app,
                    &rp.auth_url(&app, &[("code_challenge_method", method)]),
                )
                .await;
            assert_authz_error(&rp.callback(&res), "invalid_request", "demo", Some("st-1"));
        }
    }
}

#[tokio::test]
async fn pkce_4_a_challenge_without_a_method_would_be_plain_and_is_redirected_invalid_request() {
    let app = spawn_app().await;
    let (demo, spa, mut agent) = clients(&app).await;
    for rp in [&demo, &spa] {
        let res = agent
            .get(&app, &rp.auth_url(&app, &[("code_challenge_method", "")]))
            .await;
        assert_authz_error(&rp.callback(&res), "invalid_request", "demo", Some("st-1"));
    }
    // `plain` semantics are never applied: verifier == challenge does not redeem.
    let verifier = new_verifier();
    let cb = code_for(&app, &spa, &mut agent, &verifier).await;
    let res = spa.redeem_with(&app, &cb["code"], &verifier).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn pkce_5_a_public_client_without_a_challenge_is_redirected_invalid_request() {
    let app = spawn_app().await;
    let (_, spa, mut agent) = clients(&app).await;
    for extra in [
        vec![("code_challenge", ""), ("code_challenge_method", "")],
        vec![("code_challenge", "")],
        // A verifier at the authorization endpoint is no substitute (PKCE-8).
        vec![
            ("code_challenge", ""),
            ("code_challenge_method", ""),
            ("code_verifier", VERIFIER),
        ],
    ] {
        for a in [&mut Agent::default(), &mut agent] {
            let res = a.get(&app, &spa.auth_url(&app, &extra)).await;
            let cb = spa.callback(&res);
            assert_authz_error(&cb, "invalid_request", "demo", Some("st-1"));
            assert!(cb["error_description"].contains("code_challenge"), "{cb:?}");
        }
    }
}

#[tokio::test]
async fn pkce_6_a_wrong_verifier_is_invalid_grant_and_spends_the_code() {
    let app = spawn_app().await;
    let (demo, spa, mut agent) = clients(&app).await;
    for rp in [&demo, &spa] {
        let cb = code_for(&app, rp, &mut agent, CHALLENGE).await;
        // One character off, same length and alphabet.
        let wrong = format!("e{}", &VERIFIER[1..]);
        let res = rp.redeem_with(&app, &cb["code"], &wrong).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        // No second guess with the right one.
        let res = rp.redeem_with(&app, &cb["code"], VERIFIER).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        // The challenge itself is not the verifier.
        let cb = code_for(&app, rp, &mut agent, CHALLENGE).await;
        let res = rp.redeem_with(&app, &cb["code"], CHALLENGE).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
}

#[tokio::test]
async fn pkce_7_each_code_is_bound_to_its_own_challenge() {
    let app = spawn_app().await;
    let (demo, spa, mut agent) = clients(&app).await;
    for rp in [&demo, &spa] {
        let (v1, v2) = (new_verifier(), new_verifier());
        let cb1 = code_for(&app, rp, &mut agent, &s256(&v1)).await;
        let cb2 = code_for(&app, rp, &mut agent, &s256(&v2)).await;
        // Swapped verifiers: both fail.
        let res = rp.redeem_with(&app, &cb1["code"], &v2).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        let res = rp.redeem_with(&app, &cb2["code"], &v1).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        // Control: a third flow with its own verifier.
        let v3 = new_verifier();
        let cb3 = code_for(&app, rp, &mut agent, &s256(&v3)).await;
        let res = rp.redeem_with(&app, &cb3["code"], &v3).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Another browser's flow (another session) is no different.
    let mut other = Agent::default();
    let v = new_verifier();
    let cb = spa
        .login_demo(&app, &mut other, &[("code_challenge", &s256(&v))])
        .await;
    let res = spa.redeem_with(&app, &cb["code"], VERIFIER).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn pkce_8_a_verifier_sent_to_the_authorization_endpoint_is_not_reflected_or_accepted() {
    let app = spawn_app().await;
    let (demo, _, mut agent) = clients(&app).await;
    let verifier = new_verifier();
    // Sent along with a challenge: the code still needs the verifier at the token endpoint.
    let res = agent
        .get(
            &app,
            &demo.auth_url(
                &app,
                &[
                    ("code_challenge", &s256(&verifier)),
                    ("code_verifier", &verifier),
                ],
            ),
        )
        .await;
    let loc = header(&res, "location").unwrap();
    assert!(!loc.contains(&verifier), "verifier reflected: {loc}");
    let cb = demo.callback(&res);
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
    // The login page does not carry it in the clear either (the sealed state is opaque).
    let mut fresh = Agent::default();
    let page = fresh
        .get(
            &app,
            &demo.auth_url(
                &app,
                &[
                    ("code_challenge", &s256(&verifier)),
                    ("code_verifier", &verifier),
                ],
            ),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&verifier));
    // Verifiers never reach the logs: see log_scrubbing.rs.
}
