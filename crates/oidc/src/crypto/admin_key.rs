//! Scoped admin keys: biscuit tokens signed by a realm's Ed25519 root key. The authority
//! block names the realm, the optional organization and the rights; holders attenuate
//! offline by appending blocks of checks; the verifier supplies the request's facts.
//!
//! Authority facts (ours): `key_realm(name)`, `key_scope("realm"|"organization")`,
//! `key_organization(org id)` for an organization's key, `right("read")`, `right("write")`
//! unless read-only, and `check if time($t), $t < expiry` when the key expires.
//! Request facts (the verifier's): `time(now)`, `operation("read"|"write")`,
//! `realm(name)`, `organization(alias)` and `organization_id(id)` when the path addresses
//! one, `resource(path)`.

use crate::crypto::MasterKey;
use biscuit_auth::builder::Algorithm;
use biscuit_auth::builder::Term;
use biscuit_auth::error::{FailedCheck, Logic, Token};
use biscuit_auth::{AuthorizerLimits, Biscuit, KeyPair, PrivateKey, PublicKey, UnverifiedBiscuit};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tessera_domain::{OrgId, RealmId, UnixTime};

/// Authorization runs on the admin API only (not a hot path); the library's default
/// 1 ms is below what a busy machine's scheduling can add to a debug build.
const MAX_TIME: Duration = Duration::from_millis(50);

/// Holders' tokens are a few blocks; a long chain is refused before it is evaluated.
const MAX_BLOCKS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum AdminKeyError {
    /// Not a key of this root: bad encoding, bad signature, another realm's root.
    #[error("the admin key is malformed or not signed by this realm's root key")]
    Invalid,
    /// A `time` check failed: the key (or a holder's attenuation of it) has expired.
    #[error("the admin key has expired")]
    Expired,
    /// A check or the policy refused this request.
    #[error("the admin key does not allow this request")]
    Refused,
    #[error("admin key: {0}")]
    Internal(String),
}

/// A realm's root key pair, unsealed.
pub struct RootKey(KeyPair);

impl RootKey {
    /// A new root key and its private key sealed for `realm`.
    pub fn generate(realm: RealmId, master: &MasterKey) -> (Self, Vec<u8>) {
        let pair = KeyPair::new_with_algorithm(Algorithm::Ed25519);
        let sealed = master.seal(&pair.private().to_bytes(), &aad(realm));
        (Self(pair), sealed)
    }

    pub fn unseal(
        realm: RealmId,
        sealed: &[u8],
        master: &MasterKey,
    ) -> Result<Self, AdminKeyError> {
        let bytes = master
            .open(sealed, &aad(realm))
            .map_err(|e| AdminKeyError::Internal(e.to_string()))?;
        let private = PrivateKey::from_bytes(&bytes, Algorithm::Ed25519)
            .map_err(|e| AdminKeyError::Internal(e.to_string()))?;
        Ok(Self(KeyPair::from(&private)))
    }

    /// `ed25519/<hex>`, the form the `biscuit` CLI and the libraries read.
    pub fn public_key(&self) -> String {
        self.0.public().to_string()
    }

    /// Mints a key; returns it (base64) and its revocation id (the authority block's).
    pub fn mint(&self, grant: &KeyGrant<'_>) -> Result<(String, String), AdminKeyError> {
        let internal = |e: Token| AdminKeyError::Internal(e.to_string());
        let mut src = String::from("key_realm({realm});\nright(\"read\");\n");
        let mut params = HashMap::from([("realm".to_owned(), Term::from(grant.realm))]);
        match grant.org {
            Some(org) => {
                src.push_str("key_scope(\"organization\");\nkey_organization({org});\n");
                params.insert("org".into(), Term::from(org.to_string()));
            }
            None => src.push_str("key_scope(\"realm\");\n"),
        }
        if !grant.read_only {
            src.push_str("right(\"write\");\n");
        }
        if let Some(exp) = grant.expires_at {
            src.push_str("check if time($t), $t < {exp};\n");
            params.insert("exp".into(), system_time(exp).into());
        }
        let token = Biscuit::builder()
            .code_with_params(src, params, HashMap::new())
            .and_then(|b| b.build(&self.0))
            .map_err(internal)?;
        let id = revocation_ids(&token)
            .into_iter()
            .next()
            .ok_or_else(|| AdminKeyError::Internal("no authority block".into()))?;
        Ok((token.to_base64().map_err(internal)?, id))
    }
}

/// What a minted key grants.
pub struct KeyGrant<'a> {
    pub realm: &'a str,
    pub org: Option<OrgId>,
    pub read_only: bool,
    pub expires_at: Option<UnixTime>,
}

/// The request a key is presented for, as the verifier sees it.
pub struct KeyRequest<'a> {
    pub now: UnixTime,
    pub realm: &'a str,
    /// The addressed organization's alias and id.
    pub org: Option<(&'a str, OrgId)>,
    pub write: bool,
    pub path: &'a str,
}

/// Binds a sealed root key to its realm and purpose.
fn aad(realm: RealmId) -> Vec<u8> {
    format!("{}|admin-key-root", realm.0).into_bytes()
}

fn system_time(t: UnixTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t.0).unwrap_or(0))
}

/// Every block's revocation id, authority first, in hex.
fn revocation_ids(token: &Biscuit) -> Vec<String> {
    token
        .revocation_identifiers()
        .iter()
        .map(|id| id.iter().map(|b| format!("{b:02x}")).collect())
        .collect()
}

/// Whether a bearer value has a biscuit's shape (base64url, no dots, longer than any
/// opaque access token) rather than a JWT's or an opaque token's.
pub fn looks_like_admin_key(bearer: &str) -> bool {
    bearer.len() > 100
        && bearer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
}

