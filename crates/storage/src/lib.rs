//! Persistence on sea-orm: SQLite (embedded default) and PostgreSQL.
//!
//! Every repository function below the realm takes a [`RealmId`] and filters by it,
//! so a lookup can never cross tenants. sea-orm types stay inside this crate.

mod account_tokens;
mod admin_keys;
mod approvals;
mod audit;
mod changes;
mod clients;
mod console;
mod entity;
mod exchanges;
mod grants;
mod idps;
mod job_lock;
mod keys;
mod org_admin;
mod orgs;
mod realms;
mod registration;
mod smtp;
mod throttle;
mod tokens;
mod users;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tessera_domain::DomainError;
use thiserror::Error;

pub use admin_keys::{AdminKeyRecord, StoredAdminKeyRoot};
pub use approvals::{ApprovalSecrets, NamedApproval};
pub use audit::AuditFilter;
pub use changes::{Change, ChangeListener};
pub use exchanges::ExchangeFilter;
pub use idps::ManagedMembership;
pub use job_lock::JobLock;
pub use org_admin::OrgAdminBinding;
pub use registration::RegistrationGrant;
pub use smtp::StoredSmtp;
pub use tessera_domain::RealmId;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    /// A stored row no longer satisfies a domain rule (edited by hand, or an older format).
    #[error("stored data is invalid: {0}")]
    Corrupt(#[from] DomainError),
    #[error("database error: {0}")]
    Db(DbErr),
    /// The database cannot be reached, with the driver's reason.
    #[error("{0}")]
    Unreachable(String),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict,
            // A row the write refers to is gone (its realm was deleted meanwhile): the
            // caller's object no longer exists, which is a 404, not a server error.
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => StoreError::NotFound,
            _ => StoreError::Db(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a keyset-paginated list: `after` is the last key of the previous page.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u64,
}

/// Which database engine is behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The statement latency histogram, fed by the connection's metric callback.
pub const STATEMENT_SECONDS: &str = "tessera_db_statement_duration_seconds";

/// Connections of a [`Store`]'s pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// `# HELP` text for this crate's metrics; call once the recorder is installed.
pub fn describe_metrics() {
    metrics::describe_histogram!(
        STATEMENT_SECONDS,
        metrics::Unit::Seconds,
        "Duration of SQL statements executed through the pool"
    );
    metrics::describe_gauge!(
        "tessera_db_pool_connections",
        "Connections of the database pool by state (in_use, idle, max)"
    );
}

/// The repositories over one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Statements executed since start: hot-path budgets are measured with it.
    statements: Arc<AtomicU64>,
}

/// The pool reports a refused connection only as "pool timed out"; one direct attempt
/// says why (refused, unknown host, bad password, unreadable file).
async fn connect_failure(url: &str, pool_error: DbErr) -> String {
    use sea_orm::sqlx::Connection;
    let direct = if url.starts_with("postgres") {
        sea_orm::sqlx::PgConnection::connect(url).await.map(|_| ())
    } else {
        sea_orm::sqlx::SqliteConnection::connect(url)
            .await
            .map(|_| ())
    };
    let why = match direct {
        Err(e) => e.to_string(),
        Ok(()) => pool_error.to_string(),
    };
    format!("cannot connect to {}: {why}", redact(url))
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Opens a pool. SQLite files are created if missing and put in WAL mode, so readers
    /// never wait on the writer.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        if url.starts_with("sqlite:") {
            opts.map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5))
            });
        }
        let mut db = match Database::connect(opts).await {
            Ok(db) => db,
            Err(e) => return Err(StoreError::Unreachable(connect_failure(url, e).await)),
        };
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        // Registered once here: the callback runs on every statement.
        let latency = metrics::histogram!(STATEMENT_SECONDS);
        db.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            latency.record(info.elapsed.as_secs_f64());
        });
        Ok(Self { db, statements })
    }

    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// The connection pool's state now, for the metrics endpoint.
    pub fn pool_stats(&self) -> PoolStats {
        fn of<DB: sea_orm::sqlx::Database>(p: &sea_orm::sqlx::Pool<DB>) -> PoolStats {
            let (size, idle) = (p.size(), p.num_idle() as u32);
            PoolStats {
                in_use: size.saturating_sub(idle),
                idle,
                max: p.options().get_max_connections(),
            }
        }
        match self.backend() {
            Backend::Postgres => of(self.db.get_postgres_connection_pool()),
            Backend::Sqlite => of(self.db.get_sqlite_connection_pool()),
        }
    }

    /// SQL statements executed through this pool so far.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Applies pending migrations; idempotent.
    pub async fn migrate(&self) -> StoreResult<()> {
        // Processes starting together on one PostgreSQL database take turns: the second
        // finds nothing left to apply.
        let turn = match self.backend() {
            Backend::Postgres => Some(self.wait_for_lock("migrations").await?),
            Backend::Sqlite => None,
        };
        let res = Migrator::up(&self.db, None).await;
        if let Some(t) = turn {
            t.release().await;
        }
        Ok(res?)
    }

    /// Readiness probe: one round trip to the database.
    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await?;
        Ok(())
    }

    pub async fn close(self) -> StoreResult<()> {
        self.db.close().await?;
        Ok(())
    }
}

