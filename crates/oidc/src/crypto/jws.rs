//! Compact JWS for the tokens we mint. Every token carries an explicit `typ`, and
//! verification checks `typ`, the key id *within one realm's key ring*, and that the
//! header `alg` equals the key's algorithm (no `none`, no algorithm confusion).

use crate::crypto::keys::{KeyRing, SigningKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Largest compact JWS we try to parse; anything bigger is not ours. An access token with
/// `organization:*` for a user in 1,000 organizations is about 105 KB, and must still pass
/// through a bearer header (actix reads request heads of up to 128 KiB) and a form body.
pub const MAX_JWS_LEN: usize = 120 * 1024;

#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'a str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct HeaderIn {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    /// Critical extensions we do not understand make the token invalid (RFC 7515 §4.1.11).
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

pub fn sign<C: Serialize>(key: &SigningKey, typ: &str, claims: &C) -> String {
    let header = serde_json::to_vec(&HeaderOut {
        alg: key.alg.as_str(),
        typ,
        kid: &key.kid,
    })
    .expect("header serializes");
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let mut out = String::with_capacity(64 + payload.len() * 4 / 3 + 360);
    URL_SAFE_NO_PAD.encode_string(&header, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
    let sig = key.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
    out
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("unexpected token type")]
    WrongType,
    #[error("unknown key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
}

/// Is this string shaped like a compact JWS (three base64url segments)?
pub fn looks_like_jws(token: &str) -> bool {
    token.len() <= MAX_JWS_LEN && token.bytes().filter(|&b| b == b'.').count() == 2
}

/// Verifies a compact JWS against one realm's keys and returns its claims.
/// `typ` is compared case-insensitively, with or without the `application/` prefix (RFC 7515 §4.1.9).
pub fn verify<C: DeserializeOwned>(ring: &KeyRing, typ: &str, token: &str) -> Result<C, JwsError> {
    if !looks_like_jws(token) {
        return Err(JwsError::Malformed);
    }
    let mut parts = token.splitn(3, '.');
    let (h, p, s) = match (parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s)) => (h, p, s),
        _ => return Err(JwsError::Malformed),
    };
    let header: HeaderIn = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwsError::Malformed)?;
    if header.crit.is_some() {
        return Err(JwsError::Malformed);
    }
    let got_typ = header.typ.as_deref().unwrap_or_default();
    let got_typ = got_typ
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("application/"))
        .map_or(got_typ, |_| &got_typ[12..]);
    if !got_typ.eq_ignore_ascii_case(typ) {
        return Err(JwsError::WrongType);
    }
    let verifier = header
        .kid
        .as_deref()
        .and_then(|k| ring.verifier(k))
        .ok_or(JwsError::UnknownKey)?;
    if verifier.alg.as_str() != header.alg {
        return Err(JwsError::UnknownKey);
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwsError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    verifier
        .key
        .verify_sig(signing_input.as_bytes(), &sig)
        .map_err(|_| JwsError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| JwsError::Malformed)?;
    serde_json::from_slice(&payload).map_err(|_| JwsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use tessera_domain::{RealmId, SigningAlg, UnixTime};

    fn ring(alg: SigningAlg) -> (KeyRing, SigningKey) {
        let master = MasterKey::from_bytes(&[5; 32]).unwrap();
        let (k, der) = SigningKey::generate(alg).unwrap();
        let stored = k.seal(RealmId::new_v7(), &der, &master, UnixTime(0));
        (KeyRing::load(&[stored], &master).unwrap(), k)
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn round_trip_for_every_alg() {
        for alg in SigningAlg::ALL {
            let (ring, key) = ring(alg);
            let t = sign(&key, "at+jwt", &serde_json::json!({"sub": "x"}));
            let c: serde_json::Value = verify(&ring, "at+jwt", &t).unwrap();
            assert_eq!(c["sub"], "x");
            let prefixed = sign(&key, "application/AT+JWT", &serde_json::json!({"sub": "y"}));
            assert_eq!(
                verify::<serde_json::Value>(&ring, "at+jwt", &prefixed).unwrap()["sub"],
                "y"
            );
        }
    }

    #[test]
    fn rejects_other_typ_unknown_kid_and_foreign_realm_keys() {
        let (ring_a, key_a) = ring(SigningAlg::EdDsa);
        let (ring_b, _) = ring(SigningAlg::EdDsa);
        let t = sign(&key_a, "logout+jwt", &serde_json::json!({}));
        assert_eq!(
            verify::<serde_json::Value>(&ring_a, "at+jwt", &t),
            Err(JwsError::WrongType)
        );
        let t = sign(&key_a, "at+jwt", &serde_json::json!({}));
        assert_eq!(
            verify::<serde_json::Value>(&ring_b, "at+jwt", &t),
            Err(JwsError::UnknownKey)
        );
    }

    #[test]
    fn rejects_alg_none_alg_swap_and_tampered_payload() {
        let (ring, key) = ring(SigningAlg::Rs256);
        let t = sign(&key, "at+jwt", &serde_json::json!({"sub": "a"}));
        let parts: Vec<&str> = t.split('.').collect();
        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg":"none","typ":"at+jwt","kid":key.kid})),
            parts[1]
        );
        assert!(verify::<serde_json::Value>(&ring, "at+jwt", &none).is_err());
        let swapped = format!(
            "{}.{}.{}",
            b64(&serde_json::json!({"alg":"HS256","typ":"at+jwt","kid":key.kid})),
            parts[1],
            parts[2]
        );
        assert_eq!(
            verify::<serde_json::Value>(&ring, "at+jwt", &swapped),
            Err(JwsError::UnknownKey)
        );
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(&serde_json::json!({"sub":"b"})),
            parts[2]
        );
        assert_eq!(
            verify::<serde_json::Value>(&ring, "at+jwt", &tampered),
            Err(JwsError::BadSignature)
        );
        let crit = format!(
            "{}.{}.{}",
            b64(&serde_json::json!({"alg":"RS256","typ":"at+jwt","kid":key.kid,"crit":["x"]})),
            parts[1],
            parts[2]
        );
        assert_eq!(
            verify::<serde_json::Value>(&ring, "at+jwt", &crit),
            Err(JwsError::Malformed)
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let (ring, _) = ring(SigningAlg::Es256);
        for junk in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "\u{0}.\u{0}.\u{0}",
            "e30.e30.e30",
        ] {
            assert!(
                verify::<serde_json::Value>(&ring, "at+jwt", junk).is_err(),
                "{junk:?}"
            );
        }
    }
}
