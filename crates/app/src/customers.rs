//! Customers (客户): validation, creation and reads in scope; personal data in clear only for those with the right, every read in clear audited.
use crate::audit::record;
use crate::products::field_error;
use crate::{App, AppError, Ctx, Result};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::customers::{CreditCode, CustomerTier, IdNumber, Phone};
use shouhou_domain::ids::StationId;
use shouhou_domain::mask::{mask_address, mask_id_number, mask_name, mask_phone};
use shouhou_domain::regions::RegionCode;
use shouhou_domain::text::required_text;
use shouhou_store::customers::{self, Customer, NewCustomer, PersonInput};
use shouhou_store::{Page, PageRequest, stations};

// ---------- customers ----------

/// A contact person of a customer as entered.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactForm {
    /// `operator` (机手, who uses the equipment) or `contact` (default).
    #[serde(default)]
    pub role: String,
    pub name: String,
    pub phone: String,
}

/// A customer as entered at the desk, through the API or in an import row, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerForm {
    /// `person` (default) or `company`.
    pub kind: Option<String>,
    pub name: String,
    /// Mobile (`13812345678`, `+86 138 1234 5678`) or landline (`0755-26581234`).
    pub phone: String,
    /// 统一社会信用代码, required for a company.
    pub credit_code: Option<String>,
    /// 公民身份号码 of a person (18 characters, check character verified); optional.
    pub id_number: Option<String>,
    /// GB/T 2260 division code.
    pub region_code: String,
    pub address: String,
    /// `vip`, `key` or `standard` (default).
    pub tier: Option<String>,
    pub station_code: Option<String>,
    #[serde(default)]
    pub contacts: Vec<ContactForm>,
}

/// A customer as the caller may see them: in clear with the right, masked without (`masked`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerView {
    pub id: i64,
    /// person, company
    pub kind: String,
    pub name: String,
    pub phone: String,
    pub credit_code: Option<String>,
    pub id_number: Option<String>,
    /// GB/T 2260 code and its name.
    pub region_code: String,
    pub region_name: String,
    pub address: String,
    /// vip, key, standard
    pub tier: String,
    pub station_id: Option<i64>,
    pub contacts: Vec<ContactView>,
    /// True when the personal fields are masked for this caller.
    pub masked: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    let company = c.kind == "company";
    CustomerView {
        id: c.id,
        region_name: shouhou_domain::regions::region_name(&c.region_code),
        kind: c.kind,
        // A company's name is not personal data: everyone who may read the customer reads it.
        name: if clear || company { c.name } else { c.name_mask },
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
pub(crate) async fn log_clear_read(app: &App, ctx: &Ctx, what: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    crate::audit::record_alone(
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
        Some(code) => {
            match stations::station_by_code(&mut c, code).await?.filter(|s| actor.scope.allows(StationId(s.id))) {
                Some(s) => Some(s.id),
                None => {
                    e.push("station_code", "unknown_station");
                    None
                }
            }
        }
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
    let id =
        customers::insert_customer(&mut c, &app.keys, &new, app.now()).await.map_err(field_error("credit_code"))?;
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
        customers::get_customer_in_scope(&mut rd.conn(), &app.keys, id, &actor.scope)
            .await?
            .ok_or(AppError::NotFound)?
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
        customers::list_customers(&mut rd.conn(), &app.keys, &actor.scope, page).await?
    };
    let clear = actor.can(Permission::PersonalDataRead);
    if clear {
        log_clear_read(app, ctx, "customer_list", &p.items.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    }
    Ok(p.map(|c| view(c, clear)))
}

/// Customers found by what a person types: a phone number (theirs or a contact's, exact, through
/// the blind index), the start of a company's credit code, or the start of a device's serial
/// number; in the caller's scope, at most 50, masked as the caller may see them.
#[tracing::instrument(skip_all)]
pub async fn search_customers(app: &App, ctx: &Ctx, q: &str) -> Result<Vec<CustomerView>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let q = q.trim();
    if q.is_empty() {
        return Ok(vec![]);
    }
    let found = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let mut found = match Phone::parse("q", q) {
            Ok(p) => customers::customers_by_phone(&mut c, &app.keys, p.as_str(), &actor.scope).await?,
            Err(_) => vec![],
        };
        let upper = q.to_ascii_uppercase();
        if found.is_empty() && upper.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
            found = customers::customers_by_credit_code(&mut c, &app.keys, &upper, &actor.scope).await?;
            if found.is_empty() {
                let devices = shouhou_store::devices::search_devices(
                    &mut c,
                    &app.keys,
                    &upper,
                    &actor.scope,
                    PageRequest::new(Some(1), Some(50)),
                )
                .await?;
                let mut ids: Vec<i64> = devices.items.iter().map(|d| d.customer_id).collect();
                ids.sort_unstable();
                ids.dedup();
                found = customers::customers_by_ids(&mut c, &app.keys, &ids, &actor.scope).await?;
            }
        }
        found
    };
    let clear = actor.can(Permission::PersonalDataRead);
    if clear {
        log_clear_read(app, ctx, "customer_search", &found.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    }
    Ok(found.into_iter().map(|c| view(c, clear)).collect())
}

/// A customer's page: the customer with contacts, their devices, their open requests and their
/// history (those the caller may read); 404 outside the scope; a read in clear is audited.
#[derive(Debug, Clone)]
pub struct CustomerRecord {
    pub customer: CustomerView,
    pub devices: Vec<crate::devices::DeviceView>,
    pub open_requests: Vec<crate::requests::RequestListItem>,
    pub history: Vec<crate::requests::RequestListItem>,
}

#[tracing::instrument(skip_all)]
pub async fn customer_record(app: &App, ctx: &Ctx, id: i64) -> Result<CustomerRecord> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let customer = get_customer(app, ctx, id).await?;
    let (devices, open, history) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let devices = shouhou_store::devices::devices_of_customer(&mut c, &app.keys, id).await?;
        let open = shouhou_store::requests::requests_of_customer(&mut c, id, &actor.scope, true, 50).await?;
        let history = shouhou_store::requests::requests_of_customer(&mut c, id, &actor.scope, false, 50).await?;
        (devices, open, history)
    };
    let today = crate::devices::today(app);
    let devices = devices.into_iter().map(|d| crate::devices::device_view(d, today, !customer.masked)).collect();
    let (open_requests, history) = if actor.can(Permission::RequestRead) {
        (
            crate::requests::with_names(app, ctx, "customer_record", open).await?,
            crate::requests::with_names(app, ctx, "customer_record", history).await?,
        )
    } else {
        (vec![], vec![])
    };
    Ok(CustomerRecord { customer, devices, open_requests, history })
}
