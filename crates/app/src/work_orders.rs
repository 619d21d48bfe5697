//! Work orders (派工单) and two-tier dispatch (两级派工): creation from a request or on their own,
//! the lifecycle enforced here, recommendations with reasons, dispatch to a station and assignment
//! to an engineer with their deadlines, automatic re-dispatch on a decline, coverage, skills and
//! leave. The rules themselves are the domain's (`work_orders`, `dispatch`).
use crate::audit::record;
use crate::requests::request_in_scope;
use crate::sla::calendar_or_default;
use crate::{Actor, App, AppError, Ctx, Result};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Role};
use shouhou_domain::dispatch::{EngineerCandidate, Ranking, Weights, rank_engineers, rank_stations};
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::regions::RegionCode;
use shouhou_domain::requests::{Urgency, business_day};
use shouhou_domain::text::optional_text;
pub use shouhou_domain::work_orders::WorkOrder;
use shouhou_domain::work_orders::{Action, Arrange, Kind, Status, TEXT_MAX, Window, format_number};
use shouhou_store::work_orders::{self as store, NewEvent};
pub use shouhou_store::work_orders::{PartUsed, WorkOrderEvent};
use shouhou_store::{Conn, customers, devices, requests, settings, stations};

// ---------- the rules an administrator sets ----------

/// Dispatch settings (key `dispatch` in `settings`, JSON); every field has its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct DispatchRules {
    /// The "arranged within" target: request registered → an engineer accepted.
    pub arrange_minutes: i64,
    /// How long a station has to assign an engineer, per urgency (urgent, high, normal, low).
    pub station_accept_minutes: [i64; 4],
    /// How long an engineer has to accept, per urgency.
    pub engineer_accept_minutes: [i64; 4],
    /// Urgencies whose new work orders go to the top recommendation at once, at both tiers
    /// (urgent high normal low).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub automatic: Vec<Urgency>,
    pub weights: Weights,
}

impl Default for DispatchRules {
    fn default() -> Self {
        DispatchRules {
            arrange_minutes: 120,
            station_accept_minutes: [15, 30, 60, 120],
            engineer_accept_minutes: [15, 30, 60, 120],
            automatic: vec![],
            weights: Weights::default(),
        }
    }
}

fn urgency_index(u: Urgency) -> usize {
    match u {
        Urgency::Urgent => 0,
        Urgency::High => 1,
        Urgency::Normal => 2,
        Urgency::Low => 3,
    }
}

impl DispatchRules {
    fn arrange_target(&self) -> SignedDuration {
        SignedDuration::from_mins(self.arrange_minutes)
    }
    fn station_deadline(&self, u: Urgency, now: Timestamp) -> Timestamp {
        shift(now, self.station_accept_minutes[urgency_index(u)])
    }
    fn engineer_deadline(&self, u: Urgency, now: Timestamp) -> Timestamp {
        shift(now, self.engineer_accept_minutes[urgency_index(u)])
    }
}

fn shift(t: Timestamp, minutes: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_mins(minutes)).unwrap_or(Timestamp::MAX)
}

pub(crate) async fn rules(c: &mut Conn<'_>) -> Result<DispatchRules> {
    match settings::get(c, "dispatch").await? {
        None => Ok(DispatchRules::default()),
        Some(s) => serde_json::from_str(&s).map_err(|e| AppError::Internal(format!("setting dispatch: {e}"))),
    }
}

// ---------- creation ----------

/// A new work order: from a service request (`service_request_id`), or on its own for a customer's
/// device (`customer_id`, `serial_number`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkOrderForm {
    pub service_request_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub serial_number: Option<String>,
    /// repair installation inspection maintenance
    pub kind: String,
    /// What to do there (default: the request's description).
    pub description: Option<String>,
    /// The visit window agreed with the customer (RFC 3339), both or neither.
    pub appointment_from: Option<String>,
    pub appointment_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: i64,
    pub number: String,
    pub status: Status,
    pub version: i64,
}

fn parse_instant(field: &str, s: Option<&str>, e: &mut ValidationErrors) -> Option<Option<Timestamp>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(s) => match s.parse::<Timestamp>() {
            Ok(t) => Some(Some(t)),
            Err(_) => {
                e.push(field, "invalid_datetime");
                None
            }
        },
    }
}

