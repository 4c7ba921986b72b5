//! Protocol rules exercised through the engine on a real (in-memory) database and a fixed clock.

use crate::admin::{AdminCredentials, AdminPrincipal, AdminTarget};
use crate::clients::auth::{BasicCredentials, Endpoint};
use crate::clients::metadata::ClientMetadata;
use crate::test_util::{NOW, provider};
use crate::{OAuthError, Params, Provider};
use tessera_domain::{AccessTokenFormat, RealmSettings, SigningAlg};

fn form(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    )
}

fn basic(id: &str, secret: &str) -> Option<BasicCredentials> {
    Some(BasicCredentials {
        client_id: id.into(),
        secret: secret.into(),
    })
}

fn new_client(id: &str, public: bool, format: AccessTokenFormat) -> ClientMetadata {
    ClientMetadata {
        public,
        grant_types: Some(vec![
            if public {
                "authorization_code"
            } else {
                "client_credentials"
            }
            .into(),
        ]),
        scopes: Some(vec!["api:read".into()]),
        access_token_format: Some(format.as_str().into()),
        ..ClientMetadata::new(id)
    }
}

/// A realm `r` with confidential `svc` and public `spa`; returns svc's secret.
async fn setup(p: &Provider, alg: SigningAlg) -> String {
    p.create_realm(
        &AdminPrincipal::operator(),
        "r",
        RealmSettings {
            access_token_alg: alg,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    p.create_client(
        &AdminPrincipal::operator(),
        "r",
        new_client("spa", true, AccessTokenFormat::Jwt),
        None,
    )
    .await
    .unwrap();
    p.create_client(
        &AdminPrincipal::operator(),
        "r",
        new_client("svc", false, AccessTokenFormat::Jwt),
        None,
    )
    .await
    .unwrap()
    .1
    .unwrap()
}

async fn cc(p: &Provider, secret: &str) -> Result<String, OAuthError> {
    Ok(p.token(
        "r",
        basic("svc", secret),
        &form(&[("grant_type", "client_credentials")]),
    )
    .await?
    .access_token)
}

#[tokio::test]
async fn client_auth_refuses_two_methods_mismatched_ids_and_secrets_on_public_clients() {
    let (p, _) = provider().await;
    let secret = setup(&p, SigningAlg::EdDsa).await;
    let ctx = p.realm("r").await.unwrap();
    let auth = |b, f: &[(&str, &str)], a| {
        let params = form(f);
        let (p, ctx) = (&p, ctx.clone());
        async move {
            p.authenticate_client(&ctx, b, &params, a)
                .await
                .map(|c| c.client_id.to_string())
        }
    };
    assert_eq!(
        auth(basic("svc", &secret), &[], Endpoint::Introspection)
            .await
            .unwrap(),
        "svc"
    );
    // svc is client_secret_basic: its secret in the body is the wrong method.
    let post = auth(
        None,
        &[("client_id", "svc"), ("client_secret", &secret)],
        Endpoint::Introspection,
    )
    .await
    .unwrap_err();
    assert_eq!(post.code(), "invalid_client");
    assert!(post.to_string().contains("client_secret_basic"), "{post}");
    let both = auth(
        basic("svc", &secret),
        &[("client_secret", &secret)],
        Endpoint::Token,
    )
    .await
    .unwrap_err();
    assert_eq!(both.code(), "invalid_request");
    let mismatch = auth(
        basic("svc", &secret),
        &[("client_id", "spa")],
        Endpoint::Token,
    )
    .await
    .unwrap_err();
    assert_eq!(mismatch.code(), "invalid_request");
    assert_eq!(
        auth(None, &[("client_id", "spa")], Endpoint::Token)
            .await
            .unwrap(),
        "spa"
    );
    assert_eq!(
        auth(None, &[("client_id", "spa")], Endpoint::Introspection)
            .await
            .unwrap_err()
            .code(),
        "invalid_client"
    );
    assert_eq!(
        auth(basic("spa", "x"), &[], Endpoint::Token)
            .await
            .unwrap_err()
            .code(),
        "invalid_client"
    );
    assert_eq!(
        auth(None, &[("client_id", "svc")], Endpoint::Token)
            .await
            .unwrap_err()
            .code(),
        "invalid_client"
    );
    assert_eq!(
        auth(None, &[], Endpoint::Token).await.unwrap_err().code(),
        "invalid_client"
    );
}

#[tokio::test]
async fn access_tokens_expire_by_the_injected_clock() {
    let (p, clock) = provider().await;
    let secret = setup(&p, SigningAlg::Es256).await;
    let token = cc(&p, &secret).await.unwrap();
    let ctx = p.realm("r").await.unwrap();
    let claims = p.resolve_access_token(&ctx, &token).await.unwrap().unwrap();
    assert_eq!((claims.iat, claims.exp), (NOW, NOW + 300));
    clock.advance(299);
    assert!(
        p.resolve_access_token(&ctx, &token)
            .await
            .unwrap()
            .is_some()
    );
    clock.advance(1);
    assert!(
        p.resolve_access_token(&ctx, &token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn opaque_tokens_are_stored_hashed_and_resolve_until_revoked() {
    let (p, _) = provider().await;
    setup(&p, SigningAlg::Rs256).await;
    let (_, secret) = p
        .create_client(
            &AdminPrincipal::operator(),
            "r",
            new_client("opq", false, AccessTokenFormat::Opaque),
            None,
        )
        .await
        .unwrap();
    let secret = secret.unwrap();
    let res = p
        .token(
            "r",
            basic("opq", &secret),
            &form(&[("grant_type", "client_credentials")]),
        )
        .await
        .unwrap();
    assert_eq!(res.access_token.len(), 43);
    let ctx = p.realm("r").await.unwrap();
    let hash = crate::crypto::sha256(res.access_token.as_bytes());
    let stored = p
        .store()
        .find_opaque_token(ctx.realm.id, &hash)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.token_hash, res.access_token.as_bytes());
    assert_eq!(
        p.resolve_access_token(&ctx, &res.access_token)
            .await
            .unwrap()
            .unwrap()
            .client_id,
        "opq"
    );
    p.revoke(
        "r",
        basic("opq", &secret),
        &form(&[("token", &res.access_token)]),
    )
    .await
    .unwrap();
    assert!(
        p.resolve_access_token(&ctx, &res.access_token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn admin_api_requires_a_master_token_with_the_admin_role_and_master_audience() {
    let (p, _) = provider().await;
    let seeded = p.bootstrap().await.unwrap();
    assert_eq!(seeded.len(), 5, "two realms, three clients, two users");
    assert!(
        p.bootstrap().await.unwrap().is_empty(),
        "seeding happens once"
    );
    let secret = |realm: &str| {
        seeded
            .iter()
            .find(|s| s.realm == realm)
            .unwrap()
            .secret
            .clone()
    };
    let admin = p
        .token(
            "master",
            basic("tessera-admin", &secret("master")),
            &form(&[("grant_type", "client_credentials")]),
        )
        .await
        .unwrap();
    assert_eq!(
        p.resolve_admin(
            AdminCredentials::Bearer(&admin.access_token),
            AdminTarget::default()
        )
        .await
        .unwrap()
        .subject()
        .1,
        "tessera-admin"
    );

    let demo = p
        .token(
            "demo",
            basic("demo-service", &secret("demo")),
            &form(&[("grant_type", "client_credentials")]),
        )
        .await
        .unwrap();
    assert_eq!(
        p.resolve_admin(
            AdminCredentials::Bearer(&demo.access_token),
            AdminTarget::default()
        )
        .await
        .unwrap_err()
        .code(),
        "invalid_token"
    );

    let (_, plain) = p
        .create_client(
            &AdminPrincipal::operator(),
            "master",
            new_client("reporter", false, AccessTokenFormat::Jwt),
            None,
        )
        .await
        .unwrap();
    let t = p
        .token(
            "master",
            basic("reporter", &plain.unwrap()),
            &form(&[("grant_type", "client_credentials")]),
        )
        .await
        .unwrap();
    assert_eq!(
        p.resolve_admin(
            AdminCredentials::Bearer(&t.access_token),
            AdminTarget::default()
        )
        .await
        .unwrap_err()
        .code(),
        "insufficient_scope"
    );
    assert_eq!(
        p.resolve_admin(AdminCredentials::Bearer("garbage"), AdminTarget::default())
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn deleting_a_realm_invalidates_its_cached_context_and_tokens_iso_13() {
    let (p, _) = provider().await;
    p.bootstrap().await.unwrap();
    let secret = setup(&p, SigningAlg::EdDsa).await;
    let token = cc(&p, &secret).await.unwrap();
    p.delete_realm(&AdminPrincipal::operator(), "r")
        .await
        .unwrap();
    assert_eq!(p.realm("r").await.err().unwrap().code(), "not_found");
    // Re-created under the same name: new keys, the old token means nothing.
    let secret2 = setup(&p, SigningAlg::EdDsa).await;
    assert_ne!(secret, secret2);
    let ctx = p.realm("r").await.unwrap();
    assert!(
        p.resolve_access_token(&ctx, &token)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        p.delete_realm(&AdminPrincipal::operator(), "master")
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
}

#[tokio::test]
async fn realm_settings_and_client_secrets_are_validated() {
    let (p, _) = provider().await;
    let bad = RealmSettings {
        access_token_lifetime_secs: 5,
        ..Default::default()
    };
    assert_eq!(
        p.create_realm(&AdminPrincipal::operator(), "r", bad)
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    assert_eq!(
        p.create_realm(&AdminPrincipal::operator(), "a/b", RealmSettings::default())
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    setup(&p, SigningAlg::Rs256).await;
    assert_eq!(
        p.create_realm(&AdminPrincipal::operator(), "r", RealmSettings::default())
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
    let short = p
        .create_client(
            &AdminPrincipal::operator(),
            "r",
            new_client("x", false, AccessTokenFormat::Jwt),
            Some("short".into()),
        )
        .await;
    assert_eq!(short.unwrap_err().code(), "invalid_request");
    let mut public_cc = new_client("y", true, AccessTokenFormat::Jwt);
    public_cc.grant_types = Some(vec!["client_credentials".into()]);
    assert_eq!(
        p.create_client(&AdminPrincipal::operator(), "r", public_cc, None)
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    let dup = p
        .create_client(
            &AdminPrincipal::operator(),
            "r",
            new_client("svc", false, AccessTokenFormat::Jwt),
            None,
        )
        .await;
    assert_eq!(dup.unwrap_err().code(), "conflict");
}

/// Drives the browser flow for the seeded `demo` user and `demo-app`; returns the token response.
async fn code_flow_tokens(
    p: &Provider,
    seeded: &[crate::admin::seed::Seeded],
) -> crate::token::TokenResponse {
    use crate::interaction::code_flow::{Browser, Step};
    let secret = |n: &str| seeded.iter().find(|s| s.name == n).unwrap().secret.clone();
    let b = Browser {
        session_token: None,
        csrf: "csrf-1",
        ip: None,
    };
    let params = form(&[
        ("client_id", "demo-app"),
        ("redirect_uri", "http://127.0.0.1:9999/cb"),
        ("response_type", "code"),
        ("scope", "openid email offline_access"),
    ]);
    let Step::Login { sealed, .. } = p.authorize("demo", &params, &b).await.unwrap() else {
        panic!("expected the login page");
    };
    let (step, _) = p
        .login("demo", &sealed, "demo", &secret("demo"), &b)
        .await
        .unwrap();
    let Step::Respond(resp) = step else {
        panic!("expected a code")
    };
    let code = resp
        .params
        .iter()
        .find(|(k, _)| *k == "code")
        .unwrap()
        .1
        .clone();
    let params = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "http://127.0.0.1:9999/cb"),
    ]);
    p.token("demo", basic("demo-app", &secret("demo-app")), &params)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refresh_costs_three_sql_statements() {
    let (p, _) = provider().await;
    let seeded = p.bootstrap().await.unwrap();
    let tokens = code_flow_tokens(&p, &seeded).await;
    let secret = seeded
        .iter()
        .find(|s| s.name == "demo-app")
        .unwrap()
        .secret
        .clone();
    let rt = tokens.refresh_token.unwrap();
    let before = p.store().statement_count();
    let params = form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
    let refreshed = p
        .token("demo", basic("demo-app", &secret), &params)
        .await
        .unwrap();
    // Rotate (UPDATE … RETURNING), grant + user (one SELECT with a join), new token (INSERT).
    assert_eq!(p.store().statement_count() - before, 3);
    assert!(refreshed.id_token.is_some() && refreshed.refresh_token.is_some());
}

#[tokio::test]
async fn issuing_a_client_credentials_jwt_executes_no_sql_once_cached() {
    let (p, _) = provider().await;
    let secret = setup(&p, SigningAlg::Rs256).await;
    cc(&p, &secret).await.unwrap();
    let before = p.store().statement_count();
    cc(&p, &secret).await.unwrap();
    assert_eq!(p.store().statement_count(), before);
}
