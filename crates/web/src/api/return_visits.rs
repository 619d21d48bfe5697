//! Return visits (回访), follow-ups and the survey link over the API.
use super::Instant;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::return_visits::{
    CheckForm, CloseFollowUp, FollowUp, RecordForm, RecordedVisit, ResultLine, Visit, VisitDetail, VisitItem,
};
use shouhou_domain::return_visits::permille;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct VisitScores {
    pub satisfaction: Option<i64>,
    pub attitude: Option<i64>,
    pub skill: Option<i64>,
    pub timeliness: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitAnswer {
    pub id: i64,
    pub service_request_id: Option<i64>,
    pub complaint_id: Option<i64>,
    /// The request's (or complaint's) number.
    pub number: Option<String>,
    pub customer_id: i64,
    /// As the caller may see it (masked without the right to personal data).
    pub customer_name: String,
    pub station_id: Option<i64>,
    pub station_name: Option<String>,
    pub engineer_id: Option<i64>,
    pub engineer_name: Option<String>,
    pub product_line: Option<String>,
    /// open, done, unreachable, cancelled
    pub status: String,
    pub due_at: Instant,
    /// Overdue: open past its due time.
    pub overdue: bool,
    /// Tries so far (reached or not).
    pub attempts: i64,
    pub scores: VisitScores,
    pub solved: Option<bool>,
    pub comment: String,
    /// agent, survey
    pub answered_via: Option<String>,
    pub recorded_at: Option<Instant>,
    /// Recorded by its due time.
    pub on_time: Option<bool>,
    /// sampled, verified, failed
    pub check_state: Option<String>,
    pub check_note: String,
    pub version: i64,
}

fn visit_answer(i: &VisitItem, now: i64) -> Result<VisitAnswer, shouhou_app::AppError> {
    let v: &Visit = &i.visit;
    Ok(VisitAnswer {
        id: v.id,
        service_request_id: v.service_request_id,
        complaint_id: v.complaint_id,
        number: v.subject_number.clone(),
        customer_id: v.customer_id,
        customer_name: i.customer_name.clone(),
        station_id: v.station_id,
        station_name: i.station_name.clone(),
        engineer_id: v.engineer_id,
        engineer_name: i.engineer_name.clone(),
        product_line: v.product_line.clone(),
        status: v.status.clone(),
        due_at: Instant::from_ms(v.due_at)?,
        overdue: v.status == "open" && v.due_at < now,
        attempts: v.attempts,
        scores: VisitScores {
            satisfaction: v.satisfaction,
            attitude: v.attitude,
            skill: v.skill,
            timeliness: v.timeliness,
        },
        solved: v.solved,
        comment: v.comment.clone(),
        answered_via: v.answered_via.clone(),
        recorded_at: v.recorded_at.map(Instant::from_ms).transpose()?,
        on_time: v.recorded_at.map(|t| t <= v.due_at),
        check_state: v.check_state.clone(),
        check_note: v.check_note.clone(),
        version: v.version,
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// open (default: not yet recorded, soonest due first), archived, sampled
    pub queue: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitList {
    pub items: Vec<VisitAnswer>,
}

/// The return-visit queue: `open` — every visit not yet recorded, soonest due first; `archived`;
/// `sampled` (waiting for the supervisor's check).
#[utoipa::path(get, path = "/api/v1/return-visits", operation_id = "list_return_visits", tag = "follow-up",
    params(QueueQuery), security(("bearer" = [])), responses((status = 200, body = VisitList)))]
pub async fn list(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<VisitList>> {
    let items = shouhou_app::return_visits::queue(&s.app, &rc.ctx, q.queue.as_deref().unwrap_or("open")).await?;
    let now = s.app.now();
    Ok(Json(VisitList { items: items.iter().map(|i| visit_answer(i, now)).collect::<Result<_, _>>()? }))
}

#[derive(Serialize, ToSchema)]
pub struct AttemptAnswer {
    pub at: Instant,
    /// reached, unreachable
    pub outcome: String,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpAnswer {
    pub id: i64,
    pub return_visit_id: i64,
    pub service_request_id: Option<i64>,
    pub complaint_id: Option<i64>,
    pub number: Option<String>,
    pub customer_id: i64,
    /// low_score, not_solved
    pub reason: String,
    /// open, satisfied, closed
    pub status: String,
    pub note: String,
    pub created_at: Instant,
    pub closed_at: Option<Instant>,
    pub version: i64,
}

pub fn follow_up_answer(f: &FollowUp) -> Result<FollowUpAnswer, shouhou_app::AppError> {
    Ok(FollowUpAnswer {
        id: f.id,
        return_visit_id: f.return_visit_id,
        service_request_id: f.service_request_id,
        complaint_id: f.complaint_id,
        number: f.subject_number.clone(),
        customer_id: f.customer_id,
        reason: f.reason.clone(),
        status: f.status.clone(),
        note: f.note.clone(),
        created_at: Instant::from_ms(f.created_at)?,
        closed_at: f.closed_at.map(Instant::from_ms).transpose()?,
        version: f.version,
    })
}

#[derive(Serialize, ToSchema)]
pub struct VisitDetailAnswer {
    #[serde(flatten)]
    pub visit: VisitAnswer,
    pub tries: Vec<AttemptAnswer>,
    pub follow_ups: Vec<FollowUpAnswer>,
    /// The customer's phone to call, for one who may record the visit (masked without the right
    /// to personal data; a read in clear is audited).
    pub customer_phone: Option<String>,
    /// What the caller may do: record, survey_link, check.
    pub actions: Vec<String>,
}

fn detail_answer(d: &VisitDetail, now: i64) -> Result<VisitDetailAnswer, shouhou_app::AppError> {
    let mut actions = vec![];
    if d.can_record {
        actions.extend(["record".to_string(), "survey_link".to_string()]);
    }
    if d.can_check {
        actions.push("check".into());
    }
    Ok(VisitDetailAnswer {
        visit: visit_answer(&d.item, now)?,
        tries: d
            .attempts
            .iter()
            .map(|a| {
                Ok(AttemptAnswer { at: Instant::from_ms(a.at)?, outcome: a.outcome.clone(), note: a.note.clone() })
            })
            .collect::<Result<_, shouhou_app::AppError>>()?,
        follow_ups: d.follow_ups.iter().map(follow_up_answer).collect::<Result<_, _>>()?,
        customer_phone: d.customer_phone.clone(),
        actions,
    })
}

/// A return visit with its tries and follow-ups.
#[utoipa::path(get, path = "/api/v1/return-visits/{id}", operation_id = "get_return_visit", tag = "follow-up",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = VisitDetailAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Json<VisitDetailAnswer>> {
    let d = shouhou_app::return_visits::get(&s.app, &rc.ctx, id).await?;
    Ok(Json(detail_answer(&d, s.app.now())?))
}

/// Record a visit: `reached` with the four scores (1–5) and `solved`, or `unreachable`. Reached,
/// solved and every score above 3 closes the request; a score of 3 or less or not solved opens a
/// follow-up (not solved reopens the request); tries on three different days without reaching
/// the customer archive the visit and close the request.
#[utoipa::path(post, path = "/api/v1/return-visits/{id}/record", operation_id = "record_return_visit",
    tag = "follow-up", params(("id" = i64, Path, description = "record id")), request_body = RecordForm,
    security(("bearer" = [])),
    responses((status = 200, body = RecordedVisit), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn record(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<RecordForm>,
) -> ApiResult<Json<RecordedVisit>> {
    Ok(Json(shouhou_app::return_visits::record_visit(&s.app, &rc.ctx, id, &f).await?))
}

#[derive(Serialize, ToSchema)]
pub struct SurveyLinkAnswer {
    /// Root-relative: the page takes the answers by a form POST to the same URL; single use.
    pub url: String,
    pub expires_at: Instant,
}

/// A single-use survey link for the customer (no login); a new one replaces the previous one.
#[utoipa::path(post, path = "/api/v1/return-visits/{id}/survey-link", operation_id = "return_visit_survey_link",
    tag = "follow-up", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 201, body = SurveyLinkAnswer), (status = 404, body = super::ProblemDoc), (status = 409, body = super::ProblemDoc)))]
