//! Devices: a customer's installed products, by serial number.
use crate::crypto::Keyring;
use crate::{BATCH, Conn, Page, PageRequest, Result, both, customer_scope_clause, placeholders};
use serde::Serialize;
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

// ---------- devices ----------

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: i64,
    pub serial_number: String,
    pub model_id: i64,
    pub model_code: String,
    pub model_name: String,
    pub product_line: String,
    pub warranty_months: i64,
    pub customer_id: i64,
    pub sale_date: String,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    pub contract_until: Option<String>,
    pub station_id: Option<i64>,
    pub version: i64,
    /// When its first maintenance (首保) was done, epoch ms.
    pub first_maintenance_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: i64,
    serial_number: String,
    model_id: i64,
    model_code: String,
    model_name: String,
    product_line: String,
    warranty_months: i64,
    customer_id: i64,
    sale_date: String,
    install_region_code: Option<String>,
    install_address_enc: Option<String>,
    dealer_name: Option<String>,
    contract_until: Option<String>,
    station_id: Option<i64>,
    version: i64,
    first_maintenance_at: Option<i64>,
}

const DEVICE_SELECT: &str = "SELECT d.id, d.serial_number, d.model_id, m.code AS model_code, m.name AS model_name, m.product_line, \
    m.warranty_months, d.customer_id, d.sale_date, d.install_region_code, d.install_address_enc, d.dealer_name, d.contract_until, \
    d.station_id, d.version, d.first_maintenance_at FROM devices d JOIN product_models m ON m.id = d.model_id";

fn open_device(keys: &Keyring, r: DeviceRow) -> Result<Device> {
    Ok(Device {
        id: r.id,
        serial_number: r.serial_number,
        model_id: r.model_id,
        model_code: r.model_code,
        model_name: r.model_name,
        product_line: r.product_line,
        warranty_months: r.warranty_months,
        customer_id: r.customer_id,
        sale_date: r.sale_date,
        install_region_code: r.install_region_code,
        install_address: keys.decrypt_opt(r.install_address_enc.as_deref())?,
        dealer_name: r.dealer_name,
        contract_until: r.contract_until,
        station_id: r.station_id,
        version: r.version,
        first_maintenance_at: r.first_maintenance_at,
    })
}

pub struct NewDevice<'a> {
    pub serial_number: &'a str,
    pub model_id: i64,
    pub customer_id: i64,
    pub sale_date: &'a str,
    pub install_region_code: Option<&'a str>,
    pub install_address: Option<&'a str>,
    pub dealer_name: Option<&'a str>,
    pub contract_until: Option<&'a str>,
    pub station_id: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_device(c: &mut Conn<'_>, keys: &Keyring, d: &NewDevice<'_>, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO devices (serial_number, model_id, customer_id, sale_date, install_region_code, install_address_enc, \
         dealer_name, contract_until, station_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
        .bind(d.serial_number).bind(d.model_id).bind(d.customer_id).bind(d.sale_date).bind(d.install_region_code)
        .bind(keys.encrypt_opt(d.install_address)?).bind(d.dealer_name).bind(d.contract_until).bind(d.station_id).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn devices_of_customer(c: &mut Conn<'_>, keys: &Keyring, customer_id: i64) -> Result<Vec<Device>> {
    let sql = format!("{DEVICE_SELECT} WHERE d.customer_id = $1 ORDER BY d.id");
    let rows = both!(c, c => sqlx::query_as::<_, DeviceRow>(AssertSqlSafe(sql)).bind(customer_id).fetch_all(c).await)?;
    rows.into_iter().map(|r| open_device(keys, r)).collect()
}

/// Devices with this serial number (of any model: serials are unique per model only).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn devices_by_serial(c: &mut Conn<'_>, keys: &Keyring, serial: &str) -> Result<Vec<Device>> {
    let sql = format!("{DEVICE_SELECT} WHERE d.serial_number = $1 ORDER BY d.id LIMIT 20");
    let rows = both!(c, c => sqlx::query_as::<_, DeviceRow>(AssertSqlSafe(sql)).bind(serial).fetch_all(c).await)?;
    rows.into_iter().map(|r| open_device(keys, r)).collect()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_device(c: &mut Conn<'_>, keys: &Keyring, id: i64) -> Result<Option<Device>> {
    let sql = format!("{DEVICE_SELECT} WHERE d.id = $1");
    let row = both!(c, c => sqlx::query_as::<_, DeviceRow>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    row.map(|r| open_device(keys, r)).transpose()
}

/// A device's product line (its model's), without reading or decrypting the rest of it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn product_line(c: &mut Conn<'_>, id: i64) -> Result<Option<String>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT m.product_line FROM devices d JOIN product_models m ON m.id = d.model_id WHERE d.id = $1")
        .bind(id).fetch_optional(c).await)?)
}

