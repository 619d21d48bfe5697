//! Server-rendered pages (askama + htmx). Handlers extract, call one use case, render.
mod account;
mod audit;
mod complaints;
pub(crate) mod customers;
mod desk;
mod inbox;
mod login;
mod portal;
mod regions;
mod requests;
mod return_visits;
mod shared;
pub(crate) use shared::can;
mod recalls;
mod sla;
mod stations;
mod stocktakes;
pub(crate) mod survey;
mod users;
mod warehouses;
mod warranty_cards;
mod work_orders;
mod workbench;

use crate::AppState;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use shouhou_app::AppError;
use shouhou_domain::FieldError;
use shouhou_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(workbench::home))
        .route("/login", get(login::form).post(login::submit))
        .route("/survey/{secret}", get(survey::form).post(survey::answer))
        .route("/logout", post(login::logout))
        .route("/lang/{code}", get(login::set_anonymous_language))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/language", post(account::change_language))
        .route("/stations", get(stations::stations).post(stations::create_station))
        .route("/stations/new", get(stations::new_station))
        .route("/stations/{id}", get(stations::station).post(stations::update_station))
        .route("/stations/{id}/edit", get(stations::edit_station))
        .route("/stations/{id}/coverage", post(stations::update_coverage))
        .route("/warehouses", get(warehouses::warehouses))
        .route("/warehouses/stock.xlsx", get(warehouses::export_stock))
        .route("/warehouses/parts-import", post(warehouses::import_parts))
        .route("/warehouses/movements.xlsx", get(warehouses::export_movements))
        .route("/part-applications", post(warehouses::apply))
        .route("/stocktakes", post(stocktakes::open))
        .route("/stocktakes/{id}", get(stocktakes::sheet))
        .route("/stocktakes/{id}/steps", post(stocktakes::step))
        .route("/part-applications/{id}/decision", post(warehouses::decide))
        .route("/users", get(users::users).post(users::create_user))
        .route("/users/new", get(users::new_user))
        .route("/users/{id}/edit", get(users::edit_user))
        .route("/users/{id}", post(users::update_user))
        .route("/users/{id}/field", get(users::field))
        .route("/users/{id}/skills", post(users::update_skills))
        .route("/users/{id}/leave", post(users::update_leave))
        .route("/desk", get(desk::desk))
        .route("/desk/lookup", get(desk::desk_lookup))
        .route("/desk/customers", post(desk::desk_create_customer))
        .route("/desk/requests", post(desk::desk_register))
        .route("/requests", get(requests::queues))
        .route("/requests/{id}", get(requests::request))
        .route("/requests/{id}/transitions", post(requests::transition))
        .route("/requests/{id}/notes", post(requests::add_note))
        .route("/requests/{id}/attachments", post(requests::upload))
        .route("/requests/{id}/take", post(requests::take))
        .route("/requests/{id}/returns", post(requests::ask_return))
        .route("/requests/{id}/returns/{ra}/decision", post(requests::decide_return))
        .route("/attachments/{id}", get(requests::download))
        .route("/complaints", get(complaints::list).post(complaints::register))
        .route("/complaints/{id}", get(complaints::complaint))
        .route("/complaints/{id}/steps", post(complaints::step))
        .route("/suggestions", get(complaints::suggestions).post(complaints::create_suggestion))
        .route("/suggestions/export.xlsx", get(complaints::export_suggestions))
        .route("/suggestions/{id}/steps", post(complaints::suggestion_step))
        .route("/return-visits", get(return_visits::queue))
        .route("/return-visits/samples", post(return_visits::sample))
        .route("/return-visits/{id}", get(return_visits::visit))
        .route("/return-visits/{id}/record", post(return_visits::record))
        .route("/return-visits/{id}/survey-link", post(return_visits::survey_link))
        .route("/return-visits/{id}/check", post(return_visits::check))
        .route("/follow-ups/{id}/close", post(return_visits::close_follow_up))
        .route("/admin/sla", get(sla::page))
        .route("/admin/sla/calendars/{code}", post(sla::update_calendar))
        .route("/admin/sla/calendars/{code}/days", post(sla::set_calendar_day))
        .route("/admin/sla/policies/{id}", post(sla::update_policy))
        .route("/customers", get(customers::page))
        .route("/customers/export.xlsx", get(customers::export))
        .route("/customers/import", post(customers::import))
        .route("/customers/{id}", get(customers::customer))
        .route("/devices", get(customers::devices))
        .route("/devices/{id}", get(customers::device))
        .route("/devices/{id}/label.svg", get(portal::label_svg))
        .route("/devices/{id}/label.png", get(portal::label_png))
        .route("/devices/labels", get(portal::labels))
        .route("/portal", get(portal::home))
        .route("/portal/report", get(portal::report_form).post(portal::report_submit))
        .route("/portal/thanks/{number}", get(portal::thanks))
        .route("/portal/track", get(portal::track_form).post(portal::track_submit))
        .route("/portal/track/confirm", post(portal::confirm_submit))
        .route("/portal/track/rate", post(portal::rate_submit))
        .route("/q/{token}", get(portal::device_form).post(portal::device_submit))
        .route("/requests/export.xlsx", get(customers::export_requests))
        .route("/inbox", get(inbox::page))
        .route("/inbox/count", get(inbox::count))
        .route("/inbox/{id}/open", post(inbox::open))
        .route("/regions/options", get(regions::options))
        .route("/work-orders", get(work_orders::board).post(work_orders::create))
        .route("/work-orders/{id}", get(work_orders::work_order))
        .route("/work-orders/{id}/transitions", post(work_orders::transition))
        .route("/work-orders/{id}/dispatch", post(work_orders::dispatch))
        .route("/work-orders/{id}/assign", post(work_orders::assign))
        .route("/work-orders/{id}/parts", post(work_orders::add_part))
        .route("/work-orders/{id}/files", post(work_orders::upload))
        .route("/work-orders/{id}/report.pdf", get(work_orders::report))
        .route("/work-order-files/{id}", get(work_orders::download))
        .route("/my-day", get(work_orders::my_day))
        .route("/warranty-cards", get(warranty_cards::list).post(warranty_cards::file))
        .route("/warranty-cards/{id}", get(warranty_cards::card))
        .route("/warranty-cards/{id}/review", post(warranty_cards::review))
        .route("/warranty-cards/{id}/resubmit", post(warranty_cards::resubmit))
        .route("/faulty-returns/{id}/receive", post(warranty_cards::receive))
        .route("/recalls", get(recalls::list).post(recalls::create))
        .route("/recalls/{id}", get(recalls::recall))
        .route("/recalls/{id}/devices/{device}", post(recalls::record_state))
        .route("/recalls/{id}/work-orders", post(recalls::make_work_orders))
        .route("/recalls/{id}/export.xlsx", get(recalls::export))
        .route("/audit", get(audit::audit))
        .route("/audit/verify", post(audit::verify_audit))
}

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

