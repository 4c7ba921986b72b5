//! The federation kit's self-tests: [`FakeIdp`] as a plain HTTP client and `openidconnect` see
//! it, and node-oidc-provider driven through a code flow by [`peer_authorize`].

use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{ClientId, IssuerUrl, JsonWebKey, Nonce};
use std::collections::HashMap;

/// An HTTP client that does not follow redirects, as Tessera's back end must not.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get_json(url: &str) -> Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An authorization request of the fake's client (PKCE with [`CHALLENGE`], nonce `n-1`):
/// the query of the fake's redirect back to [`REDIRECT`].
async fn authorize_at(fake: &FakeIdp, state: &str) -> HashMap<String, String> {
    let res = client()
        .get(fake.url("/authorize"))
        .query(&[
            ("client_id", fake.behaviour().client_id.as_str()),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = url::Url::parse(&header(&res, "location").unwrap()).unwrap();
    assert_eq!(&back[..url::Position::AfterPath], REDIRECT);
    back.query_pairs().into_owned().collect()
}

/// Redeems `code` at the fake with `verifier`, authenticated by `client_secret_basic`, or
/// `client_secret_post` when `post`.
async fn redeem_at(fake: &FakeIdp, code: &str, verifier: &str, post: bool) -> reqwest::Response {
    let b = fake.behaviour();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let req = client().post(fake.url("/token"));
    let req = if post {
        form.extend([
            ("client_id", &*b.client_id),
            ("client_secret", &*b.client_secret),
        ]);
        req
    } else {
        req.basic_auth(&b.client_id, Some(&b.client_secret))
    };
    req.form(&form).send().await.unwrap()
}

#[tokio::test]
async fn federation_kit_fake_idp_code_flow_verifies_with_openidconnect() {
    let fake = FakeIdp::start().await;
    let b = fake.behaviour();
    let meta = get_json(&fake.url("/.well-known/openid-configuration")).await;
    assert_eq!(meta["issuer"], fake.issuer());
    assert_eq!(meta["token_endpoint"], fake.url("/token"));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["backchannel_logout_session_supported"], true);
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(get_json(&s(&meta, "jwks_uri")).await).unwrap();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(b.client_id.clone()),
        IssuerUrl::new(fake.issuer()).unwrap(),
        jwks,
    )
    .set_allowed_algs(vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ]);

    // RS256 with client_secret_basic, EdDSA with client_secret_post: both verify.
    for (alg, post) in [(Alg::Rs256, false), (Alg::EdDsa, true)] {
        fake.set(|b| b.alg = alg);
        let cb = authorize_at(&fake, "st-1").await;
        assert_eq!(cb["state"], "st-1");
        assert_eq!(fake.last_authorize()["nonce"], "n-1");
        let res = redeem_at(&fake, &cb["code"], VERIFIER, post).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
        let tokens: Value = res.json().await.unwrap();
        let id_token: CoreIdToken = s(&tokens, "id_token").parse().unwrap();
        let verified = id_token
            .claims(&verifier, &Nonce::new("n-1".into()))
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(verified.subject().as_str(), b.sub);
        // Userinfo takes the access token.
        let info = client()
            .get(s(&meta, "userinfo_endpoint"))
            .bearer_auth(s(&tokens, "access_token"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            info.json::<Value>().await.unwrap(),
            json!({ "sub": b.sub, "email": b.email, "email_verified": true })
        );
        // The code is single-use.
        let again = redeem_at(&fake, &cb["code"], VERIFIER, post).await;
        assert_oauth_error(again, 400, "invalid_grant").await;
    }
    // A wrong PKCE verifier, a forged access token.
    let cb = authorize_at(&fake, "st-2").await;
    let res = redeem_at(&fake, &cb["code"], &new_verifier(), false).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let forged = client().get(fake.url("/userinfo")).bearer_auth("forged");
    assert_eq!(forged.send().await.unwrap().status(), 401);

    let (basic, post) = ("client_secret_basic", "client_secret_post");
    assert_eq!(fake.token_auth_methods(), [basic, basic, post, post, basic]);
    let used = "token: unknown or used code";
    assert_eq!(
        fake.complaints(),
        [
            used,
            used,
            "token: PKCE S256 check failed",
            "userinfo: no access token of this fake"
        ]
    );
    let c = fake.counts();
    let want = (c.discovery, c.jwks, c.authorize, c.token, c.userinfo);
    assert_eq!(want, (1, 1, 3, 5, 3));
}

