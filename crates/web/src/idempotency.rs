//! `Idempotency-Key` on every API POST: the first answer is stored and a retry with the same key
//! gets it back, never a second record. A key reused for a different body is refused (422); a
//! retry while the first is still running gets 409. Answers of 5xx are not kept, so a retry
//! after a failure on our side runs afresh.
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::Problem;
use crate::json::MAX_UPLOAD_BODY;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shouhou_app::secrets::sha256_hex;
use shouhou_store::idempotency::{self, Claim};

pub const HEADER: &str = "idempotency-key";

pub async fn idempotency_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_string) else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 255 {
        return Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Idempotency-Key",
            "invalid_value",
        )
        .into_response();
    }
    let principal = match req.extensions().get::<ReqCtx>().and_then(|rc| rc.ctx.actor_id()) {
        Some(id) => format!("user:{id}"),
        None => "anonymous".to_string(),
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_UPLOAD_BODY).await else {
        return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").into_response();
    };
    let mut fingerprint = Vec::with_capacity(bytes.len() + 64);
    fingerprint.extend_from_slice(parts.uri.path().as_bytes());
    fingerprint.push(0);
    fingerprint.extend_from_slice(&bytes);
    let request_hash = sha256_hex(&fingerprint);

    let app = &state.app;
    let claim = async {
        let mut tx = app.db.begin().await?;
        let c = idempotency::claim(&mut tx.conn(), &principal, &key, &request_hash, app.now()).await?;
        tx.commit().await?;
        Ok::<_, shouhou_store::StoreError>(c)
    }
    .await;
    match claim {
        Err(e) => return crate::error::ApiError(e.into()).into_response(),
        Ok(Claim::InProgress) => {
            return Problem::new(StatusCode::CONFLICT, "idempotency_key_in_use").into_response();
        }
        Ok(Claim::Done { request_hash: h, .. }) if h != request_hash => {
            return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").into_response();
        }
        Ok(Claim::Done { status, content_type, body, .. }) => {
            let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return r;
        }
        Ok(Claim::Claimed) => {}
    }

    let rc = parts.extensions.get::<ReqCtx>().cloned();
    let mut resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    // The context layer renders problems after us; render here so that what we store is what the
    // caller sees.
    if let (Some(rc), Some(problem)) = (rc, resp.extensions_mut().remove::<Problem>()) {
        resp = crate::ctx::render_problem(&rc, problem);
    }
    let status = resp.status();
    let (parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let result = async {
        let mut tx = app.db.begin().await?;
        if status.is_server_error() {
            idempotency::release(&mut tx.conn(), &principal, &key).await?;
        } else {
            let ct = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            idempotency::complete(
                &mut tx.conn(),
                &principal,
                &key,
                status.as_u16(),
                ct,
                &String::from_utf8_lossy(&bytes),
            )
            .await?;
        }
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "storing the idempotent answer failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}
