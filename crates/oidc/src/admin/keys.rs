//! Signing keys: generation, rotation (the previous keys stay in JWKS, passive), retirement.

use super::AdminPrincipal;
use super::not_found;
use crate::crypto::keys::SigningKey;
use crate::{OAuthError, Provider};
use tessera_domain::{KeyStatus, RealmId, SigningAlg};

#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: SigningAlg,
    pub status: KeyStatus,
    pub created_at: i64,
}

impl Provider {
    pub(crate) async fn add_keys(&self, realm: RealmId) -> Result<Vec<String>, OAuthError> {
        let now = self.clock().now();
        let keys = tokio::task::spawn_blocking(move || {
            SigningAlg::ALL
                .into_iter()
                .map(SigningKey::generate)
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| OAuthError::ServerError(e.to_string()))?
        .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let stored: Vec<_> = keys
            .iter()
            .map(|(k, der)| k.seal(realm, der, &self.master, now))
            .collect();
        self.store().rotate_keys(realm, &stored).await?;
        Ok(stored.into_iter().map(|k| k.kid).collect())
    }

    /// New active keys for every algorithm; the previous ones turn passive and stay in JWKS.
    pub async fn rotate_keys(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
    ) -> Result<Vec<String>, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let kids = self.add_keys(ctx.realm.id).await?;
        self.forget_realm(&ctx.realm.name).await;
        Ok(kids)
    }

    pub async fn list_keys(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
    ) -> Result<Vec<KeyInfo>, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        Ok(self
            .store()
            .list_keys(realm_id)
            .await?
            .into_iter()
            .map(|k| KeyInfo {
                kid: k.kid,
                alg: k.alg,
                status: k.status,
                created_at: k.created_at.0,
            })
            .collect())
    }

    /// Retires a passive key: it leaves JWKS and tokens it signed stop verifying.
    pub async fn retire_key(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        kid: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        self.store()
            .retire_key(ctx.realm.id, kid)
            .await
            .map_err(|_| not_found("passive key"))?;
        self.forget_realm(&ctx.realm.name).await;
        Ok(())
    }
}
