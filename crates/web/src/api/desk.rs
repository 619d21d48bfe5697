//! The screen pop over the API: a caller's customer, devices, open requests and history by phone or serial.
use super::devices::DeviceAnswer;
use super::requests::RequestAnswer;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::{ApiResult, Problem};
use crate::json::ApiQuery;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::customers::CustomerView;
use shouhou_app::desk::{Lookup, ScreenPop};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScreenPopQuery {
    pub phone: Option<String>,
    pub serial_number: Option<String>,
}

/// The customer behind a phone number or a serial number, their devices with warranty, open
/// requests and history; 404 when nobody matches.
#[utoipa::path(get, path = "/api/v1/screen-pop", tag = "service desk", params(ScreenPopQuery), security(("bearer" = [])),
    responses((status = 200, body = ScreenPopAnswer), (status = 404, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn screen_pop(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ScreenPopQuery>,
) -> ApiResult<Response> {
    let by = match (
        q.phone.as_deref().filter(|p| !p.trim().is_empty()),
        q.serial_number.as_deref().filter(|p| !p.trim().is_empty()),
    ) {
        (Some(p), _) => Lookup::Phone(p),
        (None, Some(sn)) => Lookup::Serial(sn),
        (None, None) => {
            return Ok(Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "phone", "required")
                .into_response());
        }
    };
    match shouhou_app::desk::screen_pop(&s.app, &rc.ctx, by).await? {
        Some(pop) => Ok(Json(ScreenPopAnswer::from(pop)).into_response()),
        None => Ok(super::not_found().into_response()),
    }
}

/// What an agent sees the moment a call comes in: the customer, their devices with warranty, open
/// requests (newest first, at most 50) and history (closed or cancelled, at most 20).
#[derive(Serialize, ToSchema)]
pub struct ScreenPopAnswer {
    pub customer: CustomerView,
    pub devices: Vec<DeviceAnswer>,
    pub open_requests: Vec<RequestAnswer>,
    pub history: Vec<RequestAnswer>,
}

impl From<ScreenPop> for ScreenPopAnswer {
    fn from(p: ScreenPop) -> Self {
        ScreenPopAnswer {
            customer: p.customer,
            devices: p.devices.into_iter().map(DeviceAnswer::from).collect(),
            open_requests: p.open_requests.iter().map(RequestAnswer::from).collect(),
            history: p.history.iter().map(RequestAnswer::from).collect(),
        }
    }
}
