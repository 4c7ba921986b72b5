//! Organizations and the `organization` scope, over HTTP: the claim in ID tokens, access
//! tokens, userinfo and introspection; the chooser; membership re-checked on refresh and
//! client_credentials; switching; login by organization; org-scoped administration; and
//! invitations. ORG-1 … ORG-9, ORG-11, ISO-5, ISO-9, ISO-10 (SECURITY-CASES.md §2.11, §3.7).

use crate::helpers::{
    Agent, PW, REDIRECT, Rp, TestApp, add_user, assert_invalid_token, assert_oauth_error, claims,
    fast_realm, hidden, s, set_realm, spawn_app, userinfo,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

struct Fx {
    realm: String,
    rp: Rp,
    alice: String,
    bob: String,
    carol: String,
    acme: String,
    globex: String,
}

async fn create_org(app: &TestApp, realm: &str, alias: &str, domains: Value) -> String {
    let v = app
        .admin_ok(
            Method::POST,
            &format!("/admin/realms/{realm}/organizations"),
            Some(json!({ "alias": alias, "name": alias.to_uppercase(), "domains": domains })),
        )
        .await;
    s(&v, "id")
}

async fn add_member(app: &TestApp, realm: &str, org: &str, user: &str, roles: &[&str]) {
    app.admin_ok(
        Method::POST,
        &format!("/admin/realms/{realm}/organizations/{org}/members"),
        Some(json!({ "user_id": user, "roles": roles })),
    )
    .await;
}

/// A fast-hashing realm with client `app` (code + refresh, scopes incl. `organization`),
/// users alice, bob, carol; role templates admin and billing; organizations acme
/// (domain acme.test, verified), globex and initech. alice: acme [admin] and globex;
/// bob: globex [billing]; carol: none.
async fn setup(app: &TestApp, realm: &str) -> Fx {
    fast_realm(app, realm).await;
    let (_, secret) = app
        .create_client(
            realm,
            json!({
                "client_id": "app",
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "profile", "email", "organization"],
                // Its users may let it administer what they administer.
                "admin_console": true,
            }),
        )
        .await;
    let rp = Rp::new(realm, "app", secret.as_deref(), REDIRECT);
    let alice = add_user(app, realm, "alice", PW).await;
    let bob = add_user(app, realm, "bob", PW).await;
    let carol = add_user(app, realm, "carol", PW).await;
    // `admin` is one of the templates every realm starts with.
    app.admin_ok(
        Method::POST,
        &format!("/admin/realms/{realm}/organization-roles"),
        Some(json!({ "name": "billing" })),
    )
    .await;
    let acme = create_org(
        app,
        realm,
        "acme",
        json!([{ "name": "acme.test", "verified": true }]),
    )
    .await;
    let globex = create_org(app, realm, "globex", json!([])).await;
    create_org(app, realm, "initech", json!([])).await;
    add_member(app, realm, &acme, &alice, &["admin"]).await;
    add_member(app, realm, &globex, &alice, &[]).await;
    add_member(app, realm, &globex, &bob, &["billing"]).await;
    Fx {
        realm: realm.into(),
        rp,
        alice,
        bob,
        carol,
        acme,
        globex,
    }
}

impl Fx {
    fn with_scope(&self, scope: &str) -> Rp {
        let mut rp = Rp::new(
            &self.realm,
            "app",
            self.rp.secret.as_deref(),
            &self.rp.redirect,
        );
        rp.scope = scope.into();
        rp
    }

    fn chooser_action(&self, app: &TestApp) -> String {
        app.url(&format!(
            "/realms/{}/login-actions/organization",
            self.realm
        ))
    }

    async fn org_admin(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = app
            .http
            .request(
                method,
                app.url(&format!("/admin/realms/{}{path}", self.realm)),
            )
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }
}

/// Signs `user` in with `scope` (consenting if asked) and redeems the code: the token response.
async fn tokens(app: &TestApp, fx: &Fx, scope: &str, user: &str, extra: &[(&str, &str)]) -> Value {
    let rp = fx.with_scope(scope);
    let mut agent = Agent::default();
    let cb = rp.login_consenting(app, &mut agent, user, PW, extra).await;
    rp.tokens(app, &cb["code"]).await
}

async fn introspect(app: &TestApp, fx: &Fx, token: &str) -> Value {
    app.introspect(&fx.realm, "app", fx.rp.secret.as_deref().unwrap(), token)
        .await
}

