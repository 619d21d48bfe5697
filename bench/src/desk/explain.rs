//! Where the time of a screen pop goes (each statement alone) and the plans of its statements.
use crate::bar;
use crate::plan::Plan;
use crate::rng::{Rng, S_LOOKUPS};
use anyhow::anyhow;
use serde_json::json;
use shouhou_app::{App, Ctx};
use shouhou_bench::stats::{pcts, pcts_json};
use shouhou_domain::customers::Phone;
use shouhou_store::crypto::test_keyring;
use shouhou_store::requests::{Queue, queue_condition, queue_sql};
use shouhou_store::{Db, both};
use sqlx::AssertSqlSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------- where the time goes ----------

/// The phone look-up as it was written before `434b2ae` (`OR` with a sub-select), timed beside the
/// shipped text (`catalog::customers_by_phone_sql`) to keep the record of why it changed.
pub const Q_BY_PHONE_OR: &str = "SELECT id, kind, name_enc, name_mask, phone_enc, phone_mask, credit_code, region_code, address_enc, tier, \
    station_id, version, created_at FROM customers WHERE (phone_idx = $1 OR id IN (SELECT customer_id FROM customer_contacts \
    WHERE phone_idx = $1)) AND (1 = 1 OR station_id IS NULL) ORDER BY id LIMIT 20";
/// The shipped phone look-up, unscoped (an administrator's scope clause).
pub fn q_by_phone() -> String {
    shouhou_store::customers::customers_by_phone_sql("1 = 1")
}
pub const Q_CONTACTS: &str = "SELECT id, role, name_enc, name_mask, phone_enc, phone_mask FROM customer_contacts WHERE customer_id = $1 ORDER BY id";
pub const Q_DEVICES: &str = "SELECT d.id, d.serial_number, d.model_id, m.code AS model_code, m.name AS model_name, m.product_line, \
    m.warranty_months, d.customer_id, d.sale_date, d.install_region_code, d.install_address_enc, d.dealer_name, d.contract_until, \
    d.station_id, d.version FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.customer_id = $1 ORDER BY d.id";
pub const Q_BY_SERIAL: &str = "SELECT d.id, d.serial_number, d.model_id, m.code AS model_code, m.name AS model_name, m.product_line, \
    m.warranty_months, d.customer_id, d.sale_date, d.install_region_code, d.install_address_enc, d.dealer_name, d.contract_until, \
    d.station_id, d.version FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.serial_number = $1 ORDER BY d.id LIMIT 20";
/// The shipped statement of a customer's open requests or history, unscoped.
pub fn q_requests(open: bool) -> String {
    shouhou_store::requests::requests_of_customer_sql(open, "1 = 1")
}

pub enum Arg {
    None,
    Text(String),
    Id(i64),
    IdLimit(i64, i64),
}

pub async fn timed_query(db: &Db, sql: &str, arg: &Arg) -> anyhow::Result<(Duration, usize)> {
    let mut rd = db.read().await?;
    let sql: Arc<str> = Arc::from(sql);
    let t = Instant::now();
    let n = both!(&mut rd.conn(), c => {
        let q = sqlx::query(AssertSqlSafe(sql));
        let q = match arg { Arg::None => q, Arg::Text(s) => q.bind(s.clone()), Arg::Id(i) => q.bind(*i), Arg::IdLimit(i, l) => q.bind(*i).bind(*l) };
        q.fetch_all(c).await.map(|v| v.len())
    })?;
    Ok((t.elapsed(), n))
}

/// Each statement of a screen pop on its own, sequentially, for 1000 random customers; and the
/// audit append of an agent's read, and the decryption of a customer.
pub async fn breakdown(app: &App, plan: &Plan, agent: &Ctx, budget: Duration) -> anyhow::Result<serde_json::Value> {
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

/// The queues of the API (as `service::queue_named` makes them for the agent `agent_id` at
/// `now`) with their shipped page and count statements for an unscoped caller, and the queue's
/// argument.
pub fn queue_statements(agent_id: i64, now: i64) -> Vec<(&'static str, String, String, i64)> {
    [
        ("mine", Queue::Mine(agent_id)),
        ("station", Queue::Station),
        ("unassigned", Queue::Unassigned),
        ("due_soon", Queue::DueBefore(now + 2 * 3600 * 1000)),
        ("breached", Queue::Breached),
        ("all", Queue::AllOpen),
    ]
    .into_iter()
    .map(|(name, q)| {
        let (cond, arg) = queue_condition(q);
        let (page, count) = queue_sql(cond, "1 = 1", 2);
        (name, page, count, arg)
    })
    .collect()
}

/// A statement to explain: its name, text and arguments as SQL literals.
struct Stmt {
    name: String,
    sql: String,
    args: Vec<String>,
}

fn stmt(name: impl Into<String>, sql: impl Into<String>, args: Vec<String>) -> Stmt {
    Stmt { name: name.into(), sql: sql.into(), args }
}

/// The statement with its arguments written in (SQLite's `EXPLAIN QUERY PLAN`, timing).
fn inline(s: &Stmt) -> String {
    let mut sql = s.sql.clone();
    for (i, v) in s.args.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), v);
    }
    sql
}

