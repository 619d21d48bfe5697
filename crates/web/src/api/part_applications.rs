//! 三包配件申请 over the API.
use super::{Instant, etag, expected_version};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::part_applications::{Application, ApplicationDetail, ApplicationForm, DecisionForm};
use shouhou_domain::parts::format_milli;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct LineAnswer {
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    /// In the part's unit (decimal string, exact).
    pub quantity: String,
    pub price_fen: i64,
    /// The transfer from the central warehouse, once approved.
    pub transfer_id: Option<i64>,
    /// in_transit, received
    pub transfer_status: Option<String>,
}

/// An application for warranty parts.
#[derive(Serialize, ToSchema)]
pub struct ApplicationAnswer {
    pub id: i64,
    /// `PA-YYYYMMDD-NNNN`
    pub number: String,
    /// submitted, station_approved, approved, rejected
    pub status: String,
    pub station_id: i64,
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub work_order_id: Option<i64>,
    pub amount_fen: i64,
    pub reason: String,
    /// The last decision's note.
    pub decision_note: String,
    pub created_at: Instant,
    pub version: i64,
    pub lines: Vec<LineAnswer>,
    /// The decisions the caller may take now.
    pub decisions: Vec<String>,
}

impl ApplicationAnswer {
    pub fn new(d: &ApplicationDetail) -> Result<Self, shouhou_app::AppError> {
        let a = &d.application;
        Ok(ApplicationAnswer {
            id: a.id,
            number: a.number.clone(),
            status: a.status.clone(),
            station_id: a.station_id,
            warehouse_id: a.warehouse_id,
            warehouse_code: a.warehouse_code.clone(),
            work_order_id: a.work_order_id,
            amount_fen: a.amount_fen,
            reason: a.reason.clone(),
            decision_note: a.decision_note.clone(),
            created_at: Instant::from_ms(a.created_at)?,
            version: a.version,
            lines: d
                .lines
                .iter()
                .map(|l| LineAnswer {
                    part_code: l.part_code.clone(),
                    part_name: l.part_name.clone(),
                    unit: l.unit.clone(),
                    quantity: format_milli(l.quantity),
                    price_fen: l.price_fen,
                    transfer_id: l.transfer_id,
                    transfer_status: l.transfer_status.clone(),
                })
                .collect(),
            decisions: d.decisions.iter().map(|x| x.as_str().to_string()).collect(),
        })
    }
}

/// Apply to headquarters for warranty parts (engineers and station managers, for a warehouse of
/// their station).
#[utoipa::path(post, path = "/api/v1/part-applications", operation_id = "apply_for_parts", tag = "parts",
    request_body = ApplicationForm, security(("bearer" = [])),
    responses((status = 201, body = ApplicationAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn apply(State(s): State<AppState>, rc: ReqCtx, ApiJson(f): ApiJson<ApplicationForm>) -> ApiResult<Response> {
    let d = shouhou_app::part_applications::apply(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, etag(d.application.version), Json(ApplicationAnswer::new(&d)?)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// submitted, station_approved, approved, rejected
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationItem {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub station_id: i64,
    pub warehouse_code: String,
    pub amount_fen: i64,
    pub reason: String,
    pub created_at: Instant,
    pub version: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<ApplicationItem>,
}

fn item(a: &Application) -> Result<ApplicationItem, shouhou_app::AppError> {
    Ok(ApplicationItem {
        id: a.id,
        number: a.number.clone(),
        status: a.status.clone(),
        station_id: a.station_id,
        warehouse_code: a.warehouse_code.clone(),
        amount_fen: a.amount_fen,
        reason: a.reason.clone(),
        created_at: Instant::from_ms(a.created_at)?,
        version: a.version,
    })
}

/// The applications of the caller's stations, open ones first.
#[utoipa::path(get, path = "/api/v1/part-applications", operation_id = "list_part_applications", tag = "parts",
    params(ListQuery), security(("bearer" = [])), responses((status = 200, body = ApplicationList)))]
pub async fn list(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ApplicationList>> {
    let items = shouhou_app::part_applications::list(&s.app, &rc.ctx, q.status.as_deref()).await?;
    Ok(Json(ApplicationList { items: items.iter().map(item).collect::<Result<_, _>>()? }))
}

/// An application with its lines and their transfers.
#[utoipa::path(get, path = "/api/v1/part-applications/{id}", operation_id = "get_part_application", tag = "parts",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = ApplicationAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::part_applications::get(&s.app, &rc.ctx, id).await?;
    Ok((etag(d.application.version), Json(ApplicationAnswer::new(&d)?)).into_response())
}

/// Approve or reject (with a reason): the station's manager first, final up to the threshold;
/// headquarters above it. The final approval sends the parts from the central warehouse, or
/// nothing (409 `insufficient_stock`).
#[utoipa::path(post, path = "/api/v1/part-applications/{id}/decision", operation_id = "decide_part_application", tag = "parts",
    params(("id" = i64, Path, description = "record id")), request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = ApplicationAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn decide(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<DecisionForm>,
) -> ApiResult<Response> {
    let version = expected_version(f.version, &headers)?;
    let d = shouhou_app::part_applications::decide(&s.app, &rc.ctx, id, version, &f).await?;
    Ok((etag(d.application.version), Json(ApplicationAnswer::new(&d)?)).into_response())
}
