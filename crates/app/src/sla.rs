//! The SLA (服务级别): business calendars and policies, the policy a request falls under, its clocks from the recorded events, their preview, and edits of calendars and policies.
use crate::audit::record;
use crate::jobs::RecomputePayload;
use crate::jobs::enqueue_recompute;
use crate::jobs::run_held_job;
use crate::{App, AppError, Ctx, Result};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::calendar::{BusinessCalendar, CalendarKind, Interval};
use shouhou_domain::customers::CustomerTier;
use shouhou_domain::ids::StationId;
use shouhou_domain::requests::Request;
use shouhou_domain::requests::{RequestType, Urgency};
use shouhou_domain::sla::{self, Clocks};
use shouhou_domain::text::{optional_text, required_text};
use shouhou_store::Conn;
use shouhou_store::requests::{self, NewEvent, RequestEvent};
use shouhou_store::sla::{self as sla_store, Policy};

/// The longest SLA target a policy may set: 365 days.
pub(crate) const MAX_TARGET_MINUTES: i64 = 365 * 24 * 60;

// ---------- calendars and policies ----------

/// A stored calendar as the domain's calendar; `None` when no calendar has that code.
pub async fn load_calendar(c: &mut Conn<'_>, code: &str) -> Result<Option<BusinessCalendar>> {
    let Some((row, days)) = sla_store::calendar(c, code).await? else { return Ok(None) };
    let weekly: Vec<Vec<[u16; 2]>> =
        serde_json::from_str(&row.weekly).map_err(|e| AppError::Internal(format!("calendar {code}: {e}")))?;
    let mut week: [Vec<Interval>; 7] = Default::default();
    for (i, day) in weekly.into_iter().take(7).enumerate() {
        week[i] = day.into_iter().map(|[a, b]| Interval::new(a, b)).collect();
    }
    let mut cal = BusinessCalendar {
        code: row.code,
        kind: CalendarKind::parse(&row.kind)
            .map_err(|_| AppError::Internal(format!("calendar {code}: stored kind {:?}", row.kind)))?,
        weekly: week,
        use_prc_holidays: row.use_prc_holidays,
        extra_days_off: Default::default(),
        extra_working_days: Default::default(),
    };
    for d in days {
        let date = d.day.parse().map_err(|_| AppError::Internal(format!("calendar {code}: stored day {:?}", d.day)))?;
        if d.off {
            cal.extra_days_off.insert(date);
        } else {
            cal.extra_working_days.insert(date);
        }
    }
    Ok(Some(cal))
}

/// Both clocks of a request as of `now`, from its recorded events, on `cal`.
pub fn clocks(r: &Request, events: &[RequestEvent], cal: &BusinessCalendar, now: i64) -> Result<Clocks> {
    Ok(sla::clocks(&r.targets(), &requests::steps(events)?, cal, crate::instant(now)?))
}

/// The calendar `code`, or `cn-workday` when it is no longer stored.
pub(crate) async fn calendar_or_default(c: &mut Conn<'_>, code: &str) -> Result<BusinessCalendar> {
    Ok(load_calendar(c, code).await?.unwrap_or_else(BusinessCalendar::cn_workday))
}

/// The clocks of a request as of `now`: from its recorded events, on its calendar.
pub(crate) async fn clocks_now(c: &mut Conn<'_>, r: &Request, now: i64) -> Result<Clocks> {
    let events = requests::events_of(c, r.id).await?;
    let cal = calendar_or_default(c, &r.calendar_code).await?;
    clocks(r, &events, &cal, now)
}

/// The SLA policy for a request of this type and urgency from a customer of this tier. A station
/// on its own working calendar counts the policy's business-time targets on it; wall-time
/// (24 × 7) policies stay as they are.
pub(crate) async fn policy_for(
    c: &mut Conn<'_>,
    rtype: RequestType,
    urgency: Urgency,
    tier: CustomerTier,
    station: Option<StationId>,
) -> Result<Policy> {
    let policies = sla_store::active_policies(c).await?;
    let mut policy = sla::select_policy(&policies, rtype, urgency, tier)
        .cloned()
        .ok_or_else(|| AppError::Internal("no SLA policy applies; keep a catch-all policy active".into()))?;
    if let Some(st) = station
        && let Some(own) = shouhou_store::stations::station_calendar(c, st).await?
        && load_calendar(c, &policy.calendar_code).await?.is_some_and(|cal| cal.kind == CalendarKind::Working)
    {
        policy.calendar_code = own;
    }
    Ok(policy)
}

