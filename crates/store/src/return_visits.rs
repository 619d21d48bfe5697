//! Return visits, their tries, follow-ups and sampling checks.
use crate::{Conn, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Visit {
    pub id: i64,
    pub service_request_id: Option<i64>,
    /// The request's number, or the complaint's.
    pub subject_number: Option<String>,
    pub complaint_id: Option<i64>,
    pub customer_id: i64,
    pub station_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub product_line: Option<String>,
    pub status: String,
    pub due_at: i64,
    pub attempts: i64,
    pub satisfaction: Option<i64>,
    pub attitude: Option<i64>,
    pub skill: Option<i64>,
    pub timeliness: Option<i64>,
    pub solved: Option<bool>,
    pub comment: String,
    pub answered_via: Option<String>,
    pub recorded_by: Option<i64>,
    pub recorded_at: Option<i64>,
    pub survey_expires_at: Option<i64>,
    pub check_state: Option<String>,
    pub check_note: String,
    pub checked_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const COLS: &str = "v.id, v.service_request_id, COALESCE(r.number, k.number) AS subject_number, v.complaint_id, \
    v.customer_id, v.station_id, v.engineer_id, v.product_line, v.status, v.due_at, v.attempts, v.satisfaction, \
    v.attitude, v.skill, v.timeliness, v.solved, v.comment, v.answered_via, v.recorded_by, v.recorded_at, \
    v.survey_expires_at, v.check_state, v.check_note, v.checked_by, v.version, v.created_at";
const FROM: &str = "return_visits v LEFT JOIN service_requests r ON r.id = v.service_request_id \
    LEFT JOIN complaints k ON k.id = v.complaint_id";

/// A visit to make: of a request or of a complaint.
#[derive(Debug, Clone)]
pub struct NewVisit<'a> {
    pub service_request_id: Option<i64>,
    pub complaint_id: Option<i64>,
    pub customer_id: i64,
    pub station_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub product_line: Option<&'a str>,
    pub due_at: i64,
}

/// Make an open visit; `None` when its request or complaint already has one open (the unique
/// index decides between two instances).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(c: &mut Conn<'_>, v: &NewVisit<'_>, now: i64) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO return_visits (service_request_id, complaint_id, customer_id, station_id, engineer_id, \
         product_line, status, due_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8) \
         ON CONFLICT DO NOTHING RETURNING id")
        .bind(v.service_request_id).bind(v.complaint_id).bind(v.customer_id).bind(v.station_id)
        .bind(v.engineer_id).bind(v.product_line).bind(v.due_at).bind(now).fetch_optional(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Visit>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE v.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The visit a survey link's digest names.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_survey_digest(c: &mut Conn<'_>, digest: &str) -> Result<Option<Visit>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE v.survey_digest = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(digest).fetch_optional(c).await)?)
}

/// The open visit of a request, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_of_request(c: &mut Conn<'_>, request: i64) -> Result<Option<Visit>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE v.service_request_id = $1 AND v.status = 'open'");
    Ok(both!(c, c => sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(request).fetch_optional(c).await)?)
}

/// Every visit of a request, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_request(c: &mut Conn<'_>, request: i64) -> Result<Vec<Visit>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE v.service_request_id = $1 ORDER BY v.id DESC");
    Ok(both!(c, c => sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(request).fetch_all(c).await)?)
}

/// Every visit of a complaint, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_complaint(c: &mut Conn<'_>, complaint: i64) -> Result<Vec<Visit>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE v.complaint_id = $1 ORDER BY v.id DESC");
    Ok(both!(c, c => sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(complaint).fetch_all(c).await)?)
}

/// Which visits a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Not yet recorded, soonest due first.
    Open,
    /// Recorded or given up, last recorded first.
    Archived,
    /// Sampled for a check and not yet checked.
    Sampled,
}

/// The visits of a queue in `scope` (by the station whose work is visited back; headquarters'
/// own requests have none).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, scope: &Scope, q: Queue, limit: i64) -> Result<Vec<Visit>> {
    let (clause, ids) = scope_clause(scope, "v.station_id", 2);
    let clause = if matches!(scope, Scope::All) { clause } else { format!("v.station_id IS NOT NULL AND {clause}") };
    let (cond, order) = match q {
        Queue::Open => ("v.status = 'open'", "v.due_at, v.id"),
        Queue::Archived => ("v.status IN ('done', 'unreachable')", "v.recorded_at DESC, v.id DESC"),
        Queue::Sampled => ("v.check_state = 'sampled'", "v.recorded_at DESC, v.id DESC"),
    };
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE {cond} AND ({clause}) ORDER BY {order} LIMIT $1");
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// What a recorded visit stores.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    pub status: &'a str,
    pub scores: Option<[i64; 4]>,
    pub solved: Option<bool>,
    pub comment: &'a str,
    pub answered_via: &'a str,
    pub recorded_by: Option<i64>,
}

