//! Removes expired revocation entries, opaque tokens and refilled failed-login budgets every
//! ten minutes. Of all processes on one database only the leader sweeps (a PostgreSQL
//! advisory lock, [`tessera_storage::JobLock`]): the sweep touches every realm's rows, so
//! running it on each replica would only repeat the same deletes.

use std::sync::Arc;
use std::time::Duration;
use tessera_oidc::{OAuthError, Provider};

pub const EVERY: Duration = Duration::from_secs(600);

/// The job's name, which keys its lock.
pub const JOB: &str = "expiry_sweep";

/// One sweep; returns the rows removed.
pub async fn run_once(p: &Provider) -> Result<u64, OAuthError> {
    p.purge_expired().await
}

pub fn spawn(p: Arc<Provider>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lock = p.store().job_lock(JOB);
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            match lock.lead().await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!("expiry sweep left to the process holding its lock");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "taking the expiry sweep's lock failed");
                    continue;
                }
            }
            if let Err(e) = run_once(&p).await {
                tracing::warn!(error = %e, "expiry sweep failed");
            }
        }
    })
}
