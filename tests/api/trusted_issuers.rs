//! Tokens of trusted issuers over HTTP: external subject tokens in token exchange (RFC 8693)
//! and the JWT bearer grant (RFC 7523), from the hostile [`FakeIdp`], a token-only issuer and
//! node-oidc-provider. XID-1 … XID-10, TE-13, TE-14 (SECURITY-CASES.md §2.5).

use crate::helpers::{
    Alg, Answer, FakeIdp, JsonServer, METADATA_URL, NodePeer, TestApp, add_idp, assert_no_store,
    assert_oauth_error, broker_endpoint, claims, idp_path, jwt_parts, merged, ok_json, s,
    spawn_federated, unix_now,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const IDT: &str = "urn:ietf:params:oauth:token-type:id_token";
/// What the trusted issuer calls Tessera in `aud` of the tokens it hands out.
const AUD: &str = "https://tessera.example/api";

/// A server with the fake registered as provider `up` that accepts tokens (`trust` are the
/// extra `tessera idp update` options), and client `svc` whose exchange policy trusts it.
struct Fx {
    app: TestApp,
    fake: FakeIdp,
    secret: String,
}

async fn trusted(trust: &[&str]) -> Fx {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    add_idp(&app, "demo", fake.registration("up"), json!({})).await;
    accept_tokens(&app, "up", trust);
    let (uuid, secret) = app
        .create_client(
            "demo",
            json!({
                "client_id": "svc",
                "grant_types": ["client_credentials", TE, JWT_BEARER],
                "scopes": ["openid", "profile", "api:read"],
            }),
        )
        .await;
    policy(&app, &uuid, json!({ "trusted_idps": ["up"] })).await;
    Fx {
        app,
        fake,
        secret: secret.unwrap(),
    }
}

/// `tessera idp update --realm demo ALIAS --accept-tokens --token-audience AUD …`.
fn accept_tokens(app: &TestApp, alias: &str, extra: &[&str]) {
    let mut args = vec![
        "idp",
        "update",
        "--realm",
        "demo",
        alias,
        "--accept-tokens",
        "--token-audience",
        AUD,
    ];
    args.extend_from_slice(extra);
    let out = app.cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The exchange policy of client `uuid`: every external subject type, `overrides` merged.
async fn policy(app: &TestApp, uuid: &str, overrides: Value) {
    let body = merged(json!({ "subject_token_types": [AT, JWT, IDT] }), &overrides);
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/demo/clients/{uuid}/exchange-policy"),
        Some(body),
    )
    .await;
}

impl Fx {
    /// An access token of the trusted issuer for [`AUD`]: `iss`, `aud`, `sub`, `iat`, `exp`
    /// (5 minutes), a fresh `jti`, then `extra` merged over them (`null` removes a claim).
    fn token(&self, extra: Value) -> String {
        self.fake.jwt("at+jwt", self.claims(extra))
    }

    fn claims(&self, extra: Value) -> Value {
        let now = unix_now();
        merged(
            json!({
                "iss": self.fake.issuer(),
                "aud": AUD,
                "sub": "ext-user-1",
                "iat": now,
                "exp": now + 300,
                "jti": uuid::Uuid::new_v4().to_string(),
                "email": "ext1@upstream.test",
                "email_verified": true,
            }),
            &extra,
        )
    }

    async fn exchange(&self, token: &str, token_type: &str) -> Response {
        self.app
            .post_basic(
                "demo",
                "token",
                "svc",
                &self.secret,
                &[
                    ("grant_type", TE),
                    ("subject_token", token),
                    ("subject_token_type", token_type),
                ],
            )
            .await
    }

    async fn exchanged(&self, token: &str, token_type: &str) -> Value {
        let res = self.exchange(token, token_type).await;
        assert_no_store(&res);
        ok_json(res, StatusCode::OK).await
    }

    async fn refused(&self, token: &str, token_type: &str, why: &str) {
        let res = self.exchange(token, token_type).await;
        let body = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(
            !body.to_string().contains("access_token\""),
            "{why}: {body}"
        );
    }

    async fn bearer(&self, assertion: &str) -> Response {
        self.bearer_as("svc", &self.secret, assertion).await
    }

    /// The JWT bearer grant for client `id`.
    async fn bearer_as(&self, id: &str, secret: &str, assertion: &str) -> Response {
        self.app
            .post_basic(
                "demo",
                "token",
                id,
                secret,
                &[("grant_type", JWT_BEARER), ("assertion", assertion)],
            )
            .await
    }

    async fn token_endpoint(&self) -> String {
        s(&self.app.discovery_document("demo").await, "token_endpoint")
    }
}

/// A compact JWS over `claims` with an arbitrary header and signature, as an attacker
/// assembles one.
fn forged(header: Value, claims: &Value, signature: &[u8]) -> String {
    let b64 = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

#[tokio::test]
async fn an_external_access_token_becomes_a_tessera_token_for_the_same_person() {
    let fx = trusted(&["--map-users", "create"]).await;
    let ext = fx.claims(json!({}));
    let token = fx.fake.jwt("at+jwt", ext.clone());
    let r = fx.exchanged(&token, AT).await;
    assert_eq!(r["issued_token_type"], AT);
    assert_eq!(r["token_type"], "Bearer");
    let (header, c) = jwt_parts(&s(&r, "access_token"));
    assert_eq!(header["typ"], "at+jwt");
    // A local user, created on first use and linked to the upstream subject.
    let sub = s(&c, "sub");
    assert!(uuid::Uuid::parse_str(&sub).is_ok(), "{sub}");
    assert_eq!(c["client_id"], "svc");
    assert_eq!(c["aud"], "svc");
    // TE-15: never past the external token's expiry.
    assert!(c["exp"].as_i64().unwrap() <= ext["exp"].as_i64().unwrap());
    assert!(c.get("act").is_none());
    // The same upstream subject is the same user next time.
    let again = fx.exchanged(&fx.token(json!({})), JWT).await;
    assert_eq!(claims(&s(&again, "access_token"))["sub"], json!(sub));
    let links = fx
        .app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/demo/users/{sub}/federated-identity"),
            None,
        )
        .await;
    assert_eq!(links[0]["identity_provider"], "up");
    assert_eq!(links[0]["user_id"], "ext-user-1");
    // With an actor token (the caller's own), the person stays `sub` and the caller is `act`.
    let uuid = s(
        &fx.app
            .admin_ok(Method::GET, "/admin/realms/demo/clients/svc", None)
            .await,
        "id",
    );
    policy(
        &fx.app,
        &uuid,
        json!({ "trusted_idps": ["up"], "delegate": true }),
    )
    .await;
    let own = fx.app.client_credentials("demo", "svc", &fx.secret).await;
    let res = fx
        .app
        .post_basic(
            "demo",
            "token",
            "svc",
            &fx.secret,
            &[
                ("grant_type", TE),
                ("subject_token", &fx.token(json!({}))),
                ("subject_token_type", AT),
                ("actor_token", &s(&own, "access_token")),
                ("actor_token_type", AT),
            ],
        )
        .await;
    let delegated = claims(&s(&ok_json(res, StatusCode::OK).await, "access_token"));
    assert_eq!(delegated["sub"], json!(sub));
    assert_eq!(delegated["act"]["client_id"], "svc");
    // The exchange log names the external issuer and the token's jti.
    let log = fx
        .app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/demo/token-exchanges?subject={sub}"),
            None,
        )
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{log}");
    assert!(
        items
            .iter()
            .all(|i| i["external_issuer"] == json!(fx.fake.issuer()))
    );
    assert!(items.iter().any(|i| i["parent_jti"] == ext["jti"]), "{log}");
    // The issued token is an ordinary Tessera token: introspection says so.
    let intro = fx
        .app
        .introspect("demo", "svc", &fx.secret, &s(&r, "access_token"))
        .await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["sub"], json!(sub));
}

