//! Business calendars and SLA policies as stored.
use crate::{Conn, Result, StoreError, both};
use serde::Serialize;
use shouhou_domain::FieldError;
use shouhou_domain::customers::CustomerTier;
use shouhou_domain::requests::{RequestType, Urgency};
pub use shouhou_domain::sla::Policy;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CalendarRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub weekly: String,
    pub use_prc_holidays: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CalendarDay {
    pub day: String,
    pub off: bool,
    pub note: String,
}

/// Key of the advisory lock that orders edits of the SLA configuration (calendars, their days,
/// policies) against the commands that compute due times from it.
const SLA_CONFIG_LOCK: i64 = 0x5348_534C_4100_0001;

/// Hold the SLA configuration until the end of the transaction: `exclusive` for an edit, shared
/// for a command that reads the configuration to compute due times (registration, a transition,
/// a reclassification). An edit then waits for those in flight and they wait for it, so a request
/// is either committed before the edit (and recomputed by the edit's job) or computed on the
/// edited configuration — never left on the old one. PostgreSQL: a transaction-scoped advisory
/// lock (shared ones cost no row writes). SQLite: nothing to do, its single writer already
/// serialises every write transaction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hold_sla_config(c: &mut Conn<'_>, exclusive: bool) -> Result<()> {
    if let Conn::Postgres(c) = c {
        let sql =
            if exclusive { "SELECT pg_advisory_xact_lock($1)" } else { "SELECT pg_advisory_xact_lock_shared($1)" };
        sqlx::query(sql).bind(SLA_CONFIG_LOCK).execute(&mut **c).await?;
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn calendar(c: &mut Conn<'_>, code: &str) -> Result<Option<(CalendarRow, Vec<CalendarDay>)>> {
    let row = both!(c, c => sqlx::query_as::<_, CalendarRow>(
        "SELECT id, code, name, kind, weekly, use_prc_holidays, version FROM calendars WHERE code = $1")
        .bind(code).fetch_optional(c).await)?;
    let Some(row) = row else { return Ok(None) };
    let days = both!(c, c => sqlx::query_as::<_, CalendarDay>(
        "SELECT day, off, note FROM calendar_days WHERE calendar_id = $1 ORDER BY day").bind(row.id).fetch_all(c).await)?;
    Ok(Some((row, days)))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_calendars(c: &mut Conn<'_>) -> Result<Vec<CalendarRow>> {
    Ok(both!(c, c => sqlx::query_as::<_, CalendarRow>(
        "SELECT id, code, name, kind, weekly, use_prc_holidays, version FROM calendars ORDER BY code").fetch_all(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_calendar(
    c: &mut Conn<'_>,
    code: &str,
    version: i64,
    name: &str,
    weekly: &str,
    use_prc: bool,
    now: i64,
) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE calendars SET name = $1, weekly = $2, use_prc_holidays = $3, version = version + 1, updated_at = $4 \
         WHERE code = $5 AND version = $6 RETURNING version")
        .bind(name).bind(weekly).bind(use_prc).bind(now).bind(code).bind(version).fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match calendar(c, code).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_calendar_day(
    c: &mut Conn<'_>,
    calendar_id: i64,
    day: &str,
    off: Option<bool>,
    note: &str,
) -> Result<()> {
    match off {
        None => both!(c, c => sqlx::query("DELETE FROM calendar_days WHERE calendar_id = $1 AND day = $2")
            .bind(calendar_id).bind(day).execute(c).await.map(|r| r.rows_affected()))?,
        Some(off) => both!(c, c => sqlx::query(
            "INSERT INTO calendar_days (calendar_id, day, off, note) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (calendar_id, day) DO UPDATE SET off = excluded.off, note = excluded.note")
            .bind(calendar_id).bind(day).bind(off).bind(note).execute(c).await.map(|r| r.rows_affected()))?,
    };
    Ok(())
}

/// An `sla_policies` row as stored; read as the domain's `Policy`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct PolicyRow {
    id: i64,
    name: String,
    request_type: Option<String>,
    urgency: Option<String>,
    tier: Option<String>,
    calendar_code: String,
    response_minutes: i64,
    resolution_minutes: i64,
    priority: i64,
    active: bool,
    version: i64,
}

impl TryFrom<PolicyRow> for Policy {
    type Error = StoreError;
    fn try_from(r: PolicyRow) -> Result<Self> {
        fn opt<T>(
            field: &str,
            v: Option<String>,
            parse: fn(&str, &str) -> std::result::Result<T, FieldError>,
        ) -> Result<Option<T>> {
            v.map(|v| parse(field, &v).map_err(|_| StoreError::Corrupt(format!("policy {field}: unknown value {v:?}"))))
                .transpose()
        }
        Ok(Policy {
            request_type: opt("request_type", r.request_type, RequestType::parse)?,
            urgency: opt("urgency", r.urgency, Urgency::parse)?,
            tier: opt("tier", r.tier, CustomerTier::parse)?,
            id: r.id,
            name: r.name,
            calendar_code: r.calendar_code,
            response_minutes: r.response_minutes,
            resolution_minutes: r.resolution_minutes,
            priority: r.priority,
            active: r.active,
            version: r.version,
        })
    }
}

const POLICY_COLS: &str = "id, name, request_type, urgency, tier, calendar_code, response_minutes, resolution_minutes, priority, active, version";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn active_policies(c: &mut Conn<'_>) -> Result<Vec<Policy>> {
    let sql = format!("SELECT {POLICY_COLS} FROM sla_policies WHERE active ORDER BY priority, id");
    let rows = both!(c, c => sqlx::query_as::<_, PolicyRow>(AssertSqlSafe(sql)).fetch_all(c).await)?;
    rows.into_iter().map(Policy::try_from).collect()
}

/// Every policy, active or not, in the order they are chosen among equals.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all_policies(c: &mut Conn<'_>) -> Result<Vec<Policy>> {
    let sql = format!("SELECT {POLICY_COLS} FROM sla_policies ORDER BY priority, id");
    let rows = both!(c, c => sqlx::query_as::<_, PolicyRow>(AssertSqlSafe(sql)).fetch_all(c).await)?;
    rows.into_iter().map(Policy::try_from).collect()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_policy(c: &mut Conn<'_>, id: i64) -> Result<Option<Policy>> {
    let sql = format!("SELECT {POLICY_COLS} FROM sla_policies WHERE id = $1");
    let row = both!(c, c => sqlx::query_as::<_, PolicyRow>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    row.map(Policy::try_from).transpose()
}

// ---------- policies ----------

/// Edit a policy's targets, calendar and activity if `version` is still current.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn has_active_catch_all(c: &mut Conn<'_>) -> Result<bool> {
    let n: i64 = both!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM sla_policies WHERE active AND request_type IS NULL AND urgency IS NULL AND tier IS NULL")
        .fetch_one(c).await)?;
    Ok(n > 0)
}
