//! Tokens for a user's grant: access token, rotating refresh token, ID token.

use super::response::TokenResponse;
use crate::crypto::{random_token, sha256};
use crate::tokens::access_token::Audience;
use crate::tokens::access_token::TokenGrant;
use crate::tokens::id_token::{self, IdClaims, UserClaims};
use crate::tokens::org_claims::without_org_scopes;
use crate::tokens::targets::Targets;
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::{
    ADMIN_SCOPE, Client, Grant, GrantType, OrgSelection, RefreshToken, ScopeSet, User,
};

/// What one issuance of a user's tokens is for.
pub(crate) struct UserTokens<'a> {
    pub grant: &'a Grant,
    pub user: &'a User,
    pub scope: ScopeSet,
    /// The organization context; its memberships are re-checked here.
    pub org: Option<OrgSelection>,
    /// What the access token is for (RFC 8707), already checked against the grant.
    pub targets: Targets,
    pub nonce: Option<&'a str>,
}

pub(crate) async fn issue_user_tokens(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    t: UserTokens<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = p.clock().now();
    let (grant, user) = (t.grant, t.user);
    let org = p.user_org_context(ctx, client, user.id, t.org).await?;
    // The scope says what was granted: without organization context, no organization scope.
    let scope = if org.claim.is_some() {
        t.scope.clone()
    } else {
        without_org_scopes(&t.scope)
    };
    let mut audience = t.targets.audience(ctx, &scope);
    // Only an admin console's tokens, with the scope the user granted, are for the admin API.
    if client.admin_console && scope.contains(ADMIN_SCOPE) {
        audience.push(p.admin_audience());
    }
    let mut g = TokenGrant::new(client, user.id.to_string(), scope.clone(), audience);
    g.grant = Some((grant.id, grant.sid.clone()));
    g.org = org.clone();
    let issued = p.issue_access_token(ctx, g).await?;
    let refresh_token = if client.allows_grant(GrantType::RefreshToken) {
        let token = random_token();
        let idle_end = now.plus_secs(if grant.offline {
            ctx.realm.lifetimes.refresh_max_secs
        } else {
            ctx.realm.lifetimes.refresh_idle_secs
        });
        p.store()
            .insert_refresh_token(&RefreshToken {
                realm_id: ctx.realm.id,
                token_hash: sha256(token.as_bytes()),
                grant_id: grant.id,
                // The requested scope, organization forms included: a chosen organization
                // the user left may be chosen again by switching.
                scope: t.scope,
                org: t.org,
                issued_at: now,
                expires_at: idle_end.min(grant.expires_at),
            })
            .await?;
        Some(token)
    } else {
        None
    };
    let id_token = if scope.contains("openid") {
        let alg = client.oidc.id_token_alg;
        let claims = IdClaims {
            iss: ctx.issuer.clone(),
            sub: user.id.to_string(),
            aud: Audience::One(client.client_id.to_string()),
            exp: now.0 + id_token::LIFETIME_SECS,
            iat: now.0,
            auth_time: grant.auth_time.0,
            nonce: t.nonce.map(str::to_owned),
            at_hash: Some(id_token::at_hash(&issued.access_token, alg)),
            sid: grant.sid.clone(),
            azp: client.client_id.to_string(),
            user: UserClaims::for_scope(user, &scope),
            organization: org.claim,
            org_id: org.org_id.map(|o| o.to_string()),
        };
        Some(id_token::sign(ctx, alg, &claims)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        refresh_token,
        id_token,
        issued_token_type: None,
    })
}

/// The tokens of a request approved elsewhere, redeemed just now: its grant is made
/// from what the person approved (who, in which session, for which organization), then
/// issued like a code's, without a nonce.
pub(crate) async fn issue_for_approval(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    r: tessera_domain::ApprovalRequest,
) -> Result<TokenResponse, OAuthError> {
    let Some(a) = r.approval else {
        return Err(OAuthError::ServerError(
            "an approved request without approval".into(),
        ));
    };
    let user = p
        .store()
        .get_user(ctx.realm.id, a.user_id)
        .await
        .ok()
        .filter(|u| u.enabled)
        .ok_or_else(|| super::invalid_grant("the user is no longer active"))?;
    let now = p.clock().now();
    let scope = match a.org {
        Some(_) => r.scope.clone(),
        None => without_org_scopes(&r.scope),
    };
    let grant = Grant {
        id: tessera_domain::GrantId::new_v7(),
        realm_id: ctx.realm.id,
        client: client.id,
        user_id: user.id,
        session_id: Some(a.session_id),
        sid: a.sid,
        offline: scope.contains("offline_access"),
        org: a.org,
        scope,
        targets: r.targets.clone(),
        auth_time: a.auth_time,
        created_at: now,
        expires_at: now.plus_secs(ctx.realm.lifetimes.refresh_max_secs),
        revoked_at: None,
    };
    p.store().insert_grant(&grant).await?;
    let targets = Targets::of_request(vec![], &grant.targets, client)?;
    issue_user_tokens(
        p,
        ctx,
        client,
        UserTokens {
            grant: &grant,
            user: &user,
            scope: grant.scope.clone(),
            org: grant.org,
            nonce: None,
            targets,
        },
    )
    .await
}
