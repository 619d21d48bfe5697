//! Attachments of requests over the API (multipart upload, download).
use super::Created;
use super::Instant;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shouhou_app::AppError;
use shouhou_app::attachments::AttachmentMeta;
use utoipa::ToSchema;

/// Attach a photo or document (multipart field `file`, at most 10 MiB); the type is judged by the
/// content, and a name claiming another type is refused.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/attachments", tag = "service desk",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn add_attachment(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> ApiResult<Response> {
    let (name, bytes) = match read_file_field(multipart).await {
        Ok(f) => f,
        Err(p) => return Ok(p.into_response()),
    };
    let att = shouhou_app::attachments::add_attachment(&s.app, &rc.ctx, id, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(Created { id: att })).into_response())
}

/// The field `file` of a multipart body: its file name and bytes. A body too large is 413, a
/// malformed one or a file name with a control character 400 (see `json::multipart_problem`).
pub async fn read_file_field(mut multipart: axum::extract::Multipart) -> Result<(String, Vec<u8>), Problem> {
    use crate::json::{multipart_problem, upload_file_name};
    while let Some(field) = multipart.next_field().await.map_err(|e| multipart_problem(&e))? {
        if field.name() == Some("file") {
            let name = upload_file_name(field.file_name().unwrap_or(""))?;
            let bytes = field.bytes().await.map_err(|e| multipart_problem(&e))?;
            return Ok((name, bytes.to_vec()));
        }
    }
    Err(Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "file", "required"))
}

/// Download an attachment (served as a download, never rendered inline).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, description = "the file"), (status = 404, body = super::ProblemDoc)))]
pub async fn get_attachment(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let (meta, bytes) = shouhou_app::attachments::get_attachment(&s.app, &rc.ctx, id).await?;
    Ok(attachment_response(&meta, bytes))
}

pub fn attachment_response(meta: &AttachmentMeta, bytes: Vec<u8>) -> Response {
    download(&meta.file_name, &meta.content_type, bytes)
}

/// A stored file as a download under its own name (RFC 5987), never rendered inline.
pub fn download(file_name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, max-age=0".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A photo or document on a request's timeline.
#[derive(Serialize, ToSchema)]
pub struct AttachmentAnswer {
    pub id: i64,
    pub request_id: i64,
    pub event_id: Option<i64>,
    pub file_name: String,
    /// Judged on the content, not the name.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Instant,
}

impl TryFrom<AttachmentMeta> for AttachmentAnswer {
    type Error = AppError;
    fn try_from(a: AttachmentMeta) -> Result<Self, AppError> {
        Ok(AttachmentAnswer {
            id: a.id,
            request_id: a.request_id,
            event_id: a.event_id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            created_at: Instant::from_ms(a.created_at)?,
        })
    }
}
