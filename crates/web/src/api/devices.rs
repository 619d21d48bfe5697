//! Devices over the API.
use super::Created;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shouhou_app::devices::{DeviceForm, DeviceView};
use shouhou_domain::devices::WarrantyStatus;
use utoipa::ToSchema;

/// Register a device of a customer; its serial number is unique per model.
#[utoipa::path(post, path = "/api/v1/devices", tag = "service desk", request_body = DeviceForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_device(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<DeviceForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::devices::create_device(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A device with its warranty as of today.
#[derive(Serialize, ToSchema)]
pub struct DeviceAnswer {
    pub id: i64,
    pub serial_number: String,
    pub model_code: String,
    pub model_name: String,
    pub product_line: String,
    pub customer_id: i64,
    /// `YYYY-MM-DD`.
    pub sale_date: String,
    pub warranty: WarrantyAnswer,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    /// When its first maintenance (首保) was done.
    pub first_maintenance_at: Option<super::Instant>,
}

/// in_warranty (free warranty through `until`), extended (a service contract through `until`) or
/// expired (not covered since the day after `until`).
#[derive(Serialize, ToSchema)]
pub struct WarrantyAnswer {
    pub status: String,
    /// `YYYY-MM-DD`, the last covered day.
    pub until: String,
}

impl From<WarrantyStatus> for WarrantyAnswer {
    fn from(w: WarrantyStatus) -> Self {
        let (status, until) = match w {
            WarrantyStatus::InWarranty { until } => ("in_warranty", until),
            WarrantyStatus::Expired { until } => ("expired", until),
            WarrantyStatus::Extended { until } => ("extended", until),
        };
        WarrantyAnswer { status: status.to_string(), until: until.to_string() }
    }
}

impl From<DeviceView> for DeviceAnswer {
    fn from(d: DeviceView) -> Self {
        DeviceAnswer {
            id: d.id,
            serial_number: d.serial_number,
            model_code: d.model_code,
            model_name: d.model_name,
            product_line: d.product_line,
            customer_id: d.customer_id,
            sale_date: d.sale_date,
            warranty: d.warranty.into(),
            install_region_code: d.install_region_code,
            install_address: d.install_address,
            dealer_name: d.dealer_name,
            first_maintenance_at: super::Instant::opt(d.first_maintenance_at),
        }
    }
}
