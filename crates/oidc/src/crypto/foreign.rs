//! Compact JWS signed with keys we do not hold, published by their owner as JWKs: the
//! logout tokens of upstream providers and the assertions of `private_key_jwt` clients.
//! The signature check is openidconnect's; which keys may be tried is decided here.

use super::jws::MAX_JWS_LEN;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyUse, JwsSigningAlgorithm};
use serde_json::{Map, Value};

/// What a header without `kid` may be verified with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WithoutKid {
    /// Any key that fits the algorithm (upstream providers often omit `kid`).
    AnyKey,
    /// Only the one key that fits; several fitting keys refuse the token.
    OnlyKey,
}

/// A compact JWS split and its header read; nothing verified yet.
pub(crate) struct ForeignJws<'a> {
    pub header: Map<String, Value>,
    pub alg: CoreJwsSigningAlgorithm,
    message: &'a [u8],
    payload: &'a str,
    signature: Vec<u8>,
}

impl<'a> ForeignJws<'a> {
    /// `None` when it is not a compact JWS with a JSON header naming an algorithm, or
    /// when it has critical extensions (we understand none, RFC 7515 §4.1.11).
    pub fn parse(token: &'a str) -> Option<Self> {
        if token.len() > MAX_JWS_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (Some(h), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let header: Map<String, Value> =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header.contains_key("crit") {
            return None;
        }
        let alg = serde_json::from_value(header.get("alg")?.clone()).ok()?;
        Some(Self {
            alg,
            message: &token.as_bytes()[..h.len() + 1 + payload.len()],
            payload,
            signature: URL_SAFE_NO_PAD.decode(sig).ok()?,
            header,
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The header's `typ`, lower-cased and without an `application/` prefix (RFC 7515 §4.1.9).
    pub fn typ(&self) -> Option<String> {
        let typ = self.header.get("typ")?.as_str()?.to_ascii_lowercase();
        Some(typ.strip_prefix("application/").unwrap_or(&typ).to_owned())
    }

    /// The payload as a JSON object; read it only after [`Self::verify`] said yes.
    pub fn claims(&self) -> Option<Map<String, Value>> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(self.payload).ok()?).ok()
    }

    /// Whether a key the header names verifies the signature; `None` when no key has that
    /// `kid` or, without a `kid`, none fits (the keys may have rotated: fetch them again).
    /// A key fits when its type, declared `alg` and `use` allow the header's algorithm; a
    /// key with another `kid` is never tried.
    pub fn verify(&self, keys: &[CoreJsonWebKey], without_kid: WithoutKid) -> Option<bool> {
        let kid = self.kid();
        let named: Vec<_> = keys
            .iter()
            .filter(|k| kid.is_none_or(|id| k.key_id().is_some_and(|k| k.as_str() == id)))
            .collect();
        if kid.is_some() && named.is_empty() {
            return None;
        }
        let fitting: Vec<_> = named.into_iter().filter(|k| fits(k, &self.alg)).collect();
        if fitting.is_empty() {
            return if kid.is_some() { Some(false) } else { None };
        }
        if kid.is_none() && without_kid == WithoutKid::OnlyKey && fitting.len() > 1 {
            return Some(false);
        }
        Some(fitting.iter().any(|k| {
            k.verify_signature(&self.alg, self.message, &self.signature)
                .is_ok()
        }))
    }
}

/// Whether `key` may verify `alg` signatures: its type, its `alg` if it names one, and
/// its `use` if it states one.
fn fits(key: &CoreJsonWebKey, alg: &CoreJwsSigningAlgorithm) -> bool {
    let use_ok = key.key_use().is_none_or(|u| u.allows_signature());
    let alg_ok = match key.signing_alg() {
        JsonWebKeyAlgorithm::Unspecified => true,
        JsonWebKeyAlgorithm::Algorithm(a) => a == alg,
        JsonWebKeyAlgorithm::Unsupported => false,
    };
    use_ok && alg_ok && alg.key_type().as_ref() == Some(key.key_type())
}