/// Devices whose serial number starts with `prefix` (upper case), newest first, those whose
/// customer is visible in `scope` (the customer rule, D25).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search_devices(
    c: &mut Conn<'_>,
    keys: &Keyring,
    prefix: &str,
    scope: &Scope,
    page: PageRequest,
) -> Result<Page<Device>> {
    let (clause, ids) = customer_scope_clause(scope, "cu", 2);
    let from =
        format!("FROM devices d JOIN customers cu ON cu.id = d.customer_id WHERE d.serial_number LIKE $1 AND {clause}");
    let n = ids.len() + 2;
    let sql = format!(
        "{DEVICE_SELECT} JOIN customers cu ON cu.id = d.customer_id WHERE d.serial_number LIKE $1 AND {clause} \
         ORDER BY d.id DESC LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count_sql = format!("SELECT COUNT(*) {from}");
    let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, DeviceRow>(AssertSqlSafe(sql)).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let total: i64 = both!(c, c => {
        let mut q = sqlx::query_scalar(AssertSqlSafe(count_sql)).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.fetch_one(c).await
    })?;
    let items = rows.into_iter().map(|r| open_device(keys, r)).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// One device if its customer is visible in `scope`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_device_in_scope(c: &mut Conn<'_>, keys: &Keyring, id: i64, scope: &Scope) -> Result<Option<Device>> {
    let (clause, ids) = customer_scope_clause(scope, "cu", 2);
    let sql = format!("{DEVICE_SELECT} JOIN customers cu ON cu.id = d.customer_id WHERE d.id = $1 AND {clause}");
    let row = both!(c, c => {
        let mut q = sqlx::query_as::<_, DeviceRow>(AssertSqlSafe(sql)).bind(id);
        for s in &ids { q = q.bind(s); }
        q.fetch_optional(c).await
    })?;
    row.map(|r| open_device(keys, r)).transpose()
}

/// Which devices exist already among these serial numbers: (model id, serial number).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn device_keys_by_serials(
    c: &mut Conn<'_>,
    serials: &[String],
) -> Result<std::collections::HashSet<(i64, String)>> {
    let mut out = std::collections::HashSet::new();
    for chunk in serials.chunks(BATCH) {
        let sql = format!(
            "SELECT model_id, serial_number FROM devices WHERE serial_number IN ({})",
            placeholders(1, chunk.len())
        );
        let found: Vec<(i64, String)> = both!(c, c => {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for v in chunk { q = q.bind(v); }
            q.fetch_all(c).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

/// What the 三包 rules need of a device besides its model and sale: its last exchange and why its
/// warranty is void, if it is.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn warranty_facts(c: &mut Conn<'_>, id: i64) -> Result<Option<(Option<String>, Option<String>)>> {
    Ok(both!(c, c => sqlx::query_as("SELECT exchanged_on, warranty_void_reason FROM devices WHERE id = $1")
        .bind(id).fetch_optional(c).await)?)
}

/// Record an exchange (the warranty runs again from that day) and/or void the warranty with a
/// reason (`None` restores it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_warranty_facts(
    c: &mut Conn<'_>,
    id: i64,
    exchanged_on: Option<&str>,
    void_reason: Option<&str>,
) -> Result<bool> {
    let n = both!(c, c => sqlx::query("UPDATE devices SET exchanged_on = $1, warranty_void_reason = $2, version = version + 1 WHERE id = $3")
        .bind(exchanged_on).bind(void_reason).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A repair of a device as the 三包 rules count it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepairRow {
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub fault_code: Option<String>,
    pub waited_for_parts: bool,
}

/// A device's repairs (work orders of kind repair, not cancelled), oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn repairs_of(c: &mut Conn<'_>, id: i64) -> Result<Vec<RepairRow>> {
    Ok(both!(c, c => sqlx::query_as::<_, RepairRow>(
        "SELECT w.created_at, w.completed_at, w.fault_code, EXISTS (SELECT 1 FROM work_order_events e \
           WHERE e.work_order_id = w.id AND e.action = 'wait_for_parts') AS waited_for_parts \
         FROM work_orders w WHERE w.device_id = $1 AND w.kind = 'repair' AND w.status <> 'cancelled' ORDER BY w.id")
        .bind(id).fetch_all(c).await)?)
}

/// A part replaced on a device by one of its visits.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplacedPart {
    pub at: i64,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub part_code: String,
    pub part_name: String,
    pub quantity: i64,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    pub warranty_until: Option<String>,
}

/// The parts replaced on a device by its visits in `scope`, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replaced_parts(c: &mut Conn<'_>, id: i64, scope: &Scope) -> Result<Vec<ReplacedPart>> {
    let (clause, ids) = crate::scope_clause(scope, "w.station_id", 2);
    let sql = format!(
        "SELECT p.created_at AS at, w.id AS work_order_id, w.number AS work_order_number, p.part_code, p.part_name, \
         p.quantity, p.old_serial, p.new_serial, p.warranty_until FROM work_order_parts p JOIN work_orders w ON w.id = p.work_order_id \
         WHERE w.device_id = $1 AND ({clause}) ORDER BY p.id DESC LIMIT 200"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, ReplacedPart>(sqlx::AssertSqlSafe(sql)).bind(id);
        for s in &ids {
            q = q.bind(*s);
        }
        q.fetch_all(c).await
    })?)
}
