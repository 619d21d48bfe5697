//! The desk's pages as a workplace (issue 10): request lists with names, start-page figures,
//! customer and device search and records — in scope, masked per right, as the API shows them.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::{Actor, App, Ctx, PageRequest};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

async fn ctx_of(app: &App, username: &str) -> Ctx {
    let mut rd = app.db.read().await.unwrap();
    let u = shouhou_store::users::user_by_username(&mut rd.conn(), username).await.unwrap().unwrap();
    Ctx { actor: Some(Actor::from_user(&u)), source: "test".into(), request_id: String::new() }
}

/// A person of station A and a company of station B, a device and an open request each.
/// Answers ((person, device, request) of A, (company, device, request) of B).
async fn world(t: &TestApp, o: &Org) -> ((i64, i64, i64), (i64, i64, i64)) {
    let r = post(
        t,
        &o.admin,
        "/api/v1/product-models",
        json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut out = vec![];
    for (body, serial) in [
        (
            json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "科技园南区 18 栋", "station_code": "SZ-A",
                "contacts": [{"role": "operator", "name": "李四", "phone": "0755-26581234"}]}),
            "XG5K-0001",
        ),
        (
            json!({"kind": "company", "name": "广州天河精密仪器有限公司", "phone": "020-38881234", "credit_code": "91350100M000100Y43",
                "region_code": "440106", "address": "天河路 1 号", "station_code": "GZ-B"}),
            "XG5K-0900",
        ),
    ] {
        let c = post(t, &o.admin, "/api/v1/customers", body).await;
        assert_eq!(c.status(), StatusCode::CREATED);
        let customer = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let d = post(t, &o.admin, "/api/v1/devices", json!({"serial_number": serial, "model_code": "XG-5000", "customer_id": customer, "sale_date": "2026-01-31"})).await;
        assert_eq!(d.status(), StatusCode::CREATED);
        let device = d.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let r = post(t, &o.admin, "/api/v1/service-requests", json!({"customer_id": customer, "serial_number": serial, "type": "repair", "channel": "phone", "urgency": "high", "description": "告警灯常亮", "fault_code": "E-102"})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        out.push((customer, device, r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()));
    }
    (out[0], out[1])
}

async fn clear_reads(t: &TestApp, o: &Org) -> i64 {
    let v: Value =
        get(t, &o.admin, "/api/v1/audit?action=customer.read_personal&per_page=1").await.json().await.unwrap();
    v["total"].as_i64().unwrap()
}

