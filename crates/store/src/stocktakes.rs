//! Stocktake count sheets and their lines.
use crate::{Conn, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stocktake {
    pub id: i64,
    pub number: String,
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub station_id: Option<i64>,
    pub status: String,
    pub note: String,
    pub decision_note: String,
    pub created_by: Option<i64>,
    pub submitted_by: Option<i64>,
    pub decided_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const COLS: &str = "s.id, s.number, s.warehouse_id, w.code AS warehouse_code, w.station_id, s.status, s.note, \
    s.decision_note, s.created_by, s.submitted_by, s.decided_by, s.version, s.created_at";

/// A new sheet for a warehouse, with a line for every part it holds a figure of (expected: on hand
/// now). Answers its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(c: &mut Conn<'_>, number: &str, warehouse: i64, note: &str, by: i64, now: i64) -> Result<i64> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO stocktakes (number, warehouse_id, status, note, created_by, created_at, updated_at) \
         VALUES ($1, $2, 'counting', $3, $4, $5, $5) RETURNING id")
        .bind(number).bind(warehouse).bind(note).bind(by).bind(now).fetch_one(c).await)?;
    both!(c, c => sqlx::query(
        "INSERT INTO stocktake_lines (stocktake_id, part_id, expected) \
         SELECT $1, part_id, on_hand FROM stock_levels WHERE warehouse_id = $2")
        .bind(id).bind(warehouse).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Stocktake>> {
    let sql = format!("SELECT {COLS} FROM stocktakes s JOIN warehouses w ON w.id = s.warehouse_id WHERE s.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Stocktake>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// Sheets of the warehouses in `scope`, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, scope: &Scope, warehouse: Option<i64>, limit: i64) -> Result<Vec<Stocktake>> {
    let (clause, ids) = scope_clause(scope, "w.station_id", 3);
    let sql = format!(
        "SELECT {COLS} FROM stocktakes s JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE ($1 IS NULL OR s.warehouse_id = $1) AND ({clause}) ORDER BY s.id DESC LIMIT $2"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Stocktake>(AssertSqlSafe(sql)).bind(warehouse).bind(limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Line {
    pub id: i64,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub divisible: bool,
    pub expected: i64,
    pub counted: Option<i64>,
    /// On hand now (movements since the sheet was made show as a change).
    pub on_hand_now: i64,
    pub movement_id: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn lines_of(c: &mut Conn<'_>, id: i64) -> Result<Vec<Line>> {
    Ok(both!(c, c => sqlx::query_as::<_, Line>(
        "SELECT l.id, l.part_id, p.code AS part_code, p.name AS part_name, p.unit, p.divisible, l.expected, l.counted, \
         COALESCE(k.on_hand, 0) AS on_hand_now, l.movement_id FROM stocktake_lines l JOIN parts p ON p.id = l.part_id \
         JOIN stocktakes s ON s.id = l.stocktake_id \
         LEFT JOIN stock_levels k ON k.warehouse_id = s.warehouse_id AND k.part_id = l.part_id \
         WHERE l.stocktake_id = $1 ORDER BY p.code")
        .bind(id).fetch_all(c).await)?)
}

/// Record a count; a part not on the sheet gets a line (expected: its on hand now, or 0).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_count(c: &mut Conn<'_>, id: i64, warehouse: i64, part: i64, counted: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "INSERT INTO stocktake_lines (stocktake_id, part_id, expected, counted) \
         VALUES ($1, $2, COALESCE((SELECT on_hand FROM stock_levels WHERE warehouse_id = $3 AND part_id = $2), 0), $4) \
         ON CONFLICT (stocktake_id, part_id) DO UPDATE SET counted = EXCLUDED.counted")
        .bind(id).bind(part).bind(warehouse).bind(counted).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Move a sheet read at `version` to `status`; the new version, or `None` if it changed meanwhile.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_status(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    status: &str,
    note: &str,
    submitted_by: Option<i64>,
    decided_by: Option<i64>,
    now: i64,
) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE stocktakes SET status = $1, decision_note = $2, submitted_by = COALESCE($3, submitted_by), \
         decided_by = $4, decided_at = CASE WHEN $4 IS NULL THEN decided_at ELSE $5 END, version = version + 1, \
         updated_at = $5 WHERE id = $6 AND version = $7 RETURNING version")
        .bind(status).bind(note).bind(submitted_by).bind(decided_by).bind(now).bind(id).bind(version)
        .fetch_optional(c).await)?)
}

/// Link a line to the ledger row that posted its difference, and the row to the sheet.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn link_movement(c: &mut Conn<'_>, stocktake: i64, line: i64, movement: i64) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE stocktake_lines SET movement_id = $1 WHERE id = $2")
        .bind(movement).bind(line).execute(c).await.map(|r| r.rows_affected()))?;
    both!(c, c => sqlx::query("UPDATE stock_movements SET stocktake_id = $1 WHERE id = $2")
        .bind(stocktake).bind(movement).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
