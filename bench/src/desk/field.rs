//! `bench-desk field`: dispatch recommendations over a national network (300 stations, 3 000
//! engineers, 50 000 open work orders), as a function call and through HTTP with a bearer token;
//! and the service report PDF with two photos. Sequential calls, wall time per call.
use crate::place::{Place, bootstrap_admin};
use crate::{BackendArg, bar};
use anyhow::ensure;
use clap::Args;
use serde_json::json;
use shouhou_app::{App, AppConfig, SystemClock};
use shouhou_bench::http::Server;
use shouhou_bench::stats::{pcts, pcts_json};
use shouhou_bench::sys::{cpu_mark, machine};
use shouhou_store::crypto::test_keyring;
use shouhou_store::{Db, DbOptions, both};
use std::sync::Arc;
use std::time::Instant;

#[derive(Args)]
pub struct FieldArgs {
    #[arg(long, value_enum)]
    pub backend: BackendArg,
    #[arg(long, default_value_t = 300)]
    pub stations: usize,
    /// Engineers in all (spread evenly over the stations).
    #[arg(long, default_value_t = 3000)]
    pub engineers: usize,
    /// Open work orders loaded besides the measured ones.
    #[arg(long, default_value_t = 50_000)]
    pub open: usize,
    /// Timed recommendation calls per series.
    #[arg(long, default_value_t = 2000)]
    pub calls: usize,
    /// Timed report downloads.
    #[arg(long, default_value_t = 100)]
    pub reports: usize,
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_admin_url: String,
}

/// Districts of the region table, each with its city: the stations' homes and their coverage.
fn districts(n: usize) -> Vec<(String, String)> {
    use shouhou_domain::regions::children;
    let mut out = vec![];
    for (province, _) in children(None) {
        for (city, _) in children(Some(&province)) {
            for (district, _) in children(Some(&city)) {
                out.push((district, city.clone()));
                if out.len() == n {
                    return out;
                }
            }
        }
    }
    out
}

/// A PNG of `w` × `h` pixels (a colour gradient) with stored, uncompressed deflate blocks: a
/// photo-sized image without an image encoder.
fn png(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 128]);
        }
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

pub async fn cmd_field(a: FieldArgs) -> anyhow::Result<()> {
    println!(
        "bench-desk field: backend={} stations={} engineers={} open={} calls={} reports={}",
        a.backend.as_str(),
        a.stations,
        a.engineers,
        a.open,
        a.calls,
        a.reports
    );
    println!("machine: {}", machine());
    let place = Place::temp(a.backend, &a.pg_admin_url, "field");
    place.create().await?;
    let r = run(&place, &a).await;
    place.destroy().await?;
    let out = r?;
    println!("{out}");
    Ok(())
}

