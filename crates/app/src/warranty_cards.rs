//! Warranty cards (三包卡): the station files one from a completed warranty work order; the
//! service administrator audits it (approve, reject, return for correction) with the flags the
//! audit raised; the faulty parts go back to the central warehouse, and an approved card is
//! payable once they have arrived and been inspected. Cards not filed in time are chased.
use crate::audit::record;
use crate::context::Actor;
use crate::{App, AppError, Ctx, Result};
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::entitlement::Coverage;
use shouhou_domain::requests::business_day;
use shouhou_domain::text::optional_text;
use shouhou_domain::warranty_cards::{
    self as rules, Action, Amounts, ClaimedPart, EarlierRepair, Facts, Flag, Inspection, PartLine, Rules, Status,
};
use shouhou_domain::work_orders::{Kind, WorkOrder};
use shouhou_store::warranty_cards::{self as store};
pub use shouhou_store::warranty_cards::{Card, CardEvent, CardPart, FaultyReturn, Overdue};
use shouhou_store::{Conn, devices, parts, requests};

/// The audit's rates and thresholds: the setting `warranty_card_rules`, else the defaults.
pub(crate) async fn card_rules(c: &mut Conn<'_>) -> Result<Rules> {
    match shouhou_store::settings::get(c, "warranty_card_rules").await? {
        None => Ok(Rules::default()),
        Some(raw) => {
            serde_json::from_str(&raw).map_err(|e| AppError::Internal(format!("setting warranty_card_rules: {e}")))
        }
    }
}

/// Whether a work order is warranty work: a repair or a maintenance visit of a device.
fn is_warranty_kind(w: &WorkOrder) -> bool {
    matches!(w.kind, Kind::Repair | Kind::Maintenance) && w.device_id.is_some()
}

/// At completion: record whether the device was in warranty that day (warranty work then wants
/// a card, and is chased when none is filed).
pub(crate) async fn judge_warranty_work(
    c: &mut Conn<'_>,
    app: &App,
    w: &WorkOrder,
    now: jiff::Timestamp,
) -> Result<()> {
    if !is_warranty_kind(w) {
        return Ok(());
    }
    let Some(d) = devices::get_device(c, &app.keys, w.device_id.unwrap_or_default()).await? else { return Ok(()) };
    let ent = crate::devices::entitlement_on(c, &d, business_day(now)).await?;
    store::set_under_warranty(c, w.id, ent.coverage == Coverage::InWarranty).await.map_err(Into::into)
}

/// A card with everything its page and the API show.
#[derive(Debug, Clone)]
pub struct CardDetail {
    pub card: Card,
    pub flags: Vec<Flag>,
    pub amounts: Amounts,
    pub parts: Vec<CardPart>,
    pub returns: Vec<FaultyReturn>,
    pub events: Vec<CardEvent>,
    /// Approved, and every faulty part that must come back has arrived and been inspected.
    pub payable: bool,
    /// What is paid: the claim less the parts the inspection did not confirm faulty.
    pub payable_fen: i64,
    /// What the caller may do to it now.
    pub actions: Vec<Action>,
    pub model_code: String,
    pub serial_number: String,
    /// The visit's photos (before and after the work).
    pub photos: Vec<shouhou_store::work_orders::FileMeta>,
}

fn decode_flags(card: &Card) -> Result<Vec<Flag>> {
    serde_json::from_str(&card.flags).map_err(|e| AppError::Internal(format!("card {}: flags: {e}", card.id)))
}

/// What an actor may do to a card in its status.
fn actions_for(actor: &Actor, card: &Card) -> Vec<Action> {
    let Ok(status) = Status::parse("status", &card.status) else { return vec![] };
    status
        .allowed_actions()
        .iter()
        .copied()
        .filter(|a| match a {
            Action::Resubmit => actor.can(Permission::WarrantyClaim),
            _ => actor.can(Permission::WarrantyAudit),
        })
        .collect()
}

async fn card_in_scope(c: &mut Conn<'_>, actor: &Actor, id: i64) -> Result<Card> {
    let card = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    if !actor.scope.allows_opt(card.station_id.map(shouhou_domain::ids::StationId)) {
        return Err(AppError::NotFound);
    }
    Ok(card)
}

