//! Import of customers and devices from sheets.
use crate::audit::record;
use crate::sheets::Row;
use crate::sheets::Table;
use crate::sheets::normalise_date;
use crate::{App, Ctx, Result};
use crate::{
    customers::{CustomerForm, validate_customer},
    devices::{DeviceForm, today, validate_device},
};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::customers::Phone;
use shouhou_domain::ids::StationId;
use shouhou_domain::mask::{mask_address, mask_id_number, mask_name, mask_phone};
use shouhou_store::{StoreError, stations};
use shouhou_store::{
    customers::{self},
    devices::{self, NewDevice},
    products::{self},
};
use std::collections::{HashMap, HashSet};

/// The most errors a report lists; the rest are only counted (`ImportReport::more_errors`).
pub const MAX_REPORTED_ERRORS: usize = 1000;

// ---------- columns ----------

/// A column of an import: its field name (as in the API and the error report) and the headers
/// that name it, in Chinese and English.
struct Column {
    field: &'static str,
    headers: &'static [&'static str],
    required: bool,
}

const fn col(field: &'static str, headers: &'static [&'static str], required: bool) -> Column {
    Column { field, headers, required }
}

const CUSTOMER_COLUMNS: &[Column] = &[
    col("name", &["客户名称", "客户姓名", "姓名", "名称", "name"], true),
    col("kind", &["类型", "客户类型", "kind"], false),
    col("phone", &["手机", "电话", "手机号", "手机号码", "联系电话", "phone"], true),
    col("credit_code", &["统一社会信用代码", "信用代码", "credit_code"], false),
    col("id_number", &["身份证号", "身份证号码", "公民身份号码", "id_number"], false),
    col("region_code", &["行政区划代码", "区划代码", "region_code"], true),
    col("address", &["地址", "详细地址", "address"], true),
    col("tier", &["等级", "客户等级", "tier"], false),
    col("station_code", &["服务站编码", "服务站代码", "服务站", "station_code"], false),
];

const DEVICE_COLUMNS: &[Column] = &[
    col("serial_number", &["序列号", "设备序列号", "serial_number", "sn"], true),
    col("model_code", &["产品型号", "型号", "model_code"], true),
    col("customer_phone", &["客户手机", "客户电话", "customer_phone"], true),
    col("sale_date", &["销售日期", "sale_date"], true),
    col("install_region_code", &["安装地区", "安装地区代码", "install_region_code"], false),
    col("install_address", &["安装地址", "install_address"], false),
    col("dealer_name", &["经销商", "dealer_name"], false),
    col("contract_until", &["合同截止", "合同截止日期", "合同到期", "contract_until"], false),
];

/// A header compared loosely: case, blanks, `_`, `-`, required-marks `*` and remarks in
/// brackets (`销售日期（YYYY-MM-DD）`) do not count.
fn header_key(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in h.trim().trim_start_matches('\u{feff}').chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            '*' | ' ' | '\u{3000}' | '_' | '-' | ':' | '：' => {}
            c if depth == 0 => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// Column index of every known field present. Unknown headers are ignored; a missing required
/// column or a field named twice is an error of the header row.
/// The columns of `t` for an import, or the report that stops it before any row is read: a
/// required column missing, or no rows at all.
fn columns_of(t: &Table, spec: &[Column]) -> std::result::Result<HashMap<&'static str, usize>, ImportReport> {
    let mut errs = Errors::default();
    let cols = map_columns(t, spec, &mut errs);
    if errs.is_empty() && t.rows.is_empty() {
        errs.push(t.header_row, "file", "no_rows", String::new());
    }
    if errs.is_empty() { Ok(cols) } else { Err(errs.report(t.rows.len())) }
}

fn map_columns(t: &Table, spec: &[Column], errs: &mut Errors) -> HashMap<&'static str, usize> {
    let mut found = HashMap::new();
    for (i, h) in t.headers.iter().enumerate() {
        let key = header_key(h);
        if key.is_empty() {
            continue;
        }
        if let Some(c) = spec.iter().find(|c| c.headers.iter().any(|a| header_key(a) == key))
            && found.insert(c.field, i).is_some()
        {
            errs.push(t.header_row, c.field, "duplicate_column", h.clone());
        }
    }
    for c in spec.iter().filter(|c| c.required && !found.contains_key(c.field)) {
        errs.push(t.header_row, c.field, "missing_column", c.headers[0].to_string());
    }
    found
}

