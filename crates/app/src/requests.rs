//! Service requests (服务请求): registration with a gap-free number, the lifecycle, assignment, reclassification, notes, the reads and the queues.
use crate::audit::record;
use crate::customers::{CustomerView, get_customer};
use crate::sla::calendar_or_default;
use crate::sla::clocks;
use crate::sla::clocks_now;
use crate::sla::event;
use crate::sla::policy_for;
use crate::{App, AppError, Ctx, Result};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::customers::CustomerTier;
use shouhou_domain::ids::StationId;
pub use shouhou_domain::requests::Request;
use shouhou_domain::requests::{
    Action, Channel, RequestType, Status, Urgency, business_day, description, format_request_number,
};
use shouhou_domain::sla::Clocks;
use shouhou_domain::sla::{ClockPhase, ClockStatus};
/// One entry of a request's timeline, as recorded.
pub use shouhou_store::requests::RequestEvent;
use shouhou_store::requests::{self, NewEvent, NewRequest, Queue, SlaCache};
use shouhou_store::sla::{self as sla_store};
use shouhou_store::{Conn, Page, PageRequest, customers, devices, return_visits};

// ---------- registration ----------

/// A service request as registered at the desk or through the API, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    pub customer_id: i64,
    pub serial_number: Option<String>,
    /// consultation repair installation maintenance upgrade delivery complaint suggestion return_exchange training
    #[serde(rename = "type")]
    pub request_type: String,
    /// phone email web chat wechat walk_in qr_code dealer
    pub channel: String,
    /// urgent high normal low (blank or null: normal)
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub urgency: String,
    pub description: String,
    pub fault_code: Option<String>,
    /// When the agent promises to reply (RFC 3339), for requests not solved at once.
    pub promised_reply_at: Option<String>,
    /// First-contact resolution: the agent solved it during the call; the note says how.
    pub resolve_now: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub id: i64,
    pub number: String,
}