async fn detail(c: &mut Conn<'_>, app: &App, actor: &Actor, card: Card) -> Result<CardDetail> {
    let flags = decode_flags(&card)?;
    let parts = store::parts_of(c, card.id).await?;
    let returns = store::returns_of(c, card.id).await?;
    let events = store::events_of(c, card.id).await?;
    let device = devices::get_device(c, &app.keys, card.device_id).await?.ok_or(AppError::NotFound)?;
    let (payable, payable_fen) = payment(&card, &parts, &returns);
    let amounts = Amounts {
        labour_fen: card.labour_fen,
        parts_fen: card.parts_fen,
        travel_fen: card.travel_fen,
        total_fen: card.total_fen,
    };
    let actions = actions_for(actor, &card);
    let photos = shouhou_store::work_orders::files_of(c, card.work_order_id)
        .await?
        .into_iter()
        .filter(|f| f.purpose == "before" || f.purpose == "after")
        .collect();
    Ok(CardDetail {
        photos,
        card,
        flags,
        amounts,
        parts,
        returns,
        events,
        payable,
        payable_fen,
        actions,
        model_code: device.model_code,
        serial_number: device.serial_number,
    })
}

/// Whether an approved card is payable now, and how much: the parts whose return the inspection
/// did not confirm faulty are not paid.
fn payment(card: &Card, parts: &[CardPart], returns: &[FaultyReturn]) -> (bool, i64) {
    let arrived = returns.iter().all(|r| r.status == "received");
    let deducted: i64 = returns
        .iter()
        .filter(|r| {
            r.inspection.as_deref().is_some_and(|i| Inspection::parse("inspection", i).is_ok_and(|i| !i.part_paid()))
        })
        .filter_map(|r| parts.iter().find(|p| p.id == r.card_part_id))
        .map(|p| p.price_fen * p.quantity)
        .sum();
    (card.status == Status::Approved.as_str() && arrived, card.total_fen - deducted)
}

/// A card, for anyone who may see its work order's station.
pub async fn get_card(app: &App, ctx: &Ctx, id: i64) -> Result<CardDetail> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let card = card_in_scope(&mut c, actor, id).await?;
    detail(&mut c, app, actor, card).await
}

/// The cards of the caller's stations: the audit queue first (submitted, flagged before clean,
/// oldest first), then returned ones, then decided ones.
pub async fn list_cards(
    app: &App,
    ctx: &Ctx,
    status: Option<&str>,
    station: Option<i64>,
    device: Option<i64>,
) -> Result<Vec<Card>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse("status", s)?.as_str().to_string()),
    };
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let f = store::Filter { status, station_id: station, device_id: device, limit: 500 };
    Ok(store::list(&mut c, &actor.scope, &f).await?)
}