fn window(from: Option<&str>, to: Option<&str>, e: &mut ValidationErrors) -> Option<Option<Window>> {
    let (f, t) = (parse_instant("appointment_from", from, e)?, parse_instant("appointment_to", to, e)?);
    match (f, t) {
        (None, None) => Some(None),
        (Some(f), Some(t)) => e.take(Window::new(f, t)).map(Some),
        (None, Some(_)) => {
            e.push("appointment_from", "required");
            None
        }
        (Some(_), None) => {
            e.push("appointment_to", "required");
            None
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn create_work_order(app: &App, ctx: &Ctx, f: &WorkOrderForm) -> Result<Created> {
    let actor = ctx.require(Permission::WorkOrderWrite)?;
    let mut e = ValidationErrors::default();
    let kind = e.take(Kind::parse("kind", &f.kind));
    let description = e.take(optional_text("description", f.description.as_deref(), TEXT_MAX));
    let appointment = window(f.appointment_from.as_deref(), f.appointment_to.as_deref(), &mut e);
    let now = crate::instant(app.now())?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // Who and what the visit is for: the request's customer and device, or the ones named.
    let (request, customer_id, device) = match (f.service_request_id, f.customer_id) {
        (Some(rid), _) => {
            let r = match request_in_scope(&mut c, actor, rid).await {
                Err(AppError::NotFound) => {
                    e.push("service_request_id", "unknown_request");
                    None
                }
                other => Some(other?),
            };
            let device = match r.as_ref().and_then(|r| r.device_id) {
                Some(d) => devices::get_device(&mut c, &app.keys, d).await?,
                None => None,
            };
            if r.as_ref().is_some_and(|r| !r.is_open()) {
                e.push("service_request_id", "request_closed");
            }
            let cid = r.as_ref().map(|r| r.customer_id);
            (r, cid, device)
        }
        (None, Some(cid)) => {
            let customer = customers::get_customer_in_scope(&mut c, &app.keys, cid, &actor.scope).await?;
            if customer.is_none() {
                e.push("customer_id", "unknown_customer");
            }
            let serial = f.serial_number.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let device = match serial {
                None => {
                    e.push("serial_number", "required");
                    None
                }
                Some(s) => {
                    let found = devices::devices_by_serial(&mut c, &app.keys, &s.to_ascii_uppercase()).await?;
                    let d = found.into_iter().find(|d| d.customer_id == cid);
                    if d.is_none() && customer.is_some() {
                        e.push("serial_number", "unknown_serial");
                    }
                    d
                }
            };
            (None, customer.map(|c| c.id), device)
        }
        (None, None) => {
            e.push("service_request_id", "required");
            (None, None, None)
        }
    };
    let (Some(kind), Some(description), Some(appointment), Some(customer_id)) =
        (kind, description, appointment, customer_id)
    else {
        return Err(e.into());
    };
    e.into_result()?;
    let customer = customers::get_customer(&mut c, &app.keys, customer_id).await?.ok_or(AppError::NotFound)?;
    let region_code =
        device.as_ref().and_then(|d| d.install_region_code.clone()).unwrap_or_else(|| customer.region_code.clone());
    let rules = rules(&mut c).await?;
    let description = description
        .filter(|d| !d.is_empty())
        .or_else(|| request.as_ref().map(|r| r.description.clone()))
        .unwrap_or_default();
    let new = NewWorkOrder {
        kind,
        customer_id,
        region_code,
        description,
        // The "arranged" clock runs from the request's registration, on the request's calendar.
        calendar_code: request.as_ref().map(|r| r.calendar_code.clone()).unwrap_or_else(|| "cn-workday".into()),
        arrange_from: request.as_ref().map(|r| r.created_at).unwrap_or(now),
    };
    let mut w = new_work_order(&mut c, &rules, now, new).await?;
    w.service_request_id = request.as_ref().map(|r| r.id);
    w.device_id = device.as_ref().map(|d| d.id);
    w.urgency = request.as_ref().map(|r| r.urgency).unwrap_or(Urgency::Normal);
    w.appointment = appointment;
    w.created_by = Some(actor.id.0);
    let number = w.number.clone();
    w.id = store::insert(&mut c, &w).await?;
    let data = json!({"number": number, "kind": kind.as_str()}).to_string();
    store::insert_event(
        &mut c,
        &NewEvent { to_status: Some("created"), data: &data, ..event(w.id, now, actor, "created", "") },
    )
    .await?;
    if let Some(r) = &request {
        let note = format!("派工单 {number}");
        requests::insert_event(
            &mut c,
            &requests::NewEvent {
                data: &json!({"work_order_id": w.id, "number": number}).to_string(),
                ..crate::sla::event(r.id, now.as_millisecond(), actor, "work_order", &note)
            },
        )
        .await?;
    }
    if rules.automatic.contains(&w.urgency) {
        auto_dispatch(&mut c, &rules, &mut w, now, "automatic").await?;
        if w.status != Status::Created {
            w.version = store::save(&mut c, &w, now).await?;
        }
    }
    record(&mut c, app, ctx, "work_order.create", "work_order", Some(w.id.to_string()),
        json!({"number": number, "kind": kind.as_str(), "service_request_id": w.service_request_id, "customer_id": customer_id}))
    .await?;
    tx.commit().await?;
    Ok(Created { id: w.id, number, status: w.status, version: w.version })
}

/// A new work order on the board with its number taken (gap-free: the counter rolls back with the
/// transaction), the "arranged" clock started now on `calendar_code`; the caller fills in the rest.
/// What a new work order is made of.
pub(crate) struct NewWorkOrder {
    pub kind: Kind,
    pub customer_id: i64,
    pub region_code: String,
    pub description: String,
    pub calendar_code: String,
    /// When its "arranged" clock starts (the request's registration, else now).
    pub arrange_from: Timestamp,
}

pub(crate) async fn new_work_order(
    c: &mut Conn<'_>,
    rules: &DispatchRules,
    now: Timestamp,
    n: NewWorkOrder,
) -> Result<WorkOrder> {
    let NewWorkOrder { kind, customer_id, region_code, description, calendar_code, arrange_from } = n;
    let cal = calendar_or_default(c, &calendar_code).await?;
    let day = business_day(now);
    let counter = requests::next_counter(c, &format!("WO {day}")).await?;
    Ok(WorkOrder {
        id: 0,
        number: format_number(day, u64::try_from(counter).unwrap_or(0)),
        kind,
        status: Status::Created,
        service_request_id: None,
        customer_id,
        device_id: None,
        urgency: Urgency::Normal,
        region_code,
        description,
        station_id: None,
        engineer_id: None,
        calendar_code,
        arrange: Arrange::start(arrange_from, rules.arrange_target(), &cal),
        accept_due_at: None,
        passed_stations: vec![],
        passed_engineers: vec![],
        appointment: None,
        departed_at: None,
        checked_in_at: None,
        check_in_location: None,
        fault_code: None,
        cause: None,
        work_done: None,
        labour_minutes: None,
        customer_confirmed: false,
        completed_at: None,
        closed_at: None,
        created_by: None,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// A work order the system creates for a device (a maintenance plan's item), with its first event
/// and, for the urgencies dispatched automatically, its dispatch: in the caller's transaction.
pub(crate) async fn create_for_device(
    c: &mut Conn<'_>,
    app: &App,
    device_id: i64,
    kind: Kind,
    description: String,
    now: Timestamp,
) -> Result<WorkOrder> {
    let d = devices::get_device(c, &app.keys, device_id).await?.ok_or(AppError::NotFound)?;
    let customer = customers::get_customer(c, &app.keys, d.customer_id).await?.ok_or(AppError::NotFound)?;
    let region = d.install_region_code.clone().unwrap_or_else(|| customer.region_code.clone());
    let rules = rules(c).await?;
    let new = NewWorkOrder {
        kind,
        customer_id: customer.id,
        region_code: region,
        description,
        calendar_code: "cn-workday".into(),
        arrange_from: now,
    };
    let mut w = new_work_order(c, &rules, now, new).await?;
    w.device_id = Some(d.id);
    w.id = store::insert(c, &w).await?;
    let data = json!({"number": w.number, "kind": kind.as_str()}).to_string();
    store::insert_event(
        c,
        &NewEvent { to_status: Some("created"), data: &data, ..system_event(w.id, now, "created", "") },
    )
    .await?;
    if rules.automatic.contains(&w.urgency) {
        auto_dispatch(c, &rules, &mut w, now, "automatic").await?;
        if w.status != Status::Created {
            w.version = store::save(c, &w, now).await?;
        }
    }
    Ok(w)
}

fn event<'a>(id: i64, now: Timestamp, actor: &'a Actor, kind: &'a str, note: &'a str) -> NewEvent<'a> {
    NewEvent {
        work_order_id: id,
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

fn system_event<'a>(id: i64, now: Timestamp, kind: &'a str, note: &'a str) -> NewEvent<'a> {
    NewEvent {
        work_order_id: id,
        at: now,
        actor_id: None,
        actor_name: "系统",
        kind,
        action: None,
        from_status: None,
        to_status: None,
        note,
        data: "{}",
    }
}

// ---------- reads ----------

/// A work order the actor may see; 404 for any other, whether it exists or not. A work order of
/// no station is on headquarters' board.
pub(crate) async fn work_order_in_scope(c: &mut Conn<'_>, actor: &Actor, id: i64) -> Result<WorkOrder> {
    let w = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    if actor.scope.allows_opt(w.station_id) { Ok(w) } else { Err(AppError::NotFound) }
}

/// A work order with its timeline, parts and where its "arranged" clock stands.
#[derive(Debug, Clone)]
pub struct WorkOrderDetail {
    pub work_order: WorkOrder,
    pub events: Vec<WorkOrderEvent>,
    pub parts: Vec<PartUsed>,
    pub files: Vec<FileMeta>,
    pub arrange: shouhou_domain::sla::ClockStatus,
    /// "On site by the agreed window", once a window is agreed.
    pub on_site: Option<shouhou_domain::sla::ClockStatus>,
}

#[tracing::instrument(skip_all)]
pub async fn get_work_order(app: &App, ctx: &Ctx, id: i64) -> Result<WorkOrderDetail> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let w = work_order_in_scope(&mut c, actor, id).await?;
    let events = store::events_of(&mut c, id).await?;
    let parts = store::parts_of(&mut c, id).await?;
    let files = store::files_of(&mut c, id).await?;
    let rules = rules(&mut c).await?;
    let cal = calendar_or_default(&mut c, &w.calendar_code).await?;
    let arrange = w.arrange.status(rules.arrange_target(), &cal, now);
    let on_site = on_site_status(&w, now);
    Ok(WorkOrderDetail { work_order: w, events, parts, files, arrange, on_site })
}

// ---------- recommendations ----------

/// Ranked stations for a work order, and (once dispatched) ranked engineers of its station.
#[derive(Debug, Clone)]
pub struct Recommendations {
    pub stations: Ranking<StationId>,
    pub engineers: Ranking<UserId>,
}

/// The visit day: the appointment's, else today (Asia/Shanghai), with its bounds.
fn visit_day(w: &WorkOrder, now: Timestamp) -> (jiff::civil::Date, Timestamp, Timestamp) {
    let day = business_day(w.appointment.map(|a| a.from).unwrap_or(now));
    let tz = shouhou_domain::calendar::shanghai();
    let start = day.to_zoned(tz.clone()).map(|z| z.timestamp()).unwrap_or(now);
    let end = day.tomorrow().ok().and_then(|d| d.to_zoned(tz).ok()).map(|z| z.timestamp()).unwrap_or(now);
    (day, start, end)
}

async fn product_line(c: &mut Conn<'_>, w: &WorkOrder) -> Result<Option<String>> {
    Ok(match w.device_id {
        Some(d) => devices::product_line(c, d).await?,
        None => None,
    })
}

async fn rank(c: &mut Conn<'_>, rules: &DispatchRules, w: &WorkOrder, now: Timestamp) -> Result<Recommendations> {
    let (candidates, outside) = store::station_candidates(c, &w.region_code).await?;
    let mut stations = rank_stations(&w.region_code, &candidates, &rules.weights);
    stations.outside += outside;
    let engineers = match w.station_id {
        None => Ranking::default(),
        Some(s) => {
            let (day, from, to) = visit_day(w, now);
            let rows = store::engineers_of(c, s, &day.to_string(), from, to).await?;
            let cands: Vec<EngineerCandidate> = rows
                .into_iter()
                .map(|r| EngineerCandidate {
                    id: r.id,
                    active: r.active,
                    skills: r.skills,
                    on_leave: r.on_leave,
                    open_load: r.open_load,
                    load_on_day: r.load_on_day,
                })
                .collect();
            // A device of no known product line asks for no certificate.
            let line = product_line(c, w).await?;
            match line {
                Some(line) => rank_engineers(&line, day, &cands, &rules.weights),
                None => {
                    let any: Vec<EngineerCandidate> = cands
                        .into_iter()
                        .map(|mut e| {
                            e.skills = vec![String::new()];
                            e
                        })
                        .collect();
                    rank_engineers("", day, &any, &rules.weights)
                }
            }
        }
    };
    Ok(Recommendations { stations, engineers })
}

#[tracing::instrument(skip_all)]
pub async fn recommendations(app: &App, ctx: &Ctx, id: i64) -> Result<Recommendations> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let w = work_order_in_scope(&mut c, actor, id).await?;
    let rules = rules(&mut c).await?;
    rank(&mut c, &rules, &w, now).await
}

// ---------- dispatch, assignment, the lifecycle ----------

/// The work order a tier's step is about to change: in the caller's scope (404 otherwise), the
/// caller holding `right` for it (403), at the version they read (409).
async fn to_change(c: &mut Conn<'_>, actor: &Actor, id: i64, version: i64, right: Permission) -> Result<WorkOrder> {
    let w = work_order_in_scope(c, actor, id).await?;
    if !actor.can(right) {
        return Err(AppError::Forbidden);
    }
    if w.version != version {
        return Err(AppError::Stale);
    }
    Ok(w)
}

/// What a step answers.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub id: i64,
    pub status: Status,
    pub station_id: Option<StationId>,
    pub engineer_id: Option<UserId>,
    pub version: i64,
}

fn moved(w: &WorkOrder) -> Moved {
    Moved { id: w.id, status: w.status, station_id: w.station_id, engineer_id: w.engineer_id, version: w.version }
}

/// Send a work order to a station. The station must be active and cover the visit's region,
/// unless the caller holds the override right.
#[tracing::instrument(skip_all)]
pub async fn dispatch(app: &App, ctx: &Ctx, id: i64, version: i64, station: i64) -> Result<Moved> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut w = to_change(&mut c, actor, id, version, Permission::Dispatch).await?;
    let to = w.status.apply(Action::Dispatch)?;
    let Some(s) = stations::get_station(&mut c, StationId(station)).await? else {
        return Err(ValidationErrors::single("station_id", "unknown_station").into());
    };
    if !actor.can(Permission::DispatchOverride) {
        let codes = store::coverage(&mut c, StationId(s.id)).await?;
        let covers = codes.iter().any(|code| shouhou_domain::dispatch::covers(code, &w.region_code));
        if !s.active {
            return Err(ValidationErrors::single("station_id", "station_inactive").into());
        }
        if !covers {
            return Err(ValidationErrors::single("station_id", "station_not_covering").into());
        }
    }
    let rules = rules(&mut c).await?;
    let from = w.status;
    w.status = to;
    w.station_id = Some(StationId(s.id));
    w.engineer_id = None;
    w.accept_due_at = Some(rules.station_deadline(w.urgency, now));
    w.version = store::save(&mut c, &w, now).await?;
    step_event(&mut c, &w, now, Some(actor), from, Action::Dispatch, &s.name, json!({"station_id": s.id})).await?;
    record(
        &mut c,
        app,
        ctx,
        "work_order.dispatch",
        "work_order",
        Some(id.to_string()),
        json!({"number": w.number, "station_id": s.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(moved(&w))
}

#[allow(clippy::too_many_arguments)]
async fn step_event(
    c: &mut Conn<'_>,
    w: &WorkOrder,
    now: Timestamp,
    actor: Option<&Actor>,
    from: Status,
    action: Action,
    note: &str,
    data: serde_json::Value,
) -> Result<()> {
    let data = data.to_string();
    let base = match actor {
        Some(a) => event(w.id, now, a, "status", note),
        None => system_event(w.id, now, "status", note),
    };
    store::insert_event(
        c,
        &NewEvent {
            action: Some(action.as_str()),
            from_status: Some(from.as_str()),
            to_status: Some(w.status.as_str()),
            data: &data,
            ..base
        },
    )
    .await?;
    Ok(())
}

/// The engineer `user` if they are an active engineer of `station`.
async fn engineer_of(c: &mut Conn<'_>, user: i64, station: StationId) -> Result<Option<shouhou_store::users::User>> {
    let u = shouhou_store::users::get_user(c, UserId(user)).await?;
    Ok(u.filter(|u| u.active && u.roles.contains(&Role::Engineer) && u.stations.contains(&station)))
}

/// Give a work order to an engineer of its station (or to another one before the visit began).
#[tracing::instrument(skip_all)]
pub async fn assign(app: &App, ctx: &Ctx, id: i64, version: i64, engineer: i64) -> Result<Moved> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut w = to_change(&mut c, actor, id, version, Permission::Assign).await?;
    let to = w.status.apply(Action::Assign)?;
    let station = w.station_id.ok_or_else(|| ValidationErrors::single("engineer_id", "not_dispatched"))?;
    let Some(u) = engineer_of(&mut c, engineer, station).await? else {
        return Err(ValidationErrors::single("engineer_id", "not_an_engineer_of_the_station").into());
    };
    let rules = rules(&mut c).await?;
    let from = w.status;
    w.status = to;
    w.engineer_id = Some(UserId(u.id));
    w.accept_due_at = Some(rules.engineer_deadline(w.urgency, now));
    w.version = store::save(&mut c, &w, now).await?;
    step_event(&mut c, &w, now, Some(actor), from, Action::Assign, &u.display_name, json!({"engineer_id": u.id}))
        .await?;
    record(
        &mut c,
        app,
        ctx,
        "work_order.assign",
        "work_order",
        Some(id.to_string()),
        json!({"number": w.number, "engineer_id": u.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(moved(&w))
}

/// What a step of the lifecycle may carry besides its action.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    /// accept decline depart check_in diagnose wait_for_parts resume complete close return cancel
    pub action: String,
    /// The version read; or send `If-Match`.
    pub version: Option<i64>,
    /// A reason (decline, return, cancel: required) or a note.
    pub note: Option<String>,
    /// check_in: where the phone is.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// diagnose: the fault code and its cause.
    pub fault_code: Option<String>,
    pub cause: Option<String>,
    /// complete: what was done, the labour time in minutes, the customer's confirmation.
    pub work_done: Option<String>,
    pub labour_minutes: Option<i64>,
    pub customer_confirmed: Option<bool>,
}

/// Who may take `action` on `w`: the engineer's own steps are theirs (a station's dispatcher may
/// record travel and work for them, never accept or decline in their name); handing back and
/// closing are the station's; cancelling needs the right to write work orders.
fn may_take(actor: &Actor, w: &WorkOrder, action: Action) -> bool {
    let own = w.engineer_id == Some(actor.id) && actor.can(Permission::FieldWork);
    match action {
        Action::Accept | Action::Decline => own,
        Action::Depart
        | Action::CheckIn
        | Action::Diagnose
        | Action::WaitForParts
        | Action::Resume
        | Action::Complete => own || actor.can(Permission::Assign),
        Action::Return | Action::Close => actor.can(Permission::Assign),
        Action::Cancel => actor.can(Permission::WorkOrderWrite),
        Action::Dispatch => actor.can(Permission::Dispatch),
        Action::Assign => actor.can(Permission::Assign),
    }
}

#[tracing::instrument(skip_all)]
pub async fn step(app: &App, ctx: &Ctx, id: i64, version: i64, f: &StepForm) -> Result<Moved> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut w = work_order_in_scope(&mut c, actor, id).await?;
    let action = Action::parse("action", &f.action).map_err(ValidationErrors::from)?;
    if matches!(action, Action::Dispatch | Action::Assign) {
        return Err(ValidationErrors::single("action", "use_dispatch_or_assign").into());
    }
    if !may_take(actor, &w, action) {
        return Err(AppError::Forbidden);
    }
    let mut e = ValidationErrors::default();
    let note = e.take(optional_text("note", f.note.as_deref(), TEXT_MAX)).flatten().unwrap_or_default();
    if Status::needs_reason(action) && note.is_empty() {
        e.push("note", "reason_required");
    }
    if w.version != version {
        return Err(AppError::Stale);
    }
    let to = w.status.apply(action)?;
    let from = w.status;
    match action {
        Action::CheckIn => {
            w.checked_in_at = Some(now);
            w.check_in_location = e.take(shouhou_domain::work_orders::location(f.lat, f.lng)).flatten();
        }
        Action::Diagnose => {
            w.fault_code = required(&mut e, "fault_code", f.fault_code.as_deref(), 50);
            w.cause = required(&mut e, "cause", f.cause.as_deref(), TEXT_MAX);
        }
        Action::Complete => {
            // The customer signs the service report on the engineer's screen before completion.
            if !store::files_of(&mut c, id).await?.iter().any(|f| f.purpose == "signature") {
                e.push("signature", "required");
            }
            w.work_done = required(&mut e, "work_done", f.work_done.as_deref(), TEXT_MAX);
            match f.labour_minutes {
                None => e.push("labour_minutes", "required"),
                Some(m) => w.labour_minutes = e.take(shouhou_domain::work_orders::labour_minutes("labour_minutes", m)),
            }
            w.customer_confirmed = f.customer_confirmed.unwrap_or(false);
            w.completed_at = Some(now);
        }
        Action::Depart => w.departed_at = Some(now),
        Action::Accept => {
            w.arrange.arranged_at.get_or_insert(now);
            w.accept_due_at = None;
        }
        Action::Close | Action::Cancel => {
            w.closed_at = Some(now);
            w.accept_due_at = None;
        }
        _ => {}
    }
    e.into_result()?;
    w.status = to;
    let rules = rules(&mut c).await?;
    match action {
        Action::Decline => {
            if let Some(eng) = w.engineer_id.take() {
                w.passed_engineers.push(eng);
            }
            w.accept_due_at = Some(rules.station_deadline(w.urgency, now));
        }
        Action::Return => {
            if let Some(s) = w.station_id.take() {
                w.passed_stations.push(s);
            }
            w.engineer_id = None;
            w.accept_due_at = None;
        }
        _ => {}
    }
    step_event(&mut c, &w, now, Some(actor), from, action, &note, json!({})).await?;
    // A decline or a hand-back goes on to the next candidate at once.
    match action {
        Action::Decline => auto_assign(&mut c, &rules, &mut w, now, "declined").await?,
        Action::Return => auto_dispatch(&mut c, &rules, &mut w, now, "returned").await?,
        _ => {}
    }
    w.version = store::save(&mut c, &w, now).await?;
    // Waiting for parts pauses the request's resolution clock; the parts there (or the visit
    // cancelled meanwhile), it runs on. The request's cached figures follow.
    if let Some(rid) = w.service_request_id {
        let kind = match (from, action) {
            (_, Action::WaitForParts) => Some("parts_wait"),
            (Status::WaitingParts, Action::Resume | Action::Cancel) => Some("parts_arrived"),
            _ => None,
        };
        if let Some(kind) = kind {
            let note = w.number.clone();
            requests::insert_event(&mut c, &crate::sla::event(rid, now.as_millisecond(), actor, kind, &note)).await?;
            if let Some(r) = requests::get_request(&mut c, rid).await? {
                let figures = crate::sla::clocks_now(&mut c, &r, now.as_millisecond()).await?.figures();
                requests::set_sla(&mut c, rid, &requests::SlaCache::from(figures)).await?;
            }
        }
    }
    if action == Action::Complete && w.kind == Kind::Maintenance {
        // A device's first maintenance (首保) done is recorded on the device.
        shouhou_store::maintenance::mark_first_maintenance(&mut c, id, now.as_millisecond()).await?;
    }
    if action == Action::Complete {
        crate::warranty_cards::judge_warranty_work(&mut c, app, &w, now).await?;
        crate::recalls::work_order_completed(&mut c, id, now.as_millisecond()).await?;
    }
    record(
        &mut c,
        app,
        ctx,
        "work_order.transition",
        "work_order",
        Some(id.to_string()),
        json!({"number": w.number, "action": action.as_str(), "from": from.as_str(), "to": w.status.as_str()}),
    )
    .await?;
    tx.commit().await?;
    // The service report goes onto the request now; should this fail, the sweep files it later.
    if action == Action::Complete
        && w.service_request_id.is_some()
        && let Err(e) = file_report(app, id).await
    {
        tracing::warn!(error = %e, work_order = id, "filing the service report failed; the sweep will retry");
    }
    Ok(moved(&w))
}

fn required(e: &mut ValidationErrors, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    match e.take(optional_text(field, v, max)).flatten().filter(|s| !s.is_empty()) {
        Some(s) => Some(s),
        None => {
            if !e.0.iter().any(|f| f.field == field) {
                e.push(field, "required");
            }
            None
        }
    }
}

/// Give `w` (dispatched, no engineer) to the best engineer of its station that has not passed on
/// it; with none left, the station's tier has failed: on to the next station.
async fn auto_assign(
    c: &mut Conn<'_>,
    rules: &DispatchRules,
    w: &mut WorkOrder,
    now: Timestamp,
    why: &str,
) -> Result<()> {
    if assign_next(c, rules, w, now, why).await? {
        return Ok(());
    }
    let from = w.status;
    w.status = w.status.apply(Action::Return)?;
    if let Some(s) = w.station_id.take() {
        w.passed_stations.push(s);
    }
    w.accept_due_at = None;
    step_event(c, w, now, None, from, Action::Return, "no_engineer_left", json!({"automatic": true})).await?;
    auto_dispatch(c, rules, w, now, why).await
}

/// Send `w` (on the board) to the best station that has not passed on it, and there to its best
/// engineer; with no station left it stays on the dispatcher's board.
async fn auto_dispatch(
    c: &mut Conn<'_>,
    rules: &DispatchRules,
    w: &mut WorkOrder,
    now: Timestamp,
    why: &str,
) -> Result<()> {
    let rec = rank(c, rules, w, now).await?;
    let Some(station) = rec.stations.ranked.iter().find(|r| !w.passed_stations.contains(&r.id)).map(|r| r.id) else {
        store::insert_event(c, &system_event(w.id, now, "note", "no_station_left")).await?;
        return Ok(());
    };
    let from = w.status;
    w.status = w.status.apply(Action::Dispatch)?;
    w.station_id = Some(station);
    w.engineer_id = None;
    w.accept_due_at = Some(rules.station_deadline(w.urgency, now));
    step_event(c, w, now, None, from, Action::Dispatch, why, json!({"station_id": station.0, "automatic": true}))
        .await?;
    // The engineer tier too, among those who have not declined it already; with none, it stays
    // with the station (its deadline runs) rather than bouncing on.
    Box::pin(assign_next(c, rules, w, now, why)).await.map(|_| ())
}

/// Assign the best engineer of `w`'s station who has not passed on it; false when none is left.
async fn assign_next(
    c: &mut Conn<'_>,
    rules: &DispatchRules,
    w: &mut WorkOrder,
    now: Timestamp,
    why: &str,
) -> Result<bool> {
    let rec = rank(c, rules, w, now).await?;
    let Some(eng) = rec.engineers.ranked.iter().find(|r| !w.passed_engineers.contains(&r.id)).map(|r| r.id) else {
        return Ok(false);
    };
    let from = w.status;
    w.status = w.status.apply(Action::Assign)?;
    w.engineer_id = Some(eng);
    w.accept_due_at = Some(rules.engineer_deadline(w.urgency, now));
    step_event(c, w, now, None, from, Action::Assign, why, json!({"engineer_id": eng.0, "automatic": true})).await?;
    Ok(true)
}

// ---------- coverage, skills, leave ----------

/// Replace a station's coverage (GB/T 2260 codes at any level).
#[tracing::instrument(skip_all)]
pub async fn set_coverage(app: &App, ctx: &Ctx, station: i64, codes: &[String]) -> Result<Vec<String>> {
    ctx.require(Permission::StationWrite)?;
    let mut e = ValidationErrors::default();
    let mut list: Vec<String> =
        codes.iter().filter_map(|c| e.take(RegionCode::parse("region_codes", c))).map(|r| r.code()).collect();
    e.into_result()?;
    list.sort();
    list.dedup();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    stations::get_station(&mut c, StationId(station)).await?.ok_or(AppError::NotFound)?;
    store::set_coverage(&mut c, StationId(station), &list).await?;
    record(&mut c, app, ctx, "station.coverage", "station", Some(station.to_string()), json!({"region_codes": list}))
        .await?;
    tx.commit().await?;
    Ok(list)
}

/// Replace an engineer's product lines (each one a line some product model has).
#[tracing::instrument(skip_all)]
pub async fn set_skills(app: &App, ctx: &Ctx, user: i64, lines: &[String]) -> Result<Vec<String>> {
    let actor = ctx.require_read(Permission::UserRead)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let u = shouhou_store::users::get_user(&mut c, UserId(user)).await?.ok_or(AppError::NotFound)?;
    if !u.stations.iter().any(|s| actor.scope.allows(*s)) && !matches!(actor.scope, shouhou_domain::auth::Scope::All) {
        return Err(AppError::NotFound);
    }
    if !(actor.can(Permission::UserWrite) || actor.can(Permission::Assign)) {
        return Err(AppError::Forbidden);
    }
    let known = shouhou_store::products::product_lines(&mut c).await?;
    let mut list: Vec<String> = lines.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
    list.sort();
    list.dedup();
    if list.iter().any(|l| !known.contains(l)) {
        return Err(ValidationErrors::single("product_lines", "unknown_product_line").into());
    }
    store::set_skills(&mut c, UserId(user), &list).await?;
    record(&mut c, app, ctx, "user.skills", "user", Some(user.to_string()), json!({"product_lines": list})).await?;
    tx.commit().await?;
    Ok(list)
}

// ---------- the sweep: missed deadlines and the "arranged" clock ----------

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Work orders taken from a tier whose deadline passed and sent on.
    pub redispatched: u64,
    pub warnings: u64,
    pub breaches: u64,
    /// Work orders another instance changed first (left to it).
    pub skipped: u64,
    /// Service reports filed on their requests (ones the completing step could not file).
    pub reports: u64,
}

const SWEEP_BATCH: i64 = 200;

/// Every instance runs this with its worker: a tier whose deadline passed loses the work order to
/// the next candidate (each once: the save is versioned), and the "arranged" clock's 80 % warning
/// and breach fire once across instances (`work_order_alerts`' key), each notifying headquarters'
/// dispatchers and, once dispatched, the station's managers.
#[tracing::instrument(skip_all, fields(instance = instance))]
pub async fn sweep(app: &App, instance: &str) -> Result<SweepReport> {
    let now = crate::instant(app.now())?;
    let mut report = SweepReport::default();
    let overdue = {
        let mut rd = app.db.read().await?;
        store::accept_overdue(&mut rd.conn(), now, SWEEP_BATCH).await?
    };
    for w in overdue {
        match missed_deadline(app, instance, w, now).await {
            Ok(true) => report.redispatched += 1,
            Ok(false) | Err(AppError::Stale) => report.skipped += 1,
            Err(e) => tracing::warn!(error = %e, "re-dispatching a work order failed"),
        }
    }
    let due = {
        let mut rd = app.db.read().await?;
        store::arrange_due(&mut rd.conn(), now, SWEEP_BATCH).await?
    };
    let on_site = {
        let mut rd = app.db.read().await?;
        store::on_site_due(&mut rd.conn(), now, SWEEP_BATCH).await?
    };
    let due = due.into_iter().map(|w| (w, VisitClock::Arrange));
    for (w, clock) in due.chain(on_site.into_iter().map(|w| (w, VisitClock::OnSite))) {
        match clock_alerts(app, instance, &w, clock, now).await {
            Ok((warn, breach)) => {
                report.warnings += u64::from(warn);
                report.breaches += u64::from(breach);
            }
            Err(e) => tracing::warn!(error = %e, clock = clock.as_str(), "a work order's clock alert failed"),
        }
    }
    let unfiled = {
        let mut rd = app.db.read().await?;
        store::reports_to_file(&mut rd.conn(), 20).await?
    };
    for id in unfiled {
        match file_report(app, id).await {
            Ok(Some(_)) => report.reports += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, work_order = id, "filing a service report failed"),
        }
    }
    Ok(report)
}

/// Take `w` from the tier that let its deadline pass, in one transaction; false if it moved on
/// meanwhile.
async fn missed_deadline(app: &App, instance: &str, seen: WorkOrder, now: Timestamp) -> Result<bool> {
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let Some(mut w) = store::get(&mut c, seen.id).await? else { return Ok(false) };
    if w.version != seen.version || w.accept_due_at.is_none_or(|d| d > now) {
        return Ok(false);
    }
    let rules = rules(&mut c).await?;
    let from = w.status;
    match w.status {
        Status::Assigned => {
            w.status = w.status.apply(Action::Decline)?;
            if let Some(e) = w.engineer_id.take() {
                w.passed_engineers.push(e);
            }
            w.accept_due_at = Some(rules.station_deadline(w.urgency, now));
            step_event(&mut c, &w, now, None, from, Action::Decline, "deadline_missed", json!({"automatic": true}))
                .await?;
            auto_assign(&mut c, &rules, &mut w, now, "deadline_missed").await?;
        }
        Status::Dispatched => {
            w.status = w.status.apply(Action::Return)?;
            if let Some(s) = w.station_id.take() {
                w.passed_stations.push(s);
            }
            w.accept_due_at = None;
            step_event(&mut c, &w, now, None, from, Action::Return, "deadline_missed", json!({"automatic": true}))
                .await?;
            auto_dispatch(&mut c, &rules, &mut w, now, "deadline_missed").await?;
        }
        _ => return Ok(false),
    }
    w.version = store::save(&mut c, &w, now).await?;
    let link = format!("/work-orders/{}", w.id);
    let title = format!("派工单 {} 超过接单时限，已改派", w.number);
    let body = match (w.status, w.station_id) {
        (Status::Created, _) => "没有可改派的服务站，已退回派工台，请人工派工。".to_string(),
        _ => "系统已按推荐顺序改派给下一候选。".to_string(),
    };
    notify_dispatch(&mut c, &w, "work_order.redispatched", &title, &body, &link, now).await?;
    audit_system(
        &mut c,
        app,
        instance,
        "work_order.redispatch",
        w.id,
        json!({"number": w.number, "from": from.as_str(), "to": w.status.as_str()}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The two clocks of a visit that the sweep alerts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VisitClock {
    /// Request registered → an engineer accepted, on the station's calendar.
    Arrange,
    /// The agreed window → the engineer checked in, in wall time.
    OnSite,
}

impl VisitClock {
    fn as_str(self) -> &'static str {
        match self {
            VisitClock::Arrange => "arrange",
            VisitClock::OnSite => "on_site",
        }
    }
}

/// Where the on-site clock of `w` stands, if a window was agreed.
pub fn on_site_status(w: &WorkOrder, now: Timestamp) -> Option<shouhou_domain::sla::ClockStatus> {
    w.appointment.map(|a| a.on_site_status(w.checked_in_at, now))
}

/// A clock's warning and breach for `w`, each once across instances; answers what fired here.
/// The arranged clock tells headquarters' dispatchers and the station's managers; the on-site
/// clock tells them and the engineer who is due.
async fn clock_alerts(
    app: &App,
    instance: &str,
    w: &WorkOrder,
    clock: VisitClock,
    now: Timestamp,
) -> Result<(bool, bool)> {
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let st = match clock {
        VisitClock::Arrange => {
            let rules = rules(&mut c).await?;
            let cal = calendar_or_default(&mut c, &w.calendar_code).await?;
            w.arrange.status(rules.arrange_target(), &cal, now)
        }
        VisitClock::OnSite => match on_site_status(w, now) {
            Some(st) => st,
            None => return Ok((false, false)),
        },
    };
    let (mut warned, mut breached) = (false, false);
    let name = clock.as_str();
    use shouhou_domain::sla::Health;
    match st.health {
        Health::Breached => {
            breached = store::fire_alert(&mut c, w.id, name, "breach", now, instance).await?;
            store::fire_alert(&mut c, w.id, name, "warning", now, instance).await?;
        }
        Health::AtRisk => warned = store::fire_alert(&mut c, w.id, name, "warning", now, instance).await?,
        Health::Ok => {}
    }
    if !warned && !breached {
        return Ok((false, false));
    }
    let link = format!("/work-orders/{}", w.id);
    let level = if breached { "breach" } else { "warning" };
    let (title, body) = match (clock, breached) {
        (VisitClock::Arrange, false) => {
            let target = rules(&mut c).await?.arrange_minutes;
            (
                format!("派工单 {} 即将超过 {target} 分钟派工时限", w.number),
                "已用去 80% 时限，仍无工程师接单。".to_string(),
            )
        }
        (VisitClock::Arrange, true) => {
            let target = rules(&mut c).await?.arrange_minutes;
            (format!("派工单 {} 已超过 {target} 分钟派工时限", w.number), "仍无工程师接单，请立即处理。".to_string())
        }
        (VisitClock::OnSite, false) => {
            let until = w.appointment.map(|a| crate::rfc3339_local(a.to)).unwrap_or_default();
            (format!("派工单 {} 即将错过约定上门时间", w.number), format!("约定时段至 {until}，工程师尚未到场签到。"))
        }
        (VisitClock::OnSite, true) => {
            let until = w.appointment.map(|a| crate::rfc3339_local(a.to)).unwrap_or_default();
            (
                format!("派工单 {} 已错过约定上门时间", w.number),
                format!("约定时段至 {until} 已过，工程师仍未到场，请联系客户改约。"),
            )
        }
    };
    let kind = format!("work_order.{name}_{level}");
    notify_dispatch(&mut c, w, &kind, &title, &body, &link, now).await?;
    if let (VisitClock::OnSite, Some(engineer)) = (clock, w.engineer_id) {
        let n = shouhou_store::inbox::NewNotification {
            user_id: engineer.0,
            kind: &kind,
            title: &title,
            body: &body,
            link: Some(&link),
            urgent: true,
            deliver_after: now.as_millisecond(),
        };
        shouhou_store::inbox::insert_notification(&mut c, &n, &["inbox"], now.as_millisecond()).await?;
    }
    audit_system(&mut c, app, instance, &format!("work_order.{name}_{level}"), w.id, json!({"number": w.number}), now)
        .await?;
    tx.commit().await?;
    Ok((warned, breached))
}

/// A notification to headquarters' dispatchers and to the managers of the work order's station.
async fn notify_dispatch(
    c: &mut Conn<'_>,
    w: &WorkOrder,
    kind: &str,
    title: &str,
    body: &str,
    link: &str,
    now: Timestamp,
) -> Result<()> {
    let mut to = shouhou_store::users::headquarters_with_role(c, "dispatcher").await?;
    if let Some(s) = w.station_id {
        to.extend(shouhou_store::users::station_members_with_role(c, s.0, "station_manager").await?);
    }
    to.sort_unstable();
    to.dedup();
    let urgent = matches!(w.urgency, Urgency::Urgent | Urgency::High);
    for user in to {
        let n = shouhou_store::inbox::NewNotification {
            user_id: user,
            kind,
            title,
            body,
            link: Some(link),
            urgent,
            deliver_after: now.as_millisecond(),
        };
        shouhou_store::inbox::insert_notification(c, &n, &["inbox"], now.as_millisecond()).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn audit_system(
    c: &mut Conn<'_>,
    app: &App,
    instance: &str,
    action: &str,
    id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    shouhou_store::audit::append(
        c,
        &app.keys,
        shouhou_store::audit::Event {
            at_ms: now.as_millisecond(),
            actor_id: None,
            actor_name: "system".into(),
            action: action.into(),
            entity: "work_order".into(),
            entity_id: Some(id.to_string()),
            detail: detail.to_string(),
            source: "worker".into(),
            request_id: instance.to_string(),
        },
    )
    .await?;
    Ok(())
}

// ---------- on site: photos, the signature, parts, the appointment ----------

pub use shouhou_store::work_orders::FileMeta;

/// What a visit's file is for.
pub const FILE_PURPOSES: [&str; 3] = ["before", "after", "signature"];

/// A work order the actor may record on-site work for: its engineer, or the station's dispatcher
/// acting for them. 404 outside the scope, 403 for anyone else.
async fn on_site_work_order(c: &mut Conn<'_>, actor: &Actor, id: i64) -> Result<WorkOrder> {
    let w = work_order_in_scope(c, actor, id).await?;
    let own = w.engineer_id == Some(actor.id) && actor.can(Permission::FieldWork);
    if own || actor.can(Permission::Assign) { Ok(w) } else { Err(AppError::Forbidden) }
}

/// Photos and the signature belong to the visit itself: from check-in to completion.
fn at_the_customers(w: &WorkOrder) -> Result<()> {
    match w.status {
        Status::OnSite | Status::Working | Status::WaitingParts => Ok(()),
        _ => Err(ValidationErrors::single("work_order", "not_on_site").into()),
    }
}

/// A photo before or after the work, or the customer's signature: an image (checked on its
/// content, not its name), at most 10 MB (the web layer refuses more).
#[tracing::instrument(skip_all)]
pub async fn add_file(
    app: &App,
    ctx: &Ctx,
    id: i64,
    purpose: &str,
    file_name: &str,
    bytes: &[u8],
    taken_at: Option<&str>,
) -> Result<i64> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let w = on_site_work_order(&mut c, actor, id).await?;
    if !FILE_PURPOSES.contains(&purpose) {
        return Err(ValidationErrors::single("purpose", "invalid_choice").into());
    }
    at_the_customers(&w)?;
    let name = shouhou_domain::attachments::file_name("file", file_name)?;
    let content_type = shouhou_domain::attachments::check("file", &name, bytes)?;
    if !content_type.starts_with("image/") {
        return Err(ValidationErrors::single("file", "not_an_image").into());
    }
    // When the photo was taken: its own EXIF DateTimeOriginal if it carries one, else the file's
    // time as the page reads it from the phone. The audit of the warranty card compares it with
    // the visit.
    let declared = match taken_at.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<Timestamp>()
                .map_err(|_| shouhou_domain::FieldError::new("taken_at", "invalid_instant"))?
                .as_millisecond(),
        ),
    };
    let taken_at = photo_taken_at(bytes).map(Timestamp::as_millisecond).or(declared);
    let file =
        store::insert_file(&mut c, id, purpose, &name, content_type, bytes, Some(actor.id.0), taken_at, now).await?;
    let data = json!({"file_id": file, "purpose": purpose, "size": bytes.len()}).to_string();
    store::insert_event(&mut c, &NewEvent { data: &data, ..event(id, now, actor, "file", &name) }).await?;
    record(&mut c, app, ctx, "work_order.file", "work_order", Some(id.to_string()),
        json!({"number": w.number, "file_id": file, "purpose": purpose, "size": bytes.len(), "sha256": crate::secrets::sha256_hex(bytes)}))
    .await?;
    tx.commit().await?;
    Ok(file)
}

/// When a photo was taken, as its EXIF `DateTimeOriginal` says (with `OffsetTimeOriginal`, else
/// China's +08:00, the camera's clock being local); none without one.
pub(crate) fn photo_taken_at(bytes: &[u8]) -> Option<Timestamp> {
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)).ok()?;
    let ascii = |tag| match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    let mut dt = exif::DateTime::from_ascii(&ascii(exif::Tag::DateTimeOriginal)?).ok()?;
    if let Some(offset) = ascii(exif::Tag::OffsetTimeOriginal) {
        let _ = dt.parse_offset(&offset);
    }
    let civil = jiff::civil::DateTime::new(
        i16::try_from(dt.year).ok()?,
        i8::try_from(dt.month).ok()?,
        i8::try_from(dt.day).ok()?,
        i8::try_from(dt.hour).ok()?,
        i8::try_from(dt.minute).ok()?,
        i8::try_from(dt.second).ok()?,
        0,
    )
    .ok()?;
    let offset = jiff::tz::Offset::from_seconds(i32::from(dt.offset.unwrap_or(8 * 60)) * 60).ok()?;
    offset.to_timestamp(civil).ok()
}

/// The files of a work order the caller may see, without their bytes.
pub async fn files(app: &App, ctx: &Ctx, id: i64) -> Result<Vec<FileMeta>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    work_order_in_scope(&mut c, actor, id).await?;
    Ok(store::files_of(&mut c, id).await?)
}

/// A file's name, type and bytes, for a caller who may see its work order.
pub async fn get_file(app: &App, ctx: &Ctx, file_id: i64) -> Result<(FileMeta, Vec<u8>)> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let (meta, bytes) = store::file(&mut c, file_id).await?.ok_or(AppError::NotFound)?;
    work_order_in_scope(&mut c, actor, meta.work_order_id).await?;
    Ok((meta, bytes))
}

