//! Product recalls (产品召回): a campaign over a model's serial range selects its devices; each is
//! tracked to completion (contacted, scheduled with its work order, done, unreachable); progress
//! per station; the list goes to Excel as the caller may see it.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::StationId;
use shouhou_domain::recalls::{DeviceState, SerialRange};
use shouhou_domain::requests::business_day;
use shouhou_domain::text::optional_text;
use shouhou_domain::work_orders::Kind;
use shouhou_store::recalls::{self as store};
pub use shouhou_store::recalls::{Recall, RecallDevice};
use shouhou_store::{customers, products, requests};

/// A new recall campaign.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecallForm {
    pub name: String,
    pub model_code: String,
    /// The first and last serial of the range: the same length and prefix, a number at the end.
    pub serial_from: String,
    pub serial_to: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A station's devices by state.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// None: no station serves them.
    pub station_id: Option<i64>,
    pub total: i64,
    pub pending: i64,
    pub contacted: i64,
    pub scheduled: i64,
    pub done: i64,
    pub unreachable: i64,
}

impl Progress {
    fn add(&mut self, state: &str, n: i64) {
        self.total += n;
        match state {
            "pending" => self.pending += n,
            "contacted" => self.contacted += n,
            "scheduled" => self.scheduled += n,
            "done" => self.done += n,
            _ => self.unreachable += n,
        }
    }
}

/// A recall with its progress, overall and per station, as far as the caller's stations go.
#[derive(Debug, Clone)]
pub struct RecallDetail {
    pub recall: Recall,
    pub overall: Progress,
    pub stations: Vec<Progress>,
}

async fn detail(c: &mut shouhou_store::Conn<'_>, actor: &crate::Actor, recall: Recall) -> Result<RecallDetail> {
    let mut overall = Progress::default();
    let mut stations: Vec<Progress> = vec![];
    for (station, state, n) in store::progress(c, recall.id, &actor.scope).await? {
        overall.add(&state, n);
        match stations.iter_mut().find(|p| p.station_id == station) {
            Some(p) => p.add(&state, n),
            None => {
                let mut p = Progress { station_id: station, ..Default::default() };
                p.add(&state, n);
                stations.push(p);
            }
        }
    }
    Ok(RecallDetail { recall, overall, stations })
}

/// Start a recall (service administrators): the model's devices in the serial range, each
/// pending, with the station serving it.
#[tracing::instrument(skip_all)]
pub async fn create_recall(app: &App, ctx: &Ctx, f: &RecallForm) -> Result<RecallDetail> {
    let actor = ctx.require(Permission::WarrantyAudit)?;
    let mut e = ValidationErrors::default();
    let name = e.take(optional_text("name", Some(&f.name), 100)).flatten().filter(|n| !n.is_empty());
    if name.is_none() && !e.0.iter().any(|x| x.field == "name") {
        e.push("name", "required");
    }
    let reason = e.take(optional_text("reason", f.reason.as_deref(), 1000)).flatten().unwrap_or_default();
    let range = e.take(SerialRange::parse(&f.serial_from, &f.serial_to));
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let model = match f.model_code.trim() {
        "" => {
            e.push("model_code", "required");
            None
        }
        code => {
            let m = products::model_by_code(c, code).await?;
            if m.is_none() {
                e.push("model_code", "unknown_model");
            }
            m
        }
    };
    let (Some(name), Some(range), Some(model)) = (name, range, model) else { return Err(e.into()) };
    e.into_result()?;
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("RC {day}")).await?;
    let number = shouhou_domain::recalls::format_number(day, counter as u64);
    let (lo, hi) = range.ends();
    let id = store::insert(c, &number, &name, model.id, (&lo, &hi), &reason, actor.id.0, now).await?;
    let mut count = 0;
    for (device, serial, station) in store::candidates(c, model.id, lo.len() as i64, &lo, &hi).await? {
        if range.contains(&serial) {
            store::insert_device(c, id, device, station, now).await?;
            count += 1;
        }
    }
    store::set_count(c, id, count).await?;
    record(
        c,
        app,
        ctx,
        "recall.create",
        "recall",
        Some(id.to_string()),
        json!({"number": number, "model": model.code, "serial_from": lo, "serial_to": hi, "devices": count}),
    )
    .await?;
    let recall = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let d = detail(c, actor, recall).await?;
    tx.commit().await?;
    Ok(d)
}

/// The campaigns, newest first.
pub async fn list_recalls(app: &App, ctx: &Ctx) -> Result<Vec<Recall>> {
    ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    Ok(store::list(&mut rd.conn(), 200).await?)
}

pub async fn get_recall(app: &App, ctx: &Ctx, id: i64) -> Result<RecallDetail> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let recall = store::get(&mut c, id).await?.ok_or(AppError::NotFound)?;
    detail(&mut c, actor, recall).await
}

/// The devices of a recall served by the caller's stations.
pub async fn devices(app: &App, ctx: &Ctx, id: i64) -> Result<Vec<RecallDevice>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    store::get(&mut c, id).await?.ok_or(AppError::NotFound)?;
    Ok(store::devices_of(&mut c, id, &actor.scope).await?)
}

