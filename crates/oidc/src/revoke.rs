//! Token revocation (RFC 7009).

use crate::client_auth::{Accept, BasicCredentials};
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
            .authenticate_client(&ctx, basic, params, Accept::Any)
            .await?;
        let token = params.require("token")?;
        // `token_type_hint` only speeds up lookup (§2.1); we only have access tokens yet.
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
