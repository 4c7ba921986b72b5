//! What Tessera checks on the upstream's ID token (XID-2, XID-3, XID-4, XID-9): every spoilt
//! token ends the login in an `invalid_id_token` page.

use super::*;

/// Each ID token of `cases` (merged into the fake's claims) ends the login in an
/// `invalid_id_token` page, and nobody is created.
async fn assert_id_tokens_refused(cases: &[Value]) {
    let (app, fake, rp) = with_fake(json!({})).await;
    let before = users(&app, "demo").await.len();
    for case in cases {
        fake.set(|b| b.id_token = case.clone());
        let page = assert_error_page(login_via_fake(&app, &rp).await, &case.to_string()).await;
        assert!(page.contains("invalid_id_token"), "{case}: {page}");
    }
    assert_eq!(users(&app, "demo").await.len(), before);
}

#[tokio::test]
async fn unsigned_id_token_is_refused_xid_2() {
    let (app, fake, rp) = with_fake(json!({})).await;
    fake.set(|b| b.alg = Alg::None);
    assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
}

#[tokio::test]
async fn id_token_signed_by_a_key_outside_the_jwks_is_refused_xid_2() {
    let (app, fake, rp) = with_fake(json!({})).await;
    rp.callback(&login_via_fake(&app, &rp).await);
    // Under its own (unknown) kid: one JWKS refetch at most, then refused.
    fake.set(|b| b.foreign_key = true);
    assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
    assert!(fake.counts().jwks <= 2, "{:?}", fake.counts());
    // Under the kid of a key the JWKS has.
    fake.set(|b| b.kid = Some("rs256-1".into()));
    assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
}

#[tokio::test]
async fn rotated_upstream_keys_cost_exactly_one_jwks_refetch() {
    let (app, fake, rp) = with_fake(json!({})).await;
    rp.callback(&login_via_fake(&app, &rp).await);
    assert_eq!(fake.counts().jwks, 1);
    fake.rotate_keys();
    rp.callback(&login_via_fake(&app, &rp).await);
    assert_eq!(fake.counts().jwks, 2);
    rp.callback(&login_via_fake(&app, &rp).await);
    assert_eq!(fake.counts().jwks, 2);
}

#[tokio::test]
async fn two_logins_under_unknown_kids_in_a_row_refetch_the_jwks_once_xid_2() {
    let (app, fake, rp) = with_fake(json!({})).await;
    rp.callback(&login_via_fake(&app, &rp).await);
    assert_eq!(fake.counts().jwks, 1);
    // A made-up kid refetches once; the next one within the refetch interval (5 s) is
    // refused from the keys at hand, so a stream of them cannot hammer the upstream.
    fake.set(|b| b.foreign_key = true);
    for _ in 0..2 {
        assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
    }
    assert_eq!(fake.counts().jwks, 2, "{:?}", fake.counts());
}

#[tokio::test]
async fn id_token_for_another_audience_is_refused_xid_4() {
    assert_id_tokens_refused(&[
        json!({ "aud": "another-client" }),
        json!({ "aud": ["another-client"] }),
    ])
    .await;
}

#[tokio::test]
async fn multi_audience_id_token_without_our_azp_is_refused_xid_4() {
    assert_id_tokens_refused(&[
        json!({ "aud": ["tessera", "another-client"] }),
        json!({ "aud": ["tessera", "another-client"], "azp": "another-client" }),
    ])
    .await;
}

#[tokio::test]
async fn id_token_of_another_issuer_is_refused() {
    assert_id_tokens_refused(&[json!({ "iss": "https://impostor.test" })]).await;
}

#[tokio::test]
async fn id_token_without_exp_or_iat_or_expired_is_refused_xid_3() {
    let (app, fake, rp) = with_fake(json!({})).await;
    let before = users(&app, "demo").await.len();
    // Without `exp` or `iat` the token response does not parse (openidconnect requires
    // both): refused, under whichever code.
    for case in [json!({ "exp": null }), json!({ "iat": null })] {
        fake.set(|b| b.id_token = case.clone());
        assert_error_page(login_via_fake(&app, &rp).await, &case.to_string()).await;
    }
    let now = unix_now();
    fake.set(|b| b.id_token = json!({ "iat": now - 900, "exp": now - 600 }));
    assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
    // Not expired, but issued too long ago (ten minutes at most), or in the future (a
    // minute of skew).
    for case in [
        json!({ "iat": now - 900, "exp": now + 300 }),
        json!({ "iat": now + 300, "exp": now + 600 }),
    ] {
        fake.set(|b| b.id_token = case.clone());
        assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
    }
    assert_eq!(users(&app, "demo").await.len(), before);
}

#[tokio::test]
async fn id_token_without_the_nonce_sent_is_refused() {
    assert_id_tokens_refused(&[json!({ "nonce": null }), json!({ "nonce": "n-forged" })]).await;
}

#[tokio::test]
async fn id_token_replaying_an_earlier_logins_nonce_is_refused_xid_9() {
    let (app, fake, rp) = with_fake(json!({})).await;
    rp.callback(&login_via_fake(&app, &rp).await);
    let earlier = fake.last_authorize()["nonce"].clone();
    fake.set(|b| b.id_token = json!({ "nonce": earlier }));
    assert_broker_error(login_via_fake(&app, &rp).await, "invalid_id_token").await;
}
