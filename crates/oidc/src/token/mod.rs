//! The token endpoint: client authentication, then dispatch on `grant_type`, one grant per module.

mod client_credentials;

use crate::client_auth::{Accept, BasicCredentials};
use crate::{OAuthError, Params, Provider};
use serde::Serialize;
use tessera_domain::GrantType;

/// The successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Parameters that may legitimately repeat at the token endpoint (none yet; RFC 8693
/// `audience`/`resource` will).
pub const REPEATABLE: &[&str] = &[];

impl Provider {
    pub async fn token(
        &self,
        realm: &str,
        basic: Option<BasicCredentials>,
        params: &Params,
    ) -> Result<TokenResponse, OAuthError> {
        let ctx = self.realm(realm).await?;
        let client = self
            .authenticate_client(&ctx, basic, params, Accept::Any)
            .await?;
        let grant_type = params.require("grant_type")?;
        let grant = GrantType::from_param(grant_type)
            .ok_or_else(|| OAuthError::UnsupportedGrantType("grant type not supported".into()))?;
        if !client.allows_grant(grant) {
            return Err(OAuthError::UnauthorizedClient(
                "grant type not enabled for this client".into(),
            ));
        }
        let issued = match grant {
            GrantType::ClientCredentials => {
                client_credentials::exchange(self, &ctx, &client, params).await?
            }
            GrantType::AuthorizationCode | GrantType::RefreshToken | GrantType::TokenExchange => {
                return Err(OAuthError::UnsupportedGrantType(
                    "grant type not supported yet".into(),
                ));
            }
        };
        Ok(TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: (!issued.scope.is_empty()).then(|| issued.scope.to_string()),
        })
    }
}
