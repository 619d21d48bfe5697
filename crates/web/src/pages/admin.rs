//! Administration pages: stations, warehouses, users, the audit trail.
use super::{Chrome, CsrfForm, FormData, PageError, Pager, field_messages, page_err, render, require_login, urlencode};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::org::StationForm;
use shouhou_app::users::{UserChange, UserForm};
use shouhou_app::{AppError, PageRequest};
use shouhou_domain::audit::ChainBreak;
use shouhou_domain::auth::{Permission, Role};
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::region::region_name;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<u32>,
}

fn can(rc: &ReqCtx, p: Permission) -> bool {
    rc.ctx.actor.as_ref().is_some_and(|a| a.can(p))
}

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

impl From<shouhou_store::org::Station> for StationRow {
    fn from(s: shouhou_store::org::Station) -> Self {
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

pub async fn stations(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Response {
    if let Err(e) = require_login(&rc, "/stations") {
        return e.into_response();
    }
    let text = q.q.clone().unwrap_or_default();
    match shouhou_app::org::list_stations(&s.app, &rc.ctx, Some(&text), PageRequest::new(q.page, None)).await {
        Ok(p) => {
            let pager = Pager::new(rc.tr, "/stations", &format!("&q={}", urlencode(&text)), &p);
            let page = StationsPage {
                c: Chrome::new(&rc, "stations-title", "/stations"),
                q: text,
                rows: p.items.into_iter().map(StationRow::from).collect(),
                pager,
                can_write: can(&rc, Permission::StationWrite),
            };
            render(&page)
        }
        Err(e) => page_err(&rc, "/stations")(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "station_detail.html")]
struct StationPage {
    c: Chrome,
    s: StationRow,
    warehouses: Vec<(String, String)>,
    members: Vec<(String, String)>,
    can_write: bool,
}

pub async fn station(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Response {
    let path = format!("/stations/{id}");
    if let Err(e) = require_login(&rc, &path) {
        return e.into_response();
    }
    let err = page_err(&rc, "/stations");
    let st = match shouhou_app::org::get_station(&s.app, &rc.ctx, StationId(id)).await {
        Ok(st) => st,
        Err(e) => return err(e).into_response(),
    };
    let mut warehouses = vec![];
    if can(&rc, Permission::WarehouseRead) {
        match shouhou_app::org::list_warehouses(
            &s.app,
            &rc.ctx,
            Some(StationId(id)),
            PageRequest::new(Some(1), Some(100)),
        )
        .await
        {
            Ok(p) => warehouses = p.items.into_iter().map(|w| (w.code, w.name)).collect(),
            Err(e) => return err(e).into_response(),
        }
    }
    let mut members = vec![];
    if can(&rc, Permission::UserRead) {
        match shouhou_app::users::list_users(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100))).await {
            Ok(p) => {
                members = p
                    .items
                    .into_iter()
                    .filter(|u| u.stations.contains(&StationId(id)))
                    .map(|u| {
                        let roles = u
                            .roles
                            .iter()
                            .map(|r| rc.tr.t(&format!("role-{}", r.as_str())))
                            .collect::<Vec<_>>()
                            .join("、");
                        (u.display_name, roles)
                    })
                    .collect()
            }
            Err(e) => return err(e).into_response(),
        }
    }
    let page = StationPage {
        c: Chrome::new(&rc, "stations-title", "/stations"),
        s: st.into(),
        warehouses,
        members,
        can_write: can(&rc, Permission::StationWrite),
    };
    render(&page)
}

pub struct InputField {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub kind: &'static str,
    pub readonly: bool,
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
    let field = |name: &'static str, key: &str, value: &str, required: bool| InputField {
        name,
        label: rc.tr.t(key),
        value: value.to_string(),
        error: errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.clone()),
        required,
        kind: "text",
        readonly: false,
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
        region_code: f.get("region_code"),
        address: f.get("address"),
        phone: Some(f.get("phone")),
    }
}

/// Field errors of a failed command, or the page answering a failure that is not about fields.
fn form_errors(rc: &ReqCtx, path: &str, e: AppError) -> Result<Vec<(String, String)>, Response> {
    match e {
        AppError::Validation(v) => Ok(field_messages(rc.tr, &v.0)),
        AppError::Duplicate { field } => Ok(vec![(field.clone(), rc.tr.field_error(&field, "already_exists"))]),
        other => Err(PageError { err: other, rc: rc.clone(), path: path.to_string() }.into_response()),
    }
}

pub async fn new_station(rc: ReqCtx) -> Response {
    if let Err(e) = require_login(&rc, "/stations/new") {
        return e.into_response();
    }
    if !can(&rc, Permission::StationWrite) {
        return page_err(&rc, "/stations/new")(AppError::Forbidden).into_response();
    }
    station_form_page(
        &rc,
        "stations-new",
        "/stations".into(),
        "/stations".into(),
        0,
        &StationForm::default(),
        None,
        &[],
    )
}

pub async fn create_station(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Response {
    let form = station_form_from(&f);
    match shouhou_app::org::create_station(&s.app, &rc.ctx, &form).await {
        Ok(id) => Redirect::to(&format!("/stations/{id}")).into_response(),
        Err(e) => match form_errors(&rc, "/stations/new", e) {
            Ok(errs) => {
                station_form_page(&rc, "stations-new", "/stations".into(), "/stations".into(), 0, &form, None, &errs)
            }
            Err(r) => r,
        },
    }
}

pub async fn edit_station(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Response {
    let path = format!("/stations/{id}/edit");
    if let Err(e) = require_login(&rc, &path) {
        return e.into_response();
    }
    // A station outside the caller's scope is not found, whatever their rights: a 403 would say it exists.
    match shouhou_app::org::get_station(&s.app, &rc.ctx, StationId(id)).await {
        Ok(_) if !can(&rc, Permission::StationWrite) => page_err(&rc, &path)(AppError::Forbidden).into_response(),
        Ok(st) => {
            let form = StationForm {
                code: st.code,
                name: st.name,
                region_code: st.region_code,
                address: st.address,
                phone: st.phone,
            };
            station_form_page(
                &rc,
                "stations-edit",
                format!("/stations/{id}"),
                format!("/stations/{id}"),
                st.version,
                &form,
                Some(st.active),
                &[],
            )
        }
        Err(e) => page_err(&rc, &path)(e).into_response(),
    }
}

pub async fn update_station(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Response {
    let form = station_form_from(&f);
    let version = f.get("version").parse().unwrap_or(0);
    let active = f.checked("active");
    match shouhou_app::org::update_station(&s.app, &rc.ctx, StationId(id), version, &form, active).await {
        Ok(_) => Redirect::to(&format!("/stations/{id}")).into_response(),
        Err(e) => match form_errors(&rc, &format!("/stations/{id}/edit"), e) {
            Ok(errs) => station_form_page(
                &rc,
                "stations-edit",
                format!("/stations/{id}"),
                format!("/stations/{id}"),
                version,
                &form,
                Some(active),
                &errs,
            ),
            Err(r) => r,
        },
    }
}

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
}

pub async fn warehouses(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Response {
    if let Err(e) = require_login(&rc, "/warehouses") {
        return e.into_response();
    }
    let err = page_err(&rc, "/warehouses");
    let p = match shouhou_app::org::list_warehouses(&s.app, &rc.ctx, None, PageRequest::new(q.page, None)).await {
        Ok(p) => p,
        Err(e) => return err(e).into_response(),
    };
    let stations =
        match shouhou_app::org::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100))).await {
            Ok(p) => p.items,
            Err(e) => return err(e).into_response(),
        };
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
    render(&WarehousesPage { c: Chrome::new(&rc, "warehouses-title", "/warehouses"), rows, pager })
}

// ---------- users ----------

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub stations: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    q: String,
    rows: Vec<UserRow>,
    pager: Pager,
    can_write: bool,
}

