//! The customer portal (issue 13): QR labels, reports without an account, tracking that reveals
//! nothing to a wrong phone, its throttle, and the customer's confirmation.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::auth::hidden;
use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

/// The link a device's label encodes (it is also the SVG's `<desc>`), as a path of this server.
async fn qr_path(t: &TestApp, token: &str, device: i64) -> String {
    let r = get(t, token, &format!("/api/v1/devices/{device}/label.svg")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let svg = r.text().await.unwrap();
    let link = svg.split("<desc>").nth(1).unwrap().split("</desc>").next().unwrap().to_string();
    let path = link.split_once("://").unwrap().1;
    format!("/{}", path.split_once('/').unwrap().1)
}

/// A browser without an account: a client keeping cookies, and the form token of `path`.
pub(crate) async fn visitor(t: &TestApp, path: &str) -> (Client, String, String) {
    let web = client();
    let r = web.get(t.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let page = r.text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    (web, csrf, page)
}

fn report_form(csrf: &str, phone: &str, description: &str, photos: Vec<(&str, Vec<u8>)>) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.to_string())
        .text("phone", phone.to_string())
        .text("type", "repair")
        .text("description", description.to_string());
    for (name, bytes) in photos {
        form = form.part("photo", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    }
    form
}

/// Report a fault through a device's QR link with one photo; answers the request number.
async fn report_by_qr(t: &TestApp, path: &str, phone: &str, description: &str) -> String {
    let (web, csrf, _) = visitor(t, path).await;
    let r = web
        .post(t.url(path))
        .multipart(report_form(&csrf, phone, description, vec![("故障.png", PNG.to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let number = to.strip_prefix("/portal/thanks/").unwrap().to_string();
    let page = web.get(t.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&number));
    number
}

/// The request registered under `number`, as the staff API shows it.
async fn request_by_number(t: &TestApp, token: &str, number: &str) -> Value {
    let list: Value = get(t, token, "/api/v1/service-requests?per_page=100").await.json().await.unwrap();
    let id =
        list["items"].as_array().unwrap().iter().find(|r| r["number"] == number).expect("in the queue")["id"].clone();
    get(t, token, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap()
}

async fn track(t: &TestApp, number: &str, phone: &str) -> reqwest::Response {
    client()
        .get(t.url(&format!("/api/v1/public/track?number={number}&phone={phone}")))
        .header("x-request-id", "portal-test")
        .send()
        .await
        .unwrap()
}

async fn a_devices_label_links_to_its_report_page_and_is_scoped(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (_, device) = nanshan_device(&t, &o).await;
    let r = get(&t, &o.admin, &format!("/api/v1/devices/{device}/label.svg")).await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.contains("XG-5000 光传输设备") && svg.contains("SN XG5K-0001"), "{svg}");
    let png = get(&t, &o.admin, &format!("/api/v1/devices/{device}/label.png")).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let sheet = get(&t, &o.admin, &format!("/api/v1/devices/labels.svg?ids={device}")).await;
    assert_eq!(sheet.status(), StatusCode::OK);
    assert!(sheet.text().await.unwrap().contains("width=\"210mm\" height=\"297mm\""));

    // The link opens the report page with the device, its warranty, and nothing of its owner.
    let path = qr_path(&t, &o.admin, device).await;
    assert!(path.starts_with(&format!("/q/{device}-")), "{path}");
    let (_, _, page) = visitor(&t, &path).await;
    assert!(page.contains("XG-5000 光传输设备") && page.contains("XG5K-0001"), "{page}");
    assert!(page.contains("data-testid=\"device-warranty\""));
    for private in ["张三", "13812345678", "138****5678", "科技园"] {
        assert!(!page.contains(private), "{private} shown");
    }
    // A forged or moved tag opens nothing.
    let tag = path.rsplit_once('-').unwrap().1;
    for forged in [format!("/q/{device}-AAAAAAAAAAAAAAAA"), format!("/q/{}-{tag}", device + 1), format!("/q/{device}")]
    {
        assert_eq!(client().get(t.url(&forged)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{forged}");
    }

    // Station scope: the device is station A's.
    add_user(&t.app, "mgr.b", &["station_manager"], &["GZ-B"]).await;
    let mgr_b = login(&t, "mgr.b").await;
    for p in ["label.svg", "label.png"] {
        problem(get(&t, &mgr_b, &format!("/api/v1/devices/{device}/{p}")).await, StatusCode::NOT_FOUND, "not_found")
            .await;
    }
    problem(
        get(&t, &mgr_b, &format!("/api/v1/devices/labels.svg?ids={device}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let mgr_a = login(&t, "mgr.a").await;
    assert_eq!(get(&t, &mgr_a, &format!("/api/v1/devices/{device}/label.svg")).await.status(), StatusCode::OK);
}

async fn a_report_from_a_qr_code_lands_in_the_queue_with_its_photo(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, device) = nanshan_device(&t, &o).await;
    let path = qr_path(&t, &o.admin, device).await;
    let script = "<script>alert('x')</script> 开机无显示";
    let number = report_by_qr(&t, &path, "13812345678", script).await;
    let r = request_by_number(&t, &o.admin, &number).await;
    let req = &r["request"];
    assert_eq!(req["channel"], "qr_code");
    assert_eq!(req["customer_id"], customer);
    assert_eq!(req["device_id"], device);
    assert_eq!(req["station_id"], o.a);
    assert_eq!(req["status"], "new");
    assert_eq!(req["description"], script, "stored as text");
    assert_eq!(r["clocks"]["response"]["phase"], "running");
    assert!(req["response_due_at"].is_string());
    assert_eq!(r["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(r["events"][0]["actor_name"], "portal");
    assert!(r["events"][0]["actor_id"].is_null());
    // The staff page shows the customer's words escaped.
    let (web, _) = crate::pages::web_login(&t, "admin").await;
    let id = req["id"].as_i64().unwrap();
    let page = web.get(t.url(&format!("/requests/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&#60;script&#62;alert") && !page.contains("<script>alert"), "shown escaped");
    // The audit trail names the portal.
    let audit: Value = get(&t, &o.admin, "/api/v1/audit?action=request.create").await.json().await.unwrap();
    let id_text = id.to_string();
    let entry = audit["items"].as_array().unwrap().iter().find(|e| e["entity_id"] == id_text.as_str()).unwrap().clone();
    assert_eq!(entry["actor_name"], "portal", "{entry}");

    // A phone not on record is accepted the same way, and flagged for the agent only.
    let other = report_by_qr(&t, &path, "13900001111", "设备异响").await;
    let r = request_by_number(&t, &o.admin, &other).await;
    let data: Value = serde_json::from_str(r["events"][0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["portal"]["phone_on_record"], false, "{data}");
    assert_eq!(r["request"]["customer_id"], customer);
    let id2 = r["request"]["id"].as_i64().unwrap();
    let page = web.get(t.url(&format!("/requests/{id2}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("139****1111") && page.contains("与客户档案不符") && page.contains("客户门户"),
        "told to the agent"
    );
}

async fn a_photo_that_is_not_one_or_too_large_writes_nothing(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (_, device) = nanshan_device(&t, &o).await;
    let path = qr_path(&t, &o.admin, device).await;
    let before = (count(&t, "service_requests").await, count(&t, "attachments").await, count(&t, "audit_log").await);
    let mut big = PNG.to_vec();
    big.resize(shouhou_domain::attachments::MAX_ATTACHMENT_BYTES + 1, 0);
    for (name, bytes, message) in [
        ("报告.pdf", b"%PDF-1.7\n".to_vec(), "须为照片"),
        ("photo.png", b"MZ\x90\x00 not a picture".to_vec(), "照片"),
        ("big.png", big, "10 MB"),
    ] {
        let (web, csrf, _) = visitor(&t, &path).await;
        let r = web
            .post(t.url(&path))
            .multipart(report_form(&csrf, "13812345678", "开机无显示", vec![(name, bytes)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{name}: {message}");
        assert!(page.contains("开机无显示"), "the form keeps what was typed");
    }
    // A form from another site (no cookie) is refused too.
    let (_, csrf, _) = visitor(&t, &path).await;
    let r = client().post(t.url(&path)).multipart(report_form(&csrf, "13812345678", "x", vec![])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after = (count(&t, "service_requests").await, count(&t, "attachments").await, count(&t, "audit_log").await);
    assert_eq!(before, after);
    assert_eq!(count(&t, "portal_reports").await, 0);
}

async fn tracking_reveals_nothing_to_a_wrong_phone(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (_, device) = nanshan_device(&t, &o).await;
    let path = qr_path(&t, &o.admin, device).await;
    let number = report_by_qr(&t, &path, "13812345678", "开机无显示").await;
    let r = request_by_number(&t, &o.admin, &number).await;
    let id = r["request"]["id"].as_i64().unwrap();
    let note =
        post(&t, &o.admin, &format!("/api/v1/service-requests/{id}/notes"), json!({"note": "内部：客户上次拖欠费用"}))
            .await;
    assert!(note.status().is_success());
    let step = |action: &str, note: &str| {
        let (t, admin) = (&t, o.admin.clone());
        let (action, note) = (action.to_string(), note.to_string());
        async move {
            let r: Value = get(t, &admin, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
            let body = json!({"action": action, "version": r["request"]["version"], "note": note});
            let r = post(t, &admin, &format!("/api/v1/service-requests/{id}/transitions"), body).await;
            assert_eq!(r.status(), StatusCode::OK, "{action}");
        }
    };
    step("respond", "工程师明天上午上门").await;

    let r = track(&t, &number, "138 1234 5678").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "responded");
    let steps: Vec<&str> = v["timeline"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(steps, ["new", "responded"]);
    assert_eq!(v["timeline"][1]["message"], "工程师明天上午上门");
    assert_eq!(v["device"]["serial_number"], "XG5K-0001");
    for hidden in ["内部", "拖欠", "张三", "admin", "故障.png"] {
        assert!(!body.contains(hidden), "{hidden} in {body}");
    }

    let wrong = track(&t, &number, "13900001111").await;
    let unknown = track(&t, "SR-20000101-9999", "13812345678").await;
    assert_eq!((wrong.status(), unknown.status()), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    let (wrong, unknown) = (wrong.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    assert_eq!(wrong, unknown, "a wrong phone answers exactly as an unknown number");
    let garbage = track(&t, &number, "not-a-phone").await;
    assert_eq!(garbage.bytes().await.unwrap(), wrong);
}

async fn failed_lookups_are_throttled_even_for_the_right_phone(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (_, device) = nanshan_device(&t, &o).await;
    let path = qr_path(&t, &o.admin, device).await;
    let number = report_by_qr(&t, &path, "13812345678", "开机无显示").await;
    // Successes do not count.
    for _ in 0..12 {
        assert_eq!(track(&t, &number, "13812345678").await.status(), StatusCode::OK);
    }
    for i in 0..shouhou_domain::portal::TRACK_MAX_FAILURES_PER_SOURCE {
        let phone = format!("1390000{:04}", i);
        assert_eq!(track(&t, &number, &phone).await.status(), StatusCode::NOT_FOUND);
    }
    let r = track(&t, &number, "13900009999").await;
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<i64>().unwrap() > 0);
    problem(r, StatusCode::TOO_MANY_REQUESTS, "throttled").await;
    problem(track(&t, &number, "13812345678").await, StatusCode::TOO_MANY_REQUESTS, "throttled").await;
    // The page is throttled alike (it is the same use case).
    let (web, csrf, _) = visitor(&t, "/portal/track").await;
    let r = web
        .post(t.url("/portal/track"))
        .form(&[("_csrf", csrf.as_str()), ("number", number.as_str()), ("phone", "13812345678")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(count(&t, "portal_attempts").await, 3, "one count per address and per number, and the report's");
}

async fn the_customer_confirms_a_resolved_request_from_the_portal(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (_, device) = nanshan_device(&t, &o).await;
    let path = qr_path(&t, &o.admin, device).await;
    let number = report_by_qr(&t, &path, "13812345678", "开机无显示").await;
    let id = request_by_number(&t, &o.admin, &number).await["request"]["id"].as_i64().unwrap();
    for action in ["accept", "start_work", "resolve"] {
        let r: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
        let body = json!({"action": action, "version": r["request"]["version"], "note": "更换电源模块"});
        let r = post(&t, &o.admin, &format!("/api/v1/service-requests/{id}/transitions"), body).await;
        assert_eq!(r.status(), StatusCode::OK, "{action}: {}", r.text().await.unwrap());
    }
    let (web, csrf, _) = visitor(&t, &format!("/portal/track?number={number}")).await;
    let form = [("_csrf", csrf.as_str()), ("number", number.as_str()), ("phone", "13812345678")];
    let page = web.post(t.url("/portal/track")).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"confirm\""), "a resolved request offers the confirmation");
    assert!(!page.contains("更换电源模块"), "the resolution note is internal");
    let r = web.post(t.url("/portal/track/confirm")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("data-testid=\"portal-done\""));
    let r: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
    assert_eq!(r["request"]["status"], "confirmed");
    let last = r["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["actor_name"].as_str()), (Some("confirm"), Some("portal")));
    // Confirming again is refused, and changes nothing.
    let again = web.post(t.url("/portal/track/confirm")).form(&form).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Rating: the open return visit's survey, reached from the tracking page with the right phone.
    let page = web.post(t.url("/portal/track")).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"rate\""), "the return visit is open: the customer may rate");
    let foreign = [("_csrf", "forged"), ("number", number.as_str()), ("phone", "13812345678")];
    assert_eq!(
        web.post(t.url("/portal/track/rate")).form(&foreign).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let wrong = [("_csrf", csrf.as_str()), ("number", number.as_str()), ("phone", "13700000000")];
    assert_eq!(
        web.post(t.url("/portal/track/rate")).form(&wrong).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let r = web.post(t.url("/portal/track/rate")).form(&form).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let survey = r.headers()["location"].to_str().unwrap().to_string();
    assert!(survey.starts_with("/survey/"), "{survey}");
    let answers = [("satisfaction", "5"), ("attitude", "5"), ("skill", "4"), ("timeliness", "5"), ("solved", "true")];
    assert_eq!(web.post(t.url(&survey)).form(&answers).send().await.unwrap().status(), StatusCode::OK);
    let r: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
    assert_eq!(r["request"]["status"], "closed", "the customer's answer closed it");
    let page = web.post(t.url("/portal/track")).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("data-testid=\"rate\""), "rated once");
}

async fn a_web_report_registers_a_new_customer_and_reports_are_throttled(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let customers_before = count(&t, "customers").await;
    let (web, csrf, _) = visitor(&t, "/portal/report").await;
    let form = |phone: &str| {
        reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("name", "李四")
            .text("phone", phone.to_string())
            .text("region_code", "440305")
            .text("address", "南山区科技园 1 号")
            .text("model", "XG-5000")
            .text("serial_number", "XG5K-9999")
            .text("type", "repair")
            .text("description", "设备无法开机")
    };
    let r = web.post(t.url("/portal/report")).multipart(form("13700001234")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let number = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(count(&t, "customers").await, customers_before + 1);
    let r = request_by_number(&t, &o.admin, &number).await;
    assert_eq!(r["request"]["channel"], "web");
    assert!(r["request"]["description"].as_str().unwrap().contains("XG5K-9999"), "the serial stays for the agent");
    assert!(r["request"]["station_id"].is_null(), "a new customer is headquarters'");
    // The same phone again is the same customer.
    let r = web.post(t.url("/portal/report")).multipart(form("137 0000 1234")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&t, "customers").await, customers_before + 1);
    for _ in 2..shouhou_domain::portal::REPORT_MAX_PER_SOURCE {
        let r = web.post(t.url("/portal/report")).multipart(form("13700001234")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let requests = count(&t, "service_requests").await;
    let r = web.post(t.url("/portal/report")).multipart(form("13700001234")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(count(&t, "service_requests").await, requests);
}

crate::on_both_backends!(
    a_devices_label_links_to_its_report_page_and_is_scoped,
    a_report_from_a_qr_code_lands_in_the_queue_with_its_photo,
    a_photo_that_is_not_one_or_too_large_writes_nothing,
    tracking_reveals_nothing_to_a_wrong_phone,
    failed_lookups_are_throttled_even_for_the_right_phone,
    the_customer_confirms_a_resolved_request_from_the_portal,
    a_web_report_registers_a_new_customer_and_reports_are_throttled,
);
