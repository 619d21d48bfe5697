//! Return and exchange authorisation (退换货) on a request: allowed only when the 三包 rules open
//! the remedy on the day the fault was reported (its article recorded), with the inspection and the
//! refund or the replacement serial; decided by the station's manager or the service administrator,
//! above the refund threshold by a manager. An approved exchange restarts the device's warranty; an
//! approved return ends it. Both go on the request's timeline and the device's history.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::StationId;
use shouhou_domain::requests::business_day;
use shouhou_domain::returns::{Decision, Kind, Status, format_number, opened_by};
use shouhou_domain::text::optional_text;
pub use shouhou_store::returns::Authorisation;
use shouhou_store::returns::{self as store};
use shouhou_store::{Conn, devices, requests};

/// Above this refund (fen) a manager decides: the setting `return_manager_fen`, else 2 000 元.
async fn threshold(c: &mut Conn<'_>) -> Result<i64> {
    Ok(shouhou_store::settings::get(c, "return_manager_fen")
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(200_000))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnForm {
    /// return (退货, refund) or exchange (换货, a new unit)
    pub kind: String,
    pub reason: String,
    /// What the inspection of the product found.
    pub inspection: String,
    /// A return: the amount refunded, in fen.
    #[serde(default)]
    pub refund_fen: Option<i64>,
    /// An exchange: the new unit's serial.
    #[serde(default)]
    pub replacement_serial: Option<String>,
}

fn required(e: &mut ValidationErrors, field: &'static str, v: &str, max: usize) -> Option<String> {
    match e.take(optional_text(field, Some(v), max)).flatten().filter(|s| !s.is_empty()) {
        Some(s) => Some(s),
        None => {
            if !e.0.iter().any(|x| x.field == field) {
                e.push(field, "required");
            }
            None
        }
    }
}

/// Ask for a return or an exchange on request `request_id` (its device's 三包 remedy).
#[tracing::instrument(skip_all)]
pub async fn request(app: &App, ctx: &Ctx, request_id: i64, f: &ReturnForm) -> Result<Authorisation> {
    let actor = ctx.require(Permission::RequestWrite)?;
    let mut e = ValidationErrors::default();
    let kind = e.take(Kind::parse("kind", &f.kind));
    let reason = required(&mut e, "reason", &f.reason, 500);
    let inspection = required(&mut e, "inspection", &f.inspection, 1000);
    let refund = f.refund_fen.unwrap_or(0);
    let replacement = e.take(optional_text("replacement_serial", f.replacement_serial.as_deref(), 64)).flatten();
    match kind {
        Some(Kind::Return) if !(1..=10_000_000_000).contains(&refund) => e.push("refund_fen", "required"),
        Some(Kind::Exchange) if replacement.as_deref().is_none_or(str::is_empty) => {
            e.push("replacement_serial", "required")
        }
        Some(Kind::Exchange) if refund != 0 => e.push("refund_fen", "only_for_return"),
        _ => {}
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let r = crate::requests::request_in_scope(c, actor, request_id).await?;
    let device = match r.device_id {
        Some(d) => devices::get_device(c, &app.keys, d).await?,
        None => None,
    };
    let Some(device) = device else {
        e.push("service_request_id", "no_device");
        return Err(e.into());
    };
    let Some(kind) = kind else { return Err(e.into()) };
    // The rules as they stood on the day the fault was reported.
    let reported = business_day(r.created_at);
    let ent = crate::devices::entitlement_on(c, &device, reported).await?;
    let article = opened_by(&ent, kind);
    if article.is_none() {
        e.push("kind", "not_open_under_sanbao");
    }
    let (Some(reason), Some(inspection), Some(article)) = (reason, inspection, article) else { return Err(e.into()) };
    e.into_result()?;
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("RA {day}")).await?;
    let mut a = Authorisation {
        id: 0,
        number: format_number(day, counter as u64),
        service_request_id: r.id,
        device_id: device.id,
        station_id: r.station_id.map(|s| s.0),
        kind: kind.as_str().into(),
        article: article.into(),
        reason,
        inspection,
        refund_fen: if kind == Kind::Return { refund } else { 0 },
        replacement_serial: if kind == Kind::Exchange { replacement } else { None },
        status: Status::Submitted.as_str().into(),
        decision_note: String::new(),
        decided_by: None,
        created_by: Some(actor.id.0),
        version: 1,
        created_at: now,
    };
    a.id = store::insert(c, &a, now).await?;
    let note = format!("{} {}（{}）", a.number, label(kind), article);
    requests::insert_event(c, &crate::sla::event(r.id, now, actor, "return", &note)).await?;
    record(c, app, ctx, "return.request", "return_authorisation", Some(a.id.to_string()),
        json!({"number": a.number, "kind": a.kind, "article": a.article, "refund_fen": a.refund_fen, "request": r.number}))
    .await?;
    tx.commit().await?;
    Ok(a)
}

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Return => "退货",
        Kind::Exchange => "换货",
    }
}

