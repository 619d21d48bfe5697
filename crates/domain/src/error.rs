use serde::Serialize;

/// One invalid input field: which field, a stable code and parameters for the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `invalid_region`; also the i18n key suffix.
    pub code: &'static str,
    /// The bound that was crossed: the most characters of a `too_long` value, the largest
    /// page size of an `out_of_range` one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self { field: field.into(), code, limit: None }
    }
    /// `too_long`, naming the most characters the field takes.
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::with_limit(field, "too_long", max)
    }
    pub fn with_limit(field: impl Into<String>, code: &'static str, limit: usize) -> Self {
        Self { field: field.into(), code, limit: Some(u32::try_from(limit).unwrap_or(u32::MAX)) }
    }
}

/// All field errors of one command, so the caller sees every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.code)).collect::<Vec<_>>().join(", "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn push(&mut self, field: impl Into<String>, code: &'static str) {
        self.0.push(FieldError::new(field, code));
    }
    pub fn single(field: impl Into<String>, code: &'static str) -> Self {
        Self(vec![FieldError::new(field, code)])
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Collect the error of a parse into this set and give back the value if it parsed.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}
