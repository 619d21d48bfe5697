//! Reading tables from uploaded Excel (.xlsx, .xls) and CSV files, with row numbers as people see them.
use crate::{AppError, Result};
use calamine::{Data, Reader};
use shouhou_domain::ValidationErrors;
use std::io::Cursor;

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;

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
    pub(crate) fn get(&self, col: Option<usize>) -> &str {
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
