//! Spare parts (备件): the catalog and the stock ledger. Every movement (a receipt, a reservation
//! and its release, an issue and a return, a transfer out and its arrival, scrap) is one
//! transaction that changes the warehouse's figures under the never-below-zero guard and appends
//! its ledger row, audited; a movement the stock cannot bear writes nothing and says how many are
//! available (409 `insufficient_stock`).
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::StationId;
use shouhou_domain::parts::{MovementKind, Quantity, format_milli, part_code};
use shouhou_domain::text::optional_text;
use shouhou_store::parts::{self as store, NewPart, Part, Refs, SerialMove};
use shouhou_store::{Conn, Page, PageRequest, products, warehouses};

/// A new part of the catalog.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartForm {
    /// Part code (letters, digits, `-_./`), unique.
    pub code: String,
    pub name: String,
    /// 个, 台, 米 …
    pub unit: String,
    #[serde(default)]
    pub specification: Option<String>,
    /// Counted in fractions of its unit (metres of cable); default whole units.
    #[serde(default)]
    pub divisible: Option<bool>,
    /// Price per unit in fen (分).
    #[serde(default)]
    pub price_fen: Option<i64>,
    /// Tracked by serial number.
    #[serde(default)]
    pub serialised: Option<bool>,
    /// Codes of the product models it fits.
    #[serde(default)]
    pub model_codes: Option<Vec<String>>,
    /// Its own warranty once installed: device (the rest of the device's; default), fresh
    /// (`warranty_months` from the installation), none.
    #[serde(default)]
    pub warranty_policy: Option<String>,
    #[serde(default)]
    pub warranty_months: Option<i64>,
}

/// A part as the API answers it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub specification: String,
    pub unit: String,
    pub divisible: bool,
    pub price_fen: i64,
    pub serialised: bool,
    pub active: bool,
    pub model_codes: Vec<String>,
    pub warranty_policy: String,
    pub warranty_months: i64,
    pub version: i64,
}

fn view(p: Part, model_codes: Vec<String>) -> PartView {
    PartView {
        id: p.id,
        code: p.code,
        name: p.name,
        specification: p.specification,
        unit: p.unit,
        divisible: p.divisible,
        price_fen: p.price_fen,
        serialised: p.serialised,
        active: p.active,
        model_codes,
        warranty_policy: p.warranty_policy,
        warranty_months: p.warranty_months,
        version: p.version,
    }
}

