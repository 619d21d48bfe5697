//! Attachments on a request's timeline: photos and documents, their type checked on the content.
use crate::audit::record;
use crate::requests::request_in_scope;
use crate::requests::request_to_change;
use crate::sla::event;
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::auth::Permission;
/// What a caller learns of an attachment besides its bytes.
pub use shouhou_store::requests::AttachmentMeta;
use shouhou_store::requests::{self, NewEvent};

/// Attach a photo or document to a request's timeline; its type is checked on the content.
#[tracing::instrument(skip_all)]
pub async fn add_attachment(app: &App, ctx: &Ctx, id: i64, file_name: &str, bytes: &[u8]) -> Result<i64> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let sha = crate::secrets::sha256_hex(bytes);
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    request_to_change(&mut c, actor, id).await?;
    let name = shouhou_domain::attachments::file_name("file", file_name)?;
    let content_type = shouhou_domain::attachments::check("file", &name, bytes)?;
    let data = json!({"sha256": sha, "size": bytes.len(), "content_type": content_type}).to_string();
    let event_id =
        requests::insert_event(&mut c, &NewEvent { data: &data, ..event(id, now, actor, "attachment", &name) }).await?;
    let att = requests::insert_attachment(
        &mut c,
        &requests::NewAttachment {
            request_id: id,
            event_id: Some(event_id),
            file_name: &name,
            content_type,
            sha256: &sha,
            content: bytes,
            created_by: Some(actor.id.0),
        },
        now,
    )
    .await?;
    record(
        &mut c,
        app,
        ctx,
        "request.attachment",
        "service_request",
        Some(id.to_string()),
        json!({"attachment_id": att, "file_name": name, "sha256": sha, "size": bytes.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(att)
}

/// An attachment's name, type and bytes, for a caller who may see its request.
pub async fn get_attachment(app: &App, ctx: &Ctx, attachment_id: i64) -> Result<(requests::AttachmentMeta, Vec<u8>)> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let (meta, bytes) = requests::attachment(&mut c, attachment_id).await?.ok_or(AppError::NotFound)?;
    request_in_scope(&mut c, actor, meta.request_id).await?;
    Ok((meta, bytes))
}
