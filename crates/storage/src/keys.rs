use crate::entity::signing_key;
use crate::{Store, StoreError, StoreResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use tessera_domain::{KeyStatus, RealmId, SigningAlg, StoredKey, UnixTime};

fn to_domain(m: signing_key::Model) -> StoreResult<StoredKey> {
    Ok(StoredKey {
        realm_id: RealmId(m.realm_id),
        kid: m.kid,
        alg: SigningAlg::parse(&m.alg)?,
        status: KeyStatus::parse(&m.status)?,
        sealed_private_key: m.sealed_private_key,
        created_at: UnixTime(m.created_at),
    })
}

fn active_model(k: &StoredKey) -> signing_key::ActiveModel {
    signing_key::ActiveModel {
        realm_id: Set(k.realm_id.0),
        kid: Set(k.kid.clone()),
        alg: Set(k.alg.as_str().to_owned()),
        status: Set(k.status.as_str().to_owned()),
        sealed_private_key: Set(k.sealed_private_key.clone()),
        created_at: Set(k.created_at.0),
    }
}

impl Store {
    /// Non-retired keys of one realm, newest first.
    pub async fn list_keys(&self, realm: RealmId) -> StoreResult<Vec<StoredKey>> {
        signing_key::Entity::find()
            .filter(signing_key::Column::RealmId.eq(realm.0))
            .filter(signing_key::Column::Status.ne(KeyStatus::Retired.as_str()))
            .order_by_desc(signing_key::Column::CreatedAt)
            .order_by_asc(signing_key::Column::Kid)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    /// Adds `new` keys as active and demotes the realm's previous active keys of the
    /// same algorithms to passive, in one transaction, so a realm never has two or zero
    /// active keys for an algorithm.
    pub async fn rotate_keys(&self, realm: RealmId, new: &[StoredKey]) -> StoreResult<()> {
        let tx = self.db.begin().await?;
        for k in new {
            signing_key::Entity::update_many()
                .col_expr(
                    signing_key::Column::Status,
                    sea_orm::sea_query::Expr::value(KeyStatus::Passive.as_str()),
                )
                .filter(signing_key::Column::RealmId.eq(realm.0))
                .filter(signing_key::Column::Alg.eq(k.alg.as_str()))
                .filter(signing_key::Column::Status.eq(KeyStatus::Active.as_str()))
                .exec(&tx)
                .await?;
            let mut k = k.clone();
            k.realm_id = realm;
            k.status = KeyStatus::Active;
            active_model(&k).insert(&tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Retires a passive key: it leaves JWKS, and tokens it signed stop verifying.
    pub async fn retire_key(&self, realm: RealmId, kid: &str) -> StoreResult<()> {
        let res = signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::Status,
                sea_orm::sea_query::Expr::value(KeyStatus::Retired.as_str()),
            )
            .filter(signing_key::Column::RealmId.eq(realm.0))
            .filter(signing_key::Column::Kid.eq(kid))
            .filter(signing_key::Column::Status.eq(KeyStatus::Passive.as_str()))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::StoreError;
    use crate::test_util::{realm, test_store};
    use tessera_domain::{KeyStatus, SigningAlg, StoredKey, UnixTime};

    fn key(r: &tessera_domain::Realm, kid: &str, alg: SigningAlg, at: i64) -> StoredKey {
        StoredKey {
            realm_id: r.id,
            kid: kid.into(),
            alg,
            status: KeyStatus::Active,
            sealed_private_key: vec![1, 2, 3],
            created_at: UnixTime(at),
        }
    }

    #[tokio::test]
    async fn same_kid_in_two_realms_stays_apart_iso_4() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        s.rotate_keys(a.id, &[key(&a, "k1", SigningAlg::Rs256, 1)])
            .await
            .unwrap();
        s.rotate_keys(b.id, &[key(&b, "k1", SigningAlg::EdDsa, 1)])
            .await
            .unwrap();
        let ka = s.list_keys(a.id).await.unwrap();
        let kb = s.list_keys(b.id).await.unwrap();
        assert_eq!((ka.len(), ka[0].alg), (1, SigningAlg::Rs256));
        assert_eq!((kb.len(), kb[0].alg), (1, SigningAlg::EdDsa));
        // Retiring through realm b leaves realm a's key alone.
        s.rotate_keys(b.id, &[key(&b, "k2", SigningAlg::EdDsa, 2)])
            .await
            .unwrap();
        s.retire_key(b.id, "k1").await.unwrap();
        assert_eq!(s.list_keys(a.id).await.unwrap().len(), 1);
        assert!(matches!(
            s.retire_key(b.id, "k1").await,
            Err(StoreError::NotFound)
        ));
    }

    #[tokio::test]
    async fn rotation_demotes_the_previous_active_key_to_passive() {
        let s = test_store().await;
        let a = realm("a");
        s.insert_realm(&a).await.unwrap();
        s.rotate_keys(a.id, &[key(&a, "old", SigningAlg::Es256, 1)])
            .await
            .unwrap();
        s.rotate_keys(a.id, &[key(&a, "new", SigningAlg::Es256, 2)])
            .await
            .unwrap();
        let keys = s.list_keys(a.id).await.unwrap();
        let status = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().status;
        assert_eq!(status("new"), KeyStatus::Active);
        assert_eq!(status("old"), KeyStatus::Passive);
        // An active key cannot be retired directly.
        assert!(matches!(
            s.retire_key(a.id, "new").await,
            Err(StoreError::NotFound)
        ));
    }
}
