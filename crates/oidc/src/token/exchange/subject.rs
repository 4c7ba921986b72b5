//! Subject resolvers, one per `subject_token_type`: the type decides how the token is
//! verified, never which other parameters happen to be present (TE-14).

use super::{ExchangeRequest, Mode, Subject, bad};
use crate::crypto::sha256;
use crate::federation::trust::{JtiUse, Presented};
use crate::tokens::access_token::{AccessClaims, Actor};
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{
    Client, ExchangePolicy, GrantId, OrgId, OrgSelection, ScopeSet, TokenType, UnixTime, UserId,
};

impl Provider {
    pub(super) async fn resolve_subject(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        policy: &ExchangePolicy,
        req: &ExchangeRequest,
        mode: Mode,
        reasons: &mut Vec<String>,
    ) -> Result<Subject, OAuthError> {
        let now = self.clock().now();
        let invalid = || bad("the subject_token is invalid, expired or not acceptable");
        if !policy.subject_token_types.contains(&req.subject_token_type) {
            return Err(bad("this subject_token_type is not allowed for the client"));
        }
        // Another issuer's access token (its `iss` names a provider the client trusts), or
        // a JWT or ID token (always another issuer's): the trusted issuers' resolver.
        let external = match req.subject_token_type {
            TokenType::IdToken => Some(Presented::IdToken),
            TokenType::Jwt => Some(Presented::AccessToken),
            TokenType::AccessToken
                if !policy.trusted_idps.is_empty()
                    && foreign_issuer(&req.subject_token, &ctx.issuer) =>
            {
                Some(Presented::AccessToken)
            }
            _ => None,
        };
        if let Some(kind) = external {
            return self
                .external_subject(ctx, client, policy, req, kind, mode, reasons)
                .await;
        }
        match req.subject_token_type {
            TokenType::AccessToken => {
                // Only our own access tokens: typ at+jwt, this realm's keys and issuer,
                // unexpired, unrevoked (ancestors included); or an opaque one by hash.
                let c = self
                    .resolve_access_token(ctx, &req.subject_token)
                    .await?
                    .ok_or_else(invalid)?;
                // TE-7: the client must hold the token: issued to it, meant for it, or
                // naming it in `may_act` as the party allowed to act for the subject.
                let caller = client.client_id.as_str();
                let named = c
                    .may_act
                    .as_ref()
                    .is_some_and(|m| m.client_id.as_deref() == Some(caller));
                // Meant for it: its client id, or one of the resource URIs of the API it
                // is, in `aud` (RFC 8707).
                let meant_for = c.aud.contains(caller)
                    || client
                        .apis
                        .resource_uris
                        .iter()
                        .any(|r| c.aud.contains(r.as_str()));
                if c.client_id != caller && !meant_for && !named {
                    return Err(bad(
                        "the subject_token was not issued to or for this client",
                    ));
                }
                reasons.push(format!(
                    "subject: access token {} of client {}",
                    c.jti, c.client_id
                ));
                Ok(subject_of(c))
            }
            TokenType::RefreshToken => {
                let t = self
                    .store()
                    .find_live_refresh_token(
                        ctx.realm.id,
                        &sha256(req.subject_token.as_bytes()),
                        now,
                    )
                    .await?
                    .ok_or_else(invalid)?;
                let (grant, user) = self
                    .store()
                    .get_grant_with_user(ctx.realm.id, t.grant_id)
                    .await?
                    .filter(|(_, u)| u.enabled)
                    .ok_or_else(invalid)?;
                if grant.client != client.id {
                    return Err(bad("the subject_token was not issued to this client"));
                }
                reasons.push(format!("subject: refresh token of grant {}", grant.id));
                Ok(Subject {
                    sub: user.id.to_string(),
                    user: Some(user.id),
                    scope: t.scope,
                    exp: t.expires_at,
                    grant: Some((grant.id, grant.sid.clone())),
                    act: None,
                    may_act: None,
                    org_id: t.org.and_then(OrgSelection::single),
                    lineage: vec![format!("grant:{}", grant.id)],
                    reason: None,
                    external_issuer: None,
                })
            }
            TokenType::Impersonation => {
                let hash = sha256(req.subject_token.as_bytes());
                let t = match mode {
                    Mode::Issue => {
                        self.store()
                            .consume_impersonation_token(ctx.realm.id, &hash, client.id, now)
                            .await?
                    }
                    Mode::DryRun => {
                        self.store()
                            .find_impersonation_token(ctx.realm.id, &hash, client.id, now)
                            .await?
                    }
                }
                .ok_or_else(invalid)?;
                let user = self
                    .store()
                    .get_user(ctx.realm.id, t.user_id)
                    .await
                    .ok()
                    .filter(|u| u.enabled)
                    .ok_or_else(invalid)?;
                if let Err(why) = self.may_impersonate(ctx, policy, user.id).await? {
                    return Err(OAuthError::invalid_request(why));
                }
                reasons.push(format!(
                    "subject: impersonation of user {} by {}",
                    user.id, t.admin_sub
                ));
                Ok(Subject {
                    sub: user.id.to_string(),
                    user: Some(user.id),
                    // The impersonating client's scopes bound what the token may carry.
                    scope: client.scopes.clone(),
                    // The token's own expiry only bounds when it may be redeemed; what
                    // it yields lives as long as the realm and policy allow.
                    exp: now.plus_secs(ctx.realm.access_token_lifetime_secs),
                    grant: None,
                    act: Some(Actor {
                        sub: t.admin_sub,
                        client_id: Some(t.admin_client_id),
                        act: None,
                    }),
                    may_act: None,
                    org_id: None,
                    lineage: vec![format!("impersonation:{}", hex(&hash[..8]))],
                    reason: Some(t.reason),
                    external_issuer: None,
                })
            }
            // Routed to the trusted issuers above.
            TokenType::Jwt | TokenType::IdToken => Err(bad(
                "this subject_token_type needs a trusted identity provider",
            )),
        }
    }

