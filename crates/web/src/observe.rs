//! Health, readiness and Prometheus metrics (request counts and latency per route, DB pool).
use crate::AppState;
use crate::error::Problem;
use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide recorder once (tests start many apps in one process).
pub fn init_metrics() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(prometheus))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// `/metrics` answers loopback callers (a Prometheus beside the server) and callers with the
/// configured `metrics_token` as a bearer token; anyone else gets 404 (no token configured: the
/// endpoint does not exist for them) or 403 (a wrong token). Route names, counts and pool sizes
/// tell an outsider more than they need to know.
fn metrics_allowed(s: &AppState, req: &Request) -> Result<(), Problem> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if peer.is_some_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback()) {
        return Ok(());
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match (s.metrics_token.as_deref(), presented) {
        (Some(expected), Some(given)) if digest_eq(expected, given) => Ok(()),
        (Some(_), Some(_)) => Err(Problem::new(StatusCode::FORBIDDEN, "forbidden")),
        _ => Err(Problem::new(StatusCode::NOT_FOUND, "not_found")),
    }
}

/// Compare digests, so the time taken says nothing about how much of the token matched.
fn digest_eq(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn prometheus(State(s): State<AppState>, req: Request) -> Response {
    if let Err(p) = metrics_allowed(&s, &req) {
        return p.into_response();
    }
    let (open, idle) = s.app.db.pool_stats();
    metrics::gauge!("db_pool_connections", "backend" => s.app.db.backend().as_str()).set(f64::from(open));
    metrics::gauge!("db_pool_idle_connections", "backend" => s.app.db.backend().as_str()).set(idle as f64);
    let body = init_metrics().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The method as a label: one of the methods the router knows, else `other` — a client may send
/// any token as a method, and each would otherwise become a new series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Requests and latency by method, route template and status. Only bounded values become
/// labels: the matched route (`unmatched` for every path no route takes), a known method.
pub async fn metrics_layer(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
