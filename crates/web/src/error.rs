//! Errors at the HTTP edge: RFC 9457 problem+json for the API, with a stable machine code and a
//! message in the caller's language (rendered by `ctx::context_layer`, which knows the language).
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
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
    /// Headers the answer keeps, e.g. `Allow` of a 405.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code, detail: None, errors: vec![], retry_after: None, extra: None, headers: vec![] }
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
            AppError::Gone => Problem::new(S::GONE, "gone"),
            AppError::Stale => Problem::new(S::CONFLICT, "stale_version"),
            AppError::Duplicate { field } => Problem {
                errors: vec![FieldError::new(field.clone(), "already_exists")],
                ..Problem::new(S::UNPROCESSABLE_ENTITY, "validation_failed")
            },
            AppError::IllegalTransition { from, action, allowed } => Problem {
                detail: Some(format!("cannot {action} when it is {from}; allowed: {}", allowed.join(", "))),
                extra: Some(serde_json::json!({"from": from, "action": action, "allowed": allowed})),
                ..Problem::new(S::CONFLICT, "illegal_transition")
            },
            AppError::AlreadyDone => Problem::new(S::CONFLICT, "idempotency_key_in_use"),
            AppError::InsufficientStock { available } => Problem {
                detail: Some(format!("only {available} available")),
                extra: Some(serde_json::json!({"available": available})),
                ..Problem::new(S::CONFLICT, "insufficient_stock")
            },
            AppError::Unavailable(_) => Problem::new(S::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Undecryptable { version, .. } => Problem {
                extra: Some(serde_json::json!({"key": shouhou_app::key_name(*version)})),
                ..Problem::new(S::INTERNAL_SERVER_ERROR, "undecryptable_personal_data")
            },
            AppError::Internal(_) | AppError::Fault(_) => Problem::new(S::INTERNAL_SERVER_ERROR, "internal"),
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
            AppError::Fault(e) => tracing::error!(error = %e, cause = ?e, "internal error"),
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

/// The problem+json body of RFC 9457, with our `code`, `errors` and `request_id` members.
pub fn problem_body(tr: Tr, request_id: &str, p: &Problem) -> serde_json::Value {
    let errors: Vec<serde_json::Value> = p
        .errors
        .iter()
        .map(|e| {
            let mut v = serde_json::json!({"field": e.field, "code": e.code, "message": tr.field_message(e)});
            if let Some(limit) = e.limit {
                v["limit"] = limit.into();
            }
            v
        })
        .collect();
    let title = tr.t(&format!("problem-{}", p.code));
    let detail = p.detail.clone().unwrap_or_else(|| {
        if errors.is_empty() {
            title.clone()
        } else {
            p.errors.iter().map(|e| tr.field_message(e)).collect::<Vec<_>>().join("; ")
        }
    });
    let mut body = serde_json::json!({
        "type": format!("/api/problems/{}", p.code),
        "title": title,
        "status": p.status.as_u16(),
        "code": p.code,
        "detail": detail,
        "request_id": request_id,
    });
    if !errors.is_empty() {
        body["errors"] = serde_json::Value::Array(errors);
    }
    if let Some(serde_json::Value::Object(extra)) = &p.extra {
        for (k, v) in extra {
            body[k] = v.clone();
        }
    }
    body
}

/// The whole problem answer: status, body, `Content-Type: application/problem+json`, `Retry-After`.
pub fn problem_response(tr: Tr, request_id: &str, p: Problem) -> Response {
    let body = problem_body(tr, request_id, &p);
    let mut resp = (p.status, body.to_string()).into_response();
    let headers = resp.headers_mut();
    for (k, v) in p.headers {
        headers.insert(k, v);
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Some(v) = p.retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        headers.insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The stable code of an error status no handler explained (axum's own rejections and answers).
pub fn code_of_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        431 => "headers_too_large",
        503 => "unavailable",
        500..=599 => "internal",
        _ => "bad_request",
    }
}

/// Whether a path is the API's (answered with problem+json) rather than a page.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Error answers nobody turned into a problem — axum's rejections (a path id that is not a
/// number, a multipart body without a boundary: `400 text/plain`), `405` with an empty body —
/// become one: problem+json under `/api`, the error page elsewhere. Handlers' own answers (a
/// problem, a page, JSON) pass untouched, and so do the probes' plain answers (`/readyz` 503).
pub async fn unexplained_errors_layer(req: Request, next: Next) -> Response {
    let api = is_api_path(req.uri().path());
    let path = req.uri().path().to_string();
    if matches!(path.as_str(), "/healthz" | "/readyz") {
        return next.run(req).await;
    }
    // A NUL in a path parameter (a calendar code) would reach the database, which refuses it.
    if api && path.to_ascii_lowercase().contains("%00") {
        return Problem::new(StatusCode::BAD_REQUEST, "invalid_path").with_detail("the path holds NUL").into_response();
    }
    let rc = req.extensions().get::<ReqCtx>().cloned();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || resp.extensions().get::<Problem>().is_some() {
        return resp;
    }
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let plain = content_type.is_empty() || content_type.starts_with("text/plain");
    if !plain {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // axum's rejection texts are short; a longer plain body is not one of them.
    let text = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).ok();
    let text = text.filter(|t| !t.trim().is_empty());
    let code = match &text {
        Some(t) if status == StatusCode::BAD_REQUEST && t.starts_with("Invalid URL") => "invalid_path",
        _ => code_of_status(status),
    };
    let mut p = Problem::new(status, code);
    p.detail = text;
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            p.headers.push((name, v.clone()));
        }
    }
    match (api, rc) {
        (false, Some(rc)) => crate::pages::error_page(&rc, &path, status, p.detail.as_deref()),
        _ => p.into_response(),
    }
}
