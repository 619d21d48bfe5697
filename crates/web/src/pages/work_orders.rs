//! Work-order pages: the dispatcher's board, the engineer's day (phone first), one work order with
//! its recommendations, steps, photos, signature and parts; the forms behind them.
use super::desk::{local, local_at};
use super::{Chrome, CsrfForm, FormData, PageError, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shouhou_app::AppError;
use shouhou_app::work_orders::{Listing, WorkOrder, WorkOrderListItem};
use shouhou_domain::auth::Permission;
use shouhou_domain::dispatch::Ranking;
use shouhou_domain::regions::region_name;
use shouhou_domain::sla::Health;

// ---------- lists ----------

/// One work order in a list or on a card.
pub struct Row {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub status: String,
    pub status_key: &'static str,
    pub urgency: String,
    pub urgency_class: &'static str,
    pub customer: String,
    pub region: String,
    pub station: String,
    pub engineer: String,
    pub due: String,
    pub due_class: &'static str,
    pub window: String,
}

fn health_class(h: Health) -> &'static str {
    match h {
        Health::Ok => "",
        Health::AtRisk => "warn",
        Health::Breached => "bad",
    }
}

fn window(tr: Tr, w: &WorkOrder) -> String {
    match w.appointment {
        Some(a) => {
            let from = local_at(a.from);
            let to = local_at(a.to);
            // "12-08 09:00–12:00" when on one day.
            if from.get(..10) == to.get(..10) {
                format!("{}–{}", from.get(5..).unwrap_or(&from), to.get(11..).unwrap_or(&to))
            } else {
                format!("{}–{}", from.get(5..).unwrap_or(&from), to.get(5..).unwrap_or(&to))
            }
        }
        None => tr.t("wo-no-appointment"),
    }
}

fn row(tr: Tr, it: &WorkOrderListItem) -> Row {
    let w = &it.work_order;
    Row {
        id: w.id,
        number: w.number.clone(),
        kind: tr.t(&format!("wo-kind-{}", w.kind)),
        status: tr.t(&format!("wo-status-{}", w.status)),
        status_key: w.status.as_str(),
        urgency: tr.t(&format!("urgency-{}", w.urgency)),
        urgency_class: match w.urgency.as_str() {
            "urgent" => "bad",
            "high" => "warn",
            _ => "",
        },
        customer: it.customer_name.clone(),
        region: region_name(&w.region_code),
        station: it.station_name.clone().unwrap_or_else(|| tr.t("wo-board-unassigned")),
        engineer: it.engineer_name.clone().unwrap_or_else(|| "—".into()),
        due: if w.arrange.arranged_at.is_some() { tr.t("wo-arranged") } else { local_at(w.arrange.due_at) },
        due_class: if w.arrange.arranged_at.is_some() { "ok" } else { health_class(it.arrange) },
        window: window(tr, w),
    }
}

