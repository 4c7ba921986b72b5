//! Writes the token-exchange log and the audit log, batched in memory by the engine: when
//! a batch is full, or every second for the rest, and once more when the server stops.
//!
//! Not exclusive across processes, unlike the expiry sweep: each process's batch is in its
//! own memory, so each must write its own; a lock would leave the others' entries unwritten.

use std::sync::Arc;
use std::time::Duration;
use tessera_oidc::{OAuthError, Provider};

/// Writes whatever is pending.
pub async fn run_once(p: &Provider) -> Result<(), OAuthError> {
    p.flush_exchange_log().await?;
    p.flush_audit_log().await
}

pub fn spawn(p: Arc<Provider>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = p.exchange_log_full() => {}
                _ = p.audit_log_full() => {}
            }
            if let Err(e) = run_once(&p).await {
                tracing::warn!(error = %e, "writing the token-exchange or audit log failed");
            }
        }
    })
}
