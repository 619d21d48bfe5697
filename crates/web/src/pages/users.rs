//! User administration pages: list, create, edit roles and stations.
use super::{Chrome, CsrfForm, PageError, Pager, page_err, render, require_login, urlencode};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::pages::shared::InputField;
use crate::pages::shared::ListQuery;
use crate::pages::shared::can;
use crate::pages::shared::form_errors;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shouhou_app::users::{UserChange, UserForm};
use shouhou_app::{AppError, PageRequest};
use shouhou_domain::auth::{Permission, Role};
use shouhou_domain::ids::UserId;

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

pub async fn users(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    require_login(&rc, "/users")?;
    let err = page_err(&rc, "/users");
    let text = q.q.clone().unwrap_or_default();
    let p = shouhou_app::users::list_users(&s.app, &rc.ctx, Some(&text), PageRequest::new(q.page, None))
        .await
        .map_err(&err)?;
    let stations = shouhou_app::stations::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
        .await
        .map_err(&err)?
        .items;
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
    Ok(render(&UsersPage {
        c: Chrome::new(&rc, "users-title", "/users"),
        q: text,
        rows,
        pager,
        can_write: can(&rc, Permission::UserWrite),
    }))
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
    /// An engineer's skills and leave, on their own page.
    field_link: Option<String>,
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
    let field =
        |name: &'static str, key: &str, value: &str, kind: &'static str, required: bool, readonly: bool| InputField {
            name,
            label: rc.tr.t(key),
            value: value.to_string(),
            error: err(name),
            required,
            kind,
            readonly,
            region: None,
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
        field_link: (editing && st.roles.iter().any(|r| r == "engineer")).then(|| format!("{action}/field")),
        action,
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, render(&page)).into_response()
}

fn split_codes(s: &str) -> Vec<String> {
    s.split([',', '，', ' ', ';']).map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
}

pub async fn new_user(rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/users/new")?;
    if !can(&rc, Permission::UserWrite) {
        return Err(page_err(&rc, "/users/new")(AppError::Forbidden));
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
    Ok(user_form_page(&rc, "users-new", "/users".into(), &st, false, &[]))
}

pub async fn create_user(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let form = UserForm {
        username: f.get("username"),
        display_name: f.get("display_name"),
        password: f.get("password"),
        locale: f.get("locale"),
        roles: f.all("roles"),
        stations: split_codes(&f.get("stations")),
    };
    match shouhou_app::users::create_user(&s.app, &rc.ctx, &form).await {
        Ok(_) => Ok(Redirect::to("/users").into_response()),
        Err(e) => {
            let errs = form_errors(&rc, "/users/new", e)?;
            let st = UserFormState {
                username: form.username,
                display_name: form.display_name,
                stations: f.get("stations"),
                locale: form.locale,
                roles: form.roles,
                active: None,
                version: 0,
            };
            Ok(user_form_page(&rc, "users-new", "/users".into(), &st, false, &errs))
        }
    }
}

pub async fn edit_user(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    let path = format!("/users/{id}/edit");
    require_login(&rc, &path)?;
    let err = page_err(&rc, &path);
    if !can(&rc, Permission::UserWrite) {
        return Err(err(AppError::Forbidden));
    }
    let u = shouhou_app::users::get_user(&s.app, &rc.ctx, UserId(id)).await.map_err(&err)?;
    let stations = shouhou_app::stations::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
        .await
        .map_err(&err)?
        .items;
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
    Ok(user_form_page(&rc, "users-edit", format!("/users/{id}"), &st, true, &[]))
}

pub async fn update_user(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
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
        Ok(_) => Ok(Redirect::to("/users").into_response()),
        Err(e) => {
            let errs = form_errors(&rc, &format!("/users/{id}/edit"), e)?;
            let st = UserFormState {
                username: f.get("username"),
                display_name: ch.display_name,
                stations: f.get("stations"),
                locale: ch.locale,
                roles: ch.roles,
                active: Some(ch.active),
                version,
            };
            Ok(user_form_page(&rc, "users-edit", format!("/users/{id}"), &st, true, &errs))
        }
    }
}

// ---------- an engineer's skills and leave ----------

#[derive(Template)]
#[template(path = "user_field.html")]
struct FieldPage {
    c: Chrome,
    id: i64,
    name: String,
    /// (product line, certified)
    lines: Vec<(String, bool)>,
    /// (day, reason)
    leave: Vec<(String, String)>,
    error: Option<String>,
}

async fn field_page(s: &AppState, rc: &ReqCtx, id: i64, error: Option<String>) -> Result<Response, PageError> {
    let path = format!("/users/{id}/field");
    let err = page_err(rc, &path);
    let u = shouhou_app::users::get_user(&s.app, &rc.ctx, UserId(id)).await.map_err(&err)?;
    let (skills, leave) = shouhou_app::work_orders::field_profile(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let all = shouhou_app::work_orders::product_lines(&s.app, &rc.ctx).await.map_err(&err)?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = FieldPage {
        c: Chrome::new(rc, "user-field", "/users"),
        id,
        name: u.display_name,
        lines: all.into_iter().map(|l| (l.clone(), skills.contains(&l))).collect(),
        leave: leave.into_iter().map(|d| (d.day, d.reason)).collect(),
        error,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn field(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_login(&rc, &format!("/users/{id}/field"))?;
    field_page(&s, &rc, id, None).await
}

async fn after_field(s: &AppState, rc: &ReqCtx, id: i64, r: Result<(), AppError>) -> Result<Response, PageError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/users/{id}/field")).into_response()),
        Err(AppError::Validation(v)) => field_page(s, rc, id, Some(super::joined_messages(rc.tr, &v.0))).await,
        Err(e) => Err(page_err(rc, &format!("/users/{id}/field"))(e)),
    }
}

pub async fn update_skills(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let r = shouhou_app::work_orders::set_skills(&s.app, &rc.ctx, id, &f.all("product_lines")).await.map(|_| ());
    after_field(&s, &rc, id, r).await
}

/// Add a day of leave (`day`, `reason`) or take one off (`remove`).
pub async fn update_leave(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    use shouhou_app::work_orders::LeaveDay;
    let (_, mut days) = match shouhou_app::work_orders::field_profile(&s.app, &rc.ctx, id).await {
        Ok(p) => p,
        Err(e) => return after_field(&s, &rc, id, Err(e)).await,
    };
    let remove = f.get("remove");
    if remove.is_empty() {
        days.push(LeaveDay { day: f.get("day"), reason: f.get("reason") });
    } else {
        days.retain(|d| d.day != remove);
    }
    let r = shouhou_app::work_orders::set_leave(&s.app, &rc.ctx, id, &days).await.map(|_| ());
    after_field(&s, &rc, id, r).await
}