// ---------- reports ----------

/// One problem of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// 1-based row number as a spreadsheet shows it; the header row is 1.
    pub row: usize,
    /// The field, as the API names it (`phone`, `sale_date`; `file` for the file as a whole).
    pub field: String,
    /// Stable code, as for field errors of a form (`invalid_phone`, `duplicate_in_file`, …).
    pub code: &'static str,
    /// What the cell holds; masked for personal fields (names, phones, addresses).
    pub value: String,
}

/// The outcome of an import: either every row imported, or none and the errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Data rows in the file.
    pub rows: usize,
    /// Rows written: all of them or 0.
    pub imported: usize,
    /// At most `MAX_REPORTED_ERRORS`, in row order.
    pub errors: Vec<RowError>,
    /// Errors beyond those listed.
    pub more_errors: usize,
}

impl ImportReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Default)]
struct Errors {
    list: Vec<RowError>,
    more: usize,
}

impl Errors {
    fn push(&mut self, row: usize, field: &str, code: &'static str, value: String) {
        if self.list.len() >= MAX_REPORTED_ERRORS {
            self.more += 1;
            return;
        }
        let value = shown(field, &value);
        self.list.push(RowError { row, field: field.to_string(), code, value });
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    fn report(mut self, rows: usize) -> ImportReport {
        self.list.sort_by_key(|e| e.row);
        ImportReport { rows, imported: 0, errors: self.list, more_errors: self.more }
    }
}

/// A cell's value as a report may show it: personal fields masked, long values cut.
fn shown(field: &str, value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    match field {
        "name" => mask_name(value),
        "phone" | "customer_phone" => mask_phone(value),
        "address" | "install_address" => mask_address(value),
        "id_number" => mask_id_number(value),
        _ if value.chars().count() > 50 => format!("{}…", value.chars().take(50).collect::<String>()),
        _ => value.to_string(),
    }
}

/// Field errors of a form as errors of row `row`, with the cell each field came from.
fn row_errors(errs: &mut Errors, row: &Row, cols: &HashMap<&'static str, usize>, e: ValidationErrors) {
    for f in e.0 {
        let value = row.get(cols.get(f.field.as_str()).copied()).to_string();
        errs.push(row.number, &f.field, f.code, value);
    }
}

fn kind_of(s: &str) -> Option<String> {
    match s.trim() {
        "" => None,
        "个人" | "person" | "Person" | "PERSON" => Some("person".into()),
        "企业" | "公司" | "单位" | "company" | "Company" | "COMPANY" => Some("company".into()),
        other => Some(other.to_string()),
    }
}

fn tier_of(s: &str) -> Option<String> {
    match s.trim() {
        "" => None,
        t if t.eq_ignore_ascii_case("vip") => Some("vip".into()),
        "重点" | "重点客户" | "key" | "Key" | "KEY" => Some("key".into()),
        "普通" | "普通客户" | "standard" | "Standard" | "STANDARD" => Some("standard".into()),
        other => Some(other.to_string()),
    }
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

// ---------- importing customers ----------

/// Import customers (an administrator's job: `SettingsWrite`). Every row is checked first;
/// with any error nothing is written and the report lists them. Otherwise every row goes in
/// one transaction with one audit entry `customer.import`; `progress(done, total)` is called as
/// rows go in. A phone already registered as a customer's, or twice in the file, is an error.
#[tracing::instrument(skip_all, fields(rows = table.rows.len()))]
pub async fn import_customers(
    app: &App,
    ctx: &Ctx,
    table: &Table,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<ImportReport> {
    let actor = ctx.require(Permission::SettingsWrite)?;
    let total = table.rows.len();
    let cols = match columns_of(table, CUSTOMER_COLUMNS) {
        Ok(cols) => cols,
        Err(report) => return Ok(report),
    };
    let mut errs = Errors::default();
    let at = |f: &str| cols.get(f).copied();

    // Every row on its own, and against the rows above it.
    let mut valid = Vec::with_capacity(total);
    let mut station_codes: Vec<(&Row, String)> = vec![];
    let mut phones: HashSet<String> = HashSet::new();
    let mut credit_codes: HashSet<String> = HashSet::new();
    for row in &table.rows {
        let form = CustomerForm {
            kind: kind_of(row.get(at("kind"))),
            name: row.get(at("name")).to_string(),
            phone: row.get(at("phone")).to_string(),
            credit_code: optional(row.get(at("credit_code"))),
            id_number: optional(row.get(at("id_number"))),
            region_code: row.get(at("region_code")).to_string(),
            address: row.get(at("address")).to_string(),
            tier: tier_of(row.get(at("tier"))),
            station_code: optional(row.get(at("station_code"))).map(|s| s.to_ascii_uppercase()),
            contacts: vec![],
        };
        if let Some(code) = &form.station_code {
            station_codes.push((row, code.clone()));
        }
        match validate_customer(&form) {
            Err(e) => row_errors(&mut errs, row, &cols, e),
            Ok(v) => {
                if !phones.insert(v.phone.as_str().to_string()) {
                    errs.push(row.number, "phone", "duplicate_in_file", form.phone.clone());
                }
                if let Some(cc) = &v.credit_code
                    && !credit_codes.insert(cc.clone())
                {
                    errs.push(row.number, "credit_code", "duplicate_in_file", cc.clone());
                }
                valid.push((row, v, form.station_code));
            }
        }
    }

    // Against the database, in the transaction that writes.
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut stations: HashMap<String, Option<i64>> = HashMap::new();
    for (row, code) in &station_codes {
        if !stations.contains_key(code) {
            let s = stations::station_by_code(&mut c, code).await?.filter(|s| actor.scope.allows(StationId(s.id)));
            stations.insert(code.clone(), s.map(|s| s.id));
        }
        if stations.get(code).copied().flatten().is_none() {
            errs.push(row.number, "station_code", "unknown_station", code.clone());
        }
    }
    // As at the desk: a station's own staff register customers of their station.
    let default_station = match &actor.scope {
        Scope::Stations(ids) => ids.first().map(|s| s.0),
        _ => None,
    };
    let indexes: Vec<String> = valid.iter().map(|(_, v, _)| app.keys.blind_index(v.phone.as_str())).collect();
    let taken_phones = customers::customer_phone_indexes_in_use(&mut c, &indexes).await?;
    let codes: Vec<String> = valid.iter().filter_map(|(_, v, _)| v.credit_code.clone()).collect();
    let taken_codes = customers::credit_codes_in_use(&mut c, &codes).await?;
    let mut rows = Vec::with_capacity(valid.len());
    for ((row, v, code), idx) in valid.iter().zip(&indexes) {
        let station = match code {
            Some(code) => stations.get(code).copied().flatten(),
            None => default_station,
        };
        if taken_phones.contains(idx) {
            errs.push(row.number, "phone", "already_exists", row.get(at("phone")).to_string());
        }
        if let Some(cc) = &v.credit_code
            && taken_codes.contains(cc)
        {
            errs.push(row.number, "credit_code", "already_exists", cc.clone());
        }
        rows.push((row, v, station));
    }
    if !errs.is_empty() {
        tx.rollback().await?;
        return Ok(errs.report(total));
    }

    progress(0, total);
    let now = app.now();
    for (i, (row, v, station)) in rows.iter().enumerate() {
        let region = v.region.code();
        let new = v.to_new(&region, *station, Some(actor.id.0));
        match customers::insert_customer(&mut c, &app.keys, &new, now).await {
            Ok(_) => {}
            // Taken since the check (a concurrent registration): report it like the check would.
            Err(StoreError::Duplicate { .. }) => {
                errs.push(row.number, "credit_code", "already_exists", v.credit_code.clone().unwrap_or_default());
                tx.rollback().await?;
                return Ok(errs.report(total));
            }
            Err(e) => return Err(e.into()),
        }
        progress(i + 1, total);
    }
    record(&mut c, app, ctx, "customer.import", "customer", None, json!({"count": total, "file": table.file_name}))
        .await?;
    tx.commit().await?;
    tracing::info!(count = total, "customers imported");
    Ok(ImportReport { rows: total, imported: total, errors: vec![], more_errors: 0 })
}

// ---------- importing devices ----------

/// Import devices (`SettingsWrite`), each linked to the customer whose phone (own, or else a
/// contact's) is in `customer_phone`, within the caller's scope; the device belongs to the
/// customer's station. All rows or none, as `import_customers`, with one audit entry
/// `device.import`. The same serial of the same model twice, in the file or already
/// registered, is an error; so is a phone that fits no customer or several.
#[tracing::instrument(skip_all, fields(rows = table.rows.len()))]
pub async fn import_devices(
    app: &App,
    ctx: &Ctx,
    table: &Table,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<ImportReport> {
    let actor = ctx.require(Permission::SettingsWrite)?;
    let total = table.rows.len();
    let cols = match columns_of(table, DEVICE_COLUMNS) {
        Ok(cols) => cols,
        Err(report) => return Ok(report),
    };
    let mut errs = Errors::default();
    let at = |f: &str| cols.get(f).copied();
    let today = today(app);
    let date = |s: &str| normalise_date(s).unwrap_or_else(|| s.to_string());

    struct Pending<'r> {
        row: &'r Row,
        device: Option<crate::devices::ValidDevice>,
        model_code: String,
        phone: Option<Phone>,
    }
    let mut pending = Vec::with_capacity(total);
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for row in &table.rows {
        let contract = optional(row.get(at("contract_until")));
        let form = DeviceForm {
            serial_number: row.get(at("serial_number")).to_string(),
            model_code: row.get(at("model_code")).to_string(),
            customer_id: 0,
            sale_date: date(row.get(at("sale_date"))),
            install_region_code: optional(row.get(at("install_region_code"))),
            install_address: optional(row.get(at("install_address"))),
            dealer_name: optional(row.get(at("dealer_name"))),
            contract_until: contract.map(|s| date(&s)),
        };
        let device = match validate_device(&form, today) {
            Ok(d) => Some(d),
            Err(e) => {
                row_errors(&mut errs, row, &cols, e);
                None
            }
        };
        let model_code = form.model_code.trim().to_ascii_uppercase();
        if model_code.is_empty() {
            errs.push(row.number, "model_code", "required", String::new());
        }
        let phone = match Phone::parse("customer_phone", row.get(at("customer_phone"))) {
            Ok(p) => Some(p),
            Err(e) => {
                errs.push(row.number, "customer_phone", e.code, row.get(at("customer_phone")).to_string());
                None
            }
        };
        if let Some(d) = &device
            && !model_code.is_empty()
            && !seen.insert((model_code.clone(), d.serial.as_str().to_string()))
        {
            errs.push(row.number, "serial_number", "duplicate_in_file", form.serial_number.clone());
        }
        pending.push(Pending { row, device, model_code, phone });
    }

    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // Product models by code, once each.
    let mut models: HashMap<String, Option<i64>> = HashMap::new();
    for p in &pending {
        if !p.model_code.is_empty() && !models.contains_key(&p.model_code) {
            let m = products::model_by_code(&mut c, &p.model_code).await?.map(|m| m.id);
            models.insert(p.model_code.clone(), m);
        }
    }
    // Customers by phone through the blind index, all at once.
    let mut phone_index: HashMap<String, String> = HashMap::new();
    for p in &pending {
        if let Some(ph) = &p.phone {
            phone_index.entry(ph.as_str().to_string()).or_insert_with(|| app.keys.blind_index(ph.as_str()));
        }
    }
    let indexes: Vec<String> = phone_index.values().cloned().collect::<HashSet<_>>().into_iter().collect();
    let refs = customers::customer_refs_by_phone_indexes(&mut c, &indexes, &actor.scope).await?;
    // Per phone: customers whose own phone it is, and those who have it as a contact's.
    type Matches = Vec<(i64, Option<i64>)>;
    let mut by_index: HashMap<&str, (Matches, Matches)> = HashMap::new();
    for r in &refs {
        let (own, contact) = by_index.entry(r.phone_idx.as_str()).or_default();
        let list = if r.own { own } else { contact };
        if !list.iter().any(|(id, _)| *id == r.customer_id) {
            list.push((r.customer_id, r.station_id));
        }
    }
    let serials: Vec<String> = pending
        .iter()
        .filter_map(|p| p.device.as_ref().map(|d| d.serial.as_str().to_string()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let existing = devices::device_keys_by_serials(&mut c, &serials).await?;

    let mut rows = Vec::with_capacity(total);
    for p in &pending {
        let model = match models.get(&p.model_code) {
            Some(Some(id)) => Some(*id),
            Some(None) => {
                errs.push(p.row.number, "model_code", "unknown_model", p.model_code.clone());
                None
            }
            None => None,
        };
        let customer = p.phone.as_ref().and_then(|ph| {
            let idx = phone_index.get(ph.as_str()).map(String::as_str).unwrap_or("");
            let (own, contact) = by_index.get(idx).cloned().unwrap_or_default();
            let candidates = if own.is_empty() { contact } else { own };
            match candidates.as_slice() {
                [one] => Some(*one),
                [] => {
                    errs.push(p.row.number, "customer_phone", "unknown_customer", ph.as_str().to_string());
                    None
                }
                _ => {
                    errs.push(p.row.number, "customer_phone", "ambiguous_customer", ph.as_str().to_string());
                    None
                }
            }
        });
        if let (Some(d), Some(model_id)) = (&p.device, model)
            && existing.contains(&(model_id, d.serial.as_str().to_string()))
        {
            errs.push(p.row.number, "serial_number", "already_exists", d.serial.as_str().to_string());
        }
        if let (Some(d), Some(m), Some(cu)) = (&p.device, model, customer) {
            rows.push((p.row, d, m, cu));
        }
    }
    if !errs.is_empty() || rows.len() != total {
        tx.rollback().await?;
        return Ok(errs.report(total));
    }

    progress(0, total);
    let now = app.now();
    for (i, (row, d, model_id, (customer_id, station_id))) in rows.iter().enumerate() {
        let sale = d.sale_date.to_string();
        let contract = d.contract_until.map(|c| c.to_string());
        let new = NewDevice {
            serial_number: d.serial.as_str(),
            model_id: *model_id,
            customer_id: *customer_id,
            sale_date: &sale,
            install_region_code: d.install_region_code.as_deref(),
            install_address: d.install_address.as_deref(),
            dealer_name: d.dealer_name.as_deref(),
            contract_until: contract.as_deref(),
            station_id: *station_id,
        };
        match devices::insert_device(&mut c, &app.keys, &new, now).await {
            Ok(_) => {}
            Err(StoreError::Duplicate { .. }) => {
                errs.push(row.number, "serial_number", "already_exists", d.serial.as_str().to_string());
                tx.rollback().await?;
                return Ok(errs.report(total));
            }
            Err(e) => return Err(e.into()),
        }
        progress(i + 1, total);
    }
    record(&mut c, app, ctx, "device.import", "device", None, json!({"count": total, "file": table.file_name})).await?;
    tx.commit().await?;
    tracing::info!(count = total, "devices imported");
    Ok(ImportReport { rows: total, imported: total, errors: vec![], more_errors: 0 })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::exports::*;
    use crate::sheets::*;
    use crate::{App, AppError, Ctx, Result};

    fn code(r: Result<Table>) -> &'static str {
        match r {
            Err(AppError::Validation(e)) => e.0[0].code,
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    fn customer_errors(t: &Table) -> Vec<(usize, String, &'static str)> {
        let mut errs = Errors::default();
        map_columns(t, CUSTOMER_COLUMNS, &mut errs);
        errs.list.into_iter().map(|e| (e.row, e.field, e.code)).collect()
    }

    #[test]
    fn a_csv_with_a_bom_and_chinese_headers_is_read_with_row_numbers() {
        let csv = "\u{feff}客户名称,手机,行政区划代码,地址\r\n张三,13812345678,440305,深圳市南山区\r\n\r\n李四,\"139 8765 4321\",110105,\"北京市朝阳区,\n建国路\"\r\n王五,13700000000,110105,北京\r\n";
        let t = read_rows("C:\\fakepath\\客户.csv", csv.as_bytes()).unwrap();
        assert_eq!(t.headers, ["客户名称", "手机", "行政区划代码", "地址"]);
        assert_eq!(t.header_row, 1);
        assert_eq!(t.rows.len(), 3, "the blank line is no data row");
        let numbers: Vec<usize> = t.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4, 5], "numbered as a spreadsheet shows them");
        assert_eq!(t.rows[1].cells[3], "北京市朝阳区,\n建国路");
        assert!(customer_errors(&t).is_empty());
        assert_eq!(t.file_name, "客户.csv");
    }

    #[test]
    fn english_headers_tabs_and_header_remarks_are_understood() {
        let tsv = "Name\tPhone\tregion_code\tAddress\tTier\n张三\t13812345678\t440305\t深圳\tVIP\n";
        let t = read_rows("c.txt", tsv.as_bytes()).unwrap();
        assert_eq!(t.rows[0].cells.len(), 5);
        assert_eq!((t.header_row, t.rows[0].number), (1, 2));
        assert!(customer_errors(&t).is_empty());
        assert_eq!(header_key("销售日期（YYYY-MM-DD）*"), "销售日期");
        assert_eq!(header_key(" Serial_Number "), "serialnumber");
    }

    #[test]
    fn a_csv_saved_as_gbk_is_refused_with_a_clear_code() {
        // "客户名称,手机" in GBK.
        let gbk: &[u8] = b"\xbf\xcd\xbb\xa7\xc3\xfb\xb3\xc6,\xca\xd6\xbb\xfa\n\xd5\xc5\xc8\xfd,13812345678\n";
        assert_eq!(code(read_rows("gbk.csv", gbk)), "not_utf8");
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("name,phone\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(code(read_rows("u16.csv", &utf16)), "not_utf8");
    }

    #[test]
    fn an_empty_file_or_one_without_a_header_is_refused() {
        assert_eq!(code(read_rows("e.csv", b"")), "empty_file");
        assert_eq!(code(read_rows("e.csv", b"\xEF\xBB\xBF\n , \n")), "empty_file");
        assert_eq!(code(read_rows("bad.xlsx", b"PK\x03\x04garbage")), "unreadable_file");
        // The first row is data, not a header: every required column is missing.
        let t = read_rows("noheader.csv", "张三,13812345678,440305,深圳\n".as_bytes()).unwrap();
        let e = customer_errors(&t);
        let fields: Vec<&str> = e.iter().map(|(_, f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "phone", "region_code", "address"]);
        assert!(e.iter().all(|(row, _, code)| *row == 1 && *code == "missing_column"));
        // A field named twice is refused too.
        let t = read_rows("twice.csv", "客户名称,name,手机,行政区划代码,地址\n".as_bytes()).unwrap();
        assert_eq!(customer_errors(&t), [(1, "name".to_string(), "duplicate_column")]);
    }

    #[test]
    fn an_xlsx_file_is_read_with_numbers_and_dates_as_people_see_them() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        // A title row left blank above the header, as people do.
        for (c, h) in ["序列号", "产品型号", "客户手机", "销售日期", "合同截止"].iter().enumerate() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        ws.write_string(2, 0, "XG5K-0001").unwrap();
        ws.write_string(2, 1, "XG-5000").unwrap();
        ws.write_number(2, 2, 13812345678.0).unwrap();
        ws.write_datetime_with_format(2, 3, rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 31).unwrap(), &date)
            .unwrap();
        ws.write_string(2, 4, "2027/1/31").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let t = read_rows("设备.xlsx", &bytes).unwrap();
        assert_eq!(t.header_row, 2);
        assert_eq!(t.headers, ["序列号", "产品型号", "客户手机", "销售日期", "合同截止"]);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].number, 3);
        assert_eq!(t.rows[0].cells, ["XG5K-0001", "XG-5000", "13812345678", "2026-01-31", "2027/1/31"]);
        let mut errs = Errors::default();
        map_columns(&t, DEVICE_COLUMNS, &mut errs);
        assert!(errs.is_empty());
    }

    #[test]
    fn dates_are_read_as_people_write_them() {
        for s in ["2026-01-31", "2026/1/31", "2026.1.31", "2026年1月31日", "2026-01-31 00:00:00", "2026-01-31T00:00:00"]
        {
            assert_eq!(normalise_date(s).as_deref(), Some("2026-01-31"), "{s}");
        }
        for s in ["", "31/01/2026", "2026-02-30", "20260131", "明天"] {
            assert_eq!(normalise_date(s), None, "{s}");
        }
    }

    #[test]
    fn reports_mask_personal_values_and_stop_listing_at_the_cap() {
        assert_eq!(shown("phone", "13812345678"), "138****5678");
        assert_eq!(shown("name", "张三"), "张*");
        assert_eq!(shown("install_address", "广东省深圳市南山区科技园"), "广东省深圳市****");
        assert_eq!(shown("region_code", "999999"), "999999");
        let mut errs = Errors::default();
        for i in 0..MAX_REPORTED_ERRORS + 5 {
            errs.push(i + 2, "phone", "invalid_phone", "1".into());
        }
        let r = errs.report(2000);
        assert_eq!((r.errors.len(), r.more_errors, r.imported), (MAX_REPORTED_ERRORS, 5, 0));
    }

    #[test]
    fn kinds_and_tiers_are_read_in_chinese_or_english() {
        assert_eq!(kind_of("企业").as_deref(), Some("company"));
        assert_eq!(kind_of("个人").as_deref(), Some("person"));
        assert_eq!(kind_of(""), None);
        assert_eq!(tier_of("vip").as_deref(), Some("vip"));
        assert_eq!(tier_of("重点").as_deref(), Some("key"));
        assert_eq!(tier_of("普通").as_deref(), Some("standard"));
        assert_eq!(tier_of("金牌").as_deref(), Some("金牌"), "left to the validator to refuse");
    }

    /// The web layer awaits these in handlers, which must be `Send`.
    #[allow(dead_code)]
    fn the_use_cases_can_run_on_any_thread(app: &App, ctx: &Ctx, t: &Table) {
        fn send<T: Send>(_: T) {}
        send(import_customers(app, ctx, t, |_, _| {}));
        send(import_devices(app, ctx, t, |_, _| {}));
        send(export_customers_xlsx(app, ctx));
        send(export_requests_xlsx(app, ctx, "all"));
    }

    #[test]
    fn an_export_workbook_reads_back() {
        let rows = vec![vec!["1".to_string(), "张*".into(), "个人".into(), "138****5678".into()]];
        let bytes = workbook("客户", &CUSTOMER_EXPORT_HEADERS[..4], &rows).unwrap();
        let t = read_rows("export.xlsx", &bytes).unwrap();
        assert_eq!(t.headers, CUSTOMER_EXPORT_HEADERS[..4]);
        assert_eq!(t.rows[0].cells, rows[0]);
        assert_eq!(local_time(0), "1970-01-01 08:00");
    }
}

// ---------- importing the parts catalog ----------

const PART_COLUMNS: &[Column] = &[
    col("code", &["备件编码", "物料编码", "编码", "code"], true),
    col("name", &["备件名称", "物料名称", "名称", "name"], true),
    col("unit", &["单位", "计量单位", "unit"], true),
    col("specification", &["规格", "规格型号", "specification"], false),
    col("price", &["单价", "单价（元）", "价格", "price"], false),
    col("divisible", &["可拆分", "按小数计量", "divisible"], false),
    col("serialised", &["序列号管理", "带序列号", "serialised"], false),
    col("model_codes", &["适用机型", "适用型号", "model_codes"], false),
];

/// 是/否, yes/no, 1/0, true/false; empty is no.
fn yes_no(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "否" | "no" | "n" | "0" | "false" => Some(false),
        "是" | "yes" | "y" | "1" | "true" => Some(true),
        _ => None,
    }
}

