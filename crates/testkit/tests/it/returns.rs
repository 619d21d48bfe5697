//! Returns and exchanges (退换货, issue 12) through the API on both databases: allowed only when the
//! 三包 rules open the remedy on the day the fault was reported (its article recorded), a refund
//! above the threshold decided by a manager, an approved exchange restarting the warranty and an
//! approved return ending it, each on the request's timeline.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::FixedClock;
use shouhou_store::Backend;
use shouhou_testkit::TestApp;
use std::sync::Arc;

fn at(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

async fn request_for(t: &TestApp, token: &str, customer: i64, serial: &str) -> i64 {
    let body = json!({"customer_id": customer, "serial_number": serial, "type": "repair", "channel": "phone", "description": "开机后业务板反复重启"});
    let r = post(t, token, "/api/v1/service-requests", body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn decide(t: &TestApp, token: &str, a: &Value, decision: &str, reason: &str) -> reqwest::Response {
    let body = json!({"decision": decision, "reason": reason, "version": a["version"]});
    post(t, token, &format!("/api/v1/returns/{}/decision", a["id"]), body).await
}

async fn a_remedy_is_granted_only_when_the_rules_open_it(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2025-02-05T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let mut o = org(&t).await;
    let (customer, device) = nanshan_device(&t, &o).await;
    let d = json!({"serial_number": "XG5K-0002", "model_code": "XG-5000", "customer_id": customer, "sale_date": "2025-01-31"});
    let second = post(&t, &o.admin, "/api/v1/devices", d).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    add_user(&t.app, "boss", &["manager"], &[]).await;

    // Day 5 after the sale: a refund is open (第八条); 3 000 元 is above the station's limit.
    let sr = request_for(&t, &o.admin, customer, "XG5K-0001").await;
    let url = format!("/api/v1/service-requests/{sr}/returns");
    let p = problem(
        post(&t, &o.admin, &url, json!({"kind": "return", "reason": "性能故障", "inspection": "业务板损坏"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "refund_fen");
    let body = json!({"kind": "return", "reason": "售出 5 天内性能故障，客户要求退货", "inspection": "业务板 BOOT 失败，非人为损坏", "refund_fen": 300000});
    let r = post(&t, &o.admin, &url, body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let ra: Value = r.json().await.unwrap();
    assert_eq!((ra["article"].as_str(), ra["status"].as_str()), (Some("第八条"), Some("submitted")));
    assert!(ra["number"].as_str().unwrap().starts_with("RA-"));
    let mgr = login(&t, "mgr.a").await;
    let p = problem(decide(&t, &mgr, &ra, "approve", "").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("decision"), Some("manager_required"))
    );
    let eng = login(&t, "eng.a").await;
    assert_eq!(decide(&t, &eng, &ra, "approve", "").await.status(), StatusCode::FORBIDDEN);
    let boss = login(&t, "boss").await;
    let r = decide(&t, &boss, &ra, "approve", "同意退货").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let ra: Value = r.json().await.unwrap();
    assert_eq!(ra["status"], "approved");
    problem(decide(&t, &boss, &ra, "approve", "").await, StatusCode::CONFLICT, "illegal_transition").await;
    let e: Value = get(&t, &o.admin, &format!("/api/v1/devices/{device}/entitlement")).await.json().await.unwrap();
    assert_eq!(e["status"], "void", "returned: nothing is covered any more: {e}");

    // Day 12: no refund any more, an exchange is open (第九条).
    clock.set_ms(at("2025-02-12T10:00:00+08:00"));
    o.admin = login(&t, "admin").await;
    let mgr = login(&t, "mgr.a").await;
    let sr2 = request_for(&t, &o.admin, customer, "XG5K-0002").await;
    let url = format!("/api/v1/service-requests/{sr2}/returns");
    let body = json!({"kind": "return", "reason": "要求退货", "inspection": "风扇异响", "refund_fen": 100000});
    let p = problem(post(&t, &o.admin, &url, body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("kind"), Some("not_open_under_sanbao"))
    );
    let body = json!({"kind": "exchange", "reason": "售出 15 天内性能故障，换新机", "inspection": "风扇轴承损坏"});
    let p =
        problem(post(&t, &o.admin, &url, body.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(p["errors"][0]["field"], "replacement_serial");
    let mut body = body;
    body["replacement_serial"] = json!("XG5K-0099");
    let ra: Value = post(&t, &o.admin, &url, body).await.json().await.unwrap();
    assert_eq!(ra["article"], "第九条");
    let p =
        problem(decide(&t, &mgr, &ra, "reject", "").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let ra: Value = decide(&t, &mgr, &ra, "approve", "").await.json().await.unwrap();
    assert_eq!(ra["status"], "approved");
    let e: Value = get(&t, &o.admin, &format!("/api/v1/devices/{second}/entitlement")).await.json().await.unwrap();
    assert_eq!(
        (e["status"].as_str(), e["warranty_until"].as_str()),
        (Some("in_warranty"), Some("2026-02-12")),
        "the warranty restarts: {e}"
    );
    // The device's history and the request's timeline show it.
    let l: Value = get(&t, &o.admin, &format!("/api/v1/returns?device_id={second}")).await.json().await.unwrap();
    assert_eq!(l["items"][0]["replacement_serial"], "XG5K-0099");
    let page = get(&t, &o.admin, &format!("/devices/{second}")).await.text().await.unwrap();
    assert!(
        page.contains("退换货记录") && page.contains("XG5K-0099") && page.contains("第九条"),
        "the device page shows it"
    );
    let mut rd = t.app.db.read().await.unwrap();
    let on_timeline: i64 = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_events WHERE request_id = $1 AND kind = 'return'").bind(sr2).fetch_one(c).await)
    .unwrap();
    assert_eq!(on_timeline, 2, "asked for and approved");
}

crate::on_both_backends!(a_remedy_is_granted_only_when_the_rules_open_it);