#[tokio::test]
async fn xid_1_iso_8_te_13_only_enabled_accepting_providers_the_client_trusts_in_this_realm() {
    let fx = trusted(&["--map-users", "create"]).await;
    let token = || fx.token(json!({}));
    // A client whose policy does not name the provider.
    let (uuid, other) = fx
        .app
        .create_client(
            "demo",
            json!({ "client_id": "svc2", "grant_types": [TE], "scopes": ["openid"] }),
        )
        .await;
    policy(&fx.app, &uuid, json!({ "subject_token_types": [AT] })).await;
    let res = fx
        .app
        .post_basic(
            "demo",
            "token",
            "svc2",
            &other.unwrap(),
            &[
                ("grant_type", TE),
                ("subject_token", &token()),
                ("subject_token_type", AT),
            ],
        )
        .await;
    // TE-14: a present but unacceptable subject token fails the request, never dropped.
    assert_oauth_error(res, 400, "invalid_request").await;
    // An issuer no provider of this realm has.
    let stranger = fx.fake.jwt(
        "at+jwt",
        fx.claims(json!({ "iss": "https://stranger.example" })),
    );
    fx.refused(&stranger, AT, "unknown issuer").await;
    // ISO-8 / TE-13: a realm without the provider, whose client names the same alias
    // (a policy names only providers of its realm: there, one deleted since).
    fx.app.create_realm("other", "RS256").await;
    let (other_uuid, other_secret) = fx
        .app
        .create_client(
            "other",
            json!({ "client_id": "svc", "grant_types": [TE], "scopes": ["openid"] }),
        )
        .await;
    let gone = idp_path("other", Some("up"));
    fx.app
        .admin_ok(
            Method::POST,
            &idp_path("other", None),
            Some(json!({
                "alias": "up", "issuer": "https://gone.example",
                "jwks_uri": "https://gone.example/jwks", "accept_tokens": {},
            })),
        )
        .await;
    fx.app
        .admin_ok(
            Method::PUT,
            &format!("/admin/realms/other/clients/{other_uuid}/exchange-policy"),
            Some(json!({ "subject_token_types": [AT, JWT], "trusted_idps": ["up"] })),
        )
        .await;
    let res = fx.app.admin(Method::DELETE, &gone, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let in_other = fx
        .app
        .post_basic(
            "other",
            "token",
            "svc",
            other_secret.as_deref().unwrap(),
            &[
                ("grant_type", TE),
                ("subject_token", &token()),
                ("subject_token_type", JWT),
            ],
        )
        .await;
    assert_oauth_error(in_other, 400, "invalid_request").await;
    // Accepted while enabled…
    fx.exchanged(&token(), AT).await;
    // …and nothing once disabled (XID-1), even for a subject it linked before.
    let out = fx
        .app
        .cli(&["idp", "update", "--realm", "demo", "up", "--disable"]);
    assert!(out.status.success());
    let t = token();
    eventually(|| async { fx.exchange(&t, AT).await.status() == StatusCode::BAD_REQUEST }).await;
    fx.refused(&token(), AT, "disabled provider").await;
    // Enabled again but no longer accepting tokens.
    let out = fx.app.cli(&[
        "idp",
        "update",
        "--realm",
        "demo",
        "up",
        "--enable",
        "--no-accept-tokens",
    ]);
    assert!(out.status.success());
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    fx.refused(&token(), AT, "provider without accept_tokens")
        .await;
}

/// Waits (up to 5 s) until `check` holds: a change made by the CLI reaches the server's
/// caches through the change log.
async fn eventually<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..50 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the change did not reach the server");
}

