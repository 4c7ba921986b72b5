//! Users through the admin REST API: CRUD, search and keyset pagination, validation,
//! conflicts, realm isolation, and passwords that never come back out.

use crate::helpers::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "Tr0ub4dor&3-correct-horse";
/// [`ok_json`], and neither a password nor a password hash came back.
async fn ok_json_without_secrets(res: Response, status: StatusCode) -> Value {
    let text = expect_status(res, status).await;
    assert!(!text.contains(PASSWORD), "a password came back: {text}");
    assert!(
        !text.contains("argon2"),
        "a password hash came back: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

fn users(realm: &str) -> String {
    format!("/admin/realms/{realm}/users")
}

async fn create_user(app: &TestApp, realm: &str, body: Value) -> Value {
    ok_json_without_secrets(
        app.admin(Method::POST, &users(realm), Some(body)).await,
        StatusCode::CREATED,
    )
    .await
}

/// GET with a properly encoded query (usernames may hold `+` and `@`).
async fn get_query(app: &TestApp, path: &str, query: &[(&str, &str)]) -> Response {
    let mut url = url::Url::parse(&app.url(path)).unwrap();
    url.query_pairs_mut().extend_pairs(query);
    let token = app.admin_token().await;
    app.http.get(url).bearer_auth(token).send().await.unwrap()
}

async fn list(app: &TestApp, realm: &str, query: &[(&str, &str)]) -> Value {
    ok_json_without_secrets(get_query(app, &users(realm), query).await, StatusCode::OK).await
}

fn usernames(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect()
}

async fn login(app: &TestApp, realm: &str, who: &str, password: &str) -> Result<String, String> {
    let ctx = app.provider.realm(realm).await.unwrap();
    app.provider
        .authenticate_user(&ctx, who, password, "192.0.2.1".parse().ok())
        .await
        .map(|u| u.id.to_string())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn admin_creates_reads_updates_and_deletes_a_user() {
    let app = spawn_app().await;
    fast_realm(&app, "shop").await;
    let created = create_user(
        &app,
        "shop",
        json!({
            "username": "Alice",
            "email": "Alice@Example.com",
            "email_verified": true,
            "given_name": "Alice",
            "family_name": "Liddell",
            "attributes": { "dept": "r&d", "level": 3 },
            "password": PASSWORD,
        }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["username"], "alice", "stored lower-cased");
    assert_eq!(created["email"], "Alice@Example.com", "kept as given");
    assert_eq!(created["email_verified"], true);
    assert_eq!(created["given_name"], "Alice");
    assert_eq!(created["family_name"], "Liddell");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["attributes"], json!({ "dept": "r&d", "level": 3 }));
    let keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    assert!(
        !keys.iter().any(|k| k.contains("password")),
        "no password field at all: {keys:?}"
    );

    let path = format!("{}/{id}", users("shop"));
    let got =
        ok_json_without_secrets(app.admin(Method::GET, &path, None).await, StatusCode::OK).await;
    assert_eq!(got, created);
    assert_eq!(
        login(&app, "shop", "alice@EXAMPLE.com", PASSWORD).await,
        Ok(id.clone())
    );

    // PUT replaces the profile (first_name/last_name are accepted aliases); the password stays.
    let updated = ok_json_without_secrets(
        app.admin(
            Method::PUT,
            &path,
            Some(json!({ "username": "alice", "first_name": "Al", "last_name": "L", "enabled": false })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["given_name"], "Al");
    assert_eq!(updated["family_name"], "L");
    assert_eq!(updated["email"], Value::Null);
    assert_eq!(updated["email_verified"], false);
    assert_eq!(updated["attributes"], json!({}));
    assert_eq!(updated["enabled"], false);
    assert_eq!(
        login(&app, "shop", "alice", PASSWORD).await,
        Err("Disabled".into())
    );

    let res = app.admin(Method::DELETE, &path, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_oauth_error(app.admin(Method::GET, &path, None).await, 404, "not_found").await;
    assert_oauth_error(
        app.admin(Method::DELETE, &path, None).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        login(&app, "shop", "alice", PASSWORD).await,
        Err("InvalidCredentials".into())
    );
}

#[tokio::test]
async fn passwords_are_set_separately_and_never_returned() {
    let app = spawn_app().await;
    fast_realm(&app, "shop").await;
    let u = create_user(&app, "shop", json!({ "username": "bob" })).await;
    let id = u["id"].as_str().unwrap();
    assert_eq!(
        login(&app, "shop", "bob", PASSWORD).await,
        Err("InvalidCredentials".into()),
        "no password yet"
    );
    let pw = format!("{}/{id}/password", users("shop"));
    let res = app
        .admin(Method::PUT, &pw, Some(json!({ "password": PASSWORD })))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.text().await.unwrap().is_empty());
    assert_eq!(
        login(&app, "shop", "bob", PASSWORD).await,
        Ok(id.to_owned())
    );
    assert!(login(&app, "shop", "bob", "wrong password").await.is_err());

    // A password in a profile update is refused, not silently dropped.
    let res = app
        .admin(
            Method::PUT,
            &format!("{}/{id}", users("shop")),
            Some(json!({ "username": "bob", "password": "another password" })),
        )
        .await;
    let body = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(!body.to_string().contains("another password"));
    assert_eq!(
        login(&app, "shop", "bob", PASSWORD).await,
        Ok(id.to_owned())
    );

    // Lists and reads never carry it either (ok_json_without_secrets checks every body).
    list(&app, "shop", &[]).await;
    list(&app, "shop", &[("search", "bob")]).await;
}

#[tokio::test]
async fn user_list_is_keyset_paginated_by_username_and_searchable() {
    let app = spawn_app().await;
    fast_realm(&app, "shop").await;
    for (name, email, given, family) in [
        ("erin", "erin@corp.example", "Erin", "Hannah"),
        ("carol", "carol@shop.example", "Carol", "Danvers"),
        ("a+b@x", "ab@x.example", "Ab", "Plus"),
        ("alice", "Alice@Example.com", "Alice", "Liddell"),
        ("dave", "dave@corp.example", "Dave", "Bowman"),
    ] {
        create_user(
            &app,
            "shop",
            json!({ "username": name, "email": email, "given_name": given, "family_name": family }),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = vec![("limit", "2".to_owned())];
        if let Some(a) = &after {
            q.push(("after", a.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = list(&app, "shop", &q).await;
        seen.extend(usernames(&page).into_iter().map(str::to_owned));
        match page.get("next") {
            Some(n) => after = Some(n.as_str().unwrap().to_owned()),
            None => break,
        }
        assert!(seen.len() <= 5, "{seen:?}");
    }
    assert_eq!(seen, ["a+b@x", "alice", "carol", "dave", "erin"]);

    let search = |term: &'static str| {
        let app = &app;
        async move { list(app, "shop", &[("search", term)]).await }
    };
    assert_eq!(usernames(&search("CORP").await), ["dave", "erin"]);
    assert_eq!(usernames(&search("liddell").await), ["alice"]);
    assert_eq!(usernames(&search("alice@example.COM").await), ["alice"]);
    assert_eq!(usernames(&search("danvers").await), ["carol"]);
    assert_eq!(usernames(&search("%").await), Vec::<&str>::new());
    assert_eq!(usernames(&search("+").await), ["a+b@x"]);
    let page = list(&app, "shop", &[("search", "example"), ("limit", "1")]).await;
    assert_eq!(usernames(&page), ["a+b@x"]);
    assert_eq!(page["next"], "a+b@x");
    let page = list(
        &app,
        "shop",
        &[("search", "corp"), ("after", "dave"), ("limit", "5")],
    )
    .await;
    assert_eq!(usernames(&page), ["erin"]);
    assert!(page.get("next").is_none());
}

#[tokio::test]
async fn same_username_in_two_realms_is_two_users_iso_5_iso_9() {
    let app = spawn_app().await;
    fast_realm(&app, "a").await;
    fast_realm(&app, "b").await;
    let body =
        |pw: &str| json!({ "username": "alice", "email": "alice@example.com", "password": pw });
    let ua = create_user(&app, "a", body(PASSWORD)).await;
    let ub = create_user(&app, "b", body("b's own password")).await;
    assert_ne!(ua["id"], ub["id"]);
    let (ida, idb) = (ua["id"].as_str().unwrap(), ub["id"].as_str().unwrap());

    // Realm b's URLs never reach realm a's user.
    let foreign = format!("{}/{ida}", users("b"));
    assert_oauth_error(
        app.admin(Method::GET, &foreign, None).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .admin(
            Method::PUT,
            &foreign,
            Some(json!({ "username": "mallory" })),
        )
        .await;
    assert_oauth_error(res, 404, "not_found").await;
    let res = app
        .admin(
            Method::PUT,
            &format!("{foreign}/password"),
            Some(json!({ "password": "hijacked password" })),
        )
        .await;
    assert_oauth_error(res, 404, "not_found").await;
    assert_oauth_error(
        app.admin(Method::DELETE, &foreign, None).await,
        404,
        "not_found",
    )
    .await;

    let in_b = list(&app, "b", &[]).await;
    assert_eq!(in_b["items"].as_array().unwrap().len(), 1);
    assert_eq!(in_b["items"][0]["id"], idb);
    let searched = list(&app, "b", &[("search", "alice")]).await;
    assert_eq!(searched["items"][0]["id"], idb);

    // Each realm's password opens only that realm's user.
    assert_eq!(
        login(&app, "a", "alice", PASSWORD).await,
        Ok(ida.to_owned())
    );
    assert_eq!(
        login(&app, "b", "alice", "b's own password").await,
        Ok(idb.to_owned())
    );
    assert!(login(&app, "b", "alice", PASSWORD).await.is_err());
    assert!(
        login(&app, "a", "alice", "hijacked password")
            .await
            .is_err()
    );
    let still = ok_json_without_secrets(
        app.admin(Method::GET, &format!("{}/{ida}", users("a")), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(still["username"], "alice");
}

#[tokio::test]
async fn invalid_users_and_passwords_are_invalid_request() {
    let app = spawn_app().await;
    fast_realm(&app, "shop").await;
    for body in [
        json!({ "username": "bob", "email": "not-an-email" }),
        json!({ "username": "bob", "email": "a@b@c" }),
        json!({ "username": "bob", "email": "bob @example.com" }),
        json!({ "username": "bad name" }),
        json!({ "username": "" }),
        json!({ "username": "x".repeat(65) }),
        json!({ "username": "b\u{f6}b" }),
        json!({ "username": "bob", "password": "short" }),
        json!({ "username": "bob", "password": "x".repeat(1025) }),
        json!({ "username": "bob", "given_name": "x".repeat(201) }),
        json!({ "username": "bob", "attributes": ["not", "an", "object"] }),
        json!({ "username": "bob", "attributes": { "big": "x".repeat(17_000) } }),
        json!({ "username": "bob", "is_admin": true }),
        json!({ "email": "bob@example.com" }),
    ] {
        let res = app
            .admin(Method::POST, &users("shop"), Some(body.clone()))
            .await;
        let err = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(!err.to_string().contains("short\""), "{err}");
    }
    // Nothing to vouch for without an address: accepted, not verified.
    let u = create_user(
        &app,
        "shop",
        json!({ "username": "bob", "email_verified": true }),
    )
    .await;
    assert_eq!(u["email_verified"], false);
    let pw = format!("{}/{}/password", users("shop"), u["id"].as_str().unwrap());
    for body in [
        json!({ "password": "1234567" }),
        json!({ "password": "" }),
        json!({}),
        json!({ "password": PASSWORD, "extra": 1 }),
    ] {
        let res = app.admin(Method::PUT, &pw, Some(body)).await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Eight characters (not bytes) is enough.
    let res = app
        .admin(
            Method::PUT,
            &pw,
            Some(json!({ "password": "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let long_search = "x".repeat(257);
    let res = get_query(&app, &users("shop"), &[("search", &long_search)]).await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn duplicate_username_or_email_is_a_conflict() {
    let app = spawn_app().await;
    fast_realm(&app, "shop").await;
    create_user(
        &app,
        "shop",
        json!({ "username": "alice", "email": "Jos\u{e9}@Example.com" }),
    )
    .await;
    for (body, what) in [
        (json!({ "username": "ALICE" }), "username"),
        // Another case and Unicode normalization form of the same address.
        (
            json!({ "username": "alice2", "email": "JOSE\u{301}@example.COM" }),
            "email",
        ),
    ] {
        let res = app.admin(Method::POST, &users("shop"), Some(body)).await;
        let err = assert_oauth_error(res, 409, "conflict").await;
        assert!(
            err["error_description"].as_str().unwrap().contains(what),
            "{err}"
        );
    }
    let bob = create_user(&app, "shop", json!({ "username": "bob" })).await;
    let res = app
        .admin(
            Method::PUT,
            &format!("{}/{}", users("shop"), bob["id"].as_str().unwrap()),
            Some(json!({ "username": "bob", "email": "jos\u{e9}@example.com" })),
        )
        .await;
    assert_oauth_error(res, 409, "conflict").await;
}

#[tokio::test]
async fn unknown_realms_and_ids_are_404_and_a_token_is_required() {
    let app = spawn_app().await;
    fast_realm(&app, "shop").await;
    for path in [
        "/admin/realms/nope/users".to_owned(),
        format!("{}/not-a-uuid", users("shop")),
        format!("{}/{}", users("shop"), uuid::Uuid::new_v4()),
    ] {
        assert_oauth_error(app.admin(Method::GET, &path, None).await, 404, "not_found").await;
    }
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/nope/users",
            Some(json!({ "username": "x" })),
        )
        .await;
    assert_oauth_error(res, 404, "not_found").await;
    let res = app.http.get(app.url(&users("shop"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let demo = app.demo_token().await;
    let res = app
        .http
        .post(app.url(&users("shop")))
        .bearer_auth(demo)
        .json(&json!({ "username": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn realm_password_params_default_to_owasp_and_are_validated() {
    let app = spawn_app().await;
    app.create_realm("plain", "RS256").await;
    let realm = ok_json_without_secrets(
        app.admin(Method::GET, "/admin/realms/plain", None).await,
        StatusCode::OK,
    )
    .await;
    assert!(realm.get("password_params").is_none(), "{realm}");
    let u = create_user(
        &app,
        "plain",
        json!({ "username": "u", "password": PASSWORD }),
    )
    .await;
    let realm_id = app.provider.realm("plain").await.unwrap().realm.id;
    let (_, hash) = app
        .provider
        .store()
        .find_user_credentials(realm_id, "u")
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.unwrap().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "OWASP defaults"
    );
    assert_eq!(
        login(&app, "plain", "u", PASSWORD).await,
        Ok(u["id"].as_str().unwrap().to_owned())
    );

    for bad in [
        json!({ "m_cost": 4, "t_cost": 1, "p_cost": 1 }),
        json!({ "m_cost": 8, "t_cost": 0, "p_cost": 1 }),
        json!({ "m_cost": 16, "t_cost": 1, "p_cost": 4 }),
        json!({ "m_cost": 1_048_576, "t_cost": 1, "p_cost": 1 }),
        json!({ "m_cost": 128, "t_cost": 1 }),
        json!("fast"),
    ] {
        let res = app
            .admin(
                Method::PUT,
                "/admin/realms/plain",
                Some(json!({ "password_params": bad })),
            )
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    let set = ok_json_without_secrets(
        app.admin(
            Method::PUT,
            "/admin/realms/plain",
            Some(json!({ "password_params": { "m_cost": 128, "t_cost": 1, "p_cost": 1 } })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["password_params"]["m_cost"], 128);
    // Other updates keep it; null resets to the defaults.
    let kept = ok_json_without_secrets(
        app.admin(
            Method::PUT,
            "/admin/realms/plain",
            Some(json!({ "access_token_lifetime_secs": 60 })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["password_params"]["m_cost"], 128);
    let reset = ok_json_without_secrets(
        app.admin(
            Method::PUT,
            "/admin/realms/plain",
            Some(json!({ "password_params": null })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(reset.get("password_params").is_none(), "{reset}");
}

#[tokio::test]
async fn openapi_documents_the_user_endpoints() {
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
    let paths = &doc["paths"];
    for (path, method) in [
        ("/admin/realms/{realm}/users", "get"),
        ("/admin/realms/{realm}/users", "post"),
        ("/admin/realms/{realm}/users/{id}", "get"),
        ("/admin/realms/{realm}/users/{id}", "put"),
        ("/admin/realms/{realm}/users/{id}", "delete"),
        ("/admin/realms/{realm}/users/{id}/password", "put"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} missing");
    }
    let params: Vec<_> = paths["/admin/realms/{realm}/users"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["search", "after", "limit"] {
        assert!(params.contains(&p), "{params:?}");
    }
    let rep = &doc["components"]["schemas"]["UserRep"]["properties"];
    assert!(rep["username"].is_object());
    assert!(rep.get("password").is_none() && rep.get("password_hash").is_none());
}
