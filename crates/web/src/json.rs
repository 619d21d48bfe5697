//! JSON bodies: unknown fields are reported, not dropped; every error is a problem with a field.
use crate::error::Problem;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

/// Largest JSON body accepted by the API.
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// Largest upload (an attachment of 10 MiB with its multipart framing; imports).
pub const MAX_UPLOAD_BODY: usize = 12 * 1024 * 1024;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
        if !is_json {
            return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|_| Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"))?;
        if has_nul_escape(&bytes) {
            return Err(Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "body",
                "invalid_characters",
            ));
        }
        parse(&bytes).map(ApiJson)
    }
}

/// Whether a JSON text encodes a NUL (`\u0000`, its only spelling in JSON): no field may hold
/// one — PostgreSQL text cannot store it, so even a code that is only looked up would fail.
fn has_nul_escape(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(i, w)| {
        w[0] == b'\\'
            && w[1..].eq_ignore_ascii_case(b"u0000")
            && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// Parse a JSON body, turning serde's message into a field error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice::<T>(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                Problem::new(StatusCode::BAD_REQUEST, "malformed_json").with_detail(e.to_string())
            }
            Category::Data => {
                let msg = e.to_string();
                let quoted = msg.split('`').nth(1).unwrap_or("body").to_string();
                let (field, code) = if msg.starts_with("unknown field") {
                    (quoted, "unknown_field")
                } else if msg.starts_with("missing field") {
                    (quoted, "required")
                } else {
                    ("body".to_string(), "invalid_value")
                };
                Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", field, code).with_detail(msg)
            }
        }
    })
}

/// Query parameters: an unknown or malformed parameter is a problem, not a plain-text 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(|q| q.to_ascii_lowercase().contains("%00")) {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_query").with_detail("a parameter holds NUL"));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_query").with_detail(e.body_text())),
        }
    }
}

/// What went wrong reading a multipart body, as a problem: over the size limit → 413; a part
/// header with a control character (in practice a NUL in the file name, which the header parser
/// refuses) → 400 `bad_file_name`; anything else — a body cut short, no boundary, the client
/// gone — → 400 `malformed_multipart`, naming the cause. None of these is the server's fault.
pub fn multipart_problem(e: &axum::extract::multipart::MultipartError) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::field(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "file", "file_too_large");
    }
    let cause = std::error::Error::source(e).and_then(|s| s.downcast_ref::<multer::Error>());
    if let Some(multer::Error::ReadHeaderFailed(httparse_error)) = cause {
        return Problem::field(StatusCode::BAD_REQUEST, "bad_file_name", "file", "bad_file_name")
            .with_detail(format!("a part header cannot be read: {httparse_error}"));
    }
    Problem::new(StatusCode::BAD_REQUEST, "malformed_multipart").with_detail(e.body_text())
}

/// The file name of an upload, refused with 400 `bad_file_name` when it holds a control
/// character (the rule is the domain's, which the use case applies again).
pub fn upload_file_name(name: &str) -> Result<String, Problem> {
    if shouhou_domain::attachments::has_control(name) {
        return Err(Problem::field(StatusCode::BAD_REQUEST, "bad_file_name", "file", "bad_file_name"));
    }
    Ok(name.to_string())
}
