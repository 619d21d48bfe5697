//! The customer portal (客户自助, no account): report a fault from a device's QR code or from the
//! web, track a request by its number and the phone it was registered with, confirm its
//! completion, see a device's warranty. Nothing here acts for a user: every use case does exactly
//! one thing a customer may do, proven by a link the server signed or by the number and the phone,
//! writes the timeline and the audit trail as `portal`, and never answers whether a number exists.
use crate::audit::{PORTAL, record_portal};
use crate::requests::{Registered, day_counter, stored_tier};
use crate::sla::{clocks_now, policy_for};
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Scope, throttle_source};
use shouhou_domain::customers::Phone;
use shouhou_domain::entitlement::Coverage;
use shouhou_domain::ids::StationId;
use shouhou_domain::mask::{mask_name, mask_phone};
use shouhou_domain::portal::{
    MAX_PHOTOS, PublicStep, REPORT_MAX_PER_SOURCE, REPORT_WINDOW_MS, TRACK_MAX_FAILURES_PER_NUMBER,
    TRACK_MAX_FAILURES_PER_SOURCE, TRACK_WINDOW_MS, parse_link_token, public_step, request_number,
};
use shouhou_domain::requests::{Action, Channel, RequestType, Status, Urgency, business_day, format_request_number};
use shouhou_store::customers::Customer;
use shouhou_store::devices::Device;
use shouhou_store::portal::{self, NewPortalReport};
use shouhou_store::requests::{self, NewAttachment, NewEvent, NewRequest, SlaCache};
use shouhou_store::{Conn, customers, devices};

/// What the portal shows of a device: model, serial and warranty; never its owner.
#[derive(Debug, Clone)]
pub struct PortalDevice {
    pub id: i64,
    pub model_code: String,
    pub model_name: String,
    pub serial_number: String,
    pub coverage: Coverage,
    /// The last covered day.
    pub warranty_until: jiff::civil::Date,
}

async fn portal_device(app: &App, c: &mut Conn<'_>, d: &Device) -> Result<PortalDevice> {
    let e = crate::devices::entitlement_on(c, d, crate::devices::today(app)).await?;
    Ok(PortalDevice {
        id: d.id,
        model_code: d.model_code.clone(),
        model_name: d.model_name.clone(),
        serial_number: d.serial_number.clone(),
        coverage: e.coverage,
        warranty_until: e.warranty_until,
    })
}

