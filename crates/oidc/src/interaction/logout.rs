//! Logout: RP-initiated (OIDC RP-Initiated Logout 1.0) and back-channel notification of
//! clients (OIDC Back-Channel Logout 1.0) with `typ: logout+jwt` tokens, sent through the
//! guarded outbound client (peer `backchannel`) with bounded retries.

use crate::crypto::jws;
use crate::crypto::random_id;
use crate::outbound::OutboundError;
use crate::tokens::access_token::Audience;
use crate::tokens::id_token::{self, IdClaims};
use crate::{OAuthError, Params, Provider, RealmCtx};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use tessera_domain::{ClientId, Grant, Session};

pub const LOGOUT_TYP: &str = "logout+jwt";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Back-channel logout token claims (§2.4): no `nonce`, an `events` member, `sid` and `sub`.
#[derive(Serialize)]
pub struct LogoutClaims {
    pub iss: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sub: String,
    pub sid: String,
    pub events: BTreeMap<&'static str, serde_json::Map<String, serde_json::Value>>,
}

/// A validated logout request.
#[derive(Debug)]
pub struct LogoutRequest {
    /// Where to send the browser afterwards (exactly as registered), with `state`.
    pub redirect: Option<(String, Option<String>)>,
    /// The ID token hint named the browser's current session: no confirmation needed.
    pub hint_matches_session: bool,
}

impl Provider {
    /// The browser's live session in a realm, from its cookie token.
    pub async fn current_session(
        &self,
        realm: &str,
        token: Option<&str>,
    ) -> Result<Option<Session>, OAuthError> {
        let ctx = self.realm(realm).await?;
        self.live_session(&ctx, token).await
    }

    /// Validates `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`.
    /// The hint may be expired (§2) but must be ours: signature, `typ`, `iss`.
    pub async fn logout_request(
        &self,
        realm: &str,
        params: &Params,
        session: Option<&Session>,
    ) -> Result<LogoutRequest, OAuthError> {
        let ctx = self.realm(realm).await?;
        let hint = match params.get("id_token_hint") {
            Some(h) => {
                let c: IdClaims = jws::verify(&ctx.keys, id_token::TYP, h).map_err(|_| {
                    OAuthError::invalid_request("id_token_hint is not an ID token of this realm")
                })?;
                if c.iss != ctx.issuer {
                    return Err(OAuthError::invalid_request(
                        "id_token_hint is not an ID token of this realm",
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let client_id = match (params.get("client_id"), &hint) {
            (Some(id), Some(h)) if !h.aud.contains(id) => {
                return Err(OAuthError::invalid_request(
                    "client_id does not match id_token_hint",
                ));
            }
            (Some(id), _) => Some(id.to_owned()),
            (None, Some(h)) => Some(h.azp.clone()),
            (None, None) => None,
        };
        let redirect = match params.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let id = client_id.as_deref().ok_or_else(|| {
                    OAuthError::invalid_request(
                        "post_logout_redirect_uri needs client_id or id_token_hint",
                    )
                })?;
                let client = match ClientId::parse(id) {
                    Ok(id) => self.client(&ctx, &id).await?,
                    Err(_) => None,
                }
                .filter(|c| c.enabled)
                .ok_or_else(|| OAuthError::invalid_request("unknown client"))?;
                if !client
                    .oidc
                    .post_logout_redirect_uris
                    .iter()
                    .any(|r| r.as_str() == uri)
                {
                    return Err(OAuthError::invalid_request(
                        "post_logout_redirect_uri is not registered for this client",
                    ));
                }
                Some((uri.to_owned(), params.get("state").map(str::to_owned)))
            }
        };
        let hint_matches_session = match (&hint, session) {
            (Some(h), Some(s)) => h.sid == s.sid,
            _ => false,
        };
        Ok(LogoutRequest {
            redirect,
            hint_matches_session,
        })
    }

    /// Ends the session, revokes its online grants (and so their refresh and access
    /// tokens), and notifies clients with a back-channel logout URI in the background.
    pub async fn end_session(&self, realm: &str, session: &Session) -> Result<(), OAuthError> {
        let ctx = self.realm(realm).await?;
        let now = self.clock().now();
        let revoked = self
            .store()
            .end_session(ctx.realm.id, session.id, now)
            .await?;
        let mut notified = Vec::new();
        for g in &revoked {
            if notified.contains(&g.client) {
                continue;
            }
            notified.push(g.client);
            if let Err(e) = self.notify_backchannel(&ctx, g, session).await {
                tracing::warn!(error = %e, "back-channel logout not delivered");
            }
        }
        Ok(())
    }

    /// Ends a user's sessions but `keep` (clients with a back-channel logout URI are
    /// told). With `everywhere` it also revokes every grant, offline ones too, and ends
    /// their console sessions: "sign out everywhere", a reset password. Returns how many
    /// sessions ended.
    pub(crate) async fn end_user_sessions(
        &self,
        ctx: &RealmCtx,
        user: tessera_domain::UserId,
        keep: Option<tessera_domain::SessionId>,
        everywhere: bool,
    ) -> Result<usize, OAuthError> {
        let realm = ctx.realm.id;
        let now = self.clock().now();
        let mut ended = 0;
        loop {
            let sessions = self
                .store()
                .list_user_sessions(realm, user, now, 101)
                .await?;
            let mine: Vec<&Session> = sessions.iter().filter(|s| Some(s.id) != keep).collect();
            if mine.is_empty() {
                break;
            }
            for s in &mine {
                self.end_session(ctx.realm.name.as_str(), s).await?;
            }
            ended += mine.len();
        }
        if everywhere {
            self.store().revoke_user_grants(realm, user, now).await?;
            self.store()
                .delete_user_console_sessions(realm, user)
                .await?;
        }
        Ok(ended)
    }

    async fn notify_backchannel(
        &self,
        ctx: &RealmCtx,
        g: &Grant,
        session: &Session,
    ) -> Result<(), OAuthError> {
        let Ok(client) = self.store().get_client(ctx.realm.id, g.client).await else {
            return Ok(());
        };
        let Some(uri) = client.oidc.backchannel_logout_uri.clone() else {
            return Ok(());
        };
        let now = self.clock().now();
        let claims = LogoutClaims {
            iss: ctx.issuer.clone(),
            aud: Audience::One(client.client_id.to_string()),
            iat: now.0,
            exp: now.0 + 120,
            jti: random_id(),
            sub: session.user_id.to_string(),
            sid: session.sid.clone(),
            events: BTreeMap::from([(EVENT, serde_json::Map::new())]),
        };
        let key = ctx
            .keys
            .signer(client.oidc.id_token_alg)
            .ok_or_else(|| OAuthError::ServerError("no signing key".into()))?;
        let token = jws::sign(key, LOGOUT_TYP, &claims);
        let outbound = self.outbound.clone();
        // Delivery must not hold up the user's logout (BCL-5): bounded retries, in the background.
        tokio::spawn(async move {
            for attempt in 0..3u64 {
                let sent = outbound
                    .post_form("backchannel", uri.as_str(), &[("logout_token", &token)])
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() || r.status().is_client_error() => return,
                    // The guard logged it; asking again gets the same answer.
                    Err(OutboundError::Refused(_)) => return,
                    _ => tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await,
                }
            }
            tracing::warn!(uri = %uri.as_str(), "back-channel logout failed after 3 attempts");
        });
        Ok(())
    }
}
