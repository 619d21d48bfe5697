//! 三包配件申请: a station applies to headquarters for parts for warranty work; its manager
//! approves, and above the threshold headquarters too; the final approval sends the parts from the
//! central warehouse to the station's warehouse in the same transaction (or nothing, with what is
//! available, when the central warehouse has too few).
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::ids::{StationId, WarehouseId};
use shouhou_domain::part_applications::{Decision, Level, Status, format_number, line_amount};
use shouhou_domain::parts::{Quantity, part_code};
use shouhou_domain::requests::business_day;
use shouhou_domain::text::optional_text;
use shouhou_store::part_applications::{self as store};
pub use shouhou_store::part_applications::{Application, Line};
use shouhou_store::parts::Refs;
use shouhou_store::{Conn, requests, warehouses};

/// Above this amount (fen) headquarters approves too: the setting `part_application_hq_fen`,
/// else 5 000 元.
async fn threshold(c: &mut Conn<'_>) -> Result<i64> {
    Ok(shouhou_store::settings::get(c, "part_application_hq_fen")
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(500_000))
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineForm {
    pub part_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub quantity: serde_json::Number,
}

/// An application for parts.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    /// The station's warehouse the parts go to.
    pub warehouse_id: i64,
    /// The warranty job they are for.
    #[serde(default)]
    pub work_order_id: Option<i64>,
    pub reason: String,
    pub lines: Vec<LineForm>,
}

/// An application with its lines (and their transfers once approved).
#[derive(Debug, Clone)]
pub struct ApplicationDetail {
    pub application: Application,
    pub lines: Vec<Line>,
    /// The decisions the caller may take now.
    pub decisions: Vec<Decision>,
}

fn level_of(actor: &crate::Actor) -> Level {
    if matches!(actor.scope, Scope::All) { Level::Headquarters } else { Level::Station }
}

fn decisions_for(actor: &crate::Actor, a: &Application) -> Vec<Decision> {
    let Ok(status) = Status::parse("status", &a.status) else { return vec![] };
    if !actor.can(Permission::StockWrite) {
        return vec![];
    }
    let level = level_of(actor);
    status.allowed().iter().copied().filter(|d| status.decide(*d, level, a.amount_fen, i64::MAX).is_ok()).collect()
}

async fn in_scope(c: &mut Conn<'_>, actor: &crate::Actor, id: i64) -> Result<Application> {
    let a = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    if !actor.scope.allows(StationId(a.station_id)) {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

async fn detail(c: &mut Conn<'_>, actor: &crate::Actor, application: Application) -> Result<ApplicationDetail> {
    let lines = store::lines_of(c, application.id).await?;
    let decisions = decisions_for(actor, &application);
    Ok(ApplicationDetail { application, lines, decisions })
}

/// Apply for parts (engineers and station managers, for a warehouse of their station).
#[tracing::instrument(skip_all)]
pub async fn apply(app: &App, ctx: &Ctx, f: &ApplicationForm) -> Result<ApplicationDetail> {
    let actor = ctx.require(Permission::PartsApply)?;
    let mut e = ValidationErrors::default();
    let reason = e.take(optional_text("reason", Some(&f.reason), 500)).flatten().filter(|r| !r.is_empty());
    if reason.is_none() && !e.0.iter().any(|x| x.field == "reason") {
        e.push("reason", "required");
    }
    if f.lines.is_empty() {
        e.push("lines", "required");
    }
    if f.lines.len() > 50 {
        e.push("lines", "too_many");
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let warehouse = warehouses::get_warehouse(c, WarehouseId(f.warehouse_id))
        .await?
        .filter(|w| w.active && w.station_id.is_some_and(|s| actor.scope.allows(StationId(s))));
    if warehouse.is_none() {
        e.push("warehouse_id", "unknown_warehouse");
    }
    if let Some(wo) = f.work_order_id
        && crate::work_orders::work_order_in_scope(c, actor, wo).await.is_err()
    {
        e.push("work_order_id", "unknown_work_order");
    }
    let mut lines = vec![];
    for (i, l) in f.lines.iter().enumerate() {
        let field = format!("lines[{i}].part_code");
        let part = match part_code(&field, &l.part_code) {
            Err(err) => {
                e.push(field, err.code);
                None
            }
            Ok(code) => {
                let p = shouhou_store::parts::part_by_code(c, &code).await?.filter(|p| p.active);
                if p.is_none() {
                    e.push(field, "unknown_part");
                }
                p
            }
        };
        let qfield = format!("lines[{i}].quantity");
        let q = match Quantity::parse(&qfield, &l.quantity.to_string(), part.as_ref().is_none_or(|p| p.divisible)) {
            Ok(q) => Some(q),
            Err(err) => {
                e.push(qfield, err.code);
                None
            }
        };
        if let (Some(p), Some(q)) = (part, q) {
            lines.push((p, q));
        }
    }
    let (Some(w), Some(reason)) = (warehouse, reason) else { return Err(e.into()) };
    e.into_result()?;
    let station = w.station_id.unwrap_or_default();
    let amount: i64 = lines.iter().map(|(p, q)| line_amount(p.price_fen, q.milli())).sum();
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("PA {day}")).await?;
    let number = format_number(day, counter as u64);
    let id = store::insert(c, &number, station, w.id, f.work_order_id, amount, &reason, actor.id.0, now).await?;
    for (p, q) in &lines {
        store::insert_line(c, id, p.id, q.milli(), p.price_fen).await?;
    }
    // The station's managers decide first.
    let title = format!("三包配件申请 {number} 待审批");
    let link = format!("/part-applications#pa-{id}");
    let to = shouhou_store::users::station_members_with_role(c, station, "station_manager").await?;
    notify(c, &to, &title, &reason, &link, now).await?;
    record(
        c,
        app,
        ctx,
        "part_application.apply",
        "part_application",
        Some(id.to_string()),
        json!({"number": number, "warehouse_id": w.id, "amount_fen": amount, "lines": lines.len()}),
    )
    .await?;
    let a = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let d = detail(c, actor, a).await?;
    tx.commit().await?;
    Ok(d)
}

async fn notify(c: &mut Conn<'_>, users: &[i64], title: &str, body: &str, link: &str, now: i64) -> Result<()> {
    crate::inbox::notify_users(c, users, "part_application", title, body, link, now).await
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<ApplicationDetail> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let a = in_scope(&mut c, actor, id).await?;
    detail(&mut c, actor, a).await
}

/// The applications of the caller's stations, open ones first, each with its lines and the
/// decisions the caller may take (the lines of all of them in one statement).
pub async fn list_detailed(app: &App, ctx: &Ctx, limit: usize) -> Result<Vec<ApplicationDetail>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let apps: Vec<Application> = store::list(&mut c, &actor.scope, None, limit as i64).await?;
    let ids: Vec<i64> = apps.iter().map(|a| a.id).collect();
    let mut lines = store::lines_of_many(&mut c, &ids).await?;
    Ok(apps
        .into_iter()
        .map(|application| {
            let mine: Vec<Line> = lines.extract_if(.., |(a, _)| *a == application.id).map(|(_, l)| l).collect();
            let decisions = decisions_for(actor, &application);
            ApplicationDetail { application, lines: mine, decisions }
        })
        .collect())
}

/// The applications of the caller's stations: open ones first.
pub async fn list(app: &App, ctx: &Ctx, status: Option<&str>) -> Result<Vec<Application>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse("status", s)?.as_str()),
    };
    let mut rd = app.db.read().await?;
    Ok(store::list(&mut rd.conn(), &actor.scope, status, 500).await?)
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