async fn request_lists_name_customer_station_and_handler_masked_per_right_in_scope(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let ((_, _, ra), (_, _, rb)) = world(&t, &o).await;
    let all = PageRequest::new(Some(1), Some(50));
    let admin = ctx_of(&t.app, "admin").await;
    let before = clear_reads(&t, &o).await;
    let p = shouhou_app::requests::queue_listing(&t.app, &admin, "all", all).await.unwrap();
    assert_eq!(p.total, 2);
    let a = p.items.iter().find(|i| i.request.id == ra).unwrap();
    assert_eq!(a.customer_name, "张三");
    assert_eq!(a.station_name.as_deref(), Some("SZ-A 服务站"));
    assert_eq!(a.assignee_name, None);
    let company = p.items.iter().find(|i| i.request.id == rb).unwrap();
    assert_eq!(company.customer_name, "广州天河精密仪器有限公司");
    assert!(clear_reads(&t, &o).await > before, "a list in clear is audited");

    // An engineer sees their station's request only, the person masked, a company's name in clear.
    let eng_a = ctx_of(&t.app, "eng.a").await;
    let p = shouhou_app::requests::queue_listing(&t.app, &eng_a, "all", all).await.unwrap();
    assert_eq!(p.items.iter().map(|i| i.request.id).collect::<Vec<_>>(), vec![ra]);
    assert_eq!(p.items[0].customer_name, "张*");
    let eng_b = ctx_of(&t.app, "eng.b").await;
    let p = shouhou_app::requests::queue_listing(&t.app, &eng_b, "all", all).await.unwrap();
    assert_eq!(p.items[0].customer_name, "广州天河精密仪器有限公司");
    // The same masking as the API's read of the customer.
    let token = login(&t, "eng.a").await;
    let api: Value = get(&t, &token, &format!("/api/v1/service-requests/{ra}")).await.json().await.unwrap();
    let cid = api["request"]["customer_id"].as_i64().or(api["customer_id"].as_i64()).unwrap();
    let cu: Value = get(&t, &token, &format!("/api/v1/customers/{cid}")).await.json().await.unwrap();
    assert_eq!(cu["name"], "张*");

    // Figures over the scope.
    let f = shouhou_app::requests::figures(&t.app, &admin).await.unwrap();
    assert_eq!((f.open, f.unassigned, f.registered_today, f.breached, f.mine), (2, 2, 2, 0, 0));
    let f = shouhou_app::requests::figures(&t.app, &eng_a).await.unwrap();
    assert_eq!((f.open, f.registered_today), (1, 1));
    let r = post(
        &t,
        &token,
        &format!("/api/v1/service-requests/{ra}/transitions"),
        json!({"action": "respond", "version": 2}),
    )
    .await;
    let _ = r;

    // On the pages: an engineer starts on 我的, the list names station and handler.
    let (web, _) = crate::pages::web_login(&t, "eng.a").await;
    let page = web.get(t.url("/requests")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("aria-current=\"page\">我的</a>"), "an engineer starts on their own requests");
    let page = web.get(t.url("/requests?queue=all")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("张*") && page.contains("SZ-A 服务站") && !page.contains("张三"));
    let home = web.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("data-testid=\"fig-mine\"") && !home.contains("将陆续上线"));
    let detail = web.get(t.url(&format!("/requests/{ra}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        detail.contains("E-102") && detail.contains("SZ-A 服务站") && detail.contains("李*"),
        "fault code, station, contacts"
    );
    assert_eq!(detail.matches("name=\"note\"").count(), 1, "one note box");
}

async fn customers_and_devices_are_found_and_read_in_scope_with_the_api_masking(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let ((ca, da, ra), (cb, db, _)) = world(&t, &o).await;
    let admin = ctx_of(&t.app, "admin").await;
    let eng_a = ctx_of(&t.app, "eng.a").await;
    let page = PageRequest::new(Some(1), Some(50));
    // Customers by phone, by credit code, by serial.
    let found = shouhou_app::customers::search_customers(&t.app, &admin, "138 1234 5678").await.unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ca]);
    let found = shouhou_app::customers::search_customers(&t.app, &admin, "91350100").await.unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![cb]);
    let found = shouhou_app::customers::search_customers(&t.app, &admin, "xg5k").await.unwrap();
    assert_eq!(found.len(), 2);
    let found = shouhou_app::customers::search_customers(&t.app, &eng_a, "XG5K").await.unwrap();
    assert_eq!(found.iter().map(|c| (c.id, c.name.as_str())).collect::<Vec<_>>(), vec![(ca, "张*")]);
    assert!(shouhou_app::customers::search_customers(&t.app, &eng_a, "91350100").await.unwrap().is_empty());
    // Devices by serial, in the customer's scope.
    let d = shouhou_app::devices::search_devices(&t.app, &admin, "xg5k", page).await.unwrap();
    assert_eq!(d.total, 2);
    let d = shouhou_app::devices::search_devices(&t.app, &eng_a, "XG5K", page).await.unwrap();
    assert_eq!(d.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![da]);
    // Records: a device with its history, a customer with devices and requests; 404 outside.
    let rec = shouhou_app::devices::device_record(&t.app, &eng_a, da).await.unwrap();
    assert_eq!(rec.requests.iter().map(|r| r.request.id).collect::<Vec<_>>(), vec![ra]);
    assert_eq!(rec.customer.name, "张*");
    assert!(matches!(
        shouhou_app::devices::device_record(&t.app, &eng_a, db).await,
        Err(shouhou_app::AppError::NotFound)
    ));
    let rec = shouhou_app::customers::customer_record(&t.app, &eng_a, ca).await.unwrap();
    assert_eq!((rec.devices.len(), rec.open_requests.len()), (1, 1));
    assert_eq!(rec.customer.contacts[0].name, "李*");
    assert!(matches!(
        shouhou_app::customers::customer_record(&t.app, &eng_a, cb).await,
        Err(shouhou_app::AppError::NotFound)
    ));
    // The same masking as the API.
    let token = login(&t, "eng.a").await;
    let api: Value = get(&t, &token, &format!("/api/v1/customers/{ca}")).await.json().await.unwrap();
    assert_eq!(api["name"], json!(rec.customer.name));
    assert_eq!(api["phone"], json!(rec.customer.phone));
    // A company's name is not personal data.
    let eng_b = ctx_of(&t.app, "eng.b").await;
    let rec = shouhou_app::customers::customer_record(&t.app, &eng_b, cb).await.unwrap();
    assert_eq!(rec.customer.name, "广州天河精密仪器有限公司");
    assert!(rec.customer.masked);
}