pub async fn users(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Response {
    if let Err(e) = require_login(&rc, "/users") {
        return e.into_response();
    }
    let err = page_err(&rc, "/users");
    let text = q.q.clone().unwrap_or_default();
    let p = match shouhou_app::users::list_users(&s.app, &rc.ctx, Some(&text), PageRequest::new(q.page, None)).await {
        Ok(p) => p,
        Err(e) => return err(e).into_response(),
    };
    let stations =
        match shouhou_app::org::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100))).await {
            Ok(p) => p.items,
            Err(e) => return err(e).into_response(),
        };
    let pager = Pager::new(rc.tr, "/users", &format!("&q={}", urlencode(&text)), &p);
    let rows = p
        .items
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            roles: u.roles.iter().map(|r| rc.tr.t(&format!("role-{}", r.as_str()))).collect(),
            stations: u
                .stations
                .iter()
                .map(|id| {
                    stations.iter().find(|s| s.id == id.0).map(|s| s.code.clone()).unwrap_or_else(|| id.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            username: u.username,
            display_name: u.display_name,
            active: u.active,
        })
        .collect();
    render(&UsersPage {
        c: Chrome::new(&rc, "users-title", "/users"),
        q: text,
        rows,
        pager,
        can_write: can(&rc, Permission::UserWrite),
    })
}

