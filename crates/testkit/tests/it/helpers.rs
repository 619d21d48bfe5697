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
