//! First maintenance (首保), scheduled maintenance and inspections: plans per product model or per
//! device; the worker turns each item that falls due within its lead into a work order, once
//! across instances; the list of what is due this week and overdue.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::requests::business_day;
use shouhou_domain::work_orders::Kind;
pub use shouhou_store::maintenance::DueItem;
use shouhou_store::maintenance::{self as store, Plan};

/// A new plan: for every device of a model (`model_code`) or for one device (`serial_number`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanForm {
    pub model_code: Option<String>,
    pub serial_number: Option<String>,
    /// maintenance (the first one is 首保) or inspection
    pub kind: String,
    /// Days from the sale to the first item (default: the model's first-maintenance days).
    pub first_after_days: Option<i64>,
    /// Then every so many days (none: once only).
    pub every_days: Option<i64>,
    /// Days ahead of the due day its work order is created (default 7).
    pub lead_days: Option<i64>,
    /// With `model_code`: only that model's devices installed in this region (GB/T 2260, any
    /// level): an inspection route per region.
    pub region_code: Option<String>,
}

/// A plan as the API answers it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanView {
    pub id: i64,
    pub model_id: Option<i64>,
    pub device_id: Option<i64>,
    pub kind: String,
    pub first_after_days: i64,
    pub every_days: Option<i64>,
    pub lead_days: i64,
    /// Items due before this day are not generated.
    pub starts_on: String,
    pub active: bool,
    pub region_code: Option<String>,
}

impl From<Plan> for PlanView {
    fn from(p: Plan) -> Self {
        PlanView {
            id: p.id,
            model_id: p.model_id,
            device_id: p.device_id,
            kind: p.kind,
            first_after_days: p.first_after_days,
            every_days: p.every_days,
            lead_days: p.lead_days,
            starts_on: p.starts_on,
            active: p.active,
            region_code: p.region_code,
        }
    }
}

fn today(app: &App) -> Result<Date> {
    Ok(business_day(crate::instant(app.now())?))
}

#[tracing::instrument(skip_all)]
pub async fn create_plan(app: &App, ctx: &Ctx, f: &PlanForm) -> Result<PlanView> {
    let actor = ctx.require(Permission::Dispatch)?;
    let mut e = ValidationErrors::default();
    let kind = match f.kind.trim() {
        k @ ("maintenance" | "inspection") => Some(k.to_string()),
        _ => {
            e.push("kind", "invalid_choice");
            None
        }
    };
    let days = |field: &'static str, v: Option<i64>, min: i64, e: &mut ValidationErrors| match v {
        Some(d) if !(min..=3650).contains(&d) => {
            e.push(field, "out_of_range");
            None
        }
        other => Some(other),
    };
    let first = days("first_after_days", f.first_after_days, 0, &mut e);
    let every = days("every_days", f.every_days, 1, &mut e);
    let lead = days("lead_days", f.lead_days, 0, &mut e);
    let now = app.now();
    let starts_on = today(app)?.to_string();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let (model, device) = match (f.model_code.as_deref().map(str::trim), f.serial_number.as_deref().map(str::trim)) {
        (Some(m), None) if !m.is_empty() => match shouhou_store::products::model_by_code(&mut c, m).await? {
            Some(model) => (Some(model), None),
            None => {
                e.push("model_code", "unknown_model");
                (None, None)
            }
        },
        (None, Some(s)) if !s.is_empty() => {
            let found = shouhou_store::devices::devices_by_serial(&mut c, &app.keys, &s.to_ascii_uppercase()).await?;
            match found.as_slice() {
                [d] => (None, Some(d.clone())),
                [] => {
                    e.push("serial_number", "unknown_serial");
                    (None, None)
                }
                _ => {
                    e.push("serial_number", "ambiguous_serial");
                    (None, None)
                }
            }
        }
        _ => {
            e.push("model_code", "model_or_serial");
            (None, None)
        }
    };
    let region = match f.region_code.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(_) if device.is_some() => {
            e.push("region_code", "not_with_serial");
            None
        }
        Some(r) => e.take(shouhou_domain::regions::RegionCode::parse("region_code", r)).map(|c| c.code()),
    };
    let first = first.flatten().or(model.as_ref().and_then(|m| m.first_maintenance_days));
    if first.is_none() && e.is_empty() {
        e.push("first_after_days", "required");
    }
    let (Some(kind), Some(first), Some(every), Some(lead)) = (kind, first, every, lead) else { return Err(e.into()) };
    e.into_result()?;
    let mut p = Plan {
        id: 0,
        model_id: model.as_ref().map(|m| m.id),
        device_id: device.as_ref().map(|d| d.id),
        kind,
        first_after_days: first,
        every_days: every,
        lead_days: lead.unwrap_or(7),
        starts_on,
        active: true,
        region_code: region,
    };
    p.id = store::insert_plan(&mut c, &p, Some(actor.id.0), now).await?;
    record(
        &mut c,
        app,
        ctx,
        "maintenance.plan",
        "maintenance_plan",
        Some(p.id.to_string()),
        json!({"model_id": p.model_id, "device_id": p.device_id, "kind": p.kind, "first_after_days": p.first_after_days,
            "every_days": p.every_days, "lead_days": p.lead_days, "region_code": p.region_code}),
    )
    .await?;
    tx.commit().await?;
    Ok(p.into())
}

pub async fn list_plans(app: &App, ctx: &Ctx) -> Result<Vec<PlanView>> {
    ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    Ok(store::plans(&mut rd.conn(), false).await?.into_iter().map(PlanView::from).collect())
}

