//! Complaints, their timelines, and suggestions.
use crate::{Conn, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Complaint {
    pub id: i64,
    pub number: String,
    pub customer_id: i64,
    pub service_request_id: Option<i64>,
    pub request_number: Option<String>,
    pub station_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub model_id: Option<i64>,
    pub product_line: Option<String>,
    pub severity: String,
    pub category: String,
    pub description: String,
    pub occurred_at: Option<i64>,
    pub status: String,
    pub repeat_of: Option<i64>,
    pub level: i64,
    pub contact_due_at: i64,
    pub solution_due_at: i64,
    pub contacted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub ack_due_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<i64>,
    pub root_cause: Option<String>,
    pub measure: String,
    pub measure_owner_id: Option<i64>,
    pub measure_due: Option<String>,
    pub customer_ack: bool,
    pub close_reason: String,
    pub created_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const COLS: &str = "k.id, k.number, k.customer_id, k.service_request_id, r.number AS request_number, k.station_id, \
    k.staff_id, k.model_id, k.product_line, k.severity, k.category, k.description, k.occurred_at, k.status, k.repeat_of, \
    k.level, k.contact_due_at, k.solution_due_at, k.contacted_at, k.resolved_at, k.closed_at, k.ack_due_at, \
    k.acknowledged_at, k.acknowledged_by, k.root_cause, k.measure, k.measure_owner_id, k.measure_due, k.customer_ack, \
    k.close_reason, k.created_by, k.version, k.created_at";
const FROM: &str = "complaints k LEFT JOIN service_requests r ON r.id = k.service_request_id";

/// A complaint to register.
#[derive(Debug, Clone)]
pub struct NewComplaint<'a> {
    pub number: &'a str,
    pub customer_id: i64,
    pub service_request_id: Option<i64>,
    pub station_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub model_id: Option<i64>,
    pub product_line: Option<&'a str>,
    pub severity: &'a str,
    pub category: &'a str,
    pub description: &'a str,
    pub occurred_at: Option<i64>,
    pub repeat_of: Option<i64>,
    pub level: i64,
    pub contact_due_at: i64,
    pub solution_due_at: i64,
    pub ack_due_at: Option<i64>,
    pub created_by: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(c: &mut Conn<'_>, k: &NewComplaint<'_>, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO complaints (number, customer_id, service_request_id, station_id, staff_id, model_id, product_line, \
         severity, category, description, occurred_at, status, repeat_of, level, contact_due_at, solution_due_at, \
         ack_due_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id")
        .bind(k.number).bind(k.customer_id).bind(k.service_request_id).bind(k.station_id).bind(k.staff_id)
        .bind(k.model_id).bind(k.product_line).bind(k.severity).bind(k.category).bind(k.description)
        .bind(k.occurred_at).bind(k.repeat_of).bind(k.level).bind(k.contact_due_at).bind(k.solution_due_at)
        .bind(k.ack_due_at).bind(k.created_by).bind(now).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Complaint>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE k.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Complaint>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// A customer's complaints registered since `since`: (id, category, registered at).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn earlier_of_customer(c: &mut Conn<'_>, customer: i64, since: i64) -> Result<Vec<(i64, String, i64)>> {
    Ok(both!(c, c => sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT id, category, created_at FROM complaints WHERE customer_id = $1 AND created_at >= $2 ORDER BY id")
        .bind(customer).bind(since).fetch_all(c).await)?)
}

/// Complaints in `scope` (headquarters' own, of no station, only for headquarters), open ones
/// (not closed) or all, most urgent first: soonest solution due.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, scope: &Scope, open_only: bool, limit: i64) -> Result<Vec<Complaint>> {
    let (clause, ids) = scope_clause(scope, "k.station_id", 3);
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE ($2 = 0 OR k.status <> 'closed') AND ({clause}) \
         ORDER BY CASE WHEN k.status = 'closed' THEN 1 ELSE 0 END, k.solution_due_at, k.id LIMIT $1"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Complaint>(AssertSqlSafe(sql)).bind(limit).bind(i64::from(open_only));
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Complaints registered in `[from, to)` in `scope`, for the report.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn registered_between(c: &mut Conn<'_>, scope: &Scope, from: i64, to: i64) -> Result<Vec<Complaint>> {
    let (clause, ids) = scope_clause(scope, "k.station_id", 3);
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE k.created_at >= $1 AND k.created_at < $2 AND ({clause}) ORDER BY k.id LIMIT 100000"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Complaint>(AssertSqlSafe(sql)).bind(from).bind(to);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Save what a step changed on a complaint read at `version`; the new version or `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save(c: &mut Conn<'_>, k: &Complaint, version: i64, now: i64) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE complaints SET status = $1, level = $2, contacted_at = $3, resolved_at = $4, closed_at = $5, \
         acknowledged_at = $6, acknowledged_by = $7, root_cause = $8, measure = $9, measure_owner_id = $10, \
         measure_due = $11, customer_ack = $12, close_reason = $13, version = version + 1, updated_at = $14 \
         WHERE id = $15 AND version = $16 RETURNING version")
        .bind(&k.status).bind(k.level).bind(k.contacted_at).bind(k.resolved_at).bind(k.closed_at)
        .bind(k.acknowledged_at).bind(k.acknowledged_by).bind(&k.root_cause).bind(&k.measure)
        .bind(k.measure_owner_id).bind(&k.measure_due).bind(k.customer_ack).bind(&k.close_reason).bind(now)
        .bind(k.id).bind(version).fetch_optional(c).await)?)
}

