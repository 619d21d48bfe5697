//! Service requests over the API: registration, queues, one request, transitions, notes, assignment, reclassification.
use super::Instant;
use super::attachments::AttachmentAnswer;
use super::devices::DeviceAnswer;
use super::{Paged, etag, expected_version};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::AppError;
use shouhou_app::customers::CustomerView;
use shouhou_app::requests::{Request, RequestDetail, RequestEvent, RequestForm, Transitioned};
use shouhou_domain::sla::ClockStatus;
use utoipa::{IntoParams, ToSchema};

/// A service request as the API answers it.
#[derive(Serialize, ToSchema)]
pub struct RequestAnswer {
    pub id: i64,
    /// `SR-YYYYMMDD-NNNN`.
    pub number: String,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub request_type: String,
    pub channel: String,
    pub urgency: String,
    pub status: String,
    pub description: String,
    pub fault_code: Option<String>,
    /// The responsible station; `null`: headquarters'.
    pub station_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_by: Option<i64>,
    pub first_contact_resolution: bool,
    pub promised_reply_at: Option<Instant>,
    pub calendar_code: String,
    pub policy_id: Option<i64>,
    pub response_target_min: i64,
    pub resolution_target_min: i64,
    /// While the clock runs: when it falls due.
    pub response_due_at: Option<Instant>,
    pub resolution_due_at: Option<Instant>,
    /// not_started, running, at_risk, paused, breached, met, missed
    pub response_state: String,
    pub resolution_state: String,
    pub version: i64,
    pub created_at: Instant,
    pub updated_at: Instant,
    pub closed_at: Option<Instant>,
}

impl From<&Request> for RequestAnswer {
    fn from(r: &Request) -> Self {
        RequestAnswer {
            id: r.id,
            number: r.number.clone(),
            customer_id: r.customer_id,
            device_id: r.device_id,
            request_type: r.request_type.to_string(),
            channel: r.channel.to_string(),
            urgency: r.urgency.to_string(),
            status: r.status.to_string(),
            description: r.description.clone(),
            fault_code: r.fault_code.clone(),
            station_id: r.station_id.map(|s| s.0),
            assignee_id: r.assignee_id,
            created_by: r.created_by,
            first_contact_resolution: r.first_contact_resolution,
            promised_reply_at: Instant::opt(r.promised_reply_at),
            calendar_code: r.calendar_code.clone(),
            policy_id: r.policy_id,
            response_target_min: r.response_target_min,
            resolution_target_min: r.resolution_target_min,
            response_due_at: Instant::opt(r.sla.response_due_at),
            resolution_due_at: Instant::opt(r.sla.resolution_due_at),
            response_state: r.sla.response_state.to_string(),
            resolution_state: r.sla.resolution_state.to_string(),
            version: r.version,
            created_at: Instant(r.created_at),
            updated_at: Instant(r.updated_at),
            closed_at: Instant::opt(r.closed_at),
        }
    }
}

/// One SLA clock as of the answer.
#[derive(Serialize, ToSchema)]
pub struct ClockAnswer {
    /// not_started, running, paused, stopped
    pub phase: String,
    /// ok, at_risk, breached
    pub health: String,
    /// not_started, running, at_risk, paused, breached, met, missed
    pub state: String,
    /// Counted time (business time on a working calendar), ISO 8601, e.g. `PT1H30M`.
    pub elapsed: String,
    /// Target minus elapsed; negative once breached.
    pub remaining: String,
    pub elapsed_min: i64,
    pub remaining_min: i64,
    pub due: Option<Instant>,
    pub warn_at: Option<Instant>,
    pub met: Option<bool>,
    pub breached_at: Option<Instant>,
}

