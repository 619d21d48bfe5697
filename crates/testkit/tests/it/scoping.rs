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
    // Another station's edit page is not found either (403 would say that it exists).
    let r = web.get(t.url(&format!("/stations/{}/edit", o.b))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = web.get(t.url(&format!("/stations/{}/edit", o.a))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "their own station: seen, but not theirs to edit");
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

/// A customer of no station is headquarters' own: station staff reach it on no path — single read,
/// list, customers page, export, screen pop by phone and by serial, the desk lookup — and cannot
/// file a request for it. A customer with a request at their station is theirs on every path, and
/// shows them only that station's requests.
async fn a_customer_of_no_station_is_headquarters_on_every_path(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let model = json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"});
    assert_eq!(post(&t, &o.admin, "/api/v1/product-models", model).await.status(), StatusCode::CREATED);
    let customer = |name: &str, phone: &str| json!({"name": name, "phone": phone, "region_code": "110105", "address": "北京市朝阳区建国路 88 号"});
    let hq = post(&t, &o.admin, "/api/v1/customers", customer("王总部", "13700001111")).await;
    let hq = hq.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let dev =
        json!({"serial_number": "HQ-0001", "model_code": "XG-5000", "customer_id": hq, "sale_date": "2026-01-31"});
    assert_eq!(post(&t, &o.admin, "/api/v1/devices", dev).await.status(), StatusCode::CREATED);
    let sr = json!({"customer_id": hq, "type": "repair", "channel": "phone", "description": "总部客户的请求"});
    let sr = post(&t, &o.admin, "/api/v1/service-requests", sr).await.json::<Value>().await.unwrap();
    let number = sr["number"].as_str().unwrap().to_string();

    let mgr = login(&t, "mgr.a").await;
    let eng = login(&t, "eng.a").await;
    for token in [&mgr, &eng] {
        problem(get(&t, token, &format!("/api/v1/customers/{hq}")).await, StatusCode::NOT_FOUND, "not_found").await;
        let list: Value = get(&t, token, "/api/v1/customers").await.json().await.unwrap();
        assert_eq!(list["total"], 0, "{list}");
        for q in ["phone=13700001111", "serial_number=HQ-0001"] {
            let pop = get(&t, token, &format!("/api/v1/screen-pop?{q}")).await;
            assert_eq!(pop.status(), StatusCode::NOT_FOUND, "{q}");
        }
        let sr = json!({"customer_id": hq, "type": "repair", "channel": "phone", "description": "越权登记"});
        let r = post(&t, token, "/api/v1/service-requests", sr).await;
        let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "customer_id");
    }
    assert_eq!(count(&t, "service_requests").await, 1, "nothing was filed");
    let (web, _) = crate::pages::web_login(&t, "mgr.a").await;
    for path in ["/customers", "/desk/lookup?phone=13700001111", "/desk/lookup?serial_number=HQ-0001"] {
        let page = web.get(t.url(path)).send().await.unwrap().text().await.unwrap();
        for secret in ["王总部", "王*", "1111", &number] {
            assert!(!page.contains(secret), "{path} shows {secret}");
        }
    }
    let ctx = crate::transfer::ctx_of(&t, "mgr.a").await;
    let export = shouhou_app::exports::export_customers_xlsx(&t.app, &ctx).await.unwrap();
    assert_eq!(crate::transfer::cells(&export).len(), 1, "the header row only");

    // A customer of station B with a request dispatched to station A (as dispatch will do): A sees
    // them on every path, in clear for the manager, with A's requests only.
    let b_customer = json!({"name": "陈乙", "phone": "13700002222", "region_code": "440106", "address": "广州市天河区体育西路 1 号", "station_code": "GZ-B"});
    let bc = post(&t, &o.admin, "/api/v1/customers", b_customer).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let sr = |d: &str| json!({"customer_id": bc, "type": "repair", "channel": "phone", "description": d});
    let at_b = post(&t, &o.admin, "/api/v1/service-requests", sr("在 B 站的请求")).await.json::<Value>().await.unwrap();
    let at_a =
        post(&t, &o.admin, "/api/v1/service-requests", sr("派到 A 站的请求")).await.json::<Value>().await.unwrap();
    {
        let mut tx = t.app.db.begin().await.unwrap();
        shouhou_store::both!(&mut tx.conn(), c => sqlx::query("UPDATE service_requests SET station_id = $1 WHERE id = $2")
            .bind(o.a).bind(at_a["id"].as_i64().unwrap()).execute(c).await.map(|r| r.rows_affected())).unwrap();
        tx.commit().await.unwrap();
    }
    let one: Value = get(&t, &mgr, &format!("/api/v1/customers/{bc}")).await.json().await.unwrap();
    assert_eq!(one["name"], "陈乙");
    let list: Value = get(&t, &mgr, "/api/v1/customers").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let pop: Value = get(&t, &mgr, "/api/v1/screen-pop?phone=13700002222").await.json().await.unwrap();
    let shown: Vec<&str> =
        pop["open_requests"].as_array().unwrap().iter().map(|r| r["number"].as_str().unwrap()).collect();
    assert_eq!(shown, vec![at_a["number"].as_str().unwrap()], "not {}", at_b["number"]);
    // What an engineer of A files for them without a device lands at A, where they can read it.
    let sr = json!({"customer_id": bc, "type": "consultation", "channel": "phone", "description": "咨询"});
    let r = post(&t, &eng, "/api/v1/service-requests", sr).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let read: Value = get(&t, &eng, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
    assert_eq!(read["station_id"], o.a);
}

crate::on_both_backends!(
    a_customer_of_no_station_is_headquarters_on_every_path,
    an_engineer_of_station_a_gets_404_on_every_record_of_station_b_through_the_api,
    a_denied_action_answers_403_and_writes_nothing,
    an_engineer_of_station_a_gets_404_on_station_b_pages,
);
