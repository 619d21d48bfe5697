//! Warehouse pages.
use super::{Chrome, CsrfForm, PageError, Pager, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::pages::shared::ListQuery;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shouhou_app::AppError;
use shouhou_app::PageRequest;
use shouhou_domain::regions::region_name;

// ---------- warehouses ----------

pub struct WarehouseRow {
    pub code: String,
    pub name: String,
    pub station: String,
    pub region: String,
}

#[derive(Template)]
#[template(path = "warehouses.html")]
struct WarehousesPage {
    c: Chrome,
    rows: Vec<WarehouseRow>,
    pager: Pager,
    /// The spare parts in these warehouses (a part code narrows it).
    stock: Vec<shouhou_app::parts::StockView>,
    part: String,
    /// 三包配件申请 of the caller's stations, open ones first.
    applications: Vec<ApplicationRow>,
    /// The caller may apply: the warehouses of their stations (id, code and name).
    apply_to: Vec<(i64, String)>,
    /// Count sheets: (id, number, warehouse, status in words, made).
    stocktakes: Vec<(i64, String, String, String, String)>,
    /// The warehouses the caller may count (StockWrite).
    count_in: Vec<(i64, String)>,
    /// The outcome of a catalog import just done.
    report: Option<super::customers::ReportVm>,
    can_import_parts: bool,
    error: Option<String>,
}

pub struct ApplicationRow {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub status_class: &'static str,
    pub warehouse: String,
    pub lines: String,
    pub amount: String,
    pub reason: String,
    pub note: String,
    pub version: i64,
    pub decisions: Vec<(&'static str, String)>,
}

pub async fn warehouses(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    page(&s, &rc, q, None, StatusCode::OK).await
}

async fn page(
    s: &AppState,
    rc: &ReqCtx,
    q: ListQuery,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    page_with(s, rc, q, error, None, code).await
}

async fn page_with(
    s: &AppState,
    rc: &ReqCtx,
    q: ListQuery,
    error: Option<String>,
    report: Option<super::customers::ReportVm>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let rc = rc.clone();
    require_login(&rc, "/warehouses")?;
    let err = page_err(&rc, "/warehouses");
    let p = shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, None, PageRequest::new(q.page, None))
        .await
        .map_err(&err)?;
    let stations = shouhou_app::stations::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
        .await
        .map_err(&err)?
        .items;
    let pager = Pager::new(rc.tr, "/warehouses", "", &p);
    let rows = p
        .items
        .into_iter()
        .map(|w| WarehouseRow {
            station: match w.station_id {
                None => rc.tr.t("warehouse-central"),
                Some(id) => {
                    stations.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_else(|| id.to_string())
                }
            },
            region: region_name(&w.region_code),
            code: w.code,
            name: w.name,
        })
        .collect();
    let part = q.q.clone().unwrap_or_default();
    let stock = shouhou_app::parts::stock(&s.app, &rc.ctx, None, Some(&part), false).await.map_err(&err)?;
    let tr = rc.tr;
    let mut applications = vec![];
    for d in shouhou_app::part_applications::list_detailed(&s.app, &rc.ctx, 50).await.map_err(&err)? {
        let a = &d.application;
        applications.push(ApplicationRow {
            id: a.id,
            status: tr.t(&format!("pa-status-{}", a.status)),
            status_class: match a.status.as_str() {
                "approved" => "ok",
                "rejected" => "bad",
                "station_approved" => "warn",
                _ => "",
            },
            warehouse: a.warehouse_code.clone(),
            lines: d
                .lines
                .iter()
                .map(|l| {
                    format!("{} {} × {}", l.part_code, l.part_name, shouhou_domain::parts::format_milli(l.quantity))
                })
                .collect::<Vec<_>>()
                .join("；"),
            amount: super::warranty_cards::yuan(a.amount_fen),
            reason: a.reason.clone(),
            note: a.decision_note.clone(),
            version: a.version,
            decisions: d.decisions.iter().map(|x| (x.as_str(), tr.t(&format!("pa-decision-{}", x.as_str())))).collect(),
            number: a.number.clone(),
        });
    }
    let actor = rc.ctx.actor().map_err(&err)?.clone();
    let apply_to = if actor.can(shouhou_domain::auth::Permission::PartsApply) {
        shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
            .await
            .map_err(&err)?
            .items
            .into_iter()
            .filter(|w| {
                w.station_id.is_some_and(|st| actor.stations.iter().any(|a| a.0 == st))
                    || (actor.stations.is_empty() && w.station_id.is_some())
            })
            .map(|w| (w.id, format!("{} {}", w.code, w.name)))
            .collect()
    } else {
        vec![]
    };
    let stocktakes = shouhou_app::stocktakes::list(&s.app, &rc.ctx, None)
        .await
        .map_err(&err)?
        .into_iter()
        .take(20)
        .map(|x| {
            let made =
                crate::api::Instant::from_ms(x.created_at).map(|i| i.to_string()[..10].to_string()).unwrap_or_default();
            (x.id, x.number, x.warehouse_code, tr.t(&format!("st-status-{}", x.status)), made)
        })
        .collect();
    let count_in = if actor.can(shouhou_domain::auth::Permission::StockWrite) {
        shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
            .await
            .map_err(&err)?
            .items
            .into_iter()
            .filter(|w| w.active)
            .map(|w| (w.id, format!("{} {}", w.code, w.name)))
            .collect()
    } else {
        vec![]
    };
    let page = WarehousesPage {
        report,
        can_import_parts: actor.can(shouhou_domain::auth::Permission::PartsWrite),
        stocktakes,
        count_in,
        c: Chrome::new(&rc, "warehouses-title", "/warehouses"),
        rows,
        pager,
        stock,
        part,
        applications,
        apply_to,
        error,
    };
    Ok((code, render(&page)).into_response())
}

/// Apply for warranty parts (one line from the page).
pub async fn apply(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let quantity = f.get("quantity").trim().parse::<serde_json::Number>().unwrap_or_else(|_| 0.into());
    let form = shouhou_app::part_applications::ApplicationForm {
        warehouse_id: f.get("warehouse_id").trim().parse().unwrap_or(0),
        work_order_id: f.get("work_order_id").trim().parse().ok(),
        reason: f.get("reason"),
        lines: vec![shouhou_app::part_applications::LineForm { part_code: f.get("part_code"), quantity }],
    };
    let r = shouhou_app::part_applications::apply(&s.app, &rc.ctx, &form).await.map(|_| ());
    after(&s, &rc, r).await
}

pub async fn decide(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let version = f.get("version").parse().unwrap_or(0);
    let form = shouhou_app::part_applications::DecisionForm {
        decision: f.get("decision"),
        reason: Some(f.get("reason")),
        version: Some(version),
    };
    let r = shouhou_app::part_applications::decide(&s.app, &rc.ctx, id, version, &form).await.map(|_| ());
    after(&s, &rc, r).await
}

async fn after(s: &AppState, rc: &ReqCtx, r: Result<(), AppError>) -> Result<Response, PageError> {
    super::after_form(rc, r, "/warehouses#applications", |msg, code| page(s, rc, ListQuery::default(), Some(msg), code))
        .await
}

#[derive(serde::Deserialize, Default)]
pub struct ExportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn export_stock(State(s): State<AppState>, rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/warehouses")?;
    let bytes =
        shouhou_app::parts::export_stock_xlsx(&s.app, &rc.ctx, None).await.map_err(page_err(&rc, "/warehouses"))?;
    Ok(super::customers::xlsx("stock.xlsx", bytes))
}

pub async fn export_movements(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<ExportQuery>,
) -> Result<Response, PageError> {
    require_login(&rc, "/warehouses")?;
    let bytes = shouhou_app::parts::export_movements_xlsx(&s.app, &rc.ctx, None, q.from.as_deref(), q.to.as_deref())
        .await
        .map_err(page_err(&rc, "/warehouses"))?;
    Ok(super::customers::xlsx("stock-movements.xlsx", bytes))
}

/// Import the parts catalog from the page (a multipart form with the session's CSRF token).
pub async fn import_parts(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: axum::http::HeaderMap,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let (mut csrf, mut file) = (String::new(), None::<(String, Vec<u8>)>);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("_csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                file = field.bytes().await.ok().map(|b| (name, b.to_vec()));
            }
            _ => {}
        }
    }
    if let Err(r) = super::check_csrf(&rc, &headers, &super::FormData(vec![("_csrf".into(), csrf)])) {
        return Ok(r);
    }
    let err = page_err(&rc, "/warehouses");
    let (name, bytes) = file.unwrap_or_default();
    let table = match shouhou_app::sheets::read_upload(name, bytes).await {
        Err(AppError::Validation(v)) => {
            let msg = super::joined_messages(rc.tr, &v.0);
            return page(&s, &rc, ListQuery::default(), Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        other => other.map_err(&err)?,
    };
    let r = shouhou_app::imports::import_parts(&s.app, &rc.ctx, &table).await.map_err(&err)?;
    let status = if r.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let vm = super::customers::report_vm(rc.tr, &r);
    page_with(&s, &rc, ListQuery::default(), None, Some(vm), status).await
}