/// Space-separated list columns: the values we store never contain a space.
fn join_list<T: AsRef<str>>(items: &[T]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(" ")
}

fn split_list<T>(
    s: &str,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError> {
    s.split(' ').filter(|x| !x.is_empty()).map(parse).collect()
}

/// Creates an empty PostgreSQL database `name` through `admin_url` (tests and tooling:
/// each integration test gets its own database). `name` must be `[a-z0-9_]+`.
pub async fn create_postgres_database(admin_url: &str, name: &str) -> StoreResult<()> {
    use sea_orm::ConnectionTrait;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Corrupt(DomainError::new(
            "database",
            "use [a-z0-9_]+",
        )));
    }
    let db = Database::connect(admin_url).await?;
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    db.close().await?;
    Ok(())
}

/// Drops the PostgreSQL databases test runs create (`tessera_t_<unix secs>_…` by the HTTP
/// tests, `tessera_s_…` by the repository tests) that are older than `max_age_secs`, or
/// carry no creation time. For test harnesses: nothing else is named so.
pub async fn drop_stale_test_databases(admin_url: &str, max_age_secs: u64) -> StoreResult<u64> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = Database::connect(admin_url).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'tessera\\_t\\_%' \
             OR datname LIKE 'tessera\\_s\\_%'",
        ))
        .await?;
    let mut dropped = 0;
    for r in rows {
        let name: String = r.try_get_by_index(0)?;
        let born = name
            .split('_')
            .nth(2)
            .filter(|part| part.len() == 10)
            .and_then(|secs| secs.parse::<u64>().ok());
        let safe = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if safe && born.is_none_or(|t| now.saturating_sub(t) > max_age_secs) {
            db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            dropped += 1;
        }
    }
    db.close().await?;
    Ok(dropped)
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use tessera_domain::{Realm, RealmId, RealmName, SigningAlg, UnixTime};

    pub fn realm(name: &str) -> Realm {
        Realm {
            id: RealmId::new_v7(),
            name: RealmName::parse(name).unwrap(),
            enabled: true,
            access_token_alg: SigningAlg::Rs256,
            access_token_lifetime_secs: 300,
            password_params: None,
            lifetimes: Default::default(),
            organizations_enabled: true,
            max_delegation_depth: 3,
            registration: Default::default(),
            branding: Default::default(),
            audit_retention_days: 365,
            approvals: Default::default(),
            created_at: UnixTime(1),
        }
    }

    /// A fresh database with realms `a` and `b`.
    pub async fn two_realms() -> (Store, Realm, Realm) {
        let s = test_store().await;
        let (a, b) = (realm("a"), realm("b"));
        s.insert_realm(&a).await.unwrap();
        s.insert_realm(&b).await.unwrap();
        (s, a, b)
    }

    /// A fresh, migrated database: in-memory SQLite (one connection: each in-memory
    /// connection would be its own database), or a new PostgreSQL database when
    /// `TESSERA_TEST_DATABASE_URL` is set, so every repository test runs on both.
    pub async fn test_store() -> Store {
        let url = match std::env::var("TESSERA_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let name = format!("tessera_s_{now}_{}", uuid::Uuid::new_v4().simple());
                create_postgres_database(&admin, &name).await.unwrap();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
            None => "sqlite::memory:".to_owned(),
        };
        let store = Store::connect(&url, 1).await.unwrap();
        store.migrate().await.unwrap();
        store
    }
}
