//! Complaint and suggestion pages (投诉 / 建议): the complaints of the caller's scope, most urgent
//! first, with the report by cause; a complaint's timeline and its steps; the month's suggestions
//! with their steps and the Excel export.
use super::return_visits::percent;
use super::{Chrome, CsrfForm, PageError, page_err, render, require_login};
use crate::AppState;
use crate::api::Instant;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_app::complaints::{ComplaintDetail, ComplaintForm, ComplaintStep};
use shouhou_app::suggestions::{Suggestion, SuggestionForm, SuggestionStep};
use shouhou_domain::return_visits::permille;

fn when(ms: i64) -> String {
    Instant::from_ms(ms).map(|i| i.to_string().replace('T', " ")[..16].to_string()).unwrap_or_default()
}

pub struct Row {
    pub id: i64,
    pub number: String,
    pub customer: String,
    pub severity: String,
    pub severity_key: String,
    pub category: String,
    pub status: String,
    pub level: i64,
    pub due: String,
    pub late: bool,
    pub repeat: bool,
}

pub struct CauseRow {
    pub label: String,
    pub complaints: i64,
    pub repeats: i64,
    pub on_time: String,
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ListPage {
    c: Chrome,
    all: bool,
    rows: Vec<Row>,
    causes: Vec<CauseRow>,
    may_register: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    all: Option<String>,
}

pub async fn list(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    list_page(&s, &rc, q, None, StatusCode::OK).await
}

async fn list_page(
    s: &AppState,
    rc: &ReqCtx,
    q: ListQuery,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let rc = rc.clone();
    let path = "/complaints";
    require_login(&rc, path)?;
    let tr = rc.tr;
    let all = q.all.is_some_and(|a| a == "1");
    let now = s.app.now();
    let items = shouhou_app::complaints::list(&s.app, &rc.ctx, !all).await.map_err(page_err(&rc, path))?;
    let rows = items
        .iter()
        .map(|(k, name)| Row {
            id: k.id,
            number: k.number.clone(),
            customer: name.clone(),
            severity: tr.t(&format!("cp-severity-{}", k.severity)),
            severity_key: k.severity.clone(),
            category: tr.t(&format!("cp-category-{}", k.category)),
            status: tr.t(&format!("cp-status-{}", k.status)),
            level: k.level,
            due: when(k.solution_due_at),
            late: k.status != "closed" && k.resolved_at.is_none() && k.solution_due_at < now,
            repeat: k.repeat_of.is_some(),
        })
        .collect();
    let report =
        shouhou_app::complaints::report(&s.app, &rc.ctx, "cause", "", "").await.map_err(page_err(&rc, path))?;
    let causes = report
        .iter()
        .map(|l| CauseRow {
            label: if l.figures.key.is_empty() {
                tr.t("cp-cause-pending")
            } else {
                tr.t(&format!("cp-cause-{}", l.figures.key))
            },
            complaints: l.figures.complaints,
            repeats: l.figures.repeats,
            on_time: percent(permille(l.figures.on_time, l.figures.judged)),
        })
        .collect();
    let may_register = rc.ctx.actor.as_ref().is_some_and(|a| a.can(shouhou_domain::auth::Permission::FeedbackWrite));
    let page = ListPage { c: Chrome::new(&rc, "cp-title", path), all, rows, causes, may_register, error };
    Ok((code, render(&page)).into_response())
}

/// Register a complaint: from a request's page (its customer and the request known), or from the
/// complaints page by the customer's phone (the supervision hotline, a letter).
pub async fn register(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let request: Option<i64> = f.get("service_request_id").trim().parse().ok();
    let customer_id = match f.get("customer_id").trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            let phone = f.get("phone");
            let pop =
                shouhou_app::desk::screen_pop(&s.app, &rc.ctx, shouhou_app::desk::Lookup::Phone(phone.trim())).await;
            match pop {
                Ok(Some(p)) => p.customer.id,
                // No customer: the use case answers `unknown_customer` like any bad id.
                Ok(None) | Err(AppError::Validation(_)) => 0,
                Err(e) => return Err(page_err(&rc, "/complaints")(e)),
            }
        }
    };
    if request.is_none() {
        let form = ComplaintForm {
            customer_id,
            severity: f.get("severity"),
            category: f.get("category"),
            description: f.get("description"),
            ..ComplaintForm::default()
        };
        return match shouhou_app::complaints::register(&s.app, &rc.ctx, &form).await {
            Ok(d) => Ok(Redirect::to(&format!("/complaints/{}", d.complaint.id)).into_response()),
            Err(e) => {
                let r = Err(e);
                let q = || ListQuery { all: None };
                super::after_form(&rc, r, "/complaints", |msg, code| list_page(&s, &rc, q(), Some(msg), code)).await
            }
        };
    }
    let back = request.map(|r| format!("/requests/{r}")).unwrap_or_else(|| "/complaints".into());
    let form = ComplaintForm {
        customer_id,
        severity: f.get("severity"),
        category: f.get("category"),
        description: f.get("description"),
        service_request_id: request,
        ..ComplaintForm::default()
    };
    match shouhou_app::complaints::register(&s.app, &rc.ctx, &form).await {
        Ok(d) => Ok(Redirect::to(&format!("/complaints/{}", d.complaint.id)).into_response()),
        Err(e) => Err(page_err(&rc, &back)(e)),
    }
}

