//! Service requests over the API: registration, queues, one request, transitions, notes, assignment, reclassification.
use super::{Paged, etag, expected_version, rfc3339};
use crate::AppState;
use crate::api::to_json;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shouhou_app::requests::RequestForm;
use utoipa::{IntoParams, ToSchema};

/// Instants of requests as RFC 3339 (+08:00) next to the stored milliseconds.
pub(crate) fn request_times(mut v: Value) -> Value {
    fn fix(r: &mut Value) {
        if let Value::Object(m) = r {
            for key in [
                "created_at",
                "updated_at",
                "closed_at",
                "response_due_at",
                "resolution_due_at",
                "promised_reply_at",
                "at",
            ] {
                if let Some(ms) = m.get(key).and_then(Value::as_i64) {
                    m.insert(key.to_string(), Value::String(rfc3339(ms)));
                }
            }
        }
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(walk),
            Value::Object(m) => {
                for key in ["open_requests", "history", "items", "events"] {
                    if let Some(Value::Array(a)) = m.get_mut(key) {
                        a.iter_mut().for_each(fix);
                    }
                }
                if let Some(r) = m.get_mut("request") {
                    fix(r);
                }
            }
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequestBody {
    pub customer_id: i64,
    pub serial_number: Option<String>,
    /// consultation repair installation maintenance upgrade delivery complaint suggestion return_exchange training
    #[serde(rename = "type")]
    pub request_type: String,
    /// phone email web chat wechat walk_in qr_code dealer
    pub channel: String,
    /// urgent high normal low (default normal)
    pub urgency: Option<String>,
    pub description: String,
    pub fault_code: Option<String>,
    /// RFC 3339: when the agent promised to reply.
    pub promised_reply_at: Option<String>,
    /// Solved during the call (first-contact resolution): how.
    pub resolve_now: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisteredAnswer {
    pub id: i64,
    /// `SR-YYYYMMDD-NNNN`, the day of creation in Asia/Shanghai.
    pub number: String,
}

/// Register a service request; it gets its number and SLA due times at once.
#[utoipa::path(post, path = "/api/v1/service-requests", tag = "service desk", request_body = ServiceRequestBody, security(("bearer" = [])),
    responses((status = 201, body = RegisteredAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn create_request(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<ServiceRequestBody>,
) -> ApiResult<(StatusCode, Json<RegisteredAnswer>)> {
    let f = RequestForm {
        customer_id: b.customer_id,
        serial_number: b.serial_number,
        request_type: b.request_type,
        channel: b.channel,
        urgency: b.urgency.unwrap_or_default(),
        description: b.description,
        fault_code: b.fault_code,
        promised_reply_at: b.promised_reply_at,
        resolve_now: b.resolve_now,
    };
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
    responses((status = 200, body = Paged<serde_json::Value>)))]
pub async fn list_requests(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Value>> {
    let page = super::page_of(q.page, q.per_page)?;
    let p = shouhou_app::requests::queue(&s.app, &rc.ctx, q.queue.as_deref().unwrap_or(""), page).await?;
    Ok(Json(request_times(to_json(&p))))
}

/// One request with its SLA clocks, allowed actions and timeline; 404 outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/service-requests/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = serde_json::Value), (status = 404, body = super::ProblemDoc)))]
pub async fn get_request(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::requests::get_request(&s.app, &rc.ctx, id).await?;
    let version = d.request.version;
    let mut v = request_times(to_json(&d));
    if let Some(r) = v.get("request").cloned() {
        // The request's own fields at the top level, as `GET /service-requests/{id}` promises.
        if let (Value::Object(top), Value::Object(req)) = (&mut v, r) {
            for (k, val) in req {
                top.entry(k).or_insert(val);
            }
        }
    }
    Ok((etag(version), Json(v)).into_response())
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
    responses((status = 200, body = serde_json::Value), (status = 409, body = super::ProblemDoc)))]
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
    Ok((etag(t.version), Json(to_json(&t))).into_response())
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
    request_body = AssignBody, security(("bearer" = [])), responses((status = 200, body = serde_json::Value), (status = 409, body = super::ProblemDoc)))]
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
    Ok((etag(t.version), Json(to_json(&t))).into_response())
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
    responses((status = 200, body = serde_json::Value), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
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
    Ok((etag(t.version), Json(to_json(&t))).into_response())
}
