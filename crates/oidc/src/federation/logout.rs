//! Upstream back-channel logout (OIDC Back-Channel Logout 1.0 §2.6): the upstream posts a
//! `logout_token` when a person's session there ends; every Tessera session that came
//! through it ends too, with its grants and our own back-channel notifications, and so do
//! the clients the organization-admin exchange bound to that session.

use super::cache::Upstream;
use crate::crypto::foreign::{ForeignJws, WithoutKid};
use crate::{OAuthError, Params, Provider};
use serde_json::Value;
use tessera_domain::{IdentityProvider, UnixTime};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token older than this is stale; its `jti` is remembered this long.
const MAX_AGE_SECS: i64 = 600;
const SKEW_SECS: i64 = 60;

fn bad(why: &'static str) -> OAuthError {
    OAuthError::invalid_request(why)
}

impl Provider {
    /// Handles `POST …/broker/{alias}/backchannel-logout`.
    pub async fn upstream_backchannel_logout(
        &self,
        realm: &str,
        alias: &str,
        params: &Params,
    ) -> Result<usize, OAuthError> {
        let ctx = self.realm(realm).await?;
        let p = self
            .enabled_idp(&ctx, alias)
            .await
            .map_err(|_| bad("unknown identity provider"))?;
        let token = params
            .get("logout_token")
            .filter(|t| t.len() <= 16 * 1024)
            .ok_or_else(|| bad("logout_token is missing"))?;
        let up = self
            .upstream(&ctx, &p)
            .await
            .map_err(|_| bad("the identity provider's keys are not available"))?;
        let claims = self.verify_logout_token(&p, &up, token).await?;
        let now = self.clock.now();
        let s = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        if s("iss") != Some(p.settings.issuer.as_str()) {
            return Err(bad("iss is not the identity provider's"));
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == &p.settings.client_id,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(&p.settings.client_id)),
            _ => false,
        };
        if !aud_ok {
            return Err(bad("aud is not our client at the identity provider"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("iat is missing"))?;
        if iat > now.0 + SKEW_SECS || iat < now.0 - MAX_AGE_SECS {
            return Err(bad("iat is too old or in the future"));
        }
        match claims.get("exp") {
            None => {}
            Some(v) if v.as_i64().is_some_and(|e| e + SKEW_SECS > now.0) => {}
            Some(_) => return Err(bad("the logout token has expired")),
        }
        let is_logout_event = claims
            .get("events")
            .and_then(Value::as_object)
            .and_then(|e| e.get(EVENT))
            .is_some_and(Value::is_object);
        if !is_logout_event {
            return Err(bad("events lacks the back-channel logout event"));
        }
        // §2.4: a nonce is forbidden, so an ID token cannot pass for a logout token.
        if claims.contains_key("nonce") {
            return Err(bad("a logout token must not contain a nonce"));
        }
        let (sub, sid) = (s("sub"), s("sid"));
        if sub.is_none() && sid.is_none() {
            return Err(bad("the logout token names neither sub nor sid"));
        }
        let jti = s("jti")
            .filter(|j| j.len() <= 255)
            .ok_or_else(|| bad("jti is missing"))?;
        if !self
            .store
            .claim_logout_jti(p.id, jti, UnixTime(now.0 + MAX_AGE_SECS + SKEW_SECS))
            .await?
        {
            tracing::warn!(
                target: "tessera::security",
                event = "logout_token_replayed",
                idp = %p.settings.alias,
                "an upstream logout token was replayed"
            );
            return Err(bad("this logout token was already used"));
        }
        let sessions = self
            .store
            .find_upstream_sessions(ctx.realm.id, p.id, sub, sid)
            .await?;
        for session in &sessions {
            self.end_session(ctx.realm.name.as_str(), session).await?;
        }
        // The clients the organization-admin exchange bound to that upstream session end
        // with it.
        let clients = match sid {
            Some(sid) => self.end_org_admin_clients(&ctx, p.id, sid).await?,
            None => 0,
        };
        tracing::info!(
            realm = %ctx.realm.name,
            idp = %p.settings.alias,
            sessions = sessions.len(),
            org_admin_clients = clients,
            "upstream back-channel logout"
        );
        Ok(sessions.len())
    }

    /// The logout token's signature: an accepted asymmetric algorithm and the upstream's
    /// key (its JWKS fetched again once for an unknown `kid`). `typ`, when present, must
    /// not say it is some other kind of token.
    async fn verify_logout_token(
        &self,
        p: &IdentityProvider,
        up: &Upstream,
        token: &str,
    ) -> Result<serde_json::Map<String, Value>, OAuthError> {
        let invalid = || bad("the logout token's signature is not valid");
        let jws = ForeignJws::parse(token).ok_or_else(invalid)?;
        if jws
            .typ()
            .is_some_and(|typ| !matches!(typ.as_str(), "logout+jwt" | "jwt"))
        {
            return Err(bad("the token is not a logout token"));
        }
        if !up.algs().contains(&jws.alg) {
            return Err(invalid());
        }
        let check = |up: &Upstream| jws.verify(up.jwks().keys(), WithoutKid::AnyKey);
        let verified = match check(up) {
            Some(ok) => ok,
            None => self.refetch_jwks(p, up).await && check(up) == Some(true),
        };
        if !verified {
            tracing::warn!(
                target: "tessera::security",
                event = "logout_token_rejected",
                idp = %p.settings.alias,
                "an upstream logout token failed signature verification"
            );
            return Err(invalid());
        }
        jws.claims().ok_or_else(invalid)
    }
}
