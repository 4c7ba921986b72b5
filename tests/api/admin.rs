//! The admin REST API: realms and clients CRUD, keyset pagination, authorization and errors.

use crate::helpers::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const SECRET: &str = "an-explicit-client-secret-0123456789abcdef";

/// Follows `next` with `limit` until it is absent; returns every item's `key` in order.
async fn collect_pages(app: &TestApp, path: &str, limit: u64, key: &str) -> (Vec<String>, usize) {
    let mut after: Option<String> = None;
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let mut url = format!("{path}?limit={limit}");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let page = ok_json(app.admin(Method::GET, &url, None).await, StatusCode::OK).await;
        pages += 1;
        assert!(pages < 100, "pagination does not end");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() as u64 <= limit, "{page}");
        out.extend(items.iter().map(|i| i[key].as_str().unwrap().to_owned()));
        match page.get("next") {
            Some(n) => {
                assert_eq!(
                    items.len() as u64,
                    limit,
                    "only a full page has next: {page}"
                );
                assert_eq!(n, &items.last().unwrap()[key]);
                after = Some(n.as_str().unwrap().to_owned());
            }
            None => return (out, pages),
        }
    }
}

async fn cc(app: &TestApp, realm: &str, id: &str, secret: &str) -> Response {
    app.post_basic(
        realm,
        "token",
        id,
        secret,
        &[("grant_type", "client_credentials")],
    )
    .await
}

