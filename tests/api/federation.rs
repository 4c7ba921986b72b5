//! Tessera as a relying party of upstream OpenID providers (issue 13): brokered logins through
//! a hostile upstream ([`FakeIdp`]) and through a certified one (node-oidc-provider). Here the
//! login itself; beside it the ID token checks, the calls to the upstream, account linking,
//! back-channel logout, node-oidc-provider, and the kit's self-tests (`federation_kit_*`).
//! Only tests; the kit is in helpers/ (`broker.rs`, `upstream.rs`, `node_peer.rs`). Case ids
//! (XID-*, ISO-8, BCL-*) are from SECURITY-CASES.md.

mod backchannel;
mod id_token;
mod kit;
mod linking;
mod node_peer;
mod organizations;
mod outbound;
mod second_realm;

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A federated server with a fresh [`FakeIdp`] as provider `fake` of realm demo (`extra`
/// merged into its registration), and demo-app as the relying party.
async fn with_fake(extra: Value) -> (TestApp, FakeIdp, Rp) {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    add_idp(&app, "demo", fake.registration("fake"), extra).await;
    let rp = Rp::demo_app(&app);
    (app, fake, rp)
}

/// A login through provider `fake` in a fresh browser.
async fn login_via_fake(app: &TestApp, rp: &Rp) -> reqwest::Response {
    broker_login(app, &mut Agent::default(), rp, "fake").await
}

// ---- Registration and the happy path --------------------------------------------------

#[tokio::test]
async fn registered_provider_shows_its_redirect_uri_and_never_its_secret() {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    let rep = add_idp(&app, "demo", fake.registration("fake"), json!({})).await;
    assert_eq!(rep["alias"], "fake");
    assert_eq!(rep["redirect_uri"], broker_endpoint(&app, "demo", "fake"));
    assert_eq!(
        rep["backchannel_logout_uri"],
        broker_logout_endpoint(&app, "demo", "fake")
    );
    let read = app
        .admin_ok(Method::GET, &idp_path("demo", Some("fake")), None)
        .await;
    let listed = app
        .admin_ok(Method::GET, &idp_path("demo", None), None)
        .await;
    for v in [&rep, &read, &listed] {
        assert!(
            !v.to_string().contains(&fake.behaviour().client_secret),
            "{v}"
        );
    }
}

#[tokio::test]
async fn same_upstream_user_twice_lands_on_the_same_local_user() {
    let (app, fake, rp) = with_fake(json!({})).await;
    let before = users(&app, "demo").await.len();
    let (_, user) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(user["email"], "user1@upstream.test");
    let links = federated_identities(&app, "demo", &s(&user, "id")).await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["identity_provider"], "fake");
    assert_eq!(links[0]["user_id"], "upstream-user-1");
    // Tessera asked with PKCE S256 and a nonce, and authenticated with the default method.
    let asked = fake.last_authorize();
    assert_eq!(asked["code_challenge_method"], "S256");
    assert!(asked.contains_key("nonce"), "{asked:?}");
    assert_eq!(asked["redirect_uri"], broker_endpoint(&app, "demo", "fake"));
    assert_eq!(fake.token_auth_methods(), ["client_secret_basic"]);

    // The link is the sub: a changed upstream e-mail still lands on the same user.
    fake.set(|b| b.email = "renamed@upstream.test".into());
    let (_, again) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(again["id"], user["id"]);
    assert_eq!(users(&app, "demo").await.len(), before + 1);
    assert!(fake.complaints().is_empty(), "{:?}", fake.complaints());
}

#[tokio::test]
async fn kc_idp_hint_goes_straight_to_the_upstream() {
    let (app, fake, rp) = with_fake(json!({})).await;
    let mut agent = Agent::default();
    let res = agent
        .get(&app, &rp.auth_url(&app, &[("kc_idp_hint", "fake")]))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        header(&res, "location")
            .unwrap()
            .starts_with(&fake.url("/authorize?"))
    );
    rp.callback(&broker_return(&app, &mut agent, res).await);
}

#[tokio::test]
async fn hidden_provider_has_no_button_but_answers_its_hint() {
    let (app, fake, rp) = with_fake(json!({ "hide_on_login": true })).await;
    let mut agent = Agent::default();
    let page = agent.get(&app, &rp.auth_url(&app, &[])).await;
    assert!(provider_form(&page.text().await.unwrap(), "fake").is_none());
    let res = agent
        .get(&app, &rp.auth_url(&app, &[("kc_idp_hint", "fake")]))
        .await;
    assert!(header(&res, "location").is_some_and(|l| l.starts_with(&fake.url("/authorize?"))));
    rp.callback(&broker_return(&app, &mut agent, res).await);
}

#[tokio::test]
async fn client_secret_post_is_used_when_configured() {
    let (app, fake, rp) = with_fake(json!({ "auth_method": "client_secret_post" })).await;
    rp.callback(&login_via_fake(&app, &rp).await);
    assert_eq!(fake.token_auth_methods(), ["client_secret_post"]);
}

