//! Service stations over the API.
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
use shouhou_app::stations::Station;
use shouhou_app::stations::StationForm;
use shouhou_domain::ids::StationId;
use shouhou_domain::regions::region_name;
use utoipa::ToSchema;

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
    let p = shouhou_app::stations::list_stations(&s.app, &rc.ctx, q.q.as_deref(), q.page()?).await?;
    Ok(Json(Paged::from(p, StationView::from)))
}

/// Create a service station (administrators).
#[utoipa::path(post, path = "/api/v1/stations", tag = "organisation", request_body = StationForm, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc), (status = 409, body = super::ProblemDoc)))]
pub async fn create_station(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(form): ApiJson<StationForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::stations::create_station(&s.app, &rc.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// One station; 404 when it does not exist or is outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "organisation", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = StationView), (status = 404, body = super::ProblemDoc)))]
pub async fn get_station(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    let st = shouhou_app::stations::get_station(&s.app, &rc.ctx, StationId(id)).await?;
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
    let v =
        shouhou_app::stations::update_station(&s.app, &rc.ctx, StationId(id), version, &form, b.active.unwrap_or(true))
            .await?;
    Ok((etag(v), Json(Versioned { id, version: v })))
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
    shouhou_app::stations::set_station_calendar(&s.app, &rc.ctx, StationId(id), b.calendar_code.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
