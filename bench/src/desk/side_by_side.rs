//! The customer with no request beside the customer with thousands of open ones (`--big-open`),
//! in one run on one data set:
//!
//! * the screen pop by phone of each, as a function call (`shouhou_app::desk::screen_pop`, as the
//!   agent) and through HTTP (`GET /api/v1/screen-pop?phone=…` with the agent's bearer token), with
//!   one client (the latency of a pop) and with `--clients` concurrent ones (throughput);
//! * every queue page (`GET /api/v1/service-requests?queue=…`, first page) with the big customer's
//!   requests open, and again after they were closed (the same database without such a customer);
//!   they are opened again at the end, with the statuses they had.
//!
//! The machine is shared, so the series compared with each other are interleaved: each runs in
//! `--sbs-rounds` slices of `--sbs-secs / rounds`, taking turns (the order reversed every other
//! round), and its figures are over all its slices; an untimed warm-up of each comes first.
use crate::PopArgs;
use crate::place::actor_ctx;
use crate::plan::Plan;
use anyhow::{Context as _, anyhow, ensure};
use serde_json::json;
use shouhou_app::desk::{self, Lookup};
use shouhou_app::{App, Ctx};
use shouhou_bench::http::{Client, Run, Series, Server, closed_loop};
use shouhou_bench::stats::pcts_json;
use shouhou_store::{Db, both};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Open requests the big customer keeps while the rest are parked: a full first page of its open
/// requests (the screen pop shows 50).
const FIFTY: i64 = 50;

/// The queues the API offers (`GET /api/v1/service-requests?queue=`).
pub const QUEUES: &[&str] = &["mine", "station", "unassigned", "due_soon", "breached", "all"];

/// One measured series.
struct Line {
    name: String,
    run: Run,
    /// What the answer showed (rows, totals), checked once before the clock started.
    shows: String,
}

fn print_line(l: &Line) {
    println!(
        "  {:<46} {:>7} {:>9.1} {:>7.2} {:>7.2} {:>7.2} {:>7.2}   {}",
        l.name,
        l.run.requests,
        l.run.rps(),
        l.run.lat.p50,
        l.run.lat.p90,
        l.run.lat.p99,
        l.run.lat.max,
        l.shows
    );
    println!("  {:<46} {}", "", l.run.cpu);
}

