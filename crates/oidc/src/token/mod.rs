//! The token endpoint: client authentication, then dispatch on `grant_type`, one grant per module.

mod authorization_code;
mod ciba;
mod client_credentials;
mod device_code;
pub mod exchange;
mod jwt_bearer;
mod refresh_token;
pub mod response;
pub(crate) mod user_tokens;

pub use response::TokenResponse;

use crate::clients::auth::{BasicCredentials, Endpoint};
use crate::{OAuthError, Params, Provider};
use tessera_domain::GrantType;

/// Parameters that may legitimately repeat at the token endpoint (RFC 8693 §2.1).
pub const REPEATABLE: &[&str] = &["audience", "resource"];

pub(crate) fn invalid_grant(d: &'static str) -> OAuthError {
    OAuthError::InvalidGrant(d.into())
}

/// Unwraps the redemption of a single-use artifact. A replay revokes the whole grant
/// before failing: whatever the first use issued dies with it (RFC 9700 §4.2.4, §4.14.2).
pub(crate) async fn redeemed<T>(
    p: &Provider,
    ctx: &crate::RealmCtx,
    r: tessera_domain::Redemption<T>,
    what: &'static str,
) -> Result<T, OAuthError> {
    match r {
        tessera_domain::Redemption::Redeemed(t) => Ok(t),
        tessera_domain::Redemption::Replayed(grant) => {
            tracing::warn!(
                target: "tessera::security",
                event = "reuse",
                what,
                realm = %ctx.realm.name,
                grant = %grant,
                "a single-use credential was presented again; its grant is revoked"
            );
            p.security_event(
                ctx.realm.id,
                "reuse",
                format!("grant {grant}"),
                format!("{what} presented again; the grant is revoked"),
                String::new(),
            )
            .await;
            p.store()
                .revoke_grant(ctx.realm.id, grant, p.clock().now())
                .await?;
            Err(OAuthError::InvalidGrant(
                format!("the {what} was already used").into(),
            ))
        }
        tessera_domain::Redemption::Invalid => Err(OAuthError::InvalidGrant(
            format!("the {what} is invalid or expired").into(),
        )),
    }
}

impl Provider {
    pub async fn token(
        &self,
        realm: &str,
        basic: Option<BasicCredentials>,
        params: &Params,
    ) -> Result<TokenResponse, OAuthError> {
        let ctx = self.realm(realm).await?;
        let client = self
            .authenticate_client(&ctx, basic, params, Endpoint::Token)
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
                let issued = client_credentials::exchange(self, &ctx, &client, params).await?;
                Ok(TokenResponse {
                    access_token: issued.access_token,
                    token_type: "Bearer",
                    expires_in: issued.expires_in,
                    scope: (!issued.scope.is_empty()).then(|| issued.scope.to_string()),
                    refresh_token: None,
                    id_token: None,
                    issued_token_type: None,
                })
            }
            GrantType::AuthorizationCode => {
                authorization_code::exchange(self, &ctx, &client, params).await
            }
            GrantType::RefreshToken => refresh_token::exchange(self, &ctx, &client, params).await,
            GrantType::TokenExchange => exchange::grant(self, &ctx, &client, params).await,
            GrantType::JwtBearer => jwt_bearer::exchange(self, &ctx, &client, params).await,
            GrantType::DeviceCode => device_code::exchange(self, &ctx, &client, params).await,
            GrantType::Ciba => ciba::exchange(self, &ctx, &client, params).await,
        };
        if issued.is_ok() {
            crate::telemetry::token_issued(grant);
        }
        issued
    }
}
