use super::{CsrfForm, FormData, PageError, constant_time_eq, page_err, render, safe_next};
use crate::AppState;
use crate::ctx::{LANG_COOKIE, ReqCtx, SESSION_COOKIE, cookie, set_cookie};
use crate::i18n::Tr;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_app::users::TokenKind;
use shouhou_domain::locale::Locale;

/// Before login there is no session: the login form is protected by a double-submit cookie.
const PRELOGIN_COOKIE: &str = "shouhou_prelogin";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_page(s: &AppState, tr: Tr, status: StatusCode, next: &str, username: &str, error: Option<String>) -> Response {
    let token = shouhou_app::secrets::random_token().unwrap_or_default();
    let page = LoginPage { tr, csrf: token.clone(), next: safe_next(next), username: username.to_string(), error };
    let mut resp = (status, render(&page)).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(PRELOGIN_COOKIE, &token, Some(3600), s.secure_cookies));
    resp
}

pub async fn form(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<NextQuery>) -> Response {
    if rc.ctx.actor.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref().unwrap_or("/"))).into_response();
    }
    login_page(&s, rc.tr, StatusCode::OK, q.next.as_deref().unwrap_or("/"), "", None)
}

pub async fn submit(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = FormData(f);
    let (username, password, next) = (f.get("username"), f.get("password"), f.get("next"));
    let expected = cookie(&headers, PRELOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), f.get("_csrf").as_bytes()) {
        return Ok(login_page(&s, rc.tr, StatusCode::FORBIDDEN, &next, &username, Some(rc.tr.t("error-csrf"))));
    }
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let issued = match shouhou_app::auth::login(&s.app, &rc.ctx, &username, &password, TokenKind::Session, ua).await {
        Err(AppError::Throttled { retry_after_secs }) => {
            let minutes = (retry_after_secs + 59) / 60;
            let mut resp = login_page(
                &s,
                rc.tr,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                &username,
                Some(rc.tr.t1("login-throttled", "minutes", minutes)),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs));
            return Ok(resp);
        }
        Err(AppError::BadCredentials) | Err(AppError::Validation(_)) => {
            let failed = Some(rc.tr.t("login-failed"));
            return Ok(login_page(&s, rc.tr, StatusCode::UNAUTHORIZED, &next, &username, failed));
        }
        other => other.map_err(page_err(&rc, "/login"))?,
    };
    let mut resp = Redirect::to(&safe_next(&next)).into_response();
    let age = (issued.expires_at_ms - s.app.now()) / 1000;
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &issued.token, Some(age), s.secure_cookies));
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(PRELOGIN_COOKIE, "", None, s.secure_cookies));
    Ok(resp)
}

pub async fn logout(
    State(s): State<AppState>,
    rc: ReqCtx,
    _headers: HeaderMap,
    CsrfForm(_f): CsrfForm,
) -> Result<Response, PageError> {
    if let Some(t) = rc.token.as_deref() {
        shouhou_app::auth::logout(&s.app, &rc.ctx, t).await.map_err(page_err(&rc, "/"))?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", None, s.secure_cookies));
    Ok(resp)
}

/// The language of the login page for someone not yet signed in (a cookie, nothing stored).
pub async fn set_anonymous_language(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let locale = Locale::parse(&code).unwrap_or_default();
    let mut resp = Redirect::to(&safe_next(q.next.as_deref().unwrap_or("/login"))).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(LANG_COOKIE, locale.as_str(), Some(365 * 86400), s.secure_cookies));
    resp
}