/// An event of request `id` by `actor` at `now` on its timeline: no status change, no data;
/// callers set what their kind of event adds.
pub(crate) fn event<'a>(id: i64, now: i64, actor: &'a crate::Actor, kind: &'a str, note: &'a str) -> NewEvent<'a> {
    NewEvent {
        request_id: id,
        at: now,
        actor_id: Some(actor.id.0),
        actor_name: &actor.display_name,
        kind,
        action: None,
        from_status: None,
        to_status: None,
        note,
        data: "{}",
    }
}

// ---------- SLA preview ----------

/// When a target counted from `start` on a calendar falls due: business time on a working
/// calendar, wall time on a 24 × 7 one.
pub async fn sla_preview(app: &App, ctx: &Ctx, calendar: &str, start: &str, target: &str) -> Result<Timestamp> {
    // Service levels are the back office's business, not a customer's or a dealer's.
    ctx.require_read(Permission::BackOffice)?;
    let mut e = ValidationErrors::default();
    let start = match start.trim().parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            e.push("start", "invalid_datetime");
            None
        }
    };
    let target = match target.trim().parse::<jiff::Span>().ok().and_then(|s| SignedDuration::try_from(s).ok()) {
        Some(d) if d.is_positive() => Some(d),
        _ => {
            e.push("target", "invalid_duration");
            None
        }
    };
    let mut rd = app.db.read().await?;
    let cal = load_calendar(&mut rd.conn(), calendar.trim()).await?;
    if cal.is_none() {
        e.push("calendar", "unknown_calendar");
    }
    let (Some(start), Some(target), Some(cal)) = (start, target, cal) else { return Err(e.into()) };
    cal.validate()?;
    Ok(cal.add(start, target))
}

/// Every calendar (with its day overrides) and every policy, active or not, for the
/// administrator's page.
pub async fn calendars_and_policies(app: &App, ctx: &Ctx) -> Result<(Vec<BusinessCalendarInfo>, Vec<Policy>)> {
    ctx.require_read(Permission::SettingsWrite)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let rows = sla_store::list_calendars(&mut c).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(cal) = load_calendar(&mut c, &row.code).await? {
            let days = sla_store::calendar(&mut c, &row.code).await?.map(|(_, d)| d).unwrap_or_default();
            out.push(BusinessCalendarInfo {
                code: row.code,
                name: row.name,
                all_day: cal.kind == CalendarKind::AlwaysOpen,
                weekly: cal.weekly,
                use_prc_holidays: cal.use_prc_holidays,
                version: row.version,
                days: days.into_iter().map(|d| CalendarDayInfo { day: d.day, off: d.off, note: d.note }).collect(),
            });
        }
    }
    Ok((out, sla_store::all_policies(&mut c).await?))
}

#[derive(Debug, Clone, Serialize)]
pub struct BusinessCalendarInfo {
    pub code: String,
    pub name: String,
    /// A 24 × 7 calendar: wall time, its hours are not edited.
    pub all_day: bool,
    pub weekly: [Vec<Interval>; 7],
    pub use_prc_holidays: bool,
    pub version: i64,
    /// Company holidays and special working days, by date.
    pub days: Vec<CalendarDayInfo>,
}

/// An administrator's override of one date on a calendar.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarDayInfo {
    /// YYYY-MM-DD.
    pub day: String,
    /// `true`: a company holiday; `false`: a special working day.
    pub off: bool,
    pub note: String,
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
    let v =
        sla_store::update_policy(&mut c, id, version, response_minutes, resolution_minutes, calendar_code, active, now)
            .await?;
    let catch_all = policy.request_type.is_none() && policy.urgency.is_none() && policy.tier.is_none();
    if catch_all && !active && !sla_store::has_active_catch_all(&mut c).await? {
        return Err(ValidationErrors::single("active", "last_catch_all_policy").into());
    }
    let retargeted =
        sla_store::retarget_open_requests(&mut c, id, response_minutes, resolution_minutes, calendar_code).await?;
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
