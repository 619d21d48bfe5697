//! Recall pages: the campaigns (and a new one), a campaign's progress per station and its devices.
use super::{Chrome, CsrfForm, PageError, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shouhou_app::AppError;
use shouhou_domain::auth::Permission;

fn when(ms: i64) -> String {
    crate::api::Instant::from_ms(ms).map(|i| i.to_string()[..16].replace('T', " ")).unwrap_or_default()
}

pub struct RecallRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub model_code: String,
    pub device_count: i64,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "recalls.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<RecallRow>,
    may_create: bool,
    /// The form as typed, when it was refused.
    form: [String; 5],
    error: Option<String>,
}

pub async fn list(State(s): State<AppState>, rc: ReqCtx) -> Result<Response, PageError> {
    list_page(&s, &rc, Default::default(), None, StatusCode::OK).await
}

async fn list_page(
    s: &AppState,
    rc: &ReqCtx,
    form: [String; 5],
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    require_login(rc, "/recalls")?;
    let err = page_err(rc, "/recalls");
    let actor = rc.ctx.actor().map_err(&err)?.clone();
    let rows = shouhou_app::recalls::list_recalls(&s.app, &rc.ctx)
        .await
        .map_err(&err)?
        .into_iter()
        .map(|r| RecallRow {
            id: r.id,
            number: r.number,
            name: r.name,
            model_code: r.model_code,
            device_count: r.device_count,
            created_at: when(r.created_at),
        })
        .collect();
    let page = ListPage {
        c: Chrome::new(rc, "rc-title", "/recalls"),
        rows,
        may_create: actor.can(Permission::WarrantyAudit),
        form,
        error,
    };
    Ok((code, render(&page)).into_response())
}

pub async fn create(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let form = shouhou_app::recalls::RecallForm {
        name: f.get("name"),
        model_code: f.get("model_code"),
        serial_from: f.get("serial_from"),
        serial_to: f.get("serial_to"),
        reason: Some(f.get("reason")),
    };
    match shouhou_app::recalls::create_recall(&s.app, &rc.ctx, &form).await {
        Ok(d) => Ok(Redirect::to(&format!("/recalls/{}", d.recall.id)).into_response()),
        Err(AppError::Validation(v)) => {
            let msg = super::joined_messages(rc.tr, &v.0);
            let typed = [form.name, form.model_code, form.serial_from, form.serial_to, form.reason.unwrap_or_default()];
            list_page(&s, &rc, typed, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(page_err(&rc, "/recalls")(e)),
    }
}

pub struct StationRow {
    pub name: String,
    pub total: i64,
    pub done: i64,
    pub scheduled: i64,
    pub contacted: i64,
    pub unreachable: i64,
    pub pending: i64,
    /// Done, in percent.
    pub percent: i64,
}

pub struct DeviceRow {
    pub device_id: i64,
    pub serial: String,
    pub station: String,
    pub state: String,
    pub state_label: String,
    pub work_order: Option<(i64, String)>,
    pub note: String,
    pub updated_at: String,
}

#[derive(Template)]
#[template(path = "recall.html")]
struct RecallPage {
    c: Chrome,
    r: shouhou_app::recalls::Recall,
    overall: StationRow,
    stations: Vec<StationRow>,
    devices: Vec<DeviceRow>,
    may_write: bool,
    error: Option<String>,
}

fn station_row(name: String, p: &shouhou_app::recalls::Progress) -> StationRow {
    StationRow {
        name,
        total: p.total,
        done: p.done,
        scheduled: p.scheduled,
        contacted: p.contacted,
        unreachable: p.unreachable,
        pending: p.pending,
        percent: if p.total > 0 { p.done * 100 / p.total } else { 0 },
    }
}

pub async fn recall(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    recall_page(&s, &rc, id, None, StatusCode::OK).await
}

async fn recall_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/recalls/{id}");
    require_login(rc, &path)?;
    let err = page_err(rc, &path);
    let tr = rc.tr;
    let actor = rc.ctx.actor().map_err(&err)?.clone();
    let d = shouhou_app::recalls::get_recall(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let devices = shouhou_app::recalls::devices(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let mut ids: Vec<i64> = d.stations.iter().filter_map(|p| p.station_id).collect();
    ids.extend(devices.iter().filter_map(|x| x.station_id));
    ids.sort_unstable();
    ids.dedup();
    let names = shouhou_app::stations::station_names(&s.app, &rc.ctx, &ids).await.map_err(&err)?;
    let name_of = |s: Option<i64>| match s {
        Some(s) => names.get(&s).cloned().unwrap_or_else(|| s.to_string()),
        None => tr.t("rc-no-station"),
    };
    let page = RecallPage {
        c: Chrome::new(rc, "rc-title", "/recalls"),
        overall: station_row(tr.t("rc-overall"), &d.overall),
        stations: d.stations.iter().map(|p| station_row(name_of(p.station_id), p)).collect(),
        devices: devices
            .iter()
            .map(|x| DeviceRow {
                device_id: x.device_id,
                serial: x.serial_number.clone(),
                station: name_of(x.station_id),
                state: x.state.clone(),
                state_label: tr.t(&format!("rc-state-{}", x.state)),
                work_order: x.work_order_id.zip(x.work_order_number.clone()),
                note: x.note.clone(),
                updated_at: when(x.updated_at),
            })
            .collect(),
        may_write: actor.can(Permission::WorkOrderWrite),
        r: d.recall,
        error,
    };
    Ok((code, render(&page)).into_response())
}

async fn after(s: &AppState, rc: &ReqCtx, id: i64, r: Result<(), AppError>) -> Result<Response, PageError> {
    super::after_form(rc, r, &format!("/recalls/{id}"), |msg, code| recall_page(s, rc, id, Some(msg), code)).await
}

pub async fn record_state(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path((id, device)): Path<(i64, i64)>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = shouhou_app::recalls::StateForm { state: f.get("state"), note: Some(f.get("note")) };
    let r = shouhou_app::recalls::record_state(&s.app, &rc.ctx, id, device, &form).await.map(|_| ());
    after(&s, &rc, id, r).await
}

pub async fn make_work_orders(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm,
) -> Result<Response, PageError> {
    let r = shouhou_app::recalls::make_work_orders(&s.app, &rc.ctx, id).await.map(|_| ());
    after(&s, &rc, id, r).await
}

pub async fn export(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    let path = format!("/recalls/{id}");
    require_login(&rc, &path)?;
    let bytes = shouhou_app::recalls::export_xlsx(&s.app, &rc.ctx, id).await.map_err(page_err(&rc, &path))?;
    Ok(super::customers::xlsx(&format!("recall-{id}.xlsx"), bytes))
}
