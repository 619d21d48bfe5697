//! The in-app inbox: notifications for a user, read and unread.
use crate::{Conn, Page, PageRequest, Result, StoreError, both};
use serde::Serialize;
use sqlx::AssertSqlSafe;

// ---------- notifications and the outbox ----------

pub struct NewNotification<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: Option<&'a str>,
    pub urgent: bool,
    /// Not shown in the inbox, nor dispatched, before this instant.
    pub deliver_after: i64,
}

/// A notification and its outbox row for `channels`, in the caller's transaction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_notification(
    c: &mut Conn<'_>,
    n: &NewNotification<'_>,
    channels: &[&str],
    now: i64,
) -> Result<i64> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, title, body, link, urgent, created_at, deliver_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(n.user_id).bind(n.kind).bind(n.title).bind(n.body).bind(n.link).bind(n.urgent).bind(now).bind(n.deliver_after)
        .fetch_one(c).await)?;
    for channel in channels {
        both!(c, c => sqlx::query(
            "INSERT INTO outbox (channel, notification_id, created_at, deliver_after) VALUES ($1, $2, $3, $4)")
            .bind(channel).bind(id).bind(now).bind(n.deliver_after)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(id)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub urgent: bool,
    pub created_at: i64,
    pub deliver_after: i64,
    pub read_at: Option<i64>,
}

const NOTIFICATION_COLS: &str = "id, user_id, kind, title, body, link, urgent, created_at, deliver_after, read_at";

/// A user's delivered notifications (`deliver_after <= now`), newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn inbox(c: &mut Conn<'_>, user_id: i64, now: i64, page: PageRequest) -> Result<Page<Notification>> {
    let sql = format!(
        "SELECT {NOTIFICATION_COLS} FROM notifications WHERE user_id = $1 AND deliver_after <= $2 \
         ORDER BY deliver_after DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let items = both!(c, c => sqlx::query_as::<_, Notification>(AssertSqlSafe(sql))
        .bind(user_id).bind(now).bind(page.limit()).bind(page.offset()).fetch_all(c).await)?;
    let total: i64 = both!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND deliver_after <= $2")
        .bind(user_id).bind(now).fetch_one(c).await)?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// Delivered and unread: the counter in the page header.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unread_count(c: &mut Conn<'_>, user_id: i64, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL AND deliver_after <= $2")
        .bind(user_id).bind(now).fetch_one(c).await)?)
}

/// Mark one of the user's delivered notifications read (reading it again keeps the first time).
/// `NotFound` for another user's, a held or a missing notification.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_read(c: &mut Conn<'_>, user_id: i64, id: i64, now: i64) -> Result<()> {
    let n = both!(c, c => sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3 AND deliver_after <= $1")
        .bind(now).bind(id).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

/// Mark every delivered, unread notification of the user read; how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_all_read(c: &mut Conn<'_>, user_id: i64, now: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND deliver_after <= $1")
        .bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?)
}
