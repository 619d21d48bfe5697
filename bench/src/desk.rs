//! `bench-desk`: the service desk's two performance targets, each measured side by side in one run.
//!
//! * `create`: request creation throughput of the use case (`shouhou_app::requests::create_request`
//!   through an `App`) against the raw limit of the database measured in the same run: a minimal
//!   program with the same sqlx driver and the same pool writes the same rows per request (counter
//!   upsert, request insert, one `created` event, the SLA-cache update, the audit append: head
//!   update, insert, head update), one transaction per request, same concurrency, precomputed values.
//!   Prints requests/s of both and the ratio ours/raw.
//! * `screen-pop`: generates customers, devices and past requests with a fixed-seed PRNG at bulk-load
//!   speed (multi-row INSERTs in big transactions on SQLite, `COPY … FROM STDIN` on PostgreSQL,
//!   secondary indexes and foreign keys dropped during the load and rebuilt after), then measures
//!   `shouhou_app::desk::screen_pop` latency with sequential calls, and explains the queries.
//!
//! Usage: `bench-desk create --backend sqlite|postgres [--n 2000] [--concurrency 8] [--rounds 2]`
//!        `bench-desk screen-pop --backend sqlite|postgres [--customers N] [--devices N] [--requests N]
//!         [--lookups N] [--seed 42] [--keep PATH|DBNAME] [--reuse]`
//!
//! PostgreSQL databases are created as `shouhou_bench_<pid>_<tag>` on the server of
//! `--pg-admin-url` (default `postgres://postgres@127.0.0.1:5432/postgres`) and dropped at the end
//! unless kept with `--keep`.

use anyhow::{Context as _, anyhow, bail, ensure};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use shouhou_app::requests::{self, RequestForm};
use shouhou_app::stations::StationForm;
use shouhou_app::users::UserForm;
use shouhou_app::{Actor, App, AppConfig, Ctx, SystemClock};
use shouhou_app::{
    customers::{self, CustomerForm},
    desk::{self, Lookup},
    devices::{self, DeviceForm},
    products::{self, ProductModelForm},
};
use shouhou_domain::customers::CustomerTier;
use shouhou_domain::customers::Phone;
use shouhou_domain::mask::{mask_name, mask_phone};
use shouhou_domain::requests::{RequestType, Urgency, business_day, format_request_number};
use shouhou_store::crypto::{Keyring, test_keyring};
use shouhou_store::{Db, DbOptions, both};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;
const PASSWORD: &str = "Shouhou@2026";

// ---------- command line ----------

#[derive(Parser)]
#[command(name = "bench-desk", about = "Service desk benchmarks: request creation vs raw, screen-pop latency")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Request creation throughput: the use case against the same rows written by a minimal program.
    Create(CreateArgs),
    /// Screen-pop latency on generated customers, devices and past requests.
    ScreenPop(PopArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

impl BackendArg {
    fn as_str(self) -> &'static str {
        match self {
            BackendArg::Sqlite => "sqlite",
            BackendArg::Postgres => "postgres",
        }
    }
}

#[derive(Args)]
struct CreateArgs {
    #[arg(long, value_enum)]
    backend: BackendArg,
    /// Requests per measured run.
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Concurrent tasks (and PostgreSQL pool connections; SQLite has its one writer).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Rounds; each runs raw and ours on fresh databases, alternating which goes first.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Server where the PostgreSQL bench databases are created and dropped.
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_admin_url: String,
}

#[derive(Args)]
struct PopArgs {
    #[arg(long, value_enum)]
    backend: BackendArg,
    #[arg(long, default_value_t = 1_000_000)]
    customers: usize,
    #[arg(long, default_value_t = 2_000_000)]
    devices: usize,
    #[arg(long, default_value_t = 10_000_000)]
    requests: usize,
    /// Timed phone look-ups per series (serial look-ups and misses: a tenth of it each).
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    /// Untimed look-ups before the timed series.
    #[arg(long, default_value_t = 1000)]
    warmup: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the data set: a SQLite file path, or a PostgreSQL database name.
    #[arg(long)]
    keep: Option<String>,
    /// With --keep: use the kept data set if it was loaded with the same seed and sizes.
    #[arg(long, requires = "keep")]
    reuse: bool,
    /// Rows per multi-row INSERT statement (SQLite).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Rows per transaction during the load (SQLite).
    #[arg(long, default_value_t = 100_000)]
    txn_rows: usize,
    /// Time budget of each timed series (and of the per-statement breakdown), in seconds: a series
    /// stops early when it runs out, and the output says so.
    #[arg(long, default_value_t = 300)]
    budget_secs: u64,
    /// Only run the row generator (no database) and print its rows/s.
    #[arg(long)]
    gen_only: bool,
    /// Skip ANALYZE after the load (the application itself never runs it).
    #[arg(long)]
    no_analyze: bool,
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_admin_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Create(a) => cmd_create(a).await,
        Cmd::ScreenPop(a) => cmd_screen_pop(a).await,
    }
}

// ---------- machine, statistics ----------

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!("{cpus} cores, {model}, {:.1} GiB RAM", mem_kb as f64 / 1024.0 / 1024.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU time from `/proc`: the whole machine (busy), this process, and every `postgres` process.
#[derive(Debug, Clone, Copy)]
struct CpuMark {
    at: Instant,
    busy: u64,
    me: u64,
    pg: u64,
}

/// Average cores used between two marks: this benchmark, the PostgreSQL server, everything else.
#[derive(Debug, Clone, Copy, Default)]
struct CpuUse {
    bench: f64,
    postgres: f64,
    other: f64,
}

impl std::fmt::Display for CpuUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CPU cores: bench {:.2}, postgres {:.2}, other {:.2}", self.bench, self.postgres, self.other)
    }
}

fn proc_ticks(stat: &str) -> u64 {
    // Fields after the command name in parentheses: state is 3rd, utime 14th, stime 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn cpu_mark() -> CpuMark {
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().next().map(str::to_string))
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal
            [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| v.get(i)).sum()
        })
        .unwrap_or(0);
    let me = std::fs::read_to_string("/proc/self/stat").map(|s| proc_ticks(&s)).unwrap_or(0);
    let mut pg = 0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let p = e.path();
            if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                && std::fs::read_to_string(p.join("comm")).is_ok_and(|c| c.trim() == "postgres")
            {
                pg += std::fs::read_to_string(p.join("stat")).map(|s| proc_ticks(&s)).unwrap_or(0);
            }
        }
    }
    CpuMark { at: Instant::now(), busy, me, pg }
}

impl CpuMark {
    /// Cores used since this mark (100 ticks per second). PostgreSQL backends that ended in
    /// between are not counted (the benchmark keeps its connections open while measuring).
    fn since(&self) -> CpuUse {
        let now = cpu_mark();
        let secs = now.at.duration_since(self.at).as_secs_f64().max(1e-9) * 100.0;
        let d = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
        let (busy, bench, postgres) = (d(now.busy, self.busy), d(now.me, self.me), d(now.pg, self.pg));
        CpuUse { bench, postgres, other: (busy - bench - postgres).max(0.0) }
    }
}

fn cpu_json(c: &CpuUse) -> serde_json::Value {
    json!({"bench": c.bench, "postgres": c.postgres, "other": c.other})
}

#[derive(Debug, Clone, Copy, Default)]
struct Pcts {
    n: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

/// Nearest-rank percentiles, in milliseconds.
fn pcts(ds: &[Duration]) -> Pcts {
    if ds.is_empty() {
        return Pcts::default();
    }
    let mut ms: Vec<f64> = ds.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let r = ((p / 100.0) * ms.len() as f64).ceil() as usize;
        ms[r.clamp(1, ms.len()) - 1]
    };
    Pcts {
        n: ms.len(),
        p50: rank(50.0),
        p90: rank(90.0),
        p99: rank(99.0),
        max: ms[ms.len() - 1],
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

fn pcts_json(p: &Pcts) -> serde_json::Value {
    json!({"n": p.n, "p50_ms": p.p50, "p90_ms": p.p90, "p99_ms": p.p99, "max_ms": p.max, "mean_ms": p.mean})
}

fn bar(len: u64, prefix: &'static str) -> anyhow::Result<ProgressBar> {
    let pb = ProgressBar::new(len).with_prefix(prefix);
    pb.set_style(ProgressStyle::with_template(
        "{prefix:>18} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {per_sec} eta {eta}",
    )?);
    Ok(pb)
}

fn spinner(msg: String) -> anyhow::Result<ProgressBar> {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")?);
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(200));
    Ok(pb)
}

// ---------- databases: temporary or kept ----------

#[derive(Clone, Debug)]
enum Place {
    Sqlite { path: PathBuf, temp_dir: Option<PathBuf> },
    Postgres { admin: String, name: String },
}

impl Place {
    fn temp(backend: BackendArg, admin: &str, tag: &str) -> Place {
        let name = format!("shouhou_bench_{}_{tag}", std::process::id());
        match backend {
            BackendArg::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                Place::Sqlite { path: dir.join("shouhou.db"), temp_dir: Some(dir) }
            }
            BackendArg::Postgres => Place::Postgres { admin: admin.to_string(), name },
        }
    }

    fn kept(backend: BackendArg, admin: &str, keep: &str) -> anyhow::Result<Place> {
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

    fn is_temp(&self) -> bool {
        match self {
            Place::Sqlite { temp_dir, .. } => temp_dir.is_some(),
            Place::Postgres { name, .. } => name.starts_with(&format!("shouhou_bench_{}_", std::process::id())),
        }
    }

    fn url(&self) -> anyhow::Result<String> {
        Ok(match self {
            Place::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Place::Postgres { admin, name } => match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => bail!("bad PostgreSQL URL"),
            },
        })
    }

    fn describe(&self) -> String {
        match self {
            Place::Sqlite { path, .. } => format!("SQLite file {}", path.display()),
            Place::Postgres { name, .. } => format!("PostgreSQL database {name}"),
        }
    }

