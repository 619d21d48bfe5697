//! SLA warnings and breaches fired once (also by two instances at once), the inbox and its
//! delivery on the recipient's calendar, and recomputation after calendar and policy edits.
//!
//! All times are Beijing time on cn-workday (Mon–Fri 08:30–12:00, 13:30–17:30) in the week of
//! Mon 13 Oct 2025, which has no holiday. A normal repair registered Mon 09:00 has a response
//! target of 480 business minutes (80 % at Mon 16:54, due Tue 09:30) and a resolution target of
//! 1440 (80 % at Wed 14:42, due Thu 10:30).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::{Actor, App, AppConfig, AppError, Ctx, FixedClock, PageRequest};
use shouhou_app::{
    alerts::{self, SweepReport},
    inbox::{self},
    jobs::{self},
    sla::{self},
};
use shouhou_domain::calendar::Interval;
use shouhou_store::{Backend, Db, DbOptions, both};
use shouhou_testkit::{TestApp, spawn_app_with_clock};
use std::sync::Arc;
use std::time::Duration;

fn at(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

struct Desk {
    t: TestApp,
    clock: Arc<FixedClock>,
    o: Org,
    customer: i64,
}

impl Desk {
    fn set(&self, s: &str) {
        self.clock.set_ms(at(s));
    }
    fn app(&self) -> &App {
        &self.t.app
    }
}

/// The organisation of `helpers::org` at `start`, with a customer of station A (深圳南山).
async fn desk(b: Backend, start: &str) -> Desk {
    let clock = Arc::new(FixedClock::new(at(start)));
    let t = spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let c = post(
        &t,
        &o.admin,
        "/api/v1/customers",
        json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "深圳市南山区科技园南区 18 栋", "station_code": "SZ-A"}),
    )
    .await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let customer = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    Desk { t, clock, o, customer }
}

/// Register a request through the API now; answers (id, number).
async fn register(d: &Desk, request_type: &str, urgency: &str) -> (i64, String) {
    let body = json!({"customer_id": d.customer, "type": request_type, "channel": "phone", "urgency": urgency, "description": "设备告警灯常亮，业务中断"});
    let r = post(&d.t, &d.o.admin, "/api/v1/service-requests", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (v["id"].as_i64().unwrap(), v["number"].as_str().unwrap().to_string())
}

async fn user_id(app: &App, username: &str) -> i64 {
    let mut rd = app.db.read().await.unwrap();
    shouhou_store::users::user_by_username(&mut rd.conn(), username).await.unwrap().unwrap().id
}

async fn ctx_of(app: &App, username: &str) -> Ctx {
    let mut rd = app.db.read().await.unwrap();
    let u = shouhou_store::users::user_by_username(&mut rd.conn(), username).await.unwrap().unwrap();
    Ctx { actor: Some(Actor::from_user(&u)), source: "test".into(), request_id: String::new() }
}

/// There is no assignment use case yet: set the assignee as dispatching will.
async fn assign(app: &App, request: i64, username: &str) {
    let user = user_id(app, username).await;
    let mut tx = app.db.begin().await.unwrap();
    both!(&mut tx.conn(), c => sqlx::query("UPDATE service_requests SET assignee_id = $1 WHERE id = $2")
        .bind(user).bind(request).execute(c).await.map(|r| r.rows_affected()))
    .unwrap();
    tx.commit().await.unwrap();
}

async fn exec(app: &App, sql: &str) {
    let mut tx = app.db.begin().await.unwrap();
    both!(&mut tx.conn(), c => sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(c).await.map(|r| r.rows_affected())).unwrap();
    tx.commit().await.unwrap();
}

async fn scalar(app: &App, sql: &str) -> i64 {
    let mut rd = app.db.read().await.unwrap();
    both!(&mut rd.conn(), c => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(c).await)
        .unwrap()
}

/// (clock, level) of the alerts fired for a request, sorted.
async fn fired(app: &App, request: i64) -> Vec<(String, String)> {
    let mut rd = app.db.read().await.unwrap();
    let mut v: Vec<(String, String)> = shouhou_store::alerts::alerts_of(&mut rd.conn(), request)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.clock, a.level))
        .collect();
    v.sort();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

