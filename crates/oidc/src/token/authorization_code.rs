//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3).

use super::user_tokens::{UserTokens, issue_user_tokens};
use super::{TokenResponse, invalid_grant, redeemed};
use crate::authorize::pkce;
use crate::crypto::sha256;
use crate::tokens::targets::{self, Targets};
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::Client;

pub(super) async fn exchange(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    // Checked before the code is spent: asking for a target the grant lacks loses nothing.
    let asked = targets::requested(params, client)?;
    if !asked.is_empty()
        && let Some(g) = p
            .store()
            .find_code_grant(ctx.realm.id, &sha256(code.as_bytes()))
            .await?
        && g.client == client.id
    {
        Targets::of_request(asked.clone(), &g.targets, client)?;
    }
    let now = p.clock().now();
    let c = redeemed(
        p,
        ctx,
        p.store()
            .consume_code(ctx.realm.id, &sha256(code.as_bytes()), now)
            .await?,
        "code",
    )
    .await?;
    // The consume itself required a live grant; a concurrent replay may have revoked it
    // since, which leaves this (single) success with tokens that are already inactive.
    let grant = p
        .store()
        .get_grant(ctx.realm.id, c.grant_id)
        .await?
        .ok_or_else(|| invalid_grant("the code is invalid or expired"))?;
    if grant.client != client.id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    // Required and identical when the authorization request named one (RFC 6749 §4.1.3);
    // otherwise optional, and then it must be the client's registered URI.
    let redirect_ok = match (c.redirect_uri.as_str(), params.get("redirect_uri")) {
        ("", None) => true,
        ("", Some(r)) => client.redirect_uris.iter().any(|u| u.as_str() == r),
        (named, stated) => stated == Some(named),
    };
    if !redirect_ok {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&c.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verify(verifier, challenge) => {}
        (Some(_), _) => {
            return Err(invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        // PKCE downgrade: a verifier for a code that had no challenge (RFC 9700 §4.8.2).
        (None, Some(_)) => {
            return Err(invalid_grant(
                "the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    let user = p
        .store()
        .get_user(ctx.realm.id, grant.user_id)
        .await
        .ok()
        .filter(|u| u.enabled)
        .ok_or_else(|| invalid_grant("the user is no longer active"))?;
    let targets = Targets::of_request(asked, &grant.targets, client)?;
    issue_user_tokens(
        p,
        ctx,
        client,
        UserTokens {
            grant: &grant,
            user: &user,
            scope: grant.scope.clone(),
            org: grant.org,
            nonce: c.nonce.as_deref(),
            targets,
        },
    )
    .await
}
