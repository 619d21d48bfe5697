//! Warranty cards (三包卡, issue 12) through the API on both databases: filed from a completed
//! warranty visit, returned for correction, corrected, approved; each audit flag with its
//! evidence; the faulty part's return gating payment; the overdue list told once across two
//! instances; bad input.
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

/// The catalog part OM-10G-LR (450.00 元, fits XG-5000), two of it on station A's shelf, and the
/// central warehouse HQ-CW. Answers the central warehouse's id.
async fn parts_and_central(t: &TestApp, o: &Org) -> i64 {
    let p = json!({"code": "OM-10G-LR", "name": "10G 光模块", "unit": "个", "price_fen": 45000, "model_codes": ["XG-5000"]});
    assert_eq!(post(t, &o.admin, "/api/v1/parts", p).await.status(), StatusCode::CREATED);
    let r = post(
        t,
        &o.admin,
        "/api/v1/stock-movements",
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "OM-10G-LR", "quantity": 5}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let hq = json!({"code": "HQ-CW", "name": "中心库", "region_code": "440305", "address": "总部仓库"});
    let r = post(t, &o.admin, "/api/v1/warehouses", hq).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn replace_part(t: &TestApp, eng: &str, o: &Org, id: i64, old: &str, new: &str) {
    let body =
        json!({"part_code": "OM-10G-LR", "quantity": 1, "warehouse_id": o.wh_a, "old_serial": old, "new_serial": new});
    let r = post(t, eng, &format!("/api/v1/work-orders/{id}/parts"), body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
}

async fn file(t: &TestApp, token: &str, work_order: i64) -> reqwest::Response {
    post(t, token, "/api/v1/warranty-cards", json!({"work_order_id": work_order})).await
}

async fn review(t: &TestApp, token: &str, card: &Value, decision: &str, reason: &str) -> reqwest::Response {
    let body = json!({"decision": decision, "reason": reason, "version": card["version"]});
    post(t, token, &format!("/api/v1/warranty-cards/{}/review", card["id"]), body).await
}

fn flag_codes(card: &Value) -> Vec<String> {
    card["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

async fn a_card_is_returned_corrected_approved_and_paid_after_the_old_part_is_back(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2025-06-02T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let central = parts_and_central(&t, &o).await;
    let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54, 113.95)).await;
    replace_part(&t, &eng, &o, id, "OM-0101", "OM-0909").await;
    let mgr = login(&t, "mgr.a").await;

    // Bad input: not completed yet, an unknown work order, the engineer (not the station).
    let cards_before = count(&t, "warranty_cards").await;
    for (wo, code) in [(id, "not_completed"), (999_999, "unknown_work_order")] {
        let p = problem(file(&t, &mgr, wo).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(
            (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
            (Some("work_order_id"), Some(code))
        );
    }
    assert_eq!(file(&t, &eng, id).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&t, "warranty_cards").await, cards_before, "nothing written");

    clock.advance_ms(3_600_000);
    finish_visit(&t, &eng, id, "E01", 90).await;
    let r = file(&t, &mgr, id).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let card: Value = r.json().await.unwrap();
    assert!(card["number"].as_str().unwrap().starts_with("SB-20250602-"), "{card}");
    assert_eq!((card["status"].as_str(), card["version"].as_i64()), (Some("submitted"), Some(2)));
    assert_eq!(flag_codes(&card), Vec::<String>::new(), "a clean card: {card}");
    // 90 minutes at 80 元 an hour, the module at 450 元, one travel allowance of 50 元.
    assert_eq!(
        (
            card["labour_fen"].as_i64(),
            card["parts_fen"].as_i64(),
            card["travel_fen"].as_i64(),
            card["total_fen"].as_i64()
        ),
        (Some(12_000), Some(45_000), Some(5_000), Some(62_000))
    );
    assert_eq!(card["parts"][0]["old_serial"], "OM-0101");
    assert_eq!(card["parts"][0]["return_required"], true);
    // The old module is on its way to the central warehouse; the shelf has one less.
    assert_eq!(card["returns"][0]["status"], "in_transit");
    assert_eq!(card["returns"][0]["to_warehouse_id"].as_i64(), Some(central));
    assert_eq!(card["returns"][0]["serial"], "OM-0101");
    let s: Value = get(&t, &mgr, &format!("/api/v1/stock?warehouse_id={}&part_code=OM-10G-LR", o.wh_a))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["items"][0]["on_hand"], "4");
    // One card per work order.
    let p = problem(file(&t, &mgr, id).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("work_order_id"), Some("already_exists"))
    );

    // The audit: only the service administrator; a return needs a reason; a stale version is 409.
    assert_eq!(review(&t, &mgr, &card, "approve", "").await.status(), StatusCode::FORBIDDEN);
    let p =
        problem(review(&t, &o.admin, &card, "return", "").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!((p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()), (Some("reason"), Some("required")));
    let p =
        problem(review(&t, &o.admin, &card, "refund", "").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(p["errors"][0]["field"], "decision");
    let mut stale = card.clone();
    stale["version"] = json!(1);
    assert_eq!(review(&t, &o.admin, &stale, "approve", "").await.status(), StatusCode::CONFLICT);
    let r = review(&t, &o.admin, &card, "return", "工时填写有误，请按实际填写").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let card: Value = r.json().await.unwrap();
    assert_eq!(
        (card["status"].as_str(), card["reason"].as_str()),
        (Some("returned"), Some("工时填写有误，请按实际填写"))
    );
    // A returned card cannot be approved; the station's manager was told.
    problem(review(&t, &o.admin, &card, "approve", "").await, StatusCode::CONFLICT, "illegal_transition").await;
    let inbox: Value = get(&t, &mgr, "/api/v1/inbox").await.json().await.unwrap();
    assert!(inbox.to_string().contains("被退回修改"), "{inbox}");

    // The station corrects the labour and the new serial and hands it in again.
    let mgr_view: Value = get(&t, &mgr, &format!("/api/v1/warranty-cards/{}", card["id"])).await.json().await.unwrap();
    assert_eq!(mgr_view["actions"], json!(["resubmit"]));
    let line = card["parts"][0]["id"].clone();
    let body = json!({"labour_minutes": 60, "parts": [{"id": line, "old_serial": "OM-0101", "new_serial": "OM-0910"}], "note": "工时按实际 60 分钟", "version": card["version"]});
    let r = post(&t, &mgr, &format!("/api/v1/warranty-cards/{}/resubmit", card["id"]), body).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let card: Value = r.json().await.unwrap();
    assert_eq!((card["status"].as_str(), card["labour_fen"].as_i64()), (Some("submitted"), Some(8_000)));
    assert_eq!((card["total_fen"].as_i64(), card["parts"][0]["new_serial"].as_str()), (Some(58_000), Some("OM-0910")));

    // Approved; a second approval is refused. Not payable until the old part is back.
    let card: Value = review(&t, &o.admin, &card, "approve", "").await.json().await.unwrap();
    assert_eq!((card["status"].as_str(), card["payable"].as_bool()), (Some("approved"), Some(false)));
    problem(review(&t, &o.admin, &card, "approve", "").await, StatusCode::CONFLICT, "illegal_transition").await;
    let steps: Vec<&str> = card["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(steps, vec!["file", "return", "resubmit", "approve"]);
    assert_eq!(card["timeline"][1]["reason"], "工时填写有误，请按实际填写");

    // The central warehouse receives and inspects it: now payable, in full.
    add_user(&t.app, "keeper", &["warehouse"], &[]).await;
    let keeper = login(&t, "keeper").await;
    let list: Value = get(&t, &keeper, "/api/v1/faulty-returns?status=in_transit").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let ret = list["items"][0]["id"].as_i64().unwrap();
    let url = format!("/api/v1/faulty-returns/{ret}/receive");
    let p = problem(
        post(&t, &keeper, &url, json!({"inspection": "fine"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "inspection");
    assert_eq!(
        post(&t, &mgr, &url, json!({"inspection": "confirmed_faulty"})).await.status(),
        StatusCode::NOT_FOUND,
        "a station does not receive at the centre"
    );
    let r = post(&t, &keeper, &url, json!({"inspection": "confirmed_faulty", "note": "激光器失效"})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    problem(
        post(&t, &keeper, &url, json!({"inspection": "confirmed_faulty"})).await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    let card: Value = get(&t, &o.admin, &format!("/api/v1/warranty-cards/{}", card["id"])).await.json().await.unwrap();
    assert_eq!((card["payable"].as_bool(), card["payable_fen"].as_i64()), (Some(true), Some(58_000)));
    assert_eq!(card["returns"][0]["inspection"], "confirmed_faulty");

    // Another station's engineer does not see it; the list of station A's manager does.
    let eng_b = login(&t, "eng.b").await;
    assert_eq!(
        get(&t, &eng_b, &format!("/api/v1/warranty-cards/{}", card["id"])).await.status(),
        StatusCode::NOT_FOUND
    );
    let l: Value = get(&t, &eng_b, "/api/v1/warranty-cards").await.json().await.unwrap();
    assert_eq!(l["items"], json!([]));
    let l: Value = get(&t, &mgr, "/api/v1/warranty-cards?status=approved").await.json().await.unwrap();
    assert_eq!(l["items"][0]["number"], card["number"]);
}

/// A part installed under warranty carries its own warranty by its policy: the rest of the
/// device's, or a fresh period from the installation; the work order and the device page say so.
async fn an_installed_part_carries_its_own_warranty(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2025-06-02T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, device) = nanshan_device(&t, &o).await;
    parts_and_central(&t, &o).await;
    let psu = json!({"code": "PSU-XG5", "name": "电源模块", "unit": "个", "price_fen": 215000, "warranty_policy": "fresh", "warranty_months": 12});
    assert_eq!(post(&t, &o.admin, "/api/v1/parts", psu).await.status(), StatusCode::CREATED);
    let bad = json!({"code": "X-1", "name": "x", "unit": "个", "warranty_policy": "fresh"});
    let p =
        problem(post(&t, &o.admin, "/api/v1/parts", bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(p["errors"][0]["field"], "warranty_months");
    let r = post(
        &t,
        &o.admin,
        "/api/v1/stock-movements",
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "PSU-XG5", "quantity": 1}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54, 113.95)).await;
    replace_part(&t, &eng, &o, id, "OM-0101", "OM-0909").await;
    let body = json!({"part_code": "PSU-XG5", "quantity": 1, "warehouse_id": o.wh_a});
    assert_eq!(post(&t, &eng, &format!("/api/v1/work-orders/{id}/parts"), body).await.status(), StatusCode::CREATED);
    let w: Value = get(&t, &eng, &format!("/api/v1/work-orders/{id}")).await.json().await.unwrap();
    let until: Vec<&str> =
        w["parts"].as_array().unwrap().iter().map(|p| p["warranty_until"].as_str().unwrap()).collect();
    assert_eq!(until, vec!["2026-01-31", "2026-06-02"], "the device's rest, then a fresh year: {w}");
    let page = get(&t, &o.admin, &format!("/devices/{device}")).await.text().await.unwrap();
    assert!(page.contains("配件保修至") && page.contains("2026-06-02"), "the device page shows it");
}

/// A part the inspection finds not faulty is not paid.
async fn a_part_found_not_faulty_is_not_paid(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2025-06-02T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    parts_and_central(&t, &o).await;
    let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54, 113.95)).await;
    replace_part(&t, &eng, &o, id, "OM-0101", "OM-0909").await;
    finish_visit(&t, &eng, id, "E01", 60).await;
    let mgr = login(&t, "mgr.a").await;
    let card: Value = file(&t, &mgr, id).await.json().await.unwrap();
    let card: Value = review(&t, &o.admin, &card, "approve", "").await.json().await.unwrap();
    add_user(&t.app, "keeper", &["warehouse"], &[]).await;
    let keeper = login(&t, "keeper").await;
    let ret = card["returns"][0]["id"].as_i64().unwrap();
    let r =
        post(&t, &keeper, &format!("/api/v1/faulty-returns/{ret}/receive"), json!({"inspection": "no_fault_found"}))
            .await;
    assert_eq!(r.status(), StatusCode::OK);
    let card: Value = get(&t, &o.admin, &format!("/api/v1/warranty-cards/{}", card["id"])).await.json().await.unwrap();
    assert_eq!(
        (card["payable"].as_bool(), card["total_fen"].as_i64(), card["payable_fen"].as_i64()),
        (Some(true), Some(58_000), Some(13_000))
    );
}

/// A JPEG whose only content is an EXIF block with DateTimeOriginal `2025:05:01 09:00:00`.
fn jpeg_taken_on_1_may() -> Vec<u8> {
    let mut tiff = vec![];
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    tiff.extend_from_slice(&[0, 1, 0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 1, 0x90, 0x03, 0, 2, 0, 0, 0, 20, 0, 0, 0, 44, 0, 0, 0, 0]);
    tiff.extend_from_slice(b"2025:05:01 09:00:00\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, len[0], len[1]];
    jpeg.extend_from_slice(&app1);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

async fn upload_taken(t: &TestApp, token: &str, id: i64, name: &str, taken_at: &str) {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(PNG.to_vec()).file_name(name.to_string()));
    let url = t.url(&format!("/api/v1/work-orders/{id}/files?purpose=before&taken_at={taken_at}"));
    let r = client().post(url).bearer_auth(token).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
}

/// Each flag, with its evidence: the same old serial claimed twice, a repeat repair within 30
/// days, a part not fitting the model, labour far above the norm, a check-in far from where the
/// region's visits check in, a photo taken before the visit, a device out of warranty; the audit
/// queue puts the flagged cards first.
async fn each_flag_comes_with_its_evidence_and_flagged_cards_come_first(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2025-06-02T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let mut o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    parts_and_central(&t, &o).await;
    let other = json!({"code": "FAN-ONT", "name": "ONT 风扇", "unit": "个", "price_fen": 3000, "model_codes": []});
    assert_eq!(
        post(
            &t,
            &o.admin,
            "/api/v1/product-models",
            json!({"code": "ONT-1", "name": "ONT-1 光猫", "product_line": "接入"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let mut other = other;
    other["model_codes"] = json!(["ONT-1"]);
    assert_eq!(post(&t, &o.admin, "/api/v1/parts", other).await.status(), StatusCode::CREATED);
    let r = post(
        &t,
        &o.admin,
        "/api/v1/stock-movements",
        json!({"kind": "receipt", "warehouse_id": o.wh_a, "part_code": "FAN-ONT", "quantity": 2}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut mgr;
    // Three clean visits in 南山 set where its visits check in; the first one's card is clean.
    let mut first = None;
    for i in 0..3 {
        // Days pass: fresh sign-ins.
        (o.admin, mgr) = (login(&t, "admin").await, login(&t, "mgr.a").await);
        let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54 + f64::from(i) * 0.01, 113.95)).await;
        if i == 0 {
            replace_part(&t, &eng, &o, id, "OM-0101", "OM-0909").await;
        }
        finish_visit(&t, &eng, id, if i == 0 { "E01" } else { "E07" }, 60).await;
        if i == 0 {
            let card: Value = file(&t, &mgr, id).await.json().await.unwrap();
            assert_eq!(flag_codes(&card), Vec::<String>::new(), "{card}");
            first = Some(card);
        }
        clock.advance_ms(86_400_000);
    }
    let first = first.unwrap();
    // Ten days later, the same device and fault again, checked in in Beijing, the same old serial,
    // a fan of another model, 400 minutes, a photo from the week before.
    clock.advance_ms(7 * 86_400_000);
    (o.admin, mgr) = (login(&t, "admin").await, login(&t, "mgr.a").await);
    let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (39.90, 116.40)).await;
    replace_part(&t, &eng, &o, id, "OM-0101", "OM-0999").await;
    let body = json!({"part_code": "FAN-ONT", "quantity": 1, "warehouse_id": o.wh_a});
    assert_eq!(post(&t, &eng, &format!("/api/v1/work-orders/{id}/parts"), body).await.status(), StatusCode::CREATED);
    upload_taken(&t, &eng, id, "旧照片.png", "2025-06-01T08:00:00Z").await;
    upload_taken(&t, &eng, id, "现场.png", &jiff::Timestamp::from_millisecond(t.app.now()).unwrap().to_string()).await;
    // A photo whose own EXIF says 1 May, sent without a time: its EXIF is read.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(jpeg_taken_on_1_may()).file_name("相机原图.jpg"));
    let r = client()
        .post(t.url(&format!("/api/v1/work-orders/{id}/files?purpose=after")))
        .bearer_auth(&eng)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    finish_visit(&t, &eng, id, "E01", 400).await;
    let r = file(&t, &mgr, id).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let card: Value = r.json().await.unwrap();
    assert_eq!(
        flag_codes(&card),
        vec![
            "serial_claimed_twice",
            "repeat_repair",
            "part_not_fitting",
            "labour_above_norm",
            "check_in_far",
            "photo_outside_visit",
            "photo_outside_visit"
        ],
        "{card}"
    );
    let f = &card["flags"];
    assert_eq!(
        (f[0]["evidence"]["serial"].as_str(), f[0]["evidence"]["other_card"].as_str()),
        (Some("OM-0101"), first["number"].as_str())
    );
    assert_eq!(f[1]["evidence"]["days"].as_i64(), Some(10));
    assert_eq!(f[1]["evidence"]["other_work_order"], first["work_order_number"]);
    assert_eq!(
        (f[2]["evidence"]["part_code"].as_str(), f[2]["evidence"]["model_code"].as_str()),
        (Some("FAN-ONT"), Some("XG-5000"))
    );
    assert_eq!((f[3]["evidence"]["minutes"].as_i64(), f[3]["evidence"]["norm"].as_i64()), (Some(400), Some(120)));
    let km = f[4]["evidence"]["km"].as_i64().unwrap();
    assert!((1900..2000).contains(&km), "深圳 to 北京 is about 1 950 km: {km}");
    assert_eq!(f[5]["evidence"]["file_name"], "旧照片.png");
    assert_eq!(
        (f[6]["evidence"]["file_name"].as_str(), f[6]["evidence"]["at"].as_str()),
        (Some("相机原图.jpg"), Some("2025-05-01T01:00:00Z"))
    );
    assert!(f[1]["text"].as_str().unwrap().contains("二次故障"), "{}", f[1]);

    // Out of warranty: a device sold in 2020.
    let d = json!({"serial_number": "XG5K-0002", "model_code": "XG-5000", "customer_id": customer, "sale_date": "2020-01-15"});
    assert_eq!(post(&t, &o.admin, "/api/v1/devices", d).await.status(), StatusCode::CREATED);
    let (old, eng) = on_site_visit(&t, &o, customer, "XG5K-0002", (22.55, 113.95)).await;
    finish_visit(&t, &eng, old, "E09", 60).await;
    let old_card: Value = file(&t, &mgr, old).await.json().await.unwrap();
    assert_eq!(flag_codes(&old_card), vec!["out_of_warranty"]);
    assert_eq!(old_card["flags"][0]["evidence"]["warranty_until"], "2021-01-15");

    // The queue: the six-flag card, then the one-flag card, then the clean one.
    let q: Value = get(&t, &o.admin, "/api/v1/warranty-cards?status=submitted").await.json().await.unwrap();
    let order: Vec<&str> = q["items"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        vec![card["number"].as_str().unwrap(), old_card["number"].as_str().unwrap(), first["number"].as_str().unwrap()]
    );
    // A rejected card's serial no longer counts against others.
    let r = review(&t, &o.admin, &first, "reject", "重复申报").await;
    assert_eq!(r.status(), StatusCode::OK);
    let card: Value = review(&t, &o.admin, &card, "return", "请核实旧件序列号").await.json().await.unwrap();
    let body = json!({"version": card["version"], "note": "已核实"});
    let card: Value =
        post(&t, &mgr, &format!("/api/v1/warranty-cards/{}/resubmit", card["id"]), body).await.json().await.unwrap();
    assert!(!flag_codes(&card).contains(&"serial_claimed_twice".to_string()), "{card}");
    // Not warranty work: an installation visit.
    let r = post(
        &t,
        &o.admin,
        "/api/v1/work-orders",
        json!({"customer_id": customer, "serial_number": "XG5K-0001", "kind": "installation"}),
    )
    .await;
    let inst = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let p = problem(file(&t, &o.admin, inst).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "not_warranty_work");
}

/// Warranty work without a card after the due days is on the station's overdue list, and its
/// manager is told once, however many instances sweep.
async fn an_overdue_card_is_listed_and_told_once_across_instances(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2025-06-02T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let (id, eng) = on_site_visit(&t, &o, customer, "XG5K-0001", (22.54, 113.95)).await;
    finish_visit(&t, &eng, id, "E01", 60).await;
    let overdue = |user: &'static str| {
        let t = &t;
        async move {
            // Days pass between the calls: a fresh sign-in each time.
            let token = login(t, user).await;
            let v: Value = get(t, &token, "/api/v1/warranty-cards/overdue").await.json().await.unwrap();
            assert!(v["items"].is_array(), "{v}");
            v["items"].as_array().unwrap().iter().map(|i| i["work_order_id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    clock.advance_ms(6 * 86_400_000);
    assert_eq!(overdue("mgr.a").await, Vec::<i64>::new(), "six days: not yet due");
    clock.advance_ms(2 * 86_400_000);
    assert_eq!(overdue("mgr.a").await, vec![id]);
    assert_eq!(overdue("eng.b").await, Vec::<i64>::new(), "another station's list");
    let db2 = shouhou_store::Db::connect(&t.db.url, &shouhou_store::DbOptions::default()).await.unwrap();
    let second = shouhou_app::App::new(
        db2,
        t.app.clock.clone(),
        shouhou_app::AppConfig::default(),
        shouhou_store::crypto::test_keyring(),
    );
    let (a, b2) = tokio::join!(
        shouhou_app::warranty_cards::sweep_overdue(&t.app),
        shouhou_app::warranty_cards::sweep_overdue(&second)
    );
    assert_eq!(a.unwrap() + b2.unwrap(), 1, "told once across two instances");
    assert_eq!(shouhou_app::warranty_cards::sweep_overdue(&t.app).await.unwrap(), 0);
    let mgr = login(&t, "mgr.a").await;
    let inbox: Value = get(&t, &mgr, "/api/v1/inbox").await.json().await.unwrap();
    assert_eq!(inbox.to_string().matches("三包卡已逾期未交").count(), 1, "{inbox}");
    // Filed: off the list.
    assert_eq!(file(&t, &mgr, id).await.status(), StatusCode::CREATED);
    assert_eq!(overdue("mgr.a").await, Vec::<i64>::new());
    second.db.close().await;
}

crate::on_both_backends!(
    an_installed_part_carries_its_own_warranty,
    a_card_is_returned_corrected_approved_and_paid_after_the_old_part_is_back,
    a_part_found_not_faulty_is_not_paid,
    each_flag_comes_with_its_evidence_and_flagged_cards_come_first,
    an_overdue_card_is_listed_and_told_once_across_instances,
);