/// Archive an open visit read at `version`; the new version, or `None` if it changed meanwhile
/// (or is no longer open).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(c: &mut Conn<'_>, id: i64, version: i64, r: &Recorded<'_>, now: i64) -> Result<Option<i64>> {
    let s = r.scores;
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE return_visits SET status = $1, satisfaction = $2, attitude = $3, skill = $4, timeliness = $5, \
         solved = $6, comment = $7, answered_via = $8, recorded_by = $9, recorded_at = $10, attempts = attempts + 1, \
         version = version + 1, updated_at = $10 \
         WHERE id = $11 AND version = $12 AND status = 'open' RETURNING version")
        .bind(r.status).bind(s.map(|s| s[0])).bind(s.map(|s| s[1])).bind(s.map(|s| s[2])).bind(s.map(|s| s[3]))
        .bind(r.solved).bind(r.comment).bind(r.answered_via).bind(r.recorded_by).bind(now).bind(id).bind(version)
        .fetch_optional(c).await)?)
}

/// Count a try that did not reach the customer on an open visit; the new version, or `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_try(c: &mut Conn<'_>, id: i64, version: i64, now: i64) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE return_visits SET attempts = attempts + 1, version = version + 1, updated_at = $1 \
         WHERE id = $2 AND version = $3 AND status = 'open' RETURNING version")
        .bind(now).bind(id).bind(version).fetch_optional(c).await)?)
}