fn header() {
    println!(
        "  {:<46} {:>7} {:>9} {:>7} {:>7} {:>7} {:>7}   shows",
        "series", "calls", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
}

/// How much slower `heavy` is than `light`: req/s of light over heavy, and p99 of heavy over light.
fn ratio(light: &Run, heavy: &Run) -> (f64, f64) {
    (light.rps() / heavy.rps().max(1e-9), heavy.lat.p99 / light.lat.p99.max(1e-9))
}

fn ratio_line(what: &str, light: &Run, heavy: &Run) -> serde_json::Value {
    let (slow, p99) = ratio(light, heavy);
    let met = slow <= 2.0 && p99 <= 2.0;
    println!(
        "  {what}: slowdown ×{slow:.2} in req/s, ×{p99:.2} in p99 ({:.1} → {:.1} req/s, p99 {:.2} → {:.2} ms) — within 2×: {}",
        light.rps(),
        heavy.rps(),
        light.lat.p99,
        heavy.lat.p99,
        if met { "met" } else { "NOT met" }
    );
    json!({"what": what, "rps_slowdown": slow, "p99_ratio": p99, "within_2x": met})
}

fn run_json(l: &Line) -> serde_json::Value {
    json!({"name": l.name, "requests": l.run.requests, "secs": l.run.secs, "req_per_s": l.run.rps(),
           "latency": pcts_json(&l.run.lat), "cpu": l.run.cpu.json(), "shows": l.shows})
}

type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;
/// One call of a series, by worker number.
type Call = Arc<dyn Fn(usize) -> BoxFut + Send + Sync>;

/// The agent's screen pop by `phone`, as a function call.
fn pop_call(app: &App, ctx: &Ctx, phone: &str) -> Call {
    let (app, ctx, phone) = (app.clone(), ctx.clone(), Arc::<str>::from(phone));
    Arc::new(move |_| {
        let (app, ctx, phone) = (app.clone(), ctx.clone(), phone.clone());
        Box::pin(async move {
            desk::screen_pop(&app, &ctx, Lookup::Phone(&phone)).await?.ok_or_else(|| anyhow!("no screen pop"))?;
            Ok(())
        })
    })
}

/// GET `base` + `path` with the worker's client and bearer token; every answer must be 200 and is
/// read to the end.
fn get_call(clients: &Arc<Vec<Client>>, base: &str, path: &str) -> Call {
    let (clients, url) = (clients.clone(), Arc::<str>::from(format!("{base}{path}")));
    Arc::new(move |w| {
        let (clients, url) = (clients.clone(), url.clone());
        Box::pin(async move {
            let c = &clients[w % clients.len()];
            let r = c.http.get(&*url).bearer_auth(&c.token).send().await?;
            let status = r.status();
            r.bytes().await?;
            ensure!(status == reqwest::StatusCode::OK, "GET {url} answered {status}");
            Ok(())
        })
    })
}

/// A series being measured.
struct Variant {
    name: String,
    workers: usize,
    call: Call,
    shows: String,
    series: Series,
}

impl Variant {
    fn new(name: String, workers: usize, call: Call, shows: String) -> Variant {
        Variant { name, workers, call, shows, series: Series::default() }
    }

    async fn warm_up(&self, d: Duration) -> anyhow::Result<()> {
        closed_loop(self.workers, d, self.call.clone()).await.with_context(|| self.name.clone())?;
        Ok(())
    }

    async fn slice(&mut self, d: Duration) -> anyhow::Result<()> {
        let s = closed_loop(self.workers, d, self.call.clone()).await.with_context(|| self.name.clone())?;
        self.series.add(s);
        Ok(())
    }

    fn line(&self) -> Line {
        Line { name: self.name.clone(), run: self.series.run(), shows: self.shows.clone() }
    }
}

/// One slice of each, in order or reversed.
async fn slices(vs: &mut [Variant], d: Duration, reversed: bool) -> anyhow::Result<()> {
    let n = vs.len();
    for i in 0..n {
        vs[if reversed { n - 1 - i } else { i }].slice(d).await?;
    }
    Ok(())
}

async fn get_json(c: &Client, url: &str) -> anyhow::Result<serde_json::Value> {
    let r = c.http.get(url).bearer_auth(&c.token).send().await?;
    let status = r.status();
    ensure!(status == reqwest::StatusCode::OK, "GET {url} answered {status}");
    Ok(r.json().await?)
}

/// Open requests of a customer, and all of them.
async fn requests_of(db: &Db, customer_id: i64) -> anyhow::Result<(i64, i64)> {
    let mut rd = db.read().await?;
    Ok(both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status NOT IN ('closed', 'cancelled') THEN 1 ELSE 0 END), 0), COUNT(*) \
         FROM service_requests WHERE customer_id = $1").bind(customer_id).fetch_one(c).await)?)
}