    async fn exists(&self) -> anyhow::Result<bool> {
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

    async fn create(&self) -> anyhow::Result<()> {
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

    async fn destroy(&self) -> anyhow::Result<()> {
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
    async fn size(&self) -> anyhow::Result<u64> {
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

async fn bootstrap_admin(app: &App) -> anyhow::Result<Ctx> {
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

async fn actor_ctx(app: &App, username: &str) -> anyhow::Result<Ctx> {
    let mut rd = app.db.read().await?;
    let user = shouhou_store::users::user_by_username(&mut rd.conn(), username)
        .await?
        .ok_or_else(|| anyhow!("user {username} not found"))?;
    Ok(Ctx { actor: Some(Actor::from_user(&user)), source: "bench".into(), request_id: String::new() })
}

// =====================================================================================
// create: the use case against the raw limit
// =====================================================================================

const CREATE_DESCRIPTION: &str = "设备无法开机，电源指示灯不亮，已尝试更换电源线无效";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Raw,
    Ours,
    /// The whole product: `POST /api/v1/service-requests` over loopback HTTP with a bearer token
    /// and an `Idempotency-Key` (authentication, JSON, the key stored in the command's
    /// transaction, the use case, the audit entry), served in this process.
    Http,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Raw => "raw",
            Side::Ours => "ours",
            Side::Http => "http",
        }
    }
}

struct CreateSeed {
    ctx: Ctx,
    customer_id: i64,
    device_id: i64,
    serial: String,
}

/// The same product model, customer and device on every fresh database, through the use cases.
async fn seed_create(app: &App) -> anyhow::Result<CreateSeed> {
    let ctx = bootstrap_admin(app).await?;
    products::create_product_model(
        app,
        &ctx,
        &ProductModelForm {
            code: "XG-5000".into(),
            name: "光传输设备".into(),
            product_line: "光传输".into(),
            warranty_months: Some(12),
            ..Default::default()
        },
    )
    .await?;
    let customer_id = customers::create_customer(
        app,
        &ctx,
        &CustomerForm {
            name: "张伟".into(),
            phone: "13812345678".into(),
            region_code: "440305".into(),
            address: "深圳市南山区粤海街道科技南十二路 2 号".into(),
            tier: Some("standard".into()),
            ..Default::default()
        },
    )
    .await?;
    let serial = "21XG5K00010001".to_string();
    let device_id = devices::create_device(
        app,
        &ctx,
        &DeviceForm {
            serial_number: serial.clone(),
            model_code: "XG-5000".into(),
            customer_id,
            sale_date: "2025-06-30".into(),
            ..Default::default()
        },
    )
    .await?;
    Ok(CreateSeed { ctx, customer_id, device_id, serial })
}

struct CreateRun {
    path: Side,
    round: usize,
    secs: f64,
    lat: Pcts,
    cpu: CpuUse,
}

impl CreateRun {
    fn rps(&self, n: usize) -> f64 {
        n as f64 / self.secs
    }
}

async fn cmd_create(a: CreateArgs) -> anyhow::Result<()> {
    ensure!(a.n > 0 && a.concurrency > 0 && a.rounds > 0, "--n, --concurrency and --rounds must be positive");
    println!(
        "bench-desk create: backend={} n={} concurrency={} rounds={}",
        a.backend.as_str(),
        a.n,
        a.concurrency,
        a.rounds
    );
    println!("machine: {}; load average at start: {}", machine(), loadavg());
    match a.backend {
        BackendArg::Sqlite => println!(
            "both paths open the database with shouhou_store::Db::connect (WAL, synchronous=FULL, one writer \
             connection, BEGIN IMMEDIATE); raw writes through that same writer"
        ),
        BackendArg::Postgres => println!(
            "both paths use shouhou_store::Db::connect with a pool of {} connections (server defaults: \
             synchronous_commit=on)",
            a.concurrency
        ),
    }
    let mut runs = vec![];
    for round in 1..=a.rounds {
        let order = match round % 3 {
            1 => [Side::Raw, Side::Ours, Side::Http],
            2 => [Side::Http, Side::Raw, Side::Ours],
            _ => [Side::Ours, Side::Http, Side::Raw],
        };
        for path in order {
            let r = run_create(&a, path, round).await?;
            println!(
                "round {round} {:<4}: {} requests in {:.2} s = {:>8.1} req/s ({:>8.1} row writes/s); latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
                path.as_str(),
                a.n,
                r.secs,
                r.rps(a.n),
                r.rps(a.n) * ROW_WRITES as f64,
                r.lat.p50,
                r.lat.p90,
                r.lat.p99,
                r.lat.max
            );
            println!("                {}", r.cpu);
            runs.push(r);
        }
    }
    let total = |p: Side| -> (f64, usize) {
        let rs: Vec<&CreateRun> = runs.iter().filter(|r| r.path == p).collect();
        (rs.iter().map(|r| r.secs).sum(), rs.len() * a.n)
    };
    let (raw_s, raw_n) = total(Side::Raw);
    let (ours_s, ours_n) = total(Side::Ours);
    let raw_rps = raw_n as f64 / raw_s;
    let ours_rps = ours_n as f64 / ours_s;
    let ratio = ours_rps / raw_rps;
    let (http_s, http_n) = total(Side::Http);
    let http_rps = http_n as f64 / http_s;
    println!(
        "{} total: http {:.1} req/s; http/raw = {:.1} % (the product's whole path against the raw limit), \
         http/ours = {:.1} % (what HTTP, authentication, JSON and the idempotency key add to the use case)",
        a.backend.as_str(),
        http_rps,
        http_rps / raw_rps * 100.0,
        http_rps / ours_rps * 100.0
    );
    println!(
        "{} total: raw {:.1} req/s ({:.1} row writes/s), ours {:.1} req/s; ours/raw = {:.1} % (target >= 30 %: {})",
        a.backend.as_str(),
        raw_rps,
        raw_rps * ROW_WRITES as f64,
        ours_rps,
        ratio * 100.0,
        if ratio >= 0.30 { "met" } else { "NOT met" }
    );
    for round in 1..=a.rounds {
        let get = |p: Side| runs.iter().find(|r| r.round == round && r.path == p).map(|r| r.rps(a.n)).unwrap_or(0.0);
        println!(
            "round {round}: ours/raw = {:.1} %, http/raw = {:.1} %",
            get(Side::Ours) / get(Side::Raw) * 100.0,
            get(Side::Http) / get(Side::Raw) * 100.0
        );
    }
    println!("load average at end: {}", loadavg());
    let rounds: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| json!({"round": r.round, "path": r.path.as_str(), "secs": r.secs, "req_per_s": r.rps(a.n), "latency": pcts_json(&r.lat), "cpu": cpu_json(&r.cpu)}))
        .collect();
    println!(
        "{}",
        json!({"bench": "desk-create", "backend": a.backend.as_str(), "n": a.n, "concurrency": a.concurrency,
               "raw_req_per_s": raw_rps, "raw_row_writes_per_s": raw_rps * ROW_WRITES as f64, "ours_req_per_s": ours_rps,
               "ratio": ratio, "http_req_per_s": http_rps, "http_ratio": http_rps / raw_rps, "runs": rounds})
    );
    Ok(())
}

async fn run_create(a: &CreateArgs, path: Side, round: usize) -> anyhow::Result<CreateRun> {
    let place = Place::temp(a.backend, &a.pg_admin_url, &format!("create_{}_{round}", path.as_str()));
    place.destroy().await?;
    place.create().await?;
    let r = async {
        let opts = DbOptions { max_connections: u32::try_from(a.concurrency)?, ..Default::default() };
        let db = Db::connect(&place.url()?, &opts).await?;
        db.migrate().await?;
        let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
        let seed = seed_create(&app).await?;
        let r = match path {
            Side::Ours => create_ours(&app, &seed, a.n, a.concurrency).await,
            Side::Raw => create_raw(&app, &seed, a.n, a.concurrency).await,
            Side::Http => create_http(&app, &seed, a.n, a.concurrency).await,
        };
        let r = match r {
            Ok((secs, lat, cpu)) => {
                verify_created(&db, a.n, path).await?;
                Ok(CreateRun { path, round, secs, lat, cpu })
            }
            Err(e) => Err(e),
        };
        db.close().await;
        r
    }
    .await;
    let d = place.destroy().await;
    let r = r?;
    d?;
    Ok(r)
}

async fn verify_created(db: &Db, n: usize, path: Side) -> anyhow::Result<()> {
    let mut rd = db.read().await?;
    let (reqs, events): (i64, i64) = both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM service_requests), (SELECT COUNT(*) FROM request_events)").fetch_one(c).await)?;
    ensure!(reqs == i64::try_from(n)? && events == reqs, "{}: {reqs} requests, {events} events", path.as_str());
    drop(rd);
    if path != Side::Raw {
        let v = shouhou_store::audit::verify(db, &test_keyring(), &[], 1000, |_, _| {}).await?;
        ensure!(v.first_break.is_none(), "audit chain broken: {:?}", v.first_break);
    }
    Ok(())
}

async fn create_ours(app: &App, seed: &CreateSeed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let form = Arc::new(RequestForm {
        customer_id: seed.customer_id,
        serial_number: Some(seed.serial.clone()),
        request_type: "repair".into(),
        channel: "phone".into(),
        urgency: "normal".into(),
        description: CREATE_DESCRIPTION.into(),
        ..Default::default()
    });
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = cpu_mark();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..conc {
        let (app, ctx, form, next) = (app.clone(), seed.ctx.clone(), form.clone(), next.clone());
        set.spawn(async move {
            let mut lat = vec![];
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                requests::create_request(&app, &ctx, &form).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        });
    }
    let mut lat = vec![];
    while let Some(r) = set.join_next().await {
        lat.extend(r??);
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((secs, pcts(&lat), cpu.since()))
}

/// The same requests through the served product: each of `conc` keep-alive clients logs in once,
/// then posts requests with a fresh `Idempotency-Key` each, as an integration would.
async fn create_http(app: &App, seed: &CreateSeed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = shouhou_web::AppState {
        app: app.clone(),
        secure_cookies: false,
        faults: Default::default(),
        metrics_token: None,
    };
    let server = tokio::spawn(shouhou_web::serve(state, listener, async move {
        let _ = stopped.await;
    }));
    let body = Arc::new(json!({
        "customer_id": seed.customer_id, "serial_number": seed.serial, "type": "repair", "channel": "phone",
        "urgency": "normal", "description": CREATE_DESCRIPTION
    }));
    let mut clients = vec![];
    for _ in 0..conc {
        let c = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        let r = c.post(format!("{base}/api/v1/auth/login")).json(&json!({"username": "admin", "password": PASSWORD}));
        let answer: serde_json::Value = r.send().await?.error_for_status()?.json().await?;
        let token = answer["token"].as_str().ok_or_else(|| anyhow!("no token"))?.to_string();
        clients.push((c, token));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = cpu_mark();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (client, token) in clients {
        let (next, body, url) = (next.clone(), body.clone(), format!("{base}/api/v1/service-requests"));
        set.spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                let r =
                    client.post(&url).bearer_auth(&token).header("idempotency-key", format!("bench-{i}")).json(&*body);
                let status = r.send().await?.status();
                ensure!(status == reqwest::StatusCode::CREATED, "POST answered {status}");
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        });
    }
    let mut lat = vec![];
    while let Some(r) = set.join_next().await {
        lat.extend(r??);
    }
    let secs = start.elapsed().as_secs_f64();
    let used = cpu.since();
    let _ = stop.send(());
    server.await??;
    Ok((secs, pcts(&lat), used))
}

/// Row writes of one request on the raw path: counter upsert, request insert, event insert,
/// request update (SLA cache), audit head update, audit insert, audit head update.
const ROW_WRITES: usize = 7;

/// What the raw program writes, computed once before the clock starts.
struct RawValues {
    day: String,
    day_compact: String,
    customer_id: i64,
    device_id: i64,
    created_by: i64,
    actor_name: String,
    username: String,
    policy_id: i64,
    policy_name: String,
    calendar: String,
    response_min: i64,
    resolution_min: i64,
    now: i64,
    hash: String,
}

const RAW_COUNTER: &str = "INSERT INTO request_counters (day, last) VALUES ($1, 1) \
    ON CONFLICT (day) DO UPDATE SET last = request_counters.last + 1 RETURNING last";
const RAW_REQUEST: &str = "INSERT INTO service_requests (number, customer_id, device_id, request_type, channel, urgency, status, description, \
    fault_code, station_id, assignee_id, created_by, promised_reply_at, calendar_code, policy_id, response_target_min, \
    resolution_target_min, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id";
const RAW_EVENT: &str = "INSERT INTO request_events (request_id, at, actor_id, actor_name, kind, action, from_status, to_status, note, data) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
const RAW_UPDATE: &str = "UPDATE service_requests SET status = $1, first_contact_resolution = COALESCE($2, first_contact_resolution), \
    closed_at = $3, response_due_at = $4, resolution_due_at = $5, response_state = $6, resolution_state = $7, \
    version = version + 1, updated_at = $8, response_warn_at = $11, resolution_warn_at = $12 \
    WHERE id = $9 AND version = $10 RETURNING version";
const RAW_HEAD: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash";
const RAW_AUDIT: &str = "INSERT INTO audit_log (seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const RAW_HEAD_HASH: &str = "UPDATE audit_head SET last_hash = $1 WHERE id = 1";

async fn create_raw(app: &App, seed: &CreateSeed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let actor = seed.ctx.actor()?;
    let policies = {
        let mut rd = app.db.read().await?;
        shouhou_store::sla::active_policies(&mut rd.conn()).await?
    };
    let policy =
        shouhou_domain::sla::select_policy(&policies, RequestType::Repair, Urgency::Normal, CustomerTier::Standard)
            .ok_or_else(|| anyhow!("no policy"))?;
    let now = jiff::Timestamp::now();
    let day = business_day(now);
    let v = Arc::new(RawValues {
        day: day.to_string(),
        day_compact: day.strftime("%Y%m%d").to_string(),
        customer_id: seed.customer_id,
        device_id: seed.device_id,
        created_by: actor.id.0,
        actor_name: actor.display_name.clone(),
        username: actor.username.clone(),
        policy_id: policy.id,
        policy_name: policy.name.clone(),
        calendar: policy.calendar_code.clone(),
        response_min: policy.response_minutes,
        resolution_min: policy.resolution_minutes,
        now: now.as_millisecond(),
        hash: "ab".repeat(32),
    });
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = cpu_mark();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..conc {
        let (db, v, next) = (app.db.clone(), v.clone(), next.clone());
        set.spawn(async move {
            let mut lat = vec![];
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                raw_request(&db, &v).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        });
    }
    let mut lat = vec![];
    while let Some(r) = set.join_next().await {
        lat.extend(r??);
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((secs, pcts(&lat), cpu.since()))
}

/// One request's rows in one transaction, the statements the use case writes, nothing else.
async fn raw_request(db: &Db, v: &RawValues) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let last: i64 = both!(&mut c, c => sqlx::query_scalar(RAW_COUNTER).bind(&v.day).fetch_one(c).await)?;
    let number = format!("SR-{}-{last:04}", v.day_compact);
    let id: i64 = both!(&mut c, c => sqlx::query_scalar(RAW_REQUEST)
        .bind(&number).bind(v.customer_id).bind(Some(v.device_id)).bind("repair").bind("phone").bind("normal")
        .bind("new").bind(CREATE_DESCRIPTION).bind(None::<&str>).bind(None::<i64>).bind(None::<i64>).bind(Some(v.created_by))
        .bind(None::<i64>).bind(&v.calendar).bind(Some(v.policy_id)).bind(v.response_min).bind(v.resolution_min).bind(v.now)
        .fetch_one(c).await)?;
    let data = format!(r#"{{"number":"{number}","policy":"{}"}}"#, v.policy_name);
    let _event: i64 = both!(&mut c, c => sqlx::query_scalar(RAW_EVENT)
        .bind(id).bind(v.now).bind(Some(v.created_by)).bind(&v.actor_name).bind("created").bind(None::<&str>)
        .bind(None::<&str>).bind(Some("new")).bind("").bind(&data)
        .fetch_one(c).await)?;
    let resp_due = v.now + v.response_min * 60_000;
    let resol_due = v.now + v.resolution_min * 60_000;
    let _version: Option<i64> = both!(&mut c, c => sqlx::query_scalar(RAW_UPDATE)
        .bind("new").bind(None::<bool>).bind(None::<i64>).bind(Some(resp_due)).bind(Some(resol_due))
        .bind("running").bind("running").bind(v.now).bind(id).bind(1i64)
        .bind(Some(v.now + v.response_min * 48_000)).bind(Some(v.now + v.resolution_min * 48_000))
        .fetch_optional(c).await)?;
    let (seq, prev): (i64, String) = both!(&mut c, c => sqlx::query_as(RAW_HEAD).fetch_one(c).await)?;
    let detail = format!(
        r#"{{"customer_id":{},"first_contact_resolution":false,"number":"{number}","type":"repair"}}"#,
        v.customer_id
    );
    both!(&mut c, c => sqlx::query(RAW_AUDIT)
        .bind(seq).bind(v.now).bind(Some(v.created_by)).bind(&v.username).bind("request.create").bind("service_request")
        .bind(Some(id.to_string())).bind(&detail).bind("bench").bind("").bind(&prev).bind(&v.hash)
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(&mut c, c => sqlx::query(RAW_HEAD_HASH).bind(&v.hash).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

// =====================================================================================
// screen pop: data generation
// =====================================================================================

/// splitmix64: tiny, fast, and the same sequence everywhere for a seed.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    /// Uniform in lo..hi (hi > lo).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as usize) as i64
    }
    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn weighted<T: Copy>(&mut self, xs: &[(T, usize)]) -> T {
        let total: usize = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total);
        for &(v, w) in xs {
            if r < w {
                return v;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }
}

// Stream numbers of the generator: each kind of value has its own sequence, so the plan can be
// rebuilt for a kept data set without generating the rows again.
const S_PHONES: u64 = 1;
const S_CUSTOMERS: u64 = 2;
const S_CONTACTS: u64 = 3;
const S_DEVICES: u64 = 4;
const S_REQUESTS: u64 = 5;
const S_LOOKUPS: u64 = 6;
const S_CUSTOMER_ROWS: u64 = 11;
const S_CONTACT_ROWS: u64 = 12;
const S_DEVICE_ROWS: u64 = 13;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆",
    "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛",
    "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武",
    "戴", "莫", "孔", "向", "汤", "欧阳", "司马", "诸葛", "上官", "慕容",
];
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建文辉力鹏宇浩然子涵欣怡梓轩雨博佳琪思远晨阳嘉一诺俊诗婷雪梅海燕志永春金凤立新国庆丹晓东小瑞祥福林波斌宁蕾颖倩慧琳莉雯露瑶璐晶鑫淼彤昊泽睿铭航凯鸿飞振宏峰亮健龙翔";
const BRANDS: &[&str] = &[
    "华信", "鼎盛", "恒通", "宏远", "金桥", "东方", "瑞丰", "中联", "天成", "新锐", "博远", "汇通", "盛达", "长城",
    "万达", "永信", "启明", "星河", "海纳", "云帆",
];
const INDUSTRIES: &[&str] = &[
    "通信工程",
    "网络科技",
    "电子",
    "信息技术",
    "电力设备",
    "建设工程",
    "数据服务",
    "安防科技",
    "物业管理",
    "智能科技",
];
const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "朝阳路",
    "长江路",
    "黄河路",
    "文化路",
    "青年路",
    "工业大道",
    "科技园路",
    "世纪大道",
    "滨江路",
    "学府路",
    "光明街",
    "幸福路",
    "复兴路",
];
const COMMUNITIES: &[&str] =
    &["阳光花园", "碧桂园", "万科城", "金色家园", "翠苑小区", "幸福里", "锦绣华庭", "书香门第", "御景湾", "东方明珠苑"];
const DEALERS: &[&str] = &[
    "深圳华强电子有限公司",
    "广州天河通信器材有限公司",
    "北京中关村科技贸易有限公司",
    "上海浦东网络设备有限公司",
    "成都天府通信技术有限公司",
    "武汉光谷电子有限公司",
    "杭州西湖数码有限公司",
    "南京新街口电器有限公司",
];
const FAULT_CODES: &[&str] = &["E101", "E205", "LOS", "PWR-01", "FAN-02", "TEMP-03", "LINK-04"];

/// (code, name, product line, warranty months, serial prefix)
const MODELS: &[(&str, &str, &str, i64, &str)] = &[
    ("XG-5000", "光传输设备", "光传输", 12, "21XG5K"),
    ("XG-8800", "核心路由器", "数据通信", 24, "21XG88"),
    ("HW-S5735", "园区交换机", "数据通信", 12, "2102S57"),
    ("ZX-OLT600", "光线路终端", "宽带接入", 12, "ZXOLT6"),
    ("ZX-ONU20", "家庭光猫", "宽带接入", 12, "ZXONU2"),
    ("PD-UPS10K", "不间断电源", "动力配套", 18, "PDU10K"),
    ("PD-UPS3K", "小型不间断电源", "动力配套", 18, "PDU03K"),
    ("XG-2200", "接入路由器", "数据通信", 12, "21XG22"),
    ("HW-AP7060", "无线接入点", "无线局域网", 12, "21AP76"),
    ("HW-AC6805", "无线控制器", "无线局域网", 24, "21AC68"),
    ("ZX-BBU5216", "基站基带单元", "无线接入", 24, "ZXBBU5"),
    ("ZX-RRU8861", "射频拉远单元", "无线接入", 24, "ZXRRU8"),
    ("DH-NVR4216", "网络硬盘录像机", "视频监控", 12, "DHNVR4"),
    ("DH-IPC2431", "网络摄像机", "视频监控", 12, "DHIPC2"),
    ("HK-DS7808", "安防控制主机", "视频监控", 12, "HKDS78"),
    ("PD-BAT100", "蓄电池组", "动力配套", 36, "PDB100"),
    ("PD-AC12K", "精密空调", "动力配套", 24, "PDAC12"),
    ("XG-FW600", "防火墙", "网络安全", 12, "21FW60"),
    ("XG-LB300", "负载均衡器", "网络安全", 12, "21LB30"),
    ("SV-R2288", "机架服务器", "服务器", 36, "SVR228"),
    ("SV-T1100", "塔式服务器", "服务器", 36, "SVT110"),
    ("ST-OS5500", "存储阵列", "存储", 36, "STOS55"),
    ("ZX-ONU60", "企业光网关", "宽带接入", 12, "ZXONU6"),
    ("HW-S1720", "接入交换机", "数据通信", 12, "21S172"),
];

/// (code, name, region, address, phone): the demo's stations.
const STATIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("SZ-NS01", "深圳南山服务站", "440305", "深圳市南山区科技园南区高新南七道 18 号", "0755-26581234"),
    ("GZ-TH01", "广州天河服务站", "440106", "广州市天河区天河北路 233 号中信广场 15 楼", "020-38771256"),
    ("BJ-CY01", "北京朝阳服务站", "110105", "北京市朝阳区建国路 88 号 SOHO 现代城 B 座", "010-85803321"),
    ("SH-PD01", "上海浦东服务站", "310115", "上海市浦东新区张江高科技园区碧波路 690 号", "021-50801178"),
    ("CD-WH01", "成都武侯服务站", "510107", "成都市武侯区天府大道北段 1700 号环球中心", "028-85336610"),
    ("WH-HS01", "武汉洪山服务站", "420111", "武汉市洪山区珞喻路 1037 号光谷创业街 6 栋", "027-87541902"),
];

/// Mobile prefixes in use in mainland China (1[3-9]x).
const MOBILE_PREFIXES: &[u64] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 149, 150, 151, 152, 153, 155, 156, 157, 158, 159, 166,
    170, 171, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 193, 195, 196, 197, 198,
    199,
];

