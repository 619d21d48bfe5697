//! Where a benchmark's database lives: a temporary one dropped at the end, or a kept one
//! (`--keep`); and the actors the benchmarks act as.
use crate::{BackendArg, PASSWORD};
use anyhow::{Context as _, anyhow, bail, ensure};
use shouhou_app::users::UserForm;
use shouhou_app::{Actor, App, Ctx};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::path::PathBuf;

// ---------- databases: temporary or kept ----------

#[derive(Clone, Debug)]
pub enum Place {
    Sqlite { path: PathBuf, temp_dir: Option<PathBuf> },
    Postgres { admin: String, name: String },
}

impl Place {
    pub fn temp(backend: BackendArg, admin: &str, tag: &str) -> Place {
        let name = format!("shouhou_bench_{}_{tag}", std::process::id());
        match backend {
            BackendArg::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                Place::Sqlite { path: dir.join("shouhou.db"), temp_dir: Some(dir) }
            }
            BackendArg::Postgres => Place::Postgres { admin: admin.to_string(), name },
        }
    }

    pub fn kept(backend: BackendArg, admin: &str, keep: &str) -> anyhow::Result<Place> {
        Ok(match backend {
            BackendArg::Sqlite => Place::Sqlite { path: PathBuf::from(keep), temp_dir: None },
            BackendArg::Postgres => {
                ensure!(
                    !keep.is_empty() && keep.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "--keep for PostgreSQL is a database name of [a-z0-9_]"
                );
                Place::Postgres { admin: admin.to_string(), name: keep.to_string() }
            }
        })
    }

    pub fn is_temp(&self) -> bool {
        match self {
            Place::Sqlite { temp_dir, .. } => temp_dir.is_some(),
            Place::Postgres { name, .. } => name.starts_with(&format!("shouhou_bench_{}_", std::process::id())),
        }
    }

    pub fn url(&self) -> anyhow::Result<String> {
        Ok(match self {
            Place::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Place::Postgres { admin, name } => match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => bail!("bad PostgreSQL URL"),
            },
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Place::Sqlite { path, .. } => format!("SQLite file {}", path.display()),
            Place::Postgres { name, .. } => format!("PostgreSQL database {name}"),
        }
    }

    pub async fn exists(&self) -> anyhow::Result<bool> {
        Ok(match self {
            Place::Sqlite { path, .. } => path.exists(),
            Place::Postgres { admin, name } => {
                let mut c = PgConnection::connect(admin).await.context("PostgreSQL admin connection")?;
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                    .bind(name)
                    .fetch_one(&mut c)
                    .await?;
                n > 0
            }
        })
    }

    pub async fn create(&self) -> anyhow::Result<()> {
        match self {
            Place::Sqlite { path, .. } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
            }
            Place::Postgres { admin, name } => {
                let mut c = PgConnection::connect(admin).await.context("PostgreSQL admin connection")?;
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut c).await?;
            }
        }
        Ok(())
    }

    pub async fn destroy(&self) -> anyhow::Result<()> {
        match self {
            Place::Sqlite { path, temp_dir } => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let p = PathBuf::from(format!("{}{suffix}", path.display()));
                    if p.exists() {
                        std::fs::remove_file(&p)?;
                    }
                }
                if let Some(d) = temp_dir {
                    let _ = std::fs::remove_dir_all(d);
                }
            }
            Place::Postgres { admin, name } => {
                let mut c = PgConnection::connect(admin).await.context("PostgreSQL admin connection")?;
                sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                    .execute(&mut c)
                    .await?;
            }
        }
        Ok(())
    }

    /// Size of the database on disk, in bytes.
    pub async fn size(&self) -> anyhow::Result<u64> {
        Ok(match self {
            Place::Sqlite { path, .. } => {
                let mut total = 0;
                for suffix in ["", "-wal"] {
                    if let Ok(m) = std::fs::metadata(format!("{}{suffix}", path.display())) {
                        total += m.len();
                    }
                }
                total
            }
            Place::Postgres { admin, name } => {
                let mut c = PgConnection::connect(admin).await?;
                let n: i64 = sqlx::query_scalar("SELECT pg_database_size($1)").bind(name).fetch_one(&mut c).await?;
                u64::try_from(n).unwrap_or(0)
            }
        })
    }
}

pub async fn bootstrap_admin(app: &App) -> anyhow::Result<Ctx> {
    let id = shouhou_app::users::create_user(
        app,
        &Ctx::system(),
        &UserForm {
            username: "admin".into(),
            display_name: "王建国".into(),
            password: PASSWORD.into(),
            locale: "zh-CN".into(),
            roles: vec!["admin".into()],
            stations: vec![],
        },
    )
    .await?;
    let user = {
        let mut rd = app.db.read().await?;
        shouhou_store::users::get_user(&mut rd.conn(), id).await?.ok_or_else(|| anyhow!("admin not found"))?
    };
    Ok(Ctx { actor: Some(Actor::from_user(&user)), source: "bench".into(), request_id: String::new() })
}

pub async fn actor_ctx(app: &App, username: &str) -> anyhow::Result<Ctx> {
    let mut rd = app.db.read().await?;
    let user = shouhou_store::users::user_by_username(&mut rd.conn(), username)
        .await?
        .ok_or_else(|| anyhow!("user {username} not found"))?;
    Ok(Ctx { actor: Some(Actor::from_user(&user)), source: "bench".into(), request_id: String::new() })
}
