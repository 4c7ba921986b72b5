//! Writing the audit log: security events appended from the protocol rooms, and the
//! batches the log writer job stores (the buffer is `batch_log`'s, held by the provider).

use crate::batch_log::LOG_BATCH;
use tessera_domain::AuditEvent;

impl crate::Provider {
    /// Appends a security event to the realm's audit log. `actor` is whoever the event is
    /// about (a client, a user id, a grant), `target` what was attempted; neither ever
    /// holds a secret or a token. Failing to store it is logged, never the request's error.
    pub(crate) async fn security_event(
        &self,
        realm: tessera_domain::RealmId,
        action: &str,
        actor: String,
        target: String,
        source: String,
    ) {
        let event = AuditEvent {
            id: uuid::Uuid::now_v7(),
            realm_id: realm,
            org_id: None,
            at: self.clock().now(),
            kind: tessera_domain::AuditKind::Security,
            action: action.chars().take(64).collect(),
            target: target.chars().take(1000).collect(),
            principal: "none".into(),
            actor: actor.chars().take(500).collect(),
            source: source.chars().take(64).collect(),
        };
        if let Some(backlog) = self.audit_log.push(event)
            && let Err(e) = self.write_audit_events(backlog).await
        {
            tracing::warn!(error = %e, "writing the audit log failed");
        }
    }

    /// Writes the pending audit log, [`LOG_BATCH`] entries per INSERT.
    pub async fn flush_audit_log(&self) -> Result<(), crate::OAuthError> {
        self.write_audit_events(self.audit_log.take()).await
    }

    pub(crate) async fn write_audit_events(
        &self,
        all: Vec<AuditEvent>,
    ) -> Result<(), crate::OAuthError> {
        for batch in all.chunks(LOG_BATCH) {
            self.store().insert_audit_events(batch).await?;
        }
        Ok(())
    }

    /// Resolves when a batch of the audit log is full (the writer task waits on it).
    pub async fn audit_log_full(&self) {
        self.audit_log.full.notified().await
    }
}
