//! Administration of upstream identity providers over HTTP and the CLI: the broker URIs to
//! register upstream, a client secret that no response carries, validation, replacement,
//! deletion, users' links, and isolation between realms (ISO-8) and organizations (ISO-10).

use crate::helpers::{
    PUBLIC_URL, PW, TestApp, acme_administered_by, add_user, console_token, expect_status,
    fast_realm, federated_identities, idp_path, merged, ok_json, s, spawn_app,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tessera_domain::{
    FederatedIdentity, IdentityProvider, IdpAlias, OrgId, RealmId, RealmName, UnixTime, UserId,
};
use tessera_oidc::admin::AdminPrincipal;

const SECRET: &str = "upstream-secret-never-shown";

/// The smallest provider: alias, issuer, client id and secret.
fn provider(alias: &str) -> Value {
    json!({
        "alias": alias,
        "issuer": "https://login.upstream.test/tenant",
        "client_id": "tessera",
        "client_secret": SECRET,
    })
}

/// The body, asserting that it carries no client secret (neither the field nor the value).
async fn secret_free(res: Response, status: StatusCode) -> Value {
    let text = expect_status(res, status).await;
    assert!(
        !text.contains(SECRET) && !text.contains("\"client_secret\""),
        "a secret in {text}"
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn create(app: &TestApp, realm: &str, body: Value) -> Value {
    let res = app
        .admin(Method::POST, &idp_path(realm, None), Some(body))
        .await;
    secret_free(res, StatusCode::CREATED).await
}

async fn realm_id(app: &TestApp, realm: &str) -> RealmId {
    let name = RealmName::parse(realm).unwrap();
    let r = app
        .provider
        .store()
        .find_realm_by_name(&name)
        .await
        .unwrap();
    r.unwrap().id
}

/// The provider as stored, sealed secret included.
async fn stored(app: &TestApp, realm: &str, alias: &str) -> IdentityProvider {
    let id = realm_id(app, realm).await;
    let alias = IdpAlias::parse(alias).unwrap();
    let p = app.provider.store().find_idp(id, &alias).await.unwrap();
    p.unwrap()
}

/// Organizations `acme` (acme.test) and `globex` (globex.test) in `realm`; returns acme's id.
async fn two_orgs(app: &TestApp, realm: &str) -> String {
    let mut acme = String::new();
    for (alias, domain) in [("acme", "acme.test"), ("globex", "globex.test")] {
        let v = app
            .admin_ok(
                Method::POST,
                &format!("/admin/realms/{realm}/organizations"),
                Some(json!({ "alias": alias, "name": alias, "domains": [{ "name": domain, "verified": true }] })),
            )
            .await;
        if alias == "acme" {
            acme = s(&v, "id");
        }
    }
    acme
}

#[tokio::test]
async fn a_created_provider_shows_its_broker_uris_and_defaults_and_never_its_secret() {
    let app = spawn_app().await;
    app.create_realm("idp-create", "RS256").await;
    let v = create(&app, "idp-create", provider("okta")).await;
    let base = format!("{PUBLIC_URL}/realms/idp-create/broker/okta");
    assert_eq!(v["redirect_uri"], format!("{base}/endpoint"));
    assert_eq!(
        v["backchannel_logout_uri"],
        format!("{base}/backchannel-logout")
    );
    assert_eq!(v["alias"], "okta");
    assert_eq!(v["issuer"], "https://login.upstream.test/tenant");
    assert_eq!(v["scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(v["auth_method"], "client_secret_basic");
    assert_eq!(
        (&v["create_users"], &v["enabled"], &v["trust_email"]),
        (&json!(true), &json!(true), &json!(false))
    );
    assert_eq!(v["organization"], Value::Null);
    assert_eq!(v["required_claims"], json!({}));
    assert!(v["id"].is_string() && v["created_at"].is_i64());
    let res = app
        .admin(Method::GET, &idp_path("idp-create", None), None)
        .await;
    let list = secret_free(res, StatusCode::OK).await;
    assert_eq!(list, json!([v]));
    let res = app
        .admin(Method::GET, &idp_path("idp-create", Some("okta")), None)
        .await;
    assert_eq!(secret_free(res, StatusCode::OK).await, v);
    // The alias is unique in the realm.
    let res = app
        .admin(
            Method::POST,
            &idp_path("idp-create", None),
            Some(provider("okta")),
        )
        .await;
    expect_status(res, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn invalid_providers_are_refused_with_400_and_unknown_organizations_or_domains_with_409() {
    let app = spawn_app().await;
    app.create_realm("idp-invalid", "RS256").await;
    two_orgs(&app, "idp-invalid").await;
    let p = || provider("up");
    for (why, body) in [
        (
            "ftp issuer",
            merged(p(), &json!({ "issuer": "ftp://login.upstream.test" })),
        ),
        (
            "issuer with a query",
            merged(p(), &json!({ "issuer": "https://up.test/?a=1" })),
        ),
        (
            "issuer with a user",
            merged(p(), &json!({ "issuer": "https://u@up.test" })),
        ),
        (
            "no URL",
            merged(p(), &json!({ "issuer": "login.upstream.test" })),
        ),
        (
            "no openid scope",
            merged(p(), &json!({ "scopes": ["profile", "email"] })),
        ),
        ("no scopes", merged(p(), &json!({ "scopes": [] }))),
        ("upper-case alias", merged(p(), &json!({ "alias": "Okta" }))),
        (
            "alias with a slash",
            merged(p(), &json!({ "alias": "a/b" })),
        ),
        (
            "UUID alias",
            merged(
                p(),
                &json!({ "alias": "0190b3c2-8e5f-7000-8000-000000000000" }),
            ),
        ),
        (
            "domains without an organization",
            merged(p(), &json!({ "domains": ["acme.test"] })),
        ),
        (
            "redirect on domain without domains",
            merged(
                p(),
                &json!({ "organization": "acme", "redirect_on_domain": true }),
            ),
        ),
        (
            "unknown auth method",
            merged(p(), &json!({ "auth_method": "private_key_jwt" })),
        ),
        (
            "bad required claim",
            merged(p(), &json!({ "required_claims": { "": "x" } })),
        ),
        ("no secret", merged(p(), &json!({ "client_secret": null }))),
        ("empty secret", merged(p(), &json!({ "client_secret": "" }))),
        (
            "secret with a line break",
            merged(p(), &json!({ "client_secret": "a\nb" })),
        ),
        (
            "client id with a line break",
            merged(p(), &json!({ "client_id": "a\nb" })),
        ),
        ("unknown field", merged(p(), &json!({ "hint": "x" }))),
    ] {
        let res = app
            .admin(Method::POST, &idp_path("idp-invalid", None), Some(body))
            .await;
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {v}");
        assert_eq!(v["error"], "invalid_request", "{why}");
    }
    // Well-formed, but not what the realm has: a conflict with its state.
    for (why, body) in [
        (
            "unknown organization",
            merged(p(), &json!({ "organization": "initech" })),
        ),
        (
            "another organization's domain",
            merged(
                p(),
                &json!({ "organization": "acme", "domains": ["globex.test"] }),
            ),
        ),
    ] {
        let res = app
            .admin(Method::POST, &idp_path("idp-invalid", None), Some(body))
            .await;
        let v = ok_json(res, StatusCode::CONFLICT).await;
        assert_eq!(v["error"], "conflict", "{why}");
    }
    let res = app
        .admin(Method::GET, &idp_path("idp-invalid", None), None)
        .await;
    assert_eq!(
        ok_json(res, StatusCode::OK).await,
        json!([]),
        "nothing was created"
    );
    // An organization's provider with its own domain, sent straight there.
    let v = create(
        &app,
        "idp-invalid",
        merged(
            p(),
            &json!({
                "organization": "acme",
                "domains": ["acme.test"],
                "redirect_on_domain": true,
                "required_claims": { "hd": "acme.test" },
                "auth_method": "client_secret_post",
            }),
        ),
    )
    .await;
    assert_eq!(v["organization"], "acme");
    assert_eq!(v["domains"], json!(["acme.test"]));
    assert_eq!(v["required_claims"], json!({ "hd": "acme.test" }));
    assert_eq!(v["auth_method"], "client_secret_post");
}

#[tokio::test]
async fn a_replacement_keeps_the_secret_when_omitted_but_not_for_a_new_issuer() {
    let app = spawn_app().await;
    app.create_realm("idp-put", "RS256").await;
    create(
        &app,
        "idp-put",
        merged(
            provider("up"),
            &json!({ "trust_email": true, "display_name": "Upstream" }),
        ),
    )
    .await;
    let sealed = stored(&app, "idp-put", "up").await.secret_sealed;
    let url = idp_path("idp-put", Some("up"));
    let put = |body: Value| app.admin(Method::PUT, &url, Some(body));
    // A full replacement: what is left out goes back to its default.
    let update = merged(
        provider("up"),
        &json!({ "alias": null, "client_secret": null }),
    );
    let v = secret_free(
        put(merged(update.clone(), &json!({ "client_id": "tessera-2" }))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["client_id"], "tessera-2");
    assert_eq!(
        (&v["trust_email"], &v["display_name"]),
        (&json!(false), &Value::Null)
    );
    assert_eq!(
        stored(&app, "idp-put", "up").await.secret_sealed,
        sealed,
        "kept"
    );
    // The alias is the path's: not in the body, not even as null.
    for alias in [json!("other"), Value::Null] {
        let mut body = update.clone();
        body["alias"] = alias;
        expect_status(put(body).await, StatusCode::BAD_REQUEST).await;
    }
    // The stored secret never goes to another issuer.
    let moved = merged(
        update.clone(),
        &json!({ "issuer": "https://elsewhere.test" }),
    );
    let res = put(moved.clone()).await;
    expect_status(res, StatusCode::CONFLICT).await;
    let res = put(merged(moved, &json!({ "client_secret": "a-new-secret" }))).await;
    let v = secret_free(res, StatusCode::OK).await;
    assert_eq!(v["issuer"], "https://elsewhere.test");
    assert_ne!(
        stored(&app, "idp-put", "up").await.secret_sealed,
        sealed,
        "replaced"
    );
    let res = app
        .admin(
            Method::PUT,
            &idp_path("idp-put", Some("nope")),
            Some(update),
        )
        .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_deleted_provider_is_not_found_and_an_organizations_go_with_it() {
    let app = spawn_app().await;
    app.create_realm("idp-delete", "RS256").await;
    two_orgs(&app, "idp-delete").await;
    create(&app, "idp-delete", provider("up")).await;
    create(
        &app,
        "idp-delete",
        merged(provider("acme-sso"), &json!({ "organization": "acme" })),
    )
    .await;
    let url = idp_path("idp-delete", Some("up"));
    let res = app.admin(Method::DELETE, &url, None).await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    for m in [Method::GET, Method::DELETE] {
        let res = app.admin(m.clone(), &url, None).await;
        expect_status(res, StatusCode::NOT_FOUND).await;
    }
    app.admin_ok(
        Method::DELETE,
        "/admin/realms/idp-delete/organizations/acme",
        None,
    )
    .await;
    let res = app
        .admin(Method::GET, &idp_path("idp-delete", Some("acme-sso")), None)
        .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
    let res = app
        .admin(Method::GET, &idp_path("idp-delete", None), None)
        .await;
    assert_eq!(ok_json(res, StatusCode::OK).await, json!([]));
}

#[tokio::test]
async fn iso_8_a_provider_of_one_realm_is_not_found_through_another() {
    let app = spawn_app().await;
    app.create_realm("idp-iso-a", "RS256").await;
    app.create_realm("idp-iso-b", "RS256").await;
    create(&app, "idp-iso-a", provider("only-a")).await;
    let put = merged(provider("x"), &json!({ "alias": null }));
    for (m, body) in [
        (Method::GET, None),
        (Method::PUT, Some(put)),
        (Method::DELETE, None),
    ] {
        let res = app
            .admin(m.clone(), &idp_path("idp-iso-b", Some("only-a")), body)
            .await;
        expect_status(res, StatusCode::NOT_FOUND).await;
    }
    let res = app
        .admin(Method::GET, &idp_path("idp-iso-b", None), None)
        .await;
    assert_eq!(ok_json(res, StatusCode::OK).await, json!([]));
    // The same alias in realm b is another provider, with b's URIs.
    let v = create(&app, "idp-iso-b", provider("only-a")).await;
    assert_eq!(
        v["redirect_uri"],
        format!("{PUBLIC_URL}/realms/idp-iso-b/broker/only-a/endpoint")
    );
    let res = app
        .admin(Method::GET, &idp_path("idp-iso-a", Some("only-a")), None)
        .await;
    let a = secret_free(res, StatusCode::OK).await;
    assert_ne!(a["id"], v["id"]);
}

#[tokio::test]
async fn iso_10_an_org_admin_reads_only_their_own_organizations_providers() {
    let app = spawn_app().await;
    fast_realm(&app, "idp-iso-org").await;
    let alice = add_user(&app, "idp-iso-org", "alice", PW).await;
    acme_administered_by(&app, "idp-iso-org", &alice).await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/idp-iso-org/organizations",
        Some(json!({ "alias": "globex", "name": "Globex" })),
    )
    .await;
    let acme_sso = create(
        &app,
        "idp-iso-org",
        merged(provider("acme-sso"), &json!({ "organization": "acme" })),
    )
    .await;
    create(
        &app,
        "idp-iso-org",
        merged(provider("globex-sso"), &json!({ "organization": "globex" })),
    )
    .await;
    create(&app, "idp-iso-org", provider("realm-wide")).await;
    let token = console_token(&app, "idp-iso-org", "alice").await;
    let call = async |m: Method, path: &str, body: Option<Value>| {
        let mut req = app
            .http
            .request(m, app.url(&format!("/admin/realms/idp-iso-org{path}")))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    };
    let res = call(Method::GET, "/organizations/acme/identity-providers", None).await;
    assert_eq!(secret_free(res, StatusCode::OK).await, json!([acme_sso]));
    let res = call(
        Method::GET,
        "/organizations/globex/identity-providers",
        None,
    )
    .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
    // The realm's own paths are for realm administrators.
    for (m, path, body) in [
        (Method::GET, "/identity-provider/instances", None),
        (Method::GET, "/identity-provider/instances/acme-sso", None),
        (Method::GET, "/identity-provider/instances/realm-wide", None),
        (
            Method::POST,
            "/identity-provider/instances",
            Some(merged(provider("mine"), &json!({ "organization": "acme" }))),
        ),
        (
            Method::DELETE,
            "/identity-provider/instances/acme-sso",
            None,
        ),
    ] {
        let status = call(m.clone(), path, body).await.status();
        assert!(
            [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status),
            "{m} {path}: {status}"
        );
    }
    // The engine itself shows an organization's administrator nothing else (ISO-10).
    let org: Value = app
        .admin_ok(
            Method::GET,
            "/admin/realms/idp-iso-org/organizations/acme",
            None,
        )
        .await;
    let caller = AdminPrincipal::OrgAdmin {
        realm: realm_id(&app, "idp-iso-org").await,
        org: OrgId(s(&org, "id").parse().unwrap()),
        user: UserId(alice.parse().unwrap()),
    };
    let p = &app.provider;
    let listed = p.list_idps(&caller, "idp-iso-org").await.unwrap();
    let aliases: Vec<&str> = listed.iter().map(|v| v.settings.alias.as_str()).collect();
    assert_eq!(aliases, ["acme-sso"]);
    for alias in ["globex-sso", "realm-wide"] {
        let alias = IdpAlias::parse(alias).unwrap();
        let e = p.get_idp(&caller, "idp-iso-org", &alias).await.unwrap_err();
        assert_eq!(e.code(), "not_found", "{alias}");
    }
    let own = IdpAlias::parse("acme-sso").unwrap();
    assert!(p.get_idp(&caller, "idp-iso-org", &own).await.is_ok());
    let e = p
        .delete_idp(&caller, "idp-iso-org", &own)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "insufficient_scope");
    // Realm administrators read an organization's list too.
    let res = app
        .admin(
            Method::GET,
            "/admin/realms/idp-iso-org/organizations/globex/identity-providers",
            None,
        )
        .await;
    let list = secret_free(res, StatusCode::OK).await;
    assert_eq!(list[0]["alias"], "globex-sso");
}

#[tokio::test]
async fn a_users_links_are_listed_in_keycloaks_shape_and_removed_by_alias() {
    let app = spawn_app().await;
    fast_realm(&app, "idp-links").await;
    let user = add_user(&app, "idp-links", "bob", PW).await;
    let links = format!("/admin/realms/idp-links/users/{user}/federated-identity");
    let listed = || federated_identities(&app, "idp-links", &user);
    assert_eq!(listed().await, [] as [Value; 0], "a fresh user");
    let res = app
        .admin(Method::DELETE, &format!("{links}/up"), None)
        .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
    create(&app, "idp-links", provider("up")).await;
    let res = app
        .admin(Method::DELETE, &format!("{links}/up"), None)
        .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
    // A link as a first sign-in through the provider leaves it.
    let p = stored(&app, "idp-links", "up").await;
    let link = FederatedIdentity {
        realm_id: p.realm_id,
        idp_id: p.id,
        alias: p.settings.alias.clone(),
        user_id: UserId(user.parse().unwrap()),
        subject: "upstream-sub-1".into(),
        username: Some("bob@upstream.test".into()),
        upstream_sid: None,
        created_at: UnixTime(1),
        last_login: UnixTime(1),
    };
    app.provider.store().insert_link(&link).await.unwrap();
    assert_eq!(
        listed().await,
        [
            json!({ "identity_provider": "up", "user_id": "upstream-sub-1", "user_name": "bob@upstream.test" })
        ]
    );
    let res = app
        .admin(Method::DELETE, &format!("{links}/up"), None)
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert_eq!(listed().await, [] as [Value; 0]);
    let nobody =
        "/admin/realms/idp-links/users/00000000-0000-0000-0000-000000000000/federated-identity";
    let res = app.admin(Method::GET, nobody, None).await;
    expect_status(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn cli_idp_create_reads_the_secret_from_stdin_and_prints_the_uris_to_register() {
    let app = spawn_app().await;
    let out = app.cli_with_stdin(
        &[
            "idp",
            "create",
            "--realm",
            "demo",
            "corp",
            "--issuer",
            "https://login.corp.test",
            "--client-id",
            "tessera",
            "--client-secret-stdin",
            "--scope",
            "openid",
            "--scope",
            "email",
            "--required-claim",
            "hd=corp.test",
            "--hide-on-login",
        ],
        &format!("{SECRET}\n"),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let redirect = format!("{PUBLIC_URL}/realms/demo/broker/corp/endpoint");
    assert!(stdout.contains(&redirect), "{stdout}");
    assert!(stdout.contains(&format!(
        "{PUBLIC_URL}/realms/demo/broker/corp/backchannel-logout"
    )));
    let list = String::from_utf8(app.cli(&["idp", "list", "--realm", "demo"]).stdout).unwrap();
    assert!(
        list.starts_with("corp\t") && list.contains("https://login.corp.test"),
        "{list}"
    );
    let show = app.cli(&["idp", "show", "--realm", "demo", "corp"]);
    let show = String::from_utf8(show.stdout).unwrap();
    assert!(
        show.contains(&redirect) && show.contains("hd=corp.test"),
        "{show}"
    );
    // The API sees what the CLI created.
    let res = app
        .admin(Method::GET, &idp_path("demo", Some("corp")), None)
        .await;
    let v = secret_free(res, StatusCode::OK).await;
    assert_eq!(v["scopes"], json!(["openid", "email"]));
    assert_eq!(v["hide_on_login"], true);
    assert!(!stdout.contains(SECRET) && !show.contains(SECRET));
    // Without a secret on standard input: one line saying so.
    let out = app.cli_with_stdin(
        &[
            "idp",
            "create",
            "--realm",
            "demo",
            "other",
            "--issuer",
            "https://x.test",
            "--client-id",
            "t",
            "--client-secret-stdin",
        ],
        "",
    );
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("client secret"), "{err}");
    let out = app.cli(&["idp", "delete", "--realm", "demo", "corp"]);
    assert!(out.status.success());
    let res = app
        .admin(Method::GET, &idp_path("demo", Some("corp")), None)
        .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
}
