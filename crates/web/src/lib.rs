//! The HTTP layer of shouhou: JSON API under `/api/v1`, server-rendered pages, OpenAPI, health
//! and metrics. Handlers are thin: extract, call one use case, render.
#![forbid(unsafe_code)]
// Page helpers answer early with a ready `Response` as their error: that is axum's idiom.
#![allow(clippy::result_large_err)]

pub mod api;
mod assets;
pub mod ctx;
mod edge;
pub mod error;
mod htmx;
pub mod i18n;
mod idempotency;
pub mod json;
mod observe;
pub mod pages;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use shouhou_app::App;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Failures a test can provoke; all off in a server.
    pub faults: std::sync::Arc<Faults>,
    /// Bearer token that opens `/metrics` to callers other than loopback (`metrics_token`).
    pub metrics_token: Option<String>,
    /// The site's address as customers reach it (`https://service.example.com`), for the links in
    /// QR labels; none: taken from the request's `Host` (`public_base_url`).
    pub public_base_url: Option<String>,
}

/// Failures a test provokes to prove what a crash leaves behind.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next idempotent command's process "dies" once the command has run and before its
    /// answer reaches the store or the client: its transaction is dropped, as a killed
    /// process's is.
    pub lose_next_answer: std::sync::atomic::AtomicBool,
}

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let (api_router, openapi) = api::router();
    let openapi = std::sync::Arc::new(openapi);
    let api = api_router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::idempotency_layer))
        .route_layer(axum::middleware::from_fn(api::signed_in_layer));
    Router::new()
        .merge(api)
        .merge(
            pages::router()
                .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::idempotency_layer)),
        )
        .merge(api::docs::router(openapi))
        .merge(observe::router())
        .merge(assets::router())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(error::unexplained_errors_layer))
        .layer(axum::middleware::from_fn(htmx::login_redirect_layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ctx::context_layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::metrics_layer))
        // Uploads (attachments, imports) may be larger than JSON bodies, which `ApiJson` caps itself.
        .layer(DefaultBodyLimit::max(json::MAX_UPLOAD_BODY))
        .layer(CatchPanicLayer::new())
        .layer(default_header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(default_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(default_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(default_header(header::REFERRER_POLICY, "same-origin"))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Content security policy of every answer that sets none: only this origin's own scripts (the
/// pages have no inline script; htmx adds an indicator `<style>`), no framing, no plugins.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// A header every answer carries unless its handler set it.
fn default_header(name: axum::http::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The OpenAPI 3.1 document, as served at `/api/openapi.json`.
pub fn openapi_json() -> String {
    api::router().1.to_pretty_json().unwrap_or_default()
}

/// Serve until `shutdown` resolves; requests in flight are finished before it returns.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    observe::init_metrics();
    let app = state.app.clone();
    edge::serve(listener, router(state), shutdown).await?;
    // Commands whose client hung up still run; let them store their answers before the pool closes.
    app.settle(SHUTDOWN_GRACE).await;
    Ok(())
}

/// How long a graceful shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