#[tokio::test]
async fn admin_realm_create_get_update_delete_round_trip() {
    let app = spawn_app().await;
    let body =
        json!({ "name": "shop", "access_token_alg": "ES256", "access_token_lifetime_secs": 600 });
    let created = ok_json(
        app.admin(Method::POST, "/admin/realms", Some(body)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["name"], "shop");
    assert_eq!(created["issuer"], issuer("shop"));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["access_token_alg"], "ES256");
    assert_eq!(created["access_token_lifetime_secs"], 600);
    assert!(uuid::Uuid::parse_str(created["id"].as_str().unwrap()).is_ok());
    assert!(created["created_at"].as_i64().unwrap() > 1_600_000_000);

    let got = ok_json(
        app.admin(Method::GET, "/admin/realms/shop", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, created);
    // It serves discovery and keys for its three algorithms at once.
    let d: Value = app
        .http
        .get(app.url("/realms/shop/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], issuer("shop"));
    let keys = ok_json(
        app.admin(Method::GET, "/admin/realms/shop/keys", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys.as_array().unwrap().len(), 3);
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .all(|k| k["status"] == "active")
    );

    // Update: only the given settings change.
    let upd = json!({ "access_token_lifetime_secs": 120 });
    let updated = ok_json(
        app.admin(Method::PUT, "/admin/realms/shop", Some(upd))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["access_token_lifetime_secs"], 120);
    assert_eq!(updated["access_token_alg"], "ES256");
    assert_eq!(updated["id"], created["id"]);
    app.create_client("shop", json!({ "client_id": "svc", "secret": SECRET }))
        .await;
    let t = ok_json(cc(&app, "shop", "svc", SECRET).await, StatusCode::OK).await;
    assert_eq!(t["expires_in"], 120);
    assert_eq!(
        jwt_parts(t["access_token"].as_str().unwrap()).0["alg"],
        "ES256"
    );

    // A disabled realm answers 404 at its protocol endpoints but stays administrable.
    let off = ok_json(
        app.admin(
            Method::PUT,
            "/admin/realms/shop",
            Some(json!({ "enabled": false })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["enabled"], false);
    assert_oauth_error(cc(&app, "shop", "svc", SECRET).await, 404, "not_found").await;
    let res = app
        .http
        .get(app.url("/realms/shop/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.admin(Method::GET, "/admin/realms/shop/clients", None)
            .await
            .status(),
        StatusCode::OK
    );
    ok_json(
        app.admin(
            Method::PUT,
            "/admin/realms/shop",
            Some(json!({ "enabled": true })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    ok_json(cc(&app, "shop", "svc", SECRET).await, StatusCode::OK).await;

    let res = app.admin(Method::DELETE, "/admin/realms/shop", None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_oauth_error(
        app.admin(Method::GET, "/admin/realms/shop", None).await,
        404,
        "not_found",
    )
    .await;
    assert_oauth_error(
        app.admin(Method::DELETE, "/admin/realms/shop", None).await,
        404,
        "not_found",
    )
    .await;
    assert_oauth_error(cc(&app, "shop", "svc", SECRET).await, 404, "not_found").await;
}

#[tokio::test]
async fn admin_realm_list_pages_with_limit_1_following_next_until_absent() {
    let app = spawn_app().await;
    for name in ["p2", "p1", "p3"] {
        app.create_realm(name, "RS256").await;
    }
    let all = ["demo", "master", "p1", "p2", "p3"];
    let (names, pages) = collect_pages(&app, "/admin/realms", 1, "name").await;
    assert_eq!(names, all);
    // Five full pages of one, then an empty last page without `next`.
    assert_eq!(pages, 6);
    let (names, _) = collect_pages(&app, "/admin/realms", 2, "name").await;
    assert_eq!(names, all);
    let (names, pages) = collect_pages(&app, "/admin/realms", 100, "name").await;
    assert_eq!((names.len(), pages), (5, 1));
    // Without a limit: one page, no `next`.
    let page = ok_json(
        app.admin(Method::GET, "/admin/realms", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert!(page.get("next").is_none(), "{page}");
    // After the last key: empty.
    let page = ok_json(
        app.admin(Method::GET, "/admin/realms?after=p3", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page, json!({ "items": [] }));
    let page = ok_json(
        app.admin(Method::GET, "/admin/realms?after=m&limit=2", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["master", "p1"]);
    assert_eq!(page["next"], "p1");
}

#[tokio::test]
async fn admin_realm_created_with_eddsa_signs_its_tokens_with_eddsa_and_alg_changes_apply_at_once()
{
    let app = spawn_app().await;
    app.create_realm("ed", "EdDSA").await;
    app.create_client("ed", json!({ "client_id": "svc", "secret": SECRET }))
        .await;
    let t = ok_json(cc(&app, "ed", "svc", SECRET).await, StatusCode::OK).await;
    let t = t["access_token"].as_str().unwrap();
    let (header, claims) = jwt_parts(t);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["iss"], issuer("ed"));
    let jwks: Value = app
        .http
        .get(app.endpoint("ed", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid in JWKS")
        .clone();
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(app.introspect("ed", "svc", SECRET, t).await["active"], true);

    let r = ok_json(
        app.admin(
            Method::PUT,
            "/admin/realms/ed",
            Some(json!({ "access_token_alg": "ES256" })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["access_token_alg"], "ES256");
    let t2 = ok_json(cc(&app, "ed", "svc", SECRET).await, StatusCode::OK).await;
    assert_eq!(
        jwt_parts(t2["access_token"].as_str().unwrap()).0["alg"],
        "ES256"
    );
    // The EdDSA token stays valid: its key is still in the ring.
    assert_eq!(app.introspect("ed", "svc", SECRET, t).await["active"], true);
}

#[tokio::test]
async fn admin_client_create_get_update_delete_round_trip_with_a_generated_secret() {
    let app = spawn_app().await;
    let body = json!({ "client_id": "billing", "name": "Billing", "scopes": ["api:read", "api:write"], "roles": ["reader"] });
    let created = ok_json(
        app.admin(Method::POST, "/admin/realms/demo/clients", Some(body))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(created["client_id"], "billing");
    assert_eq!(created["name"], "Billing");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["public"], false);
    assert_eq!(created["grant_types"], json!(["client_credentials"]));
    assert_eq!(created["scopes"], json!(["api:read", "api:write"]));
    assert_eq!(created["roles"], json!(["reader"]));
    assert_eq!(created["access_token_format"], "jwt");
    assert_eq!(created["redirect_uris"], json!([]));
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "256-bit secret: {secret}");

    // The generated secret works for client_credentials; GET never shows it again.
    let t = ok_json(cc(&app, "demo", "billing", &secret).await, StatusCode::OK).await;
    let claims = jwt_parts(t["access_token"].as_str().unwrap()).1;
    assert_eq!(
        (claims["client_id"].as_str(), claims["sub"].as_str()),
        (Some("billing"), Some(id.as_str()))
    );
    assert_eq!(claims["roles"], json!(["reader"]));
    let path = format!("/admin/realms/demo/clients/{id}");
    let got = ok_json(app.admin(Method::GET, &path, None).await, StatusCode::OK).await;
    assert!(got.get("secret").is_none(), "{got}");
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(got, expected);

    // Update replaces the settings, keeps the secret, and applies to the next token at once.
    // A replacement: without grant_types, redirect URIs would make it a sign-in client.
    let upd = json!({ "client_id": "billing", "name": "Billing v2", "scopes": ["api:read"], "grant_types": ["client_credentials"], "redirect_uris": ["https://app.example/cb", "http://127.0.0.1:8080/cb"] });
    let updated = ok_json(
        app.admin(Method::PUT, &path, Some(upd)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["name"], "Billing v2");
    assert_eq!(updated["scopes"], json!(["api:read"]));
    assert_eq!(updated["roles"], json!([]));
    assert_eq!(
        updated["redirect_uris"],
        json!(["https://app.example/cb", "http://127.0.0.1:8080/cb"])
    );
    assert_eq!(updated["id"], id.as_str());
    assert!(updated.get("secret").is_none());
    let t2 = ok_json(cc(&app, "demo", "billing", &secret).await, StatusCode::OK).await;
    assert_eq!(t2["scope"], "api:read");
    let res = app
        .post_basic(
            "demo",
            "token",
            "billing",
            &secret,
            &[("grant_type", "client_credentials"), ("scope", "api:write")],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_scope").await;

    // Listing shows it.
    let list = ok_json(
        app.admin(Method::GET, "/admin/realms/demo/clients", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["billing", "demo-app", "demo-service"]);

    // Delete: gone, and its secret and tokens stop working at once.
    let token = t2["access_token"].as_str().unwrap().to_owned();
    let demo_secret = app.demo_secret.clone();
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &token)
            .await["active"],
        true
    );
    assert_eq!(
        app.admin(Method::DELETE, &path, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_oauth_error(app.admin(Method::GET, &path, None).await, 404, "not_found").await;
    assert_oauth_error(
        app.admin(Method::DELETE, &path, None).await,
        404,
        "not_found",
    )
    .await;
    assert_oauth_error(
        cc(&app, "demo", "billing", &secret).await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &token)
            .await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn admin_client_created_with_an_explicit_secret_does_not_echo_it() {
    let app = spawn_app().await;
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/demo/clients",
            Some(json!({ "client_id": "svc", "secret": SECRET })),
        )
        .await;
    let created = ok_json(res, StatusCode::CREATED).await;
    assert!(created.get("secret").is_none(), "{created}");
    ok_json(cc(&app, "demo", "svc", SECRET).await, StatusCode::OK).await;
    // PUT ignores a secret: the secret-regeneration endpoint is the only way to change it.
    let path = format!(
        "/admin/realms/demo/clients/{}",
        created["id"].as_str().unwrap()
    );
    let other = "another-secret-that-is-long-enough-0123456789";
    let res = app
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "client_id": "svc", "secret": other })),
        )
        .await;
    let updated = ok_json(res, StatusCode::OK).await;
    assert!(updated.get("secret").is_none());
    ok_json(cc(&app, "demo", "svc", SECRET).await, StatusCode::OK).await;
    assert_oauth_error(cc(&app, "demo", "svc", other).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn admin_regenerating_a_client_secret_invalidates_the_old_one_immediately() {
    let app = spawn_app().await;
    let (id, old) = app
        .create_client("demo", json!({ "client_id": "svc" }))
        .await;
    let old = old.unwrap();
    // Warm the client cache with the old secret.
    ok_json(cc(&app, "demo", "svc", &old).await, StatusCode::OK).await;
    let res = app
        .admin(
            Method::POST,
            &format!("/admin/realms/demo/clients/{id}/client-secret"),
            None,
        )
        .await;
    assert_no_store(&res);
    let new = ok_json(res, StatusCode::OK).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    assert!(new.len() >= 43);
    let res = cc(&app, "demo", "svc", &old).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    ok_json(cc(&app, "demo", "svc", &new).await, StatusCode::OK).await;
    // Regenerating again retires the previous one too.
    let res = app
        .admin(
            Method::POST,
            &format!("/admin/realms/demo/clients/{id}/client-secret"),
            None,
        )
        .await;
    let newer = ok_json(res, StatusCode::OK).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_oauth_error(cc(&app, "demo", "svc", &new).await, 401, "invalid_client").await;
    ok_json(cc(&app, "demo", "svc", &newer).await, StatusCode::OK).await;
    // A public client has no secret to regenerate.
    let (pub_id, pub_secret) = app.create_client("demo", json!({ "client_id": "spa", "public": true, "redirect_uris": ["https://app.example/cb"] })).await;
    assert!(pub_secret.is_none());
    let res = app
        .admin(
            Method::POST,
            &format!("/admin/realms/demo/clients/{pub_id}/client-secret"),
            None,
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn admin_client_list_pages_with_limit_1_following_next_until_absent() {
    let app = spawn_app().await;
    for id in ["c3", "c1", "c2"] {
        app.create_client("demo", json!({ "client_id": id })).await;
    }
    let (ids, pages) = collect_pages(&app, "/admin/realms/demo/clients", 1, "client_id").await;
    assert_eq!(ids, ["c1", "c2", "c3", "demo-app", "demo-service"]);
    assert_eq!(pages, 6);
    let (ids, _) = collect_pages(&app, "/admin/realms/demo/clients", 3, "client_id").await;
    assert_eq!(ids, ["c1", "c2", "c3", "demo-app", "demo-service"]);
    // Another realm's list is its own.
    let (ids, _) = collect_pages(&app, "/admin/realms/master/clients", 1, "client_id").await;
    assert_eq!(ids, ["tessera-admin"]);
}

#[tokio::test]
async fn opaque_client_token_introspects_active_with_its_claims_and_revocation_deactivates_it() {
    let app = spawn_app().await;
    let body = json!({ "client_id": "opaque-svc", "secret": SECRET, "access_token_format": "opaque", "scopes": ["api:read", "api:write"], "roles": ["worker"] });
    let (id, _) = app.create_client("demo", body).await;
    let res = app
        .post_basic(
            "demo",
            "token",
            "opaque-svc",
            SECRET,
            &[("grant_type", "client_credentials"), ("scope", "api:read")],
        )
        .await;
    assert_no_store(&res);
    let t = ok_json(res, StatusCode::OK).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "api:read");
    let token = t["access_token"].as_str().unwrap().to_owned();
    assert!(!token.contains('.'), "not a JWT: {token}");
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    let demo_secret = app.demo_secret.clone();
    let v = app
        .introspect("demo", "demo-service", &demo_secret, &token)
        .await;
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], "opaque-svc");
    assert_eq!(v["sub"], id.as_str());
    assert_eq!(v["scope"], "api:read");
    assert_eq!(v["iss"], issuer("demo"));
    assert_eq!(v["aud"], issuer("demo"));
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["roles"], json!(["worker"]));
    assert_eq!(v["exp"].as_i64().unwrap() - v["iat"].as_i64().unwrap(), 300);
    assert!(v["jti"].is_string());

    // Another client of the realm may not revoke it; nothing happens.
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "demo-service",
            &demo_secret,
            &[("token", &token)],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &token)
            .await["active"],
        true
    );
    // The owner revokes it: inactive at once, and revoking again is still 200 (RFC 7009 §2.2).
    for _ in 0..2 {
        let res = app
            .post_basic(
                "demo",
                "revoke",
                "opaque-svc",
                SECRET,
                &[("token", &token), ("token_type_hint", "access_token")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res);
    }
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &token)
            .await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect("demo", "opaque-svc", SECRET, &token).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn admin_api_without_a_valid_bearer_token_is_401_with_www_authenticate_bearer() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let auths: Vec<Option<String>> = vec![
        None,
        Some("Bearer".into()),
        Some("Bearer ".into()),
        Some("Bearer garbage".into()),
        Some("Bearer a.b.c".into()),
        Some(format!("Basic {admin}")),
        Some(format!("Token {admin}")),
        Some(format!("Bearer {admin}x")),
        Some(format!("Bearer {}", &admin[..admin.len() - 2])),
    ];
    for auth in auths {
        for (m, path) in [
            (Method::GET, "/admin/realms"),
            (Method::POST, "/admin/realms"),
            (Method::GET, "/admin/realms/demo/clients"),
            (Method::DELETE, "/admin/realms/demo"),
        ] {
            let mut req = app.http.request(m.clone(), app.url(path));
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            if m == Method::POST {
                req = req.json(&json!({ "name": "x" }));
            }
            let res = req.send().await.unwrap();
            let www = res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert_oauth_error(res, 401, "invalid_token").await;
            assert!(
                www.starts_with("Bearer ") && www.contains(r#"error="invalid_token""#),
                "{auth:?} {m} {path}: {www}"
            );
        }
    }
    // Nothing was deleted or created.
    assert_eq!(
        app.admin(Method::GET, "/admin/realms/demo", None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_oauth_error(
        app.admin(Method::GET, "/admin/realms/x", None).await,
        404,
        "not_found",
    )
    .await;
    // The scheme name is case-insensitive (RFC 6750 §2.1 / RFC 9110 §11.1).
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .header("authorization", format!("bearer {admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

// ISO-1 / BCP-13: a token of another realm (and audience) is not an admin token.
#[tokio::test]
async fn admin_api_rejects_a_demo_realm_token_with_401() {
    let app = spawn_app().await;
    let demo = app.demo_token().await;
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&demo)
        .send()
        .await
        .unwrap();
    let www = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_oauth_error(res, 401, "invalid_token").await;
    assert!(www.starts_with("Bearer "), "{www}");
}

// RFC 6750 §3.1: valid token, missing privilege -> 403 insufficient_scope.
#[tokio::test]
async fn admin_api_rejects_a_master_token_without_the_admin_role_with_403_insufficient_scope() {
    let app = spawn_app().await;
    for (client_id, roles) in [
        ("reader", json!([])),
        ("viewer", json!(["viewer", "Admin", "admins"])),
    ] {
        let (_, secret) = app
            .create_client("master", json!({ "client_id": client_id, "roles": roles }))
            .await;
        let t = ok_json(
            cc(&app, "master", client_id, &secret.unwrap()).await,
            StatusCode::OK,
        )
        .await;
        let t = t["access_token"].as_str().unwrap();
        for (m, path) in [
            (Method::GET, "/admin/realms"),
            (Method::DELETE, "/admin/realms/demo"),
            (Method::GET, "/admin/realms/master/clients"),
        ] {
            let res = app
                .http
                .request(m, app.url(path))
                .bearer_auth(t)
                .send()
                .await
                .unwrap();
            let www = res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_oauth_error(res, 403, "insufficient_scope").await;
            assert!(
                www.starts_with("Bearer ") && www.contains(r#"error="insufficient_scope""#),
                "{www}"
            );
        }
    }
    assert_eq!(
        app.admin(Method::GET, "/admin/realms/demo", None)
            .await
            .status(),
        StatusCode::OK
    );
}

// CVE-2025-64521 family: a disabled client's tokens stop working (SECURITY-CASES §3.4).
#[tokio::test]
async fn admin_api_rejects_a_revoked_admin_token_and_one_of_a_disabled_admin_client() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let secret = app.admin_secret.clone();
    let res = app
        .post_basic(
            "master",
            "revoke",
            "tessera-admin",
            &secret,
            &[("token", &t)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_token").await;

    // A second admin client, disabled through the API: its tokens stop working at once.
    let (id, s2) = app
        .create_client("master", json!({ "client_id": "ops", "roles": ["admin"] }))
        .await;
    let t2 = ok_json(
        cc(&app, "master", "ops", &s2.clone().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    let t2 = t2["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.http
            .get(app.url("/admin/realms"))
            .bearer_auth(&t2)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/master/clients/{id}"),
            Some(json!({ "client_id": "ops", "roles": ["admin"], "enabled": false })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .http
        .get(app.url("/admin/realms"))
        .bearer_auth(&t2)
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn admin_api_unknown_realms_and_client_ids_are_404() {
    let app = spawn_app().await;
    let random = uuid::Uuid::new_v4().to_string();
    let client_body = json!({ "client_id": "x" });
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/admin/realms/nope".into(), None),
        (
            Method::PUT,
            "/admin/realms/nope".into(),
            Some(json!({ "enabled": true })),
        ),
        (Method::DELETE, "/admin/realms/nope".into(), None),
        (Method::GET, "/admin/realms/nope/clients".into(), None),
        (
            Method::POST,
            "/admin/realms/nope/clients".into(),
            Some(client_body.clone()),
        ),
        (Method::GET, "/admin/realms/nope/keys".into(), None),
        (Method::POST, "/admin/realms/nope/keys/rotate".into(), None),
        (Method::GET, "/admin/realms/a%20b".into(), None),
        (
            Method::GET,
            format!("/admin/realms/{}", "x".repeat(65)),
            None,
        ),
        (
            Method::GET,
            format!("/admin/realms/demo/clients/{random}"),
            None,
        ),
        (
            Method::PUT,
            format!("/admin/realms/demo/clients/{random}"),
            Some(client_body.clone()),
        ),
        (
            Method::DELETE,
            format!("/admin/realms/demo/clients/{random}"),
            None,
        ),
        (
            Method::POST,
            format!("/admin/realms/demo/clients/{random}/client-secret"),
            None,
        ),
        (
            Method::GET,
            format!("/admin/realms/nope/clients/{random}"),
            None,
        ),
        // Neither an id nor a client_id of the realm.
        (
            Method::GET,
            "/admin/realms/demo/clients/not-a-uuid".into(),
            None,
        ),
        (
            Method::GET,
            "/admin/realms/master/clients/demo-service".into(),
            None,
        ),
        (
            Method::PUT,
            "/admin/realms/demo/clients/not-a-uuid".into(),
            Some(client_body),
        ),
        (
            Method::DELETE,
            "/admin/realms/demo/clients/00000000-0000-0000-0000-00000000000".into(),
            None,
        ),
        (
            Method::POST,
            "/admin/realms/demo/clients/%00/client-secret".into(),
            None,
        ),
    ];
    for (m, path, body) in cases {
        let res = app.admin(m.clone(), &path, body).await;
        let status = res.status();
        let b = assert_oauth_error(res, 404, "not_found").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{m} {path}: {b}");
    }
}

#[tokio::test]
async fn admin_api_duplicate_realm_names_and_client_ids_are_409() {
    let app = spawn_app().await;
    app.create_realm("dup", "RS256").await;
    for name in ["dup", "demo", "master"] {
        let res = app
            .admin(Method::POST, "/admin/realms", Some(json!({ "name": name })))
            .await;
        assert_oauth_error(res, 409, "conflict").await;
    }
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/demo/clients",
            Some(json!({ "client_id": "demo-service" })),
        )
        .await;
    assert_oauth_error(res, 409, "conflict").await;
    // The same client_id in another realm is fine.
    let (_, s) = app
        .create_client("dup", json!({ "client_id": "demo-service" }))
        .await;
    ok_json(
        cc(&app, "dup", "demo-service", &s.unwrap()).await,
        StatusCode::OK,
    )
    .await;
    // Renaming a client onto an existing client_id conflicts, and changes nothing.
    let (id, secret) = app
        .create_client("demo", json!({ "client_id": "other" }))
        .await;
    let path = format!("/admin/realms/demo/clients/{id}");
    let res = app
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "client_id": "demo-service" })),
        )
        .await;
    assert_oauth_error(res, 409, "conflict").await;
    assert_eq!(
        ok_json(app.admin(Method::GET, &path, None).await, StatusCode::OK).await["client_id"],
        "other"
    );
    ok_json(
        cc(&app, "demo", "other", &secret.unwrap()).await,
        StatusCode::OK,
    )
    .await;
    ok_json(
        cc(&app, "demo", "demo-service", &app.demo_secret).await,
        StatusCode::OK,
    )
    .await;
}

// BCP-15: plain-http redirect URIs only for loopback; BCP-9: no password/implicit grant types.
#[tokio::test]
async fn admin_api_validation_errors_are_400_invalid_request() {
    let app = spawn_app().await;
    let realm_bodies = [
        json!({ "name": "r1", "unknown": 1 }),
        json!({ "name": "r1", "access_token_alg": "HS256" }),
        json!({ "name": "r1", "access_token_alg": "none" }),
        json!({ "name": "r1", "access_token_lifetime_secs": 9 }),
        json!({ "name": "r1", "access_token_lifetime_secs": 86_401 }),
        json!({ "name": "a b" }),
        json!({ "name": "" }),
        json!({ "name": "x".repeat(65) }),
        json!({ "name": "é" }),
        json!({}),
    ];
    for body in realm_bodies {
        let res = app
            .admin(Method::POST, "/admin/realms", Some(body.clone()))
            .await;
        let b = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(
            !b["error_description"].as_str().unwrap().is_empty(),
            "{body}"
        );
    }
    for body in [
        json!({ "name": "demo" }),
        json!({ "enabled": "yes" }),
        json!({ "access_token_alg": "RS512" }),
    ] {
        let res = app
            .admin(Method::PUT, "/admin/realms/demo", Some(body))
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    let short = "s".repeat(31);
    let client_bodies = [
        json!({ "client_id": "c", "unknown_field": true }),
        json!({ "client_id": "c", "redirect_uris": ["http://example.com/cb"] }),
        json!({ "client_id": "c", "redirect_uris": ["https://app.example/cb#frag"] }),
        json!({ "client_id": "c", "redirect_uris": ["https://user@app.example/cb"] }),
        json!({ "client_id": "c", "redirect_uris": ["/relative"] }),
        json!({ "client_id": "c", "redirect_uris": ["javascript:alert(1)"] }),
        json!({ "client_id": "c", "secret": short }),
        json!({ "client_id": "c", "secret": "s".repeat(257) }),
        json!({ "client_id": "c", "public": true, "grant_types": ["client_credentials"] }),
        json!({ "client_id": "c", "public": true, "secret": SECRET }),
        json!({ "client_id": "c", "grant_types": ["password"] }),
        json!({ "client_id": "c", "grant_types": ["implicit"] }),
        json!({ "client_id": "c", "access_token_format": "jwe" }),
        json!({ "client_id": "c d" }),
        json!({ "client_id": "" }),
        json!({ "client_id": "x".repeat(129) }),
        json!({ "client_id": "c", "scopes": ["a\"b"] }),
        json!({ "client_id": "c", "roles": ["a b"] }),
        json!({ "client_id": "c", "name": "n".repeat(201) }),
        json!({ "name": "no client_id" }),
        json!({ "client_id": 5 }),
    ];
    for body in client_bodies {
        let res = app
            .admin(
                Method::POST,
                "/admin/realms/demo/clients",
                Some(body.clone()),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Nothing was created.
    let list = ok_json(
        app.admin(Method::GET, "/admin/realms/demo/clients", None)
            .await,
        StatusCode::OK,
    )
    .await;
    // Only the seeded demo-app and demo-service.
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let list = ok_json(
        app.admin(Method::GET, "/admin/realms", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // Updates validate the same way, and a public client cannot become confidential.
    let (id, _) = app
        .create_client("demo", json!({ "client_id": "c", "secret": SECRET }))
        .await;
    let path = format!("/admin/realms/demo/clients/{id}");
    let res = app
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "client_id": "c", "redirect_uris": ["http://example.com/cb"] })),
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let (pid, _) = app
        .create_client("demo", json!({ "client_id": "spa", "public": true }))
        .await;
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/demo/clients/{pid}"),
            Some(json!({ "client_id": "spa" })),
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Loopback http redirect URIs are fine (RFC 8252 §7.3).
    let body = json!({ "client_id": "native", "public": true, "redirect_uris": ["http://127.0.0.1/cb", "http://[::1]:9000/cb", "http://localhost:3000/cb", "com.example.app:/cb"] });
    app.create_client("demo", body).await;
}

#[tokio::test]
async fn admin_cannot_delete_or_disable_the_master_realm() {
    let app = spawn_app().await;
    let res = app
        .admin(Method::DELETE, "/admin/realms/master", None)
        .await;
    let b = assert_oauth_error(res, 409, "conflict").await;
    assert!(
        b["error_description"].as_str().unwrap().contains("master"),
        "{b}"
    );
    let res = app
        .admin(
            Method::PUT,
            "/admin/realms/master",
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_oauth_error(res, 409, "conflict").await;
    let r = ok_json(
        app.admin(Method::GET, "/admin/realms/master", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["enabled"], true);
    // Admin still works, and other master settings can change.
    let r = ok_json(
        app.admin(
            Method::PUT,
            "/admin/realms/master",
            Some(json!({ "access_token_lifetime_secs": 60 })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["access_token_lifetime_secs"], 60);
    let t = app
        .client_credentials("master", "tessera-admin", &app.admin_secret.clone())
        .await;
    assert_eq!(t["expires_in"], 60);
}

#[tokio::test]
async fn admin_key_rotation_of_one_realm_leaves_other_realms_keys_alone() {
    let app = spawn_app().await;
    let before = ok_json(
        app.admin(Method::GET, "/admin/realms/master/keys", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let kids = ok_json(
        app.admin(Method::POST, "/admin/realms/demo/keys/rotate", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kids.as_array().unwrap().len(), 3);
    let demo = ok_json(
        app.admin(Method::GET, "/admin/realms/demo/keys", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let demo = demo.as_array().unwrap();
    assert_eq!(demo.len(), 6);
    assert_eq!(demo.iter().filter(|k| k["status"] == "active").count(), 3);
    assert_eq!(demo.iter().filter(|k| k["status"] == "passive").count(), 3);
    for kid in kids.as_array().unwrap() {
        assert!(
            demo.iter()
                .any(|k| &k["kid"] == kid && k["status"] == "active")
        );
    }
    let after = ok_json(
        app.admin(Method::GET, "/admin/realms/master/keys", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before, after);
}

// ISO-11 / §3.8.1: token-to-client binding must use the client's identity, not a reusable name.
#[tokio::test]

async fn tokens_of_a_deleted_client_stay_inactive_when_a_client_with_the_same_client_id_is_created()
{
    let app = spawn_app().await;
    let (id, s1) = app
        .create_client(
            "demo",
            json!({ "client_id": "svc", "scopes": ["api:read"] }),
        )
        .await;
    let t = ok_json(cc(&app, "demo", "svc", &s1.unwrap()).await, StatusCode::OK).await;
    let t = t["access_token"].as_str().unwrap().to_owned();
    let demo_secret = app.demo_secret.clone();
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &t)
            .await["active"],
        true
    );
    assert_eq!(
        app.admin(
            Method::DELETE,
            &format!("/admin/realms/demo/clients/{id}"),
            None
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &t)
            .await,
        json!({"active": false})
    );
    // Someone else registers a client that happens to reuse the client_id.
    let (id2, _) = app
        .create_client(
            "demo",
            json!({ "client_id": "svc", "scopes": ["api:read"] }),
        )
        .await;
    assert_ne!(id, id2);
    assert_eq!(
        app.introspect("demo", "demo-service", &demo_secret, &t)
            .await,
        json!({"active": false})
    );
}

#[tokio::test]

async fn admin_client_scopes_array_elements_must_each_be_one_scope_token() {
    let app = spawn_app().await;
    for scopes in [
        json!(["a b"]),
        json!(["api:read api:write"]),
        json!(["a", "b c"]),
    ] {
        let body = json!({ "client_id": "c", "scopes": scopes });
        let res = app
            .admin(
                Method::POST,
                "/admin/realms/demo/clients",
                Some(body.clone()),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_oauth_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]

async fn admin_token_of_a_deleted_admin_client_stays_rejected_when_its_client_id_is_reused() {
    let app = spawn_app().await;
    let (id, s) = app
        .create_client("master", json!({ "client_id": "ops", "roles": ["admin"] }))
        .await;
    let t = ok_json(cc(&app, "master", "ops", &s.unwrap()).await, StatusCode::OK).await;
    let t = t["access_token"].as_str().unwrap().to_owned();
    let get = || {
        app.http
            .get(app.url("/admin/realms"))
            .bearer_auth(&t)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/master/clients/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_oauth_error(get().await.unwrap(), 401, "invalid_token").await;
    // A new, role-less client that happens to reuse the client_id, or a rename onto it.
    let (id2, _) = app
        .create_client("master", json!({ "client_id": "ops" }))
        .await;
    assert_oauth_error(get().await.unwrap(), 401, "invalid_token").await;
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/master/clients/{id2}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (id3, _) = app
        .create_client("master", json!({ "client_id": "other" }))
        .await;
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/master/clients/{id3}"),
            Some(json!({ "client_id": "ops" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_oauth_error(get().await.unwrap(), 401, "invalid_token").await;
}

/// Every admin route, as a client of the API knows it (README and docs/architecture.md).
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("get", "/admin/realms"),
    ("post", "/admin/realms"),
    ("delete", "/admin/realms/{realm}"),
    ("get", "/admin/realms/{realm}"),
    ("put", "/admin/realms/{realm}"),
    ("get", "/admin/realms/{realm}/clients"),
    ("post", "/admin/realms/{realm}/clients"),
    ("delete", "/admin/realms/{realm}/clients/{id}"),
    ("get", "/admin/realms/{realm}/clients/{id}"),
    ("put", "/admin/realms/{realm}/clients/{id}"),
    ("post", "/admin/realms/{realm}/clients/{id}/client-secret"),
    (
        "delete",
        "/admin/realms/{realm}/clients/{id}/exchange-policy",
    ),
    ("get", "/admin/realms/{realm}/clients/{id}/exchange-policy"),
    ("get", "/admin/realms/{realm}/events"),
    ("get", "/admin/realms/{realm}/approval-requests"),
    ("put", "/admin/realms/{realm}/clients/{id}/exchange-policy"),
    ("get", "/admin/realms/{realm}/clients-initial-access"),
    ("post", "/admin/realms/{realm}/clients-initial-access"),
    (
        "delete",
        "/admin/realms/{realm}/clients-initial-access/{id}",
    ),
    (
        "get",
        "/admin/realms/{realm}/organizations/{org}/clients-initial-access",
    ),
    (
        "post",
        "/admin/realms/{realm}/organizations/{org}/clients-initial-access",
    ),
    (
        "delete",
        "/admin/realms/{realm}/organizations/{org}/clients-initial-access/{id}",
    ),
    ("get", "/admin/realms/{realm}/admin-keys"),
    ("post", "/admin/realms/{realm}/admin-keys"),
    ("delete", "/admin/realms/{realm}/admin-keys/{id}"),
    ("get", "/admin/realms/{realm}/admin-keys/public-key"),
    (
        "get",
        "/admin/realms/{realm}/organizations/{org}/admin-keys",
    ),
    (
        "post",
        "/admin/realms/{realm}/organizations/{org}/admin-keys",
    ),
    (
        "delete",
        "/admin/realms/{realm}/organizations/{org}/admin-keys/{id}",
    ),
    (
        "get",
        "/admin/realms/{realm}/organizations/{org}/admin-keys/public-key",
    ),
    ("get", "/admin/realms/{realm}/keys"),
    ("post", "/admin/realms/{realm}/keys/rotate"),
    ("get", "/admin/realms/{realm}/organization-roles"),
    ("post", "/admin/realms/{realm}/organization-roles"),
    ("delete", "/admin/realms/{realm}/organization-roles/{name}"),
    ("get", "/admin/realms/{realm}/organizations"),
    ("post", "/admin/realms/{realm}/organizations"),
    ("delete", "/admin/realms/{realm}/organizations/{org}"),
    ("get", "/admin/realms/{realm}/organizations/{org}"),
    ("put", "/admin/realms/{realm}/organizations/{org}"),
    (
        "delete",
        "/admin/realms/{realm}/organizations/{org}/domains/{domain}",
    ),
    (
        "put",
        "/admin/realms/{realm}/organizations/{org}/domains/{domain}",
    ),
    (
        "get",
        "/admin/realms/{realm}/organizations/{org}/invitations",
    ),
    (
        "post",
        "/admin/realms/{realm}/organizations/{org}/invitations",
    ),
    (
        "delete",
        "/admin/realms/{realm}/organizations/{org}/invitations/{id}",
    ),
    (
        "post",
        "/admin/realms/{realm}/organizations/{org}/invitations/{id}/resend",
    ),
    ("get", "/admin/realms/{realm}/organizations/{org}/members"),
    ("post", "/admin/realms/{realm}/organizations/{org}/members"),
    (
        "delete",
        "/admin/realms/{realm}/organizations/{org}/members/{user_id}",
    ),
    (
        "put",
        "/admin/realms/{realm}/organizations/{org}/members/{user_id}/roles",
    ),
    ("get", "/admin/realms/{realm}/organizations/{org}/roles"),
    ("post", "/admin/realms/{realm}/token-exchange/evaluate"),
    ("get", "/admin/realms/{realm}/token-exchanges"),
    ("get", "/admin/realms/{realm}/users"),
    ("post", "/admin/realms/{realm}/users"),
    ("delete", "/admin/realms/{realm}/users/{id}"),
    ("get", "/admin/realms/{realm}/users/{id}"),
    ("put", "/admin/realms/{realm}/users/{id}"),
    (
        "post",
        "/admin/realms/{realm}/users/{id}/impersonation-tokens",
    ),
    ("get", "/admin/realms/{realm}/users/{id}/organizations"),
    ("put", "/admin/realms/{realm}/users/{id}/password"),
    ("get", "/admin/realms/{realm}/smtp"),
    ("put", "/admin/realms/{realm}/smtp"),
    ("delete", "/admin/realms/{realm}/smtp"),
    ("get", "/admin/realms/{realm}/identity-provider/instances"),
    ("post", "/admin/realms/{realm}/identity-provider/instances"),
    (
        "get",
        "/admin/realms/{realm}/identity-provider/instances/{alias}",
    ),
    (
        "put",
        "/admin/realms/{realm}/identity-provider/instances/{alias}",
    ),
    (
        "delete",
        "/admin/realms/{realm}/identity-provider/instances/{alias}",
    ),
    (
        "get",
        "/admin/realms/{realm}/organizations/{org}/identity-providers",
    ),
    ("get", "/admin/realms/{realm}/users/{id}/federated-identity"),
    (
        "delete",
        "/admin/realms/{realm}/users/{id}/federated-identity/{alias}",
    ),
];

#[tokio::test]
async fn every_admin_route_is_in_the_openapi_document_and_every_documented_route_is_served() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "delete", "patch"].contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ADMIN_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Served: each documented operation answers an anonymous call with 401, not 404/405.
    let id = uuid::Uuid::new_v4().to_string();
    for (method, path) in &documented {
        let url = path
            .replace("{realm}", "demo")
            .replace("{org}", "acme")
            .replace("{domain}", "example.com")
            .replace("{name}", "admin")
            .replace("{alias}", "okta")
            .replace("{user_id}", &id)
            .replace("{id}", &id);
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app
            .http
            .request(method.clone(), app.url(&url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} {url}");
    }
}
