//! The change log: how a write made by one process (the CLI, another server) reaches the
//! caches of every running server. Writers append a row; followers read the rows after the
//! last one they saw. On PostgreSQL a `NOTIFY` wakes followers at once.

use crate::entity::change_log;
use crate::{Backend, Store, StoreResult};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sea_orm::{ColumnTrait, Condition};
use tessera_domain::{ClientId, RealmId, RealmName, UnixTime};

const CHANNEL: &str = "tessera_changes";

/// What a cache must drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The realm with this name: its settings, keys, or its existence.
    Realm(RealmName),
    Client(RealmId, ClientId),
    /// A realm's upstream identity providers (any of them).
    Idps(RealmId),
    /// A request approved elsewhere was decided: no longer pending.
    Approval(RealmId, uuid::Uuid),
}

/// Wakes a follower when another process has recorded a change (PostgreSQL only).
pub struct ChangeListener(PgListener);

impl ChangeListener {
    /// Waits for the next notification; reconnects by itself after a lost connection.
    pub async fn wait(&mut self) -> StoreResult<()> {
        self.0.recv().await.map_err(listen_err)?;
        Ok(())
    }
}

fn listen_err(e: sea_orm::SqlxError) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("listening for changes: {e}"))
}

impl Store {
    pub async fn record_change(&self, change: &Change, now: UnixTime) -> StoreResult<()> {
        let (kind, realm_name, realm_id, client_id, item_id) = match change {
            Change::Realm(n) => ("realm", Some(n.as_str().to_owned()), None, None, None),
            Change::Client(r, c) => ("client", None, Some(r.0), Some(c.as_str().to_owned()), None),
            Change::Idps(r) => ("idps", None, Some(r.0), None, None),
            Change::Approval(r, id) => ("approval", None, Some(r.0), None, Some(*id)),
        };
        change_log::ActiveModel {
            id: NotSet,
            kind: Set(kind.into()),
            realm_name: Set(realm_name),
            realm_id: Set(realm_id),
            client_id: Set(client_id),
            item_id: Set(item_id),
            created_at: Set(now.0),
        }
        .insert(&self.db)
        .await?;
        if self.backend() == Backend::Postgres {
            self.db
                .execute_unprepared(&format!("NOTIFY {CHANNEL}"))
                .await?;
        }
        Ok(())
    }

    /// The newest change's id (0 when there is none): where a new follower starts.
    pub async fn last_change_id(&self) -> StoreResult<i64> {
        Ok(change_log::Entity::find()
            .select_only()
            .column_as(change_log::Column::Id.max(), "max")
            .into_tuple::<Option<i64>>()
            .one(&self.db)
            .await?
            .flatten()
            .unwrap_or(0))
    }

    /// Changes with an id above `after` or among `also` (ids skipped earlier because their
    /// transaction had not committed yet), in id order. Rows that no longer parse are skipped.
    pub async fn changes_after(&self, after: i64, also: &[i64]) -> StoreResult<Vec<(i64, Change)>> {
        let mut cond = Condition::any().add(change_log::Column::Id.gt(after));
        if !also.is_empty() {
            cond = cond.add(change_log::Column::Id.is_in(also.iter().copied()));
        }
        let rows = change_log::Entity::find()
            .filter(cond)
            .order_by_asc(change_log::Column::Id)
            .limit(1000)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let change = match r.kind.as_str() {
                    "realm" => Change::Realm(RealmName::parse(r.realm_name.as_deref()?).ok()?),
                    "client" => Change::Client(
                        RealmId(r.realm_id?),
                        ClientId::parse(r.client_id.as_deref()?).ok()?,
                    ),
                    "idps" => Change::Idps(RealmId(r.realm_id?)),
                    "approval" => Change::Approval(RealmId(r.realm_id?), r.item_id?),
                    _ => return None,
                };
                Some((r.id, change))
            })
            .collect())
    }

    /// Subscribes to other processes' changes; `None` on SQLite, where followers poll.
    pub async fn change_listener(&self) -> StoreResult<Option<ChangeListener>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        // A pool of its own: the listener keeps its connection for good, which would stall
        // closing the shared pool and take one of its slots.
        let opts = self
            .db
            .get_postgres_connection_pool()
            .connect_options()
            .as_ref()
            .clone();
        let own = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(listen_err)?;
        let mut l = PgListener::connect_with(&own).await.map_err(listen_err)?;
        l.listen(CHANNEL).await.map_err(listen_err)?;
        Ok(Some(ChangeListener(l)))
    }

    /// Drops change rows older than `before`: every follower has read them long ago.
    pub(crate) async fn purge_changes(&self, before: UnixTime) -> StoreResult<u64> {
        Ok(change_log::Entity::delete_many()
            .filter(change_log::Column::CreatedAt.lt(before.0))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::test_store;

    #[tokio::test]
    async fn every_kind_of_change_reads_back_as_it_was_recorded() {
        let s = test_store().await;
        let start = s.last_change_id().await.unwrap();
        let realm = RealmId::new_v7();
        let all = [
            Change::Realm(RealmName::parse("acme").unwrap()),
            Change::Client(realm, ClientId::parse("tv").unwrap()),
            Change::Idps(realm),
            Change::Approval(realm, uuid::Uuid::now_v7()),
        ];
        for c in &all {
            s.record_change(c, UnixTime(1)).await.unwrap();
        }
        let read: Vec<Change> = s
            .changes_after(start, &[])
            .await
            .unwrap()
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        assert_eq!(read, all);
    }
}
