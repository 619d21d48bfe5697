//! Complaints (投诉): registered against a customer (and optionally a request, a staff member, a
//! station, a product) with clocks per severity counted on the calendars; a major one reported to
//! every manager at once and escalated again when management does not acknowledge it in time
//! (once, whichever instance sees it first); manual escalation one level at a time; investigation,
//! root cause and a corrective measure with an owner and a due date; each word to the customer on
//! the timeline; closed with the customer's acknowledgement or by a manager with a reason, then
//! visited back. The repeat flag and the report by cause, product line, station and month.
use crate::audit::record;
use crate::sla::calendar_or_default;
use crate::{App, AppError, Ctx, Result};
use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Role, Scope};
use shouhou_domain::complaints::{
    Action, Category, ClosedBy, Figures, Group, Reported, RootCause, Rules, Severity, Status, escalate, format_number,
    initial_level, kept, may_close, repeat_of,
};
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::requests::business_day;
use shouhou_domain::text::{optional_text, required_text};
use shouhou_store::complaints::{self as store, NewComplaint};
pub use shouhou_store::complaints::{Complaint, ComplaintEvent};
use shouhou_store::{Conn, customers, requests, users};

/// The rules: the setting `complaint_rules`, else the defaults.
pub(crate) async fn rules(c: &mut Conn<'_>) -> Result<Rules> {
    match shouhou_store::settings::get(c, "complaint_rules").await? {
        None => Ok(Rules::default()),
        Some(raw) => {
            serde_json::from_str(&raw).map_err(|e| AppError::Internal(format!("setting complaint_rules: {e}")))
        }
    }
}

async fn due(c: &mut Conn<'_>, calendar: &str, from: i64, minutes: i64) -> Result<i64> {
    let cal = calendar_or_default(c, calendar).await?;
    Ok(cal.add(crate::instant(from)?, SignedDuration::from_mins(minutes)).as_millisecond())
}

/// A complaint the actor may see: by the station it concerns (headquarters' own only for
/// headquarters); 404 otherwise.
async fn in_scope(c: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<Complaint> {
    let k = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let visible = match (scope, k.station_id) {
        (Scope::All, _) => true,
        (s, Some(st)) => s.allows(StationId(st)),
        (_, None) => false,
    };
    if visible { Ok(k) } else { Err(AppError::NotFound) }
}

/// A complaint as registered.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComplaintForm {
    pub customer_id: i64,
    /// major, serious, ordinary
    pub severity: String,
    /// quality, attitude, timeliness, charges, other
    pub category: String,
    /// What happened, in the customer's words.
    pub description: String,
    #[serde(default)]
    pub service_request_id: Option<i64>,
    /// The staff member concerned.
    #[serde(default)]
    pub staff_id: Option<i64>,
    /// The station concerned (default: the request's, else the customer's).
    #[serde(default)]
    pub station_id: Option<i64>,
    /// The device concerned (its model and product line are recorded).
    #[serde(default)]
    pub device_id: Option<i64>,
    /// When it happened (RFC 3339).
    #[serde(default)]
    pub occurred_at: Option<String>,
}

/// A complaint with its timeline and what the caller may do.
#[derive(Debug, Clone)]
pub struct ComplaintDetail {
    pub complaint: Complaint,
    /// The customer as the caller may see them.
    pub customer_name: String,
    pub repeat_of_number: Option<String>,
    pub events: Vec<ComplaintEvent>,
    /// Lifecycle steps and `inform`, `escalate`, `acknowledge` the caller may take now.
    pub actions: Vec<String>,
    pub return_visits: Vec<crate::return_visits::Visit>,
}