#[tracing::instrument(skip_all)]
pub async fn create_request(app: &App, ctx: &Ctx, f: &RequestForm) -> Result<Registered> {
    let actor = ctx.require(Permission::RequestWrite)?;
    let mut e = ValidationErrors::default();
    let rtype = e.take(RequestType::parse("type", &f.request_type));
    let channel = e.take(Channel::parse("channel", &f.channel));
    let urgency = e.take(Urgency::parse("urgency", if f.urgency.trim().is_empty() { "normal" } else { &f.urgency }));
    let desc = e.take(description("description", &f.description));
    let fault = e.take(shouhou_domain::text::optional_text("fault_code", f.fault_code.as_deref(), 50));
    let promised = match f.promised_reply_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => match s.trim().parse::<Timestamp>() {
            Ok(t) if t.as_millisecond() > app.now() => Some(Some(t.as_millisecond())),
            Ok(_) => {
                e.push("promised_reply_at", "in_past");
                None
            }
            Err(_) => {
                e.push("promised_reply_at", "invalid_datetime");
                None
            }
        },
        None => Some(None),
    };
    let resolve_now = e.take(shouhou_domain::requests::note("resolve_now", f.resolve_now.as_deref().unwrap_or("")));
    let resolve_now = resolve_now.filter(|s| !s.is_empty());
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    sla_store::hold_sla_config(&mut c, false).await?;
    let customer = customers::get_customer_in_scope(&mut c, &app.keys, f.customer_id, &actor.scope).await?;
    if customer.is_none() {
        e.push("customer_id", "unknown_customer");
    }
    let device = match (f.serial_number.as_deref().map(str::trim).filter(|s| !s.is_empty()), &customer) {
        (Some(s), Some(cu)) => {
            let devices = devices::devices_by_serial(&mut c, &app.keys, &s.to_ascii_uppercase()).await?;
            match devices.into_iter().find(|d| d.customer_id == cu.id) {
                Some(d) => Some(Some(d)),
                None => {
                    e.push("serial_number", "unknown_serial");
                    None
                }
            }
        }
        _ => Some(None),
    };
    let (
        Some(rtype),
        Some(channel),
        Some(urgency),
        Some(desc),
        Some(fault),
        Some(promised),
        Some(customer),
        Some(device),
    ) = (rtype, channel, urgency, desc, fault, promised, customer, device)
    else {
        return Err(e.into());
    };
    e.into_result()?;

    let station = filing_station(&actor.scope, device.as_ref().and_then(|d| d.station_id).or(customer.station_id))?;
    let policy = policy_for(&mut c, rtype, urgency, stored_tier(&customer.tier)?, station.map(StationId)).await?;
    let day = business_day(crate::instant(now)?);
    let counter = day_counter(&mut c, &day.to_string()).await?;
    let number = format_request_number(day, counter);
    let status = if resolve_now.is_some() { Status::Resolved } else { Status::New };
    let new = NewRequest {
        number: &number,
        customer_id: customer.id,
        device_id: device.as_ref().map(|d| d.id),
        request_type: rtype.as_str(),
        channel: channel.as_str(),
        urgency: urgency.as_str(),
        status: Status::New.as_str(),
        description: &desc,
        fault_code: fault.as_deref(),
        station_id: station,
        assignee_id: None,
        created_by: Some(actor.id.0),
        promised_reply_at: promised,
        calendar_code: &policy.calendar_code,
        policy_id: Some(policy.id),
        response_target_min: policy.response_minutes,
        resolution_target_min: policy.resolution_minutes,
    };
    let id = requests::insert_request(&mut c, &new, now).await?;
    let data = json!({"number": number, "policy": policy.name}).to_string();
    requests::insert_event(
        &mut c,
        &NewEvent { to_status: Some("new"), data: &data, ..event(id, now, actor, "created", "") },
    )
    .await?;
    if let Some(note) = &resolve_now {
        requests::insert_event(
            &mut c,
            &NewEvent {
                action: Some(Action::Resolve.as_str()),
                from_status: Some("new"),
                to_status: Some(status.as_str()),
                data: r#"{"first_contact_resolution":true}"#,
                ..event(id, now, actor, "status", note)
            },
        )
        .await?;
    }
    let r = requests::get_request(&mut c, id).await?.ok_or(AppError::NotFound)?;
    let cache = SlaCache::from(clocks_now(&mut c, &r, now).await?.figures());
    requests::update_status(
        &mut c,
        id,
        r.version,
        status.as_str(),
        resolve_now.as_ref().map(|_| true),
        None,
        &cache,
        now,
    )
    .await?;
    crate::return_visits::after_step(&mut c, &r, status, now).await?;
    record(&mut c, app, ctx, "request.create", "service_request", Some(id.to_string()),
        json!({"number": number, "customer_id": customer.id, "type": rtype.as_str(), "first_contact_resolution": resolve_now.is_some()})).await?;
    tx.commit().await?;
    Ok(Registered { id, number })
}

/// The station a new request is filed at: its device's, else its customer's. A user never creates
/// what they cannot read: station staff file a request that would land outside their stations
/// (headquarters' customer, or one of another station they reach through a request at theirs) at
/// their own station when they have exactly one, and are refused otherwise.
fn filing_station(scope: &Scope, station: Option<i64>) -> Result<Option<i64>> {
    match (scope, station) {
        (Scope::All, s) => Ok(s),
        (s, Some(id)) if s.allows(StationId(id)) => Ok(Some(id)),
        (Scope::Stations(mine), _) if mine.len() == 1 => Ok(Some(mine[0].0)),
        _ => Err(ValidationErrors::single("customer_id", "outside_your_stations").into()),
    }
}

