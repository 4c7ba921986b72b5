//! The administration of trusted issuers (issue 15) over HTTP and the CLI: identity
//! providers that accept tokens, token-only issuers (their own keys, no client, nothing to
//! register, public keys only), the organization-admin exchange settings, organizations' external ids, and
//! exchange policies that name trusted providers.

use crate::helpers::{TestApp, expect_status, idp_path, merged, ok_json, s, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_domain::{IdpAlias, RealmName};

const SECRET: &str = "upstream-secret-never-shown";

/// A P-256 public key (RFC 7517 Appendix A.1) as a JWK set.
fn jwks() -> Value {
    json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": "ci-1", "use": "sig", "alg": "ES256",
        "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
        "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
    }] })
}

/// A token-only issuer: an issuer, its JWKS URL and what its tokens must satisfy.
fn token_only(alias: &str) -> Value {
    json!({
        "alias": alias,
        "issuer": "https://ci.example",
        "jwks_uri": "https://ci.example/.well-known/jwks",
        "accept_tokens": { "audiences": ["tessera"], "require_jti": true, "map_users": "create" },
    })
}

/// A sign-in provider.
fn sign_in(alias: &str) -> Value {
    json!({
        "alias": alias,
        "issuer": "https://login.upstream.test",
        "client_id": "tessera",
        "client_secret": SECRET,
    })
}

/// The defaults of `accept_tokens: {}`.
fn default_trust() -> Value {
    json!({
        "audiences": [], "max_age_secs": 3600, "allowed_algs": [], "require_jti": false,
        "subject_claim": "sub", "map_users": "link",
    })
}

async fn create(app: &TestApp, realm: &str, body: Value) -> Value {
    let res = app
        .admin(Method::POST, &idp_path(realm, None), Some(body))
        .await;
    let text = expect_status(res, StatusCode::CREATED).await;
    assert!(!text.contains(SECRET), "a secret in {text}");
    serde_json::from_str(&text).unwrap()
}

async fn sealed_secret(app: &TestApp, realm: &str, alias: &str) -> Vec<u8> {
    let store = app.provider.store();
    let realm = store
        .find_realm_by_name(&RealmName::parse(realm).unwrap())
        .await
        .unwrap()
        .unwrap();
    let alias = IdpAlias::parse(alias).unwrap();
    let p = store.find_idp(realm.id, &alias).await.unwrap().unwrap();
    p.secret_sealed
}

async fn org(app: &TestApp, realm: &str, body: Value) -> reqwest::Response {
    app.admin(
        Method::POST,
        &format!("/admin/realms/{realm}/organizations"),
        Some(body),
    )
    .await
}

/// Replaces the settings of provider `alias` of `realm`.
async fn put_idp(app: &TestApp, realm: &str, alias: &str, body: Value) -> reqwest::Response {
    app.admin(Method::PUT, &idp_path(realm, Some(alias)), Some(body))
        .await
}

/// An organization created in `realm`, as the API shows it.
async fn new_org(app: &TestApp, realm: &str, body: Value) -> Value {
    ok_json(org(app, realm, body).await, StatusCode::CREATED).await
}

#[tokio::test]
async fn a_token_only_issuer_shows_its_keys_and_token_rules_and_has_no_client_or_uris() {
    let app = spawn_app().await;
    app.create_realm("trust-only", "RS256").await;
    let v = create(&app, "trust-only", token_only("ci")).await;
    assert_eq!(v["client_id"], Value::Null);
    assert_eq!(v["jwks_uri"], "https://ci.example/.well-known/jwks");
    assert_eq!(v["jwks"], Value::Null);
    assert_eq!(
        v["accept_tokens"],
        merged(
            default_trust(),
            &json!({ "audiences": ["tessera"], "require_jti": true, "map_users": "create" })
        )
    );
    assert_eq!(v["org_admin_exchange"], Value::Null);
    // Nothing to register at an issuer that signs nobody in.
    assert_eq!(
        (&v["redirect_uri"], &v["backchannel_logout_uri"]),
        (&Value::Null, &Value::Null)
    );
    let got = app
        .admin_ok(Method::GET, &idp_path("trust-only", Some("ci")), None)
        .await;
    assert_eq!(got, v);
    assert!(sealed_secret(&app, "trust-only", "ci").await.is_empty());
    // Its keys as a JWK set instead, with every rule set.
    let rules = json!({
        "audiences": ["tessera", "https://api.example"], "max_age_secs": 600,
        "allowed_algs": ["ES256", "EdDSA"], "require_jti": false,
        "subject_claim": "client_id", "map_users": "email",
    });
    let v = create(
        &app,
        "trust-only",
        merged(
            token_only("ci-keys"),
            &json!({ "jwks_uri": null, "jwks": jwks(), "accept_tokens": rules }),
        ),
    )
    .await;
    assert_eq!(v["jwks"], jwks());
    assert_eq!(v["jwks_uri"], Value::Null);
    assert_eq!(v["accept_tokens"], rules);
    // Replaced as a whole: new keys and rules.
    let put = merged(
        token_only("x"),
        &json!({ "alias": null, "accept_tokens": { "max_age_secs": 60 } }),
    );
    let v = ok_json(
        put_idp(&app, "trust-only", "ci-keys", put).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["jwks"], Value::Null);
    assert_eq!(v["jwks_uri"], "https://ci.example/.well-known/jwks");
    assert_eq!(
        v["accept_tokens"],
        merged(default_trust(), &json!({ "max_age_secs": 60 }))
    );
}