/// 元 with at most two decimals → fen.
fn price_fen(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('¥').replace(',', "");
    if s.is_empty() {
        return Some(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac).filter(|f| *f <= 100_000_000_000)
}

/// Import the parts catalog (`PartsWrite`): every row checked first (a code already in the
/// catalog or twice in the file, a unit missing, a price with more than two decimals, an unknown
/// model); with any error nothing is written. Otherwise all rows in one transaction, one audit
/// entry `part.import`.
#[tracing::instrument(skip_all, fields(rows = table.rows.len()))]
pub async fn import_parts(app: &App, ctx: &Ctx, table: &Table) -> Result<ImportReport> {
    ctx.require(Permission::PartsWrite)?;
    let total = table.rows.len();
    let cols = match columns_of(table, PART_COLUMNS) {
        Ok(cols) => cols,
        Err(report) => return Ok(report),
    };
    let mut errs = Errors::default();
    let at = |f: &str| cols.get(f).copied();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut seen = HashSet::new();
    let mut models: HashMap<String, Option<i64>> = HashMap::new();
    let mut valid = vec![];
    for row in &table.rows {
        let code = match shouhou_domain::parts::part_code("code", row.get(at("code"))) {
            Ok(code) => Some(code),
            Err(e) => {
                errs.push(row.number, "code", e.code, row.get(at("code")).to_string());
                None
            }
        };
        if let Some(code) = &code {
            if !seen.insert(code.clone()) {
                errs.push(row.number, "code", "duplicate_in_file", code.clone());
            } else if shouhou_store::parts::part_by_code(&mut c, code).await?.is_some() {
                errs.push(row.number, "code", "already_exists", code.clone());
            }
        }
        let text = |f: &'static str, max: usize, errs: &mut Errors| {
            let v = row.get(at(f)).trim().to_string();
            if v.chars().count() > max {
                errs.push(row.number, f, "too_long", v.clone());
            }
            v
        };
        let name = text("name", 100, &mut errs);
        let unit = text("unit", 10, &mut errs);
        let spec = text("specification", 200, &mut errs);
        for (f, v) in [("name", &name), ("unit", &unit)] {
            if v.is_empty() {
                errs.push(row.number, f, "required", String::new());
            }
        }
        let price = price_fen(row.get(at("price")));
        if price.is_none() {
            errs.push(row.number, "price", "invalid_price", row.get(at("price")).to_string());
        }
        let flags =
            [("divisible", yes_no(row.get(at("divisible")))), ("serialised", yes_no(row.get(at("serialised"))))];
        for (f, v) in flags {
            if v.is_none() {
                errs.push(row.number, f, "invalid_choice", row.get(at(f)).to_string());
            }
        }
        let mut model_ids = vec![];
        for m in
            row.get(at("model_codes")).split(['、', ',', '，', ';', '；', ' ']).map(str::trim).filter(|m| !m.is_empty())
        {
            let m = m.to_ascii_uppercase();
            if !models.contains_key(&m) {
                let id = products::model_by_code(&mut c, &m).await?.map(|x| x.id);
                models.insert(m.clone(), id);
            }
            match models.get(&m).copied().flatten() {
                Some(id) => model_ids.push(id),
                None => errs.push(row.number, "model_codes", "unknown_model", m),
            }
        }
        if let (Some(code), Some(price), [(_, Some(divisible)), (_, Some(serialised))]) = (code, price, flags) {
            valid.push((code, name, unit, spec, price, divisible, serialised, model_ids));
        }
    }
    if !errs.is_empty() {
        tx.rollback().await?;
        return Ok(errs.report(total));
    }
    let now = app.now();
    for (code, name, unit, spec, price, divisible, serialised, model_ids) in &valid {
        let new = shouhou_store::parts::NewPart {
            code,
            name,
            specification: spec,
            unit,
            divisible: *divisible,
            price_fen: *price,
            serialised: *serialised,
            warranty_policy: "device",
            warranty_months: 0,
        };
        shouhou_store::parts::insert_part(&mut c, &new, model_ids, now).await?;
    }
    record(&mut c, app, ctx, "part.import", "part", None, json!({"count": total, "file": table.file_name})).await?;
    tx.commit().await?;
    Ok(ImportReport { rows: total, imported: total, errors: vec![], more_errors: 0 })
}

#[cfg(test)]
mod part_tests {
    use super::*;

    #[test]
    fn prices_and_yes_no_read_as_people_write_them() {
        assert_eq!(price_fen("1,280.5"), Some(128_050));
        assert_eq!(price_fen("¥18"), Some(1_800));
        assert_eq!(price_fen(""), Some(0));
        assert_eq!(price_fen("1.234"), None);
        assert_eq!(price_fen("-5"), None);
        assert_eq!(
            (yes_no("是"), yes_no(""), yes_no("Y"), yes_no("也许")),
            (Some(true), Some(false), Some(true), None)
        );
    }
}
