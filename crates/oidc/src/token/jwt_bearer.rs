//! The JWT bearer grant (RFC 7523 §2.1): a confidential client presents a JWT of an
//! issuer its exchange policy trusts (`trusted_idps`) as `assertion`, and gets an access
//! token for the person the JWT names. Every check of `federation::trust`, with `aud` our
//! token endpoint or issuer, `jti` used once and a short maximum age; no refresh token.

use crate::federation::trust::{JtiUse, Presented};
use crate::tokens::access_token::TokenGrant;
use crate::tokens::org_claims::without_org_scopes;
use crate::tokens::targets::{self, Targets};
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::{Client, ScopeSet, UnixTime};

use super::response::TokenResponse;

pub(super) async fn exchange(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient(
            "public clients cannot use the jwt-bearer grant".into(),
        ));
    }
    let policy = client
        .exchange
        .as_ref()
        .filter(|x| !x.trusted_idps.is_empty())
        .ok_or_else(|| {
            OAuthError::UnauthorizedClient(
                "the client trusts no identity provider (exchange policy trusted_idps)".into(),
            )
        })?;
    let assertion = params
        .get("assertion")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("assertion is missing"))?;
    // Checked before the assertion, which a check failing later would have spent.
    let scope = requested_scope(client, policy.scope_ceiling.as_deref(), params.get("scope"))?;
    let targets = Targets::of_request(targets::requested(params, client)?, &[], client)?;
    let idp = p
        .trusted_issuer(ctx, assertion, &policy.trusted_idps)
        .await?;
    let ext = p
        .verify_external(ctx, idp, assertion, Presented::Assertion, JtiUse::Spend)
        .await?;
    let user = p.external_user(ctx, &ext).await?;
    let scope = without_org_scopes(&scope);
    let mut g = TokenGrant::new(
        client,
        user.id.to_string(),
        scope.clone(),
        targets.audience(ctx, &scope),
    );
    let mut not_after = ext.exp;
    if let Some(max) = policy.max_lifetime_secs {
        not_after = not_after.min(p.clock().now().plus_secs(max));
    }
    g.not_after = Some(UnixTime(not_after.0));
    g.lineage = vec![ext.id(assertion)];
    let issued = p.issue_access_token(ctx, g).await?;
    tracing::info!(
        realm = %ctx.realm.name,
        client_id = %client.client_id,
        idp = %ext.idp.settings.alias,
        user_id = %user.id,
        "jwt-bearer grant"
    );
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
    })
}

/// The requested scope within the client's and the policy's ceiling; without `scope`,
/// all of that.
fn requested_scope(
    client: &Client,
    ceiling: Option<&[String]>,
    requested: Option<&str>,
) -> Result<ScopeSet, OAuthError> {
    let allowed = ScopeSet::from_scopes(
        client
            .scopes
            .iter()
            .filter(|s| ceiling.is_none_or(|c| c.iter().any(|x| x == s.as_str())))
            .cloned(),
    );
    let Some(raw) = requested else {
        return Ok(allowed);
    };
    let want =
        ScopeSet::parse(raw).map_err(|_| OAuthError::InvalidScope("malformed scope".into()))?;
    if let Some(e) = OAuthError::scopes_refused(want.not_in(&allowed)) {
        return Err(e);
    }
    Ok(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_stays_within_the_client_and_the_policy_ceiling() {
        let mut c = crate::test_support::client("svc");
        c.scopes = ScopeSet::parse("a b c").unwrap();
        let ceiling = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            requested_scope(&c, Some(&ceiling), None)
                .unwrap()
                .to_string(),
            "a b"
        );
        assert_eq!(
            requested_scope(&c, Some(&ceiling), Some("c"))
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        assert_eq!(
            requested_scope(&c, None, Some("c")).unwrap().to_string(),
            "c"
        );
    }
}