#[derive(Template)]
#[template(path = "complaint.html")]
struct DetailPage {
    c: Chrome,
    d: ComplaintDetail,
    severity: String,
    category: String,
    status: String,
    cause: String,
    timeline: Vec<(String, String, String, String, bool)>,
    steps: Vec<String>,
    contact_due: String,
    solution_due: String,
    /// The caller: the default owner of a corrective measure.
    me: i64,
    error: Option<String>,
}

impl DetailPage {
    fn may(&self, a: &str) -> bool {
        self.d.actions.iter().any(|x| x == a)
    }
}

pub async fn complaint(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    detail_page(&s, &rc, id, None, StatusCode::OK).await
}

async fn detail_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/complaints/{id}");
    require_login(rc, &path)?;
    let tr = rc.tr;
    let d = shouhou_app::complaints::get(&s.app, &rc.ctx, id).await.map_err(page_err(rc, &path))?;
    let k = &d.complaint;
    let page = DetailPage {
        c: Chrome::new(rc, "cp-title", "/complaints"),
        severity: tr.t(&format!("cp-severity-{}", k.severity)),
        category: tr.t(&format!("cp-category-{}", k.category)),
        status: tr.t(&format!("cp-status-{}", k.status)),
        cause: k.root_cause.as_deref().map(|c| tr.t(&format!("cp-cause-{c}"))).unwrap_or_default(),
        timeline: d
            .events
            .iter()
            .map(|e| {
                (
                    when(e.at),
                    e.actor_name.clone(),
                    tr.t(&format!("cp-event-{}", e.kind)),
                    e.note.clone(),
                    e.told_customer,
                )
            })
            .collect(),
        steps: d
            .actions
            .iter()
            .filter(|a| {
                matches!(a.as_str(), "contact" | "investigate" | "reopen" | "inform" | "escalate" | "acknowledge")
            })
            .cloned()
            .collect(),
        contact_due: when(k.contact_due_at),
        solution_due: when(k.solution_due_at),
        me: rc.ctx.actor_id().unwrap_or(0),
        d,
        error,
    };
    Ok((code, render(&page)).into_response())
}

pub async fn step(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let text = |name: &str| Some(f.get(name)).filter(|v| !v.trim().is_empty());
    let form = ComplaintStep {
        action: f.get("action"),
        note: text("note"),
        root_cause: text("root_cause"),
        measure: text("measure"),
        measure_owner_id: f.get("measure_owner_id").trim().parse().ok(),
        measure_due: text("measure_due"),
        customer_ack: Some(f.get("customer_ack") == "true"),
        version: f.get("version").parse().ok(),
    };
    let r = shouhou_app::complaints::step(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    super::after_form(&rc, r, &format!("/complaints/{id}"), |msg, code| detail_page(&s, &rc, id, Some(msg), code)).await
}

// ---------- suggestions ----------

pub struct SuggestionRow {
    pub s: Suggestion,
    pub category: String,
    pub status: String,
    pub department: String,
    pub created: String,
    pub actions: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "suggestions.html")]