/// A part used on the visit, as the engineer records it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartForm {
    pub part_code: String,
    /// Required for a part not taken from stock; a catalog part's own name otherwise.
    #[serde(default)]
    pub part_name: String,
    /// 1 to 999.
    pub quantity: i64,
    /// The serial of the faulty part taken out, and of the new one put in (serialised parts).
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    /// Take it from this warehouse's stock (the engineer's van or the station's shelf): the
    /// catalog part is issued to the work order, or 409 `insufficient_stock`.
    #[serde(default)]
    pub warehouse_id: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn add_part(app: &App, ctx: &Ctx, id: i64, f: &PartForm) -> Result<i64> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut e = ValidationErrors::default();
    let code = e.take(shouhou_domain::text::required_text("part_code", &f.part_code, 50));
    // A part from stock is named by the catalog.
    let name = match f.warehouse_id {
        Some(_) => Some(String::new()),
        None => e.take(shouhou_domain::text::required_text("part_name", &f.part_name, 100)),
    };
    if !(1..=999).contains(&f.quantity) {
        e.push("quantity", "out_of_range");
    }
    let old_serial = e.take(optional_text("old_serial", f.old_serial.as_deref(), 64)).flatten();
    let new_serial = e.take(optional_text("new_serial", f.new_serial.as_deref(), 64)).flatten();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let w = on_site_work_order(&mut c, actor, id).await?;
    at_the_customers(&w)?;
    let (Some(code), Some(mut name)) = (code, name) else { return Err(e.into()) };
    e.into_result()?;
    let (mut code, mut movement_id, mut warranty_until) = (code, None, None);
    if let Some(warehouse) = f.warehouse_id {
        let (p, m) = crate::parts::issue_to_work_order(
            &mut c,
            actor,
            warehouse,
            &code,
            f.quantity,
            id,
            w.device_id,
            (old_serial.as_deref(), new_serial.as_deref()),
            now.as_millisecond(),
        )
        .await?;
        warranty_until = part_warranty(&mut c, app, &w, &p, now).await?;
        (code, name, movement_id) = (p.code, p.name, Some(m));
    }
    let part = PartUsed {
        id: 0,
        work_order_id: id,
        part_code: code,
        part_name: name,
        quantity: f.quantity,
        old_serial,
        new_serial,
        created_at: now.as_millisecond(),
        warehouse_id: f.warehouse_id,
        movement_id,
        warranty_until,
    };
    let pid = store::insert_part(&mut c, &part).await?;
    let note = format!("{} {} × {}", part.part_code, part.part_name, part.quantity);
    store::insert_event(&mut c, &event(id, now, actor, "part", &note)).await?;
    record(&mut c, app, ctx, "work_order.part", "work_order", Some(id.to_string()),
        json!({"number": w.number, "part_code": part.part_code, "quantity": part.quantity, "old_serial": part.old_serial, "new_serial": part.new_serial}))
    .await?;
    tx.commit().await?;
    Ok(pid)
}

