use super::{Chrome, CsrfForm, PageError, field_messages, page_err, render, require_login, safe_next};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shouhou_app::AppError;
use shouhou_domain::locale::Locale;

pub struct PwField {
    pub name: &'static str,
    pub label: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    fields: Vec<PwField>,
    error: Option<String>,
}

fn account_page(rc: &ReqCtx, errors: &[(String, String)], flash: Option<String>) -> AccountPage {
    let f = |name: &'static str, key: &str| PwField {
        name,
        label: rc.tr.t(key),
        error: errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.clone()),
    };
    AccountPage {
        c: Chrome::new(rc, "account-title", "/account").with_flash(flash),
        fields: vec![
            f("current_password", "account-current"),
            f("new_password", "account-new"),
            f("confirm_password", "account-confirm"),
        ],
        error: (!errors.is_empty()).then(|| rc.tr.t("error-validation")),
    }
}

pub async fn page(rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/account")?;
    Ok(render(&account_page(&rc, &[], None)))
}

pub async fn change_password(
    State(s): State<AppState>,
    rc: ReqCtx,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let r = shouhou_app::auth::change_password(
        &s.app,
        &rc.ctx,
        &f.get("current_password"),
        &f.get("new_password"),
        &f.get("confirm_password"),
        rc.token.as_deref(),
    )
    .await;
    match r {
        Err(AppError::Validation(v)) => {
            let page = account_page(&rc, &field_messages(rc.tr, &v.0), None);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
        other => other.map_err(page_err(&rc, "/account"))?,
    }
    Ok(render(&account_page(&rc, &[], Some(rc.tr.t("account-password-changed")))))
}

pub async fn change_language(
    State(s): State<AppState>,
    rc: ReqCtx,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let locale = Locale::parse(&f.get("locale")).unwrap_or_default();
    shouhou_app::auth::set_locale(&s.app, &rc.ctx, locale).await.map_err(page_err(&rc, "/account"))?;
    Ok(Redirect::to(&safe_next(&f.get("next"))).into_response())
}
