//! Import of customers and devices from CSV or Excel files and export of lists to Excel.
//!
//! An import checks every row first, with the same rules as registering one record at the desk
//! (`desk::validate_customer`, `desk::validate_device`), and against the file itself and the
//! database (duplicates, unknown stations, models and customers). One bad row and nothing is
//! written: the report names every bad row and field. Otherwise all rows go in one transaction
//! with one audit entry. Personal data in a report is masked; an export masks it for callers
//! without `PersonalDataRead`, and an export in clear is written to the audit trail.
use crate::desk::{CustomerForm, DeviceForm, today, validate_customer, validate_device};
use crate::system::{record, record_alone};
use crate::{App, AppError, Ctx, Result};
use calamine::{Data, Reader};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::customer::Phone;
use shouhou_domain::ids::StationId;
use shouhou_domain::mask::{mask_address, mask_id_number, mask_name, mask_phone};
use shouhou_store::catalog::{self, NewDevice};
use shouhou_store::requests;
use shouhou_store::{PageRequest, StoreError, org};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;
/// The most errors a report lists; the rest are only counted (`ImportReport::more_errors`).
pub const MAX_REPORTED_ERRORS: usize = 1000;

// ---------- reading files ----------

/// The rows of an uploaded file: its header and the data rows under it, every cell as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub file_name: String,
    /// The row number of the header (1 unless rows above it are blank).
    pub header_row: usize,
    pub headers: Vec<String>,
    /// Data rows, blank rows left out.
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based, as a spreadsheet shows it (for a CSV file: the line the record starts on).
    pub number: usize,
    pub cells: Vec<String>,
}

impl Row {
    fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|c| self.cells.get(c)).map(|s| s.trim()).unwrap_or("")
    }
}

fn file_error(code: &'static str) -> AppError {
    ValidationErrors::single("file", code).into()
}

/// Read a CSV or Excel file, told apart by content (an .xlsx file is a zip archive; an .xls file
/// an OLE compound document): CSV must be UTF-8, with or without a byte-order mark. Errors are
/// field errors of `file`: `not_utf8` (a CSV saved as GBK/GB18030 or UTF-16: save it as
/// "CSV UTF-8" or as .xlsx), `unreadable_file`, `empty_file` (no header row), `too_many_rows`.
pub fn read_rows(file_name: &str, bytes: &[u8]) -> Result<Table, AppError> {
    let raw = if bytes.starts_with(b"PK\x03\x04") {
        let wb = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| file_error("unreadable_file"))?;
        sheet_rows(wb)?
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        let wb = calamine::Xls::new(Cursor::new(bytes)).map_err(|_| file_error("unreadable_file"))?;
        sheet_rows(wb)?
    } else {
        csv_rows(bytes)?
    };
    let mut rows = raw.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let (header_row, headers) = rows.next().ok_or_else(|| file_error("empty_file"))?;
    let rows: Vec<Row> = rows.map(|(number, cells)| Row { number, cells }).collect();
    if rows.len() > MAX_ROWS {
        return Err(file_error("too_many_rows"));
    }
    // Only the name itself (some browsers send a whole path), as it goes into the audit trail.
    let file_name: String = file_name.rsplit(['/', '\\']).next().unwrap_or("").chars().take(100).collect();
    Ok(Table { file_name, header_row, headers: headers.into_iter().map(|h| h.trim().to_string()).collect(), rows })
}

/// `read_rows` on a blocking thread, for a handler: a large workbook takes a while to unpack.
pub async fn read_upload(file_name: String, bytes: Vec<u8>) -> Result<Table> {
    tokio::task::spawn_blocking(move || read_rows(&file_name, &bytes))
        .await
        .map_err(|e| AppError::Internal(format!("reading the file: {e}")))?
}

/// The first sheet's used range, each row with its spreadsheet row number.
fn sheet_rows<RS, R>(mut wb: R) -> Result<Vec<(usize, Vec<String>)>>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
{
    let range = wb.worksheet_range_at(0).ok_or_else(|| file_error("empty_file"))?;
    let range = range.map_err(|_| file_error("unreadable_file"))?;
    let first = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    if range.height() > MAX_ROWS + 1 {
        return Err(file_error("too_many_rows"));
    }
    Ok(range.rows().enumerate().map(|(i, r)| (first + i + 1, r.iter().map(cell_text).collect())).collect())
}