#[tokio::test]
async fn one_membership_needs_no_chooser_and_every_response_carries_the_map_claim_and_org_id() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-one").await;
    let t = tokens(&app, &fx, "openid organization", "bob", &[]).await;
    assert_eq!(s(&t, "scope"), "openid organization");
    let want = json!({ "globex": { "id": fx.globex, "roles": ["billing"] } });
    let id = claims(&s(&t, "id_token"));
    let at = claims(&s(&t, "access_token"));
    for c in [&id, &at] {
        assert_eq!(c["organization"], want, "{c}");
        assert_eq!(c["org_id"], json!(fx.globex));
    }
    let info: Value = userinfo(&app, &fx.realm, &s(&t, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["organization"], want);
    let i = introspect(&app, &fx, &s(&t, "access_token")).await;
    assert_eq!(i["active"], json!(true));
    assert_eq!(i["organization"], want);
    assert_eq!(i["org_id"], json!(fx.globex));
}

#[tokio::test]
async fn several_memberships_show_the_chooser_and_the_pick_is_what_the_tokens_carry() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-choose").await;
    let rp = fx.with_scope("openid organization");
    let mut agent = Agent::default();
    let page = rp.sign_in(&app, &mut agent, "alice", PW, &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(body.contains("ACME") && body.contains("GLOBEX"), "{body}");
    assert!(
        !body.contains("INITECH"),
        "only her organizations are offered"
    );
    let state = hidden(&body, "state").unwrap();
    // A pick outside her memberships is not taken: the chooser comes back.
    let again = agent
        .post(
            &app,
            &fx.chooser_action(&app),
            &[("state", &state), ("organization", "initech")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let res = agent
        .post(
            &app,
            &fx.chooser_action(&app),
            &[("state", &state), ("organization", "acme")],
        )
        .await;
    let cb = rp.callback(&res);
    let t = rp.tokens(&app, &cb["code"]).await;
    let at = claims(&s(&t, "access_token"));
    assert_eq!(
        at["organization"],
        json!({ "acme": { "id": fx.acme, "roles": ["admin"] } })
    );
    assert_eq!(at["org_id"], json!(fx.acme));
}

#[tokio::test]
async fn chooser_state_from_another_browser_or_without_login_is_refused() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-chooser-csrf").await;
    let rp = fx.with_scope("openid organization");
    let mut agent = Agent::default();
    let page = rp.sign_in(&app, &mut agent, "alice", PW, &[]).await;
    let state = hidden(&page.text().await.unwrap(), "state").unwrap();
    // Another browser (no cookies) replays the chooser form: the sealed request is bound
    // to the first browser's CSRF cookie.
    let mut other = Agent::default();
    let res = other
        .post(
            &app,
            &fx.chooser_action(&app),
            &[("state", &state), ("organization", "acme")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // The login page's own sealed request cannot answer the chooser (no login checks passed).
    let mut fresh = Agent::default();
    let login_state = rp
        .login_page(&app, &mut fresh, &rp.auth_url(&app, &[]))
        .await;
    let res = fresh
        .post(
            &app,
            &fx.chooser_action(&app),
            &[("state", &login_state), ("organization", "acme")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text().await.unwrap().contains("name=\"password\""),
        "back to login"
    );
}

#[tokio::test]
async fn organization_scope_without_memberships_is_simply_not_granted() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-none").await;
    let t = tokens(&app, &fx, "openid organization", "carol", &[]).await;
    assert_eq!(s(&t, "scope"), "openid");
    assert!(claims(&s(&t, "access_token")).get("organization").is_none());
    assert!(claims(&s(&t, "id_token")).get("organization").is_none());
}

#[tokio::test]
async fn org_1_an_organization_the_user_is_not_a_member_of_ends_with_access_denied() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-1").await;
    for scope in ["openid organization:acme", "openid organization:nope"] {
        let rp = fx.with_scope(scope);
        let mut agent = Agent::default();
        let cb = rp.login(&app, &mut agent, "bob", PW, &[]).await;
        assert_eq!(cb["error"], "access_denied", "{scope}");
        assert_eq!(cb["state"], "st-1");
        assert!(!cb.contains_key("code"));
    }
    // A member gets exactly that organization.
    let t = tokens(&app, &fx, "openid organization:acme", "alice", &[]).await;
    let at = claims(&s(&t, "access_token"));
    assert_eq!(at["org_id"], json!(fx.acme));
    assert_eq!(at["organization"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn organization_star_carries_every_membership_and_no_org_id() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-star").await;
    let t = tokens(&app, &fx, "openid organization:*", "alice", &[]).await;
    let id = claims(&s(&t, "id_token"));
    assert_eq!(
        id["organization"],
        json!({
            "acme": { "id": fx.acme, "roles": ["admin"] },
            "globex": { "id": fx.globex, "roles": [] },
        })
    );
    assert!(id.get("org_id").is_none());
}

#[tokio::test]
async fn a_client_can_switch_to_the_compact_list_form() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-list").await;
    let (_, secret) = app
        .create_client(
            &fx.realm,
            json!({
                "client_id": "compact",
                "grant_types": ["authorization_code"],
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "organization"],
                "organization_claim": "list",
            }),
        )
        .await;
    let mut rp = Rp::new(&fx.realm, "compact", secret.as_deref(), REDIRECT);
    rp.scope = "openid organization:*".into();
    let mut agent = Agent::default();
    let cb = rp.login(&app, &mut agent, "alice", PW, &[]).await;
    let t = rp.tokens(&app, &cb["code"]).await;
    assert_eq!(
        claims(&s(&t, "id_token"))["organization"],
        json!(["acme", "globex"])
    );
}

#[tokio::test]
async fn org_9_a_client_without_the_organization_scope_cannot_ask_for_any_form_of_it() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-9").await;
    let (_, secret) = app
        .create_client(
            &fx.realm,
            json!({
                "client_id": "plain",
                "grant_types": ["authorization_code"],
                "redirect_uris": [REDIRECT],
                "scopes": ["openid"],
            }),
        )
        .await;
    for scope in [
        "openid organization",
        "openid organization:acme",
        "openid organization:*",
    ] {
        let mut rp = Rp::new(&fx.realm, "plain", secret.as_deref(), REDIRECT);
        rp.scope = scope.into();
        let mut agent = Agent::default();
        let res = agent.get(&app, &rp.auth_url(&app, &[])).await;
        let cb = rp.callback(&res);
        assert_eq!(cb["error"], "invalid_scope", "{scope}");
    }
    // Two different organizations in one request are refused too.
    let rp = fx.with_scope("openid organization:acme organization:globex");
    let mut agent = Agent::default();
    let cb = rp.callback(&agent.get(&app, &rp.auth_url(&app, &[])).await);
    assert_eq!(cb["error"], "invalid_scope");
}

#[tokio::test]
async fn org_2_a_removed_member_drops_out_on_refresh_and_a_required_organization_fails() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-2").await;
    let chosen = tokens(&app, &fx, "openid organization", "bob", &[]).await;
    let required = tokens(&app, &fx, "openid organization:globex", "bob", &[]).await;
    let res = app
        .admin(
            Method::DELETE,
            &format!(
                "/admin/realms/{}/organizations/{}/members/{}",
                fx.realm, fx.globex, fx.bob
            ),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = fx
        .rp
        .refresh(&app, &s(&chosen, "refresh_token"), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t: Value = res.json().await.unwrap();
    let at = claims(&s(&t, "access_token"));
    assert!(
        at.get("organization").is_none() && at.get("org_id").is_none(),
        "{at}"
    );
    let res = fx
        .rp
        .refresh(&app, &s(&required, "refresh_token"), None)
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn refresh_switches_the_active_organization_for_members_only() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-switch").await;
    let t = tokens(
        &app,
        &fx,
        "openid organization",
        "alice",
        &[("organization", "acme")],
    )
    .await;
    assert_eq!(claims(&s(&t, "access_token"))["org_id"], json!(fx.acme));
    let rt = s(&t, "refresh_token");
    // Not a member of initech: access_denied (400), and the refresh token still works.
    let res = fx
        .rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("organization", "initech"),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "access_denied").await;
    let res = fx
        .rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("organization", "globex"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t: Value = res.json().await.unwrap();
    let id = claims(&s(&t, "id_token"));
    assert_eq!(id["org_id"], json!(fx.globex));
    assert_eq!(
        id["organization"],
        json!({ "globex": { "id": fx.globex, "roles": [] } })
    );
    // The switch sticks to the rotated refresh token.
    let res = fx.rp.refresh(&app, &s(&t, "refresh_token"), None).await;
    let t: Value = res.json().await.unwrap();
    assert_eq!(claims(&s(&t, "access_token"))["org_id"], json!(fx.globex));
}

#[tokio::test]
async fn org_8_disabling_an_organization_stops_logins_refreshes_tokens_and_its_clients() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-8").await;
    let t = tokens(&app, &fx, "openid organization:globex", "bob", &[]).await;
    let at = s(&t, "access_token");
    assert_eq!(introspect(&app, &fx, &at).await["active"], json!(true));
    // The organization's own service client.
    let (_, svc_secret) = app
        .create_client(
            &fx.realm,
            json!({ "client_id": "globex-svc", "organization_id": fx.globex }),
        )
        .await;
    let svc_secret = svc_secret.unwrap();
    let cc = app
        .client_credentials(&fx.realm, "globex-svc", &svc_secret)
        .await;
    let cc_at = s(&cc, "access_token");
    let c = claims(&cc_at);
    assert_eq!(c["org_id"], json!(fx.globex));
    assert_eq!(c["organization"]["globex"]["id"], json!(fx.globex));

    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{}/organizations/{}", fx.realm, fx.globex),
        Some(json!({ "alias": "globex", "name": "GLOBEX", "enabled": false })),
    )
    .await;
    assert_eq!(introspect(&app, &fx, &at).await, json!({ "active": false }));
    assert_eq!(
        introspect(&app, &fx, &cc_at).await,
        json!({ "active": false })
    );
    let res = fx.rp.refresh(&app, &s(&t, "refresh_token"), None).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let res = app
        .post_basic(
            &fx.realm,
            "token",
            "globex-svc",
            &svc_secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    let rp = fx.with_scope("openid organization:globex");
    let mut agent = Agent::default();
    let cb = rp.login(&app, &mut agent, "bob", PW, &[]).await;
    assert_eq!(cb["error"], "access_denied");
    // Deleting it is final for its tokens as well.
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/{}/organizations/{}", fx.realm, fx.globex),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        introspect(&app, &fx, &cc_at).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn org_3_a_realm_with_organizations_off_emits_no_organization_claim_anywhere() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-3").await;
    let before = tokens(&app, &fx, "openid organization:*", "alice", &[]).await;
    set_realm(&app, &fx.realm, json!({ "organizations_enabled": false })).await;
    let i = introspect(&app, &fx, &s(&before, "access_token")).await;
    assert_eq!(i["active"], json!(true));
    assert!(i.get("organization").is_none(), "{i}");
    let info: Value = userinfo(&app, &fx.realm, &s(&before, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert!(info.get("organization").is_none(), "{info}");
    for scope in [
        "openid organization:*",
        "openid organization:acme",
        "openid organization",
    ] {
        let t = tokens(&app, &fx, scope, "alice", &[]).await;
        assert_eq!(s(&t, "scope"), "openid", "{scope}");
        for tok in ["id_token", "access_token"] {
            let c = claims(&s(&t, tok));
            assert!(
                c.get("organization").is_none() && c.get("org_id").is_none(),
                "{c}"
            );
        }
        let res = fx.rp.refresh(&app, &s(&t, "refresh_token"), None).await;
        let r: Value = res.json().await.unwrap();
        assert!(claims(&s(&r, "access_token")).get("organization").is_none());
    }
    let r = fx
        .rp
        .refresh(&app, &s(&before, "refresh_token"), None)
        .await;
    let r: Value = r.json().await.unwrap();
    assert!(claims(&s(&r, "id_token")).get("organization").is_none());
}

#[tokio::test]
async fn login_by_organization_names_it_on_the_login_page_and_preselects_it() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-login").await;
    let rp = fx.with_scope("openid organization");
    let mut agent = Agent::default();
    let page = agent
        .get(&app, &rp.auth_url(&app, &[("organization", "globex")]))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("GLOBEX"), "{page}");
    // A login_hint on a verified domain of acme.
    let page = agent
        .get(
            &app,
            &rp.auth_url(&app, &[("login_hint", "someone@acme.test")]),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("ACME"), "{page}");
    // alice belongs to two organizations; the pre-selected one spares her the chooser.
    let t = tokens(
        &app,
        &fx,
        "openid organization",
        "alice",
        &[("organization", "globex")],
    )
    .await;
    assert_eq!(claims(&s(&t, "access_token"))["org_id"], json!(fx.globex));
}

