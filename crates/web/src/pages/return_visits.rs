//! Return-visit pages (回访): the agents' queue (open, soonest due first; archived; sampled;
//! follow-ups; results), a visit with its record form and survey link, the supervisor's check.
use super::{Chrome, CsrfForm, FormData, PageError, page_err, render, require_login};
use crate::AppState;
use crate::api::Instant;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::return_visits::{FollowUp, RecordForm, ResultLine, VisitDetail, VisitItem};
use shouhou_domain::return_visits::permille;

/// Tenths of a percent as people read it: `98.5%`.
pub fn percent(p: Option<i64>) -> String {
    p.map(|p| format!("{}.{}%", p / 10, p % 10)).unwrap_or_else(|| "—".into())
}

/// Hundredths as a score: `4.80`.
pub fn score(h: Option<i64>) -> String {
    h.map(|h| format!("{}.{:02}", h / 100, h % 100)).unwrap_or_else(|| "—".into())
}

fn when(ms: i64) -> String {
    Instant::from_ms(ms).map(|i| i.to_string().replace('T', " ")[..16].to_string()).unwrap_or_default()
}

pub struct Row {
    pub id: i64,
    pub number: String,
    pub link: String,
    pub customer: String,
    pub station: String,
    pub engineer: String,
    pub due: String,
    pub overdue: bool,
    pub attempts: i64,
    pub status: String,
    pub scores: String,
    pub check: String,
}

fn row(tr: crate::i18n::Tr, i: &VisitItem, now: i64) -> Row {
    let v = &i.visit;
    let link = match (v.service_request_id, v.complaint_id) {
        (Some(r), _) => format!("/requests/{r}"),
        (None, Some(k)) => format!("/complaints/{k}"),
        _ => String::new(),
    };
    Row {
        id: v.id,
        number: v.subject_number.clone().unwrap_or_default(),
        link,
        customer: i.customer_name.clone(),
        station: i.station_name.clone().unwrap_or_default(),
        engineer: i.engineer_name.clone().unwrap_or_default(),
        due: when(v.due_at),
        overdue: v.status == "open" && v.due_at < now,
        attempts: v.attempts,
        status: tr.t(&format!("rv-status-{}", v.status)),
        scores: match (v.satisfaction, v.attitude, v.skill, v.timeliness) {
            (Some(a), Some(b), Some(c), Some(d)) => format!("{a} / {b} / {c} / {d}"),
            _ => String::new(),
        },
        check: v.check_state.as_deref().map(|s| tr.t(&format!("rv-check-{s}"))).unwrap_or_default(),
    }
}

pub struct FollowRow {
    pub id: i64,
    pub number: String,
    pub link: String,
    pub reason: String,
    pub note: String,
    pub since: String,
    pub version: i64,
}

fn follow_row(tr: crate::i18n::Tr, f: &FollowUp) -> FollowRow {
    FollowRow {
        id: f.id,
        number: f.subject_number.clone().unwrap_or_default(),
        link: f.service_request_id.map(|r| format!("/requests/{r}")).unwrap_or_default(),
        reason: tr.t(&format!("rv-reason-{}", f.reason)),
        note: f.note.clone(),
        since: when(f.created_at),
        version: f.version,
    }
}

pub struct ResultRow {
    pub label: String,
    pub visits: i64,
    pub on_time: String,
    pub satisfied: String,
    pub praise: String,
    pub solved: String,
    pub avg: String,
    pub attitude: String,
    pub skill: String,
    pub timeliness: String,
}

fn result_row(l: &ResultLine, none: &str) -> ResultRow {
    let f = &l.figures;
    ResultRow {
        label: if l.label.is_empty() { none.to_string() } else { l.label.clone() },
        visits: f.visits,
        on_time: percent(permille(f.on_time, f.visits)),
        satisfied: percent(permille(f.satisfied, f.reached)),
        praise: percent(permille(f.praised, f.reached)),
        solved: percent(permille(f.solved, f.reached)),
        avg: score(f.avg_satisfaction),
        attitude: score(f.avg_attitude),
        skill: score(f.avg_skill),
        timeliness: score(f.avg_timeliness),
    }
}