/// A cell as text: whole numbers without a decimal point (a phone typed as a number), dates as
/// `YYYY-MM-DD` (with the time when it is not midnight).
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e}"),
    }
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(file_error("not_utf8"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| file_error("not_utf8"))?;
    if text.contains('\0') {
        // UTF-16 without a byte-order mark.
        return Err(file_error("not_utf8"));
    }
    // Excel's "Unicode text" and some exports separate by tabs or semicolons.
    let first_line = text.lines().next().unwrap_or("");
    let count = |c: char| first_line.matches(c).count();
    let delimiter = match (count(','), count('\t'), count(';')) {
        (c, t, _) if t > c => b'\t',
        (c, _, s) if s > c => b';',
        _ => b',',
    };
    let mut rd =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut out = vec![];
    // A spreadsheet shows every record as one row, blank lines too, and a quoted line break
    // within a cell does not start a row: count record-ending line breaks before each record.
    let (mut row, mut scanned, mut quoted) = (1usize, 0usize, false);
    for rec in rd.records() {
        let rec = rec.map_err(|_| file_error("unreadable_file"))?;
        let mut start = rec.position().map(|p| usize::try_from(p.byte()).unwrap_or(usize::MAX)).unwrap_or(scanned);
        // The reader may place a record's start before the line break that ends the last one.
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        for &b in text.as_bytes().get(scanned..start).unwrap_or_default() {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => row += 1,
                _ => {}
            }
        }
        scanned = scanned.max(start);
        out.push((row, rec.iter().map(str::to_string).collect()));
        if out.len() > MAX_ROWS + 1 {
            return Err(file_error("too_many_rows"));
        }
    }
    Ok(out)
}

/// A date as people write it: `2026-01-31`, `2026/1/31`, `2026.1.31`, `2026年1月31日`, perhaps
/// followed by a time, as `YYYY-MM-DD`; `None` when it is none of these.
pub fn normalise_date(s: &str) -> Option<String> {
    let s = s.trim();
    let date_part = s.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> =
        date_part.trim_end_matches('日').split(['-', '/', '.', '年', '月']).filter(|p| !p.is_empty()).collect();
    let [y, m, d] = parts.as_slice() else { return None };
    if y.len() != 4 || m.len() > 2 || d.len() > 2 {
        return None;
    }
    let date = jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?;
    Some(date.to_string())
}

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
            let s = org::station_by_code(&mut c, code).await?.filter(|s| actor.scope.allows(StationId(s.id)));
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
    let taken_phones = catalog::customer_phone_indexes_in_use(&mut c, &indexes).await?;
    let codes: Vec<String> = valid.iter().filter_map(|(_, v, _)| v.credit_code.clone()).collect();
    let taken_codes = catalog::credit_codes_in_use(&mut c, &codes).await?;
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
        match catalog::insert_customer(&mut c, &app.keys, &new, now).await {
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
        device: Option<crate::desk::ValidDevice>,
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
            let m = catalog::model_by_code(&mut c, &p.model_code).await?.map(|m| m.id);
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
    let refs = catalog::customer_refs_by_phone_indexes(&mut c, &indexes, &actor.scope).await?;
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
    let existing = catalog::device_keys_by_serials(&mut c, &serials).await?;

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
        match catalog::insert_device(&mut c, &app.keys, &new, now).await {
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

// ---------- exports ----------

/// Rows fetched per query while exporting.
const EXPORT_PAGE: u32 = 5000;

/// Epoch milliseconds as `YYYY-MM-DD HH:MM` in the business zone (+08:00).
fn local_time(ms: i64) -> String {
    let t = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let d = jiff::tz::Offset::constant(8).to_datetime(t);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", d.year(), d.month(), d.day(), d.hour(), d.minute())
}

fn opt_time(ms: Option<i64>) -> String {
    ms.map(local_time).unwrap_or_default()
}

/// `workbook` on a blocking thread: 100 000 rows take seconds of CPU.
async fn workbook_bytes(
    sheet: &'static str,
    headers: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || workbook(sheet, headers, &rows))
        .await
        .map_err(|e| AppError::Internal(format!("writing xlsx: {e}")))?
}

/// A one-sheet workbook: bold, frozen header with a filter, columns as wide as their text.
fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(xe)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    // Display width: CJK characters count double.
    let width = |s: &str| s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(xe)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| AppError::Internal("too many rows for a sheet".into()))?;
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                // Always text: a phone or code keeps its leading zero, and nothing becomes a formula.
                ws.write_string(r, c as u16, v.as_str()).map_err(xe)?;
            }
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(width(v));
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w).clamp(6, 60) as f64 + 2.0).map_err(xe)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xe)?;
    let last_col = u16::try_from(headers.len().saturating_sub(1)).unwrap_or(0);
    ws.autofilter(0, 0, u32::try_from(rows.len()).unwrap_or(u32::MAX), last_col).map_err(xe)?;
    wb.save_to_buffer().map_err(xe)
}

