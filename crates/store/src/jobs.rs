//! The job queue: work to run later, claimed with a lease by one instance at a time.
//!
//! Claiming (jobs, outbox) is the one place the two backends differ: PostgreSQL locks the chosen
//! rows with `FOR UPDATE SKIP LOCKED` so concurrent workers take disjoint rows without waiting;
//! SQLite has a single writer (`BEGIN IMMEDIATE`), so the same statement without the locking
//! clause already runs alone.
use crate::{Conn, Result, both};
use serde::Serialize;
use sqlx::AssertSqlSafe;

// ---------- jobs ----------

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub run_at: i64,
    pub payload: String,
    pub attempts: i64,
}

/// Queue a job to run from `run_at`. With `leased_to`, the job is created already claimed by that
/// holder until `lease_until` (a caller that runs it at once); should the holder die, the job
/// becomes claimable when the lease runs out.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn enqueue_job(
    c: &mut Conn<'_>,
    kind: &str,
    run_at: i64,
    payload: &str,
    leased_to: Option<(&str, i64)>,
    now: i64,
) -> Result<i64> {
    let (by, until) = match leased_to {
        Some((by, until)) => (Some(by), Some(until)),
        None => (None, None),
    };
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO jobs (kind, run_at, payload, locked_until, locked_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(kind).bind(run_at).bind(payload).bind(until).bind(by).bind(now).fetch_one(c).await)?)
}

/// Claim up to `limit` due, unfinished jobs of `kind` with a lease until `now + lease_ms`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_jobs(
    c: &mut Conn<'_>,
    kind: &str,
    now: i64,
    instance: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    let pick = "SELECT id FROM jobs WHERE kind = $4 AND done_at IS NULL AND run_at <= $3 \
                AND (locked_until IS NULL OR locked_until <= $3) ORDER BY run_at, id LIMIT $5";
    let returning = "id, kind, run_at, payload, attempts";
    let mut jobs: Vec<Job> =
        claim_leased(c, "jobs", pick, returning, now.saturating_add(lease_ms), instance, now, kind, limit).await?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// Finish a job its holder ran; false if the lease was lost (someone else holds or finished it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete_job(c: &mut Conn<'_>, id: i64, instance: &str, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2 AND locked_by = $3 AND done_at IS NULL")
        .bind(now).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A failed run: retry from `retry_at`, or with `retry_at = None` give up (done, error kept).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn fail_job(
    c: &mut Conn<'_>,
    id: i64,
    instance: &str,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE jobs SET locked_until = NULL, locked_by = NULL, last_error = $1, run_at = COALESCE($2, run_at), \
         done_at = CASE WHEN $2 IS NULL THEN $3 ELSE NULL END WHERE id = $4 AND locked_by = $5 AND done_at IS NULL")
        .bind(error).bind(retry_at).bind(now).bind(id).bind(instance).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobState {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub locked_by: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_job(c: &mut Conn<'_>, id: i64) -> Result<Option<JobState>> {
    Ok(both!(c, c => sqlx::query_as::<_, JobState>(
        "SELECT id, kind, payload, locked_by, attempts, last_error, done_at FROM jobs WHERE id = $1")
        .bind(id).fetch_optional(c).await)?)
}

/// The lease both queues (outbox, jobs) are claimed with: the rows `pick` chooses (it reads `$3`
/// now, `$4` the channel or kind, `$5` the limit) get `locked_until = $1`, `locked_by = $2` and one
/// more attempt; answers them by `returning`.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub(crate) async fn claim_leased<T>(
    c: &mut Conn<'_>,
    table: &str,
    pick: &str,
    returning: &str,
    until: i64,
    instance: &str,
    now: i64,
    key: &str,
    limit: i64,
) -> Result<Vec<T>>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let lock = match c {
        // SQLite: one writer at a time, so the rows chosen cannot be claimed by anyone else meanwhile.
        Conn::Sqlite(_) => "",
        // PostgreSQL: lock the chosen rows and skip those another worker holds, so concurrent
        // claimers take disjoint rows without waiting for each other.
        Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE {table} SET locked_until = $1, locked_by = $2, attempts = attempts + 1 WHERE id IN ({pick}{lock}) \
         RETURNING {returning}"
    );
    Ok(both!(c, c => sqlx::query_as::<_, T>(AssertSqlSafe(sql))
        .bind(until).bind(instance).bind(now).bind(key).bind(limit).fetch_all(c).await)?)
}