// ---- What the upstream says about the user --------------------------------------------

#[tokio::test]
async fn userinfo_about_another_subject_is_refused_and_creates_no_user() {
    let (app, fake, rp) = with_fake(json!({})).await;
    fake.set(|b| b.userinfo = json!({ "sub": "someone-else" }));
    let before = users(&app, "demo").await.len();
    assert_broker_error(login_via_fake(&app, &rp).await, "invalid_userinfo").await;
    assert_eq!(fake.counts().userinfo, 1);
    assert_eq!(users(&app, "demo").await.len(), before);
}

#[tokio::test]
async fn string_email_verified_at_userinfo_is_not_a_verified_email() {
    let (app, fake, rp) = with_fake(json!({ "trust_email": true })).await;
    fake.set(|b| b.userinfo = json!({ "email_verified": "true" }));
    let (_, user) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(user["email"], "user1@upstream.test");
    assert_eq!(user["email_verified"], false);
}

#[tokio::test]
async fn verified_flag_at_userinfo_does_not_vouch_for_the_id_tokens_other_email() {
    let (app, fake, rp) = with_fake(json!({ "trust_email": true })).await;
    // The ID token has an e-mail but no email_verified, so userinfo is asked; it vouches for
    // another address.
    fake.set(|b| {
        b.id_token = json!({ "email": "id-token@upstream.test" });
        b.email = "userinfo@upstream.test".into();
    });
    let (_, user) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(fake.counts().userinfo, 1);
    let email = user["email"].as_str().unwrap();
    assert!(
        ["id-token@upstream.test", "userinfo@upstream.test"].contains(&email),
        "{user}"
    );
    assert!(
        email == "userinfo@upstream.test" || user["email_verified"] == false,
        "the flag belongs to the address it came with: {user}"
    );
}

#[tokio::test]
async fn the_id_tokens_email_verified_does_not_vouch_for_an_address_from_userinfo() {
    let (app, fake, rp) = with_fake(json!({ "trust_email": true })).await;
    // The ID token says verified but names no address; userinfo gives one, unvouched for.
    fake.set(|b| {
        b.id_token = json!({ "email_verified": true });
        b.userinfo = json!({ "email_verified": null });
    });
    let (_, user) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(fake.counts().userinfo, 1);
    assert_eq!(user["email"], "user1@upstream.test");
    assert_eq!(user["email_verified"], false, "{user}");
}

#[tokio::test]
async fn id_token_with_email_and_email_verified_needs_no_userinfo_call() {
    let (app, fake, rp) = with_fake(json!({ "trust_email": true })).await;
    fake.set(|b| b.id_token = json!({ "email": "direct@upstream.test", "email_verified": true }));
    let (_, user) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(user["email"], "direct@upstream.test");
    assert_eq!(user["email_verified"], true);
    assert_eq!(fake.counts().userinfo, 0);
}

#[tokio::test]
async fn upstream_without_userinfo_or_email_needs_email_optional() {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    fake.set(|b| b.metadata = json!({ "userinfo_endpoint": null }));
    add_idp(&app, "demo", fake.registration("fake"), json!({})).await;
    add_idp(
        &app,
        "demo",
        fake.registration("lax"),
        json!({ "email_optional": true }),
    )
    .await;
    let rp = Rp::demo_app(&app);
    assert_broker_error(login_via_fake(&app, &rp).await, "claim_missing").await;
    let res = broker_login(&app, &mut Agent::default(), &rp, "lax").await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert!(user["email"].is_null(), "{user}");
    assert_eq!(fake.counts().userinfo, 0);
}

#[tokio::test]
async fn provider_without_create_users_signs_in_no_unknown_upstream_user() {
    let (app, _fake, rp) = with_fake(json!({ "create_users": false })).await;
    let before = users(&app, "demo").await.len();
    assert_error_page(login_via_fake(&app, &rp).await, "create_users false").await;
    assert_eq!(users(&app, "demo").await.len(), before);
}

#[tokio::test]
async fn required_claim_missing_or_different_is_refused_xid_5() {
    let (app, fake, rp) = with_fake(json!({ "required_claims": { "hd": "acme.com" } })).await;
    assert_error_page(login_via_fake(&app, &rp).await, "no hd").await;
    fake.set(|b| b.id_token = json!({ "hd": "evil.com" }));
    assert_error_page(login_via_fake(&app, &rp).await, "hd evil.com").await;
    fake.set(|b| b.id_token = json!({ "hd": "acme.com" }));
    rp.callback(&login_via_fake(&app, &rp).await);
}

// ---- The authorization response -------------------------------------------------------

#[tokio::test]
async fn upstream_access_denied_reaches_the_client_as_access_denied() {
    let (app, fake, rp) = with_fake(json!({})).await;
    fake.set(|b| b.authorize = Authorize::Error("access_denied".into()));
    let cb = rp.callback(&login_via_fake(&app, &rp).await);
    assert_eq!(cb.get("error").map(String::as_str), Some("access_denied"));
    assert!(!cb.contains_key("code"), "{cb:?}");
    assert_eq!(cb["state"], "st-1");
    assert_eq!(cb["iss"], app.url("/realms/demo"));
    assert_eq!(fake.counts().token, 0);
}