/// The last day a catalog part installed today on the work order's device is covered, by the
/// part's policy (the rest of the device's warranty, a fresh period, none).
async fn part_warranty(
    c: &mut Conn<'_>,
    app: &App,
    w: &WorkOrder,
    p: &shouhou_store::parts::Part,
    now: Timestamp,
) -> Result<Option<String>> {
    let Ok(policy) = shouhou_domain::parts::WarrantyPolicy::parse("warranty_policy", &p.warranty_policy) else {
        return Ok(None);
    };
    let today = business_day(now);
    let device_until = match w.device_id {
        Some(d) => match devices::get_device(c, &app.keys, d).await? {
            Some(d) => {
                let ent = crate::devices::entitlement_on(c, &d, today).await?;
                (ent.coverage == shouhou_domain::entitlement::Coverage::InWarranty).then_some(ent.warranty_until)
            }
            None => None,
        },
        None => None,
    };
    Ok(shouhou_domain::parts::part_warranty_until(policy, p.warranty_months, today, device_until)
        .map(|d| d.to_string()))
}

/// Agree a visit window with the customer, or move it (then with a reason).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AppointmentForm {
    /// RFC 3339.
    pub appointment_from: String,
    pub appointment_to: String,
    /// Required when an agreed window is moved.
    pub reason: Option<String>,
    /// The version read; or send `If-Match`.
    pub version: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn set_appointment(app: &App, ctx: &Ctx, id: i64, version: i64, f: &AppointmentForm) -> Result<Moved> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut e = ValidationErrors::default();
    let window = window(Some(&f.appointment_from), Some(&f.appointment_to), &mut e).flatten();
    let reason = e.take(optional_text("reason", f.reason.as_deref(), TEXT_MAX)).flatten();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut w = work_order_in_scope(&mut c, actor, id).await?;
    let own = w.engineer_id == Some(actor.id) && actor.can(Permission::FieldWork);
    if !(own || actor.can(Permission::WorkOrderWrite) || actor.can(Permission::Assign)) {
        return Err(AppError::Forbidden);
    }
    if !w.status.is_open() || w.status == Status::Completed || w.checked_in_at.is_some() {
        return Err(ValidationErrors::single("appointment_from", "visit_under_way").into());
    }
    let moved_from = w.appointment;
    if moved_from.is_some() && reason.is_none() {
        e.push("reason", "reason_required");
    }
    let Some(window) = window else { return Err(e.into()) };
    e.into_result()?;
    if w.version != version {
        return Err(AppError::Stale);
    }
    w.appointment = Some(window);
    w.version = store::save(&mut c, &w, now).await?;
    let kind = if moved_from.is_some() { "rescheduled" } else { "appointment" };
    let data = json!({
        "from": window.from.to_string(), "to": window.to.to_string(),
        "was": moved_from.map(|m| json!({"from": m.from.to_string(), "to": m.to.to_string()})),
    })
    .to_string();
    store::insert_event(
        &mut c,
        &NewEvent { data: &data, ..event(id, now, actor, kind, reason.as_deref().unwrap_or("")) },
    )
    .await?;
    record(
        &mut c,
        app,
        ctx,
        &format!("work_order.{kind}"),
        "work_order",
        Some(id.to_string()),
        json!({"number": w.number, "from": window.from.as_millisecond(), "to": window.to.as_millisecond()}),
    )
    .await?;
    tx.commit().await?;
    Ok(moved(&w))
}

