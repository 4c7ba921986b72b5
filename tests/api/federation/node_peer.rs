//! node-oidc-provider (OpenID-certified) as the upstream: the default configuration with the
//! e-mail at userinfo only, and its back-channel logout.

use super::*;

/// A federated server with node-oidc-provider (started with `env`, sending the browser and
/// its back-channel logout tokens to Tessera) as provider `peer` of realm demo (`extra` merged
/// into its registration).
async fn with_node_peer(env: &[(&str, &str)], extra: Value) -> (TestApp, NodePeer) {
    let app = spawn_federated().await;
    let endpoint = broker_endpoint(&app, "demo", "peer");
    let logout = broker_logout_endpoint(&app, "demo", "peer");
    let mut env = env.to_vec();
    env.extend([
        ("REDIRECT_URIS", &*endpoint),
        ("BACKCHANNEL_LOGOUT_URI", &logout),
    ]);
    let peer = NodePeer::start(&env).await;
    add_idp(&app, "demo", peer.registration("peer"), extra).await;
    (app, peer)
}

#[tokio::test]
async fn node_peer_userinfo_email_is_taken_as_verified_under_trust_email() {
    let (app, _peer) = with_node_peer(&[], json!({ "trust_email": true })).await;
    let rp = Rp::demo_app(&app);
    let res = peer_broker_login(&app, &mut Agent::default(), &rp, "peer", "carol").await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert_eq!(user["email"], "carol@example.test");
    assert_eq!(user["email_verified"], true);
    let links = federated_identities(&app, "demo", &s(&user, "id")).await;
    assert_eq!(links[0]["user_id"], "carol");
}

#[tokio::test]
async fn node_peer_profile_claims_released_only_at_userinfo_name_the_new_user() {
    // By default the peer's ID token carries no profile claims: they come from userinfo,
    // preferred_username with the scope `org`.
    let (app, _peer) = with_node_peer(
        &[("ACCOUNT_CLAIMS", r#"{"preferred_username":"frank.peer"}"#)],
        json!({ "scopes": ["openid", "profile", "email", "org"] }),
    )
    .await;
    let rp = Rp::demo_app(&app);
    let res = peer_broker_login(&app, &mut Agent::default(), &rp, "peer", "frank").await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert_eq!(user["username"], "frank.peer", "{user}");
    assert_eq!(user["given_name"], "Test", "{user}");
    assert_eq!(user["family_name"], "User", "{user}");
    let links = federated_identities(&app, "demo", &s(&user, "id")).await;
    assert_eq!(links[0]["user_name"], "frank.peer", "{links:?}");
}

#[tokio::test]
async fn node_peer_unverified_email_stays_unverified() {
    let (app, _peer) =
        with_node_peer(&[("EMAIL_VERIFIED", "0")], json!({ "trust_email": true })).await;
    let rp = Rp::demo_app(&app);
    let res = peer_broker_login(&app, &mut Agent::default(), &rp, "peer", "dave").await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert_eq!(user["email"], "dave@example.test");
    assert_eq!(user["email_verified"], false);
}

#[tokio::test]
async fn node_peer_session_end_revokes_the_brokered_session() {
    let (app, peer) = with_node_peer(&[], json!({})).await;
    let rp = browser_client(&app, "rp", false, json!({})).await;
    let mut agent = Agent::default();
    let res = peer_broker_login(&app, &mut agent, &rp, "peer", "erin").await;
    let tokens = rp.tokens(&app, &rp.callback(&res)["code"]).await;
    peer.end_session(&mut agent, &app).await;
    // The peer POSTs its logout token after answering the browser: poll, rotating meanwhile.
    let mut rt = s(&tokens, "refresh_token");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let res = rp.refresh(&app, &rt, None).await;
        if res.status() != StatusCode::OK {
            assert_oauth_error(res, 400, "invalid_grant").await;
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still signed in:\n{}",
            peer.log()
        );
        rt = s(&res.json().await.unwrap(), "refresh_token");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
