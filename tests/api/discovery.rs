use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn discovery_issuer_is_the_configured_url_whatever_the_host_header_iso_7() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(app.url("/realms/demo/.well-known/openid-configuration"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let d: Value = res.json().await.unwrap();
    // §1.0: issuer equals the discovery URL minus the well-known suffix.
    assert_eq!(d["issuer"], issuer("demo"));
    assert_eq!(
        d["token_endpoint"],
        format!("{}/protocol/openid-connect/token", issuer("demo"))
    );
    assert_eq!(
        d["jwks_uri"],
        format!("{}/protocol/openid-connect/certs", issuer("demo"))
    );
    assert_eq!(
        d["introspection_endpoint"],
        format!(
            "{}/protocol/openid-connect/token/introspect",
            issuer("demo")
        )
    );
    assert_eq!(
        d["revocation_endpoint"],
        format!("{}/protocol/openid-connect/revoke", issuer("demo"))
    );
    assert_eq!(
        d["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:openid:params:grant-type:ciba"
        ])
    );
    assert_eq!(
        d["backchannel_authentication_endpoint"],
        format!("{}/protocol/openid-connect/ext/ciba/auth", issuer("demo"))
    );
    // BCP-7, BCP-19: S256 only, and the `iss` authorization response parameter.
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        d["authorization_endpoint"],
        format!("{}/protocol/openid-connect/auth", issuer("demo"))
    );
    assert_eq!(
        d["userinfo_endpoint"],
        format!("{}/protocol/openid-connect/userinfo", issuer("demo"))
    );
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert!(!d.to_string().contains("evil.example"));
}

#[tokio::test]
async fn discovery_of_an_unknown_or_malformed_realm_is_404_json() {
    let app = spawn_app().await;
    for realm in ["nope", "a%20b", "..", &"x".repeat(65)] {
        let res = app
            .http
            .get(app.url(&format!("/realms/{realm}/.well-known/openid-configuration")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{realm}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "not_found");
    }
}

#[tokio::test]
async fn jwks_serves_three_public_keys_with_unique_kids_and_no_private_members() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(app.endpoint("demo", "certs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let jwks: Value = res.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "EdDSA", "RS256"]);
    let mut kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    kids.sort();
    kids.dedup();
    assert_eq!(kids.len(), 3);
    for k in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(k.get(private).is_none(), "private member {private} in {k}");
        }
        assert_eq!(k["use"], "sig");
    }
    let rsa = keys.iter().find(|k| k["kty"] == "RSA").unwrap();
    // 2048-bit modulus: 256 bytes, 342 base64url characters.
    assert_eq!(rsa["n"].as_str().unwrap().len(), 342);
}

#[tokio::test]
async fn key_rotation_keeps_the_old_key_in_jwks_and_old_tokens_valid_until_retired() {
    let app = spawn_app().await;
    let old_token = app.demo_token().await;
    let (old_header, _) = jwt_parts(&old_token);
    let res = app
        .admin(
            reqwest::Method::POST,
            "/admin/realms/demo/keys/rotate",
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let jwks: Value = app
        .http
        .get(app.endpoint("demo", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 6);
    let new_token = app.demo_token().await;
    let (new_header, _) = jwt_parts(&new_token);
    assert_ne!(old_header["kid"], new_header["kid"]);
    let secret = app.demo_secret.clone();
    assert_eq!(
        app.introspect("demo", "demo-service", &secret, &old_token)
            .await["active"],
        true
    );

    // Retire the old key: gone from JWKS, its tokens inactive.
    let kid = old_header["kid"].as_str().unwrap();
    app.provider
        .retire_key(
            &tessera_oidc::admin::AdminPrincipal::operator(),
            "demo",
            kid,
        )
        .await
        .unwrap();
    let jwks: Value = app
        .http
        .get(app.endpoint("demo", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != kid)
    );
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 5);
    assert_eq!(
        app.introspect("demo", "demo-service", &secret, &old_token)
            .await["active"],
        false
    );
    assert_eq!(
        app.introspect("demo", "demo-service", &secret, &new_token)
            .await["active"],
        true
    );
}

#[tokio::test]
async fn health_and_metrics_endpoints_answer() {
    let app = spawn_app().await;
    let live = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready: Value = app
        .http
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "UP");
    app.demo_token().await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("tessera_http_responses_total"),
        "{metrics}"
    );
    let docs = app.http.get(app.url("/admin/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let spec: Value = app
        .http
        .get(app.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/admin/realms",
        "/admin/realms/{realm}",
        "/admin/realms/{realm}/clients",
        "/admin/realms/{realm}/clients/{id}",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
}
