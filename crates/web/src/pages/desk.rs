//! The agent's desk page: the screen pop and registering a request from it.
use super::shared::{InputField, RegionPicker, region_of};
use super::{Chrome, CsrfForm, PageError, field_messages, page_err, render, require_login};
use crate::AppState;
use crate::api::rfc3339;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_app::requests::Request;
use shouhou_app::requests::RequestForm;
use shouhou_app::{
    customers::{CustomerForm, CustomerView},
    desk::{Lookup, ScreenPop},
    devices::DeviceView,
};
use shouhou_domain::devices::WarrantyStatus;
use shouhou_domain::requests::{Channel, RequestType, Urgency};
use shouhou_domain::sla::ClockState;

fn is_htmx(h: &HeaderMap) -> bool {
    h.get("hx-request").is_some()
}

/// Minutes-precise local time for people: `2026-11-26 17:03`.
pub(crate) fn local(ms: i64) -> String {
    rfc3339(ms).replace('T', " ").chars().take(16).collect()
}

/// The same for an instant.
pub(crate) fn local_at(t: jiff::Timestamp) -> String {
    local(t.as_millisecond())
}

pub struct CustomerVm {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub kind: String,
    pub tier: String,
    pub region: String,
    pub address: String,
    /// Identity number, in clear or masked as the caller may see it.
    pub id_number: Option<String>,
}

pub fn customer_vm(tr: Tr, c: &CustomerView) -> CustomerVm {
    CustomerVm {
        id: c.id,
        name: c.name.clone(),
        phone: c.phone.clone(),
        kind: tr.t(&format!("kind-{}", c.kind)),
        tier: tr.t(&format!("tier-{}", c.tier)),
        region: c.region_name.clone(),
        address: c.address.clone(),
        id_number: c.id_number.clone(),
    }
}

pub struct DeviceVm {
    pub serial: String,
    pub model: String,
    pub sale: String,
    pub warranty: String,
    pub warranty_class: &'static str,
    pub until: String,
}

pub(crate) fn device_vm(tr: Tr, d: &DeviceView) -> DeviceVm {
    let (key, class) = match d.warranty {
        WarrantyStatus::InWarranty { .. } => ("in_warranty", "ok"),
        WarrantyStatus::Extended { .. } => ("extended", "ok"),
        WarrantyStatus::Expired { .. } => ("expired", "bad"),
    };
    DeviceVm {
        serial: d.serial_number.clone(),
        model: format!("{} {}", d.model_code, d.model_name),
        sale: d.sale_date.clone(),
        warranty: tr.t(&format!("warranty-{key}")),
        warranty_class: class,
        until: format!("{} {}", tr.t("warranty-until"), d.warranty.until()),
    }
}

pub struct ReqRow {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub status: String,
    pub urgency: String,
    pub sla: String,
    pub sla_class: &'static str,
    pub due: String,
    pub summary: String,
}

pub(crate) fn sla_class(state: &str) -> &'static str {
    match state {
        "breached" | "missed" => "bad",
        "at_risk" => "warn",
        "met" => "ok",
        _ => "",
    }
}

pub(crate) fn req_row(tr: Tr, r: &Request) -> ReqRow {
    // The clock that matters now: the response clock until it stops, then resolution.
    let (state, due) = if r.sla.response_due_at.is_some() || r.sla.response_state == ClockState::Breached {
        (r.sla.response_state.as_str(), r.sla.response_due_at)
    } else {
        (r.sla.resolution_state.as_str(), r.sla.resolution_due_at)
    };
    ReqRow {
        id: r.id,
        number: r.number.clone(),
        kind: tr.t(&format!("type-{}", r.request_type)),
        status: tr.t(&format!("status-{}", r.status)),
        urgency: tr.t(&format!("urgency-{}", r.urgency)),
        sla: tr.t(&format!("sla-{state}")),
        sla_class: sla_class(state),
        due: due.map(local_at).unwrap_or_default(),
        summary: r.description.chars().take(40).collect(),
    }
}

fn options<T: Copy>(tr: Tr, prefix: &str, all: &[T], code: impl Fn(T) -> &'static str) -> Vec<(&'static str, String)> {
    all.iter().map(|v| (code(*v), tr.t(&format!("{prefix}-{}", code(*v))))).collect()
}