/// Add a part to the catalog.
#[tracing::instrument(skip_all)]
pub async fn create_part(app: &App, ctx: &Ctx, f: &PartForm) -> Result<PartView> {
    ctx.require(Permission::PartsWrite)?;
    let mut e = ValidationErrors::default();
    let code = e.take(part_code("code", &f.code));
    let name = e.take(optional_text("name", Some(&f.name), 100)).flatten().filter(|n| !n.is_empty());
    if name.is_none() && !e.0.iter().any(|x| x.field == "name") {
        e.push("name", "required");
    }
    let unit = e.take(optional_text("unit", Some(&f.unit), 10)).flatten().filter(|u| !u.is_empty());
    if unit.is_none() && !e.0.iter().any(|x| x.field == "unit") {
        e.push("unit", "required");
    }
    let spec = e.take(optional_text("specification", f.specification.as_deref(), 200)).flatten().unwrap_or_default();
    let policy = e
        .take(shouhou_domain::parts::WarrantyPolicy::parse(
            "warranty_policy",
            f.warranty_policy.as_deref().unwrap_or("device"),
        ))
        .unwrap_or(shouhou_domain::parts::WarrantyPolicy::Device);
    let months = f.warranty_months.unwrap_or(0);
    if !(0..=120).contains(&months) {
        e.push("warranty_months", "out_of_range");
    } else if policy == shouhou_domain::parts::WarrantyPolicy::Fresh && months == 0 {
        e.push("warranty_months", "required");
    }
    let price = f.price_fen.unwrap_or(0);
    if !(0..=100_000_000_000).contains(&price) {
        e.push("price_fen", "out_of_range");
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let mut models = vec![];
    for m in f.model_codes.iter().flatten() {
        match products::model_by_code(c, m.trim()).await? {
            Some(model) => models.push((model.id, model.code)),
            None => e.push("model_codes", "unknown_model"),
        }
    }
    let (Some(code), Some(name), Some(unit)) = (code, name, unit) else { return Err(e.into()) };
    e.into_result()?;
    let new = NewPart {
        code: &code,
        name: &name,
        specification: &spec,
        unit: &unit,
        divisible: f.divisible.unwrap_or(false),
        price_fen: price,
        serialised: f.serialised.unwrap_or(false),
        warranty_policy: policy.as_str(),
        warranty_months: months,
    };
    let ids: Vec<i64> = models.iter().map(|(id, _)| *id).collect();
    let id = store::insert_part(c, &new, &ids, now).await?;
    record(c, app, ctx, "part.create", "part", Some(id.to_string()), json!({"code": code, "name": name, "unit": unit}))
        .await?;
    let part = store::get_part(c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let mut codes: Vec<String> = models.into_iter().map(|(_, c)| c).collect();
    codes.sort();
    Ok(view(part, codes))
}

/// Parts whose code or name holds `q`.
pub async fn list_parts(app: &App, ctx: &Ctx, q: &str, page: PageRequest) -> Result<Page<PartView>> {
    ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    let mut conn = rd.conn();
    let c = &mut conn;
    let p = store::list_parts(c, q, page).await?;
    let ids: Vec<i64> = p.items.iter().map(|x| x.id).collect();
    let models = store::models_of(c, &ids).await?;
    let items = p
        .items
        .into_iter()
        .map(|part| {
            let codes = models.iter().filter(|(id, _)| *id == part.id).map(|(_, m)| m.clone()).collect();
            view(part, codes)
        })
        .collect();
    Ok(Page { items, page: p.page, per_page: p.per_page, total: p.total })
}

/// A stock movement as a caller records it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MovementForm {
    /// receipt, reserve, release, issue, return, transfer_out, transfer_in, scrap
    pub kind: String,
    /// The warehouse whose stock moves (for a transfer's arrival, the receiving one).
    pub warehouse_id: i64,
    /// Required except for a transfer's arrival (the transfer says what arrives).
    #[serde(default)]
    pub part_code: Option<String>,
    /// In the part's unit: whole for counted parts, up to three decimals for divisible ones.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub quantity: Option<serde_json::Number>,
    /// transfer_out: where the goods go.
    #[serde(default)]
    pub to_warehouse_id: Option<i64>,
    /// transfer_in: the transfer that arrives.
    #[serde(default)]
    pub transfer_id: Option<i64>,
    #[serde(default)]
    pub work_order_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    /// A serialised part's serials, one per unit (receipt, transfer out, scrap, issue, return).
    #[serde(default)]
    pub serials: Option<Vec<String>>,
}

/// What a recorded movement answers: its ledger row, the transfer it opened or closed, and the
/// warehouse's figures for the part afterwards.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementDone {
    pub id: i64,
    pub kind: String,
    pub transfer_id: Option<i64>,
    pub stock: StockView,
}

/// A warehouse's figures for a part, in the part's unit (decimal strings, exact).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockView {
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub on_hand: String,
    pub reserved: String,
    pub available: String,
    pub in_transit: String,
    /// Below its threshold.
    pub low: bool,
}

impl From<store::StockRow> for StockView {
    fn from(r: store::StockRow) -> Self {
        let available = r.on_hand - r.reserved;
        StockView {
            warehouse_id: r.warehouse_id,
            warehouse_code: r.warehouse_code,
            part_code: r.part_code,
            part_name: r.part_name,
            unit: r.unit,
            on_hand: format_milli(r.on_hand),
            reserved: format_milli(r.reserved),
            available: format_milli(available),
            in_transit: format_milli(r.in_transit),
            low: r.low_threshold.is_some_and(|t| available < t),
        }
    }
}