pub(crate) async fn day_counter(c: &mut Conn<'_>, day: &str) -> Result<u64> {
    let n = requests::next_counter(c, day).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

// ---------- lifecycle ----------

/// Request `id` for an actor who wants to change it, inside the command's transaction: 404 for
/// one who cannot read it (outside their stations) whether it exists or not, 403 for one who can
/// read it but may not change it. The callers take the actor with `require_read(RequestRead)`,
/// so one without even that right gets 404 too, and they check it before judging their input,
/// so a refusal reveals nothing.
pub(crate) async fn request_to_change(c: &mut Conn<'_>, actor: &crate::Actor, id: i64) -> Result<Request> {
    let r = request_in_scope(c, actor, id).await?;
    if actor.can(Permission::RequestWrite) { Ok(r) } else { Err(AppError::Forbidden) }
}

/// A request the actor may see; 404 for any other, whether it exists or not.
pub(crate) async fn request_in_scope(c: &mut Conn<'_>, actor: &crate::Actor, id: i64) -> Result<Request> {
    let r = requests::get_request(c, id).await?.ok_or(AppError::NotFound)?;
    if actor.scope.allows_opt(r.station_id) { Ok(r) } else { Err(AppError::NotFound) }
}

#[derive(Debug, Clone, Serialize)]
pub struct Transitioned {
    pub id: i64,
    pub status: String,
    pub version: i64,
}

/// Apply an action of the lifecycle with optimistic concurrency; an illegal one names the allowed.
#[tracing::instrument(skip_all)]
pub async fn transition(app: &App, ctx: &Ctx, id: i64, version: i64, action: &str, note: &str) -> Result<Transitioned> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let action = Action::parse("action", action).map_err(ValidationErrors::from)?;
    let note = shouhou_domain::requests::note("note", note).map_err(ValidationErrors::from)?;
    let note = note.as_str();
    if action == Action::Cancel && note.is_empty() {
        return Err(ValidationErrors::single("note", "reason_required").into());
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    sla_store::hold_sla_config(&mut c, false).await?;
    let r = request_to_change(&mut c, actor, id).await?;
    if r.version != version {
        return Err(AppError::Stale);
    }
    // A request is not resolved while one of its visits is still to be done or under way.
    if action == Action::Resolve {
        let visits = shouhou_store::work_orders::of_request(&mut c, id).await?;
        if visits.iter().any(|w| w.status.blocks_resolution()) {
            return Err(ValidationErrors::single("action", "work_order_open").into());
        }
    }
    // A request closes after its return visit: while one (or a follow-up) is open, only the visit
    // closes it.
    if action == Action::Close && return_visits::request_has_open_follow_up_or_visit(&mut c, id).await? {
        return Err(ValidationErrors::single("action", "return_visit_open").into());
    }
    let from = r.status;
    let to = from.apply(action)?;
    let v = apply_step(&mut c, &r, action, Some(actor.id.0), &actor.display_name, note, now).await?;
    crate::return_visits::after_step(&mut c, &r, to, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "request.transition",
        "service_request",
        Some(id.to_string()),
        json!({"number": r.number, "action": action.as_str(), "from": from.as_str(), "to": to.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Transitioned { id, status: to.as_str().to_string(), version: v })
}

/// Record a step of the lifecycle on request `r` (already checked: allowed from its status) and
/// store its new status and clock figures; answers the new version. The one place a step is
/// written, whether a person takes it or a return visit does.
pub(crate) async fn apply_step(
    c: &mut Conn<'_>,
    r: &Request,
    action: Action,
    actor_id: Option<i64>,
    actor_name: &str,
    note: &str,
    now: i64,
) -> Result<i64> {
    let from = r.status;
    let to = from.apply(action)?;
    requests::insert_event(
        c,
        &NewEvent {
            request_id: r.id,
            at: now,
            actor_id,
            actor_name,
            kind: "status",
            action: Some(action.as_str()),
            from_status: Some(from.as_str()),
            to_status: Some(to.as_str()),
            note,
            data: "{}",
        },
    )
    .await?;
    let cache = SlaCache::from(clocks_now(c, r, now).await?.figures());
    let closed_at = (!to.is_open()).then_some(now);
    let v = requests::update_status(c, r.id, r.version, to.as_str(), None, closed_at, &cache, now).await?;
    Ok(v)
}

/// Give a request to a person who may work on it (`None` gives it back to the queue); without a
/// user, the caller takes it.
#[tracing::instrument(skip_all)]
pub async fn assign(app: &App, ctx: &Ctx, id: i64, version: i64, user: Option<i64>) -> Result<Transitioned> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let r = request_to_change(&mut c, actor, id).await?;
    let assignee = match user {
        None => None,
        Some(uid) => {
            let u = shouhou_store::users::get_user(&mut c, shouhou_domain::ids::UserId(uid)).await?;
            let fits = u.as_ref().is_some_and(|u| {
                let a = crate::Actor::from_user(u);
                u.active && a.can(Permission::RequestWrite) && a.scope.allows_opt(r.station_id)
            });
            if !fits {
                return Err(ValidationErrors::single("user_id", "cannot_take_request").into());
            }
            u
        }
    };
    let v = requests::set_assignee(&mut c, id, version, assignee.as_ref().map(|u| u.id), now).await?;
    let who = assignee.as_ref().map(|u| u.display_name.clone()).unwrap_or_default();
    requests::insert_event(
        &mut c,
        &NewEvent {
            data: &json!({"assignee_id": assignee.as_ref().map(|u| u.id)}).to_string(),
            ..event(id, now, actor, "assign", &who)
        },
    )
    .await?;
    record(
        &mut c,
        app,
        ctx,
        "request.assign",
        "service_request",
        Some(id.to_string()),
        json!({"assignee_id": assignee.as_ref().map(|u| u.id)}),
    )
    .await?;
    tx.commit().await?;
    Ok(Transitioned { id, status: r.status.to_string(), version: v })
}

/// Change the type or urgency of an open request: the policy is chosen again and both clocks are
/// recomputed from the recorded events against the new targets, so paused time stays excluded and
/// nothing is counted twice.
#[tracing::instrument(skip_all)]
pub async fn reclassify(
    app: &App,
    ctx: &Ctx,
    id: i64,
    version: i64,
    request_type: Option<&str>,
    urgency: Option<&str>,
) -> Result<Transitioned> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    sla_store::hold_sla_config(&mut c, false).await?;
    let r = request_to_change(&mut c, actor, id).await?;
    let mut e = ValidationErrors::default();
    let rtype = match request_type {
        Some(t) => e.take(RequestType::parse("type", t)),
        None => Some(r.request_type),
    };
    let urg = match urgency {
        Some(u) => e.take(Urgency::parse("urgency", u)),
        None => Some(r.urgency),
    };
    if !r.status.is_open() {
        e.push("status", "request_closed");
    }
    let (Some(rtype), Some(urg)) = (rtype, urg) else { return Err(e.into()) };
    e.into_result()?;
    let customer = customers::get_customer(&mut c, &app.keys, r.customer_id).await?.ok_or(AppError::NotFound)?;
    let policy = policy_for(&mut c, rtype, urg, stored_tier(&customer.tier)?, r.station_id).await?;
    // A clock that has stopped keeps the target it was judged against: a response met in time
    // must not turn into a miss because the request became urgent afterwards.
    let before = clocks_now(&mut c, &r, now).await?;
    let stopped = |s: &ClockStatus| s.phase == ClockPhase::Stopped;
    let response_target = if stopped(&before.response) { r.response_target_min } else { policy.response_minutes };
    let resolution_target =
        if stopped(&before.resolution) { r.resolution_target_min } else { policy.resolution_minutes };
    let v = requests::reclassify(
        &mut c,
        id,
        version,
        rtype.as_str(),
        urg.as_str(),
        policy.id,
        &policy.calendar_code,
        response_target,
        resolution_target,
        now,
    )
    .await?;
    let data = json!({"from": {"type": r.request_type, "urgency": r.urgency}, "to": {"type": rtype.as_str(), "urgency": urg.as_str()}, "policy": policy.name}).to_string();
    requests::insert_event(&mut c, &NewEvent { data: &data, ..event(id, now, actor, "reclassify", &policy.name) })
        .await?;
    let updated = requests::get_request(&mut c, id).await?.ok_or(AppError::NotFound)?;
    let cache = SlaCache::from(clocks_now(&mut c, &updated, now).await?.figures());
    requests::set_sla(&mut c, id, &cache).await?;
    record(
        &mut c,
        app,
        ctx,
        "request.reclassify",
        "service_request",
        Some(id.to_string()),
        serde_json::from_str(&data).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(Transitioned { id, status: r.status.to_string(), version: v })
}

/// A note on the timeline (no status change).
pub async fn add_note(app: &App, ctx: &Ctx, id: i64, note: &str) -> Result<()> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    request_to_change(&mut c, actor, id).await?;
    let note = shouhou_domain::text::required_text("note", note, shouhou_domain::requests::NOTE_MAX)?;
    requests::insert_event(&mut c, &event(id, app.now(), actor, "note", &note)).await?;
    record(&mut c, app, ctx, "request.note", "service_request", Some(id.to_string()), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub request: Request,
    pub allowed_actions: Vec<&'static str>,
    pub clocks: Clocks,
    pub events: Vec<RequestEvent>,
    pub customer: CustomerView,
    /// The display name of the assignee, if any.
    pub assignee_name: Option<String>,
    pub device: Option<crate::devices::DeviceView>,
    pub attachments: Vec<requests::AttachmentMeta>,
}

#[tracing::instrument(skip_all)]
pub async fn get_request(app: &App, ctx: &Ctx, id: i64) -> Result<RequestDetail> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let (r, events, cal, device, attachments, assignee_name) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let r = request_in_scope(&mut c, actor, id).await?;
        let events = requests::events_of(&mut c, id).await?;
        let cal = calendar_or_default(&mut c, &r.calendar_code).await?;
        let device = match r.device_id {
            Some(d) => devices::get_device(&mut c, &app.keys, d).await?,
            None => None,
        };
        let attachments = requests::attachments_of(&mut c, id).await?;
        let assignee = match r.assignee_id {
            Some(u) => {
                shouhou_store::users::get_user(&mut c, shouhou_domain::ids::UserId(u)).await?.map(|u| u.display_name)
            }
            None => None,
        };
        (r, events, cal, device, attachments, assignee)
    };
    let customer = get_customer(app, ctx, r.customer_id).await?;
    let device = device.map(|d| crate::devices::device_view(d, crate::devices::today(app), !customer.masked));
    Ok(RequestDetail {
        clocks: clocks(&r, &events, &cal, app.now())?,
        allowed_actions: r.status.allowed_actions().iter().map(|a| a.as_str()).collect(),
        request: r,
        events,
        customer,
        assignee_name,
        device,
        attachments,
    })
}

