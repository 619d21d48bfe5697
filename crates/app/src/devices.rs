//! Devices (设备): validation, creation, and the warranty as of today.
use crate::audit::record;
use crate::products::field_error;
use crate::{App, AppError, Ctx, Result};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::devices::{SerialNumber, WarrantyStatus, validate_sale_date, warranty_status};
use shouhou_domain::mask::mask_address;
use shouhou_domain::regions::RegionCode;
use shouhou_domain::requests::business_day;
use shouhou_domain::text::optional_text;
use shouhou_store::{
    Page, PageRequest,
    customers::{self},
    devices::{self, Device, NewDevice},
    products::{self},
};

// ---------- devices ----------

/// A device as entered, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceForm {
    pub serial_number: String,
    pub model_code: String,
    pub customer_id: i64,
    /// YYYY-MM-DD, not in the future.
    pub sale_date: String,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    /// Warranty extended by contract through this day (YYYY-MM-DD).
    pub contract_until: Option<String>,
}

fn parse_date(field: &str, s: &str) -> std::result::Result<jiff::civil::Date, shouhou_domain::FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(shouhou_domain::FieldError::new(field, "required"));
    }
    s.parse::<jiff::civil::Date>().map_err(|_| shouhou_domain::FieldError::new(field, "invalid_date"))
}

/// Today in Asia/Shanghai.
pub fn today(app: &App) -> jiff::civil::Date {
    business_day(jiff::Timestamp::from_millisecond(app.now()).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
}

/// A device form that passed every check that needs no database (its model and customer are
/// looked up by the caller): what `create_device` and the import store.
#[derive(Debug, Clone)]
pub struct ValidDevice {
    pub serial: SerialNumber,
    pub sale_date: jiff::civil::Date,
    pub contract_until: Option<jiff::civil::Date>,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
}

/// Check a device form field by field (every error at once), except its model code and customer,
/// which need the database. `today` is the business day (a sale cannot lie in the future).
pub fn validate_device(f: &DeviceForm, today: jiff::civil::Date) -> std::result::Result<ValidDevice, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let serial = e.take(SerialNumber::parse("serial_number", &f.serial_number));
    let sale = e.take(parse_date("sale_date", &f.sale_date));
    if let Some(s) = sale {
        e.take(validate_sale_date("sale_date", s, today));
    }
    let contract = match f.contract_until.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => e.take(parse_date("contract_until", s)).map(Some),
        None => Some(None),
    };
    let region = match f.install_region_code.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => e.take(RegionCode::parse("install_region_code", s)).map(|r| Some(r.code())),
        None => Some(None),
    };
    let address = e.take(optional_text("install_address", f.install_address.as_deref(), 200));
    let dealer = e.take(optional_text("dealer_name", f.dealer_name.as_deref(), 100));
    let (
        Some(serial),
        Some(sale_date),
        Some(contract_until),
        Some(install_region_code),
        Some(install_address),
        Some(dealer_name),
    ) = (serial, sale, contract, region, address, dealer)
    else {
        return Err(e);
    };
    e.into_result()?;
    Ok(ValidDevice { serial, sale_date, contract_until, install_region_code, install_address, dealer_name })
}

