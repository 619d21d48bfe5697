//! Customers: the list (masked without the right), export to Excel, import from CSV or Excel.
use super::desk::{CustomerVm, customer_vm};
use super::{Chrome, FormData, PageError, Pager, check_csrf, page_err, render, require_login};
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
    q: String,
    can_create: bool,
    rows: Vec<CustomerVm>,
    pager: Pager,
    masked: bool,
    can_import: bool,
    report: Option<ReportVm>,
}

#[derive(Deserialize, Default)]
pub struct PageQ {
    page: Option<u32>,
    q: Option<String>,
}

async fn customers_page(
    s: &AppState,
    rc: &ReqCtx,
    page: Option<u32>,
    report: Option<ReportVm>,
    status: StatusCode,
) -> Result<Response, PageError> {
    customers_page_q(s, rc, page, "", report, status).await
}

async fn customers_page_q(
    s: &AppState,
    rc: &ReqCtx,
    page: Option<u32>,
    q: &str,
    report: Option<ReportVm>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let listed = if q.trim().is_empty() {
        shouhou_app::customers::list_customers(&s.app, &rc.ctx, PageRequest::new(page, None)).await
    } else {
        shouhou_app::customers::search_customers(&s.app, &rc.ctx, q).await.map(|items| shouhou_app::Page {
            total: items.len() as i64,
            items,
            page: 1,
            per_page: 50,
        })
    };
    let p = listed.map_err(page_err(rc, "/customers"))?;
    let pager = Pager::new(rc.tr, "/customers", &format!("&q={}", super::urlencode(q)), &p);
    let masked = p.items.first().is_some_and(|c| c.masked);
    let page = CustomersPage {
        rows: p.items.iter().map(|c| customer_vm(rc.tr, c)).collect(),
        pager,
        q: q.to_string(),
        can_create: rc.ctx.actor.as_ref().is_some_and(|a| a.can(Permission::CustomerWrite)),
        masked,
        can_import: rc.ctx.actor.as_ref().is_some_and(|a| a.can(Permission::SettingsWrite)),
        report,
        c: Chrome::new(rc, "customers-title", "/customers"),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<PageQ>) -> Result<Response, PageError> {
    require_login(&rc, "/customers")?;
    customers_page_q(&s, &rc, q.page, q.q.as_deref().unwrap_or(""), None, StatusCode::OK).await
}

// ---------- one customer, devices, one device ----------

pub struct DeviceRowVm {
    pub id: i64,
    pub serial: String,
    pub model: String,
    pub sale: String,
    pub warranty: String,
    pub warranty_class: &'static str,
    pub until: String,
}

fn device_row(tr: crate::i18n::Tr, d: &shouhou_app::devices::DeviceView) -> DeviceRowVm {
    let v = super::desk::device_vm(tr, d);
    DeviceRowVm {
        id: d.id,
        serial: v.serial,
        model: v.model,
        sale: v.sale,
        warranty: v.warranty,
        warranty_class: v.warranty_class,
        until: v.until,
    }
}

#[derive(Template)]
#[template(path = "customer_detail.html")]
struct CustomerPage {
    c: Chrome,
    cu: CustomerVm,
    company: bool,
    credit_code: String,
    masked: bool,
    /// (role, name, phone)
    contacts: Vec<(String, String, String)>,
    devices: Vec<DeviceRowVm>,
    open: Vec<super::requests::ListRow>,
    history: Vec<super::requests::ListRow>,
    can_register: bool,
}

pub async fn customer(
    State(s): State<AppState>,
    rc: ReqCtx,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, super::PageError> {
    let path = format!("/customers/{id}");
    require_login(&rc, &path)?;
    let r = shouhou_app::customers::customer_record(&s.app, &rc.ctx, id).await.map_err(page_err(&rc, &path))?;
    let tr = rc.tr;
    let page = CustomerPage {
        cu: customer_vm(tr, &r.customer),
        company: r.customer.kind == "company",
        credit_code: r.customer.credit_code.clone().unwrap_or_default(),
        masked: r.customer.masked,
        contacts: r
            .customer
            .contacts
            .iter()
            .map(|k| (tr.t(&format!("contact-role-{}", k.role)), k.name.clone(), k.phone.clone()))
            .collect(),
        devices: r.devices.iter().map(|d| device_row(tr, d)).collect(),
        open: r.open_requests.iter().map(|x| super::requests::list_row(tr, x)).collect(),
        history: r.history.iter().map(|x| super::requests::list_row(tr, x)).collect(),
        can_register: rc.ctx.actor.as_ref().is_some_and(|a| a.can(Permission::CustomerWrite)),
        c: Chrome::new(&rc, "customers-title", "/customers"),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    c: Chrome,
    q: String,
    rows: Vec<DeviceRowVm>,
    pager: Pager,
}

pub async fn devices(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<PageQ>,
) -> Result<Response, super::PageError> {
    require_login(&rc, "/devices")?;
    let text = q.q.clone().unwrap_or_default();
    let p = shouhou_app::devices::search_devices(&s.app, &rc.ctx, &text, PageRequest::new(q.page, None))
        .await
        .map_err(page_err(&rc, "/devices"))?;
    let page = DevicesPage {
        pager: Pager::new(rc.tr, "/devices", &format!("&q={}", super::urlencode(&text)), &p),
        rows: p.items.iter().map(|d| device_row(rc.tr, d)).collect(),
        q: text,
        c: Chrome::new(&rc, "devices-title", "/devices"),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "device_detail.html")]
struct DevicePage {
    c: Chrome,
    d: DeviceRowVm,
    product_line: String,
    install: String,
    dealer: String,
    /// When the first maintenance (首保) was done, or that it is not yet.
    first_maintenance: String,
    /// The 三包 entitlement today: (status words, class), the remedies open, the reasons in words.
    entitlement: (String, &'static str),
    remedies: Vec<String>,
    /// What the warranty pays for, in words.
    covers: Vec<String>,
    entitlement_reasons: Vec<String>,
    customer: CustomerVm,
    history: Vec<super::requests::ListRow>,
    /// (when, work order id and number, part, old serial, new serial, its own warranty until)
    parts: Vec<(String, i64, String, String, String, String, String)>,
    /// (number, kind in words, article, status in words, replacement serial or refund)
    returns: Vec<(String, String, String, String, String)>,
}

pub async fn device(
    State(s): State<AppState>,
    rc: ReqCtx,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, super::PageError> {
    let path = format!("/devices/{id}");
    require_login(&rc, &path)?;
    let r = shouhou_app::devices::device_record(&s.app, &rc.ctx, id).await.map_err(page_err(&rc, &path))?;
    let tr = rc.tr;
    let install = match (&r.device.install_region_code, &r.device.install_address) {
        (Some(code), Some(a)) => format!("{} {a}", shouhou_domain::regions::region_name(code)),
        (None, Some(a)) => a.clone(),
        (Some(code), None) => shouhou_domain::regions::region_name(code),
        (None, None) => tr.t("request-none"),
    };
    let ent = shouhou_app::devices::entitlement(&s.app, &rc.ctx, id, None).await.map_err(page_err(&rc, &path))?;
    let entitlement = match ent.coverage {
        shouhou_app::devices::Coverage::InWarranty => (tr.t("ent-status-in_warranty"), "ok"),
        shouhou_app::devices::Coverage::Expired => (tr.t("ent-status-expired"), "bad"),
        shouhou_app::devices::Coverage::Void => (tr.t("ent-status-void"), "bad"),
    };
    let page = DevicePage {
        entitlement,
        remedies: ent.remedies.iter().map(|r| tr.t(&format!("remedy-{}", r.as_str()))).collect(),
        covers: ent.covers.iter().map(|c| tr.t(&format!("cover-{}", c.as_str()))).collect(),
        entitlement_reasons: ent.reasons.iter().map(|r| crate::api::devices::entitlement_words(tr, r)).collect(),
        d: device_row(tr, &r.device),
        product_line: r.device.product_line.clone(),
        install,
        dealer: r.device.dealer_name.clone().unwrap_or_else(|| tr.t("request-none")),
        first_maintenance: r
            .device
            .first_maintenance_at
            .map(|t| shouhou_domain::requests::business_day(t).to_string())
            .unwrap_or_else(|| tr.t("device-first-maintenance-none")),
        customer: customer_vm(tr, &r.customer),
        history: r.requests.iter().map(|x| super::requests::list_row(tr, x)).collect(),
        parts: r
            .parts
            .iter()
            .map(|p| {
                let at =
                    crate::api::Instant::from_ms(p.at).map(|i| i.to_string()[..10].to_string()).unwrap_or_default();
                (
                    at,
                    p.work_order_id,
                    p.work_order_number.clone(),
                    format!("{} {} × {}", p.part_code, p.part_name, p.quantity),
                    p.old_serial.clone().unwrap_or_default(),
                    p.new_serial.clone().unwrap_or_default(),
                    p.warranty_until.clone().unwrap_or_else(|| "—".into()),
                )
            })
            .collect(),
        returns: r
            .returns
            .iter()
            .map(|a| {
                let what = if a.kind == "exchange" {
                    a.replacement_serial.clone().unwrap_or_default()
                } else {
                    super::warranty_cards::yuan(a.refund_fen)
                };
                (
                    a.number.clone(),
                    tr.t(&format!("ra-kind-{}", a.kind)),
                    a.article.clone(),
                    tr.t(&format!("ra-status-{}", a.status)),
                    what,
                )
            })
            .collect(),
        c: Chrome::new(&rc, "devices-title", "/devices"),
    };
    Ok(render(&page))
}

pub(crate) fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

pub async fn export(State(s): State<AppState>, rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/customers")?;
    let bytes =
        shouhou_app::exports::export_customers_xlsx(&s.app, &rc.ctx).await.map_err(page_err(&rc, "/customers"))?;
    Ok(xlsx("customers.xlsx", bytes))
}

#[derive(Deserialize, Default)]
pub struct QueueQ {
    queue: Option<String>,
}

pub async fn export_requests(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<QueueQ>,
) -> Result<Response, PageError> {
    require_login(&rc, "/requests")?;
    let bytes = shouhou_app::exports::export_requests_xlsx(&s.app, &rc.ctx, q.queue.as_deref().unwrap_or("all"))
        .await
        .map_err(page_err(&rc, "/requests"))?;
    Ok(xlsx("service-requests.xlsx", bytes))
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
) -> Result<Response, PageError> {
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
        return Ok(r);
    }
    let err = page_err(&rc, "/customers");
    let (name, bytes) = file.unwrap_or_default();
    let table = match shouhou_app::sheets::read_upload(name, bytes).await {
        Err(AppError::Validation(v)) => {
            let r = ReportVm { ok: false, summary: super::joined_messages(rc.tr, &v.0), errors: vec![] };
            return customers_page(&s, &rc, None, Some(r), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        other => other.map_err(&err)?,
    };
    let result = if what == "devices" {
        shouhou_app::imports::import_devices(&s.app, &rc.ctx, &table, |_, _| {}).await
    } else {
        shouhou_app::imports::import_customers(&s.app, &rc.ctx, &table, |_, _| {}).await
    };
    let r = result.map_err(&err)?;
    let status = if r.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    customers_page(&s, &rc, None, Some(report_vm(rc.tr, &r)), status).await
}
