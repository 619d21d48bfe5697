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

/// The service-level page edits calendars, their days and policies with time, date and hours +
/// minutes inputs for who holds the settings right; others get 404 for the page and 403 for
/// the forms; a bad entry is the page again (422) with the field's message, nothing changed.
async fn the_sla_page_edits_hours_days_and_policies_for_the_settings_right_only(b: Backend) {
    let t = app(b).await;
    let _o = org(&t).await;
    let policy = {
        let mut rd = t.app.db.read().await.unwrap();
        let ps = shouhou_store::sla::all_policies(&mut rd.conn()).await.unwrap();
        ps.into_iter().find(|p| p.request_type.is_none() && p.urgency.is_none() && p.tier.is_none()).unwrap()
    };
    let (pid, pv) = (policy.id.to_string(), policy.version.to_string());
    for user in ["mgr.a", "eng.a"] {
        let (web, csrf) = crate::pages::web_login(&t, user).await;
        assert_eq!(web.get(t.url("/admin/sla")).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{user}");
        for (path, form) in [
            ("/admin/sla/calendars/cn-workday".to_string(), vec![("name", "x"), ("w0_s", "09:00"), ("w0_e", "12:00")]),
            ("/admin/sla/calendars/cn-workday/days".to_string(), vec![("date", "2026-12-24"), ("off", "true")]),
            (format!("/admin/sla/policies/{pid}"), vec![("response_h", "1"), ("calendar_code", "24x7")]),
        ] {
            let mut form = form;
            form.push(("_csrf", csrf.as_str()));
            let r = web.post(t.url(&path)).form(&form).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} {path}");
        }
    }
    let r = client().get(t.url("/admin/sla")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (web, csrf) = crate::pages::web_login(&t, "admin").await;
    let page = web.get(t.url("/admin/sla")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"type="time""#) && html.contains("08:30") && !html.contains("PT8H\""), "time inputs");
    let preview = web
        .get(t.url("/admin/sla?calendar=24x7&start=2026-11-27T16:00&target_h=1&target_m=30"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(preview.contains("2026-11-27T17:30:00+08:00"), "preview from hours and minutes");
    let cal_version = crate::auth::hidden(&html[html.find("calendar-form-cn-workday").unwrap()..], "version");
    let post_form = |path: String, form: Vec<(&'static str, String)>| {
        let web = web.clone();
        let url = t.url(&path);
        let csrf = csrf.clone();
        async move {
            let mut form = form;
            form.push(("_csrf", csrf));
            web.post(url).form(&form).send().await.unwrap()
        }
    };
    // Hours: Monday 09:00–12:00 and 13:00–18:00, other weekdays closed; an end before its start is refused.
    let bad = post_form(
        "/admin/sla/calendars/cn-workday".into(),
        vec![
            ("version", cal_version.clone()),
            ("name", "工作日".into()),
            ("w0_s", "12:00".into()),
            ("w0_e", "09:00".into()),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("工作时段无效"));
    let ok = post_form(
        "/admin/sla/calendars/cn-workday".into(),
        vec![
            ("version", cal_version),
            ("name", "深圳工作日".into()),
            ("w0_s", "09:00".into()),
            ("w0_e", "12:00".into()),
            ("w0_s", "13:00".into()),
            ("w0_e", "18:00".into()),
            ("w0_s", "".into()),
            ("w0_e", "".into()),
            ("use_prc_holidays", "on".into()),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // Days: a holiday with a note, then removed; a missing date is the field's message.
    let bad =
        post_form("/admin/sla/calendars/cn-workday/days".into(), vec![("date", "".into()), ("off", "true".into())])
            .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = post_form(
        "/admin/sla/calendars/cn-workday/days".into(),
        vec![("date", "2026-12-24".into()), ("off", "true".into()), ("note", "公司年会".into())],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // Policy: 1 小时 30 分钟 to respond, 16 小时 to resolve; 75 minutes in the minutes box is refused.
    let bad = post_form(
        format!("/admin/sla/policies/{pid}"),
        vec![
            ("version", pv.clone()),
            ("response_h", "1".into()),
            ("response_m", "75".into()),
            ("resolution_h", "16".into()),
            ("resolution_m", "0".into()),
            ("calendar_code", "cn-workday".into()),
            ("active", "on".into()),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("首次响应目标超出允许范围"));
    let ok = post_form(
        format!("/admin/sla/policies/{pid}"),
        vec![
            ("version", pv),
            ("response_h", "1".into()),
            ("response_m", "30".into()),
            ("resolution_h", "16".into()),
            ("resolution_m", "".into()),
            ("calendar_code", "cn-workday".into()),
            ("active", "on".into()),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let html = web.get(t.url("/admin/sla?saved=1")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("深圳工作日") && html.contains(r#"value="13:00""#) && html.contains(r#"value="18:00""#));
    assert!(html.contains("2026-12-24") && html.contains("公司年会"));
    assert!(html.contains("1 小时 30 分钟") && html.contains("16 小时"), "durations in words");
    let mut rd = t.app.db.read().await.unwrap();
    let p = shouhou_store::sla::get_policy(&mut rd.conn(), policy.id).await.unwrap().unwrap();
    assert_eq!((p.response_minutes, p.resolution_minutes), (90, 960));
    drop(rd);
    let ok = post_form(
        "/admin/sla/calendars/cn-workday/days".into(),
        vec![("date", "2026-12-24".into()), ("remove", "1".into())],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let html = web.get(t.url("/admin/sla")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("公司年会"));
}

/// The API documentation page: administrators read it inside the app's frame with a way back;
/// other roles neither see the link nor the page (404); without a session, the login page.
async fn the_api_docs_are_for_administrators_inside_the_frame(b: Backend) {
    let t = app(b).await;
    let _o = org(&t).await;
    let (web, _) = crate::pages::web_login(&t, "admin").await;
    let r = web.get(t.url("/api-docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("/api/v1/stations")
            && html.contains(r#"aria-label="main""#)
            && html.contains(r#"data-testid="back""#)
    );
    assert!(web.get(t.url("/")).send().await.unwrap().text().await.unwrap().contains(r#"href="/api-docs""#));
    for user in ["eng.a", "mgr.a"] {
        let (web, _) = crate::pages::web_login(&t, user).await;
        assert_eq!(web.get(t.url("/api-docs")).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{user}");
        assert!(!web.get(t.url("/")).send().await.unwrap().text().await.unwrap().contains(r#"href="/api-docs""#));
    }
    let r = client().get(t.url("/api-docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = client().get(t.url("/api/docs")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/api-docs", "the old address leads to the page");
    // The JSON stays open to API clients; the favicon is served.
    assert_eq!(client().get(t.url("/api/openapi.json")).send().await.unwrap().status(), StatusCode::OK);
    let icon = client().get(t.url("/static/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    let r = client().get(t.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/static/favicon.svg");
}

crate::on_both_backends!(
    request_lists_name_customer_station_and_handler_masked_per_right_in_scope,
    customers_and_devices_are_found_and_read_in_scope_with_the_api_masking,
    customer_and_device_pages_answer_200_in_scope_and_404_outside,
    the_sla_page_edits_hours_days_and_policies_for_the_settings_right_only,
    the_api_docs_are_for_administrators_inside_the_frame,
);
