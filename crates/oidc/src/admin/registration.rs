//! Initial access tokens for dynamic client registration (RFC 7591 §3): minted by a realm
//! administrator, or by an organization's administrator for that organization (the
//! clients they register belong to it). Shown once; only the SHA-256 is stored.

use super::{AdminPrincipal, not_found, page};
use crate::crypto::{random_token, sha256};
use crate::{OAuthError, Provider};
use tessera_domain::{InitialAccessToken, OrgId, RealmId, UnixTime};

/// Most registrations one token allows, and its longest life.
pub const MAX_INITIAL_TOKEN_COUNT: i64 = 1000;
pub const MAX_INITIAL_TOKEN_SECS: i64 = 31_536_000;

impl Provider {
    /// The realm, and the organization `org` names when given, that the caller manages
    /// (initial access tokens, admin keys):
    /// a realm administrator anything, an organization's administrator only their own
    /// organization (any other is 404, ISO-10).
    pub(super) async fn managed_scope(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
    ) -> Result<(RealmId, Option<OrgId>), OAuthError> {
        let Some(org) = org else {
            caller.require_realm_admin()?;
            return Ok((self.admin_realm_id(realm).await?, None));
        };
        let realm_id = self.admin_realm_id(realm).await?;
        let org = self
            .find_org(realm_id, org)
            .await
            .map_err(|_| not_found("organization"))?;
        if !caller.manages_org(realm_id, org.id) {
            return Err(not_found("organization"));
        }
        Ok((realm_id, Some(org.id)))
    }

    /// Mints a token allowing `count` registrations (default 1) for `expires_in` seconds
    /// (default a day). Returns the token, to be shown once.
    pub async fn mint_initial_token(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
        count: Option<i64>,
        expires_in: Option<i64>,
    ) -> Result<(String, InitialAccessToken), OAuthError> {
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        let count = count.unwrap_or(1);
        let secs = expires_in.unwrap_or(86_400);
        if !(1..=MAX_INITIAL_TOKEN_COUNT).contains(&count)
            || !(60..=MAX_INITIAL_TOKEN_SECS).contains(&secs)
        {
            return Err(OAuthError::InvalidRequest(
                format!(
                    "count must be within 1..={MAX_INITIAL_TOKEN_COUNT} and expires_in within \
                     60..={MAX_INITIAL_TOKEN_SECS}"
                )
                .into(),
            ));
        }
        let now = self.clock().now();
        let token = random_token();
        let t = InitialAccessToken {
            id: uuid::Uuid::now_v7(),
            realm_id,
            org_id,
            remaining: count,
            expires_at: UnixTime(now.0 + secs),
            created_at: now,
            created_by: caller.subject().0,
        };
        self.store()
            .insert_initial_token(&t, sha256(token.as_bytes()))
            .await?;
        Ok((token, t))
    }

    /// The realm's initial tokens (an organization's, when `org` is given), without
    /// the tokens themselves.
    pub async fn list_initial_tokens(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<InitialAccessToken>, OAuthError> {
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        Ok(self
            .store()
            .list_initial_tokens(realm_id, org_id, &page(after, limit))
            .await?)
    }

    pub async fn delete_initial_token(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
        id: &str,
    ) -> Result<(), OAuthError> {
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| not_found("initial access token"))?;
        self.store()
            .delete_initial_token(realm_id, org_id, id)
            .await
            .map_err(|e| match e {
                tessera_storage::StoreError::NotFound => not_found("initial access token"),
                e => e.into(),
            })
    }
}