/// The device behind a QR link token `{id}-{tag}`: 404 unless the server made the tag.
async fn device_of_token(app: &App, c: &mut Conn<'_>, token: &str) -> Result<Device> {
    let (id, tag) = parse_link_token(token).ok_or(AppError::NotFound)?;
    let expected = app.keys.link_tag("device", &id.to_string());
    let same =
        expected.len() == tag.len() && expected.bytes().zip(tag.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if !same {
        return Err(AppError::NotFound);
    }
    devices::get_device(c, &app.keys, id).await?.ok_or(AppError::NotFound)
}

/// The device a QR link opens, as its report page shows it.
#[tracing::instrument(skip_all)]
pub async fn device_for_link(app: &App, token: &str) -> Result<PortalDevice> {
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let d = device_of_token(app, &mut c, token).await?;
    portal_device(app, &mut c, &d).await
}

/// A photo as sent.
#[derive(Debug, Clone)]
pub struct Photo {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A fault reported from the web portal, by someone the service may not know yet.
#[derive(Debug, Clone, Default)]
pub struct ReportForm {
    pub name: String,
    pub phone: String,
    /// GB/T 2260 code; asked when the phone is not a customer's yet.
    pub region_code: String,
    pub address: String,
    /// consultation repair installation maintenance (blank: repair).
    pub request_type: String,
    pub description: String,
    /// The model and serial as the customer reads them off the device; optional.
    pub model: String,
    pub serial_number: String,
}

/// The checked photos: at most [`MAX_PHOTOS`], each a picture passing the attachment checks.
fn checked_photos(e: &mut ValidationErrors, photos: &[Photo]) -> Vec<(String, &'static str)> {
    if photos.len() > MAX_PHOTOS {
        e.0.push(shouhou_domain::FieldError::with_limit("photo", "too_many", MAX_PHOTOS));
        return vec![];
    }
    photos.iter().filter_map(|p| e.take(shouhou_domain::portal::photo("photo", &p.file_name, &p.bytes))).collect()
}

fn portal_type(e: &mut ValidationErrors, s: &str) -> Option<RequestType> {
    let t = e.take(RequestType::parse("type", if s.trim().is_empty() { "repair" } else { s.trim() }))?;
    match t {
        RequestType::Repair | RequestType::Consultation | RequestType::Installation | RequestType::Maintenance => {
            Some(t)
        }
        _ => {
            e.push("type", "invalid_choice");
            None
        }
    }
}

/// Count a report from this client; refused past [`REPORT_MAX_PER_SOURCE`] an hour.
async fn count_report(app: &App, ctx: &Ctx) -> Result<()> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let a =
        portal::count_attempt(&mut tx.conn(), "report_source", &throttle_source(&ctx.source), now, REPORT_WINDOW_MS)
            .await?;
    tx.commit().await?;
    if a.number > REPORT_MAX_PER_SOURCE {
        tracing::warn!(source = %ctx.source, "portal reports throttled");
        return Err(AppError::Throttled {
            retry_after_secs: (a.window_start + REPORT_WINDOW_MS - now).max(1000) / 1000,
        });
    }
    Ok(())
}

/// Report a fault of the device a QR code names (channel `qr_code`). The request goes to the
/// device's customer; the phone given is recorded as the contact and compared with the customer's
/// phones through the blind index: a phone not on record is accepted and flagged for the agent,
/// and the answer is the same either way. Of the form, the phone, name (optional), type and
/// description count; the device says the rest.
#[tracing::instrument(skip_all)]
pub async fn report_from_link(
    app: &App,
    ctx: &Ctx,
    token: &str,
    f: &ReportForm,
    photos: &[Photo],
) -> Result<Registered> {
    {
        let mut rd = app.db.read().await?;
        device_of_token(app, &mut rd.conn(), token).await?;
    }
    let mut e = ValidationErrors::default();
    let phone = e.take(Phone::parse("phone", &f.phone));
    let name =
        e.take(shouhou_domain::text::optional_text("name", Some(&f.name), 50)).flatten().filter(|n| !n.is_empty());
    let rtype = portal_type(&mut e, &f.request_type);
    let desc = e.take(shouhou_domain::requests::description("description", &f.description));
    let checked = checked_photos(&mut e, photos);
    let (Some(phone), Some(rtype), Some(desc)) = (phone, rtype, desc) else { return Err(e.into()) };
    e.into_result()?;
    count_report(app, ctx).await?;

    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let device = device_of_token(app, &mut c, token).await?;
    let customer = customers::get_customer(&mut c, &app.keys, device.customer_id).await?.ok_or(AppError::NotFound)?;
    let on_record =
        portal::phone_belongs_to_customer(&mut c, customer.id, &app.keys.blind_index(phone.as_str())).await?;
    let reg = register(
        app,
        ctx,
        &mut c,
        Intake {
            customer: &customer,
            device: Some(&device),
            channel: Channel::QrCode,
            rtype,
            description: &desc,
            phone: &phone,
            name: name.as_deref(),
            phone_on_record: on_record,
            photos: photos.iter().zip(checked).map(|(p, (n, k))| (n, k, p.bytes.as_slice())).collect(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(reg)
}

/// Report from the web portal without a device (channel `web`): the request goes to the customer
/// whose phone (or a contact's) this is, else to a new customer made of what was given. A model
/// and serial that name a device of that customer link it; otherwise they stay in the
/// description for the agent.
#[tracing::instrument(skip_all)]
pub async fn report(app: &App, ctx: &Ctx, f: &ReportForm, photos: &[Photo]) -> Result<Registered> {
    let mut e = ValidationErrors::default();
    let phone = e.take(Phone::parse("phone", &f.phone));
    let name = e.take(shouhou_domain::text::required_text("name", &f.name, 50));
    let rtype = portal_type(&mut e, &f.request_type);
    let desc = e.take(shouhou_domain::requests::description("description", &f.description));
    let model = e.take(shouhou_domain::text::optional_text("model", Some(&f.model), 64)).flatten().unwrap_or_default();
    let serial = match f.serial_number.trim() {
        "" => Some(None),
        s => e.take(shouhou_domain::devices::SerialNumber::parse("serial_number", s)).map(Some),
    };
    let checked = checked_photos(&mut e, photos);
    let (Some(phone), Some(name), Some(rtype), Some(desc), Some(serial)) = (phone, name, rtype, desc, serial) else {
        return Err(e.into());
    };
    e.into_result()?;

    let known = {
        let mut rd = app.db.read().await?;
        customers::customers_by_phone(&mut rd.conn(), &app.keys, phone.as_str(), &Scope::All).await?.into_iter().next()
    };
    // A new customer is checked like one registered at the desk: the region and address are needed.
    let new_customer = match known {
        Some(_) => None,
        None => Some(crate::customers::validate_customer(&crate::customers::CustomerForm {
            name: name.clone(),
            phone: f.phone.clone(),
            region_code: f.region_code.clone(),
            address: f.address.clone(),
            ..Default::default()
        })?),
    };
    count_report(app, ctx).await?;

    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let customer = match &new_customer {
        None => customers::customers_by_phone(&mut c, &app.keys, phone.as_str(), &Scope::All)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound)?,
        Some(v) => {
            let region = v.region.code();
            let id = customers::insert_customer(&mut c, &app.keys, &v.to_new(&region, None, None), app.now()).await?;
            record_portal(
                &mut c,
                app,
                ctx,
                "customer.create",
                "customer",
                Some(id.to_string()),
                json!({"kind": v.kind, "name": v.name_mask, "phone": v.phone_mask, "via": "portal"}),
            )
            .await?;
            customers::get_customer(&mut c, &app.keys, id).await?.ok_or(AppError::NotFound)?
        }
    };
    let device = match &serial {
        Some(s) => devices::devices_by_serial(&mut c, &app.keys, s.as_str())
            .await?
            .into_iter()
            .find(|d| d.customer_id == customer.id),
        None => None,
    };
    let desc = match (&device, serial.as_ref().map(|s| s.as_str()), model.as_str()) {
        (None, Some(s), m) => format!("{desc}\n\n[{m} {s}]"),
        (None, None, m) if !m.is_empty() => format!("{desc}\n\n[{m}]"),
        _ => desc,
    };
    let reg = register(
        app,
        ctx,
        &mut c,
        Intake {
            customer: &customer,
            device: device.as_ref(),
            channel: Channel::Web,
            rtype,
            description: &desc,
            phone: &phone,
            name: Some(&name),
            phone_on_record: true,
            photos: photos.iter().zip(checked).map(|(p, (n, k))| (n, k, p.bytes.as_slice())).collect(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(reg)
}

struct Intake<'a> {
    customer: &'a Customer,
    device: Option<&'a Device>,
    channel: Channel,
    rtype: RequestType,
    description: &'a str,
    phone: &'a Phone,
    name: Option<&'a str>,
    phone_on_record: bool,
    /// (file name, content type, bytes), checked.
    photos: Vec<(String, &'static str, &'a [u8])>,
}

fn portal_event<'a>(id: i64, now: i64, kind: &'a str, note: &'a str) -> NewEvent<'a> {
    NewEvent {
        request_id: id,
        at: now,
        actor_id: None,
        actor_name: PORTAL,
        kind,
        action: None,
        from_status: None,
        to_status: None,
        note,
        data: "{}",
    }
}

/// Register the request in the caller's transaction as the desk does (policy, gap-free number,
/// SLA clocks running from now), with its photos and the portal's record, audited as `portal`.
async fn register(app: &App, ctx: &Ctx, c: &mut Conn<'_>, i: Intake<'_>) -> Result<Registered> {
    let now = app.now();
    shouhou_store::sla::hold_sla_config(c, false).await?;
    let station = i.device.and_then(|d| d.station_id).or(i.customer.station_id);
    let urgency = Urgency::Normal;
    let policy = policy_for(c, i.rtype, urgency, stored_tier(&i.customer.tier)?, station.map(StationId)).await?;
    let day = business_day(crate::instant(now)?);
    let number = format_request_number(day, day_counter(c, &day.to_string()).await?);
    let id = requests::insert_request(
        c,
        &NewRequest {
            number: &number,
            customer_id: i.customer.id,
            device_id: i.device.map(|d| d.id),
            request_type: i.rtype.as_str(),
            channel: i.channel.as_str(),
            urgency: urgency.as_str(),
            status: Status::New.as_str(),
            description: i.description,
            fault_code: None,
            station_id: station,
            assignee_id: None,
            created_by: None,
            promised_reply_at: None,
            calendar_code: &policy.calendar_code,
            policy_id: Some(policy.id),
            response_target_min: policy.response_minutes,
            resolution_target_min: policy.resolution_minutes,
        },
        now,
    )
    .await?;
    let phone_mask = mask_phone(i.phone.as_str());
    let data = json!({"number": number, "policy": policy.name, "portal": {"contact_phone": phone_mask, "phone_on_record": i.phone_on_record}})
        .to_string();
    requests::insert_event(
        c,
        &NewEvent { to_status: Some("new"), data: &data, ..portal_event(id, now, "created", "") },
    )
    .await?;
    let name_mask = i.name.map(mask_name);
    portal::insert_report(
        c,
        &app.keys,
        &NewPortalReport {
            service_request_id: id,
            device_id: i.device.map(|d| d.id),
            contact_name: i.name.zip(name_mask.as_deref()),
            contact_phone: i.phone.as_str(),
            contact_phone_mask: &phone_mask,
            phone_on_record: i.phone_on_record,
            source: &ctx.source,
        },
        now,
    )
    .await?;
    for (name, kind, bytes) in &i.photos {
        let sha = crate::secrets::sha256_hex(bytes);
        let data = json!({"sha256": sha, "size": bytes.len(), "content_type": kind}).to_string();
        let event_id =
            requests::insert_event(c, &NewEvent { data: &data, ..portal_event(id, now, "attachment", name) }).await?;
        requests::insert_attachment(
            c,
            &NewAttachment {
                request_id: id,
                event_id: Some(event_id),
                file_name: name,
                content_type: kind,
                sha256: &sha,
                content: bytes,
                created_by: None,
            },
            now,
        )
        .await?;
    }
    let r = requests::get_request(c, id).await?.ok_or(AppError::NotFound)?;
    let cache = SlaCache::from(clocks_now(c, &r, now).await?.figures());
    requests::update_status(c, id, r.version, Status::New.as_str(), None, None, &cache, now).await?;
    record_portal(
        c,
        app,
        ctx,
        "request.create",
        "service_request",
        Some(id.to_string()),
        json!({"number": number, "customer_id": i.customer.id, "type": i.rtype.as_str(), "channel": i.channel.as_str(),
               "photos": i.photos.len(), "phone_on_record": i.phone_on_record}),
    )
    .await?;
    Ok(Registered { id, number })
}

// ---------- tracking ----------

/// One step of the customer's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: jiff::Timestamp,
    pub step: PublicStep,
}

/// What a customer sees of their request.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub number: String,
    pub status: Status,
    pub request_type: RequestType,
    pub channel: Channel,
    pub created_at: jiff::Timestamp,
    pub timeline: Vec<TimelineEntry>,
    pub device: Option<PortalDevice>,
    /// Resolved: the customer may confirm the completion.
    pub can_confirm: bool,
    /// Its return visit is open: the customer may rate the service (the satisfaction survey).
    pub can_rate: bool,
}

/// The request `number` if `phone` is one it was registered with, through the throttle: every
/// look-up is counted first, per client address and per number, and one that succeeds gives its
/// count back, so only failures add up; past the limit even the right phone is refused until the
/// window ends. A wrong phone and an unknown number are the same `NotFound`.
async fn verified(app: &App, ctx: &Ctx, number: &str, phone: &str) -> Result<shouhou_domain::requests::Request> {
    throttled(app, ctx, number, phone, |number, idx| async move {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        Ok(match requests::request_by_number(&mut c, &number).await? {
            Some(r) if portal::phone_belongs_to_request(&mut c, r.id, r.customer_id, &idx).await? => Some(r),
            _ => None,
        })
    })
    .await
}

/// The throttled look-up behind every "number and phone" proof: the number (upper-cased) and the
/// phone's blind index go to `find`, which answers the record if the phone is one of its own.
async fn throttled<T, F, Fut>(app: &App, ctx: &Ctx, number: &str, phone: &str, find: F) -> Result<T>
where
    F: FnOnce(String, String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let mut e = ValidationErrors::default();
    let number = e.take(request_number("number", number));
    if phone.trim().is_empty() {
        e.push("phone", "required");
    }
    let Some(number) = number else { return Err(e.into()) };
    e.into_result()?;
    let source = throttle_source(&ctx.source);
    let now = app.now();
    let (by_source, by_number) = {
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let s = portal::count_attempt(&mut c, "track_source", &source, now, TRACK_WINDOW_MS).await?;
        let n = portal::count_attempt(&mut c, "track_number", &number, now, TRACK_WINDOW_MS).await?;
        tx.commit().await?;
        (s, n)
    };
    let over = [(by_source, TRACK_MAX_FAILURES_PER_SOURCE), (by_number, TRACK_MAX_FAILURES_PER_NUMBER)]
        .into_iter()
        .filter(|(a, limit)| a.number > *limit)
        .map(|(a, _)| (a.window_start + TRACK_WINDOW_MS - now).max(1000) / 1000)
        .max();
    if let Some(retry_after_secs) = over {
        tracing::warn!(source = %ctx.source, "portal tracking throttled");
        return Err(AppError::Throttled { retry_after_secs });
    }
    let found = match Phone::parse("phone", phone) {
        Ok(p) => find(number.clone(), app.keys.blind_index(p.as_str())).await?,
        Err(_) => None,
    };
    let Some(found) = found else { return Err(AppError::NotFound) };
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    portal::give_back(&mut c, "track_source", &source).await?;
    portal::give_back(&mut c, "track_number", &number).await?;
    tx.commit().await?;
    Ok(found)
}

/// What a customer sees of their suggestion (建议): its status and the answer.
#[derive(Debug, Clone)]
pub struct TrackedSuggestion {
    pub number: String,
    /// product, service, other
    pub category: String,
    /// received, routed, under_study, adopted, declined
    pub status: String,
    pub answer: String,
    pub answered_at: Option<jiff::Timestamp>,
    pub created_at: jiff::Timestamp,
}

/// A suggestion by its number (`SG-…`) and its customer's phone, through the same throttle as
/// tracking a request; a suggestion of no known customer cannot be looked up.
#[tracing::instrument(skip_all)]
pub async fn suggestion(app: &App, ctx: &Ctx, number: &str, phone: &str) -> Result<TrackedSuggestion> {
    let s = throttled(app, ctx, number, phone, |number, idx| async move {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        Ok(match shouhou_store::complaints::suggestion_by_number(&mut c, &number).await? {
            Some(s) => match s.customer_id {
                Some(cid) if portal::phone_belongs_to_customer(&mut c, cid, &idx).await? => Some(s),
                _ => None,
            },
            None => None,
        })
    })
    .await?;
    Ok(TrackedSuggestion {
        number: s.number,
        category: s.category,
        status: s.status,
        answer: s.answer,
        answered_at: s.answered_at.map(crate::instant).transpose()?,
        created_at: crate::instant(s.created_at)?,
    })
}

async fn tracked(app: &App, r: shouhou_domain::requests::Request) -> Result<Tracked> {
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let events = requests::events_of(&mut c, r.id).await?;
    let mut timeline = vec![];
    for ev in &events {
        if let Some(step) = public_step(&ev.kind, ev.action.as_deref(), ev.to_status.as_deref(), &ev.note) {
            timeline.push(TimelineEntry { at: crate::instant(ev.at)?, step });
        }
    }
    let device = match r.device_id {
        Some(id) => match devices::get_device(&mut c, &app.keys, id).await? {
            Some(d) => Some(portal_device(app, &mut c, &d).await?),
            None => None,
        },
        None => None,
    };
    let can_rate = crate::return_visits::visit_open(&mut c, r.id).await?;
    Ok(Tracked {
        number: r.number,
        can_confirm: r.status == Status::Resolved,
        can_rate,
        status: r.status,
        request_type: r.request_type,
        channel: r.channel,
        created_at: r.created_at,
        timeline,
        device,
    })
}

/// A request as its customer sees it: status, the steps that are theirs to see, the device's
/// warranty.
#[tracing::instrument(skip_all)]
pub async fn track(app: &App, ctx: &Ctx, number: &str, phone: &str) -> Result<Tracked> {
    let r = verified(app, ctx, number, phone).await?;
    tracked(app, r).await
}

/// The customer confirms that a resolved request is done (`confirm`), recorded as `portal`.
#[tracing::instrument(skip_all)]
pub async fn confirm(app: &App, ctx: &Ctx, number: &str, phone: &str) -> Result<Tracked> {
    let r = verified(app, ctx, number, phone).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    shouhou_store::sla::hold_sla_config(&mut c, false).await?;
    let r = requests::get_request(&mut c, r.id).await?.ok_or(AppError::NotFound)?;
    let from = r.status;
    let to = from.apply(Action::Confirm)?;
    requests::insert_event(
        &mut c,
        &NewEvent {
            action: Some(Action::Confirm.as_str()),
            from_status: Some(from.as_str()),
            to_status: Some(to.as_str()),
            ..portal_event(r.id, now, "status", "")
        },
    )
    .await?;
    let cache = SlaCache::from(clocks_now(&mut c, &r, now).await?.figures());
    requests::update_status(&mut c, r.id, r.version, to.as_str(), None, None, &cache, now).await?;
    record_portal(
        &mut c,
        app,
        ctx,
        "request.transition",
        "service_request",
        Some(r.id.to_string()),
        json!({"number": r.number, "action": "confirm", "from": from.as_str(), "to": to.as_str()}),
    )
    .await?;
    tx.commit().await?;
    let r = requests::get_request(&mut app.db.read().await?.conn(), r.id).await?.ok_or(AppError::NotFound)?;
    tracked(app, r).await
}

/// The customer rates the service: a fresh single-use survey link for the request's open return
/// visit (the answer lands where the agent's would); answers its path.
#[tracing::instrument(skip_all)]
pub async fn rate(app: &App, ctx: &Ctx, number: &str, phone: &str) -> Result<String> {
    let r = verified(app, ctx, number, phone).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let link = crate::return_visits::survey_for_customer(&mut c, r.id, now).await?;
    record_portal(
        &mut c,
        app,
        ctx,
        "return_visit.survey_link",
        "service_request",
        Some(r.id.to_string()),
        json!({"number": r.number, "expires_at": link.expires_at}),
    )
    .await?;
    tx.commit().await?;
    Ok(link.url)
}

/// The phone a portal report gave and whether it is the customer's on record, for the agent.
pub use shouhou_store::portal::PortalReport;

/// The portal's record of request `id`, for a caller who may read the request.
pub async fn report_of(app: &App, ctx: &Ctx, id: i64) -> Result<Option<PortalReport>> {
    let actor = ctx.require_read(shouhou_domain::auth::Permission::RequestRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    crate::requests::request_in_scope(&mut c, actor, id).await?;
    Ok(portal::report_of(&mut c, id).await?)
}
