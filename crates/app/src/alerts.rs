//! SLA warnings and breaches, notifications into the in-app inbox, and the recomputation of open
//! requests' due times when a calendar or policy changes.
//!
//! - **Exactly once.** A sweep nominates open requests by their cached SLA figures, recomputes
//!   both clocks from the recorded events (the cache only nominates), and for a clock that has
//!   reached 80 % (warning) or 100 % (breach) inserts `sla_alerts (request, clock, level)` with
//!   `ON CONFLICT DO NOTHING`. Only the instance whose insert took the row writes the
//!   notifications and the audit entry, in the same transaction, so several instances sweeping
//!   one database fire each alert once.
//! - **Who hears of it.** A warning goes to the assignee, or the creator when nobody is assigned;
//!   a breach to the same person and, as an escalation, to every station manager of the
//!   request's station. Inactive users are skipped.
//! - **When.** A notification of an urgent or high-urgency request is delivered at once; any
//!   other waits for the recipient's calendar (their first station's, else `cn-workday`) to open.
//!   The inbox shows a notification from its `deliver_after` on; the outbox carries one row per
//!   channel (`inbox` today; email, SMS and WeCom later) for dispatchers that never touch the rules.
//! - **Recomputation.** Editing a calendar, a calendar day or a policy writes, audits and queues a
//!   `sla.recompute` job in one transaction; right after the commit the same call runs the job
//!   (holding its lease), and if the process dies first, a worker runs it when the lease ends.
use crate::service::{calendar_or_default, clocks, load_calendar, sla_cache};
use crate::system::record;
use crate::{App, AppError, Ctx, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::calendar::{BusinessCalendar, CalendarKind, Interval, shanghai};
use shouhou_domain::org::{optional_text, required_text};
use shouhou_domain::request::Urgency;
use shouhou_domain::sla::{ClockPhase, ClockStatus, Health};
use shouhou_store::alerts::{self as store, NewNotification, Notification, OpenFilter};
use shouhou_store::audit::{self, NewAuditEntry};
use shouhou_store::requests::{self, ServiceRequest};
use shouhou_store::sla as sla_store;
use shouhou_store::{Conn, Page, PageRequest};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

/// Kind of the job that recomputes open requests' SLA figures.
pub const RECOMPUTE_JOB: &str = "sla.recompute";
/// Requests per transaction when sweeping or recomputing.
const BATCH: i64 = 100;
/// How long a claimed job or outbox row stays with its holder before others may take it.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// Who holds a job that a use case runs right after its commit.
const INLINE_HOLDER: &str = "inline";
/// Attempts after which a failing job is given up (kept with its last error).
const MAX_JOB_ATTEMPTS: i64 = 10;
/// Delivery channels every notification gets an outbox row for.
const CHANNELS: &[&str] = &["inbox"];
/// The longest SLA target a policy may set: 365 days.
const MAX_TARGET_MINUTES: i64 = 365 * 24 * 60;

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `2025-10-14 09:30`, Beijing time.
fn local(t: Timestamp) -> String {
    t.to_zoned(shanghai()).strftime("%Y-%m-%d %H:%M").to_string()
}

// ---------- the sweep ----------

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Requests nominated by their cache and recomputed.
    pub examined: u64,
    /// Warnings and breaches this instance fired (another instance's are not counted).
    pub warnings: u64,
    pub breaches: u64,
    pub notifications: u64,
    /// Requests whose transaction failed; they are nominated again by the next sweep.
    pub errors: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Warning,
    Breach,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Breach => "breach",
        }
    }
}

fn clock_label(clock: &str) -> &'static str {
    if clock == "response" { "首次响应" } else { "解决" }
}

fn target_label(minutes: i64, kind: CalendarKind) -> String {
    let amount = if minutes % 60 == 0 { format!("{} 小时", minutes / 60) } else { format!("{minutes} 分钟") };
    match kind {
        CalendarKind::Working => format!("{amount}，按工作时间计"),
        CalendarKind::AlwaysOpen => amount,
    }
}