/// Major complaints management has not acknowledged by their time and that nobody has escalated
/// again yet.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unacknowledged(c: &mut Conn<'_>, now: i64, limit: i64) -> Result<Vec<Complaint>> {
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE k.ack_due_at IS NOT NULL AND k.ack_due_at <= $1 AND k.acknowledged_at IS NULL \
         AND k.reminded_at IS NULL AND k.status <> 'closed' ORDER BY k.ack_due_at LIMIT $2"
    );
    Ok(both!(c, c => sqlx::query_as::<_, Complaint>(AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(c).await)?)
}

/// Take the escalation of an unacknowledged major complaint to the top: true for the one caller
/// (of all instances) that does it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_reminder(c: &mut Conn<'_>, id: i64, level: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE complaints SET reminded_at = $1, level = $2, version = version + 1, updated_at = $1 \
         WHERE id = $3 AND reminded_at IS NULL AND acknowledged_at IS NULL")
        .bind(now).bind(level).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ComplaintEvent {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub kind: String,
    pub note: String,
    pub told_customer: bool,
    pub data: String,
}

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_event(
    c: &mut Conn<'_>,
    complaint: i64,
    at: i64,
    actor: Option<(i64, &str)>,
    kind: &str,
    note: &str,
    told_customer: bool,
    data: &str,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO complaint_events (complaint_id, at, actor_id, actor_name, kind, note, told_customer, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(complaint).bind(at).bind(actor.map(|a| a.0)).bind(actor.map(|a| a.1).unwrap_or("系统"))
        .bind(kind).bind(note).bind(told_customer).bind(data).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn events_of(c: &mut Conn<'_>, complaint: i64) -> Result<Vec<ComplaintEvent>> {
    Ok(both!(c, c => sqlx::query_as::<_, ComplaintEvent>(
        "SELECT id, at, actor_id, actor_name, kind, note, told_customer, data FROM complaint_events \
         WHERE complaint_id = $1 ORDER BY at, id")
        .bind(complaint).fetch_all(c).await)?)
}

/// The product line and model of a device.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn model_of_device(c: &mut Conn<'_>, device: i64) -> Result<Option<(i64, String)>> {
    Ok(both!(c, c => sqlx::query_as::<_, (i64, String)>(
        "SELECT m.id, m.product_line FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.id = $1")
        .bind(device).fetch_optional(c).await)?)
}

// ---------- suggestions ----------

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Suggestion {
    pub id: i64,
    pub number: String,
    pub customer_id: Option<i64>,
    pub channel: String,
    pub category: String,
    pub description: String,
    pub department: Option<String>,
    pub status: String,
    pub evaluation_note: String,
    pub answer: String,
    pub answered_at: Option<i64>,
    pub created_by: Option<i64>,
    pub decided_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
}

const SUGGESTION_COLS: &str = "id, number, customer_id, channel, category, description, department, status, \
    evaluation_note, answer, answered_at, created_by, decided_by, version, created_at";

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_suggestion(
    c: &mut Conn<'_>,
    number: &str,
    customer: Option<i64>,
    channel: &str,
    category: &str,
    description: &str,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO suggestions (number, customer_id, channel, category, description, status, created_by, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, 'received', $6, $7, $7) RETURNING id")
        .bind(number).bind(customer).bind(channel).bind(category).bind(description).bind(by).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_suggestion(c: &mut Conn<'_>, id: i64) -> Result<Option<Suggestion>> {
    let sql = format!("SELECT {SUGGESTION_COLS} FROM suggestions WHERE id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Suggestion>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The suggestion numbered `number`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn suggestion_by_number(c: &mut Conn<'_>, number: &str) -> Result<Option<Suggestion>> {
    let sql = format!("SELECT {SUGGESTION_COLS} FROM suggestions WHERE number = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Suggestion>(AssertSqlSafe(sql)).bind(number).fetch_optional(c).await)?)
}

/// Suggestions registered in `[from, to)`, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn suggestions_between(c: &mut Conn<'_>, from: i64, to: i64, limit: i64) -> Result<Vec<Suggestion>> {
    let sql = format!(
        "SELECT {SUGGESTION_COLS} FROM suggestions WHERE created_at >= $1 AND created_at < $2 ORDER BY id DESC LIMIT $3"
    );
    Ok(
        both!(c, c => sqlx::query_as::<_, Suggestion>(AssertSqlSafe(sql)).bind(from).bind(to).bind(limit).fetch_all(c).await)?,
    )
}

/// Save a step on a suggestion read at `version`; the new version or `None`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_suggestion(c: &mut Conn<'_>, s: &Suggestion, version: i64, now: i64) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE suggestions SET department = $1, status = $2, evaluation_note = $3, answer = $4, answered_at = $5, \
         decided_by = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9 RETURNING version")
        .bind(&s.department).bind(&s.status).bind(&s.evaluation_note).bind(&s.answer).bind(s.answered_at)
        .bind(s.decided_by).bind(now).bind(s.id).bind(version).fetch_optional(c).await)?)
}
