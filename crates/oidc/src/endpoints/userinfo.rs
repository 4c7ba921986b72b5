//! UserInfo (OIDC Core §5.3): a bearer access token of this realm, for a user, with `openid`.

use crate::tokens::id_token::UserClaims;
use crate::tokens::org_claims::OrgClaim;
use crate::{OAuthError, Provider};
use serde::Serialize;
use tessera_domain::{ScopeSet, UserId};

#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(flatten)]
    pub claims: UserClaims,
    /// As in the access token: the organization context the user signed in with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

impl Provider {
    pub async fn userinfo(&self, realm: &str, bearer: &str) -> Result<UserInfo, OAuthError> {
        let invalid = || OAuthError::InvalidToken("the access token is invalid or expired".into());
        let ctx = self.realm(realm).await.map_err(|_| invalid())?;
        let claims = self
            .resolve_access_token(&ctx, bearer)
            .await?
            .ok_or_else(invalid)?;
        // Only this realm's own audience; a token meant for another resource is refused (BCP-13).
        if !claims.aud.contains(&ctx.issuer) {
            return Err(invalid());
        }
        let scope =
            ScopeSet::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
        if claims.grant_id.is_none() {
            // Client-credentials tokens have no user behind them.
            return Err(invalid());
        }
        if !scope.contains("openid") {
            return Err(OAuthError::InsufficientScope(
                "the openid scope is required".into(),
            ));
        }
        let id = uuid::Uuid::parse_str(&claims.sub).map_err(|_| invalid())?;
        let user = self
            .store()
            .get_user(ctx.realm.id, UserId(id))
            .await
            .ok()
            .filter(|u| u.enabled)
            .ok_or_else(invalid)?;
        let orgs_on = ctx.realm.organizations_enabled;
        Ok(UserInfo {
            sub: claims.sub,
            claims: UserClaims::for_scope(&user, &scope),
            organization: claims.organization.filter(|_| orgs_on),
            org_id: claims.org_id.filter(|_| orgs_on),
        })
    }
}
