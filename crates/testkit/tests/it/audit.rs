#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::Ctx;
use shouhou_app::audit::{audit_start_check, record_alone};
use shouhou_domain::audit::{ChainBreak, GENESIS};
use shouhou_store::audit::{AuditRow, Head};
use shouhou_store::{Backend, both};
use shouhou_testkit::TestApp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

async fn every_write_is_in_the_audit_trail_with_who_what_and_from_where(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let body: Value = get(&t, &o.admin, "/api/v1/audit?action=station.create").await.json().await.unwrap();
    assert_eq!(body["total"], 2);
    let e = &body["items"][0];
    assert_eq!(e["actor_name"], "admin");
    assert_eq!(e["entity"], "station");
    assert_eq!(e["source"], "127.0.0.1");
    assert!(e["request_id"].as_str().unwrap().len() >= 32);
    assert_eq!(e["detail"]["code"], "GZ-B");
    let eng = login(&t, "eng.a").await;
    problem(get(&t, &eng, "/api/v1/audit").await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn verification_finds_the_first_tampered_row(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let v: Value = post(&t, &o.admin, "/api/v1/audit/verify", json!({})).await.json().await.unwrap();
    assert_eq!(v["intact"], true, "{v}");
    let entries = v["checked"].as_i64().unwrap();
    assert!(entries >= 8, "{v}");

    // The table refuses changes…
    {
        let mut tx = t.app.db.begin().await.unwrap();
        let r = both!(&mut tx.conn(), c => sqlx::query("UPDATE audit_log SET actor_name = 'x' WHERE seq = 3").execute(c).await.map(|r| r.rows_affected()));
        assert!(r.is_err(), "audit_log is append-only");
    }
    // …so an attacker with the database drops the guard and edits a row in the middle.
    {
        let mut tx = t.app.db.begin().await.unwrap();
        let mut c = tx.conn();
        let drops: &[&'static str] = match b {
            Backend::Sqlite => &["DROP TRIGGER audit_log_no_update"],
            Backend::Postgres => &["DROP TRIGGER audit_log_no_change ON audit_log"],
        };
        for d in drops {
            both!(&mut c, c => sqlx::query(*d).execute(c).await.map(|r| r.rows_affected())).unwrap();
        }
        both!(&mut c, c => sqlx::query("UPDATE audit_log SET detail = '{\"code\":\"FORGED\"}' WHERE seq = 4").execute(c).await.map(|r| r.rows_affected())).unwrap();
        tx.commit().await.unwrap();
    }
    let v: Value = post(&t, &o.admin, "/api/v1/audit/verify", json!({})).await.json().await.unwrap();
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_broken_seq"], 4);
    assert_eq!(v["checked"], 3);
    assert_eq!(v["reason"], "hash_mismatch");
}

/// `audit verify` while the server writes: the chain it reads is one snapshot (the head first,
/// then the entries up to it), so a write landing between two of its reads is no "gap".
async fn verification_while_others_write_never_cries_wolf(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let mut writers = vec![];
    for w in 0..3 {
        let (app, stop, written) = (t.app.clone(), stop.clone(), written.clone());
        writers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = written.fetch_add(1, Ordering::Relaxed);
                record_alone(&app, &Ctx::system(), "test.write", "test", Some(format!("{w}-{n}")), json!({"n": n}))
                    .await
                    .unwrap();
            }
        }));
    }
    // Writes through the API too, the way the server sees them.
    writers.push({
        let (t_url, admin, stop) = (t.url(""), o.admin.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = client()
                    .post(format!("{t_url}/api/v1/stations"))
                    .bearer_auth(&admin)
                    .json(&station(&format!("LOAD-{i}"), "440305"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                i += 1;
            }
        })
    });
    // At least 60 runs, and on until 300 entries were written beside them (or 60 s went by).
    let started = std::time::Instant::now();
    let (mut runs, mut false_alarms) = (0, vec![]);
    while runs < 60 || (written.load(Ordering::Relaxed) < 300 && started.elapsed().as_secs() < 60) {
        let v: Value = post(&t, &o.admin, "/api/v1/audit/verify", json!({})).await.json().await.unwrap();
        if v["intact"] != true {
            false_alarms.push(format!("run {runs}: {v}"));
        }
        runs += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(written.load(Ordering::Relaxed) >= 300, "the writers kept writing");
    assert!(false_alarms.is_empty(), "{} false alarms in {runs} runs: {false_alarms:#?}", false_alarms.len());
    let v: Value = post(&t, &o.admin, "/api/v1/audit/verify", json!({})).await.json().await.unwrap();
    assert_eq!(v["intact"], true, "{v}");
}

