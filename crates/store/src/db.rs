use crate::idempotency::Unit;
use crate::{Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Connections of the PostgreSQL pool, or SQLite readers (SQLite has one writer).
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(10) }
    }
}

/// The database: SQLite (one writer connection, a pool of readers, WAL) or PostgreSQL.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite { writer: SqlitePool, readers: SqlitePool },
    Postgres(PgPool),
}

/// A write transaction: one per command. Inside an idempotent request (`idempotency::Unit`) the
/// first one also claims the request's key, and its commit waits for the answer (see there).
pub struct Tx {
    inner: Option<TxInner>,
    /// The idempotent request whose key this transaction claimed.
    claim: Option<Arc<Unit>>,
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A pooled connection for reads outside a transaction.
pub enum Rd {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// A borrowed connection of either backend, what repository functions take.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Db {
    /// Connect by URL: `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let o = PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(o)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let base = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged command survives a power loss (ARCHITECTURE.md).
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", "-8000");
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(base.clone())
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let readers = SqlitePoolOptions::new()
                .max_connections(opts.max_connections.max(1))
                .min_connections(0)
                .idle_timeout(Duration::from_secs(60))
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(base.read_only(true).create_if_missing(false))
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(Db::Sqlite { writer, readers })
        } else {
            Err(StoreError::Unavailable(format!(
                "unsupported database URL scheme (expected sqlite:// or postgres://): {}",
                redact_url(url)
            )))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply the migrations that are not yet applied. The two backends carry the same versions.
    pub async fn migrate(&self) -> Result<()> {
        let r = match self {
            Db::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        r.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => StoreError::from(e),
            other => StoreError::Unavailable(other.to_string()),
        })
    }

    /// Versions of the shipped migrations, and of those applied to this database.
    pub async fn migration_status(&self) -> Result<(Vec<i64>, Vec<i64>)> {
        let shipped = match self {
            Db::Sqlite { .. } => SQLITE_MIGRATIONS.iter().map(|m| m.version).collect(),
            Db::Postgres(_) => POSTGRES_MIGRATIONS.iter().map(|m| m.version).collect(),
        };
        let mut rd = self.read().await?;
        let applied: Vec<i64> = crate::both!(&mut rd.conn(), c => sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version").fetch_all(c).await)
        .unwrap_or_default();
        Ok((shipped, applied))
    }

    /// Begin a write transaction. On SQLite it is `BEGIN IMMEDIATE` on the single writer, so a
    /// transaction that reads then writes never fails with "database is locked".
    ///
    /// In an idempotent request the command's transaction parked before is committed first, and
    /// the first transaction claims the request's key (or learns that it was carried out before:
    /// `StoreError::AlreadyDone`).
    pub async fn begin(&self) -> Result<Tx> {
        let unit = Unit::current();
        if let Some(u) = &unit {
            u.flush().await?;
        }
        let inner = match self {
            Db::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        let mut tx = Tx { inner: Some(inner), claim: None };
        if let Some(u) = unit {
            u.claim_in(&mut tx).await?;
        }
        Ok(tx)
    }

    /// A connection for reads. On SQLite it comes from the read-only pool. In an idempotent
    /// request, the command's parked transaction is committed first, so a read sees what it wrote.
    pub async fn read(&self) -> Result<Rd> {
        if let Some(u) = Unit::current() {
            u.flush().await?;
        }
        Ok(match self {
            Db::Sqlite { readers, .. } => Rd::Sqlite(readers.acquire().await?),
            Db::Postgres(pool) => Rd::Postgres(pool.acquire().await?),
        })
    }

    /// `SELECT 1`, for readiness.
    pub async fn ping(&self) -> Result<()> {
        let mut rd = self.read().await?;
        let _: i32 = crate::both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT 1").fetch_one(c).await)?;
        Ok(())
    }

    /// Pool figures for metrics: (connections open, idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { writer, readers } => (writer.size() + readers.size(), writer.num_idle() + readers.num_idle()),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// Consistent online copy of a SQLite database into `dest` (`VACUUM INTO` reads one snapshot).
    pub async fn backup_sqlite_to(&self, dest: &str) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => {
                sqlx::query("VACUUM INTO $1").bind(dest).execute(writer).await?;
                Ok(())
            }
            Db::Postgres(_) => {
                Err(StoreError::Unavailable("online copy is for SQLite; use pg_dump for PostgreSQL".into()))
            }
        }
    }

    /// `PRAGMA integrity_check` on SQLite; PostgreSQL checks itself.
    pub async fn integrity_check(&self) -> Result<String> {
        match self {
            Db::Sqlite { writer, .. } => {
                Ok(sqlx::query_scalar::<_, String>("PRAGMA integrity_check").fetch_one(writer).await?)
            }
            Db::Postgres(_) => Ok("ok".into()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    #[allow(clippy::expect_used)]
    pub fn conn(&mut self) -> Conn<'_> {
        match self.inner.as_mut().expect("a transaction is used until it ends") {
            TxInner::Sqlite(t) => Conn::Sqlite(t),
            TxInner::Postgres(t) => Conn::Postgres(t),
        }
    }

    /// Commit. The transaction that claimed an idempotent request's key is parked instead: the
    /// request's answer is stored in it and it commits when the answer is known, so a command is
    /// never committed without its answer (or the first later use of the database commits it).
    pub async fn commit(mut self) -> Result<()> {
        if let Some(unit) = self.claim.take() {
            unit.park(Tx { inner: self.inner.take(), claim: None });
            return Ok(());
        }
        match self.inner.take() {
            Some(TxInner::Sqlite(t)) => t.commit().await?,
            Some(TxInner::Postgres(t)) => t.commit().await?,
            None => {}
        }
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<()> {
        match self.inner.take() {
            Some(TxInner::Sqlite(t)) => t.rollback().await?,
            Some(TxInner::Postgres(t)) => t.rollback().await?,
            None => {}
        }
        if let Some(unit) = self.claim.take() {
            unit.released();
        }
        Ok(())
    }

    pub(crate) fn set_claim(&mut self, unit: Arc<Unit>) {
        self.claim = Some(unit);
    }
}

impl Drop for Tx {
    /// Dropped unfinished: sqlx rolls it back, and with it any claim of an idempotency key.
    fn drop(&mut self) {
        if let (Some(unit), Some(_)) = (self.claim.take(), self.inner.as_ref()) {
            unit.released();
        }
    }
}

impl Rd {
    #[allow(clippy::expect_used)]
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Rd::Sqlite(c) => Conn::Sqlite(c),
            Rd::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// The URL with any password replaced, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:****{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:****@h/db");
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