pub async fn survey_link(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let l = shouhou_app::return_visits::survey_link(&s.app, &rc.ctx, id).await?;
    let a = SurveyLinkAnswer { url: l.url, expires_at: Instant::from_ms(l.expires_at)? };
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpList {
    pub items: Vec<FollowUpAnswer>,
}

/// Open follow-ups (跟进), oldest first.
#[utoipa::path(get, path = "/api/v1/follow-ups", operation_id = "list_follow_ups", tag = "follow-up",
    security(("bearer" = [])), responses((status = 200, body = FollowUpList)))]
pub async fn follow_ups(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<Json<FollowUpList>> {
    let items = shouhou_app::return_visits::follow_ups(&s.app, &rc.ctx).await?;
    Ok(Json(FollowUpList { items: items.iter().map(follow_up_answer).collect::<Result<_, _>>()? }))
}

/// End a follow-up: `satisfied` (the customer is content now; an agent) or `closed` (a manager,
/// with the reason). The request it held open closes if nothing else holds it.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/close", operation_id = "close_follow_up", tag = "follow-up",
    params(("id" = i64, Path, description = "record id")), request_body = CloseFollowUp, security(("bearer" = [])),
    responses((status = 200, body = FollowUpAnswer), (status = 403, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn close_follow_up(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<CloseFollowUp>,
) -> ApiResult<Json<FollowUpAnswer>> {
    let out = shouhou_app::return_visits::close_follow_up(&s.app, &rc.ctx, id, &f).await?;
    Ok(Json(follow_up_answer(&out)?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// engineer, station, product_line, month (default)
    pub group: Option<String>,
    /// First business day (YYYY-MM-DD; default: the first of this month).
    pub from: Option<String>,
    /// Last business day, included (default: today).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitResult {
    pub key: String,
    pub label: String,
    pub visits: i64,
    pub reached: i64,
    /// Share of visits recorded by their due time, ‰.
    pub on_time_permille: Option<i64>,
    /// Share of reached customers with overall satisfaction 4 or 5, ‰.
    pub satisfied_permille: Option<i64>,
    /// 好评率: share with overall satisfaction 5, ‰.
    pub praise_permille: Option<i64>,
    pub solved_permille: Option<i64>,
    /// Averages in hundredths (480 = 4.80).
    pub avg_satisfaction: Option<i64>,
    pub avg_attitude: Option<i64>,
    pub avg_skill: Option<i64>,
    pub avg_timeliness: Option<i64>,
}

pub fn result_answer(l: &ResultLine) -> VisitResult {
    let f = &l.figures;
    VisitResult {
        key: f.key.clone(),
        label: l.label.clone(),
        visits: f.visits,
        reached: f.reached,
        on_time_permille: permille(f.on_time, f.visits),
        satisfied_permille: permille(f.satisfied, f.reached),
        praise_permille: permille(f.praised, f.reached),
        solved_permille: permille(f.solved, f.reached),
        avg_satisfaction: f.avg_satisfaction,
        avg_attitude: f.avg_attitude,
        avg_skill: f.avg_skill,
        avg_timeliness: f.avg_timeliness,
    }
}

#[derive(Serialize, ToSchema)]
pub struct VisitResults {
    pub items: Vec<VisitResult>,
}

/// Results of the archived visits per engineer, station, product line or month.
#[utoipa::path(get, path = "/api/v1/return-visits/results", operation_id = "return_visit_results", tag = "follow-up",
    params(ResultsQuery), security(("bearer" = [])),
    responses((status = 200, body = VisitResults), (status = 422, body = super::ProblemDoc)))]
pub async fn results(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> ApiResult<Json<VisitResults>> {
    let lines = shouhou_app::return_visits::results(
        &s.app,
        &rc.ctx,
        q.group.as_deref().unwrap_or(""),
        q.from.as_deref().unwrap_or(""),
        q.to.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(VisitResults { items: lines.iter().map(result_answer).collect() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleForm {
    /// How many visits to draw (1–200).
    pub size: i64,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Sampled {
    pub ids: Vec<i64>,
}

/// Draw archived visits at random for the supervisor's check (质检抽查).
#[utoipa::path(post, path = "/api/v1/return-visits/samples", operation_id = "sample_return_visits",
    tag = "follow-up", request_body = SampleForm, security(("bearer" = [])),
    responses((status = 201, body = Sampled), (status = 403, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn sample(State(s): State<AppState>, rc: ReqCtx, ApiJson(f): ApiJson<SampleForm>) -> ApiResult<Response> {
    let ids = shouhou_app::return_visits::sample(
        &s.app,
        &rc.ctx,
        f.size,
        f.from.as_deref().unwrap_or(""),
        f.to.as_deref().unwrap_or(""),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Sampled { ids })).into_response())
}

/// The supervisor's verdict on a sampled visit (a failed check needs a note).
#[utoipa::path(post, path = "/api/v1/return-visits/{id}/check", operation_id = "check_return_visit",
    tag = "follow-up", params(("id" = i64, Path, description = "record id")), request_body = CheckForm,
    security(("bearer" = [])),
    responses((status = 200, body = VisitDetailAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn check(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<CheckForm>,
) -> ApiResult<Json<VisitDetailAnswer>> {
    let d = shouhou_app::return_visits::check(&s.app, &rc.ctx, id, &f).await?;
    Ok(Json(detail_answer(&d, s.app.now())?))
}

/// The follow-up settings: when a return visit falls due and how long a survey link lasts; each
/// complaint severity's clocks, the time management has to acknowledge a major one, the repeat window.
#[utoipa::path(get, path = "/api/v1/follow-up-settings", operation_id = "get_follow_up_settings", tag = "follow-up",
    security(("bearer" = [])), responses((status = 200, body = shouhou_app::return_visits::FollowUpSettings)))]
pub async fn get_settings(
    State(s): State<AppState>,
    rc: ReqCtx,
) -> ApiResult<Json<shouhou_app::return_visits::FollowUpSettings>> {
    Ok(Json(shouhou_app::return_visits::settings(&s.app, &rc.ctx).await?))
}

/// Replace the follow-up settings (administrators); they apply to visits and complaints made from now on.
#[utoipa::path(put, path = "/api/v1/follow-up-settings", operation_id = "set_follow_up_settings", tag = "follow-up",
    request_body = shouhou_app::return_visits::FollowUpSettings, security(("bearer" = [])),
    responses((status = 200, body = shouhou_app::return_visits::FollowUpSettings), (status = 422, body = super::ProblemDoc)))]
pub async fn set_settings(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<shouhou_app::return_visits::FollowUpSettings>,
) -> ApiResult<Json<shouhou_app::return_visits::FollowUpSettings>> {
    Ok(Json(shouhou_app::return_visits::set_settings(&s.app, &rc.ctx, &b).await?))
}
