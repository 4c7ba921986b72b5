//! Token introspection (RFC 7662), for authenticated confidential clients of the realm.

use crate::clients::auth::{BasicCredentials, Endpoint};
use crate::tokens::access_token::{AccessClaims, Actor, Audience};
use crate::tokens::org_claims::OrgClaim;
use crate::{OAuthError, Params, Provider};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ActiveClaims>,
}

#[derive(Debug, Serialize)]
pub struct ActiveClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub client_id: String,
    pub token_type: &'static str,
    pub exp: i64,
    pub iat: i64,
    pub sub: String,
    pub aud: Audience,
    pub iss: String,
    pub jti: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Exchanged tokens: who acts for `sub` (RFC 8693 §4.1), and who may (§4.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub may_act: Option<Actor>,
}

impl From<AccessClaims> for ActiveClaims {
    fn from(c: AccessClaims) -> Self {
        Self {
            scope: c.scope,
            client_id: c.client_id,
            token_type: "Bearer",
            exp: c.exp,
            iat: c.iat,
            sub: c.sub,
            aud: c.aud,
            iss: c.iss,
            jti: c.jti,
            roles: c.roles,
            organization: c.organization,
            org_id: c.org_id,
            act: c.act,
            may_act: c.may_act,
        }
    }
}

impl Provider {
    /// Anything that is not a live access token of this realm is `{"active": false}`,
    /// with no hint why (RFC 7662 §2.2).
    pub async fn introspect(
        &self,
        realm: &str,
        basic: Option<BasicCredentials>,
        params: &Params,
    ) -> Result<Introspection, OAuthError> {
        let ctx = self.realm(realm).await?;
        self.authenticate_client(&ctx, basic, params, Endpoint::Introspection)
            .await?;
        let token = params.require("token")?;
        let claims = self.resolve_access_token(&ctx, token).await?;
        Ok(Introspection {
            active: claims.is_some(),
            claims: claims.map(|c| {
                let mut a = ActiveClaims::from(c);
                // Switched off: nothing about organizations leaves the server (ORG-3).
                if !ctx.realm.organizations_enabled {
                    a.organization = None;
                    a.org_id = None;
                }
                a
            }),
        })
    }
}
