//! `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9): a client proves itself with a
//! short-lived JWT signed by one of its own keys, each used once.

use super::keys::KeysError;
use crate::crypto::foreign::{ForeignJws, WithoutKid};
use crate::{OAuthError, Provider, RealmCtx};
use openidconnect::core::CoreJwsSigningAlgorithm;
use serde_json::{Map, Value};
use tessera_domain::{Client, UnixTime};

/// An assertion is for one request: its `exp` may lie at most this far ahead, skew
/// included (a fast client clock gains nothing beyond it).
const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew allowed for `iat`, `nbf` and a past `exp`.
const SKEW_SECS: i64 = 30;
const MAX_JTI_LEN: usize = 255;

fn accepted(alg: &CoreJwsSigningAlgorithm) -> bool {
    use CoreJwsSigningAlgorithm as A;
    matches!(
        alg,
        A::RsaSsaPkcs1V15Sha256 | A::RsaSsaPssSha256 | A::EcdsaP256Sha256 | A::EdDsa
    )
}

/// Why an assertion was refused, for the security log (the client gets `invalid_client`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    Malformed,
    Algorithm,
    Type,
    KeysUnavailable,
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    Expired,
    TooLong,
    NotYetValid,
    Jti,
    Replayed,
}

impl Rejection {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "assertion_malformed",
            Self::Algorithm => "assertion_alg_not_allowed",
            Self::Type => "assertion_wrong_typ",
            Self::KeysUnavailable => "client_keys_unavailable",
            Self::UnknownKey => "assertion_unknown_kid",
            Self::Signature => "assertion_bad_signature",
            Self::Issuer => "assertion_iss_or_sub_not_client",
            Self::Audience => "assertion_wrong_aud",
            Self::Expired => "assertion_expired",
            Self::TooLong => "assertion_exp_too_far",
            Self::NotYetValid => "assertion_iat_or_nbf_in_future",
            Self::Jti => "assertion_without_jti",
            Self::Replayed => "assertion_replayed",
        }
    }
}

/// A verified assertion's `jti`, kept until the assertion has expired.
pub(crate) struct Spent {
    jti: String,
    keep_until: UnixTime,
}

