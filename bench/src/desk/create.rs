//! `bench-desk create`: request creation through the use case and through HTTP against the raw
//! limit of the database, measured side by side in one run.
use crate::place::{Place, bootstrap_admin};
use crate::{BackendArg, CreateArgs};
use anyhow::{anyhow, ensure};
use serde_json::json;
use shouhou_app::requests::{self, RequestForm};
use shouhou_app::{App, AppConfig, Ctx, SystemClock};
use shouhou_app::{
    customers::{self, CustomerForm},
    devices::{self, DeviceForm},
    products::{self, ProductModelForm},
};
use shouhou_bench::http::{Client, Server};
use shouhou_bench::stats::{Pcts, concurrently, pcts_json};
use shouhou_bench::sys::{CpuUse, loadavg, machine};
use shouhou_domain::customers::CustomerTier;
use shouhou_domain::requests::{RequestType, Urgency, business_day};
use shouhou_store::crypto::test_keyring;
use shouhou_store::{Db, DbOptions, both};
use std::sync::Arc;

// =====================================================================================
// create: the use case against the raw limit
// =====================================================================================

pub const CREATE_DESCRIPTION: &str = "设备无法开机，电源指示灯不亮，已尝试更换电源线无效";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    Raw,
    Ours,
    /// The whole product: `POST /api/v1/service-requests` over loopback HTTP with a bearer token
    /// and an `Idempotency-Key` (authentication, JSON, the key stored in the command's
    /// transaction, the use case, the audit entry), served in this process.
    Http,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Raw => "raw",
            Side::Ours => "ours",
            Side::Http => "http",
        }
    }
}

pub struct CreateSeed {
    pub ctx: Ctx,
    pub customer_id: i64,
    pub device_id: i64,
    pub serial: String,
}

/// The same product model, customer and device on every fresh database, through the use cases.
pub async fn seed_create(app: &App) -> anyhow::Result<CreateSeed> {
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

pub struct CreateRun {
    pub path: Side,
    pub round: usize,
    pub secs: f64,
    pub lat: Pcts,
    pub cpu: CpuUse,
}

impl CreateRun {
    pub fn rps(&self, n: usize) -> f64 {
        n as f64 / self.secs
    }
}

pub async fn cmd_create(a: CreateArgs) -> anyhow::Result<()> {
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
        .map(|r| json!({"round": r.round, "path": r.path.as_str(), "secs": r.secs, "req_per_s": r.rps(a.n), "latency": pcts_json(&r.lat), "cpu": r.cpu.json()}))
        .collect();
    println!(
        "{}",
        json!({"bench": "desk-create", "backend": a.backend.as_str(), "n": a.n, "concurrency": a.concurrency,
               "raw_req_per_s": raw_rps, "raw_row_writes_per_s": raw_rps * ROW_WRITES as f64, "ours_req_per_s": ours_rps,
               "ratio": ratio, "http_req_per_s": http_rps, "http_ratio": http_rps / raw_rps, "runs": rounds})
    );
    Ok(())
}

pub async fn run_create(a: &CreateArgs, path: Side, round: usize) -> anyhow::Result<CreateRun> {
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

pub async fn verify_created(db: &Db, n: usize, path: Side) -> anyhow::Result<()> {
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

pub async fn create_ours(app: &App, seed: &CreateSeed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let form = Arc::new(RequestForm {
        customer_id: seed.customer_id,
        serial_number: Some(seed.serial.clone()),
        request_type: "repair".into(),
        channel: "phone".into(),
        urgency: "normal".into(),
        description: CREATE_DESCRIPTION.into(),
        ..Default::default()
    });
    let workers = vec![(app.clone(), seed.ctx.clone(), form); conc];
    concurrently(workers, n, |(app, ctx, form), _| async move {
        requests::create_request(&app, &ctx, &form).await?;
        Ok(())
    })
    .await
}

/// The same requests through the served product: each of `conc` keep-alive clients logs in once,
/// then posts requests with a fresh `Idempotency-Key` each, as an integration would.
pub async fn create_http(app: &App, seed: &CreateSeed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
    let server = Server::start(app).await?;
    let base = server.base.clone();
    let body = Arc::new(json!({
        "customer_id": seed.customer_id, "serial_number": seed.serial, "type": "repair", "channel": "phone",
        "urgency": "normal", "description": CREATE_DESCRIPTION
    }));
    let clients = server.clients("admin", conc).await?;
    let url = format!("{base}/api/v1/service-requests");
    let workers: Vec<_> = clients.into_iter().map(|c| (c, body.clone(), url.clone())).collect();
    let measured = concurrently(workers, n, |(Client { http: client, token }, body, url), i| async move {
        let r = client.post(&url).bearer_auth(&token).header("idempotency-key", format!("bench-{i}")).json(&*body);
        let status = r.send().await?.status();
        ensure!(status == reqwest::StatusCode::CREATED, "POST answered {status}");
        Ok(())
    })
    .await?;
    server.stop().await?;
    Ok(measured)
}

/// Row writes of one request on the raw path: counter upsert, request insert, event insert,
/// request update (SLA cache), audit head update, audit insert, audit head update.
pub const ROW_WRITES: usize = 7;

/// What the raw program writes, computed once before the clock starts.
pub struct RawValues {
    pub day: String,
    pub day_compact: String,
    pub customer_id: i64,
    pub device_id: i64,
    pub created_by: i64,
    pub actor_name: String,
    pub username: String,
    pub policy_id: i64,
    pub policy_name: String,
    pub calendar: String,
    pub response_min: i64,
    pub resolution_min: i64,
    pub now: i64,
    pub hash: String,
}

pub const RAW_COUNTER: &str = "INSERT INTO request_counters (day, last) VALUES ($1, 1) \
    ON CONFLICT (day) DO UPDATE SET last = request_counters.last + 1 RETURNING last";
pub const RAW_REQUEST: &str = "INSERT INTO service_requests (number, customer_id, device_id, request_type, channel, urgency, status, description, \
    fault_code, station_id, assignee_id, created_by, promised_reply_at, calendar_code, policy_id, response_target_min, \
    resolution_target_min, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id";
pub const RAW_EVENT: &str = "INSERT INTO request_events (request_id, at, actor_id, actor_name, kind, action, from_status, to_status, note, data) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
pub const RAW_UPDATE: &str = "UPDATE service_requests SET status = $1, first_contact_resolution = COALESCE($2, first_contact_resolution), \
    closed_at = $3, response_due_at = $4, resolution_due_at = $5, response_state = $6, resolution_state = $7, \
    version = version + 1, updated_at = $8, response_warn_at = $11, resolution_warn_at = $12 \
    WHERE id = $9 AND version = $10 RETURNING version";
pub const RAW_HEAD: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash";
pub const RAW_AUDIT: &str = "INSERT INTO audit_log (seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub const RAW_HEAD_HASH: &str = "UPDATE audit_head SET last_hash = $1 WHERE id = 1";

pub async fn create_raw(app: &App, seed: &CreateSeed, n: usize, conc: usize) -> anyhow::Result<(f64, Pcts, CpuUse)> {
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
    concurrently(vec![(app.db.clone(), v); conc], n, |(db, v), _| async move { raw_request(&db, &v).await }).await
}

/// One request's rows in one transaction, the statements the use case writes, nothing else.
pub async fn raw_request(db: &Db, v: &RawValues) -> anyhow::Result<()> {
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
