//! Applies changes recorded by other processes (the CLI, other servers) to this server's
//! caches: woken by PostgreSQL `NOTIFY`, else polling the change log four times a second.

use std::sync::Arc;
use std::time::Duration;
use tessera_oidc::Provider;
use tessera_oidc::cache_sync::ChangeFollower;
use tessera_storage::ChangeListener;

/// SQLite has no notifications; a poll is one indexed `SELECT` on a nearly empty table.
pub const POLL: Duration = Duration::from_millis(250);
/// With notifications, a poll still runs now and then: one may be lost on a reconnect.
pub const POLL_WITH_NOTIFY: Duration = Duration::from_secs(2);

/// Starts following at the newest change, before the server answers its first request.
pub async fn start(p: Arc<Provider>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut follower = p.follow_changes().await?;
    let mut listener = p.store().change_listener().await?;
    Ok(tokio::spawn(async move {
        loop {
            wait(&mut listener).await;
            apply(&p, &mut follower).await;
        }
    }))
}

async fn wait(listener: &mut Option<ChangeListener>) {
    match listener {
        Some(l) => {
            if let Ok(Err(e)) = tokio::time::timeout(POLL_WITH_NOTIFY, l.wait()).await {
                tracing::warn!(error = %e, "waiting for change notifications failed");
                tokio::time::sleep(POLL).await;
            }
        }
        None => tokio::time::sleep(POLL).await,
    }
}

async fn apply(p: &Provider, follower: &mut ChangeFollower) {
    if let Err(e) = p.apply_changes(follower).await {
        tracing::warn!(error = %e, "reading the change log failed");
    }
}
