//! Scoped admin keys (biscuit): minted by a realm administrator for the realm or one of
//! its organizations, or by an organization's administrator for theirs; shown once,
//! listed and revoked by revocation id. Presented as `Authorization: Bearer`, a key is
//! resolved here into the one [`AdminPrincipal`] (see `principal.rs`).

use super::principal::AdminTarget;
use super::{AdminPrincipal, MAX_PAGE, not_found};
use crate::crypto::admin_key::{self, AdminKeyError, KeyGrant, KeyRequest, RootKey};
use crate::{OAuthError, Provider, RealmCtx};
use tessera_domain::RealmId;
pub use tessera_storage::AdminKeyRecord;
use tessera_storage::StoredAdminKeyRoot;

/// The longest life a key may be given (a year); without `expires_in` it does not expire.
pub const MAX_ADMIN_KEY_SECS: u64 = 31_536_000;

/// What to mint.
#[derive(Debug, Clone, Default)]
pub struct NewAdminKey {
    pub read_only: bool,
    pub expires_in: Option<u64>,
    pub name: Option<String>,
}

/// A minted key: shown once.
#[derive(Debug, Clone)]
pub struct MintedAdminKey {
    /// The key (base64), for `Authorization: Bearer`.
    pub key: String,
    pub record: AdminKeyRecord,
    /// The realm's root public key, `ed25519/<hex>`.
    pub public_key: String,
}

impl Provider {
    /// The realm's root key, created (and sealed) on first use.
    async fn admin_key_root(&self, realm: RealmId) -> Result<RootKey, OAuthError> {
        let stored = match self.store().get_admin_key_root(realm).await? {
            Some(s) => s,
            None => {
                let (root, sealed) = RootKey::generate(realm, &self.master);
                let fresh = StoredAdminKeyRoot {
                    public_key: root.public_key(),
                    sealed_private_key: sealed,
                };
                self.store()
                    .put_admin_key_root_if_absent(realm, &fresh, self.clock().now())
                    .await?;
                // Another process may have stored its own first: read back the winner.
                self.store()
                    .get_admin_key_root(realm)
                    .await?
                    .ok_or_else(|| OAuthError::ServerError("admin key root vanished".into()))?
            }
        };
        RootKey::unseal(realm, &stored.sealed_private_key, &self.master)
            .map_err(|e| OAuthError::ServerError(e.to_string()))
    }

    /// The realm's root public key, `ed25519/<hex>`: what holders verify and attenuate
    /// keys with. Anyone who administers the realm or one of its organizations may read it.
    pub async fn admin_key_public_key(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
    ) -> Result<String, OAuthError> {
        let (realm_id, _) = self.managed_scope(caller, realm, org).await?;
        Ok(self.admin_key_root(realm_id).await?.public_key())
    }

