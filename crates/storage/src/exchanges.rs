//! Token exchange: single-use impersonation tokens and the exchange log (lineage, audit).

use crate::entity::{impersonation_token as imp, token_exchange as tx};
use crate::{Store, StoreResult};
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tessera_domain::{
    ClientUuid, DomainError, ExchangeRecord, ImpersonationToken, RealmId, UnixTime, UserId,
};
use uuid::Uuid;

fn imp_of(m: imp::Model) -> ImpersonationToken {
    ImpersonationToken {
        realm_id: RealmId(m.realm_id),
        token_hash: m.token_hash,
        user_id: UserId(m.user_id),
        client: ClientUuid(m.client_uuid),
        admin_sub: m.admin_sub,
        admin_client_id: m.admin_client_id,
        reason: m.reason,
        created_at: UnixTime(m.created_at),
        expires_at: UnixTime(m.expires_at),
    }
}

fn record_of(m: tx::Model) -> StoreResult<ExchangeRecord> {
    Ok(ExchangeRecord {
        realm_id: RealmId(m.realm_id),
        parent_jti: m.parent_jti,
        child_jti: m.child_jti,
        subject: m.subject,
        actors: serde_json::from_str(&m.actors)
            .map_err(|e| DomainError::new("actors", e.to_string()))?,
        client_id: m.client_id,
        reason: m.reason,
        external_issuer: m.external_issuer,
        created_at: UnixTime(m.created_at),
        expires_at: UnixTime(m.expires_at),
    })
}

/// Filters of the exchange log.
#[derive(Clone, Debug, Default)]
pub struct ExchangeFilter {
    pub subject: Option<String>,
    pub client_id: Option<String>,
    /// Matches any actor in the chain.
    pub actor: Option<String>,
}

impl Store {
    pub async fn insert_impersonation_token(&self, t: &ImpersonationToken) -> StoreResult<()> {
        imp::Entity::insert(imp::ActiveModel {
            realm_id: Set(t.realm_id.0),
            token_hash: Set(t.token_hash.clone()),
            user_id: Set(t.user_id.0),
            client_uuid: Set(t.client.0),
            admin_sub: Set(t.admin_sub.clone()),
            admin_client_id: Set(t.admin_client_id.clone()),
            reason: Set(t.reason.clone()),
            created_at: Set(t.created_at.0),
            expires_at: Set(t.expires_at.0),
            consumed_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Redeems an impersonation token: one conditional UPDATE … RETURNING on (realm, hash,
    /// the redeeming client, unconsumed, unexpired). Exactly one caller can win.
    pub async fn consume_impersonation_token(
        &self,
        realm: RealmId,
        hash: &[u8],
        client: ClientUuid,
        now: UnixTime,
    ) -> StoreResult<Option<ImpersonationToken>> {
        let won = imp::Entity::update_many()
            .col_expr(imp::Column::ConsumedAt, Expr::value(now.0))
            .filter(imp::Column::RealmId.eq(realm.0))
            .filter(imp::Column::TokenHash.eq(hash.to_vec()))
            .filter(imp::Column::ClientUuid.eq(client.0))
            .filter(imp::Column::ConsumedAt.is_null())
            .filter(imp::Column::ExpiresAt.gt(now.0))
            .exec_with_returning(&self.db)
            .await?;
        Ok(won.into_iter().next().map(imp_of))
    }

    /// The same lookup without consuming (the admin dry run).
    pub async fn find_impersonation_token(
        &self,
        realm: RealmId,
        hash: &[u8],
        client: ClientUuid,
        now: UnixTime,
    ) -> StoreResult<Option<ImpersonationToken>> {
        Ok(imp::Entity::find_by_id((realm.0, hash.to_vec()))
            .filter(imp::Column::ClientUuid.eq(client.0))
            .filter(imp::Column::ConsumedAt.is_null())
            .filter(imp::Column::ExpiresAt.gt(now.0))
            .one(&self.db)
            .await?
            .map(imp_of))
    }

    /// Appends exchange records in one multi-row INSERT (the log is written in batches).
    pub async fn insert_exchange_records(&self, records: &[ExchangeRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        tx::Entity::insert_many(records.iter().map(|r| tx::ActiveModel {
            id: Set(Uuid::now_v7()),
            realm_id: Set(r.realm_id.0),
            parent_jti: Set(r.parent_jti.clone()),
            child_jti: Set(r.child_jti.clone()),
            subject: Set(r.subject.clone()),
            actors: Set(serde_json::to_string(&r.actors).unwrap_or_else(|_| "[]".into())),
            client_id: Set(r.client_id.clone()),
            reason: Set(r.reason.clone()),
            external_issuer: Set(r.external_issuer.clone()),
            created_at: Set(r.created_at.0),
            expires_at: Set(r.expires_at.0),
        }))
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// The newest entries of a realm's exchange log, filtered.
    pub async fn list_exchange_records(
        &self,
        realm: RealmId,
        f: &ExchangeFilter,
        limit: u64,
    ) -> StoreResult<Vec<ExchangeRecord>> {
        let mut q = tx::Entity::find()
            .filter(tx::Column::RealmId.eq(realm.0))
            .order_by_desc(tx::Column::Id);
        if let Some(s) = &f.subject {
            q = q.filter(tx::Column::Subject.eq(s.as_str()));
        }
        if let Some(c) = &f.client_id {
            q = q.filter(tx::Column::ClientId.eq(c.as_str()));
        }
        if let Some(a) = &f.actor {
            // Actors are stored as a JSON array of strings: match the quoted element.
            let quoted = serde_json::to_string(a).unwrap_or_default();
            let pat = crate::users::contains_pattern(&quoted);
            q = q.filter(tx::Column::Actors.like(LikeExpr::new(pat).escape('\\')));
        }
        q.limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(record_of)
            .collect()
    }
}
