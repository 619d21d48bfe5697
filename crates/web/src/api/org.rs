use super::{Created, PageQuery, Paged, Versioned, etag, expected_version, rfc3339};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::json::ApiQuery;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use shouhou_app::org::{StationForm, WarehouseForm};
use shouhou_domain::ids::{StationId, WarehouseId};
use shouhou_domain::region::region_name;
use shouhou_store::org::{Station, Warehouse};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationBody {
    /// 2–20 upper-case letters, digits or `-`, e.g. `SZ-NS01`.
    pub code: String,
    pub name: String,
    /// GB/T 2260 six-digit division code, e.g. `440305`.
    pub region_code: String,
    pub address: String,
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationUpdateBody {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub address: String,
    pub phone: Option<String>,
    pub active: Option<bool>,
    /// The version read; or send `If-Match`.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct StationView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub region_name: String,
    pub address: String,
    pub phone: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Station> for StationView {
    fn from(s: Station) -> Self {
        StationView {
            id: s.id,
            region_name: region_name(&s.region_code),
            code: s.code,
            name: s.name,
            region_code: s.region_code,
            address: s.address,
            phone: s.phone,
            active: s.active,
            version: s.version,
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

/// Service stations the caller may see.
#[utoipa::path(get, path = "/api/v1/stations", tag = "organisation", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<StationView>)))]
pub async fn list_stations(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<StationView>>> {
    let p = shouhou_app::org::list_stations(&s.app, &rc.ctx, q.q.as_deref(), q.page()?).await?;
    Ok(Json(Paged::from(p, StationView::from)))
}

/// Create a service station (administrators).
#[utoipa::path(post, path = "/api/v1/stations", tag = "organisation", request_body = StationBody, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc), (status = 409, body = super::ProblemDoc)))]
pub async fn create_station(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<StationBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let form =
        StationForm { code: b.code, name: b.name, region_code: b.region_code, address: b.address, phone: b.phone };
    let id = shouhou_app::org::create_station(&s.app, &rc.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// One station; 404 when it does not exist or is outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "organisation", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = StationView), (status = 404, body = super::ProblemDoc)))]
pub async fn get_station(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    let st = shouhou_app::org::get_station(&s.app, &rc.ctx, StationId(id)).await?;
    Ok((etag(st.version), Json(StationView::from(st))))
}

/// Update a station; `version` (or `If-Match`) must be the current one, else 409.
#[utoipa::path(patch, path = "/api/v1/stations/{id}", tag = "organisation", params(("id" = i64, Path, description = "record id")), request_body = StationUpdateBody, security(("bearer" = [])),
    responses((status = 200, body = Versioned), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn update_station(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<StationUpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let version = expected_version(b.version, &headers)?;
    let form =
        StationForm { code: b.code, name: b.name, region_code: b.region_code, address: b.address, phone: b.phone };
    let v = shouhou_app::org::update_station(&s.app, &rc.ctx, StationId(id), version, &form, b.active.unwrap_or(true))
        .await?;
    Ok((etag(v), Json(Versioned { id, version: v })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseBody {
    pub code: String,
    pub name: String,
    /// The owning station's code; omit for a central warehouse of headquarters.
    pub station_code: Option<String>,
    pub region_code: String,
    pub address: String,
}

#[derive(Serialize, ToSchema)]
pub struct WarehouseView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub station_id: Option<i64>,
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
    let p = shouhou_app::org::list_warehouses(&s.app, &rc.ctx, q.station_id.map(StationId), page).await?;
    Ok(Json(Paged::from(p, WarehouseView::from)))
}

/// Create a warehouse (administrators, warehouse keepers).
#[utoipa::path(post, path = "/api/v1/warehouses", tag = "organisation", request_body = WarehouseBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_warehouse(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<WarehouseBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let form = WarehouseForm {
        code: b.code,
        name: b.name,
        station_code: b.station_code,
        region_code: b.region_code,
        address: b.address,
    };
    let id = shouhou_app::org::create_warehouse(&s.app, &rc.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// One warehouse; 404 outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/warehouses/{id}", tag = "organisation", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = WarehouseView), (status = 404, body = super::ProblemDoc)))]
pub async fn get_warehouse(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    let w = shouhou_app::org::get_warehouse(&s.app, &rc.ctx, WarehouseId(id)).await?;
    Ok((etag(w.version), Json(WarehouseView::from(w))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationCalendarBody {
    /// A calendar code, or null to follow the SLA policies' calendars.
    pub calendar_code: Option<String>,
}

/// Put a station on its own business calendar (administrators).
#[utoipa::path(put, path = "/api/v1/stations/{id}/calendar", tag = "organisation", params(("id" = i64, Path, description = "record id")),
    request_body = StationCalendarBody, security(("bearer" = [])), responses((status = 204), (status = 422, body = super::ProblemDoc)))]
pub async fn set_station_calendar(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StationCalendarBody>,
) -> ApiResult<StatusCode> {
    shouhou_app::org::set_station_calendar(&s.app, &rc.ctx, StationId(id), b.calendar_code.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
