//! Text rules shared by every record: bounded, trimmed, no control characters; codes of stations and warehouses.
use crate::FieldError;

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
