//! 三包配件申请 (issue 12) through the API on both databases: a station applies, its manager
//! approves (final up to the threshold), headquarters approves above it, the approval sends the
//! parts from the central warehouse (in transit to the station), or nothing when the centre has too
//! few; bad applications and decisions refused with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

async fn stock(t: &TestApp, token: &str, wh: i64, code: &str) -> Value {
    let v: Value =
        get(t, token, &format!("/api/v1/stock?warehouse_id={wh}&part_code={code}")).await.json().await.unwrap();
    v["items"][0].clone()
}

async fn decide(t: &TestApp, token: &str, a: &Value, decision: &str, reason: &str) -> reqwest::Response {
    let body = json!({"decision": decision, "reason": reason, "version": a["version"]});
    post(t, token, &format!("/api/v1/part-applications/{}/decision", a["id"]), body).await
}

async fn a_station_applies_and_the_approval_sends_the_parts(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    for (code, name, price) in [("OM-10G-LR", "10G 光模块", 45_000), ("PSU-XG5-AC", "电源模块", 215_000)] {
        let p = json!({"code": code, "name": name, "unit": "个", "price_fen": price});
        assert_eq!(post(&t, &o.admin, "/api/v1/parts", p).await.status(), StatusCode::CREATED);
    }
    let hq = json!({"code": "HQ-CW", "name": "中心库", "region_code": "440305", "address": "总部仓库"});
    let central =
        post(&t, &o.admin, "/api/v1/warehouses", hq).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for (code, n) in [("OM-10G-LR", 10), ("PSU-XG5-AC", 5)] {
        let m = json!({"kind": "receipt", "warehouse_id": central, "part_code": code, "quantity": n});
        assert_eq!(post(&t, &o.admin, "/api/v1/stock-movements", m).await.status(), StatusCode::CREATED);
    }
    let eng = login(&t, "eng.a").await;
    let mgr = login(&t, "mgr.a").await;
    add_user(&t.app, "keeper", &["warehouse"], &[]).await;
    let keeper = login(&t, "keeper").await;

    // Bad applications: named, nothing written.
    let before = count(&t, "part_applications").await;
    for (body, field, code) in [
        (
            json!({"warehouse_id": o.wh_b, "reason": "x", "lines": [{"part_code": "OM-10G-LR", "quantity": 1}]}),
            "warehouse_id",
            "unknown_warehouse",
        ),
        (
            json!({"warehouse_id": central, "reason": "x", "lines": [{"part_code": "OM-10G-LR", "quantity": 1}]}),
            "warehouse_id",
            "unknown_warehouse",
        ),
        (json!({"warehouse_id": o.wh_a, "reason": "x", "lines": []}), "lines", "required"),
        (
            json!({"warehouse_id": o.wh_a, "reason": "x", "lines": [{"part_code": "OM-10G-LR", "quantity": 1.5}]}),
            "lines[0].quantity",
            "whole_units",
        ),
        (
            json!({"warehouse_id": o.wh_a, "reason": "x", "lines": [{"part_code": "NOPE", "quantity": 1}]}),
            "lines[0].part_code",
            "unknown_part",
        ),
        (
            json!({"warehouse_id": o.wh_a, "reason": "", "lines": [{"part_code": "OM-10G-LR", "quantity": 1}]}),
            "reason",
            "required",
        ),
    ] {
        let p = problem(
            post(&t, &eng, "/api/v1/part-applications", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(
            (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
            (Some(field), Some(code)),
            "{p}"
        );
    }
    assert_eq!(count(&t, "part_applications").await, before);

    // Two modules, 900 元: the station's manager's approval is final and sends them.
    let body = json!({"warehouse_id": o.wh_a, "reason": "XG-5000 LOS 故障，三包更换", "lines": [{"part_code": "om-10g-lr", "quantity": 2}]});
    let r = post(&t, &eng, "/api/v1/part-applications", body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let a: Value = r.json().await.unwrap();
    assert_eq!((a["status"].as_str(), a["amount_fen"].as_i64()), (Some("submitted"), Some(90_000)));
    assert!(a["number"].as_str().unwrap().starts_with("PA-"));
    assert_eq!(decide(&t, &eng, &a, "approve", "").await.status(), StatusCode::FORBIDDEN);
    let inbox: Value = get(&t, &mgr, "/api/v1/inbox").await.json().await.unwrap();
    assert!(inbox.to_string().contains("待审批"), "{inbox}");
    let r = decide(&t, &mgr, &a, "approve", "").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let a: Value = r.json().await.unwrap();
    assert_eq!(
        (a["status"].as_str(), a["lines"][0]["transfer_status"].as_str()),
        (Some("approved"), Some("in_transit"))
    );
    assert_eq!(stock(&t, &o.admin, central, "OM-10G-LR").await["on_hand"], "8");
    assert_eq!(stock(&t, &o.admin, o.wh_a, "OM-10G-LR").await["in_transit"], "2");
    problem(decide(&t, &mgr, &a, "approve", "").await, StatusCode::CONFLICT, "illegal_transition").await;

    // Three power modules, 6 450 元: above the threshold, headquarters approves too.
    let body = json!({"warehouse_id": o.wh_a, "reason": "电源故障批量更换", "lines": [{"part_code": "PSU-XG5-AC", "quantity": 3}]});
    let a: Value = post(&t, &mgr, "/api/v1/part-applications", body).await.json().await.unwrap();
    let a: Value = decide(&t, &mgr, &a, "approve", "").await.json().await.unwrap();
    assert_eq!(a["status"], "station_approved");
    assert_eq!(stock(&t, &o.admin, central, "PSU-XG5-AC").await["on_hand"], "5", "nothing sent yet");
    problem(decide(&t, &mgr, &a, "approve", "").await, StatusCode::CONFLICT, "illegal_transition").await;
    let queue: Value =
        get(&t, &keeper, "/api/v1/part-applications?status=station_approved").await.json().await.unwrap();
    assert_eq!(queue["items"][0]["number"], a["number"]);
    let mut stale = a.clone();
    stale["version"] = json!(1);
    assert_eq!(decide(&t, &keeper, &stale, "approve", "").await.status(), StatusCode::CONFLICT);
    let a: Value = decide(&t, &keeper, &a, "approve", "").await.json().await.unwrap();
    assert_eq!(a["status"], "approved");
    assert_eq!(stock(&t, &o.admin, central, "PSU-XG5-AC").await["on_hand"], "2");

    // More than the centre has: refused with what is available, nothing written.
    let body = json!({"warehouse_id": o.wh_a, "reason": "备货", "lines": [{"part_code": "OM-10G-LR", "quantity": 20}]});
    let big: Value = post(&t, &mgr, "/api/v1/part-applications", body).await.json().await.unwrap();
    let p = problem(decide(&t, &keeper, &big, "approve", "").await, StatusCode::CONFLICT, "insufficient_stock").await;
    assert_eq!(p["available"], "8");
    let big: Value = get(&t, &mgr, &format!("/api/v1/part-applications/{}", big["id"])).await.json().await.unwrap();
    assert_eq!(big["status"], "submitted");
    // A rejection needs its reason.
    let p = problem(decide(&t, &mgr, &big, "reject", "").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let big: Value = decide(&t, &mgr, &big, "reject", "数量过大，请按工单需要申请").await.json().await.unwrap();
    assert_eq!(
        (big["status"].as_str(), big["decision_note"].as_str()),
        (Some("rejected"), Some("数量过大，请按工单需要申请"))
    );
    // Another station sees none of it.
    let eng_b = login(&t, "eng.b").await;
    let l: Value = get(&t, &eng_b, "/api/v1/part-applications").await.json().await.unwrap();
    assert_eq!(l["items"], json!([]));
    assert_eq!(
        get(&t, &eng_b, &format!("/api/v1/part-applications/{}", big["id"])).await.status(),
        StatusCode::NOT_FOUND
    );
}

crate::on_both_backends!(a_station_applies_and_the_approval_sends_the_parts);
