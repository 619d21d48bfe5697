//! Errors at the HTTP edge: RFC 9457 problem+json for the API, with a stable machine code and a
//! message in the caller's language (rendered by `ctx::context_layer`, which knows the language).
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shouhou_app::AppError;
use shouhou_domain::FieldError;

/// A problem to report; put on the response as an extension and rendered once, at the edge.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<i64>,
    /// Further members of the problem object, e.g. the allowed actions of an illegal transition.
    pub extra: Option<serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code, detail: None, errors: vec![], retry_after: None, extra: None }
    }
    pub fn with_detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    pub fn field(status: StatusCode, code: &'static str, field: impl Into<String>, field_code: &'static str) -> Self {
        Self { errors: vec![FieldError::new(field, field_code)], ..Self::new(status, code) }
    }
}

impl From<&AppError> for Problem {
    fn from(e: &AppError) -> Self {
        use StatusCode as S;
        match e {
            AppError::Validation(v) => {
                Problem { errors: v.0.clone(), ..Problem::new(S::UNPROCESSABLE_ENTITY, "validation_failed") }
            }
            AppError::Unauthenticated => Problem::new(S::UNAUTHORIZED, "unauthenticated"),
            AppError::BadCredentials => Problem::new(S::UNAUTHORIZED, "bad_credentials"),
            AppError::Throttled { retry_after_secs } => {
                Problem { retry_after: Some(*retry_after_secs), ..Problem::new(S::TOO_MANY_REQUESTS, "throttled") }
            }
            AppError::Forbidden => Problem::new(S::FORBIDDEN, "forbidden"),
            AppError::NotFound => Problem::new(S::NOT_FOUND, "not_found"),
            AppError::Stale => Problem::new(S::CONFLICT, "stale_version"),
            AppError::Duplicate { field } => Problem {
                errors: vec![FieldError::new(field.clone(), "already_exists")],
                ..Problem::new(S::UNPROCESSABLE_ENTITY, "validation_failed")
            },
            AppError::IllegalTransition { from, action, allowed } => Problem {
                detail: Some(format!("cannot {action} a request that is {from}; allowed: {}", allowed.join(", "))),
                extra: Some(serde_json::json!({"from": from, "action": action, "allowed": allowed})),
                ..Problem::new(S::CONFLICT, "illegal_transition")
            },
            AppError::AlreadyDone => Problem::new(S::CONFLICT, "idempotency_key_in_use"),
            AppError::Unavailable(_) => Problem::new(S::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Undecryptable { version, .. } => Problem {
                extra: Some(serde_json::json!({"key": shouhou_app::key_name(*version)})),
                ..Problem::new(S::INTERNAL_SERVER_ERROR, "undecryptable_personal_data")
            },
            AppError::Internal(_) => Problem::new(S::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut r = self.status.into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// An application error answered through the API.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self.0 {
            AppError::Internal(m) => tracing::error!(error = %m, "internal error"),
            AppError::Unavailable(m) => tracing::error!(error = %m, "database unavailable"),
            AppError::Undecryptable { version, detail } => tracing::error!(
                key = %shouhou_app::key_name(*version),
                error = %detail,
                "stored personal data cannot be decrypted with the configured keys: check the key file (`shouhou keys status`)"
            ),
            _ => {}
        }
        Problem::from(&self.0).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