const REQUEST_TYPES: &[(RequestType, usize)] = &[
    (RequestType::Repair, 45),
    (RequestType::Consultation, 20),
    (RequestType::Maintenance, 8),
    (RequestType::Installation, 7),
    (RequestType::Upgrade, 5),
    (RequestType::Complaint, 4),
    (RequestType::Delivery, 3),
    (RequestType::ReturnExchange, 3),
    (RequestType::Suggestion, 3),
    (RequestType::Training, 2),
];
const CHANNELS: &[(&str, usize)] = &[
    ("phone", 50),
    ("wechat", 20),
    ("web", 10),
    ("qr_code", 8),
    ("chat", 4),
    ("email", 3),
    ("dealer", 3),
    ("walk_in", 2),
];
const URGENCIES: &[(Urgency, usize)] =
    &[(Urgency::Normal, 60), (Urgency::High, 20), (Urgency::Low, 12), (Urgency::Urgent, 8)];
const OPEN_STATUSES: &[(&str, usize)] = &[
    ("new", 15),
    ("accepted", 20),
    ("responded", 20),
    ("in_progress", 25),
    ("waiting_customer", 10),
    ("resolved", 7),
    ("reopened", 3),
];
const TIERS: &[&str] = &["standard", "key", "vip"];

fn descriptions(t: RequestType) -> &'static [&'static str] {
    match t {
        RequestType::Repair => &[
            "设备无法开机，电源指示灯不亮",
            "光模块 LOS 告警，业务中断",
            "风扇噪音异常，伴有温度告警",
            "端口频繁 up/down，用户掉线",
            "设备重启后无法进入系统",
            "电池鼓包，需要更换",
            "屏幕花屏，按键无响应",
        ],
        RequestType::Consultation => {
            &["咨询保修期如何计算", "咨询 VLAN 配置方法", "咨询固件升级步骤", "咨询备件价格与到货时间"]
        }
        RequestType::Installation => &["新购设备上门安装调试", "机房搬迁后重新安装"],
        RequestType::Maintenance => &["年度例行保养", "首次保养预约"],
        RequestType::Upgrade => &["系统升级到 V3.2", "固件版本升级"],
        RequestType::Delivery => &["备件配送进度查询"],
        RequestType::Complaint => &["投诉工程师上门迟到", "投诉维修后故障复现"],
        RequestType::Suggestion => &["建议增加微信报修入口"],
        RequestType::ReturnExchange => &["新机到货即损坏，申请换货"],
        RequestType::Training => &["申请设备操作培训"],
    }
}

