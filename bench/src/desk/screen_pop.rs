//! `bench-desk screen-pop`: load (or reuse) a data set, then time `shouhou_app::desk::screen_pop`.
use crate::explain::{breakdown, explain};
use crate::load::{gen_only, load, meta_of, read_meta};
use crate::place::{Place, actor_ctx};
use crate::plan::{MOBILE_PREFIXES, Plan};
use crate::rng::{Rng, S_LOOKUPS};
use crate::side_by_side::side_by_side;
use crate::{PopArgs, bar};
use anyhow::{bail, ensure};
use serde_json::json;
use shouhou_app::desk::{self, Lookup};
use shouhou_app::{App, AppConfig, Ctx, SystemClock};
use shouhou_bench::http::{Client, Server};
use shouhou_bench::stats::{Pcts, pcts, pcts_json};
use shouhou_bench::sys::{CpuUse, cpu_mark, loadavg, machine};
use shouhou_store::crypto::test_keyring;
use shouhou_store::{Db, DbOptions, both};
use std::sync::Arc;
use std::time::{Duration, Instant};

// =====================================================================================
// screen pop: measurement
// =====================================================================================

pub enum Key {
    Phone(String),
    Serial(String),
}

pub struct Probe {
    pub key: Key,
    /// The customer id the screen must show first; `None` for a miss.
    pub expect: Option<i64>,
}

pub struct Series {
    pub name: &'static str,
    /// Calls planned; fewer were made when the time budget ran out (`lat.n`).
    pub planned: usize,
    pub cpu: CpuUse,
    pub lat: Pcts,
    pub devices: f64,
    pub open: f64,
    pub history: f64,
}

/// How a series reaches the screen pop: a function call of the use case, or the whole product
/// through HTTP (bearer token, JSON, the same audit).
pub enum Via<'a> {
    Call(&'a App, &'a Ctx),
    Http(&'a Client, &'a str),
}

/// What one pop showed: customer id and the numbers of devices, open requests and history rows.
type Shown = Option<(i64, usize, usize, usize)>;

impl Via<'_> {
    async fn pop(&self, key: &Key) -> anyhow::Result<Shown> {
        match self {
            Via::Call(app, ctx) => {
                let by = match key {
                    Key::Phone(s) => Lookup::Phone(s),
                    Key::Serial(s) => Lookup::Serial(s),
                };
                Ok(desk::screen_pop(app, ctx, by)
                    .await?
                    .map(|s| (s.customer.id, s.devices.len(), s.open_requests.len(), s.history.len())))
            }
            Via::Http(c, base) => {
                let q = match key {
                    Key::Phone(s) => format!("phone={s}"),
                    Key::Serial(s) => format!("serial_number={s}"),
                };
                let r = c.http.get(format!("{base}/api/v1/screen-pop?{q}")).bearer_auth(&c.token).send().await?;
                if r.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                let v: serde_json::Value = r.error_for_status()?.json().await?;
                let n = |k: &str| v[k].as_array().map(Vec::len).unwrap_or(0);
                let id = v["customer"]["id"].as_i64().ok_or_else(|| anyhow::anyhow!("no customer id"))?;
                Ok(Some((id, n("devices"), n("open_requests"), n("history"))))
            }
        }
    }
}

pub async fn run_series(
    via: &Via<'_>,
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
        let t = Instant::now();
        let r = via.pop(&p.key).await?;
        lat.push(t.elapsed());
        match (r, p.expect) {
            (Some((got, d, o, h)), Some(id)) => {
                ensure!(got == id, "{name}: expected customer {id}, got {got}");
                devices += d;
                open += o;
                history += h;
            }
            (None, None) => {}
            (r, e) => bail!("{name}: expected {e:?}, got {:?}", r.map(|s| s.0)),
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

pub fn probes(plan: &Plan, n: usize) -> (Vec<Probe>, Vec<Probe>, Vec<Probe>, Vec<Probe>) {
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

pub async fn cmd_screen_pop(a: PopArgs) -> anyhow::Result<()> {
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
    let plan = Arc::new(Plan::build(a.seed, a.customers, a.devices, a.requests, a.big_open)?);
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
               "requests": a.requests, "big_open": a.big_open, "contacts": plan.contacts.len(), "seed": a.seed, "load": load_json, "screen_pop": pop})
    );
    Ok(())
}