#[derive(Template)]
#[template(path = "work_orders.html")]
struct BoardPage {
    c: Chrome,
    /// (key, title, rows)
    groups: Vec<(&'static str, String, Vec<Row>)>,
    total: usize,
    /// Maintenance and inspections due this week or overdue.
    due: Vec<DueRow>,
}

/// (due day, what, work order id and number, status, overdue, station)
type DueRow = (String, String, Option<(i64, String)>, String, bool, String);

/// The columns of the board, each a set of statuses.
const BOARD: [(&str, &[&str]); 5] = [
    ("board", &["created"]),
    ("station", &["dispatched"]),
    ("engineer", &["assigned"]),
    ("under_way", &["accepted", "travelling", "on_site", "working", "waiting_parts"]),
    ("review", &["completed"]),
];

/// The dispatcher's board: every open work order in the caller's scope by where it stands, the
/// "arranged" clock in colour; it refreshes itself in place.
pub async fn board(State(s): State<AppState>, rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/work-orders")?;
    let items = shouhou_app::work_orders::listing(&s.app, &rc.ctx, Listing::Board)
        .await
        .map_err(page_err(&rc, "/work-orders"))?;
    let tr = rc.tr;
    let groups = BOARD
        .iter()
        .map(|(key, statuses)| {
            let rows =
                items.iter().filter(|i| statuses.contains(&i.work_order.status.as_str())).map(|i| row(tr, i)).collect();
            (*key, tr.t(&format!("wo-board-{key}")), rows)
        })
        .collect();
    let due_items =
        shouhou_app::maintenance::due(&s.app, &rc.ctx, 7, None).await.map_err(page_err(&rc, "/work-orders"))?;
    let station_ids: Vec<i64> = due_items.iter().filter_map(|d| d.item.station_id).collect();
    let stations = shouhou_app::stations::station_names(&s.app, &rc.ctx, &station_ids)
        .await
        .map_err(page_err(&rc, "/work-orders"))?;
    let due = due_items
        .into_iter()
        .map(|shouhou_app::maintenance::Due { item: d, overdue }| {
            let what = match (d.kind.as_str(), d.seq) {
                ("inspection", _) => tr.t("wo-due-inspection"),
                (_, 0) => tr.t("wo-due-first"),
                _ => tr.t1("wo-due-nth", "n", d.seq + 1),
            };
            let status = d.status.as_deref().map(|st| tr.t(&format!("wo-status-{st}"))).unwrap_or_default();
            let station =
                d.station_id.and_then(|s| stations.get(&s).cloned()).unwrap_or_else(|| tr.t("wo-board-unassigned"));
            (d.due_on.clone(), what, d.work_order_id.zip(d.number), status, overdue, station)
        })
        .collect();
    Ok(render(&BoardPage { c: Chrome::new(&rc, "wo-board-title", "/work-orders"), groups, total: items.len(), due }))
}

#[derive(Template)]
#[template(path = "my_day.html")]
struct DayPage {
    c: Chrome,
    rows: Vec<Row>,
}

/// The engineer's work orders in visit order, as cards for a phone.
pub async fn my_day(State(s): State<AppState>, rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/my-day")?;
    let items =
        shouhou_app::work_orders::listing(&s.app, &rc.ctx, Listing::Mine).await.map_err(page_err(&rc, "/my-day"))?;
    let rows = items.iter().map(|i| row(rc.tr, i)).collect();
    Ok(render(&DayPage { c: Chrome::new(&rc, "wo-my-day", "/my-day"), rows }))
}

// ---------- one work order ----------

pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub reasons: String,
}