/// Cancel the open visit of a request (it was reopened); answers whether there was one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cancel_open_of_request(c: &mut Conn<'_>, request: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE return_visits SET status = 'cancelled', version = version + 1, updated_at = $1 \
         WHERE service_request_id = $2 AND status = 'open'")
        .bind(now).bind(request).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Give an open visit a new survey link (the previous one stops working).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_survey(c: &mut Conn<'_>, id: i64, digest: &str, expires_at: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE return_visits SET survey_digest = $1, survey_expires_at = $2, version = version + 1, updated_at = $3 \
         WHERE id = $4 AND status = 'open'")
        .bind(digest).bind(expires_at).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    pub id: i64,
    pub at: i64,
    pub by_user: Option<i64>,
    pub outcome: String,
    pub note: String,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_attempt(
    c: &mut Conn<'_>,
    visit: i64,
    at: i64,
    by: Option<i64>,
    outcome: &str,
    note: &str,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO return_visit_attempts (return_visit_id, at, by_user, outcome, note) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(visit).bind(at).bind(by).bind(outcome).bind(note).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn attempts_of(c: &mut Conn<'_>, visit: i64) -> Result<Vec<Attempt>> {
    Ok(both!(c, c => sqlx::query_as::<_, Attempt>(
        "SELECT id, at, by_user, outcome, note FROM return_visit_attempts WHERE return_visit_id = $1 ORDER BY at, id")
        .bind(visit).fetch_all(c).await)?)
}

/// Archived visits recorded in `[from, to)` in `scope`, for the results.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn archived_between(c: &mut Conn<'_>, scope: &Scope, from: i64, to: i64) -> Result<Vec<Visit>> {
    let (clause, ids) = scope_clause(scope, "v.station_id", 3);
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE v.status IN ('done', 'unreachable') AND v.recorded_at >= $1 \
         AND v.recorded_at < $2 AND ({clause}) ORDER BY v.recorded_at LIMIT 100000"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Visit>(AssertSqlSafe(sql)).bind(from).bind(to);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Mark up to `n` archived, not yet sampled visits recorded in `[from, to)` in `scope`, drawn at
/// random, as sampled; answers their ids.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sample(c: &mut Conn<'_>, scope: &Scope, from: i64, to: i64, n: i64, now: i64) -> Result<Vec<i64>> {
    let (clause, ids) = scope_clause(scope, "v.station_id", 4);
    let sql = format!(
        "SELECT v.id FROM return_visits v WHERE v.status IN ('done', 'unreachable') AND v.check_state IS NULL \
         AND v.recorded_at >= $1 AND v.recorded_at < $2 AND ({clause}) ORDER BY RANDOM() LIMIT $3"
    );
    let picked: Vec<i64> = both!(c, c => {
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql)).bind(from).bind(to).bind(n);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    for id in &picked {
        both!(c, c => sqlx::query(
            "UPDATE return_visits SET check_state = 'sampled', version = version + 1, updated_at = $1 \
             WHERE id = $2 AND check_state IS NULL")
            .bind(now).bind(*id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(picked)
}

/// Record the check of a sampled visit; false if it is not (or no longer) waiting for one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check(c: &mut Conn<'_>, id: i64, state: &str, note: &str, by: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE return_visits SET check_state = $1, check_note = $2, checked_by = $3, checked_at = $4, \
         version = version + 1, updated_at = $4 WHERE id = $5 AND check_state = 'sampled'")
        .bind(state).bind(note).bind(by).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

// ---------- follow-ups ----------

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowUp {
    pub id: i64,
    pub return_visit_id: i64,
    pub service_request_id: Option<i64>,
    pub subject_number: Option<String>,
    pub complaint_id: Option<i64>,
    pub customer_id: i64,
    pub station_id: Option<i64>,
    pub reason: String,
    pub status: String,
    pub note: String,
    pub closed_by: Option<i64>,
    pub closed_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const FOLLOW_COLS: &str = "f.id, f.return_visit_id, f.service_request_id, COALESCE(r.number, k.number) AS subject_number, \
    f.complaint_id, f.customer_id, f.station_id, f.reason, f.status, f.note, f.closed_by, f.closed_at, f.version, f.created_at";
const FOLLOW_FROM: &str = "follow_ups f LEFT JOIN service_requests r ON r.id = f.service_request_id \
    LEFT JOIN complaints k ON k.id = f.complaint_id";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_follow_up(c: &mut Conn<'_>, v: &Visit, reason: &str, note: &str, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO follow_ups (return_visit_id, service_request_id, complaint_id, customer_id, station_id, reason, \
         status, note, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8) RETURNING id")
        .bind(v.id).bind(v.service_request_id).bind(v.complaint_id).bind(v.customer_id).bind(v.station_id)
        .bind(reason).bind(note).bind(now).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_follow_up(c: &mut Conn<'_>, id: i64) -> Result<Option<FollowUp>> {
    let sql = format!("SELECT {FOLLOW_COLS} FROM {FOLLOW_FROM} WHERE f.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, FollowUp>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The follow-ups of a request, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn follow_ups_of_request(c: &mut Conn<'_>, request: i64) -> Result<Vec<FollowUp>> {
    let sql = format!("SELECT {FOLLOW_COLS} FROM {FOLLOW_FROM} WHERE f.service_request_id = $1 ORDER BY f.id DESC");
    Ok(both!(c, c => sqlx::query_as::<_, FollowUp>(AssertSqlSafe(sql)).bind(request).fetch_all(c).await)?)
}

/// Open follow-ups in `scope`, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_follow_ups(c: &mut Conn<'_>, scope: &Scope, limit: i64) -> Result<Vec<FollowUp>> {
    let (clause, ids) = scope_clause(scope, "f.station_id", 2);
    let sql = format!(
        "SELECT {FOLLOW_COLS} FROM {FOLLOW_FROM} WHERE f.status = 'open' AND ({clause}) ORDER BY f.created_at, f.id LIMIT $1"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, FollowUp>(AssertSqlSafe(sql)).bind(limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// End an open follow-up read at `version`; the new version or `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn close_follow_up(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    status: &str,
    note: &str,
    by: Option<i64>,
    now: i64,
) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE follow_ups SET status = $1, note = $2, closed_by = $3, closed_at = $4, version = version + 1, \
         updated_at = $4 WHERE id = $5 AND version = $6 AND status = 'open' RETURNING version")
        .bind(status).bind(note).bind(by).bind(now).bind(id).bind(version).fetch_optional(c).await)?)
}

/// End every open follow-up of a request as satisfied (a later visit found the customer content).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn satisfy_follow_ups_of_request(c: &mut Conn<'_>, request: i64, note: &str, now: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE follow_ups SET status = 'satisfied', note = $1, closed_at = $2, version = version + 1, updated_at = $2 \
         WHERE service_request_id = $3 AND status = 'open'")
        .bind(note).bind(now).bind(request).execute(c).await.map(|r| r.rows_affected()))?)
}

/// Whether a request has a visit or a follow-up still open (it may not close yet).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn request_has_open_follow_up_or_visit(c: &mut Conn<'_>, request: i64) -> Result<bool> {
    let n: i64 = both!(c, c => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM return_visits WHERE service_request_id = $1 AND status = 'open') + \
         (SELECT COUNT(*) FROM follow_ups WHERE service_request_id = $1 AND status = 'open')")
        .bind(request).fetch_one(c).await)?;
    Ok(n > 0)
}

/// The follow-ups a visit opened.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn follow_ups_of_visit(c: &mut Conn<'_>, visit: i64) -> Result<Vec<FollowUp>> {
    let sql = format!("SELECT {FOLLOW_COLS} FROM {FOLLOW_FROM} WHERE f.return_visit_id = $1 ORDER BY f.id DESC");
    Ok(both!(c, c => sqlx::query_as::<_, FollowUp>(AssertSqlSafe(sql)).bind(visit).fetch_all(c).await)?)
}

/// The product line of a device's model.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn product_line_of_device(c: &mut Conn<'_>, device: i64) -> Result<Option<String>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT m.product_line FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.id = $1")
        .bind(device).fetch_optional(c).await)?)
}

/// The model name of a request's device, if it has one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn product_of_request(c: &mut Conn<'_>, request: i64) -> Result<Option<String>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT m.name FROM service_requests r JOIN devices d ON d.id = r.device_id \
         JOIN product_models m ON m.id = d.model_id WHERE r.id = $1")
        .bind(request).fetch_optional(c).await)?)
}