pub struct UserChip {
    pub display_name: String,
    pub role_labels: String,
}

/// What every page around its content needs: language, user, navigation, CSRF token.
pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    pub user: Option<UserChip>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub path: String,
    pub flash: Option<String>,
}

/// The navigation a user gets: one entry per area their permissions open.
fn navigation(rc: &ReqCtx, path: &str) -> Vec<NavItem> {
    let Some(a) = rc.ctx.actor.as_ref() else {
        return vec![];
    };
    let entries: [(&'static str, &str, Option<Permission>); 18] = [
        ("/", "nav-home", None),
        ("/desk", "nav-desk", Some(Permission::CustomerWrite)),
        ("/my-day", "nav-my-day", Some(Permission::FieldWork)),
        ("/requests", "nav-requests", Some(Permission::RequestRead)),
        ("/return-visits", "nav-return-visits", Some(Permission::ReturnVisit)),
        ("/complaints", "nav-complaints", Some(Permission::FeedbackWrite)),
        ("/work-orders", "nav-work-orders", Some(Permission::WorkOrderRead)),
        ("/customers", "nav-customers", Some(Permission::CustomerRead)),
        ("/devices", "nav-devices", Some(Permission::CustomerRead)),
        ("/stations", "nav-stations", Some(Permission::StationRead)),
        ("/warranty-cards", "nav-warranty-cards", Some(Permission::WorkOrderRead)),
        ("/recalls", "nav-recalls", Some(Permission::WorkOrderRead)),
        ("/warehouses", "nav-warehouses", Some(Permission::WarehouseRead)),
        ("/users", "nav-users", Some(Permission::UserRead)),
        ("/admin/sla", "nav-sla", Some(Permission::SettingsWrite)),
        ("/audit", "nav-audit", Some(Permission::AuditRead)),
        ("/account", "nav-account", None),
        ("/api-docs", "nav-api", Some(Permission::SettingsWrite)),
    ];
    entries
        .into_iter()
        // Headquarters' keepers reach the warranty page for the faulty parts coming back.
        .filter(|(href, _, p)| {
            p.is_none_or(|p| a.can(p))
                || (*href == "/warranty-cards" && a.can(Permission::WarehouseRead))
                // Managers sample and check the archive of return visits.
                || (*href == "/return-visits" && a.can(Permission::Supervise))
        })
        .map(|(href, key, _)| NavItem {
            href,
            label: rc.tr.t(key),
            active: if href == "/" { path == "/" } else { path.starts_with(href) },
        })
        .collect()
}

impl Chrome {
    pub fn new(rc: &ReqCtx, title_key: &str, path: &str) -> Self {
        let user = rc.ctx.actor.as_ref().map(|a| UserChip {
            display_name: a.display_name.clone(),
            role_labels: a
                .roles
                .iter()
                .map(|r| rc.tr.t(&format!("role-{}", r.as_str())))
                .collect::<Vec<_>>()
                .join("、"),
        });
        Chrome {
            tr: rc.tr,
            title: rc.tr.t(title_key),
            user,
            nav: navigation(rc, path),
            csrf: rc.csrf.clone().unwrap_or_default(),
            path: path.to_string(),
            flash: None,
        }
    }
    pub fn with_flash(mut self, f: Option<String>) -> Self {
        self.flash = f;
        self
    }
}

/// Render a template, or a plain 500 with the request id if the template fails.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub c: Chrome,
    pub message: String,
}