/// Close the open requests of `customer_id`, remembering their statuses in `bench_reopen`.
async fn close_open(db: &Db, customer_id: i64) -> anyhow::Result<u64> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    both!(&mut c, c => sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_reopen (id BIGINT PRIMARY KEY, status TEXT NOT NULL)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(&mut c, c => sqlx::query(
        "INSERT INTO bench_reopen (id, status) SELECT id, status FROM service_requests \
         WHERE customer_id = $1 AND status NOT IN ('closed', 'cancelled')")
        .bind(customer_id).execute(c).await.map(|r| r.rows_affected()))?;
    let n = both!(&mut c, c => sqlx::query(
        "UPDATE service_requests SET status = 'closed', closed_at = updated_at WHERE id IN (SELECT id FROM bench_reopen)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// Open again what [`close_open`] closed, with the statuses they had.
async fn reopen(db: &Db) -> anyhow::Result<u64> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    both!(&mut c, c => sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_reopen (id BIGINT PRIMARY KEY, status TEXT NOT NULL)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    let n = both!(&mut c, c => sqlx::query(
        "UPDATE service_requests SET status = (SELECT b.status FROM bench_reopen b WHERE b.id = service_requests.id), \
         closed_at = NULL WHERE id IN (SELECT id FROM bench_reopen)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(&mut c, c => sqlx::query("DELETE FROM bench_reopen").execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// Move the open requests of `customer_id` but its newest `keep` to `parking_id`, remembering
/// whose they were in `bench_moved`: the customer then shows the same open requests (its newest
/// ones) with nothing behind them.
async fn park_all_but(db: &Db, customer_id: i64, keep: i64, parking_id: i64) -> anyhow::Result<u64> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    both!(&mut c, c => sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_moved (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(&mut c, c => sqlx::query(
        "INSERT INTO bench_moved (id, customer_id) SELECT id, customer_id FROM service_requests \
         WHERE customer_id = $1 AND status NOT IN ('closed', 'cancelled') AND id NOT IN ( \
           SELECT id FROM service_requests WHERE customer_id = $1 AND status NOT IN ('closed', 'cancelled') \
           ORDER BY created_at DESC LIMIT $2)")
        .bind(customer_id).bind(keep).execute(c).await.map(|r| r.rows_affected()))?;
    let n = both!(&mut c, c => sqlx::query(
        "UPDATE service_requests SET customer_id = $1 WHERE id IN (SELECT id FROM bench_moved)")
        .bind(parking_id).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// Give back what [`park_all_but`] moved.
async fn unpark(db: &Db) -> anyhow::Result<u64> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    both!(&mut c, c => sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_moved (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    let n = both!(&mut c, c => sqlx::query(
        "UPDATE service_requests SET customer_id = (SELECT b.customer_id FROM bench_moved b WHERE b.id = service_requests.id) \
         WHERE id IN (SELECT id FROM bench_moved)")
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(&mut c, c => sqlx::query("DELETE FROM bench_moved").execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// PostgreSQL: vacuum the table after the mass update, so that neither state is measured over
/// the other's dead row versions. Nothing on SQLite.
async fn vacuum(db: &Db) -> anyhow::Result<()> {
    if let Db::Postgres(pool) = db {
        let t = Instant::now();
        sqlx::query("VACUUM service_requests").execute(pool).await?;
        println!("  VACUUM service_requests: {:.1} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}

pub async fn side_by_side(app: &App, plan: &Plan, a: &PopArgs) -> anyhow::Result<serde_json::Value> {
    let (Some(big), Some(none)) = (plan.big(), plan.none()) else {
        return Ok(serde_json::Value::Null);
    };
    let (big_id, none_id) = (big as i64 + 1, none as i64 + 1);
    let (big_phone, none_phone) = (plan.phone[big].to_string(), plan.phone[none].to_string());
    let (reopened, unparked) = (reopen(&app.db).await?, unpark(&app.db).await?);
    if reopened + unparked > 0 {
        println!("  ({reopened} requests left closed and {unparked} left moved by an interrupted run: put back)");
        vacuum(&app.db).await?;
    }
    let (big_open, big_all) = requests_of(&app.db, big_id).await?;
    let (_, none_all) = requests_of(&app.db, none_id).await?;
    ensure!(
        big_open == plan.big_open as i64 && big_all == big_open && none_all == 0,
        "the data set does not hold the expected customers: big {big_open} open of {big_all}, none {none_all}"
    );
    println!(
        "side by side ({} clients, {} s per series in {} interleaved slices after a {:.1} s warm-up; customer \
         {none_id} with no request, customer {big_id} with {big_open} open requests and nothing else; both key \
         accounts, {} and {} devices):",
        a.clients,
        a.sbs_secs,
        a.sbs_rounds.max(1),
        a.sbs_secs as f64 / 4.0,
        plan.devices_of(none).len(),
        plan.devices_of(big).len()
    );
    // Where the big customer's other open requests wait while it shows only its newest FIFTY: the
    // last customer (a person, shown by no series).
    let parking_id = plan.customers as i64;
    let none_label = "0 requests".to_string();
    let agent = actor_ctx(app, "agent").await?;
    let server = Server::start(app).await?;
    let base = server.base.clone();
    let r = async {
        let clients = Arc::new(server.clients("agent", a.clients).await?);
        // What each screen pop shows, checked once.
        let mut shows = vec![];
        for (id, phone) in [(none_id, &none_phone), (big_id, &big_phone)] {
            let pop = desk::screen_pop(app, &agent, Lookup::Phone(phone)).await?.ok_or_else(|| anyhow!("no pop"))?;
            ensure!(pop.customer.id == id, "pop of {phone}: customer {} instead of {id}", pop.customer.id);
            let v = get_json(&clients[0], &format!("{base}/api/v1/screen-pop?phone={phone}")).await?;
            ensure!(v["customer"]["id"].as_i64() == Some(id), "HTTP pop of {phone}: {}", v["customer"]["id"]);
            let http_open = v["open_requests"].as_array().map(Vec::len).unwrap_or(0);
            ensure!(http_open == pop.open_requests.len(), "HTTP and function call disagree");
            shows.push(format!(
                "{} devices, {} open, {} history",
                pop.devices.len(),
                pop.open_requests.len(),
                pop.history.len()
            ));
        }
        let rounds = a.sbs_rounds.max(1);
        let slice = Duration::from_secs_f64(a.sbs_secs as f64 / rounds as f64);
        let warm = Duration::from_secs_f64(a.sbs_secs as f64 / 4.0);
        // Each pop with one client (latency without queueing) and with `--clients` of them
        // (throughput), as a function call and through HTTP: the customer with none, the big one;
        // and the big one again with only its newest 50 open requests left (the rest moved to
        // another customer for the while): the same screen with nothing behind it.
        let fifty_label = format!("{} open", FIFTY);
        let big_label = format!("{big_open} open");
        let mut loaded = vec![];
        let mut parked = vec![];
        for workers in [1, a.clients] {
            for via in ["fn  ", "http"] {
                let call = |phone: &str| {
                    if via == "http" {
                        get_call(&clients, &base, &format!("/api/v1/screen-pop?phone={phone}"))
                    } else {
                        pop_call(app, &agent, phone)
                    }
                };
                let name = |which: &str, what: &str| format!("pop {via} {workers}c {which} ({what})");
                loaded.push(Variant::new(name("none", &none_label), workers, call(&none_phone), shows[0].clone()));
                loaded.push(Variant::new(name("big", &big_label), workers, call(&big_phone), shows[1].clone()));
                parked.push(Variant::new(name("fifty", &fifty_label), workers, call(&big_phone), shows[1].clone()));
            }
        }
        let park = || async {
            let t = Instant::now();
            let n = park_all_but(&app.db, big_id, FIFTY, parking_id).await?;
            println!(
                "  moved {n} of the big customer's open requests (all but its newest {FIFTY}) to customer {parking_id} \
                 in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            anyhow::Ok(())
        };
        let unpark_now = || async {
            let t = Instant::now();
            let n = unpark(&app.db).await?;
            println!("  moved them back ({n}) in {:.1} s", t.elapsed().as_secs_f64());
            anyhow::Ok(())
        };
        let pops = async {
            for v in &loaded {
                v.warm_up(warm).await?;
            }
            // Even rounds: as loaded, then parked; odd rounds the other way round.
            for round in 0..rounds {
                let reversed = round % 2 == 1;
                if !reversed {
                    slices(&mut loaded, slice, false).await?;
                    park().await?;
                    if round == 0 {
                        for v in &parked {
                            v.warm_up(warm).await?;
                        }
                    }
                    slices(&mut parked, slice, false).await?;
                } else {
                    slices(&mut parked, slice, true).await?;
                    unpark_now().await?;
                    slices(&mut loaded, slice, true).await?;
                }
            }
            anyhow::Ok(())
        }
        .await;
        unpark_now().await?;
        vacuum(&app.db).await?;
        pops?;
        // Every queue, first page, with the big customer's requests open and with them closed.
        let mut with = vec![];
        let mut without = vec![];
        for q in QUEUES {
            let path = format!("/api/v1/service-requests?queue={q}");
            let v = get_json(&clients[0], &format!("{base}{path}")).await?;
            let shows = format!("{} items, total {}", v["items"].as_array().map(Vec::len).unwrap_or(0), v["total"]);
            let name = |state: &str| format!("http queue={q} ({state})");
            with.push(Variant::new(name(&format!("with {big_open} open")), a.clients, get_call(&clients, &base, &path), shows));
            without.push(Variant::new(name("without"), a.clients, get_call(&clients, &base, &path), String::new()));
        }
        let close = || async {
            let t = Instant::now();
            let n = close_open(&app.db, big_id).await?;
            println!("  closed the big customer's {n} open requests in {:.1} s", t.elapsed().as_secs_f64());
            vacuum(&app.db).await
        };
        let open_again = || async {
            let t = Instant::now();
            let n = reopen(&app.db).await?;
            println!("  opened them again ({n}) in {:.1} s", t.elapsed().as_secs_f64());
            vacuum(&app.db).await
        };
        let queues = async {
            for v in &with {
                v.warm_up(warm).await?;
            }
            for round in 0..rounds {
                let reversed = round % 2 == 1;
                if !reversed {
                    slices(&mut with, slice, false).await?;
                    close().await?;
                    if round == 0 {
                        for (v, w) in without.iter_mut().zip(QUEUES) {
                            let path = format!("{base}/api/v1/service-requests?queue={w}");
                            let j = get_json(&clients[0], &path).await?;
                            let n = j["items"].as_array().map(Vec::len).unwrap_or(0);
                            v.shows = format!("{n} items, total {}", j["total"]);
                            v.warm_up(warm).await?;
                        }
                    }
                    slices(&mut without, slice, false).await?;
                } else {
                    slices(&mut without, slice, true).await?;
                    open_again().await?;
                    slices(&mut with, slice, true).await?;
                }
            }
            anyhow::Ok(())
        }
        .await;
        if reopen(&app.db).await? > 0 {
            println!("  opened the big customer's requests again");
            vacuum(&app.db).await?;
        }
        queues?;
        header();
        let pops: Vec<(usize, &str, &str, Line)> = loaded
            .iter()
            .chain(&parked)
            .map(|v| {
                let which = if v.name.contains(" none ") {
                    "none"
                } else if v.name.contains(" fifty ") {
                    "fifty"
                } else {
                    "big"
                };
                (v.workers, if v.name.starts_with("pop http") { "http" } else { "fn  " }, which, v.line())
            })
            .collect();
        for p in &pops {
            print_line(&p.3);
        }
        let with: Vec<Line> = with.iter().map(Variant::line).collect();
        let without: Vec<Line> = without.iter().map(Variant::line).collect();
        for l in with.iter().chain(&without) {
            print_line(l);
        }
        println!(
            "ratios (reference first: the customer with none, or the big one with only its newest {FIFTY} open; \
             the queues without the big customer's open requests):"
        );
        let mut ratios = vec![];
        let find = |w: usize, v: &str, which: &str| pops.iter().find(|p| p.0 == w && p.1 == v && p.2 == which);
        for workers in [1, a.clients] {
            for via in ["fn  ", "http"] {
                if let (Some(none), Some(big), Some(fifty)) =
                    (find(workers, via, "none"), find(workers, via, "big"), find(workers, via, "fifty"))
                {
                    let what = format!("screen pop, {} {workers}c", via.trim());
                    ratios.push(ratio_line(&format!("{what}, none → {big_label}"), &none.3.run, &big.3.run));
                    ratios.push(ratio_line(&format!("{what}, {fifty_label} → {big_label}"), &fifty.3.run, &big.3.run));
                }
            }
        }
        for (w, wo) in with.iter().zip(&without) {
            ratios.push(ratio_line(&w.name.replace(&format!(" (with {big_open} open)"), ""), &wo.run, &w.run));
        }
        // The HTTP pops with one client: the latency of a pop end to end, without queueing.
        let http1: Vec<&Line> = pops.iter().filter(|p| p.0 == 1 && p.1 == "http").map(|p| &p.3).collect();
        let worst_http_pop = http1.iter().map(|l| l.run.lat.p99).fold(0.0, f64::max);
        println!(
            "  screen pop through HTTP, one client, p99 < 10 ms: {} ({})",
            if worst_http_pop < 10.0 { "met" } else { "NOT met" },
            http1.iter().map(|l| format!("{} {:.2} ms", l.name, l.run.lat.p99)).collect::<Vec<_>>().join(", ")
        );
        anyhow::Ok(json!({
            "clients": a.clients, "secs": a.sbs_secs, "big_open": big_open, "big_customer": big_id, "none_customer": none_id,
            "pops": pops.iter().map(|p| run_json(&p.3)).collect::<Vec<_>>(),
            "queues_with": with.iter().map(run_json).collect::<Vec<_>>(),
            "queues_without": without.iter().map(run_json).collect::<Vec<_>>(),
            "ratios": ratios,
            "http_pop_p99_under_10ms": worst_http_pop < 10.0,
        }))
    }
    .await;
    server.stop().await?;
    r
}
