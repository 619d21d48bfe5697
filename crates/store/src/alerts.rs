//! SLA alerts that fire once, the in-app inbox, the outbox of deliveries, the job queue with
//! leases, and the writes behind recomputing open requests after a calendar or policy edit.
//!
//! Claiming (jobs, outbox) is the one place the two backends differ: PostgreSQL locks the chosen
//! rows with `FOR UPDATE SKIP LOCKED` so concurrent workers take disjoint rows without waiting;
//! SQLite has a single writer (`BEGIN IMMEDIATE`), so the same statement without the locking
//! clause already runs alone.
use crate::{Conn, Page, PageRequest, Result, StoreError, both};
use serde::Serialize;
use sqlx::AssertSqlSafe;

// ---------- SLA alerts ----------

/// Record that `level` of `clock` fired for a request, unless some instance already did.
/// True when this call inserted the row: the caller fired it and must notify, in the same
/// transaction. A concurrent insert of the same key waits for the other transaction and then
/// does nothing if it committed (PostgreSQL), or runs after it (SQLite's single writer).
pub async fn insert_alert_once(
    c: &mut Conn<'_>,
    request_id: i64,
    clock: &str,
    level: &str,
    fired_at: i64,
    fired_by: &str,
) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "INSERT INTO sla_alerts (request_id, clock, level, fired_at, fired_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (request_id, clock, level) DO NOTHING")
        .bind(request_id).bind(clock).bind(level).bind(fired_at).bind(fired_by)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SlaAlert {
    pub request_id: i64,
    pub clock: String,
    pub level: String,
    pub fired_at: i64,
    pub fired_by: String,
}

pub async fn alerts_of(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<SlaAlert>> {
    Ok(both!(c, c => sqlx::query_as::<_, SlaAlert>(
        "SELECT request_id, clock, level, fired_at, fired_by FROM sla_alerts WHERE request_id = $1 ORDER BY fired_at, clock, level")
        .bind(request_id).fetch_all(c).await)?)
}

/// Open requests, after `after_id`, whose cached SLA figures say an alert may be due by `now` and
/// has not fired: a clock cached as at risk or breached, or whose cached warning or due instant
/// has passed. The cache only nominates; the caller recomputes the clocks from the events.
pub async fn alert_candidates(c: &mut Conn<'_>, now: i64, after_id: i64, limit: i64) -> Result<Vec<i64>> {
    let missing = |clock: &str, level: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM sla_alerts a WHERE a.request_id = r.id AND a.clock = '{clock}' AND a.level = '{level}')"
        )
    };
    let sql = format!(
        "SELECT r.id FROM service_requests r WHERE r.id > $2 AND r.status NOT IN ('closed', 'cancelled') AND ( \
           ((r.response_state IN ('at_risk', 'breached') OR r.response_warn_at <= $1) AND {}) \
           OR ((r.response_state = 'breached' OR r.response_due_at <= $1) AND {}) \
           OR ((r.resolution_state IN ('at_risk', 'breached') OR r.resolution_warn_at <= $1) AND {}) \
           OR ((r.resolution_state = 'breached' OR r.resolution_due_at <= $1) AND {})) \
         ORDER BY r.id LIMIT $3",
        missing("response", "warning"),
        missing("response", "breach"),
        missing("resolution", "warning"),
        missing("resolution", "breach"),
    );
    Ok(both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).bind(now).bind(after_id).bind(limit).fetch_all(c).await)?)
}

/// Which open requests to recompute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenFilter {
    All,
    /// Requests counted on this calendar.
    Calendar(String),
    /// Requests under this SLA policy.
    Policy(i64),
}

/// Ids of open requests matching `filter`, after `after_id`, in id order (keyset paging).
pub async fn open_request_ids(c: &mut Conn<'_>, filter: &OpenFilter, after_id: i64, limit: i64) -> Result<Vec<i64>> {
    let base = "SELECT id FROM service_requests WHERE status NOT IN ('closed', 'cancelled') AND id > $1";
    Ok(match filter {
        OpenFilter::All => {
            let sql = format!("{base} AND $2 = $2 ORDER BY id LIMIT $3");
            both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).bind(after_id).bind(0_i64).bind(limit).fetch_all(c).await)?
        }
        OpenFilter::Calendar(code) => {
            let sql = format!("{base} AND calendar_code = $2 ORDER BY id LIMIT $3");
            both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).bind(after_id).bind(code).bind(limit).fetch_all(c).await)?
        }
        OpenFilter::Policy(id) => {
            let sql = format!("{base} AND policy_id = $2 ORDER BY id LIMIT $3");
            both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).bind(after_id).bind(id).bind(limit).fetch_all(c).await)?
        }
    })
}