#[tracing::instrument(skip_all)]
pub async fn register(app: &App, ctx: &Ctx, f: &ComplaintForm) -> Result<ComplaintDetail> {
    let actor = ctx.require(Permission::FeedbackWrite)?;
    let mut e = ValidationErrors::default();
    let severity = e.take(Severity::parse("severity", &f.severity));
    let category = e.take(Category::parse("category", &f.category));
    let description = e.take(required_text("description", &f.description, 4000));
    let occurred_at = match f.occurred_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<jiff::Timestamp>() {
            Ok(t) if t.as_millisecond() <= app.now() => Some(t.as_millisecond()),
            Ok(_) => {
                e.push("occurred_at", "in_future");
                None
            }
            Err(_) => {
                e.push("occurred_at", "invalid_date");
                None
            }
        },
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let customer = customers::customers_by_ids(c, &app.keys, &[f.customer_id], &actor.scope).await?.pop();
    if customer.is_none() {
        e.push("customer_id", "unknown_customer");
    }
    let request = match f.service_request_id {
        None => None,
        Some(id) => match requests::get_request(c, id).await? {
            Some(r) if actor.scope.allows_opt(r.station_id) && r.customer_id == f.customer_id => Some(r),
            _ => {
                e.push("service_request_id", "unknown_request");
                None
            }
        },
    };
    if let Some(uid) = f.staff_id
        && users::get_user(c, UserId(uid)).await?.is_none()
    {
        e.push("staff_id", "unknown_user");
    }
    if let Some(sid) = f.station_id
        && shouhou_store::stations::get_station(c, StationId(sid)).await?.is_none()
    {
        e.push("station_id", "unknown_station");
    }
    let device = request.as_ref().and_then(|r| r.device_id).or(f.device_id);
    let model = match device {
        Some(d) => {
            let m = store::model_of_device(c, d).await?;
            if m.is_none() {
                e.push("device_id", "unknown_device");
            }
            m
        }
        None => None,
    };
    e.into_result()?;
    let (Some(severity), Some(category), Some(description), Some(customer)) =
        (severity, category, description, customer)
    else {
        return Err(AppError::Internal("validated complaint incomplete".into()));
    };
    let station = f.station_id.or(request.as_ref().and_then(|r| r.station_id.map(|s| s.0))).or(customer.station_id);
    if !actor.scope.allows_opt(station.map(StationId)) {
        return Err(ValidationErrors::single("station_id", "outside_your_stations").into());
    }
    let rules = rules(c).await?;
    let clock = rules.clock(severity).clone();
    let contact_due_at = due(c, &clock.contact_calendar, now, clock.contact_minutes).await?;
    let solution_due_at = due(c, &clock.solution_calendar, now, clock.solution_minutes).await?;
    let earlier: Vec<(i64, Category, i64)> =
        store::earlier_of_customer(c, customer.id, now - rules.repeat_days * 86_400_000)
            .await?
            .into_iter()
            .filter_map(|(id, cat, at)| Category::parse("category", &cat).ok().map(|cat| (id, cat, at)))
            .collect();
    let repeat = repeat_of(&earlier, category, now, rules.repeat_days);
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("CP {day}")).await?;
    let number = format_number(day, u64::try_from(counter).unwrap_or(0));
    let level = initial_level(severity);
    let new = NewComplaint {
        number: &number,
        customer_id: customer.id,
        service_request_id: request.as_ref().map(|r| r.id),
        station_id: station,
        staff_id: f.staff_id,
        model_id: model.as_ref().map(|m| m.0),
        product_line: model.as_ref().map(|m| m.1.as_str()),
        severity: severity.as_str(),
        category: category.as_str(),
        description: &description,
        occurred_at,
        repeat_of: repeat,
        level,
        contact_due_at,
        solution_due_at,
        ack_due_at: (severity == Severity::Major).then_some(now + rules.ack_minutes * 60_000),
        created_by: Some(actor.id.0),
    };
    let id = store::insert(c, &new, now).await?;
    let who = Some((actor.id.0, actor.display_name.as_str()));
    let data = json!({"severity": severity.as_str(), "category": category.as_str(), "repeat_of": repeat}).to_string();
    store::insert_event(c, id, now, who, "registered", "", false, &data).await?;
    if severity == Severity::Major {
        // Reported to management at once, in the registering transaction: exactly once.
        let managers = users::active_with_role(c, Role::Manager.as_str()).await?;
        let title = format!("重大投诉 {number}");
        let body = format!("{}：{}", category_label(category), short(&description));
        crate::inbox::notify(c, &managers, "complaint.major", &title, &body, &link(id), true, now).await?;
        let data = json!({"notified": managers.len()}).to_string();
        store::insert_event(c, id, now, None, "reported", "已报告管理层", false, &data).await?;
    }
    record(
        c,
        app,
        ctx,
        "complaint.register",
        "complaint",
        Some(id.to_string()),
        json!({"number": number, "customer_id": customer.id, "severity": severity.as_str(), "repeat_of": repeat}),
    )
    .await?;
    tx.commit().await?;
    get(app, ctx, id).await
}