/// A warehouse the actor may move stock in: in their scope and active; otherwise the field's
/// error goes into `e` (a warehouse outside the scope is unknown to them).
async fn warehouse_in_scope(
    c: &mut Conn<'_>,
    actor: &crate::Actor,
    field: &'static str,
    id: i64,
    e: &mut ValidationErrors,
) -> Result<Option<warehouses::Warehouse>> {
    let w = warehouses::get_warehouse(c, shouhou_domain::ids::WarehouseId(id))
        .await?
        .filter(|w| actor.scope.allows_opt(w.station_id.map(StationId)));
    match w {
        Some(w) if !w.active => {
            e.push(field, "warehouse_inactive");
            Ok(None)
        }
        None => {
            e.push(field, "unknown_warehouse");
            Ok(None)
        }
        w => Ok(w),
    }
}

/// The catalog part named `code` (required); its error goes into `e`.
async fn catalog_part(c: &mut Conn<'_>, code: Option<&str>, e: &mut ValidationErrors) -> Result<Option<Part>> {
    let code = match code.map(|p| part_code("part_code", p)) {
        None => {
            e.push("part_code", "required");
            return Ok(None);
        }
        Some(Err(err)) => {
            e.push(err.field, err.code);
            return Ok(None);
        }
        Some(Ok(code)) => code,
    };
    let part = store::part_by_code(c, &code).await?;
    if part.is_none() {
        e.push("part_code", "unknown_part");
    }
    Ok(part)
}

/// Record a movement: one transaction; nothing written if it is refused.
#[tracing::instrument(skip_all)]
pub async fn record_movement(app: &App, ctx: &Ctx, f: &MovementForm) -> Result<MovementDone> {
    let actor = ctx.require(Permission::StockWrite)?;
    let mut tx = app.db.begin().await?;
    let done = movement(&mut tx.conn(), app, ctx, actor, f).await?;
    tx.commit().await?;
    Ok(done)
}

