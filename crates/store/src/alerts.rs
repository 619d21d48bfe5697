//! SLA alerts that fire once per request, clock and level, and the reads and writes behind
//! recomputing open requests' clocks after a calendar or policy edit.
use crate::{Conn, Result, StoreError, both};
use serde::Serialize;
use sqlx::AssertSqlSafe;

// ---------- SLA alerts ----------

/// Record that `level` of `clock` fired for a request, unless some instance already did.
/// True when this call inserted the row: the caller fired it and must notify, in the same
/// transaction. A concurrent insert of the same key waits for the other transaction and then
/// does nothing if it committed (PostgreSQL), or runs after it (SQLite's single writer).
#[tracing::instrument(level = "debug", skip_all)]
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

#[tracing::instrument(level = "debug", skip_all)]
pub async fn alerts_of(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<SlaAlert>> {
    Ok(both!(c, c => sqlx::query_as::<_, SlaAlert>(
        "SELECT request_id, clock, level, fired_at, fired_by FROM sla_alerts WHERE request_id = $1 ORDER BY fired_at, clock, level")
        .bind(request_id).fetch_all(c).await)?)
}

/// Open requests, after `after_id`, whose cached SLA figures say an alert may be due by `now` and
/// has not fired: a clock cached as at risk or breached, or whose cached warning or due instant
/// has passed. The cache only nominates; the caller recomputes the clocks from the events.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn warn_instants(c: &mut Conn<'_>, id: i64) -> Result<(Option<i64>, Option<i64>)> {
    let row = both!(c, c => sqlx::query_as::<_, (Option<i64>, Option<i64>)>(
        "SELECT response_warn_at, resolution_warn_at FROM service_requests WHERE id = $1")
        .bind(id).fetch_optional(c).await)?;
    row.ok_or(StoreError::NotFound)
}
