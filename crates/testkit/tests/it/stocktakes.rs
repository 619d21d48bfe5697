//! Stocktake (issue 12) through the API on both databases: a count sheet per warehouse, counts in
//! the part's unit, handed in, approved by someone else (four eyes) and posted to the ledger as
//! adjustments that name the sheet; the figures stay the sums of the ledger.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

async fn step(t: &TestApp, token: &str, sheet: &Value, body: Value) -> reqwest::Response {
    let mut body = body;
    body["version"] = sheet["version"].clone();
    post(t, token, &format!("/api/v1/stocktakes/{}/steps", sheet["id"]), body).await
}

async fn ok(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn on_hand(t: &TestApp, wh: i64, code: &str) -> String {
    let v: Value = get(t, &login(t, "admin").await, &format!("/api/v1/stock?warehouse_id={wh}&part_code={code}"))
        .await
        .json()
        .await
        .unwrap();
    v["items"][0]["on_hand"].as_str().unwrap().to_string()
}

async fn a_count_is_posted_only_after_someone_else_approves_it(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    for (code, unit, divisible) in [("FAN-XG5", "个", false), ("FIBRE-G652", "米", true)] {
        let p = json!({"code": code, "name": format!("{code} 备件"), "unit": unit, "divisible": divisible});
        assert_eq!(post(&t, &o.admin, "/api/v1/parts", p).await.status(), StatusCode::CREATED);
    }
    for (code, q) in [("FAN-XG5", json!(10)), ("FIBRE-G652", json!(100.5))] {
        let m = json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": code, "quantity": q});
        assert_eq!(post(&t, &o.admin, "/api/v1/stock-movements", m).await.status(), StatusCode::CREATED);
    }
    let mgr = login(&t, "mgr.a").await;
    let eng = login(&t, "eng.a").await;
    assert_eq!(
        post(&t, &eng, "/api/v1/stocktakes", json!({"warehouse_id": o.wh_a})).await.status(),
        StatusCode::FORBIDDEN
    );
    let p = problem(
        post(&t, &mgr, "/api/v1/stocktakes", json!({"warehouse_id": o.wh_b})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "warehouse_id");
    let r = post(&t, &mgr, "/api/v1/stocktakes", json!({"warehouse_id": o.wh_a, "note": "月末盘点"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let sheet: Value = r.json().await.unwrap();
    assert!(sheet["number"].as_str().unwrap().starts_with("ST-"));
    let expected: Vec<(&str, &str)> = sheet["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["part_code"].as_str().unwrap(), l["expected"].as_str().unwrap()))
        .collect();
    assert_eq!(expected, vec![("FAN-XG5", "10"), ("FIBRE-G652", "100.5")]);

    // Not all counted yet; a fraction of a counted part.
    let p = problem(
        step(&t, &mgr, &sheet, json!({"action": "submit"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_all_counted");
    let p = problem(
        step(&t, &mgr, &sheet, json!({"action": "count", "counts": [{"part_code": "FAN-XG5", "counted": 8.5}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "counts[0].counted");
    let counts = json!([{"part_code": "FAN-XG5", "counted": 8}, {"part_code": "fibre-g652", "counted": 101.25}]);
    let sheet = ok(step(&t, &mgr, &sheet, json!({"action": "count", "counts": counts})).await).await;
    let diffs: Vec<&str> =
        sheet["lines"].as_array().unwrap().iter().map(|l| l["difference"].as_str().unwrap()).collect();
    assert_eq!(diffs, vec!["-2", "0.75"]);
    let sheet = ok(step(&t, &mgr, &sheet, json!({"action": "submit"})).await).await;
    assert_eq!(sheet["status"], "submitted");
    assert_eq!(on_hand(&t, o.wh_a, "FAN-XG5").await, "10", "nothing posted before approval");

    // The counter does not approve their own count; someone else does, once.
    let p = problem(
        step(&t, &mgr, &sheet, json!({"action": "approve"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "four_eyes");
    let sheet = ok(step(&t, &o.admin, &sheet, json!({"action": "approve"})).await).await;
    assert_eq!(sheet["status"], "approved");
    assert!(sheet["lines"].as_array().unwrap().iter().all(|l| l["movement_id"].is_i64()));
    problem(step(&t, &o.admin, &sheet, json!({"action": "approve"})).await, StatusCode::CONFLICT, "illegal_transition")
        .await;
    assert_eq!(on_hand(&t, o.wh_a, "FAN-XG5").await, "8");
    assert_eq!(on_hand(&t, o.wh_a, "FIBRE-G652").await, "101.25");
    let mut rd = t.app.db.read().await.unwrap();
    let (linked, sums_agree): (i64, i64) = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM stock_movements WHERE stocktake_id = $1), \
         (SELECT COUNT(*) FROM stock_levels l WHERE l.on_hand = (SELECT COALESCE(SUM(on_hand_delta), 0) FROM stock_movements m \
          WHERE m.warehouse_id = l.warehouse_id AND m.part_id = l.part_id))")
        .bind(sheet["id"].as_i64().unwrap()).fetch_one(c).await).unwrap();
    drop(rd);
    assert_eq!(linked, 2, "each difference is a ledger row naming the sheet");
    assert_eq!(sums_agree, count(&t, "stock_levels").await, "on hand is the sum of the ledger");

    // A recount: returned with a reason, counted again.
    let sheet: Value =
        post(&t, &mgr, "/api/v1/stocktakes", json!({"warehouse_id": o.wh_a})).await.json().await.unwrap();
    let counts = json!([{"part_code": "FAN-XG5", "counted": 0}, {"part_code": "FIBRE-G652", "counted": 101.25}]);
    let sheet = ok(step(&t, &mgr, &sheet, json!({"action": "count", "counts": counts})).await).await;
    let sheet = ok(step(&t, &mgr, &sheet, json!({"action": "submit"})).await).await;
    let p = problem(
        step(&t, &o.admin, &sheet, json!({"action": "return"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let sheet =
        ok(step(&t, &o.admin, &sheet, json!({"action": "return", "reason": "风扇数量为 0 不合理，请复盘"})).await)
            .await;
    assert_eq!(
        (sheet["status"].as_str(), sheet["decision_note"].as_str()),
        (Some("counting"), Some("风扇数量为 0 不合理，请复盘"))
    );
    assert_eq!(on_hand(&t, o.wh_a, "FAN-XG5").await, "8");
    // Another station's manager does not see it.
    add_user(&t.app, "mgr.b", &["station_manager"], &["GZ-B"]).await;
    let mgr_b = login(&t, "mgr.b").await;
    assert_eq!(get(&t, &mgr_b, &format!("/api/v1/stocktakes/{}", sheet["id"])).await.status(), StatusCode::NOT_FOUND);

    // The ledger and the stock go to Excel as each caller may see them.
    let sheet_of = |token: String, path: &'static str| {
        let t = &t;
        async move {
            let r = get(t, &token, path).await;
            assert_eq!(r.status(), StatusCode::OK);
            shouhou_app::sheets::read_rows("x.xlsx", &r.bytes().await.unwrap()).unwrap()
        }
    };
    let ledger = sheet_of(mgr.clone(), "/api/v1/stock-movements/export.xlsx").await;
    assert_eq!(ledger.headers[5], "类型");
    assert_eq!(ledger.rows.len(), 4, "two receipts and two adjustments");
    let adjustment = ledger.rows.iter().find(|r| r.cells[2] == "FAN-XG5" && r.cells[5] == "报废").unwrap();
    assert_eq!((adjustment.cells[6].as_str(), adjustment.cells[11].starts_with("ST-")), ("-2", true));
    assert_eq!(
        sheet_of(mgr_b.clone(), "/api/v1/stock-movements/export.xlsx").await.rows.len(),
        0,
        "B sees none of A's"
    );
    let stock = sheet_of(mgr.clone(), "/api/v1/stock/export.xlsx").await;
    let fan = stock.rows.iter().find(|r| r.cells[1] == "FAN-XG5").unwrap();
    assert_eq!(fan.cells[4], "8");
    let p = problem(
        get(&t, &mgr, "/api/v1/stock-movements/export.xlsx?from=2026-13-01").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "from");
}

crate::on_both_backends!(a_count_is_posted_only_after_someone_else_approves_it);
