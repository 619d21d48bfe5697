//! Product recalls over the API.
use super::Instant;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use shouhou_app::recalls::{Progress, Recall, RecallDetail, RecallDevice, RecallForm, StateForm};
use utoipa::ToSchema;

/// A recall campaign with its progress as far as the caller's stations go.
#[derive(Serialize, ToSchema)]
pub struct RecallAnswer {
    pub id: i64,
    /// `RC-YYYYMMDD-NNNN`
    pub number: String,
    pub name: String,
    pub model_code: String,
    pub serial_from: String,
    pub serial_to: String,
    pub reason: String,
    /// The devices the range selected.
    pub device_count: i64,
    pub created_at: Instant,
    pub progress: Progress,
    /// Per station serving the devices.
    pub stations: Vec<Progress>,
}

impl RecallAnswer {
    fn new(d: &RecallDetail) -> Result<Self, shouhou_app::AppError> {
        let r = &d.recall;
        Ok(RecallAnswer {
            id: r.id,
            number: r.number.clone(),
            name: r.name.clone(),
            model_code: r.model_code.clone(),
            serial_from: r.serial_from.clone(),
            serial_to: r.serial_to.clone(),
            reason: r.reason.clone(),
            device_count: r.device_count,
            created_at: Instant::from_ms(r.created_at)?,
            progress: d.overall.clone(),
            stations: d.stations.clone(),
        })
    }
}

/// Start a recall (service administrators): the model's devices whose serial is in the range
/// (both ends the same length and prefix). 422 naming the rule otherwise.
#[utoipa::path(post, path = "/api/v1/recalls", operation_id = "create_recall", tag = "warranty",
    request_body = RecallForm, security(("bearer" = [])),
    responses((status = 201, body = RecallAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn create(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<RecallForm>,
) -> ApiResult<(StatusCode, Json<RecallAnswer>)> {
    let d = shouhou_app::recalls::create_recall(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(RecallAnswer::new(&d)?)))
}

#[derive(Serialize, ToSchema)]
pub struct RecallItem {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub model_code: String,
    pub device_count: i64,
    pub created_at: Instant,
}

#[derive(Serialize, ToSchema)]
pub struct RecallList {
    pub items: Vec<RecallItem>,
}

fn item(r: &Recall) -> Result<RecallItem, shouhou_app::AppError> {
    Ok(RecallItem {
        id: r.id,
        number: r.number.clone(),
        name: r.name.clone(),
        model_code: r.model_code.clone(),
        device_count: r.device_count,
        created_at: Instant::from_ms(r.created_at)?,
    })
}

/// The recall campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/recalls", operation_id = "list_recalls", tag = "warranty",
    security(("bearer" = [])), responses((status = 200, body = RecallList)))]
pub async fn list(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<Json<RecallList>> {
    let items = shouhou_app::recalls::list_recalls(&s.app, &rc.ctx).await?;
    Ok(Json(RecallList { items: items.iter().map(item).collect::<Result<_, _>>()? }))
}

/// A recall with its progress.
#[utoipa::path(get, path = "/api/v1/recalls/{id}", operation_id = "get_recall", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = RecallAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Json<RecallAnswer>> {
    let d = shouhou_app::recalls::get_recall(&s.app, &rc.ctx, id).await?;
    Ok(Json(RecallAnswer::new(&d)?))
}

#[derive(Serialize, ToSchema)]
pub struct RecallDeviceAnswer {
    pub device_id: i64,
    pub serial_number: String,
    pub customer_id: i64,
    pub station_id: Option<i64>,
    /// pending, contacted, scheduled, done, unreachable
    pub state: String,
    pub work_order_id: Option<i64>,
    pub work_order_number: Option<String>,
    pub note: String,
    pub updated_at: Instant,
}

fn device(d: &RecallDevice) -> Result<RecallDeviceAnswer, shouhou_app::AppError> {
    Ok(RecallDeviceAnswer {
        device_id: d.device_id,
        serial_number: d.serial_number.clone(),
        customer_id: d.customer_id,
        station_id: d.station_id,
        state: d.state.clone(),
        work_order_id: d.work_order_id,
        work_order_number: d.work_order_number.clone(),
        note: d.note.clone(),
        updated_at: Instant::from_ms(d.updated_at)?,
    })
}

#[derive(Serialize, ToSchema)]
pub struct RecallDeviceList {
    pub items: Vec<RecallDeviceAnswer>,
}

/// The devices of a recall served by the caller's stations, by serial.
#[utoipa::path(get, path = "/api/v1/recalls/{id}/devices", operation_id = "recall_devices", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = RecallDeviceList), (status = 404, body = super::ProblemDoc)))]
pub async fn devices(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Json<RecallDeviceList>> {
    let items = shouhou_app::recalls::devices(&s.app, &rc.ctx, id).await?;
    Ok(Json(RecallDeviceList { items: items.iter().map(device).collect::<Result<_, _>>()? }))
}

/// Record where a device of the recall stands (contacted, unreachable, done, or back to pending).
#[utoipa::path(put, path = "/api/v1/recalls/{id}/devices/{device_id}", operation_id = "record_recall_device", tag = "warranty",
    params(("id" = i64, Path, description = "record id"), ("device_id" = i64, Path, description = "device id")),
    request_body = StateForm, security(("bearer" = [])),
    responses((status = 200, body = RecallDeviceAnswer), (status = 404, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn record_state(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path((id, device_id)): Path<(i64, i64)>,
    ApiJson(f): ApiJson<StateForm>,
) -> ApiResult<Json<RecallDeviceAnswer>> {
    let d = shouhou_app::recalls::record_state(&s.app, &rc.ctx, id, device_id, &f).await?;
    Ok(Json(device(&d)?))
}

#[derive(Serialize, ToSchema)]
pub struct Made {
    /// Work orders made now (a device gets one once).
    pub made: usize,
}

/// Make a repair work order for every device of the caller's stations that still needs a visit.
#[utoipa::path(post, path = "/api/v1/recalls/{id}/work-orders", operation_id = "make_recall_work_orders", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = Made), (status = 404, body = super::ProblemDoc)))]
pub async fn make_work_orders(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Json<Made>> {
    Ok(Json(Made { made: shouhou_app::recalls::make_work_orders(&s.app, &rc.ctx, id).await? }))
}

/// The recall's devices as an Excel file, customers masked as the caller may see them.
#[utoipa::path(get, path = "/api/v1/recalls/{id}/export.xlsx", operation_id = "export_recall", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = super::ProblemDoc)))]
pub async fn export(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let bytes = shouhou_app::recalls::export_xlsx(&s.app, &rc.ctx, id).await?;
    Ok(crate::pages::customers::xlsx(&format!("recall-{id}.xlsx"), bytes))
}
