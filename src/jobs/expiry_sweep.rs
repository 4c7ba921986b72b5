//! Removes expired revocation entries and opaque tokens every ten minutes.

use std::sync::Arc;
use std::time::Duration;
use tessera_oidc::{OAuthError, Provider};

pub const EVERY: Duration = Duration::from_secs(600);

/// One sweep; returns the rows removed.
pub async fn run_once(p: &Provider) -> Result<u64, OAuthError> {
    p.purge_expired().await
}

pub fn spawn(p: Arc<Provider>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&p).await {
                tracing::warn!(error = %e, "expiry sweep failed");
            }
        }
    })
}