async fn run(place: &Place, a: &FieldArgs) -> anyhow::Result<serde_json::Value> {
    let db = Db::connect(&place.url()?, &DbOptions::default()).await?;
    db.migrate().await?;
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default(), test_keyring());
    let admin = bootstrap_admin(&app).await?;
    let t = Instant::now();
    shouhou_app::products::create_product_model(
        &app,
        &admin,
        &shouhou_app::products::ProductModelForm {
            code: "XG-5000".into(),
            name: "光传输设备".into(),
            product_line: "光传输".into(),
            ..Default::default()
        },
    )
    .await?;
    // Stations at the first districts of the table, each covering its whole city (so a visit has
    // several covering stations), and a customer with a device in each district.
    let homes = districts(a.stations);
    ensure!(homes.len() == a.stations, "only {} districts", homes.len());
    let pb = bar(homes.len() as u64, "stations")?;
    let mut station_ids = vec![];
    let mut customers = vec![];
    for (i, (district, city)) in homes.iter().enumerate() {
        let code = format!("ST-{i:04}");
        let id = shouhou_app::stations::create_station(
            &app,
            &admin,
            &shouhou_app::stations::StationForm {
                code: code.clone(),
                name: format!("第 {i} 服务站"),
                region_code: district.clone(),
                address: "服务站路 1 号".into(),
                phone: None,
            },
        )
        .await?;
        shouhou_app::work_orders::set_coverage(&app, &admin, id.0, std::slice::from_ref(city)).await?;
        let customer = shouhou_app::customers::create_customer(
            &app,
            &admin,
            &shouhou_app::customers::CustomerForm {
                name: format!("客户{i}"),
                phone: format!("139{:08}", 10_000_000 + i),
                region_code: district.clone(),
                address: "幸福路 8 号".into(),
                station_code: Some(code),
                ..Default::default()
            },
        )
        .await?;
        let serial = format!("XG5K-{i:06}");
        shouhou_app::devices::create_device(
            &app,
            &admin,
            &shouhou_app::devices::DeviceForm {
                serial_number: serial.clone(),
                model_code: "XG-5000".into(),
                customer_id: customer,
                sale_date: "2026-01-31".into(),
                install_region_code: Some(district.clone()),
                ..Default::default()
            },
        )
        .await?;
        station_ids.push(id.0);
        customers.push((customer, serial, district.clone()));
        pb.inc(1);
    }
    pb.finish_and_clear();
    // Engineers: rows written directly (one password hash for all: hashing 3 000 passwords would
    // measure argon2, not dispatch), certified for 光传输, spread over the stations.
    let hash: String = {
        let mut rd = db.read().await?;
        both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'admin'").fetch_one(c).await)?
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let mut engineers_of: Vec<Vec<i64>> = vec![vec![]; station_ids.len()];
    {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        for i in 0..a.engineers {
            let s = i % station_ids.len();
            let id: i64 = both!(&mut c, c => sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id")
                .bind(format!("eng{i}")).bind(format!("工程师{i}")).bind(&hash).bind(now).fetch_one(c).await)?;
            both!(&mut c, c => sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, 'engineer')").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
            both!(&mut c, c => sqlx::query("INSERT INTO user_stations (user_id, station_id) VALUES ($1, $2)").bind(id).bind(station_ids[s]).execute(c).await.map(|r| r.rows_affected()))?;
            // One engineer in five of each station is not certified for the line.
            if (i / station_ids.len()) % 5 != 0 {
                both!(&mut c, c => sqlx::query("INSERT INTO user_skills (user_id, product_line) VALUES ($1, '光传输')").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
            }
            engineers_of[s].push(id);
        }
        tx.commit().await?;
    }
    // Open work orders: multi-row inserts, spread over stations, engineers and open states.
    let statuses =
        ["dispatched", "assigned", "accepted", "travelling", "on_site", "working", "waiting_parts", "completed"];
    let pb = bar(a.open as u64, "work orders")?;
    {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        let mut i = 0;
        while i < a.open {
            let n = (a.open - i).min(200);
            let mut sql = String::from(
                "INSERT INTO work_orders (number, kind, status, customer_id, device_id, urgency, region_code, station_id, engineer_id, \
                 calendar_code, arrange_from, arrange_due_at, arrange_warn_at, created_at, updated_at) VALUES ",
            );
            for k in 0..n {
                let j = i + k;
                let s = (j * 7919) % station_ids.len();
                let status = statuses[j % statuses.len()];
                let engineer = if status == "dispatched" {
                    "NULL".to_string()
                } else {
                    engineers_of[s][j % engineers_of[s].len()].to_string()
                };
                let (customer, _, district) = &customers[s];
                if k > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "('WO-20990101-{j:06}', 'repair', '{status}', {customer}, {device}, 'normal', '{district}', {station}, {engineer}, \
                     'cn-workday', {now}, {now}, {now}, {now}, {now})",
                    device = s as i64 + 1,
                    station = station_ids[s]
                ));
            }
            both!(&mut c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await.map(|r| r.rows_affected()))?;
            i += n;
            pb.inc(n as u64);
        }
        tx.commit().await?;
    }
    pb.finish_and_clear();
    if matches!(a.backend, BackendArg::Postgres) {
        // What autovacuum does on a live server: statistics, and the visibility map that lets
        // the open-work-order counts read their index alone.
        let mut rd = db.read().await?;
        both!(&mut rd.conn(), c => sqlx::query("VACUUM ANALYZE").execute(c).await.map(|r| r.rows_affected()))?;
    }
    // The measured work orders: one per station, dispatched there, so both tiers are ranked.
    let mut targets = vec![];
    for (s, (customer, serial, _)) in customers.iter().enumerate().take(100) {
        let c = shouhou_app::work_orders::create_work_order(
            &app,
            &admin,
            &shouhou_app::work_orders::WorkOrderForm {
                customer_id: Some(*customer),
                serial_number: Some(serial.clone()),
                kind: "repair".into(),
                ..Default::default()
            },
        )
        .await?;
        shouhou_app::work_orders::dispatch(&app, &admin, c.id, c.version, station_ids[s]).await?;
        targets.push(c.id);
    }
    let load_secs = t.elapsed().as_secs_f64();
    println!(
        "loaded in {load_secs:.1} s: {} stations, {} engineers, {} open work orders",
        a.stations,
        a.engineers,
        a.open + targets.len()
    );

    // What one recommendation shows, checked.
    let rec = shouhou_app::work_orders::recommendations(&app, &admin, targets[0]).await?;
    ensure!(
        !rec.stations.ranked.is_empty() && !rec.engineers.ranked.is_empty(),
        "nothing recommended: {:?} / {:?}",
        rec.stations.excluded.first(),
        rec.engineers.excluded.first()
    );
    let shows = format!(
        "{} stations ranked ({} left out, {} not covering), {} engineers ranked ({} left out)",
        rec.stations.ranked.len(),
        rec.stations.excluded.len(),
        rec.stations.outside,
        rec.engineers.ranked.len(),
        rec.engineers.excluded.len()
    );

    let server = Server::start(&app).await?;
    let result = async {
        let client = server.clients("admin", 1).await?.remove(0);
        let mut series = vec![];
        for via in ["fn", "http"] {
            // Warm-up, untimed.
            for id in targets.iter().take(50) {
                shouhou_app::work_orders::recommendations(&app, &admin, *id).await?;
            }
            let mut lat = Vec::with_capacity(a.calls);
            let cpu = cpu_mark();
            for k in 0..a.calls {
                let id = targets[k % targets.len()];
                let t = Instant::now();
                if via == "fn" {
                    shouhou_app::work_orders::recommendations(&app, &admin, id).await?;
                } else {
                    let r = client
                        .http
                        .get(format!("{}/api/v1/work-orders/{id}/recommendations", server.base))
                        .bearer_auth(&client.token)
                        .send()
                        .await?
                        .error_for_status()?;
                    let v: serde_json::Value = r.json().await?;
                    ensure!(v["stations"].as_array().is_some_and(|s| !s.is_empty()), "no stations");
                }
                lat.push(t.elapsed());
            }
            let p = pcts(&lat);
            println!(
                "recommendations, {via:<4} {:>5} calls  p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2} ms   {}",
                p.n,
                p.p50,
                p.p90,
                p.p99,
                p.max,
                cpu.since()
            );
            series.push(json!({"via": via, "latency": pcts_json(&p)}));
        }
        // The report: one visit taken to completion with two photos and a signature.
        let pdf_lat = report_series(&app, &server, &client, &customers, &station_ids, &engineers_of, a.reports).await?;
        anyhow::Ok((series, pdf_lat))
    }
    .await;
    server.stop().await?;
    db.close().await;
    let (series, pdf) = result?;
    let worst = series.iter().filter_map(|s| s["latency"]["p99_ms"].as_f64()).fold(0.0, f64::max);
    println!("  shows: {shows}");
    println!(
        "  target p99 < 5 ms through the API: {}",
        if series[1]["latency"]["p99_ms"].as_f64().unwrap_or(99.0) < 5.0 { "met" } else { "NOT met" }
    );
    Ok(json!({"bench": "field", "backend": a.backend.as_str(), "stations": a.stations, "engineers": a.engineers,
        "open": a.open, "recommendations": series, "worst_p99_ms": worst, "report": pdf, "shows": shows}))
}

