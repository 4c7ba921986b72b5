//! Clients: created and updated through the one builder of `crate::clients::metadata`,
//! secrets generated here and stored only as hashes.

use super::{AdminPrincipal, conflict, not_found, page};
use crate::clients::metadata::ClientMetadata;
use crate::crypto::{random_token, sha256};
use crate::{OAuthError, Provider};
use tessera_domain::{Client, ClientId, ClientUuid, RealmId};
use tessera_storage::StoreError;
use uuid::Uuid;

/// Shortest client secret an administrator may set by hand (generated ones are 43).
pub const MIN_SECRET_LEN: usize = 32;

impl Provider {
    /// Creates a client. For a confidential client without `secret`, a 256-bit secret is
    /// generated and returned once; only its SHA-256 is stored.
    pub async fn create_client(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        m: ClientMetadata,
        secret: Option<String>,
    ) -> Result<(Client, Option<String>), OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let realm_id = ctx.realm.id;
        let c = self.build_client(&ctx.realm, m).await?;
        let secret = match (!c.auth_method.uses_secret(), secret) {
            (true, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "only a client_secret_basic or client_secret_post client has a secret",
                ));
            }
            (true, None) => None,
            (false, Some(s)) if s.len() < MIN_SECRET_LEN || s.len() > 256 => {
                return Err(OAuthError::InvalidRequest(
                    format!("a client secret must be {MIN_SECRET_LEN} to 256 characters").into(),
                ));
            }
            (false, Some(s)) => Some(s),
            (false, None) => Some(random_token()),
        };
        let hash = secret.as_ref().map(|s| sha256(s.as_bytes()));
        let client = self
            .store()
            .insert_client(realm_id, ClientUuid::new_v7(), &c, hash, self.clock().now())
            .await
            .map_err(conflict("client with this client_id"))?;
        self.forget_client(realm_id, &client.client_id).await;
        Ok((client, secret))
    }

    /// A page of the realm's clients, those matching `search` (client id or name); with
    /// `org`, the clients that organization owns, which its administrators may list too.
    pub async fn list_clients(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org: Option<&str>,
        search: Option<&str>,
        after: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<Client>, OAuthError> {
        let (realm_id, org_id) = self.managed_scope(caller, realm, org).await?;
        Ok(self
            .store()
            .list_clients(realm_id, org_id, search, &page(after, limit))
            .await?)
    }

    /// A client by its server-assigned id or its `client_id` (admin URLs and the CLI take
    /// either).
    pub async fn get_client(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        client: &str,
    ) -> Result<Client, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        self.admin_client(realm_id, client).await
    }

    async fn admin_client(&self, realm_id: RealmId, client: &str) -> Result<Client, OAuthError> {
        if let Ok(id) = Uuid::parse_str(client) {
            match self.store().get_client(realm_id, ClientUuid(id)).await {
                Ok(c) => return Ok(c),
                // A client_id may look like a UUID too.
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let cid = ClientId::parse(client).map_err(|_| not_found("client"))?;
        self.store()
            .find_client_by_client_id(realm_id, &cid)
            .await?
            .ok_or_else(|| not_found("client"))
    }

    pub async fn update_client(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        client: &str,
        m: ClientMetadata,
    ) -> Result<Client, OAuthError> {
        caller.require_realm_admin()?;
        let ctx = self.admin_realm(realm).await?;
        let realm_id = ctx.realm.id;
        let old = self.admin_client(realm_id, client).await?;
        let c = self.build_client(&ctx.realm, m).await?;
        if c.auth_method.uses_secret() && old.secret_hash.is_none() {
            return Err(OAuthError::invalid_request(
                "a client without a secret cannot switch to a secret method; create a new client",
            ));
        }
        // The exchange policy has its own endpoint; a client update keeps it.
        let mut c = c;
        c.exchange = old.exchange.clone();
        let client = self
            .store()
            .update_client(realm_id, old.id, &c)
            .await
            .map_err(conflict("client with this client_id"))?;
        self.forget_client(realm_id, &old.client_id).await;
        self.forget_client(realm_id, &client.client_id).await;
        Ok(client)
    }

    pub async fn regenerate_secret(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        client: &str,
    ) -> Result<String, OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        let old = self.admin_client(realm_id, client).await?;
        if !old.auth_method.uses_secret() {
            return Err(OAuthError::invalid_request("this client has no secret"));
        }
        let secret = random_token();
        self.store()
            .set_client_secret_hash(realm_id, old.id, sha256(secret.as_bytes()))
            .await?;
        self.forget_client(realm_id, &old.client_id).await;
        Ok(secret)
    }

    pub async fn delete_client(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        client: &str,
    ) -> Result<(), OAuthError> {
        caller.require_realm_admin()?;
        let realm_id = self.admin_realm_id(realm).await?;
        let old = self.admin_client(realm_id, client).await?;
        self.store().delete_client(realm_id, old.id).await?;
        self.forget_client(realm_id, &old.client_id).await;
        Ok(())
    }
}
