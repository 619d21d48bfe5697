//! Return visits (回访, issue 13) through the API on both databases: due on the agents' calendar
//! when a request is resolved, closing it when the customer is content; a low score or "not
//! solved" opening a follow-up; three days without reaching the customer; the single-use survey
//! link; the results and the supervisor's sampling check.
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

/// A repair request of 张三's XG5K-0001, registered by `token`; answers its id.
async fn request(t: &TestApp, token: &str, customer: i64) -> i64 {
    let body = json!({"customer_id": customer, "serial_number": "XG5K-0001", "type": "repair", "channel": "phone", "description": "光口告警，业务中断"});
    let r = post(t, token, "/api/v1/service-requests", body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn step(t: &TestApp, token: &str, id: i64, action: &str) -> reqwest::Response {
    let r: Value = get(t, token, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
    let body = json!({"action": action, "version": r["version"], "note": "已处理"});
    post(t, token, &format!("/api/v1/service-requests/{id}/transitions"), body).await
}

async fn resolve(t: &TestApp, token: &str, id: i64) {
    let r = step(t, token, id, "resolve").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn status_of(t: &TestApp, token: &str, id: i64) -> String {
    let r: Value = get(t, token, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
    r["status"].as_str().unwrap().to_string()
}

async fn queue(t: &TestApp, token: &str, which: &str) -> Vec<Value> {
    let r = get(t, token, &format!("/api/v1/return-visits?queue={which}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

/// The open visit of request `sr`.
async fn visit_of(t: &TestApp, token: &str, sr: i64) -> Value {
    queue(t, token, "open")
        .await
        .into_iter()
        .find(|v| v["service_request_id"] == sr)
        .unwrap_or_else(|| panic!("no open visit of request {sr}"))
}

async fn record(t: &TestApp, token: &str, visit: &Value, body: Value) -> reqwest::Response {
    post(t, token, &format!("/api/v1/return-visits/{}/record", visit["id"]), body).await
}

fn reached(s: [i64; 4], solved: bool) -> Value {
    json!({"outcome": "reached", "satisfaction": s[0], "attitude": s[1], "skill": s[2], "timeliness": s[3], "solved": solved, "comment": "<script>alert(1)</script>工程师很专业"})
}

async fn a_visit_falls_due_on_the_calendar_and_closes_the_request(b: Backend) {
    // Friday 4 December 2026, 16:00: two working days (900 business minutes on cn-workday) are
    // Friday's 90, Monday's 450 and Tuesday until 16:00.
    let clock = Arc::new(FixedClock::new(at("2026-12-04T16:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    let agent = login(&t, "agent.li").await;

    let sr = request(&t, &agent, customer).await;
    assert!(queue(&t, &agent, "open").await.is_empty(), "nothing is due before the resolution");
    resolve(&t, &agent, sr).await;
    let v = visit_of(&t, &agent, sr).await;
    assert_eq!(v["due_at"], "2026-12-08T16:00:00+08:00", "{v}");
    assert_eq!(v["customer_name"], "张三");
    // The agent sees whom to call; the read in clear is on the audit trail.
    let d: Value = get(&t, &agent, &format!("/api/v1/return-visits/{}", v["id"])).await.json().await.unwrap();
    assert_eq!((d["customer_phone"].as_str(), d["actions"][0].as_str()), (Some("13812345678"), Some("record")));
    assert_eq!((v["status"].as_str(), v["attempts"].as_i64()), (Some("open"), Some(0)));

    // Not closed while the visit is open; the visit itself closes it.
    let p = problem(step(&t, &agent, sr, "close").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "return_visit_open");

    // Bad input writes nothing.
    let tries = count(&t, "return_visit_attempts").await;
    for body in [
        reached([6, 5, 5, 5], true),
        reached([0, 5, 5, 5], true),
        json!({"outcome": "reached", "satisfaction": 5, "attitude": 5, "skill": 5, "timeliness": 5}),
        json!({"outcome": "maybe"}),
    ] {
        problem(record(&t, &agent, &v, body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let p = problem(
        record(&t, &agent, &v, reached([5, 5, 5, 9], true)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("timeliness"), Some("out_of_range"))
    );
    assert_eq!(count(&t, "return_visit_attempts").await, tries);
    assert_eq!(visit_of(&t, &agent, sr).await["version"], v["version"]);
    // An engineer may read but not record; another station's manager does not see it.
    let eng = login(&t, "eng.a").await;
    assert_eq!(record(&t, &eng, &v, reached([5, 5, 5, 5], true)).await.status(), StatusCode::FORBIDDEN);
    add_user(&t.app, "mgr.b", &["station_manager"], &["GZ-B"]).await;
    let mgr_b = login(&t, "mgr.b").await;
    assert!(queue(&t, &mgr_b, "open").await.is_empty());
    assert_eq!(get(&t, &mgr_b, &format!("/api/v1/return-visits/{}", v["id"])).await.status(), StatusCode::NOT_FOUND);

    // Monday: reached, solved, every score above 3: the visit is archived and the request closed.
    clock.set_ms(at("2026-12-07T10:00:00+08:00"));
    let agent = login(&t, "agent.li").await;
    let r = record(&t, &agent, &v, reached([5, 4, 4, 5], true)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let out: Value = r.json().await.unwrap();
    assert_eq!((out["status"].as_str(), out["request_status"].as_str()), (Some("done"), Some("closed")));
    assert!(out["follow_up_id"].is_null());
    assert_eq!(status_of(&t, &agent, sr).await, "closed");
    assert!(queue(&t, &agent, "open").await.is_empty());
    let archived = queue(&t, &agent, "archived").await;
    assert_eq!(archived.len(), 1);
    assert_eq!((archived[0]["on_time"].as_bool(), archived[0]["answered_via"].as_str()), (Some(true), Some("agent")));
    assert_eq!(archived[0]["comment"], "<script>alert(1)</script>工程师很专业", "stored as text");
    problem(record(&t, &agent, &v, reached([5, 5, 5, 5], true)).await, StatusCode::CONFLICT, "illegal_transition")
        .await;

    // A request solved during the call is visited back too.
    let body = json!({"customer_id": customer, "type": "consultation", "channel": "phone", "description": "咨询光模块型号", "resolve_now": "已告知兼容型号"});
    let r = post(&t, &agent, "/api/v1/service-requests", body).await;
    let fcr = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v2 = visit_of(&t, &agent, fcr).await;
    assert_eq!(v2["due_at"], "2026-12-09T10:00:00+08:00", "Monday 10:00 + 360 + 450 + 90 business minutes");
}

async fn a_low_score_or_not_solved_opens_a_follow_up(b: Backend) {
    let t = shouhou_testkit::spawn_app(b).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    add_user(&t.app, "boss", &["manager"], &[]).await;
    let agent = login(&t, "agent.li").await;
    let boss = login(&t, "boss").await;

    // A score of 3: a follow-up; the request stays resolved and cannot be closed by hand.
    let sr = request(&t, &agent, customer).await;
    resolve(&t, &agent, sr).await;
    let v = visit_of(&t, &agent, sr).await;
    let out: Value = record(&t, &agent, &v, reached([5, 3, 5, 5], true)).await.json().await.unwrap();
    let fu = out["follow_up_id"].as_i64().expect("a follow-up");
    assert_eq!(out["request_status"], "resolved");
    let open: Value = get(&t, &agent, "/api/v1/follow-ups").await.json().await.unwrap();
    assert_eq!(open["items"][0]["reason"], "low_score");
    let p = problem(step(&t, &agent, sr, "close").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "return_visit_open");
    // Only a manager closes it without the customer's content, and only with a reason.
    let url = format!("/api/v1/follow-ups/{fu}/close");
    assert_eq!(
        post(&t, &agent, &url, json!({"outcome": "closed", "note": "客户不接电话"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let p = problem(
        post(&t, &boss, &url, json!({"outcome": "closed", "note": " "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "reason_required");
    assert_eq!(status_of(&t, &agent, sr).await, "resolved");
    let r = post(&t, &boss, &url, json!({"outcome": "closed", "note": "已由站长上门致歉，客户表示理解"})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "closed");
    assert_eq!(status_of(&t, &agent, sr).await, "closed");
    problem(
        post(&t, &boss, &url, json!({"outcome": "closed", "note": "再次"})).await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;

    // "Not solved": a follow-up and the request reopened; its next resolution brings a new visit,
    // and a content answer then ends the follow-up and closes the request.
    let sr = request(&t, &agent, customer).await;
    resolve(&t, &agent, sr).await;
    let v = visit_of(&t, &agent, sr).await;
    let out: Value = record(&t, &agent, &v, reached([4, 5, 5, 4], false)).await.json().await.unwrap();
    assert_eq!(out["request_status"], "reopened");
    let fu = out["follow_up_id"].as_i64().unwrap();
    assert!(queue(&t, &agent, "open").await.iter().all(|x| x["service_request_id"] != sr));
    resolve(&t, &agent, sr).await;
    let v2 = visit_of(&t, &agent, sr).await;
    assert_ne!(v2["id"], v["id"]);
    let out: Value = record(&t, &agent, &v2, reached([5, 5, 5, 5], true)).await.json().await.unwrap();
    assert_eq!(out["request_status"], "closed");
    let f: Value = get(&t, &agent, &format!("/api/v1/return-visits/{}", v["id"])).await.json().await.unwrap();
    assert_eq!(
        (f["follow_ups"][0]["id"].as_i64(), f["follow_ups"][0]["status"].as_str()),
        (Some(fu), Some("satisfied"))
    );

    // Reopened before its visit: the open visit is cancelled, not left behind.
    let sr = request(&t, &agent, customer).await;
    resolve(&t, &agent, sr).await;
    assert_eq!(step(&t, &agent, sr, "reopen").await.status(), StatusCode::OK);
    assert!(queue(&t, &agent, "open").await.iter().all(|x| x["service_request_id"] != sr));
}

async fn three_days_without_reaching_the_customer_end_the_visit(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2026-12-07T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let sr = request(&t, &o.admin, customer).await;
    resolve(&t, &o.admin, sr).await;
    let v = visit_of(&t, &o.admin, sr).await;
    let no = json!({"outcome": "unreachable", "comment": "无人接听"});
    for (day, expected) in [
        ("2026-12-07T10:00:00+08:00", "open"),
        ("2026-12-07T16:00:00+08:00", "open"),
        ("2026-12-08T10:00:00+08:00", "open"),
        ("2026-12-09T10:00:00+08:00", "unreachable"),
    ] {
        clock.set_ms(at(day));
        let admin = login(&t, "admin").await;
        let r = record(&t, &admin, &v, no.clone()).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        assert_eq!(r.json::<Value>().await.unwrap()["status"], expected, "{day}: two tries on one day count once");
    }
    let admin = login(&t, "admin").await;
    assert_eq!(status_of(&t, &admin, sr).await, "closed");
    let d: Value = get(&t, &admin, &format!("/api/v1/return-visits/{}", v["id"])).await.json().await.unwrap();
    assert_eq!((d["status"].as_str(), d["tries"].as_array().unwrap().len()), (Some("unreachable"), 4));
    assert!(d["customer_phone"].is_null(), "archived: nobody is to call any more");
}

async fn the_survey_link_works_once_expires_and_cannot_be_forged(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2026-12-07T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    let sr = request(&t, &o.admin, customer).await;
    resolve(&t, &o.admin, sr).await;
    let v = visit_of(&t, &o.admin, sr).await;
    let eng = login(&t, "eng.a").await;
    let link_url = format!("/api/v1/return-visits/{}/survey-link", v["id"]);
    assert_eq!(post(&t, &eng, &link_url, json!({})).await.status(), StatusCode::FORBIDDEN);
    let r = post(&t, &o.admin, &link_url, json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let url = r.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/survey/"), "{url}");

    // The customer opens it on a phone, without logging in: no personal data on the page.
    let c = client();
    let page = c.get(t.url(&url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"satisfaction\"") && html.contains("SR-"), "{html}");
    assert!(!html.contains("张三") && !html.contains("13812345678"));
    // An incomplete answer writes nothing and keeps the link usable.
    let form = |s: &'static str| {
        vec![
            ("satisfaction", s),
            ("attitude", "5"),
            ("skill", "4"),
            ("timeliness", "5"),
            ("solved", "true"),
            ("comment", "<b>很好</b>"),
        ]
    };
    let r = c.post(t.url(&url)).form(&form("9")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        visit_of(&t, &o.admin, sr).await["version"],
        v["version"].as_i64().unwrap() + 1,
        "only the link was set"
    );
    let r = c.post(t.url(&url)).form(&form("5")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // It lands where the agent's answer would: archived, the request closed.
    assert_eq!(status_of(&t, &o.admin, sr).await, "closed");
    let archived = queue(&t, &o.admin, "archived").await;
    assert_eq!(
        (archived[0]["answered_via"].as_str(), archived[0]["scores"]["skill"].as_i64()),
        (Some("survey"), Some(4))
    );
    // Used: 410 to a second look and to a second answer; forged: 404.
    assert_eq!(c.get(t.url(&url)).send().await.unwrap().status(), StatusCode::GONE);
    assert_eq!(c.post(t.url(&url)).form(&form("1")).send().await.unwrap().status(), StatusCode::GONE);
    let forged = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(c.get(t.url(&forged)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(c.post(t.url(&forged)).form(&form("5")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get(t.url("/survey/nothing")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // A link past its 7 days answers 410 and records nothing; a new link replaces the old one.
    let sr2 = request(&t, &o.admin, customer).await;
    resolve(&t, &o.admin, sr2).await;
    let v2 = visit_of(&t, &o.admin, sr2).await;
    let link2_url = format!("/api/v1/return-visits/{}/survey-link", v2["id"]);
    let old = post(&t, &o.admin, &link2_url, json!({})).await.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let new = post(&t, &o.admin, &link2_url, json!({})).await.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.get(t.url(&old)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "replaced");
    clock.advance_ms(8 * 86_400_000);
    assert_eq!(c.get(t.url(&new)).send().await.unwrap().status(), StatusCode::GONE);
    assert_eq!(c.post(t.url(&new)).form(&form("5")).send().await.unwrap().status(), StatusCode::GONE);
    let admin = login(&t, "admin").await;
    assert_eq!(visit_of(&t, &admin, sr2).await["status"], "open");
}

async fn results_by_engineer_and_month_and_the_sampling_check(b: Backend) {
    let clock = Arc::new(FixedClock::new(at("2026-12-07T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = nanshan_device(&t, &o).await;
    add_user(&t.app, "boss", &["manager"], &[]).await;
    // A repair visit by eng.a, then the request resolved: the visit credits eng.a.
    let sr = request(&t, &o.admin, customer).await;
    let r = post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": sr, "kind": "repair"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let wo = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let eng = bring_on_site(&t, &o, wo, (22.54, 113.95)).await;
    finish_visit(&t, &eng, wo, "F-OPT-01", 60).await;
    resolve(&t, &o.admin, sr).await;
    let v = visit_of(&t, &o.admin, sr).await;
    assert_eq!(v["engineer_name"].as_str().map(|n| !n.is_empty()), Some(true), "{v}");
    record(&t, &o.admin, &v, reached([5, 5, 5, 5], true)).await;
    let sr2 = request(&t, &o.admin, customer).await;
    resolve(&t, &o.admin, sr2).await;
    let v2 = visit_of(&t, &o.admin, sr2).await;
    clock.advance_ms(5 * 86_400_000);
    let admin = login(&t, "admin").await;
    record(&t, &admin, &v2, reached([4, 5, 2, 4], true)).await;

    let r: Value = get(&t, &admin, "/api/v1/return-visits/results?group=engineer").await.json().await.unwrap();
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{r}");
    let key = v["engineer_id"].to_string();
    let e = items.iter().find(|i| i["key"].as_str() == Some(key.as_str())).unwrap();
    assert_eq!(
        (e["visits"].as_i64(), e["praise_permille"].as_i64(), e["avg_satisfaction"].as_i64()),
        (Some(1), Some(1000), Some(500))
    );
    let r: Value = get(&t, &admin, "/api/v1/return-visits/results?group=month").await.json().await.unwrap();
    let m = &r["items"][0];
    assert_eq!(
        (m["key"].as_str(), m["visits"].as_i64(), m["on_time_permille"].as_i64()),
        (Some("2026-12"), Some(2), Some(500)),
        "{r}"
    );
    assert_eq!((m["satisfied_permille"].as_i64(), m["avg_skill"].as_i64()), (Some(1000), Some(350)));
    problem(
        get(&t, &admin, "/api/v1/return-visits/results?group=colour").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // 质检抽查: a manager draws a sample and marks each checked.
    let boss = login(&t, "boss").await;
    assert_eq!(
        post(&t, &admin.clone(), "/api/v1/return-visits/samples", json!({"size": 0})).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    let agent = login(&t, "agent.li").await;
    assert_eq!(
        post(&t, &agent, "/api/v1/return-visits/samples", json!({"size": 2})).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = post(&t, &boss, "/api/v1/return-visits/samples", json!({"size": 5})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ids = r.json::<Value>().await.unwrap()["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2, "only the archived ones, each once");
    assert_eq!(queue(&t, &boss, "sampled").await.len(), 2);
    let r = post(&t, &boss, "/api/v1/return-visits/samples", json!({"size": 5})).await;
    assert!(r.json::<Value>().await.unwrap()["ids"].as_array().unwrap().is_empty());
    let check = |id: &Value| format!("/api/v1/return-visits/{id}/check");
    problem(
        post(&t, &boss, &check(&ids[0]), json!({"verified": false})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let r = post(&t, &boss, &check(&ids[0]), json!({"verified": false, "note": "录音与记录不符：客户未评 5 分"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["check_state"], "failed");
    let r = post(&t, &boss, &check(&ids[1]), json!({"verified": true})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["check_state"], "verified");
    problem(
        post(&t, &boss, &check(&ids[1]), json!({"verified": true})).await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    assert!(queue(&t, &boss, "sampled").await.is_empty());
}

crate::on_both_backends!(
    a_visit_falls_due_on_the_calendar_and_closes_the_request,
    a_low_score_or_not_solved_opens_a_follow_up,
    three_days_without_reaching_the_customer_end_the_visit,
    the_survey_link_works_once_expires_and_cannot_be_forged,
    results_by_engineer_and_month_and_the_sampling_check,
);
