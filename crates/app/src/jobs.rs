//! Background work: the recompute jobs queued by calendar and policy edits, and the worker that runs due jobs, the SLA sweep and the outbox on every instance.
use crate::alerts::Calendars;
use crate::alerts::sweep;
use crate::inbox::dispatch_outbox;
use crate::sla::clocks;
use crate::{App, AppError, Result};
use serde::{Deserialize, Serialize};
use shouhou_store::Conn;
use shouhou_store::alerts::{self, OpenFilter};
use shouhou_store::jobs;
use shouhou_store::requests::SlaCache;
use shouhou_store::requests::{self};
use std::future::Future;
use std::time::Duration;

/// Kind of the job that recomputes open requests' SLA figures.
pub const RECOMPUTE_JOB: &str = "sla.recompute";
/// Requests per transaction when sweeping or recomputing.
pub(crate) const BATCH: i64 = 100;
/// How long a claimed job or outbox row stays with its holder before others may take it.
pub(crate) const LEASE_MS: i64 = 5 * 60 * 1000;
/// Who holds a job that a use case runs right after its commit.
pub(crate) const INLINE_HOLDER: &str = "inline";
/// Attempts after which a failing job is given up (kept with its last error).
pub(crate) const MAX_JOB_ATTEMPTS: i64 = 10;

// ---------- recomputation and its jobs ----------

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct RecomputePayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) calendar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) policy_id: Option<i64>,
}

impl RecomputePayload {
    fn filter(&self) -> OpenFilter {
        match (&self.calendar, self.policy_id) {
            (Some(code), _) => OpenFilter::Calendar(code.clone()),
            (None, Some(id)) => OpenFilter::Policy(id),
            (None, None) => OpenFilter::All,
        }
    }
}

/// Recompute and store the SLA figures of every open request counted on `calendar_code` (or of
/// all open requests), from their events, in batches of one transaction each. Answers how many.
#[tracing::instrument(skip_all)]
pub async fn recompute_open(app: &App, calendar_code: Option<&str>) -> Result<u64> {
    let filter = match calendar_code {
        Some(code) => OpenFilter::Calendar(code.to_string()),
        None => OpenFilter::All,
    };
    recompute(app, &filter).await
}

async fn recompute(app: &App, filter: &OpenFilter) -> Result<u64> {
    let mut done = 0;
    let mut after = 0;
    loop {
        let now = app.now();
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let ids = alerts::open_request_ids(&mut c, filter, after, BATCH).await?;
        // Loaded inside the batch's transaction, so an edit committed before it is seen.
        let mut calendars = Calendars::default();
        for &id in &ids {
            let Some(r) = requests::get_request(&mut c, id).await? else { continue };
            let events = requests::events_of(&mut c, id).await?;
            let cal = calendars.get(&mut c, &r.calendar_code).await?;
            let cache = SlaCache::from(clocks(&r, &events, cal, now)?.figures());
            // A request changed meanwhile got figures computed by that command: either way it is current.
            alerts::set_sla_if_version(&mut c, id, r.version, &cache).await?;
            done += 1;
        }
        tx.commit().await?;
        match ids.last() {
            Some(&last) if ids.len() as i64 == BATCH => after = last,
            _ => break,
        }
    }
    Ok(done)
}

/// Queue a recompute job already held by the caller, inside the caller's transaction.
pub(crate) async fn enqueue_recompute(c: &mut Conn<'_>, payload: &RecomputePayload, now: i64) -> Result<i64> {
    let payload = serde_json::to_string(payload).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(jobs::enqueue_job(c, RECOMPUTE_JOB, now, &payload, Some((INLINE_HOLDER, now + LEASE_MS)), now).await?)
}

/// Run a recompute job the caller holds, right after its commit. On failure the job is handed
/// to the workers and `None` answered: the edit itself is committed either way.
pub(crate) async fn run_held_job(app: &App, job: i64, payload: &RecomputePayload) -> Option<u64> {
    let outcome = recompute(app, &payload.filter()).await;
    let finish = async {
        let now = app.now();
        let mut tx = app.db.begin().await?;
        match &outcome {
            Ok(_) => {
                jobs::complete_job(&mut tx.conn(), job, INLINE_HOLDER, now).await?;
            }
            Err(e) => jobs::fail_job(&mut tx.conn(), job, INLINE_HOLDER, &e.to_string(), Some(now), now).await?,
        }
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = finish.await {
        tracing::warn!(job, error = %e, "could not record the end of a recompute job; a worker will run it again");
    }
    match outcome {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(job, error = %e, "recomputing open requests failed; left to the workers");
            None
        }
    }
}