/// Store recomputed SLA figures if the request is still at `version`; false if a concurrent
/// command changed it meanwhile (that command stored figures of its own, computed afterwards).
pub async fn set_sla_if_version(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    sla: &crate::requests::SlaCache,
) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE service_requests SET response_due_at = $1, resolution_due_at = $2, response_state = $3, resolution_state = $4, \
         response_warn_at = $5, resolution_warn_at = $6 WHERE id = $7 AND version = $8")
        .bind(sla.response_due_at).bind(sla.resolution_due_at).bind(&sla.response_state).bind(&sla.resolution_state)
        .bind(sla.response_warn_at).bind(sla.resolution_warn_at).bind(id).bind(version)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The cached instants at which each clock reaches 80 %: (response, resolution).
pub async fn warn_instants(c: &mut Conn<'_>, id: i64) -> Result<(Option<i64>, Option<i64>)> {
    let row = both!(c, c => sqlx::query_as::<_, (Option<i64>, Option<i64>)>(
        "SELECT response_warn_at, resolution_warn_at FROM service_requests WHERE id = $1")
        .bind(id).fetch_optional(c).await)?;
    row.ok_or(StoreError::NotFound)
}

// ---------- policies ----------

/// Edit a policy's targets, calendar and activity if `version` is still current.
#[allow(clippy::too_many_arguments)]
pub async fn update_policy(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    response_minutes: i64,
    resolution_minutes: i64,
    calendar_code: &str,
    active: bool,
    now: i64,
) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE sla_policies SET response_minutes = $1, resolution_minutes = $2, calendar_code = $3, active = $4, \
         version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7 RETURNING version")
        .bind(response_minutes).bind(resolution_minutes).bind(calendar_code).bind(active).bind(now).bind(id).bind(version)
        .fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match crate::sla::get_policy(c, id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

/// Give the open requests of a policy its current targets and calendar (their clocks are then
/// recomputed from their events). The request's version is left alone: nobody edited the request.
pub async fn retarget_open_requests(
    c: &mut Conn<'_>,
    policy_id: i64,
    response_minutes: i64,
    resolution_minutes: i64,
    calendar_code: &str,
) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE service_requests SET response_target_min = $1, resolution_target_min = $2, calendar_code = $3 \
         WHERE policy_id = $4 AND status NOT IN ('closed', 'cancelled')")
        .bind(response_minutes).bind(resolution_minutes).bind(calendar_code).bind(policy_id)
        .execute(c).await.map(|r| r.rows_affected()))?)
}

/// Whether an active policy matches every request (no type, urgency or tier set).
pub async fn has_active_catch_all(c: &mut Conn<'_>) -> Result<bool> {
    let n: i64 = both!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM sla_policies WHERE active AND request_type IS NULL AND urgency IS NULL AND tier IS NULL")
        .fetch_one(c).await)?;
    Ok(n > 0)
}

// ---------- recipients ----------

/// Active users with `role` who are members of `station_id`, by id.
pub async fn station_members_with_role(c: &mut Conn<'_>, station_id: i64, role: &str) -> Result<Vec<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_stations us ON us.user_id = u.id JOIN user_roles ur ON ur.user_id = u.id \
         WHERE us.station_id = $1 AND ur.role = $2 AND u.active ORDER BY u.id")
        .bind(station_id).bind(role).fetch_all(c).await)?)
}

