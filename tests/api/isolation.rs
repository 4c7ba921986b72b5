//! Multi-tenant isolation (SECURITY-CASES §3.7): two realms `a` and `b` that share the
//! client_id `svc`, so any lookup not keyed by realm would show.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SECRET_A: &str = "realm-a-secret-0123456789-abcdefghijklmnop";
const SECRET_B: &str = "realm-b-secret-0123456789-abcdefghijklmnop";
const SHARED: &str = "the-same-secret-in-both-realms-0123456789";

/// Realms `a` and `b` (both RS256) with a client `svc` in each; returns the admin ids.
async fn two_realms(app: &TestApp, secret_a: &str, secret_b: &str) -> (String, String) {
    app.create_realm("a", "RS256").await;
    app.create_realm("b", "RS256").await;
    let svc =
        |secret: &str| json!({ "client_id": "svc", "secret": secret, "scopes": ["api:read"] });
    let (id_a, _) = app.create_client("a", svc(secret_a)).await;
    let (id_b, _) = app.create_client("b", svc(secret_b)).await;
    (id_a, id_b)
}

async fn token(app: &TestApp, realm: &str, id: &str, secret: &str) -> String {
    app.client_credentials(realm, id, secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Replaces a JWT's header and/or payload, keeping the original signature.
fn forge(token: &str, header: Option<Value>, payload: Option<Value>) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let h = header.map_or(parts[0].to_owned(), |h| b64json(&h));
    let p = payload.map_or(parts[1].to_owned(), |p| b64json(&p));
    format!("{h}.{p}.{}", parts[2])
}

async fn admin_get(app: &TestApp, bearer: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

async fn assert_bearer_401(res: reqwest::Response) {
    let www = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_oauth_error(res, 401, "invalid_token").await;
    assert!(
        www.starts_with("Bearer") && www.contains("invalid_token"),
        "{www}"
    );
}

#[tokio::test]
async fn iso_1_jwt_of_realm_a_is_inactive_at_realm_b_for_a_client_with_the_same_id_and_secret() {
    let app = spawn_app().await;
    two_realms(&app, SHARED, SHARED).await;
    let t = token(&app, "a", "svc", SHARED).await;
    assert_eq!(jwt_parts(&t).1["iss"], issuer("a"));
    assert_eq!(app.introspect("a", "svc", SHARED, &t).await["active"], true);
    assert_eq!(
        app.introspect("b", "svc", SHARED, &t).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect("demo", "demo-service", &app.demo_secret, &t)
            .await,
        json!({"active": false})
    );

    // Revoking it at b (as b's `svc`) is a no-op there and leaves it live at a.
    let res = app
        .post_basic("b", "revoke", "svc", SHARED, &[("token", &t)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.introspect("a", "svc", SHARED, &t).await["active"], true);
}

#[tokio::test]
async fn iso_1_opaque_token_of_realm_a_is_inactive_at_realm_b() {
    let app = spawn_app().await;
    app.create_realm("a", "RS256").await;
    app.create_realm("b", "RS256").await;
    for realm in ["a", "b"] {
        let body = json!({ "client_id": "svc", "secret": SHARED, "scopes": ["api:read"], "access_token_format": "opaque" });
        app.create_client(realm, body).await;
    }
    let t = token(&app, "a", "svc", SHARED).await;
    assert_eq!(t.matches('.').count(), 0, "opaque, not a JWT: {t}");
    assert_eq!(app.introspect("a", "svc", SHARED, &t).await["active"], true);
    assert_eq!(
        app.introspect("b", "svc", SHARED, &t).await,
        json!({"active": false})
    );
    let res = app
        .post_basic("b", "revoke", "svc", SHARED, &[("token", &t)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v = app.introspect("a", "svc", SHARED, &t).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["iss"], issuer("a"));
}

#[tokio::test]
async fn iso_1_tokens_of_other_realms_are_401_at_the_admin_api_even_with_an_admin_role() {
    let app = spawn_app().await;
    app.create_realm("a", "RS256").await;
    // A client of realm a that carries the `admin` role, like tessera-admin in master.
    let body = json!({ "client_id": "tessera-admin", "secret": SHARED, "roles": ["admin"] });
    app.create_client("a", body).await;
    let t = token(&app, "a", "tessera-admin", SHARED).await;
    assert_eq!(jwt_parts(&t).1["roles"], json!(["admin"]));
    for path in [
        "/admin/realms",
        "/admin/realms/a",
        "/admin/realms/a/clients",
    ] {
        assert_bearer_401(admin_get(&app, &t, path).await).await;
    }
    let res = app
        .http
        .delete(app.url("/admin/realms/a"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_bearer_401(res).await;
    // A demo-realm token is no admin token either.
    let demo = app.demo_token().await;
    assert_bearer_401(admin_get(&app, &demo, "/admin/realms").await).await;
    assert_bearer_401(admin_get(&app, &demo, "/admin/realms/demo/clients").await).await;
    // Realm a is still there.
    assert_eq!(
        app.admin(Method::GET, "/admin/realms/a", None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn iso_2_credentials_of_realm_b_are_invalid_client_at_realm_a() {
    let app = spawn_app().await;
    two_realms(&app, SECRET_A, SECRET_B).await;
    // The same client_id and secret, sent in the body (a client has one method).
    for (realm, secret) in [("a", SECRET_A), ("b", SECRET_B)] {
        let post = json!({ "client_id": "svc-post", "secret": secret,
                           "token_endpoint_auth_method": "client_secret_post" });
        app.create_client(realm, post).await;
    }
    // Each realm accepts only its own client's secret: lookups are keyed by (realm, client_id).
    for (realm, secret, ok) in [
        ("a", SECRET_A, true),
        ("a", SECRET_B, false),
        ("b", SECRET_B, true),
        ("b", SECRET_A, false),
    ] {
        let res = app
            .post_basic(
                realm,
                "token",
                "svc",
                secret,
                &[("grant_type", "client_credentials")],
            )
            .await;
        if ok {
            assert_eq!(res.status(), StatusCode::OK, "{realm}");
            let v: Value = res.json().await.unwrap();
            assert_eq!(
                jwt_parts(v["access_token"].as_str().unwrap()).1["iss"],
                issuer(realm)
            );
        } else {
            let www = res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert_oauth_error(res, 401, "invalid_client").await;
            assert!(www.starts_with("Basic"), "{www}");
        }
        // client_secret_post answers the same.
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "svc-post"),
            ("client_secret", secret),
        ];
        let res = app
            .http
            .post(app.endpoint(realm, "token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        if ok {
            assert_eq!(res.status(), StatusCode::OK);
        } else {
            assert_oauth_error(res, 401, "invalid_client").await;
        }
        // And introspection / revocation authenticate the same way.
        let res = app
            .post_basic(realm, "token/introspect", "svc", secret, &[("token", "x")])
            .await;
        if ok {
            assert_eq!(res.status(), StatusCode::OK);
        } else {
            assert_oauth_error(res, 401, "invalid_client").await;
        }
    }
    // A client that exists only in b is unknown at a, and demo's client unknown at both.
    app.create_client("b", json!({ "client_id": "only-b", "secret": SECRET_B }))
        .await;
    let res = app
        .post_basic(
            "a",
            "token",
            "only-b",
            SECRET_B,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let demo_secret = app.demo_secret.clone();
    for realm in ["a", "b", "master"] {
        let res = app
            .post_basic(
                realm,
                "token",
                "demo-service",
                &demo_secret,
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_oauth_error(res, 401, "invalid_client").await;
    }
}

#[tokio::test]
async fn iso_2_with_the_same_secret_each_realm_issues_its_own_client_its_own_tokens() {
    let app = spawn_app().await;
    let (id_a, id_b) = two_realms(&app, SHARED, SHARED).await;
    let (ta, tb) = (
        token(&app, "a", "svc", SHARED).await,
        token(&app, "b", "svc", SHARED).await,
    );
    let ((ha, ca), (hb, cb)) = (jwt_parts(&ta), jwt_parts(&tb));
    assert_eq!(
        (ca["iss"].as_str().unwrap(), ca["sub"].as_str().unwrap()),
        (issuer("a").as_str(), id_a.as_str())
    );
    assert_eq!(
        (cb["iss"].as_str().unwrap(), cb["sub"].as_str().unwrap()),
        (issuer("b").as_str(), id_b.as_str())
    );
    assert_ne!(ha["kid"], hb["kid"], "realms never share keys");
    assert_eq!(
        app.introspect("b", "svc", SHARED, &tb).await["sub"],
        id_b.as_str()
    );
    assert_eq!(
        app.introspect("a", "svc", SHARED, &tb).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn iso_4_token_of_realm_a_with_iss_rewritten_to_realm_b_is_inactive_everywhere() {
    let app = spawn_app().await;
    two_realms(&app, SHARED, SHARED).await;
    let t = token(&app, "a", "svc", SHARED).await;
    let (_, mut claims) = jwt_parts(&t);
    claims["iss"] = issuer("b").into();
    claims["aud"] = issuer("b").into();
    let forged = forge(&t, None, Some(claims));
    assert_eq!(
        app.introspect("b", "svc", SHARED, &forged).await,
        json!({"active": false})
    );
    // At a the payload no longer matches the signature.
    assert_eq!(
        app.introspect("a", "svc", SHARED, &forged).await,
        json!({"active": false})
    );
    // The untouched token is still fine at a: the forgery did not just break everything.
    assert_eq!(app.introspect("a", "svc", SHARED, &t).await["active"], true);
}

#[tokio::test]
async fn iso_4_token_of_realm_a_with_the_kid_of_realm_b_is_inactive_everywhere() {
    let app = spawn_app().await;
    two_realms(&app, SHARED, SHARED).await;
    let t = token(&app, "a", "svc", SHARED).await;
    let (header, claims) = jwt_parts(&t);
    let jwks_b: Value = app
        .http
        .get(app.endpoint("b", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid_b = jwks_b["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == header["alg"])
        .unwrap()["kid"]
        .clone();
    assert_ne!(kid_b, header["kid"]);

    let mut h = header.clone();
    h["kid"] = kid_b.clone();
    let kid_swapped = forge(&t, Some(h.clone()), None);
    let mut c = claims.clone();
    c["iss"] = issuer("b").into();
    c["aud"] = issuer("b").into();
    let both_swapped = forge(&t, Some(h), Some(c));
    for forged in [&kid_swapped, &both_swapped] {
        for realm in ["a", "b"] {
            assert_eq!(
                app.introspect(realm, "svc", SHARED, forged).await,
                json!({"active": false}),
                "{realm}"
            );
        }
    }
    // Every kid of every other realm, and none at all, too.
    let jwks_master: Value = app
        .http
        .get(app.endpoint("master", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for k in jwks_b["keys"]
        .as_array()
        .unwrap()
        .iter()
        .chain(jwks_master["keys"].as_array().unwrap())
    {
        let mut h = header.clone();
        h["kid"] = k["kid"].clone();
        h["alg"] = k["alg"].clone();
        let forged = forge(&t, Some(h), None);
        assert_eq!(
            app.introspect("b", "svc", SHARED, &forged).await["active"],
            false
        );
    }
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("kid");
    assert_eq!(
        app.introspect("a", "svc", SHARED, &forge(&t, Some(h), None))
            .await["active"],
        false
    );
}

#[tokio::test]
async fn iso_4_demo_token_rewritten_to_claim_master_and_admin_is_401_at_the_admin_api() {
    let app = spawn_app().await;
    let t = app.demo_token().await;
    let (mut header, mut claims) = jwt_parts(&t);
    claims["iss"] = issuer("master").into();
    claims["aud"] = issuer("master").into();
    claims["roles"] = json!(["admin"]);
    assert_bearer_401(
        admin_get(
            &app,
            &forge(&t, None, Some(claims.clone())),
            "/admin/realms",
        )
        .await,
    )
    .await;
    let jwks: Value = app
        .http
        .get(app.endpoint("master", "certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    header["kid"] = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == header["alg"])
        .unwrap()["kid"]
        .clone();
    assert_bearer_401(
        admin_get(
            &app,
            &forge(&t, Some(header), Some(claims)),
            "/admin/realms",
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn iso_5_realm_a_admin_paths_cannot_read_change_or_delete_a_client_of_realm_b() {
    let app = spawn_app().await;
    let (id_a, id_b) = two_realms(&app, SECRET_A, SECRET_B).await;
    let before: Value = app
        .admin(
            Method::GET,
            &format!("/admin/realms/b/clients/{id_b}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["client_id"], "svc");

    for realm in ["a", "demo", "master", "nope"] {
        let path = format!("/admin/realms/{realm}/clients/{id_b}");
        let res = app.admin(Method::GET, &path, None).await;
        assert_oauth_error(res, 404, "not_found").await;
        let update = json!({ "client_id": "svc", "scopes": ["api:write"], "roles": ["admin"], "enabled": false });
        let res = app.admin(Method::PUT, &path, Some(update)).await;
        assert_oauth_error(res, 404, "not_found").await;
        let res = app
            .admin(Method::POST, &format!("{path}/client-secret"), None)
            .await;
        assert_oauth_error(res, 404, "not_found").await;
        let res = app.admin(Method::DELETE, &path, None).await;
        assert_oauth_error(res, 404, "not_found").await;
    }
    // b's client is unchanged and its secret still works; a's client is untouched too.
    let after: Value = app
        .admin(
            Method::GET,
            &format!("/admin/realms/b/clients/{id_b}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
    let t = token(&app, "b", "svc", SECRET_B).await;
    assert_eq!(jwt_parts(&t).1["scope"], "api:read");
    let res = app
        .admin(
            Method::GET,
            &format!("/admin/realms/a/clients/{id_a}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    token(&app, "a", "svc", SECRET_A).await;
    // Listing a's clients never shows b's.
    let list: Value = app
        .admin(Method::GET, "/admin/realms/a/clients", None)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id_a.as_str()]);
}

#[tokio::test]
async fn iso_7_token_iss_and_issuer_urls_ignore_spoofed_host_and_forwarded_headers() {
    let app = spawn_app().await;
    two_realms(&app, SECRET_A, SECRET_B).await;
    let spoof = |req: reqwest::RequestBuilder| {
        req.header("Host", "evil.example")
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Forwarded-Proto", "http")
            .header("X-Forwarded-Port", "8443")
            .header("X-Forwarded-Prefix", "/realms/b")
            .header("X-Forwarded-For", "203.0.113.7")
            .header("Forwarded", "for=203.0.113.7;host=evil.example;proto=http")
            .header("X-Original-URL", "/realms/b/protocol/openid-connect/token")
            .header("X-Rewrite-URL", "/realms/b/protocol/openid-connect/token")
    };
    let res = spoof(app.http.post(app.endpoint("a", "token")))
        .basic_auth("svc", Some(SECRET_A))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    let t = v["access_token"].as_str().unwrap();
    let (_, claims) = jwt_parts(t);
    assert_eq!(claims["iss"], issuer("a"));
    assert_eq!(claims["aud"], issuer("a"));

    let res = spoof(app.http.post(app.endpoint("a", "token/introspect")))
        .basic_auth("svc", Some(SECRET_A))
        .form(&[("token", t)])
        .send()
        .await
        .unwrap();
    let intro: Value = res.json().await.unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["iss"], issuer("a"));

    let res = spoof(
        app.http
            .get(app.url("/realms/a/.well-known/openid-configuration")),
    )
    .send()
    .await
    .unwrap();
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["issuer"], issuer("a"));
    assert!(!d.to_string().contains("evil.example"), "{d}");

    let admin = app.admin_token().await;
    let res = spoof(app.http.get(app.url("/admin/realms/a")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["issuer"], issuer("a"));
}

#[tokio::test]
async fn iso_11_cached_client_of_realm_a_never_answers_for_realm_b_and_deletion_is_immediate() {
    let app = spawn_app().await;
    let (id_a, _) = two_realms(&app, SECRET_A, SECRET_B).await;
    // A confidential client in each realm to introspect with, independent of `svc`.
    for realm in ["a", "b"] {
        app.create_client(realm, json!({ "client_id": "rs", "secret": SHARED }))
            .await;
    }
    // Warm the caches for (a, svc) first, then (b, svc).
    let ta = token(&app, "a", "svc", SECRET_A).await;
    token(&app, "a", "svc", SECRET_A).await;
    let res = app
        .post_basic(
            "b",
            "token",
            "svc",
            SECRET_A,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let tb = token(&app, "b", "svc", SECRET_B).await;
    let res = app
        .post_basic(
            "a",
            "token",
            "svc",
            SECRET_B,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(app.introspect("a", "rs", SHARED, &ta).await["active"], true);
    assert_eq!(app.introspect("b", "rs", SHARED, &tb).await["active"], true);

    // Delete a's svc: its credentials and tokens stop working at once; b's svc is unaffected.
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/a/clients/{id_a}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post_basic(
            "a",
            "token",
            "svc",
            SECRET_A,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(
        app.introspect("a", "rs", SHARED, &ta).await,
        json!({"active": false})
    );
    let tb2 = token(&app, "b", "svc", SECRET_B).await;
    assert_eq!(app.introspect("b", "rs", SHARED, &tb).await["active"], true);
    assert_eq!(
        app.introspect("b", "rs", SHARED, &tb2).await["active"],
        true
    );
    let res = app
        .post_basic(
            "b",
            "token",
            "svc",
            SECRET_A,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn iso_11_secret_changes_in_realm_b_do_not_leak_into_cached_realm_a() {
    let app = spawn_app().await;
    let (_, id_b) = two_realms(&app, SHARED, SHARED).await;
    token(&app, "a", "svc", SHARED).await;
    token(&app, "b", "svc", SHARED).await;
    // Regenerate b's secret: a keeps the shared one, b takes only the new one.
    let res = app
        .admin(
            Method::POST,
            &format!("/admin/realms/b/clients/{id_b}/client-secret"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_b = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    token(&app, "a", "svc", SHARED).await;
    token(&app, "b", "svc", &new_b).await;
    let res = app
        .post_basic(
            "b",
            "token",
            "svc",
            SHARED,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .post_basic(
            "a",
            "token",
            "svc",
            &new_b,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // Disabling b's svc leaves a's working.
    let body = json!({ "client_id": "svc", "scopes": ["api:read"], "enabled": false });
    assert_eq!(
        app.admin(
            Method::PUT,
            &format!("/admin/realms/b/clients/{id_b}"),
            Some(body)
        )
        .await
        .status(),
        StatusCode::OK
    );
    let res = app
        .post_basic(
            "b",
            "token",
            "svc",
            &new_b,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    token(&app, "a", "svc", SHARED).await;
}

#[tokio::test]
async fn iso_11_a_failed_client_lookup_is_not_served_from_cache_after_the_client_is_created() {
    let app = spawn_app().await;
    app.create_realm("a", "RS256").await;
    let res = app
        .post_basic(
            "a",
            "token",
            "late",
            SECRET_A,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    app.create_client("a", json!({ "client_id": "late", "secret": SECRET_A }))
        .await;
    token(&app, "a", "late", SECRET_A).await;
    // Same for realms: a realm looked up before it exists works as soon as it is created.
    let res = app
        .http
        .get(app.url("/realms/c/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.create_realm("c", "ES256").await;
    let res = app
        .http
        .get(app.url("/realms/c/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn iso_13_deleting_realm_a_makes_its_tokens_inactive_and_leaves_realm_b_working() {
    let app = spawn_app().await;
    two_realms(&app, SHARED, SHARED).await;
    for realm in ["a", "b"] {
        let body =
            json!({ "client_id": "opaque", "secret": SHARED, "access_token_format": "opaque" });
        app.create_client(realm, body).await;
    }
    let ta = token(&app, "a", "svc", SHARED).await;
    let oa = token(&app, "a", "opaque", SHARED).await;
    let tb = token(&app, "b", "svc", SHARED).await;
    let ob = token(&app, "b", "opaque", SHARED).await;
    assert_eq!(
        app.introspect("a", "svc", SHARED, &ta).await["active"],
        true
    );
    assert_eq!(
        app.introspect("a", "svc", SHARED, &oa).await["active"],
        true
    );
    let b_clients: Value = app
        .admin(Method::GET, "/admin/realms/b/clients", None)
        .await
        .json()
        .await
        .unwrap();

    let res = app.admin(Method::DELETE, "/admin/realms/a", None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Realm a is gone everywhere, at once.
    let res = app
        .post_basic("a", "token/introspect", "svc", SHARED, &[("token", &ta)])
        .await;
    assert_oauth_error(res, 404, "not_found").await;
    let res = app
        .post_basic(
            "a",
            "token",
            "svc",
            SHARED,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 404, "not_found").await;
    let res = app
        .post_basic("a", "revoke", "svc", SHARED, &[("token", &ta)])
        .await;
    assert_oauth_error(res, 404, "not_found").await;
    for ep in ["certs"] {
        let res = app.http.get(app.endpoint("a", ep)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = app
        .http
        .get(app.url("/realms/a/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for path in [
        "/admin/realms/a",
        "/admin/realms/a/clients",
        "/admin/realms/a/keys",
    ] {
        let res = app.admin(Method::GET, path, None).await;
        assert_oauth_error(res, 404, "not_found").await;
    }
    let res = app.admin(Method::DELETE, "/admin/realms/a", None).await;
    assert_oauth_error(res, 404, "not_found").await;

    // a's tokens are rejected elsewhere; b is untouched and still issues and introspects.
    for t in [&ta, &oa] {
        assert_eq!(
            app.introspect("b", "svc", SHARED, t).await,
            json!({"active": false})
        );
        assert_bearer_401(admin_get(&app, t, "/admin/realms").await).await;
    }
    assert_eq!(
        app.introspect("b", "svc", SHARED, &tb).await["active"],
        true
    );
    assert_eq!(
        app.introspect("b", "svc", SHARED, &ob).await["active"],
        true
    );
    let tb2 = token(&app, "b", "svc", SHARED).await;
    assert_eq!(
        app.introspect("b", "opaque", SHARED, &tb2).await["active"],
        true
    );
    let after: Value = app
        .admin(Method::GET, "/admin/realms/b/clients", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b_clients, after);

    // Re-creating a realm named `a` with the same client and secret does not revive old tokens.
    app.create_realm("a", "RS256").await;
    for body in [
        json!({ "client_id": "svc", "secret": SHARED, "scopes": ["api:read"] }),
        json!({ "client_id": "opaque", "secret": SHARED, "access_token_format": "opaque" }),
    ] {
        app.create_client("a", body).await;
    }
    assert_eq!(
        app.introspect("a", "svc", SHARED, &ta).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect("a", "svc", SHARED, &oa).await,
        json!({"active": false})
    );
    let ta2 = token(&app, "a", "svc", SHARED).await;
    assert_eq!(
        app.introspect("a", "svc", SHARED, &ta2).await["active"],
        true
    );
}