#[tokio::test]
async fn xid_2_only_the_providers_keys_and_asymmetric_algorithms_verify() {
    let fx = trusted(&["--map-users", "create"]).await;
    let c = fx.claims(json!({}));
    // alg none, unsigned.
    let none = forged(json!({ "alg": "none", "typ": "at+jwt" }), &c, b"");
    fx.refused(&none, AT, "alg none").await;
    // HS256 "signed" with the provider's public key as the secret (algorithm confusion).
    let jwk = fx.fake.jwks()["keys"][0].clone();
    let unsigned = forged(
        json!({ "alg": "HS256", "typ": "at+jwt", "kid": jwk["kid"] }),
        &c,
        b"",
    );
    let input = unsigned.rsplit_once('.').unwrap().0.to_owned();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwk.to_string().as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    let hs256 = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    fx.refused(&hs256, AT, "HS256 with the public key").await;
    // A key the provider does not publish, under a kid it does not have: the JWKS is
    // fetched again once, and no other key is tried.
    let before = fx.fake.counts().jwks;
    fx.fake.set(|b| b.foreign_key = true);
    fx.refused(&fx.token(json!({})), AT, "foreign key").await;
    fx.refused(&fx.token(json!({})), AT, "foreign key again")
        .await;
    assert!(
        fx.fake.counts().jwks <= before + 2,
        "unknown kids refetch at most once per interval"
    );
    // The provider's own key under a kid of another of its keys: not a fallback.
    fx.fake.set(|b| {
        b.foreign_key = false;
        b.kid = Some("eddsa-1".into());
    });
    fx.refused(&fx.token(json!({})), AT, "kid of another key")
        .await;
    // A tampered payload.
    fx.fake.set(|b| b.kid = None);
    let good = fx.token(json!({}));
    let mut parts: Vec<&str> = good.split('.').collect();
    let other = URL_SAFE_NO_PAD.encode(fx.claims(json!({ "sub": "admin" })).to_string());
    parts[1] = &other;
    fx.refused(&parts.join("."), AT, "tampered").await;
    // The provider's EdDSA key verifies until the allowed algorithms exclude it.
    fx.fake.set(|b| b.alg = Alg::EdDsa);
    fx.exchanged(&fx.token(json!({})), AT).await;
    accept_tokens(&fx.app, "up", &["--allowed-alg", "RS256"]);
    let t = fx.token(json!({}));
    eventually(|| async { fx.exchange(&t, AT).await.status() == StatusCode::BAD_REQUEST }).await;
    fx.fake.set(|b| b.alg = Alg::Rs256);
    fx.exchanged(&fx.token(json!({})), AT).await;
}

