//! An organization's own provider (issue 13, point 5): the people it signs in become managed
//! members (gone with the organization), it answers only for the organization's domains,
//! its button names the organization, and addresses under its verified domains go to it.

use super::*;

/// Organization `globex` with `domain` (verified or not), and a [`FakeIdp`] as its provider
/// `globex-sso` for `globex.test`, redirecting on domain, with the upstream user
/// `bob@<email domain>` verified.
async fn globex(verified: bool, email_domain: &str) -> (TestApp, FakeIdp, Rp) {
    let app = spawn_federated().await;
    app.admin_ok(
        Method::POST,
        "/admin/realms/demo/organizations",
        Some(json!({"alias": "globex", "name": "Globex Corporation",
                    "domains": [{"name": "globex.test", "verified": verified}]})),
    )
    .await;
    let fake = FakeIdp::start().await;
    fake.set(|b| b.user_email(&format!("bob@{email_domain}"), true));
    add_idp(
        &app,
        "demo",
        fake.registration("globex-sso"),
        json!({"organization": "globex", "domains": ["globex.test"],
               "redirect_on_domain": true, "trust_email": true}),
    )
    .await;
    let rp = Rp::demo_app(&app);
    (app, fake, rp)
}

fn goes_to(res: &reqwest::Response, fake: &FakeIdp) -> bool {
    res.status() == StatusCode::SEE_OTHER
        && header(res, "location").is_some_and(|l| l.starts_with(&fake.issuer()))
}

#[tokio::test]
async fn an_organization_provider_signs_people_in_as_managed_members_who_go_with_the_organization()
{
    let (app, fake, rp) = globex(true, "globex.test").await;
    let page = Agent::default().get(&app, &rp.auth_url(&app, &[])).await;
    // The page's forms may lead to the provider (button, or an address under its domain).
    let csp = header(&page, "content-security-policy").unwrap();
    let origin = url::Url::parse(&fake.issuer())
        .unwrap()
        .origin()
        .ascii_serialization();
    let form_action = csp.split(';').find(|d| d.contains("form-action")).unwrap();
    assert!(form_action.contains(&origin), "{csp}");
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Globex Corporation"),
        "the button names the organization: {page}"
    );

    let res = broker_login(&app, &mut Agent::default(), &rp, "globex-sso").await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert_eq!(user["email"], "bob@globex.test");
    let members = app
        .admin_ok(
            Method::GET,
            "/admin/realms/demo/organizations/globex/members",
            None,
        )
        .await;
    let bob = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user["id"])
        .expect("bob is a member")
        .clone();
    assert_eq!(bob["managed"], true);
    assert_eq!(bob["roles"], json!(["member"]));

    app.admin_ok(
        Method::DELETE,
        "/admin/realms/demo/organizations/globex",
        None,
    )
    .await;
    let gone = app
        .admin(
            Method::GET,
            &format!("/admin/realms/demo/users/{}", s(&user, "id")),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND, "managed users go too");
    let idps = app
        .admin_ok(Method::GET, &idp_path("demo", None), None)
        .await;
    assert_eq!(idps.as_array().map(Vec::len), Some(0), "{idps}");
}

#[tokio::test]
async fn an_organization_provider_is_refused_an_address_outside_the_organization_domains() {
    let (app, _fake, rp) = globex(true, "elsewhere.test").await;
    assert_refused_creating_nobody(&app, &rp, "bob@elsewhere.test").await;
}

/// A sign-in through `globex-sso` ends on an error page, and nobody with `email` exists.
async fn assert_refused_creating_nobody(app: &TestApp, rp: &Rp, email: &str) {
    let res = broker_login(app, &mut Agent::default(), rp, "globex-sso").await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_error_page(res, email).await;
    assert!(
        users(app, "demo").await.iter().all(|u| u["email"] != email),
        "nobody was created"
    );
}

#[tokio::test]
async fn an_organization_provider_is_refused_an_address_under_a_domain_not_verified_yet() {
    // The provider names globex.test, which the organization claims but has not verified.
    let (app, _fake, rp) = globex(false, "globex.test").await;
    assert_refused_creating_nobody(&app, &rp, "bob@globex.test").await;
    // Once verified, the same sign-in goes through.
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/organizations/globex/domains/globex.test",
        Some(json!({ "verified": true })),
    )
    .await;
    let res = broker_login(&app, &mut Agent::default(), &rp, "globex-sso").await;
    let (_, user) = signed_in_user(&app, &rp, &res).await;
    assert_eq!(user["email"], "bob@globex.test");
}

#[tokio::test]
async fn an_address_under_a_verified_redirecting_domain_goes_to_the_organization_provider() {
    let (app, fake, rp) = globex(true, "globex.test").await;
    // As login_hint on the authorization request…
    let res = Agent::default()
        .get(
            &app,
            &rp.auth_url(&app, &[("login_hint", "Bob@Globex.test")]),
        )
        .await;
    assert!(goes_to(&res, &fake), "{:?}", header(&res, "location"));
    // …and typed on the login page (the password typed there is never checked).
    let mut agent = Agent::default();
    let state = rp
        .login_page(&app, &mut agent, &rp.auth_url(&app, &[]))
        .await;
    let res = rp
        .submit_login(&app, &mut agent, &state, "bob@globex.test", "not checked")
        .await;
    assert!(goes_to(&res, &fake), "{:?}", header(&res, "location"));
    // Other addresses sign in here.
    let res = Agent::default()
        .get(
            &app,
            &rp.auth_url(&app, &[("login_hint", "bob@other.test")]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unverified_domain_does_not_route_sign_ins_to_the_organization_provider() {
    let (app, fake, rp) = globex(false, "globex.test").await;
    let res = Agent::default()
        .get(
            &app,
            &rp.auth_url(&app, &[("login_hint", "bob@globex.test")]),
        )
        .await;
    assert!(!goes_to(&res, &fake));
    assert_eq!(res.status(), StatusCode::OK, "the login page");
}

#[tokio::test]
async fn a_disabled_organization_provider_signs_nobody_in_even_when_hinted() {
    let (app, fake, rp) = globex(true, "globex.test").await;
    app.admin_ok(
        Method::PUT,
        "/admin/realms/demo/organizations/globex",
        Some(json!({"alias": "globex", "name": "Globex Corporation", "enabled": false})),
    )
    .await;
    let page = Agent::default().get(&app, &rp.auth_url(&app, &[])).await;
    assert!(
        !page.text().await.unwrap().contains("Globex Corporation"),
        "no button"
    );
    // kc_idp_hint still reaches the provider, but the sign-in is refused on return.
    let mut agent = Agent::default();
    let res = agent
        .get(&app, &rp.auth_url(&app, &[("kc_idp_hint", "globex-sso")]))
        .await;
    assert!(goes_to(&res, &fake));
    let res = broker_return(&app, &mut agent, res).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "{:?}",
        header(&res, "location")
    );
    assert_error_page(res, "disabled organization").await;
}
