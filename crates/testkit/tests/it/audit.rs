#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::Ctx;
use shouhou_app::system::record_alone;
use shouhou_store::{Backend, both};
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

crate::on_both_backends!(
    every_write_is_in_the_audit_trail_with_who_what_and_from_where,
    verification_finds_the_first_tampered_row,
    verification_while_others_write_never_cries_wolf,
);