fn snake<T: Serialize>(v: &T) -> String {
    // The domain's phase and health names as serde writes them (snake_case unit variants).
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl From<&ClockStatus> for ClockAnswer {
    fn from(c: &ClockStatus) -> Self {
        ClockAnswer {
            phase: snake(&c.phase),
            health: snake(&c.health),
            state: c.state().to_string(),
            elapsed: c.elapsed.to_string(),
            remaining: c.remaining.to_string(),
            elapsed_min: c.elapsed.as_mins(),
            remaining_min: c.remaining.as_mins(),
            due: Instant::opt(c.due),
            warn_at: Instant::opt(c.warn_at),
            met: c.met,
            breached_at: Instant::opt(c.breached_at),
        }
    }
}

/// Both clocks of a request.
#[derive(Serialize, ToSchema)]
pub struct ClocksAnswer {
    pub calendar: String,
    pub response: ClockAnswer,
    pub resolution: ClockAnswer,
}

/// One entry of a request's timeline.
#[derive(Serialize, ToSchema)]
pub struct EventAnswer {
    pub id: i64,
    pub request_id: i64,
    pub at: Instant,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// created, status, note, assigned, reclassified, attachment …
    pub kind: String,
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
    /// The event's details as a JSON text.
    pub data: String,
}

/// A request with its clocks, allowed actions, timeline, customer, device and attachments. The
/// request's own fields are also at the top level.
#[derive(Serialize, ToSchema)]
pub struct RequestDetailAnswer {
    #[serde(flatten)]
    pub fields: RequestAnswer,
    pub request: RequestAnswer,
    pub allowed_actions: Vec<String>,
    pub clocks: ClocksAnswer,
    pub events: Vec<EventAnswer>,
    pub customer: CustomerView,
    pub assignee_name: Option<String>,
    pub device: Option<DeviceAnswer>,
    pub attachments: Vec<AttachmentAnswer>,
}

impl TryFrom<RequestDetail> for RequestDetailAnswer {
    type Error = AppError;
    fn try_from(d: RequestDetail) -> Result<Self, AppError> {
        let events = d.events.into_iter().map(EventAnswer::try_from).collect::<Result<Vec<_>, _>>()?;
        let attachments = d.attachments.into_iter().map(AttachmentAnswer::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(RequestDetailAnswer {
            fields: RequestAnswer::from(&d.request),
            request: RequestAnswer::from(&d.request),
            allowed_actions: d.allowed_actions.iter().map(|a| a.to_string()).collect(),
            clocks: ClocksAnswer {
                calendar: d.clocks.calendar.clone(),
                response: ClockAnswer::from(&d.clocks.response),
                resolution: ClockAnswer::from(&d.clocks.resolution),
            },
            events,
            customer: d.customer,
            assignee_name: d.assignee_name,
            device: d.device.map(DeviceAnswer::from),
            attachments,
        })
    }
}

/// A request's new status and version after a command.
#[derive(Serialize, ToSchema)]
pub struct TransitionedAnswer {
    pub id: i64,
    pub status: String,
    pub version: i64,
}

impl From<Transitioned> for TransitionedAnswer {
    fn from(t: Transitioned) -> Self {
        TransitionedAnswer { id: t.id, status: t.status, version: t.version }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RegisteredAnswer {
    pub id: i64,
    /// `SR-YYYYMMDD-NNNN`, the day of creation in Asia/Shanghai.
    pub number: String,
}

/// Register a service request; it gets its number and SLA due times at once.
#[utoipa::path(post, path = "/api/v1/service-requests", tag = "service desk", request_body = RequestForm, security(("bearer" = [])),
    responses((status = 201, body = RegisteredAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn create_request(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<RequestForm>,
) -> ApiResult<(StatusCode, Json<RegisteredAnswer>)> {
    let r = shouhou_app::requests::create_request(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(RegisteredAnswer { id: r.id, number: r.number })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// mine, station, unassigned, due_soon, breached, all (default)
    pub queue: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Open requests of a queue, soonest due first.
#[utoipa::path(get, path = "/api/v1/service-requests", tag = "service desk", params(QueueQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<RequestAnswer>)))]
pub async fn list_requests(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Paged<RequestAnswer>>> {
    let page = super::page_of(q.page, q.per_page)?;
    let p = shouhou_app::requests::queue(&s.app, &rc.ctx, q.queue.as_deref().unwrap_or(""), page).await?;
    Ok(Json(Paged {
        items: p.items.iter().map(RequestAnswer::from).collect(),
        page: p.page,
        per_page: p.per_page,
        total: p.total,
    }))
}

/// One request with its SLA clocks, allowed actions and timeline; 404 outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/service-requests/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = RequestDetailAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get_request(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::requests::get_request(&s.app, &rc.ctx, id).await?;
    let version = d.request.version;
    Ok((etag(version), Json(RequestDetailAnswer::try_from(d)?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// accept respond start_work wait_for_customer resume resolve confirm close reopen cancel
    pub action: String,
    /// What was done or said; the reason of a cancellation (required then).
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// Move a request through its lifecycle; an illegal action answers 409 naming the allowed ones.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/transitions", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = TransitionBody, security(("bearer" = [])),
    responses((status = 200, body = TransitionedAnswer), (status = 409, body = super::ProblemDoc)))]
pub async fn transition(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<TransitionBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let t = shouhou_app::requests::transition(&s.app, &rc.ctx, id, version, &b.action, b.note.as_deref().unwrap_or(""))
        .await?;
    Ok((etag(t.version), Json(TransitionedAnswer::from(t))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub note: String,
}

/// Add a note to a request's timeline.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/notes", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = NoteBody, security(("bearer" = [])), responses((status = 204), (status = 404, body = super::ProblemDoc)))]
pub async fn add_note(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<StatusCode> {
    shouhou_app::requests::add_note(&s.app, &rc.ctx, id, &b.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The person to work on it; omit to take it yourself; `null` with `unassign: true` returns it to the queue.
    pub user_id: Option<i64>,
    #[serde(default)]
    pub unassign: bool,
    pub version: Option<i64>,
}

/// Assign a request to a person (engineer, agent) who may work on it, or take it yourself.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/assignee", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = AssignBody, security(("bearer" = [])), responses((status = 200, body = TransitionedAnswer), (status = 409, body = super::ProblemDoc)))]
pub async fn assign(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let me = rc.ctx.actor()?.id.0;
    let user = if b.unassign { None } else { Some(b.user_id.unwrap_or(me)) };
    let t = shouhou_app::requests::assign(&s.app, &rc.ctx, id, version, user).await?;
    Ok((etag(t.version), Json(TransitionedAnswer::from(t))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReclassifyBody {
    #[serde(rename = "type")]
    pub request_type: Option<String>,
    pub urgency: Option<String>,
    pub version: Option<i64>,
}

/// Change the type or urgency of an open request; the SLA policy is chosen again and the clocks
/// are recomputed from the recorded events (paused time stays excluded).
#[utoipa::path(patch, path = "/api/v1/service-requests/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = ReclassifyBody, security(("bearer" = [])),
    responses((status = 200, body = TransitionedAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn reclassify(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ReclassifyBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let t = shouhou_app::requests::reclassify(
        &s.app,
        &rc.ctx,
        id,
        version,
        b.request_type.as_deref(),
        b.urgency.as_deref(),
    )
    .await?;
    Ok((etag(t.version), Json(TransitionedAnswer::from(t))).into_response())
}

impl TryFrom<RequestEvent> for EventAnswer {
    type Error = AppError;
    fn try_from(e: RequestEvent) -> Result<Self, AppError> {
        Ok(EventAnswer {
            id: e.id,
            request_id: e.request_id,
            at: Instant::from_ms(e.at)?,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            kind: e.kind,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
            data: e.data,
        })
    }
}
