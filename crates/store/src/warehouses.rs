//! Warehouses: central, per station (an engineer's van later).
use crate::{Conn, Page, PageRequest, Result, both, scope_clause};
use serde::Serialize;
use shouhou_domain::auth::Scope;
use shouhou_domain::ids::{StationId, WarehouseId};
use shouhou_domain::warehouses::WarehouseInput;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Warehouse {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub station_id: Option<i64>,
    /// A van: the engineer it belongs to.
    pub engineer_id: Option<i64>,
    pub region_code: String,
    pub address: String,
    pub active: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const WAREHOUSE_COLS: &str =
    "id, code, name, station_id, engineer_id, region_code, address, active, version, created_at, updated_at";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_warehouse(
    c: &mut Conn<'_>,
    w: &WarehouseInput,
    station: Option<StationId>,
    engineer: Option<i64>,
    now: i64,
) -> Result<WarehouseId> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO warehouses (code, name, station_id, engineer_id, region_code, address, created_at, updated_at) \
         VALUES ($1, $2, $3, $7, $4, $5, $6, $6) RETURNING id")
        .bind(w.code.as_str()).bind(&w.name).bind(station.map(|s| s.0)).bind(w.region.code()).bind(&w.address).bind(now)
        .bind(engineer)
        .fetch_one(c).await)?;
    Ok(WarehouseId(id))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_warehouse(c: &mut Conn<'_>, id: WarehouseId) -> Result<Option<Warehouse>> {
    let sql = format!("SELECT {WAREHOUSE_COLS} FROM warehouses WHERE id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Warehouse>(AssertSqlSafe(sql)).bind(id.0).fetch_optional(c).await)?)
}

/// Warehouses in the scope; `station` narrows to one station's.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_warehouses(
    c: &mut Conn<'_>,
    scope: &Scope,
    station: Option<StationId>,
    page: PageRequest,
) -> Result<Page<Warehouse>> {
    let (clause, ids) = scope_clause(scope, "station_id", 2);
    // Headquarters' central warehouses (no station) are visible to headquarters scope only.
    let hq = if matches!(scope, Scope::All) { " OR station_id IS NULL" } else { "" };
    let where_ = format!("WHERE (({clause}){hq}) AND ($1 IS NULL OR station_id = $1)");
    let n = ids.len() + 2;
    let list_sql =
        format!("SELECT {WAREHOUSE_COLS} FROM warehouses {where_} ORDER BY code LIMIT ${n} OFFSET ${}", n + 1);
    let count_sql = format!("SELECT COUNT(*) FROM warehouses {where_}");
    let st = station.map(|s| s.0);
    let items = both!(c, c => {
        let mut q = sqlx::query_as::<_, Warehouse>(AssertSqlSafe(list_sql)).bind(st);
        for id in &ids { q = q.bind(id); }
        q.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let total: i64 = both!(c, c => {
        let mut q = sqlx::query_scalar(AssertSqlSafe(count_sql)).bind(st);
        for id in &ids { q = q.bind(id); }
        q.fetch_one(c).await
    })?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}