async fn movement(
    c: &mut Conn<'_>,
    app: &App,
    ctx: &Ctx,
    actor: &crate::Actor,
    f: &MovementForm,
) -> Result<MovementDone> {
    let mut e = ValidationErrors::default();
    let kind = e.take(MovementKind::parse("kind", &f.kind));
    let note = e.take(optional_text("note", f.note.as_deref(), 500)).flatten().unwrap_or_default();
    let now = app.now();
    let warehouse = warehouse_in_scope(c, actor, "warehouse_id", f.warehouse_id, &mut e).await?;
    let Some(kind) = kind else { return Err(e.into()) };
    let refs = Refs { work_order_id: f.work_order_id, transfer_id: None, note: &note, created_by: Some(actor.id.0) };
    // A transfer's arrival: the transfer says what, how many and where to.
    if kind == MovementKind::TransferIn {
        let t = match f.transfer_id {
            None => {
                e.push("transfer_id", "required");
                None
            }
            Some(id) => match store::get_transfer(c, id).await? {
                Some(t) if t.to_warehouse_id == f.warehouse_id => Some(t),
                _ => {
                    e.push("transfer_id", "unknown_transfer");
                    None
                }
            },
        };
        let Some(t) = t else { return Err(e.into()) };
        e.into_result()?;
        if !store::receive_transfer(c, t.id, now).await? {
            return Err(ValidationErrors::single("transfer_id", "already_received").into());
        }
        let q = Quantity::from_milli(t.quantity);
        let refs = Refs { transfer_id: Some(t.id), ..refs };
        let Some(store::Applied { id, .. }) =
            store::apply(c, kind, t.to_warehouse_id, t.part_id, kind.effect(q), refs, now).await?
        else {
            return Err(AppError::Internal(format!("transfer {} was not in transit", t.id)));
        };
        store::serials_arrived(c, t.id, now).await?;
        return finish(c, app, ctx, kind, id, Some(t.id), t.to_warehouse_id, t.part_id, q).await;
    }
    let part = catalog_part(c, f.part_code.as_deref(), &mut e).await?;
    let quantity = match (&f.quantity, &part) {
        (None, _) => {
            e.push("quantity", "required");
            None
        }
        (Some(n), Some(p)) => e.take(Quantity::parse("quantity", &n.to_string(), p.divisible)),
        (Some(n), None) => e.take(Quantity::parse("quantity", &n.to_string(), true)),
    };
    let destination = match (kind, f.to_warehouse_id) {
        (MovementKind::TransferOut, None) => {
            e.push("to_warehouse_id", "required");
            None
        }
        (MovementKind::TransferOut, Some(to)) if to == f.warehouse_id => {
            e.push("to_warehouse_id", "same_warehouse");
            None
        }
        (MovementKind::TransferOut, Some(to)) => {
            // Goods may be sent to any active warehouse, another station's included.
            match warehouses::get_warehouse(c, shouhou_domain::ids::WarehouseId(to)).await? {
                Some(w) if w.active => Some(w),
                _ => {
                    e.push("to_warehouse_id", "unknown_warehouse");
                    None
                }
            }
        }
        (_, Some(_)) => {
            e.push("to_warehouse_id", "only_for_transfer");
            None
        }
        (_, None) => None,
    };
    let serials = match &part {
        Some(p) => serials_for(p, kind, quantity, f.serials.as_deref(), &mut e),
        None => vec![],
    };
    let (Some(w), Some(part), Some(q)) = (warehouse, part, quantity) else { return Err(e.into()) };
    e.into_result()?;
    if let Some(to) = &destination {
        let (id, t) = ship(c, &w, to.id, &part, q, refs, now).await?;
        let m = SerialMove {
            from_state: "in_stock",
            from_warehouse: Some(w.id),
            to_state: "in_transit",
            to_warehouse: Some(to.id),
            transfer_id: Some(t),
            device_id: None,
            work_order_id: None,
        };
        move_serials(c, part.id, &serials, m, "serial_not_here", now).await?;
        return finish(c, app, ctx, kind, id, Some(t), w.id, part.id, q).await;
    }
    let Some(applied) = store::apply(c, kind, w.id, part.id, kind.effect(q), refs, now).await? else {
        return Err(insufficient(c, w.id, part.id).await);
    };
    if applied.fell_below_threshold {
        notify_low(c, &w, &part, now).await?;
    }
    let here = |to_state, to_warehouse| SerialMove {
        from_state: "in_stock",
        from_warehouse: Some(w.id),
        to_state,
        to_warehouse,
        transfer_id: None,
        device_id: None,
        work_order_id: f.work_order_id,
    };
    match kind {
        MovementKind::Receipt => {
            let mut e = ValidationErrors::default();
            for (i, s) in serials.iter().enumerate() {
                if !store::receive_serial(c, part.id, s, w.id, now).await? {
                    e.push(format!("serials[{i}]"), "serial_elsewhere");
                }
            }
            e.into_result()?;
        }
        MovementKind::Scrap => {
            move_serials(c, part.id, &serials, here("scrapped", None), "serial_not_here", now).await?
        }
        MovementKind::Issue => {
            move_serials(c, part.id, &serials, here("installed", None), "serial_not_here", now).await?
        }
        MovementKind::Return => {
            let m = SerialMove { from_state: "installed", from_warehouse: None, ..here("in_stock", Some(w.id)) };
            move_serials(c, part.id, &serials, m, "serial_not_installed", now).await?
        }
        _ => {}
    }
    finish(c, app, ctx, kind, applied.id, None, w.id, part.id, q).await
}

/// The serials a movement of a serialised part names: one per unit, each once, for the kinds that
/// move units (none for a reservation); errors into `e`. A part without serials takes none.
fn serials_for(
    part: &Part,
    kind: MovementKind,
    quantity: Option<Quantity>,
    given: Option<&[String]>,
    e: &mut ValidationErrors,
) -> Vec<String> {
    let given = given.unwrap_or_default();
    let moves_units = matches!(
        kind,
        MovementKind::Receipt
            | MovementKind::TransferOut
            | MovementKind::Scrap
            | MovementKind::Issue
            | MovementKind::Return
    );
    if !part.serialised || !moves_units {
        if !given.is_empty() {
            e.push("serials", "not_serialised");
        }
        return vec![];
    }
    let mut out: Vec<String> = vec![];
    for (i, s) in given.iter().enumerate() {
        let s = s.trim().to_ascii_uppercase();
        if s.is_empty() || s.len() > 64 {
            e.push(format!("serials[{i}]"), "invalid_serial");
        } else if out.contains(&s) {
            e.push(format!("serials[{i}]"), "duplicate_serial");
        } else {
            out.push(s);
        }
    }
    if let Some(q) = quantity
        && i64::try_from(given.len()).ok().map(Quantity::units) != Some(q)
    {
        e.push("serials", "one_per_unit");
    }
    out
}