/// The audit's look at a card: its flags and amounts, from the work order, the device and the
/// parts as they stand on the card.
async fn assess(c: &mut Conn<'_>, app: &App, w: &WorkOrder, card: &mut Card, parts: &[CardPart]) -> Result<()> {
    let rules = card_rules(c).await?;
    let device = devices::get_device(c, &app.keys, card.device_id).await?.ok_or(AppError::NotFound)?;
    let completed_at = w.completed_at.ok_or_else(|| AppError::Internal(format!("{} not completed", w.number)))?;
    let ids: Vec<i64> = parts.iter().filter_map(|p| p.part_id).collect();
    let fits = parts::models_of(c, &ids).await?;
    let mut claimed = vec![];
    let mut claimed_elsewhere = vec![];
    for p in parts {
        claimed.push(ClaimedPart {
            part_code: p.part_code.clone(),
            old_serial: p.old_serial.clone(),
            new_serial: p.new_serial.clone(),
            fits: fits.iter().filter(|(id, _)| Some(*id) == p.part_id).map(|(_, m)| m.clone()).collect(),
        });
        for (serial, old) in [(&p.old_serial, true), (&p.new_serial, false)] {
            if let Some(s) = serial
                && let Some(other) = store::claimed_elsewhere(c, card.id, s, old).await?
            {
                claimed_elsewhere.push((s.clone(), other));
            }
        }
    }
    let ts = |ms: i64| crate::instant(ms);
    let mut earlier = vec![];
    for (number, fault_code, at) in
        store::earlier_repairs(c, card.device_id, w.id, completed_at.as_millisecond()).await?
    {
        earlier.push(EarlierRepair { number, fault_code, completed_at: ts(at)? });
    }
    let mut photos = vec![];
    for f in shouhou_store::work_orders::files_of(c, w.id).await? {
        if f.purpose == "before" || f.purpose == "after" {
            // Judged by when the phone took it; a photo that did not say is not judged.
            if let Some(taken) = f.taken_at {
                photos.push((f.file_name, ts(taken)?));
            }
        }
    }
    let ent = crate::devices::entitlement_on(c, &device, business_day(completed_at)).await?;
    let coverage = match ent.coverage {
        Coverage::InWarranty => Ok(()),
        Coverage::Expired => Err(("expired".to_string(), ent.warranty_until)),
        Coverage::Void => Err(("void".to_string(), ent.warranty_until)),
    };
    let facts = Facts {
        model_code: device.model_code.clone(),
        fault_code: card.fault_code.clone(),
        labour_minutes: card.labour_minutes,
        parts: claimed,
        claimed_elsewhere,
        earlier_repairs: earlier,
        region_code: w.region_code.clone(),
        check_in: w.check_in_location,
        region_check_ins: store::region_check_ins(c, &w.region_code, w.id).await?,
        checked_in_at: w.checked_in_at,
        completed_at,
        photos,
        coverage,
    };
    let flags = rules::audit(&facts, &rules);
    let lines: Vec<PartLine> =
        parts.iter().map(|p| PartLine { price_fen: p.price_fen, quantity: p.quantity }).collect();
    let a = rules::amounts(&rules, card.labour_minutes, &lines);
    card.flag_count = flags.len() as i64;
    card.flags = serde_json::to_string(&flags).map_err(|e| AppError::Internal(e.to_string()))?;
    (card.labour_fen, card.parts_fen, card.travel_fen, card.total_fen) =
        (a.labour_fen, a.parts_fen, a.travel_fen, a.total_fen);
    Ok(())
}

fn card_event(
    card: &Card,
    now: i64,
    actor: &Actor,
    action: &str,
    from: Option<&str>,
    reason: &str,
    data: serde_json::Value,
) -> CardEvent {
    CardEvent {
        id: 0,
        card_id: card.id,
        at: now,
        actor_id: Some(actor.id.0),
        actor_name: actor.display_name.clone(),
        action: action.to_string(),
        from_status: from.map(str::to_string),
        to_status: card.status.clone(),
        reason: reason.to_string(),
        data: data.to_string(),
    }
}

