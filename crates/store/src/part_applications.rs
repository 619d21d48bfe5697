//! 三包配件申请: the applications and their lines. A decision is one version-guarded `UPDATE`.
use crate::{Conn, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Application {
    pub id: i64,
    pub number: String,
    pub station_id: i64,
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub work_order_id: Option<i64>,
    pub status: String,
    pub amount_fen: i64,
    pub reason: String,
    pub decision_note: String,
    pub station_approved_by: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub created_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const COLS: &str = "a.id, a.number, a.station_id, a.warehouse_id, w.code AS warehouse_code, a.work_order_id, a.status, \
    a.amount_fen, a.reason, a.decision_note, a.station_approved_by, a.decided_by, a.decided_at, a.created_by, a.version, \
    a.created_at";

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    c: &mut Conn<'_>,
    number: &str,
    station: i64,
    warehouse: i64,
    work_order: Option<i64>,
    amount_fen: i64,
    reason: &str,
    by: i64,
    now: i64,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO part_applications (number, station_id, warehouse_id, work_order_id, status, amount_fen, reason, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $8) RETURNING id")
        .bind(number).bind(station).bind(warehouse).bind(work_order).bind(amount_fen).bind(reason).bind(by).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_line(c: &mut Conn<'_>, application: i64, part: i64, quantity: i64, price_fen: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO part_application_lines (application_id, part_id, quantity, price_fen) VALUES ($1, $2, $3, $4) \
         RETURNING id")
        .bind(application).bind(part).bind(quantity).bind(price_fen).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_line_transfer(c: &mut Conn<'_>, line: i64, transfer: i64) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE part_application_lines SET transfer_id = $1 WHERE id = $2")
        .bind(transfer).bind(line).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Application>> {
    let sql =
        format!("SELECT {COLS} FROM part_applications a JOIN warehouses w ON w.id = a.warehouse_id WHERE a.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Application>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// Applications of the stations in `scope`, the open ones first, oldest first; then the decided,
/// newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, scope: &Scope, status: Option<&str>, limit: i64) -> Result<Vec<Application>> {
    let (clause, ids) = scope_clause(scope, "a.station_id", 3);
    let sql = format!(
        "SELECT {COLS} FROM part_applications a JOIN warehouses w ON w.id = a.warehouse_id \
         WHERE ($1 IS NULL OR a.status = $1) AND ({clause}) \
         ORDER BY CASE WHEN a.status IN ('submitted', 'station_approved') THEN 0 ELSE 1 END, \
         CASE WHEN a.status IN ('submitted', 'station_approved') THEN a.id ELSE -a.id END LIMIT $2"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Application>(AssertSqlSafe(sql)).bind(status).bind(limit);
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
    pub quantity: i64,
    pub price_fen: i64,
    pub transfer_id: Option<i64>,
    pub transfer_status: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn lines_of(c: &mut Conn<'_>, application: i64) -> Result<Vec<Line>> {
    Ok(lines_of_many(c, &[application]).await?.into_iter().map(|(_, l)| l).collect())
}

/// The lines of several applications in one statement: (application, line), by line.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lines_of_many(c: &mut Conn<'_>, applications: &[i64]) -> Result<Vec<(i64, Line)>> {
    if applications.is_empty() {
        return Ok(vec![]);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        application_id: i64,
        #[sqlx(flatten)]
        line: Line,
    }
    let sql = format!(
        "SELECT l.application_id, l.id, l.part_id, p.code AS part_code, p.name AS part_name, p.unit, l.quantity, \
         l.price_fen, l.transfer_id, t.status AS transfer_status FROM part_application_lines l \
         JOIN parts p ON p.id = l.part_id LEFT JOIN stock_transfers t ON t.id = l.transfer_id \
         WHERE l.application_id IN ({}) ORDER BY l.id",
        crate::placeholders(1, applications.len())
    );
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        for a in applications {
            q = q.bind(*a);
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|r| (r.application_id, r.line)).collect())
}

/// Record a decision on an application read at `version`; the new version, or `None` if someone
/// decided meanwhile.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn decide(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    status: &str,
    note: &str,
    station_approved_by: Option<i64>,
    by: i64,
    now: i64,
) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE part_applications SET status = $1, decision_note = $2, \
         station_approved_by = COALESCE($3, station_approved_by), decided_by = $4, decided_at = $5, \
         version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7 RETURNING version")
        .bind(status).bind(note).bind(station_approved_by).bind(by).bind(now).bind(id).bind(version)
        .fetch_optional(c).await)?)
}