/// Recipients' calendars, loaded once per sweep.
#[derive(Default)]
struct Calendars(HashMap<String, BusinessCalendar>);

impl Calendars {
    async fn get(&mut self, c: &mut Conn<'_>, code: &str) -> Result<&BusinessCalendar> {
        let cal = match self.0.remove(code) {
            Some(cal) => cal,
            None => calendar_or_default(c, code).await?,
        };
        Ok(self.0.entry(code.to_string()).or_insert(cal))
    }
}

/// Fire the SLA warnings and breaches that are due as of `app.now()`, each exactly once across
/// all instances. `instance` names this process in `sla_alerts.fired_by` and in the audit trail.
#[tracing::instrument(skip_all, fields(instance = instance))]
pub async fn sweep(app: &App, instance: &str) -> Result<SweepReport> {
    let now = app.now();
    let mut report = SweepReport::default();
    let mut calendars = Calendars::default();
    let mut after = 0;
    loop {
        let ids = {
            let mut rd = app.db.read().await?;
            store::alert_candidates(&mut rd.conn(), now, after, BATCH).await?
        };
        for &id in &ids {
            report.examined += 1;
            if let Err(e) = sweep_request(app, instance, id, now, &mut calendars, &mut report).await {
                report.errors += 1;
                tracing::warn!(request_id = id, error = %e, "SLA sweep of a request failed");
            }
        }
        match ids.last() {
            Some(&last) if ids.len() as i64 == BATCH => after = last,
            _ => break,
        }
    }
    if report.warnings + report.breaches > 0 {
        tracing::info!(warnings = report.warnings, breaches = report.breaches, "SLA alerts fired");
    }
    Ok(report)
}