#[tokio::test]
async fn federation_kit_fake_idp_logout_tokens_verify_and_keys_rotate() {
    let fake = FakeIdp::start().await;
    let aud = fake.behaviour().client_id;
    let jwks = || async {
        serde_json::from_value::<CoreJsonWebKeySet>(get_json(&fake.url("/jwks")).await).unwrap()
    };
    // Verified with the JWKS key its header names, or with none.
    let verify = |token: &str, keys: &CoreJsonWebKeySet| {
        let (head, _) = jwt_parts(token);
        let (input, sig) = token.rsplit_once('.').unwrap();
        let alg = serde_json::from_value(head["alg"].clone()).unwrap();
        let key: Option<&CoreJsonWebKey> = keys
            .keys()
            .iter()
            .find(|k| k.key_id().map(|k| k.as_str()) == head["kid"].as_str());
        key.is_some_and(|k| {
            let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
            k.verify_signature(&alg, input.as_bytes(), &sig).is_ok()
        })
    };
    let token = fake.logout_token(&aud, None, Some("sid-1"), json!({}));
    let (head, claims) = jwt_parts(&token);
    assert_eq!(
        (&head["typ"], &head["alg"]),
        (&json!("logout+jwt"), &json!("RS256"))
    );
    assert_eq!(claims["aud"], aud);
    assert_eq!(claims["sid"], "sid-1");
    assert!(claims.get("sub").is_none() && claims.get("nonce").is_none());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    let before = jwks().await;
    assert!(verify(&token, &before));
    fake.set(|b| b.alg = Alg::EdDsa);
    assert!(verify(
        &fake.logout_token(&aud, Some("u"), None, json!({})),
        &before
    ));

    // A foreign key is not in the JWKS, whatever kid the header names.
    fake.set(|b| b.foreign_key = true);
    assert!(!verify(
        &fake.logout_token(&aud, Some("u"), None, json!({})),
        &before
    ));
    fake.set(|b| b.kid = Some("eddsa-1".into()));
    assert!(!verify(
        &fake.logout_token(&aud, Some("u"), None, json!({})),
        &before
    ));

    // After a rotation the JWKS serves only new keys: old tokens no longer verify.
    fake.rotate_keys();
    fake.set(|b| *b = Behaviour::default());
    let after = jwks().await;
    assert!(!verify(&token, &after));
    assert!(verify(
        &fake.logout_token(&aud, Some("u"), None, json!({})),
        &after
    ));

    // `extra` overrides and removes claims; an unsigned token has an empty signature.
    fake.set(|b| b.alg = Alg::None);
    let hostile = fake.logout_token(&aud, None, None, json!({ "events": null, "nonce": "n" }));
    let (head, claims) = jwt_parts(&hostile);
    assert_eq!(head["alg"], "none");
    assert!(hostile.ends_with('.') && claims.get("events").is_none());
    assert_eq!(claims["nonce"], "n");
}

