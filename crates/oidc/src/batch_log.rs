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