#[tokio::test]
async fn malformed_token_rules_keys_and_exchange_settings_are_refused_with_400() {
    let app = spawn_app().await;
    app.create_realm("trust-invalid", "RS256").await;
    new_org(&app, "trust-invalid", json!({ "alias": "acme", "name": "Acme", "domains": [{ "name": "acme.test", "verified": true }] })).await;
    let t = || token_only("tok");
    let trust = |rules: Value| merged(t(), &json!({ "accept_tokens": rules }));
    let keys = |keys: Value| merged(t(), &json!({ "jwks_uri": null, "jwks": { "keys": keys } }));
    let exchange = |x: Value| {
        merged(
            sign_in("up"),
            &json!({ "organization": "acme", "org_admin_exchange": x }),
        )
    };
    for (why, body) in [
        (
            "a token-only issuer that accepts no tokens",
            merged(t(), &json!({ "accept_tokens": null })),
        ),
        (
            "a token-only issuer with a client id",
            merged(t(), &json!({ "client_id": "tessera" })),
        ),
        (
            "a token-only issuer with a client secret",
            merged(t(), &json!({ "client_secret": SECRET })),
        ),
        (
            "a token-only issuer with domains",
            merged(
                t(),
                &json!({ "organization": "acme", "domains": ["acme.test"] }),
            ),
        ),
        (
            "a token-only issuer with the organization-admin exchange",
            merged(
                t(),
                &json!({ "organization": "acme", "org_admin_exchange": {} }),
            ),
        ),
        (
            "both jwks and jwks_uri",
            merged(t(), &json!({ "jwks": jwks() })),
        ),
        (
            "an http jwks_uri",
            merged(t(), &json!({ "jwks_uri": "http://ci.example/jwks" })),
        ),
        (
            "a jwks_uri with a fragment",
            merged(t(), &json!({ "jwks_uri": "https://ci.example/jwks#k" })),
        ),
        (
            "a JWK set without keys",
            merged(t(), &json!({ "jwks_uri": null, "jwks": { "k": [] } })),
        ),
        ("an empty JWK set", keys(json!([]))),
        ("a key without kty", keys(json!([{ "crv": "P-256" }]))),
        ("a key that is no object", keys(json!(["ES256"]))),
        (
            "a private key",
            keys(json!([merged(
                jwks()["keys"][0].clone(),
                &json!({ "d": "c2VjcmV0" })
            )])),
        ),
        (
            "a symmetric key",
            keys(json!([{ "kty": "oct", "k": "c2VjcmV0" }])),
        ),
        ("21 keys", keys(json!(vec![jwks()["keys"][0].clone(); 21]))),
        (
            "a sign-in provider without a client id",
            merged(sign_in("up"), &json!({ "client_id": null })),
        ),
        (
            "a sign-in provider without a secret",
            merged(sign_in("up"), &json!({ "client_secret": null })),
        ),
        ("max age under 10 s", trust(json!({ "max_age_secs": 9 }))),
        (
            "max age over a day",
            trust(json!({ "max_age_secs": 86401 })),
        ),
        ("HMAC", trust(json!({ "allowed_algs": ["HS256"] }))),
        ("alg none", trust(json!({ "allowed_algs": ["none"] }))),
        (
            "an empty subject claim",
            trust(json!({ "subject_claim": "" })),
        ),
        (
            "a subject claim of 65 characters",
            trust(json!({ "subject_claim": "c".repeat(65) })),
        ),
        (
            "unknown user mapping",
            trust(json!({ "map_users": "auto" })),
        ),
        (
            "21 audiences",
            trust(json!({ "audiences": (0..21).map(|i| format!("a{i}")).collect::<Vec<_>>() })),
        ),
        ("an empty audience", trust(json!({ "audiences": [""] }))),
        ("an unknown rule", trust(json!({ "audience": "x" }))),
        (
            "the exchange without an organization",
            merged(sign_in("up"), &json!({ "org_admin_exchange": {} })),
        ),
        ("no admin roles", exchange(json!({ "admin_roles": [] }))),
        (
            "11 admin roles",
            exchange(
                json!({ "admin_roles": (0..11).map(|i| format!("r{i}")).collect::<Vec<_>>() }),
            ),
        ),
        ("an empty org claim", exchange(json!({ "org_claim": "" }))),
        (
            "an unknown exchange setting",
            exchange(json!({ "roles": ["admin"] })),
        ),
    ] {
        let res = app
            .admin(Method::POST, &idp_path("trust-invalid", None), Some(body))
            .await;
        let v = ok_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(v["error"], "invalid_request", "{why}: {v}");
    }
    // Well-formed, but the realm has no such organization: a conflict with its state.
    let res = app
        .admin(
            Method::POST,
            &idp_path("trust-invalid", None),
            Some(merged(
                sign_in("up"),
                &json!({ "organization": "initech", "org_admin_exchange": {} }),
            )),
        )
        .await;
    expect_status(res, StatusCode::CONFLICT).await;
    let list = app
        .admin_ok(Method::GET, &idp_path("trust-invalid", None), None)
        .await;
    assert_eq!(list, json!([]), "nothing was created");
}

