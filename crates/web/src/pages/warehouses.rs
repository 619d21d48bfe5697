//! Warehouse pages.
use super::{Chrome, PageError, Pager, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::pages::shared::ListQuery;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
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
}

pub async fn warehouses(
    State(s): State<AppState>,
    rc: ReqCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
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
    Ok(render(&WarehousesPage { c: Chrome::new(&rc, "warehouses-title", "/warehouses"), rows, pager, stock, part }))
}
