//! Tokens of trusted issuers: an identity provider that accepts tokens vouches for its
//! subjects without a browser (token exchange, the JWT bearer grant, the
//! organization-admin exchange). The provider is chosen by the token's `iss` among those
//! the caller may use, never by trying verifiers in turn; then every check, in order:
//! `typ`, the algorithm (asymmetric, from the provider's list), the signature by a key of
//! that provider (an unknown `kid` fetches its keys again, rate-limited, and never falls
//! back to another key), `iss`, `aud` (with `azp` when several), `exp`, `iat` and its age,
//! `nbf`, the provider's required claims and organization rules (as at login, XID-5),
//! and a single-use `jti` where required. Then the local user, per the provider's
//! `map_users`: never an account by an unverified address (XID-6), never a disabled one
//! (XID-8).

use super::upstream::UpstreamIdentity;
use crate::crypto::foreign::{ForeignJws, WithoutKid};
use crate::crypto::sha256;
use crate::{OAuthError, Provider, RealmCtx};
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde_json::{Map, Value};
use std::sync::Arc;
use tessera_domain::{
    Email, FederatedIdentity, IdentityProvider, MapUsers, TOKEN_ALGS, TokenTrust, UnixTime, User,
};

/// How far an issuer's clock may run ahead of ours (`iat`, `nbf`) or behind (`exp`).
const SKEW_SECS: i64 = 60;
/// JWT bearer assertions are short-lived authorizations: no older than this, whatever
/// the provider allows for subject tokens.
pub(crate) const ASSERTION_MAX_AGE_SECS: i64 = 300;

/// What the presenter says the token is; it decides `typ`, `aud` and `jti` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presented {
    /// An OpenID Connect ID token: for our client at the provider or a token audience.
    IdToken,
    /// An access token of the issuer (RFC 9068 or a plain JWT), or a JWT.
    AccessToken,
    /// A JWT bearer grant assertion (RFC 7523 §3): for our token endpoint or issuer, its
    /// `jti` used once, no older than [`ASSERTION_MAX_AGE_SECS`].
    Assertion,
}

/// Whether a single-use `jti` is spent (issuing) or only looked at (the dry run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JtiUse {
    Spend,
    Check,
}

/// A verified token of a trusted issuer.
#[derive(Debug)]
pub(crate) struct ExternalToken {
    pub idp: Arc<IdentityProvider>,
    pub claims: Map<String, Value>,
    /// The subject claim's value.
    pub subject: String,
    pub exp: UnixTime,
    pub jti: Option<String>,
    /// The upstream session (`sid`), when the token names one.
    pub sid: Option<String>,
}