#[tokio::test]
async fn xid_3_exp_and_iat_are_required_and_the_age_and_nbf_are_bounded() {
    let fx = trusted(&["--map-users", "create", "--max-token-age", "600"]).await;
    let now = unix_now();
    for (extra, why) in [
        (json!({ "exp": null }), "exp missing"),
        (json!({ "iat": null }), "iat missing"),
        (json!({ "exp": now - 120 }), "expired"),
        (json!({ "iat": now - 3600 }), "older than the maximum age"),
        (json!({ "iat": now + 3600 }), "issued in the future"),
        (json!({ "nbf": now + 3600 }), "not yet valid"),
        (json!({ "exp": "soon" }), "exp not a number"),
        (json!({ "sub": null }), "no subject"),
    ] {
        fx.refused(&fx.token(extra), AT, why).await;
    }
    fx.exchanged(&fx.token(json!({ "nbf": now - 10, "iat": now - 500 })), AT)
        .await;
}

#[tokio::test]
async fn xid_4_the_token_must_be_meant_for_us_and_azp_must_name_us_among_several() {
    let fx = trusted(&["--map-users", "create"]).await;
    // A token for another API of the same issuer.
    fx.refused(
        &fx.token(json!({ "aud": "https://billing.example" })),
        AT,
        "other aud",
    )
    .await;
    fx.refused(&fx.token(json!({ "aud": null })), AT, "no aud")
        .await;
    // Several audiences: azp must name us.
    let many = json!({ "aud": [AUD, "https://billing.example"] });
    fx.refused(&fx.token(many.clone()), AT, "several aud, no azp")
        .await;
    fx.refused(
        &fx.token(merged(
            many.clone(),
            &json!({ "azp": "https://billing.example" }),
        )),
        AT,
        "azp another",
    )
    .await;
    fx.exchanged(&fx.token(merged(many, &json!({ "azp": AUD }))), AT)
        .await;
    // An ID token is for our client at the provider.
    let client_id = fx.fake.behaviour().client_id;
    let id = fx.fake.jwt(
        "JWT",
        fx.claims(json!({ "aud": client_id, "jti": null, "nonce": "n" })),
    );
    fx.exchanged(&id, IDT).await;
    // …and an access token type never passes for one the other way round: `at+jwt` is
    // not an ID token (RFC 8725 §3.11), nor is a logout token anything.
    let at_as_id = fx
        .fake
        .jwt("at+jwt", fx.claims(json!({ "aud": client_id })));
    fx.refused(&at_as_id, IDT, "at+jwt as an ID token").await;
    let logout = fx
        .fake
        .logout_token(&client_id, Some("ext-user-1"), None, json!({}));
    fx.refused(&logout, JWT, "a logout token").await;
}