    /// Mints a key of the realm, or of the organization `org` names. Keys cannot mint
    /// keys: a key minted by a key would outlive the revocation of its parent.
    pub async fn mint_admin_key(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
        new: NewAdminKey,
    ) -> Result<MintedAdminKey, OAuthError> {
        if let AdminPrincipal::AdminKey { .. } = caller {
            return Err(OAuthError::InsufficientScope(
                "an admin key cannot mint admin keys (a realm or organization administrator's \
                 token can)"
                    .into(),
            ));
        }
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        if new
            .expires_in
            .is_some_and(|s| !(60..=MAX_ADMIN_KEY_SECS).contains(&s))
        {
            return Err(OAuthError::InvalidRequest(
                format!("expires_in must be within 60..={MAX_ADMIN_KEY_SECS} seconds").into(),
            ));
        }
        if new
            .name
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.len() > 200)
        {
            return Err(OAuthError::invalid_request(
                "name must be 1 to 200 characters",
            ));
        }
        let now = self.clock().now();
        let expires_at = new.expires_in.map(|s| now.plus_secs(s as i64));
        let root = self.admin_key_root(realm_id).await?;
        let realm_name = self.admin_realm(realm).await?.realm.name.to_string();
        let (key, revocation_id) = root
            .mint(&KeyGrant {
                realm: &realm_name,
                org: org_id,
                read_only: new.read_only,
                expires_at,
            })
            .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let record = AdminKeyRecord {
            revocation_id,
            name: new.name,
            org: org_id,
            read_only: new.read_only,
            expires_at,
            created_at: now,
            created_by: caller.subject().0,
            revoked_at: None,
        };
        self.store().insert_admin_key(realm_id, &record).await?;
        Ok(MintedAdminKey {
            key,
            record,
            public_key: root.public_key(),
        })
    }

    /// The realm's keys (an organization's, when `org` is given), newest first, without
    /// the keys themselves.
    pub async fn list_admin_keys(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
    ) -> Result<Vec<AdminKeyRecord>, OAuthError> {
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        Ok(self
            .store()
            .list_admin_keys(realm_id, org_id, MAX_PAGE)
            .await?)
    }

    /// Revokes a key by revocation id: it, and every key a holder derived from it, stop
    /// working on the next request, in every process (each request reads the table).
    pub async fn revoke_admin_key(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
        revocation_id: &str,
    ) -> Result<(), OAuthError> {
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        let ids = [revocation_id.to_owned()];
        let found = self.store().find_admin_keys(realm_id, &ids).await?;
        // Under an organization, only that organization's keys exist.
        if !found.iter().any(|k| org_id.is_none() || k.org == org_id) {
            return Err(not_found("admin key"));
        }
        Ok(self
            .store()
            .revoke_admin_key(realm_id, revocation_id, self.clock().now())
            .await?)
    }

    /// The principal of a request presenting an admin key: its signature checked against
    /// the root of the realm it names, none of its blocks revoked, then scoped to the
    /// path (its realm only; an organization's key to that organization, like its
    /// administrator), read-only honoured, and the datalog run with the request's facts.
    pub(super) async fn admin_key_principal(
        &self,
        key: &str,
        t: &AdminTarget<'_>,
    ) -> Result<AdminPrincipal, OAuthError> {
        let claimed = admin_key::claimed_realm(key).ok_or_else(invalid_key)?;
        let ctx = self
            .admin_realm(&claimed)
            .await
            .map_err(|_| invalid_key())?;
        let (token, record) = self.verified_admin_key(&ctx, key).await?;
        if t.realm != Some(ctx.realm.name.as_str()) {
            return Err(OAuthError::InsufficientScope(
                format!("this admin key works only on paths of realm {claimed}").into(),
            ));
        }
        let org = match t.org {
            Some(r) => self.find_org(ctx.realm.id, r).await.ok(),
            None => None,
        };
        if let Some(own) = record.org {
            match (t.org, &org) {
                (None, _) => {
                    return Err(OAuthError::InsufficientScope(
                        "an organization's admin key works only on its organization's paths".into(),
                    ));
                }
                (Some(_), Some(o)) if o.id == own => {}
                _ => return Err(not_found("organization")),
            }
        }
        if record.read_only && t.write {
            return Err(OAuthError::InsufficientScope(
                "this admin key is read-only".into(),
            ));
        }
        let request = KeyRequest {
            now: self.clock().now(),
            realm: &claimed,
            org: org.as_ref().map(|o| (o.alias.as_str(), o.id)),
            write: t.write,
            path: t.path,
        };
        match admin_key::authorize(&token, &request) {
            Ok(()) => Ok(AdminPrincipal::AdminKey {
                realm: ctx.realm.id,
                org: record.org,
                key_id: record.revocation_id,
            }),
            Err(AdminKeyError::Expired | AdminKeyError::Invalid) => Err(invalid_key()),
            Err(AdminKeyError::Refused) => Err(OAuthError::InsufficientScope(
                "the admin key's checks do not allow this request".into(),
            )),
            Err(AdminKeyError::Internal(e)) => Err(OAuthError::ServerError(e)),
        }
    }

    /// The key verified against the realm's root, and its stored record, unless it or any
    /// block of it is revoked (one indexed `SELECT` over the blocks' revocation ids).
    async fn verified_admin_key(
        &self,
        ctx: &RealmCtx,
        key: &str,
    ) -> Result<(biscuit_auth::Biscuit, AdminKeyRecord), OAuthError> {
        let root = self
            .store()
            .get_admin_key_root(ctx.realm.id)
            .await?
            .ok_or_else(invalid_key)?;
        let (token, ids) = admin_key::verify(key, &root.public_key).map_err(|_| invalid_key())?;
        let rows = self.store().find_admin_keys(ctx.realm.id, &ids).await?;
        if rows.iter().any(|r| r.revoked_at.is_some()) {
            return Err(invalid_key());
        }
        let record = rows
            .into_iter()
            .find(|r| Some(&r.revocation_id) == ids.first())
            .ok_or_else(invalid_key)?;
        Ok((token, record))
    }
}

/// Every reason a key is not one (bad signature, another root, expired, revoked) reads
/// the same: 401 `invalid_token`.
fn invalid_key() -> OAuthError {
    OAuthError::InvalidToken(
        "the admin key is invalid, expired or revoked, or not signed by its realm's root key"
            .into(),
    )
}
