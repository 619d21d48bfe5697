//! Lists stay bounded as one customer's history grows (issue 10): a customer's open requests and
//! history, and every queue page and count, are read through indexes that hold only what they list
//! (open or closed requests), in the order they are shown: no sort of a customer's requests, no walk
//! past thousands of open requests to find the closed ones, no scan of the closed history for a
//! queue. Checked on the plans the databases choose, with the statements as they ship.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use shouhou_domain::auth::Scope;
use shouhou_domain::ids::StationId;
use shouhou_store::requests::{self, Queue, queue_condition, queue_sql, requests_of_customer_sql};
use shouhou_store::{Backend, PageRequest, both};
use shouhou_testkit::TestDb;

/// 2000 open requests and nothing else (the telecom operator's account).
const BIG: i64 = 1;
/// No request at all.
const NONE: i64 = 2;
/// 2000 closed requests and nothing else.
const CLOSED: i64 = 3;

/// Two stations, 200 customers, 20 000 requests: 16 000 of customers 4–199 (one in ten open), then
/// the big customer's 2000 open ones, then the 2000 closed ones of `CLOSED`.
async fn seed(t: &TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    let mut c = tx.conn();
    let series = |n: i64| format!("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n})");
    let stmts = [
        "INSERT INTO stations (code, name, region_code, address, created_at, updated_at) VALUES \
         ('SZ-NS01', '深圳南山服务站', '440305', '-', 0, 0), ('GZ-TH01', '广州天河服务站', '440106', '-', 0, 0)"
            .to_string(),
        format!(
            "{} INSERT INTO customers (kind, name_enc, name_mask, phone_enc, phone_idx, phone_mask, region_code, \
             address_enc, station_id, created_at, updated_at) \
             SELECT 'company', '-', '-', '-', 'idx' || n, '-', '440305', '-', CASE WHEN n % 2 = 0 THEN 1 ELSE NULL END, 0, 0 FROM s",
            series(200)
        ),
        // Random customers: one request in ten open, a twentieth of those without a resolution due.
        format!(
            "{} INSERT INTO service_requests (number, customer_id, request_type, channel, urgency, status, description, \
             station_id, calendar_code, response_target_min, resolution_target_min, resolution_due_at, response_due_at, \
             response_state, resolution_state, created_at, updated_at) \
             SELECT 'SR-' || n, 4 + n % 196, 'repair', 'phone', 'normal', \
                    CASE WHEN n % 10 = 0 THEN 'in_progress' ELSE 'closed' END, '-', \
                    CASE WHEN n % 3 = 0 THEN NULL ELSE 1 + (n / 10) % 2 END, '24x7', 60, 480, \
                    CASE WHEN n % 10 = 0 AND n % 200 <> 0 THEN n * 1000 + 28800000 ELSE NULL END, \
                    CASE WHEN n % 10 = 0 THEN n * 1000 + 3600000 ELSE NULL END, \
                    CASE WHEN n % 70 = 0 THEN 'breached' ELSE 'met' END, 'running', n * 1000, n * 1000 FROM s",
            series(16_000)
        ),
        format!(
            "{} INSERT INTO service_requests (number, customer_id, request_type, channel, urgency, status, description, \
             station_id, calendar_code, response_target_min, resolution_target_min, resolution_due_at, created_at, updated_at) \
             SELECT 'SR-B' || n, {BIG}, 'repair', 'phone', 'normal', 'in_progress', '-', 1, '24x7', 60, 480, \
                    16000000 + n * 1000 + 28800000, 16000000 + n * 1000, 16000000 + n * 1000 FROM s",
            series(2000)
        ),
        format!(
            "{} INSERT INTO service_requests (number, customer_id, request_type, channel, urgency, status, description, \
             station_id, calendar_code, response_target_min, resolution_target_min, closed_at, created_at, updated_at) \
             SELECT 'SR-C' || n, {CLOSED}, 'repair', 'phone', 'normal', 'closed', '-', 1, '24x7', 60, 480, \
                    18000000 + n * 1000, 18000000 + n * 1000, 18000000 + n * 1000 FROM s",
            series(2000)
        ),
    ];
    for sql in stmts {
        both!(&mut c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await.map(|r| r.rows_affected())).unwrap();
    }
    tx.commit().await.unwrap();
}

async fn analyze(t: &TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    both!(&mut tx.conn(), c => sqlx::query("ANALYZE").execute(c).await.map(|r| r.rows_affected())).unwrap();
    tx.commit().await.unwrap();
}

