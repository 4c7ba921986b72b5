//! The authorization request as it travels between the pages: sealed (AES-256-GCM under
//! a purpose-bound subkey, bound to the realm), short-lived, and tied to the browser's
//! CSRF cookie so a blob cannot be replayed from another browser (login CSRF).

use crate::OAuthError;
use crate::authorize::AuthorizeRequest;
use crate::crypto::{MasterKey, ct_eq};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tessera_domain::{RealmId, UnixTime};

/// How long a user may take on the login and consent pages.
pub const STATE_LIFETIME_SECS: i64 = 15 * 60;
pub const PURPOSE: &str = "authorization-request-state";

#[derive(Serialize, Deserialize)]
struct Envelope {
    req: AuthorizeRequest,
    csrf: String,
    exp: i64,
}

fn aad(realm: RealmId) -> Vec<u8> {
    format!("tessera-authz|{realm}").into_bytes()
}

pub fn seal(
    key: &MasterKey,
    realm: RealmId,
    req: &AuthorizeRequest,
    csrf: &str,
    now: UnixTime,
) -> String {
    let env = Envelope {
        req: req.clone(),
        csrf: csrf.to_owned(),
        exp: now.0 + STATE_LIFETIME_SECS,
    };
    let json = serde_json::to_vec(&env).expect("state serializes");
    URL_SAFE_NO_PAD.encode(key.seal(&json, &aad(realm)))
}

/// Opens a sealed request; fails when tampered with, expired, of another realm, or when
/// the browser's CSRF cookie does not match the one it was sealed with.
pub fn open(
    key: &MasterKey,
    realm: RealmId,
    sealed: &str,
    csrf_cookie: Option<&str>,
    now: UnixTime,
) -> Result<AuthorizeRequest, OAuthError> {
    let bad = || {
        OAuthError::invalid_request("the sign-in request is invalid or has expired; start again")
    };
    if sealed.len() > 16 * 1024 {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| bad())?;
    let json = key.open(&raw, &aad(realm)).map_err(|_| bad())?;
    let env: Envelope = serde_json::from_slice(&json).map_err(|_| bad())?;
    if env.exp <= now.0 {
        return Err(bad());
    }
    if !csrf_cookie.is_some_and(|c| ct_eq(env.csrf.as_bytes(), c.as_bytes())) {
        // A genuine, live request posted by another browser: login CSRF, or lost cookies.
        tracing::warn!(
            target: "tessera::security",
            event = "csrf_failure",
            realm = %realm,
            form = "sign-in",
            "a sign-in form does not match the browser's CSRF cookie"
        );
        return Err(bad());
    }
    Ok(env.req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::{Prompt, ResponseMode};

    fn req() -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "app".into(),
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_given: true,
            response_mode: ResponseMode::Query,
            scope: "openid".into(),
            state: Some("s".into()),
            nonce: None,
            code_challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            organization: None,
            org_choice: None,
            chooser_sid: None,
            idp_hint: None,
            targets: vec![],
        }
    }

    #[test]
    fn state_round_trips_for_the_same_realm_browser_and_time() {
        let k = MasterKey::from_bytes(&[4; 32]).unwrap().subkey(PURPOSE);
        let realm = RealmId::new_v7();
        let sealed = seal(&k, realm, &req(), "c1", UnixTime(100));
        assert_eq!(
            open(&k, realm, &sealed, Some("c1"), UnixTime(100)).unwrap(),
            req()
        );
    }

    #[test]
    fn state_fails_for_another_realm_browser_expiry_or_tampering() {
        let k = MasterKey::from_bytes(&[4; 32]).unwrap().subkey(PURPOSE);
        let realm = RealmId::new_v7();
        let sealed = seal(&k, realm, &req(), "c1", UnixTime(100));
        assert!(open(&k, RealmId::new_v7(), &sealed, Some("c1"), UnixTime(100)).is_err());
        assert!(open(&k, realm, &sealed, Some("c2"), UnixTime(100)).is_err());
        assert!(open(&k, realm, &sealed, None, UnixTime(100)).is_err());
        assert!(
            open(
                &k,
                realm,
                &sealed,
                Some("c1"),
                UnixTime(100 + STATE_LIFETIME_SECS)
            )
            .is_err()
        );
        let mut t = sealed.into_bytes();
        t[20] = if t[20] == b'A' { b'B' } else { b'A' };
        assert!(
            open(
                &k,
                realm,
                &String::from_utf8(t).unwrap(),
                Some("c1"),
                UnixTime(100)
            )
            .is_err()
        );
        assert!(open(&k, realm, "!!", Some("c1"), UnixTime(100)).is_err());
    }
}
