//! Service levels over the API: calendars, day overrides, policies, and the preview of a due time.
use super::{expected_version, rfc3339};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use shouhou_app::sla::SlaEdited;
use shouhou_domain::ValidationErrors;
use shouhou_domain::calendar::Interval;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    pub name: String,
    /// Seven lists (Monday first) of periods such as `"08:30-12:00"`.
    pub weekly: Vec<Vec<String>>,
    pub use_prc_holidays: bool,
    pub version: Option<i64>,
}

/// Change a calendar's working hours; open requests on it are recomputed. A calendar without any
/// working hours is refused.
#[utoipa::path(put, path = "/api/v1/calendars/{code}", tag = "service levels", params(("code" = String, Path, description = "calendar code")),
    request_body = CalendarBody, security(("bearer" = [])), responses((status = 200, body = SlaEditedAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn update_calendar(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<CalendarBody>,
) -> ApiResult<Json<SlaEditedAnswer>> {
    // The right first: a caller without it learns nothing from the hours' validation.
    rc.ctx.require(shouhou_domain::auth::Permission::SettingsWrite).map_err(crate::error::ApiError::from)?;
    let version = expected_version(b.version, &headers)?;
    let mut e = ValidationErrors::default();
    let weekly: Vec<Vec<Interval>> =
        b.weekly.iter().map(|day| day.iter().filter_map(|p| e.take(Interval::parse("weekly", p))).collect()).collect();
    if weekly.len() != 7 {
        e.push("weekly", "invalid_hours");
    }
    e.into_result().map_err(shouhou_app::AppError::from)?;
    let r = shouhou_app::sla::update_calendar(&s.app, &rc.ctx, &code, version, &b.name, &weekly, b.use_prc_holidays)
        .await?;
    Ok(Json(SlaEditedAnswer::from(r)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayBody {
    /// YYYY-MM-DD, a plain date in Asia/Shanghai.
    pub date: String,
    /// `true`: a company holiday; `false`: a special working day; `null`: remove the override.
    pub off: Option<bool>,
    #[serde(default)]
    pub note: String,
}

/// Add or remove a company holiday or special working day.
#[utoipa::path(post, path = "/api/v1/calendars/{code}/days", tag = "service levels", params(("code" = String, Path, description = "calendar code")),
    request_body = CalendarDayBody, security(("bearer" = [])), responses((status = 200, body = SlaEditedAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn set_calendar_day(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<CalendarDayBody>,
) -> ApiResult<Json<SlaEditedAnswer>> {
    let r = shouhou_app::sla::set_calendar_day(&s.app, &rc.ctx, &code, &b.date, b.off, &b.note).await?;
    Ok(Json(SlaEditedAnswer::from(r)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub response_minutes: i64,
    pub resolution_minutes: i64,
    pub calendar_code: String,
    pub active: bool,
    pub version: Option<i64>,
}

/// Change an SLA policy; its open requests get the new targets and are recomputed.
#[utoipa::path(patch, path = "/api/v1/sla-policies/{id}", tag = "service levels", params(("id" = i64, Path, description = "record id")),
    request_body = PolicyBody, security(("bearer" = [])), responses((status = 200, body = SlaEditedAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn update_policy(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PolicyBody>,
) -> ApiResult<Json<SlaEditedAnswer>> {
    let version = expected_version(b.version, &headers)?;
    let r = shouhou_app::sla::update_policy(
        &s.app,
        &rc.ctx,
        id,
        version,
        b.response_minutes,
        b.resolution_minutes,
        &b.calendar_code,
        b.active,
    )
    .await?;
    Ok(Json(SlaEditedAnswer::from(r)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// Calendar code: `cn-workday`, `24x7` or one an administrator made.
    pub calendar: String,
    /// RFC 3339 instant, e.g. `2025-09-30T16:00:00+08:00`.
    pub start: String,
    /// ISO 8601 duration, e.g. `PT8H`: business time on a working calendar, wall time on 24 × 7.
    pub target: String,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewAnswer {
    /// RFC 3339 with +08:00.
    pub due: String,
}

/// When a target started at `start` falls due on a calendar.
#[utoipa::path(get, path = "/api/v1/sla/preview", tag = "service desk", params(PreviewQuery), security(("bearer" = [])),
    responses((status = 200, body = PreviewAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn sla_preview(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> ApiResult<Json<PreviewAnswer>> {
    let due = shouhou_app::sla::sla_preview(&s.app, &rc.ctx, &q.calendar, &q.start, &q.target).await?;
    Ok(Json(PreviewAnswer { due: rfc3339(due.as_millisecond()) }))
}

/// A committed edit of a calendar or policy.
#[derive(Serialize, ToSchema)]
pub struct SlaEditedAnswer {
    /// The calendar's or policy's version now.
    pub version: i64,
    /// Open requests recomputed right after the commit; `null` if that failed and the work was
    /// left to the background workers.
    pub recomputed: Option<u64>,
}

impl From<SlaEdited> for SlaEditedAnswer {
    fn from(e: SlaEdited) -> Self {
        SlaEditedAnswer { version: e.version, recomputed: e.recomputed }
    }
}
