//! Work orders and two-tier dispatch (issue 11), through the API on both databases: creation from
//! a request and on its own, recommendations with their reasons, dispatch, assignment, the
//! engineer's steps, automatic re-dispatch on a decline, concurrent assignment, scope.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

/// A device of product line 光传输 at a customer in 深圳南山 (440305) with an open request;
/// station A covers 南山 itself, station B all of 广东; eng.a and eng.a2 (A) are certified for
/// 光传输, eng.b (B) is not. Answers (request id, customer id).
async fn field(t: &TestApp, o: &Org) -> (i64, i64) {
    let r = post(
        t,
        &o.admin,
        "/api/v1/product-models",
        json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(
        t,
        &o.admin,
        "/api/v1/product-models",
        json!({"code": "KT-1", "name": "KT-1 空调", "product_line": "空调"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c = post(
        t,
        &o.admin,
        "/api/v1/customers",
        json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "科技园南区 18 栋", "station_code": "SZ-A"}),
    )
    .await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let customer = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d = post(t, &o.admin, "/api/v1/devices", json!({"serial_number": "XG5K-0001", "model_code": "XG-5000", "customer_id": customer, "sale_date": "2025-01-31"})).await;
    assert_eq!(d.status(), StatusCode::CREATED);
    let r = post(t, &o.admin, "/api/v1/service-requests", json!({"customer_id": customer, "serial_number": "XG5K-0001", "type": "repair", "channel": "phone", "urgency": "high", "description": "告警灯常亮，业务中断"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let request = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    add_user(&t.app, "eng.a2", &["engineer"], &["SZ-A"]).await;
    add_user(&t.app, "disp", &["dispatcher"], &[]).await;
    for (station, codes) in [(o.a, json!(["440305"])), (o.b, json!(["440000"]))] {
        let r = put(t, &o.admin, &format!("/api/v1/stations/{station}/coverage"), json!({"region_codes": codes})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    for (user, lines) in
        [("eng.a", json!(["光传输"])), ("eng.a2", json!(["光传输", "空调"])), ("eng.b", json!(["空调"]))]
    {
        let id = user_id(t, o, user).await;
        let r = put(t, &o.admin, &format!("/api/v1/users/{id}/skills"), json!({"product_lines": lines})).await;
        assert_eq!(r.status(), StatusCode::OK, "{user}");
    }
    (request, customer)
}

pub async fn put(t: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    client().put(t.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

async fn user_id(t: &TestApp, o: &Org, username: &str) -> i64 {
    let v: Value = get(t, &o.admin, &format!("/api/v1/users?q={username}")).await.json().await.unwrap();
    v["items"].as_array().unwrap().iter().find(|u| u["username"] == username).unwrap()["id"].as_i64().unwrap()
}

/// A repair work order made from `request` by the administrator; answers its id.
async fn repair_visit(t: &TestApp, o: &Org, request: i64) -> i64 {
    let r = post(t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "repair"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn read(t: &TestApp, token: &str, id: i64) -> Value {
    let r = get(t, token, &format!("/api/v1/work-orders/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn step(t: &TestApp, token: &str, id: i64, body: Value) -> reqwest::Response {
    post(t, token, &format!("/api/v1/work-orders/{id}/transitions"), body).await
}

async fn ok_step(t: &TestApp, token: &str, id: i64, mut body: Value) -> Value {
    let v = read(t, token, id).await["version"].clone();
    body["version"] = v;
    let r = step(t, token, id, body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "{body}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn a_work_order_goes_from_the_board_to_closed_with_each_step_on_its_timeline(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let r = post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "repair"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_i64().unwrap();
    assert!(c["number"].as_str().unwrap().starts_with("WO-") && c["number"].as_str().unwrap().len() == 16, "{c}");
    assert_eq!((c["status"].as_str(), c["version"].as_i64()), (Some("created"), Some(1)));
    let w = read(&t, &o.admin, id).await;
    assert!(w["arrange_due_at"].as_str().unwrap().ends_with("+08:00"), "{w}");
    assert_eq!(w["region_code"], "440305");
    assert_eq!(w["description"], "告警灯常亮，业务中断", "the request's description by default");

    // The stations, best first, with their reasons in words: 南山 itself before all of 广东.
    let rec: Value =
        get(&t, &o.admin, &format!("/api/v1/work-orders/{id}/recommendations")).await.json().await.unwrap();
    let stations: Vec<i64> =
        rec["stations"].as_array().unwrap().iter().map(|s| s["station_id"].as_i64().unwrap()).collect();
    assert_eq!(stations, vec![o.a, o.b]);
    assert_eq!(rec["stations"][0]["reasons"][0], "覆盖 广东省 深圳市 南山区");
    assert_eq!(rec["stations"][1]["reasons"][0], "覆盖 广东省");
    assert_eq!(rec["engineers"], json!([]), "no engineers before a station has it");

    // Headquarters dispatch to A; A's engineers ranked, the certified ones only.
    let disp = login(&t, "disp").await;
    let r =
        post(&t, &disp, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let rec: Value =
        get(&t, &o.admin, &format!("/api/v1/work-orders/{id}/recommendations")).await.json().await.unwrap();
    let (a1, a2) = (user_id(&t, &o, "eng.a").await, user_id(&t, &o, "eng.a2").await);
    let engineers: Vec<i64> =
        rec["engineers"].as_array().unwrap().iter().map(|e| e["user_id"].as_i64().unwrap()).collect();
    assert_eq!(engineers, vec![a1, a2], "both certified, equal load: the lower id first");
    assert_eq!(rec["engineers"][0]["reasons"][0], "持 光传输 资质");

    // The station manager assigns; an engineer of another station does not even see it.
    let mgr = login(&t, "mgr.a").await;
    let r = post(&t, &mgr, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let eng_b = login(&t, "eng.b").await;
    problem(get(&t, &eng_b, &format!("/api/v1/work-orders/{id}")).await, StatusCode::NOT_FOUND, "not_found").await;

    let eng = login(&t, "eng.a").await;
    // No report before the engineer is there.
    let p = problem(
        get(&t, &o.admin, &format!("/api/v1/work-orders/{id}/report.pdf")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_checked_in");
    // Out of order: a check-in before accepting and departing names what is allowed.
    let r = step(&t, &eng, id, json!({"action": "check_in", "version": 3})).await;
    let p = problem(r, StatusCode::CONFLICT, "illegal_transition").await;
    assert_eq!(p["allowed"], json!(["return", "assign", "accept", "decline", "cancel"]));
    // A stale version is a 409 too.
    problem(step(&t, &eng, id, json!({"action": "accept", "version": 2})).await, StatusCode::CONFLICT, "stale_version")
        .await;
    ok_step(&t, &eng, id, json!({"action": "accept"})).await;
    let w = read(&t, &eng, id).await;
    assert!(w["arranged_at"].is_string() && w["accept_due_at"].is_null());
    assert_eq!(w["arrange_clock"]["state"], "met");
    ok_step(&t, &eng, id, json!({"action": "depart"})).await;
    ok_step(&t, &eng, id, json!({"action": "check_in", "lat": 22.54, "lng": 113.95})).await;
    // The request cannot be resolved while its visit is open.
    let sr: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{request}")).await.json().await.unwrap();
    let r = post(
        &t,
        &o.admin,
        &format!("/api/v1/service-requests/{request}/transitions"),
        json!({"action": "resolve", "version": sr["version"], "note": "已修复"}),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "work_order_open", "{p}");
    // A diagnosis needs its fault code and cause.
    let v = read(&t, &eng, id).await["version"].clone();
    let p = problem(
        step(&t, &eng, id, json!({"action": "diagnose", "version": v, "fault_code": "E-102"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "cause");
    ok_step(&t, &eng, id, json!({"action": "diagnose", "fault_code": "E-102", "cause": "光模块老化"})).await;
    // Photos and the signature are images, checked on their content; a part is recorded.
    let r = upload(&t, &eng, id, "before", "现场.png", PNG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p = problem(
        upload(&t, &eng, id, "after", "伪装.png", b"%PDF-1.4 not an image".to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "file");
    let p = problem(
        upload(&t, &eng, id, "selfie", "a.png", PNG.to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "purpose");
    let r = post(&t, &eng, &format!("/api/v1/work-orders/{id}/parts"), json!({"part_code": "OM-10G", "part_name": "10G 光模块", "quantity": 1, "old_serial": "OM-A-0001", "new_serial": "OM-A-0932"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p = problem(
        post(
            &t,
            &eng,
            &format!("/api/v1/work-orders/{id}/parts"),
            json!({"part_code": "OM-10G", "part_name": "10G 光模块", "quantity": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "quantity");
    ok_step(&t, &eng, id, json!({"action": "wait_for_parts", "note": "等光模块"})).await;
    // Waiting for parts pauses the request's resolution clock; the parts there, it runs on.
    let sr: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{request}")).await.json().await.unwrap();
    assert_eq!(sr["clocks"]["resolution"]["phase"], "paused", "{}", sr["clocks"]);
    assert_eq!(sr["clocks"]["response"]["phase"], "running", "the response clock is not the visit's");
    ok_step(&t, &eng, id, json!({"action": "resume"})).await;
    let sr: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{request}")).await.json().await.unwrap();
    assert_eq!(sr["clocks"]["resolution"]["phase"], "running");
    let v = read(&t, &eng, id).await["version"].clone();
    let p = problem(
        step(&t, &eng, id, json!({"action": "complete", "version": v, "work_done": "更换光模块"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == "labour_minutes"), "{p}");
    // Completion needs the customer's signature.
    let v = read(&t, &eng, id).await["version"].clone();
    let p = problem(
        step(
            &t,
            &eng,
            id,
            json!({"action": "complete", "version": v, "work_done": "更换光模块", "labour_minutes": 90}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "signature");
    assert_eq!(upload(&t, &eng, id, "signature", "签名.png", PNG.to_vec()).await.status(), StatusCode::CREATED);
    ok_step(&t, &eng, id, json!({"action": "complete", "work_done": "更换光模块，业务恢复", "labour_minutes": 90, "customer_confirmed": true})).await;
    // After completion nothing more is added on site.
    let p = problem(
        upload(&t, &eng, id, "after", "晚了.png", PNG.to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_on_site");
    // Closing after review is the station's, not the engineer's.
    let v = read(&t, &eng, id).await["version"].clone();
    problem(step(&t, &eng, id, json!({"action": "close", "version": v})).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    // The service report: a PDF from check-in on.
    let pdf = get(&t, &o.admin, &format!("/api/v1/work-orders/{id}/report.pdf")).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() < 500_000, "{} bytes", bytes.len());
    let done = ok_step(&t, &mgr, id, json!({"action": "close"})).await;
    assert_eq!(done["status"], "closed");

    let w = read(&t, &o.admin, id).await;
    assert_eq!((w["fault_code"].as_str(), w["labour_minutes"].as_i64()), (Some("E-102"), Some(90)));
    assert_eq!(w["parts"][0]["new_serial"], "OM-A-0932");
    let purposes: Vec<&str> = w["files"].as_array().unwrap().iter().map(|f| f["purpose"].as_str().unwrap()).collect();
    assert_eq!(purposes, vec!["before", "signature"]);
    let f = get(&t, &o.admin, &format!("/api/v1/work-order-files/{}", w["files"][1]["id"])).await;
    assert_eq!(f.headers()["content-type"], "image/png");
    assert_eq!(f.bytes().await.unwrap().as_ref(), PNG);
    problem(
        get(&t, &eng_b, &format!("/api/v1/work-order-files/{}", w["files"][1]["id"])).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let steps: Vec<&str> = w["events"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        steps,
        vec![
            "dispatch",
            "assign",
            "accept",
            "depart",
            "check_in",
            "diagnose",
            "wait_for_parts",
            "resume",
            "complete",
            "close"
        ]
    );
    assert!(w["events"].as_array().unwrap().iter().all(|e| e["at"].as_str().unwrap().ends_with("+08:00")));
    // The request's timeline names its visit, and now it can be resolved.
    let sr: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{request}")).await.json().await.unwrap();
    assert!(sr["events"].as_array().unwrap().iter().any(|e| e["kind"] == "work_order"), "{sr}");
    // Completion filed the service report on the request, once: a PDF attachment on its timeline.
    let number = w["number"].as_str().unwrap();
    let reports: Vec<&Value> = sr["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["file_name"].as_str().unwrap().contains(number))
        .collect();
    assert_eq!(reports.len(), 1, "{sr}");
    assert_eq!(reports[0]["content_type"], "application/pdf");
    let filed = get(&t, &o.admin, &format!("/api/v1/attachments/{}", reports[0]["id"])).await;
    assert_eq!(filed.status(), StatusCode::OK);
    assert!(filed.bytes().await.unwrap().starts_with(b"%PDF-"));
    assert_eq!(shouhou_app::work_orders::file_report(&t.app, id).await.unwrap(), None, "filed once");
    let swept = shouhou_app::work_orders::sweep(&t.app, "node-1").await.unwrap();
    assert_eq!(swept.reports, 0);
    assert_eq!(count(&t, "attachments").await, 1);
    let r = post(
        &t,
        &o.admin,
        &format!("/api/v1/service-requests/{request}/transitions"),
        json!({"action": "resolve", "version": sr["version"], "note": "已修复"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn a_decline_goes_to_the_next_engineer_then_to_the_next_station(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let id = repair_visit(&t, &o, request).await;
    let disp = login(&t, "disp").await;
    let r =
        post(&t, &disp, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (a1, a2) = (user_id(&t, &o, "eng.a").await, user_id(&t, &o, "eng.a2").await);
    let mgr = login(&t, "mgr.a").await;
    let r = post(&t, &mgr, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    assert_eq!(r.status(), StatusCode::OK);

    // A decline needs its reason; then it goes to the next certified engineer at once.
    let eng = login(&t, "eng.a").await;
    let p = problem(
        step(&t, &eng, id, json!({"action": "decline", "version": 3})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "reason_required");
    let m = ok_step(&t, &eng, id, json!({"action": "decline", "note": "今天在东莞，赶不过去"})).await;
    assert_eq!((m["status"].as_str(), m["engineer_id"].as_i64()), (Some("assigned"), Some(a2)));
    // Someone else's work order is not theirs to accept.
    let v = read(&t, &eng, id).await["version"].clone();
    problem(step(&t, &eng, id, json!({"action": "accept", "version": v})).await, StatusCode::FORBIDDEN, "forbidden")
        .await;

    // The second declines too: no engineer of A left, so A's tier has failed and B (all of 广东)
    // gets it; B's one engineer is not certified for 光传输, so it waits with B.
    let eng2 = login(&t, "eng.a2").await;
    let m = ok_step(&t, &eng2, id, json!({"action": "decline", "note": "请假"})).await;
    assert_eq!(
        (m["status"].as_str(), m["station_id"].as_i64(), m["engineer_id"].as_i64()),
        (Some("dispatched"), Some(o.b), None)
    );
    let w = read(&t, &o.admin, id).await;
    let notes: Vec<(&str, &str)> = w["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["action"].as_str()?, e["actor_name"].as_str()?)))
        .collect();
    assert_eq!(
        notes.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        vec!["dispatch", "assign", "decline", "assign", "decline", "return", "dispatch"]
    );
    assert_eq!(notes[3].1, "系统", "the re-dispatch is the system's, and says so");
    let rec: Value =
        get(&t, &o.admin, &format!("/api/v1/work-orders/{id}/recommendations")).await.json().await.unwrap();
    assert_eq!(rec["engineers"], json!([]));
    assert_eq!(rec["excluded_engineers"][0]["reasons"][0], "无 光传输 资质");
    // B hands it back with a reason: no station left, it waits on the dispatcher's board.
    let r = step(&t, &o.admin, id, json!({"action": "return", "version": w["version"], "note": "无人持证"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let w = read(&t, &o.admin, id).await;
    assert_eq!((w["status"].as_str(), w["station_id"].as_i64()), (Some("created"), None));
}

async fn dispatch_needs_a_covering_active_station_unless_overridden(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (request, customer) = field(&t, &o).await;
    // A work order on its own, for the customer's device.
    let r = post(
        &t,
        &o.admin,
        "/api/v1/work-orders",
        json!({"customer_id": customer, "serial_number": "xg5k-0001", "kind": "maintenance",
        "appointment_from": "2026-12-08T09:00:00+08:00", "appointment_to": "2026-12-08T12:00:00+08:00"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let before = count(&t, "work_order_events").await;
    let disp = login(&t, "disp").await;
    let p = problem(
        post(&t, &disp, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.b + 100, "version": 1}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_station");
    // Take B's coverage away: it no longer covers 南山.
    let r = put(&t, &o.admin, &format!("/api/v1/stations/{}/coverage", o.b), json!({"region_codes": ["440100"]})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["region_codes"], json!(["440100"]));
    let p = problem(
        post(&t, &disp, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.b, "version": 1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "station_not_covering");
    assert_eq!(count(&t, "work_order_events").await, before, "a refused dispatch writes nothing");
    // An administrator may override.
    let r = post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.b, "version": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Moving the agreed window needs a reason, and is on the timeline with the old window.
    let url = format!("/api/v1/work-orders/{id}/appointment");
    let moved = json!({"appointment_from": "2026-12-09T14:00:00+08:00", "appointment_to": "2026-12-09T17:00:00+08:00", "version": 2});
    let p =
        problem(put(&t, &o.admin, &url, moved.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(p["errors"][0]["code"], "reason_required");
    let mut with_reason = moved.clone();
    with_reason["reason"] = json!("客户周二不在");
    let r = put(&t, &o.admin, &url, with_reason).await;
    assert_eq!(r.status(), StatusCode::OK);
    let w = read(&t, &o.admin, id).await;
    assert_eq!(w["appointment_from"], "2026-12-09T14:00:00+08:00");
    let e = w["events"].as_array().unwrap().iter().find(|e| e["kind"] == "rescheduled").unwrap();
    assert_eq!(e["note"], "客户周二不在");
    // Bad input, each named: a region that does not exist, a product line no model has, a bad window.
    let p = problem(
        put(&t, &o.admin, &format!("/api/v1/stations/{}/coverage", o.a), json!({"region_codes": ["999999"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_region");
    let e = user_id(&t, &o, "eng.a").await;
    let p = problem(
        put(&t, &o.admin, &format!("/api/v1/users/{e}/skills"), json!({"product_lines": ["火箭"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_product_line");
    let p = problem(
        post(
            &t,
            &o.admin,
            "/api/v1/work-orders",
            json!({"service_request_id": request, "kind": "repair",
        "appointment_from": "2026-12-08T12:00:00+08:00", "appointment_to": "2026-12-08T09:00:00+08:00"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "before_start");
    let p = problem(
        post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "party"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "kind");
}

/// Two dispatchers give the same work order to two engineers at once: exactly one wins, the other
/// gets 409, and the timeline holds one assignment.
async fn two_assignments_at_once_one_wins(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let id = repair_visit(&t, &o, request).await;
    let r = post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (a1, a2) = (user_id(&t, &o, "eng.a").await, user_id(&t, &o, "eng.a2").await);
    let (mgr, disp) = (login(&t, "mgr.a").await, login(&t, "disp").await);
    let url = format!("/api/v1/work-orders/{id}/assign");
    let (x, y) = tokio::join!(
        post(&t, &mgr, &url, json!({"engineer_id": a1, "version": 2})),
        post(&t, &disp, &url, json!({"engineer_id": a2, "version": 2})),
    );
    let mut st = [x.status().as_u16(), y.status().as_u16()];
    st.sort();
    assert_eq!(st, [200, 409]);
    let w = read(&t, &o.admin, id).await;
    assert_eq!(w["events"].as_array().unwrap().iter().filter(|e| e["action"] == "assign").count(), 1);
    assert_eq!(w["version"], 3);

    // The same race between two instances (their own pools on one database): one through HTTP, the
    // other a second `App`, five times over.
    use shouhou_app::{Actor, App, AppConfig, AppError, Ctx};
    let db2 = shouhou_store::Db::connect(&t.db.url, &shouhou_store::DbOptions::default()).await.unwrap();
    let second = App::new(
        db2,
        std::sync::Arc::new(shouhou_app::SystemClock),
        AppConfig::default(),
        shouhou_store::crypto::test_keyring(),
    );
    let disp_ctx = {
        let mut rd = second.db.read().await.unwrap();
        let u = shouhou_store::users::user_by_username(&mut rd.conn(), "disp").await.unwrap().unwrap();
        Ctx { actor: Some(Actor::from_user(&u)), source: "test".into(), request_id: String::new() }
    };
    for _ in 0..5 {
        let c: Value =
            post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "repair"}))
                .await
                .json()
                .await
                .unwrap();
        let id = c["id"].as_i64().unwrap();
        let r =
            post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1}))
                .await;
        assert_eq!(r.status(), StatusCode::OK);
        let url = format!("/api/v1/work-orders/{id}/assign");
        let (x, y) = tokio::join!(
            post(&t, &mgr, &url, json!({"engineer_id": a1, "version": 2})),
            shouhou_app::work_orders::assign(&second, &disp_ctx, id, 2, a2),
        );
        match (x.status(), y) {
            (StatusCode::OK, Err(AppError::Stale)) | (StatusCode::CONFLICT, Ok(_)) => {}
            (s, y) => panic!("both or neither won: HTTP {s}, second instance {y:?}"),
        }
        let w = read(&t, &o.admin, id).await;
        assert_eq!(w["events"].as_array().unwrap().iter().filter(|e| e["action"] == "assign").count(), 1);
    }
    second.db.close().await;
}

/// A phone that resends a step with its Idempotency-Key (the answer was lost in a basement) gets
/// the first answer again, and the step is on the timeline once.
async fn a_resent_step_with_its_key_is_done_once(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let id = repair_visit(&t, &o, request).await;
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1})).await;
    let a1 = user_id(&t, &o, "eng.a").await;
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    let eng = login(&t, "eng.a").await;
    let send = || {
        client()
            .post(t.url(&format!("/api/v1/work-orders/{id}/transitions")))
            .bearer_auth(&eng)
            .header("Idempotency-Key", "phone-accept-1")
            .json(&json!({"action": "accept", "version": 3}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "the same answer, not a stale version");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let w = read(&t, &o.admin, id).await;
    assert_eq!(w["events"].as_array().unwrap().iter().filter(|e| e["action"] == "accept").count(), 1);
    assert_eq!(w["version"], 4);
}

/// The worker of two instances (their own pools on one database) sweeping at once: an engineer who
/// let the accept deadline pass loses the work order to the next one, once; the "arranged" clock
/// (2 h on the working calendar, from the request's registration, across the lunch break) warns at
/// 80 % and breaches at 100 %, each once, notifying headquarters' dispatchers and the station's
/// manager.
async fn missed_deadlines_and_the_arranged_clock_fire_once_across_instances(b: Backend) {
    use shouhou_app::{App, AppConfig, FixedClock};
    use shouhou_store::{Db, DbOptions};
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    // Mon 13 Oct 2025 11:00: the request is registered; due 14:30 (one hour before lunch, one after).
    let clock = Arc::new(FixedClock::new(at("2025-10-13T11:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let id = repair_visit(&t, &o, request).await;
    let w = read(&t, &o.admin, id).await;
    assert_eq!(w["arrange_due_at"], "2025-10-13T14:30:00+08:00");
    let r = post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let a1 = user_id(&t, &o, "eng.a").await;
    let r =
        post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Urgency high: the engineer has 30 minutes to accept.
    assert_eq!(read(&t, &o.admin, id).await["accept_due_at"], "2025-10-13T11:30:00+08:00");

    let db2 = Db::connect(&t.db.url, &DbOptions::default()).await.unwrap();
    let second = App::new(db2, clock.clone(), AppConfig::default(), shouhou_store::crypto::test_keyring());
    let race = |first: App, second: App| async move {
        let mut tasks = vec![];
        for (i, app) in [first.clone(), second.clone(), first, second].into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                shouhou_app::work_orders::sweep(&app, &format!("node-{}", i % 2 + 1)).await.unwrap()
            }));
        }
        let mut total = shouhou_app::work_orders::SweepReport::default();
        for t in tasks {
            let r = t.await.unwrap();
            total.redispatched += r.redispatched;
            total.warnings += r.warnings;
            total.breaches += r.breaches;
        }
        total
    };
    // 11:29: nothing is due yet.
    clock.set_ms(at("2025-10-13T11:29:00+08:00"));
    let r = race(t.app.clone(), second.clone()).await;
    assert_eq!((r.redispatched, r.warnings, r.breaches), (0, 0, 0));
    // 11:31: eng.a missed the deadline; the work order goes to eng.a2, once.
    clock.set_ms(at("2025-10-13T11:31:00+08:00"));
    let r = race(t.app.clone(), second.clone()).await;
    assert_eq!(r.redispatched, 1);
    let w = read(&t, &o.admin, id).await;
    assert_eq!(
        (w["status"].as_str(), w["engineer_id"].as_i64()),
        (Some("assigned"), Some(user_id(&t, &o, "eng.a2").await))
    );
    let notes: Vec<&str> = w["events"].as_array().unwrap().iter().map(|e| e["note"].as_str().unwrap()).collect();
    assert!(notes.contains(&"deadline_missed"), "{notes:?}");
    let disp = login(&t, "disp").await;
    let inbox: Value = get(&t, &disp, "/api/v1/inbox").await.json().await.unwrap();
    assert_eq!(inbox["total"], 1, "the dispatcher hears of it: {inbox}");
    // Nobody accepts: the station hands it back, and the clock runs on to 14:06 (80 %: a warning).
    let v = read(&t, &o.admin, id).await["version"].clone();
    let r = step(&t, &o.admin, id, json!({"action": "return", "version": v, "note": "人手不足"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    clock.set_ms(at("2025-10-13T14:07:00+08:00"));
    let r = race(t.app.clone(), second.clone()).await;
    assert_eq!((r.warnings, r.breaches), (1, 0));
    clock.set_ms(at("2025-10-13T14:31:00+08:00"));
    let r = race(t.app.clone(), second.clone()).await;
    assert_eq!((r.warnings, r.breaches), (0, 1));
    let r = race(t.app.clone(), second.clone()).await;
    assert_eq!((r.warnings, r.breaches), (0, 0), "each level once");
    assert_eq!(count(&t, "work_order_alerts").await, 2);
    let w = read(&t, &o.admin, id).await;
    assert_eq!(w["arrange_clock"]["state"], "breached");
    second.db.close().await;
}

/// An inspection route per region: a model's devices installed in the region (or whose customer
/// is there) get their inspection work orders, those elsewhere do not; the due list says which
/// station each is with and what is overdue, and narrows to one station.
async fn an_inspection_route_covers_the_devices_of_its_region(b: Backend) {
    use shouhou_app::FixedClock;
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let clock = Arc::new(FixedClock::new(at("2025-02-25T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    field(&t, &o).await;
    // A second device of the model at a customer in Guangzhou.
    let c = post(
        &t,
        &o.admin,
        "/api/v1/customers",
        json!({"name": "李四", "phone": "13912345678", "region_code": "440103", "address": "荔湾路 8 号"}),
    )
    .await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let gz = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d = post(
        &t,
        &o.admin,
        "/api/v1/devices",
        json!({"serial_number": "XG5K-0002", "model_code": "XG-5000", "customer_id": gz, "sale_date": "2025-01-31"}),
    )
    .await;
    assert_eq!(d.status(), StatusCode::CREATED);
    for (body, field, code) in [
        (
            json!({"model_code": "XG-5000", "kind": "inspection", "first_after_days": 20, "region_code": "449999"}),
            "region_code",
            "unknown_region",
        ),
        (
            json!({"serial_number": "XG5K-0001", "kind": "inspection", "first_after_days": 20, "region_code": "440300"}),
            "region_code",
            "not_with_serial",
        ),
    ] {
        let p = problem(
            post(&t, &o.admin, "/api/v1/maintenance-plans", body).await,
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
    assert_eq!(count(&t, "maintenance_plans").await, 0, "nothing written");
    // Shenzhen's route: inspections 30 days after the sale (2025-03-02, within the week's lead), then every 90.
    let r = post(&t, &o.admin, "/api/v1/maintenance-plans", json!({"model_code": "XG-5000", "kind": "inspection", "first_after_days": 30, "every_days": 90, "region_code": "440300"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["region_code"], "440300");
    let n = shouhou_app::maintenance::sweep(&t.app, "node-1").await.unwrap().work_orders;
    assert_eq!(n, 1, "the Shenzhen device only");
    let due: Value = get(&t, &o.admin, "/api/v1/maintenance/due").await.json().await.unwrap();
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!((due[0]["due_on"].as_str(), due[0]["overdue"].as_bool()), (Some("2025-03-02"), Some(false)));
    // Three days after its day, not done: overdue.
    clock.set_ms(at("2025-03-05T09:00:00+08:00"));
    let admin = login(&t, "admin").await; // the morning's session has expired
    let due: Value = get(&t, &admin, "/api/v1/maintenance/due").await.json().await.unwrap();
    assert_eq!((due[0]["due_on"].as_str(), due[0]["overdue"].as_bool()), (Some("2025-03-02"), Some(true)));
    let id = due[0]["work_order_id"].as_i64().unwrap();
    let w = read(&t, &admin, id).await;
    assert_eq!((w["kind"].as_str(), w["region_code"].as_str()), (Some("inspection"), Some("440305")));
    // Dispatched to station A, it is A's: the list narrowed to A has it, to B not.
    let r = post(
        &t,
        &admin,
        &format!("/api/v1/work-orders/{id}/dispatch"),
        json!({"station_id": o.a, "version": w["version"]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mine: Value =
        get(&t, &admin, &format!("/api/v1/maintenance/due?station_id={}", o.a)).await.json().await.unwrap();
    assert_eq!(mine[0]["station_id"], o.a);
    let other: Value =
        get(&t, &admin, &format!("/api/v1/maintenance/due?station_id={}", o.b)).await.json().await.unwrap();
    assert_eq!(other, json!([]));
    // The board lists it with its station.
    let page = get(&t, &admin, "/work-orders").await.text().await.unwrap();
    assert!(
        page.contains(w["number"].as_str().unwrap()) && page.contains("逾期"),
        "the board shows the overdue route item"
    );
}

/// The "arranged" clock on the stored PRC calendar, through the API: a request registered on the
/// eve of the National Day holiday is due after it; one registered on the Friday before the
/// make-up Saturday is due that Saturday, and breaches there.
async fn the_arranged_clock_sleeps_through_the_holiday_and_works_the_make_up_saturday(b: Backend) {
    use shouhou_app::FixedClock;
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let clock = Arc::new(FixedClock::new(at("2025-09-30T17:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (request, customer) = field(&t, &o).await;
    let c: Value = post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "repair"}))
        .await
        .json()
        .await
        .unwrap();
    let w = read(&t, &o.admin, c["id"].as_i64().unwrap()).await;
    // Half an hour on Tue 30 Sep, 1–8 October off, the other 90 minutes on Thu 9 October from 08:30.
    assert_eq!(w["arrange_due_at"], "2025-10-09T10:00:00+08:00");
    clock.set_ms(at("2025-10-10T17:00:00+08:00"));
    let admin = login(&t, "admin").await;
    let r = post(&t, &admin, "/api/v1/service-requests", json!({"customer_id": customer, "serial_number": "XG5K-0001", "type": "repair", "channel": "phone", "urgency": "normal", "description": "周五傍晚报修"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let c: Value = post(&t, &admin, "/api/v1/work-orders", json!({"service_request_id": second, "kind": "repair"}))
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(read(&t, &admin, id).await["arrange_due_at"], "2025-10-11T10:00:00+08:00", "the make-up Saturday works");
    clock.set_ms(at("2025-10-11T10:01:00+08:00"));
    let w = read(&t, &admin, id).await;
    assert_eq!(w["arrange_clock"]["state"], "breached");
    assert_eq!(w["arrange_clock"]["breached_at"], "2025-10-11T10:00:00+08:00");
}

/// Every sweep of two instances at once, four sweeps in all; what they did together.
async fn sweep_both(first: &shouhou_app::App, second: &shouhou_app::App) -> shouhou_app::work_orders::SweepReport {
    let mut tasks = vec![];
    for (i, app) in [first.clone(), second.clone(), first.clone(), second.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            shouhou_app::work_orders::sweep(&app, &format!("node-{}", i % 2 + 1)).await.unwrap()
        }));
    }
    let mut total = shouhou_app::work_orders::SweepReport::default();
    for t in tasks {
        let r = t.await.unwrap();
        total.redispatched += r.redispatched;
        total.warnings += r.warnings;
        total.breaches += r.breaches;
        total.reports += r.reports;
    }
    total
}

/// The "on site by the agreed window" clock: 80 % through the window without a check-in, the
/// dispatchers and the engineer hear of it; at its end again; each once across two instances.
/// The clock shows on the work order; a late check-in stops it as missed.
async fn the_agreed_window_warns_then_breaches_once_across_instances(b: Backend) {
    use shouhou_app::{App, AppConfig, FixedClock};
    use shouhou_store::{Db, DbOptions};
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let clock = Arc::new(FixedClock::new(at("2025-10-13T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let id = repair_visit(&t, &o, request).await;
    let r = post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let a1 = user_id(&t, &o, "eng.a").await;
    let r =
        post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let eng = login(&t, "eng.a").await;
    ok_step(&t, &eng, id, json!({"action": "accept"})).await;
    let w = read(&t, &o.admin, id).await;
    assert!(w["on_site_clock"].is_null(), "no window agreed, no clock: {w}");
    let r = put(
        &t,
        &eng,
        &format!("/api/v1/work-orders/{id}/appointment"),
        json!({"appointment_from": "2025-10-13T10:00:00+08:00", "appointment_to": "2025-10-13T12:00:00+08:00", "version": w["version"]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(read(&t, &o.admin, id).await["on_site_clock"]["state"], "not_started");

    let db2 = Db::connect(&t.db.url, &DbOptions::default()).await.unwrap();
    let second = App::new(db2, clock.clone(), AppConfig::default(), shouhou_store::crypto::test_keyring());
    // 11:35: 95 of the window's 120 minutes gone, under 80 %.
    clock.set_ms(at("2025-10-13T11:35:00+08:00"));
    let r = sweep_both(&t.app, &second).await;
    assert_eq!((r.warnings, r.breaches), (0, 0));
    assert_eq!(read(&t, &o.admin, id).await["on_site_clock"]["state"], "running");
    // 11:36 is 80 %.
    clock.set_ms(at("2025-10-13T11:36:00+08:00"));
    let r = sweep_both(&t.app, &second).await;
    assert_eq!((r.warnings, r.breaches), (1, 0));
    assert_eq!(read(&t, &o.admin, id).await["on_site_clock"]["state"], "at_risk");
    let inbox: Value = get(&t, &eng, "/api/v1/inbox").await.json().await.unwrap();
    let titles: Vec<&str> = inbox["items"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert!(titles.iter().any(|t| t.contains("即将错过约定上门时间")), "the engineer hears of it: {titles:?}");
    let disp = login(&t, "disp").await;
    let inbox: Value = get(&t, &disp, "/api/v1/inbox").await.json().await.unwrap();
    assert_eq!(inbox["total"], 1, "and headquarters' dispatcher: {inbox}");
    clock.set_ms(at("2025-10-13T12:01:00+08:00"));
    let r = sweep_both(&t.app, &second).await;
    assert_eq!((r.warnings, r.breaches), (0, 1));
    let r = sweep_both(&t.app, &second).await;
    assert_eq!((r.warnings, r.breaches), (0, 0), "each level once");
    assert_eq!(count(&t, "work_order_alerts").await, 2);
    assert_eq!(read(&t, &o.admin, id).await["on_site_clock"]["state"], "breached");
    // The engineer arrives at 12:20: the clock stops, missed.
    clock.set_ms(at("2025-10-13T12:20:00+08:00"));
    ok_step(&t, &eng, id, json!({"action": "depart"})).await;
    ok_step(&t, &eng, id, json!({"action": "check_in"})).await;
    let w = read(&t, &o.admin, id).await;
    assert_eq!(
        (w["on_site_clock"]["state"].as_str(), w["on_site_clock"]["met"].as_bool()),
        (Some("missed"), Some(false))
    );
    second.db.close().await;
}

/// The engineer on the visit reads the customer's phone and address in clear (and the read is
/// audited); a colleague of the same station, the engineer before accepting and after completing,
/// read them masked as their role has it.
async fn the_engineer_on_the_visit_reads_the_customer_in_clear(b: Backend) {
    use shouhou_app::{Actor, Ctx};
    let t = app(b).await;
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let id = repair_visit(&t, &o, request).await;
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1})).await;
    let a1 = user_id(&t, &o, "eng.a").await;
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    let ctx = |name: &'static str| {
        let app = t.app.clone();
        async move {
            let mut rd = app.db.read().await.unwrap();
            let u = shouhou_store::users::user_by_username(&mut rd.conn(), name).await.unwrap().unwrap();
            Ctx { actor: Some(Actor::from_user(&u)), source: "test".into(), request_id: String::new() }
        }
    };
    let (eng, colleague) = (ctx("eng.a").await, ctx("eng.a2").await);
    let phone = |v: shouhou_app::customers::CustomerView| v.phone;
    let before = shouhou_app::work_orders::customer_of(&t.app, &eng, id).await.unwrap();
    assert_eq!(before.phone, "138****5678", "not before accepting");
    let eng_token = login(&t, "eng.a").await;
    ok_step(&t, &eng_token, id, json!({"action": "accept"})).await;
    let audited = count(&t, "audit_log").await;
    assert_eq!(phone(shouhou_app::work_orders::customer_of(&t.app, &eng, id).await.unwrap()), "13812345678");
    assert_eq!(count(&t, "audit_log").await, audited + 1, "the read in clear is audited");
    assert_eq!(phone(shouhou_app::work_orders::customer_of(&t.app, &colleague, id).await.unwrap()), "138****5678");
    let v: Value =
        get(&t, &o.admin, "/api/v1/audit?action=customer.read_personal&per_page=1").await.json().await.unwrap();
    assert_eq!(v["items"][0]["actor_name"], "eng.a");
}

/// Leave keeps an engineer out of the ranking on the visit day, saying why; the automatic mode of
/// the dispatch settings sends a new work order of a chosen urgency to the top station and its
/// top engineer at once; bad settings are refused, named.
async fn leave_and_the_automatic_mode_shape_dispatch(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (request, _) = field(&t, &o).await;
    let a1 = user_id(&t, &o, "eng.a").await;
    let day = "2030-01-07";
    let r = put(&t, &o.admin, &format!("/api/v1/users/{a1}/leave"), json!({"days": [{"day": day, "reason": "年假"}]}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = problem(
        put(&t, &o.admin, &format!("/api/v1/users/{a1}/leave"), json!({"days": [{"day": "2020-01-01"}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "in_past");
    let c: Value = post(
        &t,
        &o.admin,
        "/api/v1/work-orders",
        json!({"service_request_id": request, "kind": "repair",
        "appointment_from": format!("{day}T09:00:00+08:00"), "appointment_to": format!("{day}T11:00:00+08:00")}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = c["id"].as_i64().unwrap();
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1})).await;
    let rec: Value =
        get(&t, &o.admin, &format!("/api/v1/work-orders/{id}/recommendations")).await.json().await.unwrap();
    let ranked: Vec<i64> =
        rec["engineers"].as_array().unwrap().iter().map(|e| e["user_id"].as_i64().unwrap()).collect();
    assert_eq!(ranked, vec![user_id(&t, &o, "eng.a2").await]);
    let out = rec["excluded_engineers"].as_array().unwrap().iter().find(|e| e["user_id"] == a1).unwrap();
    assert_eq!(out["reasons"][0], "1月7日 请假");

    let p = problem(
        put(&t, &o.admin, "/api/v1/dispatch-settings", json!({"arrange_minutes": 0})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "arrange_minutes");
    let r = put(&t, &o.admin, "/api/v1/dispatch-settings", json!({"automatic": ["high"], "arrange_minutes": 90})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = get(&t, &o.admin, "/api/v1/dispatch-settings").await.json().await.unwrap();
    assert_eq!((s["automatic"].clone(), s["arrange_minutes"].as_i64()), (json!(["high"]), Some(90)));
    // The request is of urgency high: its new work order goes to A (南山 itself) and to the first
    // certified engineer on hand today at once.
    let c: Value = post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "repair"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "assigned", "{c}");
    let w = read(&t, &o.admin, c["id"].as_i64().unwrap()).await;
    assert_eq!((w["station_id"].as_i64(), w["engineer_id"].as_i64()), (Some(o.a), Some(a1)));
}

/// A first-maintenance plan for a model: when the item falls within its lead, the workers of two
/// instances sweeping at once make one work order per device and item, never two; the list shows
/// it due; the visit completed, the device records its 首保.
async fn maintenance_items_become_work_orders_once_across_instances(b: Backend) {
    use shouhou_app::{App, AppConfig, FixedClock};
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    // The demo device was sold on 2025-01-31; today is 2025-02-25.
    let clock = Arc::new(FixedClock::new(at("2025-02-25T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    field(&t, &o).await;
    let p = problem(
        post(&t, &o.admin, "/api/v1/maintenance-plans", json!({"kind": "maintenance"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "model_or_serial");
    // First maintenance 30 days after the sale (2025-03-02), then every 90 days; work orders a week ahead.
    let r = post(&t, &o.admin, "/api/v1/maintenance-plans", json!({"model_code": "XG-5000", "kind": "maintenance", "first_after_days": 30, "every_days": 90, "lead_days": 7})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let db2 = shouhou_store::Db::connect(&t.db.url, &shouhou_store::DbOptions::default()).await.unwrap();
    let second = App::new(db2, clock.clone(), AppConfig::default(), shouhou_store::crypto::test_keyring());
    let race = |first: App, second: App| async move {
        let mut tasks = vec![];
        for (i, app) in [first.clone(), second.clone(), first, second].into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                shouhou_app::maintenance::sweep(&app, &format!("node-{}", i % 2 + 1)).await.unwrap().work_orders
            }));
        }
        let mut n = 0;
        for t in tasks {
            n += t.await.unwrap();
        }
        n
    };
    let before = count(&t, "work_orders").await;
    assert_eq!(race(t.app.clone(), second.clone()).await, 1, "one item within the lead, one work order");
    assert_eq!(race(t.app.clone(), second.clone()).await, 0, "and never again");
    assert_eq!(count(&t, "work_orders").await, before + 1);
    let due: Value = get(&t, &o.admin, "/api/v1/maintenance/due").await.json().await.unwrap();
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!((due[0]["due_on"].as_str(), due[0]["seq"].as_i64()), (Some("2025-03-02"), Some(0)));
    let id = due[0]["work_order_id"].as_i64().unwrap();
    let w = read(&t, &o.admin, id).await;
    assert_eq!(w["kind"], "maintenance");
    assert!(w["description"].as_str().unwrap().contains("首保"));
    // The visit, done and signed: the device records its first maintenance; the item is no longer due.
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1})).await;
    let a1 = user_id(&t, &o, "eng.a").await;
    post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": a1, "version": 2})).await;
    let eng = login(&t, "eng.a").await;
    for a in ["accept", "depart", "check_in"] {
        ok_step(&t, &eng, id, json!({"action": a})).await;
    }
    assert_eq!(upload(&t, &eng, id, "signature", "签名.png", PNG.to_vec()).await.status(), StatusCode::CREATED);
    ok_step(
        &t,
        &eng,
        id,
        json!({"action": "complete", "work_done": "首次保养：清洁、紧固、检测", "labour_minutes": 60}),
    )
    .await;
    let device = w["device_id"].as_i64().unwrap();
    let mut rd = t.app.db.read().await.unwrap();
    let done: Option<i64> = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT first_maintenance_at FROM devices WHERE id = $1").bind(device).fetch_one(c).await).unwrap();
    drop(rd);
    assert!(done.is_some(), "the 首保 is recorded on the device");
    let due: Value = get(&t, &o.admin, "/api/v1/maintenance/due").await.json().await.unwrap();
    assert_eq!(due, json!([]));
    second.db.close().await;
}

crate::on_both_backends!(
    the_arranged_clock_sleeps_through_the_holiday_and_works_the_make_up_saturday,
    an_inspection_route_covers_the_devices_of_its_region,
    the_agreed_window_warns_then_breaches_once_across_instances,
    maintenance_items_become_work_orders_once_across_instances,
    leave_and_the_automatic_mode_shape_dispatch,
    the_engineer_on_the_visit_reads_the_customer_in_clear,
    a_resent_step_with_its_key_is_done_once,
    missed_deadlines_and_the_arranged_clock_fire_once_across_instances,
    a_work_order_goes_from_the_board_to_closed_with_each_step_on_its_timeline,
    a_decline_goes_to_the_next_engineer_then_to_the_next_station,
    dispatch_needs_a_covering_active_station_unless_overridden,
    two_assignments_at_once_one_wins,
);
