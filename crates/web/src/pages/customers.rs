//! Customers: the list (masked without the right), export to Excel, import from CSV or Excel.
use super::desk::{CustomerVm, customer_vm};
use super::{Chrome, FormData, Pager, check_csrf, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::imports::ImportReport;
use shouhou_app::{AppError, PageRequest};
use shouhou_domain::auth::Permission;

pub struct ReportVm {
    pub ok: bool,
    pub summary: String,
    /// (row, field, problem, value)
    pub errors: Vec<(usize, String, String, String)>,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    c: Chrome,
    rows: Vec<CustomerVm>,
    pager: Pager,
    masked: bool,
    can_import: bool,
    report: Option<ReportVm>,
}

#[derive(Deserialize, Default)]
pub struct PageQ {
    page: Option<u32>,
}

async fn customers_page(
    s: &AppState,
    rc: &ReqCtx,
    page: Option<u32>,
    report: Option<ReportVm>,
    status: StatusCode,
) -> Response {
    match shouhou_app::customers::list_customers(&s.app, &rc.ctx, PageRequest::new(page, None)).await {
        Ok(p) => {
            let pager = Pager::new(rc.tr, "/customers", "", &p);
            let masked = p.items.first().is_some_and(|c| c.masked);
            let page = CustomersPage {
                rows: p.items.iter().map(|c| customer_vm(rc.tr, c)).collect(),
                pager,
                masked,
                can_import: rc.ctx.actor.as_ref().is_some_and(|a| a.can(Permission::SettingsWrite)),
                report,
                c: Chrome::new(rc, "customers-title", "/customers"),
            };
            (status, render(&page)).into_response()
        }
        Err(e) => page_err(rc, "/customers")(e).into_response(),
    }
}

pub async fn page(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<PageQ>) -> Response {
    if let Err(e) = require_login(&rc, "/customers") {
        return e.into_response();
    }
    customers_page(&s, &rc, q.page, None, StatusCode::OK).await
}

fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

pub async fn export(State(s): State<AppState>, rc: ReqCtx) -> Response {
    if let Err(e) = require_login(&rc, "/customers") {
        return e.into_response();
    }
    match shouhou_app::exports::export_customers_xlsx(&s.app, &rc.ctx).await {
        Ok(bytes) => xlsx("customers.xlsx", bytes),
        Err(e) => page_err(&rc, "/customers")(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
pub struct QueueQ {
    queue: Option<String>,
}

pub async fn export_requests(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<QueueQ>) -> Response {
    if let Err(e) = require_login(&rc, "/requests") {
        return e.into_response();
    }
    match shouhou_app::exports::export_requests_xlsx(&s.app, &rc.ctx, q.queue.as_deref().unwrap_or("all")).await {
        Ok(bytes) => xlsx("service-requests.xlsx", bytes),
        Err(e) => page_err(&rc, "/requests")(e).into_response(),
    }
}

pub fn report_vm(tr: crate::i18n::Tr, r: &ImportReport) -> ReportVm {
    let summary = if r.is_ok() {
        tr.t1("import-done", "count", r.imported)
    } else {
        tr.t1("import-failed", "count", r.errors.len() + r.more_errors)
    };
    ReportVm {
        ok: r.is_ok(),
        summary,
        errors: r
            .errors
            .iter()
            .map(|e| (e.row, tr.t(&format!("field-{}", e.field)), tr.t(&format!("err-{}", e.code)), e.value.clone()))
            .collect(),
    }
}

pub async fn import(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let (mut csrf, mut what, mut file) = (String::new(), String::from("customers"), None::<(String, Vec<u8>)>);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("_csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("what") => what = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                file = field.bytes().await.ok().map(|b| (name, b.to_vec()));
            }
            _ => {}
        }
    }
    if let Err(r) = check_csrf(&rc, &headers, &FormData(vec![("_csrf".into(), csrf)])) {
        return r;
    }
    let (name, bytes) = file.unwrap_or_default();
    let table = match shouhou_app::sheets::read_upload(name, bytes).await {
        Ok(t) => t,
        Err(AppError::Validation(v)) => {
            let r = ReportVm { ok: false, summary: super::joined_messages(rc.tr, &v.0), errors: vec![] };
            return customers_page(&s, &rc, None, Some(r), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return page_err(&rc, "/customers")(e).into_response(),
    };
    let result = if what == "devices" {
        shouhou_app::imports::import_devices(&s.app, &rc.ctx, &table, |_, _| {}).await
    } else {
        shouhou_app::imports::import_customers(&s.app, &rc.ctx, &table, |_, _| {}).await
    };
    match result {
        Ok(r) => {
            let status = if r.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            customers_page(&s, &rc, None, Some(report_vm(rc.tr, &r)), status).await
        }
        Err(e) => page_err(&rc, "/customers")(e).into_response(),
    }
}
