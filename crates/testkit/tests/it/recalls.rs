//! Product recalls (issue 12) through the API on both databases: selection by serial range (same
//! length and prefix, the model's devices only), bad ranges refused with nothing written, each
//! device tracked by the stations serving it, work orders made once, a completed visit marking its
//! device done, and the Excel export masked as the caller sees customers.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

async fn customer(t: &TestApp, o: &Org, name: &str, phone: &str, region: &str, station: &str) -> i64 {
    let c = json!({"name": name, "phone": phone, "region_code": region, "address": "科技园南区 18 栋", "station_code": station});
    let r = post(t, &o.admin, "/api/v1/customers", c).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn device(t: &TestApp, o: &Org, serial: &str, model: &str, customer: i64) -> i64 {
    let d = json!({"serial_number": serial, "model_code": model, "customer_id": customer, "sale_date": "2025-01-31"});
    let r = post(t, &o.admin, "/api/v1/devices", d).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn a_recall_selects_its_range_and_tracks_each_device_to_done(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    for (code, line) in [("XG-5000", "光传输"), ("XG-8800", "光传输")] {
        let m = json!({"code": code, "name": format!("{code} 光传输设备"), "product_line": line});
        assert_eq!(post(&t, &o.admin, "/api/v1/product-models", m).await.status(), StatusCode::CREATED);
    }
    let (ca, cb) = (
        customer(&t, &o, "张三", "13812345678", "440305", "SZ-A").await,
        customer(&t, &o, "李四", "13912345678", "440106", "GZ-B").await,
    );
    // In range: 00100 to 00103 at A, 00104 and 00105 at B. Out: another length, past the end,
    // another model with the same serial.
    for n in 100..=103 {
        device(&t, &o, &format!("XG5K-{n:05}"), "XG-5000", ca).await;
    }
    for n in 104..=105 {
        device(&t, &o, &format!("XG5K-{n:05}"), "XG-5000", cb).await;
    }
    device(&t, &o, "XG5K-0150", "XG-5000", ca).await;
    device(&t, &o, "XG5K-00200", "XG-5000", ca).await;
    device(&t, &o, "XG5K-00101", "XG-8800", ca).await;

    // Bad ranges and models: the rule named, nothing written.
    for (from, to, model, field, code) in [
        ("XG5K-00100", "XG5K-001999", "XG-5000", "serial_to", "range_length_differs"),
        ("XG5K-00100", "XG6K-00199", "XG-5000", "serial_to", "range_prefix_differs"),
        ("XG5K-00199", "XG5K-00100", "XG-5000", "serial_to", "range_reversed"),
        ("XG5K-00100", "XG5K-00199", "NOPE", "model_code", "unknown_model"),
    ] {
        let body = json!({"name": "光模块批次召回", "model_code": model, "serial_from": from, "serial_to": to});
        let p = problem(
            post(&t, &o.admin, "/api/v1/recalls", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(
            (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
            (Some(field), Some(code)),
            "{from}..{to}"
        );
    }
    assert_eq!(count(&t, "recalls").await, 0);
    let mgr = login(&t, "mgr.a").await;
    let body = json!({"name": "XG-5000 电源批次召回", "model_code": "XG-5000", "serial_from": "xg5k-00100", "serial_to": "XG5K-00199", "reason": "电源模块电容批次缺陷"});
    assert_eq!(post(&t, &mgr, "/api/v1/recalls", body.clone()).await.status(), StatusCode::FORBIDDEN);
    let r = post(&t, &o.admin, "/api/v1/recalls", body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let rc: Value = r.json().await.unwrap();
    assert_eq!((rc["device_count"].as_i64(), rc["serial_from"].as_str()), (Some(6), Some("XG5K-00100")));
    assert!(rc["number"].as_str().unwrap().starts_with("RC-"));
    assert_eq!(rc["progress"]["pending"], 6);
    let id = rc["id"].as_i64().unwrap();
    let by_station: Vec<(i64, i64)> = rc["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["station_id"].as_i64().unwrap(), s["total"].as_i64().unwrap()))
        .collect();
    assert_eq!(by_station, vec![(o.a, 4), (o.b, 2)]);

    // Station A sees its four; records one contacted; B's device is not its to touch.
    let list: Value = get(&t, &mgr, &format!("/api/v1/recalls/{id}/devices")).await.json().await.unwrap();
    let serials: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|d| d["serial_number"].as_str().unwrap()).collect();
    assert_eq!(serials, vec!["XG5K-00100", "XG5K-00101", "XG5K-00102", "XG5K-00103"]);
    let first = list["items"][0]["device_id"].as_i64().unwrap();
    let url = format!("/api/v1/recalls/{id}/devices/{first}");
    let r = client()
        .put(t.url(&url))
        .bearer_auth(&mgr)
        .json(&json!({"state": "contacted", "note": "已电话通知客户"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = client().put(t.url(&url)).bearer_auth(&mgr).json(&json!({"state": "scheduled"})).send().await.unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "comes_with_work_order");
    let all: Value = get(&t, &o.admin, &format!("/api/v1/recalls/{id}/devices")).await.json().await.unwrap();
    let of_b =
        all["items"].as_array().unwrap().iter().find(|d| d["serial_number"] == "XG5K-00105").unwrap()["device_id"]
            .as_i64()
            .unwrap();
    let r = client()
        .put(t.url(&format!("/api/v1/recalls/{id}/devices/{of_b}")))
        .bearer_auth(&mgr)
        .json(&json!({"state": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Work orders: one per device, made once.
    let r = post(&t, &o.admin, &format!("/api/v1/recalls/{id}/work-orders"), json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["made"], 6);
    let r = post(&t, &o.admin, &format!("/api/v1/recalls/{id}/work-orders"), json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["made"], 0, "never twice");
    let rc: Value = get(&t, &o.admin, &format!("/api/v1/recalls/{id}")).await.json().await.unwrap();
    assert_eq!(rc["progress"]["scheduled"], 6);

    // The first device's visit is completed: the device is done.
    let list: Value = get(&t, &o.admin, &format!("/api/v1/recalls/{id}/devices")).await.json().await.unwrap();
    let wo = list["items"][0]["work_order_id"].as_i64().unwrap();
    let w: Value = get(&t, &o.admin, &format!("/api/v1/work-orders/{wo}")).await.json().await.unwrap();
    assert!(w["description"].as_str().unwrap().contains("产品召回"), "{w}");
    let eng = bring_on_site(&t, &o, wo, (22.54, 113.95)).await;
    finish_visit(&t, &eng, wo, "RECALL", 30).await;
    let rc: Value = get(&t, &mgr, &format!("/api/v1/recalls/{id}")).await.json().await.unwrap();
    assert_eq!(
        (rc["progress"]["done"].as_i64(), rc["progress"]["total"].as_i64()),
        (Some(1), Some(4)),
        "A's share: {rc}"
    );

    // The export: A's four rows, the customer masked for the engineer, in clear for the manager.
    let export = |token: String| {
        let t = &t;
        async move {
            let r = get(t, &token, &format!("/api/v1/recalls/{id}/export.xlsx")).await;
            assert_eq!(r.status(), StatusCode::OK);
            let bytes = r.bytes().await.unwrap();
            shouhou_app::sheets::read_rows("recall.xlsx", &bytes).unwrap()
        }
    };
    let eng_sheet = export(eng.clone()).await;
    assert_eq!(eng_sheet.rows.len(), 4);
    assert_eq!(eng_sheet.rows[0].cells[0], "XG5K-00100");
    assert_eq!(eng_sheet.rows[0].cells[5], "已完成");
    assert!(eng_sheet.rows[0].cells[2].contains('*'), "masked for the engineer: {:?}", eng_sheet.rows[0].cells);
    let mgr_sheet = export(mgr).await;
    assert_eq!(mgr_sheet.rows[0].cells[2], "13812345678");
    let admin_sheet = export(o.admin.clone()).await;
    assert_eq!(admin_sheet.rows.len(), 6);
}

crate::on_both_backends!(a_recall_selects_its_range_and_tracks_each_device_to_done);