#[tokio::test]
async fn a_sign_in_provider_may_accept_tokens_and_an_organizations_may_mint_its_admins_credentials()
{
    let app = spawn_app().await;
    app.create_realm("trust-sign-in", "RS256").await;
    new_org(
        &app,
        "trust-sign-in",
        json!({ "alias": "acme", "name": "Acme" }),
    )
    .await;
    let v = create(
        &app,
        "trust-sign-in",
        merged(sign_in("corp"), &json!({ "accept_tokens": {} })),
    )
    .await;
    assert_eq!(v["accept_tokens"], default_trust());
    assert_eq!(v["client_id"], "tessera");
    assert!(v["redirect_uri"].is_string() && v["backchannel_logout_uri"].is_string());
    let v = create(
        &app,
        "trust-sign-in",
        merged(
            sign_in("acme-sso"),
            &json!({ "organization": "acme", "org_admin_exchange": {} }),
        ),
    )
    .await;
    assert_eq!(
        v["org_admin_exchange"],
        json!({ "org_claim": "org_id", "role_claim": "org_role", "admin_roles": ["owner", "admin"], "domain_claim": null })
    );
    assert_eq!(v["accept_tokens"], Value::Null);
    let x = json!({ "org_claim": "tenant", "role_claim": "roles", "admin_roles": ["Owner"], "domain_claim": "hd" });
    let url = idp_path("trust-sign-in", Some("acme-sso"));
    let put = merged(
        sign_in("x"),
        &json!({ "alias": null, "client_secret": null, "organization": "acme", "org_admin_exchange": x }),
    );
    let v = app.admin_ok(Method::PUT, &url, Some(put)).await;
    assert_eq!(v["org_admin_exchange"], x);
    // A replacement without the settings turns them off.
    let put = merged(
        sign_in("x"),
        &json!({ "alias": null, "client_secret": null }),
    );
    let v = ok_json(
        put_idp(&app, "trust-sign-in", "corp", put.clone()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["accept_tokens"], Value::Null);
    // A sign-in provider turned token-only loses its secret; turned back, it needs one.
    let only = merged(token_only("x"), &json!({ "alias": null }));
    let v = ok_json(
        put_idp(&app, "trust-sign-in", "corp", only).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["client_id"], Value::Null);
    assert!(
        sealed_secret(&app, "trust-sign-in", "corp")
            .await
            .is_empty()
    );
    let res = put_idp(&app, "trust-sign-in", "corp", put.clone()).await;
    expect_status(res, StatusCode::CONFLICT).await;
    let res = put_idp(
        &app,
        "trust-sign-in",
        "corp",
        merged(put, &json!({ "client_secret": SECRET })),
    )
    .await;
    let v = ok_json(res, StatusCode::OK).await;
    assert_eq!(v["client_id"], "tessera");
    assert!(
        !sealed_secret(&app, "trust-sign-in", "corp")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn organizations_external_ids_are_shown_updated_and_unique_within_a_realm_only() {
    let app = spawn_app().await;
    for realm in ["ext-a", "ext-b"] {
        app.create_realm(realm, "RS256").await;
    }
    let body =
        |alias: &str, ext: Value| json!({ "alias": alias, "name": alias, "external_id": ext });
    // An organization's external id as an update of it sets it: 200 (and then shown by
    // GET) or the status it gets.
    let set = async |alias: &str, ext: Value| -> StatusCode {
        let url = format!("/admin/realms/ext-a/organizations/{alias}");
        let status = app
            .admin(Method::PUT, &url, Some(body(alias, ext.clone())))
            .await
            .status();
        if status == StatusCode::OK {
            let got = app.admin_ok(Method::GET, &url, None).await;
            assert_eq!(got["external_id"], ext, "{alias}");
        }
        status
    };
    let v = new_org(&app, "ext-a", body("acme", json!("tenant-1"))).await;
    assert_eq!(v["external_id"], "tenant-1");
    assert_eq!(set("acme", json!("tenant-1")).await, StatusCode::OK);
    // Another organization of the realm may not take it, neither created nor updated.
    let res = org(&app, "ext-a", body("globex", json!("tenant-1"))).await;
    expect_status(res, StatusCode::CONFLICT).await;
    let v = new_org(&app, "ext-a", body("globex", Value::Null)).await;
    assert_eq!(v["external_id"], Value::Null);
    assert_eq!(set("globex", json!("tenant-1")).await, StatusCode::CONFLICT);
    assert_eq!(set("globex", json!("tenant-2")).await, StatusCode::OK);
    // Freed by acme, it may be taken again.
    assert_eq!(set("acme", Value::Null).await, StatusCode::OK);
    assert_eq!(set("globex", json!("tenant-1")).await, StatusCode::OK);
    // Another realm's organization may have the same external id.
    let v = new_org(&app, "ext-b", body("acme", json!("tenant-1"))).await;
    assert_eq!(v["external_id"], "tenant-1");
    for bad in [json!(""), json!("a\nb"), json!("x".repeat(256))] {
        let res = org(&app, "ext-b", body("initech", bad)).await;
        expect_status(res, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn exchange_policies_name_trusted_providers_of_their_own_realm_only() {
    let app = spawn_app().await;
    for realm in ["te-trust", "te-trust-other"] {
        app.create_realm(realm, "RS256").await;
    }
    create(&app, "te-trust", token_only("ci")).await;
    create(&app, "te-trust-other", token_only("elsewhere")).await;
    let (uuid, _) = app
        .create_client(
            "te-trust",
            json!({ "client_id": "svc", "grant_types": ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"] }),
        )
        .await;
    let url = format!("/admin/realms/te-trust/clients/{uuid}/exchange-policy");
    let jwt = "urn:ietf:params:oauth:token-type:jwt";
    let id_token = "urn:ietf:params:oauth:token-type:id_token";
    let policy = json!({ "subject_token_types": [jwt, id_token], "trusted_idps": ["ci"] });
    let v = app.admin_ok(Method::PUT, &url, Some(policy.clone())).await;
    assert_eq!(v["trusted_idps"], json!(["ci"]));
    assert_eq!(v["subject_token_types"], json!([jwt, id_token]));
    assert_eq!(app.admin_ok(Method::GET, &url, None).await, v);
    let client = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/te-trust/clients/{uuid}"),
            None,
        )
        .await;
    assert_eq!(client["exchange_policy"]["trusted_idps"], json!(["ci"]));
    for (why, body) in [
        (
            "an alias that is no alias",
            json!({ "trusted_idps": ["Not/An/Alias"] }),
        ),
        (
            "jwt subjects without trusted providers",
            json!({ "subject_token_types": [jwt] }),
        ),
        (
            "ID token subjects without trusted providers",
            json!({ "subject_token_types": [id_token], "trusted_idps": [] }),
        ),
        (
            "21 providers",
            json!({ "trusted_idps": (0..21).map(|i| format!("p{i}")).collect::<Vec<_>>() }),
        ),
    ] {
        let res = app.admin(Method::PUT, &url, Some(body)).await;
        let e = ok_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["error"], "invalid_request", "{why}: {e}");
    }
    // Well-formed, but not a provider of this realm: refused, not trusted in vain (ISO-8).
    for alias in ["ghost", "elsewhere"] {
        let res = app
            .admin(
                Method::PUT,
                &url,
                Some(json!({ "subject_token_types": [jwt], "trusted_idps": [alias] })),
            )
            .await;
        let e = ok_json(res, StatusCode::CONFLICT).await;
        assert!(s(&e, "error_description").contains(alias), "{e}");
    }
    assert_eq!(app.admin_ok(Method::GET, &url, None).await, v, "unchanged");
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn cli_creates_a_token_only_issuer_updates_its_rules_and_a_policy_trusts_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci-jwks.json");
    std::fs::write(&file, jwks().to_string()).unwrap();
    let out = stdout(&app.cli(&[
        "idp",
        "create",
        "--realm",
        "demo",
        "tok",
        "--issuer",
        "https://ci.example",
        "--jwks-file",
        file.to_str().unwrap(),
        "--accept-tokens",
        "--token-audience",
        "tessera",
        "--require-jti",
        "--map-users",
        "create",
    ]));
    assert!(out.contains("token-only issuer tok"), "{out}");
    assert!(out.contains("--trusted-idp tok"), "{out}");
    let out = stdout(&app.cli(&[
        "idp",
        "update",
        "--realm",
        "demo",
        "tok",
        "--accept-tokens",
        "--max-token-age",
        "600",
        "--allowed-alg",
        "ES256",
    ]));
    assert!(out.contains("updated identity provider tok"), "{out}");
    let show = stdout(&app.cli(&["idp", "show", "--realm", "demo", "tok"]));
    for line in [
        "client id:          - (token-only issuer",
        "keys:               a JWKS document (token-only issuer)",
        "accepts tokens:     yes",
        "  audiences:        tessera",
        "  max token age:    600s",
        "  algorithms:       ES256",
        "  jti:              required, accepted once",
        "  subject claim:    sub",
        "  map users:        create",
        "org-admin exchange: no",
    ] {
        assert!(show.contains(line), "{line:?} in\n{show}");
    }
    assert!(
        !show.contains("redirect URI"),
        "nothing to register:\n{show}"
    );
    // The API sees what the CLI set: the update kept what it did not name.
    let v = app
        .admin_ok(Method::GET, &idp_path("demo", Some("tok")), None)
        .await;
    assert_eq!(
        v["accept_tokens"],
        json!({
            "audiences": ["tessera"], "max_age_secs": 600, "allowed_algs": ["ES256"],
            "require_jti": true, "subject_claim": "sub", "map_users": "create",
        })
    );
    assert_eq!(v["jwks"], jwks());
    assert_eq!(v["client_id"], Value::Null);

    let out = stdout(&app.cli(&[
        "org",
        "update",
        "--realm",
        "demo",
        "acme",
        "--external-id",
        "X",
    ]));
    assert!(out.contains("external id X"), "{out}");
    let acme = app
        .admin_ok(Method::GET, "/admin/realms/demo/organizations/acme", None)
        .await;
    assert_eq!(acme["external_id"], "X");

    let args = |alias: &'static str| {
        [
            "client",
            "exchange-policy",
            "--realm",
            "demo",
            "--client-id",
            "demo-app",
            "--trusted-idp",
            alias,
        ]
    };
    let out = stdout(&app.cli(&[&args("tok")[..], &["--subject-type", "jwt"]].concat()));
    assert!(out.contains("  subject types:   jwt\n"), "{out}");
    assert!(out.contains("  trusted issuers: tok\n"), "{out}");
    assert!(!out.contains("note:"), "{out}");
    let policy = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/clients/demo-app/exchange-policy",
            None,
        )
        .await;
    assert_eq!(policy["trusted_idps"], json!(["tok"]));
    assert_eq!(
        policy["subject_token_types"],
        json!(["urn:ietf:params:oauth:token-type:jwt"])
    );
    // A provider that does not accept tokens yet is trusted with a note; an unknown one
    // is refused.
    create(&app, "demo", sign_in("corp")).await;
    let out = stdout(&app.cli(&args("corp")));
    assert!(
        out.contains("note: identity provider corp does not accept tokens yet"),
        "{out}"
    );
    let out = app.cli(&args("ghost"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no identity provider ghost"), "{err}");
}
