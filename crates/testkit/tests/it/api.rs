#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;

async fn a_retried_post_with_the_same_idempotency_key_creates_one_station(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let before = count(&t, "stations").await;
    let send = |body: Value| {
        client()
            .post(t.url("/api/v1/stations"))
            .bearer_auth(&o.admin)
            .header("Idempotency-Key", "retry-1")
            .json(&body)
            .send()
    };
    let first = send(station("BJ-C", "110105")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send(station("BJ-C", "110105")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(count(&t, "stations").await, before + 1);
    let other = send(station("SH-D", "310115")).await.unwrap();
    problem(other, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    assert_eq!(count(&t, "stations").await, before + 1);
    // Without a key the same body is a new command and hits the unique code.
    let dup = post(&t, &o.admin, "/api/v1/stations", station("BJ-C", "110105")).await;
    let body = problem(dup, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "code");
    assert_eq!(body["errors"][0]["code"], "already_exists");
}

async fn an_update_on_a_stale_version_answers_409_and_changes_nothing(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let path = format!("/api/v1/stations/{}", o.a);
    let r = get(&t, &o.admin, &path).await;
    assert_eq!(r.headers().get("etag").unwrap(), "\"1\"");
    let mut body = station("SZ-A", "440305");
    body["name"] = json!("深圳南山服务站");
    body["version"] = json!(1);
    let r = patch(&t, &o.admin, &path, body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    body["name"] = json!("改名失败");
    problem(patch(&t, &o.admin, &path, body.clone()).await, StatusCode::CONFLICT, "stale_version").await;
    let now: Value = get(&t, &o.admin, &path).await.json().await.unwrap();
    assert_eq!(now["name"], "深圳南山服务站");
    // If-Match works as well as the body's version.
    body.as_object_mut().unwrap().remove("version");
    let r = client()
        .patch(t.url(&path))
        .bearer_auth(&o.admin)
        .header("If-Match", "\"2\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = patch(&t, &o.admin, &path, body).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

async fn bad_input_is_answered_as_problem_json_naming_each_field(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let before = count(&t, "stations").await;
    let audit_before = count(&t, "audit_log").await;
    let r = post(
        &t,
        &o.admin,
        "/api/v1/stations",
        json!({"code": "x", "name": "", "region_code": "999999", "address": "路"}),
    )
    .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "name", "region_code"]);
    assert_eq!(body["errors"][2]["code"], "unknown_region");
    assert!(body["errors"][1]["message"].as_str().unwrap().contains("名称"));

    let r = post(
        &t,
        &o.admin,
        "/api/v1/stations",
        json!({"code": "GZ-X", "name": "n", "region_code": "440106", "address": "a", "manager": "x"}),
    )
    .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        body["errors"][0],
        json!({"field": "manager", "code": "unknown_field", "message": body["errors"][0]["message"]})
    );

    let r = client()
        .post(t.url("/api/v1/stations"))
        .bearer_auth(&o.admin)
        .header("content-type", "application/json")
        .body("{\"code\":")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
    let r = client().post(t.url("/api/v1/stations")).bearer_auth(&o.admin).body("code=x").send().await.unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let huge = json!({"code": "GZ-Y", "name": "x".repeat(2 * 1024 * 1024), "region_code": "440106", "address": "a"});
    problem(post(&t, &o.admin, "/api/v1/stations", huge).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        .await;

    // English for a caller who chose English.
    let r = client()
        .post(t.url("/api/v1/auth/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({"username": "", "password": ""}))
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["message"], "Username is required");

    assert_eq!(count(&t, "stations").await, before, "a failed command writes nothing");
    assert_eq!(count(&t, "audit_log").await, audit_before);
}

async fn list_pages_take_at_most_one_hundred(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    // More than 100 is refused, not silently capped (see hygiene.rs).
    let r = get(&t, &o.admin, "/api/v1/stations?per_page=5000").await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let body: Value = get(&t, &o.admin, "/api/v1/stations?per_page=100").await.json().await.unwrap();
    assert_eq!(body["per_page"], 100);
    assert_eq!(body["total"], 2);
    let body: Value = get(&t, &o.admin, "/api/v1/stations?per_page=1&page=2").await.json().await.unwrap();
    assert_eq!(body["items"][0]["code"], "SZ-A");
    problem(get(&t, &o.admin, "/api/v1/stations?colour=red").await, StatusCode::BAD_REQUEST, "invalid_query").await;
}

async fn health_readiness_metrics_and_openapi_are_served(b: Backend) {
    let t = app(b).await;
    let c = client();
    assert_eq!(c.get(t.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(c.get(t.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
    let _ = c.get(t.url("/api/v1/stations")).send().await.unwrap();
    let m = c.get(t.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("http_requests_total"), "{m}");
    assert!(m.contains("route=\"/api/v1/stations\""));
    assert!(m.contains("http_request_duration_seconds_bucket"));
    assert!(m.contains("db_pool_connections"));
    let spec: Value = c.get(t.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in ["/api/v1/auth/login", "/api/v1/stations", "/api/v1/stations/{id}", "/api/v1/users"] {
        assert!(spec["paths"][p].is_object(), "{p} documented");
    }
    // The readable page is for who integrates systems (administrators), inside the app's frame.
    assert_eq!(c.get(t.url("/api/docs")).send().await.unwrap().status(), StatusCode::PERMANENT_REDIRECT);
    let r = c.get(t.url("/api/v1/nothing-here")).send().await.unwrap();
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let id = c.get(t.url("/healthz")).send().await.unwrap().headers().get("x-request-id").cloned();
    assert!(id.is_some_and(|v| v.len() >= 32), "every answer carries a request id");
}

/// Housekeeping forgets idempotency keys after a day, login failures after the throttling window
/// and tokens 30 days after they expired; nothing younger.
async fn housekeeping_forgets_old_keys_failures_and_tokens_only(b: Backend) {
    use shouhou_app::system::{Housekeeping, housekeeping};
    let start = "2026-11-26T09:00:00+08:00".parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let clock = std::sync::Arc::new(shouhou_app::FixedClock::new(start));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let r = client()
        .post(t.url("/api/v1/stations"))
        .bearer_auth(&o.admin)
        .header("Idempotency-Key", "hk-1")
        .json(&station("HZ-A", "330106"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let bad = client()
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let (keys, failures, tokens) =
        (count(&t, "idempotency_keys").await, count(&t, "login_attempts").await, count(&t, "auth_tokens").await);
    assert!(keys >= 1 && failures == 1 && tokens >= 1);

    assert_eq!(housekeeping(&t.app).await.unwrap(), Housekeeping::default(), "nothing is old yet");
    // Two days on: keys and failures go; tokens (expired a day ago) stay for 30 days.
    clock.set_ms(start + 2 * 86_400_000);
    let h = housekeeping(&t.app).await.unwrap();
    assert_eq!((h.idempotency_keys, h.login_attempts, h.tokens), (keys as u64, 1, 0));
    // Forty days on: the tokens too.
    clock.set_ms(start + 40 * 86_400_000);
    assert_eq!(housekeeping(&t.app).await.unwrap().tokens, tokens as u64);
    assert_eq!(count(&t, "auth_tokens").await, 0);
}

/// The API is for bearer tokens: a signed-in browser's session cookie opens nothing there, so
/// another site cannot make it post (no CSRF token is taken instead); an anonymous caller gets 401
/// before any body is read or judged, an upload is refused unread, and an anonymous POST with an
/// `Idempotency-Key` stores nothing.
async fn the_api_takes_bearer_tokens_only_and_refuses_strangers_before_their_bodies(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (web, _) = crate::pages::web_login(&t, "admin").await;
    let before = count(&t, "stations").await;
    let r = web.post(t.url("/api/v1/stations")).json(&station("HZ-X", "330106")).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![0u8; 64]).file_name("a.png"));
    let r = web.post(t.url("/api/v1/service-requests/1/attachments")).multipart(form).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(count(&t, "stations").await, before);
    assert_eq!(
        web.get(t.url("/stations")).send().await.unwrap().status(),
        StatusCode::OK,
        "the pages still know the session"
    );
    // Anonymous: 401, not 422 for a bad body; not 413 for a big upload, which is not even read.
    let anon = client();
    let r = anon.post(t.url("/api/v1/stations")).json(&json!({"nonsense": true})).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let big = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(vec![7u8; 11 * 1024 * 1024]).file_name("big.png"));
    let r = anon.post(t.url("/api/v1/service-requests/1/attachments")).multipart(big).send().await;
    if let Ok(r) = r {
        problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let r = anon
        .post(t.url("/api/v1/stations"))
        .header("Idempotency-Key", "anon-1")
        .json(&station("HZ-Y", "330106"))
        .send();
    problem(r.await.unwrap(), StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let r = anon
        .post(t.url("/api/v1/auth/login"))
        .header("Idempotency-Key", "anon-2")
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send();
    assert_eq!(r.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&t, "idempotency_keys").await, 0, "nobody's keys are kept");
    let _ = o;
}

/// Administrators cannot lock themselves out, and the last active administrator stays one.
async fn the_last_administrator_cannot_be_removed_nor_an_administrator_deactivate_themselves(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let users: Value = get(&t, &o.admin, "/api/v1/users?q=admin").await.json().await.unwrap();
    let me = users["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/users/{me}");
    let change = |active: bool, roles: Vec<&str>| json!({"display_name": "王建国", "active": active, "roles": roles, "version": 1});
    let r = patch(&t, &o.admin, &path, change(false, vec!["admin"])).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"].as_array().unwrap().iter().any(|e| e["code"] == "cannot_deactivate_self"), "{body}");
    // A second administrator cannot take the last active one's role or account away either.
    add_user(&t.app, "admin2", &["admin"], &[]).await;
    let admin2 = login(&t, "admin2").await;
    let r = patch(&t, &admin2, &path, change(false, vec!["admin"])).await;
    assert_eq!(r.status(), StatusCode::OK, "two administrators: one may go");
    let users: Value = get(&t, &admin2, "/api/v1/users?q=admin2").await.json().await.unwrap();
    let two = users["items"][0]["id"].as_i64().unwrap();
    add_user(&t.app, "mgr", &["manager"], &[]).await;
    // admin2 is now the last: nobody may demote them, not even themselves.
    let r = patch(&t, &admin2, &format!("/api/v1/users/{two}"), change(true, vec!["manager"])).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "last_admin" || e["code"] == "cannot_remove_own_admin"),
        "{body}"
    );
    // Re-activate the first and let it demote the second: then the first is the last.
    let r =
        patch(&t, &admin2, &path, json!({"display_name": "王建国", "active": true, "roles": ["admin"], "version": 2}))
            .await;
    assert_eq!(r.status(), StatusCode::OK);
    let first = login(&t, "admin").await;
    let r = patch(&t, &first, &format!("/api/v1/users/{two}"), change(false, vec!["admin"])).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r =
        patch(&t, &first, &path, json!({"display_name": "王建国", "active": true, "roles": ["manager"], "version": 3}))
            .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "last_admin" || e["code"] == "cannot_remove_own_admin"),
        "{body}"
    );
}

/// Back-office pages are not a customer's or a dealer's; a station's edit page outside the
/// caller's stations is not found (403 would say it exists).
async fn back_office_pages_are_closed_to_customers_and_other_stations_are_not_found(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    add_user(&t.app, "dealer", &["dealer"], &[]).await;
    add_user(&t.app, "customer", &["customer"], &[]).await;
    for who in ["dealer", "customer"] {
        let (web, _) = crate::pages::web_login(&t, who).await;
        assert_eq!(web.get(t.url("/desk")).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{who}");
        assert_eq!(web.get(t.url("/desk/lookup?q=13812345678")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let token = login(&t, who).await;
        let r =
            get(&t, &token, "/api/v1/sla/preview?calendar=cn-workday&start=2025-09-30T16:00:00%2B08:00&target=PT8H");
        problem(r.await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let (web, _) = crate::pages::web_login(&t, "mgr.a").await;
    assert_eq!(
        web.get(t.url(&format!("/stations/{}/edit", o.b))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        web.get(t.url(&format!("/stations/{}/edit", o.a))).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

crate::on_both_backends!(
    housekeeping_forgets_old_keys_failures_and_tokens_only,
    a_retried_post_with_the_same_idempotency_key_creates_one_station,
    an_update_on_a_stale_version_answers_409_and_changes_nothing,
    bad_input_is_answered_as_problem_json_naming_each_field,
    list_pages_take_at_most_one_hundred,
    health_readiness_metrics_and_openapi_are_served,
    the_api_takes_bearer_tokens_only_and_refuses_strangers_before_their_bodies,
    the_last_administrator_cannot_be_removed_nor_an_administrator_deactivate_themselves,
    back_office_pages_are_closed_to_customers_and_other_stations_are_not_found,
);