/// Run statements as someone holding the database file would, in one transaction.
async fn exec(t: &TestApp, statements: &[&str]) {
    let mut tx = t.app.db.begin().await.unwrap();
    let mut c = tx.conn();
    for s in statements {
        let sql = s.to_string();
        both!(&mut c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(c).await.map(|r| r.rows_affected()))
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    tx.commit().await.unwrap();
}

/// What an attacker drops first: every append-only trigger.
fn drop_guards(b: Backend) -> &'static [&'static str] {
    match b {
        Backend::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
        Backend::Postgres => {
            &["DROP TRIGGER audit_log_no_change ON audit_log", "DROP TRIGGER audit_log_no_truncate ON audit_log"]
        }
    }
}

/// …and puts back afterwards, so that only the chain can tell.
fn restore_guards(b: Backend) -> &'static [&'static str] {
    match b {
        Backend::Sqlite => &[
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        ],
        Backend::Postgres => &[
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
        ],
    }
}

async fn verify(t: &TestApp, admin: &str) -> Value {
    post(t, admin, "/api/v1/audit/verify", json!({})).await.json().await.unwrap()
}

async fn head(t: &TestApp) -> Head {
    let mut rd = t.app.db.read().await.unwrap();
    shouhou_store::audit::head(&mut rd.conn()).await.unwrap()
}

/// Rewrite entry `forged`'s detail and recompute every link from `from` on the old way (plain
/// SHA-256, all an attacker without the audit key can compute), then the head.
async fn forge_and_relink(t: &TestApp, b: Backend, forged: i64, from: i64) {
    let rows = {
        let mut rd = t.app.db.read().await.unwrap();
        both!(&mut rd.conn(), c => sqlx::query_as::<_, AuditRow>(
            "SELECT seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash \
             FROM audit_log ORDER BY seq").fetch_all(c).await)
        .unwrap()
    };
    let mut tx = t.app.db.begin().await.unwrap();
    let mut c = tx.conn();
    for d in drop_guards(b) {
        both!(&mut c, c => sqlx::query(*d).execute(c).await.map(|r| r.rows_affected())).unwrap();
    }
    let mut prev = GENESIS.to_string();
    for r in rows {
        let AuditRow { entry: mut e, hash: stored, .. } = r;
        if e.seq < from {
            prev = stored;
            continue;
        }
        if e.seq == forged {
            e.event.detail = "{\"code\":\"FORGED\"}".to_string();
        }
        let detail = e.event.detail.clone();
        let hash = e.chain_hash(&prev);
        both!(&mut c, c => sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&detail).bind(&prev).bind(&hash).bind(e.seq).execute(c).await.map(|r| r.rows_affected()))
        .unwrap();
        prev = hash;
    }
    both!(&mut c, c => sqlx::query("UPDATE audit_head SET last_hash = $1").bind(&prev).execute(c).await.map(|r| r.rows_affected()))
        .unwrap();
    tx.commit().await.unwrap();
}

/// The old chain fell to anyone with the database: change a row, recompute the later hashes and
/// the head. Keyed links cannot be recomputed without the audit key, which is not in the database.
async fn a_row_forged_with_every_later_link_and_the_head_recomputed_is_caught(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(v["intact"], true, "{v}");
    let anchored = v["head_seq"].as_i64().unwrap();
    assert!(anchored >= 8);
    let file = std::fs::read_to_string(t.db.data_dir.join("audit-checkpoints")).unwrap();
    assert!(file.lines().any(|l| l.starts_with(&format!("{anchored} "))), "verify anchored its head: {file}");
    // More entries after the checkpoint.
    post(&t, &o.admin, "/api/v1/stations", station("HZ-C", "330106")).await;
    let h = head(&t).await;
    assert_eq!((h.keyed_from, h.seq), (1, anchored + 1), "a new database is keyed from its first entry");

    // Entry 4 forged, entries 4.. relinked with plain SHA-256 and the head moved along.
    forge_and_relink(&t, b, 4, 4).await;
    exec(&t, restore_guards(b)).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(
        (&v["intact"], &v["reason"], &v["first_broken_seq"], &v["checked"]),
        (&json!(false), &json!("hash_mismatch"), &json!(4), &json!(3)),
        "{v}"
    );

    // Even with the whole chain relinked the old way and the switch-over moved past the end,
    // so that every entry claims to be from before the keyed chain: the checkpoint disagrees.
    forge_and_relink(&t, b, 4, 1).await;
    exec(&t, &[&format!("UPDATE audit_head SET keyed_from = {}", anchored + 2)]).await;
    exec(&t, restore_guards(b)).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(
        (&v["intact"], &v["reason"], &v["first_broken_seq"], &v["checkpoint_seq"]),
        (&json!(false), &json!("checkpoint_mismatch"), &json!(anchored), &json!(anchored)),
        "{v}"
    );
    // The server says so at its start too.
    let start = audit_start_check(&t.app).await.unwrap();
    assert_eq!(start.problem, Some(ChainBreak::CheckpointMismatch { seq: anchored }));
}

