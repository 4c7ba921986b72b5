//! Token exchange (RFC 8693) over HTTP: service-to-service exchange, impersonation,
//! delegation, the per-client policy, lineage revocation, organizations, the dry run and
//! the exchange log. TE-1 … TE-18, ISO-1, ISO-13 (SECURITY-CASES.md §2.4, §3.7).

use crate::helpers::{
    Agent, PW, REDIRECT, Rp, TestApp, acme_administered_by, add_user, assert_no_store,
    assert_oauth_error, claims, fast_realm, jwt_parts, ok_json, s, spawn_app,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const RT: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const IMP: &str = "urn:tessera:params:oauth:token-type:impersonation_token";

struct Fx {
    realm: String,
    app_secret: String,
    svc_secret: String,
    svc2_secret: String,
    bob: String,
    alice: String,
    app_uuid: String,
}

async fn set_policy(app: &TestApp, realm: &str, uuid: &str, policy: Value) {
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{realm}/clients/{uuid}/exchange-policy"),
        Some(policy),
    )
    .await;
}

/// A realm with: `app` (browser + exchange: audiences api, delegation, impersonation of
/// anyone, refresh tokens), `api` (a target), `svc` and `svc2` (services that act as
/// delegates), users bob and alice (alice administers organization acme).
async fn setup(app: &TestApp, realm: &str) -> Fx {
    fast_realm(app, realm).await;
    let grants = json!([
        "authorization_code",
        "refresh_token",
        "client_credentials",
        TE
    ]);
    let (app_uuid, app_secret) = app
        .create_client(
            realm,
            json!({
                "client_id": "app",
                "grant_types": grants,
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "profile", "api:read", "api:write", "organization"],
            }),
        )
        .await;
    app.create_client(realm, json!({ "client_id": "api", "scopes": ["api:read"] }))
        .await;
    let (_, svc_secret) = app
        .create_client(
            realm,
            json!({ "client_id": "svc", "grant_types": ["client_credentials", TE], "scopes": ["api:read"] }),
        )
        .await;
    let (_, svc2_secret) = app
        .create_client(
            realm,
            json!({ "client_id": "svc2", "grant_types": ["client_credentials"], "scopes": ["api:read"] }),
        )
        .await;
    set_policy(
        app,
        realm,
        &app_uuid,
        json!({
            "subject_token_types": [AT, RT, IMP],
            "audiences": ["api", "https://api.example/v1"],
            "delegate": true,
            "impersonate": "all_users",
            "refresh_tokens": true,
        }),
    )
    .await;
    let bob = add_user(app, realm, "bob", PW).await;
    let alice = add_user(app, realm, "alice", PW).await;
    acme_administered_by(app, realm, &alice).await;
    Fx {
        realm: realm.into(),
        app_secret: app_secret.unwrap(),
        svc_secret: svc_secret.unwrap(),
        svc2_secret: svc2_secret.unwrap(),
        bob,
        alice,
        app_uuid,
    }
}

impl Fx {
    /// `user` signs in to `app`: the token response.
    async fn login(&self, app: &TestApp, user: &str, scope: &str) -> Value {
        let mut rp = Rp::new(&self.realm, "app", Some(&self.app_secret), REDIRECT);
        rp.scope = scope.into();
        let mut agent = Agent::default();
        let cb = rp.login(app, &mut agent, user, PW, &[]).await;
        rp.tokens(app, &cb["code"]).await
    }

    async fn bob_token(&self, app: &TestApp) -> String {
        s(
            &self.login(app, "bob", "openid api:read api:write").await,
            "access_token",
        )
    }

