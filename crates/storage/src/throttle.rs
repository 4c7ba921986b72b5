//! Failed-login budgets (GCRA): one theoretical arrival time per realm and key, shared by
//! every process on the database. The policy (interval, burst) is the caller's; this module
//! only reads and advances arrival times, atomically.

use crate::entity::login_throttle;
use crate::{Store, StoreResult};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use tessera_domain::{RealmId, UnixTime};

impl Store {
    /// The stored arrival times of those of `keys` that have one (one SELECT: the peek
    /// before a password is checked covers the address's and the account's budgets).
    pub async fn find_login_throttles(
        &self,
        realm: RealmId,
        keys: &[&[u8]],
    ) -> StoreResult<Vec<(Vec<u8>, i64)>> {
        Ok(login_throttle::Entity::find()
            .filter(login_throttle::Column::RealmId.eq(realm.0))
            .filter(login_throttle::Column::KeyHash.is_in(keys.iter().map(|k| k.to_vec())))
            .select_only()
            .column(login_throttle::Column::KeyHash)
            .column(login_throttle::Column::Tat)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Charges one failure to each `(key, interval_ms)` in one statement:
    /// `tat = max(tat, now) + interval`, inserting the row of a key not seen (or swept)
    /// before. Concurrent charges from any process serialize on the row, so none is lost.
    pub async fn charge_login_throttles(
        &self,
        realm: RealmId,
        charges: &[(&[u8], i64)],
        now_ms: i64,
    ) -> StoreResult<()> {
        if charges.is_empty() {
            return Ok(());
        }
        let rows = charges
            .iter()
            .map(|(key, interval)| login_throttle::ActiveModel {
                realm_id: Set(realm.0),
                key_hash: Set(key.to_vec()),
                tat: Set(now_ms + interval),
            });
        // The inserted row's tat is `now + interval`, so `excluded.tat - now` is the
        // key's interval: one statement serves keys with different intervals.
        let table = Alias::new("login_throttle");
        let stored = Expr::col((table, login_throttle::Column::Tat));
        let inserted = Expr::col((Alias::new("excluded"), login_throttle::Column::Tat));
        let tat = Expr::case(
            stored.clone().gt(now_ms),
            stored.add(inserted.clone()).sub(now_ms),
        )
        .finally(inserted);
        login_throttle::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    login_throttle::Column::RealmId,
                    login_throttle::Column::KeyHash,
                ])
                .value(login_throttle::Column::Tat, tat)
                .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Drops budgets that have refilled (arrival time not after `now`): a missing row and
    /// such a row mean the same to GCRA.
    pub(crate) async fn purge_login_throttles(&self, now: UnixTime) -> StoreResult<u64> {
        let res = login_throttle::Entity::delete_many()
            .filter(login_throttle::Column::Tat.lte(now.0.saturating_mul(1000)))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::{realm, test_store};
    use tessera_domain::UnixTime;

    #[tokio::test]
    async fn charges_advance_max_of_tat_and_now_per_key_and_realm() {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        let (k1, k2): (&[u8], &[u8]) = (b"k1", b"k2");
        s.charge_login_throttles(a.id, &[(k1, 100), (k2, 7)], 1_000)
            .await
            .unwrap();
        s.charge_login_throttles(a.id, &[(k1, 100), (k2, 7)], 1_000)
            .await
            .unwrap();
        let mut got = s.find_login_throttles(a.id, &[k1, k2]).await.unwrap();
        got.sort();
        assert_eq!(got, vec![(k1.to_vec(), 1_200), (k2.to_vec(), 1_014)]);
        // Long after the arrival time, a charge starts from now again.
        s.charge_login_throttles(a.id, &[(k2, 7)], 5_000)
            .await
            .unwrap();
        assert_eq!(
            s.find_login_throttles(a.id, &[k2]).await.unwrap(),
            vec![(k2.to_vec(), 5_007)]
        );
        assert!(
            s.find_login_throttles(b.id, &[k1, k2])
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_sweep_drops_refilled_budgets_only() {
        let s = test_store().await;
        let a = realm("a");
        s.insert_realm(&a).await.unwrap();
        let (old, live): (&[u8], &[u8]) = (b"old", b"live");
        s.charge_login_throttles(a.id, &[(old, 1_000)], 0)
            .await
            .unwrap();
        s.charge_login_throttles(a.id, &[(live, 60_000)], 0)
            .await
            .unwrap();
        assert_eq!(s.purge_expired(UnixTime(1)).await.unwrap(), 1);
        assert_eq!(
            s.find_login_throttles(a.id, &[old, live]).await.unwrap(),
            vec![(live.to_vec(), 60_000)]
        );
    }
}
