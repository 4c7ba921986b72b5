//! Token revocation (RFC 7009).

use crate::clients::auth::{BasicCredentials, Endpoint};
use crate::crypto::sha256;
use crate::{OAuthError, Params, Provider};

impl Provider {
    /// Revokes an access token of the calling client. Unknown, expired or foreign tokens
    /// are a success with nothing to do (§2.2); a live token issued to another client is
    /// refused (§2.1), and nothing is revoked.
    pub async fn revoke(
        &self,
        realm: &str,
        basic: Option<BasicCredentials>,
        params: &Params,
    ) -> Result<(), OAuthError> {
        let ctx = self.realm(realm).await?;
        let client = self
            .authenticate_client(&ctx, basic, params, Endpoint::Revocation)
            .await?;
        let token = params.require("token")?;
        // `token_type_hint` only orders the lookups (§2.1); both kinds are always tried.
        if let Some(rt) = self
            .store()
            .find_refresh_token(ctx.realm.id, &sha256(token.as_bytes()))
            .await?
        {
            let Some(grant) = self.store().get_grant(ctx.realm.id, rt.grant_id).await? else {
                return Ok(());
            };
            if grant.client != client.id {
                return Err(OAuthError::UnauthorizedClient(
                    "the token was not issued to this client".into(),
                ));
            }
            // Revoking a refresh token ends its whole grant, access tokens included (§2.1).
            return Ok(self
                .store()
                .revoke_grant(ctx.realm.id, grant.id, self.clock().now())
                .await?);
        }
        let Some(claims) = self.resolve_access_token(&ctx, token).await? else {
            return Ok(());
        };
        if claims.client_id != client.client_id.as_str() {
            return Err(OAuthError::UnauthorizedClient(
                "the token was not issued to this client".into(),
            ));
        }
        self.revoke_access_token(&ctx, token, &claims).await
    }
}
