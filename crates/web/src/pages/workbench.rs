use super::{Chrome, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use shouhou_app::PageRequest;
use shouhou_domain::auth::Permission;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    hello: String,
    roles: Vec<String>,
    stations: Vec<String>,
    /// (label, figure, link)
    stats: Vec<(String, i64, &'static str)>,
}

pub async fn home(State(s): State<AppState>, rc: ReqCtx) -> Response {
    if let Err(e) = require_login(&rc, "/") {
        return e.into_response();
    }
    let err = page_err(&rc, "/");
    let Some(a) = rc.ctx.actor.as_ref() else {
        return err(shouhou_app::AppError::Unauthenticated).into_response();
    };
    let one = PageRequest::new(Some(1), Some(100));
    let mut stats = Vec::new();
    let mut stations = Vec::new();
    if a.can(Permission::StationRead) {
        match shouhou_app::stations::list_stations(&s.app, &rc.ctx, None, one).await {
            Ok(p) => {
                if !a.stations.is_empty() {
                    stations = p
                        .items
                        .iter()
                        .filter(|st| a.stations.iter().any(|id| id.0 == st.id))
                        .map(|st| format!("{} {}", st.code, st.name))
                        .collect();
                }
                stats.push((rc.tr.t("nav-stations"), p.total, "/stations"));
            }
            Err(e) => return err(e).into_response(),
        }
    }
    if a.can(Permission::WarehouseRead) {
        match shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, None, one).await {
            Ok(p) => stats.push((rc.tr.t("nav-warehouses"), p.total, "/warehouses")),
            Err(e) => return err(e).into_response(),
        }
    }
    if a.can(Permission::UserRead) {
        match shouhou_app::users::list_users(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(1))).await {
            Ok(p) => stats.push((rc.tr.t("nav-users"), p.total, "/users")),
            Err(e) => return err(e).into_response(),
        }
    }
    let page = HomePage {
        hello: rc.tr.t1("home-hello", "name", &a.display_name),
        roles: a.roles.iter().map(|r| rc.tr.t(&format!("role-{}", r.as_str()))).collect(),
        stations,
        stats,
        c: Chrome::new(&rc, "home-title", "/"),
    };
    render(&page)
}