/// The queue called `name` for `actor`: `mine`, `station`, `unassigned`, `due_soon` (due within
/// two hours), `breached`, or `all` (also the empty name).
pub(crate) fn queue_named(app: &App, actor: &crate::Actor, name: &str) -> Result<Queue> {
    Ok(match name.trim() {
        "mine" => Queue::Mine(actor.id.0),
        "station" => Queue::Station,
        "unassigned" => Queue::Unassigned,
        "due_soon" => Queue::DueBefore(app.now() + 2 * 3600 * 1000),
        "breached" => Queue::Breached,
        "" | "all" => Queue::AllOpen,
        _ => return Err(ValidationErrors::single("queue", "invalid_choice").into()),
    })
}

/// Queues of open requests, soonest due first.
pub async fn queue(app: &App, ctx: &Ctx, name: &str, page: PageRequest) -> Result<Page<Request>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let q = queue_named(app, actor, name)?;
    let mut rd = app.db.read().await?;
    Ok(requests::queue(&mut rd.conn(), &actor.scope, q, page).await?)
}

/// A customer's stored tier; one the rules do not know is a fault of the data.
pub(crate) fn stored_tier(tier: &str) -> Result<CustomerTier> {
    CustomerTier::parse("tier", tier).map_err(|_| AppError::Internal(format!("stored customer tier {tier:?}")))
}