fn link(id: i64) -> String {
    format!("/complaints/{id}")
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(60).collect();
    if t.len() < s.len() { format!("{t}…") } else { t }
}

fn category_label(c: Category) -> &'static str {
    match c {
        Category::Quality => "产品质量",
        Category::Attitude => "服务态度",
        Category::Timeliness => "服务及时性",
        Category::Charges => "收费",
        Category::Other => "其他",
    }
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<ComplaintDetail> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let (k, events, repeat_of_number, visits) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let k = in_scope(&mut c, &actor.scope, id).await?;
        let events = store::events_of(&mut c, id).await?;
        let repeat = match k.repeat_of {
            Some(r) => store::get(&mut c, r).await?.map(|x| x.number),
            None => None,
        };
        let visits = shouhou_store::return_visits::of_complaint(&mut c, id).await?;
        (k, events, repeat, visits)
    };
    let n = crate::requests::names(app, ctx, actor, "complaint", vec![k.customer_id], [], []).await?;
    let customer_name = n.customers.get(&k.customer_id).map(|c| c.0.clone()).unwrap_or_default();
    let actions = actions_for(actor, &k);
    Ok(ComplaintDetail { complaint: k, customer_name, repeat_of_number, events, actions, return_visits: visits })
}

fn actions_for(actor: &crate::Actor, k: &Complaint) -> Vec<String> {
    let Ok(status) = Status::parse("status", &k.status) else { return vec![] };
    let mut out = vec![];
    if actor.can(Permission::FeedbackWrite) {
        out.extend(status.allowed().iter().map(|a| a.as_str().to_string()));
        if status != Status::Closed {
            out.push("inform".into());
            if k.level < shouhou_domain::complaints::TOP_LEVEL {
                out.push("escalate".into());
            }
        }
    }
    if actor.can(Permission::Supervise) && k.ack_due_at.is_some() && k.acknowledged_at.is_none() {
        out.push("acknowledge".into());
    }
    out
}

/// Complaints in the caller's scope: open ones (default) or all, most urgent first.
pub async fn list(app: &App, ctx: &Ctx, open_only: bool) -> Result<Vec<(Complaint, String)>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let items = {
        let mut rd = app.db.read().await?;
        store::list(&mut rd.conn(), &actor.scope, open_only, 500).await?
    };
    let n = crate::requests::names(
        app,
        ctx,
        actor,
        "complaint_list",
        items.iter().map(|k| k.customer_id).collect(),
        [],
        [],
    )
    .await?;
    Ok(items
        .into_iter()
        .map(|k| {
            let name = n.customers.get(&k.customer_id).map(|c| c.0.clone()).unwrap_or_default();
            (k, name)
        })
        .collect())
}

