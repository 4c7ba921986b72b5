//! Clients issued by the organization-admin exchange: each bound to the person, the
//! upstream session (`sid`) and the browser origin that asked, so the same session reuses
//! its client and the upstream's back-channel logout for that session finds them.

use crate::clients::{new_client_model, to_domain};
use crate::entity::{client, org_admin_client as oac};
use crate::{Store, StoreError, StoreResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use tessera_domain::{Client, ClientUuid, IdpId, NewClient, OrgId, RealmId, UnixTime, UserId};

/// One issued client's binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgAdminBinding {
    pub client: ClientUuid,
    pub realm_id: RealmId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub idp_id: IdpId,
    pub upstream_sid: String,
    pub origin: String,
    pub created_at: UnixTime,
}

fn binding_model(b: &OrgAdminBinding) -> oac::ActiveModel {
    oac::ActiveModel {
        client_id: Set(b.client.0),
        realm_id: Set(b.realm_id.0),
        org_id: Set(b.org_id.0),
        user_id: Set(b.user_id.0),
        idp_id: Set(b.idp_id.0),
        upstream_sid: Set(b.upstream_sid.clone()),
        origin: Set(b.origin.clone()),
        created_at: Set(b.created_at.0),
    }
}

impl Store {
    /// Inserts a client the exchange issues (a registered client: its secret's and its
    /// registration token's hashes) and its binding `b` (whose `client` is ignored) in
    /// one transaction. `Conflict` when the same person, session and origin already have
    /// one (a concurrent first exchange): then nothing is written.
    pub async fn insert_org_admin_client(
        &self,
        c: &NewClient,
        secret_hash: Vec<u8>,
        registration_hash: Vec<u8>,
        b: &OrgAdminBinding,
    ) -> StoreResult<Client> {
        let tx = self.db.begin().await?;
        let id = ClientUuid::new_v7();
        let mut m = new_client_model(b.realm_id, id, c, Some(secret_hash), b.created_at);
        m.registration_token_hash = Set(Some(registration_hash));
        let client = to_domain(m.insert(&tx).await?)?;
        binding_model(&OrgAdminBinding {
            client: id,
            ..b.clone()
        })
        .insert(&tx)
        .await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Gives a bound client a new secret and a new registration token (both are shown
    /// once, so a reused client gets fresh ones). `NotFound` when it is gone meanwhile.
    pub async fn rotate_org_admin_client(
        &self,
        realm: RealmId,
        id: ClientUuid,
        secret_hash: Vec<u8>,
        registration_hash: Vec<u8>,
    ) -> StoreResult<Client> {
        let res = client::Entity::update_many()
            .col_expr(client::Column::SecretHash, Expr::value(Some(secret_hash)))
            .col_expr(
                client::Column::RegistrationTokenHash,
                Expr::value(Some(registration_hash)),
            )
            .filter(client::Column::RealmId.eq(realm.0))
            .filter(client::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if res.rows_affected != 1 {
            return Err(StoreError::NotFound);
        }
        self.get_client(realm, id).await
    }

    /// Records a client's binding; `Conflict` when the same person, session and origin
    /// already have one (a concurrent first exchange).
    pub async fn insert_org_admin_binding(&self, b: &OrgAdminBinding) -> StoreResult<()> {
        binding_model(b).insert(&self.db).await?;
        Ok(())
    }

    /// The client already issued to this person for this upstream session and origin.
    pub async fn find_org_admin_binding(
        &self,
        realm: RealmId,
        idp: IdpId,
        sid: &str,
        user: UserId,
        origin: &str,
    ) -> StoreResult<Option<ClientUuid>> {
        Ok(oac::Entity::find()
            .filter(oac::Column::RealmId.eq(realm.0))
            .filter(oac::Column::IdpId.eq(idp.0))
            .filter(oac::Column::UpstreamSid.eq(sid))
            .filter(oac::Column::UserId.eq(user.0))
            .filter(oac::Column::Origin.eq(origin))
            .one(&self.db)
            .await?
            .map(|m| ClientUuid(m.client_id)))
    }

    /// How many clients the exchange issued for an organization since `since` (its rate).
    pub async fn count_org_admin_bindings_since(
        &self,
        realm: RealmId,
        org: OrgId,
        since: UnixTime,
    ) -> StoreResult<u64> {
        Ok(oac::Entity::find()
            .filter(oac::Column::RealmId.eq(realm.0))
            .filter(oac::Column::OrgId.eq(org.0))
            .filter(oac::Column::CreatedAt.gte(since.0))
            .count(&self.db)
            .await?)
    }

    /// The clients bound to an upstream session (its back-channel logout ends them).
    pub async fn org_admin_clients_of_session(
        &self,
        realm: RealmId,
        idp: IdpId,
        sid: &str,
    ) -> StoreResult<Vec<ClientUuid>> {
        Ok(oac::Entity::find()
            .filter(oac::Column::RealmId.eq(realm.0))
            .filter(oac::Column::IdpId.eq(idp.0))
            .filter(oac::Column::UpstreamSid.eq(sid))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| ClientUuid(m.client_id))
            .collect())
    }
}