#[tracing::instrument(skip_all)]
pub async fn create_device(app: &App, ctx: &Ctx, f: &DeviceForm) -> Result<i64> {
    let actor = ctx.require(Permission::CustomerWrite)?;
    let valid = validate_device(f, today(app));
    let mut e = valid.as_ref().err().cloned().unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let model = products::model_by_code(&mut c, f.model_code.trim()).await?;
    if model.is_none() {
        e.push("model_code", if f.model_code.trim().is_empty() { "required" } else { "unknown_model" });
    }
    let customer = customers::get_customer_in_scope(&mut c, &app.keys, f.customer_id, &actor.scope).await?;
    if customer.is_none() {
        e.push("customer_id", "unknown_customer");
    }
    let (Ok(v), Some(model), Some(customer)) = (valid, model, customer) else {
        return Err(e.into());
    };
    let serial = v.serial;
    let contract = v.contract_until.map(|d| d.to_string());
    let sale = v.sale_date.to_string();
    let d = NewDevice {
        serial_number: serial.as_str(),
        model_id: model.id,
        customer_id: customer.id,
        sale_date: &sale,
        install_region_code: v.install_region_code.as_deref(),
        install_address: v.install_address.as_deref(),
        dealer_name: v.dealer_name.as_deref(),
        contract_until: contract.as_deref(),
        station_id: customer.station_id,
    };
    let id = devices::insert_device(&mut c, &app.keys, &d, app.now()).await.map_err(field_error("serial_number"))?;
    record(
        &mut c,
        app,
        ctx,
        "device.create",
        "device",
        Some(id.to_string()),
        json!({"serial_number": serial.as_str(), "model": model.code, "customer_id": customer.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A device with its warranty today.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub id: i64,
    pub serial_number: String,
    pub model_code: String,
    pub model_name: String,
    pub product_line: String,
    pub customer_id: i64,
    pub sale_date: String,
    pub warranty: WarrantyStatus,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    /// When its first maintenance (首保) was done.
    pub first_maintenance_at: Option<jiff::Timestamp>,
}

pub fn device_view(d: Device, today: jiff::civil::Date, clear: bool) -> DeviceView {
    let sale = d.sale_date.parse().unwrap_or(today);
    let contract = d.contract_until.as_deref().and_then(|s| s.parse().ok());
    let months = i32::try_from(d.warranty_months).unwrap_or(12);
    DeviceView {
        warranty: warranty_status(sale, months, contract, today),
        id: d.id,
        serial_number: d.serial_number,
        model_code: d.model_code,
        model_name: d.model_name,
        product_line: d.product_line,
        customer_id: d.customer_id,
        sale_date: d.sale_date,
        install_region_code: d.install_region_code,
        install_address: d.install_address.map(|a| if clear { a } else { mask_address(&a) }),
        dealer_name: d.dealer_name,
        first_maintenance_at: d.first_maintenance_at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
    }
}

/// Devices by the start of their serial number, newest first, those of customers in the caller's
/// scope; install addresses masked as the caller may see them (no clear read happens in a list:
/// the address is shown masked here for everyone, in clear on the device's page).
#[tracing::instrument(skip_all)]
pub async fn search_devices(app: &App, ctx: &Ctx, serial: &str, page: PageRequest) -> Result<Page<DeviceView>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let prefix = serial.trim().to_ascii_uppercase();
    let p = {
        let mut rd = app.db.read().await?;
        devices::search_devices(&mut rd.conn(), &app.keys, &prefix, &actor.scope, page).await?
    };
    let today = today(app);
    Ok(p.map(|d| device_view(d, today, false)))
}

/// A device's page: the device, its customer (masked as the caller may see them) and its
/// history, the requests about it that the caller may read, newest first.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub device: DeviceView,
    pub customer: crate::customers::CustomerView,
    pub requests: Vec<crate::requests::RequestListItem>,
    /// Parts its visits replaced, with the faulty and the new serials, newest first.
    pub parts: Vec<devices::ReplacedPart>,
    /// Its returns and exchanges.
    pub returns: Vec<shouhou_store::returns::Authorisation>,
}

#[tracing::instrument(skip_all)]
pub async fn device_record(app: &App, ctx: &Ctx, id: i64) -> Result<DeviceRecord> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let (device, history, parts, returns) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let d = devices::get_device_in_scope(&mut c, &app.keys, id, &actor.scope).await?.ok_or(AppError::NotFound)?;
        let history = shouhou_store::requests::requests_of_device(&mut c, id, &actor.scope, 100).await?;
        let parts = devices::replaced_parts(&mut c, id, &actor.scope).await?;
        let returns = shouhou_store::returns::of(&mut c, None, Some(id))
            .await?
            .into_iter()
            .filter(|a| actor.scope.allows_opt(a.station_id.map(shouhou_domain::ids::StationId)))
            .collect();
        (d, history, parts, returns)
    };
    let customer = crate::customers::get_customer(app, ctx, device.customer_id).await?;
    let requests = if actor.can(Permission::RequestRead) {
        crate::requests::with_names(app, ctx, "device_record", history).await?
    } else {
        vec![]
    };
    Ok(DeviceRecord { device: device_view(device, today(app), !customer.masked), customer, requests, parts, returns })
}

// ---------- 三包 entitlement ----------

pub use shouhou_domain::entitlement::{Coverage, Entitlement, Reason as EntitlementReason, Remedy, SanbaoRules};

/// The 三包 rules of a product line: the setting `sanbao_rules` (a JSON object of product line →
/// rules, `"*"` for every other line), else the regulation's defaults.
async fn sanbao_rules(c: &mut shouhou_store::Conn<'_>, product_line: &str) -> Result<SanbaoRules> {
    let Some(raw) = shouhou_store::settings::get(c, "sanbao_rules").await? else { return Ok(SanbaoRules::default()) };
    let by_line: std::collections::BTreeMap<String, SanbaoRules> =
        serde_json::from_str(&raw).map_err(|e| AppError::Internal(format!("setting sanbao_rules: {e}")))?;
    Ok(by_line.get(product_line).or_else(|| by_line.get("*")).cloned().unwrap_or_default())
}

