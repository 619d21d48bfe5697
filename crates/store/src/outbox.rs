//! The outbox of deliveries: notifications to send on other channels, claimed with a lease.
use crate::jobs::claim_leased;
use crate::{Conn, Result, both};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub channel: String,
    pub notification_id: i64,
    pub deliver_after: i64,
    pub attempts: i64,
}

/// Claim up to `limit` undispatched rows of `channel` that are due, with a lease until
/// `now + lease_ms` for `instance`; a row whose lease ran out is claimable again.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_outbox(
    c: &mut Conn<'_>,
    channel: &str,
    now: i64,
    instance: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<OutboxItem>> {
    let pick = "SELECT id FROM outbox WHERE channel = $4 AND dispatched_at IS NULL AND deliver_after <= $3 \
                AND (locked_until IS NULL OR locked_until <= $3) ORDER BY deliver_after, id LIMIT $5";
    let returning = "id, channel, notification_id, deliver_after, attempts";
    let mut rows: Vec<OutboxItem> =
        claim_leased(c, "outbox", pick, returning, now.saturating_add(lease_ms), instance, now, channel, limit).await?;
    rows.sort_by_key(|r| (r.deliver_after, r.id));
    Ok(rows)
}

/// Mark a claimed row delivered; false if the lease was lost to another instance meanwhile.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_dispatched(c: &mut Conn<'_>, id: i64, instance: &str, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE outbox SET dispatched_at = $1, locked_until = NULL, last_error = NULL \
         WHERE id = $2 AND locked_by = $3 AND dispatched_at IS NULL")
        .bind(now).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Give a claimed row back after a failed delivery, to be retried from `retry_at`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release_outbox(c: &mut Conn<'_>, id: i64, instance: &str, error: &str, retry_at: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE outbox SET locked_until = NULL, locked_by = NULL, last_error = $1, deliver_after = $2 \
         WHERE id = $3 AND locked_by = $4 AND dispatched_at IS NULL")
        .bind(error).bind(retry_at).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