pub async fn measure(place: &Place, plan: &Plan, a: &PopArgs) -> anyhow::Result<serde_json::Value> {
    let db = Db::connect(&place.url()?, &DbOptions::default()).await?;
    // A kept data set gets the migrations shipped since it was loaded, as `shouhou serve` would.
    let (shipped, applied) = db.migration_status().await?;
    if shipped != applied {
        let t = Instant::now();
        db.migrate().await?;
        println!(
            "applied the pending migrations {:?} to the kept data set in {:.1} s",
            shipped.iter().filter(|v| !applied.contains(v)).collect::<Vec<_>>(),
            t.elapsed().as_secs_f64()
        );
        if !a.no_analyze {
            // The load ended with ANALYZE; the new indexes get their statistics too.
            let t = Instant::now();
            let mut tx = db.begin().await?;
            both!(&mut tx.conn(), c => sqlx::query("ANALYZE").execute(c).await.map(|r| r.rows_affected()))?;
            tx.commit().await?;
            println!("ANALYZE after the migrations: {:.1} s", t.elapsed().as_secs_f64());
        }
    }
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
    let r = async {
        let (series, breakdown) =
            if a.no_series { (json!(null), json!(null)) } else { sequential(&app, plan, a).await? };
        let side = side_by_side(&app, plan, a).await?;
        explain(&app, plan).await?;
        anyhow::Ok(json!({"series": series, "breakdown": breakdown, "side_by_side": side}))
    }
    .await;
    db.close().await;
    r
}

/// Sequential screen pops of random customers (agent, finance, by serial, misses), then each
/// statement alone.
async fn sequential(app: &App, plan: &Plan, a: &PopArgs) -> anyhow::Result<(serde_json::Value, serde_json::Value)> {
    let agent = actor_ctx(app, "agent").await?;
    let finance = actor_ctx(app, "finance").await?;
    let (warm, phones, serials, misses) = probes(plan, a.lookups);
    let budget = Duration::from_secs(a.budget_secs);
    let (as_agent, as_finance) = (Via::Call(app, &agent), Via::Call(app, &finance));
    let warmed = run_series(&as_agent, "warm-up", &warm[..a.warmup.min(warm.len())], budget / 4).await?;
    let mut series = vec![
        run_series(&as_agent, "phone, agent", &phones, budget).await?,
        run_series(&as_finance, "phone, finance", &phones, budget).await?,
        run_series(&as_agent, "serial, agent", &serials, budget).await?,
        run_series(&as_agent, "miss, agent", &misses, budget).await?,
    ];
    // The same look-ups end to end: the product served on a loopback port, one keep-alive client
    // per role with its bearer token, so each figure stands beside its function-call twin.
    let server = Server::start(app).await?;
    let http = async {
        let agent_c = server.clients("agent", 1).await?.remove(0);
        let finance_c = server.clients("finance", 1).await?.remove(0);
        let (h_agent, h_finance) = (Via::Http(&agent_c, &server.base), Via::Http(&finance_c, &server.base));
        run_series(&h_agent, "warm-up", &warm[..a.warmup.min(warm.len())], budget / 4).await?;
        anyhow::Ok(vec![
            run_series(&h_agent, "http phone, agent", &phones, budget).await?,
            run_series(&h_finance, "http phone, finance", &phones, budget).await?,
            run_series(&h_agent, "http serial, agent", &serials, budget).await?,
            run_series(&h_agent, "http miss, agent", &misses, budget).await?,
        ])
    }
    .await;
    server.stop().await?;
    series.extend(http?);
    println!(
        "screen_pop latency ({} backend, sequential calls, wall time per call, as a function call and through \
         HTTP with a bearer token; {} warm-up calls not counted; each series stops after {} s):",
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
        "miss, agent" => "phone miss, agent",
        "http phone, agent" => "HTTP phone hit, agent (clear, audited read)",
        "http phone, finance" => "HTTP phone hit, finance (masked, no audit)",
        "http serial, agent" => "HTTP serial hit, agent (clear, audited)",
        _ => "HTTP phone miss, agent (404)",
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
    println!("  target p99 < 10 ms: {} (worst series p99 {worst:.2} ms)", if worst < 10.0 { "met" } else { "NOT met" });
    let breakdown = breakdown(app, plan, &agent, budget).await?;
    Ok((
        json!({
            "series": series.iter().map(|s| json!({"name": s.name, "planned": s.planned, "cpu": s.cpu.json(), "latency": pcts_json(&s.lat), "devices": s.devices,
                "open": s.open, "history": s.history})).collect::<Vec<_>>(),
            "p99_target_met": worst < 10.0,
        }),
        breakdown,
    ))
}
