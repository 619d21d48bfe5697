//! The service desk's records: product models, customers and their devices, and the screen pop an
//! agent sees when a phone rings. Personal data is shown in clear only to those with the right,
//! and every read in clear is written to the audit trail; everyone else sees it masked.
use crate::system::record;
use crate::{App, AppError, Ctx, Result};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::customer::{
    CreditCode, CustomerTier, IdNumber, Phone, SerialNumber, WarrantyStatus, validate_sale_date, warranty_status,
};
use shouhou_domain::ids::StationId;
use shouhou_domain::mask::{mask_address, mask_id_number, mask_name, mask_phone};
use shouhou_domain::org::{optional_text, required_text};
use shouhou_domain::region::RegionCode;
use shouhou_domain::request::business_day;
use shouhou_store::catalog::{
    self, Customer, Device, NewCustomer, NewDevice, NewProductModel, PersonInput, ProductModel,
};
use shouhou_store::requests::{self, ServiceRequest};
use shouhou_store::{Page, PageRequest, org};

// ---------- product models ----------

#[derive(Debug, Clone, Default)]
pub struct ProductModelForm {
    pub code: String,
    pub name: String,
    pub product_line: String,
    pub warranty_months: Option<i64>,
    pub coverage: Option<String>,
    pub first_maintenance_days: Option<i64>,
    pub first_maintenance_hours: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn create_product_model(app: &App, ctx: &Ctx, f: &ProductModelForm) -> Result<i64> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    let code = e.take(shouhou_domain::org::OrgCode::parse("code", &f.code));
    let name = e.take(required_text("name", &f.name, 100));
    let line = e.take(required_text("product_line", &f.product_line, 50));
    let months = f.warranty_months.unwrap_or(12);
    if !(0..=240).contains(&months) {
        e.push("warranty_months", "out_of_range");
    }
    for (field, v) in
        [("first_maintenance_days", f.first_maintenance_days), ("first_maintenance_hours", f.first_maintenance_hours)]
    {
        if v.is_some_and(|v| v <= 0 || v > 100_000) {
            e.push(field, "out_of_range");
        }
    }
    let coverage = e.take(optional_text("coverage", f.coverage.as_deref(), 500));
    let (Some(code), Some(name), Some(line), Some(coverage)) = (code, name, line, coverage) else {
        return Err(e.into());
    };
    e.into_result()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let m = NewProductModel {
        code: code.as_str(),
        name: &name,
        product_line: &line,
        warranty_months: months,
        coverage: coverage.as_deref().unwrap_or(""),
        first_maintenance_days: f.first_maintenance_days,
        first_maintenance_hours: f.first_maintenance_hours,
    };
    let id = catalog::insert_model(&mut c, &m, app.now()).await.map_err(field_error("code"))?;
    record(
        &mut c,
        app,
        ctx,
        "product_model.create",
        "product_model",
        Some(id.to_string()),
        json!({"code": code.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list_product_models(app: &App, ctx: &Ctx, page: PageRequest) -> Result<Page<ProductModel>> {
    ctx.require_read(Permission::CustomerRead)?;
    let mut rd = app.db.read().await?;
    Ok(catalog::list_models(&mut rd.conn(), page).await?)
}

/// A unique-key violation of a command is a field error (422), like any other bad input.
fn field_error(field: &'static str) -> impl Fn(shouhou_store::StoreError) -> AppError {
    move |e| match e {
        shouhou_store::StoreError::Duplicate { .. } => ValidationErrors::single(field, "already_exists").into(),
        other => other.into(),
    }
}

// ---------- customers ----------

#[derive(Debug, Clone, Default)]
pub struct ContactForm {
    pub role: String,
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerForm {
    /// `person` (default) or `company`.
    pub kind: Option<String>,
    pub name: String,
    pub phone: String,
    pub credit_code: Option<String>,
    /// Citizen identity number of a person (optional).
    pub id_number: Option<String>,
    pub region_code: String,
    pub address: String,
    pub tier: Option<String>,
    pub station_code: Option<String>,
    pub contacts: Vec<ContactForm>,
}

/// A customer as the caller may see them: in clear with the right, masked without.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub phone: String,
    pub credit_code: Option<String>,
    pub id_number: Option<String>,
    pub region_code: String,
    pub region_name: String,
    pub address: String,
    pub tier: String,
    pub station_id: Option<i64>,
    pub contacts: Vec<ContactView>,
    /// True when the personal fields are masked for this caller.
    pub masked: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    pub role: String,
    pub name: String,
    pub phone: String,
}

/// The one place where a customer is masked for a caller without the right to see them in clear.
pub(crate) fn view(c: Customer, clear: bool) -> CustomerView {
    let contacts = c
        .contacts
        .into_iter()
        .map(|k| ContactView {
            role: k.role,
            name: if clear { k.name } else { k.name_mask },
            phone: if clear { k.phone } else { k.phone_mask },
        })
        .collect();
    CustomerView {
        id: c.id,
        region_name: shouhou_domain::region::region_name(&c.region_code),
        kind: c.kind,
        name: if clear { c.name } else { c.name_mask },
        phone: if clear { c.phone } else { c.phone_mask },
        credit_code: c.credit_code,
        id_number: if clear { c.id_number } else { c.id_number_mask },
        region_code: c.region_code,
        address: if clear { c.address } else { mask_address(&c.address) },
        tier: c.tier,
        station_id: c.station_id,
        contacts,
        masked: !clear,
        version: c.version,
    }
}

/// Write "who read whose personal data" to the audit trail, in its own transaction.
async fn log_clear_read(app: &App, ctx: &Ctx, what: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    crate::system::record_alone(
        app,
        ctx,
        "customer.read_personal",
        "customer",
        Some(ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
        json!({"via": what}),
    )
    .await
}

struct Person {
    name: String,
    phone: Phone,
}

fn parse_person(e: &mut ValidationErrors, prefix: &str, name: &str, phone: &str) -> Option<Person> {
    let name = e.take(required_text(&format!("{prefix}name"), name, 100));
    let phone = e.take(Phone::parse(&format!("{prefix}phone"), phone));
    Some(Person { name: name?, phone: phone? })
}

/// A further person of a valid customer, with the masks stored beside the ciphertext.
#[derive(Debug, Clone)]
pub struct ValidContact {
    pub role: String,
    pub name: String,
    pub phone: Phone,
    pub name_mask: String,
    pub phone_mask: String,
}

/// A customer form that passed every check that needs no database (the station is looked up by
/// the caller): what `create_customer` and the import store.
#[derive(Debug, Clone)]
pub struct ValidCustomer {
    pub kind: &'static str,
    pub name: String,
    pub phone: Phone,
    pub name_mask: String,
    pub phone_mask: String,
    pub credit_code: Option<String>,
    pub id_number: Option<IdNumber>,
    pub id_number_mask: Option<String>,
    pub region: RegionCode,
    pub address: String,
    pub tier: CustomerTier,
    pub contacts: Vec<ValidContact>,
}

impl ValidCustomer {
    /// The row to store; `region_code` is `self.region.code()`, kept by the caller for the borrow.
    pub fn to_new<'a>(
        &'a self,
        region_code: &'a str,
        station_id: Option<i64>,
        created_by: Option<i64>,
    ) -> NewCustomer<'a> {
        NewCustomer {
            kind: self.kind,
            person: PersonInput {
                name: &self.name,
                name_mask: &self.name_mask,
                phone: self.phone.as_str(),
                phone_mask: &self.phone_mask,
            },
            credit_code: self.credit_code.as_deref(),
            id_number: self.id_number.as_ref().zip(self.id_number_mask.as_deref()).map(|(id, m)| (id.as_str(), m)),
            region_code,
            address: &self.address,
            tier: self.tier.as_str(),
            station_id,
            created_by,
            contacts: self
                .contacts
                .iter()
                .map(|k| {
                    (
                        k.role.as_str(),
                        PersonInput {
                            name: &k.name,
                            name_mask: &k.name_mask,
                            phone: k.phone.as_str(),
                            phone_mask: &k.phone_mask,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// Check a customer form field by field (every error at once), except its station code, which
/// needs the database and the caller's scope.
pub fn validate_customer(f: &CustomerForm) -> std::result::Result<ValidCustomer, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let kind = match f.kind.as_deref().map(str::trim).unwrap_or("person") {
        "person" => "person",
        "company" => "company",
        _ => {
            e.push("kind", "invalid_choice");
            "person"
        }
    };
    let person = parse_person(&mut e, "", &f.name, &f.phone);
    let credit = match f.credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => e.take(CreditCode::parse("credit_code", s)).map(|c| Some(c.as_str().to_string())),
        None if kind == "company" => {
            e.push("credit_code", "required");
            None
        }
        None => Some(None),
    };
    let id_number = match f.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(_) if kind == "company" => {
            e.push("id_number", "not_for_company");
            None
        }
        Some(s) => e.take(IdNumber::parse("id_number", s)).map(Some),
        None => Some(None),
    };
    let region = e.take(RegionCode::parse("region_code", &f.region_code));
    let address = e.take(required_text("address", &f.address, 200));
    let tier = match f.tier.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(CustomerTier::Standard),
        Some(t) => e.take(CustomerTier::parse("tier", t)),
    };
    let contacts: Vec<(String, Option<Person>)> = f
        .contacts
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let role = match k.role.trim() {
                r @ ("operator" | "contact") => r.to_string(),
                "" => "contact".to_string(),
                _ => {
                    e.push(format!("contacts[{i}].role"), "invalid_choice");
                    "contact".to_string()
                }
            };
            (role, parse_person(&mut e, &format!("contacts[{i}]."), &k.name, &k.phone))
        })
        .collect();
    let (Some(person), Some(credit), Some(id_number), Some(region), Some(address), Some(tier)) =
        (person, credit, id_number, region, address, tier)
    else {
        return Err(e);
    };
    e.into_result()?;
    let contacts = contacts
        .into_iter()
        .filter_map(|(role, p)| p.map(|p| (role, p)))
        .map(|(role, p)| ValidContact {
            role,
            name_mask: mask_name(&p.name),
            phone_mask: mask_phone(p.phone.as_str()),
            name: p.name,
            phone: p.phone,
        })
        .collect();
    Ok(ValidCustomer {
        kind,
        name_mask: mask_name(&person.name),
        phone_mask: mask_phone(person.phone.as_str()),
        name: person.name,
        phone: person.phone,
        credit_code: credit,
        id_number_mask: id_number.as_ref().map(|i| mask_id_number(i.as_str())),
        id_number,
        region,
        address,
        tier,
        contacts,
    })
}

#[tracing::instrument(skip_all)]
pub async fn create_customer(app: &App, ctx: &Ctx, f: &CustomerForm) -> Result<i64> {
    let actor = ctx.require(Permission::CustomerWrite)?;
    let valid = validate_customer(f);
    let mut e = valid.as_ref().err().cloned().unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let station = match f.station_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => match org::station_by_code(&mut c, code).await?.filter(|s| actor.scope.allows(StationId(s.id))) {
            Some(s) => Some(s.id),
            None => {
                e.push("station_code", "unknown_station");
                None
            }
        },
        // A station's own staff register customers of their station.
        None => match &actor.scope {
            Scope::Stations(ids) => ids.first().map(|s| s.0),
            _ => None,
        },
    };
    let v = match valid {
        Ok(v) if e.is_empty() => v,
        _ => return Err(e.into()),
    };
    let region_code = v.region.code();
    let new = v.to_new(&region_code, station, Some(actor.id.0));
    let id = catalog::insert_customer(&mut c, &app.keys, &new, app.now()).await.map_err(field_error("credit_code"))?;
    record(
        &mut c,
        app,
        ctx,
        "customer.create",
        "customer",
        Some(id.to_string()),
        json!({"kind": v.kind, "name": v.name_mask, "phone": v.phone_mask}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One customer; 404 outside the caller's stations. Reading in clear is audited.
#[tracing::instrument(skip_all)]
pub async fn get_customer(app: &App, ctx: &Ctx, id: i64) -> Result<CustomerView> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let c = {
        let mut rd = app.db.read().await?;
        catalog::get_customer_in_scope(&mut rd.conn(), &app.keys, id, &actor.scope).await?.ok_or(AppError::NotFound)?
    };
    let clear = actor.can(Permission::PersonalDataRead);
    if clear {
        log_clear_read(app, ctx, "customer", &[c.id]).await?;
    }
    Ok(view(c, clear))
}

#[tracing::instrument(skip_all)]
pub async fn list_customers(app: &App, ctx: &Ctx, page: PageRequest) -> Result<Page<CustomerView>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let p = {
        let mut rd = app.db.read().await?;
        catalog::list_customers(&mut rd.conn(), &app.keys, &actor.scope, page).await?
    };
    let clear = actor.can(Permission::PersonalDataRead);
    if clear {
        log_clear_read(app, ctx, "customer_list", &p.items.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    }
    Ok(p.map(|c| view(c, clear)))
}

// ---------- devices ----------

#[derive(Debug, Clone, Default)]
pub struct DeviceForm {
    pub serial_number: String,
    pub model_code: String,
    pub customer_id: i64,
    pub sale_date: String,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
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
    let model = catalog::model_by_code(&mut c, f.model_code.trim()).await?;
    if model.is_none() {
        e.push("model_code", if f.model_code.trim().is_empty() { "required" } else { "unknown_model" });
    }
    let customer = catalog::get_customer_in_scope(&mut c, &app.keys, f.customer_id, &actor.scope).await?;
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
    let id = catalog::insert_device(&mut c, &app.keys, &d, app.now()).await.map_err(field_error("serial_number"))?;
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
    }
}

// ---------- screen pop ----------

/// What an agent sees the moment a call comes in.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenPop {
    pub customer: CustomerView,
    pub devices: Vec<DeviceView>,
    pub open_requests: Vec<ServiceRequest>,
    pub history: Vec<ServiceRequest>,
    /// Other customers with the same phone (a shared company switchboard, say).
    pub also_matching: Vec<CustomerView>,
}

pub enum Lookup<'a> {
    Phone(&'a str),
    Serial(&'a str),
}

/// Find the customer by phone (blind index) or serial number; `None` when nobody matches.
#[tracing::instrument(skip_all)]
pub async fn screen_pop(app: &App, ctx: &Ctx, by: Lookup<'_>) -> Result<Option<ScreenPop>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut customers = match by {
        Lookup::Phone(p) => {
            let phone = Phone::parse("phone", p).map_err(ValidationErrors::from)?;
            catalog::customers_by_phone(&mut c, &app.keys, phone.as_str(), &actor.scope).await?
        }
        Lookup::Serial(s) => {
            let serial = SerialNumber::parse("serial_number", s).map_err(ValidationErrors::from)?;
            let mut out = vec![];
            for d in catalog::devices_by_serial(&mut c, &app.keys, serial.as_str()).await? {
                if let Some(cu) = catalog::get_customer_in_scope(&mut c, &app.keys, d.customer_id, &actor.scope).await?
                    && !out.iter().any(|o: &Customer| o.id == cu.id)
                {
                    out.push(cu);
                }
            }
            out
        }
    };
    if customers.is_empty() {
        return Ok(None);
    }
    let first = customers.remove(0);
    let devices = catalog::devices_of_customer(&mut c, &app.keys, first.id).await?;
    let open_requests = requests::requests_of_customer(&mut c, first.id, &actor.scope, true, 50).await?;
    let history = requests::requests_of_customer(&mut c, first.id, &actor.scope, false, 20).await?;
    drop(rd);
    let clear = actor.can(Permission::PersonalDataRead);
    if clear {
        let mut ids = vec![first.id];
        ids.extend(customers.iter().map(|c| c.id));
        log_clear_read(app, ctx, "screen_pop", &ids).await?;
    }
    let today = today(app);
    Ok(Some(ScreenPop {
        customer: view(first, clear),
        devices: devices.into_iter().map(|d| device_view(d, today, clear)).collect(),
        open_requests,
        history,
        also_matching: customers.into_iter().map(|c| view(c, clear)).collect(),
    }))
}