/// Station codes by id, looked up once each.
struct StationCodes(HashMap<i64, String>);

impl StationCodes {
    async fn get(&mut self, c: &mut shouhou_store::Conn<'_>, id: Option<i64>) -> Result<String> {
        let Some(id) = id else { return Ok(String::new()) };
        if let Some(code) = self.0.get(&id) {
            return Ok(code.clone());
        }
        let code = org::get_station(c, StationId(id)).await?.map(|s| s.code).unwrap_or_default();
        self.0.insert(id, code.clone());
        Ok(code)
    }
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "person" => "个人",
        "company" => "企业",
        other => other,
    }
}

fn tier_label(tier: &str) -> &str {
    match tier {
        "vip" => "VIP",
        "key" => "重点客户",
        "standard" => "普通",
        other => other,
    }
}

/// Headers of the customer export: those the import reads, so a file exported in clear can be
/// edited and imported elsewhere, and a few for reading.
pub const CUSTOMER_EXPORT_HEADERS: [&str; 12] = [
    "客户编号",
    "客户名称",
    "类型",
    "手机",
    "统一社会信用代码",
    "身份证号",
    "行政区划代码",
    "地区",
    "地址",
    "等级",
    "服务站编码",
    "登记时间",
];

/// Every customer in the caller's scope as an .xlsx file, newest first. Personal fields are
/// masked without `PersonalDataRead` (as everywhere, by `desk::view`); an export in clear is written to the audit
/// trail (`customer.export`, with the count).
#[tracing::instrument(skip_all)]
pub async fn export_customers_xlsx(app: &App, ctx: &Ctx) -> Result<Vec<u8>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let clear = actor.can(Permission::PersonalDataRead);
    let mut rows = vec![];
    {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let mut stations = StationCodes(HashMap::new());
        for page in 1.. {
            let p =
                catalog::list_customers(&mut c, &app.keys, &actor.scope, PageRequest { page, per_page: EXPORT_PAGE })
                    .await?;
            let last = p.items.len() < EXPORT_PAGE as usize;
            for cu in p.items {
                let station = stations.get(&mut c, cu.station_id).await?;
                let created = local_time(cu.created_at);
                let cu = crate::desk::view(cu, clear);
                rows.push(vec![
                    cu.id.to_string(),
                    cu.name,
                    kind_label(&cu.kind).to_string(),
                    cu.phone,
                    cu.credit_code.unwrap_or_default(),
                    cu.id_number.unwrap_or_default(),
                    cu.region_code,
                    cu.region_name,
                    cu.address,
                    tier_label(&cu.tier).to_string(),
                    station,
                    created,
                ]);
            }
            if last {
                break;
            }
        }
    }
    let count = rows.len();
    let bytes = workbook_bytes("客户", &CUSTOMER_EXPORT_HEADERS, rows).await?;
    if clear {
        record_alone(app, ctx, "customer.export", "customer", None, json!({"count": count, "format": "xlsx"})).await?;
    }
    tracing::info!(count, clear, "customers exported");
    Ok(bytes)
}

fn label<'a>(table: &[(&str, &'a str)], code: &'a str) -> &'a str {
    table.iter().find(|(k, _)| *k == code).map(|(_, v)| *v).unwrap_or(code)
}

