//! What htmx requests need from the server beyond their fragments.
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// htmx follows redirects inside its XMLHttpRequest, so the login redirect of an expired session
/// would land the whole login page inside a fragment (the screen pop, the inbox counter). For an
/// htmx request it becomes `HX-Redirect`: a full page load of the login page, which brings the
/// user back to the page they were on (`HX-Current-URL`), not to the fragment's URL.
pub async fn login_redirect_layer(req: Request, next: Next) -> Response {
    let htmx = req.headers().contains_key("hx-request");
    let current = req.headers().get("hx-current-url").and_then(|v| v.to_str().ok()).and_then(path_of);
    let resp = next.run(req).await;
    let to_login = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|l| l == "/login" || l.starts_with("/login?"));
    if !htmx || !resp.status().is_redirection() || !to_login {
        return resp;
    }
    let target = match current {
        Some(p) if p != "/" => format!("/login?next={}", crate::pages::urlencode(&p)),
        _ => "/login".to_string(),
    };
    match HeaderValue::from_str(&target) {
        Ok(v) => (StatusCode::NO_CONTENT, [("hx-redirect", v)]).into_response(),
        Err(_) => resp,
    }
}

/// The path and query of an absolute URL (`http://host:8080/desk?q=1` → `/desk?q=1`).
fn path_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map(|i| rest[i..].to_string())
}

#[cfg(test)]
mod tests {
    use super::path_of;
    #[test]
    fn the_current_page_is_taken_from_the_full_url() {
        assert_eq!(path_of("http://127.0.0.1:8080/desk?q=138").as_deref(), Some("/desk?q=138"));
        assert_eq!(path_of("https://sh.example.cn/").as_deref(), Some("/"));
        assert_eq!(path_of("https://sh.example.cn"), None);
    }
}