/// The SLA figures cached on a request.
#[derive(Debug, PartialEq)]
struct Cached {
    response_due: Option<i64>,
    response_warn: Option<i64>,
    resolution_due: Option<i64>,
    resolution_warn: Option<i64>,
    response_state: String,
}

async fn cached(app: &App, id: i64) -> Cached {
    let mut rd = app.db.read().await.unwrap();
    let mut c = rd.conn();
    let r = shouhou_store::requests::get_request(&mut c, id).await.unwrap().unwrap();
    let (response_warn, resolution_warn) = shouhou_store::alerts::warn_instants(&mut c, id).await.unwrap();
    Cached {
        response_due: r.sla.response_due_at.map(|t| t.as_millisecond()),
        response_warn,
        resolution_due: r.sla.resolution_due_at.map(|t| t.as_millisecond()),
        resolution_warn,
        response_state: r.sla.response_state.to_string(),
    }
}

async fn sweep_times(app: &App, instance: &str, times: usize) -> SweepReport {
    let mut total = SweepReport::default();
    for _ in 0..times {
        let r = alerts::sweep(app, instance).await.unwrap();
        assert_eq!(r.errors, 0);
        total.examined += r.examined;
        total.warnings += r.warnings;
        total.breaches += r.breaches;
        total.notifications += r.notifications;
    }
    total
}

/// (kind, title) of a user's inbox, newest first.
async fn inbox_of(app: &App, username: &str) -> Vec<(String, String)> {
    let ctx = ctx_of(app, username).await;
    inbox::inbox(app, &ctx, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| (n.kind, n.title))
        .collect()
}

async fn unread(app: &App, username: &str) -> i64 {
    inbox::unread_count(app, &ctx_of(app, username).await).await.unwrap()
}