#[derive(Template)]
#[template(path = "user_form.html")]
struct UserFormPage {
    c: Chrome,
    heading: String,
    action: String,
    version: i64,
    fields: Vec<InputField>,
    /// (role code, label, checked)
    roles: Vec<(&'static str, String, bool)>,
    roles_error: Option<String>,
    locale: String,
    show_active: bool,
    active: bool,
    error: Option<String>,
}

struct UserFormState {
    username: String,
    display_name: String,
    stations: String,
    locale: String,
    roles: Vec<String>,
    active: Option<bool>,
    version: i64,
}

fn user_form_page(
    rc: &ReqCtx,
    heading: &str,
    action: String,
    st: &UserFormState,
    editing: bool,
    errors: &[(String, String)],
) -> Response {
    let err = |name: &str| errors.iter().find(|(k, _)| k == name).map(|(_, m)| m.clone());
    let field = |name: &'static str, key: &str, value: &str, kind: &'static str, required: bool, readonly: bool| {
        InputField { name, label: rc.tr.t(key), value: value.to_string(), error: err(name), required, kind, readonly }
    };
    let fields = vec![
        field("username", "user-username", &st.username, "text", true, editing),
        field("display_name", "user-display-name", &st.display_name, "text", true, false),
        field(
            "password",
            if editing { "user-new-password-admin" } else { "user-password" },
            "",
            "password",
            !editing,
            false,
        ),
        field("stations", "user-stations", &st.stations, "text", false, false),
    ];
    let mut fields = fields;
    if let Some(e) = err("station") {
        fields[3].error = Some(e);
    }
    let page = UserFormPage {
        c: Chrome::new(rc, heading, "/users"),
        heading: rc.tr.t(heading),
        action,
        version: st.version,
        fields,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), rc.tr.t(&format!("role-{}", r.as_str())), st.roles.iter().any(|x| x == r.as_str())))
            .collect(),
        roles_error: err("roles").or_else(|| err("role")),
        locale: st.locale.clone(),
        show_active: st.active.is_some(),
        active: st.active.unwrap_or(true),
        error: (!errors.is_empty()).then(|| rc.tr.t("error-validation")),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, render(&page)).into_response()
}

fn split_codes(s: &str) -> Vec<String> {
    s.split([',', '，', ' ', ';']).map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
}

pub async fn new_user(rc: ReqCtx) -> Response {
    if let Err(e) = require_login(&rc, "/users/new") {
        return e.into_response();
    }
    if !can(&rc, Permission::UserWrite) {
        return page_err(&rc, "/users/new")(AppError::Forbidden).into_response();
    }
    let st = UserFormState {
        username: String::new(),
        display_name: String::new(),
        stations: String::new(),
        locale: "zh-CN".into(),
        roles: vec![],
        active: None,
        version: 0,
    };
    user_form_page(&rc, "users-new", "/users".into(), &st, false, &[])
}

pub async fn create_user(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Response {
    let form = UserForm {
        username: f.get("username"),
        display_name: f.get("display_name"),
        password: f.get("password"),
        locale: f.get("locale"),
        roles: f.all("roles"),
        stations: split_codes(&f.get("stations")),
    };
    match shouhou_app::users::create_user(&s.app, &rc.ctx, &form).await {
        Ok(_) => Redirect::to("/users").into_response(),
        Err(e) => match form_errors(&rc, "/users/new", e) {
            Ok(errs) => {
                let st = UserFormState {
                    username: form.username,
                    display_name: form.display_name,
                    stations: f.get("stations"),
                    locale: form.locale,
                    roles: form.roles,
                    active: None,
                    version: 0,
                };
                user_form_page(&rc, "users-new", "/users".into(), &st, false, &errs)
            }
            Err(r) => r,
        },
    }
}

pub async fn edit_user(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Response {
    let path = format!("/users/{id}/edit");
    if let Err(e) = require_login(&rc, &path) {
        return e.into_response();
    }
    if !can(&rc, Permission::UserWrite) {
        return page_err(&rc, &path)(AppError::Forbidden).into_response();
    }
    let err = page_err(&rc, &path);
    let u = match shouhou_app::users::get_user(&s.app, &rc.ctx, UserId(id)).await {
        Ok(u) => u,
        Err(e) => return err(e).into_response(),
    };
    let stations =
        match shouhou_app::org::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100))).await {
            Ok(p) => p.items,
            Err(e) => return err(e).into_response(),
        };
    let codes = u
        .stations
        .iter()
        .filter_map(|sid| stations.iter().find(|s| s.id == sid.0).map(|s| s.code.clone()))
        .collect::<Vec<_>>()
        .join(", ");
    let st = UserFormState {
        username: u.username,
        display_name: u.display_name,
        stations: codes,
        locale: u.locale,
        roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
        active: Some(u.active),
        version: u.version,
    };
    user_form_page(&rc, "users-edit", format!("/users/{id}"), &st, true, &[])
}