// ---------- lists: the dispatcher's board, the engineer's day ----------

/// One line of a work-order list, with the names a person reads.
#[derive(Debug, Clone)]
pub struct WorkOrderListItem {
    pub work_order: WorkOrder,
    pub customer_name: String,
    pub station_name: Option<String>,
    pub engineer_name: Option<String>,
    /// Where the "arranged" clock stands now.
    pub arrange: shouhou_domain::sla::Health,
}

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Every open work order in the caller's scope, soonest "arranged" due first.
    Board,
    /// The caller's own open work orders, in visit order.
    Mine,
}

/// The most a list shows; a board with more asks for a narrower scope.
pub const LIST_MAX: i64 = 300;

#[tracing::instrument(skip_all)]
pub async fn listing(app: &App, ctx: &Ctx, which: Listing) -> Result<Vec<WorkOrderListItem>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let (mut items, rules) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let filter = store::Filter { engineer: (which == Listing::Mine).then_some(actor.id), limit: LIST_MAX };
        (store::open(&mut c, &actor.scope, &filter).await?, rules(&mut c).await?)
    };
    if which == Listing::Mine {
        // A completed visit waits for the station's review, not for the engineer.
        items.retain(|w| w.status != Status::Completed);
        // Visit order: by appointment, those without one after, then by number.
        items.sort_by_key(|w| (w.appointment.map(|a| a.from).unwrap_or(Timestamp::MAX), w.id));
    }
    let n = crate::requests::names(
        app,
        ctx,
        actor,
        "work_order_list",
        items.iter().map(|w| w.customer_id).collect(),
        items.iter().filter_map(|w| w.station_id.map(|s| s.0)).collect::<Vec<_>>(),
        items.iter().filter_map(|w| w.engineer_id.map(|u| u.0)).collect::<Vec<_>>(),
    )
    .await?;
    let mut cals: std::collections::HashMap<String, shouhou_domain::calendar::BusinessCalendar> = Default::default();
    let mut out = Vec::with_capacity(items.len());
    for w in items {
        if !cals.contains_key(&w.calendar_code) {
            let mut rd = app.db.read().await?;
            let cal = calendar_or_default(&mut rd.conn(), &w.calendar_code).await?;
            cals.insert(w.calendar_code.clone(), cal);
        }
        let arrange = match cals.get(&w.calendar_code) {
            Some(cal) => w.arrange.status(rules.arrange_target(), cal, now).health,
            None => shouhou_domain::sla::Health::Ok,
        };
        out.push(WorkOrderListItem {
            customer_name: n.customers.get(&w.customer_id).map(|c| c.0.clone()).unwrap_or_default(),
            station_name: w.station_id.and_then(|s| n.stations.get(&s.0).cloned()),
            engineer_name: w.engineer_id.and_then(|u| n.users.get(&u.0).cloned()),
            arrange,
            work_order: w,
        });
    }
    Ok(out)
}