/// The new pages: 200 for who may see the record, 404 for who may not (a station's engineer on
/// another station's record, a role without the customer right), never the desk with an error.
async fn customer_and_device_pages_answer_200_in_scope_and_404_outside(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let ((ca, da, ra), (cb, db, _)) = world(&t, &o).await;
    add_user(&t.app, "keeper", &["warehouse"], &[]).await;
    add_user(&t.app, "agent", &["agent"], &[]).await;
    let cases: Vec<(&str, String, StatusCode)> = vec![
        ("eng.a", "/".into(), StatusCode::OK),
        ("eng.a", "/requests".into(), StatusCode::OK),
        ("eng.a", format!("/requests/{ra}"), StatusCode::OK),
        ("eng.a", "/customers?q=XG5K".into(), StatusCode::OK),
        ("eng.a", format!("/customers/{ca}"), StatusCode::OK),
        ("eng.a", format!("/customers/{cb}"), StatusCode::NOT_FOUND),
        ("eng.a", "/devices?q=XG".into(), StatusCode::OK),
        ("eng.a", format!("/devices/{da}"), StatusCode::OK),
        ("eng.a", format!("/devices/{db}"), StatusCode::NOT_FOUND),
        ("mgr.a", "/".into(), StatusCode::OK),
        ("mgr.a", format!("/customers/{ca}"), StatusCode::OK),
        ("mgr.a", format!("/devices/{db}"), StatusCode::NOT_FOUND),
        ("agent", "/".into(), StatusCode::OK),
        ("agent", format!("/customers/{cb}"), StatusCode::OK),
        ("agent", format!("/devices/{db}"), StatusCode::OK),
        ("admin", "/".into(), StatusCode::OK),
        ("admin", format!("/devices/{da}"), StatusCode::OK),
        ("keeper", "/".into(), StatusCode::OK),
        ("keeper", "/devices".into(), StatusCode::NOT_FOUND),
        ("keeper", format!("/customers/{ca}"), StatusCode::NOT_FOUND),
        ("keeper", format!("/devices/{da}"), StatusCode::NOT_FOUND),
    ];
    for user in ["eng.a", "mgr.a", "agent", "admin", "keeper"] {
        let (web, _) = crate::pages::web_login(&t, user).await;
        for (_, path, status) in cases.iter().filter(|c| c.0 == user) {
            let r = web.get(t.url(path)).send().await.unwrap();
            assert_eq!(r.status(), *status, "{user} {path}");
        }
    }
    // Without a session: the login page.
    let r = client().get(t.url(&format!("/devices/{da}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

crate::on_both_backends!(
    request_lists_name_customer_station_and_handler_masked_per_right_in_scope,
    customers_and_devices_are_found_and_read_in_scope_with_the_api_masking,
    customer_and_device_pages_answer_200_in_scope_and_404_outside,
);
