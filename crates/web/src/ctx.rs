//! Who is asking: one middleware authenticates every request (bearer token or session cookie),
//! picks the language, and renders any problem the handler answered in that language.
use crate::AppState;
use crate::error::Problem;
use crate::i18n::Tr;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use shouhou_app::users::TokenKind;
use shouhou_app::{AppError, Ctx};
use shouhou_domain::locale::Locale;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "shouhou_session";
pub const LANG_COOKIE: &str = "shouhou_lang";

/// The context of one request, available to every handler.
#[derive(Clone)]
pub struct ReqCtx {
    pub ctx: Ctx,
    pub tr: Tr,
    /// The presented secret (bearer token or session cookie), for logout.
    pub token: Option<String>,
    /// Present when the caller is signed in through a web session.
    pub csrf: Option<String>,
    pub kind: Option<TokenKind>,
}

impl ReqCtx {
    pub fn request_id(&self) -> &str {
        &self.ctx.request_id
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReqCtx {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ReqCtx>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// Value of one cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/; `max_age` None ends the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> HeaderValue {
    let age = max_age_secs.map(|s| format!("; Max-Age={s}")).unwrap_or_else(|| "; Max-Age=0".into());
    let sec = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{age}{sec}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

pub async fn context_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let anon_locale = cookie(headers, LANG_COOKIE)
        .and_then(|l| Locale::parse(&l))
        .unwrap_or_else(|| Locale::from_accept_language(accept));
    // The JSON API is for bearer tokens: a browser's session cookie opens nothing there, so a page
    // of another site cannot make a signed-in browser post to it (no CSRF token needed or taken).
    let api = req.uri().path().starts_with("/api/");
    let token = bearer(headers).or_else(|| if api { None } else { cookie(headers, SESSION_COOKIE) });

    let mut rc =
        ReqCtx { ctx: Ctx::anonymous(source, request_id), tr: Tr(anon_locale), token: None, csrf: None, kind: None };
    if let Some(token) = token {
        match shouhou_app::auth::authenticate(&state.app, &token).await {
            Ok(Some((actor, csrf, kind))) => {
                rc.tr = Tr(actor.locale);
                rc.ctx.actor = Some(actor);
                rc.csrf = csrf;
                rc.kind = Some(kind);
                rc.token = Some(token);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "authentication lookup failed");
                let p = Problem::from(&AppError::Unavailable(e.to_string()));
                return render_problem(&rc, p);
            }
        }
    }
    req.extensions_mut().insert(rc.clone());
    let mut resp = next.run(req).await;
    if let Some(p) = resp.extensions_mut().remove::<Problem>() {
        return render_problem(&rc, p);
    }
    resp
}

/// The problem+json answer of RFC 9457, in the caller's language.
pub fn render_problem(rc: &ReqCtx, p: Problem) -> Response {
    crate::error::problem_response(rc.tr, rc.request_id(), p)
}
