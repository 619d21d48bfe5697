//! Product recalls: the campaigns, their devices and where each stands.
use crate::{Conn, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Recall {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub model_id: i64,
    pub model_code: String,
    pub serial_from: String,
    pub serial_to: String,
    pub reason: String,
    pub device_count: i64,
    pub created_at: i64,
}

const RECALL_COLS: &str = "r.id, r.number, r.name, r.model_id, m.code AS model_code, r.serial_from, r.serial_to, \
    r.reason, r.device_count, r.created_at";

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    c: &mut Conn<'_>,
    number: &str,
    name: &str,
    model_id: i64,
    range: (&str, &str),
    reason: &str,
    by: i64,
    now: i64,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO recalls (number, name, model_id, serial_from, serial_to, reason, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
        .bind(number).bind(name).bind(model_id).bind(range.0).bind(range.1).bind(reason).bind(by).bind(now)
        .fetch_one(c).await)?)
}

/// A model's devices whose serial has `len` characters and sorts from `lo` to `hi` (the caller
/// keeps those truly in its range): (device, serial, the station serving it — its own, else its
/// customer's).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn candidates(
    c: &mut Conn<'_>,
    model: i64,
    len: i64,
    lo: &str,
    hi: &str,
) -> Result<Vec<(i64, String, Option<i64>)>> {
    Ok(both!(c, c => sqlx::query_as(
        "SELECT d.id, d.serial_number, COALESCE(d.station_id, cu.station_id) FROM devices d \
         JOIN customers cu ON cu.id = d.customer_id \
         WHERE d.model_id = $1 AND d.serial_number >= $2 AND d.serial_number <= $3 AND LENGTH(d.serial_number) = $4 \
         ORDER BY d.serial_number")
        .bind(model).bind(lo).bind(hi).bind(len).fetch_all(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_device(c: &mut Conn<'_>, recall: i64, device: i64, station: Option<i64>, now: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "INSERT INTO recall_devices (recall_id, device_id, station_id, state, updated_at) VALUES ($1, $2, $3, 'pending', $4)")
        .bind(recall).bind(device).bind(station).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_count(c: &mut Conn<'_>, recall: i64, count: i64) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE recalls SET device_count = $1 WHERE id = $2")
        .bind(count).bind(recall).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Recall>> {
    let sql = format!("SELECT {RECALL_COLS} FROM recalls r JOIN product_models m ON m.id = r.model_id WHERE r.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Recall>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The campaigns, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, limit: i64) -> Result<Vec<Recall>> {
    let sql = format!(
        "SELECT {RECALL_COLS} FROM recalls r JOIN product_models m ON m.id = r.model_id ORDER BY r.id DESC LIMIT $1"
    );
    Ok(both!(c, c => sqlx::query_as::<_, Recall>(AssertSqlSafe(sql)).bind(limit).fetch_all(c).await)?)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecallDevice {
    pub device_id: i64,
    pub serial_number: String,
    pub customer_id: i64,
    pub station_id: Option<i64>,
    pub state: String,
    pub work_order_id: Option<i64>,
    pub work_order_number: Option<String>,
    pub note: String,
    pub updated_at: i64,
}

/// The devices of a recall in `scope` (by the station serving them), by serial.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn devices_of(c: &mut Conn<'_>, recall: i64, scope: &Scope) -> Result<Vec<RecallDevice>> {
    let (clause, ids) = scope_clause(scope, "rd.station_id", 2);
    let sql = format!(
        "SELECT rd.device_id, d.serial_number, d.customer_id, rd.station_id, rd.state, rd.work_order_id, \
         w.number AS work_order_number, rd.note, rd.updated_at \
         FROM recall_devices rd JOIN devices d ON d.id = rd.device_id LEFT JOIN work_orders w ON w.id = rd.work_order_id \
         WHERE rd.recall_id = $1 AND ({clause}) ORDER BY d.serial_number"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, RecallDevice>(AssertSqlSafe(sql)).bind(recall);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Devices per station and state: (station, state, count).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn progress(c: &mut Conn<'_>, recall: i64, scope: &Scope) -> Result<Vec<(Option<i64>, String, i64)>> {
    let (clause, ids) = scope_clause(scope, "station_id", 2);
    let sql = format!(
        "SELECT station_id, state, COUNT(*) FROM recall_devices WHERE recall_id = $1 AND ({clause}) \
         GROUP BY station_id, state ORDER BY station_id, state"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, (Option<i64>, String, i64)>(AssertSqlSafe(sql)).bind(recall);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Record where a device of the recall stands; false if it is not in it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_state(
    c: &mut Conn<'_>,
    recall: i64,
    device: i64,
    state: &str,
    note: &str,
    by: i64,
    now: i64,
) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE recall_devices SET state = $1, note = $2, updated_by = $3, updated_at = $4 \
         WHERE recall_id = $5 AND device_id = $6")
        .bind(state).bind(note).bind(by).bind(now).bind(recall).bind(device)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Link the work order made for a device (then scheduled); false if it already has one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_work_order(c: &mut Conn<'_>, recall: i64, device: i64, work_order: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE recall_devices SET work_order_id = $1, state = 'scheduled', updated_at = $2 \
         WHERE recall_id = $3 AND device_id = $4 AND work_order_id IS NULL")
        .bind(work_order).bind(now).bind(recall).bind(device).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A recall's work order completed: its device is done.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn done_by_work_order(c: &mut Conn<'_>, work_order: i64, now: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE recall_devices SET state = 'done', updated_at = $1 WHERE work_order_id = $2 AND state <> 'done'")
        .bind(now).bind(work_order).execute(c).await.map(|r| r.rows_affected()))?)
}