/// The realm a key's authority block names, read without verifying it: only to pick
/// the root key the key is then verified with.
pub fn claimed_realm(bearer: &str) -> Option<String> {
    let source = UnverifiedBiscuit::from_base64(bearer)
        .ok()?
        .print_block_source(0)
        .ok()?;
    let rest = &source[source.find("key_realm(\"")? + "key_realm(\"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// Parses a key and checks every block's signature against `root`; returns the token and
/// its blocks' revocation ids (authority first).
pub fn verify(bearer: &str, root: &str) -> Result<(Biscuit, Vec<String>), AdminKeyError> {
    let root: PublicKey = root
        .parse()
        .map_err(|_| AdminKeyError::Internal("stored root public key".into()))?;
    let token = Biscuit::from_base64(bearer, root).map_err(|_| AdminKeyError::Invalid)?;
    if token.block_count() > MAX_BLOCKS {
        return Err(AdminKeyError::Invalid);
    }
    let ids = revocation_ids(&token);
    Ok((token, ids))
}

/// Runs the key's checks (ours and the holders') against the request's facts, and the
/// policies: allowed only when the authority's rights cover the operation and its realm
/// (and, for an organization's key, its organization) is the request's.
pub fn authorize(token: &Biscuit, req: &KeyRequest<'_>) -> Result<(), AdminKeyError> {
    let internal = |e: Token| AdminKeyError::Internal(e.to_string());
    let mut src = String::from("time({now}); operation({op}); realm({realm}); resource({path});\n");
    let mut params = HashMap::from([
        ("now".to_owned(), Term::from(system_time(req.now))),
        (
            "op".to_owned(),
            Term::from(if req.write { "write" } else { "read" }),
        ),
        ("realm".to_owned(), Term::from(req.realm)),
        ("path".to_owned(), Term::from(req.path)),
    ]);
    if let Some((alias, id)) = req.org {
        src.push_str("organization({alias}); organization_id({org});\n");
        params.insert("alias".into(), Term::from(alias));
        params.insert("org".into(), Term::from(id.to_string()));
    }
    src.push_str(
        r#"
        allow if key_scope("realm"), key_realm($r), realm($r), operation($op), right($op);
        allow if key_scope("organization"), key_realm($r), realm($r),
            key_organization($o), organization_id($o), operation($op), right($op);
        deny if true;
        "#,
    );
    let mut authorizer = biscuit_auth::AuthorizerBuilder::new()
        .code_with_params(src, params, HashMap::new())
        .map_err(internal)?
        .set_limits(AuthorizerLimits {
            max_time: MAX_TIME,
            ..Default::default()
        })
        .build(token)
        .map_err(internal)?;
    match authorizer.authorize() {
        Ok(_) => Ok(()),
        Err(Token::FailedLogic(
            Logic::Unauthorized { checks, .. } | Logic::NoMatchingPolicy { checks },
        )) if checks.iter().any(is_time_check) => Err(AdminKeyError::Expired),
        // A holder's block too heavy to evaluate in time is refused like a failed check.
        Err(Token::FailedLogic(_) | Token::RunLimit(_)) => Err(AdminKeyError::Refused),
        Err(e) => Err(internal(e)),
    }
}

/// A failed check on `time(…)` is an expiry, ours or a holder's.
fn is_time_check(c: &FailedCheck) -> bool {
    let rule = match c {
        FailedCheck::Block(b) => &b.rule,
        FailedCheck::Authorizer(a) => &a.rule,
    };
    rule.contains("time(")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::from_bytes(&[7; 32]).unwrap()
    }

    fn req<'a>(realm: &'a str, write: bool, path: &'a str) -> KeyRequest<'a> {
        KeyRequest {
            now: UnixTime(1_000),
            realm,
            org: None,
            write,
            path,
        }
    }

    #[test]
    fn a_sealed_root_opens_only_for_its_realm() {
        let realm = RealmId::new_v7();
        let (root, sealed) = RootKey::generate(realm, &master());
        let again = RootKey::unseal(realm, &sealed, &master()).unwrap();
        assert_eq!(root.public_key(), again.public_key());
        assert!(root.public_key().starts_with("ed25519/"));
        assert!(RootKey::unseal(RealmId::new_v7(), &sealed, &master()).is_err());
    }

    #[test]
    fn rights_realm_and_expiry_decide() {
        let realm = RealmId::new_v7();
        let (root, _) = RootKey::generate(realm, &master());
        let (key, id) = root
            .mint(&KeyGrant {
                realm: "demo",
                org: None,
                read_only: true,
                expires_at: Some(UnixTime(2_000)),
            })
            .unwrap();
        assert!(looks_like_admin_key(&key));
        assert_eq!(claimed_realm(&key).as_deref(), Some("demo"));
        let (token, ids) = verify(&key, &root.public_key()).unwrap();
        assert_eq!(ids, vec![id]);
        assert!(authorize(&token, &req("demo", false, "/admin/realms/demo/clients")).is_ok());
        assert!(matches!(
            authorize(&token, &req("demo", true, "/admin/realms/demo/clients")),
            Err(AdminKeyError::Refused)
        ));
        assert!(matches!(
            authorize(&token, &req("other", false, "/admin/realms/other/clients")),
            Err(AdminKeyError::Refused)
        ));
        let late = KeyRequest {
            now: UnixTime(2_000),
            ..req("demo", false, "/admin/realms/demo/clients")
        };
        assert!(matches!(
            authorize(&token, &late),
            Err(AdminKeyError::Expired)
        ));
        let (other, _) = RootKey::generate(realm, &master());
        assert!(matches!(
            verify(&key, &other.public_key()),
            Err(AdminKeyError::Invalid)
        ));
    }
}