#[tokio::test]
async fn federation_kit_fake_idp_misbehaves_as_asked() {
    let fake = FakeIdp::start().await;
    fake.set(|b| {
        b.metadata = json!({ "issuer": "https://impostor.test", "userinfo_endpoint": null });
        b.authorize = Authorize::WrongState;
        b.answers.jwks = Answer::RedirectTo(METADATA_URL.into());
        b.answers.token = Answer::Error;
        b.answers.userinfo = Answer::Oversized;
    });
    let meta = get_json(&fake.url("/.well-known/openid-configuration")).await;
    assert_eq!(meta["issuer"], "https://impostor.test");
    assert!(meta.get("userinfo_endpoint").is_none());
    assert_eq!(authorize_at(&fake, "st-1").await["state"], "forged-st-1");
    let res = client().get(fake.url("/jwks")).send().await.unwrap();
    assert_eq!(header(&res, "location").as_deref(), Some(METADATA_URL));
    let res = redeem_at(&fake, "any", VERIFIER, false).await;
    assert_oauth_error(res, 400, "invalid_grant").await;

    fake.set(|b| {
        b.authorize = Authorize::Error("access_denied".into());
        b.answers.token = Answer::Normal;
    });
    let cb = authorize_at(&fake, "st-2").await;
    assert_eq!((&*cb["error"], &*cb["state"]), ("access_denied", "st-2"));
    assert!(!cb.contains_key("code"));
    fake.set(|b| b.authorize = Authorize::Code);
    let cb = authorize_at(&fake, "st-3").await;
    let tokens: Value = redeem_at(&fake, &cb["code"], VERIFIER, false)
        .await
        .json()
        .await
        .unwrap();
    let big = client()
        .get(fake.url("/userinfo"))
        .bearer_auth(s(&tokens, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::OK);
    assert!(big.headers().get("content-length").is_none(), "streamed");
    assert!(big.bytes().await.unwrap().len() > OVERSIZED);
    fake.set(|b| b.answers.discovery = Answer::Slow);
    let slow = client()
        .get(fake.url("/.well-known/openid-configuration"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(slow.is_err_and(|e| e.is_timeout()));
}

#[tokio::test]
async fn federation_kit_node_peer_completes_a_code_flow() {
    let app = spawn_app().await;
    let (bcl_url, mut bcl) = backchannel_receiver().await;
    let peer = NodePeer::start(&[("BACKCHANNEL_LOGOUT_URI", &bcl_url)]).await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", PEER_CLIENT),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let url = format!("{}/auth?{query}", peer.issuer());
    let mut agent = Agent::default();
    let back = peer_authorize(&mut agent, &app, &url, "carol").await;
    let back = url::Url::parse(&back).unwrap();
    assert_eq!(&back[..url::Position::AfterPath], REDIRECT);
    let cb: HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(cb["state"], "st-1");
    assert_eq!(cb["iss"], peer.issuer());

    let res = app
        .http
        .post(format!("{}/token", peer.issuer()))
        .basic_auth(PEER_CLIENT, Some(PEER_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &cb["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let tokens: Value = res.json().await.unwrap();
    let id = claims(&s(&tokens, "id_token"));
    assert_eq!((&id["sub"], &id["nonce"]), (&json!("carol"), &json!("n-1")));
    assert!(
        id.get("email").is_none(),
        "by default e-mail is at userinfo only"
    );
    assert!(id["sid"].is_string());
    let userinfo_endpoint = s(
        &get_json(&format!(
            "{}/.well-known/openid-configuration",
            peer.issuer()
        ))
        .await,
        "userinfo_endpoint",
    );
    let info = app
        .http
        .get(userinfo_endpoint)
        .bearer_auth(s(&tokens, "access_token"))
        .send()
        .await
        .unwrap();
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["email"], "carol@example.test");
    assert_eq!(info["email_verified"], true);

    // A second authorization in the same browser rides on the peer's session.
    let again = peer_authorize(&mut agent, &app, &url, "ignored").await;
    assert!(
        again.starts_with(REDIRECT) && again.contains("code="),
        "{again}"
    );

    // Ending the peer's session sends a logout token for that sid.
    peer.end_session(&mut agent, &app).await;
    let body = tokio::time::timeout(Duration::from_secs(10), bcl.recv())
        .await
        .unwrap_or_else(|_| panic!("no logout token:\n{}", peer.log()))
        .unwrap();
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .unwrap()
        .1;
    assert_eq!(claims(&token)["sid"], id["sid"]);
}