#[tokio::test]
async fn upstream_answer_with_another_state_is_refused() {
    let (app, fake, rp) = with_fake(json!({})).await;
    fake.set(|b| b.authorize = Authorize::WrongState);
    assert_error_page(login_via_fake(&app, &rp).await, "forged state").await;
    assert_eq!(fake.counts().token, 0);
}

#[tokio::test]
async fn upstream_answer_opened_in_another_browser_is_refused() {
    let (app, fake, rp) = with_fake(json!({})).await;
    let to_upstream = press_provider(&app, &mut Agent::default(), &rp, "fake").await;
    // The victim's browser did not start this login (login CSRF).
    let res = broker_return(&app, &mut Agent::default(), to_upstream).await;
    assert_error_page(res, "another browser").await;
    assert_eq!(fake.counts().token, 0);
}

#[tokio::test]
async fn replayed_upstream_answer_is_refused_xid_9() {
    let (app, _fake, rp) = with_fake(json!({})).await;
    let mut agent = Agent::default();
    let to_upstream = press_provider(&app, &mut agent, &rp, "fake").await;
    let at_upstream = agent
        .get(&app, &header(&to_upstream, "location").unwrap())
        .await;
    let back = header(&at_upstream, "location").unwrap();
    rp.callback(&agent.get(&app, &back).await);
    assert_error_page(agent.get(&app, &back).await, "replay").await;
}

// ---- Disabled providers and users (XID-1, XID-8), realms (ISO-8) ----------------------

#[tokio::test]
async fn disabled_provider_has_no_button_and_its_hint_is_refused_xid_1() {
    let (app, fake, rp) = with_fake(json!({})).await;
    add_idp(
        &app,
        "demo",
        fake.registration("off"),
        json!({ "enabled": false }),
    )
    .await;
    let mut agent = Agent::default();
    let page = agent.get(&app, &rp.auth_url(&app, &[])).await;
    let page = page.text().await.unwrap();
    let (action, mut fields) = provider_form(&page, "fake").expect("the enabled provider's button");
    assert!(provider_form(&page, "off").is_none(), "{page}");
    let to_upstream = |res: &reqwest::Response| {
        header(res, "location").is_some_and(|l| l.starts_with(&fake.issuer()))
    };
    let hinted = agent
        .get(&app, &rp.auth_url(&app, &[("kc_idp_hint", "off")]))
        .await;
    assert!(!to_upstream(&hinted), "{:?}", header(&hinted, "location"));
    // Nor does a hand-made press of its button go anywhere.
    fields.last_mut().unwrap().1 = "off".into();
    let pressed = submit(&app, &mut agent, &action, &fields).await;
    assert!(!to_upstream(&pressed), "{:?}", header(&pressed, "location"));
}

#[tokio::test]
async fn provider_disabled_during_a_login_cannot_finish_it_xid_1() {
    let (app, fake, rp) = with_fake(json!({})).await;
    let mut agent = Agent::default();
    let to_upstream = press_provider(&app, &mut agent, &rp, "fake").await;
    let off = merged(
        fake.registration("fake"),
        &json!({ "enabled": false, "alias": null }),
    );
    app.admin_ok(Method::PUT, &idp_path("demo", Some("fake")), Some(off))
        .await;
    let res = broker_return(&app, &mut agent, to_upstream).await;
    assert_error_page(res, "disabled provider").await;
}

#[tokio::test]
async fn disabled_local_user_cannot_sign_in_through_its_link_xid_8() {
    let (app, _fake, rp) = with_fake(json!({})).await;
    let (_, user) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/demo/users/{}", s(&user, "id")),
        Some(json!({ "username": user["username"], "enabled": false })),
    )
    .await;
    assert_error_page(login_via_fake(&app, &rp).await, "disabled user").await;
}

#[tokio::test]
async fn upstream_answer_for_one_realm_signs_nobody_in_at_another_iso_8() {
    let (app, fake, rp) = with_fake(json!({})).await;
    fast_realm(&app, "other").await;
    // The same upstream and alias in both realms.
    add_idp(&app, "other", fake.registration("fake"), json!({})).await;
    let mut agent = Agent::default();
    let to_upstream = press_provider(&app, &mut agent, &rp, "fake").await;
    let at_upstream = agent
        .get(&app, &header(&to_upstream, "location").unwrap())
        .await;
    let back = header(&at_upstream, "location").unwrap();
    let at_other = back.replace("/realms/demo/", "/realms/other/");
    assert_error_page(agent.get(&app, &at_other).await, "realm other").await;
    let unknown = back.replace("/realms/demo/broker/fake/", "/realms/other/broker/nope/");
    let res = agent.get(&app, &unknown).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(fake.counts().token, 0);
}
