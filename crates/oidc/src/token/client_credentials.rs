//! `client_credentials` (RFC 6749 §4.4): a confidential client acting for itself.

use crate::tokens::access_token::{IssuedToken, TokenGrant};
use crate::tokens::targets::{self, Targets};
use crate::{OAuthError, Params, Provider, RealmCtx};
use tessera_domain::{Client, ScopeSet};

pub(super) async fn exchange(
    p: &Provider,
    ctx: &RealmCtx,
    client: &Client,
    params: &Params,
) -> Result<IssuedToken, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient(
            "public clients cannot use client_credentials".into(),
        ));
    }
    let scope = requested_scope(client, params.get("scope"))?;
    let targets = Targets::of_request(targets::requested(params, client)?, &[], client)?;
    // Re-checked on every request: a disabled organization's client gets nothing (ORG-8).
    let org = p.client_org_context(ctx, client).await?;
    let scope = if org.claim.is_some() {
        scope
    } else {
        crate::tokens::org_claims::without_org_scopes(&scope)
    };
    let mut g = TokenGrant::new(
        client,
        // The client's server-assigned UUID: never equal to a user's `sub` (RFC 9700 §4.15).
        client.id.to_string(),
        scope.clone(),
        targets.audience(ctx, &scope),
    );
    g.roles = client.roles.clone();
    g.org = org;
    p.issue_access_token(ctx, g).await
}

/// The requested scope must be a subset of the client's; without `scope`, the client's
/// whole set is granted (RFC 6749 §3.3 lets the server pick a default).
fn requested_scope(client: &Client, requested: Option<&str>) -> Result<ScopeSet, OAuthError> {
    let Some(raw) = requested else {
        return Ok(client.scopes.clone());
    };
    let want =
        ScopeSet::parse(raw).map_err(|_| OAuthError::InvalidScope("malformed scope".into()))?;
    if let Some(e) = OAuthError::scopes_refused(want.not_in(&client.scopes)) {
        return Err(e);
    }
    Ok(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(scopes: &str) -> Client {
        let mut c = crate::test_support::client("svc");
        c.scopes = ScopeSet::parse(scopes).unwrap();
        c
    }

    #[test]
    fn missing_scope_grants_the_clients_scopes() {
        assert_eq!(
            requested_scope(&client("a b"), None).unwrap().to_string(),
            "a b"
        );
    }

    #[test]
    fn narrower_scope_is_granted_as_asked() {
        assert_eq!(
            requested_scope(&client("a b"), Some("b"))
                .unwrap()
                .to_string(),
            "b"
        );
    }

    #[test]
    fn scope_outside_the_clients_set_is_invalid_scope() {
        let e = requested_scope(&client("a b"), Some("a c")).unwrap_err();
        assert_eq!(e.code(), "invalid_scope");
        assert_eq!(
            requested_scope(&client("a"), Some("a\""))
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
    }
}
