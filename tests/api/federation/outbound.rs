//! Tessera's calls to the upstream (XID-10): discovery and JWKS cached, answers bounded in size
//! and time, redirects never followed, private addresses refused unless allowed.

use super::*;

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused() {
    let app = spawn_federated().await;
    let fake = FakeIdp::start().await;
    fake.set(|b| b.metadata = json!({ "issuer": "https://impostor.test" }));
    add_idp(&app, "demo", fake.registration("fake"), json!({})).await;
    let rp = Rp::demo_app(&app);
    let res = press_provider(&app, &mut Agent::default(), &rp, "fake").await;
    assert_upstream_failure_page(res, "issuer mismatch").await;
    assert_eq!(fake.counts().authorize, 0);
}

#[tokio::test]
async fn discovery_and_jwks_are_fetched_once_for_three_logins() {
    let (app, fake, rp) = with_fake(json!({})).await;
    for _ in 0..3 {
        rp.callback(&login_via_fake(&app, &rp).await);
    }
    let c = fake.counts();
    assert_eq!((c.discovery, c.jwks, c.authorize, c.token), (1, 1, 3, 3));
    // The metrics name the provider with its realm: two realms may both have a `fake`.
    let metrics = app.metrics().await;
    let calls = |peer: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with("tessera_outbound_requests_total{"))
            .filter(|l| l.contains(&format!("peer=\"{peer}\"")))
            .count()
    };
    assert!(calls("idp:demo/fake") > 0, "{metrics}");
    assert_eq!(calls("idp:fake"), 0, "{metrics}");
}

/// `answer` at `endpoint`, the other endpoints normal.
fn at(endpoint: &str, answer: Answer) -> Answers {
    let mut a = Answers::default();
    *match endpoint {
        "discovery" => &mut a.discovery,
        "jwks" => &mut a.jwks,
        "token" => &mut a.token,
        _ => &mut a.userinfo,
    } = answer;
    a
}

/// A login in one browser through a fresh fake answering `answers`, registered as `alias`:
/// Tessera's last answer (at the button when the upstream's metadata is out of reach, else at
/// its broker endpoint) and how long it all took. Returns the fake to keep it running.
async fn login_through(
    app: &TestApp,
    rp: &Rp,
    alias: &str,
    answers: Answers,
) -> (FakeIdp, reqwest::Response, Duration) {
    let fake = FakeIdp::start().await;
    fake.set(|b| b.answers = answers);
    add_idp(app, "demo", fake.registration(alias), json!({})).await;
    let mut agent = Agent::default();
    let started = Instant::now();
    let res = press_provider(app, &mut agent, rp, alias).await;
    let to_fake = header(&res, "location").is_some_and(|l| l.starts_with(&fake.issuer()));
    let res = if to_fake {
        broker_return(app, &mut agent, res).await
    } else {
        res
    };
    (fake, res, started.elapsed())
}

#[tokio::test]
async fn failing_oversized_or_slow_upstream_answers_end_in_an_error_page_within_seconds_xid_10() {
    let app = spawn_federated().await;
    let rp = Rp::demo_app(&app);
    let (_fake, res, _) = login_through(&app, &rp, "normal", Answers::default()).await;
    rp.callback(&res);
    let cases = [
        ("token", Answer::Error),
        ("userinfo", Answer::Error),
        ("token", Answer::Oversized),
        ("token", Answer::Slow),
        ("userinfo", Answer::Oversized),
        ("userinfo", Answer::Slow),
        ("jwks", Answer::Oversized),
        ("discovery", Answer::Oversized),
        ("discovery", Answer::Slow),
    ];
    for (i, (endpoint, answer)) in cases.into_iter().enumerate() {
        let what = format!("{endpoint} {answer:?}");
        let alias = format!("case-{i}");
        let (_fake, res, took) = login_through(&app, &rp, &alias, at(endpoint, answer)).await;
        assert_upstream_failure_page(res, &what).await;
        assert!(took < SLOW - Duration::from_secs(2), "{what}: {took:?}");
    }
}

#[tokio::test]
async fn upstream_redirects_are_not_followed_xid_10() {
    let app = spawn_federated().await;
    let rp = Rp::demo_app(&app);
    // A look-alike upstream serving the same keys: whoever follows a redirect to it is caught.
    let decoy = FakeIdp::start().await;
    let (_fake, res, _) = login_through(&app, &rp, "normal", Answers::default()).await;
    rp.callback(&res);
    let cases = [
        ("discovery", METADATA_URL.to_owned()),
        ("discovery", decoy.url("/.well-known/openid-configuration")),
        ("jwks", decoy.url("/jwks")),
    ];
    for (i, (endpoint, to)) in cases.into_iter().enumerate() {
        let answers = at(endpoint, Answer::RedirectTo(to.clone()));
        let (_fake, res, took) = login_through(&app, &rp, &format!("case-{i}"), answers).await;
        let what = format!("{endpoint} redirected to {to}");
        assert_upstream_failure_page(res, &what).await;
        assert!(took < Duration::from_secs(8), "{what}: {took:?}");
    }
    assert_eq!(decoy.counts(), Counts::default());
}

#[tokio::test]
async fn loopback_upstream_is_refused_outright_when_private_addresses_are_off_xid_10() {
    let app = spawn_configured(database_url().await, None, |s| {
        s.outbound_allow_private = false;
    })
    .await;
    let fake = FakeIdp::start().await;
    let res = app
        .admin(
            Method::POST,
            &idp_path("demo", None),
            Some(fake.registration("fake")),
        )
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    assert_eq!(fake.counts(), Counts::default());
}
