//! Return and exchange authorisations (退换货) over the API.
use super::Instant;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use shouhou_app::returns::{Authorisation, DecisionForm, ReturnForm};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct ReturnAnswer {
    pub id: i64,
    /// `RA-YYYYMMDD-NNNN`
    pub number: String,
    pub service_request_id: i64,
    pub device_id: i64,
    /// return, exchange
    pub kind: String,
    /// The article of 《部分商品修理更换退货责任规定》 that opens it.
    pub article: String,
    pub reason: String,
    pub inspection: String,
    pub refund_fen: i64,
    pub replacement_serial: Option<String>,
    /// submitted, approved, rejected
    pub status: String,
    pub decision_note: String,
    pub created_at: Instant,
    pub version: i64,
}

fn answer(a: &Authorisation) -> Result<ReturnAnswer, shouhou_app::AppError> {
    Ok(ReturnAnswer {
        id: a.id,
        number: a.number.clone(),
        service_request_id: a.service_request_id,
        device_id: a.device_id,
        kind: a.kind.clone(),
        article: a.article.clone(),
        reason: a.reason.clone(),
        inspection: a.inspection.clone(),
        refund_fen: a.refund_fen,
        replacement_serial: a.replacement_serial.clone(),
        status: a.status.clone(),
        decision_note: a.decision_note.clone(),
        created_at: Instant::from_ms(a.created_at)?,
        version: a.version,
    })
}

/// Ask for a return (refund) or an exchange on a request: 422 naming `kind` when the 三包 rules do
/// not open that remedy on the day the fault was reported.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/returns", operation_id = "request_return", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), request_body = ReturnForm, security(("bearer" = [])),
    responses((status = 201, body = ReturnAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn request(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<ReturnForm>,
) -> ApiResult<(StatusCode, Json<ReturnAnswer>)> {
    let a = shouhou_app::returns::request(&s.app, &rc.ctx, id, &f).await?;
    Ok((StatusCode::CREATED, Json(answer(&a)?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub service_request_id: Option<i64>,
    pub device_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ReturnList {
    pub items: Vec<ReturnAnswer>,
}

/// The returns and exchanges of a request or of a device.
#[utoipa::path(get, path = "/api/v1/returns", operation_id = "list_returns", tag = "warranty",
    params(ListQuery), security(("bearer" = [])), responses((status = 200, body = ReturnList), (status = 422, body = super::ProblemDoc)))]
pub async fn list(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ReturnList>> {
    let items = shouhou_app::returns::list(&s.app, &rc.ctx, q.service_request_id, q.device_id).await?;
    Ok(Json(ReturnList { items: items.iter().map(answer).collect::<Result<_, _>>()? }))
}

#[utoipa::path(get, path = "/api/v1/returns/{id}", operation_id = "get_return", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = ReturnAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Json<ReturnAnswer>> {
    Ok(Json(answer(&shouhou_app::returns::get(&s.app, &rc.ctx, id).await?)?))
}

/// Approve or reject (with a reason); above the refund threshold a manager approves. An approved
/// exchange restarts the device's warranty; an approved return ends it.
#[utoipa::path(post, path = "/api/v1/returns/{id}/decision", operation_id = "decide_return", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = ReturnAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn decide(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<DecisionForm>,
) -> ApiResult<Json<ReturnAnswer>> {
    let version = super::expected_version(f.version, &headers)?;
    Ok(Json(answer(&shouhou_app::returns::decide(&s.app, &rc.ctx, id, version, &f).await?)?))
}
