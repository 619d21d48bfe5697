#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::auth::hidden;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;

async fn an_engineer_of_station_a_gets_404_on_every_record_of_station_b_through_the_api(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let eng = login(&t, "eng.a").await;
    // Their own station's records are there…
    assert_eq!(get(&t, &eng, &format!("/api/v1/stations/{}", o.a)).await.status(), StatusCode::OK);
    assert_eq!(get(&t, &eng, &format!("/api/v1/warehouses/{}", o.wh_a)).await.status(), StatusCode::OK);
    // …station B's answer exactly like records that do not exist.
    for path in [
        format!("/api/v1/stations/{}", o.b),
        format!("/api/v1/warehouses/{}", o.wh_b),
        "/api/v1/stations/999999".to_string(),
    ] {
        problem(get(&t, &eng, &path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let list: Value = get(&t, &eng, "/api/v1/stations").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], o.a);
    let list: Value = get(&t, &eng, "/api/v1/warehouses").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let list: Value = get(&t, &eng, &format!("/api/v1/warehouses?station_id={}", o.b)).await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    // Users are not an engineer's business at all; a station manager sees their own station's staff.
    problem(get(&t, &eng, "/api/v1/users").await, StatusCode::NOT_FOUND, "not_found").await;
    let mgr = login(&t, "mgr.a").await;
    let users: Value = get(&t, &mgr, "/api/v1/users?per_page=100").await.json().await.unwrap();
    let names: Vec<&str> = users["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["eng.a", "mgr.a"]);
    let me: Value = get(&t, &o.admin, "/api/v1/users?q=eng.b").await.json().await.unwrap();
    let eng_b = me["items"][0]["id"].as_i64().unwrap();
    problem(get(&t, &mgr, &format!("/api/v1/users/{eng_b}")).await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn a_denied_action_answers_403_and_writes_nothing(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let eng = login(&t, "eng.a").await;
    let before = count(&t, "stations").await;
    problem(post(&t, &eng, "/api/v1/stations", station("HZ-X", "330106")).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    let mut body = station("SZ-A", "440305");
    body["version"] = json!(1);
    problem(patch(&t, &eng, &format!("/api/v1/stations/{}", o.a), body).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    let user = json!({"username": "sneaky", "password": "Passw0rd-long", "roles": ["admin"]});
    problem(post(&t, &eng, "/api/v1/users", user).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(count(&t, "stations").await, before);
    assert_eq!(count(&t, "users").await, 4);
}

async fn an_engineer_of_station_a_gets_404_on_station_b_pages(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let web = client();
    let page = web.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    let r = web
        .post(t.url("/login"))
        .form(&[("username", "eng.a"), ("password", PASSWORD), ("_csrf", &csrf), ("next", "/stations")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/stations");
    let list = web.get(t.url("/stations")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("SZ-A") && !list.contains("GZ-B"));
    assert_eq!(web.get(t.url(&format!("/stations/{}", o.a))).send().await.unwrap().status(), StatusCode::OK);
    for path in [format!("/stations/{}", o.b), "/stations/424242".to_string()] {
        let r = web.get(t.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().await.unwrap().contains("页面不存在，或您无权查看。"));
    }
    let r = web.get(t.url(&format!("/stations/{}/edit", o.b))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = web.get(t.url("/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = web.get(t.url("/audit")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let home = web.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(
        !home.contains("href=\"/users\"") && !home.contains("href=\"/audit\""),
        "no navigation to what they may not see"
    );
}

crate::on_both_backends!(
    an_engineer_of_station_a_gets_404_on_every_record_of_station_b_through_the_api,
    a_denied_action_answers_403_and_writes_nothing,
    an_engineer_of_station_a_gets_404_on_station_b_pages,
);