/// A step on a complaint: a lifecycle action (`contact`, `investigate`, `resolve`, `reopen`,
/// `close`), or `inform` (what the customer was told), `escalate` (one level up, with the reason),
/// `acknowledge` (management has taken a major complaint in hand).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComplaintStep {
    pub action: String,
    /// What was said or done; the reason of an escalation or a manager's close.
    #[serde(default)]
    pub note: Option<String>,
    /// Resolve: quality, non_quality, attitude, timeliness, charges, process, other.
    #[serde(default)]
    pub root_cause: Option<String>,
    /// Resolve: the corrective measure, its owner and due date (YYYY-MM-DD).
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub measure_owner_id: Option<i64>,
    #[serde(default)]
    pub measure_due: Option<String>,
    /// Close: the customer acknowledged the solution.
    #[serde(default)]
    pub customer_ack: Option<bool>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn step(app: &App, ctx: &Ctx, id: i64, f: &ComplaintStep) -> Result<ComplaintDetail> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let mut k = in_scope(c, &actor.scope, id).await?;
    let version = k.version;
    let mut e = ValidationErrors::default();
    let note = e.take(optional_text("note", f.note.as_deref(), 2000)).flatten().unwrap_or_default();
    let from = Status::parse("status", &k.status)?;
    let who = Some((actor.id.0, actor.display_name.as_str()));
    let (kind, told, data) = match f.action.trim() {
        "acknowledge" => {
            if !actor.can(Permission::Supervise) {
                return Err(AppError::Forbidden);
            }
            if k.ack_due_at.is_none() || k.acknowledged_at.is_some() {
                return Err(AppError::IllegalTransition {
                    from: k.status,
                    action: "acknowledge".into(),
                    allowed: vec![],
                });
            }
            k.acknowledged_at = Some(now);
            k.acknowledged_by = Some(actor.id.0);
            ("acknowledged", false, json!({}))
        }
        "inform" | "escalate" => {
            if !actor.can(Permission::FeedbackWrite) {
                return Err(AppError::Forbidden);
            }
            if from == Status::Closed {
                return Err(AppError::IllegalTransition { from: k.status, action: f.action.clone(), allowed: vec![] });
            }
            if note.is_empty() {
                e.push("note", if f.action.trim() == "inform" { "required" } else { "reason_required" });
            }
            if f.action.trim() == "inform" {
                e.into_result()?;
                ("informed", true, json!({}))
            } else {
                let Some(level) = escalate(k.level) else {
                    e.push("action", "top_level");
                    return Err(e.into());
                };
                e.into_result()?;
                k.level = level;
                escalation_notice(c, &k, &format!("投诉升级至第 {level} 级：{note}"), false, now).await?;
                ("escalated", false, json!({"level": level}))
            }
        }
        other => {
            let action = Action::parse("action", other)?;
            if !actor.can(Permission::FeedbackWrite) {
                return Err(AppError::Forbidden);
            }
            let to = from.apply(action)?;
            match action {
                Action::Contact => {
                    k.contacted_at = k.contacted_at.or(Some(now));
                }
                Action::Investigate | Action::Reopen => {
                    k.resolved_at = None;
                }
                Action::Resolve => {
                    let cause = f.root_cause.as_deref().map(|s| RootCause::parse("root_cause", s));
                    match cause {
                        None => e.push("root_cause", "required"),
                        Some(Err(err)) => e.push(err.field, err.code),
                        Some(Ok(cause)) => k.root_cause = Some(cause.as_str().into()),
                    }
                    if let Some(m) = e.take(required_text("measure", f.measure.as_deref().unwrap_or(""), 2000)) {
                        k.measure = m;
                    }
                    match f.measure_owner_id {
                        None => e.push("measure_owner_id", "required"),
                        Some(u) if users::get_user(c, UserId(u)).await?.is_none_or(|u| !u.active) => {
                            e.push("measure_owner_id", "unknown_user")
                        }
                        Some(u) => k.measure_owner_id = Some(u),
                    }
                    let today = crate::devices::today(app);
                    match f.measure_due.as_deref().map(str::trim).map(str::parse::<jiff::civil::Date>) {
                        None => e.push("measure_due", "required"),
                        Some(Err(_)) => e.push("measure_due", "invalid_date"),
                        Some(Ok(d)) if d < today => e.push("measure_due", "in_past"),
                        Some(Ok(d)) => k.measure_due = Some(d.to_string()),
                    }
                    if note.is_empty() {
                        e.push("note", "required");
                    }
                    k.resolved_at = Some(now);
                }
                Action::Close => {
                    let by = if f.customer_ack == Some(true) {
                        ClosedBy::CustomerAcknowledged
                    } else {
                        ClosedBy::ManagerWithReason
                    };
                    if by == ClosedBy::ManagerWithReason && !actor.can(Permission::Supervise) {
                        e.push("customer_ack", "required");
                    } else if let Err(err) = may_close(from, by, &note) {
                        e.push(if err.field == "reason" { "note".into() } else { err.field }, err.code);
                    }
                    k.customer_ack = by == ClosedBy::CustomerAcknowledged;
                    k.close_reason = if by == ClosedBy::ManagerWithReason { note.clone() } else { String::new() };
                    k.closed_at = Some(now);
                }
            }
            e.into_result()?;
            k.status = to.as_str().into();
            let told = matches!(action, Action::Contact | Action::Resolve) && !note.is_empty();
            (action.as_str(), told, json!({"from": from.as_str(), "to": to.as_str()}))
        }
    };
    if f.version.is_some_and(|v| v != version) {
        return Err(AppError::Stale);
    }
    store::save(c, &k, version, now).await?.ok_or(AppError::Stale)?;
    store::insert_event(c, id, now, who, kind, &note, told, &data.to_string()).await?;
    if k.status == Status::Closed.as_str() && from != Status::Closed {
        // Then a return visit: was the customer content with how it was handled?
        crate::return_visits::after_complaint(c, id, k.customer_id, k.station_id, k.product_line.as_deref(), now)
            .await?;
    }
    record(
        c,
        app,
        ctx,
        &format!("complaint.{kind}"),
        "complaint",
        Some(id.to_string()),
        json!({"number": k.number, "status": k.status, "level": k.level}),
    )
    .await?;
    tx.commit().await?;
    get(app, ctx, id).await
}