/// How a page answers an error: not signed in → the login page; 404/403/409 → the message;
/// 500 → a page with the request id (the cause goes to the log only).
pub struct PageError {
    pub err: AppError,
    pub rc: ReqCtx,
    pub path: String,
}

impl PageError {
    /// The message a person reads for this error.
    pub fn message(&self) -> String {
        self.status_and_message().1
    }

    fn status_and_message(&self) -> (StatusCode, String) {
        let tr = self.rc.tr;
        match &self.err {
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, tr.t("problem-unauthenticated")),
            AppError::NotFound => (StatusCode::NOT_FOUND, tr.t("error-not-found")),
            AppError::Gone => (StatusCode::GONE, tr.t("error-gone")),
            AppError::Forbidden => (StatusCode::FORBIDDEN, tr.t("error-forbidden")),
            AppError::Stale => (StatusCode::CONFLICT, tr.t("error-stale")),
            // Answered by the idempotency layer with the first submission's answer.
            AppError::AlreadyDone => (StatusCode::CONFLICT, tr.t("problem-idempotency_key_in_use")),
            AppError::IllegalTransition { .. } => (StatusCode::CONFLICT, tr.t("error-illegal-transition")),
            AppError::InsufficientStock { available } => {
                (StatusCode::CONFLICT, tr.t1("error-insufficient-stock", "available", available))
            }
            AppError::Validation(_) | AppError::Duplicate { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, tr.t("error-validation"))
            }
            AppError::BadCredentials | AppError::Throttled { .. } => (StatusCode::UNAUTHORIZED, tr.t("login-failed")),
            AppError::Unavailable(m) => {
                tracing::error!(error = %m, "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, tr.t("error-unavailable"))
            }
            AppError::Undecryptable { version, detail } => {
                let key = shouhou_app::key_name(*version);
                tracing::error!(
                    key = %key,
                    error = %detail,
                    "stored personal data cannot be decrypted with the configured keys: check the key file (`shouhou keys status`)"
                );
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    tr.t2("error-undecryptable", "key", key, "id", self.rc.request_id()),
                )
            }
            AppError::Internal(_) | AppError::Fault(_) => {
                tracing::error!(error = %self.err, cause = ?self.err, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, tr.t1("error-internal", "id", self.rc.request_id()))
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.err, AppError::Unauthenticated) {
            return Redirect::to(&format!("/login?next={}", urlencode(&self.path))).into_response();
        }
        let (status, message) = self.status_and_message();
        let page = ErrorPage { c: Chrome::new(&self.rc, "error-title", &self.path), message };
        (status, render(&page)).into_response()
    }
}

/// The error page for a status no handler explained (a wrong method, a malformed form): the
/// page's own message for 403/404, else the problem's title, with `detail` when there is one.
pub fn error_page(rc: &ReqCtx, path: &str, status: StatusCode, detail: Option<&str>) -> Response {
    let message = match status {
        StatusCode::NOT_FOUND => rc.tr.t("error-not-found"),
        StatusCode::FORBIDDEN => rc.tr.t("error-forbidden"),
        s if s.is_server_error() => rc.tr.t1("error-internal", "id", rc.request_id()),
        s => {
            let title = rc.tr.t(&format!("problem-{}", crate::error::code_of_status(s)));
            match detail {
                Some(d) => format!("{title}: {d}"),
                None => title,
            }
        }
    };
    let page = ErrorPage { c: Chrome::new(rc, "error-title", path), message };
    (status, render(&page)).into_response()
}

pub fn page_err(rc: &ReqCtx, path: &str) -> impl Fn(AppError) -> PageError {
    let rc = rc.clone();
    let path = path.to_string();
    move |err| PageError { err, rc: rc.clone(), path: path.clone() }
}

