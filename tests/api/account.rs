//! People help themselves (issue 16, acceptance 4): the account page at
//! `/realms/{realm}/account` behind the realm's own browser session, "Forgot password?"
//! with a single-use link by e-mail, and e-mail verification and change through links
//! mailed to the address. Mail is read from the real SMTP sink. Cases ACC-1 … ACC-5.

use crate::helpers::smtp::{Delivered, smtp_sink};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

/// Opens the account page of `realm` in `agent`, signing in with `user` and `pw` on the
/// realm's login page when asked. The page's body.
async fn account_page(
    app: &TestApp,
    agent: &mut Agent,
    realm: &str,
    user: &str,
    pw: &str,
) -> String {
    let res = follow(app, agent, &app.url(&format!("/realms/{realm}/account"))).await;
    let body = res.text().await.unwrap();
    if body.contains("<h1>Your account</h1>") {
        return body;
    }
    let res = submit_login(app, agent, realm, &body, user, pw).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in");
    let to = local_url(app, &header(&res, "location").unwrap());
    let res = follow(app, agent, &to).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains("<h1>Your account</h1>"), "{body}");
    body
}

/// The realm mails through a new sink; its inbox.
async fn with_smtp(app: &TestApp, realm: &str) -> UnboundedReceiver<Delivered> {
    let (port, inbox) = smtp_sink().await;
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{realm}/smtp"),
        Some(json!({ "host": "127.0.0.1", "port": port, "security": "none", "from": "no-reply@acct.test" })),
    )
    .await;
    inbox
}

async fn next_mail(inbox: &mut UnboundedReceiver<Delivered>) -> Delivered {
    tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .expect("a message within 10 s")
        .unwrap()
}

