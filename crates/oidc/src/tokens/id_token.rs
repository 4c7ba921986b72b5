//! ID tokens (OIDC Core §2): signed with the client's algorithm, `typ: JWT` so they can
//! never pass for an access token (`at+jwt`) or a logout token (`logout+jwt`).

use crate::crypto::jws;
use crate::tokens::access_token::Audience;
use crate::tokens::org_claims::OrgClaim;
use crate::{OAuthError, RealmCtx};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tessera_domain::{ScopeSet, SigningAlg, User};

pub const TYP: &str = "JWT";
pub const LIFETIME_SECS: i64 = 300;

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the hash the signature algorithm uses;
/// SHA-512 for Ed25519 (OpenID errata for EdDSA).
pub fn at_hash(access_token: &str, alg: SigningAlg) -> String {
    let d = match alg {
        SigningAlg::EdDsa => digest::digest(&digest::SHA512, access_token.as_bytes()),
        _ => digest::digest(&digest::SHA256, access_token.as_bytes()),
    };
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// The user claims released by scope (OIDC Core §5.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    pub fn for_scope(user: &User, scope: &ScopeSet) -> Self {
        let mut c = Self::default();
        if scope.contains("profile") {
            c.preferred_username = Some(user.username.as_str().to_owned());
            c.given_name = user.given_name.clone();
            c.family_name = user.family_name.clone();
            let full = [user.given_name.as_deref(), user.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            c.name = (!full.is_empty()).then_some(full);
        }
        if let Some(e) = user.email.as_ref().filter(|_| scope.contains("email")) {
            c.email = Some(e.as_str().to_owned());
            c.email_verified = Some(user.email_verified);
        }
        c
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    pub sid: String,
    pub azp: String,
    #[serde(flatten)]
    pub user: UserClaims,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

pub fn sign(ctx: &RealmCtx, alg: SigningAlg, claims: &IdClaims) -> Result<String, OAuthError> {
    let key = ctx.keys.signer(alg).ok_or_else(|| {
        OAuthError::ServerError(format!("realm {} has no active {alg} key", ctx.realm.name))
    })?;
    Ok(jws::sign(key, TYP, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example_for_rs256() {
        // OIDC Core Appendix A.3 / A.4: access token and at_hash of the examples.
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                SigningAlg::Rs256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn at_hash_for_eddsa_uses_sha512() {
        let h = at_hash("token", SigningAlg::EdDsa);
        assert_eq!(URL_SAFE_NO_PAD.decode(&h).unwrap().len(), 32);
        assert_ne!(h, at_hash("token", SigningAlg::Rs256));
    }
}
