//! Clients issued by the organization-admin exchange: each bound to the person, the
//! upstream session (`sid`) and the browser origin that asked, so the same session reuses
//! its client and the upstream's back-channel logout for that session finds them.

use crate::entity::org_admin_client as oac;
use crate::{Store, StoreResult};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use tessera_domain::{ClientUuid, IdpId, OrgId, RealmId, UnixTime, UserId};

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

impl Store {
    /// Records a client's binding; `Conflict` when the same person, session and origin
    /// already have one (a concurrent first exchange).
    pub async fn insert_org_admin_binding(&self, b: &OrgAdminBinding) -> StoreResult<()> {
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
        .insert(&self.db)
        .await?;
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