struct Region {
    code: &'static str,
    /// "广东省深圳市南山区"
    full: String,
    /// "深圳市"
    city: String,
}

fn regions() -> Vec<Region> {
    const AREAS: &str = include_str!("../../data/regions-cn/areas.csv");
    AREAS
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|code| {
            let name = shouhou_domain::regions::region_name(code);
            if name == code {
                return None;
            }
            let parts: Vec<&str> = name.split(' ').collect();
            let city = if parts.len() >= 2 { parts[parts.len() - 2] } else { parts[0] }.to_string();
            Some(Region { code, full: parts.concat(), city })
        })
        .collect()
}

/// Everything about the data set that is needed beyond one row: phones (for look-ups and misses),
/// who owns which device, stations, regions and tiers (for the requests). Built from the seed alone.
struct Plan {
    seed: u64,
    customers: usize,
    devices: usize,
    requests: usize,
    /// The first customers are companies, the key accounts with many devices and requests.
    key_accounts: usize,
    phone: Vec<u64>,
    phone_set: HashSet<u64>,
    /// (customer index, phone), ordered by customer.
    contacts: Vec<(u32, u64)>,
    /// Index into `STATIONS` + 1; 0 for none.
    station: Vec<u8>,
    region: Vec<u16>,
    tier: Vec<u8>,
    dev_customer: Vec<u32>,
    dev_model: Vec<u8>,
    dev_serial: Vec<u32>,
    /// Devices of a customer: `cust_dev[cust_dev_start[c]..cust_dev_start[c + 1]]`.
    cust_dev_start: Vec<u32>,
    cust_dev: Vec<u32>,
    regions: Vec<Region>,
}

