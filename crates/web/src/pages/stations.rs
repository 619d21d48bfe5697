//! Service station pages: list, one station, create, edit.
use super::{Chrome, CsrfForm, FormData, PageError, Pager, page_err, render, require_login, urlencode};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::pages::shared::ListQuery;
use crate::pages::shared::can;
use crate::pages::shared::form_errors;
use crate::pages::shared::{InputField, RegionPicker, region_of};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shouhou_app::stations::StationForm;
use shouhou_app::{AppError, PageRequest};
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::StationId;
use shouhou_domain::regions::region_name;

// ---------- stations ----------

pub struct StationRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region: String,
    pub region_code: String,
    pub address: String,
    pub phone: String,
    pub active: bool,
}

impl From<shouhou_app::stations::Station> for StationRow {
    fn from(s: shouhou_app::stations::Station) -> Self {
        StationRow {
            id: s.id,
            region: region_name(&s.region_code),
            region_code: s.region_code,
            code: s.code,
            name: s.name,
            address: s.address,
            phone: s.phone.unwrap_or_default(),
            active: s.active,
        }
    }
}

#[derive(Template)]
#[template(path = "stations.html")]
struct StationsPage {
    c: Chrome,
    q: String,
    rows: Vec<StationRow>,
    pager: Pager,
    can_write: bool,
}

pub async fn stations(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    require_login(&rc, "/stations")?;
    let text = q.q.clone().unwrap_or_default();
    let p = shouhou_app::stations::list_stations(&s.app, &rc.ctx, Some(&text), PageRequest::new(q.page, None))
        .await
        .map_err(page_err(&rc, "/stations"))?;
    let pager = Pager::new(rc.tr, "/stations", &format!("&q={}", urlencode(&text)), &p);
    let page = StationsPage {
        c: Chrome::new(&rc, "stations-title", "/stations"),
        q: text,
        rows: p.items.into_iter().map(StationRow::from).collect(),
        pager,
        can_write: can(&rc, Permission::StationWrite),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "station_detail.html")]
struct StationPage {
    c: Chrome,
    s: StationRow,
    warehouses: Vec<(String, String)>,
    members: Vec<(String, String)>,
    can_write: bool,
    /// The regions the station covers: (code, name).
    coverage: Vec<(String, String)>,
    /// The picker to add one (administrators).
    picker: Option<RegionPicker>,
}

pub async fn station(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    let path = format!("/stations/{id}");
    require_login(&rc, &path)?;
    let err = page_err(&rc, "/stations");
    let st = shouhou_app::stations::get_station(&s.app, &rc.ctx, StationId(id)).await.map_err(&err)?;
    let mut warehouses = vec![];
    if can(&rc, Permission::WarehouseRead) {
        let p = shouhou_app::warehouses::list_warehouses(
            &s.app,
            &rc.ctx,
            Some(StationId(id)),
            PageRequest::new(Some(1), Some(100)),
        )
        .await
        .map_err(&err)?;
        warehouses = p.items.into_iter().map(|w| (w.code, w.name)).collect();
    }
    let mut members = vec![];
    if can(&rc, Permission::UserRead) {
        let p = shouhou_app::users::list_users(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
            .await
            .map_err(&err)?;
        members = p
            .items
            .into_iter()
            .filter(|u| u.stations.contains(&StationId(id)))
            .map(|u| {
                let roles =
                    u.roles.iter().map(|r| rc.tr.t(&format!("role-{}", r.as_str()))).collect::<Vec<_>>().join("、");
                (u.display_name, roles)
            })
            .collect();
    }
    let coverage = shouhou_app::work_orders::coverage_of(&s.app, &rc.ctx, id)
        .await
        .map_err(&err)?
        .into_iter()
        .map(|c| (shouhou_domain::regions::region_name(&c), c))
        .map(|(n, c)| (c, n))
        .collect();
    let can_write = can(&rc, Permission::StationWrite);
    let page = StationPage {
        c: Chrome::new(&rc, "stations-title", "/stations"),
        s: st.into(),
        warehouses,
        members,
        can_write,
        coverage,
        picker: can_write.then(|| RegionPicker::new(rc.tr, "")),
    };
    Ok(render(&page))
}

/// Add the region chosen in the picker to a station's coverage, or take one off (`remove`).
pub async fn update_coverage(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let path = format!("/stations/{id}");
    let err = page_err(&rc, &path);
    let mut codes = shouhou_app::work_orders::coverage_of(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let remove = f.get("remove");
    if remove.is_empty() {
        let chosen = region_of(&f, "region_code");
        if chosen.trim().is_empty() {
            return Ok(Redirect::to(&path).into_response());
        }
        codes.push(chosen);
    } else {
        codes.retain(|c| *c != remove);
    }
    shouhou_app::work_orders::set_coverage(&s.app, &rc.ctx, id, &codes).await.map_err(&err)?;
    Ok(Redirect::to(&path).into_response())
}

#[derive(Template)]
#[template(path = "station_form.html")]
struct StationFormPage {
    c: Chrome,
    heading: String,
    action: String,
    cancel: String,
    version: i64,
    fields: Vec<InputField>,
    show_active: bool,
    active: bool,
    error: Option<String>,
}

fn station_fields(rc: &ReqCtx, f: &StationForm, errors: &[(String, String)]) -> Vec<InputField> {
    let tr = rc.tr;
    let field = |name: &'static str, key: &str, value: &str, required: bool| InputField {
        name,
        label: rc.tr.t(key),
        value: value.to_string(),
        error: errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.clone()),
        required,
        kind: "text",
        readonly: false,
        region: (name == "region_code").then(|| RegionPicker::new(tr, value)),
    };
    vec![
        field("code", "station-code", &f.code, true),
        field("name", "station-name", &f.name, true),
        field("region_code", "station-region-code", &f.region_code, true),
        field("address", "station-address", &f.address, true),
        field("phone", "station-phone", f.phone.as_deref().unwrap_or(""), false),
    ]
}