/// What a page answers after a form's step: on success a redirect to `to`; a refusal the user can
/// act on (422 with the fields' messages, 409 for a stale or refused step or too little stock) the
/// page again with the message, through `again`; anything else the error page.
pub(crate) async fn after_form<F, Fut>(
    rc: &ReqCtx,
    r: Result<(), AppError>,
    to: &str,
    again: F,
) -> Result<Response, PageError>
where
    F: FnOnce(String, StatusCode) -> Fut,
    Fut: std::future::Future<Output = Result<Response, PageError>>,
{
    match r {
        Ok(()) => Ok(Redirect::to(to).into_response()),
        Err(AppError::Validation(v)) => again(joined_messages(rc.tr, &v.0), StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e @ (AppError::Stale | AppError::IllegalTransition { .. } | AppError::InsufficientStock { .. })) => {
            let msg = PageError { err: e, rc: rc.clone(), path: String::new() }.message();
            again(msg, StatusCode::CONFLICT).await
        }
        Err(e) => Err(page_err(rc, to.split('#').next().unwrap_or(to))(e)),
    }
}

/// The signed-in actor of a page, or a redirect to the login page.
pub fn require_login(rc: &ReqCtx, path: &str) -> Result<(), PageError> {
    match rc.ctx.actor {
        Some(_) => Ok(()),
        None => Err(PageError { err: AppError::Unauthenticated, rc: rc.clone(), path: path.to_string() }),
    }
}

/// Fields of a submitted form, repeated names kept (checkbox groups).
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && (v == "on" || v == "true" || v == "1"))
    }
}

/// Every state-changing form carries the session's CSRF token (field `_csrf` or header
/// `X-CSRF-Token`); a form without the right one is refused with 403 and changes nothing.
pub fn check_csrf(rc: &ReqCtx, headers: &HeaderMap, form: &FormData) -> Result<(), Response> {
    let expected = rc.csrf.as_deref().unwrap_or("");
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| form.get("_csrf"));
    if rc.ctx.actor.is_none() {
        return Err(Redirect::to("/login").into_response());
    }
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        tracing::warn!(request_id = %rc.request_id(), "CSRF token rejected");
        let page = ErrorPage { c: Chrome::new(rc, "error-title", "/"), message: rc.tr.t("error-csrf") };
        return Err((StatusCode::FORBIDDEN, render(&page)).into_response());
    }
    Ok(())
}

/// A submitted form whose CSRF token has been checked: handlers that take one cannot forget the check.
/// A form without the session's token is answered with 403 (or the login page) before the handler runs.
pub struct CsrfForm(pub FormData);

impl<S: Send + Sync> axum::extract::FromRequest<S> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let rc = req
            .extensions()
            .get::<ReqCtx>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
        let headers = req.headers().clone();
        let axum::Form(fields) =
            axum::Form::<Vec<(String, String)>>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let form = FormData(fields);
        check_csrf(&rc, &headers, &form)?;
        Ok(CsrfForm(form))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Messages of field errors by field, in the page's language.
pub fn field_messages(tr: Tr, errs: &[FieldError]) -> Vec<(String, String)> {
    errs.iter().map(|e| (e.field.clone(), tr.field_message(e))).collect()
}

/// All field errors in one line, for a page that shows them above the form.
pub fn joined_messages(tr: Tr, errs: &[FieldError]) -> String {
    field_messages(tr, errs).into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("；")
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only local paths are followed after login, never another site.
pub fn safe_next(next: &str) -> String {
    // Browsers drop tabs and newlines from URLs (`/\t/evil.example` is `//evil.example`) and read
    // `\` as `/`: a path of this site only, with none of those.
    let clean = !next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if clean && next.starts_with('/') && !next.starts_with("//") { next.to_string() } else { "/".to_string() }
}

/// Links for the page before and after, keeping the other query parameters.
pub struct Pager {
    pub total_label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new<T>(tr: Tr, base: &str, extra: &str, p: &shouhou_app::Page<T>) -> Self {
        let link = |n: u32| format!("{base}?page={n}{extra}");
        Pager {
            total_label: tr.t1("common-total", "total", p.total),
            prev: (p.page > 1).then(|| link(p.page - 1)),
            next: (p.page < p.pages()).then(|| link(p.page + 1)),
        }
    }
}

pub async fn not_found(rc: ReqCtx, uri: axum::http::Uri) -> Response {
    if crate::error::is_api_path(uri.path()) {
        return crate::api::not_found().into_response();
    }
    PageError { err: AppError::NotFound, rc, path: uri.path().to_string() }.into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/desk?q=138"), "/desk?q=138");
        for evil in ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example", "/\n/evil", ""] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }
}
