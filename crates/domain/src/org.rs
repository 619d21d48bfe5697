//! The service organisation: headquarters, service stations, warehouses.
use crate::region::RegionCode;
use crate::{FieldError, ValidationErrors};

/// Whether text holds a control character other than tab and line breaks: NUL cannot be stored
/// in a PostgreSQL text column at all (the fuzzer's 500s), the others are never meant.
pub fn has_bad_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Required text of at most `max` characters, trimmed, without control characters.
pub fn required_text(field: &str, s: &str, max: usize) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if has_bad_control(t) {
        return Err(FieldError::new(field, "invalid_characters"));
    }
    if t.chars().count() > max {
        return Err(FieldError::too_long(field, max));
    }
    Ok(t.to_string())
}

/// Optional text of at most `max` characters; blank becomes `None`.
pub fn optional_text(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => Err(FieldError::too_long(field, max)),
        Some(t) if has_bad_control(t) => Err(FieldError::new(field, "invalid_characters")),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// The longest text to search for (a list's `q`, an audit action prefix, a region name).
pub const SEARCH_MAX: usize = 100;

/// Text to search for: blank becomes `None`, at most [`SEARCH_MAX`] characters.
pub fn search_text(field: &str, s: Option<&str>) -> Result<Option<String>, FieldError> {
    optional_text(field, s, SEARCH_MAX)
}

/// A station or warehouse code: 2–20 of upper-case ASCII letters, digits and `-`, e.g. `SZ-NS01`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let t = s.trim().to_ascii_uppercase();
        if t.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        if t.len() < 2 || t.len() > 20 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(FieldError::new(field, "invalid_code"));
        }
        Ok(OrgCode(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A service station as entered: validated, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationInput {
    pub code: OrgCode,
    pub name: String,
    pub region: RegionCode,
    pub address: String,
    pub phone: Option<String>,
}

impl StationInput {
    pub fn parse(
        code: &str,
        name: &str,
        region_code: &str,
        address: &str,
        phone: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let code = e.take(OrgCode::parse("code", code));
        let name = e.take(required_text("name", name, 100));
        let region = e.take(RegionCode::parse("region_code", region_code));
        let address = e.take(required_text("address", address, 200));
        let phone = e.take(optional_text("phone", phone, 30));
        match (code, name, region, address, phone) {
            (Some(code), Some(name), Some(region), Some(address), Some(phone)) if e.is_empty() => {
                Ok(StationInput { code, name, region, address, phone })
            }
            _ => Err(e),
        }
    }
}

/// A warehouse: the central one at headquarters (no station) or one per station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseInput {
    pub code: OrgCode,
    pub name: String,
    pub region: RegionCode,
    pub address: String,
}

impl WarehouseInput {
    pub fn parse(code: &str, name: &str, region_code: &str, address: &str) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let code = e.take(OrgCode::parse("code", code));
        let name = e.take(required_text("name", name, 100));
        let region = e.take(RegionCode::parse("region_code", region_code));
        let address = e.take(required_text("address", address, 200));
        match (code, name, region, address) {
            (Some(code), Some(name), Some(region), Some(address)) if e.is_empty() => {
                Ok(WarehouseInput { code, name, region, address })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_station_with_every_field_wrong_reports_every_field() {
        let Err(e) = StationInput::parse("", "", "12", "", None) else { panic!("accepted") };
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["code", "name", "region_code", "address"]);
    }
    #[test]
    fn a_good_station_parses() {
        let s = StationInput::parse("sz-ns01", "深圳南山服务站", "440305", "科技园南区 18 栋", Some("0755-26581234"));
        assert_eq!(s.map(|s| s.code.as_str().to_string()), Ok("SZ-NS01".into()));
    }
}
