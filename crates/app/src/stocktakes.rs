//! Stocktake (盘点): a count sheet per warehouse (every part it holds, expected on hand when the
//! sheet was made), counts recorded and handed in, then approved by someone other than the counter:
//! each difference becomes a ledger row naming the sheet (a surplus a receipt, a shortage scrap),
//! all in one transaction, or nothing.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::{StationId, WarehouseId};
use shouhou_domain::parts::{MovementKind, Quantity, part_code};
use shouhou_domain::requests::business_day;
use shouhou_domain::stocktakes::{Action, Status, difference, format_number};
use shouhou_domain::text::optional_text;
use shouhou_store::parts::Refs;
use shouhou_store::stocktakes::{self as store};
pub use shouhou_store::stocktakes::{Line, Stocktake};
use shouhou_store::{Conn, requests, warehouses};

/// A sheet with its lines and what the caller may do.
#[derive(Debug, Clone)]
pub struct StocktakeDetail {
    pub stocktake: Stocktake,
    pub lines: Vec<Line>,
    pub actions: Vec<Action>,
}

async fn in_scope(c: &mut Conn<'_>, actor: &crate::Actor, id: i64) -> Result<Stocktake> {
    let s = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    if !actor.scope.allows_opt(s.station_id.map(StationId)) {
        return Err(AppError::NotFound);
    }
    Ok(s)
}

async fn detail(c: &mut Conn<'_>, actor: &crate::Actor, s: Stocktake) -> Result<StocktakeDetail> {
    let lines = store::lines_of(c, s.id).await?;
    let status = Status::parse("status", &s.status)?;
    let counter = [s.created_by, s.submitted_by].contains(&Some(actor.id.0));
    let actions = if actor.can(Permission::StockWrite) {
        status
            .allowed()
            .iter()
            .copied()
            .filter(|a| !matches!(a, Action::Approve | Action::Reject | Action::Return) || !counter)
            .collect()
    } else {
        vec![]
    };
    Ok(StocktakeDetail { stocktake: s, lines, actions })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStocktake {
    pub warehouse_id: i64,
    #[serde(default)]
    pub note: Option<String>,
}

/// Open a count sheet for a warehouse of the caller's scope.
#[tracing::instrument(skip_all)]
pub async fn open(app: &App, ctx: &Ctx, f: &NewStocktake) -> Result<StocktakeDetail> {
    let actor = ctx.require(Permission::StockWrite)?;
    let note = optional_text("note", f.note.as_deref(), 500)?.unwrap_or_default();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let w = warehouses::get_warehouse(c, WarehouseId(f.warehouse_id))
        .await?
        .filter(|w| w.active && actor.scope.allows_opt(w.station_id.map(StationId)))
        .ok_or_else(|| AppError::from(ValidationErrors::single("warehouse_id", "unknown_warehouse")))?;
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("ST {day}")).await?;
    let number = format_number(day, counter as u64);
    let id = store::insert(c, &number, w.id, &note, actor.id.0, now).await?;
    record(
        c,
        app,
        ctx,
        "stocktake.open",
        "stocktake",
        Some(id.to_string()),
        json!({"number": number, "warehouse": w.code}),
    )
    .await?;
    let s = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let d = detail(c, actor, s).await?;
    tx.commit().await?;
    Ok(d)
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<StocktakeDetail> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let s = in_scope(&mut c, actor, id).await?;
    detail(&mut c, actor, s).await
}

pub async fn list(app: &App, ctx: &Ctx, warehouse: Option<i64>) -> Result<Vec<Stocktake>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    Ok(store::list(&mut rd.conn(), &actor.scope, warehouse, 200).await?)
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CountLine {
    pub part_code: String,
    /// As counted, in the part's unit.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub counted: serde_json::Number,
}