/// The `sub` of an assertion not verified yet: only to find the client whose keys will
/// verify it. `None` when it is no JWS at all.
pub(crate) fn claimed_subject(assertion: &str) -> Option<String> {
    let claims = ForeignJws::parse(assertion)?.claims()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The claims of a verified assertion (§3): `iss` = `sub` = the client, `aud` one of
/// ours, `exp` soon, `iat`/`nbf` not in the future, a `jti`. Returns the `jti` and `exp`.
fn check_claims<'c>(
    claims: &'c Map<String, Value>,
    client_id: &str,
    audiences: &[&str],
    now: i64,
) -> Result<(&'c str, i64), Rejection> {
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    if s("iss") != Some(client_id) || s("sub") != Some(client_id) {
        return Err(Rejection::Issuer);
    }
    let ours = |v: &Value| v.as_str().is_some_and(|a| audiences.contains(&a));
    let aud_ok = match claims.get("aud") {
        Some(Value::Array(list)) => list.iter().any(ours),
        Some(v) => ours(v),
        None => false,
    };
    if !aud_ok {
        return Err(Rejection::Audience);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(Rejection::Expired)?;
    if exp + SKEW_SECS <= now {
        return Err(Rejection::Expired);
    }
    if exp > now + MAX_LIFETIME_SECS {
        return Err(Rejection::TooLong);
    }
    for k in ["iat", "nbf"] {
        match claims.get(k) {
            None => {}
            Some(v) if v.as_i64().is_some_and(|t| t <= now + SKEW_SECS) => {}
            Some(_) => return Err(Rejection::NotYetValid),
        }
    }
    let jti = s("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(Rejection::Jti)?;
    Ok((jti, exp))
}

impl Provider {
    /// Verifies `assertion` as `client`'s proof for a request to `endpoint_url`; its `jti`
    /// is then spent with [`Self::spend_assertion`], the one write, after every check.
    pub(crate) async fn verify_client_assertion(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        assertion: &str,
        endpoint_url: &str,
    ) -> Result<Spent, Rejection> {
        let jws = ForeignJws::parse(assertion).ok_or(Rejection::Malformed)?;
        if !accepted(&jws.alg) {
            return Err(Rejection::Algorithm);
        }
        // draft-ietf-oauth-rfc7523bis names its own `typ`; anything else is another token.
        if jws
            .typ()
            .is_some_and(|t| !matches!(t.as_str(), "jwt" | "client-authentication+jwt"))
        {
            return Err(Rejection::Type);
        }
        let jwks = self.client_jwks(client).await.map_err(|e| {
            keys_unavailable(client, &e);
            Rejection::KeysUnavailable
        })?;
        let verified = match jws.verify(&jwks.keys(), WithoutKid::OnlyKey) {
            Some(ok) => ok,
            None => {
                let peer = format!("client:{}", client.client_id);
                if !self.refetch_cached_jwks(&peer, &jwks).await {
                    return Err(Rejection::UnknownKey);
                }
                jws.verify(&jwks.keys(), WithoutKid::OnlyKey)
                    .ok_or(Rejection::UnknownKey)?
            }
        };
        if !verified {
            return Err(Rejection::Signature);
        }
        let claims = jws.claims().ok_or(Rejection::Malformed)?;
        let token_endpoint = crate::endpoints::discovery::endpoint(&ctx.issuer, "token");
        let audiences = [ctx.issuer.as_str(), token_endpoint.as_str(), endpoint_url];
        let now = self.clock.now().0;
        let (jti, exp) = check_claims(&claims, client.client_id.as_str(), &audiences, now)?;
        Ok(Spent {
            jti: jti.to_owned(),
            keep_until: UnixTime(exp + SKEW_SECS),
        })
    }

    /// Records the assertion's `jti`: one INSERT, so of two uses only one passes.
    pub(crate) async fn spend_assertion(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        spent: &Spent,
    ) -> Result<bool, OAuthError> {
        Ok(self
            .store
            .claim_client_assertion(ctx.realm.id, client.id, &spent.jti, spent.keep_until)
            .await?)
    }
}

fn keys_unavailable(client: &Client, e: &KeysError) {
    tracing::warn!(
        client_id = %client.client_id,
        error = %e,
        "a private_key_jwt client's keys are not available"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_000_000;
    const AUD: [&str; 2] = ["https://id/realms/r", "https://id/realms/r/t"];

    fn check(claims: Value) -> Result<(), Rejection> {
        let Value::Object(m) = claims else { panic!() };
        check_claims(&m, "svc", &AUD, NOW).map(|_| ())
    }

    fn good() -> Value {
        json!({"iss": "svc", "sub": "svc", "aud": AUD[1], "exp": NOW + 60, "iat": NOW, "jti": "1"})
    }

    fn with(k: &str, v: Value) -> Value {
        let mut c = good();
        c[k] = v;
        c
    }

    #[test]
    fn assertion_claims_must_name_the_client_an_audience_of_ours_and_a_short_life() {
        assert_eq!(check(good()), Ok(()));
        assert_eq!(check(with("aud", json!(["x", AUD[0]]))), Ok(()));
        assert_eq!(check(with("aud", json!("x"))), Err(Rejection::Audience));
        assert_eq!(check(with("aud", json!(["x"]))), Err(Rejection::Audience));
        assert_eq!(check(with("iss", json!("other"))), Err(Rejection::Issuer));
        assert_eq!(check(with("sub", json!("other"))), Err(Rejection::Issuer));
        assert_eq!(check(with("exp", json!(NOW - 31))), Err(Rejection::Expired));
        assert_eq!(check(with("exp", json!("soon"))), Err(Rejection::Expired));
        assert_eq!(
            check(with("exp", json!(NOW + 3600))),
            Err(Rejection::TooLong)
        );
        assert_eq!(check(with("exp", json!(NOW + 300))), Ok(()));
        assert_eq!(
            check(with("exp", json!(NOW + 301))),
            Err(Rejection::TooLong)
        );
        assert_eq!(
            check(with("iat", json!(NOW + 120))),
            Err(Rejection::NotYetValid)
        );
        assert_eq!(
            check(with("nbf", json!(NOW + 120))),
            Err(Rejection::NotYetValid)
        );
        assert_eq!(check(with("jti", json!(""))), Err(Rejection::Jti));
        let mut no_exp = good();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(check(no_exp), Err(Rejection::Expired));
    }

    #[test]
    fn only_asymmetric_algorithms_are_accepted() {
        use CoreJwsSigningAlgorithm as A;
        for a in [
            A::RsaSsaPkcs1V15Sha256,
            A::RsaSsaPssSha256,
            A::EcdsaP256Sha256,
            A::EdDsa,
        ] {
            assert!(accepted(&a));
        }
        for a in [A::None, A::HmacSha256, A::RsaSsaPkcs1V15Sha512] {
            assert!(!accepted(&a));
        }
    }
}
