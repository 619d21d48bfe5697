//! Spare parts over the API: the catalog, stock movements and the stock of the caller's warehouses.
use super::Paged;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shouhou_app::parts::{MovementDone, MovementForm, PartForm, PartView, StockView, ThresholdForm};
use utoipa::{IntoParams, ToSchema};

/// Add a part to the catalog (administrators, warehouse keepers).
#[utoipa::path(post, path = "/api/v1/parts", operation_id = "create_part", tag = "parts",
    request_body = PartForm, security(("bearer" = [])),
    responses((status = 201, body = PartView), (status = 422, body = super::ProblemDoc)))]
pub async fn create_part(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<PartForm>,
) -> ApiResult<(StatusCode, Json<PartView>)> {
    Ok((StatusCode::CREATED, Json(shouhou_app::parts::create_part(&s.app, &rc.ctx, &f).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PartQuery {
    /// Part code or name holds this.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The catalog, by part code.
#[utoipa::path(get, path = "/api/v1/parts", operation_id = "list_parts", tag = "parts", params(PartQuery),
    security(("bearer" = [])), responses((status = 200, body = Paged<PartView>)))]
pub async fn list_parts(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PartQuery>,
) -> ApiResult<Json<Paged<PartView>>> {
    let page = super::page_of(q.page, q.per_page)?;
    let p = shouhou_app::parts::list_parts(&s.app, &rc.ctx, q.q.as_deref().unwrap_or(""), page).await?;
    Ok(Json(Paged::from(p, |v| v)))
}

/// Record a stock movement: one transaction that changes the warehouse's figures and appends the
/// ledger row, or nothing at all (409 `insufficient_stock` when fewer are available).
#[utoipa::path(post, path = "/api/v1/stock-movements", operation_id = "record_stock_movement", tag = "parts",
    request_body = MovementForm, security(("bearer" = [])),
    responses((status = 201, body = MovementDone), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn record_movement(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<MovementForm>,
) -> ApiResult<(StatusCode, Json<MovementDone>)> {
    Ok((StatusCode::CREATED, Json(shouhou_app::parts::record_movement(&s.app, &rc.ctx, &f).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    pub warehouse_id: Option<i64>,
    pub part_code: Option<String>,
    /// Only the parts below their threshold.
    pub low: Option<bool>,
}

/// The stock of the warehouses the caller may see.
#[derive(Serialize, ToSchema)]
pub struct StockAnswer {
    pub items: Vec<StockView>,
}

/// On hand, reserved, available and in transit per warehouse and part, in the part's unit.
#[utoipa::path(get, path = "/api/v1/stock", operation_id = "stock", tag = "parts", params(StockQuery),
    security(("bearer" = [])), responses((status = 200, body = StockAnswer)))]
pub async fn stock(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<StockQuery>,
) -> ApiResult<Json<StockAnswer>> {
    let items =
        shouhou_app::parts::stock(&s.app, &rc.ctx, q.warehouse_id, q.part_code.as_deref(), q.low.unwrap_or(false))
            .await?;
    Ok(Json(StockAnswer { items }))
}

/// Set or clear the available quantity below which a part is low in a warehouse; a movement that
/// takes it below tells the warehouse's keepers (the station's managers, or headquarters' keepers).
#[utoipa::path(put, path = "/api/v1/stock-thresholds", operation_id = "set_stock_threshold", tag = "parts",
    request_body = ThresholdForm, security(("bearer" = [])),
    responses((status = 200, body = StockView), (status = 422, body = super::ProblemDoc)))]
pub async fn set_threshold(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<ThresholdForm>,
) -> ApiResult<Json<StockView>> {
    Ok(Json(shouhou_app::parts::set_threshold(&s.app, &rc.ctx, &f).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub warehouse_id: Option<i64>,
    /// First business day (YYYY-MM-DD; default the first of this month).
    pub from: Option<String>,
    /// Last business day, included (default today).
    pub to: Option<String>,
}

/// The stock of the caller's warehouses as an Excel file.
#[utoipa::path(get, path = "/api/v1/stock/export.xlsx", operation_id = "export_stock", tag = "parts",
    params(ExportQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export_stock(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    let bytes = shouhou_app::parts::export_stock_xlsx(&s.app, &rc.ctx, q.warehouse_id).await?;
    Ok(crate::pages::customers::xlsx("stock.xlsx", bytes))
}

/// The ledger (出入库流水) of the caller's warehouses for a period as an Excel file.
#[utoipa::path(get, path = "/api/v1/stock-movements/export.xlsx", operation_id = "export_stock_movements", tag = "parts",
    params(ExportQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, body = super::ProblemDoc)))]
pub async fn export_movements(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    let bytes =
        shouhou_app::parts::export_movements_xlsx(&s.app, &rc.ctx, q.warehouse_id, q.from.as_deref(), q.to.as_deref())
            .await?;
    Ok(crate::pages::customers::xlsx("stock-movements.xlsx", bytes))
}

/// Import the parts catalog from an Excel or CSV file (field `file`; columns 备件编码, 备件名称, 单位,
/// 规格, 单价, 可拆分, 序列号管理, 适用机型): every row or none; 422 with the rows' errors otherwise.
#[utoipa::path(post, path = "/api/v1/parts/import", operation_id = "import_parts", tag = "parts",
    request_body(content_type = "multipart/form-data", description = "field `file`"), security(("bearer" = [])),
    responses((status = 200, body = shouhou_app::imports::ImportReport), (status = 422, body = super::ProblemDoc)))]
pub async fn import(
    State(s): State<AppState>,
    rc: ReqCtx,
    multipart: axum::extract::Multipart,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (name, bytes) = match super::attachments::read_file_field(multipart).await {
        Ok(f) => f,
        Err(p) => return Ok(p.into_response()),
    };
    let table = shouhou_app::sheets::read_upload(name, bytes).await?;
    let r = shouhou_app::imports::import_parts(&s.app, &rc.ctx, &table).await?;
    if r.is_ok() {
        return Ok(Json(r).into_response());
    }
    // Refused: a problem document whose errors name each row, field and rule.
    let title = rc.tr.t("import-rejected");
    let body = serde_json::json!({
        "type": "/api/problems/import_rejected", "title": title, "status": 422, "code": "import_rejected",
        "detail": title, "rows": r.rows, "imported": 0, "errors": r.errors, "more_errors": r.more_errors,
    });
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response())
}
