//! 工作台: each role's start page — what is theirs to do now, and today's figures.
use super::requests::{ListRow, list_row};
use super::{Chrome, PageError, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shouhou_app::{AppError, PageRequest};
use shouhou_domain::auth::Permission;

pub struct ListBlock {
    pub title: String,
    /// The whole queue: its link and "all N".
    pub href: String,
    pub more: String,
    pub rows: Vec<ListRow>,
}

pub struct Tile {
    pub label: String,
    pub figure: i64,
    pub href: &'static str,
    /// `bad` / `warn` when the figure is not zero and means trouble.
    pub class: &'static str,
    pub testid: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    hello: String,
    roles: Vec<String>,
    stations: Vec<String>,
    tiles: Vec<Tile>,
    /// The list the role starts on.
    list: Option<ListBlock>,
    desk: bool,
}

/// What a role starts on: the queue shown on the page and the figures beside it.
#[derive(Clone, Copy, PartialEq)]
enum Focus {
    /// An engineer: their own requests.
    Engineer,
    /// A station manager: the station's queue with its risks.
    Station,
    /// A hotline agent: open and due-soon requests, today's intake.
    Agent,
    /// Managers, dispatchers and administrators: the overview.
    Overview,
}

pub async fn home(State(s): State<AppState>, rc: ReqCtx) -> Result<Response, PageError> {
    require_login(&rc, "/")?;
    let err = page_err(&rc, "/");
    let a = rc.ctx.actor.as_ref().ok_or_else(|| err(AppError::Unauthenticated))?;
    let tr = rc.tr;
    let has = |role: &str| a.roles.iter().any(|r| r.as_str() == role);
    let focus = if has("admin") || has("manager") || has("dispatcher") {
        Some(Focus::Overview)
    } else if has("station_manager") {
        Some(Focus::Station)
    } else if has("agent") {
        Some(Focus::Agent)
    } else if has("engineer") {
        Some(Focus::Engineer)
    } else {
        None
    };
    let mut tiles = Vec::new();
    let mut list = None;
    let mut stations = Vec::new();
    if a.can(Permission::StationRead) && !a.stations.is_empty() {
        let p = shouhou_app::stations::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(100)))
            .await
            .map_err(&err)?;
        stations = p
            .items
            .iter()
            .filter(|st| a.stations.iter().any(|id| id.0 == st.id))
            .map(|st| format!("{} {}", st.code, st.name))
            .collect();
    }
    let tile = |key: &str, figure: i64, href: &'static str, trouble: &'static str, testid: &'static str| Tile {
        label: tr.t(key),
        figure,
        href,
        class: if figure > 0 { trouble } else { "" },
        testid,
    };
    if let (Some(focus), true) = (focus, a.can(Permission::RequestRead)) {
        let f = shouhou_app::requests::figures(&s.app, &rc.ctx).await.map_err(&err)?;
        // Each role's start page shows the figures of its work, in this order, and one list.
        let (names, queue, title): (&[&str], _, _) = match focus {
            Focus::Engineer => (&["mine", "due_soon", "breached"], "mine", "home-list-mine"),
            Focus::Station => (&["open_station", "unassigned", "at_risk", "breached"], "station", "home-list-station"),
            Focus::Agent => (&["open", "due_soon", "today", "closed_today"], "due_soon", "home-list-due-soon"),
            Focus::Overview => (
                &["open", "unassigned", "at_risk", "breached", "today", "closed_today"],
                "breached",
                "home-list-breached",
            ),
        };
        for name in names {
            tiles.push(match *name {
                "mine" => tile("home-mine", f.mine, "/requests?queue=mine", "", "fig-mine"),
                "due_soon" => tile("queue-due_soon", f.due_soon, "/requests?queue=due_soon", "warn", "fig-due-soon"),
                "breached" => tile("queue-breached", f.breached, "/requests?queue=breached", "bad", "fig-breached"),
                "open_station" => tile("home-open-station", f.open, "/requests?queue=station", "", "fig-open"),
                "unassigned" => {
                    tile("queue-unassigned", f.unassigned, "/requests?queue=unassigned", "warn", "fig-unassigned")
                }
                "at_risk" => tile("home-at-risk", f.at_risk, "/requests?queue=due_soon", "warn", "fig-at-risk"),
                "today" => tile("home-registered-today", f.registered_today, "/requests?queue=all", "", "fig-today"),
                "closed_today" => {
                    tile("home-closed-today", f.closed_today, "/requests?queue=all", "", "fig-closed-today")
                }
                _ => tile("home-open", f.open, "/requests?queue=all", "", "fig-open"),
            });
        }
        let p = shouhou_app::requests::queue_listing(&s.app, &rc.ctx, queue, PageRequest::new(Some(1), Some(8)))
            .await
            .map_err(&err)?;
        list = Some(ListBlock {
            title: tr.t(title),
            href: format!("/requests?queue={queue}"),
            more: tr.t1("home-more", "total", p.total),
            rows: p.items.iter().map(|r| list_row(tr, r)).collect(),
        });
    } else {
        if a.can(Permission::StationRead) {
            let p = shouhou_app::stations::list_stations(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(1)))
                .await
                .map_err(&err)?;
            tiles.push(tile("nav-stations", p.total, "/stations", "", "fig-stations"));
        }
        if a.can(Permission::WarehouseRead) {
            let p = shouhou_app::warehouses::list_warehouses(&s.app, &rc.ctx, None, PageRequest::new(Some(1), Some(1)))
                .await
                .map_err(&err)?;
            tiles.push(tile("nav-warehouses", p.total, "/warehouses", "", "fig-warehouses"));
        }
    }
    let page = HomePage {
        hello: tr.t1("home-hello", "name", &a.display_name),
        roles: a.roles.iter().map(|r| tr.t(&format!("role-{}", r.as_str()))).collect(),
        stations,
        tiles,
        list,
        desk: a.can(Permission::CustomerWrite),
        c: Chrome::new(&rc, "home-title", "/"),
    };
    Ok(render(&page))
}