/// A step on a sheet: counts while counting, hand in, or the decision (with a reason to return or
/// reject).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    /// count, submit, approve, return, reject
    pub action: String,
    #[serde(default)]
    pub counts: Option<Vec<CountLine>>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn step(app: &App, ctx: &Ctx, id: i64, version: i64, f: &StepForm) -> Result<StocktakeDetail> {
    let actor = ctx.require(Permission::StockWrite)?;
    let mut e = ValidationErrors::default();
    let action = e.take(Action::parse("action", &f.action));
    let reason = e.take(optional_text("reason", f.reason.as_deref(), 500)).flatten().unwrap_or_default();
    if action.is_some_and(Action::needs_reason) && reason.is_empty() {
        e.push("reason", "required");
    }
    let Some(action) = action else { return Err(e.into()) };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let s = in_scope(c, actor, id).await?;
    let from = Status::parse("status", &s.status)?;
    let to = from.apply(action)?;
    // Four eyes: whoever made or handed in the count does not decide on it.
    if matches!(action, Action::Approve | Action::Return | Action::Reject)
        && [s.created_by, s.submitted_by].contains(&Some(actor.id.0))
    {
        e.push("action", "four_eyes");
    }
    let mut counts = vec![];
    if action == Action::Count {
        let given = f.counts.as_deref().unwrap_or_default();
        if given.is_empty() {
            e.push("counts", "required");
        }
        for (i, l) in given.iter().enumerate() {
            let field = format!("counts[{i}].part_code");
            let part = match part_code(&field, &l.part_code) {
                Err(err) => {
                    e.push(field, err.code);
                    None
                }
                Ok(code) => {
                    let p = shouhou_store::parts::part_by_code(c, &code).await?;
                    if p.is_none() {
                        e.push(field, "unknown_part");
                    }
                    p
                }
            };
            let qf = format!("counts[{i}].counted");
            // Zero counted is a count: the shelf is empty.
            let q = match l.counted.to_string().as_str() {
                "0" | "0.0" => Some(0),
                text => match Quantity::parse(&qf, text, part.as_ref().is_none_or(|p| p.divisible)) {
                    Ok(q) => Some(q.milli()),
                    Err(err) => {
                        e.push(qf, err.code);
                        None
                    }
                },
            };
            if let (Some(p), Some(q)) = (part, q) {
                counts.push((p.id, q));
            }
        }
    }
    if action == Action::Submit && store::lines_of(c, id).await?.iter().any(|l| l.counted.is_none()) {
        e.push("counts", "not_all_counted");
    }
    e.into_result()?;
    if s.version != version {
        return Err(AppError::Stale);
    }
    for (part, q) in &counts {
        store::set_count(c, id, s.warehouse_id, *part, *q).await?;
    }
    let (submitted_by, decided_by) = match action {
        Action::Submit => (Some(actor.id.0), None),
        Action::Approve | Action::Return | Action::Reject => (None, Some(actor.id.0)),
        Action::Count => (None, None),
    };
    store::set_status(c, id, version, to.as_str(), &reason, submitted_by, decided_by, now)
        .await?
        .ok_or(AppError::Stale)?;
    let mut posted = 0;
    if action == Action::Approve {
        let refs = Refs { work_order_id: None, transfer_id: None, note: &s.number, created_by: Some(actor.id.0) };
        for l in store::lines_of(c, id).await? {
            let diff = difference(l.expected, l.counted.unwrap_or(l.expected));
            if diff == 0 {
                continue;
            }
            let kind = if diff > 0 { MovementKind::Receipt } else { MovementKind::Scrap };
            let q = Quantity::from_milli(diff.abs());
            let Some(applied) =
                shouhou_store::parts::apply(c, kind, s.warehouse_id, l.part_id, kind.effect(q), refs, now).await?
            else {
                // Issued meanwhile below the counted shortage: nothing is posted.
                return Err(AppError::InsufficientStock {
                    available: shouhou_domain::parts::format_milli(l.on_hand_now),
                });
            };
            store::link_movement(c, id, l.id, applied.id).await?;
            posted += 1;
        }
    }
    record(
        c,
        app,
        ctx,
        &format!("stocktake.{}", action.as_str()),
        "stocktake",
        Some(id.to_string()),
        json!({"number": s.number, "to": to.as_str(), "reason": reason, "counts": counts.len(), "adjustments": posted}),
    )
    .await?;
    let s = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let d = detail(c, actor, s).await?;
    tx.commit().await?;
    Ok(d)
}