// ---------- lists with names, start-page figures ----------

/// One line of a request list: the request with its customer (masked as the caller may see them;
/// a company's name is not personal data), its station and its handler by name.
#[derive(Debug, Clone)]
pub struct RequestListItem {
    pub request: Request,
    pub customer_name: String,
    pub customer_kind: String,
    pub station_name: Option<String>,
    pub assignee_name: Option<String>,
}

/// What a list shows by name: customers as the caller may see them (a company's name is not
/// personal data), stations and people by their display names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    pub customers: std::collections::HashMap<i64, (String, String)>,
    pub stations: std::collections::HashMap<i64, String>,
    pub users: std::collections::HashMap<i64, String>,
}

/// Names for a list: the customers' as `actor` may see them, the persons read in clear written to
/// the audit trail (`via`). The one place a list turns ids into names.
pub(crate) async fn names(
    app: &App,
    ctx: &Ctx,
    actor: &crate::Actor,
    via: &str,
    mut customer_ids: Vec<i64>,
    station_ids: impl IntoIterator<Item = i64>,
    user_ids: impl IntoIterator<Item = i64>,
) -> Result<Names> {
    use std::collections::HashMap;
    let clear = actor.can(Permission::PersonalDataRead) && actor.can(Permission::CustomerRead);
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let (found, stations_, users_) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let found = customers::customers_by_ids(&mut c, &app.keys, &customer_ids, &actor.scope).await?;
        let mut stations_ = HashMap::new();
        for sid in station_ids {
            if let std::collections::hash_map::Entry::Vacant(v) = stations_.entry(sid)
                && let Some(st) = shouhou_store::stations::get_station(&mut c, StationId(sid)).await?
            {
                v.insert(st.name);
            }
        }
        let mut users_ = HashMap::new();
        for uid in user_ids {
            if let std::collections::hash_map::Entry::Vacant(v) = users_.entry(uid)
                && let Some(u) = shouhou_store::users::get_user(&mut c, shouhou_domain::ids::UserId(uid)).await?
            {
                v.insert(u.display_name);
            }
        }
        (found, stations_, users_)
    };
    let persons: Vec<i64> = found.iter().filter(|c| c.kind != "company").map(|c| c.id).collect();
    if clear {
        crate::customers::log_clear_read(app, ctx, via, &persons).await?;
    }
    let customers_ = found
        .into_iter()
        .map(|c| {
            let v = crate::customers::view(c, clear);
            (v.id, (v.name, v.kind))
        })
        .collect();
    Ok(Names { customers: customers_, stations: stations_, users: users_ })
}