fn date_field(field: &'static str, s: &str) -> std::result::Result<jiff::civil::Date, shouhou_domain::FieldError> {
    s.trim().parse().map_err(|_| shouhou_domain::FieldError::new(field, "invalid_date"))
}

/// A device's 三包 entitlement on `at` (today if not given): covered or not and until when, and
/// the remedies open for a performance fault reported that day, each with its rule.
#[tracing::instrument(skip_all)]
pub async fn entitlement(app: &App, ctx: &Ctx, id: i64, at: Option<&str>) -> Result<Entitlement> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let at = match at.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => date_field("at", a)?,
        None => today(app),
    };
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let d = devices::get_device_in_scope(&mut c, &app.keys, id, &actor.scope).await?.ok_or(AppError::NotFound)?;
    entitlement_on(&mut c, &d, at).await
}

/// The entitlement of device `d` on `at`, read in the caller's transaction.
pub(crate) async fn entitlement_on(
    c: &mut shouhou_store::Conn<'_>,
    d: &Device,
    at: jiff::civil::Date,
) -> Result<Entitlement> {
    let id = d.id;
    let (exchanged_on, void_reason) = devices::warranty_facts(c, id).await?.unwrap_or_default();
    let day = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms).map(business_day).map_err(|e| AppError::Internal(e.to_string()))
    };
    let mut repairs = vec![];
    for r in devices::repairs_of(c, id).await? {
        repairs.push(shouhou_domain::entitlement::PastRepair {
            from: day(r.created_at)?,
            done: r.completed_at.map(day).transpose()?,
            fault_code: r.fault_code,
            waited_for_parts: r.waited_for_parts,
        });
    }
    let facts = shouhou_domain::entitlement::Facts {
        sale: d.sale_date.parse().map_err(|_| AppError::Internal(format!("device {id}: sale date {}", d.sale_date)))?,
        warranty_months: i32::try_from(d.warranty_months).unwrap_or(12),
        contract_until: d.contract_until.as_deref().and_then(|s| s.parse().ok()),
        exchanged_on: exchanged_on.as_deref().and_then(|s| s.parse().ok()),
        void_reason,
        repairs,
    };
    let rules = sanbao_rules(c, &d.product_line).await?;
    Ok(shouhou_domain::entitlement::entitlement(&facts, &rules, at))
}

/// The service administrator's warranty record of a device: the day of its last exchange for a
/// new unit (the warranty runs again from it) and why its warranty is void (none: not void).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WarrantyForm {
    /// YYYY-MM-DD, not before the sale nor after today.
    pub exchanged_on: Option<String>,
    pub void_reason: Option<String>,
}

/// Replace a device's warranty record (audited); answers its entitlement today.
#[tracing::instrument(skip_all)]
pub async fn set_warranty(app: &App, ctx: &Ctx, id: i64, f: &WarrantyForm) -> Result<Entitlement> {
    let actor = ctx.require(Permission::WarrantyAudit)?;
    let mut e = ValidationErrors::default();
    let exchanged = match f.exchanged_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => e.take(date_field("exchanged_on", s)),
    };
    let void = e.take(optional_text("void_reason", f.void_reason.as_deref(), 200)).flatten().filter(|v| !v.is_empty());
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let d = devices::get_device_in_scope(&mut c, &app.keys, id, &actor.scope).await?.ok_or(AppError::NotFound)?;
    if let Some(x) = exchanged {
        if x > today(app) {
            e.push("exchanged_on", "in_future");
        } else if d.sale_date.parse::<jiff::civil::Date>().is_ok_and(|sale| x < sale) {
            e.push("exchanged_on", "before_sale");
        }
    }
    e.into_result()?;
    let exchanged = exchanged.map(|x| x.to_string());
    devices::set_warranty_facts(&mut c, id, exchanged.as_deref(), void.as_deref()).await?;
    record(
        &mut c,
        app,
        ctx,
        "device.warranty",
        "device",
        Some(id.to_string()),
        json!({"exchanged_on": exchanged, "void_reason": void}),
    )
    .await?;
    tx.commit().await?;
    entitlement(app, ctx, id, None).await
}