#[allow(clippy::too_many_arguments)]
fn station_form_page(
    rc: &ReqCtx,
    heading: &str,
    action: String,
    cancel: String,
    version: i64,
    form: &StationForm,
    active: Option<bool>,
    errors: &[(String, String)],
) -> Response {
    let page = StationFormPage {
        c: Chrome::new(rc, heading, "/stations"),
        heading: rc.tr.t(heading),
        action,
        cancel,
        version,
        fields: station_fields(rc, form, errors),
        show_active: active.is_some(),
        active: active.unwrap_or(true),
        error: (!errors.is_empty()).then(|| rc.tr.t("error-validation")),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, render(&page)).into_response()
}

fn station_form_from(f: &FormData) -> StationForm {
    StationForm {
        code: f.get("code"),
        name: f.get("name"),
        region_code: region_of(f, "region_code"),
        address: f.get("address"),
        phone: Some(f.get("phone")),
    }
}

pub async fn new_station(rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/stations/new")?;
    if !can(&rc, Permission::StationWrite) {
        return Err(page_err(&rc, "/stations/new")(AppError::Forbidden));
    }
    Ok(station_form_page(
        &rc,
        "stations-new",
        "/stations".into(),
        "/stations".into(),
        0,
        &StationForm::default(),
        None,
        &[],
    ))
}

pub async fn create_station(
    State(s): State<AppState>,
    rc: ReqCtx,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = station_form_from(&f);
    match shouhou_app::stations::create_station(&s.app, &rc.ctx, &form).await {
        Ok(id) => Ok(Redirect::to(&format!("/stations/{id}")).into_response()),
        Err(e) => {
            let errs = form_errors(&rc, "/stations/new", e)?;
            Ok(station_form_page(&rc, "stations-new", "/stations".into(), "/stations".into(), 0, &form, None, &errs))
        }
    }
}

pub async fn edit_station(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    let path = format!("/stations/{id}/edit");
    require_login(&rc, &path)?;
    let err = page_err(&rc, &path);
    // A station outside the caller's scope is not found, whatever their rights: a 403 would say it exists.
    let st = shouhou_app::stations::get_station(&s.app, &rc.ctx, StationId(id)).await.map_err(&err)?;
    if !can(&rc, Permission::StationWrite) {
        return Err(err(AppError::Forbidden));
    }
    let form =
        StationForm { code: st.code, name: st.name, region_code: st.region_code, address: st.address, phone: st.phone };
    Ok(station_form_page(
        &rc,
        "stations-edit",
        format!("/stations/{id}"),
        format!("/stations/{id}"),
        st.version,
        &form,
        Some(st.active),
        &[],
    ))
}

pub async fn update_station(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = station_form_from(&f);
    let version = f.get("version").parse().unwrap_or(0);
    let active = f.checked("active");
    match shouhou_app::stations::update_station(&s.app, &rc.ctx, StationId(id), version, &form, active).await {
        Ok(_) => Ok(Redirect::to(&format!("/stations/{id}")).into_response()),
        Err(e) => {
            let errs = form_errors(&rc, &format!("/stations/{id}/edit"), e)?;
            Ok(station_form_page(
                &rc,
                "stations-edit",
                format!("/stations/{id}"),
                format!("/stations/{id}"),
                version,
                &form,
                Some(active),
                &errs,
            ))
        }
    }
}
