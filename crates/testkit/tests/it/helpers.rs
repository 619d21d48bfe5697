#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use shouhou_app::users::UserForm;
use shouhou_app::{App, Ctx};
use shouhou_store::Backend;
use shouhou_testkit::{TestApp, spawn_app};

pub const PASSWORD: &str = "Correct-Horse-9";

pub async fn app(backend: Backend) -> TestApp {
    spawn_app(backend).await.expect("the application starts on a fresh database")
}

pub fn client() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Create a user directly through the use case, as `shouhou user add` does.
pub async fn add_user(app: &App, username: &str, roles: &[&str], stations: &[&str]) {
    shouhou_app::users::create_user(
        app,
        &Ctx::system(),
        &UserForm {
            username: username.into(),
            display_name: String::new(),
            password: PASSWORD.into(),
            locale: "zh-CN".into(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            stations: stations.iter().map(|s| s.to_string()).collect(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("creating {username}: {e}"));
}

pub async fn login(t: &TestApp, username: &str) -> String {
    let r = client()
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login of {username}");
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

pub async fn get(t: &TestApp, token: &str, path: &str) -> Response {
    client().get(t.url(path)).bearer_auth(token).send().await.unwrap()
}

pub async fn post(t: &TestApp, token: &str, path: &str, body: Value) -> Response {
    client().post(t.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

pub async fn put(t: &TestApp, token: &str, path: &str, body: Value) -> Response {
    client().put(t.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

pub async fn patch(t: &TestApp, token: &str, path: &str, body: Value) -> Response {
    client().patch(t.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

pub fn station(code: &str, region: &str) -> Value {
    json!({"code": code, "name": format!("{code} 服务站"), "region_code": region, "address": "科技园南区 18 栋"})
}

/// An administrator, two stations A (深圳南山) and B (广州天河) each with a warehouse, an engineer
/// of each, and a station manager of A. Answers (admin token, id of A, id of B).
pub struct Org {
    pub admin: String,
    pub a: i64,
    pub b: i64,
    pub wh_a: i64,
    pub wh_b: i64,
}

pub async fn org(t: &TestApp) -> Org {
    add_user(&t.app, "admin", &["admin"], &[]).await;
    let admin = login(t, "admin").await;
    let a = post(t, &admin, "/api/v1/stations", station("SZ-A", "440305")).await;
    assert_eq!(a.status(), StatusCode::CREATED);
    let a = a.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let b = post(t, &admin, "/api/v1/stations", station("GZ-B", "440106")).await;
    assert_eq!(b.status(), StatusCode::CREATED);
    let b = b.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let wh = |code: &str, st: &str| json!({"code": code, "name": "备件库", "station_code": st, "region_code": "440305", "address": "仓库路 1 号"});
    let wh_a = post(t, &admin, "/api/v1/warehouses", wh("SZ-A-WH", "SZ-A")).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let wh_b = post(t, &admin, "/api/v1/warehouses", wh("GZ-B-WH", "GZ-B")).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    add_user(&t.app, "eng.a", &["engineer"], &["SZ-A"]).await;
    add_user(&t.app, "eng.b", &["engineer"], &["GZ-B"]).await;
    add_user(&t.app, "mgr.a", &["station_manager"], &["SZ-A"]).await;
    Org { admin, a, b, wh_a, wh_b }
}

/// Assert a problem+json answer with this status and code; answers the body.
pub async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert_eq!(ct, "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

/// Count rows of a table straight from the database.
pub async fn count(t: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let mut rd = t.app.db.read().await.unwrap();
    shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(c).await)
        .unwrap()
}

/// The product model XG-5000 (光传输) and, at station A, the customer 张三 in 深圳南山 with the
/// device XG5K-0001 sold on 2025-01-31. Answers (customer id, device id).
pub async fn nanshan_device(t: &TestApp, o: &Org) -> (i64, i64) {
    let model = json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"});
    assert_eq!(post(t, &o.admin, "/api/v1/product-models", model).await.status(), StatusCode::CREATED);
    let c = json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "科技园南区 18 栋", "station_code": "SZ-A"});
    let c = post(t, &o.admin, "/api/v1/customers", c).await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let customer = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d = json!({"serial_number": "XG5K-0001", "model_code": "XG-5000", "customer_id": customer, "sale_date": "2025-01-31"});
    let d = post(t, &o.admin, "/api/v1/devices", d).await;
    assert_eq!(d.status(), StatusCode::CREATED);
    (customer, d.json::<Value>().await.unwrap()["id"].as_i64().unwrap())
}

/// A one-pixel PNG: a photo or a signature as far as the checks go.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub async fn upload(t: &TestApp, token: &str, id: i64, purpose: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    client()
        .post(t.url(&format!("/api/v1/work-orders/{id}/files?purpose={purpose}")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A repair visit of station A's engineer `eng.a` to device `serial` of `customer`, brought to
/// the customer's door: created, then [`bring_on_site`]. Answers (work order id, the engineer's
/// token).
pub async fn on_site_visit(t: &TestApp, o: &Org, customer: i64, serial: &str, at: (f64, f64)) -> (i64, String) {
    let r = post(
        t,
        &o.admin,
        "/api/v1/work-orders",
        json!({"customer_id": customer, "serial_number": serial, "kind": "repair"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    (id, bring_on_site(t, o, id, at).await)
}

/// Work order `id` dispatched to station A, assigned to `eng.a`, accepted, departed and checked
/// in at `at` (latitude, longitude), each step at the version it has. Answers the engineer's token.
pub async fn bring_on_site(t: &TestApp, o: &Org, id: i64, at: (f64, f64)) -> String {
    bring_on_site_as(t, o, id, at, "eng.a").await
}

/// [`bring_on_site`] with another engineer of station A.
pub async fn bring_on_site_as(t: &TestApp, o: &Org, id: i64, at: (f64, f64), engineer: &str) -> String {
    let version = |token: String| async move {
        let w: Value = get(t, &token, &format!("/api/v1/work-orders/{id}")).await.json().await.unwrap();
        w["version"].clone()
    };
    let w: Value = get(t, &o.admin, &format!("/api/v1/work-orders/{id}")).await.json().await.unwrap();
    if w["status"] == "created" {
        let body = json!({"station_id": o.a, "version": w["version"]});
        let r = post(t, &o.admin, &format!("/api/v1/work-orders/{id}/dispatch"), body).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let users: Value = get(t, &o.admin, &format!("/api/v1/users?q={engineer}")).await.json().await.unwrap();
    let eng_id = users["items"].as_array().unwrap().iter().find(|u| u["username"] == engineer).unwrap()["id"].clone();
    let v = version(o.admin.clone()).await;
    let r =
        post(t, &o.admin, &format!("/api/v1/work-orders/{id}/assign"), json!({"engineer_id": eng_id, "version": v}))
            .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let eng = login(t, engineer).await;
    for action in ["accept", "depart", "check_in"] {
        let v = version(eng.clone()).await;
        let body = json!({"action": action, "version": v, "lat": at.0, "lng": at.1});
        let r = post(t, &eng, &format!("/api/v1/work-orders/{id}/transitions"), body).await;
        assert_eq!(r.status(), StatusCode::OK, "{action}: {}", r.text().await.unwrap());
    }
    eng
}

/// The engineer diagnoses `fault_code`, the customer signs, and the visit is completed with
/// `labour_minutes`.
pub async fn finish_visit(t: &TestApp, eng: &str, id: i64, fault_code: &str, labour_minutes: i64) {
    let step = |body: Value| async move {
        let v: Value = get(t, eng, &format!("/api/v1/work-orders/{id}")).await.json().await.unwrap();
        let mut body = body;
        body["version"] = v["version"].clone();
        let r = post(t, eng, &format!("/api/v1/work-orders/{id}/transitions"), body).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    };
    step(json!({"action": "diagnose", "fault_code": fault_code, "cause": "光模块老化"})).await;
    assert_eq!(upload(t, eng, id, "signature", "签名.png", PNG.to_vec()).await.status(), StatusCode::CREATED);
    step(json!({"action": "complete", "work_done": "更换光模块", "labour_minutes": labour_minutes, "customer_confirmed": true}))
        .await;
}

/// Record the open return visit of request `sr` as reached, solved and content (every score 5):
/// the visit closes the request.
pub async fn close_by_visit(t: &TestApp, token: &str, sr: i64) -> Value {
    let open: Value = get(t, token, "/api/v1/return-visits?queue=open").await.json().await.unwrap();
    let v = open["items"].as_array().unwrap().iter().find(|v| v["service_request_id"] == sr).cloned();
    let v = v.unwrap_or_else(|| panic!("no open return visit of request {sr}: {open}"));
    let body =
        json!({"outcome": "reached", "satisfaction": 5, "attitude": 5, "skill": 5, "timeliness": 5, "solved": true});
    let r = post(t, token, &format!("/api/v1/return-visits/{}/record", v["id"]), body).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["request_status"], "closed", "{out}");
    out
}