#[tokio::test]
async fn xid_5_the_providers_required_claims_hold_on_the_exchange_path_too() {
    let fx = trusted(&["--map-users", "create"]).await;
    let res = fx
        .app
        .admin(Method::GET, &idp_path("demo", Some("up")), None)
        .await;
    let mut rep = ok_json(res, StatusCode::OK).await;
    rep["required_claims"] = json!({ "hd": "acme.test" });
    // The admin PUT replaces the provider; the CLI sets what tokens must satisfy again.
    let body = json!({
        "issuer": rep["issuer"], "client_id": rep["client_id"],
        "required_claims": rep["required_claims"],
    });
    fx.app
        .admin_ok(Method::PUT, &idp_path("demo", Some("up")), Some(body))
        .await;
    accept_tokens(&fx.app, "up", &["--map-users", "create"]);
    let t = fx.token(json!({}));
    eventually(|| async { fx.exchange(&t, AT).await.status() == StatusCode::BAD_REQUEST }).await;
    fx.refused(&fx.token(json!({ "hd": "evil.test" })), AT, "other hd")
        .await;
    fx.exchanged(&fx.token(json!({ "hd": "acme.test" })), AT)
        .await;
}

#[tokio::test]
async fn xid_6_xid_8_an_address_reaches_an_account_only_when_vouched_for_and_disabled_users_get_nothing()
 {
    let fx = trusted(&["--map-users", "email"]).await;
    // A local user with a verified address.
    let res = fx
        .app
        .admin(
            Method::POST,
            "/admin/realms/demo/users",
            Some(json!({ "username": "carol", "email": "carol@upstream.test", "email_verified": true })),
        )
        .await;
    let carol = s(&ok_json(res, StatusCode::CREATED).await, "id");
    let as_carol = |extra: Value| {
        let carol = fx.claims(json!({ "sub": "carol-upstream", "email": "carol@upstream.test" }));
        fx.fake.jwt("at+jwt", merged(carol, &extra))
    };
    // The provider does not trust e-mails yet: no account by address.
    fx.refused(&as_carol(json!({})), AT, "untrusted e-mail")
        .await;
    // Trusted, but the upstream does not vouch for this address (XID-6).
    let out = fx.app.cli(&["idp", "update", "--realm", "demo", "up"]);
    assert!(out.status.success());
    set_trust_email(&fx.app).await;
    for extra in [
        json!({ "email_verified": false }),
        json!({ "email_verified": null }),
        json!({ "email_verified": "true" }),
    ] {
        fx.refused(&as_carol(extra), AT, "unverified upstream address")
            .await;
    }
    // Vouched for: Carol, linked from now on.
    let r = fx.exchanged(&as_carol(json!({})), AT).await;
    assert_eq!(claims(&s(&r, "access_token"))["sub"], json!(carol));
    // An unknown subject with an unknown address: `email` creates nobody.
    fx.refused(
        &fx.token(json!({ "sub": "nobody", "email": "nobody@upstream.test" })),
        AT,
        "unknown person",
    )
    .await;
    // XID-8: a disabled user gets nothing, through the link or otherwise.
    fx.app
        .admin_ok(
            Method::PUT,
            &format!("/admin/realms/demo/users/{carol}"),
            Some(json!({ "username": "carol", "email": "carol@upstream.test", "email_verified": true, "enabled": false })),
        )
        .await;
    fx.refused(&as_carol(json!({})), AT, "disabled user").await;
}

