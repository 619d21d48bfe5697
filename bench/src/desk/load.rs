//! The bulk load of a generated data set (SQLite: multi-row INSERTs on a load-only connection;
//! PostgreSQL: COPY), its bookkeeping (what data set a kept database holds) and the generator alone.
use crate::generate::{BULK_TABLES, Batch, Gen, Kind, Out, T_COUNTERS, Table, V, gen_counters, join_gen, spawn_gen};
use crate::place::Place;
use crate::plan::{Plan, load_refs, seed_reference};
use crate::{BackendArg, PopArgs, bar, spinner};
use anyhow::{Context as _, anyhow, ensure};
use serde_json::json;
use shouhou_app::{App, AppConfig, SystemClock};
use shouhou_bench::sys::{CpuUse, cpu_mark};
use shouhou_store::crypto::test_keyring;
use shouhou_store::{Db, DbOptions, both};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, Sqlite, SqliteConnection};
use std::collections::HashMap;
use std::io::Write as _;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub rows: u64,
    pub secs: f64,
    pub cpu: Option<CpuUse>,
}

impl Phase {
    /// A phase that writes no rows (an index build, a check) begun at `started`: printed and recorded.
    pub fn record_rowless(name: String, started: Instant, phases: &mut Vec<Phase>) {
        let ph = Phase { name, rows: 0, secs: started.elapsed().as_secs_f64(), cpu: None };
        ph.print();
        phases.push(ph);
    }

    pub fn print(&self) {
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

pub fn bind_v<'q>(
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

pub fn insert_sql(t: &Table, rows: usize) -> String {
    let one = format!("({})", vec!["?"; t.cols.len()].join(","));
    format!("INSERT INTO {} ({}) VALUES {}", t.name, t.cols.join(", "), vec![one; rows].join(","))
}

pub async fn sqlite_table(
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

pub async fn sqlite_bulk(url: &str, g: Arc<Gen>, a: &PopArgs) -> anyhow::Result<Vec<Phase>> {
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

pub fn names(xs: &[(String, String)]) -> String {
    xs.iter().map(|x| x.0.as_str()).collect::<Vec<_>>().join(", ")
}

// ---------- PostgreSQL bulk load ----------

pub fn copy_escape(out: &mut Vec<u8>, s: &str) {
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

pub fn copy_value(out: &mut Vec<u8>, v: &V) -> anyhow::Result<()> {
    match v {
        V::I(x) | V::NI(Some(x)) => write!(out, "{x}")?,
        V::S(s) | V::NS(Some(s)) => copy_escape(out, s),
        V::St(s) | V::NSt(Some(s)) => copy_escape(out, s),
        V::B(b) => out.push(if *b { b't' } else { b'f' }),
        V::NI(None) | V::NS(None) | V::NSt(None) => out.extend_from_slice(b"\\N"),
    }
    Ok(())
}

pub async fn pg_table(
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

pub async fn pg_bulk(url: &str, g: Arc<Gen>, a: &PopArgs) -> anyhow::Result<Vec<Phase>> {
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

pub fn meta_of(a: &PopArgs, plan: &Plan) -> serde_json::Value {
    json!({"seed": a.seed, "customers": a.customers, "devices": a.devices, "requests": a.requests,
           "big_open": a.big_open, "contacts": plan.contacts.len(), "format": 2})
}

pub async fn read_meta(url: &str) -> anyhow::Result<Option<serde_json::Value>> {
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

pub async fn write_meta(url: &str, meta: &serde_json::Value) -> anyhow::Result<()> {
    let db = Db::connect(url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
    let mut tx = db.begin().await?;
    let s = meta.to_string();
    both!(&mut tx.conn(), c => sqlx::query("INSERT INTO settings (key, value) VALUES ('bench.desk.dataset', $1)")
        .bind(&s).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    db.close().await;
    Ok(())
}

pub async fn verify_ids(url: &str, plan: &Plan) -> anyhow::Result<()> {
    let db = Db::connect(url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
    let r = async {
        let mut rd = db.read().await?;
        for (t, n) in [
            ("customers", plan.customers),
            ("customer_contacts", plan.contacts.len()),
            ("devices", plan.devices),
            ("service_requests", plan.total_requests()),
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

pub async fn load(place: &Place, plan: Arc<Plan>, a: &PopArgs) -> anyhow::Result<serde_json::Value> {
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

/// The generator alone (rows, encryption, batches) drained without a database: its rows/s bound
/// the load from above.
pub async fn gen_only(a: &PopArgs, plan: Arc<Plan>) -> anyhow::Result<()> {
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