impl ExternalToken {
    /// The token's identity for the log and lineage: its `jti`, or a digest of the token.
    pub fn id(&self, token: &str) -> String {
        match &self.jti {
            Some(j) => j.clone(),
            None => format!(
                "sha256:{}",
                sha256(token.as_bytes())[..12]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        }
    }

    fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The token as the login path's rules read an upstream identity.
    pub(crate) fn identity(&self) -> UpstreamIdentity {
        UpstreamIdentity {
            subject: self.subject.clone(),
            sid: self.sid.clone(),
            id_claims: self.claims.clone(),
            email: self.str_claim("email").map(str::to_owned),
            email_verified: self.claims.get("email_verified").and_then(Value::as_bool)
                == Some(true),
            userinfo: None,
        }
    }
}

/// A refusal: the token is not acceptable. Callers answer with their own code
/// (`invalid_request` in token exchange, `invalid_grant` for grants).
pub(crate) fn refused(why: impl Into<crate::error::Desc>) -> OAuthError {
    OAuthError::InvalidGrant(why.into())
}

fn warn(p: &IdentityProvider, reason: &str) {
    tracing::warn!(
        target: "tessera::security",
        event = "external_token_rejected",
        realm = %p.realm_id,
        idp = %p.settings.alias,
        reason,
        "a token of a trusted issuer was refused"
    );
}

/// `aud` as a list of strings (RFC 7519 §4.1.3: a string or an array of strings).
fn audiences(claims: &Map<String, Value>) -> Option<Vec<&str>> {
    match claims.get("aud")? {
        Value::String(a) => Some(vec![a.as_str()]),
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// The algorithms a provider's tokens may use: its configured list, else the asymmetric
/// ones its discovery announces (every asymmetric one for a token-only issuer: a key's
/// type still has to fit). Never `none`, never HMAC.
fn allowed_algs(
    trust: &TokenTrust,
    announced: Option<Vec<CoreJwsSigningAlgorithm>>,
) -> Vec<CoreJwsSigningAlgorithm> {
    let parse =
        |a: &str| serde_json::from_value::<CoreJwsSigningAlgorithm>(Value::String(a.into())).ok();
    if !trust.allowed_algs.is_empty() {
        return trust.allowed_algs.iter().filter_map(|a| parse(a)).collect();
    }
    announced.unwrap_or_else(|| TOKEN_ALGS.iter().filter_map(|a| parse(a)).collect())
}

/// Which `typ` headers a presented token may carry (RFC 8725 §3.11): never a logout
/// token's, and an ID token is not an access token.
fn typ_fits(kind: Presented, typ: Option<&str>) -> bool {
    matches!(
        (kind, typ),
        (_, None | Some("jwt"))
            | (
                Presented::AccessToken | Presented::Assertion,
                Some("at+jwt")
            )
    )
}

impl Provider {
    /// The provider a token's unverified `iss` names, among the realm's providers whose
    /// aliases `allowed` lists: it must be enabled and accept tokens (XID-1). A provider of
    /// another realm is never found (ISO-8). Nothing is trusted yet: this only picks the
    /// one verifier.
    pub(crate) async fn trusted_issuer(
        &self,
        ctx: &RealmCtx,
        token: &str,
        allowed: &[String],
    ) -> Result<Arc<IdentityProvider>, OAuthError> {
        let iss = ForeignJws::parse(token)
            .and_then(|j| j.claims())
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| refused("the token is not a signed JWT naming its issuer"))?;
        let idps = self.realm_idps(ctx).await?;
        let named: Vec<_> = idps
            .iter()
            .filter(|p| {
                p.settings.issuer == iss && allowed.iter().any(|a| a == p.settings.alias.as_str())
            })
            .collect();
        // Of the client's providers for this issuer, the one that accepts tokens now.
        if let Some(p) = named
            .iter()
            .find(|p| p.settings.enabled && p.settings.accept_tokens.is_some())
        {
            return Ok((*p).clone());
        }
        if let Some(p) = named.first() {
            warn(p, "the provider is disabled or does not accept tokens");
        }
        Err(refused("the token's issuer is not trusted by this client"))
    }

    /// Verifies a token of provider `p`: every check of this module's header, in order.
    pub(crate) async fn verify_external(
        &self,
        ctx: &RealmCtx,
        p: Arc<IdentityProvider>,
        token: &str,
        kind: Presented,
        jti_use: JtiUse,
    ) -> Result<ExternalToken, OAuthError> {
        let trust = p.settings.accept_tokens.clone().unwrap_or_default();
        let fail = |why: &'static str| {
            warn(&p, why);
            refused(match kind {
                Presented::IdToken => "the ID token is invalid, expired or not acceptable",
                Presented::AccessToken => "the token is invalid, expired or not acceptable",
                Presented::Assertion => "the assertion is invalid, expired or not acceptable",
            })
        };
        let jws = ForeignJws::parse(token).ok_or_else(|| fail("not a compact JWS"))?;
        if !typ_fits(kind, jws.typ().as_deref()) {
            return Err(fail("typ names another kind of token"));
        }
        if !self.external_signature_holds(ctx, &p, &trust, &jws).await? {
            return Err(fail("signature, key or algorithm not accepted"));
        }
        let claims = jws
            .claims()
            .ok_or_else(|| fail("claims are not a JSON object"))?;
        let now = self.clock.now().0;
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if text("iss") != Some(p.settings.issuer.as_str()) {
            return Err(fail("iss is not the provider's"));
        }
        // Audiences that mean us: our client at the provider (ID tokens), our token
        // endpoint or issuer (assertions), the provider's declared token audiences.
        let token_endpoint = crate::endpoints::discovery::endpoint(&ctx.issuer, "token");
        let ours: Vec<&str> = match kind {
            Presented::IdToken => std::iter::once(p.settings.client_id.as_str())
                .filter(|c| !c.is_empty())
                .chain(trust.audiences.iter().map(String::as_str))
                .collect(),
            Presented::AccessToken => trust.audiences.iter().map(String::as_str).collect(),
            Presented::Assertion => vec![token_endpoint.as_str(), ctx.issuer.as_str()],
        };
        let aud = audiences(&claims).ok_or_else(|| fail("aud is missing or malformed"))?;
        if !aud.iter().any(|a| ours.contains(a)) {
            return Err(fail("aud does not name us"));
        }
        // OIDC Core §3.1.3.7 (XID-4): with several audiences, `azp` must name us; an ID
        // token's `azp`, when present, always.
        let azp = claims.get("azp");
        let azp_needed = aud.len() > 1 || (kind == Presented::IdToken && azp.is_some());
        if azp_needed
            && !azp
                .and_then(Value::as_str)
                .is_some_and(|a| ours.contains(&a))
        {
            return Err(fail("several audiences and azp does not name us"));
        }
        let number = |k: &str| claims.get(k).and_then(Value::as_i64);
        let exp = number("exp").ok_or_else(|| fail("exp is missing"))?;
        if exp + SKEW_SECS <= now {
            return Err(fail("the token has expired"));
        }
        let iat = number("iat").ok_or_else(|| fail("iat is missing"))?;
        let max_age = match kind {
            Presented::Assertion => trust.max_age_secs.min(ASSERTION_MAX_AGE_SECS),
            _ => trust.max_age_secs,
        };
        if iat > now + SKEW_SECS || iat < now - max_age {
            return Err(fail("iat is in the future or older than the maximum age"));
        }
        match claims.get("nbf") {
            None => {}
            Some(n) if n.as_i64().is_some_and(|n| n <= now + SKEW_SECS) => {}
            Some(_) => return Err(fail("nbf is in the future or malformed")),
        }
        let subject = text(&trust.subject_claim)
            .filter(|s| s.len() <= 255)
            .ok_or_else(|| fail("the subject claim is missing"))?
            .to_owned();
        let jti = match text("jti") {
            Some(j) if j.len() > 255 => return Err(fail("jti is too long")),
            j => j.map(str::to_owned),
        };
        let sid = text("sid").filter(|s| s.len() <= 255).map(str::to_owned);
        let ext = ExternalToken {
            idp: p.clone(),
            subject,
            exp: UnixTime(exp),
            jti,
            sid,
            claims,
        };
        // The same rules as a sign-in through this provider (XID-5).
        self.check_provider_rules(ctx, &p, &ext.identity())
            .await
            .map_err(|e| match e {
                OAuthError::Broker { .. } => fail("the provider's rules refuse the subject"),
                e => e,
            })?;
        if trust.require_jti || kind == Presented::Assertion {
            let jti = ext.jti.as_deref().ok_or_else(|| fail("jti is missing"))?;
            let fresh = match jti_use {
                JtiUse::Spend => {
                    self.store
                        .claim_external_jti(ctx.realm.id, p.id, jti, UnixTime(exp + SKEW_SECS))
                        .await?
                }
                JtiUse::Check => {
                    !self
                        .store
                        .external_jti_used(ctx.realm.id, p.id, jti, UnixTime(now))
                        .await?
                }
            };
            if !fresh {
                return Err(fail("jti was used already (replay)"));
            }
        }
        Ok(ext)
    }

    /// Whether the signature is by a key of the provider, with an algorithm it may use.
    async fn external_signature_holds(
        &self,
        ctx: &RealmCtx,
        p: &IdentityProvider,
        trust: &TokenTrust,
        jws: &ForeignJws<'_>,
    ) -> Result<bool, OAuthError> {
        let peer = super::upstream::peer(ctx, p);
        match &p.settings.keys {
            Some(source) => {
                if !allowed_algs(trust, None).contains(&jws.alg) {
                    return Ok(false);
                }
                let jwks = match self
                    .cached_jwks(&self.issuer_keys, p.id, &peer, source.clone())
                    .await
                {
                    Ok(j) => j,
                    Err(e) => {
                        tracing::warn!(idp = %p.settings.alias, error = %e, "a token-only issuer's keys are unavailable");
                        return Ok(false);
                    }
                };
                let check = |keys: &[CoreJsonWebKey]| jws.verify(keys, WithoutKid::AnyKey);
                Ok(match check(&jwks.keys()) {
                    Some(ok) => ok,
                    None => {
                        self.refetch_cached_jwks(&peer, &jwks).await
                            && check(&jwks.keys()) == Some(true)
                    }
                })
            }
            None => {
                let up = match self.upstream(ctx, p).await {
                    Ok(up) => up,
                    Err(_) => return Ok(false),
                };
                if !allowed_algs(trust, Some(up.algs())).contains(&jws.alg) {
                    return Ok(false);
                }
                let check =
                    |up: &super::cache::Upstream| jws.verify(up.jwks().keys(), WithoutKid::AnyKey);
                Ok(match check(&up) {
                    Some(ok) => ok,
                    None => self.refetch_jwks(p, &up).await && check(&up) == Some(true),
                })
            }
        }
    }

    /// The local user a verified token stands for, per the provider's `map_users`: the
    /// account linked to the upstream subject; else (`email`, `create`) the one account
    /// whose verified address the upstream vouches for, when the provider trusts its
    /// e-mails, linked from then on; else (`create`) a new user. Disabled users are
    /// refused (XID-8), and an address that is not vouched for never reaches an account
    /// (XID-6).
    pub(crate) async fn external_user(
        &self,
        ctx: &RealmCtx,
        ext: &ExternalToken,
    ) -> Result<User, OAuthError> {
        let p = &ext.idp;
        let id = ext.identity();
        match self.map_external(ctx, ext).await? {
            // No write on this path (a token is not a sign-in: the link's last sign-in and
            // upstream session stay); only the organization's membership is ensured.
            Mapped::Linked(user) => {
                self.join_provider_org(ctx, p, &user).await?;
                Ok(user)
            }
            Mapped::ByEmail(existing) => {
                let now = self.clock.now();
                let link = FederatedIdentity {
                    realm_id: ctx.realm.id,
                    idp_id: p.id,
                    alias: p.settings.alias.clone(),
                    user_id: existing.id,
                    subject: id.subject.clone(),
                    username: id.email.clone(),
                    upstream_sid: id.sid.clone(),
                    created_at: now,
                    last_login: now,
                };
                match self.store.insert_link(&link).await {
                    Ok(()) | Err(tessera_storage::StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
                self.join_provider_org(ctx, p, &existing).await?;
                tracing::info!(realm = %ctx.realm.name, idp = %p.settings.alias, user_id = %existing.id, "an upstream subject linked by its verified address");
                Ok(existing)
            }
            Mapped::Create(email) => self
                .create_upstream_user(ctx, p, &id, email)
                .await
                .map_err(|e| as_refusal(p, e)),
        }
    }

    /// What [`Self::external_user`] would do, writing nothing: the user, or `None` when
    /// one would be created (the exchange dry run).
    pub(crate) async fn external_user_preview(
        &self,
        ctx: &RealmCtx,
        ext: &ExternalToken,
    ) -> Result<Option<User>, OAuthError> {
        Ok(match self.map_external(ctx, ext).await? {
            Mapped::Linked(u) | Mapped::ByEmail(u) => Some(u),
            Mapped::Create(_) => None,
        })
    }

    async fn map_external(
        &self,
        ctx: &RealmCtx,
        ext: &ExternalToken,
    ) -> Result<Mapped, OAuthError> {
        let p = &ext.idp;
        let map = p
            .settings
            .accept_tokens
            .as_ref()
            .map_or(MapUsers::Link, |t| t.map_users);
        let refuse = |why: &'static str| {
            warn(p, why);
            refused("the token's subject has no usable account here")
        };
        if let Some(user) = self
            .store
            .find_linked_user(ctx.realm.id, p.id, &ext.subject)
            .await?
        {
            if !user.enabled {
                return Err(refuse("the linked account is disabled"));
            }
            return Ok(Mapped::Linked(user));
        }
        if map == MapUsers::Link {
            return Err(refuse("no account is linked to the subject"));
        }
        let id = ext.identity();
        let email = id.email.as_deref().and_then(|e| Email::parse(e).ok());
        let vouched = id.email_verified && p.settings.trust_email;
        if let Some(e) = &email
            && let Some(existing) = self.store.find_user_by_email(ctx.realm.id, e).await?
        {
            if !(vouched && existing.email_verified) {
                return Err(refuse("the address is an account's but not vouched for"));
            }
            if !existing.enabled {
                return Err(refuse("the account of that address is disabled"));
            }
            return Ok(Mapped::ByEmail(existing));
        }
        if map != MapUsers::Create {
            return Err(refuse("no account has the subject's verified address"));
        }
        Ok(Mapped::Create(email))
    }
}

/// Which local user a token's subject is.
enum Mapped {
    Linked(User),
    ByEmail(User),
    /// A new user, with this address (verified only if the provider trusts it).
    Create(Option<Email>),
}

/// A login-path refusal (a disabled account, …) as a token refusal.
fn as_refusal(p: &IdentityProvider, e: OAuthError) -> OAuthError {
    match e {
        OAuthError::Broker { desc, .. } => {
            warn(p, &desc);
            refused("the token's subject has no usable account here")
        }
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_token_never_passes_for_an_access_token_and_logout_tokens_pass_for_nothing() {
        assert!(typ_fits(Presented::IdToken, None));
        assert!(typ_fits(Presented::IdToken, Some("jwt")));
        assert!(!typ_fits(Presented::IdToken, Some("at+jwt")));
        assert!(typ_fits(Presented::AccessToken, Some("at+jwt")));
        for kind in [
            Presented::IdToken,
            Presented::AccessToken,
            Presented::Assertion,
        ] {
            assert!(!typ_fits(kind, Some("logout+jwt")));
            assert!(!typ_fits(kind, Some("client-authentication+jwt")));
        }
    }

    #[test]
    fn hmac_and_none_are_never_allowed_even_when_configured_or_announced() {
        let trust = TokenTrust::default();
        let all = allowed_algs(&trust, None);
        assert!(all.contains(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
        assert!(!all.contains(&CoreJwsSigningAlgorithm::HmacSha256));
        assert!(!all.contains(&CoreJwsSigningAlgorithm::None));
        let only_es = TokenTrust {
            allowed_algs: vec!["ES256".into()],
            ..Default::default()
        };
        assert_eq!(
            allowed_algs(
                &only_es,
                Some(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
            ),
            vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]
        );
    }

    #[test]
    fn aud_is_a_string_or_an_array_of_strings() {
        let c = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            audiences(&c(serde_json::json!({"aud": "a"}))),
            Some(vec!["a"])
        );
        assert_eq!(
            audiences(&c(serde_json::json!({"aud": ["a", "b"]}))),
            Some(vec!["a", "b"])
        );
        assert_eq!(audiences(&c(serde_json::json!({"aud": ["a", 1]}))), None);
        assert_eq!(audiences(&c(serde_json::json!({}))), None);
    }
}
