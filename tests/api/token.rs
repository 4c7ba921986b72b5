use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn client_credentials_issues_an_rfc9068_jwt_with_every_required_claim() {
    let app = spawn_app().await;
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-service",
            &app.demo_secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "api:read api:write");
    assert!(body.get("refresh_token").is_none());

    let token = body["access_token"].as_str().unwrap();
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], issuer("demo"));
    assert_eq!(claims["aud"], issuer("demo"));
    assert_eq!(claims["client_id"], "demo-service");
    assert_eq!(claims["scope"], "api:read api:write");
    // `sub` is the client's server-assigned UUID, never confusable with a user (RFC 9700 §4.15).
    assert!(uuid::Uuid::parse_str(claims["sub"].as_str().unwrap()).is_ok());
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 300);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - 60..=now + 5).contains(&iat),
        "iat in seconds, not ms"
    );
    assert!(claims["jti"].as_str().unwrap().len() >= 22);

    // The JWKS the realm serves verifies it, through introspection.
    let intro = app
        .introspect("demo", "demo-service", &app.demo_secret, token)
        .await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], "demo-service");
    assert_eq!(intro["iss"], issuer("demo"));
    assert_eq!(intro["sub"], claims["sub"]);
    assert_eq!(intro["token_type"], "Bearer");
}