/// alice's admin-console token in her realm (she administers acme, and is a plain member
/// of globex): what the admin API accepts from an organization's administrator.
async fn alice_token(app: &TestApp, fx: &Fx) -> String {
    s(
        &tokens(app, fx, "openid tessera:admin", "alice", &[]).await,
        "access_token",
    )
}

#[tokio::test]
async fn an_org_admin_manages_their_own_members_roles_and_invitations() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-admin").await;
    let token = alice_token(&app, &fx).await;
    let members = |org: &str| format!("/organizations/{org}/members");
    let res = fx
        .org_admin(&app, Method::GET, &members("acme"), &token, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["roles"], json!(["admin"]));
    // People come in by invitation only: adding an account directly is for realm admins.
    let res = fx
        .org_admin(
            &app,
            Method::POST,
            &members("acme"),
            &token,
            Some(json!({ "user_id": fx.carol, "roles": ["billing"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    add_member(&app, &fx.realm, &fx.acme, &fx.carol, &["billing"]).await;
    let res = fx
        .org_admin(
            &app,
            Method::PUT,
            &format!("/organizations/acme/members/{}/roles", fx.carol),
            &token,
            Some(json!({ "roles": [] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // She gives only roles she holds (besides `member`), directly or by invitation.
    let res = fx
        .org_admin(
            &app,
            Method::PUT,
            &format!("/organizations/acme/members/{}/roles", fx.carol),
            &token,
            Some(json!({ "roles": ["billing"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = fx
        .org_admin(
            &app,
            Method::POST,
            "/organizations/acme/invitations",
            &token,
            Some(json!({ "email": "dave@elsewhere.example", "roles": ["billing"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Invitations go by e-mail; without the realm's SMTP server there are none from her.
    let invite = || {
        fx.org_admin(
            &app,
            Method::POST,
            "/organizations/acme/invitations",
            &token,
            Some(json!({ "email": "dave@elsewhere.example", "roles": ["member"] })),
        )
    };
    assert_eq!(invite().await.status(), StatusCode::CONFLICT);
    let (port, mut inbox) = crate::helpers::smtp::smtp_sink().await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{}/smtp", fx.realm),
        Some(json!({ "host": "127.0.0.1", "port": port, "security": "none", "from": "no-reply@acme.test" })),
    )
    .await;
    let res = invite().await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    assert!(v.get("link").is_none(), "never shown to an org admin: {v}");
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.to, ["<dave@elsewhere.example>"]);
    let res = fx
        .org_admin(
            &app,
            Method::GET,
            "/organizations/acme/invitations",
            &token,
            None,
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"][0]["status"], "pending");
    let res = fx
        .org_admin(
            &app,
            Method::DELETE,
            &format!("/organizations/acme/members/{}", fx.carol),
            &token,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn org_5_iso_10_an_org_admin_addressing_another_organization_gets_404() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-5").await;
    let token = alice_token(&app, &fx).await;
    // globex: she is a member, not its admin; initech: not a member; nope: does not exist.
    for org in [
        fx.globex.as_str(),
        "globex",
        "initech",
        "nope",
        "00000000-0000-0000-0000-000000000000",
    ] {
        for (m, path, body) in [
            (Method::GET, format!("/organizations/{org}/members"), None),
            (Method::GET, format!("/organizations/{org}"), None),
            (
                Method::POST,
                format!("/organizations/{org}/members"),
                Some(json!({ "user_id": fx.carol })),
            ),
            (
                Method::DELETE,
                format!("/organizations/{org}/members/{}", fx.bob),
                None,
            ),
            (
                Method::POST,
                format!("/organizations/{org}/invitations"),
                Some(json!({ "email": "x@y.example" })),
            ),
        ] {
            let res = fx.org_admin(&app, m.clone(), &path, &token, body).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{m} {path}");
        }
    }
    // bob is still in globex.
    let v = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{}/organizations/globex/members", fx.realm),
            None,
        )
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn org_6_org_7_an_org_admin_cannot_manage_users_the_organization_or_see_others_memberships() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-6").await;
    let token = alice_token(&app, &fx).await;
    for (m, path, body) in [
        (
            Method::POST,
            "/users".to_owned(),
            Some(json!({ "username": "mallory", "password": PW })),
        ),
        (Method::GET, "/users".to_owned(), None),
        (
            Method::GET,
            format!("/users/{}/organizations", fx.bob),
            None,
        ),
        (Method::GET, "/organizations".to_owned(), None),
        (
            Method::PUT,
            "/organizations/acme".to_owned(),
            Some(json!({ "alias": "acme", "name": "Mine" })),
        ),
        (Method::DELETE, "/organizations/acme".to_owned(), None),
        (
            Method::PUT,
            "/organizations/acme/domains/evil.test".to_owned(),
            Some(json!({ "verified": true })),
        ),
        (
            Method::POST,
            "/organization-roles".to_owned(),
            Some(json!({ "name": "owner" })),
        ),
        (
            Method::POST,
            "/clients".to_owned(),
            Some(json!({ "client_id": "x" })),
        ),
    ] {
        let res = fx.org_admin(&app, m.clone(), &path, &token, body).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{m} {path}");
    }
    // Adding by username would let an organization admin probe the realm's users.
    let res = fx
        .org_admin(
            &app,
            Method::POST,
            "/organizations/acme/members",
            &token,
            Some(json!({ "username": "bob" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A token of another realm is no token here at all.
    let res = app
        .http
        .get(app.url(&format!(
            "/admin/realms/{}/organizations/acme/members",
            fx.realm
        )))
        .bearer_auth(app.demo_token().await)
        .send()
        .await
        .unwrap();
    assert_invalid_token(res).await;
    let res = app
        .http
        .get(app.url(&format!("/admin/realms/{}/users", fx.realm)))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_invalid_token(res).await;
}

#[tokio::test]
async fn iso_5_iso_9_objects_of_another_realm_are_not_found_through_this_realm() {
    let app = spawn_app().await;
    let a = setup(&app, "iso-org-a").await;
    let b = setup(&app, "iso-org-b").await;
    let base = |fx: &Fx| format!("/admin/realms/{}", fx.realm);
    for path in [
        format!("{}/organizations/{}", base(&a), b.acme),
        format!("{}/organizations/{}/members", base(&a), b.globex),
        format!("{}/users/{}/organizations", base(&a), b.alice),
    ] {
        let res = app.admin(Method::GET, &path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // B's user cannot be added to A's organization by id.
    let res = app
        .admin(
            Method::POST,
            &format!("{}/organizations/acme/members", base(&a)),
            Some(json!({ "user_id": b.carol })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A client of A cannot be bound to B's organization.
    let res = app
        .admin(
            Method::POST,
            &format!("{}/clients", base(&a)),
            Some(json!({ "client_id": "x", "organization_id": b.acme })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Listing and domain search in A never show B's rows (same aliases, same domains).
    let v = app
        .admin_ok(
            Method::GET,
            &format!("{}/organizations?domain=acme.test", base(&a)),
            None,
        )
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["id"], json!(a.acme));
    let v = app
        .admin_ok(
            Method::GET,
            &format!("{}/organizations/acme/members", base(&a)),
            None,
        )
        .await;
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a.alice.as_str()]);
}

#[tokio::test]
async fn organizations_are_searchable_unique_by_alias_and_domain_and_members_page_by_id() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-crud").await;
    let base = format!("/admin/realms/{}/organizations", fx.realm);
    let res = app
        .admin(
            Method::POST,
            &base,
            Some(json!({ "alias": "acme", "name": "Other" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .admin(
            Method::POST,
            &base,
            Some(json!({ "alias": "acme2", "name": "x", "domains": [{ "name": "ACME.test" }] })),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a domain belongs to one organization"
    );
    let res = app
        .admin(
            Method::PUT,
            &format!("{base}/globex/domains/acme.test"),
            Some(json!({ "verified": false })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    for bad in [
        json!({ "alias": "Bad Alias", "name": "x" }),
        json!({ "alias": "ok", "name": "" }),
    ] {
        let res = app.admin(Method::POST, &base, Some(bad)).await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    let v = app
        .admin_ok(Method::GET, &format!("{base}?search=GLOB"), None)
        .await;
    assert_eq!(v["items"][0]["alias"], "globex");
    let v = app
        .admin_ok(Method::GET, &format!("{base}?limit=2"), None)
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let v = app
        .admin_ok(
            Method::GET,
            &format!("{base}?limit=2&after={}", s(&v, "next")),
            None,
        )
        .await;
    assert_eq!(v["items"][0]["alias"], "initech");
    let v = app
        .admin_ok(Method::GET, &format!("{base}/globex/members?limit=1"), None)
        .await;
    let first = v["items"][0]["user_id"].as_str().unwrap().to_owned();
    let v = app
        .admin_ok(
            Method::GET,
            &format!("{base}/globex/members?limit=1&after={first}"),
            None,
        )
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_ne!(v["items"][0]["user_id"], json!(first));
    let v = app
        .admin_ok(
            Method::GET,
            &format!(
                "/admin/realms/{}/users/{}/organizations",
                fx.realm, fx.alice
            ),
            None,
        )
        .await;
    let aliases: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["acme", "globex"]);
}

#[tokio::test]
async fn deleting_an_organization_deletes_managed_members_and_only_unlinks_the_others() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-managed").await;
    let dave = add_user(&app, &fx.realm, "dave", PW).await;
    app.admin_ok(
        Method::POST,
        &format!("/admin/realms/{}/organizations/globex/members", fx.realm),
        Some(json!({ "user_id": dave, "managed": true })),
    )
    .await;
    let res = app
        .admin(
            Method::DELETE,
            &format!("/admin/realms/{}/organizations/globex", fx.realm),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let user = |id: &str| format!("/admin/realms/{}/users/{id}", fx.realm);
    assert_eq!(
        app.admin(Method::GET, &user(&dave), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.admin(Method::GET, &user(&fx.bob), None).await.status(),
        StatusCode::OK
    );
    let v = app
        .admin_ok(
            Method::GET,
            &format!("{}/organizations", user(&fx.alice)),
            None,
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1, "alice keeps acme only");
}

/// Creates an invitation into acme for `email`; returns (invitation id, link path+query).
async fn invite(app: &TestApp, fx: &Fx, email: &str) -> (String, String) {
    let v = app
        .admin_ok(
            Method::POST,
            &format!("/admin/realms/{}/organizations/acme/invitations", fx.realm),
            Some(json!({ "email": email, "roles": ["billing"] })),
        )
        .await;
    let link = s(&v, "link");
    let path = link
        .strip_prefix(crate::helpers::PUBLIC_URL)
        .unwrap_or_else(|| panic!("{link}"))
        .to_owned();
    (s(&v, "id"), path)
}

fn token_of(path: &str) -> String {
    path.split_once("token=").unwrap().1.to_owned()
}

/// Opens the link and submits the form; returns the answer.
async fn accept(app: &TestApp, fx: &Fx, path: &str, username: &str, password: &str) -> Response {
    let mut agent = Agent::default();
    let page = agent.get(app, &app.url(path)).await;
    if page.status() != StatusCode::OK {
        return page;
    }
    let body = page.text().await.unwrap();
    let csrf = hidden(&body, "csrf").unwrap();
    let token = hidden(&body, "token").unwrap();
    agent
        .post(
            app,
            &app.url(&format!("/realms/{}/invitations/accept", fx.realm)),
            &[
                ("token", &token),
                ("csrf", &csrf),
                (
                    "action",
                    if username.is_empty() {
                        "signin"
                    } else {
                        "create"
                    },
                ),
                ("username", username),
                ("password", password),
            ],
        )
        .await
}

#[tokio::test]
async fn an_invitation_link_creates_the_account_joins_once_and_never_again() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-invite").await;
    let (_, path) = invite(&app, &fx, "Dave@New.example").await;
    let res = accept(&app, &fx, &path, "dave", PW).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You joined ACME"));
    let v = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{}/organizations/acme/members", fx.realm),
            None,
        )
        .await;
    let dave = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "dave")
        .expect("dave joined")
        .clone();
    assert_eq!(dave["roles"], json!(["billing"]));
    // Single use.
    let res = accept(&app, &fx, &path, "dave2", PW).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An existing account (bob) signs in to accept; a wrong password gets the page again.
    let (_, path) = invite(&app, &fx, "bob@org-invite.example").await;
    let res = accept(&app, &fx, &path, "", "wrong password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = accept(&app, &fx, &path, "", PW).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v = app
        .admin_ok(
            Method::GET,
            &format!("/admin/realms/{}/users/{}/organizations", fx.realm, fx.bob),
            None,
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn org_4_a_forged_or_modified_invitation_token_is_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let app = spawn_app().await;
    let fx = setup(&app, "org-4").await;
    let (_, path) = invite(&app, &fx, "eve@evil.example").await;
    let token = token_of(&path);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["org_id"] = json!(fx.globex);
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let forged = parts.join(".");
    let page = |t: String| format!("/realms/{}/invitations/accept?token={t}", fx.realm);
    let mut agent = Agent::default();
    for t in [
        forged,
        alice_token(&app, &fx).await,
        "garbage".into(),
        String::new(),
    ] {
        let res = agent.get(&app, &app.url(&page(t))).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    // The genuine link of realm org-4 is worth nothing in another realm.
    let other = setup(&app, "org-4b").await;
    let res = agent
        .get(
            &app,
            &app.url(&format!(
                "/realms/{}/invitations/accept?token={token}",
                other.realm
            )),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn revoked_resent_and_expired_invitations_follow_their_status() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-inv-status").await;
    let base = format!("/admin/realms/{}/organizations/acme/invitations", fx.realm);
    let (id, old) = invite(&app, &fx, "frank@x.example").await;
    let v = app
        .admin_ok(
            Method::POST,
            &format!("{base}/{id}/resend"),
            Some(json!({})),
        )
        .await;
    let new = s(&v, "link")
        .strip_prefix(crate::helpers::PUBLIC_URL)
        .unwrap()
        .to_owned();
    let mut agent = Agent::default();
    assert_eq!(
        agent.get(&app, &app.url(&old)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        agent.get(&app, &app.url(&new)).await.status(),
        StatusCode::OK
    );
    let res = app
        .admin(Method::DELETE, &format!("{base}/{id}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        agent.get(&app, &app.url(&new)).await.status(),
        StatusCode::FORBIDDEN
    );
    let v = app.admin_ok(Method::GET, &base, None).await;
    assert_eq!(v["items"][0]["status"], "revoked");
    let res = app
        .admin(
            Method::POST,
            &format!("{base}/{id}/resend"),
            Some(json!({})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // Seven days later an unused invitation has expired.
    let (_, path) = invite(&app, &fx, "grace@x.example").await;
    app.clock.advance(7 * 86_400 + 1);
    assert_eq!(
        agent.get(&app, &app.url(&path)).await.status(),
        StatusCode::FORBIDDEN
    );
    let v = app.admin_ok(Method::GET, &base, None).await;
    assert_eq!(v["items"][1]["status"], "expired");
}

#[tokio::test]
async fn org_11_registration_without_a_valid_invitation_or_into_a_disabled_organization_is_refused()
{
    let app = spawn_app().await;
    let fx = setup(&app, "org-11").await;
    let action = app.url(&format!("/realms/{}/invitations/accept", fx.realm));
    let mut agent = Agent::default();
    agent.get(&app, &app.url("/")).await;
    for token in ["", "garbage", "a.b.c"] {
        let res = agent
            .post(
                &app,
                &action,
                &[
                    ("token", token),
                    ("csrf", "x"),
                    ("username", "mallory"),
                    ("password", PW),
                ],
            )
            .await;
        assert!(
            matches!(res.status().as_u16(), 400 | 403),
            "{}",
            res.status()
        );
    }
    // A valid link whose organization was disabled meanwhile.
    let (_, path) = invite(&app, &fx, "heidi@x.example").await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{}/organizations/acme", fx.realm),
        Some(json!({ "alias": "acme", "name": "ACME", "enabled": false })),
    )
    .await;
    let res = accept(&app, &fx, &path, "heidi", PW).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .admin(
            Method::GET,
            &format!("/admin/realms/{}/users?search=heidi", fx.realm),
            None,
        )
        .await;
    let v: Value = res.json().await.unwrap();
    assert!(
        v["items"].as_array().unwrap().is_empty(),
        "no account was created"
    );
}

#[tokio::test]
async fn an_organization_star_token_too_big_for_16_kib_is_still_accepted_by_our_own_endpoints() {
    let app = spawn_app().await;
    let fx = setup(&app, "org-big").await;
    let admin = app.admin_token().await;
    let base = app.url(&format!("/admin/realms/{}/organizations", fx.realm));
    for i in 0..170 {
        let res = app
            .http
            .post(&base)
            .bearer_auth(&admin)
            .json(&json!({ "alias": format!("org-{i:03}"), "name": format!("Organization number {i}") }))
            .send()
            .await
            .unwrap();
        let org = s(&res.json::<Value>().await.unwrap(), "id");
        let res = app
            .http
            .post(format!("{base}/{org}/members"))
            .bearer_auth(&admin)
            .json(&json!({ "user_id": fx.carol, "roles": ["admin", "billing"] }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
    let t = tokens(&app, &fx, "openid organization:*", "carol", &[]).await;
    let at = s(&t, "access_token");
    assert!(at.len() > 16 * 1024, "{} bytes", at.len());
    assert_eq!(claims(&at)["organization"].as_object().unwrap().len(), 170);
    let res = userinfo(&app, &fx.realm, &at).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(introspect(&app, &fx, &at).await["active"], json!(true));
    let res = fx.rp.refresh(&app, &s(&t, "refresh_token"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
}