/// The steps of `w` the actor may take now, in `Action` order (dispatch and assign are offered
/// through the recommendations, not here).
pub fn actions_for(actor: &Actor, w: &WorkOrder) -> Vec<Action> {
    w.status
        .allowed_actions()
        .iter()
        .copied()
        .filter(|a| !matches!(a, Action::Dispatch | Action::Assign) && may_take(actor, w, *a))
        .collect()
}

/// Whether the actor may send `w` on at the tier it is at: headquarters' dispatch while it has no
/// engineer, the station's assignment once it has a station.
pub fn may_dispatch(actor: &Actor, w: &WorkOrder) -> (bool, bool) {
    let dispatch = actor.can(Permission::Dispatch) && w.status.allowed_actions().contains(&Action::Dispatch);
    let assign =
        actor.can(Permission::Assign) && w.station_id.is_some() && w.status.allowed_actions().contains(&Action::Assign);
    (dispatch, assign)
}

/// The work orders of a request the caller may see, oldest first (a request's visits).
pub async fn of_request(app: &App, ctx: &Ctx, request_id: i64) -> Result<Vec<VisitClocks>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let now = crate::instant(app.now())?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    request_in_scope(&mut c, actor, request_id).await?;
    let visits: Vec<WorkOrder> = store::of_request(&mut c, request_id)
        .await?
        .into_iter()
        .filter(|w| actor.scope.allows_opt(w.station_id))
        .collect();
    let rules = rules(&mut c).await?;
    let mut out = Vec::with_capacity(visits.len());
    for w in visits {
        let cal = calendar_or_default(&mut c, &w.calendar_code).await?;
        let arrange = w.arrange.status(rules.arrange_target(), &cal, now);
        let on_site = on_site_status(&w, now);
        out.push(VisitClocks { work_order: w, arrange, on_site });
    }
    Ok(out)
}

