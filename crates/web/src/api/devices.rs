//! Devices over the API.
use super::Created;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shouhou_app::devices::DeviceForm;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    pub serial_number: String,
    pub model_code: String,
    pub customer_id: i64,
    /// YYYY-MM-DD, not in the future.
    pub sale_date: String,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    /// Warranty extended by contract through this day (YYYY-MM-DD).
    pub contract_until: Option<String>,
}

/// Register a device of a customer; its serial number is unique per model.
#[utoipa::path(post, path = "/api/v1/devices", tag = "service desk", request_body = DeviceBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_device(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<DeviceBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let f = DeviceForm {
        serial_number: b.serial_number,
        model_code: b.model_code,
        customer_id: b.customer_id,
        sale_date: b.sale_date,
        install_region_code: b.install_region_code,
        install_address: b.install_address,
        dealer_name: b.dealer_name,
        contract_until: b.contract_until,
    };
    let id = shouhou_app::devices::create_device(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
