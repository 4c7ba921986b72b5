//! The console's sessions (found by the hash of the browser's secret) and users' realm
//! roles.

use crate::entity::{console_session as cs, user_role as ur};
use crate::{Store, StoreResult};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tessera_domain::{ConsoleSession, RealmId, UnixTime, UserId};

fn session_of(m: cs::Model) -> ConsoleSession {
    ConsoleSession {
        id: m.id,
        realm_id: RealmId(m.realm_id),
        user_id: UserId(m.user_id),
        csrf: m.csrf,
        created_at: UnixTime(m.created_at),
        last_seen_at: UnixTime(m.last_seen_at),
    }
}

impl Store {
    pub async fn insert_console_session(
        &self,
        s: &ConsoleSession,
        token_hash: Vec<u8>,
    ) -> StoreResult<()> {
        cs::Entity::insert(cs::ActiveModel {
            id: Set(s.id),
            realm_id: Set(s.realm_id.0),
            token_hash: Set(token_hash),
            user_id: Set(s.user_id.0),
            csrf: Set(s.csrf.clone()),
            created_at: Set(s.created_at.0),
            last_seen_at: Set(s.last_seen_at.0),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// The session whose secret hashes to `token_hash`, in this realm only.
    pub async fn find_console_session(
        &self,
        realm: RealmId,
        token_hash: &[u8],
    ) -> StoreResult<Option<ConsoleSession>> {
        Ok(cs::Entity::find()
            .filter(cs::Column::RealmId.eq(realm.0))
            .filter(cs::Column::TokenHash.eq(token_hash.to_vec()))
            .one(&self.db)
            .await?
            .map(session_of))
    }

    /// Records use at `now`, at most once per `every_secs` (one conditional UPDATE, so a
    /// page view does not always write).
    pub async fn touch_console_session(
        &self,
        realm: RealmId,
        id: uuid::Uuid,
        now: UnixTime,
        every_secs: i64,
    ) -> StoreResult<()> {
        cs::Entity::update_many()
            .col_expr(cs::Column::LastSeenAt, Expr::value(now.0))
            .filter(cs::Column::RealmId.eq(realm.0))
            .filter(cs::Column::Id.eq(id))
            .filter(cs::Column::LastSeenAt.lt(now.0 - every_secs))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn delete_console_session(&self, realm: RealmId, id: uuid::Uuid) -> StoreResult<()> {
        cs::Entity::delete_many()
            .filter(cs::Column::RealmId.eq(realm.0))
            .filter(cs::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Every console session of a user (disabling a user or "sign out everywhere").
    pub async fn delete_user_console_sessions(
        &self,
        realm: RealmId,
        user: UserId,
    ) -> StoreResult<u64> {
        Ok(cs::Entity::delete_many()
            .filter(cs::Column::RealmId.eq(realm.0))
            .filter(cs::Column::UserId.eq(user.0))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    /// Sessions unused since `idle_before` (the longest idle timeout is the caller's to
    /// choose): the expiry sweep.
    pub(crate) async fn purge_console_sessions(&self, idle_before: UnixTime) -> StoreResult<u64> {
        Ok(cs::Entity::delete_many()
            .filter(cs::Column::LastSeenAt.lt(idle_before.0))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    /// A user's realm roles, sorted.
    pub async fn user_roles(&self, realm: RealmId, user: UserId) -> StoreResult<Vec<String>> {
        Ok(ur::Entity::find()
            .filter(ur::Column::RealmId.eq(realm.0))
            .filter(ur::Column::UserId.eq(user.0))
            .order_by_asc(ur::Column::Role)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.role)
            .collect())
    }

    /// Gives a user a realm role (nothing when it holds it already).
    pub async fn add_user_role(&self, realm: RealmId, user: UserId, role: &str) -> StoreResult<()> {
        ur::Entity::insert(ur::ActiveModel {
            realm_id: Set(realm.0),
            user_id: Set(user.0),
            role: Set(role.to_owned()),
        })
        .on_conflict(
            OnConflict::columns([ur::Column::UserId, ur::Column::Role])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    pub async fn remove_user_role(
        &self,
        realm: RealmId,
        user: UserId,
        role: &str,
    ) -> StoreResult<()> {
        ur::Entity::delete_many()
            .filter(ur::Column::RealmId.eq(realm.0))
            .filter(ur::Column::UserId.eq(user.0))
            .filter(ur::Column::Role.eq(role))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// How many users of a realm hold `role` (at most `cap`).
    pub async fn count_users_with_role(
        &self,
        realm: RealmId,
        role: &str,
        cap: u64,
    ) -> StoreResult<u64> {
        Ok(ur::Entity::find()
            .filter(ur::Column::RealmId.eq(realm.0))
            .filter(ur::Column::Role.eq(role))
            .limit(cap)
            .all(&self.db)
            .await?
            .len() as u64)
    }
}
