//! Follows the change log so that a write made by the CLI or another server drops this
//! process's cached realms and clients within a second (ISO: entries are keyed by realm).

use crate::{OAuthError, Provider};
use std::time::{Duration, Instant};

/// How long an id skipped in the log is looked for again: a writer's transaction may commit
/// after a later id is already visible (PostgreSQL sequences are not commit-ordered).
const GAP_PATIENCE: Duration = Duration::from_secs(10);

const MAX_GAP: i64 = 64;

/// A follower's position in the change log.
pub struct ChangeFollower {
    after: i64,
    gaps: Vec<(i64, Instant)>,
}

impl Provider {
    /// A follower starting after the newest change: caches are empty at start.
    pub async fn follow_changes(&self) -> Result<ChangeFollower, OAuthError> {
        Ok(ChangeFollower {
            after: self.store.last_change_id().await?,
            gaps: Vec::new(),
        })
    }

    /// Reads the changes recorded since the last call and drops what they name from the
    /// caches; returns how many were applied.
    pub async fn apply_changes(&self, f: &mut ChangeFollower) -> Result<usize, OAuthError> {
        let now = Instant::now();
        f.gaps
            .retain(|(_, since)| now.duration_since(*since) < GAP_PATIENCE);
        let gap_ids: Vec<i64> = f.gaps.iter().map(|(id, _)| *id).collect();
        let changes = self.store.changes_after(f.after, &gap_ids).await?;
        for (id, change) in &changes {
            self.drop_cached(change).await;
            if *id > f.after {
                // A long run of missing ids is a purge or a rollback burst, not writers in flight.
                if *id - f.after <= MAX_GAP {
                    f.gaps
                        .extend((f.after + 1..*id).map(|missing| (missing, now)));
                }
                f.after = *id;
            } else {
                f.gaps.retain(|(g, _)| g != id);
            }
        }
        Ok(changes.len())
    }
}
