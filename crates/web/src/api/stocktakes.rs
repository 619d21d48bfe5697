//! Stocktake over the API.
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
use shouhou_app::stocktakes::{NewStocktake, StepForm, Stocktake, StocktakeDetail};
use shouhou_domain::parts::format_milli;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct LineAnswer {
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    /// On hand when the sheet was made.
    pub expected: String,
    pub counted: Option<String>,
    /// Counted less expected.
    pub difference: Option<String>,
    /// On hand now: a change since the sheet was made shows here.
    pub on_hand_now: String,
    /// The ledger row that posted the difference, once approved.
    pub movement_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct StocktakeAnswer {
    pub id: i64,
    /// `ST-YYYYMMDD-NNNN`
    pub number: String,
    pub warehouse_id: i64,
    pub warehouse_code: String,
    /// counting, submitted, approved, rejected
    pub status: String,
    pub note: String,
    pub decision_note: String,
    pub created_at: Instant,
    pub version: i64,
    pub lines: Vec<LineAnswer>,
    /// What the caller may do now.
    pub actions: Vec<String>,
}

fn summary(s: &Stocktake) -> Result<StocktakeAnswer, shouhou_app::AppError> {
    Ok(StocktakeAnswer {
        id: s.id,
        number: s.number.clone(),
        warehouse_id: s.warehouse_id,
        warehouse_code: s.warehouse_code.clone(),
        status: s.status.clone(),
        note: s.note.clone(),
        decision_note: s.decision_note.clone(),
        created_at: Instant::from_ms(s.created_at)?,
        version: s.version,
        lines: vec![],
        actions: vec![],
    })
}

impl StocktakeAnswer {
    pub fn new(d: &StocktakeDetail) -> Result<Self, shouhou_app::AppError> {
        let mut a = summary(&d.stocktake)?;
        a.lines = d
            .lines
            .iter()
            .map(|l| LineAnswer {
                part_code: l.part_code.clone(),
                part_name: l.part_name.clone(),
                unit: l.unit.clone(),
                expected: format_milli(l.expected),
                counted: l.counted.map(format_milli),
                difference: l.counted.map(|c| format_milli(c - l.expected)),
                on_hand_now: format_milli(l.on_hand_now),
                movement_id: l.movement_id,
            })
            .collect();
        a.actions = d.actions.iter().map(|x| x.as_str().to_string()).collect();
        Ok(a)
    }
}

/// Open a count sheet for a warehouse: a line for every part it holds, expected on hand now.
#[utoipa::path(post, path = "/api/v1/stocktakes", operation_id = "open_stocktake", tag = "parts",
    request_body = NewStocktake, security(("bearer" = [])),
    responses((status = 201, body = StocktakeAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn open(State(s): State<AppState>, rc: ReqCtx, ApiJson(f): ApiJson<NewStocktake>) -> ApiResult<Response> {
    let d = shouhou_app::stocktakes::open(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, etag(d.stocktake.version), Json(StocktakeAnswer::new(&d)?)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub warehouse_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct StocktakeList {
    pub items: Vec<StocktakeAnswer>,
}

/// The count sheets of the caller's warehouses, newest first (without their lines).
#[utoipa::path(get, path = "/api/v1/stocktakes", operation_id = "list_stocktakes", tag = "parts",
    params(ListQuery), security(("bearer" = [])), responses((status = 200, body = StocktakeList)))]
pub async fn list(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<StocktakeList>> {
    let items = shouhou_app::stocktakes::list(&s.app, &rc.ctx, q.warehouse_id).await?;
    Ok(Json(StocktakeList { items: items.iter().map(summary).collect::<Result<_, _>>()? }))
}

/// A count sheet with its lines.
#[utoipa::path(get, path = "/api/v1/stocktakes/{id}", operation_id = "get_stocktake", tag = "parts",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = StocktakeAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::stocktakes::get(&s.app, &rc.ctx, id).await?;
    Ok((etag(d.stocktake.version), Json(StocktakeAnswer::new(&d)?)).into_response())
}

/// A step: `count` (with counts), `submit` (every line counted), then someone other than the counter
/// decides: `approve` posts each difference to the ledger, `return` sends it back to counting,
/// `reject` closes it (both with a reason).
#[utoipa::path(post, path = "/api/v1/stocktakes/{id}/steps", operation_id = "stocktake_step", tag = "parts",
    params(("id" = i64, Path, description = "record id")), request_body = StepForm, security(("bearer" = [])),
    responses((status = 200, body = StocktakeAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn step(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<StepForm>,
) -> ApiResult<Response> {
    let version = expected_version(f.version, &headers)?;
    let d = shouhou_app::stocktakes::step(&s.app, &rc.ctx, id, version, &f).await?;
    Ok((etag(d.stocktake.version), Json(StocktakeAnswer::new(&d)?)).into_response())
}