/// Whether the user exists and is active.
pub async fn user_is_active(c: &mut Conn<'_>, user_id: i64) -> Result<bool> {
    let a: Option<bool> = both!(c, c => sqlx::query_scalar("SELECT active FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(a == Some(true))
}

/// The working calendar of a user: that of their first station (lowest id), `None` when they
/// belong to no station or that station has no calendar of its own.
pub async fn user_calendar_code(c: &mut Conn<'_>, user_id: i64) -> Result<Option<String>> {
    let row: Option<Option<String>> = both!(c, c => sqlx::query_scalar(
        "SELECT s.calendar_code FROM user_stations us JOIN stations s ON s.id = us.station_id \
         WHERE us.user_id = $1 ORDER BY us.station_id LIMIT 1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(row.flatten())
}

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
pub async fn unread_count(c: &mut Conn<'_>, user_id: i64, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL AND deliver_after <= $2")
        .bind(user_id).bind(now).fetch_one(c).await)?)
}

/// Mark one of the user's delivered notifications read (reading it again keeps the first time).
/// `NotFound` for another user's, a held or a missing notification.
pub async fn mark_read(c: &mut Conn<'_>, user_id: i64, id: i64, now: i64) -> Result<()> {
    let n = both!(c, c => sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3 AND deliver_after <= $1")
        .bind(now).bind(id).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

/// Mark every delivered, unread notification of the user read; how many.
pub async fn mark_all_read(c: &mut Conn<'_>, user_id: i64, now: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND deliver_after <= $1")
        .bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub channel: String,
    pub notification_id: i64,
    pub deliver_after: i64,
    pub attempts: i64,
}

/// The lease both queues (outbox, jobs) are claimed with: the rows `pick` chooses (it reads `$3`
/// now, `$4` the channel or kind, `$5` the limit) get `locked_until = $1`, `locked_by = $2` and one
/// more attempt; answers them by `returning`.
#[allow(clippy::too_many_arguments)]
async fn claim_leased<T>(
    c: &mut Conn<'_>,
    table: &str,
    pick: &str,
    returning: &str,
    until: i64,
    instance: &str,
    now: i64,
    key: &str,
    limit: i64,
) -> Result<Vec<T>>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let lock = match c {
        // SQLite: one writer at a time, so the rows chosen cannot be claimed by anyone else meanwhile.
        Conn::Sqlite(_) => "",
        // PostgreSQL: lock the chosen rows and skip those another worker holds, so concurrent
        // claimers take disjoint rows without waiting for each other.
        Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE {table} SET locked_until = $1, locked_by = $2, attempts = attempts + 1 WHERE id IN ({pick}{lock}) \
         RETURNING {returning}"
    );
    Ok(both!(c, c => sqlx::query_as::<_, T>(AssertSqlSafe(sql))
        .bind(until).bind(instance).bind(now).bind(key).bind(limit).fetch_all(c).await)?)
}

/// Claim up to `limit` undispatched rows of `channel` that are due, with a lease until
/// `now + lease_ms` for `instance`; a row whose lease ran out is claimable again.
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
pub async fn mark_dispatched(c: &mut Conn<'_>, id: i64, instance: &str, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE outbox SET dispatched_at = $1, locked_until = NULL, last_error = NULL \
         WHERE id = $2 AND locked_by = $3 AND dispatched_at IS NULL")
        .bind(now).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Give a claimed row back after a failed delivery, to be retried from `retry_at`.
pub async fn release_outbox(c: &mut Conn<'_>, id: i64, instance: &str, error: &str, retry_at: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE outbox SET locked_until = NULL, locked_by = NULL, last_error = $1, deliver_after = $2 \
         WHERE id = $3 AND locked_by = $4 AND dispatched_at IS NULL")
        .bind(error).bind(retry_at).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// ---------- jobs ----------

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub run_at: i64,
    pub payload: String,
    pub attempts: i64,
}

/// Queue a job to run from `run_at`. With `leased_to`, the job is created already claimed by that
/// holder until `lease_until` (a caller that runs it at once); should the holder die, the job
/// becomes claimable when the lease runs out.
pub async fn enqueue_job(
    c: &mut Conn<'_>,
    kind: &str,
    run_at: i64,
    payload: &str,
    leased_to: Option<(&str, i64)>,
    now: i64,
) -> Result<i64> {
    let (by, until) = match leased_to {
        Some((by, until)) => (Some(by), Some(until)),
        None => (None, None),
    };
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO jobs (kind, run_at, payload, locked_until, locked_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(kind).bind(run_at).bind(payload).bind(until).bind(by).bind(now).fetch_one(c).await)?)
}

/// Claim up to `limit` due, unfinished jobs of `kind` with a lease until `now + lease_ms`.
pub async fn claim_jobs(
    c: &mut Conn<'_>,
    kind: &str,
    now: i64,
    instance: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    let pick = "SELECT id FROM jobs WHERE kind = $4 AND done_at IS NULL AND run_at <= $3 \
                AND (locked_until IS NULL OR locked_until <= $3) ORDER BY run_at, id LIMIT $5";
    let returning = "id, kind, run_at, payload, attempts";
    let mut jobs: Vec<Job> =
        claim_leased(c, "jobs", pick, returning, now.saturating_add(lease_ms), instance, now, kind, limit).await?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// Finish a job its holder ran; false if the lease was lost (someone else holds or finished it).
pub async fn complete_job(c: &mut Conn<'_>, id: i64, instance: &str, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2 AND locked_by = $3 AND done_at IS NULL")
        .bind(now).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A failed run: retry from `retry_at`, or with `retry_at = None` give up (done, error kept).
pub async fn fail_job(
    c: &mut Conn<'_>,
    id: i64,
    instance: &str,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE jobs SET locked_until = NULL, locked_by = NULL, last_error = $1, run_at = COALESCE($2, run_at), \
         done_at = CASE WHEN $2 IS NULL THEN $3 ELSE NULL END WHERE id = $4 AND locked_by = $5 AND done_at IS NULL")
        .bind(error).bind(retry_at).bind(now).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobState {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub locked_by: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
}

pub async fn get_job(c: &mut Conn<'_>, id: i64) -> Result<Option<JobState>> {
    Ok(both!(c, c => sqlx::query_as::<_, JobState>(
        "SELECT id, kind, payload, locked_by, attempts, last_error, done_at FROM jobs WHERE id = $1")
        .bind(id).fetch_optional(c).await)?)
}
