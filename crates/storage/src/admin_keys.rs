//! Scoped admin keys: a realm's root key (private half sealed) and the keys minted under
//! it, by revocation id. The keys themselves are never stored.

use crate::entity::{admin_key, admin_key_root};
use crate::{Store, StoreResult};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tessera_domain::{OrgId, RealmId, UnixTime};

/// A realm's root key for admin keys.
pub struct StoredAdminKeyRoot {
    /// `ed25519/<hex>`.
    pub public_key: String,
    pub sealed_private_key: Vec<u8>,
}

/// A minted admin key, as listed: everything but the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminKeyRecord {
    pub revocation_id: String,
    pub name: Option<String>,
    pub org: Option<OrgId>,
    pub read_only: bool,
    pub expires_at: Option<UnixTime>,
    pub created_at: UnixTime,
    pub created_by: String,
    pub revoked_at: Option<UnixTime>,
}

fn record(m: admin_key::Model) -> AdminKeyRecord {
    AdminKeyRecord {
        revocation_id: m.revocation_id,
        name: m.name,
        org: m.org_id.map(OrgId),
        read_only: m.read_only,
        expires_at: m.expires_at.map(UnixTime),
        created_at: UnixTime(m.created_at),
        created_by: m.created_by,
        revoked_at: m.revoked_at.map(UnixTime),
    }
}

impl Store {
    pub async fn get_admin_key_root(
        &self,
        realm: RealmId,
    ) -> StoreResult<Option<StoredAdminKeyRoot>> {
        Ok(admin_key_root::Entity::find()
            .filter(admin_key_root::Column::RealmId.eq(realm.0))
            .one(&self.db)
            .await?
            .map(|m| StoredAdminKeyRoot {
                public_key: m.public_key,
                sealed_private_key: m.sealed_private_key,
            }))
    }

    /// Stores a realm's root key unless it has one (two first uses at once: the first
    /// wins, and both read it back).
    pub async fn put_admin_key_root_if_absent(
        &self,
        realm: RealmId,
        root: &StoredAdminKeyRoot,
        now: UnixTime,
    ) -> StoreResult<()> {
        admin_key_root::Entity::insert(admin_key_root::ActiveModel {
            realm_id: Set(realm.0),
            public_key: Set(root.public_key.clone()),
            sealed_private_key: Set(root.sealed_private_key.clone()),
            created_at: Set(now.0),
        })
        .on_conflict(
            OnConflict::column(admin_key_root::Column::RealmId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    pub async fn insert_admin_key(&self, realm: RealmId, k: &AdminKeyRecord) -> StoreResult<()> {
        admin_key::Entity::insert(admin_key::ActiveModel {
            realm_id: Set(realm.0),
            revocation_id: Set(k.revocation_id.clone()),
            name: Set(k.name.clone()),
            org_id: Set(k.org.map(|o| o.0)),
            read_only: Set(k.read_only),
            expires_at: Set(k.expires_at.map(|t| t.0)),
            created_at: Set(k.created_at.0),
            created_by: Set(k.created_by.clone()),
            revoked_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// A realm's keys (or one organization's), newest first.
    pub async fn list_admin_keys(
        &self,
        realm: RealmId,
        org: Option<OrgId>,
        limit: u64,
    ) -> StoreResult<Vec<AdminKeyRecord>> {
        let mut q = admin_key::Entity::find().filter(admin_key::Column::RealmId.eq(realm.0));
        if let Some(o) = org {
            q = q.filter(admin_key::Column::OrgId.eq(o.0));
        }
        Ok(q.order_by_desc(admin_key::Column::CreatedAt)
            .order_by_asc(admin_key::Column::RevocationId)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(record)
            .collect())
    }

    /// The stored keys among these revocation ids (one indexed `SELECT`): what a
    /// presented key's blocks name.
    pub async fn find_admin_keys(
        &self,
        realm: RealmId,
        revocation_ids: &[String],
    ) -> StoreResult<Vec<AdminKeyRecord>> {
        Ok(admin_key::Entity::find()
            .filter(admin_key::Column::RealmId.eq(realm.0))
            .filter(admin_key::Column::RevocationId.is_in(revocation_ids.iter().cloned()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(record)
            .collect())
    }

    /// Marks a key revoked (once: a second revocation keeps the first time).
    pub async fn revoke_admin_key(
        &self,
        realm: RealmId,
        revocation_id: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        admin_key::Entity::update_many()
            .col_expr(admin_key::Column::RevokedAt, Expr::value(now.0))
            .filter(admin_key::Column::RealmId.eq(realm.0))
            .filter(admin_key::Column::RevocationId.eq(revocation_id))
            .filter(admin_key::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{AdminKeyRecord, StoredAdminKeyRoot};
    use crate::test_util::{realm, test_store};
    use tessera_domain::UnixTime;

    fn key(id: &str) -> AdminKeyRecord {
        AdminKeyRecord {
            revocation_id: id.into(),
            name: None,
            org: None,
            read_only: false,
            expires_at: None,
            created_at: UnixTime(1),
            created_by: "operator".into(),
            revoked_at: None,
        }
    }

    #[tokio::test]
    async fn the_first_root_stays_and_keys_stay_in_their_realm() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let root = |k: &str| StoredAdminKeyRoot {
            public_key: k.into(),
            sealed_private_key: vec![1],
        };
        s.put_admin_key_root_if_absent(a.id, &root("first"), UnixTime(1))
            .await
            .unwrap();
        s.put_admin_key_root_if_absent(a.id, &root("second"), UnixTime(2))
            .await
            .unwrap();
        let got = s.get_admin_key_root(a.id).await.unwrap().unwrap();
        assert_eq!(got.public_key, "first");
        assert!(s.get_admin_key_root(b.id).await.unwrap().is_none());

        s.insert_admin_key(a.id, &key("k1")).await.unwrap();
        let ids = vec!["k1".to_owned(), "other".to_owned()];
        assert_eq!(s.find_admin_keys(a.id, &ids).await.unwrap().len(), 1);
        assert!(s.find_admin_keys(b.id, &ids).await.unwrap().is_empty());
        s.revoke_admin_key(b.id, "k1", UnixTime(5)).await.unwrap();
        assert_eq!(
            s.list_admin_keys(a.id, None, 10).await.unwrap()[0].revoked_at,
            None
        );
        s.revoke_admin_key(a.id, "k1", UnixTime(5)).await.unwrap();
        s.revoke_admin_key(a.id, "k1", UnixTime(9)).await.unwrap();
        assert_eq!(
            s.list_admin_keys(a.id, None, 10).await.unwrap()[0].revoked_at,
            Some(UnixTime(5))
        );
    }
}
