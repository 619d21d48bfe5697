//! `Idempotency-Key` on every API POST: the first answer is stored and a retry with the same key
//! gets it back, never a second record. The key and the answer commit in the command's own
//! transaction (`shouhou_app::idempotency`, D27), so after a crash anywhere a retry either
//! replays the answer or runs the command for the first time. A key reused for a different body
//! is refused (422); a concurrent twin waits for the first and gets its answer. A failure on our
//! side (5xx) before the commit writes nothing, so a retry runs afresh.
//!
//! Web forms get the same through a hidden `_idem` field (`static/app.js` puts one key in each
//! form when the page loads, so a double click sends it twice): the second submission gets the
//! first's answer (the redirect to what was created), never a second record nor a confusing 409.
//! A form key reused with another body (a page restored from the back-forward cache) just runs as
//! a new submission.
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::Problem;
use crate::json::MAX_UPLOAD_BODY;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shouhou_app::AppError;
use shouhou_app::idempotency::{self, FallbackReply, Found, Outcome, Reply};
use shouhou_app::secrets::sha256_hex;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tracing::Instrument as _;

pub const HEADER: &str = "idempotency-key";
/// The hidden field of a web form that carries its key.
const FORM_FIELD: &str = "_idem";
/// Tries at storing an answer before giving up.
const STORE_TRIES: u32 = 4;

/// Where a request's idempotency key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    /// `Idempotency-Key`: an API client.
    Header,
    /// The `_idem` field of an urlencoded web form.
    FormField,
    /// `_idem` in the query of an upload (multipart) form's action.
    Query,
}

/// What tells a retry from another request under the same key: the path, and the body as the
/// key's source defines it.
fn fingerprint(source: KeySource, path: &str, query: Option<&str>, body: &[u8]) -> String {
    let mut f = Vec::with_capacity(body.len() + 64);
    f.extend_from_slice(path.as_bytes());
    f.push(0);
    match source {
        KeySource::Header => f.extend_from_slice(body),
        // A form by its fields, not by how a browser or a script happened to encode them.
        KeySource::FormField => {
            let mut fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
            fields.sort();
            for (k, v) in fields {
                f.extend_from_slice(k.as_bytes());
                f.push(0);
                f.extend_from_slice(v.as_bytes());
                f.push(0);
            }
        }
        // A browser draws a new multipart boundary for every submission: the key alone decides.
        KeySource::Query => f.extend_from_slice(query.unwrap_or("").as_bytes()),
    }
    sha256_hex(&f)
}

/// The stored answer of a finished request, as it was first given.
fn replay(app: &shouhou_app::App, done: Found) -> Response {
    let replay = match idempotency::replay(app, done) {
        Ok(Some(r)) => r,
        Ok(None) => return Problem::new(StatusCode::CONFLICT, "idempotency_key_in_use").into_response(),
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let mut r = (StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK), replay.body).into_response();
    let all = [("content-type".to_string(), replay.content_type)]
        .into_iter()
        .chain(replay.location.map(|l| ("location".to_string(), l)));
    for (name, value) in all.chain(replay.headers) {
        if let (Ok(n), Ok(v)) = (header::HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            r.headers_mut().insert(n, v);
        }
    }
    r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// Logins, which the idempotency layer leaves alone.
const LOGIN_PATHS: [&str; 2] = ["/api/v1/auth/login", "/login"];

/// The answer a retry gets if the command commits before its answer is known and its process
/// dies before the answer is stored (a page that renders what it just wrote): a form is sent back
/// to the page it was on, where the person sees what the command did; an API client is told the
/// command was carried out and its answer lost, never to run it again.
fn fallback_answer(
    parts: &axum::http::request::Parts,
    form: bool,
) -> impl Fn() -> Option<FallbackReply> + Send + Sync + 'static {
    let back = form.then(|| {
        let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        parts
            .headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
            .and_then(|rest| rest.strip_prefix(host))
            .filter(|path| path.starts_with('/') && !path.starts_with("//"))
            .unwrap_or("/")
            .to_string()
    });
    let rc = parts.extensions.get::<ReqCtx>().map(|rc| (rc.tr, rc.request_id().to_string()));
    move || {
        let (status, content_type, body) = match (&back, &rc) {
            (Some(_), _) => (StatusCode::SEE_OTHER, String::new(), String::new()),
            (None, Some((tr, request_id))) => {
                let p = Problem::new(StatusCode::CONFLICT, "idempotency_answer_lost");
                let body = crate::error::problem_body(*tr, request_id, &p).to_string();
                (StatusCode::CONFLICT, "application/problem+json".to_string(), body)
            }
            (None, None) => return None,
        };
        Some(FallbackReply { status: status.as_u16(), content_type, body, location: back.clone() })
    }
}

