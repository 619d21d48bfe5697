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
use shouhou_app::users::User;
use shouhou_app::users::{UserChange, UserForm};
use shouhou_domain::ids::UserId;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateBody {
    pub display_name: String,
    pub locale: Option<String>,
    pub active: Option<bool>,
    pub roles: Vec<String>,
    #[serde(default)]
    pub stations: Vec<String>,
    /// Set a new password (administrator reset); every session of the user ends.
    pub password: Option<String>,
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub locale: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub station_ids: Vec<i64>,
    pub version: i64,
    pub created_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            locale: u.locale,
            active: u.active,
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            station_ids: u.stations.iter().map(|s| s.0).collect(),
            version: u.version,
            created_at: rfc3339(u.created_at),
        }
    }
}

/// Users the caller may see (headquarters: all; a station manager: their station's).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<UserView>)))]
pub async fn list_users(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<UserView>>> {
    let p = shouhou_app::users::list_users(&s.app, &rc.ctx, q.q.as_deref(), q.page()?).await?;
    Ok(Json(Paged::from(p, UserView::from)))
}

/// Create a user (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc), (status = 409, body = super::ProblemDoc)))]
pub async fn create_user(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(form): ApiJson<UserForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::users::create_user(&s.app, &rc.ctx, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 404, body = super::ProblemDoc)))]
pub async fn get_user(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    let u = shouhou_app::users::get_user(&s.app, &rc.ctx, UserId(id)).await?;
    Ok((etag(u.version), Json(UserView::from(u))))
}

/// Update a user's name, roles, stations, language, active flag or password.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "record id")), request_body = UserUpdateBody, security(("bearer" = [])),
    responses((status = 200, body = Versioned), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn update_user(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<UserUpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let version = expected_version(b.version, &headers)?;
    let ch = UserChange {
        display_name: b.display_name,
        locale: b.locale.unwrap_or_default(),
        active: b.active.unwrap_or(true),
        roles: b.roles,
        stations: b.stations,
        password: b.password,
    };
    let v = shouhou_app::users::update_user(&s.app, &rc.ctx, UserId(id), version, &ch).await?;
    Ok((etag(v), Json(Versioned { id, version: v })))
}
