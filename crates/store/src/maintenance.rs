//! Maintenance plans (首保, 保养, 例行检查) and the items they fall due with.
use crate::{Conn, Result, both, scope_clause};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Plan {
    pub id: i64,
    pub model_id: Option<i64>,
    pub device_id: Option<i64>,
    pub kind: String,
    pub first_after_days: i64,
    pub every_days: Option<i64>,
    pub lead_days: i64,
    pub starts_on: String,
    pub active: bool,
    /// Only the devices installed in this region (any level; a device without an installation
    /// region is where its customer is): an inspection route per region.
    pub region_code: Option<String>,
}

const PLAN_COLS: &str =
    "id, model_id, device_id, kind, first_after_days, every_days, lead_days, starts_on, active, region_code";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_plan(c: &mut Conn<'_>, p: &Plan, created_by: Option<i64>, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO maintenance_plans (model_id, device_id, kind, first_after_days, every_days, lead_days, starts_on, active, \
         created_by, created_at, region_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
        .bind(p.model_id).bind(p.device_id).bind(&p.kind).bind(p.first_after_days).bind(p.every_days).bind(p.lead_days)
        .bind(&p.starts_on).bind(p.active).bind(created_by).bind(now).bind(&p.region_code)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn plans(c: &mut Conn<'_>, only_active: bool) -> Result<Vec<Plan>> {
    let sql = format!(
        "SELECT {PLAN_COLS} FROM maintenance_plans {} ORDER BY id",
        if only_active { "WHERE active" } else { "" }
    );
    Ok(both!(c, c => sqlx::query_as::<_, Plan>(AssertSqlSafe(sql)).fetch_all(c).await)?)
}

/// The devices a plan covers that were sold on or before `sold_by` (YYYY-MM-DD): (id, sale date).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn devices_of_plan(c: &mut Conn<'_>, p: &Plan, sold_by: &str) -> Result<Vec<(i64, String)>> {
    Ok(match (p.model_id, p.device_id) {
        (_, Some(d)) => both!(c, c => sqlx::query_as(
            "SELECT id, sale_date FROM devices WHERE id = $1 AND sale_date <= $2").bind(d).bind(sold_by).fetch_all(c).await)?,
        (Some(m), None) => {
            // A region narrows the model's devices to those installed under it: its code's
            // significant digits (44 a province, 4403 a city, 440305 a district) as a prefix.
            let prefix = match p.region_code.as_deref().map(shouhou_domain::dispatch::ancestry) {
                Some(a) => match a.last() {
                    Some(code) => format!("{}%", code.trim_end_matches("00")),
                    None => return Ok(vec![]),
                },
                None => "%".to_string(),
            };
            both!(c, c => sqlx::query_as(
                "SELECT d.id, d.sale_date FROM devices d JOIN customers cu ON cu.id = d.customer_id \
                 WHERE d.model_id = $1 AND d.sale_date <= $2 AND COALESCE(d.install_region_code, cu.region_code) LIKE $3 \
                 ORDER BY d.id")
                .bind(m).bind(sold_by).bind(prefix).fetch_all(c).await)?
        }
        (None, None) => vec![],
    })
}

/// Record that an item falls due; false if it already had (another instance, an earlier sweep):
/// the key (plan, device, day) makes it once.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_due_once(
    c: &mut Conn<'_>,
    plan: i64,
    device: i64,
    due_on: &str,
    seq: i64,
    instance: &str,
    now: i64,
) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "INSERT INTO maintenance_due (plan_id, device_id, due_on, seq, created_by_instance, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING")
        .bind(plan).bind(device).bind(due_on).bind(seq).bind(instance).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn link_work_order(c: &mut Conn<'_>, plan: i64, device: i64, due_on: &str, work_order: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE maintenance_due SET work_order_id = $1 WHERE plan_id = $2 AND device_id = $3 AND due_on = $4")
        .bind(work_order).bind(plan).bind(device).bind(due_on).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A completed work order that was a device's first maintenance marks the device (once).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_first_maintenance(c: &mut Conn<'_>, work_order: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE devices SET first_maintenance_at = $1 WHERE first_maintenance_at IS NULL AND id IN \
         (SELECT d.device_id FROM maintenance_due d JOIN maintenance_plans p ON p.id = d.plan_id \
          WHERE d.work_order_id = $2 AND d.seq = 0 AND p.kind = 'maintenance')")
        .bind(now).bind(work_order).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// An item due, with its work order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueItem {
    pub plan_id: i64,
    pub device_id: i64,
    pub due_on: String,
    pub seq: i64,
    pub kind: String,
    pub work_order_id: Option<i64>,
    pub number: Option<String>,
    pub status: Option<String>,
    pub station_id: Option<i64>,
}

/// Items due on or before `until` (YYYY-MM-DD) whose visit is not done yet, soonest first, in the
/// scope (by the work order's station; one on headquarters' board is headquarters').
#[tracing::instrument(level = "debug", skip_all)]
pub async fn due_items(
    c: &mut Conn<'_>,
    scope: &shouhou_domain::auth::Scope,
    until: &str,
    station: Option<i64>,
    limit: i64,
) -> Result<Vec<DueItem>> {
    let (clause, ids) = scope_clause(scope, "w.station_id", 4);
    let sql = format!(
        "SELECT d.plan_id, d.device_id, d.due_on, d.seq, p.kind, d.work_order_id, w.number, w.status, w.station_id \
         FROM maintenance_due d JOIN maintenance_plans p ON p.id = d.plan_id \
         LEFT JOIN work_orders w ON w.id = d.work_order_id \
         WHERE d.due_on <= $1 AND (w.id IS NULL OR w.status NOT IN ('completed', 'closed', 'cancelled')) AND ({clause}) \
         AND ($3 IS NULL OR w.station_id = $3) ORDER BY d.due_on, d.device_id LIMIT $2"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, DueItem>(AssertSqlSafe(sql)).bind(until).bind(limit).bind(station);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}
