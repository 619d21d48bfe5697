//! Service request pages: the queues and one request with its timeline, transitions, notes, uploads and downloads.
use super::{Chrome, CsrfForm, FormData, PageError, Pager, check_csrf, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use crate::pages::desk::device_vm;
use crate::pages::desk::local;
use crate::pages::desk::req_row;
use crate::pages::desk::sla_class;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::requests::RequestListItem;
use shouhou_app::{AppError, PageRequest};

// ---------- queues ----------

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    queue: Option<String>,
    page: Option<u32>,
}

/// One request in a list: what a person scans for (who, where, by when, how urgent) in words and colour.
pub struct ListRow {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub status: String,
    pub urgency: String,
    pub urgency_class: &'static str,
    pub customer: String,
    pub station: String,
    pub assignee: String,
    pub created: String,
    pub due: String,
    pub sla: String,
    pub sla_class: &'static str,
    pub summary: String,
}

pub(crate) fn list_row(tr: Tr, it: &RequestListItem) -> ListRow {
    let base = req_row(tr, &it.request);
    let r = &it.request;
    ListRow {
        id: r.id,
        number: r.number.clone(),
        kind: base.kind,
        status: base.status,
        urgency: base.urgency,
        urgency_class: match r.urgency.as_str() {
            "urgent" => "bad",
            "high" => "warn",
            _ => "",
        },
        customer: it.customer_name.clone(),
        station: it.station_name.clone().unwrap_or_else(|| tr.t("home-hq-short")),
        assignee: it.assignee_name.clone().unwrap_or_else(|| tr.t("request-unassigned")),
        created: local(r.created_at.as_millisecond()),
        due: base.due,
        sla: base.sla,
        sla_class: base.sla_class,
        summary: base.summary,
    }
}

#[derive(Template)]
#[template(path = "requests.html")]
struct QueuePage {
    c: Chrome,
    queues: Vec<(&'static str, String, bool)>,
    queue: String,
    page: u32,
    rows: Vec<ListRow>,
    pager: Pager,
}

pub const QUEUES: [&str; 6] = ["mine", "station", "unassigned", "due_soon", "breached", "all"];

/// The queue a person starts on: an engineer on their own requests, everyone else on all open ones.
fn default_queue(rc: &ReqCtx) -> &'static str {
    let engineer = rc.ctx.actor.as_ref().is_some_and(|a| a.roles.iter().any(|r| r.as_str() == "engineer"));
    if engineer { "mine" } else { "all" }
}

pub async fn queues(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<QueueQuery>) -> Result<Response, PageError> {
    require_login(&rc, "/requests")?;
    let queue = q.queue.filter(|q| QUEUES.contains(&q.as_str())).unwrap_or_else(|| default_queue(&rc).to_string());
    let p = shouhou_app::requests::queue_listing(&s.app, &rc.ctx, &queue, PageRequest::new(q.page, None))
        .await
        .map_err(page_err(&rc, "/requests"))?;
    let pager = Pager::new(rc.tr, "/requests", &format!("&queue={queue}"), &p);
    let page = QueuePage {
        queues: QUEUES.iter().map(|k| (*k, rc.tr.t(&format!("queue-{k}")), *k == queue)).collect(),
        page: p.page,
        rows: p.items.iter().map(|r| list_row(rc.tr, r)).collect(),
        queue,
        pager,
        c: Chrome::new(&rc, "requests-title", "/requests"),
    };
    Ok(render(&page))
}

// ---------- one request ----------

pub struct RequestVm {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub customer_id: i64,
    pub customer: String,
    pub phone: String,
    /// The phone as a `tel:` target when it is in clear (a masked one cannot be dialled).
    pub tel: Option<String>,
    pub address: String,
    /// (role, name, phone, tel)
    pub contacts: Vec<(String, String, String, Option<String>)>,
    pub station: String,
    pub fault_code: String,
    pub kind: String,
    pub channel: String,
    pub urgency: String,
    pub device: String,
    /// "至 2027-01-31": kept on one line.
    pub device_until: String,
    pub device_id: Option<i64>,
    pub description: String,
    pub created: String,
    pub response_state: String,
    pub response_class: &'static str,
    pub response_due: String,
    pub resolution_state: String,
    pub resolution_class: &'static str,
    pub resolution_due: String,
    pub version: i64,
    pub assignee: String,
    pub mine: bool,
}

pub struct EventVm {
    pub at: String,
    pub who: String,
    pub what: String,
    pub note: String,
}

/// A visit as the request's page lists it, with its two clocks (state in words, colour class).
struct VisitRow {
    id: i64,
    number: String,
    kind: String,
    status: String,
    arrange: (String, &'static str),
    on_site: Option<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "request_detail.html")]
