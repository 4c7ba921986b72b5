//! Two servers on one database, as replicas behind a load balancer: whatever must hold
//! across requests (single use, failed-login budgets, background jobs' leadership) is in
//! the database, not in one process's memory.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;
use tessera_storage::Store;

#[tokio::test]
async fn failed_logins_through_one_replica_count_against_the_other() {
    let a = spawn_app().await;
    let b = spawn_replica(&a).await;
    let rp = Rp::demo_app(&a);
    let mut agent = Agent::default();
    let state = rp.login_page(&a, &mut agent, &rp.auth_url(&a, &[])).await;
    // The account budget is 5 failures; all of them spent through A.
    for i in 0..5 {
        let res = rp
            .submit_login(&a, &mut agent, &state, "demo", "wrong")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let page = res.text().await.unwrap();
        assert!(page.contains("Invalid username or password"), "attempt {i}");
    }
    // B refuses even the right password, before checking it.
    let mut agent_b = Agent::default();
    let res = rp
        .sign_in(&b, &mut agent_b, "demo", &a.seeded("demo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let page = res.text().await.unwrap();
    assert!(page.contains("Too many failed attempts"), "{page}");
    // One interval (12 s) later on B's clock, B lets the right password in.
    b.clock.advance(12);
    let cb = rp.login_demo(&b, &mut Agent::default(), &[]).await;
    assert!(cb.contains_key("code"), "{cb:?}");
}

#[tokio::test]
async fn a_code_redeemed_through_one_replica_is_refused_by_the_other() {
    let a = spawn_app().await;
    let b = spawn_replica(&a).await;
    let rp = Rp::demo_app(&a);
    let cb = rp.login_demo(&a, &mut Agent::default(), &[]).await;
    let t = rp.tokens(&a, &cb["code"]).await;
    let again = rp.redeem_with(&b, &cb["code"], VERIFIER).await;
    assert_oauth_error(again, 400, "invalid_grant").await;
    // Reuse revoked the grant, whichever process saw it: A's refresh token is dead on B too.
    let refresh = rp
        .token(
            &b,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&t, "refresh_token")),
            ],
        )
        .await;
    assert_oauth_error(refresh, 400, "invalid_grant").await;
}

/// Two pools on one PostgreSQL database, as two processes would have.
async fn two_postgres_stores() -> Option<(Store, Store)> {
    let Some(url) = std::env::var("TESSERA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "skipped: job locks are PostgreSQL advisory locks (set TESSERA_TEST_DATABASE_URL)"
        );
        return None;
    };
    Some((
        Store::connect(&url, 2).await.unwrap(),
        Store::connect(&url, 2).await.unwrap(),
    ))
}

#[tokio::test]
async fn of_two_processes_one_leads_a_job_until_its_lock_is_released_or_dropped() {
    let Some((one, two)) = two_postgres_stores().await else {
        return;
    };
    // A job name of its own: tests share the server, and locks are per database.
    let job = format!("test_{}", uuid::Uuid::new_v4().simple());
    let (mut a, mut b) = (one.job_lock(&job), two.job_lock(&job));
    assert!(a.lead().await.unwrap());
    assert!(!b.lead().await.unwrap());
    assert!(a.lead().await.unwrap(), "the leader keeps leading");
    assert!(!b.lead().await.unwrap());
    // Another job is not held by this one's lock.
    assert!(two.job_lock(&format!("{job}_other")).lead().await.unwrap());
    a.release().await;
    assert!(b.lead().await.unwrap());
    assert!(!a.lead().await.unwrap());
    // A leader that vanishes without releasing (a killed process) frees the job too, once
    // the server sees its connection end.
    drop(b);
    let mut took = false;
    for _ in 0..50 {
        if a.lead().await.unwrap() {
            took = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(took, "the lock of a dropped connection is released");
}

#[tokio::test]
async fn on_sqlite_the_one_process_always_leads_its_jobs() {
    let store = Store::connect("sqlite::memory:", 1).await.unwrap();
    let mut a = store.job_lock("expiry_sweep");
    let mut b = store.job_lock("expiry_sweep");
    assert!(a.lead().await.unwrap() && b.lead().await.unwrap());
}

#[tokio::test]
async fn two_servers_starting_together_on_an_empty_database_both_come_up_and_one_seeds() {
    let Some(url) = database_url().await else {
        eprintln!("SQLite: one server per data directory; nothing to race");
        return;
    };
    use base64::Engine;
    let bytes = [
        uuid::Uuid::new_v4().into_bytes(),
        uuid::Uuid::new_v4().into_bytes(),
    ]
    .concat();
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    // Migrations and seeding race here: they take turns (an advisory lock) or step aside.
    let (a, b) = tokio::join!(
        spawn(Some(url.clone()), Some(key.clone())),
        spawn(Some(url), Some(key))
    );
    assert!(
        a.seeded.is_empty() != b.seeded.is_empty(),
        "exactly one seeds: {} and {}",
        a.seeded.len(),
        b.seeded.len()
    );
    for app in [&a, &b] {
        for realm in ["master", "demo"] {
            assert_eq!(
                app.discovery(realm).await.status(),
                StatusCode::OK,
                "{realm}"
            );
        }
    }
}