/// Move each serial as `m` says; any not where it must be fails the movement (its field named).
async fn move_serials(
    c: &mut Conn<'_>,
    part: i64,
    serials: &[String],
    m: SerialMove<'_>,
    code: &'static str,
    now: i64,
) -> Result<()> {
    let mut e = ValidationErrors::default();
    for (i, s) in serials.iter().enumerate() {
        if !store::move_serial(c, part, s, m, now).await? {
            e.push(format!("serials[{i}]"), code);
        }
    }
    Ok(e.into_result()?)
}

/// Send `q` of `part` from warehouse `from` to warehouse `to`, in the caller's transaction: the
/// transfer, the sender's ledger row (goods off its shelf) and the receiver's (in transit). Answers
/// (the sender's ledger row, the transfer); 409 `insufficient_stock` when the sender has fewer.
pub(crate) async fn ship(
    c: &mut Conn<'_>,
    from: &warehouses::Warehouse,
    to: i64,
    part: &Part,
    q: Quantity,
    refs: Refs<'_>,
    now: i64,
) -> Result<(i64, i64)> {
    let t = store::insert_transfer(c, part.id, from.id, to, q.milli(), refs, now).await?;
    let refs = Refs { transfer_id: Some(t), ..refs };
    let kind = MovementKind::TransferOut;
    let Some(applied) = store::apply(c, kind, from.id, part.id, kind.effect(q), refs, now).await? else {
        return Err(insufficient(c, from.id, part.id).await);
    };
    if applied.fell_below_threshold {
        notify_low(c, from, part, now).await?;
    }
    if store::apply(c, kind, to, part.id, MovementKind::transit_effect(q), refs, now).await?.is_none() {
        return Err(AppError::Internal("in transit could not be recorded".into()));
    }
    Ok((applied.id, t))
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    c: &mut Conn<'_>,
    app: &App,
    ctx: &Ctx,
    kind: MovementKind,
    id: i64,
    transfer_id: Option<i64>,
    warehouse: i64,
    part: i64,
    q: Quantity,
) -> Result<MovementDone> {
    record(
        c,
        app,
        ctx,
        &format!("stock.{}", kind.as_str()),
        "stock_movement",
        Some(id.to_string()),
        json!({"warehouse_id": warehouse, "part_id": part, "quantity": format_milli(q.milli()), "transfer_id": transfer_id}),
    )
    .await?;
    let row = store::stock(c, &shouhou_domain::auth::Scope::All, Some(warehouse), Some(part), false, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok(MovementDone { id, kind: kind.as_str().to_string(), transfer_id, stock: row.into() })
}

/// The figures of the warehouses in the caller's scope, narrowed to a warehouse and/or a part,
/// or to the ones below their threshold.
pub async fn stock(
    app: &App,
    ctx: &Ctx,
    warehouse: Option<i64>,
    part_code_: Option<&str>,
    only_low: bool,
) -> Result<Vec<StockView>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    let mut conn = rd.conn();
    let c = &mut conn;
    let part = match part_code_.map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(code) => match store::part_by_code(c, &code.to_ascii_uppercase()).await? {
            Some(p) => Some(p.id),
            None => return Ok(vec![]),
        },
    };
    Ok(store::stock(c, &actor.scope, warehouse, part, only_low, 1000).await?.into_iter().map(StockView::from).collect())
}

