//! `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9) at the token,
//! introspection and revocation endpoints: keys registered inline or published at a
//! `jwks_uri`, and every way an assertion must fail.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use tessera_domain::SigningAlg;
use tessera_oidc::crypto::jws;
use tessera_oidc::crypto::keys::SigningKey;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const REALM: &str = "pk";

fn key(alg: SigningAlg) -> SigningKey {
    SigningKey::generate(alg).unwrap().0
}

/// An RSA key that signs PS256 (RSASSA-PSS), which Tessera verifies but never signs with:
/// its public JWK says `alg: PS256`.
struct Ps256 {
    pair: aws_lc_rs::signature::RsaKeyPair,
    jwk: Value,
}

impl Ps256 {
    fn generate() -> Self {
        let (rsa, pkcs8) = SigningKey::generate(SigningAlg::Rs256).unwrap();
        let mut jwk = rsa.public_jwk();
        jwk["alg"] = "PS256".into();
        let pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&pkcs8).unwrap();
        Self { pair, jwk }
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as("PS256", &aws_lc_rs::signature::RSA_PSS_SHA256, claims)
    }

    /// Signed with `padding`, the header naming `alg`.
    fn sign_as(
        &self,
        alg: &str,
        padding: &'static dyn aws_lc_rs::signature::RsaEncoding,
        claims: &Value,
    ) -> String {
        let header = json!({ "alg": alg, "typ": "JWT", "kid": self.jwk["kid"] });
        forge(header, claims, |input| {
            let mut sig = vec![0; self.pair.public_modulus_len()];
            self.pair
                .sign(
                    padding,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    input,
                    &mut sig,
                )
                .unwrap();
            sig
        })
    }
}

fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
}

fn token_endpoint() -> String {
    format!("{}/protocol/openid-connect/token", issuer(REALM))
}

fn unique() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Claims of a good assertion by `client` for `aud`, valid for a minute from `now`.
fn claims_for(client: &str, aud: Value, now: i64) -> Value {
    json!({ "iss": client, "sub": client, "aud": aud, "exp": now + 60, "iat": now, "jti": unique() })
}

fn assertion(app: &TestApp, key: &SigningKey, client: &str) -> String {
    jws::sign(
        key,
        "JWT",
        &claims_for(client, token_endpoint().into(), now(app)),
    )
}

fn now(app: &TestApp) -> i64 {
    tessera_domain::Clock::now(&*app.clock).0
}

/// A compact JWS with any header, signed by `sign` over its input.
fn forge(header: Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    let input = format!(
        "{}.{}",
        b(header.to_string().as_bytes()),
        b(claims.to_string().as_bytes())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b(&sig))
}

async fn post(app: &TestApp, ep: &str, form: &[(&str, &str)]) -> Response {
    app.http
        .post(app.endpoint(REALM, ep))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn client_credentials(app: &TestApp, assertion: &str) -> Response {
    post(
        app,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ],
    )
    .await
}

async fn app_with_realm() -> TestApp {
    let app = spawn_app().await;
    app.create_realm(REALM, "ES256").await;
    app
}

async fn key_client(app: &TestApp, client_id: &str, keys: Value) -> String {
    let mut body =
        json!({ "client_id": client_id, "token_endpoint_auth_method": "private_key_jwt" });
    body.as_object_mut()
        .unwrap()
        .extend(keys.as_object().unwrap().clone());
    let (id, secret) = app.create_client(REALM, body).await;
    assert!(secret.is_none(), "a private_key_jwt client gets no secret");
    id
}