/// Sets `trust_email` on provider `up` through the admin API, keeping what the CLI set.
async fn set_trust_email(app: &TestApp) {
    let rep = app
        .admin_ok(Method::GET, &idp_path("demo", Some("up")), None)
        .await;
    let body =
        json!({ "issuer": rep["issuer"], "client_id": rep["client_id"], "trust_email": true });
    app.admin_ok(Method::PUT, &idp_path("demo", Some("up")), Some(body))
        .await;
    accept_tokens(app, "up", &["--map-users", "email"]);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
}

#[tokio::test]
async fn xid_9_a_required_jti_is_accepted_once_and_the_dry_run_spends_nothing() {
    let fx = trusted(&["--map-users", "create", "--require-jti"]).await;
    fx.refused(&fx.token(json!({ "jti": null })), AT, "no jti")
        .await;
    let token = fx.token(json!({}));
    // The dry run explains and neither spends the jti nor creates the user.
    let eval = fx
        .app
        .admin_ok(
            Method::POST,
            "/admin/realms/demo/token-exchange/evaluate",
            Some(json!({ "client_id": "svc", "subject_token": token, "subject_token_type": AT })),
        )
        .await;
    assert_eq!(eval["allowed"], true, "{eval}");
    assert_eq!(eval["claims"]["external_issuer"], json!(fx.fake.issuer()));
    let users = fx
        .app
        .admin_ok(Method::GET, "/admin/realms/demo/users?search=up.", None)
        .await;
    assert_eq!(users["items"], json!([]), "the dry run created a user");
    fx.exchanged(&token, AT).await;
    // Replayed: refused, however many times.
    fx.refused(&token, AT, "replay").await;
    // Two presentations of one fresh token at once: exactly one passes.
    let fresh = fx.token(json!({}));
    let (a, b) = tokio::join!(fx.exchange(&fresh, AT), fx.exchange(&fresh, AT));
    let ok = [a.status(), b.status()]
        .iter()
        .filter(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn the_jwt_bearer_grant_takes_a_short_lived_single_use_assertion_for_our_token_endpoint() {
    let fx = trusted(&["--map-users", "create"]).await;
    let endpoint = fx.token_endpoint().await;
    let assertion = |extra: Value| {
        fx.fake
            .jwt("JWT", merged(fx.claims(json!({ "aud": endpoint })), &extra))
    };
    let a = assertion(json!({}));
    let res = fx.bearer(&a).await;
    assert_no_store(&res);
    let r = ok_json(res, StatusCode::OK).await;
    assert_eq!(r["token_type"], "Bearer");
    assert!(r.get("refresh_token").is_none(), "{r}");
    assert!(r.get("id_token").is_none(), "{r}");
    let c = claims(&s(&r, "access_token"));
    assert!(uuid::Uuid::parse_str(&s(&c, "sub")).is_ok());
    assert_eq!(c["client_id"], "svc");
    // Single use (RFC 7523 §3 item 7).
    assert_oauth_error(fx.bearer(&a).await, 400, "invalid_grant").await;
    // The issuer is an audience too; a token for the API (our token audience) is not.
    let res = fx
        .bearer(&assertion(
            json!({ "aud": fx.app.discovery_document("demo").await["issuer"] }),
        ))
        .await;
    ok_json(res, StatusCode::OK).await;
    for (extra, why) in [
        (json!({ "aud": AUD }), "for an API, not our token endpoint"),
        (json!({ "jti": null }), "no jti"),
        (
            json!({ "iat": unix_now() - 1200 }),
            "older than five minutes",
        ),
        (json!({ "exp": null }), "no exp"),
    ] {
        let res = fx.bearer(&assertion(extra)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{why}");
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    // The requested scope stays within the client's.
    let res = fx
        .app
        .post_basic(
            "demo",
            "token",
            "svc",
            &fx.secret,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &assertion(json!({}))),
                ("scope", "admin"),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    // No assertion, and a client without the grant or without trusted providers.
    let res = fx
        .app
        .post_basic(
            "demo",
            "token",
            "svc",
            &fx.secret,
            &[("grant_type", JWT_BEARER)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let (uuid, plain) = fx
        .app
        .create_client(
            "demo",
            json!({ "client_id": "plain", "grant_types": [JWT_BEARER], "scopes": ["openid"] }),
        )
        .await;
    let res = fx
        .bearer_as("plain", plain.as_deref().unwrap(), &assertion(json!({})))
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    policy(&fx.app, &uuid, json!({ "trusted_idps": ["up"] })).await;
    let res = fx
        .bearer_as("plain", plain.as_deref().unwrap(), &assertion(json!({})))
        .await;
    ok_json(res, StatusCode::OK).await;
}

/// The issuer of the token-only provider `ci`.
const CI: &str = "https://ci.example";

/// `tessera idp create … ci --issuer CI --jwks-uri URI --accept-tokens …` (`extra`: more
/// options), and client `deployer` whose policy trusts it: the client's secret.
async fn token_only_issuer(app: &TestApp, jwks_uri: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "idp",
        "create",
        "--realm",
        "demo",
        "ci",
        "--issuer",
        CI,
        "--jwks-uri",
        jwks_uri,
        "--accept-tokens",
        "--token-audience",
        AUD,
        "--map-users",
        "create",
    ];
    args.extend_from_slice(extra);
    let out = app.cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (uuid, secret) = app
        .create_client(
            "demo",
            json!({ "client_id": "deployer", "grant_types": [TE], "scopes": ["openid"] }),
        )
        .await;
    policy(app, &uuid, json!({ "trusted_idps": ["ci"] })).await;
    secret.unwrap()
}

/// `deployer` exchanges a JWT of the token-only issuer.
async fn deploy(app: &TestApp, secret: &str, token: &str) -> Response {
    app.post_basic(
        "demo",
        "token",
        "deployer",
        secret,
        &[
            ("grant_type", TE),
            ("subject_token", token),
            ("subject_token_type", JWT),
        ],
    )
    .await
}

#[tokio::test]
async fn a_token_only_issuer_is_trusted_by_its_jwks_and_never_signs_anyone_in() {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    let jwks = JsonServer::start().await;
    jwks.put("/ci/jwks", &fake.jwks());
    let secret = token_only_issuer(
        &app,
        &jwks.url("/ci/jwks"),
        &["--subject-claim", "repository"],
    )
    .await;
    let now = unix_now();
    let workload = |extra: Value| {
        fake.jwt(
            "JWT",
            merged(
                json!({
                    "iss": CI, "aud": AUD, "sub": "repo:acme/app:ref:main",
                    "repository": "acme/app", "iat": now, "exp": now + 300,
                }),
                &extra,
            ),
        )
    };
    let r = ok_json(
        deploy(&app, &secret, &workload(json!({}))).await,
        StatusCode::OK,
    )
    .await;
    assert!(claims(&s(&r, "access_token"))["sub"].is_string());
    // The keys come from the cache: a second exchange fetches nothing.
    ok_json(
        deploy(&app, &secret, &workload(json!({}))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(jwks.hits("/ci/jwks"), 1);
    // Its subject claim is required.
    let res = deploy(&app, &secret, &workload(json!({ "repository": null }))).await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // No login button, no broker endpoint.
    let res = app
        .http
        .get(broker_endpoint(&app, "demo", "ci"))
        .query(&[("state", "x"), ("code", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The admin API shows it without a client or secret.
    let rep = app
        .admin_ok(Method::GET, &idp_path("demo", Some("ci")), None)
        .await;
    assert!(rep.get("client_secret").is_none());
}

#[tokio::test]
async fn xid_10_a_token_only_issuers_jwks_uri_is_fetched_through_the_guarded_client() {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    // A JWKS URL that redirects to the metadata service: never followed.
    fake.set(|b| b.answers.jwks = Answer::RedirectTo(METADATA_URL.into()));
    let secret = token_only_issuer(&app, &fake.url("/jwks"), &[]).await;
    let now = unix_now();
    let token = fake.jwt(
        "JWT",
        json!({ "iss": CI, "aud": AUD, "sub": "w", "iat": now, "exp": now + 60 }),
    );
    assert_oauth_error(deploy(&app, &secret, &token).await, 400, "invalid_request").await;
    assert_eq!(
        fake.counts().jwks,
        1,
        "fetched once, the redirect not followed"
    );
}

#[tokio::test]
async fn node_oidc_provider_tokens_are_exchanged_client_credentials_jwts_and_id_tokens() {
    let app = spawn_federated().await;
    let peer = NodePeer::start(&[
        ("REDIRECT_URIS", &broker_endpoint(&app, "demo", "peer")),
        ("CONFORM_ID_TOKEN_CLAIMS", "0"),
    ])
    .await;
    add_idp(&app, "demo", peer.registration("peer"), json!({})).await;
    accept_tokens(
        &app,
        "peer",
        &["--token-audience", "urn:peer:api", "--map-users", "create"],
    );
    let (uuid, secret) = app
        .create_client(
            "demo",
            json!({ "client_id": "svc", "grant_types": [TE], "scopes": ["openid", "profile"] }),
        )
        .await;
    let secret = secret.unwrap();
    policy(&app, &uuid, json!({ "trusted_idps": ["peer"] })).await;
    let exchange = |token: String, kind: &'static str| {
        let app = &app;
        let secret = secret.clone();
        async move {
            app.post_basic(
                "demo",
                "token",
                "svc",
                &secret,
                &[
                    ("grant_type", TE),
                    ("subject_token", &token),
                    ("subject_token_type", kind),
                ],
            )
            .await
        }
    };
    // An RS256 JWT access token (RFC 9068) for urn:peer:api, from client_credentials.
    let cc = peer.client_credentials().await;
    assert_eq!(jwt_parts(&cc).0["typ"], "at+jwt");
    let r = ok_json(exchange(cc.clone(), AT).await, StatusCode::OK).await;
    let service = claims(&s(&r, "access_token"));
    // An ID token of a person signed in at the peer, for our client there.
    let id_token = peer.id_token(&app, "ext-alice", "openid email").await;
    let r = ok_json(exchange(id_token.clone(), IDT).await, StatusCode::OK).await;
    let person = claims(&s(&r, "access_token"));
    assert_ne!(person["sub"], service["sub"]);
    // The ID token is not an access token of the peer, nor the other way round.
    assert_oauth_error(exchange(id_token, AT).await, 400, "invalid_request").await;
    assert_oauth_error(exchange(cc, IDT).await, 400, "invalid_request").await;
}
