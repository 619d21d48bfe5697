//! Test and demo support: `spawn_app()` on port 0 with a fresh database of either backend, and
//! the demo data set that `shouhou demo` serves.
#![forbid(unsafe_code)]

pub mod demo;

use anyhow::Context as _;
use shouhou_app::{App, AppConfig, Clock, SystemClock};
use shouhou_store::{Backend, Db, DbOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Where PostgreSQL tests connect to create their own database; overridable.
pub fn postgres_admin_url() -> String {
    std::env::var("SHOUHOU_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty, migrated database of the given backend, with a data directory of its own (the
/// audit checkpoints, key files). PostgreSQL: a new database that is dropped when the guard goes;
/// SQLite: a file in the data directory. The directory goes with the guard.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub data_dir: PathBuf,
    guard: DbGuard,
}

enum DbGuard {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String, dir: PathBuf },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        match self {
            DbGuard::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            DbGuard::Postgres { admin_url, name, dir } => {
                let _ = std::fs::remove_dir_all(dir);
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime: do the async work on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            use sqlx::Connection as _;
                            if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

impl TestDb {
    pub async fn new(backend: Backend) -> anyhow::Result<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("shouhou_test_{}", unique_suffix()));
                std::fs::create_dir_all(&dir)?;
                let url = format!("sqlite://{}", dir.join("shouhou.db").display());
                let db = Db::connect(&url, &DbOptions::default()).await?;
                db.migrate().await?;
                Ok(TestDb { db, url, data_dir: dir.clone(), guard: DbGuard::Sqlite(dir) })
            }
            Backend::Postgres => {
                use sqlx::Connection as _;
                let admin_url = postgres_admin_url();
                let name = format!("shouhou_test_{}", unique_suffix());
                let mut c = sqlx::PgConnection::connect(&admin_url).await.with_context(|| {
                    format!(
                        "PostgreSQL is required for the tests and is unreachable at {}",
                        shouhou_store::redact_url(&admin_url)
                    )
                })?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut c).await?;
                let dir = std::env::temp_dir().join(format!("shouhou_test_{}", unique_suffix()));
                std::fs::create_dir_all(&dir)?;
                let guard = DbGuard::Postgres { admin_url: admin_url.clone(), name: name.clone(), dir: dir.clone() };
                let url = match admin_url.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => anyhow::bail!("bad PostgreSQL URL"),
                };
                let db = Db::connect(&url, &DbOptions { max_connections: 5, ..Default::default() }).await?;
                db.migrate().await?;
                Ok(TestDb { db, url, data_dir: dir, guard })
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.guard, DbGuard::Postgres { .. })
    }
}

/// A running application on port 0.
pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub db: TestDb,
    /// Failures this instance can be made to suffer.
    pub faults: Arc<shouhou_web::Faults>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    /// Stop accepting, finish requests in flight, and wait for the server to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

/// Start the whole application on a fresh database of `backend`, with the given clock.
pub async fn spawn_app_with_clock(backend: Backend, clock: Arc<dyn Clock>) -> anyhow::Result<TestApp> {
    let db = TestDb::new(backend).await?;
    spawn_on(db, clock).await
}

pub async fn spawn_app(backend: Backend) -> anyhow::Result<TestApp> {
    spawn_app_with_clock(backend, Arc::new(SystemClock)).await
}

/// The configuration `spawn_app` serves with: audit checkpoints in the database's data directory.
pub fn test_config(db: &TestDb) -> AppConfig {
    AppConfig { audit_checkpoints: Some(db.data_dir.join("audit-checkpoints")), ..AppConfig::default() }
}

/// Serve an existing test database (a second instance on the same PostgreSQL, say).
pub async fn spawn_on(db: TestDb, clock: Arc<dyn Clock>) -> anyhow::Result<TestApp> {
    let keys = shouhou_store::crypto::test_keyring();
    // As `shouhou serve` does: the keys must be the database's, and their fingerprints are kept.
    shouhou_app::keys::check_keyring(&db.db, &keys, "test keys", clock.now_ms()).await?;
    let app = App::new(db.db.clone(), clock, test_config(&db), keys);
    let faults = Arc::new(shouhou_web::Faults::default());
    let addr = serve_app_with(app.clone(), faults.clone()).await?;
    Ok(TestApp { addr: addr.0, app, db, faults, shutdown: Some(addr.1), server: Some(addr.2) })
}

/// A second application instance on the same database, as a second process would be: its own
/// pool (its own SQLite writer and readers, its own PostgreSQL connections) and its own App.
/// Keep the returned value alive: dropping its sender stops the instance.
pub async fn second_instance(t: &TestApp) -> anyhow::Result<Served> {
    let opts = DbOptions { max_connections: 5, ..Default::default() };
    let db = Db::connect(&t.db.url, &opts).await?;
    let config =
        AppConfig { audit_checkpoints: Some(t.db.data_dir.join("audit-checkpoints-2")), ..AppConfig::default() };
    let app = App::new(db, Arc::new(SystemClock), config, shouhou_store::crypto::test_keyring());
    serve_app(app).await
}

type Served = (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>);

/// Serve `app` on 127.0.0.1:0 until the returned sender fires.
pub async fn serve_app(app: App) -> anyhow::Result<Served> {
    serve_app_with(app, Default::default()).await
}

/// Serve `app` with the given fault switches.
pub async fn serve_app_with(app: App, faults: Arc<shouhou_web::Faults>) -> anyhow::Result<Served> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state =
        shouhou_web::AppState { app, secure_cookies: false, faults, metrics_token: None, public_base_url: None };
    let server = tokio::spawn(shouhou_web::serve(state, listener, async move {
        let _ = rx.await;
    }));
    Ok((addr, tx, server))
}