async fn truncating_the_tail_and_moving_the_head_back_is_caught(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(v["intact"], true, "{v}");
    let n = v["head_seq"].as_i64().unwrap();
    let keep = n - 3;
    exec(&t, drop_guards(b)).await;
    exec(
        &t,
        &[
            &format!("DELETE FROM audit_log WHERE seq > {keep}"),
            &format!("UPDATE audit_head SET seq = {keep}, last_hash = (SELECT hash FROM audit_log WHERE seq = {keep})"),
        ],
    )
    .await;
    exec(&t, restore_guards(b)).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(
        (&v["intact"], &v["reason"], &v["first_broken_seq"], &v["checked"], &v["head_seq"], &v["checkpoint_seq"]),
        (&json!(false), &json!("truncated"), &json!(keep + 1), &json!(keep), &json!(keep), &json!(n)),
        "{v}"
    );
    assert_eq!(v["missing_triggers"], json!([]), "the guards are back: only the checkpoint tells");
    let start = audit_start_check(&t.app).await.unwrap();
    assert_eq!(start.problem, Some(ChainBreak::Truncated { head_seq: keep, checkpoint_seq: n }));
    // New entries after the cut do not hide it.
    post(&t, &o.admin, "/api/v1/stations", station("HZ-C", "330106")).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!((&v["intact"], &v["reason"]), (&json!(false), &json!("truncated")), "{v}");
}

async fn emptying_the_log_and_resetting_the_head_is_caught(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(v["intact"], true, "{v}");
    let n = v["head_seq"].as_i64().unwrap();
    exec(&t, drop_guards(b)).await;
    exec(
        &t,
        &["DELETE FROM audit_log", &format!("UPDATE audit_head SET seq = 0, last_hash = '{GENESIS}', keyed_from = 1")],
    )
    .await;
    exec(&t, restore_guards(b)).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(
        (&v["intact"], &v["reason"], &v["first_broken_seq"], &v["checked"], &v["checkpoint_seq"]),
        (&json!(false), &json!("truncated"), &json!(1), &json!(0), &json!(n)),
        "{v}"
    );
}

async fn a_dropped_or_disabled_trigger_is_reported_by_verify_and_at_start(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (statement, name) = match b {
        Backend::Sqlite => ("DROP TRIGGER audit_log_no_delete", "audit_log_no_delete"),
        Backend::Postgres => ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change", "audit_log_no_change"),
    };
    exec(&t, &[statement]).await;
    let v = verify(&t, &o.admin).await;
    assert_eq!(
        (&v["intact"], &v["reason"], &v["first_broken_seq"], &v["missing_triggers"]),
        (&json!(false), &json!("triggers_missing"), &Value::Null, &json!([name])),
        "{v}"
    );
    assert_eq!(v["checked"], v["head_seq"], "the chain itself holds");
    let start = audit_start_check(&t.app).await.unwrap();
    assert_eq!((start.missing_triggers, start.problem), (vec![name.to_string()], None));
    if b == Backend::Postgres {
        // A trigger kept but its function emptied refuses nothing either.
        exec(
            &t,
            &[
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change",
                "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
            ],
        )
        .await;
        let v = verify(&t, &o.admin).await;
        assert_eq!(v["missing_triggers"], json!(["audit_log_no_change", "audit_log_no_truncate"]), "{v}");
    }
}

