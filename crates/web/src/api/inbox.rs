//! The signed-in user's inbox over the API.
use super::{PageQuery, Paged, rfc3339};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiQuery;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub urgent: bool,
    pub created_at: String,
    pub read: bool,
}

/// The signed-in user's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<NotificationView>)))]
pub async fn inbox(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<NotificationView>>> {
    let p = shouhou_app::inbox::inbox(&s.app, &rc.ctx, q.page()?).await?;
    Ok(Json(Paged::from(p, |n| NotificationView {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        link: n.link,
        urgent: n.urgent,
        created_at: rfc3339(n.created_at),
        read: n.read_at.is_some(),
    })))
}

#[derive(Serialize, ToSchema)]
pub struct UnreadAnswer {
    pub unread: i64,
}

/// How many notifications are unread (the counter in the page header).
#[utoipa::path(get, path = "/api/v1/inbox/unread", tag = "inbox", security(("bearer" = [])), responses((status = 200, body = UnreadAnswer)))]
pub async fn unread(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<Json<UnreadAnswer>> {
    Ok(Json(UnreadAnswer { unread: shouhou_app::inbox::unread_count(&s.app, &rc.ctx).await? }))
}

/// Mark one of one's notifications read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", tag = "inbox", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 204), (status = 404, body = super::ProblemDoc)))]
pub async fn mark_read(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    shouhou_app::inbox::mark_read(&s.app, &rc.ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
