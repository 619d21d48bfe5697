//! `bench-desk stock`: issues of one hot part from one warehouse under contention, through the use
//! case and through HTTP, against the raw limit of the database (one ledger row inserted and
//! committed per transaction with the same driver and durability), side by side in one run.
use crate::BackendArg;
use crate::place::{Place, bootstrap_admin};
use crate::sides::{Run, Side, summarize};
use anyhow::ensure;
use serde_json::json;
use shouhou_app::parts::{MovementForm, PartForm};
use shouhou_app::warehouses::WarehouseForm;
use shouhou_app::{App, AppConfig, Ctx, SystemClock};
use shouhou_bench::http::{Client, Server};
use shouhou_bench::stats::{Pcts, concurrently};
use shouhou_bench::sys::{CpuUse, loadavg, machine};
use shouhou_store::crypto::test_keyring;
use shouhou_store::{Db, DbOptions, both};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct StockArgs {
    #[arg(long, value_enum)]
    pub backend: BackendArg,
    /// Issues per measured run.
    #[arg(long, default_value_t = 2000)]
    pub n: usize,
    /// Concurrent tasks, all on the same part of the same warehouse (and PostgreSQL pool
    /// connections; SQLite has its one writer).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Rounds; each runs raw, ours and http on fresh databases, alternating which goes first.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_admin_url: String,
}

struct Seed {
    ctx: Ctx,
    warehouse: i64,
    part: i64,
}

async fn seed(app: &App, stock: usize) -> anyhow::Result<Seed> {
    let ctx = bootstrap_admin(app).await?;
    let w = shouhou_app::warehouses::create_warehouse(
        app,
        &ctx,
        &WarehouseForm {
            code: "HQ-CW".into(),
            name: "总部中心备件库".into(),
            station_code: None,
            engineer_username: None,
            region_code: "440306".into(),
            address: "深圳市宝安区福永街道凤凰第四工业区 12 栋".into(),
        },
    )
    .await?;
    let p = shouhou_app::parts::create_part(
        app,
        &ctx,
        &PartForm { code: "OM-10G-LR".into(), name: "10G 光模块".into(), unit: "个".into(), ..Default::default() },
    )
    .await?;
    let f = MovementForm {
        kind: "receipt".into(),
        warehouse_id: w.0,
        part_code: Some("OM-10G-LR".into()),
        quantity: Some(stock.into()),
        ..Default::default()
    };
    shouhou_app::parts::record_movement(app, &ctx, &f).await?;
    Ok(Seed { ctx, warehouse: w.0, part: p.id })
}

pub async fn cmd_stock(a: StockArgs) -> anyhow::Result<()> {
    ensure!(a.n > 0 && a.concurrency > 0 && a.rounds > 0, "--n, --concurrency and --rounds must be positive");
    println!(
        "bench-desk stock: backend={} n={} concurrency={} rounds={} (every task issues the same part from the same warehouse)",
        a.backend.as_str(),
        a.n,
        a.concurrency,
        a.rounds
    );
    println!("machine: {}; load average at start: {}", machine(), loadavg());
    let mut runs = vec![];
    for round in 1..=a.rounds {
        for side in Side::order(round) {
            let r = run(&a, side, round).await?;
            r.print(a.n, "issues");
            runs.push(r);
        }
    }
    summarize("stock", "issues", a.backend, a.n, a.concurrency, &runs);
    Ok(())
}

async fn run(a: &StockArgs, side: Side, round: usize) -> anyhow::Result<Run> {
    let place = Place::temp(a.backend, &a.pg_admin_url, &format!("stock_{}_{round}", side.as_str()));
    place.destroy().await?;
    place.create().await?;
    let r = async {
        let opts = DbOptions { max_connections: u32::try_from(a.concurrency)?, ..Default::default() };
        let db = Db::connect(&place.url()?, &opts).await?;
        db.migrate().await?;
        let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
        let stock = a.n * 2;
        let s = seed(&app, stock).await?;
        let (secs, lat, cpu) = match side {
            Side::Raw => raw(&db, &s, a.n, a.concurrency).await?,
            Side::Ours => ours(&app, &s, a.n, a.concurrency).await?,
            Side::Http => over_http(&app, &s, a.n, a.concurrency).await?,
        };
        verify(&db, &s, a.n, stock, side).await?;
        db.close().await;
        anyhow::Ok(Run { side, round, secs, lat, cpu })
    }
    .await;
    let d = place.destroy().await;
    let r = r?;
    d?;
    Ok(r)
}

/// Exactly `n` issues recorded, the figures the sums of the ledger (the raw side writes ledger
/// rows only).
async fn verify(db: &Db, s: &Seed, n: usize, stock: usize, side: Side) -> anyhow::Result<()> {
    let mut rd = db.read().await?;
    let (issues, on_hand, sum): (i64, i64, i64) = both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM stock_movements WHERE kind = 'issue'), \
         (SELECT on_hand FROM stock_levels WHERE warehouse_id = $1 AND part_id = $2), \
         (SELECT CAST(COALESCE(SUM(on_hand_delta), 0) AS BIGINT) FROM stock_movements WHERE warehouse_id = $1 AND part_id = $2)")
        .bind(s.warehouse).bind(s.part).fetch_one(c).await)?;
    ensure!(issues == i64::try_from(n)?, "{}: {issues} issues", side.as_str());
    if side != Side::Raw {
        let left = i64::try_from(stock - n)? * shouhou_domain::parts::SCALE;
        ensure!(on_hand == left && sum == left, "{}: on hand {on_hand}, ledger {sum}, expected {left}", side.as_str());
    }
    Ok(())
}

async fn ours(app: &App, s: &Seed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let form = Arc::new(MovementForm {
        kind: "issue".into(),
        warehouse_id: s.warehouse,
        part_code: Some("OM-10G-LR".into()),
        quantity: Some(1.into()),
        ..Default::default()
    });
    let workers = vec![(app.clone(), s.ctx.clone(), form); conc];
    concurrently(workers, n, |(app, ctx, form), _| async move {
        shouhou_app::parts::record_movement(&app, &ctx, &form).await?;
        Ok(())
    })
    .await
}

async fn over_http(app: &App, s: &Seed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let server = Server::start(app).await?;
    let url = format!("{}/api/v1/stock-movements", server.base);
    let body = Arc::new(json!({"kind": "issue", "warehouse_id": s.warehouse, "part_code": "OM-10G-LR", "quantity": 1}));
    let clients = server.clients("admin", conc).await?;
    let workers: Vec<_> = clients.into_iter().map(|c| (c, body.clone(), url.clone())).collect();
    let measured = concurrently(workers, n, |(Client { http, token }, body, url), _| async move {
        let status = http.post(&url).bearer_auth(&token).json(&*body).send().await?.status();
        ensure!(status == reqwest::StatusCode::CREATED, "POST answered {status}");
        Ok(())
    })
    .await?;
    server.stop().await?;
    Ok(measured)
}

/// The database's limit: one ledger row per transaction, through the same pool and writer.
async fn raw(db: &Db, s: &Seed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let now = jiff::Timestamp::now().as_millisecond();
    let (w, p) = (s.warehouse, s.part);
    concurrently(vec![db.clone(); conc], n, move |db, _| async move {
        let mut tx = db.begin().await?;
        both!(&mut tx.conn(), c => sqlx::query(
            "INSERT INTO stock_movements (kind, warehouse_id, part_id, on_hand_delta, reserved_delta, in_transit_delta, \
             note, created_at) VALUES ('issue', $1, $2, -1000, 0, 0, '', $3)")
            .bind(w).bind(p).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
