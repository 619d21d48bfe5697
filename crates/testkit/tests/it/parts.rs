//! Spare parts (issue 12), through the API on both databases: the catalog, the stock ledger's
//! movements and its invariants (on hand is the sum of the movements, nothing ever below zero),
//! transfers in transit, and fifty concurrent issues of ten available through two instances.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

async fn part(t: &TestApp, o: &Org, code: &str, unit: &str, divisible: bool) -> Value {
    let r = post(
        t,
        &o.admin,
        "/api/v1/parts",
        json!({"code": code, "name": format!("{code} 备件"), "unit": unit, "divisible": divisible}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn stock_of(t: &TestApp, token: &str, wh: i64, code: &str) -> Value {
    let v: Value =
        get(t, token, &format!("/api/v1/stock?warehouse_id={wh}&part_code={code}")).await.json().await.unwrap();
    v["items"].get(0).cloned().unwrap_or(Value::Null)
}

async fn movement(t: &TestApp, token: &str, body: Value) -> reqwest::Response {
    post(t, token, "/api/v1/stock-movements", body).await
}

/// On hand, reserved and in transit of every stock row equal the sums of their ledger rows.
async fn ledger_adds_up(t: &TestApp) {
    let mut rd = t.app.db.read().await.unwrap();
    let bad: i64 = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM stock_levels l WHERE l.on_hand <> (SELECT COALESCE(SUM(m.on_hand_delta), 0) FROM stock_movements m \
           WHERE m.warehouse_id = l.warehouse_id AND m.part_id = l.part_id) \
         OR l.reserved <> (SELECT COALESCE(SUM(m.reserved_delta), 0) FROM stock_movements m \
           WHERE m.warehouse_id = l.warehouse_id AND m.part_id = l.part_id) \
         OR l.in_transit <> (SELECT COALESCE(SUM(m.in_transit_delta), 0) FROM stock_movements m \
           WHERE m.warehouse_id = l.warehouse_id AND m.part_id = l.part_id)")
        .fetch_one(c).await).unwrap();
    assert_eq!(bad, 0, "every figure is the sum of its movements");
}

async fn the_catalog_takes_good_parts_and_refuses_bad_ones(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let r = post(
        &t,
        &o.admin,
        "/api/v1/product-models",
        json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(&t, &o.admin, "/api/v1/parts", json!({"code": "om-10g-lr", "name": "10G 光模块", "unit": "个", "price_fen": 128000, "model_codes": ["XG-5000"], "specification": "SFP+ 1310nm 10km"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["code"].as_str(), p["model_codes"][0].as_str(), p["divisible"].as_bool()),
        (Some("OM-10G-LR"), Some("XG-5000"), Some(false))
    );
    for (body, field, code) in [
        (json!({"code": "OM-10G-LR", "name": "重复", "unit": "个"}), "code", "already_exists"),
        (json!({"code": "FAN-1", "name": "风扇", "unit": ""}), "unit", "required"),
        (json!({"code": "光模块", "name": "风扇", "unit": "个"}), "code", "invalid_code"),
        (
            json!({"code": "FAN-1", "name": "风扇", "unit": "个", "model_codes": ["NOPE"]}),
            "model_codes",
            "unknown_model",
        ),
        (json!({"code": "FAN-1", "name": "风扇", "unit": "个", "price_fen": -1}), "price_fen", "out_of_range"),
    ] {
        let p = problem(
            post(&t, &o.admin, "/api/v1/parts", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["code"] == code),
            "{field} {code}: {p}"
        );
    }
    assert_eq!(count(&t, "parts").await, 1, "nothing else written");
    let list: Value = get(&t, &o.admin, "/api/v1/parts?q=光模块").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    // The engineer reads the catalog; only keepers of the catalog add to it.
    let eng = login(&t, "eng.a").await;
    assert_eq!(get(&t, &eng, "/api/v1/parts").await.status(), StatusCode::OK);
    problem(
        post(&t, &eng, "/api/v1/parts", json!({"code": "X", "name": "x", "unit": "个"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

async fn the_ledger_moves_stock_and_never_below_zero(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    part(&t, &o, "OM-10G-LR", "个", false).await;
    part(&t, &o, "FIBRE-SM", "米", true).await;
    let (a, bb) = (o.wh_a, o.wh_b);
    let r =
        movement(&t, &o.admin, json!({"kind": "receipt", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 10}))
            .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let done: Value = r.json().await.unwrap();
    assert_eq!((done["stock"]["on_hand"].as_str(), done["stock"]["available"].as_str()), (Some("10"), Some("10")));
    let r =
        movement(&t, &o.admin, json!({"kind": "issue", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 3}))
            .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // More than is available: 409, what is available said, nothing written.
    let before = count(&t, "stock_movements").await;
    let p = problem(
        movement(&t, &o.admin, json!({"kind": "issue", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 8}))
            .await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    assert_eq!(p["available"], "7", "{p}");
    assert_eq!(count(&t, "stock_movements").await, before);
    // Bad input names its field; nothing written.
    for (body, field, code) in [
        (
            json!({"kind": "issue", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 0}),
            "quantity",
            "must_be_positive",
        ),
        (
            json!({"kind": "issue", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": -2}),
            "quantity",
            "must_be_positive",
        ),
        (
            json!({"kind": "issue", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 1.5}),
            "quantity",
            "whole_units",
        ),
        (json!({"kind": "issue", "warehouse_id": a, "part_code": "NOPE", "quantity": 1}), "part_code", "unknown_part"),
        (
            json!({"kind": "issue", "warehouse_id": 999999, "part_code": "OM-10G-LR", "quantity": 1}),
            "warehouse_id",
            "unknown_warehouse",
        ),
        (
            json!({"kind": "borrow", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 1}),
            "kind",
            "invalid_choice",
        ),
        (
            json!({"kind": "transfer_out", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 1}),
            "to_warehouse_id",
            "required",
        ),
        (
            json!({"kind": "transfer_out", "warehouse_id": a, "to_warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 1}),
            "to_warehouse_id",
            "same_warehouse",
        ),
        (
            json!({"kind": "receipt", "warehouse_id": a, "to_warehouse_id": bb, "part_code": "OM-10G-LR", "quantity": 1}),
            "to_warehouse_id",
            "only_for_transfer",
        ),
        (json!({"kind": "transfer_in", "warehouse_id": bb}), "transfer_id", "required"),
    ] {
        let p =
            problem(movement(&t, &o.admin, body.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
                .await;
        assert!(
            p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["code"] == code),
            "{body}: {p}"
        );
    }
    assert_eq!(count(&t, "stock_movements").await, before);
    // A divisible part takes decimals, exactly.
    let r =
        movement(&t, &o.admin, json!({"kind": "receipt", "warehouse_id": a, "part_code": "FIBRE-SM", "quantity": 2.5}))
            .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r =
        movement(&t, &o.admin, json!({"kind": "issue", "warehouse_id": a, "part_code": "FIBRE-SM", "quantity": 0.125}))
            .await;
    assert_eq!(r.json::<Value>().await.unwrap()["stock"]["on_hand"], "2.375");
    // Reserved stock is on hand but not available.
    movement(&t, &o.admin, json!({"kind": "reserve", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 2}))
        .await;
    let s = stock_of(&t, &o.admin, a, "OM-10G-LR").await;
    assert_eq!(
        (s["on_hand"].as_str(), s["reserved"].as_str(), s["available"].as_str()),
        (Some("7"), Some("2"), Some("5"))
    );
    let p = problem(
        movement(&t, &o.admin, json!({"kind": "scrap", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 6}))
            .await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    assert_eq!(p["available"], "5");
    movement(&t, &o.admin, json!({"kind": "release", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 2}))
        .await;
    problem(
        movement(&t, &o.admin, json!({"kind": "release", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 1}))
            .await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    // A transfer: off A's hand at once, in transit at B until it arrives, once.
    let r = movement(&t, &o.admin, json!({"kind": "transfer_out", "warehouse_id": a, "to_warehouse_id": bb, "part_code": "OM-10G-LR", "quantity": 4, "note": "调拨至广州站"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let transfer = r.json::<Value>().await.unwrap()["transfer_id"].as_i64().unwrap();
    assert_eq!(stock_of(&t, &o.admin, a, "OM-10G-LR").await["on_hand"], "3");
    let at_b = stock_of(&t, &o.admin, bb, "OM-10G-LR").await;
    assert_eq!((at_b["on_hand"].as_str(), at_b["in_transit"].as_str()), (Some("0"), Some("4")));
    let p = problem(
        movement(&t, &o.admin, json!({"kind": "transfer_in", "warehouse_id": a, "transfer_id": transfer})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_transfer", "it arrives where it was sent");
    let r = movement(&t, &o.admin, json!({"kind": "transfer_in", "warehouse_id": bb, "transfer_id": transfer})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let at_b = stock_of(&t, &o.admin, bb, "OM-10G-LR").await;
    assert_eq!((at_b["on_hand"].as_str(), at_b["in_transit"].as_str()), (Some("4"), Some("0")));
    let p = problem(
        movement(&t, &o.admin, json!({"kind": "transfer_in", "warehouse_id": bb, "transfer_id": transfer})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "already_received");
    ledger_adds_up(&t).await;
    // The warehouses page lists the same figures.
    let page = get(&t, &o.admin, "/warehouses?q=OM-10G-LR").await.text().await.unwrap();
    assert!(
        page.contains("OM-10G-LR") && page.contains("GZ-B-WH") && page.contains("备件库存"),
        "the stock on the page"
    );
    // A station's manager moves stock in the station's own warehouses only, and sees only them.
    let mgr = login(&t, "mgr.a").await;
    let r =
        movement(&t, &mgr, json!({"kind": "issue", "warehouse_id": a, "part_code": "OM-10G-LR", "quantity": 1})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p = problem(
        movement(&t, &mgr, json!({"kind": "issue", "warehouse_id": bb, "part_code": "OM-10G-LR", "quantity": 1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_warehouse");
    let seen: Value = get(&t, &mgr, "/api/v1/stock").await.json().await.unwrap();
    assert!(seen["items"].as_array().unwrap().iter().all(|i| i["warehouse_id"] == a), "{seen}");
    // Every movement is audited.
    let audit: Value = get(&t, &o.admin, "/api/v1/audit?action=stock.").await.json().await.unwrap();
    let moves = count(&t, "stock_movements").await;
    // One entry per recorded movement (a transfer out writes two ledger rows: sender and receiver).
    assert_eq!(audit["total"].as_i64().unwrap(), moves - 1, "{audit}");
}

/// Fifty issues of one at once, of a part with ten available, half through HTTP on one instance
/// and half as calls on a second instance (its own pool on the same database): exactly ten are
/// issued, forty are refused with `insufficient_stock`, and nothing goes below zero.
async fn fifty_concurrent_issues_of_ten_available_issue_exactly_ten(b: Backend) {
    use shouhou_app::{App, AppConfig, AppError};
    let t = app(b).await;
    let o = org(&t).await;
    part(&t, &o, "OM-10G-LR", "个", false).await;
    let r = movement(
        &t,
        &o.admin,
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "OM-10G-LR", "quantity": 10}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let db2 = shouhou_store::Db::connect(&t.db.url, &shouhou_store::DbOptions::default()).await.unwrap();
    let second = App::new(db2, t.app.clock.clone(), AppConfig::default(), shouhou_store::crypto::test_keyring());
    let admin_ctx = {
        let mut rd = second.db.read().await.unwrap();
        let u = shouhou_store::users::user_by_username(&mut rd.conn(), "admin").await.unwrap().unwrap();
        shouhou_app::Ctx {
            actor: Some(shouhou_app::Actor::from_user(&u)),
            source: "test".into(),
            request_id: String::new(),
        }
    };
    let mut tasks = vec![];
    for i in 0..50 {
        let (url, token, second, ctx) =
            (t.url("/api/v1/stock-movements"), o.admin.clone(), second.clone(), admin_ctx.clone());
        let wh = o.wh_a;
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let r = client()
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"kind": "issue", "warehouse_id": wh, "part_code": "OM-10G-LR", "quantity": 1}))
                    .send()
                    .await
                    .unwrap();
                match r.status() {
                    StatusCode::CREATED => true,
                    StatusCode::CONFLICT => {
                        assert_eq!(r.json::<Value>().await.unwrap()["code"], "insufficient_stock");
                        false
                    }
                    s => panic!("HTTP {s}: {}", r.text().await.unwrap()),
                }
            } else {
                let f = shouhou_app::parts::MovementForm {
                    kind: "issue".into(),
                    warehouse_id: wh,
                    part_code: Some("OM-10G-LR".into()),
                    quantity: Some(1.into()),
                    ..Default::default()
                };
                match shouhou_app::parts::record_movement(&second, &ctx, &f).await {
                    Ok(_) => true,
                    Err(AppError::InsufficientStock { .. }) => false,
                    Err(e) => panic!("second instance: {e:?}"),
                }
            }
        }));
    }
    let mut issued = 0;
    for task in tasks {
        issued += u32::from(task.await.unwrap());
    }
    assert_eq!(issued, 10, "exactly the ten available, forty refused");
    let s = stock_of(&t, &o.admin, o.wh_a, "OM-10G-LR").await;
    assert_eq!((s["on_hand"].as_str(), s["available"].as_str()), (Some("0"), Some("0")));
    let mut rd = t.app.db.read().await.unwrap();
    let issues: i64 = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT COUNT(*) FROM stock_movements WHERE kind = 'issue'").fetch_one(c).await).unwrap();
    drop(rd);
    assert_eq!(issues, 10);
    ledger_adds_up(&t).await;
    second.db.close().await;
}

/// A part used on a visit, taken from the engineer's station shelf: issued from its stock to the
/// work order (the ledger row names it), or refused with what is available and nothing written.
async fn a_part_used_on_a_visit_is_issued_from_the_station_shelf(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let w: Value = post(
        &t,
        &o.admin,
        "/api/v1/work-orders",
        json!({"customer_id": customer, "serial_number": "XG5K-0001", "kind": "repair"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = w["id"].as_i64().unwrap();
    let r = post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), json!({"station_id": o.a, "version": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let users: Value = get(&t, &o.admin, "/api/v1/users?q=eng.a").await.json().await.unwrap();
    let eng_a = users["items"].as_array().unwrap().iter().find(|u| u["username"] == "eng.a").unwrap()["id"].clone();
    let r =
        post(&t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": eng_a, "version": 2}))
            .await;
    assert_eq!(r.status(), StatusCode::OK);
    let eng = login(&t, "eng.a").await;
    for (action, version) in [("accept", 3), ("depart", 4), ("check_in", 5)] {
        let r = post(
            &t,
            &eng,
            &format!("/api/v1/work-orders/{id}/transitions"),
            json!({"action": action, "version": version}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "{action}: {}", r.text().await.unwrap());
    }
    part(&t, &o, "OM-10G-LR", "个", false).await;
    let r = movement(
        &t,
        &o.admin,
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "OM-10G-LR", "quantity": 2}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let url = format!("/api/v1/work-orders/{id}/parts");
    let r = post(&t, &eng, &url, json!({"part_code": "om-10g-lr", "quantity": 1, "warehouse_id": o.wh_a, "old_serial": "OM-0101", "new_serial": "OM-0909"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let s = stock_of(&t, &o.admin, o.wh_a, "OM-10G-LR").await;
    assert_eq!(s["on_hand"], "1");
    let wo: Value = get(&t, &eng, &format!("/api/v1/work-orders/{id}")).await.json().await.unwrap();
    assert_eq!(
        (wo["parts"][0]["part_code"].as_str(), wo["parts"][0]["part_name"].as_str()),
        (Some("OM-10G-LR"), Some("OM-10G-LR 备件")),
        "named by the catalog"
    );
    let mut rd = t.app.db.read().await.unwrap();
    let linked: i64 = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT COUNT(*) FROM stock_movements WHERE kind = 'issue' AND work_order_id = $1").bind(id).fetch_one(c).await).unwrap();
    drop(rd);
    assert_eq!(linked, 1, "the ledger row names the work order");
    // Two more than the one left: refused, nothing written.
    let before = count(&t, "work_order_parts").await;
    let p = problem(
        post(&t, &eng, &url, json!({"part_code": "OM-10G-LR", "quantity": 2, "warehouse_id": o.wh_a})).await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    assert_eq!(p["available"], "1");
    // Another station's shelf, an unknown part: clear errors.
    let p = problem(
        post(&t, &eng, &url, json!({"part_code": "OM-10G-LR", "quantity": 1, "warehouse_id": o.wh_b})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "warehouse_id");
    let p = problem(
        post(&t, &eng, &url, json!({"part_code": "NOPE", "quantity": 1, "warehouse_id": o.wh_a})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_part");
    assert_eq!(count(&t, "work_order_parts").await, before);
    assert_eq!(stock_of(&t, &o.admin, o.wh_a, "OM-10G-LR").await["on_hand"], "1");
    ledger_adds_up(&t).await;
}

/// A low-stock threshold per warehouse and part: the movement that takes the available quantity
/// below it tells the station's managers, once per fall; the low ones can be listed.
async fn falling_below_the_threshold_tells_the_station_once(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    part(&t, &o, "FAN-XG5", "个", false).await;
    let mgr = login(&t, "mgr.a").await;
    let put = |token: String, body: Value| {
        let url = t.url("/api/v1/stock-thresholds");
        async move { client().put(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    for (body, field, code) in [
        (json!({"warehouse_id": o.wh_b, "part_code": "FAN-XG5", "threshold": 5}), "warehouse_id", "unknown_warehouse"),
        (json!({"warehouse_id": o.wh_a, "part_code": "NOPE", "threshold": 5}), "part_code", "unknown_part"),
        (json!({"warehouse_id": o.wh_a, "part_code": "FAN-XG5", "threshold": -1}), "threshold", "must_be_positive"),
    ] {
        let p = problem(put(mgr.clone(), body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(
            (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
            (Some(field), Some(code)),
            "{p}"
        );
    }
    let r = put(mgr.clone(), json!({"warehouse_id": o.wh_a, "part_code": "FAN-XG5", "threshold": 5})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = movement(
        &t,
        &o.admin,
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "FAN-XG5", "quantity": 6}),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["stock"]["low"], false);
    let inbox = |token: String| {
        let t = &t;
        async move { get(t, &token, "/api/v1/inbox").await.json::<Value>().await.unwrap()["total"].as_i64().unwrap() }
    };
    let before = inbox(mgr.clone()).await;
    // 6 → 4: below 5, the station's manager hears of it; 4 → 3: still low, no second word.
    let r =
        movement(&t, &o.admin, json!({"kind": "issue", "warehouse_id": o.wh_a, "part_code": "FAN-XG5", "quantity": 2}))
            .await;
    assert_eq!(r.json::<Value>().await.unwrap()["stock"]["low"], true);
    assert_eq!(inbox(mgr.clone()).await, before + 1);
    movement(&t, &o.admin, json!({"kind": "issue", "warehouse_id": o.wh_a, "part_code": "FAN-XG5", "quantity": 1}))
        .await;
    assert_eq!(inbox(mgr.clone()).await, before + 1, "once per fall");
    let low: Value = get(&t, &mgr, "/api/v1/stock?low=true").await.json().await.unwrap();
    assert_eq!(low["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (low["items"][0]["part_code"].as_str(), low["items"][0]["available"].as_str()),
        (Some("FAN-XG5"), Some("3"))
    );
    // Back above and down again: told again.
    movement(&t, &o.admin, json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "FAN-XG5", "quantity": 10}))
        .await;
    movement(&t, &o.admin, json!({"kind": "scrap", "warehouse_id": o.wh_a, "part_code": "FAN-XG5", "quantity": 9}))
        .await;
    assert_eq!(inbox(mgr.clone()).await, before + 2);
    // Cleared, nothing is low.
    put(mgr.clone(), json!({"warehouse_id": o.wh_a, "part_code": "FAN-XG5", "threshold": null})).await;
    let low: Value = get(&t, &mgr, "/api/v1/stock?low=true").await.json().await.unwrap();
    assert_eq!(low["items"], json!([]));
}

/// An engineer's van is a warehouse of the station that belongs to the engineer: parts used on
/// their visits come from it; another engineer of the station cannot take from it.
async fn an_engineers_van_is_a_warehouse_only_its_engineer_takes_from(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    add_user(&t.app, "eng.a2", &["engineer"], &["SZ-A"]).await;
    let van = |engineer: &str| json!({"code": "SZ-A-VAN1", "name": "张工的车", "station_code": "SZ-A", "engineer_username": engineer, "region_code": "440305", "address": "随车"});
    let p = problem(
        post(&t, &o.admin, "/api/v1/warehouses", van("eng.b")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("engineer_username"), Some("not_station_engineer"))
    );
    let r = post(&t, &o.admin, "/api/v1/warehouses", van("eng.a")).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let van_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let w: Value = get(&t, &o.admin, &format!("/api/v1/warehouses/{van_id}")).await.json().await.unwrap();
    assert!(w["engineer_id"].is_i64(), "{w}");
    part(&t, &o, "LC-PC-3M", "根", false).await;
    let r = movement(
        &t,
        &o.admin,
        json!({"kind": "receipt", "warehouse_id": van_id, "part_code": "LC-PC-3M", "quantity": 3}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (customer, _) = nanshan_device(&t, &o).await;
    let (mine, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54, 113.95)).await;
    let take = json!({"part_code": "LC-PC-3M", "quantity": 1, "warehouse_id": van_id});
    let r = post(&t, &eng, &format!("/api/v1/work-orders/{mine}/parts"), take.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    assert_eq!(stock_of(&t, &o.admin, van_id, "LC-PC-3M").await["on_hand"], "2");
    // Another engineer of the station, on their own visit: not from this van.
    let r = post(
        &t,
        &o.admin,
        "/api/v1/work-orders",
        json!({"customer_id": customer, "serial_number": "XG5K-0001", "kind": "repair"}),
    )
    .await;
    let theirs = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let eng2 = bring_on_site_as(&t, &o, theirs, (22.54, 113.95), "eng.a2").await;
    let p = problem(
        post(&t, &eng2, &format!("/api/v1/work-orders/{theirs}/parts"), take).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("warehouse_id"), Some("not_your_van"))
    );
    assert_eq!(stock_of(&t, &o.admin, van_id, "LC-PC-3M").await["on_hand"], "2");
}

/// A serialised part: every unit moves with its serial, and a serial is in one place at a time —
/// received once, sent on in transit, installed in the device by the visit that used it.
async fn a_serial_is_in_one_place_at_a_time(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let p =
        json!({"code": "OM-SN", "name": "光模块（带序列号）", "unit": "个", "serialised": true, "price_fen": 45000});
    assert_eq!(post(&t, &o.admin, "/api/v1/parts", p).await.status(), StatusCode::CREATED);
    part(&t, &o, "LC-PC-3M", "根", false).await;
    let field_code = |p: &Value| {
        (p["errors"][0]["field"].as_str().unwrap().to_string(), p["errors"][0]["code"].as_str().unwrap().to_string())
    };
    let refused = |body: Value| {
        let t = &t;
        let token = o.admin.clone();
        async move { problem(movement(t, &token, body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await }
    };
    let p = refused(json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "OM-SN", "quantity": 2})).await;
    assert_eq!(field_code(&p), ("serials".into(), "one_per_unit".into()));
    let p = refused(
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "LC-PC-3M", "quantity": 1, "serials": ["X"]}),
    )
    .await;
    assert_eq!(field_code(&p), ("serials".into(), "not_serialised".into()));
    let r = movement(&t, &o.admin, json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "OM-SN", "quantity": 2, "serials": ["sn-1", "SN-2"]})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    // The same serial received elsewhere: refused, nothing written there.
    let p = refused(
        json!({"kind": "receipt", "warehouse_id": o.wh_b, "part_code": "OM-SN", "quantity": 1, "serials": ["SN-1"]}),
    )
    .await;
    assert_eq!(field_code(&p), ("serials[0]".into(), "serial_elsewhere".into()));
    assert_eq!(stock_of(&t, &o.admin, o.wh_b, "OM-SN").await, Value::Null);
    // SN-2 goes to B; SN-1 is not at B to be sent anywhere.
    let r = movement(&t, &o.admin, json!({"kind": "transfer_out", "warehouse_id": o.wh_a, "to_warehouse_id": o.wh_b, "part_code": "OM-SN", "quantity": 1, "serials": ["SN-2"]})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let transfer = r.json::<Value>().await.unwrap()["transfer_id"].as_i64().unwrap();
    let p = refused(
        json!({"kind": "scrap", "warehouse_id": o.wh_a, "part_code": "OM-SN", "quantity": 1, "serials": ["SN-2"]}),
    )
    .await;
    assert_eq!(field_code(&p), ("serials[0]".into(), "serial_not_here".into()), "in transit, not on A's shelf");
    let r =
        movement(&t, &o.admin, json!({"kind": "transfer_in", "warehouse_id": o.wh_b, "transfer_id": transfer})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // On a visit: the new serial must be on the shelf it is taken from.
    let (customer, device) = nanshan_device(&t, &o).await;
    let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54, 113.95)).await;
    let url = format!("/api/v1/work-orders/{id}/parts");
    let p = problem(
        post(
            &t,
            &eng,
            &url,
            json!({"part_code": "OM-SN", "quantity": 1, "warehouse_id": o.wh_a, "new_serial": "SN-2"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&p), ("new_serial".into(), "serial_not_here".into()));
    let p = problem(
        post(&t, &eng, &url, json!({"part_code": "OM-SN", "quantity": 1, "warehouse_id": o.wh_a})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&p), ("new_serial".into(), "required_for_serialised".into()));
    assert_eq!(stock_of(&t, &o.admin, o.wh_a, "OM-SN").await["on_hand"], "1", "the refusals wrote nothing");
    let r = post(&t, &eng, &url, json!({"part_code": "OM-SN", "quantity": 1, "warehouse_id": o.wh_a, "new_serial": "sn-1", "old_serial": "OLD-77"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let mut rd = t.app.db.read().await.unwrap();
    let places: Vec<(String, String, Option<i64>, Option<i64>)> =
        shouhou_store::both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT serial, state, warehouse_id, device_id FROM part_serials ORDER BY serial").fetch_all(c).await)
        .unwrap();
    drop(rd);
    assert_eq!(
        places,
        vec![
            ("SN-1".to_string(), "installed".to_string(), None, Some(device)),
            ("SN-2".to_string(), "in_stock".to_string(), Some(o.wh_b), None),
        ]
    );
    ledger_adds_up(&t).await;
}

/// The catalog comes in from a spreadsheet: every row checked first, all or nothing.
async fn the_catalog_is_imported_all_or_nothing(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let m = json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"});
    assert_eq!(post(&t, &o.admin, "/api/v1/product-models", m).await.status(), StatusCode::CREATED);
    part(&t, &o, "LC-PC-3M", "根", false).await;
    let upload = |csv: &'static str| {
        let t = &t;
        let token = o.admin.clone();
        async move {
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("备件.csv"));
            client().post(t.url("/api/v1/parts/import")).bearer_auth(token).multipart(form).send().await.unwrap()
        }
    };
    let bad = "备件编码,备件名称,单位,规格,单价,可拆分,序列号管理,适用机型\n\
               OM-10G-ER,10G 光模块 40km,个,SFP+ 1550nm,1.234,否,是,XG-5000\n\
               OM-10G-ER,重复,个,,1,否,否,\n\
               LC-PC-3M,已有,根,,1,否,否,\n\
               FAN-X,风扇,,,1,也许,否,XG-9999\n";
    let r = upload(bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let report: Value = r.json().await.unwrap();
    let found: Vec<(i64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "price", "invalid_price"),
            (3, "code", "duplicate_in_file"),
            (4, "code", "already_exists"),
            (5, "unit", "required"),
            (5, "divisible", "invalid_choice"),
            (5, "model_codes", "unknown_model"),
        ]
    );
    assert_eq!(count(&t, "parts").await, 1, "nothing written");
    let good = "备件编码,备件名称,单位,规格,单价,可拆分,序列号管理,适用机型\n\
                OM-10G-ER,10G 光模块 40km,个,SFP+ 1550nm,\"1,680.00\",否,是,XG-5000\n\
                FIBRE-G655,非零色散光缆,米,,3.5,是,,\n";
    let r = upload(good).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let l: Value = get(&t, &o.admin, "/api/v1/parts?q=OM-10G-ER").await.json().await.unwrap();
    let p = &l["items"][0];
    assert_eq!(
        (p["price_fen"].as_i64(), p["serialised"].as_bool(), p["model_codes"].clone()),
        (Some(168_000), Some(true), json!(["XG-5000"]))
    );
    let l: Value = get(&t, &o.admin, "/api/v1/parts?q=FIBRE-G655").await.json().await.unwrap();
    assert_eq!((l["items"][0]["divisible"].as_bool(), l["items"][0]["price_fen"].as_i64()), (Some(true), Some(350)));
}

crate::on_both_backends!(
    the_catalog_is_imported_all_or_nothing,
    a_serial_is_in_one_place_at_a_time,
    an_engineers_van_is_a_warehouse_only_its_engineer_takes_from,
    falling_below_the_threshold_tells_the_station_once,
    a_part_used_on_a_visit_is_issued_from_the_station_shelf,
    the_catalog_takes_good_parts_and_refuses_bad_ones,
    the_ledger_moves_stock_and_never_below_zero,
    fifty_concurrent_issues_of_ten_available_issue_exactly_ten,
);