/// The `_idem` field of an urlencoded form body or query.
fn form_key(body: &[u8]) -> Option<String> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    fields.into_iter().find(|(k, _)| k == FORM_FIELD).map(|(_, v)| v).filter(|v| !v.is_empty())
}

/// The key of `principal` as a committed command left it.
async fn lookup(app: &shouhou_app::App, principal: &str, key: &str) -> Result<Option<Found>, AppError> {
    idempotency::lookup(app, principal, key).await
}

/// The answer of the command that holds the key. A committed key always carries one: the real
/// answer, or the fallback stored when the command committed before it (D27).
async fn answer_of_holder(app: &shouhou_app::App, principal: &str, key: &str) -> Response {
    match lookup(app, principal, key).await {
        Err(e) => crate::error::ApiError(e).into_response(),
        Ok(Some(done @ Found::Done { .. })) => replay(app, done),
        Ok(_) => Problem::new(StatusCode::CONFLICT, "idempotency_key_in_use").into_response(),
    }
}

pub async fn idempotency_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    // Keys are kept per signed-in caller; an anonymous request stores nothing, and neither does a
    // login (its answer sets a cookie or shows a new token: it is never replayed, and its throttle
    // must not run inside a claimed transaction).
    let Some(actor) = req.extensions().get::<ReqCtx>().and_then(|rc| rc.ctx.actor_id()) else {
        return next.run(req).await;
    };
    if LOGIN_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let header_key = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    // An upload (multipart) form carries its key in the action's query: its body is fingerprinted
    // by nothing else, as a browser draws a new multipart boundary for every submission.
    let query_key = req.uri().query().and_then(|q| form_key(q.as_bytes()));
    if header_key.is_none() && !is_form && query_key.is_none() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_UPLOAD_BODY).await else {
        return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").into_response();
    };
    let body_key = if is_form { form_key(&bytes) } else { None };
    let (key, source) = match (header_key, body_key, query_key) {
        (Some(k), _, _) => (k, KeySource::Header),
        (None, Some(k), _) => (k, KeySource::FormField),
        (None, None, Some(k)) => (k, KeySource::Query),
        (None, None, None) => return next.run(Request::from_parts(parts, Body::from(bytes))).await,
    };
    // A web form (not an API client): a key reused with another body just runs.
    let form = source != KeySource::Header;
    if key.is_empty() || key.len() > 255 {
        return Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Idempotency-Key",
            "invalid_value",
        )
        .into_response();
    }
    let principal = format!("user:{actor}");
    let request_hash = fingerprint(source, parts.uri.path(), parts.uri.query(), &bytes);
    let app = state.app.clone();

    // A retry of a command that committed is answered as the command was, without running it.
    match lookup(&app, &principal, &key).await {
        Err(e) => return crate::error::ApiError(e).into_response(),
        Ok(Some(found)) if found.request_hash() != request_hash => {
            if form {
                return next.run(Request::from_parts(parts, Body::from(bytes))).await;
            }
            return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").into_response();
        }
        Ok(Some(_)) => return answer_of_holder(&app, &principal, &key).await,
        Ok(None) => {}
    }

    // The request runs in a task of its own, so that a client who hangs up (the first click of a
    // double click) does not abandon its command half-way: the answer is still stored and replayed.
    let fallback = fallback_answer(&parts, form);
    let unit = idempotency::unit(&app, &principal, &key, &request_hash, form, fallback);
    let faults = state.faults.clone();
    let in_flight = app.in_flight();
    let task = tokio::spawn(
        async move {
            let _in_flight = in_flight;
            let rc = parts.extensions.get::<ReqCtx>().cloned();
            let mut resp = unit.run(next.run(Request::from_parts(parts, Body::from(bytes)))).await;
            // The context layer renders problems after us; render here so that what we store is what
            // the caller sees.
            if let (Some(rc), Some(problem)) = (rc, resp.extensions_mut().remove::<Problem>()) {
                resp = crate::ctx::render_problem(&rc, problem);
            }
            if faults.lose_next_answer.swap(false, Ordering::SeqCst) {
                drop(unit.finish());
                return Problem::new(StatusCode::BAD_GATEWAY, "unavailable").into_response();
            }
            let status = resp.status();
            let (parts, body) = resp.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                if let Outcome::Parked(tx) = unit.finish() {
                    let _ = tx.rollback().await;
                }
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let answered = || Response::from_parts(parts.clone(), Body::from(bytes.clone()));
            // An answer that sets cookies (a login) is not replayed without them: a retry runs afresh.
            let keep = !parts.headers.contains_key(header::SET_COOKIE);
            match unit.finish() {
                Outcome::Parked(tx) => {
                    // The command has not committed: a failure on our side writes nothing at all.
                    if status.is_server_error() {
                        let _ = tx.rollback().await;
                        return answered();
                    }
                    let body = String::from_utf8_lossy(&bytes);
                    let kept = kept_headers(&parts.headers);
                    let reply = keep.then(|| reply(status, &parts.headers, &body, kept.as_deref()));
                    match idempotency::commit_with(&app, tx, &principal, &key, reply).await {
                        Ok(()) => answered(),
                        Err(e) => {
                            tracing::error!(error = %e, "committing the command with its answer failed");
                            crate::error::ApiError(e).into_response()
                        }
                    }
                }
                // A failure on our side after the command committed: the fallback stored with it
                // stays the answer (the command must not run twice, and its 5xx is no answer).
                Outcome::Committed if status.is_server_error() => answered(),
                Outcome::Committed => {
                    // The command committed before its answer was known (with the fallback as its
                    // answer): store the real one now, with a few tries.
                    let body = String::from_utf8_lossy(&bytes);
                    let kept = kept_headers(&parts.headers);
                    for attempt in 0..STORE_TRIES {
                        let reply = keep.then(|| reply(status, &parts.headers, &body, kept.as_deref()));
                        match idempotency::keep_alone(&app, &principal, &key, reply).await {
                            Ok(()) => break,
                            Err(e) if attempt + 1 == STORE_TRIES => {
                                tracing::error!(error = %e, "storing the idempotent answer failed")
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(200 << attempt)).await,
                        }
                    }
                    answered()
                }
                Outcome::Taken => answer_of_holder(&app, &principal, &key).await,
                Outcome::Reused => {
                    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").into_response()
                }
                Outcome::Unclaimed => {
                    // Refused before it wrote anything, perhaps because a twin with the same key
                    // committed meanwhile (a version now stale): then answer as the twin did.
                    if status.is_client_error()
                        && let Ok(Some(found)) = lookup(&app, &principal, &key).await
                        && found.request_hash() == request_hash
                    {
                        return answer_of_holder(&app, &principal, &key).await;
                    }
                    answered()
                }
            }
        }
        .in_current_span(),
    );
    match task.await {
        Ok(resp) => resp,
        Err(e) => {
            // The handler panicked: its transaction was dropped, so nothing was written.
            tracing::error!(error = %e, "request task failed");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error").into_response()
        }
    }
}

/// Headers a replay gives back besides Content-Type and Location.
const KEPT_HEADERS: [&str; 5] = ["etag", "retry-after", "hx-redirect", "hx-trigger", "hx-location"];

/// The headers a replay gives back besides Content-Type and Location, as a JSON list of pairs.
fn kept_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    let kept: Vec<(&str, &str)> =
        KEPT_HEADERS.iter().filter_map(|&h| headers.get(h).and_then(|v| v.to_str().ok()).map(|v| (h, v))).collect();
    (!kept.is_empty()).then(|| serde_json::to_string(&kept).unwrap_or_default())
}

/// The answer to keep under the key, as it was given.
fn reply<'a>(
    status: StatusCode,
    headers: &'a axum::http::HeaderMap,
    body: &'a str,
    kept: Option<&'a str>,
) -> Reply<'a> {
    let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    Reply {
        status: status.as_u16(),
        content_type: header("content-type").unwrap_or(""),
        body,
        location: header("location"),
        headers: kept,
    }
}
