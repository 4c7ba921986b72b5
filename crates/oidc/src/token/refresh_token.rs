//! `refresh_token` (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use returns a new refresh token; presenting a rotated one revokes the family.

use super::user_tokens::issue_user_tokens;
use super::{TokenResponse, invalid_grant, redeemed};
use crate::crypto::sha256;
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::{Client, ScopeSet};

pub(super) async fn exchange(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let token = params.require("refresh_token")?;
    let requested = params
        .get("scope")
        .map(|s| ScopeSet::parse(s).map_err(|_| OAuthError::InvalidScope("malformed scope".into())))
        .transpose()?;
    let now = p.clock().now();
    let hash = sha256(token.as_bytes());
    if let Some(r) = &requested {
        // Refuse a broader scope before rotating, so the client keeps a usable token.
        if let Some(t) = p.store().find_refresh_token(ctx.realm.id, &hash).await?
            && let Some(g) = p.store().get_grant(ctx.realm.id, t.grant_id).await?
            && !r.is_subset(&g.scope)
        {
            return Err(OAuthError::InvalidScope(
                "the scope is broader than the original grant".into(),
            ));
        }
    }
    let t = redeemed(
        p,
        ctx,
        p.store()
            .rotate_refresh_token(ctx.realm.id, &hash, now)
            .await?,
        "refresh token",
    )
    .await?;
    let (grant, user) = p
        .store()
        .get_grant_with_user(ctx.realm.id, t.grant_id)
        .await?
        // The rotation required a live grant; see `authorization_code` on concurrent replays.
        .filter(|(_, u)| u.enabled)
        .ok_or_else(|| invalid_grant("the refresh token is invalid or expired"))?;
    if grant.client != client.id {
        // A stolen token presented by another client: burn the family (BCP-12).
        p.store().revoke_grant(ctx.realm.id, grant.id, now).await?;
        return Err(invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    // Omitted: the scope originally granted (RFC 6749 §6), even after an earlier narrowing.
    let scope = match requested {
        Some(r) if !r.is_subset(&grant.scope) => {
            return Err(OAuthError::InvalidScope(
                "the scope is broader than the original grant".into(),
            ));
        }
        Some(r) => r,
        None => grant.scope.clone(),
    };
    issue_user_tokens(p, ctx, client, &grant, &user, &scope, None).await
}
