//! Service stations: the branches and contracted providers that serve customers, with their calendars.
use crate::{Conn, Page, PageRequest, Result, StoreError, both, scope_clause};
use serde::Serialize;
use shouhou_domain::auth::Scope;
use shouhou_domain::ids::StationId;
use shouhou_domain::stations::StationInput;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Station {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub address: String,
    pub phone: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const STATION_COLS: &str = "id, code, name, region_code, address, phone, active, version, created_at, updated_at";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_station(c: &mut Conn<'_>, s: &StationInput, now: i64) -> Result<StationId> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO stations (code, name, region_code, address, phone, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id")
        .bind(s.code.as_str()).bind(&s.name).bind(s.region.code()).bind(&s.address).bind(&s.phone).bind(now)
        .fetch_one(c).await)?;
    Ok(StationId(id))
}

/// Update if `version` is still current; the stored version moves on by one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_station(
    c: &mut Conn<'_>,
    id: StationId,
    version: i64,
    s: &StationInput,
    active: bool,
    now: i64,
) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE stations SET code = $1, name = $2, region_code = $3, address = $4, phone = $5, active = $6, \
         version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9 RETURNING version")
        .bind(s.code.as_str()).bind(&s.name).bind(s.region.code()).bind(&s.address).bind(&s.phone)
        .bind(active).bind(now).bind(id.0).bind(version)
        .fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match get_station(c, id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

/// A station, unscoped: callers check the scope (see `app`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_station(c: &mut Conn<'_>, id: StationId) -> Result<Option<Station>> {
    let sql = format!("SELECT {STATION_COLS} FROM stations WHERE id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Station>(AssertSqlSafe(sql)).bind(id.0).fetch_optional(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn station_by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<Station>> {
    let sql = format!("SELECT {STATION_COLS} FROM stations WHERE code = $1");
    Ok(
        both!(c, c => sqlx::query_as::<_, Station>(AssertSqlSafe(sql)).bind(code.trim().to_ascii_uppercase()).fetch_optional(c).await)?,
    )
}

/// Stations in the scope, filtered by a text in code or name, ordered by code.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_stations(
    c: &mut Conn<'_>,
    scope: &Scope,
    q: Option<&str>,
    page: PageRequest,
) -> Result<Page<Station>> {
    let (clause, ids) = scope_clause(scope, "id", 2);
    let pattern = format!("%{}%", q.unwrap_or("").trim());
    let where_ = format!("WHERE ({clause}) AND (code LIKE $1 OR name LIKE $1)");
    let n = ids.len() + 2;
    let list_sql = format!("SELECT {STATION_COLS} FROM stations {where_} ORDER BY code LIMIT ${n} OFFSET ${}", n + 1);
    let count_sql = format!("SELECT COUNT(*) FROM stations {where_}");
    let items = both!(c, c => {
        let mut q = sqlx::query_as::<_, Station>(AssertSqlSafe(list_sql)).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let total: i64 = both!(c, c => {
        let mut q = sqlx::query_scalar(AssertSqlSafe(count_sql)).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.fetch_one(c).await
    })?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// The business calendar a station works on, if it has its own.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn station_calendar(c: &mut Conn<'_>, id: StationId) -> Result<Option<String>> {
    let v: Option<Option<String>> = both!(c, c => sqlx::query_scalar("SELECT calendar_code FROM stations WHERE id = $1")
        .bind(id.0).fetch_optional(c).await)?;
    Ok(v.flatten())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_station_calendar(c: &mut Conn<'_>, id: StationId, calendar: Option<&str>, now: i64) -> Result<()> {
    let n = both!(c, c => sqlx::query("UPDATE stations SET calendar_code = $1, updated_at = $2 WHERE id = $3")
        .bind(calendar).bind(now).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