async fn in_scope(c: &mut Conn<'_>, actor: &crate::Actor, id: i64) -> Result<Authorisation> {
    let a = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    if !actor.scope.allows_opt(a.station_id.map(StationId)) {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<Authorisation> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let mut rd = app.db.read().await?;
    in_scope(&mut rd.conn(), actor, id).await
}

/// The authorisations of a request or of a device, as far as the caller's stations go.
pub async fn list(app: &App, ctx: &Ctx, request: Option<i64>, device: Option<i64>) -> Result<Vec<Authorisation>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    if request.is_none() && device.is_none() {
        return Err(ValidationErrors::single("service_request_id", "required").into());
    }
    let mut rd = app.db.read().await?;
    Ok(store::of(&mut rd.conn(), request, device)
        .await?
        .into_iter()
        .filter(|a| actor.scope.allows_opt(a.station_id.map(StationId)))
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    /// approve, reject
    pub decision: String,
    /// Required to reject.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn decide(app: &App, ctx: &Ctx, id: i64, version: i64, f: &DecisionForm) -> Result<Authorisation> {
    let actor = ctx.actor()?;
    if !actor.can(Permission::ReturnApprove) && !actor.can(Permission::ReturnApproveLarge) {
        return Err(AppError::Forbidden);
    }
    let mut e = ValidationErrors::default();
    let decision = e.take(Decision::parse("decision", &f.decision));
    let note = e.take(optional_text("reason", f.reason.as_deref(), 500)).flatten().unwrap_or_default();
    if decision == Some(Decision::Reject) && note.is_empty() {
        e.push("reason", "required");
    }
    let Some(decision) = decision else { return Err(e.into()) };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let a = in_scope(c, actor, id).await?;
    let to = Status::parse("status", &a.status)?.decide(decision)?;
    if decision == Decision::Approve && a.refund_fen > threshold(c).await? && !actor.can(Permission::ReturnApproveLarge)
    {
        e.push("decision", "manager_required");
    }
    e.into_result()?;
    if a.version != version {
        return Err(AppError::Stale);
    }
    store::decide(c, id, version, to.as_str(), &note, actor.id.0, now).await?.ok_or(AppError::Stale)?;
    let kind = Kind::parse("kind", &a.kind)?;
    if to == Status::Approved {
        let (exchanged, void) = devices::warranty_facts(c, a.device_id).await?.unwrap_or_default();
        let today = business_day(crate::instant(now)?).to_string();
        match kind {
            // A new unit: its warranty runs from today.
            Kind::Exchange => {
                devices::set_warranty_facts(c, a.device_id, Some(&today), void.as_deref()).await?;
            }
            // The product went back: nothing is covered any more.
            Kind::Return => {
                let why = format!("已退货（{}）", a.number);
                devices::set_warranty_facts(c, a.device_id, exchanged.as_deref(), Some(&why)).await?;
            }
        }
    }
    let what = match to {
        Status::Approved => "批准",
        _ => "驳回",
    };
    let event_note = format!(
        "{} {}已{what}{}",
        a.number,
        label(kind),
        if note.is_empty() { String::new() } else { format!("：{note}") }
    );
    requests::insert_event(c, &crate::sla::event(a.service_request_id, now, actor, "return", &event_note)).await?;
    record(
        c,
        app,
        ctx,
        "return.decide",
        "return_authorisation",
        Some(id.to_string()),
        json!({"number": a.number, "decision": decision.as_str(), "reason": note}),
    )
    .await?;
    let a = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}