#[derive(Template)]
#[template(path = "desk_pop.html")]
struct PopPartial {
    tr: Tr,
    csrf: String,
    masked: bool,
    cu: CustomerVm,
    also: Vec<String>,
    devices: Vec<DeviceVm>,
    open: Vec<ReqRow>,
    history: Vec<ReqRow>,
    types: Vec<(&'static str, String)>,
    channels: Vec<(&'static str, String)>,
    urgencies: Vec<(&'static str, String)>,
}

fn pop_partial(rc: &ReqCtx, p: &ScreenPop) -> PopPartial {
    let tr = rc.tr;
    PopPartial {
        tr,
        csrf: rc.csrf.clone().unwrap_or_default(),
        masked: p.customer.masked,
        cu: customer_vm(tr, &p.customer),
        also: p.also_matching.iter().map(|c| c.name.clone()).collect(),
        devices: p.devices.iter().map(|d| device_vm(tr, d)).collect(),
        open: p.open_requests.iter().map(|r| req_row(tr, r)).collect(),
        history: p.history.iter().map(|r| req_row(tr, r)).collect(),
        types: options(tr, "type", &RequestType::ALL, RequestType::as_str),
        channels: options(tr, "channel", &Channel::ALL, Channel::as_str),
        urgencies: options(tr, "urgency", &Urgency::ALL, Urgency::as_str),
    }
}

#[derive(Template)]
#[template(path = "desk_new_customer.html")]
struct NewCustomerPartial {
    tr: Tr,
    csrf: String,
    fields: Vec<InputField>,
    company: bool,
    error: Option<String>,
}

fn new_customer_partial(rc: &ReqCtx, f: &CustomerForm, errors: &[(String, String)]) -> NewCustomerPartial {
    let tr = rc.tr;
    let field = |name: &'static str, key: &str, value: &str, required: bool| InputField {
        name,
        label: tr.t(key),
        value: value.to_string(),
        error: errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.clone()),
        required,
        kind: "text",
        readonly: false,
        region: (name == "region_code").then(|| RegionPicker::new(tr, value)),
    };
    NewCustomerPartial {
        tr,
        csrf: rc.csrf.clone().unwrap_or_default(),
        fields: vec![
            field("phone", "customer-phone", &f.phone, true),
            field("name", "customer-name", &f.name, true),
            field("region_code", "station-region-code", &f.region_code, true),
            field("address", "customer-address", &f.address, true),
            field("credit_code", "field-credit_code", f.credit_code.as_deref().unwrap_or(""), false),
            field("id_number", "field-id_number", f.id_number.as_deref().unwrap_or(""), false),
        ],
        company: f.kind.as_deref() == Some("company"),
        error: (!errors.is_empty()).then(|| tr.t("error-validation")),
    }
}

/// Look up by phone when it reads as one, else by serial number.
fn lookup(q: &str) -> Lookup<'_> {
    let digits = q.chars().filter(|c| c.is_ascii_digit()).count();
    let phone_like = q.chars().all(|c| c.is_ascii_digit() || " -+()（）".contains(c)) && digits >= 7;
    if phone_like { Lookup::Phone(q) } else { Lookup::Serial(q) }
}