#[allow(clippy::too_many_arguments)]
async fn report_series(
    app: &App,
    server: &Server,
    client: &shouhou_bench::http::Client,
    customers: &[(i64, String, String)],
    station_ids: &[i64],
    engineers_of: &[Vec<i64>],
    n: usize,
) -> anyhow::Result<serde_json::Value> {
    use shouhou_app::work_orders::{self as wo, StepForm, WorkOrderForm};
    let admin = crate::place::actor_ctx(app, "admin").await?;
    let (customer, serial, _) = &customers[0];
    let c = wo::create_work_order(
        app,
        &admin,
        &WorkOrderForm {
            customer_id: Some(*customer),
            serial_number: Some(serial.clone()),
            kind: "repair".into(),
            ..Default::default()
        },
    )
    .await?;
    let mut v = wo::dispatch(app, &admin, c.id, c.version, station_ids[0]).await?.version;
    // An engineer certified for the line (the first of each station is not).
    let engineer = engineers_of[0].get(1).copied().unwrap_or(engineers_of[0][0]);
    v = wo::assign(app, &admin, c.id, v, engineer).await?.version;
    let name: String = {
        let mut rd = app.db.read().await?;
        both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT username FROM users WHERE id = $1").bind(engineer).fetch_one(c).await)?
    };
    let eng = crate::place::actor_ctx(app, &name).await?;
    for action in ["accept", "depart", "check_in"] {
        v = wo::step(app, &eng, c.id, v, &StepForm { action: action.into(), ..Default::default() }).await?.version;
    }
    let photo = png(1200, 900);
    for purpose in ["before", "after"] {
        wo::add_file(app, &eng, c.id, purpose, &format!("{purpose}.png"), &photo, None).await?;
    }
    wo::add_file(app, &eng, c.id, "signature", "signature.png", &png(300, 120), None).await?;
    wo::step(
        app,
        &eng,
        c.id,
        v,
        &StepForm {
            action: "complete".into(),
            work_done: Some("更换光模块，业务恢复".into()),
            labour_minutes: Some(60),
            customer_confirmed: Some(true),
            ..Default::default()
        },
    )
    .await?;
    let url = format!("{}/api/v1/work-orders/{}/report.pdf", server.base, c.id);
    let mut lat = vec![];
    let mut size = 0;
    for _ in 0..n {
        let t = Instant::now();
        let bytes = client.http.get(&url).bearer_auth(&client.token).send().await?.error_for_status()?.bytes().await?;
        lat.push(t.elapsed());
        size = bytes.len();
        ensure!(bytes.starts_with(b"%PDF-"), "not a PDF");
    }
    let mut ms: Vec<f64> = lat.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let p95 = ms.get((ms.len() * 95).div_ceil(100).saturating_sub(1)).copied().unwrap_or(0.0);
    let p = pcts(&lat);
    println!(
        "report PDF through HTTP (two {}-byte photos 1200×900, a signature): {} calls  p50 {:.1}  p95 {:.1}  max {:.1} ms, {} bytes",
        photo.len(),
        p.n,
        p.p50,
        p95,
        p.max,
        size
    );
    Ok(
        json!({"calls": p.n, "p50_ms": p.p50, "p95_ms": p95, "max_ms": p.max, "bytes": size, "photo_bytes": photo.len()}),
    )
}