struct RequestPage {
    c: Chrome,
    r: RequestVm,
    actions: Vec<(&'static str, String)>,
    events: Vec<EventVm>,
    /// (id, name, size in KiB)
    attachments: Vec<(i64, String, i64)>,
    /// The request's visits: (id, number, kind, status).
    work_orders: Vec<VisitRow>,
    /// Whether the reader may send an engineer (the kinds offered).
    wo_kinds: Vec<(&'static str, String)>,
    /// Its returns and exchanges.
    returns: Vec<ReturnRow>,
    /// The reader may ask for a return or an exchange (the request names a device).
    may_ask_return: bool,
    /// Its return visits: (id, status label, due, scores) and open follow-ups (reason label, note).
    visits: Vec<(i64, String, String, String)>,
    follow_ups: Vec<(String, String)>,
    /// The reader may register a complaint about it.
    may_complain: bool,
    customer_id: i64,
    error: Option<String>,
}

pub struct ReturnRow {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub article: String,
    pub status: String,
    pub detail: String,
    pub version: i64,
    /// The reader may decide it now.
    pub decidable: bool,
}

async fn request_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/requests/{id}");
    let d = shouhou_app::requests::get_request(&s.app, &rc.ctx, id).await.map_err(page_err(rc, &path))?;
    let tr = rc.tr;
    let r = &d.request;
    let clock = |st: &shouhou_domain::sla::ClockStatus| {
        let due = st.due.map(|t| local(t.as_millisecond())).unwrap_or_default();
        let state = st.state().as_str();
        (tr.t(&format!("sla-{state}")), sla_class(state), due)
    };
    let (rs, rcl, rd) = clock(&d.clocks.response);
    let (ss, scl, sd) = clock(&d.clocks.resolution);
    let (device, device_until, device_id) = match &d.device {
        Some(dv) => {
            let v = device_vm(tr, dv);
            (format!("{} · {} · {}", v.serial, v.model, v.warranty), v.until, Some(dv.id))
        }
        None => (tr.t("request-none"), String::new(), None),
    };
    let cu = &d.customer;
    let tel = |p: &str| (!cu.masked).then(|| p.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect());
    let station = match r.station_id {
        Some(sid) => shouhou_app::stations::station_names(&s.app, &rc.ctx, &[sid.0])
            .await
            .map_err(page_err(rc, &path))?
            .remove(&sid.0)
            .unwrap_or_default(),
        None => tr.t("home-hq-short"),
    };
    let vm = RequestVm {
        id: r.id,
        number: r.number.clone(),
        status: tr.t(&format!("status-{}", r.status)),
        customer_id: cu.id,
        customer: cu.name.clone(),
        phone: cu.phone.clone(),
        tel: tel(&cu.phone),
        address: format!("{} {}", cu.region_name, cu.address),
        contacts: cu
            .contacts
            .iter()
            .map(|k| (tr.t(&format!("contact-role-{}", k.role)), k.name.clone(), k.phone.clone(), tel(&k.phone)))
            .collect(),
        station,
        fault_code: r.fault_code.clone().unwrap_or_default(),
        kind: tr.t(&format!("type-{}", r.request_type)),
        channel: tr.t(&format!("channel-{}", r.channel)),
        urgency: tr.t(&format!("urgency-{}", r.urgency)),
        device,
        device_until,
        device_id,
        description: r.description.clone(),
        created: local(r.created_at.as_millisecond()),
        response_state: rs,
        response_class: rcl,
        response_due: rd,
        resolution_state: ss,
        resolution_class: scl,
        resolution_due: sd,
        version: r.version,
        assignee: d.assignee_name.clone().unwrap_or_else(|| tr.t("request-unassigned")),
        mine: r.assignee_id.is_some() && r.assignee_id == rc.ctx.actor_id(),
    };
    let events = d
        .events
        .iter()
        .map(|e| EventVm {
            at: local(e.at),
            who: if e.actor_id.is_none() && e.actor_name == "portal" {
                tr.t("actor-portal")
            } else {
                e.actor_name.clone()
            },
            what: match (e.kind.as_str(), e.action.as_deref()) {
                ("status", Some(a)) => tr.t(&format!("action-{a}")),
                ("assign", _) => tr.t("event-assign"),
                (k, _) => tr.t(&format!("event-{k}")),
            },
            note: portal_contact(tr, e).unwrap_or_else(|| e.note.clone()),
        })
        .collect();
    let can = |p| rc.ctx.actor.as_ref().is_some_and(|a| a.can(p));
    let work_orders = if can(shouhou_domain::auth::Permission::WorkOrderRead) {
        shouhou_app::work_orders::of_request(&s.app, &rc.ctx, id)
            .await
            .map_err(page_err(rc, &path))?
            .iter()
            .map(|v| {
                let w = &v.work_order;
                let clock = |st: &shouhou_domain::sla::ClockStatus| {
                    let state = st.state().as_str();
                    (tr.t(&format!("sla-{state}")), super::desk::sla_class(state))
                };
                VisitRow {
                    id: w.id,
                    number: w.number.clone(),
                    kind: tr.t(&format!("wo-kind-{}", w.kind)),
                    status: tr.t(&format!("wo-status-{}", w.status)),
                    arrange: clock(&v.arrange),
                    on_site: v.on_site.as_ref().map(clock),
                }
            })
            .collect()
    } else {
        vec![]
    };
    let wo_kinds = if can(shouhou_domain::auth::Permission::WorkOrderWrite) && r.is_open() {
        shouhou_domain::work_orders::Kind::ALL.iter().map(|k| (k.as_str(), tr.t(&format!("wo-kind-{k}")))).collect()
    } else {
        vec![]
    };
    let actor = rc.ctx.actor().map_err(page_err(rc, &path))?.clone();
    let may_decide = actor.can(shouhou_domain::auth::Permission::ReturnApprove)
        || actor.can(shouhou_domain::auth::Permission::ReturnApproveLarge);
    let returns = shouhou_app::returns::list(&s.app, &rc.ctx, Some(id), None)
        .await
        .map_err(page_err(rc, &path))?
        .into_iter()
        .map(|a| {
            let detail = if a.kind == "exchange" {
                format!("{} {}", tr.t("ra-replacement"), a.replacement_serial.clone().unwrap_or_default())
            } else {
                format!("{} {}", tr.t("ra-refund"), super::warranty_cards::yuan(a.refund_fen))
            };
            let detail = if a.decision_note.is_empty() { detail } else { format!("{detail} · {}", a.decision_note) };
            ReturnRow {
                id: a.id,
                number: a.number,
                kind: tr.t(&format!("ra-kind-{}", a.kind)),
                article: a.article,
                status: tr.t(&format!("ra-status-{}", a.status)),
                detail,
                version: a.version,
                decidable: may_decide && a.status == "submitted",
            }
        })
        .collect();
    let may_ask_return = can(shouhou_domain::auth::Permission::RequestWrite) && r.device_id.is_some();
    let (rv, fu) = shouhou_app::return_visits::of_request(&s.app, &rc.ctx, id).await.map_err(page_err(rc, &path))?;
    let visits = rv
        .iter()
        .map(|v| {
            let scores = match (v.satisfaction, v.attitude, v.skill, v.timeliness) {
                (Some(a), Some(b), Some(c), Some(d)) => format!("{a} / {b} / {c} / {d}"),
                _ => String::new(),
            };
            let due = crate::api::Instant::from_ms(v.due_at).map(|i| i.to_string().replace('T', " ")[..16].to_string());
            (v.id, tr.t(&format!("rv-status-{}", v.status)), due.unwrap_or_default(), scores)
        })
        .collect();
    let follow_ups = fu
        .iter()
        .filter(|f| f.status == "open")
        .map(|f| (tr.t(&format!("rv-reason-{}", f.reason)), f.note.clone()))
        .collect();
    let may_complain = can(shouhou_domain::auth::Permission::FeedbackWrite);
    let customer_id = r.customer_id;
    let page = RequestPage {
        visits,
        follow_ups,
        may_complain,
        customer_id,
        returns,
        may_ask_return,
        work_orders,
        wo_kinds,
        c: Chrome::new(rc, "requests-title", "/requests"),
        actions: d.allowed_actions.iter().map(|a| (*a, tr.t(&format!("action-{a}")))).collect(),
        r: vm,
        events,
        attachments: d.attachments.iter().map(|a| (a.id, a.file_name.clone(), (a.size + 1023) / 1024)).collect(),
        error,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn request(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_login(&rc, &format!("/requests/{id}"))?;
    request_page(&s, &rc, id, None, StatusCode::OK).await
}

pub async fn transition(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let version = f.get("version").parse().unwrap_or(0);
    match shouhou_app::requests::transition(&s.app, &rc.ctx, id, version, &f.get("action"), &f.get("note")).await {
        Err(AppError::Validation(v)) => {
            let msg = super::joined_messages(rc.tr, &v.0);
            return request_page(&s, &rc, id, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e @ (AppError::Stale | AppError::IllegalTransition { .. })) => {
            let msg = PageError { err: e, rc: rc.clone(), path: String::new() }.message();
            return request_page(&s, &rc, id, Some(msg), StatusCode::CONFLICT).await;
        }
        other => other.map_err(page_err(&rc, &format!("/requests/{id}")))?,
    };
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

pub async fn add_note(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    match shouhou_app::requests::add_note(&s.app, &rc.ctx, id, &f.get("note")).await {
        Err(AppError::Validation(v)) => {
            let msg = super::joined_messages(rc.tr, &v.0);
            return request_page(&s, &rc, id, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        other => other.map_err(page_err(&rc, &format!("/requests/{id}")))?,
    }
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

/// Upload from the request page: a multipart form with the session's CSRF token and the file.
pub async fn upload(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("_csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("file") => {
                    let name = match crate::json::upload_file_name(field.file_name().unwrap_or("")) {
                        Ok(n) => n,
                        Err(p) => return upload_problem(&s, &rc, id, p).await,
                    };
                    match field.bytes().await {
                        Ok(b) => file = Some((name, b.to_vec())),
                        Err(e) => return upload_problem(&s, &rc, id, crate::json::multipart_problem(&e)).await,
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => return upload_problem(&s, &rc, id, crate::json::multipart_problem(&e)).await,
        }
    }
    if let Err(r) = check_csrf(&rc, &headers, &FormData(vec![("_csrf".into(), csrf)])) {
        return Ok(r);
    }
    let (name, bytes) = file.unwrap_or_default();
    match shouhou_app::attachments::add_attachment(&s.app, &rc.ctx, id, &name, &bytes).await {
        Err(AppError::Validation(v)) => {
            let msg = super::joined_messages(rc.tr, &v.0);
            return request_page(&s, &rc, id, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        other => other.map_err(page_err(&rc, &format!("/requests/{id}")))?,
    };
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

/// The request page with what was wrong with an upload (too large, malformed, a bad file name),
/// answered with the problem's status as the API answers it.
async fn upload_problem(s: &AppState, rc: &ReqCtx, id: i64, p: crate::error::Problem) -> Result<Response, PageError> {
    let msg = match p.errors.first() {
        Some(e) => rc.tr.field_message(e),
        None => rc.tr.t(&format!("problem-{}", p.code)),
    };
    request_page(s, rc, id, Some(msg), p.status).await
}

pub async fn download(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_login(&rc, &format!("/attachments/{id}"))?;
    let (meta, bytes) =
        shouhou_app::attachments::get_attachment(&s.app, &rc.ctx, id).await.map_err(page_err(&rc, "/requests"))?;
    Ok(crate::api::attachments::attachment_response(&meta, bytes))
}

/// "I'll take it": the signed-in person becomes the assignee.
pub async fn take(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let version = f.get("version").parse().unwrap_or(0);
    let me = rc.ctx.actor.as_ref().map(|a| a.id.0);
    match shouhou_app::requests::assign(&s.app, &rc.ctx, id, version, me).await {
        Err(e @ (AppError::Stale | AppError::Validation(_))) => {
            let msg = PageError { err: e, rc: rc.clone(), path: String::new() }.message();
            return request_page(&s, &rc, id, Some(msg), StatusCode::CONFLICT).await;
        }
        other => other.map_err(page_err(&rc, &format!("/requests/{id}")))?,
    };
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

/// Ask for a return or an exchange from the request's page.
pub async fn ask_return(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = shouhou_app::returns::ReturnForm {
        kind: f.get("kind"),
        reason: f.get("reason"),
        inspection: f.get("inspection"),
        refund_fen: f.get("refund_yuan").trim().parse::<f64>().ok().map(|y| (y * 100.0).round() as i64),
        replacement_serial: Some(f.get("replacement_serial")).filter(|s| !s.trim().is_empty()),
    };
    let r = shouhou_app::returns::request(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    after_return(&s, &rc, id, r).await
}

/// Decide a return or an exchange from the request's page.
pub async fn decide_return(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path((id, ra)): Path<(i64, i64)>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let version = f.get("version").parse().unwrap_or(0);
    let form = shouhou_app::returns::DecisionForm {
        decision: f.get("decision"),
        reason: Some(f.get("reason")),
        version: Some(version),
    };
    let r = shouhou_app::returns::decide(&s.app, &rc.ctx, ra, version, &form).await.map(|_| ());
    after_return(&s, &rc, id, r).await
}

async fn after_return(s: &AppState, rc: &ReqCtx, id: i64, r: Result<(), AppError>) -> Result<Response, PageError> {
    super::after_form(rc, r, &format!("/requests/{id}#returns"), |msg, code| request_page(s, rc, id, Some(msg), code))
        .await
}

/// What the portal recorded with a request it registered, for the agent: the phone the customer
/// gave (masked) and whether it is the customer's on record (D65).
fn portal_contact(tr: Tr, e: &shouhou_app::requests::RequestEvent) -> Option<String> {
    if e.kind != "created" || e.actor_id.is_some() {
        return None;
    }
    let data: serde_json::Value = serde_json::from_str(&e.data).ok()?;
    let portal = data.get("portal")?;
    let phone = portal.get("contact_phone")?.as_str()?;
    let key = if portal.get("phone_on_record")?.as_bool()? { "portal-contact" } else { "portal-contact-not-on-record" };
    Some(tr.t1(key, "phone", phone))
}
