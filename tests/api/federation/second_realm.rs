//! Brokered sign-in with a second Tessera realm as the upstream provider: the whole loop in
//! one server, over HTTP, as a browser and a client see it.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_domain::RealmName;

/// Realm `upstream` with a client `broker` for realm `demo`'s provider `up` (registered
/// through the admin API), and user `alice` (alice@upstream.example, verified).
async fn upstream_realm(app: &TestApp) {
    fast_realm(app, "upstream").await;
    let (_, secret) = app
        .create_client(
            "upstream",
            json!({
                "client_id": "broker",
                "redirect_uris": [broker_endpoint(app, "demo", "up")],
                "scopes": ["openid", "profile", "email"],
                "backchannel_logout_uri": broker_logout_endpoint(app, "demo", "up"),
            }),
        )
        .await;
    add_user(app, "upstream", "alice", PW).await;
    let registration = json!({
        "alias": "up",
        "issuer": format!("{}/realms/upstream", app.base),
        "client_id": "broker",
        "client_secret": secret.unwrap(),
        "display_name": "Upstream realm",
        "trust_email": true,
    });
    let view = add_idp(app, "demo", registration, json!({})).await;
    assert_eq!(view["redirect_uri"], broker_endpoint(app, "demo", "up"));
}

/// From demo-app's authorization request through the `up` button and the upstream's
/// login page back to demo's broker endpoint: Tessera's answer there.
async fn sign_in_upstream(
    app: &TestApp,
    agent: &mut Agent,
    rp: &Rp,
    user: &str,
) -> reqwest::Response {
    let page = agent.get(app, &rp.auth_url(app, &[])).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("value=\"up\""),
        "the provider's button: {body}"
    );
    let state = hidden(&body, "state").unwrap();
    let res = agent
        .post(
            app,
            &app.url("/realms/demo/login-actions/broker"),
            &[("state", &state), ("provider", "up")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let upstream_auth = header(&res, "location").unwrap();
    assert!(upstream_auth.starts_with(&format!("{}/realms/upstream/", app.base)));
    upstream_login(app, agent, &upstream_auth, user).await
}

/// The upstream realm's login page, then its redirect back to the broker endpoint.
async fn upstream_login(
    app: &TestApp,
    agent: &mut Agent,
    upstream_auth: &str,
    user: &str,
) -> reqwest::Response {
    let q: std::collections::HashMap<String, String> = url::Url::parse(upstream_auth)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.contains_key("nonce") && q.contains_key("state"));
    let page = agent.get(app, upstream_auth).await;
    let body = page.text().await.unwrap();
    let state = hidden(&body, "state").expect("the upstream's login page");
    let res = agent
        .post(
            app,
            &app.url("/realms/upstream/login-actions/authenticate"),
            &[("state", &state), ("username", user), ("password", PW)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = header(&res, "location").unwrap();
    assert!(
        back.starts_with(&format!("{}/realms/demo/broker/up/endpoint?", app.base)),
        "{back}"
    );
    agent.get(app, &back).await
}

#[tokio::test]
async fn a_person_signs_in_to_demo_through_the_upstream_realm_and_keeps_one_local_user() {
    let app = spawn_federated().await;
    upstream_realm(&app).await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let res = sign_in_upstream(&app, &mut agent, &rp, "alice").await;
    let user = signed_in_user(&app, &rp, &res).await.1;
    assert_eq!(user["email"], "alice@upstream.example");
    assert_eq!(
        user["email_verified"], true,
        "trusted provider vouched for it"
    );

    // Another browser, the same upstream account: the same local user.
    let mut other = Agent::default();
    let res = sign_in_upstream(&app, &mut other, &rp, "alice").await;
    assert_eq!(signed_in_user(&app, &rp, &res).await.1["id"], user["id"]);
}

#[tokio::test]
async fn kc_idp_hint_goes_straight_to_the_provider_and_an_unknown_hint_shows_the_login_page() {
    let app = spawn_federated().await;
    upstream_realm(&app).await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let res = agent
        .get(&app, &rp.auth_url(&app, &[("kc_idp_hint", "up")]))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let upstream_auth = header(&res, "location").unwrap();
    let res = upstream_login(&app, &mut agent, &upstream_auth, "alice").await;
    rp.callback(&res);

    let page = Agent::default()
        .get(&app, &rp.auth_url(&app, &[("kc_idp_hint", "nope")]))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "the login page");
}

#[tokio::test]
async fn a_verified_upstream_address_of_a_local_account_links_only_after_its_password() {
    let app = spawn_federated().await;
    upstream_realm(&app).await;
    // demo's own alice, with the address the upstream vouches for (XID-6).
    let local = app
        .admin_ok(
            Method::POST,
            "/admin/realms/demo/users",
            Some(
                json!({"username": "alice-local", "email": "ALICE@upstream.example",
                        "email_verified": true, "password": "local secret 123"}),
            ),
        )
        .await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let res = sign_in_upstream(&app, &mut agent, &rp, "alice").await;
    assert_eq!(res.status(), StatusCode::OK, "the link page, not a sign-in");
    let page = res.text().await.unwrap();
    let pending = hidden(&page, "pending").expect("link form");
    let link = app.url("/realms/demo/login-actions/link");
    let wrong = agent
        .post(&app, &link, &[("pending", &pending), ("password", "guess")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let links = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/demo/users/{}", s(&local, "id")),
            None,
        )
        .await;
    assert_eq!(links["id"], local["id"]);
    let res = agent
        .post(
            &app,
            &link,
            &[("pending", &pending), ("password", "local secret 123")],
        )
        .await;
    assert_eq!(signed_in_user(&app, &rp, &res).await.1["id"], local["id"]);
    // Linked: the next upstream sign-in lands on the same local user without the page.
    let res = sign_in_upstream(&app, &mut Agent::default(), &rp, "alice").await;
    assert_eq!(signed_in_user(&app, &rp, &res).await.1["id"], local["id"]);
}

#[tokio::test]
async fn ending_the_upstream_session_ends_the_brokered_session_through_back_channel_logout() {
    let app = spawn_federated().await;
    upstream_realm(&app).await;
    let bcl = app.url("/realms/demo/broker/up/backchannel-logout");
    for body in [vec![], vec![("logout_token", "a.b.c")]] {
        let res = app.http.post(&bcl).form(&body).send().await.unwrap();
        assert_no_store(&res);
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    let rp = Rp::demo_app(&app);
    let res = sign_in_upstream(&app, &mut Agent::default(), &rp, "alice").await;
    let cb = rp.callback(&res);
    let tokens = rp.tokens(&app, &cb["code"]).await;
    // The refresh token works while the session lives (rotated on use).
    let res = rp.refresh(&app, &s(&tokens, "refresh_token"), None).await;
    let rt = s(&ok_json(res, StatusCode::OK).await, "refresh_token");
    let sub = claims(tokens["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();

    // The upstream realm ends alice's session there (as its logout endpoint would): it
    // signs a logout token for `broker` and posts it to demo's broker endpoint.
    let store = app.provider.store();
    let demo = store
        .find_realm_by_name(&RealmName::parse("demo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let link = store
        .list_user_links(demo.id, tessera_domain::UserId(sub.parse().unwrap()))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let upstream = store
        .find_realm_by_name(&RealmName::parse("upstream").unwrap())
        .await
        .unwrap()
        .unwrap();
    let session = store
        .find_session_by_sid(
            upstream.id,
            link.upstream_sid.as_deref().expect("the upstream sid"),
        )
        .await
        .unwrap()
        .unwrap();
    app.provider
        .end_session("upstream", &session)
        .await
        .unwrap();
    let mut refused = false;
    for _ in 0..50 {
        let res = rp.refresh(&app, &rt, None).await;
        if res.status() == StatusCode::BAD_REQUEST {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "the brokered session's refresh token still works");
}