/// Where a device of a recall stands, as an agent or a station records it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StateForm {
    /// pending, contacted, done, unreachable (scheduled comes with a work order)
    pub state: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn record_state(app: &App, ctx: &Ctx, id: i64, device: i64, f: &StateForm) -> Result<RecallDevice> {
    let actor = ctx.require(Permission::WorkOrderWrite)?;
    let mut e = ValidationErrors::default();
    let state = e.take(DeviceState::parse("state", &f.state));
    if state.is_some_and(|s| !s.recordable()) {
        e.push("state", "comes_with_work_order");
    }
    let note = e.take(optional_text("note", f.note.as_deref(), 500)).flatten().unwrap_or_default();
    let Some(state) = state else { return Err(e.into()) };
    e.into_result()?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let row = store::devices_of(&mut c, id, &actor.scope)
        .await?
        .into_iter()
        .find(|d| d.device_id == device)
        .ok_or(AppError::NotFound)?;
    store::set_state(&mut c, id, device, state.as_str(), &note, actor.id.0, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "recall.device",
        "recall",
        Some(id.to_string()),
        json!({"device_id": device, "serial": row.serial_number, "state": state.as_str(), "note": note}),
    )
    .await?;
    let row = store::devices_of(&mut c, id, &actor.scope)
        .await?
        .into_iter()
        .find(|d| d.device_id == device)
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Make the recall's work orders: one repair visit for each device of the caller's stations that
/// still needs one (pending, contacted or unreachable, no work order yet), each in its own
/// transaction and at most once. Answers how many were made.
#[tracing::instrument(skip_all)]
pub async fn make_work_orders(app: &App, ctx: &Ctx, id: i64) -> Result<usize> {
    let actor = ctx.require(Permission::WorkOrderWrite)?;
    let recall = {
        let mut rd = app.db.read().await?;
        store::get(&mut rd.conn(), id).await?.ok_or(AppError::NotFound)?
    };
    let todo: Vec<RecallDevice> = {
        let mut rd = app.db.read().await?;
        store::devices_of(&mut rd.conn(), id, &actor.scope).await?
    }
    .into_iter()
    .filter(|d| d.work_order_id.is_none() && DeviceState::parse("state", &d.state).is_ok_and(DeviceState::needs_visit))
    .collect();
    let mut made = 0;
    for d in todo {
        let now = crate::instant(app.now())?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let description = format!("产品召回 {}：{}", recall.number, recall.name);
        let w = crate::work_orders::create_for_device(&mut c, app, d.device_id, Kind::Repair, description, now).await?;
        // Another caller made it first: this transaction's work order goes with the rollback.
        if !store::set_work_order(&mut c, id, d.device_id, w.id, now.as_millisecond()).await? {
            continue;
        }
        record(
            &mut c,
            app,
            ctx,
            "recall.work_order",
            "recall",
            Some(id.to_string()),
            json!({"device_id": d.device_id, "serial": d.serial_number, "work_order": w.number}),
        )
        .await?;
        tx.commit().await?;
        made += 1;
    }
    Ok(made)
}

/// The recall's devices as an .xlsx file, the customers masked as the caller may see them (an
/// export in clear is audited).
#[tracing::instrument(skip_all)]
pub async fn export_xlsx(app: &App, ctx: &Ctx, id: i64) -> Result<Vec<u8>> {
    let actor = ctx.require_read(Permission::WorkOrderRead)?;
    let clear = actor.can(Permission::PersonalDataRead);
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let recall = store::get(&mut c, id).await?.ok_or(AppError::NotFound)?;
    let rows = store::devices_of(&mut c, id, &actor.scope).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut codes = std::collections::HashMap::new();
    for r in &rows {
        let customer = customers::get_customer(&mut c, &app.keys, r.customer_id).await?.ok_or(AppError::NotFound)?;
        let v = crate::customers::view(customer, clear);
        let station = match r.station_id {
            None => String::new(),
            Some(s) => match codes.get(&s) {
                Some(code) => String::clone(code),
                None => {
                    let code = shouhou_store::stations::get_station(&mut c, StationId(s))
                        .await?
                        .map(|x| x.code)
                        .unwrap_or_default();
                    codes.insert(s, code.clone());
                    code
                }
            },
        };
        out.push(vec![
            r.serial_number.clone(),
            v.name,
            v.phone,
            v.region_name,
            station,
            state_label(&r.state).to_string(),
            r.work_order_number.clone().unwrap_or_default(),
            r.note.clone(),
            crate::exports::local_time(r.updated_at),
        ]);
    }
    drop(rd);
    if clear {
        crate::audit::record_alone(
            app,
            ctx,
            "recall.export",
            "recall",
            Some(id.to_string()),
            json!({"number": recall.number, "rows": out.len(), "clear": true}),
        )
        .await?;
    }
    let headers = &["序列号", "客户", "电话", "地区", "服务站", "状态", "派工单", "备注", "更新时间"];
    tokio::task::spawn_blocking(move || crate::exports::workbook("召回设备", headers, &out))
        .await
        .map_err(|e| AppError::Internal(format!("writing xlsx: {e}")))?
}

fn state_label(state: &str) -> &str {
    match state {
        "pending" => "待联系",
        "contacted" => "已联系",
        "scheduled" => "已派工",
        "done" => "已完成",
        "unreachable" => "联系不上",
        other => other,
    }
}

/// A recall work order completed: its device is done (in the completion's transaction).
pub(crate) async fn work_order_completed(c: &mut shouhou_store::Conn<'_>, work_order: i64, now: i64) -> Result<()> {
    store::done_by_work_order(c, work_order, now).await?;
    Ok(())
}
