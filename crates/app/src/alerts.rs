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
use crate::keys::BATCH;
use crate::sla::{calendar_or_default, clocks};
use crate::{App, Result};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use shouhou_domain::calendar::{BusinessCalendar, CalendarKind, shanghai};
use shouhou_domain::requests::Request;
use shouhou_domain::requests::Urgency;
use shouhou_domain::sla::{ClockPhase, ClockStatus, Health};
use shouhou_store::Conn;
use shouhou_store::alerts::{self};
use shouhou_store::audit::{self, Event};
use shouhou_store::inbox::{self, NewNotification};
use shouhou_store::requests::{self, SlaCache};
use shouhou_store::sla as sla_store;
use shouhou_store::users;
use std::collections::HashMap;

/// Delivery channels every notification gets an outbox row for.
const CHANNELS: &[&str] = &["inbox"];

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
pub(crate) struct Calendars(HashMap<String, BusinessCalendar>);

impl Calendars {
    pub(crate) async fn get(&mut self, c: &mut Conn<'_>, code: &str) -> Result<&BusinessCalendar> {
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
            alerts::alert_candidates(&mut rd.conn(), now, after, BATCH).await?
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
    if !r.is_open() {
        return Ok(());
    }
    let events = requests::events_of(&mut c, id).await?;
    let cal = calendar_or_default(&mut c, &r.calendar_code).await?;
    let clk = clocks(&r, &events, &cal, now)?;

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
                if alerts::insert_alert_once(&mut c, id, name, "breach", now, instance).await? {
                    fired.push((name, Level::Breach, status));
                }
                // Found already breached: the warning is settled without a notification of its own.
                alerts::insert_alert_once(&mut c, id, name, "warning", now, instance).await?;
            }
            Health::AtRisk => {
                if alerts::insert_alert_once(&mut c, id, name, "warning", now, instance).await? {
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
    alerts::set_sla_if_version(&mut c, id, r.version, &SlaCache::from(clk.figures())).await?;
    for (action, detail) in audits {
        audit::append(
            &mut c,
            &app.keys,
            Event {
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
    r: &Request,
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
    let urgent = matches!(r.urgency, Urgency::Urgent | Urgency::High);

    let responsible = match r.assignee_id.or(r.created_by) {
        Some(u) if users::user_is_active(c, u).await? => Some(u),
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
            let at = local(status.breached_at.unwrap_or(crate::instant(now)?));
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
                for m in users::station_members_with_role(c, station.0, "station_manager").await? {
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
            let code = users::user_calendar_code(c, user).await?.unwrap_or_else(|| "cn-workday".to_string());
            calendars.get(c, &code).await?.next_open(crate::instant(now)?).as_millisecond().max(now)
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
        inbox::insert_notification(c, &n, CHANNELS, now).await?;
        ids.push(user);
    }
    Ok(ids)
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
}