/// The station files the card of a completed warranty work order: its parts with their serials
/// and prices, its flags and amounts; the faulty parts that must come back go on their way to the
/// central warehouse. One card per work order.
#[tracing::instrument(skip_all)]
pub async fn file_card(app: &App, ctx: &Ctx, work_order_id: i64) -> Result<CardDetail> {
    let actor = ctx.require(Permission::WarrantyClaim)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let w = match crate::work_orders::work_order_in_scope(c, actor, work_order_id).await {
        Err(AppError::NotFound) => return Err(ValidationErrors::single("work_order_id", "unknown_work_order").into()),
        r => r?,
    };
    let Some(device_id) = w.device_id.filter(|_| is_warranty_kind(&w)) else {
        return Err(ValidationErrors::single("work_order_id", "not_warranty_work").into());
    };
    let Some(completed_at) = w.completed_at.filter(|_| w.status.as_str() != "cancelled") else {
        return Err(ValidationErrors::single("work_order_id", "not_completed").into());
    };
    if store::of_work_order(c, w.id).await?.is_some() {
        return Err(AppError::Duplicate { field: "work_order_id".into() });
    }
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("SB {day}")).await?;
    let mut card = Card {
        id: 0,
        number: rules::format_number(day, counter as u64),
        work_order_id: w.id,
        work_order_number: w.number.clone(),
        station_id: w.station_id.map(|s| s.0),
        device_id,
        status: Status::Submitted.as_str().to_string(),
        fault_code: w.fault_code.clone().unwrap_or_default(),
        cause: w.cause.clone().unwrap_or_default(),
        labour_minutes: w.labour_minutes.unwrap_or(0),
        flags: "[]".into(),
        flag_count: 0,
        labour_fen: 0,
        parts_fen: 0,
        travel_fen: 0,
        total_fen: 0,
        reason: String::new(),
        submitted_at: now,
        reviewed_at: None,
        reviewed_by: None,
        created_by: Some(actor.id.0),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let Some(id) = store::insert(c, &card).await? else {
        return Err(AppError::Duplicate { field: "work_order_id".into() });
    };
    card.id = id;
    let rules = card_rules(c).await?;
    let central = store::central_warehouse(c).await?;
    let mut lines = vec![];
    for p in shouhou_store::work_orders::parts_of(c, w.id).await? {
        let catalog = parts::part_by_code(c, &p.part_code).await?;
        let price = catalog.as_ref().map(|x| x.price_fen).unwrap_or(0);
        let return_required = rules.must_return(catalog.is_some(), price, p.old_serial.is_some());
        let mut line = CardPart {
            id: 0,
            card_id: id,
            work_order_part_id: Some(p.id),
            part_id: catalog.as_ref().map(|x| x.id),
            part_code: p.part_code,
            part_name: p.part_name,
            quantity: p.quantity,
            price_fen: price,
            old_serial: p.old_serial,
            new_serial: p.new_serial,
            return_required,
        };
        line.id = store::insert_part(c, &line).await?;
        if line.return_required {
            let Some(to) = central else {
                return Err(ValidationErrors::single("work_order_id", "no_central_warehouse").into());
            };
            let part = line.part_id.unwrap_or_default();
            store::insert_return(
                c,
                id,
                line.id,
                part,
                line.old_serial.as_deref(),
                line.quantity,
                card.station_id,
                to,
                now,
            )
            .await?;
        }
        lines.push(line);
    }
    assess(c, app, &w, &mut card, &lines).await?;
    let Some(v) = store::save(c, &card, 1, now).await? else { return Err(AppError::Stale) };
    card.version = v;
    let data =
        json!({"flags": card.flag_count, "total_fen": card.total_fen, "completed_at": completed_at.as_millisecond()});
    store::insert_event(c, &card_event(&card, now, actor, "file", None, "", data)).await?;
    record(
        c,
        app,
        ctx,
        "warranty_card.file",
        "warranty_card",
        Some(id.to_string()),
        json!({"number": card.number, "work_order": w.number, "flags": card.flag_count, "total_fen": card.total_fen}),
    )
    .await?;
    let detail = detail(c, app, actor, card).await?;
    tx.commit().await?;
    Ok(detail)
}

/// The audit's decision on a card.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewForm {
    /// approve, reject, return
    pub decision: String,
    /// Required to reject or return.
    #[serde(default)]
    pub reason: Option<String>,
    /// The version read; or send `If-Match`.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Approve, reject or return a submitted card (service administrators); a reject or a return
/// says why and tells the station's managers.
#[tracing::instrument(skip_all)]
pub async fn review(app: &App, ctx: &Ctx, id: i64, version: i64, f: &ReviewForm) -> Result<CardDetail> {
    let actor = ctx.require(Permission::WarrantyAudit)?;
    let mut e = ValidationErrors::default();
    let decision = e.take(Action::parse("decision", &f.decision).and_then(|a| {
        if a.is_decision() { Ok(a) } else { Err(shouhou_domain::FieldError::new("decision", "invalid_choice")) }
    }));
    let reason = e.take(optional_text("reason", f.reason.as_deref(), 500)).flatten().unwrap_or_default();
    if decision.is_some_and(Action::needs_reason) && reason.is_empty() {
        e.push("reason", "required");
    }
    let Some(decision) = decision else { return Err(e.into()) };
    e.into_result()?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let mut card = card_in_scope(c, actor, id).await?;
    let from = Status::parse("status", &card.status)?;
    let to = from.apply(decision)?;
    if card.version != version {
        return Err(AppError::Stale);
    }
    card.status = to.as_str().to_string();
    card.reason = reason.clone();
    card.reviewed_at = Some(now);
    card.reviewed_by = Some(actor.id.0);
    card.version = store::save(c, &card, version, now).await?.ok_or(AppError::Stale)?;
    store::insert_event(c, &card_event(&card, now, actor, decision.as_str(), Some(from.as_str()), &reason, json!({})))
        .await?;
    if decision != Action::Approve
        && let Some(station) = card.station_id
    {
        let title = match decision {
            Action::Return => format!("三包卡 {} 被退回修改", card.number),
            _ => format!("三包卡 {} 被驳回", card.number),
        };
        let link = format!("/warranty-cards/{}", card.id);
        let to = shouhou_store::users::station_members_with_role(c, station, "station_manager").await?;
        crate::inbox::notify_users(c, &to, "warranty_card.review", &title, &reason, &link, now).await?;
    }
    record(
        c,
        app,
        ctx,
        "warranty_card.review",
        "warranty_card",
        Some(id.to_string()),
        json!({"number": card.number, "decision": decision.as_str(), "reason": reason}),
    )
    .await?;
    let detail = detail(c, app, actor, card).await?;
    tx.commit().await?;
    Ok(detail)
}