async fn the_log_cannot_be_emptied_truncate_included(b: Backend) {
    let t = app(b).await;
    let _o = org(&t).await;
    let before = count(&t, "audit_log").await;
    let refused: &[&str] = match b {
        Backend::Sqlite => &["DELETE FROM audit_log"],
        Backend::Postgres => &["DELETE FROM audit_log", "TRUNCATE audit_log", "TRUNCATE audit_log CASCADE"],
    };
    for sql in refused {
        let mut tx = t.app.db.begin().await.unwrap();
        let r = both!(&mut tx.conn(), c => sqlx::query(*sql).execute(c).await.map(|r| r.rows_affected()));
        let e = r.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(count(&t, "audit_log").await, before);
}

/// The audit list is filtered in SQL by operator (user name, display name or id), kind of
/// action, time and record; the page shows the entries in words.
async fn the_audit_trail_is_filtered_by_who_what_when_and_record(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (admin_id, admin_display) = {
        let mut rd = t.app.db.read().await.unwrap();
        let u = shouhou_store::users::user_by_username(&mut rd.conn(), "admin").await.unwrap().unwrap();
        (u.id, u.display_name)
    };
    let list = |f: shouhou_store::audit::AuditFilter| {
        let db = t.app.db.clone();
        async move {
            let mut rd = db.read().await.unwrap();
            shouhou_store::audit::list(&mut rd.conn(), &f, shouhou_store::PageRequest::new(Some(1), Some(100)))
                .await
                .unwrap()
        }
    };
    use shouhou_store::audit::AuditFilter;
    let stations = |actor: &str| AuditFilter {
        action_prefix: Some("station.".into()),
        actor: Some(actor.into()),
        ..Default::default()
    };
    let by_name = list(stations("admin")).await;
    assert_eq!(by_name.total, 2);
    assert!(
        by_name.items.iter().all(|r| r.entry.event.action == "station.create" && r.entry.event.actor_name == "admin")
    );
    assert_eq!(list(stations(&admin_id.to_string())).await.total, 2, "by id");
    assert_eq!(list(stations(&admin_display)).await.total, 2, "by display name");
    assert_eq!(list(stations("eng.a")).await.total, 0, "another operator");
    let record =
        list(AuditFilter { entity: Some("station".into()), entity_id: Some(o.a.to_string()), ..Default::default() })
            .await;
    assert_eq!(record.total, 1);
    assert_eq!(record.items[0].entry.event.entity_id.as_deref(), Some(o.a.to_string().as_str()));
    let all = list(AuditFilter::default()).await.total;
    assert!(all > 2);
    let now = jiff::Timestamp::now().as_millisecond();
    assert_eq!(list(AuditFilter { from_ms: Some(now + 86_400_000), ..Default::default() }).await.total, 0);
    assert_eq!(list(AuditFilter { to_ms: Some(1), ..Default::default() }).await.total, 0);
    assert_eq!(
        list(AuditFilter { from_ms: Some(now - 86_400_000), to_ms: Some(now + 86_400_000), ..Default::default() })
            .await
            .total,
        all
    );
    // The API's `action` keeps working.
    let body: Value = get(&t, &o.admin, "/api/v1/audit?action=station.").await.json().await.unwrap();
    assert_eq!(body["total"], 2);

    // The page: in words, filtered by the same query.
    let (web, _) = crate::pages::web_login(&t, "admin").await;
    let r = web.get(t.url(&format!("/audit?who=admin&what=station.&entity=station&id={}", o.a))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches(r#"data-testid="audit-row""#).count(), 1);
    assert!(html.contains("新建服务站") && html.contains(&format!("服务站 #{}", o.a)) && html.contains(&admin_display));
    let html = web.get(t.url("/audit?from=2000-01-01&to=2000-01-02")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches(r#"data-testid="audit-row""#).count(), 0);
    for user in ["eng.a", "mgr.a"] {
        let (web, _) = crate::pages::web_login(&t, user).await;
        assert_eq!(web.get(t.url("/audit")).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{user}");
    }
}

crate::on_both_backends!(
    every_write_is_in_the_audit_trail_with_who_what_and_from_where,
    verification_finds_the_first_tampered_row,
    verification_while_others_write_never_cries_wolf,
    a_row_forged_with_every_later_link_and_the_head_recomputed_is_caught,
    truncating_the_tail_and_moving_the_head_back_is_caught,
    emptying_the_log_and_resetting_the_head_is_caught,
    a_dropped_or_disabled_trigger_is_reported_by_verify_and_at_start,
    the_log_cannot_be_emptied_truncate_included,
    the_audit_trail_is_filtered_by_who_what_when_and_record,
);