/// One request in one transaction: recompute, fire what is due, notify, refresh the cache, audit.
async fn sweep_request(
    app: &App,
    instance: &str,
    id: i64,
    now: i64,
    calendars: &mut Calendars,
    report: &mut SweepReport,
) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // Alerts fired on a calendar being edited would stand for good: wait for the edit (D20).
    sla_store::hold_sla_config(&mut c, false).await?;
    let Some(r) = requests::get_request(&mut c, id).await? else { return Ok(()) };
    if matches!(r.status.as_str(), "closed" | "cancelled") {
        return Ok(());
    }
    let events = requests::events_of(&mut c, id).await?;
    let cal = calendar_or_default(&mut c, &r.calendar_code).await?;
    let clk = clocks(&r, &events, &cal, now);

    // Keys are always taken in the same order (response before resolution, breach before
    // warning), so two instances on one request wait for each other but never deadlock.
    let mut fired: Vec<(&'static str, Level, &ClockStatus)> = vec![];
    for (name, status) in [("response", &clk.response), ("resolution", &clk.resolution)] {
        // A stopped clock is met or missed, not something to warn about; a clock that has not
        // started has nothing to report. A paused one keeps what it reached before the pause.
        if !matches!(status.phase, ClockPhase::Running | ClockPhase::Paused) {
            continue;
        }
        match status.health {
            Health::Breached => {
                if store::insert_alert_once(&mut c, id, name, "breach", now, instance).await? {
                    fired.push((name, Level::Breach, status));
                }
                // Found already breached: the warning is settled without a notification of its own.
                store::insert_alert_once(&mut c, id, name, "warning", now, instance).await?;
            }
            Health::AtRisk => {
                if store::insert_alert_once(&mut c, id, name, "warning", now, instance).await? {
                    fired.push((name, Level::Warning, status));
                }
            }
            Health::Ok => {}
        }
    }

    let mut audits = vec![];
    for &(clock, level, status) in &fired {
        let ids = notify(&mut c, &r, clock, level, status, cal.kind, now, calendars).await?;
        report.notifications += ids.len() as u64;
        match level {
            Level::Warning => report.warnings += 1,
            Level::Breach => report.breaches += 1,
        }
        audits.push((
            format!("sla.{}", level.as_str()),
            json!({
                "number": r.number,
                "clock": clock,
                "due_at": status.due.map(|t| t.as_millisecond()),
                "breached_at": status.breached_at.map(|t| t.as_millisecond()),
                "recipients": ids,
            }),
        ));
    }
    // The state the queues show moves on too (running → at risk → breached); skipped if a command
    // changed the request meanwhile, since that command stored figures computed after ours.
    store::set_sla_if_version(&mut c, id, r.version, &sla_cache(&clk)).await?;
    for (action, detail) in audits {
        audit::append(
            &mut c,
            &app.keys,
            NewAuditEntry {
                at_ms: now,
                actor_id: None,
                actor_name: "system".into(),
                action,
                entity: "service_request".into(),
                entity_id: Some(id.to_string()),
                detail: detail.to_string(),
                source: "worker".into(),
                request_id: instance.to_string(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Write the notifications of one fired alert; answers the recipients' user ids.
#[allow(clippy::too_many_arguments)]
async fn notify(
    c: &mut Conn<'_>,
    r: &ServiceRequest,
    clock: &str,
    level: Level,
    status: &ClockStatus,
    kind: CalendarKind,
    now: i64,
    calendars: &mut Calendars,
) -> Result<Vec<i64>> {
    let label = clock_label(clock);
    let target = if clock == "response" { r.response_target_min } else { r.resolution_target_min };
    let target = target_label(target, kind);
    let link = format!("/requests/{}", r.id);
    let urgent = matches!(Urgency::parse("urgency", &r.urgency), Ok(Urgency::Urgent | Urgency::High));

    let responsible = match r.assignee_id.or(r.created_by) {
        Some(u) if store::user_is_active(c, u).await? => Some(u),
        _ => None,
    };
    let mut messages: Vec<(i64, &str, String, String)> = vec![];
    match level {
        Level::Warning => {
            let title = format!("服务请求 {} {label}即将超时（已用 80%）", r.number);
            let body = match status.due {
                Some(due) => format!("{label}须在 {} 前完成（目标 {target}），请尽快处理。", local(due)),
                None => format!("{label}计时已暂停，恢复后剩余时间不足 20%（目标 {target}）。"),
            };
            if let Some(u) = responsible {
                messages.push((u, "sla.warning", title, body));
            }
        }
        Level::Breach => {
            let at = status.breached_at.map(local).unwrap_or_else(|| local(ts(now)));
            let body = format!("{label}已于 {at} 超过服务级别目标（{target}）。");
            if let Some(u) = responsible {
                messages.push((
                    u,
                    "sla.breach",
                    format!("服务请求 {} {label}已超时", r.number),
                    format!("{body}已升级至服务站站长，请立即处理。"),
                ));
            }
            if let Some(station) = r.station_id {
                for m in store::station_members_with_role(c, station, "station_manager").await? {
                    if Some(m) != responsible {
                        messages.push((
                            m,
                            "sla.escalation",
                            format!("升级：服务请求 {} {label}已超时", r.number),
                            format!("{body}请督促处理。"),
                        ));
                    }
                }
            }
        }
    }
    let mut ids = vec![];
    for (user, kind, title, body) in messages {
        let deliver_after = if urgent {
            now
        } else {
            let code = store::user_calendar_code(c, user).await?.unwrap_or_else(|| "cn-workday".to_string());
            calendars.get(c, &code).await?.next_open(ts(now)).as_millisecond().max(now)
        };
        let n = NewNotification {
            user_id: user,
            kind,
            title: &title,
            body: &body,
            link: Some(&link),
            urgent,
            deliver_after,
        };
        store::insert_notification(c, &n, CHANNELS, now).await?;
        ids.push(user);
    }
    Ok(ids)
}

// ---------- the outbox ----------

/// Deliver what the outbox holds for the `inbox` channel and is due: the notification row is
/// itself the delivery, so dispatching stamps `dispatched_at`. Other channels get their own
/// dispatcher with the same claim–deliver–mark steps. Answers how many rows were dispatched.
#[tracing::instrument(skip_all, fields(instance = instance))]
pub async fn dispatch_outbox(app: &App, instance: &str) -> Result<u64> {
    let mut dispatched = 0;
    loop {
        let now = app.now();
        let claimed = {
            let mut tx = app.db.begin().await?;
            let rows = store::claim_outbox(&mut tx.conn(), "inbox", now, instance, LEASE_MS, BATCH).await?;
            tx.commit().await?;
            rows
        };
        if claimed.is_empty() {
            break;
        }
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        for row in &claimed {
            if store::mark_dispatched(&mut c, row.id, instance, now).await? {
                dispatched += 1;
            }
        }
        tx.commit().await?;
        if (claimed.len() as i64) < BATCH {
            break;
        }
    }
    Ok(dispatched)
}

// ---------- recomputation and its jobs ----------

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RecomputePayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy_id: Option<i64>,
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
        let ids = store::open_request_ids(&mut c, filter, after, BATCH).await?;
        // Loaded inside the batch's transaction, so an edit committed before it is seen.
        let mut calendars = Calendars::default();
        for &id in &ids {
            let Some(r) = requests::get_request(&mut c, id).await? else { continue };
            let events = requests::events_of(&mut c, id).await?;
            let cal = calendars.get(&mut c, &r.calendar_code).await?;
            let cache = sla_cache(&clocks(&r, &events, cal, now));
            // A request changed meanwhile got figures computed by that command: either way it is current.
            store::set_sla_if_version(&mut c, id, r.version, &cache).await?;
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
async fn enqueue_recompute(c: &mut Conn<'_>, payload: &RecomputePayload, now: i64) -> Result<i64> {
    let payload = serde_json::to_string(payload).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(store::enqueue_job(c, RECOMPUTE_JOB, now, &payload, Some((INLINE_HOLDER, now + LEASE_MS)), now).await?)
}

/// Run a recompute job the caller holds, right after its commit. On failure the job is handed
/// to the workers and `None` answered: the edit itself is committed either way.
async fn run_held_job(app: &App, job: i64, payload: &RecomputePayload) -> Option<u64> {
    let outcome = recompute(app, &payload.filter()).await;
    let finish = async {
        let now = app.now();
        let mut tx = app.db.begin().await?;
        match &outcome {
            Ok(_) => {
                store::complete_job(&mut tx.conn(), job, INLINE_HOLDER, now).await?;
            }
            Err(e) => store::fail_job(&mut tx.conn(), job, INLINE_HOLDER, &e.to_string(), Some(now), now).await?,
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
            let jobs = store::claim_jobs(&mut tx.conn(), RECOMPUTE_JOB, now, instance, LEASE_MS, 10).await?;
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
                    if store::complete_job(&mut tx.conn(), job.id, instance, now).await? {
                        finished += 1;
                    }
                }
                Err(e) => {
                    tracing::warn!(job = job.id, attempts = job.attempts, error = %e, "recompute job failed");
                    let retry = (job.attempts < MAX_JOB_ATTEMPTS).then(|| now + job.attempts * 60_000);
                    store::fail_job(&mut tx.conn(), job.id, instance, &e, retry, now).await?;
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
            if let Err(e) = crate::system::checkpoint_audit(&app).await {
                tracing::warn!(error = %e, "writing an audit checkpoint failed");
            }
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

// ---------- calendars and policies ----------

/// A committed edit of a calendar or policy.
#[derive(Debug, Clone, Serialize)]
pub struct SlaEdited {
    /// The calendar's or policy's version now.
    pub version: i64,
    /// Open requests recomputed right after the commit; `None` if that failed and the work was
    /// left to the background workers.
    pub recomputed: Option<u64>,
}

fn weekly_json(weekly: &[Vec<Interval>; 7]) -> Result<String> {
    let pairs: Vec<Vec<[u16; 2]>> =
        weekly.iter().map(|day| day.iter().map(|i| [i.start_min, i.end_min]).collect()).collect();
    serde_json::to_string(&pairs).map_err(|e| AppError::Internal(e.to_string()))
}

/// Edit a calendar's name, weekly hours (Monday first, seven days) and use of the PRC holidays,
/// with optimistic concurrency. A working calendar with no hours at all is refused (`weekly`,
/// `no_working_hours`), as are unsorted or overlapping hours (`weekly`, `invalid_hours`). Open
/// requests on the calendar are recomputed right after the commit.
#[tracing::instrument(skip_all)]
pub async fn update_calendar(
    app: &App,
    ctx: &Ctx,
    code: &str,
    version: i64,
    name: &str,
    weekly: &[Vec<Interval>],
    use_prc_holidays: bool,
) -> Result<SlaEdited> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    let name = e.take(required_text("name", name, 100));
    let week: Option<[Vec<Interval>; 7]> = weekly.to_vec().try_into().ok();
    if week.is_none() {
        e.push("weekly", "invalid_hours");
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    sla_store::hold_sla_config(&mut c, true).await?;
    let mut cal = load_calendar(&mut c, code).await?.ok_or(AppError::NotFound)?;
    if let Some(week) = week {
        cal.weekly = week;
        cal.use_prc_holidays = use_prc_holidays;
        if let Err(v) = cal.validate() {
            e.0.extend(v.0);
        }
    }
    e.into_result()?;
    let Some(name) = name else { return Err(ValidationErrors::single("name", "required").into()) };
    let weekly_text = weekly_json(&cal.weekly)?;
    let v = sla_store::update_calendar(&mut c, code, version, &name, &weekly_text, use_prc_holidays, now).await?;
    let payload = RecomputePayload { calendar: Some(code.to_string()), policy_id: None };
    let job = enqueue_recompute(&mut c, &payload, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "calendar.update",
        "calendar",
        Some(code.to_string()),
        json!({"name": name, "weekly": weekly_text, "use_prc_holidays": use_prc_holidays, "version": v}),
    )
    .await?;
    tx.commit().await?;
    Ok(SlaEdited { version: v, recomputed: run_held_job(app, job, &payload).await })
}

/// Make a date (YYYY-MM-DD, Asia/Shanghai) a company holiday (`Some(true)`), a special working
/// day (`Some(false)`), or remove the override (`None`). Open requests on the calendar are
/// recomputed right after the commit. The calendar's version is not changed: days are separate
/// rows, so a concurrent edit of the weekly hours cannot undo them.
#[tracing::instrument(skip_all)]
pub async fn set_calendar_day(
    app: &App,
    ctx: &Ctx,
    code: &str,
    date: &str,
    off: Option<bool>,
    note: &str,
) -> Result<SlaEdited> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    let day = date.trim().parse::<jiff::civil::Date>().ok().filter(|_| date.trim().len() == 10);
    if day.is_none() {
        e.push("date", "invalid_date");
    }
    let note = e.take(optional_text("note", Some(note), 200));
    let (Some(day), Some(note)) = (day, note) else { return Err(e.into()) };
    let note = note.unwrap_or_default();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    sla_store::hold_sla_config(&mut c, true).await?;
    let (row, _) = sla_store::calendar(&mut c, code).await?.ok_or(AppError::NotFound)?;
    let day = day.to_string();
    sla_store::set_calendar_day(&mut c, row.id, &day, off, &note).await?;
    let payload = RecomputePayload { calendar: Some(code.to_string()), policy_id: None };
    let job = enqueue_recompute(&mut c, &payload, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "calendar.day",
        "calendar",
        Some(code.to_string()),
        json!({"day": day, "off": off, "note": note}),
    )
    .await?;
    tx.commit().await?;
    Ok(SlaEdited { version: row.version, recomputed: run_held_job(app, job, &payload).await })
}

/// Edit a policy's targets (minutes, 1 to 365 days), calendar and activity, with optimistic
/// concurrency. Its open requests take the new targets and calendar in the same transaction and
/// are recomputed right after the commit. Deactivating the last active catch-all policy (no type,
/// urgency or tier) is refused (`active`, `last_catch_all_policy`): new requests need one.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all)]
pub async fn update_policy(
    app: &App,
    ctx: &Ctx,
    id: i64,
    version: i64,
    response_minutes: i64,
    resolution_minutes: i64,
    calendar_code: &str,
    active: bool,
) -> Result<SlaEdited> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    if !(1..=MAX_TARGET_MINUTES).contains(&response_minutes) {
        e.push("response_minutes", "out_of_range");
    }
    if !(1..=MAX_TARGET_MINUTES).contains(&resolution_minutes) {
        e.push("resolution_minutes", "out_of_range");
    }
    let calendar_code = calendar_code.trim();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    sla_store::hold_sla_config(&mut c, true).await?;
    let policy = sla_store::get_policy(&mut c, id).await?.ok_or(AppError::NotFound)?;
    if sla_store::calendar(&mut c, calendar_code).await?.is_none() {
        e.push("calendar_code", "unknown_calendar");
    }
    e.into_result()?;
    let v = store::update_policy(&mut c, id, version, response_minutes, resolution_minutes, calendar_code, active, now)
        .await?;
    let catch_all = policy.request_type.is_none() && policy.urgency.is_none() && policy.tier.is_none();
    if catch_all && !active && !store::has_active_catch_all(&mut c).await? {
        return Err(ValidationErrors::single("active", "last_catch_all_policy").into());
    }
    let retargeted =
        store::retarget_open_requests(&mut c, id, response_minutes, resolution_minutes, calendar_code).await?;
    let payload = RecomputePayload { calendar: None, policy_id: Some(id) };
    let job = enqueue_recompute(&mut c, &payload, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "sla_policy.update",
        "sla_policy",
        Some(id.to_string()),
        json!({"response_minutes": response_minutes, "resolution_minutes": resolution_minutes,
               "calendar_code": calendar_code, "active": active, "version": v, "open_requests": retargeted}),
    )
    .await?;
    tx.commit().await?;
    Ok(SlaEdited { version: v, recomputed: run_held_job(app, job, &payload).await })
}

// ---------- the inbox ----------

/// The caller's delivered notifications, newest first.
#[tracing::instrument(skip_all)]
pub async fn inbox(app: &App, ctx: &Ctx, page: PageRequest) -> Result<Page<Notification>> {
    let me = ctx.actor()?.id.0;
    let mut rd = app.db.read().await?;
    Ok(store::inbox(&mut rd.conn(), me, app.now(), page).await?)
}

/// Delivered, unread notifications of the caller: the counter in the page header.
#[tracing::instrument(skip_all)]
pub async fn unread_count(app: &App, ctx: &Ctx) -> Result<i64> {
    let me = ctx.actor()?.id.0;
    let mut rd = app.db.read().await?;
    Ok(store::unread_count(&mut rd.conn(), me, app.now()).await?)
}

/// Mark one of the caller's notifications read; 404 for anyone else's and for one not yet
/// delivered. Personal reading state, so not audited.
#[tracing::instrument(skip_all)]
pub async fn mark_read(app: &App, ctx: &Ctx, id: i64) -> Result<()> {
    let me = ctx.actor()?.id.0;
    let mut tx = app.db.begin().await?;
    store::mark_read(&mut tx.conn(), me, id, app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Mark all of the caller's delivered notifications read; answers how many were unread.
#[tracing::instrument(skip_all)]
pub async fn mark_all_read(app: &App, ctx: &Ctx) -> Result<u64> {
    let me = ctx.actor()?.id.0;
    let mut tx = app.db.begin().await?;
    let n = store::mark_all_read(&mut tx.conn(), me, app.now()).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_as_a_person_says_them() {
        assert_eq!(target_label(480, CalendarKind::Working), "8 小时，按工作时间计");
        assert_eq!(target_label(5, CalendarKind::AlwaysOpen), "5 分钟");
        assert_eq!(target_label(90, CalendarKind::AlwaysOpen), "90 分钟");
    }

    #[test]
    fn instants_are_shown_in_beijing_time() {
        assert_eq!(local("2025-10-14T01:30:00Z".parse().unwrap()), "2025-10-14 09:30");
    }

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