/// Tell whom an escalation reaches: level 1 the station's managers (headquarters' managers for a
/// complaint of no station), level 2 and up every manager.
async fn escalation_notice(c: &mut Conn<'_>, k: &Complaint, body: &str, urgent: bool, now: i64) -> Result<()> {
    let to = match (k.level, k.station_id) {
        (1, Some(st)) => users::station_members_with_role(c, st, Role::StationManager.as_str()).await?,
        _ => users::active_with_role(c, Role::Manager.as_str()).await?,
    };
    let title = format!("投诉升级 {}", k.number);
    crate::inbox::notify(c, &to, "complaint.escalated", &title, body, &link(k.id), urgent, now).await
}

/// Escalate again every major complaint management has not acknowledged in time: to the top
/// level, every manager told (urgent) once, whichever instance sees it first. Answers how many.
pub async fn sweep_unacknowledged(app: &App) -> Result<usize> {
    let now = app.now();
    let due = {
        let mut rd = app.db.read().await?;
        store::unacknowledged(&mut rd.conn(), now, 100).await?
    };
    let mut done = 0;
    for mut k in due {
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        if !store::claim_reminder(&mut c, k.id, shouhou_domain::complaints::TOP_LEVEL, now).await? {
            continue;
        }
        k.level = shouhou_domain::complaints::TOP_LEVEL;
        escalation_notice(&mut c, &k, "重大投诉未在规定时间内确认，已再次升级", true, now).await?;
        let data = json!({"level": k.level}).to_string();
        store::insert_event(&mut c, k.id, now, None, "escalated", "未按时确认，自动升级", false, &data).await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// One line of the complaint report, with a label for its key.
#[derive(Debug, Clone)]
pub struct ReportLine {
    pub figures: Figures,
    pub label: String,
}

/// Complaints registered in the period, by cause, product line, station, month, category or severity.
pub async fn report(app: &App, ctx: &Ctx, group: &str, from: &str, to: &str) -> Result<Vec<ReportLine>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let group = Group::parse("group", if group.is_empty() { "cause" } else { group })?;
    let (lo, hi) = crate::business_period(app, Some(from), Some(to))?;
    let now = app.now();
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let rows = store::registered_between(&mut c, &actor.scope, lo, hi).await?;
    let reported: Vec<Reported> = rows
        .iter()
        .map(|k| {
            let day = business_day(crate::instant(k.created_at)?);
            Ok(Reported {
                cause: k.root_cause.as_deref().and_then(|s| RootCause::parse("root_cause", s).ok()),
                category: Category::parse("category", &k.category)?,
                severity: Severity::parse("severity", &k.severity)?,
                product_line: k.product_line.clone(),
                station_id: k.station_id,
                month: format!("{:04}-{:02}", day.year(), day.month()),
                repeat: k.repeat_of.is_some(),
                contacted_on_time: kept(k.contact_due_at, k.contacted_at, now),
                solved_on_time: kept(k.solution_due_at, k.resolved_at.or(k.closed_at), now),
                closed: k.status == Status::Closed.as_str(),
            })
        })
        .collect::<Result<_>>()?;
    let mut out = vec![];
    for f in shouhou_domain::complaints::report(&reported, group) {
        let label = match (group, f.key.parse::<i64>()) {
            (Group::Station, Ok(id)) => {
                shouhou_store::stations::get_station(&mut c, StationId(id)).await?.map(|s| s.name).unwrap_or_default()
            }
            _ => f.key.clone(),
        };
        out.push(ReportLine { figures: f, label });
    }
    Ok(out)
}