/// Opens a mailed e-mail link and confirms on the page it shows (with that page's CSRF
/// token): the answer to the confirmation, or the page itself when it asks nothing.
async fn confirm(app: &TestApp, agent: &mut Agent, link: &str) -> reqwest::Response {
    let page = agent.get(app, &local_url(app, link)).await;
    if page.status() != StatusCode::OK {
        return page;
    }
    let body = page.text().await.unwrap();
    let (csrf, token) = (
        hidden(&body, "csrf").unwrap(),
        hidden(&body, "token").unwrap(),
    );
    let realm = link
        .split("/realms/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    agent
        .post(
            app,
            &app.url(&format!("/realms/{realm}/login-actions/confirm-email")),
            &[("csrf", &csrf), ("token", &token)],
        )
        .await
}

async fn user(app: &TestApp, realm: &str, id: &str) -> Value {
    app.admin_ok(
        Method::GET,
        &format!("/admin/realms/{realm}/users/{id}"),
        None,
    )
    .await
}

/// An administrator sets the user's address, unverified.
async fn unverified_email(app: &TestApp, realm: &str, id: &str, username: &str, email: &str) {
    app.admin_ok(
        Method::PUT,
        &format!("/admin/realms/{realm}/users/{id}"),
        Some(json!({ "username": username, "email": email, "email_verified": false })),
    )
    .await;
}

/// Whether `user` signs in with `pw` on the realm's login page (for the account page).
async fn signs_in(app: &TestApp, realm: &str, user: &str, pw: &str) -> bool {
    let mut agent = Agent::default();
    let res = follow(
        app,
        &mut agent,
        &app.url(&format!("/realms/{realm}/account")),
    )
    .await;
    let page = res.text().await.unwrap();
    let res = submit_login(app, &mut agent, realm, &page, user, pw).await;
    res.status() == StatusCode::SEE_OTHER
}

/// Posts the forgot-password form for `name` in a fresh browser: status and body.
async fn forgot(app: &TestApp, realm: &str, name: &str) -> (StatusCode, String) {
    let mut agent = Agent::default();
    let url = app.url(&format!("/realms/{realm}/login-actions/forgot-password"));
    let res = agent.get(app, &url).await;
    let status = res.status();
    let page = res.text().await.unwrap();
    // No form: the realm cannot send mail.
    let Some(csrf) = hidden(&page, "csrf") else {
        return (status, page);
    };
    let res = agent
        .post(app, &url, &[("csrf", &csrf), ("username", name)])
        .await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn forgot_password_answers_alike_and_its_mailed_link_sets_a_new_password_once() {
    let app = spawn_app().await;
    fast_realm(&app, "acct").await;
    let alice = add_user(&app, "acct", "alice", PW).await;
    add_user(&app, "acct", "carol", PW).await;
    unverified_email(&app, "acct", &alice, "alice", "alice@acct.example").await;
    // The login page offers it.
    let login = follow(
        &app,
        &mut Agent::default(),
        &app.url("/realms/acct/account"),
    )
    .await;
    assert!(
        login
            .text()
            .await
            .unwrap()
            .contains("href=\"/realms/acct/login-actions/forgot-password\"")
    );
    // A realm that cannot send mail says so, and sends nothing.
    let (status, page) = forgot(&app, "acct", "alice").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("cannot send e-mail"), "{page}");
    let mut inbox = with_smtp(&app, "acct").await;

    let (known_status, known) = forgot(&app, "acct", "alice").await;
    let (unknown_status, unknown) = forgot(&app, "acct", "nobody@acct.example").await;
    assert_eq!(known_status, StatusCode::OK);
    assert_eq!(unknown_status, StatusCode::OK);
    assert_eq!(
        known, unknown,
        "the same answer for a known and an unknown name"
    );
    let mail = next_mail(&mut inbox).await;
    assert_eq!(mail.to, ["<alice@acct.example>"]);
    let link = mail.link().expect("a link");
    assert!(
        link.starts_with(&format!(
            "{PUBLIC_URL}/realms/acct/login-actions/reset-password?token="
        )),
        "built from the public URL: {link}"
    );

    let mut agent = Agent::default();
    let page = agent.get(&app, &local_url(&app, &link)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_no_store(&page);
    let page = page.text().await.unwrap();
    let (csrf, token) = (
        hidden(&page, "csrf").unwrap(),
        hidden(&page, "token").unwrap(),
    );
    let reset = app.url("/realms/acct/login-actions/reset-password");
    let post = |agent: &mut Agent, pw: &'static str| {
        let (csrf, token, reset) = (csrf.clone(), token.clone(), reset.clone());
        let app = &app;
        let mut agent = agent.clone();
        async move {
            let res = agent
                .post(
                    app,
                    &reset,
                    &[("csrf", &csrf), ("token", &token), ("password", pw)],
                )
                .await;
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, _) = post(&mut agent, "short").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "too short; the link still works"
    );
    let (status, page) = post(&mut agent, "a new horse battery").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your password is set"));
    let (status, page) = post(&mut agent, "another horse battery").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used once: {page}");
    assert!(page.contains("This link cannot be used"), "{page}");

    assert!(
        !signs_in(&app, "acct", "alice", PW).await,
        "the old password"
    );
    assert!(signs_in(&app, "acct", "alice", "a new horse battery").await);
    assert_eq!(
        user(&app, "acct", &alice).await["email_verified"],
        true,
        "the link reached the address"
    );

    // Three requests per name, then the name must wait; the answer never tells more.
    for _ in 0..3 {
        assert_eq!(forgot(&app, "acct", "carol").await.0, StatusCode::OK);
    }
    let (status, page) = forgot(&app, "acct", "carol").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    let (status, _) = forgot(&app, "acct", "nobody@acct.example").await;
    assert_eq!(status, StatusCode::OK, "another name still may");
}

#[tokio::test]
async fn a_new_e_mail_address_is_the_users_only_once_the_link_mailed_to_it_is_opened() {
    let app = spawn_app().await;
    fast_realm(&app, "acct").await;
    let alice = add_user(&app, "acct", "alice", PW).await;
    add_user(&app, "acct", "bob", PW).await;
    let mut inbox = with_smtp(&app, "acct").await;
    let mut agent = Agent::default();
    let page = account_page(&app, &mut agent, "acct", "alice", PW).await;
    let csrf = hidden(&page, "csrf").expect("a CSRF token");
    // The current password confirms it.
    let res = agent
        .clone()
        .post(
            &app,
            &app.url("/realms/acct/account/email"),
            &[
                ("csrf", &csrf),
                ("email", "alice@new.example"),
                ("current_password", "wrong"),
            ],
        )
        .await;
    let page = expect_status(res, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("the current password is not right"), "{page}");
    let change = |to: &'static str| {
        let (mut agent, csrf, app) = (agent.clone(), csrf.clone(), &app);
        async move {
            agent
                .post(
                    app,
                    &app.url("/realms/acct/account/email"),
                    &[("csrf", &csrf), ("email", to), ("current_password", PW)],
                )
                .await
        }
    };
    let res = change("Bob@acct.example").await;
    let page = expect_status(res, StatusCode::CONFLICT).await;
    assert!(page.contains("a user with this email exists"), "{page}");

    let res = change("alice@new.example").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let first = next_mail(&mut inbox).await;
    assert_eq!(first.to, ["<alice@new.example>"]);
    assert_eq!(
        user(&app, "acct", &alice).await["email"],
        "alice@acct.example"
    );
    assert_eq!(
        change("alice@newer.example").await.status(),
        StatusCode::SEE_OTHER
    );
    let second = next_mail(&mut inbox).await;
    assert_eq!(second.to, ["<alice@newer.example>"]);

    let res = agent
        .get(&app, &local_url(&app, &first.link().unwrap()))
        .await;
    expect_status(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        user(&app, "acct", &alice).await["email"],
        "alice@acct.example",
        "the first address was replaced by the second change"
    );
    // Opening the link (as a mail scanner does) changes nothing: it asks to confirm.
    let res = agent
        .get(&app, &local_url(&app, &second.link().unwrap()))
        .await;
    let page = expect_status(res, StatusCode::OK).await;
    assert!(
        page.contains("alice@newer.example") && page.contains("Confirm"),
        "{page}"
    );
    assert_eq!(
        user(&app, "acct", &alice).await["email"],
        "alice@acct.example"
    );
    let res = confirm(&app, &mut agent, &second.link().unwrap()).await;
    let page = expect_status(res, StatusCode::OK).await;
    assert!(page.contains("Your e-mail address is changed"));
    let u = user(&app, "acct", &alice).await;
    assert_eq!(
        (u["email"].as_str(), u["email_verified"].as_bool()),
        (Some("alice@newer.example"), Some(true))
    );
    let res = agent
        .get(&app, &local_url(&app, &second.link().unwrap()))
        .await;
    expect_status(res, StatusCode::BAD_REQUEST).await;

    // Verification of an unverified address holds only while the address is the same.
    unverified_email(&app, "acct", &alice, "alice", "alice@newer.example").await;
    let res = agent
        .post(
            &app,
            &app.url("/realms/acct/account/verify-email"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let verify = next_mail(&mut inbox).await;
    assert_eq!(verify.to, ["<alice@newer.example>"]);
    unverified_email(&app, "acct", &alice, "alice", "alice@other.example").await;
    let res = confirm(&app, &mut agent, &verify.link().unwrap()).await;
    expect_status(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(user(&app, "acct", &alice).await["email_verified"], false);
}

#[tokio::test]
async fn the_account_page_needs_the_realms_own_session_and_its_forms_a_csrf_token() {
    let app = spawn_app().await;
    fast_realm(&app, "acct").await;
    fast_realm(&app, "other").await;
    add_user(&app, "acct", "alice", PW).await;
    add_user(&app, "other", "alice", PW).await;
    let mut agent = Agent::default();
    let res = agent.get(&app, &app.url("/realms/acct/account")).await;
    assert_eq!(
        res.status(),
        StatusCode::FOUND,
        "signed out: to the sign-in"
    );
    let to = header(&res, "location").unwrap();
    assert!(
        to.starts_with(&format!(
            "{PUBLIC_URL}/realms/acct/protocol/openid-connect/auth?client_id=tessera-account"
        )),
        "{to}"
    );
    // Signed in to realm other: its session does not open realm acct's page (the
    // browser here sends every cookie, whatever its path).
    account_page(&app, &mut agent, "other", "alice", PW).await;
    let res = agent.get(&app, &app.url("/realms/acct/account")).await;
    assert_eq!(res.status(), StatusCode::FOUND);

    let page = account_page(&app, &mut agent, "acct", "alice", PW).await;
    let res = agent.get(&app, &app.url("/realms/acct/account")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res);
    let csp = header(&res, "content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let csrf = hidden(&page, "csrf").unwrap();
    let url = app.url("/realms/acct/account/profile");
    for form in [
        vec![("given_name", "Mallory")],
        vec![("csrf", "forged"), ("given_name", "Mallory")],
    ] {
        let res = agent.post(&app, &url, &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res = agent
        .post(
            &app,
            &url,
            &[
                ("csrf", &csrf),
                ("given_name", "Alice"),
                ("family_name", "Liddell"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = agent
        .get(&app, &app.url("/realms/acct/account?notice=saved"))
        .await;
    let page = page.text().await.unwrap();
    assert!(
        page.contains("value=\"Liddell\"") && !page.contains("Mallory"),
        "{page}"
    );
}

#[tokio::test]
async fn signing_out_everywhere_on_the_account_page_ends_the_session_and_its_refresh_tokens() {
    let app = spawn_app().await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let first = s(&rp.tokens(&app, &cb["code"]).await, "refresh_token");
    // A second grant through the same session (no login page).
    let res = agent.get(&app, &rp.auth_url(&app, &[])).await;
    let second = s(
        &rp.tokens(&app, &rp.callback(&res)["code"]).await,
        "refresh_token",
    );
    // The realm's session opens the account page without another sign-in; it lists the
    // session and both grants (newest first), not its own sign-in's.
    let page = account_page(&app, &mut agent, "demo", "demo", "not asked").await;
    assert!(page.contains("this browser"), "{page}");
    assert_eq!(page.matches("name=\"grant\"").count(), 2, "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let res = agent
        .post(
            &app,
            &app.url("/realms/demo/account/grants/revoke"),
            &[("csrf", &csrf), ("grant", &hidden(&page, "grant").unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Exactly one of the two applications lost its access.
    let (a, b) = (
        rp.refresh(&app, &first, None).await,
        rp.refresh(&app, &second, None).await,
    );
    let (kept, revoked) = match a.status() {
        StatusCode::OK => (a, b),
        _ => (b, a),
    };
    assert_oauth_error(revoked, 400, "invalid_grant").await;
    let kept = s(&ok_json(kept, StatusCode::OK).await, "refresh_token");

    let res = agent
        .post(
            &app,
            &app.url("/realms/demo/account/sign-out-everywhere"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_oauth_error(rp.refresh(&app, &kept, None).await, 400, "invalid_grant").await;
    let res = agent.get(&app, &app.url("/realms/demo/account")).await;
    assert_eq!(res.status(), StatusCode::FOUND, "signed out");
}

#[tokio::test]
async fn unlinking_the_last_way_to_sign_in_and_the_last_admin_leaving_are_refused() {
    let app = crate::helpers::spawn_federated().await;
    let fake = FakeIdp::start().await;
    add_idp(&app, "demo", fake.registration("fake"), json!({})).await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let res = broker_login(&app, &mut agent, &rp, "fake").await;
    rp.callback(&res);
    let page = account_page(&app, &mut agent, "demo", "-", "-").await;
    assert!(page.contains("name=\"provider\" value=\"fake\""), "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let res = agent
        .post(
            &app,
            &app.url("/realms/demo/account/unlink"),
            &[("csrf", &csrf), ("provider", "fake")],
        )
        .await;
    let body = expect_status(res, StatusCode::CONFLICT).await;
    assert!(body.contains("only way to sign in"), "{body}");

    // The upstream user administers organization globex alone.
    let found = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/users?search=user1%40upstream.test",
            None,
        )
        .await;
    let list = found.get("items").unwrap_or(&found);
    let id = s(&list[0], "id");
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations",
        Some(json!({ "alias": "globex", "name": "Globex" })),
    )
    .await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations/globex/members",
        Some(json!({ "user_id": id, "roles": ["admin"] })),
    )
    .await;
    let leave = || {
        let (mut agent, csrf, app) = (agent.clone(), csrf.clone(), &app);
        async move {
            agent
                .post(
                    app,
                    &app.url("/realms/demo/account/leave"),
                    &[("csrf", &csrf), ("organization", "globex")],
                )
                .await
        }
    };
    let body = expect_status(leave().await, StatusCode::CONFLICT).await;
    assert!(body.contains("at least one administrator"), "{body}");
    let demo = app
        .admin_ok(Method::GET, "/admin/realms/demo/users?search=demo", None)
        .await;
    let demo = s(&demo.get("items").unwrap_or(&demo)[0], "id");
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations/globex/members",
        Some(json!({ "user_id": demo, "roles": ["admin"] })),
    )
    .await;
    assert_eq!(leave().await.status(), StatusCode::SEE_OTHER);
    let page = agent
        .get(&app, &app.url("/realms/demo/account?notice=left"))
        .await;
    assert!(!page.text().await.unwrap().contains("Globex"));
    // Both the leaving and the refused unlink's absence are in the audit log.
    let events = app
        .admin_ok(Method::GET, "/admin/realms/demo/events?kind=security", None)
        .await;
    assert!(events.to_string().contains("org_left"), "{events}");
}

#[tokio::test]
async fn a_password_change_ends_every_other_access_and_an_old_reset_link_and_managed_members_stay()
{
    let app = spawn_app().await;
    let mut inbox = with_smtp(&app, "demo").await;
    let pw = app.seeded("demo");
    // Another browser holds an application's refresh token.
    let secret = app.seeded("demo-app");
    let rp = Rp::new(
        "demo",
        "demo-app",
        Some(&secret),
        "http://127.0.0.1:9999/cb",
    );
    let mut other = Agent::default();
    let cb = rp
        .login_consenting(&app, &mut other, "demo", &pw, &[])
        .await;
    let refresh = s(&rp.tokens(&app, &cb["code"]).await, "refresh_token");
    // A reset link asked for before the change.
    let (status, _) = forgot(&app, "demo", "demo").await;
    assert_eq!(status, StatusCode::OK);
    let reset = next_mail(&mut inbox).await.link().unwrap();
    // The password changes on the account page.
    let mut agent = Agent::default();
    let page = account_page(&app, &mut agent, "demo", "demo", &pw).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let res = agent
        .post(
            &app,
            &app.url("/realms/demo/account/password"),
            &[
                ("csrf", &csrf),
                ("current_password", &pw),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The other browser's application lost its refresh token; this browser stays in.
    let res = app
        .post_basic(
            "demo",
            "token",
            "demo-app",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    account_page(&app, &mut agent, "demo", "demo", "unused").await;
    // An address change makes the reset link mailed to the old address worthless.
    let id = app
        .admin_ok(Method::GET, "/admin/realms/demo/users?search=demo", None)
        .await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut u = user(&app, "demo", &id).await;
    u["email"] = json!("demo-moved@example.com");
    for k in ["id", "created_at", "email_verified"] {
        u.as_object_mut().unwrap().remove(k);
    }
    let res = app
        .admin(
            Method::PUT,
            &format!("/admin/realms/demo/users/{id}"),
            Some(u),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = Agent::default().get(&app, &local_url(&app, &reset)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A managed member cannot leave the organization that owns their account.
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/demo/organizations",
            Some(json!({ "alias": "owner", "name": "Owner" })),
        )
        .await;
    assert!(res.status().is_success());
    let res = app
        .admin(
            Method::POST,
            "/admin/realms/demo/organizations/owner/members",
            Some(json!({ "user_id": id, "managed": true })),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = agent
        .post(
            &app,
            &app.url("/realms/demo/account/leave"),
            &[("csrf", &csrf), ("organization", "owner")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_account_page_mails_three_links_then_one_per_five_minutes() {
    let app = spawn_app().await;
    let mut inbox = with_smtp(&app, "demo").await;
    let pw = app.seeded("demo");
    let mut agent = Agent::default();
    let page = account_page(&app, &mut agent, "demo", "demo", &pw).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let change = |to: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("email", to.to_owned()),
            ("current_password", pw.clone()),
        ]
    };
    for (i, to) in ["a@flood.test", "b@flood.test", "c@flood.test"]
        .into_iter()
        .enumerate()
    {
        let form = change(to);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = agent
            .post(&app, &app.url("/realms/demo/account/email"), &form)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "link {i}");
        next_mail(&mut inbox).await;
    }
    let form = change("d@flood.test");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = agent
        .post(&app, &app.url("/realms/demo/account/email"), &form)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(5 * 60 + 1);
    let res = agent
        .post(&app, &app.url("/realms/demo/account/email"), &form)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "one more after five minutes"
    );
}
