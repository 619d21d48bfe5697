//! `bench-desk visits`: recording return visits (回访) — the customer reached, content, the request
//! closed by the visit — through the use case and through HTTP, against the raw limit of the
//! database (one try row inserted and committed per transaction with the same driver and
//! durability), side by side in one run. Each operation records a different open visit.
use crate::BackendArg;
use crate::place::{Place, bootstrap_admin};
use crate::sides::{Run, Side, summarize};
use anyhow::ensure;
use serde_json::json;
use shouhou_app::customers::{self, CustomerForm};
use shouhou_app::requests::RequestForm;
use shouhou_app::return_visits::RecordForm;
use shouhou_app::{App, AppConfig, Ctx, SystemClock};
use shouhou_bench::http::{Client, Server};
use shouhou_bench::stats::{Pcts, concurrently};
use shouhou_bench::sys::{CpuUse, loadavg, machine};
use shouhou_store::crypto::test_keyring;
use shouhou_store::{Db, DbOptions, both};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct VisitsArgs {
    #[arg(long, value_enum)]
    pub backend: BackendArg,
    /// Visits recorded per measured run (as many requests are resolved first).
    #[arg(long, default_value_t = 2000)]
    pub n: usize,
    /// Concurrent tasks (and PostgreSQL pool connections; SQLite has its one writer).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Rounds; each runs raw, ours and http on fresh databases, alternating which goes first.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_admin_url: String,
}

/// `n` requests solved during the call, each with its open return visit; answers the visits' ids.
async fn seed(app: &App, ctx: &Ctx, n: usize) -> anyhow::Result<Vec<i64>> {
    let customer = customers::create_customer(
        app,
        ctx,
        &CustomerForm {
            name: "张伟".into(),
            phone: "13812345678".into(),
            region_code: "440305".into(),
            address: "深圳市南山区粤海街道科技南十二路 2 号".into(),
            ..Default::default()
        },
    )
    .await?;
    let f = RequestForm {
        customer_id: customer,
        request_type: "consultation".into(),
        channel: "phone".into(),
        description: "咨询保修期如何计算".into(),
        resolve_now: Some("已告知保修期".into()),
        ..Default::default()
    };
    for _ in 0..n {
        shouhou_app::requests::create_request(app, ctx, &f).await?;
    }
    let open = shouhou_app::return_visits::queue(app, ctx, "open").await?;
    // The queue shows at most 500: read the ids straight from the table for larger runs.
    let ids: Vec<i64> = if open.len() >= n {
        open.iter().map(|v| v.visit.id).take(n).collect()
    } else {
        let mut rd = app.db.read().await?;
        both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT id FROM return_visits WHERE status = 'open' ORDER BY id")
            .fetch_all(c).await)?
    };
    ensure!(ids.len() == n, "{} open visits seeded, {n} wanted", ids.len());
    Ok(ids)
}

pub async fn cmd_visits(a: VisitsArgs) -> anyhow::Result<()> {
    ensure!(a.n > 0 && a.concurrency > 0 && a.rounds > 0, "--n, --concurrency and --rounds must be positive");
    println!(
        "bench-desk visits: backend={} n={} concurrency={} rounds={} (each records a different open visit: reached, content, the request closed)",
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
            r.print(a.n, "visits");
            runs.push(r);
        }
    }
    summarize("visits", "visits", a.backend, a.n, a.concurrency, &runs);
    Ok(())
}

async fn run(a: &VisitsArgs, side: Side, round: usize) -> anyhow::Result<Run> {
    let place = Place::temp(a.backend, &a.pg_admin_url, &format!("visits_{}_{round}", side.as_str()));
    place.destroy().await?;
    place.create().await?;
    let r = async {
        let opts = DbOptions { max_connections: u32::try_from(a.concurrency)?, ..Default::default() };
        let db = Db::connect(&place.url()?, &opts).await?;
        db.migrate().await?;
        let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
        let ctx = bootstrap_admin(&app).await?;
        let ids = Arc::new(seed(&app, &ctx, a.n).await?);
        let (secs, lat, cpu) = match side {
            Side::Raw => raw(&db, &ids, a.concurrency).await?,
            Side::Ours => ours(&app, &ctx, &ids, a.concurrency).await?,
            Side::Http => over_http(&app, &ids, a.concurrency).await?,
        };
        verify(&db, a.n, side).await?;
        db.close().await;
        anyhow::Ok(Run { side, round, secs, lat, cpu })
    }
    .await;
    let d = place.destroy().await;
    let r = r?;
    d?;
    Ok(r)
}

/// Exactly `n` tries recorded; through the product, `n` visits archived and `n` requests closed.
async fn verify(db: &Db, n: usize, side: Side) -> anyhow::Result<()> {
    let mut rd = db.read().await?;
    let (tries, done, closed): (i64, i64, i64) = both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM return_visit_attempts), \
         (SELECT COUNT(*) FROM return_visits WHERE status = 'done'), \
         (SELECT COUNT(*) FROM service_requests WHERE status = 'closed')")
        .fetch_one(c).await)?;
    let n = i64::try_from(n)?;
    ensure!(tries == n, "{}: {tries} tries", side.as_str());
    if side != Side::Raw {
        ensure!(done == n && closed == n, "{}: {done} visits done, {closed} requests closed", side.as_str());
    }
    Ok(())
}

fn content() -> RecordForm {
    RecordForm {
        outcome: "reached".into(),
        satisfaction: Some(5),
        attitude: Some(5),
        skill: Some(4),
        timeliness: Some(5),
        solved: Some(true),
        comment: Some("很满意".into()),
        version: None,
    }
}

async fn ours(app: &App, ctx: &Ctx, ids: &Arc<Vec<i64>>, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let form = Arc::new(content());
    let workers = vec![(app.clone(), ctx.clone(), form, ids.clone()); conc];
    concurrently(workers, ids.len(), |(app, ctx, form, ids), i| async move {
        shouhou_app::return_visits::record_visit(&app, &ctx, ids[i], &form).await?;
        Ok(())
    })
    .await
}

async fn over_http(app: &App, ids: &Arc<Vec<i64>>, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let server = Server::start(app).await?;
    let base = server.base.clone();
    let body = Arc::new(
        json!({"outcome": "reached", "satisfaction": 5, "attitude": 5, "skill": 4, "timeliness": 5, "solved": true, "comment": "很满意"}),
    );
    let clients = server.clients("admin", conc).await?;
    let workers: Vec<_> = clients.into_iter().map(|c| (c, body.clone(), base.clone(), ids.clone())).collect();
    let measured = concurrently(workers, ids.len(), |(Client { http, token }, body, base, ids), i| async move {
        let url = format!("{base}/api/v1/return-visits/{}/record", ids[i]);
        let status = http.post(&url).bearer_auth(&token).json(&*body).send().await?.status();
        ensure!(status == reqwest::StatusCode::OK, "POST answered {status}");
        Ok(())
    })
    .await?;
    server.stop().await?;
    Ok(measured)
}

/// The database's limit: one try row per transaction, through the same pool and writer.
async fn raw(db: &Db, ids: &Arc<Vec<i64>>, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let now = jiff::Timestamp::now().as_millisecond();
    concurrently(vec![(db.clone(), ids.clone()); conc], ids.len(), move |(db, ids), i| async move {
        let mut tx = db.begin().await?;
        both!(&mut tx.conn(), c => sqlx::query(
            "INSERT INTO return_visit_attempts (return_visit_id, at, by_user, outcome, note) \
             VALUES ($1, $2, NULL, 'reached', '很满意')")
            .bind(ids[i]).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