#[tokio::test]
async fn a_secret_client_authenticates_only_the_way_it_is_registered_basic_or_post() {
    let app = spawn_app().await;
    let (_, post_secret) = app
        .create_client(
            "demo",
            json!({ "client_id": "poster", "token_endpoint_auth_method": "client_secret_post" }),
        )
        .await;
    let post_secret = post_secret.unwrap();
    let in_body = |id: &'static str, secret: String| {
        let app = &app;
        async move {
            app.http
                .post(app.endpoint("demo", "token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", id),
                    ("client_secret", &secret),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let cc = [("grant_type", "client_credentials")];
    // Each by its own method.
    let res = in_body("poster", post_secret.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_basic("demo", "token", "demo-service", &app.demo_secret, &cc)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The right secret the other way: refused, naming the registered method.
    let res = in_body("demo-service", app.demo_secret.clone()).await;
    let body = assert_oauth_error(res, 401, "invalid_client").await;
    assert!(
        s(&body, "error_description").contains("client_secret_basic"),
        "{body}"
    );
    for ep in ["token", "token/introspect", "revoke"] {
        let form: &[(&str, &str)] = if ep == "token" {
            &cc
        } else {
            &[("token", "x")]
        };
        let res = app
            .post_basic("demo", ep, "poster", &post_secret, form)
            .await;
        let body = assert_oauth_error(res, 401, "invalid_client").await;
        assert!(
            s(&body, "error_description").contains("client_secret_post"),
            "{ep}: {body}"
        );
    }
}

#[tokio::test]
async fn token_rejects_basic_and_post_credentials_together_with_invalid_request() {
    let app = spawn_app().await;
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-service",
            &app.demo_secret,
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &app.demo_secret),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn wrong_missing_or_unknown_client_credentials_are_401_invalid_client_with_basic_challenge() {
    let app = spawn_app().await;
    let cases = [
        app.post_basic(
            "demo",
            "token",
            "demo-service",
            "wrong-secret",
            &[("grant_type", "client_credentials")],
        )
        .await,
        app.post_basic(
            "demo",
            "token",
            "nobody",
            &app.demo_secret,
            &[("grant_type", "client_credentials")],
        )
        .await,
        app.post_basic(
            "demo",
            "token",
            "demo-service",
            "",
            &[("grant_type", "client_credentials")],
        )
        .await,
        app.post_raw("demo", "token", "grant_type=client_credentials")
            .await,
        app.post_raw(
            "demo",
            "token",
            "grant_type=client_credentials&client_id=demo-service",
        )
        .await,
    ];
    for res in cases {
        let www = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(www.starts_with("Basic"), "WWW-Authenticate {www:?}");
        assert_oauth_error(res, 401, "invalid_client").await;
    }
}

#[tokio::test]
async fn unknown_grant_types_and_password_are_unsupported_grant_type_bcp_9() {
    let app = spawn_app().await;
    for g in [
        "password",
        "implicit",
        "urn:example:nope",
        "authorization_code",
    ] {
        let res = app
            .post_basic(
                "demo",
                "token",
                "demo-service",
                &app.demo_secret,
                &[("grant_type", g)],
            )
            .await;
        let expected = if g == "authorization_code" {
            "unauthorized_client"
        } else {
            "unsupported_grant_type"
        };
        assert_oauth_error(res, 400, expected).await;
    }
}

#[tokio::test]
async fn public_clients_and_clients_without_the_grant_get_unauthorized_client() {
    let app = spawn_app().await;
    app.create_client(
        "demo",
        json!({"client_id": "spa", "public": true, "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1:9999/cb"]}),
    )
    .await;
    let res = app
        .post_raw(
            "demo",
            "token",
            "grant_type=client_credentials&client_id=spa",
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;

    let (_, secret) = app
        .create_client(
            "demo",
            json!({"client_id": "web", "grant_types": ["authorization_code"]}),
        )
        .await;
    let res = app
        .post_basic(
            "demo",
            "token",
            "web",
            &secret.unwrap(),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn requested_scope_is_narrowed_or_refused_with_invalid_scope() {
    let app = spawn_app().await;
    let s = app.demo_secret.clone();
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-service",
            &s,
            &[("grant_type", "client_credentials"), ("scope", "api:read")],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "api:read");
    assert_eq!(
        jwt_parts(body["access_token"].as_str().unwrap()).1["scope"],
        "api:read"
    );

    for bad in ["api:read admin", "openid", "api:read  api:write", "a\"b"] {
        let res = app
            .post_basic(
                "demo",
                "token",
                "demo-service",
                &s,
                &[("grant_type", "client_credentials"), ("scope", bad)],
            )
            .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }
}

#[tokio::test]
async fn issuing_a_jwt_needs_no_database_once_realm_and_client_are_cached() {
    let app = spawn_app().await;
    app.demo_token().await;
    // Close the pool: any read or write would now fail with a 500.
    app.provider.store().clone().close().await.unwrap();
    let token = app.demo_token().await;
    assert_eq!(jwt_parts(&token).0["typ"], "at+jwt");
    let ready = app.http.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn revoked_jwt_introspects_inactive_and_revocation_is_idempotent() {
    let app = spawn_app().await;
    let s = app.demo_secret.clone();
    let token = app.demo_token().await;
    let other = app.demo_token().await;
    for _ in 0..2 {
        let res = app
            .post_basic("demo", "revoke", "demo-service", &s, &[("token", &token)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
    }
    assert_eq!(
        app.introspect("demo", "demo-service", &s, &token).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect("demo", "demo-service", &s, &other).await["active"],
        true
    );
    // Unknown tokens revoke successfully with nothing to do (RFC 7009 §2.2).
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "demo-service",
            &s,
            &[("token", "not-a-token")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "demo-service",
            &s,
            &[("token_type_hint", "access_token")],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_client_cannot_revoke_another_clients_token() {
    let app = spawn_app().await;
    let (_, other_secret) = app
        .create_client("demo", json!({"client_id": "other"}))
        .await;
    let token = app.demo_token().await;
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "other",
            &other_secret.unwrap(),
            &[("token", &token)],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, &token)
            .await["active"],
        true
    );
}

#[tokio::test]
async fn introspection_requires_an_authenticated_confidential_client() {
    let app = spawn_app().await;
    let token = app.demo_token().await;
    let res = app
        .post_raw("demo", "token/introspect", format!("token={token}"))
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    app.create_client(
        "demo",
        json!({"client_id": "spa", "public": true, "grant_types": []}),
    )
    .await;
    let res = app
        .post_raw(
            "demo",
            "token/introspect",
            format!("token={token}&client_id=spa"),
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .post_basic(
            "demo",
            "token/introspect",
            "demo-service",
            &app.demo_secret,
            &[],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn expired_tokens_introspect_inactive() {
    let app = spawn_app().await;
    let res = app
        .admin(
            Method::PUT,
            "/admin/realms/demo",
            Some(json!({"access_token_lifetime_secs": 10})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = app.demo_token().await;
    let (_, claims) = jwt_parts(&token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        10
    );
    app.clock.advance(9);
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, &token)
            .await["active"],
        true
    );
    app.clock.advance(1);
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, &token)
            .await["active"],
        false
    );
}

#[tokio::test]
async fn disabling_a_client_stops_its_credentials_and_deactivates_its_tokens() {
    let app = spawn_app().await;
    let (id, secret) = app
        .create_client("demo", json!({"client_id": "svc2", "scopes": ["api:read"]}))
        .await;
    let secret = secret.unwrap();
    let token = app.client_credentials("demo", "svc2", &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/demo/clients/{id}"),
            Some(json!({"client_id": "svc2", "enabled": false})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_basic(
            "demo",
            "token",
            "svc2",
            &secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, &token)
            .await["active"],
        false
    );
}