/// A visit of a request with where its two clocks stand.
#[derive(Debug, Clone)]
pub struct VisitClocks {
    pub work_order: WorkOrder,
    pub arrange: shouhou_domain::sla::ClockStatus,
    pub on_site: Option<shouhou_domain::sla::ClockStatus>,
}

/// The customer of a work order for the reader. The engineer it is assigned to reads the
/// customer's name, phone and address in clear while the visit is open (they must find and call
/// them), whatever their role's right to personal data; the read is audited like any other in
/// clear. Everyone else reads them as their role allows.
#[tracing::instrument(skip_all)]
pub async fn customer_of(app: &App, ctx: &Ctx, id: i64) -> Result<crate::customers::CustomerView> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let (w, stored) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let w = work_order_in_scope(&mut c, actor, id).await?;
        let stored = customers::get_customer(&mut c, &app.keys, w.customer_id).await?.ok_or(AppError::NotFound)?;
        (w, stored)
    };
    let on_the_visit = w.engineer_id == Some(actor.id)
        && actor.can(Permission::FieldWork)
        && w.status.blocks_resolution()
        && w.status.is_arranged();
    if !on_the_visit {
        return crate::customers::get_customer(app, ctx, w.customer_id).await;
    }
    crate::customers::log_clear_read(app, ctx, "work_order", &[stored.id]).await?;
    Ok(crate::customers::view(stored, true))
}

// ---------- the service report ----------

/// The service report of a visit as a PDF (`WO-….pdf`): from check-in on, marked as a draft until
/// completion; the customer masked as the reader may see them (the engineer on the visit, and
/// roles with the right, in clear).
#[tracing::instrument(skip_all)]
pub async fn report(app: &App, ctx: &Ctx, id: i64) -> Result<(String, Vec<u8>)> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let data = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let w = work_order_in_scope(&mut c, actor, id).await?;
        report_data(&mut c, app, w).await?
    };
    if data.w.checked_in_at.is_none() {
        return Err(ValidationErrors::single("work_order", "not_checked_in").into());
    }
    let customer = customer_of(app, ctx, id).await?;
    render_report(app, &data, &customer)
}

/// What a service report shows besides the customer.
struct ReportData {
    w: WorkOrder,
    parts: Vec<PartUsed>,
    files: Vec<(FileMeta, Vec<u8>)>,
    station: Option<String>,
    engineer: Option<String>,
    request: Option<shouhou_domain::requests::Request>,
    device: Option<devices::Device>,
    org: String,
}

async fn report_data(c: &mut Conn<'_>, app: &App, w: WorkOrder) -> Result<ReportData> {
    let parts = store::parts_of(c, w.id).await?;
    let mut files = vec![];
    for f in store::files_of(c, w.id).await? {
        if let Some((meta, bytes)) = store::file(c, f.id).await? {
            files.push((meta, bytes));
        }
    }
    let station = match w.station_id {
        Some(s) => stations::get_station(c, s).await?.map(|s| s.name),
        None => None,
    };
    let engineer = match w.engineer_id {
        Some(u) => shouhou_store::users::get_user(c, u).await?.map(|u| u.display_name),
        None => None,
    };
    let request = match w.service_request_id {
        Some(r) => requests::get_request(c, r).await?,
        None => None,
    };
    let device = match w.device_id {
        Some(d) => devices::get_device(c, &app.keys, d).await?,
        None => None,
    };
    let org = settings::get(c, "organisation").await?.unwrap_or_else(|| "售后服务中心".to_string());
    Ok(ReportData { w, parts, files, station, engineer, request, device, org })
}

/// The report as a PDF (`WO-….pdf`) with the customer as given (masked or not).
fn render_report(app: &App, d: &ReportData, customer: &crate::customers::CustomerView) -> Result<(String, Vec<u8>)> {
    let ReportData { w, parts, files, station, engineer, request, device, org } = d;
    let when = |t: Option<Timestamp>| t.map(crate::rfc3339_local).unwrap_or_else(|| "—".into());
    let mut lines = vec![
        ("派工单号".to_string(), w.number.clone()),
        ("服务请求".to_string(), request.as_ref().map(|r| r.number.clone()).unwrap_or_else(|| "—".into())),
        ("服务类型".to_string(), kind_words(w.kind).to_string()),
        ("客户".to_string(), customer.name.clone()),
        ("电话".to_string(), customer.phone.clone()),
        ("地址".to_string(), format!("{} {}", customer.region_name, customer.address)),
    ];
    if let Some(d) = &device {
        lines.push(("设备".into(), format!("{} {} · 序列号 {}", d.model_code, d.model_name, d.serial_number)));
        lines.push(("销售日期".into(), d.sale_date.clone()));
    }
    lines.extend([
        ("服务站".to_string(), station.clone().unwrap_or_else(|| "—".into())),
        ("工程师".to_string(), engineer.clone().unwrap_or_else(|| "—".into())),
        ("报修时间".to_string(), when(Some(request.as_ref().map(|r| r.created_at).unwrap_or(w.created_at)))),
        ("到场时间".to_string(), when(w.checked_in_at)),
        ("完工时间".to_string(), when(w.completed_at)),
        ("故障描述".to_string(), w.description.clone()),
        ("故障代码".to_string(), w.fault_code.clone().unwrap_or_else(|| "—".into())),
        ("故障原因".to_string(), w.cause.clone().unwrap_or_else(|| "—".into())),
        ("处理结果".to_string(), w.work_done.clone().unwrap_or_else(|| "—".into())),
        ("工时".to_string(), w.labour_minutes.map(|m| format!("{m} 分钟")).unwrap_or_else(|| "—".into())),
        ("客户确认".to_string(), if w.customer_confirmed { "已确认服务完成" } else { "未确认" }.to_string()),
    ]);
    let r = crate::reports::Report {
        organisation: org.clone(),
        title: "服务报告".into(),
        draft: (w.completed_at.is_none()).then(|| "草稿".to_string()),
        lines,
        parts_title: "使用备件".into(),
        parts: parts
            .iter()
            .map(|p| {
                let serials = match (&p.old_serial, &p.new_serial) {
                    (Some(o), Some(n)) => format!("（旧件 {o} → 新件 {n}）"),
                    (None, Some(n)) => format!("（新件 {n}）"),
                    (Some(o), None) => format!("（旧件 {o}）"),
                    (None, None) => String::new(),
                };
                format!("{} {} × {}{serials}", p.part_code, p.part_name, p.quantity)
            })
            .collect(),
        photos_title: "现场照片".into(),
        photos: files
            .iter()
            .filter(|(m, _)| m.purpose != "signature")
            .map(|(m, b)| (if m.purpose == "before" { "维修前" } else { "维修后" }.to_string(), b.clone()))
            .collect(),
        signature_title: "客户签字".into(),
        signature: files.iter().rev().find(|(m, _)| m.purpose == "signature").map(|(_, b)| b.clone()),
        footer: format!("{} · 生成于 {}", w.number, crate::rfc3339_local(crate::instant(app.now())?)),
    };
    let pdf = crate::reports::service_report_pdf(&r)?;
    Ok((format!("{}.pdf", w.number), pdf))
}