/// The pop for a query: found → the customer; nobody → the new-customer form with the phone filled in.
async fn pop_html(s: &AppState, rc: &ReqCtx, q: &str) -> Result<String, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(String::new());
    }
    let by = lookup(q);
    let is_phone = matches!(by, Lookup::Phone(_));
    let pop = match shouhou_app::desk::screen_pop(&s.app, &rc.ctx, by).await {
        Err(AppError::Validation(v)) => {
            let f = CustomerForm { phone: q.to_string(), ..Default::default() };
            return new_customer_partial(rc, &f, &field_messages(rc.tr, &v.0))
                .render()
                .map_err(|e| AppError::Internal(e.to_string()));
        }
        other => other?,
    };
    match pop {
        Some(p) => pop_partial(rc, &p).render().map_err(|e| AppError::Internal(e.to_string())),
        None => {
            let f = CustomerForm { phone: if is_phone { q.to_string() } else { String::new() }, ..Default::default() };
            new_customer_partial(rc, &f, &[]).render().map_err(|e| AppError::Internal(e.to_string()))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DeskQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    c: Chrome,
    q: String,
    pop: Option<String>,
}

pub async fn desk(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<DeskQuery>) -> Result<Response, PageError> {
    require_login(&rc, "/desk")?;
    let err = page_err(&rc, "/desk");
    // The service desk is the back office's: a customer or a dealer finds nothing here.
    rc.ctx.require_read(shouhou_domain::auth::Permission::CustomerRead).map_err(&err)?;
    let text = q.q.unwrap_or_default();
    let pop = pop_html(&s, &rc, &text).await.map_err(&err)?;
    Ok(render(&DeskPage { c: Chrome::new(&rc, "desk-title", "/desk"), q: text, pop: Some(pop) }))
}

pub async fn desk_lookup(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    require_login(&rc, "/desk")?;
    let html = pop_html(&s, &rc, q.q.as_deref().unwrap_or("")).await.map_err(page_err(&rc, "/desk"))?;
    Ok(axum::response::Html(html).into_response())
}

/// Create the customer from the pop's form and show their (empty) pop at once, no retyping.
pub async fn desk_create_customer(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let opt = |k: &str| Some(f.get(k)).filter(|v| !v.trim().is_empty());
    // The form hides the other kind's identifier; what was typed there before a switch is not sent on.
    let company = f.get("kind") == "company";
    let form = CustomerForm {
        kind: opt("kind"),
        name: f.get("name"),
        phone: f.get("phone"),
        credit_code: opt("credit_code").filter(|_| company),
        id_number: opt("id_number").filter(|_| !company),
        region_code: region_of(&f, "region_code"),
        address: f.get("address"),
        ..Default::default()
    };
    let err = page_err(&rc, "/desk");
    match shouhou_app::customers::create_customer(&s.app, &rc.ctx, &form).await {
        Err(AppError::Validation(v)) => {
            let html = new_customer_partial(&rc, &form, &field_messages(rc.tr, &v.0));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&html)).into_response());
        }
        other => other.map_err(&err)?,
    };
    let html = pop_html(&s, &rc, &form.phone).await.map_err(&err)?;
    if is_htmx(&headers) {
        Ok(axum::response::Html(html).into_response())
    } else {
        Ok(Redirect::to(&format!("/desk?q={}", super::urlencode(&form.phone))).into_response())
    }
}

pub async fn desk_register(
    State(s): State<AppState>,
    rc: ReqCtx,
    _headers: HeaderMap,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let opt = |k: &str| Some(f.get(k)).filter(|v| !v.trim().is_empty());
    // 当场解决 is a checkbox; its note says how. Ticked without a note is a missing note.
    let solved_now = f.get("solved_now") == "1";
    if solved_now && f.get("resolve_now").trim().is_empty() {
        let v = shouhou_domain::ValidationErrors::single("resolve_now", "required");
        let page = super::ErrorPage {
            c: Chrome::new(&rc, "desk-title", "/desk"),
            message: super::joined_messages(rc.tr, &v.0),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let form = RequestForm {
        customer_id: f.get("customer_id").parse().unwrap_or(0),
        serial_number: opt("serial_number"),
        request_type: f.get("type"),
        channel: f.get("channel"),
        urgency: f.get("urgency"),
        description: f.get("description"),
        fault_code: opt("fault_code"),
        promised_reply_at: opt("promised_reply_at"),
        resolve_now: if solved_now { opt("resolve_now") } else { None },
    };
    let r = match shouhou_app::requests::create_request(&s.app, &rc.ctx, &form).await {
        Err(AppError::Validation(v)) => {
            let page = super::ErrorPage {
                c: Chrome::new(&rc, "desk-title", "/desk"),
                message: super::joined_messages(rc.tr, &v.0),
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
        other => other.map_err(page_err(&rc, "/desk"))?,
    };
    let to = format!("/requests/{}", r.id);
    let mut resp = Redirect::to(&to).into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        resp.headers_mut().insert("hx-redirect", v);
    }
    Ok(resp)
}
