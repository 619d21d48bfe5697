//! Return and exchange authorisations.
use crate::{Conn, Result, both};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Authorisation {
    pub id: i64,
    pub number: String,
    pub service_request_id: i64,
    pub device_id: i64,
    pub station_id: Option<i64>,
    pub kind: String,
    pub article: String,
    pub reason: String,
    pub inspection: String,
    pub refund_fen: i64,
    pub replacement_serial: Option<String>,
    pub status: String,
    pub decision_note: String,
    pub decided_by: Option<i64>,
    pub created_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const COLS: &str = "id, number, service_request_id, device_id, station_id, kind, article, reason, inspection, refund_fen, \
    replacement_serial, status, decision_note, decided_by, created_by, version, created_at";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(c: &mut Conn<'_>, a: &Authorisation, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO return_authorisations (number, service_request_id, device_id, station_id, kind, article, reason, \
         inspection, refund_fen, replacement_serial, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11, $12, $12) RETURNING id")
        .bind(&a.number).bind(a.service_request_id).bind(a.device_id).bind(a.station_id).bind(&a.kind)
        .bind(&a.article).bind(&a.reason).bind(&a.inspection).bind(a.refund_fen).bind(&a.replacement_serial)
        .bind(a.created_by).bind(now).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Authorisation>> {
    let sql = format!("SELECT {COLS} FROM return_authorisations WHERE id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Authorisation>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The authorisations of a request, or of a device (its history), oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of(c: &mut Conn<'_>, request: Option<i64>, device: Option<i64>) -> Result<Vec<Authorisation>> {
    let sql = format!(
        "SELECT {COLS} FROM return_authorisations WHERE ($1 IS NULL OR service_request_id = $1) \
         AND ($2 IS NULL OR device_id = $2) ORDER BY id LIMIT 200"
    );
    Ok(both!(c, c => sqlx::query_as::<_, Authorisation>(sqlx::AssertSqlSafe(sql)).bind(request).bind(device)
        .fetch_all(c).await)?)
}

/// Record the decision on an authorisation read at `version`; the new version, or `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn decide(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    status: &str,
    note: &str,
    by: i64,
    now: i64,
) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE return_authorisations SET status = $1, decision_note = $2, decided_by = $3, decided_at = $4, \
         version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6 RETURNING version")
        .bind(status).bind(note).bind(by).bind(now).bind(id).bind(version).fetch_optional(c).await)?)
}