/// A claimed part's serials as corrected.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartCorrection {
    /// The card's part line.
    pub id: i64,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
}

/// The station's correction of a returned card; it is then submitted again and audited afresh.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CorrectionForm {
    #[serde(default)]
    pub fault_code: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub labour_minutes: Option<i64>,
    #[serde(default)]
    pub parts: Option<Vec<PartCorrection>>,
    /// What was corrected, for the auditor.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Correct a returned card and submit it again (the station): flags and amounts are recomputed.
#[tracing::instrument(skip_all)]
pub async fn resubmit(app: &App, ctx: &Ctx, id: i64, version: i64, f: &CorrectionForm) -> Result<CardDetail> {
    let actor = ctx.require(Permission::WarrantyClaim)?;
    let mut e = ValidationErrors::default();
    let fault_code = e.take(optional_text("fault_code", f.fault_code.as_deref(), 50)).flatten();
    let cause = e.take(optional_text("cause", f.cause.as_deref(), 2000)).flatten();
    let minutes = match f.labour_minutes {
        None => None,
        Some(m) => e.take(shouhou_domain::work_orders::labour_minutes("labour_minutes", m)),
    };
    let note = e.take(optional_text("note", f.note.as_deref(), 500)).flatten().unwrap_or_default();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let mut card = card_in_scope(c, actor, id).await?;
    let from = Status::parse("status", &card.status)?;
    let to = from.apply(Action::Resubmit)?;
    let mut lines = store::parts_of(c, id).await?;
    for (i, p) in f.parts.iter().flatten().enumerate() {
        let old = e.take(optional_text(&format!("parts[{i}].old_serial"), p.old_serial.as_deref(), 64)).flatten();
        let new = e.take(optional_text(&format!("parts[{i}].new_serial"), p.new_serial.as_deref(), 64)).flatten();
        match lines.iter_mut().find(|l| l.id == p.id) {
            None => e.push(format!("parts[{i}].id"), "unknown_part_line"),
            Some(l) => (l.old_serial, l.new_serial) = (old.filter(|s| !s.is_empty()), new.filter(|s| !s.is_empty())),
        }
    }
    e.into_result()?;
    if card.version != version {
        return Err(AppError::Stale);
    }
    let w = shouhou_store::work_orders::get(c, card.work_order_id).await?.ok_or(AppError::NotFound)?;
    let before = json!({"fault_code": card.fault_code, "cause": card.cause, "labour_minutes": card.labour_minutes});
    if let Some(x) = fault_code.filter(|s| !s.is_empty()) {
        card.fault_code = x;
    }
    if let Some(x) = cause.filter(|s| !s.is_empty()) {
        card.cause = x;
    }
    if let Some(m) = minutes {
        card.labour_minutes = m;
    }
    for l in lines.iter().filter(|l| f.parts.iter().flatten().any(|p| p.id == l.id)) {
        store::set_part_serials(c, l.id, l.old_serial.as_deref(), l.new_serial.as_deref()).await?;
        store::set_return_serial(c, l.id, l.old_serial.as_deref()).await?;
    }
    assess(c, app, &w, &mut card, &lines).await?;
    card.status = to.as_str().to_string();
    card.submitted_at = now;
    card.version = store::save(c, &card, version, now).await?.ok_or(AppError::Stale)?;
    let data = json!({"before": before, "flags": card.flag_count, "total_fen": card.total_fen});
    store::insert_event(c, &card_event(&card, now, actor, "resubmit", Some(from.as_str()), &note, data)).await?;
    record(
        c,
        app,
        ctx,
        "warranty_card.resubmit",
        "warranty_card",
        Some(id.to_string()),
        json!({"number": card.number, "note": note}),
    )
    .await?;
    let detail = detail(c, app, actor, card).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Completed warranty work whose card is overdue, in the caller's scope.
pub async fn overdue(app: &App, ctx: &Ctx) -> Result<Vec<Overdue>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let rules = card_rules(&mut c).await?;
    let before = app.now() - rules.due_days * 86_400_000;
    Ok(store::overdue(&mut c, &actor.scope, before, false, 500).await?)
}

