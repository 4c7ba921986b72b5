//! The audit log: appended in batches (one multi-row INSERT), read newest first by keyset
//! pages on the time-ordered id.

use crate::entity::audit_event as ev;
use crate::{Store, StoreResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tessera_domain::{AuditEvent, AuditKind, DomainError, OrgId, RealmId, UnixTime};
use uuid::Uuid;

/// Which entries of a realm's log to read.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub kind: Option<AuditKind>,
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Only this organization's entries.
    pub org: Option<OrgId>,
    /// Entries older than this id (the previous page's last).
    pub before: Option<Uuid>,
}

fn event_of(m: ev::Model) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: m.id,
        realm_id: RealmId(m.realm_id),
        org_id: m.org_id.map(OrgId),
        at: UnixTime(m.at),
        kind: AuditKind::parse(&m.kind).ok_or_else(|| DomainError::new("kind", "unknown"))?,
        action: m.action,
        target: m.target,
        principal: m.principal,
        actor: m.actor,
        source: m.source,
    })
}

impl Store {
    /// Appends entries in one multi-row INSERT.
    pub async fn insert_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        ev::Entity::insert_many(events.iter().map(|e| ev::ActiveModel {
            id: Set(e.id),
            realm_id: Set(e.realm_id.0),
            org_id: Set(e.org_id.map(|o| o.0)),
            at: Set(e.at.0),
            kind: Set(e.kind.as_str().to_owned()),
            action: Set(e.action.clone()),
            target: Set(e.target.clone()),
            principal: Set(e.principal.clone()),
            actor: Set(e.actor.clone()),
            source: Set(e.source.clone()),
        }))
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Sweeps each realm's entries older than its retention: one DELETE per realm.
    pub async fn purge_audit_events(&self, now: UnixTime) -> StoreResult<u64> {
        use crate::entity::realm;
        let retention: Vec<(Uuid, i64)> = realm::Entity::find()
            .select_only()
            .column(realm::Column::Id)
            .column(realm::Column::AuditRetentionDays)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut swept = 0;
        for (realm, days) in retention {
            swept += ev::Entity::delete_many()
                .filter(ev::Column::RealmId.eq(realm))
                .filter(ev::Column::At.lt(now.0.saturating_sub(days.saturating_mul(86_400))))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        Ok(swept)
    }

    /// A page of a realm's log, newest first.
    pub async fn list_audit_events(
        &self,
        realm: RealmId,
        f: &AuditFilter,
        limit: u64,
    ) -> StoreResult<Vec<AuditEvent>> {
        let mut q = ev::Entity::find()
            .filter(ev::Column::RealmId.eq(realm.0))
            .order_by_desc(ev::Column::Id);
        if let Some(k) = f.kind {
            q = q.filter(ev::Column::Kind.eq(k.as_str()));
        }
        if let Some(a) = &f.action {
            q = q.filter(ev::Column::Action.eq(a.as_str()));
        }
        if let Some(a) = &f.actor {
            q = q.filter(ev::Column::Actor.eq(a.as_str()));
        }
        if let Some(o) = f.org {
            q = q.filter(ev::Column::OrgId.eq(o.0));
        }
        if let Some(b) = f.before {
            q = q.filter(ev::Column::Id.lt(b));
        }
        q.limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(event_of)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::two_realms;

    fn event(realm: RealmId, action: &str) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            realm_id: realm,
            org_id: None,
            at: UnixTime(1),
            kind: AuditKind::AdminChange,
            action: action.into(),
            target: "/admin/realms/{realm}/clients".into(),
            principal: "realm_admin".into(),
            actor: "admin".into(),
            source: "127.0.0.1".into(),
        }
    }

    #[tokio::test]
    async fn the_log_pages_newest_first_per_realm_and_filters() {
        let (s, a, b) = two_realms().await;
        let batch: Vec<_> = ["create", "update", "delete"]
            .iter()
            .map(|x| event(a.id, x))
            .chain([event(b.id, "create")])
            .collect();
        s.insert_audit_events(&batch).await.unwrap();
        let all = s
            .list_audit_events(a.id, &AuditFilter::default(), 10)
            .await
            .unwrap();
        let actions: Vec<_> = all.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["delete", "update", "create"]);
        let next = AuditFilter {
            before: Some(all[0].id),
            ..Default::default()
        };
        assert_eq!(
            s.list_audit_events(a.id, &next, 1).await.unwrap()[0].action,
            "update"
        );
        let creates = AuditFilter {
            action: Some("create".into()),
            ..Default::default()
        };
        assert_eq!(
            s.list_audit_events(a.id, &creates, 10).await.unwrap().len(),
            1
        );
        assert_eq!(
            s.list_audit_events(b.id, &AuditFilter::default(), 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}