/// File a completed visit's service report on its request, once across instances: the report as
/// anyone reading the request may see it (the customer masked), an attachment on the request's
/// timeline. Answers the attachment filed here (`None`: nothing to file, or filed already).
#[tracing::instrument(skip_all)]
pub async fn file_report(app: &App, id: i64) -> Result<Option<i64>> {
    let (data, stored) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let Some(w) = store::get(&mut c, id).await? else { return Ok(None) };
        if w.completed_at.is_none()
            || w.service_request_id.is_none()
            || store::report_attachment(&mut c, id).await?.is_some()
        {
            return Ok(None);
        }
        let stored = customers::get_customer(&mut c, &app.keys, w.customer_id).await?.ok_or(AppError::NotFound)?;
        (report_data(&mut c, app, w).await?, stored)
    };
    let Some(request_id) = data.w.service_request_id else { return Ok(None) };
    let (name, pdf) = render_report(app, &data, &crate::customers::view(stored, false))?;
    let name = format!("服务报告 {name}");
    let sha = crate::secrets::sha256_hex(&pdf);
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let event_data = json!({"sha256": sha, "size": pdf.len(), "content_type": "application/pdf", "work_order_id": id});
    let event_data = event_data.to_string();
    let event = requests::NewEvent {
        request_id,
        at: now,
        actor_id: None,
        actor_name: "system",
        kind: "attachment",
        action: None,
        from_status: None,
        to_status: None,
        note: &name,
        data: &event_data,
    };
    let event_id = requests::insert_event(&mut c, &event).await?;
    let new = requests::NewAttachment {
        request_id,
        event_id: Some(event_id),
        file_name: &name,
        content_type: "application/pdf",
        sha256: &sha,
        content: &pdf,
        created_by: None,
    };
    let att = requests::insert_attachment(&mut c, &new, now).await?;
    if !store::set_report_attachment(&mut c, id, att).await? {
        return Ok(None);
    }
    shouhou_store::audit::append(
        &mut c,
        &app.keys,
        shouhou_store::audit::Event {
            at_ms: now,
            actor_id: None,
            actor_name: "system".into(),
            action: "work_order.report_filed".into(),
            entity: "service_request".into(),
            entity_id: Some(request_id.to_string()),
            detail: json!({"work_order_id": id, "number": data.w.number, "attachment_id": att, "sha256": sha})
                .to_string(),
            source: "app".into(),
            request_id: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(att))
}

fn kind_words(k: Kind) -> &'static str {
    match k {
        Kind::Repair => "故障维修",
        Kind::Installation => "安装调试",
        Kind::Inspection => "例行检查",
        Kind::Maintenance => "保养",
    }
}

// ---------- leave and the dispatch settings ----------

/// A day an engineer is away.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LeaveDay {
    /// YYYY-MM-DD
    pub day: String,
    #[serde(default)]
    pub reason: String,
}

/// Replace an engineer's leave from today on with `days` (past days stay as they were).
#[tracing::instrument(skip_all)]
pub async fn set_leave(app: &App, ctx: &Ctx, user: i64, days: &[LeaveDay]) -> Result<Vec<LeaveDay>> {
    let actor = ctx.require_read(Permission::UserRead)?;
    let today = business_day(crate::instant(app.now())?);
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // Who may, before what they sent is judged: a refusal reveals nothing.
    let u = shouhou_store::users::get_user(&mut c, UserId(user)).await?.ok_or(AppError::NotFound)?;
    if !matches!(actor.scope, shouhou_domain::auth::Scope::All) && !u.stations.iter().any(|s| actor.scope.allows(*s)) {
        return Err(AppError::NotFound);
    }
    if !(actor.can(Permission::UserWrite) || actor.can(Permission::Assign)) {
        return Err(AppError::Forbidden);
    }
    let mut e = ValidationErrors::default();
    let mut list = vec![];
    for d in days {
        match d.day.trim().parse::<jiff::civil::Date>() {
            Ok(day) if day >= today => {
                let reason = e.take(optional_text("reason", Some(&d.reason), 100)).flatten().unwrap_or_default();
                list.push(LeaveDay { day: day.to_string(), reason });
            }
            Ok(_) => e.push("day", "in_past"),
            Err(_) => e.push("day", "invalid_date"),
        }
    }
    e.into_result()?;
    list.sort_by(|a, b| a.day.cmp(&b.day));
    list.dedup_by(|a, b| a.day == b.day);
    for (day, _) in store::leave_of(&mut c, UserId(user), &today.to_string()).await? {
        store::set_leave(&mut c, UserId(user), &day, None).await?;
    }
    for d in &list {
        store::set_leave(&mut c, UserId(user), &d.day, Some(&d.reason)).await?;
    }
    record(
        &mut c,
        app,
        ctx,
        "user.leave",
        "user",
        Some(user.to_string()),
        json!({"days": list.iter().map(|d| &d.day).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// An engineer's skills and leave from today on, for the people who plan their work.
pub async fn field_profile(app: &App, ctx: &Ctx, user: i64) -> Result<(Vec<String>, Vec<LeaveDay>)> {
    let actor = ctx.require_read(Permission::UserRead)?;
    let today = business_day(crate::instant(app.now())?);
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let u = shouhou_store::users::get_user(&mut c, UserId(user)).await?.ok_or(AppError::NotFound)?;
    if !matches!(actor.scope, shouhou_domain::auth::Scope::All) && !u.stations.iter().any(|s| actor.scope.allows(*s)) {
        return Err(AppError::NotFound);
    }
    let skills = store::skills_of(&mut c, UserId(user)).await?;
    let leave = store::leave_of(&mut c, UserId(user), &today.to_string())
        .await?
        .into_iter()
        .map(|(day, reason)| LeaveDay { day, reason })
        .collect();
    Ok((skills, leave))
}

/// A station's coverage, for the page that edits it.
pub async fn coverage_of(app: &App, ctx: &Ctx, station: i64) -> Result<Vec<String>> {
    ctx.require_read(Permission::StationRead)?;
    let mut rd = app.db.read().await?;
    Ok(store::coverage(&mut rd.conn(), StationId(station)).await?)
}

/// The dispatch settings as they stand.
pub async fn dispatch_rules(app: &App, ctx: &Ctx) -> Result<DispatchRules> {
    ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    rules(&mut rd.conn()).await
}

/// Replace the dispatch settings (an administrator's): targets and deadlines of 1 minute to a
/// day, weights not negative.
#[tracing::instrument(skip_all)]
pub async fn set_dispatch_rules(app: &App, ctx: &Ctx, r: &DispatchRules) -> Result<DispatchRules> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    let minutes = |m: i64| (1..=24 * 60).contains(&m);
    if !minutes(r.arrange_minutes) {
        e.push("arrange_minutes", "out_of_range");
    }
    if !r.station_accept_minutes.iter().all(|m| minutes(*m)) {
        e.push("station_accept_minutes", "out_of_range");
    }
    if !r.engineer_accept_minutes.iter().all(|m| minutes(*m)) {
        e.push("engineer_accept_minutes", "out_of_range");
    }
    let w = &r.weights;
    if [w.coverage, w.station_load, w.distance, w.engineer_load].iter().any(|x| *x < 0 || *x > 1_000_000_000) {
        e.push("weights", "out_of_range");
    }
    e.into_result()?;
    let mut r = r.clone();
    r.automatic.sort();
    r.automatic.dedup();
    let text = serde_json::to_string(&r).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    settings::put(&mut c, "dispatch", &text).await?;
    record(
        &mut c,
        app,
        ctx,
        "settings.dispatch",
        "settings",
        Some("dispatch".into()),
        serde_json::to_value(&r).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// The product lines of the catalogue, for the pages that certify engineers.
pub async fn product_lines(app: &App, ctx: &Ctx) -> Result<Vec<String>> {
    ctx.require_read(Permission::BackOffice)?;
    let mut rd = app.db.read().await?;
    Ok(shouhou_store::products::product_lines(&mut rd.conn()).await?)
}

#[cfg(test)]
mod photo_tests {
    /// A JPEG whose only content is an EXIF block with DateTimeOriginal `2025:05:01 09:00:00`.
    pub(crate) fn jpeg_taken_on_1_may() -> Vec<u8> {
        let mut tiff = vec![];
        tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
        // IFD0: one entry, the pointer to the Exif IFD at 26.
        tiff.extend_from_slice(&[0, 1, 0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
        // Exif IFD: DateTimeOriginal, 20 ASCII bytes at 44.
        tiff.extend_from_slice(&[0, 1, 0x90, 0x03, 0, 2, 0, 0, 0, 20, 0, 0, 0, 44, 0, 0, 0, 0]);
        tiff.extend_from_slice(b"2025:05:01 09:00:00\0");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).unwrap_or(0).to_be_bytes();
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, len[0], len[1]];
        jpeg.extend_from_slice(&app1);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg
    }

    #[test]
    fn a_photo_says_when_it_was_taken() {
        let t = super::photo_taken_at(&jpeg_taken_on_1_may());
        assert_eq!(t.map(|t| t.to_string()), Some("2025-05-01T01:00:00Z".to_string()), "09:00 in China");
        assert_eq!(super::photo_taken_at(b"\x89PNG\r\n\x1a\n"), None);
    }
}
