//! Tessera as a relying party of upstream OpenID providers: `upstream` talks to one
//! provider (discovery and JWKS from a cache, the code exchange, ID token and userinfo),
//! `broker` runs a sign-in through it and decides which local user it is, `link` proves
//! ownership of an existing account before linking, `logout` receives the upstream's
//! back-channel logout, `trust` verifies the tokens of providers that accept tokens, and
//! `org_admin` trades an organization's ID tokens for organization-admin credentials.

pub mod broker;
pub(crate) mod cache;
pub mod link;
pub mod logout;
pub mod org_admin;
pub(crate) mod trust;
pub(crate) mod upstream;

pub use cache::RealmIdps;

use crate::crypto::MasterKey;
use crate::{OAuthError, Provider, RealmCtx};
use std::sync::Arc;
use tessera_domain::{IdentityProvider, IdpAlias, RealmId, RealmName};
use tessera_storage::Change;

/// Sealing purpose of upstream client secrets at rest.
const SECRET_PURPOSE: &str = "idp-client-secret";

fn secret_aad(p: &IdentityProvider) -> Vec<u8> {
    format!("tessera-idp-secret|{}|{}", p.realm_id, p.id).into_bytes()
}

impl Provider {
    fn idp_secret_key(&self) -> MasterKey {
        self.master.subkey(SECRET_PURPOSE)
    }

    /// Seals a provider's client secret, bound to the realm and the provider's id.
    pub fn seal_idp_secret(&self, p: &IdentityProvider, secret: &str) -> Vec<u8> {
        self.idp_secret_key()
            .seal(secret.as_bytes(), &secret_aad(p))
    }

    pub(crate) fn open_idp_secret(&self, p: &IdentityProvider) -> Result<String, OAuthError> {
        let raw = self
            .idp_secret_key()
            .open(&p.secret_sealed, &secret_aad(p))
            .map_err(|_| {
                OAuthError::ServerError("an upstream client secret does not open".into())
            })?;
        String::from_utf8(raw).map_err(|_| OAuthError::ServerError("upstream secret".into()))
    }

    /// Where the upstream sends the browser back: registered there as a redirect URI.
    pub fn broker_redirect_uri(&self, realm: &RealmName, alias: &IdpAlias) -> String {
        format!("{}/realms/{realm}/broker/{alias}/endpoint", self.public_url)
    }

    /// Where the upstream posts its back-channel logout tokens.
    pub fn broker_logout_uri(&self, realm: &RealmName, alias: &IdpAlias) -> String {
        format!(
            "{}/realms/{realm}/broker/{alias}/backchannel-logout",
            self.public_url
        )
    }

    /// Every provider of the realm, enabled or not, by alias.
    pub async fn realm_idps(&self, ctx: &RealmCtx) -> Result<RealmIdps, OAuthError> {
        let realm = ctx.realm.id;
        self.idps
            .try_get_with(realm, async {
                let all = self.store.list_idps(realm).await?;
                Ok::<_, OAuthError>(Arc::new(all.into_iter().map(Arc::new).collect()))
            })
            .await
            .map_err(|e| OAuthError::ServerError(e.to_string()))
    }

    /// An enabled sign-in provider of this realm by alias (ISO-8: never another realm's;
    /// never a token-only issuer, which signs nobody in).
    pub(crate) async fn enabled_idp(
        &self,
        ctx: &RealmCtx,
        alias: &str,
    ) -> Result<Arc<IdentityProvider>, OAuthError> {
        self.realm_idps(ctx)
            .await?
            .iter()
            .find(|p| {
                p.settings.alias.as_str() == alias && p.settings.enabled && !p.settings.token_only()
            })
            .cloned()
            .ok_or_else(|| OAuthError::NotFound("no such identity provider".into()))
    }

    /// After a provider's settings changed or it was deleted: its discovery document and
    /// the realm's provider list are read again.
    pub async fn forget_idp(&self, p: &IdentityProvider) {
        self.forget_upstream(p).await;
        self.forget_idps(p.realm_id).await;
    }

    /// Drops a realm's providers from every process's cache after an administrative change.
    pub async fn forget_idps(&self, realm: RealmId) {
        self.idps.invalidate(&realm).await;
        self.announce(Change::Idps(realm)).await;
    }
}
