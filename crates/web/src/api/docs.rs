//! `/api/openapi.json` (OpenAPI 3.1, generated from the handlers) and a readable page over it,
//! rendered on the server: no asset is fetched from anywhere.
use askama::Template;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

pub fn router<S: Clone + Send + Sync + 'static>(spec: Arc<utoipa::openapi::OpenApi>) -> Router<S> {
    let json = Arc::new(spec.to_pretty_json().unwrap_or_default());
    let page = Arc::new(docs_page(&spec));
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], (*json).clone()).into_response() }
            }),
        )
        .route(
            "/api/docs",
            get(move || {
                let page = page.clone();
                async move { (*page).clone() }
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

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    groups: Vec<(String, Vec<Endpoint>)>,
    schemas: Vec<(String, String)>,
}

fn ref_name(v: &serde_json::Value) -> String {
    v.pointer("/content/application~1json/schema/$ref")
        .or_else(|| v.get("$ref"))
        .and_then(|r| r.as_str())
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
        .unwrap_or_default()
}

fn docs_page(spec: &utoipa::openapi::OpenApi) -> DocsPageHtml {
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
    let page = DocsPage {
        title: spec.info.title.clone(),
        version: spec.info.version.clone(),
        description: spec.info.description.clone().unwrap_or_default(),
        groups,
        schemas,
    };
    DocsPageHtml(page.render().unwrap_or_default())
}

#[derive(Clone)]
struct DocsPageHtml(String);

impl IntoResponse for DocsPageHtml {
    fn into_response(self) -> Response {
        axum::response::Html(self.0).into_response()
    }
}
