//! Complaints (投诉) and suggestions (建议) over the API.
use super::Instant;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::complaints::{Complaint, ComplaintDetail, ComplaintForm, ComplaintStep, ReportLine};
use shouhou_app::suggestions::{Suggestion, SuggestionForm, SuggestionStep};
use shouhou_domain::return_visits::permille;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct ComplaintEventAnswer {
    pub at: Instant,
    pub actor_name: String,
    /// registered, reported, contact, informed, investigate, resolve, reopen, close, escalated, acknowledged
    pub kind: String,
    pub note: String,
    /// What the customer was told (and when).
    pub told_customer: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintAnswer {
    pub id: i64,
    /// `CP-YYYYMMDD-NNNN`
    pub number: String,
    pub customer_id: i64,
    /// As the caller may see it.
    pub customer_name: String,
    pub service_request_id: Option<i64>,
    pub request_number: Option<String>,
    pub station_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub product_line: Option<String>,
    /// major, serious, ordinary
    pub severity: String,
    /// quality, attitude, timeliness, charges, other
    pub category: String,
    pub description: String,
    pub occurred_at: Option<Instant>,
    /// open, contacted, investigating, resolved, closed
    pub status: String,
    /// The same customer complained of the same category within 30 days.
    pub repeat: bool,
    pub repeat_of: Option<i64>,
    pub repeat_of_number: Option<String>,
    /// 0 the desk, 1 the service department's head, 2 management, 3 the general manager.
    pub level: i64,
    pub contact_due_at: Instant,
    pub solution_due_at: Instant,
    pub contacted_at: Option<Instant>,
    pub resolved_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    /// A major complaint: management acknowledges it by then.
    pub ack_due_at: Option<Instant>,
    pub acknowledged_at: Option<Instant>,
    pub root_cause: Option<String>,
    pub measure: String,
    pub measure_owner_id: Option<i64>,
    pub measure_due: Option<String>,
    pub customer_ack: bool,
    pub close_reason: String,
    pub created_at: Instant,
    pub version: i64,
    pub timeline: Vec<ComplaintEventAnswer>,
    /// What the caller may do now.
    pub actions: Vec<String>,
    /// The return visits after it.
    pub return_visit_ids: Vec<i64>,
}

fn opt(t: Option<i64>) -> Result<Option<Instant>, shouhou_app::AppError> {
    t.map(Instant::from_ms).transpose()
}

fn complaint_answer(k: &Complaint, customer_name: &str) -> Result<ComplaintAnswer, shouhou_app::AppError> {
    Ok(ComplaintAnswer {
        id: k.id,
        number: k.number.clone(),
        customer_id: k.customer_id,
        customer_name: customer_name.to_string(),
        service_request_id: k.service_request_id,
        request_number: k.request_number.clone(),
        station_id: k.station_id,
        staff_id: k.staff_id,
        product_line: k.product_line.clone(),
        severity: k.severity.clone(),
        category: k.category.clone(),
        description: k.description.clone(),
        occurred_at: opt(k.occurred_at)?,
        status: k.status.clone(),
        repeat: k.repeat_of.is_some(),
        repeat_of: k.repeat_of,
        repeat_of_number: None,
        level: k.level,
        contact_due_at: Instant::from_ms(k.contact_due_at)?,
        solution_due_at: Instant::from_ms(k.solution_due_at)?,
        contacted_at: opt(k.contacted_at)?,
        resolved_at: opt(k.resolved_at)?,
        closed_at: opt(k.closed_at)?,
        ack_due_at: opt(k.ack_due_at)?,
        acknowledged_at: opt(k.acknowledged_at)?,
        root_cause: k.root_cause.clone(),
        measure: k.measure.clone(),
        measure_owner_id: k.measure_owner_id,
        measure_due: k.measure_due.clone(),
        customer_ack: k.customer_ack,
        close_reason: k.close_reason.clone(),
        created_at: Instant::from_ms(k.created_at)?,
        version: k.version,
        timeline: vec![],
        actions: vec![],
        return_visit_ids: vec![],
    })
}

pub fn detail_answer(d: &ComplaintDetail) -> Result<ComplaintAnswer, shouhou_app::AppError> {
    let mut a = complaint_answer(&d.complaint, &d.customer_name)?;
    a.repeat_of_number = d.repeat_of_number.clone();
    a.timeline = d
        .events
        .iter()
        .map(|e| {
            Ok(ComplaintEventAnswer {
                at: Instant::from_ms(e.at)?,
                actor_name: e.actor_name.clone(),
                kind: e.kind.clone(),
                note: e.note.clone(),
                told_customer: e.told_customer,
            })
        })
        .collect::<Result<_, shouhou_app::AppError>>()?;
    a.actions = d.actions.clone();
    a.return_visit_ids = d.return_visits.iter().map(|v| v.id).collect();
    Ok(a)
}

/// Register a complaint: its clocks start (first contact, solution) on the calendars of its
/// severity; a major one is reported to every manager at once; `repeat` when the same customer
/// complained of the same category within 30 days.
#[utoipa::path(post, path = "/api/v1/complaints", operation_id = "register_complaint", tag = "follow-up",
    request_body = ComplaintForm, security(("bearer" = [])),
    responses((status = 201, body = ComplaintAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn register(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<ComplaintForm>,
) -> ApiResult<Response> {
    let d = shouhou_app::complaints::register(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(detail_answer(&d)?)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Closed ones too (default: open only).
    pub all: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintList {
    pub items: Vec<ComplaintAnswer>,
}

/// Complaints in the caller's scope, soonest solution due first.
#[utoipa::path(get, path = "/api/v1/complaints", operation_id = "list_complaints", tag = "follow-up",
    params(ListQuery), security(("bearer" = [])), responses((status = 200, body = ComplaintList)))]
pub async fn list(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ComplaintList>> {
    let items = shouhou_app::complaints::list(&s.app, &rc.ctx, !q.all.unwrap_or(false)).await?;
    Ok(Json(ComplaintList {
        items: items.iter().map(|(k, name)| complaint_answer(k, name)).collect::<Result<_, _>>()?,
    }))
}

/// A complaint with its timeline.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", operation_id = "get_complaint", tag = "follow-up",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = ComplaintAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Json<ComplaintAnswer>> {
    let d = shouhou_app::complaints::get(&s.app, &rc.ctx, id).await?;
    Ok(Json(detail_answer(&d)?))
}

/// A step: `contact`, `investigate`, `resolve` (root cause, measure, its owner and due date, what
/// the customer was told), `reopen`, `close` (with `customer_ack`, or a manager's reason), or
/// `inform`, `escalate` (one level, with the reason), `acknowledge` (management, a major one).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/steps", operation_id = "complaint_step", tag = "follow-up",
    params(("id" = i64, Path, description = "record id")), request_body = ComplaintStep, security(("bearer" = [])),
    responses((status = 200, body = ComplaintAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn step(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<ComplaintStep>,
) -> ApiResult<Json<ComplaintAnswer>> {
    let d = shouhou_app::complaints::step(&s.app, &rc.ctx, id, &f).await?;
    Ok(Json(detail_answer(&d)?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// cause (default), product_line, station, month, category, severity
    pub group: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintFigures {
    pub key: String,
    pub label: String,
    pub complaints: i64,
    pub closed: i64,
    pub repeats: i64,
    /// Solved by the solution due time, of those judged (done, or past due), ‰.
    pub on_time_permille: Option<i64>,
    /// Contacted by the first-contact due time, ‰.
    pub contact_on_time_permille: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintReport {
    pub items: Vec<ComplaintFigures>,
}

fn figures(l: &ReportLine) -> ComplaintFigures {
    let f = &l.figures;
    ComplaintFigures {
        key: f.key.clone(),
        label: l.label.clone(),
        complaints: f.complaints,
        closed: f.closed,
        repeats: f.repeats,
        on_time_permille: permille(f.on_time, f.judged),
        contact_on_time_permille: permille(f.contact_on_time, f.contact_judged),
    }
}

/// Complaints registered in the period by cause, product line, station, month, category or
/// severity: counts, repeats and the on-time handling rate.
#[utoipa::path(get, path = "/api/v1/complaints/report", operation_id = "complaint_report", tag = "follow-up",
    params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = ComplaintReport), (status = 422, body = super::ProblemDoc)))]
pub async fn report(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Json<ComplaintReport>> {
    let lines = shouhou_app::complaints::report(
        &s.app,
        &rc.ctx,
        q.group.as_deref().unwrap_or(""),
        q.from.as_deref().unwrap_or(""),
        q.to.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(ComplaintReport { items: lines.iter().map(figures).collect() }))
}

// ---------- suggestions ----------

#[derive(Serialize, ToSchema)]
pub struct SuggestionAnswer {
    pub id: i64,
    /// `SG-YYYYMMDD-NNNN`
    pub number: String,
    pub customer_id: Option<i64>,
    pub channel: String,
    /// product, service, other
    pub category: String,
    pub description: String,
    /// product, service, quality, sales, other
    pub department: Option<String>,
    /// received, routed, under_study, adopted, declined
    pub status: String,
    pub evaluation_note: String,
    /// What the customer is told.
    pub answer: String,
    pub answered_at: Option<Instant>,
    pub created_at: Instant,
    pub version: i64,
}

fn suggestion_answer(s: &Suggestion) -> Result<SuggestionAnswer, shouhou_app::AppError> {
    Ok(SuggestionAnswer {
        id: s.id,
        number: s.number.clone(),
        customer_id: s.customer_id,
        channel: s.channel.clone(),
        category: s.category.clone(),
        description: s.description.clone(),
        department: s.department.clone(),
        status: s.status.clone(),
        evaluation_note: s.evaluation_note.clone(),
        answer: s.answer.clone(),
        answered_at: opt(s.answered_at)?,
        created_at: Instant::from_ms(s.created_at)?,
        version: s.version,
    })
}

/// Record a suggestion from any channel.
#[utoipa::path(post, path = "/api/v1/suggestions", operation_id = "create_suggestion", tag = "follow-up",
    request_body = SuggestionForm, security(("bearer" = [])),
    responses((status = 201, body = SuggestionAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn create_suggestion(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<SuggestionForm>,
) -> ApiResult<Response> {
    let out = shouhou_app::suggestions::create(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(suggestion_answer(&out)?)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// First business day (default: the first of this month).
    pub from: Option<String>,
    /// Last business day, included (default: today).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub items: Vec<SuggestionAnswer>,
}

/// The period's suggestions, newest first (default: this month).
#[utoipa::path(get, path = "/api/v1/suggestions", operation_id = "list_suggestions", tag = "follow-up",
    params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = SuggestionList), (status = 422, body = super::ProblemDoc)))]
pub async fn list_suggestions(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<SuggestionList>> {
    let items =
        shouhou_app::suggestions::list(&s.app, &rc.ctx, q.from.as_deref().unwrap_or(""), q.to.as_deref().unwrap_or(""))
            .await?;
    Ok(Json(SuggestionList { items: items.iter().map(suggestion_answer).collect::<Result<_, _>>()? }))
}

/// The period's suggestions as an Excel file (the monthly summary).
#[utoipa::path(get, path = "/api/v1/suggestions/export.xlsx", operation_id = "export_suggestions", tag = "follow-up",
    params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, description = "an .xlsx workbook"), (status = 422, body = super::ProblemDoc)))]
pub async fn export_suggestions(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Response> {
    let bytes = shouhou_app::suggestions::export_xlsx(
        &s.app,
        &rc.ctx,
        q.from.as_deref().unwrap_or(""),
        q.to.as_deref().unwrap_or(""),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"suggestions.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}

/// A suggestion.
#[utoipa::path(get, path = "/api/v1/suggestions/{id}", operation_id = "get_suggestion", tag = "follow-up",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = SuggestionAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get_suggestion(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
) -> ApiResult<Json<SuggestionAnswer>> {
    let out = shouhou_app::suggestions::get(&s.app, &rc.ctx, id).await?;
    Ok(Json(suggestion_answer(&out)?))
}

/// A step: `route` (to a department), `study`, `adopt`, `decline` (with the reason), `answer`
/// (what the customer is told).
#[utoipa::path(post, path = "/api/v1/suggestions/{id}/steps", operation_id = "suggestion_step", tag = "follow-up",
    params(("id" = i64, Path, description = "record id")), request_body = SuggestionStep, security(("bearer" = [])),
    responses((status = 200, body = SuggestionAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn suggestion_step(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<SuggestionStep>,
) -> ApiResult<Json<SuggestionAnswer>> {
    let out = shouhou_app::suggestions::step(&s.app, &rc.ctx, id, &f).await?;
    Ok(Json(suggestion_answer(&out)?))
}
