//! Hardening of the edges: every error is a problem (axum's and hyper's own answers included),
//! the OpenAPI document declares them, `/metrics` has bounded labels and is private, every
//! free-text field and page size is bounded, and a bad upload is named.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

crate::on_both_backends!(
    axums_own_rejections_are_problems_and_pages_answer_html,
    hypers_own_rejections_are_problems,
    metrics_label_only_known_methods_and_routes,
    metrics_are_served_to_loopback_or_the_configured_token_only,
    every_free_text_field_is_bounded_with_its_limit_named,
    page_and_per_page_out_of_range_are_field_errors,
    a_bad_file_name_or_a_truncated_upload_is_a_named_400,
);

async fn axums_own_rejections_are_problems_and_pages_answer_html(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let c = client();
    // A path id that is not a number (axum's path rejection was `400 text/plain`).
    let p = problem(get(&t, &o.admin, "/api/v1/customers/abc").await, StatusCode::BAD_REQUEST, "invalid_path").await;
    assert!(p["detail"].as_str().unwrap().contains("abc"), "{p}");
    // A method the route does not take (was 405 with an empty body), `Allow` kept.
    let r = c.delete(t.url("/api/v1/stations")).bearer_auth(&o.admin).send().await.unwrap();
    let allow = r.headers().get("allow").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    let r = c.request(brew, t.url("/api/v1/stations")).bearer_auth(&o.admin).send().await.unwrap();
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    // Unknown routes under /api, a bad query string, a body that is not JSON.
    problem(get(&t, &o.admin, "/api/v2/stations").await, StatusCode::NOT_FOUND, "not_found").await;
    problem(get(&t, &o.admin, "/api").await, StatusCode::NOT_FOUND, "not_found").await;
    problem(get(&t, &o.admin, "/api/v1/stations?page=two").await, StatusCode::BAD_REQUEST, "invalid_query").await;
    let r = c
        .post(t.url("/api/v1/stations"))
        .bearer_auth(&o.admin)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    // A multipart upload without a boundary (axum's multipart rejection).
    let r = c
        .post(t.url("/api/v1/service-requests/1/attachments"))
        .bearer_auth(&o.admin)
        .header("content-type", "multipart/form-data")
        .body("x")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
    // Pages keep HTML error pages, never text/plain.
    for (method, path, status) in [
        (reqwest::Method::DELETE, "/login", StatusCode::METHOD_NOT_ALLOWED),
        (reqwest::Method::GET, "/requests/abc", StatusCode::BAD_REQUEST),
    ] {
        let r = c.request(method, t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
}

/// Send raw bytes and read the whole answer (the server closes the connection after it).
async fn raw(t: &TestApp, request: &[u8]) -> (u16, String, Value) {
    let mut s = tokio::net::TcpStream::connect(t.addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn hypers_own_rejections_are_problems(b: Backend) {
    let t = app(b).await;
    let long_uri = format!("GET /api/v1/stations?q={} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!(
        "GET /api/v1/stations HTTP/1.1\r\nhost: x\r\n{}\r\n",
        (0..120).map(|i| format!("x-h{i}: 1\r\n")).collect::<String>()
    );
    let big_header = format!("GET /api/v1/stations HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "b".repeat(500_000));
    for (request, status, code) in [
        (long_uri.as_bytes(), 414, "uri_too_long"),
        (many_headers.as_bytes(), 431, "headers_too_large"),
        (big_header.as_bytes(), 431, "headers_too_large"),
        (&b"GET /api/v1/stations HTTP/1.1\r\nhost: x\r\nbad header line\r\n\r\n"[..], 400, "malformed_request"),
    ] {
        let (got, head, body) = raw(&t, request).await;
        assert_eq!(got, status, "{head}");
        assert!(head.contains("content-type: application/problem+json"), "{head}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        assert!(body["title"].as_str().is_some_and(|s| !s.is_empty()));
    }
    // The connection's ordinary answers are untouched.
    let (got, head, _) = raw(&t, b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await;
    assert_eq!(got, 200);
    assert!(head.contains("x-request-id:"), "{head}");
}

async fn metrics_text(t: &TestApp) -> String {
    client().get(t.url("/metrics")).send().await.unwrap().text().await.unwrap()
}

async fn metrics_label_only_known_methods_and_routes(b: Backend) {
    let t = app(b).await;
    let c = client();
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let _ = c.request(method, t.url("/api/v1/stations")).send().await.unwrap();
        let _ = c.get(t.url(&format!("/no/such/path/{i}"))).send().await.unwrap();
    }
    let m = metrics_text(&t).await;
    assert!(!m.contains("MADEUP"), "made-up methods are not labels");
    assert!(!m.contains("/no/such/path"), "unmatched paths are not labels");
    assert!(m.contains("method=\"other\""), "{m}");
    assert!(m.contains("route=\"unmatched\""), "{m}");
}

async fn metrics_are_served_to_loopback_or_the_configured_token_only(b: Backend) {
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;
    let t = app(b).await;
    assert!(metrics_text(&t).await.contains("db_pool_connections"), "loopback is served");
    let outside: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let ask = |token: Option<&'static str>, bearer: Option<&'static str>| {
        let state = shouhou_web::AppState {
            app: t.app.clone(),
            secure_cookies: false,
            faults: Default::default(),
            metrics_token: token.map(str::to_string),
            public_base_url: None,
        };
        let mut req = axum::http::Request::get("/metrics");
        if let Some(b) = bearer {
            req = req.header("authorization", format!("Bearer {b}"));
        }
        let mut req = req.body(axum::body::Body::empty()).unwrap();
        req.extensions_mut().insert(ConnectInfo(outside));
        shouhou_web::router(state).oneshot(req)
    };
    for (token, bearer, status) in [
        (None, None, StatusCode::NOT_FOUND),
        (None, Some("guess"), StatusCode::NOT_FOUND),
        (Some("s3cret-metrics"), None, StatusCode::NOT_FOUND),
        (Some("s3cret-metrics"), Some("guess"), StatusCode::FORBIDDEN),
    ] {
        let r = ask(token, bearer).await.unwrap();
        assert_eq!(r.status().as_u16(), status.as_u16(), "{token:?} {bearer:?}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let r = ask(Some("s3cret-metrics"), Some("s3cret-metrics")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
}

/// A field set to a value one character over its limit answers 422 `too_long` naming the limit.
async fn assert_too_long(r: reqwest::Response, field: &str, limit: u64) {
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let e = p["errors"].as_array().unwrap().iter().find(|e| e["field"] == field).cloned();
    let e = e.unwrap_or_else(|| panic!("no error for {field}: {p}"));
    assert_eq!(e["code"], "too_long", "{field}: {p}");
    assert_eq!(e["limit"], limit, "{field}: {p}");
    assert!(e["message"].as_str().unwrap().contains(&limit.to_string()), "{field}: {p}");
}

fn over(limit: u64) -> String {
    "长".repeat(limit as usize + 1)
}

async fn every_free_text_field_is_bounded_with_its_limit_named(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let a = &o.admin;
    let model = json!({"code": "XG-5000", "name": "XG-5000", "product_line": "光传输"});
    assert_eq!(post(&t, a, "/api/v1/product-models", model.clone()).await.status(), StatusCode::CREATED);
    let customer = json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "科技园",
        "contacts": [{"name": "李四", "phone": "0755-26581234"}]});
    let r = post(&t, a, "/api/v1/customers", customer.clone()).await;
    let customer_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let request = json!({"customer_id": customer_id, "type": "repair", "channel": "phone", "description": "告警"});
    let r = post(&t, a, "/api/v1/service-requests", request.clone()).await;
    let sr = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let device = json!({"serial_number": "SN-1", "model_code": "XG-5000", "customer_id": customer_id, "sale_date": "2026-01-31"});
    let user = json!({"username": "someone", "password": "Correct-Horse-9", "roles": ["agent"]});
    let with = |base: &Value, field: &str, value: Value| {
        let mut v = base.clone();
        v[field] = value;
        v
    };
    let notes = format!("/api/v1/service-requests/{sr}/notes");
    let transitions = format!("/api/v1/service-requests/{sr}/transitions");
    let cases: Vec<(&str, Value, &str, u64)> = vec![
        ("/api/v1/stations", with(&station("HZ-1", "330106"), "name", over(100).into()), "name", 100),
        ("/api/v1/stations", with(&station("HZ-1", "330106"), "address", over(200).into()), "address", 200),
        ("/api/v1/stations", with(&station("HZ-1", "330106"), "phone", over(30).into()), "phone", 30),
        (
            "/api/v1/warehouses",
            json!({"code": "WH-9", "name": over(100), "region_code": "440305", "address": "x"}),
            "name",
            100,
        ),
        (
            "/api/v1/product-models",
            with(&with(&model, "code", "XG-1".into()), "coverage", over(500).into()),
            "coverage",
            500,
        ),
        (
            "/api/v1/product-models",
            with(&with(&model, "code", "XG-1".into()), "product_line", over(50).into()),
            "product_line",
            50,
        ),
        ("/api/v1/customers", with(&customer, "name", over(100).into()), "name", 100),
        ("/api/v1/customers", with(&customer, "address", over(200).into()), "address", 200),
        (
            "/api/v1/customers",
            with(&customer, "contacts", json!([{"name": over(100), "phone": "13812345679"}])),
            "contacts[0].name",
            100,
        ),
        ("/api/v1/devices", with(&device, "serial_number", over(64).into()), "serial_number", 64),
        ("/api/v1/devices", with(&device, "install_address", over(200).into()), "install_address", 200),
        ("/api/v1/devices", with(&device, "dealer_name", over(100).into()), "dealer_name", 100),
        ("/api/v1/service-requests", with(&request, "description", over(4000).into()), "description", 4000),
        ("/api/v1/service-requests", with(&request, "fault_code", over(50).into()), "fault_code", 50),
        (
            "/api/v1/service-requests",
            with(&request, "resolve_now", "解".repeat(1_000).repeat(5).into()),
            "resolve_now",
            4000,
        ),
        (&notes, json!({"note": over(4000)}), "note", 4000),
        (&transitions, json!({"action": "accept", "note": over(4000), "version": 1}), "note", 4000),
        ("/api/v1/users", with(&user, "display_name", over(50).into()), "display_name", 50),
        ("/api/v1/users", with(&user, "username", "u".repeat(33).into()), "username", 32),
        ("/api/v1/users", with(&user, "password", "p".repeat(129).into()), "password", 128),
        (
            "/api/v1/calendars/cn-workday/days",
            json!({"date": "2026-12-24", "off": true, "note": over(200)}),
            "note",
            200,
        ),
    ];
    for (path, body, field, limit) in cases {
        assert_too_long(post(&t, a, path, body).await, field, limit).await;
    }
    // Search texts too.
    let r = get(&t, a, &format!("/api/v1/stations?q={}", "q".repeat(101))).await;
    assert_too_long(r, "q", 100).await;
    let r = get(&t, a, &format!("/api/v1/audit?action={}", "a".repeat(101))).await;
    assert_too_long(r, "action", 100).await;
    // NUL, which PostgreSQL text cannot hold (the fuzzer's 500s), is refused wherever it comes.
    let p = problem(
        post(
            &t,
            a,
            "/api/v1/warehouses",
            json!({"code": "HQ-CW", "name": "x", "region_code": "110105", "address": "\u{f9}\0"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_characters", "{p}");
    problem(get(&t, a, "/api/v1/stations?q=a%00b").await, StatusCode::BAD_REQUEST, "invalid_query").await;
    problem(get(&t, a, "/api/v1/calendars/a%00b").await, StatusCode::BAD_REQUEST, "invalid_path").await;
    let e = shouhou_domain::text::required_text("address", "科技园\u{1b}[31m", 200).unwrap_err();
    assert_eq!(e.code, "invalid_characters");
    // Nothing of it was stored: one request, its resolution not taken.
    assert_eq!(count(&t, "service_requests").await, 1);
}

async fn page_and_per_page_out_of_range_are_field_errors(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    for (query, field, limit) in [
        ("per_page=0", "per_page", Some(100)),
        ("per_page=101", "per_page", Some(100)),
        ("per_page=5000", "per_page", Some(100)),
        ("page=0", "page", None),
    ] {
        for list in
            ["/api/v1/stations", "/api/v1/warehouses", "/api/v1/service-requests", "/api/v1/audit", "/api/v1/inbox"]
        {
            let r = get(&t, &o.admin, &format!("{list}?{query}")).await;
            let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
            assert_eq!(p["errors"][0]["field"], field, "{list}?{query}: {p}");
            assert_eq!(p["errors"][0]["code"], "out_of_range", "{list}?{query}: {p}");
            assert_eq!(p["errors"][0].get("limit").and_then(Value::as_u64), limit, "{list}?{query}: {p}");
        }
    }
    let body: Value = get(&t, &o.admin, "/api/v1/stations?per_page=100&page=1").await.json().await.unwrap();
    assert_eq!(body["per_page"], 100);
}

/// A multipart body for `file` with this raw file name and content, and its content type.
fn multipart(name: &[u8], content: &[u8], closed: bool) -> (String, Vec<u8>) {
    let boundary = "XyZ-boundary-42";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"").as_bytes(),
    );
    body.extend_from_slice(name);
    body.extend_from_slice(b"\"\r\nContent-Type: text/plain\r\n\r\n");
    body.extend_from_slice(content);
    if closed {
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    }
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn a_bad_file_name_or_a_truncated_upload_is_a_named_400(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let r =
        post(&t, &o.admin, "/api/v1/product-models", json!({"code": "XG-1", "name": "XG", "product_line": "光"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(
        &t,
        &o.admin,
        "/api/v1/customers",
        json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "科技园"}),
    )
    .await;
    let customer = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = post(
        &t,
        &o.admin,
        "/api/v1/service-requests",
        json!({"customer_id": customer, "type": "repair", "channel": "phone", "description": "告警"}),
    )
    .await;
    let sr = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let url = t.url(&format!("/api/v1/service-requests/{sr}/attachments"));
    let send = |(ct, body): (String, Vec<u8>)| {
        client().post(url.clone()).bearer_auth(&o.admin).header("content-type", ct).body(body).send()
    };
    for name in [&b"a\0b.txt"[..], b"a\x1bb.txt", "a\u{85}b.txt".as_bytes(), "a\u{7f}b.txt".as_bytes()] {
        let r = send(multipart(name, b"hello", true)).await.unwrap();
        let p = problem(r, StatusCode::BAD_REQUEST, "bad_file_name").await;
        assert_eq!(p["errors"][0]["field"], "file", "{p}");
    }
    let p = problem(
        send(multipart(b"ok.txt", b"hello", false)).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_multipart",
    )
    .await;
    assert!(!p["detail"].as_str().unwrap_or("").is_empty(), "{p}");
    assert_eq!(send(multipart(b"ok.txt", b"hello", true)).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(count(&t, "attachments").await, 1);
}
