//! Business calendars and SLA policies as stored.
use crate::{Conn, Result, StoreError, both};
use serde::Serialize;

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

pub async fn calendar(c: &mut Conn<'_>, code: &str) -> Result<Option<(CalendarRow, Vec<CalendarDay>)>> {
    let row = both!(c, c => sqlx::query_as::<_, CalendarRow>(
        "SELECT id, code, name, kind, weekly, use_prc_holidays, version FROM calendars WHERE code = $1")
        .bind(code).fetch_optional(c).await)?;
    let Some(row) = row else { return Ok(None) };
    let days = both!(c, c => sqlx::query_as::<_, CalendarDay>(
        "SELECT day, off, note FROM calendar_days WHERE calendar_id = $1 ORDER BY day").bind(row.id).fetch_all(c).await)?;
    Ok(Some((row, days)))
}

pub async fn list_calendars(c: &mut Conn<'_>) -> Result<Vec<CalendarRow>> {
    Ok(both!(c, c => sqlx::query_as::<_, CalendarRow>(
        "SELECT id, code, name, kind, weekly, use_prc_holidays, version FROM calendars ORDER BY code").fetch_all(c).await)?)
}

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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub request_type: Option<String>,
    pub urgency: Option<String>,
    pub tier: Option<String>,
    pub calendar_code: String,
    pub response_minutes: i64,
    pub resolution_minutes: i64,
    pub priority: i64,
    pub active: bool,
    pub version: i64,
}

pub async fn active_policies(c: &mut Conn<'_>) -> Result<Vec<Policy>> {
    Ok(both!(c, c => sqlx::query_as::<_, Policy>(
        "SELECT id, name, request_type, urgency, tier, calendar_code, response_minutes, resolution_minutes, priority, active, version \
         FROM sla_policies WHERE active ORDER BY priority, id").fetch_all(c).await)?)
}

pub async fn get_policy(c: &mut Conn<'_>, id: i64) -> Result<Option<Policy>> {
    Ok(both!(c, c => sqlx::query_as::<_, Policy>(
        "SELECT id, name, request_type, urgency, tier, calendar_code, response_minutes, resolution_minutes, priority, active, version \
         FROM sla_policies WHERE id = $1").bind(id).fetch_optional(c).await)?)
}