struct Detail {
    id: i64,
    number: String,
    status: String,
    kind: String,
    urgency: String,
    urgency_class: &'static str,
    customer_id: i64,
    customer: String,
    phone: String,
    tel: Option<String>,
    address: String,
    map: String,
    device: String,
    device_id: Option<i64>,
    request: Option<(i64, String)>,
    description: String,
    station: String,
    engineer: String,
    window: String,
    arrange_state: String,
    arrange_class: &'static str,
    arrange_due: String,
    /// The on-site clock (state, class), once a window is agreed.
    on_site_clock: Option<(String, &'static str)>,
    accept_due: String,
    fault_code: String,
    cause: String,
    work_done: String,
    labour: String,
    version: i64,
    on_site: bool,
}

#[derive(Template)]
#[template(path = "work_order.html")]
struct WorkOrderPage {
    c: Chrome,
    w: Detail,
    /// (action, label, needs a reason)
    actions: Vec<(&'static str, String, bool)>,
    fields: Vec<&'static str>,
    stations: Vec<Candidate>,
    engineers: Vec<Candidate>,
    excluded: Vec<Candidate>,
    /// How many stations do not cover the visit's region (said, not listed).
    outside: i64,
    events: Vec<(String, String, String, String)>,
    parts: Vec<String>,
    /// (id, purpose, file name)
    files: Vec<(i64, String, String)>,
    /// The warehouses a part may be taken from (id, code and name): the caller's stations'.
    warehouses: Vec<(i64, String)>,
    has_signature: bool,
    /// The report can be downloaded (from check-in on).
    report: bool,
    /// Its warranty card (id, number, status in words), and whether the caller may file it now.
    card: Option<(i64, String, String)>,
    may_file_card: bool,
    error: Option<String>,
}

async fn work_order_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/work-orders/{id}");
    let err = page_err(rc, &path);
    let d = shouhou_app::work_orders::get_work_order(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let tr = rc.tr;
    let w = &d.work_order;
    let actor = rc.ctx.actor().map_err(&err)?.clone();
    // The customer as the reader may see them (a read in clear is audited by the use case).
    let cu = shouhou_app::work_orders::customer_of(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let device = match w.device_id {
        Some(did) => match shouhou_app::devices::device_record(&s.app, &rc.ctx, did).await {
            Ok(r) => {
                let v = super::desk::device_vm(tr, &r.device);
                format!("{} · {} · {} {}", v.serial, v.model, v.warranty, v.until)
            }
            Err(AppError::NotFound) => tr.t("request-none"),
            Err(e) => return Err(err(e)),
        },
        None => tr.t("request-none"),
    };
    let (may_dispatch, may_assign) = shouhou_app::work_orders::may_dispatch(&actor, w);
    let (mut stations, mut engineers, mut excluded, mut outside) = (vec![], vec![], vec![], 0);
    if may_dispatch || may_assign {
        let rec = shouhou_app::work_orders::recommendations(&s.app, &rc.ctx, id).await.map_err(&err)?;
        if may_dispatch && w.engineer_id.is_none() {
            let names = shouhou_app::stations::station_names(&s.app, &rc.ctx, &ids(&rec.stations, |i| i.0))
                .await
                .map_err(&err)?;
            let (ranked, out) = candidates(tr, &rec.stations, |i| i.0, w.station_id, &names);
            stations = ranked;
            excluded.extend(out);
            outside = rec.stations.outside;
        }
        if may_assign {
            let names = shouhou_app::users::display_names(&s.app, &rc.ctx, &ids(&rec.engineers, |i| i.0))
                .await
                .map_err(&err)?;
            let (ranked, out) = candidates(tr, &rec.engineers, |i| i.0, w.engineer_id, &names);
            engineers = ranked;
            excluded.extend(out);
        }
    }
    let actions: Vec<(&'static str, String, bool)> = shouhou_app::work_orders::actions_for(&actor, w)
        .into_iter()
        .map(|a| (a.as_str(), tr.t(&format!("wo-action-{a}")), shouhou_domain::work_orders::Status::needs_reason(a)))
        .collect();
    let mut fields = vec![];
    for (a, _, _) in &actions {
        match *a {
            "diagnose" => fields.extend(["fault_code", "cause"]),
            "complete" => fields.extend(["work_done", "labour_minutes", "customer_confirmed"]),
            "check_in" => fields.push("location"),
            _ => {}
        }
    }
    let names = shouhou_app::stations::station_names(
        &s.app,
        &rc.ctx,
        &w.station_id.map(|s| s.0).into_iter().collect::<Vec<_>>(),
    )
    .await
    .map_err(&err)?;
    let engineer = match w.engineer_id {
        Some(u) => shouhou_app::users::display_names(&s.app, &rc.ctx, &[u.0])
            .await
            .map_err(&err)?
            .remove(&u.0)
            .unwrap_or_default(),
        None => "—".into(),
    };
    let request = match w.service_request_id {
        Some(rid) => Some((
            rid,
            shouhou_app::requests::get_request(&s.app, &rc.ctx, rid)
                .await
                .map(|r| r.request.number)
                .unwrap_or_default(),
        )),
        None => None,
    };
    let (card, may_file_card) = shouhou_app::warranty_cards::card_of(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let card = card.map(|(cid, number, st)| (cid, number, tr.t(&format!("wc-status-{st}"))));
    let address = format!("{} {}", cu.region_name, cu.address);
    let arrange_state = d.arrange.state().as_str();
    let detail = Detail {
        id: w.id,
        number: w.number.clone(),
        status: tr.t(&format!("wo-status-{}", w.status)),
        kind: tr.t(&format!("wo-kind-{}", w.kind)),
        urgency: tr.t(&format!("urgency-{}", w.urgency)),
        urgency_class: match w.urgency.as_str() {
            "urgent" => "bad",
            "high" => "warn",
            _ => "",
        },
        customer_id: cu.id,
        customer: cu.name.clone(),
        tel: (!cu.masked).then(|| cu.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()),
        phone: cu.phone.clone(),
        map: format!("https://uri.amap.com/search?keyword={}", super::urlencode(&address)),
        address,
        device,
        device_id: w.device_id,
        request,
        description: w.description.clone(),
        station: w.station_id.and_then(|s| names.get(&s.0).cloned()).unwrap_or_else(|| tr.t("wo-board-unassigned")),
        engineer,
        window: window(tr, w),
        arrange_state: tr.t(&format!("sla-{arrange_state}")),
        arrange_class: super::desk::sla_class(arrange_state),
        arrange_due: local_at(w.arrange.due_at),
        on_site_clock: d.on_site.as_ref().map(|st| {
            let state = st.state().as_str();
            (tr.t(&format!("sla-{state}")), super::desk::sla_class(state))
        }),
        accept_due: w.accept_due_at.map(local_at).unwrap_or_default(),
        fault_code: w.fault_code.clone().unwrap_or_default(),
        cause: w.cause.clone().unwrap_or_default(),
        work_done: w.work_done.clone().unwrap_or_default(),
        labour: w.labour_minutes.map(|m| tr.t1("wo-labour-minutes", "minutes", m)).unwrap_or_default(),
        version: w.version,
        on_site: matches!(w.status.as_str(), "on_site" | "working" | "waiting_parts")
            && (w.engineer_id == Some(actor.id) || actor.can(Permission::Assign)),
    };
    let events =
        d.events
            .iter()
            .map(|e| {
                let what = match (e.kind.as_str(), e.action.as_deref()) {
                    ("status", Some(a)) => tr.t(&format!("wo-action-{a}")),
                    (k, _) => tr.t(&format!("wo-event-{k}")),
                };
                let note = match e.note.as_str() {
                    "deadline_missed" | "no_engineer_left" | "no_station_left" | "declined" | "returned"
                    | "automatic" => tr.t(&format!("wo-note-{}", e.note)),
                    n => n.to_string(),
                };
                (local(e.at), e.actor_name.clone(), what, note)
            })
            .collect();
    // The shelves a part may come from: the warehouses of the caller's stations (HQ: none offered,
    // it does not fit parts on site).
    let warehouses = if rc.ctx.actor.as_ref().is_some_and(|a| !matches!(a.scope, shouhou_domain::auth::Scope::All)) {
        let page = shouhou_app::PageRequest::new(Some(1), Some(100));
        shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, None, page)
            .await
            .map(|p| {
                // The engineer's own van first; other engineers' vans are theirs.
                let mut ws: Vec<_> =
                    p.items.into_iter().filter(|w| w.active && w.engineer_id.is_none_or(|e| e == actor.id.0)).collect();
                ws.sort_by_key(|w| w.engineer_id.is_none());
                ws.into_iter().map(|w| (w.id, format!("{} {}", w.code, w.name))).collect()
            })
            .unwrap_or_default()
    } else {
        vec![]
    };
    let page = WorkOrderPage {
        warehouses,
        c: Chrome::new(rc, "wo-title", "/work-orders"),
        actions,
        fields,
        stations,
        engineers,
        excluded,
        outside,
        events,
        parts: d
            .parts
            .iter()
            .map(|p| {
                let serials = match (&p.old_serial, &p.new_serial) {
                    (Some(o), Some(n)) => format!("（{o} → {n}）"),
                    (None, Some(n)) => format!("（{n}）"),
                    _ => String::new(),
                };
                format!("{} {} × {}{serials}", p.part_code, p.part_name, p.quantity)
            })
            .collect(),
        has_signature: d.files.iter().any(|f| f.purpose == "signature"),
        report: w.checked_in_at.is_some(),
        card,
        may_file_card,
        files: d.files.iter().map(|f| (f.id, tr.t(&format!("wo-file-{}", f.purpose)), f.file_name.clone())).collect(),
        w: detail,
        error,
    };
    Ok((status, render(&page)).into_response())
}

/// The ids of a ranking's candidates, ranked and left out.
fn ids<Id: Copy>(r: &Ranking<Id>, raw: fn(Id) -> i64) -> Vec<i64> {
    r.ranked.iter().map(|c| raw(c.id)).chain(r.excluded.iter().map(|c| raw(c.id))).collect()
}

/// A ranking as the page shows it, by name with its reasons in words: the candidates (the one
/// holding the work order now left out) and those excluded.
fn candidates<Id: Copy + PartialEq>(
    tr: Tr,
    r: &Ranking<Id>,
    raw: fn(Id) -> i64,
    holder: Option<Id>,
    names: &std::collections::HashMap<i64, String>,
) -> (Vec<Candidate>, Vec<Candidate>) {
    let one = |id: Id, reasons: &[shouhou_domain::dispatch::Reason]| Candidate {
        id: raw(id),
        name: names.get(&raw(id)).cloned().unwrap_or_else(|| raw(id).to_string()),
        reasons: reasons.iter().map(|x| crate::api::work_orders::reason_words(tr, x)).collect::<Vec<_>>().join(" · "),
    };
    (
        r.ranked.iter().filter(|c| Some(c.id) != holder).map(|c| one(c.id, &c.reasons)).collect(),
        r.excluded.iter().map(|c| one(c.id, &c.reasons)).collect(),
    )
}

pub async fn work_order(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_login(&rc, &format!("/work-orders/{id}"))?;
    work_order_page(&s, &rc, id, None, StatusCode::OK).await
}

/// A command's refusal shown on the page: field errors, a stale version or an illegal step in
/// words; anything else is the error page.
async fn after(s: &AppState, rc: &ReqCtx, id: i64, r: Result<(), AppError>) -> Result<Response, PageError> {
    super::after_form(rc, r, &format!("/work-orders/{id}"), |msg, code| work_order_page(s, rc, id, Some(msg), code))
        .await
}

fn version(f: &FormData) -> i64 {
    f.get("version").parse().unwrap_or(0)
}

fn number(f: &FormData, k: &str) -> Option<f64> {
    f.get(k).trim().parse().ok()
}

pub async fn transition(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let opt = |k: &str| Some(f.get(k)).filter(|v| !v.trim().is_empty());
    let form = shouhou_app::work_orders::StepForm {
        action: f.get("action"),
        version: Some(version(&f)),
        note: opt("note"),
        lat: number(&f, "lat"),
        lng: number(&f, "lng"),
        fault_code: opt("fault_code"),
        cause: opt("cause"),
        work_done: opt("work_done"),
        labour_minutes: f.get("labour_minutes").trim().parse().ok(),
        customer_confirmed: Some(f.checked("customer_confirmed")),
    };
    let r = shouhou_app::work_orders::step(&s.app, &rc.ctx, id, version(&f), &form).await.map(|_| ());
    after(&s, &rc, id, r).await
}

pub async fn dispatch(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let station = f.get("station_id").parse().unwrap_or(0);
    let r = shouhou_app::work_orders::dispatch(&s.app, &rc.ctx, id, version(&f), station).await.map(|_| ());
    after(&s, &rc, id, r).await
}

pub async fn assign(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let engineer = f.get("engineer_id").parse().unwrap_or(0);
    let r = shouhou_app::work_orders::assign(&s.app, &rc.ctx, id, version(&f), engineer).await.map(|_| ());
    after(&s, &rc, id, r).await
}

pub async fn add_part(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let opt = |k: &str| Some(f.get(k)).filter(|v| !v.trim().is_empty());
    let form = shouhou_app::work_orders::PartForm {
        part_code: f.get("part_code"),
        part_name: f.get("part_name"),
        quantity: f.get("quantity").trim().parse().unwrap_or(0),
        old_serial: opt("old_serial"),
        new_serial: opt("new_serial"),
        warehouse_id: opt("warehouse_id").and_then(|w| w.trim().parse().ok()),
    };
    let r = shouhou_app::work_orders::add_part(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    after(&s, &rc, id, r).await
}

/// A photo or the signature from the page: a multipart form with the session's CSRF token, the
/// purpose and the file (the browser has already shrunk a photo).
pub async fn upload(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let (mut csrf, mut purpose, mut file, mut taken_at) = (String::new(), String::new(), None, String::new());
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("_csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("purpose") => purpose = field.text().await.unwrap_or_default(),
            Some("taken_at") => taken_at = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name =
                    crate::json::upload_file_name(field.file_name().unwrap_or("")).unwrap_or_else(|_| "file".into());
                match field.bytes().await {
                    Ok(b) => file = Some((name, b.to_vec())),
                    Err(_) => {
                        return after(
                            &s,
                            &rc,
                            id,
                            Err(shouhou_domain::ValidationErrors::single("file", "required").into()),
                        )
                        .await;
                    }
                }
            }
            _ => {}
        }
    }
    let form = FormData(vec![("_csrf".into(), csrf)]);
    if let Err(r) = super::check_csrf(&rc, &headers, &form) {
        return Ok(r);
    }
    let Some((name, bytes)) = file else {
        return after(&s, &rc, id, Err(shouhou_domain::ValidationErrors::single("file", "required").into())).await;
    };
    let r = shouhou_app::work_orders::add_file(&s.app, &rc.ctx, id, &purpose, &name, &bytes, Some(&taken_at))
        .await
        .map(|_| ());
    if headers.get("x-requested-with").is_some_and(|v| v == "fetch") {
        // The signature pad sends it by fetch: an answer it can read, not a page.
        return Ok(match r {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
        });
    }
    after(&s, &rc, id, r).await
}

/// A photo or signature of a visit, as a download.
pub async fn download(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_login(&rc, "/work-orders")?;
    let (meta, bytes) =
        shouhou_app::work_orders::get_file(&s.app, &rc.ctx, id).await.map_err(page_err(&rc, "/work-orders"))?;
    Ok(crate::api::attachments::download(&meta.file_name, &meta.content_type, bytes))
}

/// A new work order from the request page.
pub async fn create(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let request = f.get("service_request_id").parse().ok();
    let form = shouhou_app::work_orders::WorkOrderForm {
        service_request_id: request,
        kind: f.get("kind"),
        ..Default::default()
    };
    let back = format!("/requests/{}", request.unwrap_or(0));
    match shouhou_app::work_orders::create_work_order(&s.app, &rc.ctx, &form).await {
        Ok(c) => Ok(Redirect::to(&format!("/work-orders/{}", c.id)).into_response()),
        Err(e) => Err(page_err(&rc, &back)(e)),
    }
}

/// The service report from the work order's page.
pub async fn report(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    let path = format!("/work-orders/{id}");
    require_login(&rc, &path)?;
    match shouhou_app::work_orders::report(&s.app, &rc.ctx, id).await {
        Ok((name, pdf)) => Ok(crate::api::attachments::download(&name, "application/pdf", pdf)),
        Err(e @ AppError::Validation(_)) => after(&s, &rc, id, Err(e)).await,
        Err(e) => Err(page_err(&rc, &path)(e)),
    }
}