    async fn exchange_as(
        &self,
        app: &TestApp,
        client: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> Response {
        let mut f = vec![("grant_type", TE)];
        f.extend_from_slice(form);
        app.post_basic(&self.realm, "token", client, secret, &f)
            .await
    }

    async fn exchange(&self, app: &TestApp, form: &[(&str, &str)]) -> Response {
        self.exchange_as(app, "app", &self.app_secret, form).await
    }

    async fn exchanged(&self, app: &TestApp, form: &[(&str, &str)]) -> Value {
        let res = self.exchange(app, form).await;
        let status = res.status();
        assert_no_store(&res);
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn svc_token(&self, app: &TestApp, which: &str) -> String {
        let secret = if which == "svc" {
            &self.svc_secret
        } else {
            &self.svc2_secret
        };
        s(
            &app.client_credentials(&self.realm, which, secret).await,
            "access_token",
        )
    }

    /// `app`'s own client_credentials token: what it presents to act itself.
    async fn app_token(&self, app: &TestApp) -> String {
        s(
            &app.client_credentials(&self.realm, "app", &self.app_secret)
                .await,
            "access_token",
        )
    }

    async fn introspect(&self, app: &TestApp, token: &str) -> Value {
        app.introspect(&self.realm, "app", &self.app_secret, token)
            .await
    }

    async fn impersonation_token(&self, app: &TestApp, user: &str, client: &str) -> Response {
        app.admin(
            Method::POST,
            &format!(
                "/admin/realms/{}/users/{user}/impersonation-tokens",
                self.realm
            ),
            Some(json!({ "client_id": client, "reason": "support ticket 42" })),
        )
        .await
    }
}

#[tokio::test]
async fn a_service_exchanges_a_users_token_for_another_audience_and_the_subject_stays_usable() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-happy").await;
    let subject = fx.bob_token(&app).await;
    let sub_exp = claims(&subject)["exp"].as_i64().unwrap();
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("audience", "api"),
            ],
        )
        .await;
    assert_eq!(r["issued_token_type"], AT);
    assert_eq!(r["token_type"], "Bearer");
    let c = claims(&s(&r, "access_token"));
    assert_eq!(c["sub"], json!(fx.bob));
    assert_eq!(c["aud"], "api");
    assert_eq!(c["client_id"], "app");
    // Never broader than the subject, and only what the target takes (api: api:read).
    assert_eq!(c["scope"], "api:read");
    assert_eq!(r["scope"], "api:read");
    assert!(c["exp"].as_i64().unwrap() <= sub_exp, "TE-15");
    assert!(c.get("act").is_none());
    let i = fx.introspect(&app, &s(&r, "access_token")).await;
    assert_eq!(i["active"], json!(true));
    // Reusable: exchanging does not consume the subject token.
    fx.exchanged(
        &app,
        &[
            ("subject_token", &subject),
            ("subject_token_type", AT),
            ("audience", "api"),
        ],
    )
    .await;
    assert_eq!(fx.introspect(&app, &subject).await["active"], json!(true));
    // Several audiences and a resource from the policy.
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("audience", "api"),
                ("audience", "app"),
                ("resource", "https://api.example/v1"),
                ("scope", "api:read"),
            ],
        )
        .await;
    assert_eq!(
        claims(&s(&r, "access_token"))["aud"],
        json!(["api", "app", "https://api.example/v1"])
    );
}

