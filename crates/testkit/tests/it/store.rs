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
        "customer_contacts",
        "customers",
        "devices",
        "idempotency_keys",
        "jobs",
        "key_fingerprints",
        "login_failures",
        "notifications",
        "outbox",
        "product_models",
        "request_counters",
        "request_events",
        "service_requests",
        "settings",
        "sla_alerts",
        "sla_policies",
        "stations",
        "user_roles",
        "user_stations",
        "users",
        "warehouses",
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

/// An idempotency key whose holder never answered (its process died) is taken over after the
/// stale limit, not held until the daily purge; a key released meanwhile is claimed afresh.
async fn an_abandoned_idempotency_key_is_taken_over_after_the_stale_limit(b: Backend) {
    use shouhou_store::idempotency::{self, Answer, Claim};
    let t = TestDb::new(b).await.unwrap();
    t.db.migrate().await.unwrap();
    let claim = |now: i64, stale_before: i64| {
        let db = t.db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let c = idempotency::claim(&mut tx.conn(), "user:1", "k", "h", now, stale_before).await.unwrap();
            tx.commit().await.unwrap();
            c
        }
    };
    assert_eq!(claim(1_000, 0).await, Claim::Claimed { since: 1_000 });
    assert_eq!(claim(2_000, 0).await, Claim::InProgress, "its holder may still be at work");
    assert_eq!(claim(200_000, 80_000).await, Claim::Claimed { since: 200_000 }, "abandoned: taken over");
    assert_eq!(claim(201_000, 81_000).await, Claim::InProgress, "the new holder is at work");
    let answer = Answer { status: 303, content_type: "", body: "", location: Some("v1:x"), headers: None };
    let mut tx = t.db.begin().await.unwrap();
    // The first holder, slow but alive, can neither store its answer nor give the key up now.
    assert!(!idempotency::complete(&mut tx.conn(), "user:1", "k", 1_000, &answer).await.unwrap());
    idempotency::release(&mut tx.conn(), "user:1", "k", 1_000).await.unwrap();
    assert!(idempotency::complete(&mut tx.conn(), "user:1", "k", 200_000, &answer).await.unwrap());
    tx.commit().await.unwrap();
    let done = claim(300_000, 180_000).await;
    assert!(
        matches!(done, Claim::Done { status: 303, ref location, .. } if location.as_deref() == Some("v1:x")),
        "{done:?}"
    );
}

crate::on_both_backends!(
    migrations_apply_from_empty_and_again_without_change,
    an_abandoned_idempotency_key_is_taken_over_after_the_stale_limit,
);