/// Tell each station's managers of warranty work whose card is overdue: once per work order,
/// across instances. Answers how many were told.
pub async fn sweep_overdue(app: &App) -> Result<usize> {
    let now = app.now();
    let mut rd = app.db.read().await?;
    let rules = card_rules(&mut rd.conn()).await?;
    let due = store::overdue(&mut rd.conn(), &Scope::All, now - rules.due_days * 86_400_000, true, 100).await?;
    drop(rd);
    let mut told = 0;
    for o in due {
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        if !store::remind(&mut c, o.work_order_id, now).await? {
            continue;
        }
        let title = format!("{} 的三包卡已逾期未交", o.number);
        let body = format!("完工 {} 天内应提交三包卡。", rules.due_days);
        let link = format!("/warranty-cards?overdue=1#wo-{}", o.work_order_id);
        let to = match o.station_id {
            Some(s) => shouhou_store::users::station_members_with_role(&mut c, s, "station_manager").await?,
            None => vec![],
        };
        crate::inbox::notify_users(&mut c, &to, "warranty_card.overdue", &title, &body, &link, now).await?;
        tx.commit().await?;
        told += 1;
    }
    Ok(told)
}

/// Faulty parts on their way back (`in_transit`) or arrived (`received`).
pub async fn faulty_returns(app: &App, ctx: &Ctx, status: &str) -> Result<Vec<FaultyReturn>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let status = match status.trim() {
        "" | "in_transit" => "in_transit",
        "received" => "received",
        _ => return Err(ValidationErrors::single("status", "invalid_choice").into()),
    };
    let mut rd = app.db.read().await?;
    Ok(store::list_returns(&mut rd.conn(), &actor.scope, status, 500).await?)
}

/// The central warehouse's record of a faulty part's arrival and inspection.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveForm {
    /// confirmed_faulty, no_fault_found, user_damage
    pub inspection: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Receive a faulty part at the central warehouse and record its inspection (headquarters'
/// warehouse keepers); once.
#[tracing::instrument(skip_all)]
pub async fn receive_return(app: &App, ctx: &Ctx, id: i64, f: &ReceiveForm) -> Result<FaultyReturn> {
    let actor = ctx.require(Permission::StockWrite)?;
    let mut e = ValidationErrors::default();
    let inspection = e.take(Inspection::parse("inspection", &f.inspection));
    let note = e.take(optional_text("note", f.note.as_deref(), 500)).flatten().unwrap_or_default();
    let Some(inspection) = inspection else { return Err(e.into()) };
    e.into_result()?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let r = store::get_return(&mut c, id).await?.ok_or(AppError::NotFound)?;
    // Received where it is sent: the central warehouse, headquarters' side.
    if !matches!(actor.scope, Scope::All) {
        return Err(AppError::NotFound);
    }
    if !store::receive_return(&mut c, id, inspection.as_str(), &note, actor.id.0, now).await? {
        return Err(AppError::IllegalTransition { from: r.status, action: "receive".into(), allowed: vec![] });
    }
    record(
        &mut c,
        app,
        ctx,
        "faulty_return.receive",
        "faulty_return",
        Some(id.to_string()),
        json!({"card": r.card_number, "part_code": r.part_code, "serial": r.serial, "inspection": inspection.as_str()}),
    )
    .await?;
    let r = store::get_return(&mut c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

/// The card of a work order the caller may see (id, number, status), and whether the caller may
/// file one now (completed warranty work without a card, and the right to claim).
pub async fn card_of(app: &App, ctx: &Ctx, work_order: i64) -> Result<(Option<(i64, String, String)>, bool)> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let w = crate::work_orders::work_order_in_scope(&mut c, actor, work_order).await?;
    let card = store::of_work_order(&mut c, work_order).await?;
    let may_file = card.is_none()
        && actor.can(Permission::WarrantyClaim)
        && is_warranty_kind(&w)
        && w.completed_at.is_some()
        && w.status.as_str() != "cancelled";
    Ok((card, may_file))
}