async fn audited(app: &App, action: &str) -> i64 {
    scalar(app, &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await
}

async fn version_of(app: &App, id: i64) -> i64 {
    let mut rd = app.db.read().await.unwrap();
    shouhou_store::requests::get_request(&mut rd.conn(), id).await.unwrap().unwrap().version
}

async fn step(d: &Desk, id: i64, action: &str) {
    let ctx = ctx_of(d.app(), "admin").await;
    let v = version_of(d.app(), id).await;
    shouhou_app::requests::transition(d.app(), &ctx, id, v, action, "客户需补充现场照片").await.unwrap();
}

async fn a_warning_fires_once_at_80_percent_and_a_breach_once_at_100_percent_to_the_minute(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let (id, number) = register(&d, "repair", "normal").await;
    assign(app, id, "eng.a").await;
    let c = cached(app, id).await;
    assert_eq!(c.response_warn, Some(at("2025-10-13T16:54:00+08:00")));
    assert_eq!(c.response_due, Some(at("2025-10-14T09:30:00+08:00")));
    assert_eq!(c.resolution_warn, Some(at("2025-10-15T14:42:00+08:00")));
    assert_eq!(c.resolution_due, Some(at("2025-10-16T10:30:00+08:00")));
    assert_eq!(c.response_state, "running");

    d.set("2025-10-13T16:53:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.warnings, 0);
    assert_eq!(fired(app, id).await, vec![]);

    d.set("2025-10-13T16:54:00+08:00");
    let r = sweep_times(app, "node-1", 3).await;
    assert_eq!((r.warnings, r.breaches, r.notifications), (1, 0, 1));
    assert_eq!(fired(app, id).await, pairs(&[("response", "warning")]));
    let warning = format!("服务请求 {number} 首次响应即将超时（已用 80%）");
    assert_eq!(inbox_of(app, "eng.a").await, vec![("sla.warning".to_string(), warning.clone())]);
    assert_eq!(inbox_of(app, "admin").await, vec![], "the creator hears nothing when someone is assigned");
    assert_eq!(inbox_of(app, "mgr.a").await, vec![], "a warning is not escalated");
    assert_eq!(cached(app, id).await.response_state, "at_risk");
    let n = inbox::inbox(app, &ctx_of(app, "eng.a").await, PageRequest::default()).await.unwrap().items.remove(0);
    assert_eq!(n.link.as_deref(), Some(format!("/requests/{id}").as_str()));
    assert!(n.body.contains("2025-10-14 09:30"), "{}", n.body);

    d.set("2025-10-14T09:29:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.breaches, 0);
    d.set("2025-10-14T09:30:00+08:00");
    let r = sweep_times(app, "node-1", 3).await;
    assert_eq!((r.warnings, r.breaches, r.notifications), (0, 1, 2));
    assert_eq!(fired(app, id).await, pairs(&[("response", "warning"), ("response", "breach")]));
    assert_eq!(
        inbox_of(app, "eng.a").await,
        vec![
            ("sla.breach".to_string(), format!("服务请求 {number} 首次响应已超时")),
            ("sla.warning".to_string(), warning)
        ]
    );
    assert_eq!(
        inbox_of(app, "mgr.a").await,
        vec![("sla.escalation".to_string(), format!("升级：服务请求 {number} 首次响应已超时"))]
    );
    assert_eq!(cached(app, id).await.response_state, "breached");

    // The resolution clock, to the minute as well.
    d.set("2025-10-15T14:41:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.warnings, 0);
    d.set("2025-10-15T14:42:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.warnings, 1);
    d.set("2025-10-16T10:29:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.breaches, 0);
    d.set("2025-10-16T10:30:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.breaches, 1);
    d.set("2025-10-17T12:00:00+08:00");
    let r = sweep_times(app, "node-1", 3).await;
    assert_eq!((r.examined, r.warnings, r.breaches), (0, 0, 0), "nothing is nominated once all has fired");
    assert_eq!(count(&d.t, "sla_alerts").await, 4);
    assert_eq!(count(&d.t, "notifications").await, 6, "eng.a 4, mgr.a 2");
    assert_eq!(inbox_of(app, "mgr.a").await[0].1, format!("升级：服务请求 {number} 解决已超时"));
    assert_eq!((audited(app, "sla.warning").await, audited(app, "sla.breach").await), (2, 2));

    // The inbox: only the owner reads their notifications.
    assert_eq!(unread(app, "eng.a").await, 4);
    let first = inbox::inbox(app, &ctx_of(app, "eng.a").await, PageRequest::default()).await.unwrap().items[0].id;
    let err = inbox::mark_read(app, &ctx_of(app, "mgr.a").await, first).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound), "{err:?}");
    assert_eq!(unread(app, "eng.a").await, 4);
    inbox::mark_read(app, &ctx_of(app, "eng.a").await, first).await.unwrap();
    inbox::mark_read(app, &ctx_of(app, "eng.a").await, first).await.unwrap();
    assert_eq!(unread(app, "eng.a").await, 3);
    assert_eq!(inbox::mark_all_read(app, &ctx_of(app, "eng.a").await).await.unwrap(), 3);
    assert_eq!((unread(app, "eng.a").await, unread(app, "mgr.a").await), (0, 2));
}

async fn two_instances_sweeping_at_once_fire_each_alert_once(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let mut ids = vec![];
    for _ in 0..6 {
        let (id, _) = register(&d, "repair", "normal").await;
        assign(d.app(), id, "eng.a").await;
        ids.push(id);
    }
    // A second instance: its own connection pool on the same database.
    let db2 = Db::connect(&d.t.db.url, &DbOptions::default()).await.unwrap();
    let second = App::new(db2, d.clock.clone(), AppConfig::default(), shouhou_store::crypto::test_keyring());
    let race = |first: App, second: App| async move {
        let mut tasks = vec![];
        for (i, app) in [first.clone(), second.clone(), first, second].into_iter().enumerate() {
            let name = format!("node-{}", i % 2 + 1);
            tasks.push(tokio::spawn(async move { sweep_times(&app, &name, 3).await }));
        }
        let mut total = SweepReport::default();
        for t in tasks {
            let r = t.await.unwrap();
            total.warnings += r.warnings;
            total.breaches += r.breaches;
            total.notifications += r.notifications;
        }
        total
    };

    d.set("2025-10-13T16:54:00+08:00");
    let r = race(d.t.app.clone(), second.clone()).await;
    assert_eq!((r.warnings, r.breaches, r.notifications), (6, 0, 6));
    assert_eq!(count(&d.t, "sla_alerts").await, 6);
    assert_eq!(count(&d.t, "notifications").await, 6);
    assert_eq!(count(&d.t, "outbox").await, 6);
    assert_eq!(audited(d.app(), "sla.warning").await, 6);
    for &id in &ids {
        assert_eq!(fired(d.app(), id).await, pairs(&[("response", "warning")]));
    }
    assert_eq!(unread(d.app(), "eng.a").await, 6);

    d.set("2025-10-14T09:30:00+08:00");
    let r = race(d.t.app.clone(), second.clone()).await;
    assert_eq!((r.warnings, r.breaches, r.notifications), (0, 6, 12));
    assert_eq!(count(&d.t, "sla_alerts").await, 12);
    assert_eq!(audited(d.app(), "sla.breach").await, 6);
    assert_eq!((unread(d.app(), "eng.a").await, unread(d.app(), "mgr.a").await), (12, 6));
    let per_recipient = scalar(
        d.app(),
        "SELECT COUNT(*) FROM (SELECT user_id, link, kind FROM notifications GROUP BY user_id, link, kind HAVING COUNT(*) > 1) x",
    )
    .await;
    assert_eq!(per_recipient, 0, "no recipient is told twice of one alert");
    let verdict = shouhou_app::audit::verify_audit(d.app(), &shouhou_app::Ctx::system()).await.unwrap();
    assert!(verdict.first_break.is_none(), "the audit chain stays whole under concurrent sweeps");
    assert!(verdict.checked > 12);
    second.db.close().await;
}

async fn a_request_waiting_for_the_customer_does_not_fire_while_paused(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let (id, _) = register(&d, "repair", "normal").await;
    d.set("2025-10-13T10:00:00+08:00");
    for action in ["accept", "start_work", "wait_for_customer"] {
        step(&d, id, action).await;
    }
    let c = cached(app, id).await;
    assert_eq!((c.response_due, c.response_warn, c.response_state.as_str()), (None, None, "paused"));

    // Running, the response clock would have been breached since Tue 09:30.
    d.set("2025-10-15T12:00:00+08:00");
    let r = sweep_times(app, "node-1", 2).await;
    assert_eq!((r.warnings, r.breaches), (0, 0));
    assert_eq!(count(&d.t, "sla_alerts").await, 0);
    assert_eq!(count(&d.t, "notifications").await, 0);

    // Resumed Wed 12:00 with 60 of 480 minutes used: 80 % after 324 more, due after 420 more.
    step(&d, id, "resume").await;
    let c = cached(app, id).await;
    assert_eq!(c.response_warn, Some(at("2025-10-16T09:54:00+08:00")));
    assert_eq!(c.response_due, Some(at("2025-10-16T11:30:00+08:00")));
    d.set("2025-10-16T09:53:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.warnings, 0);
    d.set("2025-10-16T09:54:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 2).await.warnings, 1);
    assert_eq!(fired(app, id).await, pairs(&[("response", "warning")]));
    assert_eq!(inbox_of(app, "admin").await.len(), 1, "unassigned: the creator is told");
}

async fn a_non_urgent_notification_outside_working_hours_waits_until_the_calendar_opens(b: Backend) {
    let d = desk(b, "2025-10-13T17:00:00+08:00").await;
    let app = d.app();
    // Station A works round the clock; the administrator (no station) on cn-workday.
    exec(app, "UPDATE stations SET calendar_code = '24x7' WHERE code = 'SZ-A'").await;
    // Urgent: 60 min on 24×7, 80 % at 17:48. Complaint: 120 min on 24×7, 80 % at 18:36.
    let (urgent, _) = register(&d, "repair", "urgent").await;
    let (complaint, complaint_no) = register(&d, "complaint", "normal").await;

    d.set("2025-10-13T17:48:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 1).await.warnings, 1);
    assert_eq!(inbox_of(app, "admin").await.len(), 1, "urgent: delivered after hours at once");
    d.set("2025-10-13T18:00:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 1).await.breaches, 1);
    assert_eq!((unread(app, "admin").await, unread(app, "mgr.a").await), (2, 1));

    d.set("2025-10-13T18:36:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 1).await.warnings, 1);
    assert_eq!(fired(app, complaint).await, pairs(&[("response", "warning")]));
    assert_eq!(unread(app, "admin").await, 2, "held: the administrator's calendar is closed");
    d.set("2025-10-13T19:00:00+08:00");
    assert_eq!(sweep_times(app, "node-1", 1).await.breaches, 1);
    assert_eq!(unread(app, "admin").await, 2);
    assert_eq!(unread(app, "mgr.a").await, 2, "station A's calendar is open: delivered");
    assert_eq!(count(&d.t, "notifications").await, 6);
    assert_eq!(inbox::dispatch_outbox(app, "node-1").await.unwrap(), 4);
    assert_eq!(inbox::dispatch_outbox(app, "node-1").await.unwrap(), 0);

    d.set("2025-10-14T08:29:00+08:00");
    assert_eq!(unread(app, "admin").await, 2);
    assert_eq!(inbox::dispatch_outbox(app, "node-1").await.unwrap(), 0);
    d.set("2025-10-14T08:30:00+08:00");
    assert_eq!(unread(app, "admin").await, 4);
    let titles: Vec<String> = inbox_of(app, "admin").await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        titles[..2],
        [
            format!("服务请求 {complaint_no} 首次响应已超时"),
            format!("服务请求 {complaint_no} 首次响应即将超时（已用 80%）")
        ]
    );
    assert_eq!(inbox::dispatch_outbox(app, "node-1").await.unwrap(), 2);
    assert_eq!(scalar(app, "SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL").await, 0);
    assert_eq!(fired(app, urgent).await, pairs(&[("response", "warning"), ("response", "breach")]));
}

async fn editing_the_calendar_moves_the_due_times_of_open_requests(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let admin = ctx_of(app, "admin").await;
    let (id, _) = register(&d, "repair", "normal").await;
    let (hotline, _) = register(&d, "complaint", "normal").await;
    let hotline_before = cached(app, hotline).await;
    assert_eq!(cached(app, id).await.response_due, Some(at("2025-10-14T09:30:00+08:00")));

    // Tuesday becomes a company holiday: everything counted on Tuesday moves a working day on.
    let e = sla::set_calendar_day(app, &admin, "cn-workday", "2025-10-14", Some(true), "公司年会").await.unwrap();
    assert_eq!(e.recomputed, Some(1), "only the request on cn-workday");
    let c = cached(app, id).await;
    assert_eq!(c.response_due, Some(at("2025-10-15T09:30:00+08:00")));
    assert_eq!(c.response_warn, Some(at("2025-10-13T16:54:00+08:00")));
    assert_eq!(c.resolution_due, Some(at("2025-10-17T10:30:00+08:00")));
    assert_eq!(cached(app, hotline).await, hotline_before, "the 24×7 request is not on that calendar");

    // New weekly hours, Mon–Fri 09:00–18:00 without a lunch break (540 minutes a day).
    let day = vec![Interval::hm(9, 0, 18, 0)];
    let week = [day.clone(), day.clone(), day.clone(), day.clone(), day, vec![], vec![]];
    let e = sla::update_calendar(app, &admin, "cn-workday", 1, "中国工作日（弹性）", &week, true).await.unwrap();
    assert_eq!((e.version, e.recomputed), (2, Some(1)));
    let c = cached(app, id).await;
    assert_eq!(c.response_due, Some(at("2025-10-13T17:00:00+08:00")));
    assert_eq!(c.response_warn, Some(at("2025-10-13T15:24:00+08:00")));
    assert_eq!(c.resolution_due, Some(at("2025-10-16T15:00:00+08:00")), "Mon 540 + Wed 540 + Thu 360, Tuesday off");
    let stale = sla::update_calendar(app, &admin, "cn-workday", 1, "x", &week, true).await.unwrap_err();
    assert!(matches!(stale, AppError::Stale), "{stale:?}");

    // Removing the holiday gives Tuesday back.
    sla::set_calendar_day(app, &admin, "cn-workday", "2025-10-14", None, "").await.unwrap();
    assert_eq!(cached(app, id).await.resolution_due, Some(at("2025-10-15T15:00:00+08:00")));
    assert_eq!((audited(app, "calendar.day").await, audited(app, "calendar.update").await), (2, 1));
    assert_eq!(scalar(app, "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL").await, 0, "each edit ran its job");
    assert_eq!(scalar(app, "SELECT COUNT(*) FROM jobs").await, 3);

    let bad = sla::set_calendar_day(app, &admin, "cn-workday", "2025-13-01", Some(true), "").await.unwrap_err();
    let AppError::Validation(v) = bad else { panic!("{bad:?}") };
    assert_eq!((v.0[0].field.as_str(), v.0[0].code), ("date", "invalid_date"));
}

/// A registration that starts while a calendar edit is uncommitted waits for it and counts on the
/// edited calendar (on PostgreSQL through the SLA configuration lock; on SQLite the single writer
/// orders them anyway). Without the wait it would read the old calendar, and the edit's recompute,
/// which ran before the request existed, would never correct it.
async fn a_request_registered_during_a_calendar_edit_is_counted_on_the_edited_calendar(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let mut tx = app.db.begin().await.unwrap();
    {
        let mut c = tx.conn();
        shouhou_store::sla::hold_sla_config(&mut c, true).await.unwrap();
        let (cal, _) = shouhou_store::sla::calendar(&mut c, "cn-workday").await.unwrap().unwrap();
        shouhou_store::sla::set_calendar_day(&mut c, cal.id, "2025-10-13", Some(true), "停电检修").await.unwrap();
    }
    let create = register(&d, "repair", "normal");
    tokio::pin!(create);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut create).await.is_err(),
        "the registration waits for the edit in flight"
    );
    tx.commit().await.unwrap();
    let (id, _) = create.await;
    // Monday is now a day off: 480 business minutes from Tuesday 08:30 end Wednesday 09:00.
    assert_eq!(cached(app, id).await.response_due, Some(at("2025-10-15T09:00:00+08:00")));
}

async fn a_calendar_without_working_hours_is_refused_and_nothing_changes(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let admin = ctx_of(app, "admin").await;
    let (id, _) = register(&d, "repair", "normal").await;
    let before = cached(app, id).await;
    let closed: [Vec<Interval>; 7] = Default::default();

    let err = sla::update_calendar(app, &admin, "cn-workday", 1, "中国工作日", &closed, true).await.unwrap_err();
    let problem = shouhou_web::error::Problem::from(&err);
    assert_eq!(problem.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem.code, "validation_failed");
    let AppError::Validation(v) = err else { panic!("{err:?}") };
    assert_eq!(v.0.len(), 1);
    assert_eq!((v.0[0].field.as_str(), v.0[0].code), ("weekly", "no_working_hours"));

    let mut overlapping = closed.clone();
    overlapping[0] = vec![Interval::hm(8, 0, 12, 0), Interval::hm(11, 0, 13, 0)];
    let err = sla::update_calendar(app, &admin, "cn-workday", 1, "", &overlapping, true).await.unwrap_err();
    let AppError::Validation(v) = err else { panic!("{err:?}") };
    let fields: Vec<(&str, &str)> = v.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
    assert_eq!(fields, [("name", "required"), ("weekly", "invalid_hours")]);

    let agent = {
        add_user(app, "agent.x", &["agent"], &[]).await;
        ctx_of(app, "agent.x").await
    };
    let week = [vec![Interval::hm(9, 0, 18, 0)], vec![], vec![], vec![], vec![], vec![], vec![]];
    let err = sla::update_calendar(app, &agent, "cn-workday", 1, "x", &week, true).await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden), "{err:?}");
    let err = sla::update_calendar(app, &admin, "no-such", 1, "x", &week, true).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound), "{err:?}");

    let mut rd = app.db.read().await.unwrap();
    let (row, _) = shouhou_store::sla::calendar(&mut rd.conn(), "cn-workday").await.unwrap().unwrap();
    drop(rd);
    assert_eq!(row.version, 1);
    assert_eq!(audited(app, "calendar.update").await, 0);
    assert_eq!(count(&d.t, "jobs").await, 0);
    assert_eq!(cached(app, id).await, before);
}

async fn editing_a_policy_retargets_and_recomputes_its_open_requests(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let admin = ctx_of(app, "admin").await;
    let (id, _) = register(&d, "repair", "normal").await;
    let policy = {
        let mut rd = app.db.read().await.unwrap();
        let r = shouhou_store::requests::get_request(&mut rd.conn(), id).await.unwrap().unwrap();
        shouhou_store::sla::get_policy(&mut rd.conn(), r.policy_id.unwrap()).await.unwrap().unwrap()
    };
    assert_eq!((policy.urgency.map(|u| u.as_str()), policy.response_minutes), (None, 480), "the catch-all policy");

    let err = sla::update_policy(app, &admin, policy.id, policy.version, 0, 1440, "nope", true).await.unwrap_err();
    let AppError::Validation(v) = err else { panic!("{err:?}") };
    let fields: Vec<(&str, &str)> = v.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
    assert_eq!(fields, [("response_minutes", "out_of_range"), ("calendar_code", "unknown_calendar")]);
    let err =
        sla::update_policy(app, &admin, policy.id, policy.version, 480, 1440, "cn-workday", false).await.unwrap_err();
    let AppError::Validation(v) = err else { panic!("{err:?}") };
    assert_eq!((v.0[0].field.as_str(), v.0[0].code), ("active", "last_catch_all_policy"));

    // Four business hours to respond: 09:00–12:00 and 13:30–14:30; 80 % at 13:42.
    let e = sla::update_policy(app, &admin, policy.id, policy.version, 240, 1440, "cn-workday", true).await.unwrap();
    assert_eq!((e.version, e.recomputed), (policy.version + 1, Some(1)));
    let c = cached(app, id).await;
    assert_eq!(c.response_due, Some(at("2025-10-13T14:30:00+08:00")));
    assert_eq!(c.response_warn, Some(at("2025-10-13T13:42:00+08:00")));
    assert_eq!(audited(app, "sla_policy.update").await, 1);

    d.set("2025-10-13T14:30:00+08:00");
    let r = sweep_times(app, "node-1", 2).await;
    assert_eq!((r.warnings, r.breaches), (0, 1), "found breached: the warning is settled without a message");
    assert_eq!(fired(app, id).await, pairs(&[("response", "warning"), ("response", "breach")]));
    assert_eq!(inbox_of(app, "admin").await.len(), 1);
}

async fn a_recompute_left_by_a_crashed_edit_is_run_by_a_worker_after_its_lease(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let app = d.app();
    let (id, _) = register(&d, "repair", "normal").await;
    // An edit committed with its job, held by a caller that then died before recomputing.
    let now = at("2025-10-13T09:00:00+08:00");
    let job = {
        let mut tx = app.db.begin().await.unwrap();
        let mut c = tx.conn();
        let (row, _) = shouhou_store::sla::calendar(&mut c, "cn-workday").await.unwrap().unwrap();
        shouhou_store::sla::set_calendar_day(&mut c, row.id, "2025-10-14", Some(true), "").await.unwrap();
        let job = shouhou_store::jobs::enqueue_job(
            &mut c,
            jobs::RECOMPUTE_JOB,
            now,
            r#"{"calendar":"cn-workday"}"#,
            Some(("inline", now + 5 * 60_000)),
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        job
    };
    assert_eq!(cached(app, id).await.response_due, Some(at("2025-10-14T09:30:00+08:00")));
    d.set("2025-10-13T09:04:59+08:00");
    assert_eq!(jobs::run_due_jobs(app, "node-1").await.unwrap(), 0, "still leased");
    assert_eq!(cached(app, id).await.response_due, Some(at("2025-10-14T09:30:00+08:00")));
    d.set("2025-10-13T09:05:00+08:00");
    assert_eq!(jobs::run_due_jobs(app, "node-1").await.unwrap(), 1);
    assert_eq!(cached(app, id).await.response_due, Some(at("2025-10-15T09:30:00+08:00")));
    let mut rd = app.db.read().await.unwrap();
    let j = shouhou_store::jobs::get_job(&mut rd.conn(), job).await.unwrap().unwrap();
    assert_eq!((j.locked_by.as_deref(), j.attempts, j.done_at.is_some()), (Some("node-1"), 1, true));
    drop(rd);
    assert_eq!(jobs::run_due_jobs(app, "node-1").await.unwrap(), 0, "done once");
}

async fn concurrent_claims_take_disjoint_jobs_and_an_expired_lease_frees_a_job(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let now = at("2025-10-13T09:00:00+08:00");
    let mut tx = d.app().db.begin().await.unwrap();
    for i in 0..20 {
        shouhou_store::jobs::enqueue_job(&mut tx.conn(), "test.kind", now, &format!("{{\"n\":{i}}}"), None, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tasks = vec![];
    for i in 0..4 {
        let app = d.t.app.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = vec![];
            loop {
                let mut tx = app.db.begin().await.unwrap();
                let jobs =
                    shouhou_store::jobs::claim_jobs(&mut tx.conn(), "test.kind", now, &format!("w{i}"), 60_000, 3)
                        .await
                        .unwrap();
                tx.commit().await.unwrap();
                if jobs.is_empty() {
                    return mine;
                }
                mine.extend(jobs.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!((n, all.len()), (20, 20), "every job claimed exactly once");

    // Nobody finished: once the lease runs out they can be claimed again, and finished once.
    let claim = |at_ms: i64| {
        let app = d.t.app.clone();
        async move {
            let mut tx = app.db.begin().await.unwrap();
            let jobs =
                shouhou_store::jobs::claim_jobs(&mut tx.conn(), "test.kind", at_ms, "w9", 60_000, 100).await.unwrap();
            tx.commit().await.unwrap();
            jobs
        }
    };
    assert_eq!(claim(now + 59_999).await.len(), 0);
    let again = claim(now + 60_000).await;
    assert_eq!(again.len(), 20);
    assert!(again.iter().all(|j| j.attempts == 2));
    let mut tx = d.app().db.begin().await.unwrap();
    assert!(shouhou_store::jobs::complete_job(&mut tx.conn(), again[0].id, "w9", now).await.unwrap());
    assert!(!shouhou_store::jobs::complete_job(&mut tx.conn(), again[1].id, "w0", now).await.unwrap(), "not w0's");
    tx.commit().await.unwrap();
    assert_eq!(claim(now + 120_000).await.len(), 19);
}

async fn the_worker_fires_due_alerts_and_stops_when_told(b: Backend) {
    let d = desk(b, "2025-10-13T09:00:00+08:00").await;
    let (id, number) = register(&d, "repair", "normal").await;
    d.set("2025-10-14T09:30:00+08:00");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(jobs::run_worker(d.t.app.clone(), "node-1".into(), Duration::from_millis(20), async {
        let _ = stopped.await;
    }));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let pending = "SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL";
    while count(&d.t, "outbox").await < 2 || scalar(d.app(), pending).await > 0 {
        assert!(std::time::Instant::now() < deadline, "the worker did not fire and dispatch in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker).await.expect("the worker stops").unwrap();
    assert_eq!(fired(d.app(), id).await, pairs(&[("response", "warning"), ("response", "breach")]));
    assert_eq!(
        inbox_of(d.app(), "admin").await,
        vec![("sla.breach".to_string(), format!("服务请求 {number} 首次响应已超时"))],
        "found breached: one message, not a warning as well"
    );
    assert_eq!(inbox_of(d.app(), "mgr.a").await.len(), 1);
    assert_eq!(count(&d.t, "outbox").await, 2);
}

crate::on_both_backends!(
    a_warning_fires_once_at_80_percent_and_a_breach_once_at_100_percent_to_the_minute,
    two_instances_sweeping_at_once_fire_each_alert_once,
    a_request_waiting_for_the_customer_does_not_fire_while_paused,
    a_non_urgent_notification_outside_working_hours_waits_until_the_calendar_opens,
    editing_the_calendar_moves_the_due_times_of_open_requests,
    a_request_registered_during_a_calendar_edit_is_counted_on_the_edited_calendar,
    a_calendar_without_working_hours_is_refused_and_nothing_changes,
    editing_a_policy_retargets_and_recomputes_its_open_requests,
    a_recompute_left_by_a_crashed_edit_is_run_by_a_worker_after_its_lease,
    concurrent_claims_take_disjoint_jobs_and_an_expired_lease_frees_a_job,
    the_worker_fires_due_alerts_and_stops_when_told,
);