/// Issue `quantity` whole units of the catalog part `code` from `warehouse` to work order
/// `work_order`, in the caller's transaction: the warehouse must be one the actor's scope holds
/// (their station's shelf or van). Answers the part and the ledger row; 409 `insufficient_stock`
/// (nothing written) when fewer are available.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue_to_work_order(
    c: &mut Conn<'_>,
    actor: &crate::Actor,
    warehouse: i64,
    code: &str,
    quantity: i64,
    work_order: i64,
    device: Option<i64>,
    (old_serial, new_serial): (Option<&str>, Option<&str>),
    now: i64,
) -> Result<(Part, i64)> {
    let mut e = ValidationErrors::default();
    let w = warehouse_in_scope(c, actor, "warehouse_id", warehouse, &mut e).await?;
    // A van is its engineer's: another engineer of the station does not take from it.
    if let Some(van) = &w
        && van.engineer_id.is_some_and(|owner| owner != actor.id.0)
        && !actor.can(Permission::Assign)
    {
        e.push("warehouse_id", "not_your_van");
    }
    let part = catalog_part(c, Some(code), &mut e).await?;
    let (Some(w), Some(part)) = (w, part) else { return Err(e.into()) };
    e.into_result()?;
    let q = Quantity::units(quantity);
    let refs = Refs { work_order_id: Some(work_order), transfer_id: None, note: "", created_by: Some(actor.id.0) };
    let Some(applied) =
        store::apply(c, MovementKind::Issue, w.id, part.id, MovementKind::Issue.effect(q), refs, now).await?
    else {
        return Err(insufficient(c, w.id, part.id).await);
    };
    if applied.fell_below_threshold {
        notify_low(c, &w, &part, now).await?;
    }
    // A serialised part: the new serial leaves this shelf for the device, the old one comes out.
    if part.serialised {
        let Some(new) = new_serial.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()) else {
            return Err(ValidationErrors::single("new_serial", "required_for_serialised").into());
        };
        if quantity != 1 {
            return Err(ValidationErrors::single("quantity", "one_per_serial").into());
        }
        let m = SerialMove {
            from_state: "in_stock",
            from_warehouse: Some(w.id),
            to_state: "installed",
            to_warehouse: None,
            transfer_id: None,
            device_id: device,
            work_order_id: Some(work_order),
        };
        if !store::move_serial(c, part.id, &new, m, now).await? {
            return Err(ValidationErrors::single("new_serial", "serial_not_here").into());
        }
        if let Some(old) = old_serial.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()) {
            let m = SerialMove {
                from_state: "installed",
                from_warehouse: None,
                to_state: "removed",
                to_warehouse: None,
                transfer_id: None,
                device_id: device,
                work_order_id: Some(work_order),
            };
            // An old part the registry never knew (installed before it) is simply recorded on the card.
            store::move_serial(c, part.id, &old, m, now).await?;
        }
    }
    Ok((part, applied.id))
}

/// The refusal of a movement the stock cannot bear, saying what is available.
async fn insufficient(c: &mut Conn<'_>, warehouse: i64, part: i64) -> AppError {
    match store::stock(c, &shouhou_domain::auth::Scope::All, Some(warehouse), Some(part), false, 1).await {
        Ok(rows) => AppError::InsufficientStock {
            available: format_milli(rows.first().map(|r| r.on_hand - r.reserved).unwrap_or(0)),
        },
        Err(e) => e.into(),
    }
}

/// Tell the keepers of a warehouse that a part fell below its threshold there: the station's
/// managers for a station's warehouse, headquarters' warehouse keepers for a central one. Once per
/// fall (a movement that takes it from at or above the threshold to below).
async fn notify_low(c: &mut Conn<'_>, w: &warehouses::Warehouse, part: &Part, now: i64) -> Result<()> {
    let to = match w.station_id {
        Some(s) => shouhou_store::users::station_members_with_role(c, s, "station_manager").await?,
        None => shouhou_store::users::headquarters_with_role(c, "warehouse").await?,
    };
    let title = format!("{} {} 在 {} 低于安全库存", part.code, part.name, w.name);
    let body = "请安排补货或调拨。".to_string();
    let link = format!("/warehouses?q={}#stock", part.code);
    crate::inbox::notify_users(c, &to, "stock.low", &title, &body, &link, now).await?;
    Ok(())
}

/// Where a part is low in a warehouse: below this available quantity (none: no threshold).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ThresholdForm {
    pub warehouse_id: i64,
    pub part_code: String,
    /// In the part's unit; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub threshold: Option<serde_json::Number>,
}