#[tokio::test]
async fn client_credentials_with_an_assertion_signed_by_an_inline_key_gets_a_token() {
    let app = app_with_realm().await;
    let (rs, es, ed) = (
        key(SigningAlg::Rs256),
        key(SigningAlg::Es256),
        key(SigningAlg::EdDsa),
    );
    key_client(&app, "svc", json!({ "jwks": jwks(&[&rs, &es, &ed]) })).await;
    for k in [&rs, &es, &ed] {
        let res = client_credentials(&app, &assertion(&app, k, "svc")).await;
        let body = ok_json(res, reqwest::StatusCode::OK).await;
        assert_eq!(
            claims(&s(&body, "access_token"))["client_id"],
            "svc",
            "{:?}",
            k.alg
        );
    }
    // The issuer is an audience too, and `aud` may be an array.
    let c = claims_for(
        "svc",
        json!(["https://elsewhere", issuer(REALM)]),
        now(&app),
    );
    let res = client_credentials(&app, &jws::sign(&ed, "JWT", &c)).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn client_credentials_with_a_ps256_assertion_gets_a_token() {
    let app = app_with_realm().await;
    let ps = Ps256::generate();
    key_client(&app, "pss", json!({ "jwks": { "keys": [ps.jwk.clone()] } })).await;
    let c = claims_for("pss", token_endpoint().into(), now(&app));
    let body = ok_json(
        client_credentials(&app, &ps.sign(&c)).await,
        reqwest::StatusCode::OK,
    )
    .await;
    assert_eq!(claims(&s(&body, "access_token"))["client_id"], "pss");
    // The same key under RS256 is not what its JWK allows.
    let rs = ps.sign_as(
        "RS256",
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &claims_for("pss", token_endpoint().into(), now(&app)),
    );
    assert_oauth_error(client_credentials(&app, &rs).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn introspection_and_revocation_accept_assertions_addressed_to_them() {
    let app = app_with_realm().await;
    let k = key(SigningAlg::EdDsa);
    key_client(&app, "rs", json!({ "jwks": jwks(&[&k]) })).await;
    let token = s(
        &ok_json(
            client_credentials(&app, &assertion(&app, &k, "rs")).await,
            reqwest::StatusCode::OK,
        )
        .await,
        "access_token",
    );
    // Sends `token` to `ep` with an assertion addressed to `aud_ep`.
    let call = |ep: &'static str, aud_ep: &'static str| {
        let a = jws::sign(
            &k,
            "JWT",
            &claims_for(
                "rs",
                format!("{}/protocol/openid-connect/{aud_ep}", issuer(REALM)).into(),
                now(&app),
            ),
        );
        let (app, token) = (&app, token.clone());
        async move {
            let form = [
                ("token", token.as_str()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
                ("client_id", "rs"),
            ];
            post(app, ep, &form).await
        }
    };
    let res = call("token/introspect", "token/introspect").await;
    assert_eq!(ok_json(res, reqwest::StatusCode::OK).await["active"], true);
    assert_eq!(call("revoke", "revoke").await.status(), 200);
    // An assertion for the revocation endpoint is not one for introspection.
    let res = call("token/introspect", "revoke").await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn assertions_with_a_wrong_audience_lifetime_or_a_used_jti_are_refused() {
    let app = app_with_realm().await;
    let k = key(SigningAlg::EdDsa);
    key_client(&app, "svc", json!({ "jwks": jwks(&[&k]) })).await;
    let t = now(&app);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims_for("svc", token_endpoint().into(), t);
        f(&mut c);
        jws::sign(&k, "JWT", &c)
    };
    let refused = [
        (
            "wrong aud",
            with(&|c| c["aud"] = "https://other.example/token".into()),
        ),
        (
            "another realm's endpoint",
            with(&|c| {
                c["aud"] = format!("{}/protocol/openid-connect/token", issuer("demo")).into()
            }),
        ),
        ("expired", with(&|c| c["exp"] = (t - 120).into())),
        ("exp too far ahead", with(&|c| c["exp"] = (t + 3600).into())),
        // Five minutes at most, the clock skew included.
        (
            "exp a second too far",
            with(&|c| c["exp"] = (t + 301).into()),
        ),
        (
            "no exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        ("iat in the future", with(&|c| c["iat"] = (t + 600).into())),
        (
            "no jti",
            with(&|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
        ),
        ("iss not the client", with(&|c| c["iss"] = "other".into())),
    ];
    for (what, a) in refused {
        let res = client_credentials(&app, &a).await;
        assert_eq!(res.status(), 401, "{what}");
        assert_oauth_error(res, 401, "invalid_client").await;
    }
    let longest = with(&|c| c["exp"] = (t + 300).into());
    assert_eq!(client_credentials(&app, &longest).await.status(), 200);
    let once = assertion(&app, &k, "svc");
    assert_eq!(client_credentials(&app, &once).await.status(), 200);
    let replay = client_credentials(&app, &once).await;
    assert_oauth_error(replay, 401, "invalid_client").await;
}

#[tokio::test]
async fn alg_none_and_hs256_signed_with_the_public_key_are_refused() {
    let app = app_with_realm().await;
    let k = key(SigningAlg::Rs256);
    let jwk = k.public_jwk();
    key_client(&app, "svc", json!({ "jwks": { "keys": [jwk.clone()] } })).await;
    let c = claims_for("svc", token_endpoint().into(), now(&app));
    let none = forge(json!({ "alg": "none", "kid": k.kid }), &c, |_| Vec::new());
    assert_oauth_error(client_credentials(&app, &none).await, 401, "invalid_client").await;
    // Key confusion: the public key's bytes (as JWK text and as its modulus) as an HMAC key.
    for secret in [
        jwk.to_string().into_bytes(),
        URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
    ] {
        let c = claims_for("svc", token_endpoint().into(), now(&app));
        let hs = forge(json!({ "alg": "HS256", "kid": k.kid }), &c, |input| {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec()
        });
        assert_oauth_error(client_credentials(&app, &hs).await, 401, "invalid_client").await;
    }
    // A good signature whose header names another algorithm than the key's.
    let c = claims_for("svc", token_endpoint().into(), now(&app));
    let ps = forge(json!({ "alg": "PS256", "kid": k.kid }), &c, |input| {
        k.sign(input)
    });
    assert_oauth_error(client_credentials(&app, &ps).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn without_a_kid_only_a_single_fitting_key_may_verify() {
    let app = app_with_realm().await;
    let (a, b) = (key(SigningAlg::EdDsa), key(SigningAlg::EdDsa));
    key_client(&app, "one", json!({ "jwks": jwks(&[&a]) })).await;
    key_client(&app, "two", json!({ "jwks": jwks(&[&a, &b]) })).await;
    let no_kid = |client: &str| {
        let c = claims_for(client, token_endpoint().into(), now(&app));
        forge(json!({ "alg": "EdDSA" }), &c, |input| a.sign(input))
    };
    assert_eq!(client_credentials(&app, &no_kid("one")).await.status(), 200);
    assert_oauth_error(
        client_credentials(&app, &no_kid("two")).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn jwks_uri_keys_are_cached_and_fetched_again_once_for_a_rotated_kid() {
    let app = app_with_realm().await;
    let server = JsonServer::start().await;
    let (old, new) = (key(SigningAlg::Es256), key(SigningAlg::Es256));
    server.put("/jwks", &jwks(&[&old]));
    key_client(&app, "svc", json!({ "jwks_uri": server.url("/jwks") })).await;
    // The client's creation reaches the change follower within a second and drops what is
    // cached about it; from then on nothing changes.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let res = client_credentials(&app, &assertion(&app, &old, "svc")).await;
    assert_eq!(res.status(), 200);
    let fetched = server.hits("/jwks");
    for _ in 0..3 {
        let res = client_credentials(&app, &assertion(&app, &old, "svc")).await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(server.hits("/jwks"), fetched, "the key set is cached");
    let fetched = server.hits("/jwks");
    // The client rotates: the new kid is unknown, so the set is fetched once more.
    server.put("/jwks", &jwks(&[&new]));
    let res = client_credentials(&app, &assertion(&app, &new, "svc")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(server.hits("/jwks"), fetched + 1);
    // Another unknown kid right after does not make us fetch again.
    let stranger = key(SigningAlg::Es256);
    let res = client_credentials(&app, &assertion(&app, &stranger, "svc")).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(
        server.hits("/jwks"),
        fetched + 1,
        "refetches are rate-limited"
    );
}

#[tokio::test]
async fn a_jwks_uri_that_is_down_or_serves_junk_is_a_failed_authentication() {
    let app = app_with_realm().await;
    let server = JsonServer::start().await;
    let k = key(SigningAlg::EdDsa);
    key_client(&app, "down", json!({ "jwks_uri": server.url("/missing") })).await;
    key_client(&app, "junk", json!({ "jwks_uri": server.url("/junk") })).await;
    server.put_raw("/junk", 200, "application/json", b"{\"keys\": 42".to_vec());
    for client in ["down", "junk"] {
        let res = client_credentials(&app, &assertion(&app, &k, client)).await;
        assert_oauth_error(res, 401, "invalid_client").await;
    }
}

#[tokio::test]
async fn a_client_uses_only_its_own_authentication_method() {
    let app = app_with_realm().await;
    let k = key(SigningAlg::EdDsa);
    key_client(&app, "keyed", json!({ "jwks": jwks(&[&k]) })).await;
    let (_, secret) = app
        .create_client(REALM, json!({ "client_id": "secret" }))
        .await;
    let secret = secret.unwrap();
    let cc = [("grant_type", "client_credentials")];
    // A key client presenting a secret, in either place.
    let res = app.post_basic(REALM, "token", "keyed", "guess", &cc).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = post(
        &app,
        "token",
        &[cc[0], ("client_id", "keyed"), ("client_secret", "guess")],
    )
    .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // Nor as a public client.
    let res = post(&app, "token", &[cc[0], ("client_id", "keyed")]).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // A secret client presenting an assertion signed by a key of its own choosing.
    let res = client_credentials(&app, &assertion(&app, &k, "secret")).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // An assertion together with a secret is two methods at once.
    let a = assertion(&app, &k, "keyed");
    let res = app
        .http
        .post(app.endpoint(REALM, "token"))
        .basic_auth("secret", Some(&secret))
        .form(&[
            cc[0],
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = post(
        &app,
        "token",
        &[
            cc[0],
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &a),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // client_id, when sent, must be the assertion's sub.
    let res = post(
        &app,
        "token",
        &[
            cc[0],
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &a),
            ("client_id", "secret"),
        ],
    )
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // An unknown assertion type.
    let res = post(
        &app,
        "token",
        &[
            cc[0],
            ("client_assertion_type", "urn:x"),
            ("client_assertion", &a),
        ],
    )
    .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // The untouched assertion still works: none of the refusals spent it.
    assert_eq!(client_credentials(&app, &a).await.status(), 200);
}

#[tokio::test]
async fn changed_keys_take_effect_at_once() {
    let app = app_with_realm().await;
    let (old, new) = (key(SigningAlg::EdDsa), key(SigningAlg::EdDsa));
    let id = key_client(&app, "svc", json!({ "jwks": jwks(&[&old]) })).await;
    assert_eq!(
        client_credentials(&app, &assertion(&app, &old, "svc"))
            .await
            .status(),
        200
    );
    let path = format!("/admin/realms/{REALM}/clients/{id}");
    let mut body = app.admin_ok(Method::GET, &path, None).await;
    body["jwks"] = jwks(&[&new]);
    for k in ["id", "created_at", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    app.admin_ok(Method::PUT, &path, Some(body)).await;
    let res = client_credentials(&app, &assertion(&app, &old, "svc")).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(
        client_credentials(&app, &assertion(&app, &new, "svc"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn discovery_advertises_private_key_jwt_and_its_algorithms() {
    let app = spawn_app().await;
    let d = app.discovery_document("demo").await;
    for ep in ["token", "introspection", "revocation"] {
        let methods = d[format!("{ep}_endpoint_auth_methods_supported")]
            .as_array()
            .unwrap()
            .clone();
        assert!(methods.contains(&json!("private_key_jwt")), "{ep}");
        assert_eq!(
            d[format!("{ep}_endpoint_auth_signing_alg_values_supported")],
            json!(["RS256", "PS256", "ES256", "EdDSA"])
        );
    }
}
