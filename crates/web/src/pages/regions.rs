//! The next level of the region picker: a province's cities or a city's districts, as options.
use super::PageError;
use crate::ctx::ReqCtx;
use axum::extract::Query;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct OptionsQuery {
    parent: Option<String>,
    /// The empty option's text (the level's name).
    label: Option<String>,
}

/// `<option>`s of the divisions under `parent` (the provinces without one), headed by an empty
/// option; nothing else, so the picker can put them straight into its next select. GB/T 2260 is
/// public: the customer portal's report form picks a region without an account.
pub async fn options(_rc: ReqCtx, Query(q): Query<OptionsQuery>) -> Result<Response, PageError> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut html = format!("<option value=\"\">{}</option>", esc(q.label.as_deref().unwrap_or("")));
    for (code, name) in shouhou_domain::regions::children(q.parent.as_deref()) {
        html.push_str(&format!("<option value=\"{code}\">{}</option>", esc(&name)));
    }
    Ok(([(axum::http::header::CACHE_CONTROL, "private, max-age=86400")], Html(html)).into_response())
}