/// The due days of a plan for a device sold on `sale`: the first after `first_after_days`, then
/// every `every_days`, from `starts_on` to `horizon` (both included). Pure.
pub fn due_days(sale: Date, p: &Plan, starts_on: Date, horizon: Date) -> Vec<(i64, Date)> {
    let mut out = vec![];
    let Ok(mut d) = sale.checked_add(jiff::Span::new().days(p.first_after_days)) else { return out };
    let mut seq = 0;
    while d <= horizon {
        if d >= starts_on {
            out.push((seq, d));
        }
        match p.every_days {
            Some(every) if every > 0 => match d.checked_add(jiff::Span::new().days(every)) {
                Ok(next) => d = next,
                Err(_) => break,
            },
            _ => break,
        }
        seq += 1;
        if seq > 10_000 {
            break;
        }
    }
    out
}

/// What one sweep made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub work_orders: u64,
}

/// Turn every item falling due within its plan's lead into a work order, each exactly once across
/// instances (the item's key is claimed in the transaction that creates its work order).
#[tracing::instrument(skip_all, fields(instance = instance))]
pub async fn sweep(app: &App, instance: &str) -> Result<SweepReport> {
    let now = crate::instant(app.now())?;
    let today = business_day(now);
    let mut report = SweepReport::default();
    let plans = {
        let mut rd = app.db.read().await?;
        store::plans(&mut rd.conn(), true).await?
    };
    for p in plans {
        let Ok(horizon) = today.checked_add(jiff::Span::new().days(p.lead_days)) else { continue };
        let Ok(sold_by) = horizon.checked_sub(jiff::Span::new().days(p.first_after_days)) else { continue };
        let Ok(starts_on) = p.starts_on.parse::<Date>() else { continue };
        let devices = {
            let mut rd = app.db.read().await?;
            store::devices_of_plan(&mut rd.conn(), &p, &sold_by.to_string()).await?
        };
        for (device, sale) in devices {
            let Ok(sale) = sale.parse::<Date>() else { continue };
            for (seq, day) in due_days(sale, &p, starts_on, horizon) {
                let mut tx = app.db.begin().await?;
                let mut c = tx.conn();
                let day_s = day.to_string();
                if !store::insert_due_once(&mut c, p.id, device, &day_s, seq, instance, now.as_millisecond()).await? {
                    continue;
                }
                let (kind, what) = match (p.kind.as_str(), seq) {
                    ("inspection", _) => (Kind::Inspection, "例行检查".to_string()),
                    (_, 0) => (Kind::Maintenance, "首次保养（首保）".to_string()),
                    _ => (Kind::Maintenance, format!("定期保养（第 {} 次）", seq + 1)),
                };
                let w = crate::work_orders::create_for_device(
                    &mut c,
                    app,
                    device,
                    kind,
                    format!("{what}，到期日 {day_s}"),
                    now,
                )
                .await?;
                store::link_work_order(&mut c, p.id, device, &day_s, w.id).await?;
                shouhou_store::audit::append(
                    &mut c,
                    &app.keys,
                    shouhou_store::audit::Event {
                        at_ms: now.as_millisecond(),
                        actor_id: None,
                        actor_name: "system".into(),
                        action: "maintenance.due".into(),
                        entity: "work_order".into(),
                        entity_id: Some(w.id.to_string()),
                        detail: json!({"plan_id": p.id, "device_id": device, "due_on": day_s, "seq": seq, "number": w.number}).to_string(),
                        source: "worker".into(),
                        request_id: instance.to_string(),
                    },
                )
                .await?;
                tx.commit().await?;
                report.work_orders += 1;
            }
        }
    }
    Ok(report)
}

/// An item due, and whether its day has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub item: DueItem,
    pub overdue: bool,
}

/// Items due within `days` from today and overdue ones whose visit is not done, in the caller's
/// scope (narrowed to one station if asked), soonest first.
pub async fn due(app: &App, ctx: &Ctx, days: i64, station: Option<i64>) -> Result<Vec<Due>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    if !(0..=366).contains(&days) {
        return Err(ValidationErrors::single("days", "out_of_range").into());
    }
    let today = today(app)?;
    let until = today.checked_add(jiff::Span::new().days(days)).map_err(|e| AppError::Internal(e.to_string()))?;
    let today = today.to_string();
    let mut rd = app.db.read().await?;
    let items = store::due_items(&mut rd.conn(), &actor.scope, &until.to_string(), station, 500).await?;
    Ok(items.into_iter().map(|item| Due { overdue: item.due_on < today, item }).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    fn plan(first: i64, every: Option<i64>) -> Plan {
        Plan {
            id: 1,
            model_id: Some(1),
            device_id: None,
            kind: "maintenance".into(),
            first_after_days: first,
            every_days: every,
            lead_days: 7,
            starts_on: "2026-01-01".into(),
            active: true,
            region_code: None,
        }
    }
    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_first_then_every_so_many_days_within_the_window() {
        let p = plan(30, Some(90));
        let got = due_days(d("2026-01-01"), &p, d("2026-01-01"), d("2026-08-01"));
        assert_eq!(got, vec![(0, d("2026-01-31")), (1, d("2026-05-01")), (2, d("2026-07-30"))]);
        // A device sold long before the plan began: only what falls due from the plan's start on.
        let got = due_days(d("2023-01-01"), &p, d("2026-06-01"), d("2026-08-01"));
        assert!(got.iter().all(|(_, day)| *day >= d("2026-06-01")));
        assert_eq!(got.len(), 1);
        // Once only.
        assert_eq!(
            due_days(d("2026-01-01"), &plan(30, None), d("2026-01-01"), d("2027-01-01")),
            vec![(0, d("2026-01-31"))]
        );
    }
}