impl Plan {
    fn build(seed: u64, customers: usize, devices: usize, requests: usize) -> anyhow::Result<Plan> {
        ensure!(customers > 0 && devices > 0, "at least one customer and one device");
        ensure!(customers < u32::MAX as usize && devices < u32::MAX as usize, "too many rows");
        let regions = regions();
        ensure!(regions.len() < u16::MAX as usize && !regions.is_empty(), "region table");
        let key_accounts = (customers / 100).max(1);
        let n_contacts = customers / 10;

        let mut rng = Rng::new(seed, S_PHONES);
        let mut phone_set = HashSet::with_capacity(customers + n_contacts);
        let mut fresh_phone = |rng: &mut Rng| loop {
            let p = rng.pick(MOBILE_PREFIXES) * 100_000_000 + rng.below(100_000_000) as u64;
            if phone_set.insert(p) {
                break p;
            }
        };
        let phone: Vec<u64> = (0..customers).map(|_| fresh_phone(&mut rng)).collect();
        // Contacts: an operator (机手) for every key account, other contacts of random customers.
        let mut crng = Rng::new(seed, S_CONTACTS);
        let mut contacts: Vec<(u32, u64)> = (0..n_contacts)
            .map(|k| {
                let c = if k < key_accounts { k } else { crng.below(customers) };
                (c as u32, fresh_phone(&mut rng))
            })
            .collect();
        contacts.sort_by_key(|c| c.0);

        // Station and region: two thirds of customers live in a station's city and are its customers.
        let by_station: Vec<Vec<u16>> = STATIONS
            .iter()
            .map(|s| {
                regions.iter().enumerate().filter(|(_, r)| r.code[..4] == s.2[..4]).map(|(i, _)| i as u16).collect()
            })
            .collect();
        let mut rng = Rng::new(seed, S_CUSTOMERS);
        let mut station = Vec::with_capacity(customers);
        let mut region = Vec::with_capacity(customers);
        let mut tier = Vec::with_capacity(customers);
        for i in 0..customers {
            if rng.percent(65) {
                let s = rng.below(STATIONS.len());
                station.push(s as u8 + 1);
                region.push(*rng.pick(&by_station[s]));
            } else {
                station.push(0);
                region.push(rng.below(regions.len()) as u16);
            }
            tier.push(if i < key_accounts {
                if rng.percent(70) { 1 } else { 2 }
            } else {
                rng.weighted(&[(0u8, 92), (1, 5), (2, 3)])
            });
        }

        // Devices: one per customer first, the rest to key accounts (30 %) or anyone.
        let mut rng = Rng::new(seed, S_DEVICES);
        let mut dev_customer = Vec::with_capacity(devices);
        let mut dev_model = Vec::with_capacity(devices);
        let mut dev_serial = Vec::with_capacity(devices);
        let mut per_model = vec![0u32; MODELS.len()];
        for d in 0..devices {
            let c = if d < customers {
                d
            } else if rng.percent(30) {
                rng.below(key_accounts)
            } else {
                rng.below(customers)
            };
            let m = if c < key_accounts { rng.below(MODELS.len()) } else { rng.below(MODELS.len().min(8)) };
            per_model[m] += 1;
            dev_customer.push(c as u32);
            dev_model.push(m as u8);
            dev_serial.push(per_model[m]);
        }
        let mut counts = vec![0u32; customers + 1];
        for &c in &dev_customer {
            counts[c as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut cust_dev = vec![0u32; devices];
        for (d, &c) in dev_customer.iter().enumerate() {
            cust_dev[fill[c as usize] as usize] = d as u32;
            fill[c as usize] += 1;
        }
        Ok(Plan {
            seed,
            customers,
            devices,
            requests,
            key_accounts,
            phone,
            phone_set,
            contacts,
            station,
            region,
            tier,
            dev_customer,
            dev_model,
            dev_serial,
            cust_dev_start: counts,
            cust_dev,
            regions,
        })
    }

    fn devices_of(&self, c: usize) -> &[u32] {
        &self.cust_dev[self.cust_dev_start[c] as usize..self.cust_dev_start[c + 1] as usize]
    }

    fn serial(&self, d: usize) -> String {
        format!("{}{:08}", MODELS[self.dev_model[d] as usize].4, self.dev_serial[d])
    }
}

/// Ids of the reference rows created through the application.
#[derive(Clone)]
struct Refs {
    model_ids: Vec<i64>,
    station_ids: Vec<i64>,
    agent_id: i64,
    policies: Vec<shouhou_store::sla::Policy>,
}

impl Refs {
    fn station(&self, s: u8) -> Option<i64> {
        (s > 0).then(|| self.station_ids[s as usize - 1])
    }
}

async fn seed_reference(app: &App) -> anyhow::Result<()> {
    let ctx = bootstrap_admin(app).await?;
    for (code, name, region, address, phone) in STATIONS {
        shouhou_app::stations::create_station(
            app,
            &ctx,
            &StationForm {
                code: (*code).into(),
                name: (*name).into(),
                region_code: (*region).into(),
                address: (*address).into(),
                phone: Some((*phone).into()),
            },
        )
        .await?;
    }
    for (username, name, role) in [("agent", "刘芳", "agent"), ("finance", "郑丽", "finance")] {
        shouhou_app::users::create_user(
            app,
            &ctx,
            &UserForm {
                username: username.into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                locale: "zh-CN".into(),
                roles: vec![role.into()],
                stations: vec![],
            },
        )
        .await?;
    }
    for (code, name, line, months, _) in MODELS {
        products::create_product_model(
            app,
            &ctx,
            &ProductModelForm {
                code: (*code).into(),
                name: (*name).into(),
                product_line: (*line).into(),
                warranty_months: Some(*months),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

async fn load_refs(app: &App) -> anyhow::Result<Refs> {
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut model_ids = vec![];
    for (code, ..) in MODELS {
        let m = shouhou_store::products::model_by_code(&mut c, code).await?.ok_or_else(|| anyhow!("model {code}"))?;
        model_ids.push(m.id);
    }
    let mut station_ids = vec![];
    for (code, ..) in STATIONS {
        let s =
            shouhou_store::stations::station_by_code(&mut c, code).await?.ok_or_else(|| anyhow!("station {code}"))?;
        station_ids.push(s.id);
    }
    let agent = shouhou_store::users::user_by_username(&mut c, "agent").await?.ok_or_else(|| anyhow!("agent"))?;
    let policies = shouhou_store::sla::active_policies(&mut c).await?;
    Ok(Refs { model_ids, station_ids, agent_id: agent.id, policies })
}

/// A value of a generated row.
enum V {
    I(i64),
    NI(Option<i64>),
    S(String),
    St(&'static str),
    NS(Option<String>),
    NSt(Option<&'static str>),
    B(bool),
}

struct Table {
    name: &'static str,
    cols: &'static [&'static str],
}

const T_CUSTOMERS: Table = Table {
    name: "customers",
    cols: &[
        "kind",
        "name_enc",
        "name_mask",
        "phone_enc",
        "phone_idx",
        "phone_mask",
        "credit_code",
        "region_code",
        "address_enc",
        "tier",
        "station_id",
        "created_by",
        "version",
        "created_at",
        "updated_at",
    ],
};
const T_CONTACTS: Table = Table {
    name: "customer_contacts",
    cols: &["customer_id", "role", "name_enc", "name_mask", "phone_enc", "phone_idx", "phone_mask", "created_at"],
};
const T_DEVICES: Table = Table {
    name: "devices",
    cols: &[
        "serial_number",
        "model_id",
        "customer_id",
        "sale_date",
        "install_region_code",
        "install_address_enc",
        "dealer_name",
        "contract_until",
        "station_id",
        "version",
        "created_at",
        "updated_at",
    ],
};
const T_REQUESTS: Table = Table {
    name: "service_requests",
    cols: &[
        "number",
        "customer_id",
        "device_id",
        "request_type",
        "channel",
        "urgency",
        "status",
        "description",
        "fault_code",
        "station_id",
        "assignee_id",
        "created_by",
        "first_contact_resolution",
        "promised_reply_at",
        "calendar_code",
        "policy_id",
        "response_target_min",
        "resolution_target_min",
        "response_due_at",
        "resolution_due_at",
        "response_state",
        "resolution_state",
        "version",
        "created_at",
        "updated_at",
        "closed_at",
        "response_warn_at",
        "resolution_warn_at",
    ],
};
const T_COUNTERS: Table = Table { name: "request_counters", cols: &["day", "last"] };
const BULK_TABLES: &[&str] = &["customers", "customer_contacts", "devices", "service_requests"];

struct Batch {
    rows: usize,
    vals: Vec<V>,
}

/// Streams rows of one table in batches to the loader.
struct Out {
    tx: mpsc::Sender<Batch>,
    batch_rows: usize,
    cur: Batch,
    width: usize,
}

impl Out {
    fn new(tx: mpsc::Sender<Batch>, batch_rows: usize, width: usize) -> Out {
        Out { tx, batch_rows, cur: Batch { rows: 0, vals: Vec::with_capacity(batch_rows * width) }, width }
    }
    fn push(&mut self, v: V) {
        self.cur.vals.push(v);
    }
    fn end_row(&mut self) -> anyhow::Result<()> {
        self.cur.rows += 1;
        if self.cur.rows >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        if self.cur.rows > 0 {
            let b = std::mem::replace(
                &mut self.cur,
                Batch { rows: 0, vals: Vec::with_capacity(self.batch_rows * self.width) },
            );
            self.tx.blocking_send(b).map_err(|_| anyhow!("the loader stopped"))?;
        }
        Ok(())
    }
}

/// What the generators share.
struct Gen {
    plan: Arc<Plan>,
    refs: Refs,
    keys: Keyring,
    now: i64,
}

fn person_name(rng: &mut Rng, given: &[char]) -> String {
    let skew = rng.below(SURNAMES.len()) + 1;
    let s = SURNAMES[rng.below(skew)];
    let mut n = s.to_string();
    for _ in 0..(if rng.percent(30) { 1 } else { 2 }) {
        n.push(*rng.pick(given));
    }
    n
}

fn address(rng: &mut Rng, r: &Region) -> String {
    format!(
        "{}{}{}号{}{}栋{}单元{}室",
        r.full,
        rng.pick(STREETS),
        rng.range(1, 999),
        rng.pick(COMMUNITIES),
        rng.range(1, 30),
        rng.range(1, 6),
        rng.range(1, 33) * 100 + rng.range(1, 5)
    )
}

/// A valid unified social credit code (GB 32100-2015), unique per company index.
fn credit_code(i: usize, region: &str) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let body = format!("91{region}{:09}", 100_000_000 + i);
    let sum: u32 = body.bytes().zip(W).map(|(b, w)| CHARS.iter().position(|&c| c == b).unwrap_or(0) as u32 * w).sum();
    let check = CHARS[((31 - sum % 31) % 31) as usize] as char;
    format!("{body}{check}")
}

fn date_of(ms: i64) -> anyhow::Result<jiff::civil::Date> {
    Ok(business_day(jiff::Timestamp::from_millisecond(ms)?))
}

fn gen_customers(g: &Gen, out: &mut Out) -> anyhow::Result<()> {
    let p = &g.plan;
    let given: Vec<char> = GIVEN.chars().collect();
    let mut rng = Rng::new(p.seed, S_CUSTOMER_ROWS);
    let span = 5 * YEAR_MS;
    for i in 0..p.customers {
        let r = &p.regions[p.region[i] as usize];
        let company = i < p.key_accounts;
        let name = if company {
            format!("{}{}{}有限公司", r.city, rng.pick(BRANDS), rng.pick(INDUSTRIES))
        } else {
            person_name(&mut rng, &given)
        };
        let phone = p.phone[i].to_string();
        let created = g.now - span + (i as i64) * (span / p.customers as i64);
        out.push(V::St(if company { "company" } else { "person" }));
        out.push(V::S(g.keys.encrypt(&name)?));
        out.push(V::S(mask_name(&name)));
        out.push(V::S(g.keys.encrypt(&phone)?));
        out.push(V::S(g.keys.blind_index(&phone)));
        out.push(V::S(mask_phone(&phone)));
        out.push(V::NS(company.then(|| credit_code(i, r.code))));
        out.push(V::St(r.code));
        out.push(V::S(g.keys.encrypt(&address(&mut rng, r))?));
        out.push(V::St(TIERS[p.tier[i] as usize]));
        out.push(V::NI(g.refs.station(p.station[i])));
        out.push(V::NI(None));
        out.push(V::I(1));
        out.push(V::I(created));
        out.push(V::I(created));
        out.end_row()?;
    }
    out.flush()
}

fn gen_contacts(g: &Gen, out: &mut Out) -> anyhow::Result<()> {
    let p = &g.plan;
    let given: Vec<char> = GIVEN.chars().collect();
    let mut rng = Rng::new(p.seed, S_CONTACT_ROWS);
    for &(c, phone) in &p.contacts {
        let name = person_name(&mut rng, &given);
        let phone = phone.to_string();
        out.push(V::I(i64::from(c) + 1));
        out.push(V::St(if (c as usize) < p.key_accounts { "operator" } else { "contact" }));
        out.push(V::S(g.keys.encrypt(&name)?));
        out.push(V::S(mask_name(&name)));
        out.push(V::S(g.keys.encrypt(&phone)?));
        out.push(V::S(g.keys.blind_index(&phone)));
        out.push(V::S(mask_phone(&phone)));
        out.push(V::I(g.now - rng.range(0, 3 * YEAR_MS)));
        out.end_row()?;
    }
    out.flush()
}

fn gen_devices(g: &Gen, out: &mut Out) -> anyhow::Result<()> {
    let p = &g.plan;
    let mut rng = Rng::new(p.seed, S_DEVICE_ROWS);
    for d in 0..p.devices {
        let c = p.dev_customer[d] as usize;
        let r = &p.regions[p.region[c] as usize];
        let sale = g.now - rng.range(30 * DAY_MS, 5 * YEAR_MS);
        let sale_date = date_of(sale)?;
        let contract = if rng.percent(15) { Some(date_of(sale + 3 * YEAR_MS)?.to_string()) } else { None };
        let install = if rng.percent(30) { Some(g.keys.encrypt(&address(&mut rng, r))?) } else { None };
        let dealer = if rng.percent(50) { Some(*rng.pick(DEALERS)) } else { None };
        let created = sale + rng.range(0, 20 * DAY_MS);
        out.push(V::S(p.serial(d)));
        out.push(V::I(g.refs.model_ids[p.dev_model[d] as usize]));
        out.push(V::I(c as i64 + 1));
        out.push(V::S(sale_date.to_string()));
        out.push(V::St(r.code));
        out.push(V::NS(install));
        out.push(V::NSt(dealer));
        out.push(V::NS(contract));
        out.push(V::NI(g.refs.station(p.station[c])));
        out.push(V::I(1));
        out.push(V::I(created));
        out.push(V::I(created));
        out.end_row()?;
    }
    out.flush()
}

/// The policy the service would pick, by (type, urgency, tier), as static values.
#[derive(Clone, Copy)]
struct Pick {
    id: i64,
    calendar: &'static str,
    response_min: i64,
    resolution_min: i64,
}

fn policy_picks(refs: &Refs) -> anyhow::Result<HashMap<(&'static str, &'static str, &'static str), Pick>> {
    let mut calendars: HashMap<String, &'static str> = HashMap::new();
    let mut out = HashMap::new();
    for &(t, _) in REQUEST_TYPES {
        for &(u, _) in URGENCIES {
            for tier in TIERS {
                let p = shouhou_domain::sla::select_policy(
                    &refs.policies,
                    t,
                    u,
                    CustomerTier::parse("tier", tier).map_err(|e| anyhow!("tier {tier}: {}", e.code))?,
                )
                .ok_or_else(|| anyhow!("no policy"))?;
                let cal = *calendars
                    .entry(p.calendar_code.clone())
                    .or_insert_with(|| Box::leak(p.calendar_code.clone().into_boxed_str()));
                out.insert(
                    (t.as_str(), u.as_str(), *tier),
                    Pick {
                        id: p.id,
                        calendar: cal,
                        response_min: p.response_minutes,
                        resolution_min: p.resolution_minutes,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Requests in time order over three years up to now, so that the per-day numbers (and the
/// unique index on them) grow in order. Returns the last counter of every day.
fn gen_requests(g: &Gen, out: &mut Out) -> anyhow::Result<Vec<(String, i64)>> {
    let p = &g.plan;
    let picks = policy_picks(&g.refs)?;
    let mut rng = Rng::new(p.seed, S_REQUESTS);
    let span = 3 * YEAR_MS;
    let start = g.now - span;
    let step = span / p.requests.max(1) as i64;
    let mut counters: Vec<(String, i64)> = vec![];
    let mut cur_day = i64::MIN;
    let mut day: Option<jiff::civil::Date> = None;
    let mut counter = 0i64;
    for i in 0..p.requests {
        let t = start + i as i64 * step + rng.range(0, step.max(1));
        let d = (t + 8 * 3_600_000).div_euclid(DAY_MS);
        if d != cur_day {
            if let Some(prev) = day {
                counters.push((prev.to_string(), counter));
            }
            cur_day = d;
            day = Some(date_of(t)?);
            counter = 0;
        }
        counter += 1;
        let number = format_request_number(day.ok_or_else(|| anyhow!("no day"))?, counter as u64);
        let c = if rng.percent(10) { rng.below(p.key_accounts) } else { rng.below(p.customers) };
        let devs = p.devices_of(c);
        let device = if !devs.is_empty() && rng.percent(85) { Some(i64::from(*rng.pick(devs)) + 1) } else { None };
        let rtype = rng.weighted(REQUEST_TYPES);
        let descs = descriptions(rtype);
        let urgency = rng.weighted(URGENCIES);
        let tier = TIERS[p.tier[c] as usize];
        let pick = *picks.get(&(rtype.as_str(), urgency.as_str(), tier)).ok_or_else(|| anyhow!("no policy pick"))?;
        let age = g.now - t;
        let open_p = if age < 2 * DAY_MS {
            70
        } else if age < 14 * DAY_MS {
            30
        } else if age < 45 * DAY_MS {
            8
        } else {
            0
        };
        let resp_due = t + pick.response_min * 60_000;
        let resol_due = t + pick.resolution_min * 60_000;
        let fcr = rtype == RequestType::Consultation && rng.percent(30);
        let (status, version, updated, closed, rdue, sdue, rstate, sstate, rwarn, swarn);
        if rng.percent(open_p) {
            status = rng.weighted(OPEN_STATUSES);
            let responded = !matches!(status, "new" | "accepted");
            version = 1 + rng.range(1, 6);
            updated = t + rng.range(0, age.max(1));
            closed = None;
            rdue = (!responded).then_some(resp_due);
            rstate = if responded {
                "met"
            } else if resp_due < g.now {
                "breached"
            } else {
                "running"
            };
            let paused = status == "waiting_customer";
            let stopped = status == "resolved";
            sdue = (!paused && !stopped).then_some(resol_due);
            sstate = if stopped {
                "met"
            } else if resol_due < g.now {
                "breached"
            } else if paused {
                "paused"
            } else {
                "running"
            };
            rwarn = (rstate == "running").then_some(t + pick.response_min * 48_000);
            swarn = (sstate == "running").then_some(t + pick.resolution_min * 48_000);
        } else {
            let cancelled = rng.percent(4);
            status = if cancelled { "cancelled" } else { "closed" };
            version = if cancelled { 3 } else { 7 };
            let done = (t + rng.range(3_600_000, 10 * DAY_MS)).min(g.now);
            updated = done;
            closed = Some(done);
            rdue = None;
            sdue = None;
            rstate = if rng.percent(92) { "met" } else { "missed" };
            sstate = if rng.percent(85) { "met" } else { "missed" };
            rwarn = None;
            swarn = None;
        }
        out.push(V::S(number));
        out.push(V::I(c as i64 + 1));
        out.push(V::NI(device));
        out.push(V::St(rtype.as_str()));
        out.push(V::St(rng.weighted(CHANNELS)));
        out.push(V::St(urgency.as_str()));
        out.push(V::St(status));
        out.push(V::St(descs[rng.below(descs.len())]));
        out.push(V::NSt((rtype == RequestType::Repair && rng.percent(60)).then(|| *rng.pick(FAULT_CODES))));
        out.push(V::NI(g.refs.station(p.station[c])));
        out.push(V::NI(None));
        out.push(V::NI(Some(g.refs.agent_id)));
        out.push(V::B(fcr));
        out.push(V::NI(None));
        out.push(V::St(pick.calendar));
        out.push(V::NI(Some(pick.id)));
        out.push(V::I(pick.response_min));
        out.push(V::I(pick.resolution_min));
        out.push(V::NI(rdue));
        out.push(V::NI(sdue));
        out.push(V::St(rstate));
        out.push(V::St(sstate));
        out.push(V::I(version));
        out.push(V::I(t));
        out.push(V::I(updated));
        out.push(V::NI(closed));
        out.push(V::NI(rwarn));
        out.push(V::NI(swarn));
        out.end_row()?;
    }
    if let Some(prev) = day {
        counters.push((prev.to_string(), counter));
    }
    out.flush()?;
    Ok(counters)
}

fn gen_counters(counters: &[(String, i64)], out: &mut Out) -> anyhow::Result<()> {
    for (day, last) in counters {
        out.push(V::S(day.clone()));
        out.push(V::I(*last));
        out.end_row()?;
    }
    out.flush()
}

#[derive(Clone, Copy)]
enum Kind {
    Customers,
    Contacts,
    Devices,
    Requests,
}

impl Kind {
    fn table(self) -> &'static Table {
        match self {
            Kind::Customers => &T_CUSTOMERS,
            Kind::Contacts => &T_CONTACTS,
            Kind::Devices => &T_DEVICES,
            Kind::Requests => &T_REQUESTS,
        }
    }
    fn rows(self, p: &Plan) -> usize {
        match self {
            Kind::Customers => p.customers,
            Kind::Contacts => p.contacts.len(),
            Kind::Devices => p.devices,
            Kind::Requests => p.requests,
        }
    }
}

/// Start the generator of a table on a thread of its own; its rows come out of the receiver.
type GenHandle = std::thread::JoinHandle<anyhow::Result<Vec<(String, i64)>>>;

fn spawn_gen(g: Arc<Gen>, kind: Kind, batch_rows: usize) -> (mpsc::Receiver<Batch>, GenHandle) {
    let (tx, rx) = mpsc::channel(8);
    let h = std::thread::spawn(move || {
        let mut out = Out::new(tx, batch_rows, kind.table().cols.len());
        match kind {
            Kind::Customers => gen_customers(&g, &mut out).map(|_| vec![]),
            Kind::Contacts => gen_contacts(&g, &mut out).map(|_| vec![]),
            Kind::Devices => gen_devices(&g, &mut out).map(|_| vec![]),
            Kind::Requests => gen_requests(&g, &mut out),
        }
    });
    (rx, h)
}

fn join_gen(h: GenHandle) -> anyhow::Result<Vec<(String, i64)>> {
    h.join().map_err(|_| anyhow!("generator thread panicked"))?
}

#[derive(Debug, Clone)]
struct Phase {
    name: String,
    rows: u64,
    secs: f64,
    cpu: Option<CpuUse>,
}

impl Phase {
    /// A phase that writes no rows (an index build, a check) begun at `started`: printed and recorded.
    fn record_rowless(name: String, started: Instant, phases: &mut Vec<Phase>) {
        let ph = Phase { name, rows: 0, secs: started.elapsed().as_secs_f64(), cpu: None };
        ph.print();
        phases.push(ph);
    }

    fn print(&self) {
        if self.rows > 0 {
            println!(
                "  {:<40} {:>11} rows {:>8.1} s {:>10.0} rows/s",
                self.name,
                self.rows,
                self.secs,
                self.rows as f64 / self.secs.max(1e-9)
            );
            if let Some(c) = &self.cpu {
                println!("  {:<40} {c}", "");
            }
        } else {
            println!("  {:<40} {:>16} {:>8.1} s", self.name, "", self.secs);
        }
    }
}

// ---------- SQLite bulk load ----------

fn bind_v<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    v: V,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
    match v {
        V::I(x) => q.bind(x),
        V::NI(x) => q.bind(x),
        V::S(s) => q.bind(s),
        V::St(s) => q.bind(s),
        V::NS(s) => q.bind(s),
        V::NSt(s) => q.bind(s),
        V::B(b) => q.bind(b),
    }
}

fn insert_sql(t: &Table, rows: usize) -> String {
    let one = format!("({})", vec!["?"; t.cols.len()].join(","));
    format!("INSERT INTO {} ({}) VALUES {}", t.name, t.cols.join(", "), vec![one; rows].join(","))
}

async fn sqlite_table(
    conn: &mut SqliteConnection,
    t: &'static Table,
    total: usize,
    mut rx: mpsc::Receiver<Batch>,
    txn_rows: usize,
) -> anyhow::Result<Phase> {
    let pb = bar(total as u64, t.name)?;
    let cpu = cpu_mark();
    let start = Instant::now();
    let mut sqls: HashMap<usize, Arc<str>> = HashMap::new();
    let mut in_txn = 0usize;
    let mut rows = 0u64;
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    while let Some(b) = rx.recv().await {
        let sql = sqls.entry(b.rows).or_insert_with(|| Arc::from(insert_sql(t, b.rows))).clone();
        let mut q = sqlx::query(AssertSqlSafe(sql));
        let n = b.rows;
        for v in b.vals {
            q = bind_v(q, v);
        }
        q.execute(&mut *conn).await.with_context(|| format!("insert into {}", t.name))?;
        in_txn += n;
        rows += n as u64;
        if in_txn >= txn_rows {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            in_txn = 0;
        }
        pb.inc(n as u64);
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    pb.finish_and_clear();
    Ok(Phase { name: format!("insert {}", t.name), rows, secs: start.elapsed().as_secs_f64(), cpu: Some(cpu.since()) })
}

async fn sqlite_bulk(url: &str, g: Arc<Gen>, a: &PopArgs) -> anyhow::Result<Vec<Phase>> {
    // The load connection only: no journal, no fsync, no foreign-key checks, a big cache. The
    // database is switched back to WAL at the end; the application opens it with its own settings.
    let opts = SqliteConnectOptions::from_str(url)?
        .locking_mode(SqliteLockingMode::Exclusive)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-1048576")
        .pragma("temp_store", "MEMORY")
        .pragma("threads", "2");
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    let mut phases = vec![];
    let in_list = BULK_TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let indexes: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({in_list}) ORDER BY name"
    )))
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(AssertSqlSafe(format!("DROP INDEX \"{name}\""))).execute(&mut conn).await?;
    }
    println!("  dropped {} secondary indexes for the load: {}", indexes.len(), names(&indexes));
    let mut counters = vec![];
    for kind in [Kind::Customers, Kind::Contacts, Kind::Devices, Kind::Requests] {
        let (rx, h) = spawn_gen(g.clone(), kind, a.batch);
        let r = sqlite_table(&mut conn, kind.table(), kind.rows(&g.plan), rx, a.txn_rows).await;
        let c = join_gen(h);
        let ph = r?;
        let c = c?;
        ph.print();
        phases.push(ph);
        if matches!(kind, Kind::Requests) {
            counters = c;
        }
    }
    let (tx, rx) = mpsc::channel(8);
    let n = counters.len();
    let h = std::thread::spawn(move || gen_counters(&counters, &mut Out::new(tx, 500, 2)));
    let ph = sqlite_table(&mut conn, &T_COUNTERS, n, rx, a.txn_rows).await?;
    h.join().map_err(|_| anyhow!("counter thread panicked"))??;
    phases.push(ph);

    for (name, sql) in &indexes {
        let pb = spinner(format!("CREATE INDEX {name}"))?;
        let t = Instant::now();
        sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut conn).await?;
        pb.finish_and_clear();
        Phase::record_rowless(format!("index {name}"), t, &mut phases);
    }
    let pb = spinner("PRAGMA foreign_key_check".into())?;
    let t = Instant::now();
    let bad: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut conn).await?;
    pb.finish_and_clear();
    ensure!(bad.is_empty(), "{} foreign key violations, e.g. in {}", bad.len(), bad[0].0);
    Phase::record_rowless("foreign_key_check (no violation)".into(), t, &mut phases);
    if !a.no_analyze {
        let pb = spinner("ANALYZE".into())?;
        let t = Instant::now();
        sqlx::query("ANALYZE").execute(&mut conn).await?;
        pb.finish_and_clear();
        Phase::record_rowless("ANALYZE".into(), t, &mut phases);
    }
    let t = Instant::now();
    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut conn).await?;
    conn.close().await?;
    if let Some(path) = url.strip_prefix("sqlite://") {
        std::fs::File::open(path)?.sync_all()?;
    }
    Phase::record_rowless("back to WAL, fsync".into(), t, &mut phases);
    Ok(phases)
}

fn names(xs: &[(String, String)]) -> String {
    xs.iter().map(|x| x.0.as_str()).collect::<Vec<_>>().join(", ")
}

// ---------- PostgreSQL bulk load ----------

fn copy_escape(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn copy_value(out: &mut Vec<u8>, v: &V) -> anyhow::Result<()> {
    match v {
        V::I(x) | V::NI(Some(x)) => write!(out, "{x}")?,
        V::S(s) | V::NS(Some(s)) => copy_escape(out, s),
        V::St(s) | V::NSt(Some(s)) => copy_escape(out, s),
        V::B(b) => out.push(if *b { b't' } else { b'f' }),
        V::NI(None) | V::NS(None) | V::NSt(None) => out.extend_from_slice(b"\\N"),
    }
    Ok(())
}

async fn pg_table(
    conn: &mut PgConnection,
    t: &'static Table,
    total: usize,
    mut rx: mpsc::Receiver<Batch>,
) -> anyhow::Result<Phase> {
    let pb = bar(total as u64, t.name)?;
    let cpu = cpu_mark();
    let start = Instant::now();
    let width = t.cols.len();
    let mut rows = 0u64;
    // TRUNCATE in the same transaction allows COPY FREEZE: rows are written frozen and all-visible,
    // so no VACUUM pass is needed after the load.
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    sqlx::query(AssertSqlSafe(format!("TRUNCATE {}", t.name))).execute(&mut *conn).await?;
    let mut copy =
        conn.copy_in_raw(&format!("COPY {} ({}) FROM STDIN WITH (FREEZE)", t.name, t.cols.join(", "))).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(4 << 20);
    while let Some(b) = rx.recv().await {
        for (i, v) in b.vals.iter().enumerate() {
            copy_value(&mut buf, v)?;
            buf.push(if (i + 1) % width == 0 { b'\n' } else { b'\t' });
        }
        rows += b.rows as u64;
        pb.inc(b.rows as u64);
        if buf.len() >= 4 << 20 {
            copy.send(std::mem::replace(&mut buf, Vec::with_capacity(4 << 20))).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await.with_context(|| format!("COPY {}", t.name))?;
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    pb.finish_and_clear();
    Ok(Phase { name: format!("COPY {}", t.name), rows, secs: start.elapsed().as_secs_f64(), cpu: Some(cpu.since()) })
}

async fn pg_bulk(url: &str, g: Arc<Gen>, a: &PopArgs) -> anyhow::Result<Vec<Phase>> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("SET synchronous_commit = off").execute(&mut conn).await?;
    sqlx::query("SET maintenance_work_mem = '1GB'").execute(&mut conn).await?;
    let tables: Vec<String> = BULK_TABLES.iter().map(|s| s.to_string()).collect();
    // Foreign keys on or to the loaded tables: dropped, then added back (validated in one pass each).
    let fks: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
         WHERE c.contype = 'f' AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1)) \
         ORDER BY 1, 2",
    )
    .bind(&tables)
    .fetch_all(&mut conn)
    .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY($1) \
         AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY 1",
    )
    .bind(&tables)
    .fetch_all(&mut conn)
    .await?;
    for (t, name, _) in &fks {
        sqlx::query(AssertSqlSafe(format!("ALTER TABLE {t} DROP CONSTRAINT \"{name}\""))).execute(&mut conn).await?;
    }
    for (name, _) in &indexes {
        sqlx::query(AssertSqlSafe(format!("DROP INDEX \"{name}\""))).execute(&mut conn).await?;
    }
    println!(
        "  dropped {} foreign keys and {} secondary indexes for the load: {}",
        fks.len(),
        indexes.len(),
        names(&indexes)
    );
    let mut phases = vec![];
    let mut counters = vec![];
    for kind in [Kind::Customers, Kind::Contacts, Kind::Devices, Kind::Requests] {
        let (rx, h) = spawn_gen(g.clone(), kind, 1000);
        let r = pg_table(&mut conn, kind.table(), kind.rows(&g.plan), rx).await;
        let c = join_gen(h);
        let ph = r?;
        let c = c?;
        ph.print();
        phases.push(ph);
        if matches!(kind, Kind::Requests) {
            counters = c;
        }
    }
    let (tx, rx) = mpsc::channel(8);
    let n = counters.len();
    let h = std::thread::spawn(move || gen_counters(&counters, &mut Out::new(tx, 500, 2)));
    let ph = pg_table(&mut conn, &T_COUNTERS, n, rx).await?;
    h.join().map_err(|_| anyhow!("counter thread panicked"))??;
    phases.push(ph);
    for (name, def) in &indexes {
        let pb = spinner(format!("CREATE INDEX {name}"))?;
        let t = Instant::now();
        sqlx::query(AssertSqlSafe(def.clone())).execute(&mut conn).await?;
        pb.finish_and_clear();
        Phase::record_rowless(format!("index {name}"), t, &mut phases);
    }
    for (t, name, def) in &fks {
        let pb = spinner(format!("ALTER TABLE {t} ADD CONSTRAINT {name}"))?;
        let start = Instant::now();
        sqlx::query(AssertSqlSafe(format!("ALTER TABLE {t} ADD CONSTRAINT \"{name}\" {def}")))
            .execute(&mut conn)
            .await?;
        pb.finish_and_clear();
        Phase::record_rowless(format!("fk {name}"), start, &mut phases);
    }
    if !a.no_analyze {
        let pb = spinner("ANALYZE".into())?;
        let t = Instant::now();
        sqlx::query("ANALYZE").execute(&mut conn).await?;
        pb.finish_and_clear();
        Phase::record_rowless("ANALYZE".into(), t, &mut phases);
    }
    let t = Instant::now();
    sqlx::query("CHECKPOINT").execute(&mut conn).await?;
    Phase::record_rowless("CHECKPOINT".into(), t, &mut phases);
    conn.close().await?;
    Ok(phases)
}

// ---------- load, meta, reuse ----------

fn meta_of(a: &PopArgs, plan: &Plan) -> serde_json::Value {
    json!({"seed": a.seed, "customers": a.customers, "devices": a.devices, "requests": a.requests,
           "contacts": plan.contacts.len(), "format": 1})
}

async fn read_meta(url: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let db = Db::connect(url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
    let r = async {
        let mut rd = db.read().await?;
        let v: Option<String> = both!(&mut rd.conn(), c => sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = 'bench.desk.dataset'").fetch_optional(c).await)?;
        anyhow::Ok(v.map(|s| serde_json::from_str(&s)).transpose()?)
    }
    .await;
    db.close().await;
    r
}

async fn write_meta(url: &str, meta: &serde_json::Value) -> anyhow::Result<()> {
    let db = Db::connect(url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
    let mut tx = db.begin().await?;
    let s = meta.to_string();
    both!(&mut tx.conn(), c => sqlx::query("INSERT INTO settings (key, value) VALUES ('bench.desk.dataset', $1)")
        .bind(&s).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    db.close().await;
    Ok(())
}

async fn verify_ids(url: &str, plan: &Plan) -> anyhow::Result<()> {
    let db = Db::connect(url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
    let r = async {
        let mut rd = db.read().await?;
        for (t, n) in [
            ("customers", plan.customers),
            ("customer_contacts", plan.contacts.len()),
            ("devices", plan.devices),
            ("service_requests", plan.requests),
        ] {
            let (lo, hi, cnt): (Option<i64>, Option<i64>, i64) = both!(&mut rd.conn(), c => sqlx::query_as(
                AssertSqlSafe(format!("SELECT MIN(id), MAX(id), COUNT(*) FROM {t}"))).fetch_one(c).await)?;
            let n = i64::try_from(n)?;
            ensure!(
                cnt == n && (n == 0 || (lo == Some(1) && hi == Some(n))),
                "{t}: expected ids 1..{n}, found {lo:?}..{hi:?} ({cnt} rows)"
            );
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    r
}

async fn load(place: &Place, plan: Arc<Plan>, a: &PopArgs) -> anyhow::Result<serde_json::Value> {
    let url = place.url()?;
    let total_start = Instant::now();
    let db = Db::connect(&url, &DbOptions::default()).await?;
    db.migrate().await?;
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
    seed_reference(&app).await?;
    let refs = load_refs(&app).await?;
    db.close().await;
    let g =
        Arc::new(Gen { plan: plan.clone(), refs, keys: test_keyring(), now: jiff::Timestamp::now().as_millisecond() });
    println!("load into {}:", place.describe());
    let phases = match a.backend {
        BackendArg::Sqlite => sqlite_bulk(&url, g, a).await?,
        BackendArg::Postgres => pg_bulk(&url, g, a).await?,
    };
    verify_ids(&url, &plan).await?;
    let total = total_start.elapsed().as_secs_f64();
    let rows: u64 = phases.iter().map(|p| p.rows).sum();
    let insert_secs: f64 = phases.iter().filter(|p| p.rows > 0).map(|p| p.secs).sum();
    let size = place.size().await?;
    println!(
        "  total: {rows} rows in {total:.1} s = {:.0} rows/s end to end (insert phases alone: {:.0} rows/s); \
         database size {:.2} GiB",
        rows as f64 / total,
        rows as f64 / insert_secs,
        size as f64 / (1u64 << 30) as f64
    );
    write_meta(&url, &meta_of(a, &plan)).await?;
    Ok(
        json!({"rows": rows, "secs": total, "rows_per_s": rows as f64 / total, "insert_rows_per_s": rows as f64 / insert_secs,
              "bytes": size, "phases": phases.iter().map(|p| json!({"name": p.name, "rows": p.rows, "secs": p.secs})).collect::<Vec<_>>()}),
    )
}

// =====================================================================================
// screen pop: measurement
// =====================================================================================

enum Key {
    Phone(String),
    Serial(String),
}

struct Probe {
    key: Key,
    /// The customer id the screen must show first; `None` for a miss.
    expect: Option<i64>,
}

struct Series {
    name: &'static str,
    /// Calls planned; fewer were made when the time budget ran out (`lat.n`).
    planned: usize,
    cpu: CpuUse,
    lat: Pcts,
    devices: f64,
    open: f64,
    history: f64,
}

async fn run_series(
    app: &App,
    ctx: &Ctx,
    name: &'static str,
    probes: &[Probe],
    budget: Duration,
) -> anyhow::Result<Series> {
    let pb = bar(probes.len() as u64, name)?;
    let mut lat = Vec::with_capacity(probes.len());
    let (mut devices, mut open, mut history) = (0usize, 0usize, 0usize);
    let cpu = cpu_mark();
    let start = Instant::now();
    for p in probes {
        if start.elapsed() > budget {
            break;
        }
        let by = match &p.key {
            Key::Phone(s) => Lookup::Phone(s),
            Key::Serial(s) => Lookup::Serial(s),
        };
        let t = Instant::now();
        let r = desk::screen_pop(app, ctx, by).await?;
        lat.push(t.elapsed());
        match (r, p.expect) {
            (Some(s), Some(id)) => {
                ensure!(s.customer.id == id, "{name}: expected customer {id}, got {}", s.customer.id);
                devices += s.devices.len();
                open += s.open_requests.len();
                history += s.history.len();
            }
            (None, None) => {}
            (r, e) => bail!("{name}: expected {e:?}, got {:?}", r.map(|s| s.customer.id)),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let n = lat.len().max(1) as f64;
    Ok(Series {
        name,
        planned: probes.len(),
        cpu: cpu.since(),
        lat: pcts(&lat),
        devices: devices as f64 / n,
        open: open as f64 / n,
        history: history as f64 / n,
    })
}

fn probes(plan: &Plan, n: usize) -> (Vec<Probe>, Vec<Probe>, Vec<Probe>, Vec<Probe>) {
    let mut rng = Rng::new(plan.seed, S_LOOKUPS);
    let phone = |rng: &mut Rng| {
        if !plan.contacts.is_empty() && rng.percent(10) {
            let (c, p) = *rng.pick(&plan.contacts);
            Probe { key: Key::Phone(p.to_string()), expect: Some(i64::from(c) + 1) }
        } else {
            let c = rng.below(plan.customers);
            Probe { key: Key::Phone(plan.phone[c].to_string()), expect: Some(c as i64 + 1) }
        }
    };
    let warm: Vec<Probe> = (0..n.min(100_000)).map(|_| phone(&mut rng)).collect();
    let phones: Vec<Probe> = (0..n).map(|_| phone(&mut rng)).collect();
    let serials: Vec<Probe> = (0..(n / 10).max(1))
        .map(|_| {
            let d = rng.below(plan.devices);
            Probe { key: Key::Serial(plan.serial(d)), expect: Some(i64::from(plan.dev_customer[d]) + 1) }
        })
        .collect();
    let misses: Vec<Probe> = (0..(n / 10).max(1))
        .map(|_| {
            loop {
                let p = rng.pick(MOBILE_PREFIXES) * 100_000_000 + rng.below(100_000_000) as u64;
                if !plan.phone_set.contains(&p) {
                    break Probe { key: Key::Phone(p.to_string()), expect: None };
                }
            }
        })
        .collect();
    (warm, phones, serials, misses)
}

async fn cmd_screen_pop(a: PopArgs) -> anyhow::Result<()> {
    println!(
        "bench-desk screen-pop: backend={} customers={} devices={} requests={} lookups={} seed={}",
        a.backend.as_str(),
        a.customers,
        a.devices,
        a.requests,
        a.lookups,
        a.seed
    );
    println!("machine: {}; load average at start: {}", machine(), loadavg());
    let place = match &a.keep {
        Some(k) => Place::kept(a.backend, &a.pg_admin_url, k)?,
        None => Place::temp(a.backend, &a.pg_admin_url, "pop"),
    };
    let t = Instant::now();
    let plan = Arc::new(Plan::build(a.seed, a.customers, a.devices, a.requests)?);
    println!(
        "plan (phones, device owners) from seed {}: {:.1} s; {} key accounts, {} contacts",
        a.seed,
        t.elapsed().as_secs_f64(),
        plan.key_accounts,
        plan.contacts.len()
    );
    if a.gen_only {
        return gen_only(&a, plan).await;
    }
    let r = async {
        let mut load_json = serde_json::Value::Null;
        let reuse = a.reuse && place.exists().await?;
        if reuse {
            let meta = read_meta(&place.url()?).await?;
            ensure!(
                meta.as_ref() == Some(&meta_of(&a, &plan)),
                "{} holds another data set ({meta:?}); rerun without --reuse to reload it",
                place.describe()
            );
            println!("reusing the data set in {} (no load)", place.describe());
        } else {
            place.destroy().await?;
            place.create().await?;
            load_json = load(&place, plan.clone(), &a).await?;
        }
        let pop = measure(&place, &plan, &a).await?;
        anyhow::Ok((load_json, pop))
    }
    .await;
    if place.is_temp() {
        place.destroy().await?;
    }
    let (load_json, pop) = r?;
    println!("load average at end: {}", loadavg());
    println!(
        "{}",
        json!({"bench": "desk-screen-pop", "backend": a.backend.as_str(), "customers": a.customers, "devices": a.devices,
               "requests": a.requests, "contacts": plan.contacts.len(), "seed": a.seed, "load": load_json, "screen_pop": pop})
    );
    Ok(())
}

/// The generator alone (rows, encryption, batches) drained without a database: its rows/s bound
/// the load from above.
async fn gen_only(a: &PopArgs, plan: Arc<Plan>) -> anyhow::Result<()> {
    let place = Place::temp(BackendArg::Sqlite, &a.pg_admin_url, "gen");
    place.destroy().await?;
    place.create().await?;
    let db = Db::connect(&place.url()?, &DbOptions::default()).await?;
    db.migrate().await?;
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
    seed_reference(&app).await?;
    let refs = load_refs(&app).await?;
    db.close().await;
    place.destroy().await?;
    let g = Arc::new(Gen { plan, refs, keys: test_keyring(), now: jiff::Timestamp::now().as_millisecond() });
    println!("generator only (batches of {} rows drained, no database):", a.batch);
    for kind in [Kind::Customers, Kind::Contacts, Kind::Devices, Kind::Requests] {
        let t = Instant::now();
        let (mut rx, h) = spawn_gen(g.clone(), kind, a.batch);
        let mut rows = 0u64;
        while let Some(b) = rx.recv().await {
            rows += b.rows as u64;
        }
        join_gen(h)?;
        Phase { name: format!("generate {}", kind.table().name), rows, secs: t.elapsed().as_secs_f64(), cpu: None }
            .print();
    }
    Ok(())
}

async fn measure(place: &Place, plan: &Plan, a: &PopArgs) -> anyhow::Result<serde_json::Value> {
    let db = Db::connect(&place.url()?, &DbOptions::default()).await?;
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
    let r = async {
        let agent = actor_ctx(&app, "agent").await?;
        let finance = actor_ctx(&app, "finance").await?;
        let (warm, phones, serials, misses) = probes(plan, a.lookups);
        let budget = Duration::from_secs(a.budget_secs);
        let warmed = run_series(&app, &agent, "warm-up", &warm[..a.warmup.min(warm.len())], budget / 4).await?;
        let series = vec![
            run_series(&app, &agent, "phone, agent", &phones, budget).await?,
            run_series(&app, &finance, "phone, finance", &phones, budget).await?,
            run_series(&app, &agent, "serial, agent", &serials, budget).await?,
            run_series(&app, &agent, "miss, agent", &misses, budget).await?,
        ];
        println!(
            "screen_pop latency ({} backend, sequential calls, wall time per call; {} warm-up calls not counted; \
             each series stops after {} s):",
            a.backend.as_str(),
            warmed.lat.n,
            a.budget_secs
        );
        println!(
            "  {:<44} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}   {:>7} {:>6} {:>7}",
            "series", "calls", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms", "devices", "open", "history"
        );
        let label = |s: &str| match s {
            "phone, agent" => "phone hit, agent (clear, audited read)",
            "phone, finance" => "phone hit, finance (masked, no audit)",
            "serial, agent" => "serial hit, agent (clear, audited read)",
            _ => "phone miss, agent",
        };
        for s in &series {
            if s.lat.n < s.planned {
                println!("  ({}: the time budget stopped it after {} of {} calls)", label(s.name), s.lat.n, s.planned);
            }
            println!(
                "  {:<44} {:>6} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}   {:>7.1} {:>6.2} {:>7.1}",
                label(s.name),
                s.lat.n,
                s.lat.p50,
                s.lat.p90,
                s.lat.p99,
                s.lat.max,
                s.lat.mean,
                s.devices,
                s.open,
                s.history
            );
            println!("  {:<44} {}", "", s.cpu);
        }
        let worst = series.iter().map(|s| s.lat.p99).fold(0.0, f64::max);
        println!(
            "  target p99 < 10 ms: {} (worst series p99 {worst:.2} ms)",
            if worst < 10.0 { "met" } else { "NOT met" }
        );
        let breakdown = breakdown(&app, plan, &agent, budget).await?;
        explain(&app, plan).await?;
        anyhow::Ok(json!({
            "series": series.iter().map(|s| json!({"name": s.name, "planned": s.planned, "cpu": cpu_json(&s.cpu), "latency": pcts_json(&s.lat), "devices": s.devices,
                "open": s.open, "history": s.history})).collect::<Vec<_>>(),
            "breakdown": breakdown,
            "p99_target_met": worst < 10.0,
        }))
    }
    .await;
    db.close().await;
    r
}

// ---------- where the time goes ----------

/// The phone look-up as it was written before `434b2ae` (`OR` with a sub-select), timed beside the
/// shipped text (`catalog::customers_by_phone_sql`) to keep the record of why it changed.
const Q_BY_PHONE_OR: &str = "SELECT id, kind, name_enc, name_mask, phone_enc, phone_mask, credit_code, region_code, address_enc, tier, \
    station_id, version, created_at FROM customers WHERE (phone_idx = $1 OR id IN (SELECT customer_id FROM customer_contacts \
    WHERE phone_idx = $1)) AND (1 = 1 OR station_id IS NULL) ORDER BY id LIMIT 20";
/// The shipped phone look-up, unscoped (an administrator's scope clause).
fn q_by_phone() -> String {
    shouhou_store::customers::customers_by_phone_sql("1 = 1")
}
const Q_CONTACTS: &str = "SELECT id, role, name_enc, name_mask, phone_enc, phone_mask FROM customer_contacts WHERE customer_id = $1 ORDER BY id";
const Q_DEVICES: &str = "SELECT d.id, d.serial_number, d.model_id, m.code AS model_code, m.name AS model_name, m.product_line, \
    m.warranty_months, d.customer_id, d.sale_date, d.install_region_code, d.install_address_enc, d.dealer_name, d.contract_until, \
    d.station_id, d.version FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.customer_id = $1 ORDER BY d.id";
const Q_BY_SERIAL: &str = "SELECT d.id, d.serial_number, d.model_id, m.code AS model_code, m.name AS model_name, m.product_line, \
    m.warranty_months, d.customer_id, d.sale_date, d.install_region_code, d.install_address_enc, d.dealer_name, d.contract_until, \
    d.station_id, d.version FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.serial_number = $1 ORDER BY d.id LIMIT 20";
const REQUEST_COLS: &str = "id, number, customer_id, device_id, request_type, channel, urgency, status, description, fault_code, \
    station_id, assignee_id, created_by, first_contact_resolution, promised_reply_at, calendar_code, policy_id, response_target_min, \
    resolution_target_min, response_due_at, resolution_due_at, response_state, resolution_state, version, created_at, updated_at, closed_at";

fn q_requests(open: bool) -> String {
    let cond = if open { "status NOT IN ('closed', 'cancelled')" } else { "status IN ('closed', 'cancelled')" };
    format!(
        "SELECT {REQUEST_COLS} FROM service_requests WHERE customer_id = $1 AND {cond} ORDER BY created_at DESC LIMIT $2"
    )
}

enum Arg {
    Text(String),
    Id(i64),
    IdLimit(i64, i64),
}

async fn timed_query(db: &Db, sql: &str, arg: &Arg) -> anyhow::Result<(Duration, usize)> {
    let mut rd = db.read().await?;
    let sql: Arc<str> = Arc::from(sql);
    let t = Instant::now();
    let n = both!(&mut rd.conn(), c => {
        let q = sqlx::query(AssertSqlSafe(sql));
        let q = match arg { Arg::Text(s) => q.bind(s.clone()), Arg::Id(i) => q.bind(*i), Arg::IdLimit(i, l) => q.bind(*i).bind(*l) };
        q.fetch_all(c).await.map(|v| v.len())
    })?;
    Ok((t.elapsed(), n))
}

/// Each statement of a screen pop on its own, sequentially, for 1000 random customers; and the
/// audit append of an agent's read, and the decryption of a customer.
async fn breakdown(app: &App, plan: &Plan, agent: &Ctx, budget: Duration) -> anyhow::Result<serde_json::Value> {
    let mut rng = Rng::new(plan.seed, S_LOOKUPS + 100);
    let n = 1000usize;
    let keys = test_keyring();
    let open_sql = q_requests(true);
    let hist_sql = q_requests(false);
    let by_phone = q_by_phone();
    let mut lat: Vec<Vec<Duration>> = vec![vec![]; 9];
    let pb = bar(n as u64, "breakdown")?;
    let start = Instant::now();
    for _ in 0..n {
        if start.elapsed() > budget {
            break;
        }
        let c = rng.below(plan.customers);
        let id = c as i64 + 1;
        let phone = plan.phone[c].to_string();
        let t = Instant::now();
        let idx = keys.blind_index(Phone::parse("phone", &phone).map_err(|e| anyhow!("{e:?}"))?.as_str());
        lat[0].push(t.elapsed());
        lat[1].push(timed_query(&app.db, &by_phone, &Arg::Text(idx.clone())).await?.0);
        lat[8].push(timed_query(&app.db, Q_BY_PHONE_OR, &Arg::Text(idx)).await?.0);
        lat[2].push(timed_query(&app.db, Q_CONTACTS, &Arg::Id(id)).await?.0);
        lat[3].push(timed_query(&app.db, Q_DEVICES, &Arg::Id(id)).await?.0);
        lat[4].push(timed_query(&app.db, &open_sql, &Arg::IdLimit(id, 50)).await?.0);
        lat[5].push(timed_query(&app.db, &hist_sql, &Arg::IdLimit(id, 20)).await?.0);
        let d = rng.below(plan.devices);
        lat[6].push(timed_query(&app.db, Q_BY_SERIAL, &Arg::Text(plan.serial(d))).await?.0);
        let t = Instant::now();
        shouhou_app::audit::record_alone(
            app,
            agent,
            "customer.read_personal",
            "customer",
            Some(id.to_string()),
            json!({"via": "bench"}),
        )
        .await?;
        lat[7].push(t.elapsed());
        pb.inc(1);
    }
    pb.finish_and_clear();
    let names = [
        "blind index of the phone (HMAC)",
        "customers by phone (+ contacts' phones)",
        "contacts of the customer",
        "devices of the customer (join models)",
        "open requests of the customer (LIMIT 50)",
        "closed requests of the customer (LIMIT 20)",
        "devices by serial (serial look-up)",
        "audit append of the clear read (own txn)",
        "customers by phone, OR form before 434b2ae",
    ];
    println!("where the time goes ({} random customers, each statement alone, sequential):", lat[0].len());
    println!("  {:<44} {:>8} {:>8} {:>8} {:>8}", "step", "p50 ms", "p90 ms", "p99 ms", "max ms");
    let mut out = vec![];
    for (name, l) in names.iter().zip(&lat) {
        let p = pcts(l);
        println!("  {:<44} {:>8.3} {:>8.3} {:>8.3} {:>8.3}", name, p.p50, p.p90, p.p99, p.max);
        out.push(json!({"step": name, "latency": pcts_json(&p)}));
    }
    Ok(json!(out))
}

/// The plans of the screen pop's statements, for a random existing customer.
async fn explain(app: &App, plan: &Plan) -> anyhow::Result<()> {
    let keys = test_keyring();
    let c = plan.customers / 2;
    let id = c as i64 + 1;
    let idx = keys.blind_index(&plan.phone[c].to_string());
    let serial = plan.serial(plan.devices / 2);
    let open_sql = q_requests(true);
    let hist_sql = q_requests(false);
    let stmts: Vec<(&str, String, Vec<String>)> = vec![
        ("customers by phone", q_by_phone(), vec![format!("'{idx}'")]),
        ("customers by phone, OR form before 434b2ae", Q_BY_PHONE_OR.to_string(), vec![format!("'{idx}'")]),
        ("contacts of the customer", Q_CONTACTS.to_string(), vec![id.to_string()]),
        ("devices of the customer", Q_DEVICES.to_string(), vec![id.to_string()]),
        ("open requests", open_sql, vec![id.to_string(), "50".into()]),
        ("closed requests", hist_sql, vec![id.to_string(), "20".into()]),
        ("devices by serial", Q_BY_SERIAL.to_string(), vec![format!("'{serial}'")]),
    ];
    println!("query plans (customer id {id}):");
    match &app.db {
        Db::Sqlite { readers, .. } => {
            let mut conn = readers.acquire().await?;
            for (name, sql, args) in stmts {
                let mut s = sql.clone();
                for (i, v) in args.iter().enumerate().rev() {
                    s = s.replace(&format!("${}", i + 1), v);
                }
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {s}"))).fetch_all(&mut *conn).await?;
                println!("  {name}:");
                for r in rows {
                    println!("    {}", r.3);
                }
            }
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            for (i, (name, sql, args)) in stmts.into_iter().enumerate() {
                // As the application runs it: a prepared statement. PostgreSQL switches a prepared
                // statement to a generic plan after five executions when it looks no dearer.
                let types = if args.len() == 1 && args[0].starts_with('\'') {
                    "text"
                } else if args.len() == 1 {
                    "bigint"
                } else {
                    "bigint, bigint"
                };
                sqlx::raw_sql(AssertSqlSafe(format!("PREPARE bench_q{i} ({types}) AS {sql}")))
                    .execute(&mut *conn)
                    .await?;
                for mode in ["force_custom_plan", "force_generic_plan"] {
                    sqlx::raw_sql(AssertSqlSafe(format!("SET plan_cache_mode = {mode}"))).execute(&mut *conn).await?;
                    let rows: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
                        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) EXECUTE bench_q{i}({})",
                        args.join(", ")
                    )))
                    .fetch_all(&mut *conn)
                    .await?;
                    println!("  {name} ({}):", mode.trim_start_matches("force_").replace('_', " "));
                    for r in rows {
                        println!("    {}", r.0);
                    }
                }
                sqlx::raw_sql(AssertSqlSafe(format!("DEALLOCATE bench_q{i}"))).execute(&mut *conn).await?;
            }
            sqlx::raw_sql("RESET plan_cache_mode").execute(&mut *conn).await?;
        }
    }
    Ok(())
}