    /// A subject token of a trusted issuer: the provider its `iss` names among those the
    /// policy trusts, every check of `federation::trust`, then the local user. Refusals
    /// are `invalid_request` (RFC 8693 §2.2.2). The dry run spends no `jti` and creates or
    /// links nobody.
    #[allow(clippy::too_many_arguments)]
    async fn external_subject(
        &self,
        ctx: &RealmCtx,
        client: &Client,
        policy: &ExchangePolicy,
        req: &ExchangeRequest,
        kind: Presented,
        mode: Mode,
        reasons: &mut Vec<String>,
    ) -> Result<Subject, OAuthError> {
        let as_request = |e: OAuthError| match e {
            OAuthError::InvalidGrant(d) => OAuthError::InvalidRequest(d),
            e => e,
        };
        let token = &req.subject_token;
        let p = self
            .trusted_issuer(ctx, token, &policy.trusted_idps)
            .await
            .map_err(as_request)?;
        let jti_use = match mode {
            Mode::Issue => JtiUse::Spend,
            Mode::DryRun => JtiUse::Check,
        };
        let ext = self
            .verify_external(ctx, p, token, kind, jti_use)
            .await
            .map_err(as_request)?;
        let user = match mode {
            Mode::Issue => Some(self.external_user(ctx, &ext).await.map_err(as_request)?),
            Mode::DryRun => self
                .external_user_preview(ctx, &ext)
                .await
                .map_err(as_request)?,
        };
        let id = ext.id(token);
        let alias = &ext.idp.settings.alias;
        reasons.push(match &user {
            Some(u) => format!(
                "subject: {} of provider {alias} ({}), user {}",
                kind_name(kind),
                ext.idp.settings.issuer,
                u.id
            ),
            None => format!(
                "subject: {} of provider {alias} ({}), a user created on exchange",
                kind_name(kind),
                ext.idp.settings.issuer
            ),
        });
        Ok(Subject {
            sub: user
                .as_ref()
                .map_or_else(|| format!("{alias}:{}", ext.subject), |u| u.id.to_string()),
            user: user.as_ref().map(|u| u.id),
            // What the client may carry: the external token's own scopes mean something
            // at its issuer, not here.
            scope: client.scopes.clone(),
            exp: ext.exp,
            grant: None,
            act: None,
            may_act: None,
            org_id: ext.idp.settings.org_id,
            lineage: vec![id],
            reason: None,
            external_issuer: Some(ext.idp.settings.issuer.clone()),
        })
    }
}

fn kind_name(kind: Presented) -> &'static str {
    match kind {
        Presented::IdToken => "ID token",
        Presented::AccessToken => "token",
        Presented::Assertion => "assertion",
    }
}

/// Whether a token is a JWT whose (unverified) `iss` is not this realm: only then is it
/// routed to the trusted issuers; our own and opaque tokens keep our resolver.
fn foreign_issuer(token: &str, ours: &str) -> bool {
    crate::crypto::foreign::ForeignJws::parse(token)
        .and_then(|j| j.claims())
        .and_then(|c| c.get("iss").and_then(|i| i.as_str()).map(|i| i != ours))
        .unwrap_or(false)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn subject_of(c: AccessClaims) -> Subject {
    let user = c
        .grant_id
        .as_ref()
        .and_then(|_| uuid::Uuid::parse_str(&c.sub).ok())
        .map(UserId);
    let grant = match (&c.grant_id, &c.sid) {
        (Some(g), Some(sid)) => uuid::Uuid::parse_str(g)
            .ok()
            .map(|g| (GrantId(g), sid.clone())),
        _ => None,
    };
    let mut lineage = c.lineage;
    lineage.push(c.jti);
    Subject {
        sub: c.sub,
        user,
        scope: ScopeSet::parse(c.scope.as_deref().unwrap_or_default()).unwrap_or_default(),
        exp: UnixTime(c.exp),
        grant,
        act: c.act,
        may_act: c.may_act,
        org_id: c
            .org_id
            .and_then(|o| uuid::Uuid::parse_str(&o).ok())
            .map(OrgId),
        lineage,
        reason: None,
        external_issuer: None,
    }
}
