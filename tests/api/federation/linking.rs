//! An upstream user whose e-mail is a local account's (XID-6, XID-7): linked only after the
//! local password, never on an unverified address.

use super::*;

/// Local user `alice` (alice@x.test, verified, password [`PW`]) in demo, and the fake as
/// provider `fake` with trust_email. Returns alice's id too.
async fn alice_and_fake() -> (TestApp, FakeIdp, Rp, String) {
    let (app, fake, rp) = with_fake(json!({ "trust_email": true })).await;
    let alice = app
        .admin_ok(
            Method::POST,
            "/admin/realms/demo/users",
            Some(json!({
                "username": "alice",
                "email": "alice@x.test",
                "email_verified": true,
                "password": PW,
            })),
        )
        .await;
    (app, fake, rp, s(&alice, "id"))
}

#[tokio::test]
async fn unverified_upstream_email_of_a_local_account_is_refused_xid_6_xid_7() {
    let (app, fake, rp, alice) = alice_and_fake().await;
    let before = users(&app, "demo").await.len();
    for email in ["alice@x.test", "Alice@X.TEST"] {
        fake.set(|b| b.user_email(email, false));
        assert_broker_error(login_via_fake(&app, &rp).await, "account_exists").await;
    }
    assert!(federated_identities(&app, "demo", &alice).await.is_empty());
    assert_eq!(users(&app, "demo").await.len(), before);
}

#[tokio::test]
async fn verified_upstream_email_of_a_local_account_is_not_linked_without_its_password_xid_6() {
    let (app, fake, rp, alice) = alice_and_fake().await;
    let before = users(&app, "demo").await.len();
    fake.set(|b| b.user_email("alice@x.test", true));
    let mut agent = Agent::default();
    let (action, pending) = link_form(broker_login(&app, &mut agent, &rp, "fake").await).await;
    assert_eq!(action, "/realms/demo/login-actions/link");
    assert!(federated_identities(&app, "demo", &alice).await.is_empty());
    let res = agent
        .post(
            &app,
            &app.url(&action),
            &[("pending", &pending), ("password", "wrong password")],
        )
        .await;
    let to_client = header(&res, "location").is_some_and(|l| l.starts_with(REDIRECT));
    assert!(!to_client, "signed in with a wrong password");
    assert!(federated_identities(&app, "demo", &alice).await.is_empty());
    assert_eq!(users(&app, "demo").await.len(), before);
}

#[tokio::test]
async fn linking_with_the_local_password_joins_the_accounts_for_later_logins_xid_6() {
    let (app, fake, rp, alice) = alice_and_fake().await;
    fake.set(|b| b.user_email("alice@x.test", true));
    let mut agent = Agent::default();
    let (action, pending) = link_form(broker_login(&app, &mut agent, &rp, "fake").await).await;
    let res = agent
        .post(
            &app,
            &app.url(&action),
            &[("pending", &pending), ("password", PW)],
        )
        .await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert_eq!(user["id"], alice);
    let links = federated_identities(&app, "demo", &alice).await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["identity_provider"], "fake");
    assert_eq!(links[0]["user_id"], "upstream-user-1");
    // Later logins land on alice at once.
    let (_, later) = signed_in_user(&app, &rp, &login_via_fake(&app, &rp).await).await;
    assert_eq!(later["id"], alice);
}