/// Set or clear a part's low-stock threshold in a warehouse of the caller's scope (audited);
/// answers the warehouse's figures for the part.
#[tracing::instrument(skip_all)]
pub async fn set_threshold(app: &App, ctx: &Ctx, f: &ThresholdForm) -> Result<StockView> {
    let actor = ctx.require(Permission::StockWrite)?;
    let mut e = ValidationErrors::default();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let w = warehouse_in_scope(c, actor, "warehouse_id", f.warehouse_id, &mut e).await?;
    let part = catalog_part(c, Some(&f.part_code), &mut e).await?;
    let threshold = match (&f.threshold, &part) {
        (None, _) => None,
        (Some(n), p) => e.take(Quantity::parse("threshold", &n.to_string(), p.as_ref().is_none_or(|p| p.divisible))),
    };
    let (Some(w), Some(part)) = (w, part) else { return Err(e.into()) };
    e.into_result()?;
    store::set_threshold(c, w.id, part.id, threshold.map(Quantity::milli)).await?;
    record(
        c,
        app,
        ctx,
        "stock.threshold",
        "stock_level",
        Some(format!("{}/{}", w.id, part.id)),
        json!({"warehouse_id": w.id, "part_code": part.code, "threshold": threshold.map(|q| format_milli(q.milli()))}),
    )
    .await?;
    let row = store::stock(c, &shouhou_domain::auth::Scope::All, Some(w.id), Some(part.id), false, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(row.into())
}

/// The most ledger rows one export holds.
const MOVEMENTS_EXPORT_MAX: i64 = 100_000;

/// The stock of the caller's warehouses (one warehouse if asked) as an .xlsx file.
#[tracing::instrument(skip_all)]
pub async fn export_stock_xlsx(app: &App, ctx: &Ctx, warehouse: Option<i64>) -> Result<Vec<u8>> {
    let rows: Vec<Vec<String>> = stock(app, ctx, warehouse, None, false)
        .await?
        .into_iter()
        .map(|s| {
            vec![
                s.warehouse_code,
                s.part_code,
                s.part_name,
                s.unit,
                s.on_hand,
                s.reserved,
                s.available,
                s.in_transit,
                if s.low { "是".into() } else { String::new() },
            ]
        })
        .collect();
    let headers = &["仓库", "备件编码", "备件名称", "单位", "在库", "预留", "可用", "在途", "低于安全库存"];
    tokio::task::spawn_blocking(move || crate::exports::workbook("库存", headers, &rows))
        .await
        .map_err(|e| AppError::Internal(format!("writing xlsx: {e}")))?
}

/// The ledger of the caller's warehouses (one if asked) for the business days `from` to `to`
/// (YYYY-MM-DD, both included; default: this month so far) as an .xlsx file.
#[tracing::instrument(skip_all)]
pub async fn export_movements_xlsx(
    app: &App,
    ctx: &Ctx,
    warehouse: Option<i64>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<u8>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let (lo, hi) = crate::business_period(app, from, to)?;
    let mut rd = app.db.read().await?;
    let rows = store::movements(&mut rd.conn(), &actor.scope, warehouse, lo, hi, MOVEMENTS_EXPORT_MAX).await?;
    drop(rd);
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|m| {
            vec![
                crate::exports::local_time(m.created_at),
                m.warehouse_code,
                m.part_code,
                m.part_name,
                m.unit,
                kind_label(&m.kind).to_string(),
                format_milli(m.on_hand_delta),
                format_milli(m.reserved_delta),
                format_milli(m.in_transit_delta),
                m.work_order_number.unwrap_or_default(),
                m.transfer_id.map(|t| t.to_string()).unwrap_or_default(),
                m.stocktake_number.unwrap_or_default(),
                m.note,
                m.created_by_name.unwrap_or_default(),
            ]
        })
        .collect();
    let headers = &[
        "时间",
        "仓库",
        "备件编码",
        "备件名称",
        "单位",
        "类型",
        "在库变动",
        "预留变动",
        "在途变动",
        "派工单",
        "调拨单",
        "盘点单",
        "备注",
        "操作人",
    ];
    tokio::task::spawn_blocking(move || crate::exports::workbook("出入库流水", headers, &rows))
        .await
        .map_err(|e| AppError::Internal(format!("writing xlsx: {e}")))?
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "receipt" => "入库",
        "reserve" => "预留",
        "release" => "释放预留",
        "issue" => "领用出库",
        "return" => "退回入库",
        "transfer_out" => "调拨",
        "transfer_in" => "调拨到货",
        "scrap" => "报废",
        other => other,
    }
}