pub async fn update_user(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Response {
    let version = f.get("version").parse().unwrap_or(0);
    let ch = UserChange {
        display_name: f.get("display_name"),
        locale: f.get("locale"),
        active: f.checked("active"),
        roles: f.all("roles"),
        stations: split_codes(&f.get("stations")),
        password: Some(f.get("password")),
    };
    match shouhou_app::users::update_user(&s.app, &rc.ctx, UserId(id), version, &ch).await {
        Ok(_) => Redirect::to("/users").into_response(),
        Err(e) => match form_errors(&rc, &format!("/users/{id}/edit"), e) {
            Ok(errs) => {
                let st = UserFormState {
                    username: f.get("username"),
                    display_name: ch.display_name,
                    stations: f.get("stations"),
                    locale: ch.locale,
                    roles: ch.roles,
                    active: Some(ch.active),
                    version,
                };
                user_form_page(&rc, "users-edit", format!("/users/{id}"), &st, true, &errs)
            }
            Err(r) => r,
        },
    }
}

// ---------- audit ----------

pub struct AuditLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<AuditLine>,
    pager: Pager,
    verdict: Option<String>,
}

#[derive(Template)]
#[template(path = "verdict.html")]
struct Verdict {
    intact: bool,
    message: String,
}

pub async fn audit(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Response {
    if let Err(e) = require_login(&rc, "/audit") {
        return e.into_response();
    }
    match shouhou_app::system::list_audit(&s.app, &rc.ctx, None, PageRequest::new(q.page, Some(50))).await {
        Ok(p) => {
            let pager = Pager::new(rc.tr, "/audit", "", &p);
            let rows = p
                .items
                .into_iter()
                .map(|r| AuditLine {
                    seq: r.seq,
                    at: crate::api::rfc3339(r.at_ms).replace('T', " ").chars().take(19).collect(),
                    actor: r.actor_name,
                    action: r.action,
                    entity: format!("{} {}", r.entity, r.entity_id.unwrap_or_default()),
                    source: r.source,
                })
                .collect();
            render(&AuditPage { c: Chrome::new(&rc, "audit-title", "/audit"), rows, pager, verdict: None })
        }
        Err(e) => page_err(&rc, "/audit")(e).into_response(),
    }
}

pub async fn verify_audit(State(s): State<AppState>, rc: ReqCtx, CsrfForm(_f): CsrfForm) -> Response {
    match shouhou_app::system::verify_audit(&s.app, &rc.ctx).await {
        Ok(v) => {
            let message = match &v.first_break {
                None if v.missing_triggers.is_empty() => rc.tr.t1("audit-ok", "count", v.checked),
                None => rc.tr.t1("audit-triggers-missing", "triggers", v.missing_triggers.join(", ")),
                Some(ChainBreak::Truncated { head_seq, checkpoint_seq }) => {
                    rc.tr.t2("audit-truncated", "head", *head_seq, "checkpoint", *checkpoint_seq)
                }
                Some(b @ ChainBreak::CheckpointMismatch { .. }) => {
                    rc.tr.t1("audit-checkpoint-mismatch", "seq", b.seq())
                }
                Some(b) => rc.tr.t1("audit-broken", "seq", b.seq()),
            };
            let verdict = Verdict { intact: v.intact(), message };
            render(&verdict)
        }
        Err(e) => page_err(&rc, "/audit")(e).into_response(),
    }
}
