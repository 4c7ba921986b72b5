//! The background jobs, each run once the way `Application::run_until_stopped` runs them
//! on a timer.

use crate::helpers::*;
use reqwest::StatusCode;
use tessera::jobs;
use tessera_storage::ExchangeFilter;

#[tokio::test]
async fn the_expiry_sweep_removes_revocations_only_once_their_tokens_have_expired() {
    let app = spawn_app().await;
    let token = app.demo_token().await;
    let res = app
        .post_basic(
            "demo",
            "revoke",
            "demo-service",
            &app.demo_secret,
            &[("token", &token)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Still within the token's lifetime: the revocation entry must stay.
    assert_eq!(
        jobs::expiry_sweep::run_once(&app.provider).await.unwrap(),
        0
    );
    app.clock.advance(24 * 3600);
    let swept = jobs::expiry_sweep::run_once(&app.provider).await.unwrap();
    assert!(swept >= 1, "the expired revocation is swept");
    assert_eq!(
        jobs::expiry_sweep::run_once(&app.provider).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn the_exchange_log_writer_stores_what_exchanges_buffered() {
    let app = spawn_app().await;
    let rp = Rp::demo_app(&app);
    let mut agent = Agent::default();
    let cb = rp.login_demo(&app, &mut agent, &[]).await;
    let subject = s(&rp.tokens(&app, &cb["code"]).await, "access_token");
    let res = rp
        .token(
            &app,
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", &subject),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("audience", "demo-service"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let realm = app.provider.realm("demo").await.unwrap().realm.id;
    let stored = || async {
        app.provider
            .store()
            .list_exchange_records(realm, &ExchangeFilter::default(), 10)
            .await
            .unwrap()
            .len()
    };
    // The request only appended to memory (unless the timer's writer got there first).
    let before = stored().await;
    jobs::exchange_log::run_once(&app.provider).await.unwrap();
    assert_eq!(stored().await, 1, "written once (before: {before})");
    jobs::exchange_log::run_once(&app.provider).await.unwrap();
    assert_eq!(stored().await, 1, "nothing twice");
}
