//! `/api/openapi.json` (OpenAPI 3.1, generated from the handlers) and a readable page over it,
//! rendered on the server inside the app's frame at `/api-docs`: no asset is fetched from anywhere. The page is
//! for who integrates other systems: roles holding `SettingsWrite` (administrators); others get
//! 404, and who is not signed in the login page. The JSON stays open to API clients.
use crate::ctx::ReqCtx;
use crate::pages::{Chrome, can, page_err, render, require_login};
use askama::Template;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shouhou_app::AppError;
use shouhou_domain::auth::Permission;
use std::sync::Arc;

pub fn router<S: Clone + Send + Sync + 'static>(spec: Arc<utoipa::openapi::OpenApi>) -> Router<S> {
    let json = Arc::new(spec.to_pretty_json().unwrap_or_default());
    let data = Arc::new(docs_data(&spec));
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], (*json).clone()).into_response() }
            }),
        )
        // The page is a page of the app (session cookie, frame), not of the JSON API: its old
        // address under /api/ leads there.
        .route("/api/docs", get(|| async { axum::response::Redirect::permanent("/api-docs") }))
        .route(
            "/api-docs",
            get(move |rc: ReqCtx| {
                let data = data.clone();
                async move { docs_page(rc, &data) }
            }),
        )
}

struct Endpoint {
    method: String,
    path: String,
    summary: String,
    request: String,
    responses: String,
}

/// What the page shows of the specification, read once at start.
struct DocsData {
    title: String,
    version: String,
    description: String,
    groups: Vec<(String, Vec<Endpoint>)>,
    schemas: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage<'a> {
    c: Chrome,
    d: &'a DocsData,
}

fn docs_page(rc: ReqCtx, d: &DocsData) -> Response {
    if let Err(e) = require_login(&rc, "/api-docs") {
        return e.into_response();
    }
    if !can(&rc, Permission::SettingsWrite) {
        return page_err(&rc, "/api-docs")(AppError::NotFound).into_response();
    }
    render(&DocsPage { c: Chrome::new(&rc, "nav-api", "/api-docs"), d })
}

fn ref_name(v: &serde_json::Value) -> String {
    v.pointer("/content/application~1json/schema/$ref")
        .or_else(|| v.get("$ref"))
        .and_then(|r| r.as_str())
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
        .unwrap_or_default()
}

fn docs_data(spec: &utoipa::openapi::OpenApi) -> DocsData {
    let v = serde_json::to_value(spec).unwrap_or_default();
    let mut groups: Vec<(String, Vec<Endpoint>)> = Vec::new();
    if let Some(paths) = v.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let tag = op.pointer("/tags/0").and_then(|t| t.as_str()).unwrap_or("other").to_string();
                let summary = op
                    .get("summary")
                    .or_else(|| op.get("description"))
                    .and_then(|s| s.as_str())
                    .unwrap_or("")
                    .to_string();
                let request = op.get("requestBody").map(ref_name).unwrap_or_default();
                let responses = op
                    .get("responses")
                    .and_then(|r| r.as_object())
                    .map(|r| {
                        r.iter()
                            .map(|(code, resp)| format!("{code} {}", ref_name(resp)))
                            .collect::<Vec<_>>()
                            .join(" · ")
                    })
                    .unwrap_or_default();
                let e = Endpoint { method: method.clone(), path: path.clone(), summary, request, responses };
                match groups.iter_mut().find(|(t, _)| *t == tag) {
                    Some((_, list)) => list.push(e),
                    None => groups.push((tag, vec![e])),
                }
            }
        }
    }
    let schemas = v
        .pointer("/components/schemas")
        .and_then(|s| s.as_object())
        .map(|s| s.iter().map(|(k, v)| (k.clone(), serde_json::to_string_pretty(v).unwrap_or_default())).collect())
        .unwrap_or_default();
    DocsData {
        title: spec.info.title.clone(),
        version: spec.info.version.clone(),
        description: spec.info.description.clone().unwrap_or_default(),
        groups,
        schemas,
    }
}
