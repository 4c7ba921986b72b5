//! The realm's audit log, `GET /admin/realms/{realm}/events` (realm administrators):
//! successful administrative changes, newest first, filtered, paged by `before`.

use super::{Caller, page_limit};
use crate::AppState;
use crate::error::ApiError;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use tessera_domain::{AuditEvent, AuditKind};
use tessera_oidc::admin::audit::AuditFilter;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_events);
}

/// What kind of entry.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindRep {
    AdminChange,
    Security,
}

/// Filters of the audit log; newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    pub kind: Option<KindRep>,
    /// `create`, `update`, `delete`, or a security event's name.
    pub action: Option<String>,
    /// The acting subject, as the entries name it.
    pub actor: Option<String>,
    /// Entries older than this one (the `next` of the previous page).
    pub before: Option<Uuid>,
    /// 1 to 500 (default 100).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventRep {
    pub id: String,
    pub kind: KindRep,
    pub action: String,
    /// The admin route and the ids in its path.
    pub target: String,
    /// `realm_admin`, `org_admin` or `operator`.
    pub principal: String,
    /// Who: the subject, and the client it used.
    pub actor: String,
    /// The organization the change was about.
    pub organization_id: Option<String>,
    /// The client address.
    pub source: String,
    /// Unix seconds.
    pub at: i64,
}

impl From<AuditEvent> for EventRep {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            kind: match e.kind {
                AuditKind::AdminChange => KindRep::AdminChange,
                AuditKind::Security => KindRep::Security,
            },
            action: e.action,
            target: e.target,
            principal: e.principal,
            actor: e.actor,
            organization_id: e.org_id.map(|o| o.to_string()),
            source: e.source,
            at: e.at.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventRep>,
    /// Pass as `before` for the next (older) page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[utoipa::path(tag = "audit", params(("realm" = String, Path), EventQuery),
    responses((status = 200, body = EventList), (status = 400, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
#[get("/{realm}/events")]
pub async fn list_events(
    Caller(caller): Caller,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    q: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(100);
    let filter = AuditFilter {
        kind: q.kind.map(|k| match k {
            KindRep::AdminChange => AuditKind::AdminChange,
            KindRep::Security => AuditKind::Security,
        }),
        action: q.action,
        actor: q.actor,
        org: None,
        before: q.before,
    };
    let events = state
        .provider
        .audit_events(&caller, &realm, filter, Some(limit))
        .await?;
    let next = (events.len() as u64 == limit)
        .then(|| events.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(EventList {
        items: events.into_iter().map(Into::into).collect(),
        next,
    }))
}
