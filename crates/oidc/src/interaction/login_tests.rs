//! Users and password logins through the engine, on an in-memory database and a fixed
//! clock. Realms use tiny Argon2id costs so the tests stay fast; the default stays OWASP.

use crate::admin::AdminPrincipal;
use crate::crypto::MasterKey;
use crate::interaction::passwords::{LoginConfig, LoginError, needs_rehash};
use crate::test_util::{NOW, provider};
use crate::{OAuthError, Provider, ProviderConfig};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::{
    Email, FixedClock, NewUser, PasswordParams, RealmSettings, User, UserId, Username,
};
use tessera_storage::Store;

const FAST: PasswordParams = PasswordParams {
    m_cost: 128,
    t_cost: 1,
    p_cost: 1,
};
const PASSWORD: &str = "correct horse battery";

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn new_user(name: &str, email: Option<&str>) -> NewUser {
    NewUser {
        email: email.map(|e| Email::parse(e).unwrap()),
        ..NewUser::new(Username::parse(name).unwrap())
    }
}

async fn fast_realm(p: &Provider, name: &str) {
    p.create_realm(
        &AdminPrincipal::operator(),
        name,
        RealmSettings {
            password_params: Some(FAST),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// Realm `r` (fast hashing) with `alice` <Alice@Example.com> and her password.
async fn setup() -> (Provider, Arc<FixedClock>, User) {
    let (p, clock) = provider().await;
    fast_realm(&p, "r").await;
    let alice = p
        .create_user(
            &AdminPrincipal::operator(),
            "r",
            new_user("alice", Some("Alice@Example.com")),
            Some(PASSWORD.into()),
        )
        .await
        .unwrap();
    (p, clock, alice)
}

async fn login(
    p: &Provider,
    realm: &str,
    who: &str,
    pw: &str,
    from: &str,
) -> Result<User, LoginError> {
    let ctx = p.realm(realm).await.unwrap();
    p.authenticate_user(&ctx, who, pw, ip(from)).await
}

#[tokio::test]
async fn users_log_in_with_username_or_email_in_any_case() {
    let (p, _, alice) = setup().await;
    for who in ["alice", "ALICE", "alice@example.com", "ALICE@EXAMPLE.COM"] {
        let u = login(&p, "r", who, PASSWORD, "192.0.2.1").await.unwrap();
        assert_eq!(u.id, alice.id, "{who}");
    }
    let ctx = p.realm("r").await.unwrap();
    assert!(
        p.authenticate_user(&ctx, "alice", PASSWORD, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn wrong_passwords_unknown_users_and_users_without_password_look_alike() {
    let (p, _, _) = setup().await;
    p.create_user(
        &AdminPrincipal::operator(),
        "r",
        new_user("nopass", None),
        None,
    )
    .await
    .unwrap();
    for (who, pw) in [
        ("alice", "wrong password"),
        ("alice", ""),
        ("nobody", PASSWORD),
        ("nopass", PASSWORD),
        ("nopass", ""),
        ("", ""),
        ("a b", PASSWORD),
        (&"x".repeat(5000), PASSWORD),
        ("alice", &"p".repeat(5000)),
    ] {
        assert_eq!(
            login(&p, "r", who, pw, "192.0.2.1").await.unwrap_err(),
            LoginError::InvalidCredentials,
            "{who:.20} / {pw:.20}"
        );
    }
}

#[tokio::test]
async fn a_disabled_user_is_told_only_after_the_right_password() {
    let (p, _, alice) = setup().await;
    let mut profile = new_user("alice", Some("Alice@Example.com"));
    profile.enabled = false;
    p.update_user(&AdminPrincipal::operator(), "r", alice.id, profile)
        .await
        .unwrap();
    assert_eq!(
        login(&p, "r", "alice", "wrong password", "192.0.2.1").await,
        Err(LoginError::InvalidCredentials)
    );
    assert_eq!(
        login(&p, "r", "alice", PASSWORD, "192.0.2.1").await,
        Err(LoginError::Disabled)
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_account_and_refill_with_the_clock() {
    let (p, clock, _) = setup().await;
    for i in 0..5 {
        // From a new address each time: only the account budget is in play.
        let from = format!("192.0.2.{i}");
        assert_eq!(
            login(&p, "r", "alice", "wrong password", &from).await,
            Err(LoginError::InvalidCredentials)
        );
    }
    // Blocked before the password is checked: even the right one, by either name.
    for who in ["alice", "alice@example.com"] {
        assert_eq!(
            login(&p, "r", who, PASSWORD, "198.51.100.1").await,
            Err(LoginError::RateLimited {
                retry_after_secs: 12
            })
        );
    }
    clock.advance(12);
    login(&p, "r", "alice", PASSWORD, "198.51.100.1")
        .await
        .unwrap();
    // Successes are free; one failure empties the refilled cell again.
    login(&p, "r", "alice", PASSWORD, "198.51.100.1")
        .await
        .unwrap();
    assert_eq!(
        login(&p, "r", "alice", "wrong password", "198.51.100.1").await,
        Err(LoginError::InvalidCredentials)
    );
    assert!(matches!(
        login(&p, "r", "alice", PASSWORD, "198.51.100.1").await,
        Err(LoginError::RateLimited { .. })
    ));
    // Guessing names of users that do not exist is limited the same way.
    for _ in 0..5 {
        let _ = login(&p, "r", "ghost", "x", "203.0.113.9").await;
    }
    assert!(matches!(
        login(&p, "r", "GHOST", "x", "203.0.113.10").await,
        Err(LoginError::RateLimited { .. })
    ));
}

#[tokio::test]
async fn failed_logins_are_limited_per_address_and_ipv6_per_64() {
    let (p, clock, _) = setup().await;
    for i in 0..20 {
        let who = format!("user{i}");
        let _ = login(&p, "r", &who, "x", "2001:db8::1").await;
    }
    let blocked = login(&p, "r", "alice", PASSWORD, "2001:db8::ffff").await;
    assert_eq!(
        blocked,
        Err(LoginError::RateLimited {
            retry_after_secs: 3
        })
    );
    // Another address, and a login without a known address, are unaffected.
    login(&p, "r", "alice", PASSWORD, "2001:db8:0:1::1")
        .await
        .unwrap();
    let ctx = p.realm("r").await.unwrap();
    p.authenticate_user(&ctx, "alice", PASSWORD, None)
        .await
        .unwrap();
    clock.advance(3);
    login(&p, "r", "alice", PASSWORD, "2001:db8::1")
        .await
        .unwrap();
}

#[tokio::test]
async fn login_budgets_are_per_realm_iso_5() {
    let (p, _, _) = setup().await;
    fast_realm(&p, "b").await;
    p.create_user(
        &AdminPrincipal::operator(),
        "b",
        new_user("alice", None),
        Some(PASSWORD.into()),
    )
    .await
    .unwrap();
    for _ in 0..20 {
        let _ = login(&p, "r", "alice", "wrong password", "192.0.2.7").await;
    }
    assert!(matches!(
        login(&p, "r", "alice", PASSWORD, "192.0.2.7").await,
        Err(LoginError::RateLimited { .. })
    ));
    let b_alice = login(&p, "b", "alice", PASSWORD, "192.0.2.7")
        .await
        .unwrap();
    assert_eq!(b_alice.realm_id, p.realm("b").await.unwrap().realm.id);
    // Realm a's password does not open realm b's user of the same name (ISO-9).
    p.set_user_password(
        &AdminPrincipal::operator(),
        "b",
        b_alice.id,
        "another password",
    )
    .await
    .unwrap();
    assert_eq!(
        login(&p, "b", "alice", PASSWORD, "192.0.2.8").await,
        Err(LoginError::InvalidCredentials)
    );
}

#[tokio::test]
async fn a_saturated_hashing_pool_answers_busy() {
    let store = Store::connect("sqlite::memory:", 1).await.unwrap();
    store.migrate().await.unwrap();
    let p = Provider::new(
        store,
        MasterKey::from_bytes(&[7; 32]).unwrap(),
        Arc::new(FixedClock::new(NOW)),
        ProviderConfig {
            login: LoginConfig {
                hash_workers: 1,
                hash_queue: 0,
                hash_queue_timeout: Duration::from_secs(30),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    fast_realm(&p, "r").await;
    p.create_user(
        &AdminPrincipal::operator(),
        "r",
        new_user("alice", None),
        Some(PASSWORD.into()),
    )
    .await
    .unwrap();
    let held = p.password_hasher().saturate();
    assert_eq!(
        login(&p, "r", "alice", PASSWORD, "192.0.2.1").await,
        Err(LoginError::Busy)
    );
    let e: OAuthError = LoginError::Busy.into();
    assert_eq!(e.status(), 503);
    assert!(matches!(
        p.create_user(
            &AdminPrincipal::operator(),
            "r",
            new_user("bob", None),
            Some(PASSWORD.into())
        )
        .await,
        Err(OAuthError::TemporarilyUnavailable)
    ));
    drop(held);
    login(&p, "r", "alice", PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    // Busy answers are not failures: nothing was charged.
    for _ in 0..4 {
        let _ = login(&p, "r", "alice", "wrong password", "192.0.2.1").await;
    }
    login(&p, "r", "alice", PASSWORD, "192.0.2.1")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_login_rehashes_with_the_realms_new_parameters() {
    let (p, _, alice) = setup().await;
    let stronger = PasswordParams {
        m_cost: 256,
        ..FAST
    };
    p.update_realm(
        &AdminPrincipal::operator(),
        "r",
        RealmSettings {
            password_params: Some(stronger),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let stored = |p: &Provider| {
        let store = p.store().clone();
        let realm = alice.realm_id;
        async move {
            store
                .find_user_credentials(realm, "alice")
                .await
                .unwrap()
                .unwrap()
                .1
                .unwrap()
        }
    };
    assert!(needs_rehash(&stored(&p).await, stronger));
    login(&p, "r", "alice", PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    let mut upgraded = false;
    for _ in 0..200 {
        if !needs_rehash(&stored(&p).await, stronger) {
            upgraded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(upgraded, "the hash was not upgraded");
    login(&p, "r", "alice", PASSWORD, "192.0.2.1")
        .await
        .unwrap();
}

#[tokio::test]
async fn new_realms_hash_with_owasp_defaults() {
    let (p, _) = provider().await;
    p.create_realm(&AdminPrincipal::operator(), "d", RealmSettings::default())
        .await
        .unwrap();
    let u = p
        .create_user(
            &AdminPrincipal::operator(),
            "d",
            new_user("alice", None),
            Some(PASSWORD.into()),
        )
        .await
        .unwrap();
    let (_, hash) = p
        .store()
        .find_user_credentials(u.realm_id, "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.unwrap().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "OWASP defaults"
    );
}

#[tokio::test]
async fn user_administration_validates_and_names_conflicts() {
    let (p, _, alice) = setup().await;
    let code = |r: Result<User, OAuthError>| r.unwrap_err().code();
    assert_eq!(
        code(
            p.create_user(
                &AdminPrincipal::operator(),
                "r",
                new_user("bob", None),
                Some("short".into())
            )
            .await
        ),
        "invalid_request"
    );
    assert_eq!(
        code(
            p.create_user(
                &AdminPrincipal::operator(),
                "r",
                new_user("bob", None),
                Some("x".repeat(1025))
            )
            .await
        ),
        "invalid_request"
    );
    let mut unverifiable = new_user("bob", None);
    unverifiable.email_verified = true;
    assert_eq!(
        code(
            p.create_user(&AdminPrincipal::operator(), "r", unverifiable, None)
                .await
        ),
        "invalid_request"
    );
    let mut long_name = new_user("bob", None);
    long_name.given_name = Some("x".repeat(201));
    assert_eq!(
        code(
            p.create_user(&AdminPrincipal::operator(), "r", long_name, None)
                .await
        ),
        "invalid_request"
    );
    let mut big = new_user("bob", None);
    big.attributes
        .insert("blob".into(), serde_json::json!("x".repeat(20_000)));
    assert_eq!(
        code(
            p.create_user(&AdminPrincipal::operator(), "r", big, None)
                .await
        ),
        "invalid_request"
    );

    let dup_name = p
        .create_user(
            &AdminPrincipal::operator(),
            "r",
            new_user("ALICE", None),
            None,
        )
        .await;
    assert!(
        matches!(&dup_name, Err(OAuthError::Conflict(d)) if d.contains("username")),
        "{dup_name:?}"
    );
    let dup_email = p
        .create_user(
            &AdminPrincipal::operator(),
            "r",
            new_user("alice2", Some("alice@EXAMPLE.com")),
            None,
        )
        .await;
    assert!(
        matches!(&dup_email, Err(OAuthError::Conflict(d)) if d.contains("email")),
        "{dup_email:?}"
    );
    let bob = p
        .create_user(
            &AdminPrincipal::operator(),
            "r",
            new_user("bob", None),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        p.update_user(
            &AdminPrincipal::operator(),
            "r",
            bob.id,
            new_user("alice", None)
        )
        .await,
        Err(OAuthError::Conflict(_))
    ));
    // Keeping one's own username and e-mail is no conflict.
    p.update_user(
        &AdminPrincipal::operator(),
        "r",
        alice.id,
        new_user("alice", Some("ALICE@example.com")),
    )
    .await
    .unwrap();
    assert_eq!(
        p.set_user_password(&AdminPrincipal::operator(), "r", bob.id, "short")
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    assert_eq!(
        p.set_user_password(&AdminPrincipal::operator(), "r", UserId::new_v7(), PASSWORD)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        p.list_users(
            &AdminPrincipal::operator(),
            "r",
            Some(&"x".repeat(257)),
            None,
            None
        )
        .await
        .unwrap_err()
        .code(),
        "invalid_request"
    );
}

#[tokio::test]
async fn users_are_addressed_only_through_their_realm_iso_5() {
    let (p, _, alice) = setup().await;
    fast_realm(&p, "b").await;
    let not_found = |r: Result<(), OAuthError>| r.unwrap_err().code();
    assert_eq!(
        p.get_user(&AdminPrincipal::operator(), "b", alice.id)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        p.update_user(
            &AdminPrincipal::operator(),
            "b",
            alice.id,
            new_user("x", None)
        )
        .await
        .unwrap_err()
        .code(),
        "not_found"
    );
    assert_eq!(
        not_found(
            p.set_user_password(&AdminPrincipal::operator(), "b", alice.id, "new password")
                .await
        ),
        "not_found"
    );
    assert_eq!(
        not_found(
            p.delete_user(&AdminPrincipal::operator(), "b", alice.id)
                .await
        ),
        "not_found"
    );
    assert!(
        p.list_users(&AdminPrincipal::operator(), "b", None, None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        p.find_user(&AdminPrincipal::operator(), "b", "alice")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    // Still there, password unchanged.
    login(&p, "r", "alice", PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    p.delete_user(&AdminPrincipal::operator(), "r", alice.id)
        .await
        .unwrap();
    assert_eq!(
        login(&p, "r", "alice", PASSWORD, "192.0.2.1").await,
        Err(LoginError::InvalidCredentials)
    );
}