struct SuggestionsPage {
    c: Chrome,
    rows: Vec<SuggestionRow>,
    summary: Vec<(String, i64, i64, i64)>,
    from: String,
    to: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

pub async fn suggestions(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    suggestions_page(&s, &rc, q, None, StatusCode::OK).await
}

async fn suggestions_page(
    s: &AppState,
    rc: &ReqCtx,
    q: PeriodQuery,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = "/suggestions";
    require_login(rc, path)?;
    let tr = rc.tr;
    let (from, to) = (q.from.unwrap_or_default(), q.to.unwrap_or_default());
    let items = shouhou_app::suggestions::list(&s.app, &rc.ctx, &from, &to).await.map_err(page_err(rc, path))?;
    let mut summary: Vec<(String, i64, i64, i64)> = ["product", "service", "other"]
        .iter()
        .map(|c| {
            let of: Vec<&Suggestion> = items.iter().filter(|s| s.category == *c).collect();
            let adopted = of.iter().filter(|s| s.status == "adopted").count() as i64;
            let answered = of.iter().filter(|s| s.answered_at.is_some()).count() as i64;
            (tr.t(&format!("sg-category-{c}")), of.len() as i64, adopted, answered)
        })
        .collect();
    let total = summary.iter().fold((0, 0, 0), |a, r| (a.0 + r.1, a.1 + r.2, a.2 + r.3));
    summary.push((tr.t("sg-total"), total.0, total.1, total.2));
    let rows = items
        .into_iter()
        .map(|x| {
            let status = shouhou_domain::suggestions::Status::parse("status", &x.status).ok();
            SuggestionRow {
                category: tr.t(&format!("sg-category-{}", x.category)),
                status: tr.t(&format!("sg-status-{}", x.status)),
                department: x.department.as_deref().map(|d| tr.t(&format!("sg-department-{d}"))).unwrap_or_default(),
                created: when(x.created_at),
                actions: status.map(|st| st.allowed().iter().map(|a| a.as_str()).collect()).unwrap_or_default(),
                s: x,
            }
        })
        .collect();
    let page = SuggestionsPage { c: Chrome::new(rc, "sg-title", "/complaints"), rows, summary, from, to, error };
    Ok((code, render(&page)).into_response())
}

fn period() -> PeriodQuery {
    PeriodQuery { from: None, to: None }
}

pub async fn create_suggestion(
    State(s): State<AppState>,
    rc: ReqCtx,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = SuggestionForm {
        description: f.get("description"),
        category: f.get("category"),
        customer_id: f.get("customer_id").trim().parse().ok(),
        channel: Some(f.get("channel")).filter(|c| !c.is_empty()),
    };
    let r = shouhou_app::suggestions::create(&s.app, &rc.ctx, &form).await.map(|_| ());
    super::after_form(&rc, r, "/suggestions", |msg, code| suggestions_page(&s, &rc, period(), Some(msg), code)).await
}

pub async fn suggestion_step(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = SuggestionStep {
        action: f.get("action"),
        department: Some(f.get("department")),
        note: Some(f.get("note")),
        version: f.get("version").parse().ok(),
    };
    let r = shouhou_app::suggestions::step(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    super::after_form(&rc, r, "/suggestions", |msg, code| suggestions_page(&s, &rc, period(), Some(msg), code)).await
}

pub async fn export_suggestions(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    require_login(&rc, "/suggestions")?;
    let bytes = shouhou_app::suggestions::export_xlsx(
        &s.app,
        &rc.ctx,
        q.from.as_deref().unwrap_or(""),
        q.to.as_deref().unwrap_or(""),
    )
    .await
    .map_err(page_err(&rc, "/suggestions"))?;
    Ok(super::customers::xlsx("suggestions.xlsx", bytes))
}
