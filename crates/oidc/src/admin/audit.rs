//! The audit log: every successful administrative change (who, which kind of principal,
//! what, on which target, from where), appended to memory on the request path and written
//! in batches by the log writer job, like the exchange log; read newest first, filtered.

use super::{AdminPrincipal, MAX_PAGE};
use crate::{OAuthError, Provider};
use tessera_domain::{AuditEvent, AuditKind, OrgId, RealmName};
pub use tessera_storage::AuditFilter;

/// A successful administrative change as the HTTP layer saw it.
pub struct AdminChange<'a> {
    /// The realm in the path.
    pub realm: &'a str,
    /// The organization in the path (alias or id), when the change was under one.
    pub org: Option<&'a str>,
    pub principal: &'a AdminPrincipal,
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// The route and the path's ids, e.g. `/admin/realms/{realm}/clients/{id} id=…`.
    pub target: String,
    /// The client address.
    pub source: String,
}

/// The principal's kind and subject, as the log names them.
fn who(p: &AdminPrincipal) -> (&'static str, String, Option<OrgId>) {
    match p {
        AdminPrincipal::RealmAdmin { client_id, sub } if client_id == "tessera-cli" => {
            ("operator", sub.clone(), None)
        }
        AdminPrincipal::RealmAdmin { client_id, sub } => {
            ("realm_admin", format!("{sub} via {client_id}"), None)
        }
        AdminPrincipal::OrgAdmin { org, user, .. } => ("org_admin", user.to_string(), Some(*org)),
        AdminPrincipal::AdminKey { org, key_id, .. } => ("admin_key", key_id.clone(), *org),
    }
}

impl Provider {
    /// Appends a change to the audit log (written by the log writer within a second). A
    /// change whose realm is gone (the realm was deleted) leaves nothing: its log went
    /// with it.
    pub async fn record_admin_change(&self, c: AdminChange<'_>) -> Result<(), OAuthError> {
        let Ok(name) = RealmName::parse(c.realm) else {
            return Ok(());
        };
        let Some(ctx) = self.realm_ctx(&name).await? else {
            return Ok(());
        };
        let (principal, actor, own_org) = who(c.principal);
        let org_id = match (own_org, c.org) {
            (Some(o), _) => Some(o),
            (None, Some(r)) => self.find_org(ctx.realm.id, r).await.ok().map(|o| o.id),
            (None, None) => None,
        };
        let event = AuditEvent {
            id: uuid::Uuid::now_v7(),
            realm_id: ctx.realm.id,
            org_id,
            at: self.clock().now(),
            kind: AuditKind::AdminChange,
            action: c.action.to_owned(),
            target: c.target.chars().take(1000).collect(),
            principal: principal.to_owned(),
            actor: actor.chars().take(500).collect(),
            source: c.source.chars().take(64).collect(),
        };
        if let Some(backlog) = self.audit_log.push(event) {
            self.write_audit_events(backlog).await?;
        }
        Ok(())
    }

    /// A page of a realm's audit log, newest first (realm administrators).
    pub async fn audit_events(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        filter: AuditFilter,
        limit: Option<u64>,
    ) -> Result<Vec<AuditEvent>, OAuthError> {
        caller.require_realm_admin()?;
        self.audit_log_page(realm, filter, limit).await
    }

    /// A page of the log as `filter` selects it; the caller has been authorized for it
    /// (a realm administrator, or the organization's administrator with `filter.org` set
    /// to their organization).
    pub(crate) async fn audit_log_page(
        &self,
        realm: &str,
        filter: AuditFilter,
        limit: Option<u64>,
    ) -> Result<Vec<AuditEvent>, OAuthError> {
        let realm_id = self.admin_realm_id(realm).await?;
        self.flush_audit_log().await?;
        Ok(self
            .store()
            .list_audit_events(realm_id, &filter, limit.unwrap_or(100).clamp(1, MAX_PAGE))
            .await?)
    }
}