/// The statement with its arguments (SQL literals) written in for `$1`, `$2`, ….
fn inline(sql: &str, args: &[String]) -> String {
    let mut s = sql.to_string();
    for (i, v) in args.iter().enumerate().rev() {
        s = s.replace(&format!("${}", i + 1), v);
    }
    s
}

/// The plan of `sql` with `args`: SQLite's `EXPLAIN QUERY PLAN`; on PostgreSQL `EXPLAIN ANALYZE`
/// of the prepared statement (as the application runs it) under a custom and under a generic plan.
async fn plans(t: &TestDb, sql: &str, args: &[String]) -> Vec<String> {
    let mut rd = t.db.read().await.unwrap();
    match t.db.backend() {
        Backend::Sqlite => {
            let eqp = format!("EXPLAIN QUERY PLAN {}", inline(sql, args));
            let rows: Vec<(i64, i64, i64, String)> =
                both!(&mut rd.conn(), c => sqlx::query_as(sqlx::AssertSqlSafe(eqp)).fetch_all(c).await).unwrap();
            vec![rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")]
        }
        Backend::Postgres => {
            let mut out = vec![];
            let types = vec!["bigint"; args.len()].join(", ");
            let prepare = format!("PREPARE plan_probe ({types}) AS {sql}");
            both!(&mut rd.conn(), c => sqlx::raw_sql(sqlx::AssertSqlSafe(prepare)).execute(c).await.map(|r| r.rows_affected())).unwrap();
            for mode in ["force_custom_plan", "force_generic_plan"] {
                let set = format!("SET plan_cache_mode = {mode}");
                both!(&mut rd.conn(), c => sqlx::raw_sql(sqlx::AssertSqlSafe(set)).execute(c).await.map(|r| r.rows_affected())).unwrap();
                let explain = format!(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE plan_probe({})",
                    args.join(", ")
                );
                let rows: Vec<(String,)> =
                    both!(&mut rd.conn(), c => sqlx::query_as(sqlx::AssertSqlSafe(explain)).fetch_all(c).await)
                        .unwrap();
                out.push(format!("{mode}:\n{}", rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")));
            }
            both!(&mut rd.conn(), c => sqlx::raw_sql("DEALLOCATE plan_probe; RESET plan_cache_mode").execute(c).await.map(|r| r.rows_affected())).unwrap();
            out
        }
    }
}

/// The indexes that hold open requests only.
const OPEN_ONLY: &[&str] = &[
    "service_requests_open_queue",
    "service_requests_open_assignee",
    "service_requests_open_station",
    "service_requests_customer_open",
];

/// What is wrong with `plan`, if anything: it must use only the given indexes (all partial: open
/// or closed requests only), never scan the table or an index over the whole history. `strict`:
/// moreover no sort, and on PostgreSQL no row read and then thrown away.
fn unbounded(plan: &str, indexes: &[&str], strict: bool) -> Option<String> {
    if plan.contains("Seq Scan") || plan.lines().any(|l| l.trim() == "SCAN service_requests") {
        return Some("scans the table".into());
    }
    if !indexes.iter().any(|i| plan.contains(i)) {
        return Some(format!("uses none of {indexes:?}"));
    }
    let mut used =
        plan.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| w.starts_with("service_requests_"));
    if let Some(other) = used.find(|i| !indexes.contains(i)) {
        return Some(format!("uses {other}, not only {indexes:?}"));
    }
    if strict
        && (plan.contains("TEMP B-TREE")
            || plan.lines().any(|l| l.trim_start_matches([' ', '-', '>']).starts_with("Sort")))
    {
        return Some("sorts".into());
    }
    if strict && plan.contains("Rows Removed by Filter") {
        return Some("reads rows it does not show".into());
    }
    None
}

async fn a_customers_lists_and_the_queue_pages_read_only_what_they_show(b: Backend) {
    let t = TestDb::new(b).await.unwrap();
    seed(&t).await;
    // SQLite as the application runs it (it never runs ANALYZE), then with statistics; PostgreSQL
    // with statistics, as autovacuum keeps them.
    let rounds: &[bool] = if b == Backend::Sqlite { &[false, true] } else { &[true] };
    let mut wrong = vec![];
    let mut check = |what: String, plan: &str, indexes: &[&str], strict: bool| {
        if let Some(why) = unbounded(plan, indexes, strict) {
            wrong.push(format!("{what} {why}:\n{plan}"));
        }
    };
    for &analyzed in rounds {
        if analyzed {
            analyze(&t).await;
        }
        for customer in [BIG, NONE, CLOSED] {
            for open in [true, false] {
                let index = if open { "service_requests_customer_open" } else { "service_requests_customer_closed" };
                for (scope, args) in [
                    ("1 = 1", vec![customer.to_string(), "50".to_string()]),
                    ("station_id IN ($3)", vec![customer.to_string(), "50".to_string(), "1".to_string()]),
                ] {
                    let sql = requests_of_customer_sql(open, scope);
                    for plan in plans(&t, &sql, &args).await {
                        let what = format!("customer {customer} open={open} scope {scope} analyzed={analyzed}");
                        // A customer without such requests may have them sorted: there are none
                        // (PostgreSQL's custom plan then takes a bitmap scan and sorts nothing).
                        check(what, &plan, &[index], customer != NONE);
                    }
                }
            }
        }
        for q in [
            Queue::Mine(99),
            Queue::Station,
            Queue::Unassigned,
            Queue::DueBefore(20_000_000),
            Queue::Breached,
            Queue::AllOpen,
        ] {
            let (cond, arg) = queue_condition(q);
            let (page, count) = queue_sql(cond, "1 = 1", 2);
            for plan in plans(&t, &page, &[arg.to_string(), "20".into(), "40".into()]).await {
                check(format!("{q:?} page, analyzed={analyzed}"), &plan, OPEN_ONLY, false);
            }
            for plan in plans(&t, &count, &[arg.to_string()]).await {
                check(format!("{q:?} count, analyzed={analyzed}"), &plan, OPEN_ONLY, false);
            }
        }
    }

    assert!(wrong.is_empty(), "{} plans read more than they show:\n\n{}", wrong.len(), wrong.join("\n\n"));

    // And what they answer is what the plain reading of the queries says.
    let mut rd = t.db.read().await.unwrap();
    let mut c = rd.conn();
    let big = requests::requests_of_customer(&mut c, BIG, &Scope::All, true, 50).await.unwrap();
    assert_eq!(big.len(), 50);
    assert_eq!(big[0].number, "SR-B2000", "newest first");
    assert!(big.windows(2).all(|w| w[0].created_at > w[1].created_at));
    assert!(requests::requests_of_customer(&mut c, BIG, &Scope::All, false, 20).await.unwrap().is_empty());
    let closed = requests::requests_of_customer(&mut c, CLOSED, &Scope::All, false, 20).await.unwrap();
    assert_eq!((closed.len(), closed[0].number.as_str()), (20, "SR-C2000"));
    assert!(requests::requests_of_customer(&mut c, CLOSED, &Scope::All, true, 50).await.unwrap().is_empty());
    assert!(requests::requests_of_customer(&mut c, NONE, &Scope::All, true, 50).await.unwrap().is_empty());
    let other_station = Scope::Stations(vec![StationId(2)]);
    assert!(requests::requests_of_customer(&mut c, BIG, &other_station, true, 50).await.unwrap().is_empty());
    let all = requests::queue(&mut c, &Scope::All, Queue::AllOpen, PageRequest::new(Some(1), Some(100))).await.unwrap();
    assert_eq!(all.total, 1600 + 2000);
    // Soonest resolution due first, those without one last, then by id.
    let last =
        requests::queue(&mut c, &Scope::All, Queue::AllOpen, PageRequest::new(Some(36), Some(100))).await.unwrap();
    assert_eq!(last.items.len(), 100);
    assert!(last.items[..20].iter().all(|r| r.sla.resolution_due_at.is_some()));
    assert!(last.items[20..].iter().all(|r| r.sla.resolution_due_at.is_none()));
    assert!(
        all.items.windows(2).all(|w| (w[0].sla.resolution_due_at, w[0].id) < (w[1].sla.resolution_due_at, w[1].id))
    );
    let station2 = requests::queue(&mut c, &other_station, Queue::AllOpen, PageRequest::default()).await.unwrap();
    assert!(
        station2.total > 0 && station2.items.iter().all(|r| r.station_id == Some(shouhou_domain::ids::StationId(2)))
    );
    let unassigned = requests::queue(&mut c, &Scope::All, Queue::Unassigned, PageRequest::default()).await.unwrap();
    assert_eq!(unassigned.total, 3600);
    assert_eq!(requests::queue(&mut c, &Scope::All, Queue::Mine(99), PageRequest::default()).await.unwrap().total, 0);
}

crate::on_both_backends!(a_customers_lists_and_the_queue_pages_read_only_what_they_show);