/// The plans of the screen pop's statements, for a random existing customer, and with
/// `--big-open` for the big customer and the one with none; and the plans of the queue pages.
pub async fn explain(app: &App, plan: &Plan) -> anyhow::Result<()> {
    let keys = test_keyring();
    let c = plan.customers / 2;
    let id = c as i64 + 1;
    let idx = keys.blind_index(&plan.phone[c].to_string());
    let serial = plan.serial(plan.devices / 2);
    let open_sql = q_requests(true);
    let hist_sql = q_requests(false);
    let mut stmts = vec![
        stmt("customers by phone", q_by_phone(), vec![format!("'{idx}'")]),
        stmt("customers by phone, OR form before 434b2ae", Q_BY_PHONE_OR, vec![format!("'{idx}'")]),
        stmt("contacts of the customer", Q_CONTACTS, vec![id.to_string()]),
        stmt("devices of the customer", Q_DEVICES, vec![id.to_string()]),
        stmt("open requests", open_sql.clone(), vec![id.to_string(), "50".into()]),
        stmt("closed requests", hist_sql.clone(), vec![id.to_string(), "20".into()]),
        stmt("devices by serial", Q_BY_SERIAL, vec![format!("'{serial}'")]),
    ];
    // Statements also timed here (sequentially, each alone), beyond the plans.
    let mut timed = vec![];
    if let (Some(big), Some(none)) = (plan.big(), plan.none()) {
        for (who, c) in [("big customer", big), ("customer with none", none)] {
            let cid = (c as i64 + 1).to_string();
            timed.push(stmts.len());
            stmts.push(stmt(format!("open requests, {who}"), open_sql.clone(), vec![cid.clone(), "50".into()]));
            timed.push(stmts.len());
            stmts.push(stmt(format!("closed requests, {who}"), hist_sql.clone(), vec![cid, "20".into()]));
        }
    }
    let agent_id = {
        let mut rd = app.db.read().await?;
        shouhou_store::users::user_by_username(&mut rd.conn(), "agent").await?.ok_or_else(|| anyhow!("agent"))?.id
    };
    for (q, page, count, arg) in queue_statements(agent_id, app.now()) {
        timed.push(stmts.len());
        stmts.push(stmt(format!("queue {q}, page 1"), page, vec![arg.to_string(), "20".into(), "0".into()]));
        timed.push(stmts.len());
        stmts.push(stmt(format!("queue {q}, count"), count, vec![arg.to_string()]));
    }
    println!("statements alone (20 sequential runs each after one untimed, unscoped caller; inlined arguments):");
    println!("  {:<44} {:>8} {:>8} {:>8} {:>6}", "statement", "p50 ms", "p90 ms", "max ms", "rows");
    for &i in &timed {
        let s = &stmts[i];
        let sql = inline(s);
        let (_, rows) = timed_query(&app.db, &sql, &Arg::None).await?;
        let mut lat = vec![];
        for _ in 0..20 {
            lat.push(timed_query(&app.db, &sql, &Arg::None).await?.0);
        }
        let p = pcts(&lat);
        println!("  {:<44} {:>8.3} {:>8.3} {:>8.3} {:>6}", s.name, p.p50, p.p90, p.max, rows);
    }
    println!("query plans (customer id {id}; with --big-open also the big customer and the one with none; queues):");
    match &app.db {
        Db::Sqlite { readers, .. } => {
            let mut conn = readers.acquire().await?;
            for s in &stmts {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", inline(s))))
                        .fetch_all(&mut *conn)
                        .await?;
                println!("  {}:", s.name);
                for r in rows {
                    println!("    {}", r.3);
                }
            }
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            for (i, s) in stmts.iter().enumerate() {
                // As the application runs it: a prepared statement. PostgreSQL switches a prepared
                // statement to a generic plan after five executions when it looks no dearer.
                let types = s
                    .args
                    .iter()
                    .map(|a| if a.starts_with('\'') { "text" } else { "bigint" })
                    .collect::<Vec<_>>()
                    .join(", ");
                sqlx::raw_sql(AssertSqlSafe(format!("PREPARE bench_q{i} ({types}) AS {}", s.sql)))
                    .execute(&mut *conn)
                    .await?;
                for mode in ["force_custom_plan", "force_generic_plan"] {
                    sqlx::raw_sql(AssertSqlSafe(format!("SET plan_cache_mode = {mode}"))).execute(&mut *conn).await?;
                    let rows: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
                        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) EXECUTE bench_q{i}({})",
                        s.args.join(", ")
                    )))
                    .fetch_all(&mut *conn)
                    .await?;
                    println!("  {} ({}):", s.name, mode.trim_start_matches("force_").replace('_', " "));
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
