//! In-memory buffers of logs written in batches (the exchange log, the audit log): a
//! request appends; the writer job (src/jobs/) and the rare lagging request write what a
//! [`BatchLog`] hands them.

use std::sync::Mutex;
use tessera_domain::{AuditEvent, ExchangeRecord};

/// A log written in batches: a request only appends to memory; the writer task
/// (src/startup.rs) stores a batch when it is full, every second, and before the log is
/// read. A request never waits for that write, unless the writer has fallen [`LOG_MAX`]
/// records behind (back-pressure instead of unbounded memory). Revocation does not depend
/// on the exchange log: exchanged tokens carry their lineage.
pub struct BatchLog<T> {
    pending: Mutex<Vec<T>>,
    pub(crate) full: tokio::sync::Notify,
}

impl<T> Default for BatchLog<T> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            full: tokio::sync::Notify::new(),
        }
    }
}

/// The token-exchange log.
pub type ExchangeLog = BatchLog<ExchangeRecord>;
/// The audit log of administrative changes and security events.
pub type AuditLog = BatchLog<AuditEvent>;

/// Records per INSERT (10 bound values each: far below SQLite's 32,766).
pub const LOG_BATCH: usize = 256;
/// Records held in memory at most.
pub const LOG_MAX: usize = 64 * LOG_BATCH;

impl<T> BatchLog<T> {
    /// Appends; returns the records the caller must write itself when the writer lags.
    pub(crate) fn push(&self, r: T) -> Option<Vec<T>> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.push(r);
        if p.len() >= LOG_MAX {
            return Some(std::mem::take(&mut *p));
        }
        if p.len() == LOG_BATCH {
            self.full.notify_one();
        }
        None
    }
    pub(crate) fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::UnixTime;

    #[test]
    fn the_log_never_makes_a_request_write_until_the_writer_falls_far_behind() {
        let log = ExchangeLog::default();
        let rec = || ExchangeRecord {
            realm_id: tessera_domain::RealmId::new_v7(),
            parent_jti: "p".into(),
            child_jti: "c".into(),
            subject: "s".into(),
            actors: vec![],
            client_id: "app".into(),
            reason: None,
            external_issuer: None,
            created_at: UnixTime(0),
            expires_at: UnixTime(1),
        };
        for _ in 0..LOG_MAX - 1 {
            assert!(log.push(rec()).is_none());
        }
        assert_eq!(log.push(rec()).map(|b| b.len()), Some(LOG_MAX));
        assert!(log.take().is_empty());
    }
}
