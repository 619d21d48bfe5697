//! Complaints (投诉) and suggestions (建议), issue 13, through the API on both databases: the
//! clocks of each severity on the calendars, the lifecycle that closes only with the customer's
//! acknowledgement or a manager's reason (then a return visit), escalation one level at a time, a
//! major complaint reported to management once and escalated again once across two instances,
//! the repeat flag, the report; suggestions routed, evaluated, answered and exported.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::FixedClock;
use shouhou_store::Backend;
use shouhou_testkit::TestApp;
use std::sync::Arc;

fn at(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

async fn complain(t: &TestApp, token: &str, body: Value) -> Value {
    let r = post(t, token, "/api/v1/complaints", body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn step(t: &TestApp, token: &str, k: &Value, body: Value) -> reqwest::Response {
    post(t, token, &format!("/api/v1/complaints/{}/steps", k["id"]), body).await
}

async fn ok(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn inbox_text(t: &TestApp, user: &str) -> String {
    let token = login(t, user).await;
    get(t, &token, "/api/v1/inbox").await.text().await.unwrap()
}

async fn a_complaint_runs_its_clocks_and_closes_only_acknowledged_or_with_a_reason(b: Backend) {
    // Friday 4 December 2026, 16:00.
    let clock = Arc::new(FixedClock::new(at("2026-12-04T16:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    add_user(&t.app, "boss", &["manager"], &[]).await;
    let agent = login(&t, "agent.li").await;
    let boss = login(&t, "boss").await;
    let body = json!({"customer_id": customer, "serial_number": "XG5K-0001", "type": "repair", "channel": "phone", "description": "光口告警"});
    let sr = post(&t, &agent, "/api/v1/service-requests", body).await.json::<Value>().await.unwrap()["id"].clone();

    // Bad input: a clear message, nothing written.
    let before = count(&t, "complaints").await;
    let p = problem(
        post(
            &t,
            &agent,
            "/api/v1/complaints",
            json!({"customer_id": 999999, "severity": "huge", "category": "mood", "description": " "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["severity", "category", "description", "customer_id"], "{p}");
    let eng = login(&t, "eng.a").await;
    let k = json!({"customer_id": customer, "severity": "ordinary", "category": "attitude", "description": "工程师上门迟到且态度生硬<script>alert(1)</script>", "service_request_id": sr});
    assert_eq!(post(&t, &eng, "/api/v1/complaints", k.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&t, "complaints").await, before);

    // Ordinary: first contact within 10 minutes, a solution within 3 working days.
    let k = complain(&t, &agent, k).await;
    assert_eq!(k["number"], "CP-20261204-0001");
    assert_eq!(
        (k["repeat"].as_bool(), k["status"].as_str(), k["level"].as_i64()),
        (Some(false), Some("open"), Some(0))
    );
    assert_eq!(k["contact_due_at"], "2026-12-04T16:10:00+08:00");
    assert_eq!(k["solution_due_at"], "2026-12-09T16:00:00+08:00", "Friday 90 + Monday 450 + Tuesday 450 + 360 minutes");
    assert_eq!(
        (k["request_number"].as_str().map(|n| n.starts_with("SR-")), k["product_line"].as_str()),
        (Some(true), Some("光传输"))
    );
    assert_eq!(k["description"], "工程师上门迟到且态度生硬<script>alert(1)</script>", "stored as text");
    // Serious: a solution within 24 hours, round the clock.
    let s = complain(
        &t,
        &agent,
        json!({"customer_id": customer, "severity": "serious", "category": "charges", "description": "多收上门费"}),
    )
    .await;
    assert_eq!(s["solution_due_at"], "2026-12-05T16:00:00+08:00");

    // The lifecycle: contact first, each word to the customer on the timeline.
    problem(step(&t, &agent, &k, json!({"action": "resolve"})).await, StatusCode::CONFLICT, "illegal_transition").await;
    let k =
        ok(step(&t, &agent, &k, json!({"action": "contact", "note": "已致电客户致歉，说明将调查处理"})).await).await;
    assert_eq!(
        (k["status"].as_str(), k["contacted_at"].as_str()),
        (Some("contacted"), Some("2026-12-04T16:00:00+08:00"))
    );
    problem(
        step(&t, &agent, &k, json!({"action": "inform"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let k = ok(step(&t, &agent, &k, json!({"action": "investigate"})).await).await;
    clock.advance_ms(3_600_000);
    let k =
        ok(step(&t, &agent, &k, json!({"action": "inform", "note": "告知客户：已约谈工程师，明日答复"})).await).await;
    let told: Vec<&str> = k["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["told_customer"] == true)
        .map(|e| e["note"].as_str().unwrap())
        .collect();
    assert_eq!(told, ["已致电客户致歉，说明将调查处理", "告知客户：已约谈工程师，明日答复"]);
    let p = problem(
        step(&t, &agent, &k, json!({"action": "resolve", "root_cause": "weather"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["root_cause", "measure", "measure_owner_id", "measure_due", "note"], "{p}");
    let me: Value = get(&t, &o.admin, "/api/v1/me").await.json().await.unwrap();
    let resolve = json!({"action": "resolve", "root_cause": "attitude", "measure": "工程师服务规范再培训，站长每周抽查", "measure_owner_id": me["id"], "measure_due": "2026-12-31", "note": "向客户道歉并减免上门费"});
    let k = ok(step(&t, &agent, &k, resolve).await).await;
    assert_eq!(
        (k["status"].as_str(), k["root_cause"].as_str(), k["measure_due"].as_str()),
        (Some("resolved"), Some("attitude"), Some("2026-12-31"))
    );
    // Closed only with the customer's acknowledgement, or by a manager with a reason.
    let p = problem(
        step(&t, &agent, &k, json!({"action": "close"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "customer_ack");
    let k =
        ok(step(&t, &agent, &k, json!({"action": "close", "customer_ack": true, "note": "客户表示接受"})).await).await;
    assert_eq!((k["status"].as_str(), k["customer_ack"].as_bool()), (Some("closed"), Some(true)));
    // Then a return visit, on the agents' queue under the complaint's number.
    assert_eq!(k["return_visit_ids"].as_array().unwrap().len(), 1);
    let visits: Value = get(&t, &agent, "/api/v1/return-visits?queue=open").await.json().await.unwrap();
    assert!(visits["items"].as_array().unwrap().iter().any(|v| v["number"] == "CP-20261204-0001"), "{visits}");
    problem(
        step(&t, &agent, &k, json!({"action": "inform", "note": "再次"})).await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;

    // A manager closes one with a reason; without one, nothing.
    problem(
        step(&t, &agent, &s, json!({"action": "close", "note": "客户撤诉"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    problem(
        step(&t, &boss, &s, json!({"action": "close"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let s = ok(step(&t, &boss, &s, json!({"action": "close", "note": "客户来电撤回投诉，已核实"})).await).await;
    assert_eq!((s["status"].as_str(), s["close_reason"].as_str()), (Some("closed"), Some("客户来电撤回投诉，已核实")));

    // Escalation, one level at a time, each step recorded and its people told.
    let e = complain(&t, &agent, json!({"customer_id": customer, "severity": "ordinary", "category": "timeliness", "description": "三天无人上门"})).await;
    problem(
        step(&t, &agent, &e, json!({"action": "escalate"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let e = ok(step(&t, &agent, &e, json!({"action": "escalate", "note": "客户情绪激动，要求站长处理"})).await).await;
    assert_eq!(e["level"], 1);
    assert!(inbox_text(&t, "mgr.a").await.contains("投诉升级"), "station A's manager is told");
    let e = ok(step(&t, &agent, &e, json!({"action": "escalate", "note": "站长未能解决"})).await).await;
    assert!(inbox_text(&t, "boss").await.contains("投诉升级"));
    let e = ok(step(&t, &agent, &e, json!({"action": "escalate", "note": "上报总经理"})).await).await;
    assert_eq!(e["level"], 3);
    let p = problem(
        step(&t, &agent, &e, json!({"action": "escalate", "note": "再升"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "top_level");
    let kinds: Vec<&str> = e["timeline"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "escalated").count(), 3);

    // Another station's manager does not see these complaints.
    add_user(&t.app, "mgr.b", &["station_manager"], &["GZ-B"]).await;
    let mgr_b = login(&t, "mgr.b").await;
    assert_eq!(get(&t, &mgr_b, &format!("/api/v1/complaints/{}", k["id"])).await.status(), StatusCode::NOT_FOUND);
    let l: Value = get(&t, &mgr_b, "/api/v1/complaints?all=true").await.json().await.unwrap();
    assert!(l["items"].as_array().unwrap().is_empty());

    // The report: by cause and by month, with the on-time rate and the repeats.
    let r: Value = get(&t, &boss, "/api/v1/complaints/report?group=cause").await.json().await.unwrap();
    let att = r["items"].as_array().unwrap().iter().find(|i| i["key"] == "attitude").unwrap();
    assert_eq!(
        (att["complaints"].as_i64(), att["on_time_permille"].as_i64(), att["contact_on_time_permille"].as_i64()),
        (Some(1), Some(1000), Some(1000)),
        "{r}"
    );
    let r: Value = get(&t, &boss, "/api/v1/complaints/report?group=month").await.json().await.unwrap();
    assert_eq!(
        (r["items"][0]["key"].as_str(), r["items"][0]["complaints"].as_i64(), r["items"][0]["closed"].as_i64()),
        (Some("2026-12"), Some(3), Some(2))
    );
}

async fn a_repeat_within_thirty_days_is_flagged(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2026-11-01T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let k = |category: &str| json!({"customer_id": customer, "severity": "ordinary", "category": category, "description": "再次投诉"});
    let first = complain(&t, &o.admin, k("attitude")).await;
    assert_eq!(first["repeat"], false);
    clock.advance_ms(10 * 86_400_000);
    let admin = login(&t, "admin").await;
    let second = complain(&t, &admin, k("attitude")).await;
    assert_eq!((second["repeat"].as_bool(), second["repeat_of"].as_i64()), (Some(true), first["id"].as_i64()));
    let got: Value = get(&t, &admin, &format!("/api/v1/complaints/{}", second["id"])).await.json().await.unwrap();
    assert_eq!(got["repeat_of_number"], first["number"]);
    assert_eq!(complain(&t, &admin, k("quality")).await["repeat"], false, "another category");
    clock.advance_ms(31 * 86_400_000);
    let admin = login(&t, "admin").await;
    assert_eq!(complain(&t, &admin, k("attitude")).await["repeat"], false, "31 days after the last one");
    let r: Value = get(&t, &admin, "/api/v1/complaints/report?group=category&from=2026-11-01&to=2026-12-31")
        .await
        .json()
        .await
        .unwrap();
    let att = r["items"].as_array().unwrap().iter().find(|i| i["key"] == "attitude").unwrap();
    assert_eq!((att["complaints"].as_i64(), att["repeats"].as_i64()), (Some(3), Some(1)));
}

async fn a_major_complaint_reaches_management_once_and_again_if_not_acknowledged(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2026-12-06T22:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    add_user(&t.app, "boss", &["manager"], &[]).await;
    add_user(&t.app, "boss2", &["manager"], &[]).await;
    let major = json!({"customer_id": customer, "severity": "major", "category": "quality", "description": "设备起火，客户要求赔偿并联系媒体"});
    let k = complain(&t, &o.admin, major.clone()).await;
    assert_eq!((k["level"].as_i64(), k["ack_due_at"].as_str()), (Some(2), Some("2026-12-06T22:30:00+08:00")));
    assert_eq!(k["solution_due_at"], "2026-12-07T02:00:00+08:00", "4 hours, round the clock");
    let number = k["number"].as_str().unwrap().to_string();
    for m in ["boss", "boss2"] {
        assert_eq!(inbox_text(&t, m).await.matches(&number).count(), 1, "{m} is told at once, naming the number");
    }
    assert!(!inbox_text(&t, "mgr.a").await.contains(&number), "a station manager is not management");

    // Not acknowledged within 30 minutes: escalated again, once across two instances.
    clock.advance_ms(31 * 60_000);
    let db2 = shouhou_store::Db::connect(&t.db.url, &shouhou_store::DbOptions::default()).await.unwrap();
    let second = shouhou_app::App::new(
        db2,
        t.app.clock.clone(),
        shouhou_app::AppConfig::default(),
        shouhou_store::crypto::test_keyring(),
    );
    let (x, y) = tokio::join!(
        shouhou_app::complaints::sweep_unacknowledged(&t.app),
        shouhou_app::complaints::sweep_unacknowledged(&second)
    );
    assert_eq!(x.unwrap() + y.unwrap(), 1, "escalated once across two instances");
    assert_eq!(shouhou_app::complaints::sweep_unacknowledged(&second).await.unwrap(), 0);
    for m in ["boss", "boss2"] {
        assert_eq!(inbox_text(&t, m).await.matches(&number).count(), 2, "{m}: the report and one escalation");
    }
    let admin = login(&t, "admin").await;
    let k: Value = get(&t, &admin, &format!("/api/v1/complaints/{}", k["id"])).await.json().await.unwrap();
    assert_eq!(k["level"], 3);

    // Acknowledged in time: no second report. Only management acknowledges.
    let k2 = complain(&t, &admin, major).await;
    let number2 = k2["number"].as_str().unwrap().to_string();
    assert_eq!(
        step(&t, &admin, &k2, json!({"action": "acknowledge"})).await.status(),
        StatusCode::OK,
        "an administrator supervises too"
    );
    let boss = login(&t, "boss").await;
    problem(step(&t, &boss, &k2, json!({"action": "acknowledge"})).await, StatusCode::CONFLICT, "illegal_transition")
        .await;
    let agent_k = complain(
        &t,
        &admin,
        json!({"customer_id": customer, "severity": "major", "category": "quality", "description": "再次起火"}),
    )
    .await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    let agent = login(&t, "agent.li").await;
    assert_eq!(step(&t, &agent, &agent_k, json!({"action": "acknowledge"})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(step(&t, &boss, &agent_k, json!({"action": "acknowledge"})).await.status(), StatusCode::OK);
    clock.advance_ms(60 * 60_000);
    assert_eq!(shouhou_app::complaints::sweep_unacknowledged(&t.app).await.unwrap(), 0);
    assert_eq!(inbox_text(&t, "boss2").await.matches(&number2).count(), 1);
    second.db.close().await;
}

async fn suggestions_are_routed_evaluated_answered_and_exported(b: Backend) {
    let t = shouhou_testkit::spawn_app(b).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let eng = login(&t, "eng.a").await;
    let body = json!({"description": "希望设备面板增加中文告警提示", "category": "product", "customer_id": customer});
    assert_eq!(post(&t, &eng, "/api/v1/suggestions", body.clone()).await.status(), StatusCode::FORBIDDEN);
    let before = count(&t, "suggestions").await;
    problem(
        post(&t, &o.admin, "/api/v1/suggestions", json!({"description": "", "category": "colour"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(count(&t, "suggestions").await, before);
    let r = post(&t, &o.admin, "/api/v1/suggestions", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s: Value = r.json().await.unwrap();
    assert!(s["number"].as_str().unwrap().starts_with("SG-"));
    assert_eq!(s["status"], "received");
    let url = format!("/api/v1/suggestions/{}/steps", s["id"]);
    problem(post(&t, &o.admin, &url, json!({"action": "adopt"})).await, StatusCode::CONFLICT, "illegal_transition")
        .await;
    problem(
        post(&t, &o.admin, &url, json!({"action": "route"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let s = ok(post(&t, &o.admin, &url, json!({"action": "route", "department": "product"})).await).await;
    assert_eq!((s["status"].as_str(), s["department"].as_str()), (Some("routed"), Some("product")));
    let p = problem(
        post(&t, &o.admin, &url, json!({"action": "decline"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "reason_required");
    let s = ok(post(&t, &o.admin, &url, json!({"action": "adopt", "note": "纳入 V3.2 固件"})).await).await;
    assert_eq!((s["status"].as_str(), s["evaluation_note"].as_str()), (Some("adopted"), Some("纳入 V3.2 固件")));
    let s = ok(post(&t, &o.admin, &url, json!({"action": "answer", "note": "感谢建议，新版固件将支持中文告警"})).await)
        .await;
    assert_eq!(
        (s["status"].as_str(), s["answer"].as_str()),
        (Some("adopted"), Some("感谢建议，新版固件将支持中文告警"))
    );
    let l: Value = get(&t, &eng, "/api/v1/suggestions").await.json().await.unwrap();
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    // The customer sees the status and the answer on the portal, by the number and their phone.
    let number = s["number"].as_str().unwrap().to_string();
    let (web, csrf, _) = crate::portal::visitor(&t, "/portal/track").await;
    let look = |phone: &'static str| {
        [("_csrf", csrf.clone()), ("number", number.to_lowercase()), ("phone", phone.to_string())]
    };
    let r = web.post(t.url("/portal/track")).form(&look("13812345678")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"suggestion-status\">已采纳") && page.contains("新版固件将支持中文告警"),
        "{page}"
    );
    assert!(!page.contains("纳入 V3.2 固件"), "the evaluation is internal");
    let wrong = web.post(t.url("/portal/track")).form(&look("13700000000")).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert!(!wrong.text().await.unwrap().contains("suggestion-result"));
    let x = get(&t, &o.admin, "/api/v1/suggestions/export.xlsx").await;
    assert_eq!(x.status(), StatusCode::OK);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"), "an .xlsx (zip) file");
}

async fn the_follow_up_settings_are_editable_and_checked(b: Backend) {
    let t = shouhou_testkit::spawn_app(b).await.unwrap();
    let o = org(&t).await;
    let r = get(&t, &o.admin, "/api/v1/follow-up-settings").await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut s: Value = r.json().await.unwrap();
    assert_eq!(
        (s["return_visits"]["due_minutes"].as_i64(), s["complaints"]["ordinary"]["solution_calendar"].as_str()),
        (Some(900), Some("cn-workday"))
    );
    // Nonsense is refused whole, naming each field.
    let mut bad = s.clone();
    bad["return_visits"]["survey_days"] = json!(0);
    bad["complaints"]["major"]["solution_calendar"] = json!("mars");
    let p = problem(
        put(&t, &o.admin, "/api/v1/follow-up-settings", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["return_visits.survey_days", "complaints.major.solution_calendar"]);
    // A major complaint's solution within 2 hours from now on.
    s["complaints"]["major"]["solution_minutes"] = json!(120);
    assert_eq!(put(&t, &o.admin, "/api/v1/follow-up-settings", s).await.status(), StatusCode::OK);
    let (customer, _) = nanshan_device(&t, &o).await;
    let k = complain(
        &t,
        &o.admin,
        json!({"customer_id": customer, "severity": "major", "category": "quality", "description": "冒烟"}),
    )
    .await;
    let (created, due) = (k["created_at"].as_str().unwrap(), k["solution_due_at"].as_str().unwrap());
    let ms = |x: &str| x.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    assert_eq!(ms(due) - ms(created), 2 * 3_600_000);
}

async fn the_pages_register_a_complaint_by_phone_and_show_text_escaped(b: Backend) {
    let t = shouhou_testkit::spawn_app(b).await.unwrap();
    let o = org(&t).await;
    nanshan_device(&t, &o).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    let (web, csrf) = crate::pages::web_login(&t, "agent.li").await;
    for path in
        ["/complaints", "/suggestions", "/return-visits", "/return-visits?tab=results", "/return-visits?tab=follow-ups"]
    {
        assert_eq!(web.get(t.url(path)).send().await.unwrap().status(), StatusCode::OK, "{path}");
    }
    let form = |phone: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("phone", phone.into()),
            ("severity", "serious".into()),
            ("category", "attitude".into()),
            ("description", "<script>alert(1)</script>客服挂断电话".into()),
        ]
    };
    let before = count(&t, "complaints").await;
    let r = web.post(t.url("/complaints")).form(&form("13900000000")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no customer with that phone");
    assert_eq!(count(&t, "complaints").await, before);
    let r = web.post(t.url("/complaints")).form(&form("13812345678")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let detail = r.headers()["location"].to_str().unwrap().to_string();
    let page = web.get(t.url(&detail)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;客服挂断电话"), "shown escaped");
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("CP-"));
}

crate::on_both_backends!(
    a_complaint_runs_its_clocks_and_closes_only_acknowledged_or_with_a_reason,
    a_repeat_within_thirty_days_is_flagged,
    a_major_complaint_reaches_management_once_and_again_if_not_acknowledged,
    suggestions_are_routed_evaluated_answered_and_exported,
    the_follow_up_settings_are_editable_and_checked,
    the_pages_register_a_complaint_by_phone_and_show_text_escaped,
);
