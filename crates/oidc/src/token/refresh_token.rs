//! `refresh_token` (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use returns a new refresh token; presenting a rotated one revokes the family.
//! `organization=<alias>` switches the active organization without a new login.

use super::user_tokens::{UserTokens, issue_user_tokens};
use super::{TokenResponse, invalid_grant, redeemed};
use crate::crypto::sha256;
use crate::tokens::org_claims::requested_org_scope;
use crate::tokens::targets::{self, Targets};
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::{Client, OrgScope, OrgSelection, ScopeSet};

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
    let asked = targets::requested(params, client)?;
    let now = p.clock().now();
    let hash = sha256(token.as_bytes());
    // Refuse a broader scope or target or a foreign organization before rotating, so the
    // client keeps a usable token.
    let mut switch_to = None;
    if (requested.is_some() || !asked.is_empty() || params.get("organization").is_some())
        && let Some(t) = p.store().find_refresh_token(ctx.realm.id, &hash).await?
        && let Some(g) = p.store().get_grant(ctx.realm.id, t.grant_id).await?
        && g.client == client.id
    {
        Targets::of_request(asked.clone(), &g.targets, client)?;
        if let Some(r) = &requested
            && !r.is_subset(&g.scope)
        {
            return Err(OAuthError::InvalidScope(
                "the scope is broader than the original grant".into(),
            ));
        }
        if let Some(alias) = params.get("organization") {
            let scope = requested.as_ref().unwrap_or(&g.scope);
            switch_to = Some(switch_org(p, ctx, scope, g.user_id, alias).await?);
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
        tracing::warn!(
            target: "tessera::security",
            event = "reuse",
            what = "refresh token",
            realm = %ctx.realm.name,
            grant = %grant.id,
            "a refresh token was presented by another client; its grant is revoked"
        );
        p.security_event(
            ctx.realm.id,
            "reuse",
            format!("client {}", client.client_id),
            format!(
                "refresh token of grant {} (another client's); the grant is revoked",
                grant.id
            ),
            String::new(),
        )
        .await;
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
    // The context travels with the refresh token (switching changes it); a scope that no
    // longer asks for organizations drops it.
    let org = match requested_org_scope(&scope)? {
        None => None,
        Some(_) => switch_to.or(t.org),
    };
    // RFC 8707 §2.2: a subset of the grant's targets; the refresh token keeps them all.
    let targets = Targets::of_request(asked, &grant.targets, client)?;
    issue_user_tokens(
        p,
        ctx,
        client,
        UserTokens {
            grant: &grant,
            user: &user,
            scope,
            org,
            nonce: None,
            targets,
        },
    )
    .await
}

/// The organization a refresh switches to: the grant must carry the `organization` scope
/// (an `organization:<alias>` grant only its own alias) and the user must be a member.
async fn switch_org(
    p: &Provider,
    ctx: &RealmCtx,
    scope: &ScopeSet,
    user: tessera_domain::UserId,
    alias: &str,
) -> Result<OrgSelection, OAuthError> {
    let required = match requested_org_scope(scope)? {
        _ if !ctx.realm.organizations_enabled => None,
        Some(OrgScope::Any | OrgScope::All) => Some(false),
        Some(OrgScope::One(a)) if a.as_str() == alias => Some(true),
        _ => None,
    };
    let Some(required) = required else {
        return Err(OAuthError::InvalidScope(
            "the grant does not include this organization".into(),
        ));
    };
    let denied = || OAuthError::AccessDenied("the user is not a member of the organization".into());
    let org = p.enabled_org(ctx, alias).await?.ok_or_else(denied)?;
    p.store()
        .get_membership(ctx.realm.id, org.id, user, false)
        .await?
        .ok_or_else(denied)?;
    Ok(if required {
        OrgSelection::Required(org.id)
    } else {
        OrgSelection::Chosen(org.id)
    })
}
