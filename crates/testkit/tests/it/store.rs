#![allow(clippy::unwrap_used, clippy::expect_used)]
use shouhou_store::{Backend, both};
use shouhou_testkit::TestDb;

async fn migrations_apply_from_empty_and_again_without_change(b: Backend) {
    let t = TestDb::new(b).await.unwrap();
    let (shipped, applied) = t.db.migration_status().await.unwrap();
    assert!(!shipped.is_empty());
    assert_eq!(shipped, applied);
    t.db.migrate().await.unwrap();
    assert_eq!(t.db.migration_status().await.unwrap().1, applied);
    assert_eq!(tables(&t).await, expected_tables());
}

fn expected_tables() -> Vec<String> {
    [
        "attachments",
        "audit_head",
        "audit_log",
        "auth_tokens",
        "calendar_days",
        "calendars",
        "complaint_events",
        "complaints",
        "customer_contacts",
        "customers",
        "devices",
        "faulty_returns",
        "follow_ups",
        "idempotency_keys",
        "jobs",
        "key_fingerprints",
        "login_attempts",
        "maintenance_due",
        "maintenance_plans",
        "notifications",
        "outbox",
        "part_application_lines",
        "part_applications",
        "part_models",
        "part_serials",
        "parts",
        "portal_attempts",
        "portal_reports",
        "product_models",
        "recall_devices",
        "recalls",
        "request_counters",
        "request_events",
        "return_authorisations",
        "return_visit_attempts",
        "return_visits",
        "service_requests",
        "settings",
        "sla_alerts",
        "sla_policies",
        "station_coverage",
        "stations",
        "stock_levels",
        "stock_movements",
        "stock_transfers",
        "stocktake_lines",
        "stocktakes",
        "suggestions",
        "user_leave",
        "user_roles",
        "user_skills",
        "user_stations",
        "users",
        "warehouses",
        "warranty_card_events",
        "warranty_card_parts",
        "warranty_card_reminders",
        "warranty_cards",
        "work_order_alerts",
        "work_order_events",
        "work_order_files",
        "work_order_parts",
        "work_orders",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Table and column names of our schema: the two backends must agree.
async fn tables(t: &TestDb) -> Vec<String> {
    let mut rd = t.db.read().await.unwrap();
    let sql = match t.db.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name"
        }
    };
    both!(&mut rd.conn(), c => sqlx::query_scalar::<_, String>(sql).fetch_all(c).await).unwrap()
}

async fn columns(t: &TestDb) -> Vec<(String, String)> {
    let mut rd = t.db.read().await.unwrap();
    let mut out = vec![];
    for table in expected_tables() {
        let cols: Vec<String> = match t.db.backend() {
            Backend::Sqlite => both!(&mut rd.conn(), c => sqlx::query_scalar::<_, String>("SELECT name FROM pragma_table_info($1) ORDER BY name").bind(&table).fetch_all(c).await).unwrap(),
            Backend::Postgres => both!(&mut rd.conn(), c => sqlx::query_scalar::<_, String>(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name")
                .bind(&table).fetch_all(c).await).unwrap(),
        };
        out.extend(cols.into_iter().map(|c| (table.clone(), c)));
    }
    out
}

#[tokio::test]
async fn both_backends_end_with_the_same_tables_and_columns() {
    let s = TestDb::new(Backend::Sqlite).await.unwrap();
    let p = TestDb::new(Backend::Postgres).await.unwrap();
    assert_eq!(tables(&s).await, tables(&p).await);
    assert_eq!(columns(&s).await, columns(&p).await);
}

#[test]
fn migration_versions_are_the_same_for_both_backends() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/../store/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

/// The key of an idempotent command is claimed in the command's own transaction and its answer
/// stored before that commits: a command that rolled back (its process died) leaves the key free,
/// a committed one leaves it with its answer, and a twin learns that it was carried out.
async fn an_idempotency_key_commits_with_its_command_or_not_at_all(b: Backend) {
    use shouhou_store::idempotency::{self, Answer, Found, Outcome, Unit};
    use shouhou_store::{StoreError, settings};
    let t = TestDb::new(b).await.unwrap();
    let db = t.db.clone();
    let command = |unit: std::sync::Arc<Unit>, value: &'static str| {
        let db = db.clone();
        async move {
            unit.run(async {
                let mut tx = db.begin().await?;
                settings::put(&mut tx.conn(), "probe", value).await?;
                tx.commit().await
            })
            .await
        }
    };
    let probe = || async {
        let mut rd = t.db.read().await.unwrap();
        settings::get(&mut rd.conn(), "probe").await.unwrap()
    };
    let found = || async {
        let mut rd = t.db.read().await.unwrap();
        idempotency::lookup(&mut rd.conn(), "user:1", "k").await.unwrap()
    };
    // Its process dies after the command's work, before the answer: nothing at all was written.
    let u = Unit::new("user:1", "k", "h", 1_000, false);
    command(u.clone(), "first").await.unwrap();
    let Outcome::Parked(tx) = u.finish() else { panic!("the command's transaction waits for its answer") };
    drop(tx);
    assert_eq!((probe().await, found().await), (None, None), "a retry runs it for the first time");
    // The retry runs it: command, key and answer commit together.
    let u = Unit::new("user:1", "k", "h", 2_000, false);
    command(u.clone(), "second").await.unwrap();
    let Outcome::Parked(mut tx) = u.finish() else { panic!("parked") };
    let answer = Answer { status: 201, content_type: "application/json", body: "v1:x", location: None, headers: None };
    assert!(idempotency::complete(&mut tx.conn(), "user:1", "k", &answer).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(probe().await.as_deref(), Some("second"));
    assert!(matches!(found().await, Some(Found::Done { status: 201, .. })));
    // A twin with the same body is told it was carried out, and writes nothing.
    let u = Unit::new("user:1", "k", "h", 3_000, false);
    assert!(matches!(command(u.clone(), "twin").await, Err(StoreError::AlreadyDone)));
    assert!(matches!(u.finish(), Outcome::Taken));
    // The same key with another body: refused for an API client, run without a claim for a form.
    let u = Unit::new("user:1", "k", "other", 4_000, false);
    assert!(matches!(command(u.clone(), "other").await, Err(StoreError::AlreadyDone)));
    assert!(matches!(u.finish(), Outcome::Reused));
    let u = Unit::new("user:1", "k", "other", 5_000, true);
    command(u.clone(), "form").await.unwrap();
    assert!(matches!(u.finish(), Outcome::Unclaimed));
    assert_eq!(probe().await.as_deref(), Some("form"));
    // A command that reads after its commit commits first; its answer is pending until stored.
    let u = Unit::new("user:1", "k2", "h", 6_000, false);
    u.run(async {
        let mut tx = db.begin().await.unwrap();
        settings::put(&mut tx.conn(), "probe", "read-after").await.unwrap();
        tx.commit().await.unwrap();
        let mut rd = db.read().await.unwrap();
        assert_eq!(settings::get(&mut rd.conn(), "probe").await.unwrap().as_deref(), Some("read-after"));
    })
    .await;
    assert!(matches!(u.finish(), Outcome::Committed));
    let mut rd = t.db.read().await.unwrap();
    let pending = idempotency::lookup(&mut rd.conn(), "user:1", "k2").await.unwrap();
    assert_eq!(pending, Some(Found::Pending { request_hash: "h".into() }));
}

crate::on_both_backends!(
    migrations_apply_from_empty_and_again_without_change,
    an_idempotency_key_commits_with_its_command_or_not_at_all,
);
