//! Warehouses over the API.
use super::{Created, Paged, etag};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::json::ApiQuery;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use shouhou_app::warehouses::Warehouse;
use shouhou_app::warehouses::WarehouseForm;
use shouhou_domain::ids::{StationId, WarehouseId};
use shouhou_domain::regions::region_name;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct WarehouseView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub station_id: Option<i64>,
    /// A van: the engineer it belongs to.
    pub engineer_id: Option<i64>,
    pub region_code: String,
    pub region_name: String,
    pub address: String,
    pub active: bool,
    pub version: i64,
}

impl From<Warehouse> for WarehouseView {
    fn from(w: Warehouse) -> Self {
        WarehouseView {
            id: w.id,
            region_name: region_name(&w.region_code),
            code: w.code,
            name: w.name,
            station_id: w.station_id,
            engineer_id: w.engineer_id,
            region_code: w.region_code,
            address: w.address,
            active: w.active,
            version: w.version,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarehouseQuery {
    pub station_id: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Warehouses the caller may see (central ones to headquarters only).
#[utoipa::path(get, path = "/api/v1/warehouses", tag = "organisation", params(WarehouseQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<WarehouseView>)))]
pub async fn list_warehouses(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<WarehouseQuery>,
) -> ApiResult<Json<Paged<WarehouseView>>> {
    let page = super::page_of(q.page, q.per_page)?;
    let p = shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, q.station_id.map(StationId), page).await?;
    Ok(Json(Paged::from(p, WarehouseView::from)))
}

/// Create a warehouse (administrators, warehouse keepers).
#[utoipa::path(post, path = "/api/v1/warehouses", tag = "organisation", request_body = WarehouseForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_warehouse(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(form): ApiJson<WarehouseForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::warehouses::create_warehouse(&s.app, &rc.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// One warehouse; 404 outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/warehouses/{id}", tag = "organisation", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = WarehouseView), (status = 404, body = super::ProblemDoc)))]
pub async fn get_warehouse(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    let w = shouhou_app::warehouses::get_warehouse(&s.app, &rc.ctx, WarehouseId(id)).await?;
    Ok((etag(w.version), Json(WarehouseView::from(w))))
}
