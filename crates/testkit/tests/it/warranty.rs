//! 三包 entitlement (issue 12) through the API on both databases: the 7- and 15-day remedies with
//! their articles, the last day of the warranty at a month's end, an exchange restarting it, a void
//! warranty, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;

async fn entitlement_on_the_day_with_its_rules(b: Backend) {
    use shouhou_app::FixedClock;
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let clock = Arc::new(FixedClock::new(at("2025-06-01T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    // Sold on 31 January 2025: twelve months end on 31 January 2026.
    let (_, device) = nanshan_device(&t, &o).await;
    let ent = |day: &'static str| {
        let (t, token) = (&t, o.admin.clone());
        async move {
            let r = get(t, &token, &format!("/api/v1/devices/{device}/entitlement?at={day}")).await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    // Day 7 after the sale (7 February): refund, exchange or repair, citing 第八条.
    let e = ent("2025-02-07").await;
    assert_eq!(
        (e["status"].as_str(), e["remedies"].clone()),
        (Some("in_warranty"), json!(["refund", "exchange", "repair"]))
    );
    let art: Vec<&str> = e["reasons"].as_array().unwrap().iter().filter_map(|r| r["article"].as_str()).collect();
    assert_eq!(art, vec!["第八条"]);
    assert!(e["reasons"][1]["text"].as_str().unwrap().contains("退货"), "{e}");
    // Day 8: exchange or repair (第九条); day 16: repair only.
    assert_eq!(ent("2025-02-08").await["remedies"], json!(["exchange", "repair"]));
    assert_eq!(ent("2025-02-08").await["reasons"][1]["article"], "第九条");
    assert_eq!(ent("2025-02-16").await["remedies"], json!(["repair"]));
    // The last day of the warranty, and the day after.
    let e = ent("2026-01-31").await;
    assert_eq!((e["status"].as_str(), e["warranty_until"].as_str()), (Some("in_warranty"), Some("2026-01-31")));
    assert_eq!(ent("2026-01-31").await["covers"], json!(["product", "accessories", "parts", "labour", "travel"]));
    let e = ent("2026-02-01").await;
    assert_eq!((e["status"].as_str(), e["remedies"].clone()), (Some("expired"), json!([])));
    assert_eq!(e["covers"], json!([]), "nothing covered once expired");
    // The device's page says the same today (1 June 2025: in warranty, free repair).
    let page = get(&t, &o.admin, &format!("/devices/{device}")).await.text().await.unwrap();
    assert!(
        page.contains("三包权益") && page.contains("在保") && page.contains("可修理") && page.contains("上门交通"),
        "the device page shows the entitlement"
    );
    // An exchange on 1 May 2025 restarts the warranty: covered until 1 May 2026.
    let url = format!("/api/v1/devices/{device}/warranty");
    for (body, field, code) in [
        (json!({"exchanged_on": "2025-13-01"}), "exchanged_on", "invalid_date"),
        (json!({"exchanged_on": "2025-01-01"}), "exchanged_on", "before_sale"),
        (json!({"exchanged_on": "2025-07-01"}), "exchanged_on", "in_future"),
    ] {
        let r = client().put(t.url(&url)).bearer_auth(&o.admin).json(&body).send().await.unwrap();
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!((p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()), (Some(field), Some(code)));
    }
    let r = client()
        .put(t.url(&url))
        .bearer_auth(&o.admin)
        .json(&json!({"exchanged_on": "2025-05-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let e = ent("2026-03-01").await;
    assert_eq!((e["status"].as_str(), e["warranty_until"].as_str()), (Some("in_warranty"), Some("2026-05-01")));
    assert_eq!(e["reasons"][0]["figures"]["restarted_on"], "2025-05-01");
    // Void, with its reason; only the service administrator may.
    let eng = login(&t, "eng.a").await;
    let r = client().put(t.url(&url)).bearer_auth(&eng).json(&json!({"void_reason": "x"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client()
        .put(t.url(&url))
        .bearer_auth(&o.admin)
        .json(&json!({"exchanged_on": "2025-05-01", "void_reason": "私自拆机，封条破损"}))
        .send()
        .await
        .unwrap();
    let e: Value = r.json().await.unwrap();
    assert_eq!((e["status"].as_str(), e["remedies"].clone()), (Some("void"), json!([])));
    assert!(e["reasons"][0]["text"].as_str().unwrap().contains("私自拆机"));
    // A bad day is a clear error.
    let r = get(&t, &o.admin, &format!("/api/v1/devices/{device}/entitlement?at=yesterday")).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "at");
    // Every warranty change is audited.
    let audit: Value = get(&t, &o.admin, "/api/v1/audit?action=device.warranty").await.json().await.unwrap();
    assert_eq!(audit["total"], 2);
}

/// A sale on 29 February ends its year on 28 February; a service contract beyond the free warranty
/// keeps it covered for repairs only (parts, labour, travel), then nothing.
async fn a_leap_day_sale_and_a_contract_extension(b: Backend) {
    use shouhou_app::FixedClock;
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let t = shouhou_testkit::spawn_app_with_clock(b, Arc::new(FixedClock::new(at("2025-06-01T10:00:00+08:00"))))
        .await
        .unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let device = |serial: &str, sale: &str, contract: Option<&str>| {
        let body = json!({"serial_number": serial, "model_code": "XG-5000", "customer_id": customer, "sale_date": sale, "contract_until": contract});
        let (t, token) = (&t, o.admin.clone());
        async move {
            let r = post(t, &token, "/api/v1/devices", body).await;
            assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
            r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }
    };
    let ent = |id: i64, day: &'static str| {
        let (t, token) = (&t, o.admin.clone());
        async move {
            get(t, &token, &format!("/api/v1/devices/{id}/entitlement?at={day}")).await.json::<Value>().await.unwrap()
        }
    };
    let leap = device("XG5K-0229", "2024-02-29", None).await;
    let e = ent(leap, "2025-02-28").await;
    assert_eq!((e["status"].as_str(), e["warranty_until"].as_str()), (Some("in_warranty"), Some("2025-02-28")));
    assert_eq!(ent(leap, "2025-03-01").await["status"], "expired");
    let extended = device("XG5K-0301", "2024-03-01", Some("2026-03-01")).await;
    let e = ent(extended, "2025-06-01").await;
    assert_eq!((e["status"].as_str(), e["warranty_until"].as_str()), (Some("in_warranty"), Some("2026-03-01")));
    assert_eq!((e["remedies"].clone(), e["covers"].clone()), (json!(["repair"]), json!(["parts", "labour", "travel"])));
    assert_eq!(e["reasons"][0]["rule"], "contract");
    assert_eq!(ent(extended, "2026-03-02").await["status"], "expired");
}

crate::on_both_backends!(entitlement_on_the_day_with_its_rules, a_leap_day_sale_and_a_contract_extension);