#[tokio::test]
async fn te_1_te_2_te_3_malformed_requests_are_invalid_request() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-1").await;
    let subject = fx.bob_token(&app).await;
    let st = subject.as_str();
    for form in [
        vec![("subject_token_type", AT)],
        vec![("subject_token", st)],
        vec![("subject_token", ""), ("subject_token_type", AT)],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("actor_token", st),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("actor_token_type", AT),
        ],
        vec![
            ("subject_token", st),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:saml2",
            ),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", "access_token"),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("requested_token_type", "bogus"),
        ],
    ] {
        let res = fx.exchange(&app, &form).await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn te_4_te_13_te_14_iso_1_unacceptable_subject_tokens_are_refused_never_dropped() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-4").await;
    let other = setup(&app, "te-4-other").await;
    let login = fx.login(&app, "bob", "openid api:read").await;
    let at = s(&login, "access_token");
    let (header, _) = jwt_parts(&at);
    let parts: Vec<&str> = at.split('.').collect();
    let none_header = {
        use base64::Engine;
        let mut h = header.clone();
        h["alg"] = json!("none");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.to_string())
    };
    let alg_none = format!("{none_header}.{}.", parts[1]);
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    let tampered = format!("{}.{}.{flipped}{}", parts[0], parts[1], &parts[2][1..]);
    let other_realm = other.bob_token(&app).await;
    let bad = [
        alg_none,
        tampered,
        s(&login, "refresh_token"),
        s(&login, "id_token"),
        other_realm,
        "garbage".into(),
    ];
    for t in &bad {
        let res = fx
            .exchange(&app, &[("subject_token", t), ("subject_token_type", AT)])
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Revoked, then expired.
    let revoked = fx.bob_token(&app).await;
    let res = app
        .post_basic(
            &fx.realm,
            "revoke",
            "app",
            &fx.app_secret,
            &[("token", &revoked)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = fx
        .exchange(
            &app,
            &[("subject_token", &revoked), ("subject_token_type", AT)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let fresh = fx.bob_token(&app).await;
    app.clock.advance(3600);
    let res = fx
        .exchange(
            &app,
            &[("subject_token", &fresh), ("subject_token_type", AT)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn te_5_te_6_targets_and_scopes_outside_the_policy_are_refused() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-5").await;
    let subject = fx.bob_token(&app).await;
    let st = subject.as_str();
    for form in [
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("audience", "svc"),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("audience", "nope"),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("resource", "https://evil.example/"),
        ],
        vec![
            ("subject_token", st),
            ("subject_token_type", AT),
            ("resource", "not a uri"),
        ],
    ] {
        let res = fx.exchange(&app, &form).await;
        assert_oauth_error(res, 400, "invalid_target").await;
    }
    for scope in ["api:write", "api:read admin", "openid"] {
        let res = fx
            .exchange(
                &app,
                &[
                    ("subject_token", st),
                    ("subject_token_type", AT),
                    ("audience", "api"),
                    ("scope", scope),
                ],
            )
            .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }
    // Without a target the token is for the client itself, within the subject's scope.
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", st),
                ("subject_token_type", AT),
                ("scope", "api:write"),
            ],
        )
        .await;
    assert_eq!(claims(&s(&r, "access_token"))["aud"], "app");
}

#[tokio::test]
async fn te_7_te_8_te_9_only_authorized_confidential_holders_may_exchange() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-7").await;
    // svc's own token, presented by app: not issued to or for app.
    let svc = fx.svc_token(&app, "svc").await;
    let res = fx
        .exchange(&app, &[("subject_token", &svc), ("subject_token_type", AT)])
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // svc2 lacks the grant; svc has it but no policy.
    let bob = fx.bob_token(&app).await;
    let res = fx
        .exchange_as(
            &app,
            "svc2",
            &fx.svc2_secret,
            &[("subject_token", &bob), ("subject_token_type", AT)],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    let res = fx
        .exchange_as(
            &app,
            "svc",
            &fx.svc_secret,
            &[("subject_token", &svc), ("subject_token_type", AT)],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    // Unauthenticated: no token.
    let res = app
        .http
        .post(app.endpoint(&fx.realm, "token"))
        .form(&[
            ("grant_type", TE),
            ("client_id", "app"),
            ("subject_token", &bob),
            ("subject_token_type", AT),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    // A public client with the grant enabled still may not exchange.
    app.create_client(
        &fx.realm,
        json!({ "client_id": "spa", "public": true, "grant_types": ["authorization_code", TE], "redirect_uris": [REDIRECT] }),
    )
    .await;
    let res = app
        .http
        .post(app.endpoint(&fx.realm, "token"))
        .form(&[
            ("grant_type", TE),
            ("client_id", "spa"),
            ("subject_token", &bob),
            ("subject_token_type", AT),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn te_10_impersonation_gives_the_user_as_sub_and_the_admin_as_act_once() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-10").await;
    let res = fx.impersonation_token(&app, &fx.bob, "app").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_no_store(&res);
    let t = s(&res.json().await.unwrap(), "token");
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &t),
                ("subject_token_type", IMP),
                ("audience", "api"),
            ],
        )
        .await;
    let c = claims(&s(&r, "access_token"));
    assert_eq!(c["sub"], json!(fx.bob));
    assert_eq!(c["act"]["client_id"], "tessera-admin");
    assert!(c["act"]["sub"].is_string());
    let i = fx.introspect(&app, &s(&r, "access_token")).await;
    assert_eq!(
        i["act"]["client_id"], "tessera-admin",
        "introspection keeps act"
    );
    // Single use.
    let res = fx
        .exchange(&app, &[("subject_token", &t), ("subject_token_type", IMP)])
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Administrators are never impersonated; clients without the right get nothing.
    let res = fx.impersonation_token(&app, &fx.alice, "app").await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = fx.impersonation_token(&app, &fx.bob, "svc").await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Redeemable only by the client it names.
    let t = s(
        &fx.impersonation_token(&app, &fx.bob, "app")
            .await
            .json()
            .await
            .unwrap(),
        "token",
    );
    set_policy(
        &app,
        &fx.realm,
        &svc_uuid(&app, &fx).await,
        json!({ "subject_token_types": [IMP], "impersonate": "all_users" }),
    )
    .await;
    let res = fx
        .exchange_as(
            &app,
            "svc",
            &fx.svc_secret,
            &[("subject_token", &t), ("subject_token_type", IMP)],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // A user token cannot mint impersonation tokens.
    let user = fx.bob_token(&app).await;
    let res = app
        .http
        .post(app.url(&format!(
            "/admin/realms/{}/users/{}/impersonation-tokens",
            fx.realm, fx.bob
        )))
        .bearer_auth(user)
        .json(&json!({ "client_id": "app", "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "not an admin credential"
    );
}

async fn svc_uuid(app: &TestApp, fx: &Fx) -> String {
    let v = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{}/clients", fx.realm),
            None,
        )
        .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "svc")
        .map(|c| s(c, "id"))
        .unwrap()
}

#[tokio::test]
async fn one_impersonation_token_redeemed_concurrently_succeeds_exactly_once() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-race").await;
    let t = s(
        &fx.impersonation_token(&app, &fx.bob, "app")
            .await
            .json()
            .await
            .unwrap(),
        "token",
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, secret, t) = (
                app.http.clone(),
                app.endpoint(&fx.realm, "token"),
                fx.app_secret.clone(),
                t.clone(),
            );
            tokio::spawn(async move {
                http.post(url)
                    .basic_auth("app", Some(secret))
                    .form(&[
                        ("grant_type", TE),
                        ("subject_token", &t),
                        ("subject_token_type", IMP),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
        ok += usize::from(status == StatusCode::OK);
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn te_12_delegation_sets_act_and_a_chain_nests_the_previous_actor_up_to_the_realm_depth() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-12").await;
    // app may address svc, and svc may delegate in turn.
    set_policy(
        &app,
        &fx.realm,
        &fx.app_uuid,
        json!({ "subject_token_types": [AT], "audiences": ["api", "svc"], "delegate": true }),
    )
    .await;
    let svc_uuid = svc_uuid(&app, &fx).await;
    set_policy(
        &app,
        &fx.realm,
        &svc_uuid,
        json!({ "subject_token_types": [AT], "audiences": ["api"], "delegate": true }),
    )
    .await;
    let subject = fx.bob_token(&app).await;
    let app_own = fx.app_token(&app).await;
    // app acts for bob, toward svc: the actor is app itself.
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("actor_token", &app_own),
                ("actor_token_type", AT),
                ("audience", "svc"),
            ],
        )
        .await;
    let first = s(&r, "access_token");
    let c = claims(&first);
    assert_eq!(c["sub"], json!(fx.bob));
    assert_eq!(c["act"]["client_id"], "app");
    assert!(c["act"].get("act").is_none());
    // svc holds that token and acts next, with its own token.
    let svc = fx.svc_token(&app, "svc").await;
    let as_svc = |form: Vec<(&'static str, String)>| {
        let fx = &fx;
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            fx.exchange_as(app, "svc", &fx.svc_secret, &form).await
        }
    };
    let res = as_svc(vec![
        ("subject_token", first.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", svc.clone()),
        ("actor_token_type", AT.into()),
    ])
    .await;
    let second = s(&ok_json(res, StatusCode::OK).await, "access_token");
    let c = claims(&second);
    assert_eq!(c["sub"], json!(fx.bob));
    assert_eq!(
        c["act"]["client_id"], "svc",
        "the newest actor is outermost"
    );
    assert_eq!(c["act"]["act"]["client_id"], "app");
    // A token that already acts for someone cannot be an actor: it would hide who acts.
    let res = as_svc(vec![
        ("subject_token", first.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", first.clone()),
        ("actor_token_type", AT.into()),
    ])
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Exchanging without an actor keeps the chain.
    let res = as_svc(vec![
        ("subject_token", second.clone()),
        ("subject_token_type", AT.into()),
    ])
    .await;
    let kept = s(&ok_json(res, StatusCode::OK).await, "access_token");
    assert_eq!(claims(&kept)["act"]["act"]["client_id"], "app");
    // The realm allows chains of two here.
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{}", fx.realm),
        Some(json!({ "max_delegation_depth": 2 })),
    )
    .await;
    let res = as_svc(vec![
        ("subject_token", second.clone()),
        ("subject_token_type", AT.into()),
        ("actor_token", svc.clone()),
        ("actor_token_type", AT.into()),
    ])
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // A bad actor token is an error, not a plain exchange.
    let res = fx
        .exchange(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("actor_token", "bogus"),
                ("actor_token_type", AT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // A bystander's token cannot make it the actor (SEC-5).
    let svc2 = fx.svc_token(&app, "svc2").await;
    let res = fx
        .exchange(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("actor_token", &svc2),
                ("actor_token_type", AT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn te_11_an_actor_not_named_in_may_act_is_refused() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-11").await;
    set_policy(
        &app,
        &fx.realm,
        &fx.app_uuid,
        json!({ "subject_token_types": [AT], "delegate": true, "may_act": "svc" }),
    )
    .await;
    let svc_uuid = svc_uuid(&app, &fx).await;
    set_policy(
        &app,
        &fx.realm,
        &svc_uuid,
        json!({ "subject_token_types": [AT], "delegate": true }),
    )
    .await;
    let subject = fx.bob_token(&app).await;
    assert_eq!(claims(&subject)["may_act"]["client_id"], "svc");
    let i = fx.introspect(&app, &subject).await;
    assert_eq!(i["may_act"]["client_id"], "svc");
    // app, holding the token, may not name itself the actor: may_act says svc.
    let app_own = fx.app_token(&app).await;
    let res = fx
        .exchange(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("actor_token", &app_own),
                ("actor_token_type", AT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // svc, named in may_act, acts for bob with its own token.
    let svc = fx.svc_token(&app, "svc").await;
    let form = [
        ("subject_token", subject.as_str()),
        ("subject_token_type", AT),
        ("actor_token", svc.as_str()),
        ("actor_token_type", AT),
    ];
    let res = fx.exchange_as(&app, "svc", &fx.svc_secret, &form).await;
    let r = ok_json(res, StatusCode::OK).await;
    assert_eq!(claims(&s(&r, "access_token"))["act"]["client_id"], "svc");
    // Delegation off: the same request is refused.
    set_policy(
        &app,
        &fx.realm,
        &svc_uuid,
        json!({ "subject_token_types": [AT] }),
    )
    .await;
    let res = fx.exchange_as(&app, "svc", &fx.svc_secret, &form).await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn te_15_te_16_te_17_lifetime_token_types_and_response_shape() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-15").await;
    let login = fx.login(&app, "bob", "openid api:read").await;
    let subject = s(&login, "access_token");
    set_policy(
        &app,
        &fx.realm,
        &fx.app_uuid,
        json!({ "subject_token_types": [AT, RT], "max_lifetime_secs": 60 }),
    )
    .await;
    let r = fx
        .exchanged(
            &app,
            &[("subject_token", &subject), ("subject_token_type", AT)],
        )
        .await;
    assert!(r["expires_in"].as_i64().unwrap() <= 60);
    let c = claims(&s(&r, "access_token"));
    assert!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap() <= 60);
    // TE-16: refresh tokens only where the policy allows.
    let res = fx
        .exchange(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("requested_token_type", RT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // TE-17: a JWT that is not an OAuth access token response: token_type N_A.
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:jwt",
                ),
            ],
        )
        .await;
    assert_eq!(
        r["issued_token_type"],
        "urn:ietf:params:oauth:token-type:jwt"
    );
    assert_eq!(r["token_type"], "N_A");
    // A refresh token as subject (allowed here) is read, not spent.
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &s(&login, "refresh_token")),
                ("subject_token_type", RT),
            ],
        )
        .await;
    assert_eq!(claims(&s(&r, "access_token"))["sub"], json!(fx.bob));
    set_policy(
        &app,
        &fx.realm,
        &fx.app_uuid,
        json!({ "subject_token_types": [AT], "refresh_tokens": true }),
    )
    .await;
    let res = fx
        .exchange(
            &app,
            &[
                ("subject_token", &s(&login, "refresh_token")),
                ("subject_token_type", RT),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &subject),
                ("subject_token_type", AT),
                ("requested_token_type", RT),
            ],
        )
        .await;
    assert_eq!(r["issued_token_type"], RT);
    assert_eq!(r["token_type"], "N_A");
    let res = app
        .post_basic(
            &fx.realm,
            "token",
            "app",
            &fx.app_secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&r, "access_token")),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn te_18_revoking_or_logging_out_deactivates_every_token_exchanged_from_it() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-18").await;
    let subject = fx.bob_token(&app).await;
    let child = s(
        &fx.exchanged(
            &app,
            &[("subject_token", &subject), ("subject_token_type", AT)],
        )
        .await,
        "access_token",
    );
    let grandchild = s(
        &fx.exchanged(
            &app,
            &[
                ("subject_token", &child),
                ("subject_token_type", AT),
                ("audience", "api"),
            ],
        )
        .await,
        "access_token",
    );
    assert_eq!(
        fx.introspect(&app, &grandchild).await["active"],
        json!(true)
    );
    let res = app
        .post_basic(
            &fx.realm,
            "revoke",
            "app",
            &fx.app_secret,
            &[("token", &child)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        fx.introspect(&app, &child).await,
        json!({ "active": false })
    );
    assert_eq!(
        fx.introspect(&app, &grandchild).await,
        json!({ "active": false })
    );
    assert_eq!(
        fx.introspect(&app, &subject).await["active"],
        json!(true),
        "the parent stays"
    );
    // Ending the user's grant (refresh-token revocation) ends what was exchanged from it.
    let login = fx.login(&app, "bob", "openid api:read").await;
    let child = s(
        &fx.exchanged(
            &app,
            &[
                ("subject_token", &s(&login, "access_token")),
                ("subject_token_type", AT),
            ],
        )
        .await,
        "access_token",
    );
    let res = app
        .post_basic(
            &fx.realm,
            "revoke",
            "app",
            &fx.app_secret,
            &[("token", &s(&login, "refresh_token"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        fx.introspect(&app, &child).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn iso_13_deleting_the_realm_leaves_no_exchanged_token_alive() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-iso13").await;
    let keep = setup(&app, "te-iso13-keep").await;
    let subject = fx.bob_token(&app).await;
    let child = s(
        &fx.exchanged(
            &app,
            &[("subject_token", &subject), ("subject_token_type", AT)],
        )
        .await,
        "access_token",
    );
    let kept = keep.bob_token(&app).await;
    let res = app
        .admin(Method::DELETE, &format!("/admin/realms/{}", fx.realm), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post_basic(
            &fx.realm,
            "token/introspect",
            "app",
            &fx.app_secret,
            &[("token", &child)],
        )
        .await;
    assert_ne!(res.status(), StatusCode::OK);
    // Presented at another realm it is foreign anyway.
    assert_eq!(
        keep.introspect(&app, &child).await,
        json!({ "active": false })
    );
    assert_eq!(keep.introspect(&app, &kept).await["active"], json!(true));
}

#[tokio::test]
async fn an_exchange_into_an_organization_needs_the_subject_to_be_a_member() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-org").await;
    let alice = s(
        &fx.login(&app, "alice", "openid api:read organization")
            .await,
        "access_token",
    );
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &alice),
                ("subject_token_type", AT),
                ("organization", "acme"),
            ],
        )
        .await;
    let c = claims(&s(&r, "access_token"));
    assert_eq!(c["organization"]["acme"]["roles"], json!(["admin"]));
    assert!(c["org_id"].is_string());
    let bob = fx.bob_token(&app).await;
    let res = fx
        .exchange(
            &app,
            &[
                ("subject_token", &bob),
                ("subject_token_type", AT),
                ("organization", "acme"),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "access_denied").await;
}

#[tokio::test]
async fn the_dry_run_explains_without_issuing_or_consuming_and_the_log_records_exchanges() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-eval").await;
    let imp = s(
        &fx.impersonation_token(&app, &fx.bob, "app")
            .await
            .json()
            .await
            .unwrap(),
        "token",
    );
    let eval = |body: Value| {
        let app = &app;
        let realm = fx.realm.clone();
        async move {
            app.admin_ok(
                Method::POST,
                &format!("/admin/realms/{realm}/token-exchange/evaluate"),
                Some(body),
            )
            .await
        }
    };
    let v = eval(json!({ "client_id": "app", "subject_token": imp, "subject_token_type": IMP, "audience": "api" })).await;
    assert_eq!(v["allowed"], json!(true), "{v}");
    assert_eq!(v["claims"]["sub"], json!(fx.bob));
    assert_eq!(v["claims"]["act"]["client_id"], "tessera-admin");
    assert!(!v["reasons"].as_array().unwrap().is_empty());
    let v = eval(json!({ "client_id": "app", "subject_token": imp, "subject_token_type": IMP, "audience": "svc" })).await;
    assert_eq!(v["allowed"], json!(false));
    assert_eq!(v["error"], "invalid_target");
    // Nothing was consumed: the real exchange still works.
    let r = fx
        .exchanged(
            &app,
            &[
                ("subject_token", &imp),
                ("subject_token_type", IMP),
                ("audience", "api"),
            ],
        )
        .await;
    assert_eq!(claims(&s(&r, "access_token"))["sub"], json!(fx.bob));
    let svc = fx.app_token(&app).await;
    let bob = fx.bob_token(&app).await;
    fx.exchanged(
        &app,
        &[
            ("subject_token", &bob),
            ("subject_token_type", AT),
            ("actor_token", &svc),
            ("actor_token_type", AT),
        ],
    )
    .await;
    let log = app
        .admin_ok(
            Method::GET,
            &format!(
                "/admin/realms/{}/token-exchanges?subject={}",
                fx.realm, fx.bob
            ),
            None,
        )
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    assert!(items.iter().all(|i| i["client_id"] == "app"));
    let by_actor = app
        .admin_ok(
            Method::GET,
            &format!(
                "/admin/realms/{}/token-exchanges?actor={}",
                fx.realm,
                claims(&svc)["sub"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_opaque_subject_is_exchanged_by_hash_and_revoking_it_ends_its_descendants() {
    let app = spawn_app().await;
    let fx = setup(&app, "te-opaque").await;
    let (uuid, secret) = app
        .create_client(
            &fx.realm,
            json!({
                "client_id": "opq",
                "grant_types": ["client_credentials", TE],
                "scopes": ["api:read"],
                "access_token_format": "opaque",
            }),
        )
        .await;
    let secret = secret.unwrap();
    set_policy(&app, &fx.realm, &uuid, json!({})).await;
    let subject = s(
        &app.client_credentials(&fx.realm, "opq", &secret).await,
        "access_token",
    );
    assert_eq!(subject.matches('.').count(), 0, "opaque");
    let res = fx
        .exchange_as(
            &app,
            "opq",
            &secret,
            &[("subject_token", &subject), ("subject_token_type", AT)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let child = s(&res.json().await.unwrap(), "access_token");
    let active = |t: String| {
        let (app, realm, secret) = (&app, fx.realm.clone(), secret.clone());
        async move { app.introspect(&realm, "opq", &secret, &t).await["active"].clone() }
    };
    assert_eq!(active(child.clone()).await, json!(true));
    let res = app
        .post_basic(&fx.realm, "revoke", "opq", &secret, &[("token", &subject)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(active(subject).await, json!(false));
    assert_eq!(active(child).await, json!(false));
}