/// Run due recompute jobs (ones queued by edits whose caller died, or that failed before).
/// Answers how many finished.
#[tracing::instrument(skip_all, fields(instance = instance))]
pub async fn run_due_jobs(app: &App, instance: &str) -> Result<u64> {
    let mut finished = 0;
    loop {
        let now = app.now();
        let jobs = {
            let mut tx = app.db.begin().await?;
            let jobs = jobs::claim_jobs(&mut tx.conn(), RECOMPUTE_JOB, now, instance, LEASE_MS, 10).await?;
            tx.commit().await?;
            jobs
        };
        if jobs.is_empty() {
            return Ok(finished);
        }
        for job in jobs {
            let outcome = match serde_json::from_str::<RecomputePayload>(&job.payload) {
                Ok(p) => recompute(app, &p.filter()).await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("bad payload: {e}")),
            };
            let now = app.now();
            let mut tx = app.db.begin().await?;
            match outcome {
                Ok(_) => {
                    if jobs::complete_job(&mut tx.conn(), job.id, instance, now).await? {
                        finished += 1;
                    }
                }
                Err(e) => {
                    tracing::warn!(job = job.id, attempts = job.attempts, error = %e, "recompute job failed");
                    let retry = (job.attempts < MAX_JOB_ATTEMPTS).then(|| now + job.attempts * 60_000);
                    jobs::fail_job(&mut tx.conn(), job.id, instance, &e, retry, now).await?;
                }
            }
            tx.commit().await?;
        }
    }
}

/// How often the worker forgets expired keys, failures and tokens (`system::housekeeping`).
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

/// One round of background work: due jobs, the SLA sweep, the outbox.
pub async fn tick(app: &App, instance: &str) {
    if let Err(e) = run_due_jobs(app, instance).await {
        tracing::warn!(error = %e, "running due jobs failed");
    }
    if let Err(e) = sweep(app, instance).await {
        tracing::warn!(error = %e, "SLA sweep failed");
    }
    if let Err(e) = crate::work_orders::sweep(app, instance).await {
        tracing::warn!(error = %e, "work-order sweep failed");
    }
    if let Err(e) = crate::maintenance::sweep(app, instance).await {
        tracing::warn!(error = %e, "maintenance sweep failed");
    }
    if let Err(e) = crate::warranty_cards::sweep_overdue(app).await {
        tracing::warn!(error = %e, "overdue warranty-card sweep failed");
    }
    if let Err(e) = crate::complaints::sweep_unacknowledged(app).await {
        tracing::warn!(error = %e, "complaint escalation sweep failed");
    }
    if let Err(e) = dispatch_outbox(app, instance).await {
        tracing::warn!(error = %e, "outbox dispatch failed");
    }
}

/// The background worker of one instance: first recompute every open request (heals figures
/// cached by an older version or left stale by a crash), then every `every` run due jobs, sweep
/// and dispatch, until `shutdown` completes. Work in progress at shutdown is abandoned; its
/// transaction rolls back and the next start picks it up.
pub async fn run_worker(app: App, instance: String, every: Duration, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let start = async {
        match recompute_open(&app, None).await {
            Ok(n) => tracing::info!(requests = n, "SLA figures of open requests recomputed at start"),
            Err(e) => tracing::warn!(error = %e, "recomputing open requests at start failed"),
        }
    };
    tokio::select! {
        _ = &mut shutdown => return,
        _ = start => {}
    }
    let mut housekept: Option<std::time::Instant> = None;
    let mut checkpointed: Option<std::time::Instant> = None;
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick(&app, &instance) => {}
        }
        if housekept.is_none_or(|t| t.elapsed() >= HOUSEKEEPING_EVERY) {
            housekept = Some(std::time::Instant::now());
            match crate::system::housekeeping(&app).await {
                Ok(h) => tracing::debug!(?h, "housekeeping done"),
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
        }
        if checkpointed.is_none_or(|t| t.elapsed() >= crate::system::AUDIT_CHECKPOINT_EVERY) {
            checkpointed = Some(std::time::Instant::now());
            if let Err(e) = crate::audit::checkpoint_audit(&app).await {
                tracing::warn!(error = %e, "writing an audit checkpoint failed");
            }
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_recompute_payload_names_what_to_recompute() {
        let p: RecomputePayload = serde_json::from_str(r#"{"calendar":"cn-workday"}"#).unwrap();
        assert_eq!(p.filter(), OpenFilter::Calendar("cn-workday".into()));
        let p: RecomputePayload = serde_json::from_str(r#"{"policy_id":4}"#).unwrap();
        assert_eq!(p.filter(), OpenFilter::Policy(4));
        let p: RecomputePayload = serde_json::from_str("{}").unwrap();
        assert_eq!(p.filter(), OpenFilter::All);
        let text = serde_json::to_string(&RecomputePayload { calendar: None, policy_id: Some(4) }).unwrap();
        assert_eq!(text, r#"{"policy_id":4}"#);
    }
}