#[derive(Template)]
#[template(path = "return_visits.html")]
struct QueuePage {
    c: Chrome,
    tab: String,
    tabs: Vec<(&'static str, String)>,
    rows: Vec<Row>,
    follow_ups: Vec<FollowRow>,
    results: Vec<ResultRow>,
    group: String,
    groups: Vec<(&'static str, String)>,
    from: String,
    to: String,
    may_sample: bool,
    may_close: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    tab: Option<String>,
    group: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub async fn queue(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<QueueQuery>) -> Result<Response, PageError> {
    queue_page(&s, &rc, q, None, StatusCode::OK).await
}

async fn queue_page(
    s: &AppState,
    rc: &ReqCtx,
    q: QueueQuery,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = "/return-visits";
    require_login(rc, path)?;
    let tr = rc.tr;
    let tab = q.tab.unwrap_or_else(|| "open".into());
    let now = s.app.now();
    let (mut rows, mut follow_ups, mut results) = (vec![], vec![], vec![]);
    let group = q.group.unwrap_or_else(|| "month".into());
    let (from, to) = (q.from.unwrap_or_default(), q.to.unwrap_or_default());
    match tab.as_str() {
        "follow-ups" => {
            let f = shouhou_app::return_visits::follow_ups(&s.app, &rc.ctx).await.map_err(page_err(rc, path))?;
            follow_ups = f.iter().map(|f| follow_row(tr, f)).collect();
        }
        "results" => {
            let r = shouhou_app::return_visits::results(&s.app, &rc.ctx, &group, &from, &to)
                .await
                .map_err(page_err(rc, path))?;
            let none = tr.t("rv-none");
            results = r.iter().map(|l| result_row(l, &none)).collect();
        }
        which => {
            let items = shouhou_app::return_visits::queue(&s.app, &rc.ctx, which).await.map_err(page_err(rc, path))?;
            rows = items.iter().map(|i| row(tr, i, now)).collect();
        }
    }
    let actor = rc.ctx.actor().map_err(page_err(rc, path))?;
    let page = QueuePage {
        c: Chrome::new(rc, "rv-title", path),
        tabs: ["open", "archived", "sampled", "follow-ups", "results"]
            .into_iter()
            .map(|t| (t, tr.t(&format!("rv-tab-{t}"))))
            .collect(),
        tab,
        rows,
        follow_ups,
        results,
        groups: ["month", "engineer", "station", "product_line"]
            .into_iter()
            .map(|g| (g, tr.t(&format!("rv-group-{g}"))))
            .collect(),
        group,
        from,
        to,
        may_sample: actor.can(shouhou_domain::auth::Permission::Supervise),
        may_close: actor.can(shouhou_domain::auth::Permission::ReturnVisit)
            || actor.can(shouhou_domain::auth::Permission::Supervise),
        error,
    };
    Ok((code, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "return_visit.html")]
struct VisitPage {
    c: Chrome,
    d: VisitDetail,
    r: Row,
    tries: Vec<(String, String, String)>,
    follow_ups: Vec<FollowRow>,
    survey_url: Option<String>,
    questions: [(&'static str, &'static str); 4],
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct VisitQuery {
    survey: Option<String>,
}

pub async fn visit(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    Query(q): Query<VisitQuery>,
) -> Result<Response, PageError> {
    visit_page(&s, &rc, id, q.survey, None, StatusCode::OK).await
}

async fn visit_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    survey: Option<String>,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/return-visits/{id}");
    require_login(rc, &path)?;
    let tr = rc.tr;
    let d = shouhou_app::return_visits::get(&s.app, &rc.ctx, id).await.map_err(page_err(rc, &path))?;
    let page = VisitPage {
        c: Chrome::new(rc, "rv-title", "/return-visits"),
        r: row(tr, &d.item, s.app.now()),
        tries: d
            .attempts
            .iter()
            .map(|a| (when(a.at), tr.t(&format!("rv-outcome-{}", a.outcome)), a.note.clone()))
            .collect(),
        follow_ups: d.follow_ups.iter().map(|f| follow_row(tr, f)).collect(),
        // Only a root-relative path of this site is shown back.
        survey_url: survey.filter(|u| u.starts_with("/survey/")),
        questions: super::survey::QUESTIONS,
        d,
        error,
    };
    Ok((code, render(&page)).into_response())
}

fn score_field(f: &FormData, name: &str) -> Option<i64> {
    let v = f.get(name);
    let v = v.trim();
    if v.is_empty() { None } else { Some(v.parse().unwrap_or(0)) }
}

pub async fn record(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let comment = f.get("comment");
    let form = RecordForm {
        outcome: f.get("outcome"),
        satisfaction: score_field(&f, "satisfaction"),
        attitude: score_field(&f, "attitude"),
        skill: score_field(&f, "skill"),
        timeliness: score_field(&f, "timeliness"),
        solved: match f.get("solved").as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        comment: (!comment.trim().is_empty()).then_some(comment),
        version: f.get("version").parse().ok(),
    };
    let r = shouhou_app::return_visits::record_visit(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    super::after_form(&rc, r, &format!("/return-visits/{id}"), |msg, code| {
        visit_page(&s, &rc, id, None, Some(msg), code)
    })
    .await
}

pub async fn survey_link(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm,
) -> Result<Response, PageError> {
    let path = format!("/return-visits/{id}");
    let l = shouhou_app::return_visits::survey_link(&s.app, &rc.ctx, id).await.map_err(page_err(&rc, &path))?;
    // The secret travels once, in the redirect, for the agent to send by SMS or WeChat.
    // The URL is a path of URL-safe characters (base64url): it needs no escaping in a query.
    Ok(Redirect::to(&format!("{path}?survey={}", l.url)).into_response())
}

pub async fn check(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form =
        shouhou_app::return_visits::CheckForm { verified: f.get("verified") == "true", note: Some(f.get("note")) };
    let r = shouhou_app::return_visits::check(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    super::after_form(&rc, r, &format!("/return-visits/{id}"), |msg, code| {
        visit_page(&s, &rc, id, None, Some(msg), code)
    })
    .await
}

pub async fn sample(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let size = f.get("size").trim().parse().unwrap_or(0);
    let r = shouhou_app::return_visits::sample(&s.app, &rc.ctx, size, &f.get("from"), &f.get("to")).await.map(|_| ());
    let q = || QueueQuery { tab: Some("sampled".into()), group: None, from: None, to: None };
    super::after_form(&rc, r, "/return-visits?tab=sampled", |msg, code| queue_page(&s, &rc, q(), Some(msg), code)).await
}

pub async fn close_follow_up(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = shouhou_app::return_visits::CloseFollowUp {
        outcome: f.get("outcome"),
        note: f.get("note"),
        version: f.get("version").parse().ok(),
    };
    let r = shouhou_app::return_visits::close_follow_up(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    let q = || QueueQuery { tab: Some("follow-ups".into()), group: None, from: None, to: None };
    super::after_form(&rc, r, "/return-visits?tab=follow-ups", |msg, code| queue_page(&s, &rc, q(), Some(msg), code))
        .await
}