const TYPE_LABELS: &[(&str, &str)] = &[
    ("consultation", "咨询"),
    ("repair", "报修"),
    ("installation", "安装调试"),
    ("maintenance", "保养"),
    ("upgrade", "系统升级"),
    ("delivery", "配送"),
    ("complaint", "投诉"),
    ("suggestion", "建议"),
    ("return_exchange", "退换货"),
    ("training", "培训"),
];
const CHANNEL_LABELS: &[(&str, &str)] = &[
    ("phone", "电话"),
    ("email", "邮件"),
    ("web", "网站"),
    ("chat", "在线客服"),
    ("wechat", "微信"),
    ("walk_in", "上门"),
    ("qr_code", "扫码报修"),
    ("dealer", "经销商代报"),
];
const URGENCY_LABELS: &[(&str, &str)] = &[("urgent", "紧急"), ("high", "高"), ("normal", "一般"), ("low", "低")];
const STATUS_LABELS: &[(&str, &str)] = &[
    ("new", "新建"),
    ("accepted", "已受理"),
    ("responded", "已响应"),
    ("in_progress", "处理中"),
    ("waiting_customer", "等待客户"),
    ("resolved", "已解决"),
    ("confirmed", "客户已确认"),
    ("closed", "已关闭"),
    ("reopened", "已重开"),
    ("cancelled", "已取消"),
];
const SLA_LABELS: &[(&str, &str)] = &[
    ("running", "计时中"),
    ("at_risk", "即将超时"),
    ("breached", "已超时"),
    ("paused", "已暂停"),
    ("met", "已达成"),
    ("missed", "未达成"),
    ("not_started", "未开始"),
];

pub const REQUEST_EXPORT_HEADERS: [&str; 14] = [
    "工单号",
    "类型",
    "渠道",
    "紧急程度",
    "状态",
    "客户名称",
    "客户电话",
    "服务站编码",
    "问题描述",
    "受理时间",
    "响应截止",
    "解决截止",
    "响应SLA",
    "解决SLA",
];

/// The queue `name` (as `service::queue` names them: `mine`, `station`, `unassigned`, `due_soon`,
/// `breached`, `all`) as an .xlsx file, soonest due first, in the caller's scope. The customer's
/// name and phone are masked without `PersonalDataRead`; an export in clear is written to the
/// audit trail (`request.export`, with the count).
#[tracing::instrument(skip_all)]
pub async fn export_requests_xlsx(app: &App, ctx: &Ctx, queue: &str) -> Result<Vec<u8>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let q = crate::service::queue_named(app, actor, queue)?;
    let clear = actor.can(Permission::PersonalDataRead);
    let mut rows = vec![];
    {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let mut stations = StationCodes(HashMap::new());
        let mut customers: HashMap<i64, (String, String)> = HashMap::new();
        for page in 1.. {
            let p = requests::queue(&mut c, &actor.scope, q, PageRequest { page, per_page: EXPORT_PAGE }).await?;
            let last = p.items.len() < EXPORT_PAGE as usize;
            for r in p.items {
                if let std::collections::hash_map::Entry::Vacant(slot) = customers.entry(r.customer_id) {
                    let cu = catalog::get_customer_in_scope(&mut c, &app.keys, r.customer_id, &actor.scope).await?;
                    let shown = match cu {
                        Some(cu) if clear => (cu.name, cu.phone),
                        Some(cu) => (cu.name_mask, cu.phone_mask),
                        None => (String::new(), String::new()),
                    };
                    slot.insert(shown);
                }
                let (name, phone) = customers.get(&r.customer_id).cloned().unwrap_or_default();
                rows.push(vec![
                    r.number.clone(),
                    label(TYPE_LABELS, &r.request_type).to_string(),
                    label(CHANNEL_LABELS, &r.channel).to_string(),
                    label(URGENCY_LABELS, &r.urgency).to_string(),
                    label(STATUS_LABELS, &r.status).to_string(),
                    name,
                    phone,
                    stations.get(&mut c, r.station_id).await?,
                    r.description.clone(),
                    local_time(r.created_at),
                    opt_time(r.response_due_at),
                    opt_time(r.resolution_due_at),
                    label(SLA_LABELS, &r.response_state).to_string(),
                    label(SLA_LABELS, &r.resolution_state).to_string(),
                ]);
            }
            if last {
                break;
            }
        }
    }
    let count = rows.len();
    let bytes = workbook_bytes("工单", &REQUEST_EXPORT_HEADERS, rows).await?;
    if clear && count > 0 {
        record_alone(
            app,
            ctx,
            "request.export",
            "service_request",
            None,
            json!({"count": count, "queue": queue.trim(), "format": "xlsx"}),
        )
        .await?;
    }
    tracing::info!(count, clear, "requests exported");
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