/// Names for these requests (see [`names`]).
pub(crate) async fn with_names(app: &App, ctx: &Ctx, via: &str, items: Vec<Request>) -> Result<Vec<RequestListItem>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let n = names(
        app,
        ctx,
        actor,
        via,
        items.iter().map(|r| r.customer_id).collect(),
        items.iter().filter_map(|r| r.station_id.map(|s| s.0)).collect::<Vec<_>>(),
        items.iter().filter_map(|r| r.assignee_id).collect::<Vec<_>>(),
    )
    .await?;
    Ok(items
        .into_iter()
        .map(|r| {
            let (customer_name, customer_kind) = n.customers.get(&r.customer_id).cloned().unwrap_or_default();
            RequestListItem {
                customer_name,
                customer_kind,
                station_name: r.station_id.and_then(|s| n.stations.get(&s.0).cloned()),
                assignee_name: r.assignee_id.and_then(|u| n.users.get(&u).cloned()),
                request: r,
            }
        })
        .collect())
}

/// A queue (see [`queue`]) with the names a person reads in a list.
pub async fn queue_listing(app: &App, ctx: &Ctx, name: &str, page: PageRequest) -> Result<Page<RequestListItem>> {
    let p = queue(app, ctx, name, page).await?;
    let items = with_names(app, ctx, "request_list", p.items).await?;
    Ok(Page { items, page: p.page, per_page: p.per_page, total: p.total })
}

/// The figures of a start page over the caller's scope: open requests by queue (due soon: within
/// two hours), registered and closed today (Asia/Shanghai).
pub async fn figures(app: &App, ctx: &Ctx) -> Result<requests::QueueFigures> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    const DAY: i64 = 86_400_000;
    const CST: i64 = 8 * 3_600_000;
    let day_start = (now + CST).div_euclid(DAY) * DAY - CST;
    let mut rd = app.db.read().await?;
    Ok(requests::figures(&mut rd.conn(), &actor.scope, actor.id.0, now + 2 * 3600 * 1000, day_start).await?)
}
