//! Maintenance plans (首保, 保养, 例行检查) and what falls due, over the API.
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shouhou_app::maintenance::{Due, PlanForm, PlanView};
use utoipa::{IntoParams, ToSchema};

/// Create a plan for every device of a model, or for one device.
#[utoipa::path(post, path = "/api/v1/maintenance-plans", operation_id = "create_maintenance_plan", tag = "field service",
    request_body = PlanForm, security(("bearer" = [])),
    responses((status = 201, body = PlanView), (status = 422, body = super::ProblemDoc)))]
pub async fn create_plan(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<PlanForm>,
) -> ApiResult<(StatusCode, Json<PlanView>)> {
    Ok((StatusCode::CREATED, Json(shouhou_app::maintenance::create_plan(&s.app, &rc.ctx, &f).await?)))
}

/// Every plan.
#[utoipa::path(get, path = "/api/v1/maintenance-plans", operation_id = "list_maintenance_plans", tag = "field service",
    security(("bearer" = [])), responses((status = 200, body = Vec<PlanView>)))]
pub async fn list_plans(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<Json<Vec<PlanView>>> {
    Ok(Json(shouhou_app::maintenance::list_plans(&s.app, &rc.ctx).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    /// Due within this many days from today (default 7: this week), overdue ones included.
    pub days: Option<i64>,
    /// Only this station's (within the caller's own scope).
    pub station_id: Option<i64>,
}

/// One item due, with its work order.
#[derive(Serialize, ToSchema)]
pub struct DueAnswer {
    pub plan_id: i64,
    pub device_id: i64,
    /// YYYY-MM-DD
    pub due_on: String,
    /// 0: the first (首保), then 1, 2, …
    pub seq: i64,
    /// maintenance inspection
    pub kind: String,
    pub work_order_id: Option<i64>,
    pub number: Option<String>,
    pub status: Option<String>,
    pub station_id: Option<i64>,
    /// Its day has passed and the visit is not done.
    pub overdue: bool,
}

impl From<Due> for DueAnswer {
    fn from(Due { item: d, overdue }: Due) -> Self {
        DueAnswer {
            overdue,
            plan_id: d.plan_id,
            device_id: d.device_id,
            due_on: d.due_on,
            seq: d.seq,
            kind: d.kind,
            work_order_id: d.work_order_id,
            number: d.number,
            status: d.status,
            station_id: d.station_id,
        }
    }
}

/// What falls due this week (or within `days`) and what is overdue, whose visit is not done, in
/// the caller's stations, soonest first.
#[utoipa::path(get, path = "/api/v1/maintenance/due", operation_id = "maintenance_due", tag = "field service",
    params(DueQuery), security(("bearer" = [])), responses((status = 200, body = Vec<DueAnswer>)))]
pub async fn due(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> ApiResult<Json<Vec<DueAnswer>>> {
    let items = shouhou_app::maintenance::due(&s.app, &rc.ctx, q.days.unwrap_or(7), q.station_id).await?;
    Ok(Json(items.into_iter().map(DueAnswer::from).collect()))
}
