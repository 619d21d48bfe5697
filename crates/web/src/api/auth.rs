use super::rfc3339;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use shouhou_app::AppError;
use shouhou_app::users::TokenKind;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenAnswer {
    /// Bearer token: send as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// RFC 3339, +08:00.
    pub expires_at: String,
}

/// Log in and get an API bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = TokenAnswer), (status = 401, body = super::ProblemDoc), (status = 429, body = super::ProblemDoc)))]
pub async fn login(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LoginBody>,
) -> ApiResult<Json<TokenAnswer>> {
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let issued = shouhou_app::auth::login(&s.app, &rc.ctx, &b.username, &b.password, TokenKind::Api, ua).await?;
    Ok(Json(TokenAnswer { token: issued.token, expires_at: rfc3339(issued.expires_at_ms) }))
}

/// Revoke the presented token (log out). Answers 204 also when it was already revoked.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::ProblemDoc)))]
pub async fn logout(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<StatusCode> {
    let token = rc.token.as_deref().ok_or(AppError::Unauthenticated)?;
    shouhou_app::auth::logout(&s.app, &rc.ctx, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MeAnswer {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub locale: String,
    pub roles: Vec<String>,
    pub station_ids: Vec<i64>,
    pub permissions: Vec<String>,
}

/// The signed-in user, with roles and permissions.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeAnswer), (status = 401, body = super::ProblemDoc)))]
pub async fn me(rc: ReqCtx) -> ApiResult<Json<MeAnswer>> {
    let a = rc.ctx.actor()?;
    Ok(Json(MeAnswer {
        id: a.id.0,
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        locale: a.locale.as_str().into(),
        roles: a.roles.iter().map(|r| r.as_str().to_string()).collect(),
        station_ids: a.stations.iter().map(|s| s.0).collect(),
        permissions: a
            .permissions
            .iter()
            .filter_map(|p| serde_json::to_value(p).ok())
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
    }))
}
