//! Leadership of a background job across the processes sharing one database.
//!
//! On PostgreSQL the leader holds a session advisory lock on a connection of its own, outside
//! the pool: the lock lives exactly as long as that connection, so a leader that stops or is
//! killed (`kill -9` closes its sockets) frees the job for another process at its next tick,
//! and nothing has to expire. On SQLite one process owns the data directory, so it always
//! leads.

use crate::{Backend, Store, StoreResult};
use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::postgres::PgConnection;

/// One job's leadership as seen by this process; ask [`JobLock::lead`] on every tick.
pub struct JobLock {
    store: Store,
    key: i64,
    held: Option<PgConnection>,
}

impl std::fmt::Debug for JobLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobLock")
            .field("key", &self.key)
            .field("held", &self.held.is_some())
            .finish()
    }
}

/// FNV-1a of the job's name: a stable advisory-lock key (std's hasher may change between
/// Rust versions, and processes of two builds must agree).
fn lock_key(job: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "tessera.job.".bytes().chain(job.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

impl Store {
    /// The lock for `job` (not taken yet).
    pub fn job_lock(&self, job: &str) -> JobLock {
        JobLock {
            store: self.clone(),
            key: lock_key(job),
            held: None,
        }
    }
}

/// A PostgreSQL advisory lock waited for (not tried): held until released or dropped.
pub struct Turn(PgConnection);

impl Turn {
    pub async fn release(self) {
        let _ = self.0.close().await;
    }
}

impl Store {
    /// Waits until no other process holds the lock named `name`, then holds it.
    pub(crate) async fn wait_for_lock(&self, name: &str) -> StoreResult<Turn> {
        let opts = self.db.get_postgres_connection_pool().connect_options();
        let mut conn = PgConnection::connect_with(&opts).await.map_err(db_err)?;
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(lock_key(name))
            .execute(&mut conn)
            .await
            .map_err(db_err)?;
        Ok(Turn(conn))
    }
}

impl JobLock {
    /// Whether this process leads the job now: keeps the lock if its connection is still
    /// alive, or tries to take it (without waiting) if not held.
    pub async fn lead(&mut self) -> StoreResult<bool> {
        if self.store.backend() == Backend::Sqlite {
            return Ok(true);
        }
        if let Some(conn) = self.held.as_mut() {
            // A broken connection has lost the lock with it.
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            self.held = None;
        }
        let opts = self
            .store
            .db
            .get_postgres_connection_pool()
            .connect_options();
        let mut conn = PgConnection::connect_with(&opts).await.map_err(db_err)?;
        let taken: bool = sea_orm::sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(self.key)
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
        if taken {
            self.held = Some(conn);
        } else {
            // Not ours: close the extra connection rather than keep it idle.
            let _ = conn.close().await;
        }
        Ok(taken)
    }

    /// Gives the job up (the connection's end releases the lock).
    pub async fn release(&mut self) {
        if let Some(conn) = self.held.take() {
            let _ = conn.close().await;
        }
    }
}

fn db_err(e: sea_orm::sqlx::Error) -> crate::StoreError {
    crate::StoreError::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        e.into(),
    )))
}

#[cfg(test)]
mod tests {
    use super::lock_key;

    #[test]
    fn lock_keys_are_stable_and_distinct_per_job() {
        assert_eq!(lock_key("expiry_sweep"), lock_key("expiry_sweep"));
        assert_ne!(lock_key("expiry_sweep"), lock_key("exchange_log"));
    }
}