/// Decide on an application: the station's manager first (final up to the threshold), then
/// headquarters. The final approval sends the parts from the central warehouse.
#[tracing::instrument(skip_all)]
pub async fn decide(app: &App, ctx: &Ctx, id: i64, version: i64, f: &DecisionForm) -> Result<ApplicationDetail> {
    let actor = ctx.require(Permission::StockWrite)?;
    let mut e = ValidationErrors::default();
    let decision = e.take(Decision::parse("decision", &f.decision));
    let note = e.take(optional_text("reason", f.reason.as_deref(), 500)).flatten().unwrap_or_default();
    if decision == Some(Decision::Reject) && note.is_empty() {
        e.push("reason", "required");
    }
    let Some(decision) = decision else { return Err(e.into()) };
    e.into_result()?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let a = in_scope(c, actor, id).await?;
    let from = Status::parse("status", &a.status)?;
    let level = level_of(actor);
    let to = from.decide(decision, level, a.amount_fen, threshold(c).await?)?;
    if a.version != version {
        return Err(AppError::Stale);
    }
    let station_approver =
        (to == Status::StationApproved || (level == Level::Station && to == Status::Approved)).then_some(actor.id.0);
    store::decide(c, id, version, to.as_str(), &note, station_approver, actor.id.0, now)
        .await?
        .ok_or(AppError::Stale)?;
    match to {
        Status::Approved => {
            let central = shouhou_store::warranty_cards::central_warehouse(c)
                .await?
                .ok_or_else(|| AppError::from(ValidationErrors::single("decision", "no_central_warehouse")))?;
            let from_wh = warehouses::get_warehouse(c, WarehouseId(central)).await?.ok_or(AppError::NotFound)?;
            for l in store::lines_of(c, id).await? {
                let part = shouhou_store::parts::get_part(c, l.part_id).await?.ok_or(AppError::NotFound)?;
                let refs = Refs {
                    work_order_id: a.work_order_id,
                    transfer_id: None,
                    note: &a.number,
                    created_by: Some(actor.id.0),
                };
                let (_, transfer) =
                    crate::parts::ship(c, &from_wh, a.warehouse_id, &part, Quantity::from_milli(l.quantity), refs, now)
                        .await?;
                store::set_line_transfer(c, l.id, transfer).await?;
            }
            if let Some(by) = a.created_by {
                let title = format!("三包配件申请 {} 已批准，配件已从中心库发出", a.number);
                notify(c, &[by], &title, "", &format!("/part-applications#pa-{id}"), now).await?;
            }
        }
        Status::StationApproved => {
            let title = format!("三包配件申请 {} 待总部审批", a.number);
            let to = shouhou_store::users::headquarters_with_role(c, "warehouse").await?;
            notify(c, &to, &title, &a.reason, &format!("/part-applications#pa-{id}"), now).await?;
        }
        Status::Rejected => {
            if let Some(by) = a.created_by {
                let title = format!("三包配件申请 {} 未获批准", a.number);
                notify(c, &[by], &title, &note, &format!("/part-applications#pa-{id}"), now).await?;
            }
        }
        Status::Submitted => {}
    }
    record(
        c,
        app,
        ctx,
        "part_application.decide",
        "part_application",
        Some(id.to_string()),
        json!({"number": a.number, "decision": decision.as_str(), "to": to.as_str(), "reason": note}),
    )
    .await?;
    let a = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let d = detail(c, actor, a).await?;
    tx.commit().await?;
    Ok(d)
}
