//! Warehouses: create and read in scope.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::{StationId, WarehouseId};
use shouhou_domain::warehouses::WarehouseInput;
pub use shouhou_store::warehouses::Warehouse;
use shouhou_store::{Page, PageRequest};
use shouhou_store::{
    stations::{self},
    warehouses::{self},
};

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WarehouseForm {
    pub code: String,
    pub name: String,
    /// Code of the owning station; none for a central warehouse of headquarters.
    pub station_code: Option<String>,
    /// An engineer's van: the username of the engineer (of the station) it belongs to.
    #[serde(default)]
    pub engineer_username: Option<String>,
    pub region_code: String,
    pub address: String,
}

#[tracing::instrument(skip_all)]
pub async fn create_warehouse(app: &App, ctx: &Ctx, form: &WarehouseForm) -> Result<WarehouseId> {
    let actor = ctx.require(Permission::WarehouseWrite)?;
    let input = WarehouseInput::parse(&form.code, &form.name, &form.region_code, &form.address)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let station = match form.station_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => {
            let s = stations::station_by_code(&mut c, code).await?.filter(|s| actor.scope.allows(StationId(s.id)));
            Some(StationId(
                s.ok_or_else(|| shouhou_domain::ValidationErrors::single("station_code", "unknown_station"))?.id,
            ))
        }
    };
    if station.is_none() && !matches!(actor.scope, shouhou_domain::auth::Scope::All) {
        return Err(AppError::Forbidden);
    }
    // A van belongs to an engineer of its station.
    let engineer = match form.engineer_username.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => {
            let u = shouhou_store::users::user_by_username(&mut c, name).await?.filter(|u| {
                u.active
                    && u.roles.contains(&shouhou_domain::auth::Role::Engineer)
                    && station.is_some_and(|s| u.stations.contains(&s))
            });
            Some(
                u.ok_or_else(|| shouhou_domain::ValidationErrors::single("engineer_username", "not_station_engineer"))?
                    .id,
            )
        }
    };
    let id = warehouses::insert_warehouse(&mut c, &input, station, engineer, app.now()).await?;
    record(
        &mut c,
        app,
        ctx,
        "warehouse.create",
        "warehouse",
        Some(id.to_string()),
        json!({"code": input.code.as_str(), "name": input.name, "station_id": station.map(|s| s.0), "engineer_id": engineer}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[tracing::instrument(skip_all)]
pub async fn get_warehouse(app: &App, ctx: &Ctx, id: WarehouseId) -> Result<Warehouse> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    let w = warehouses::get_warehouse(&mut rd.conn(), id).await?.ok_or(AppError::NotFound)?;
    if actor.scope.allows_opt(w.station_id.map(StationId)) { Ok(w) } else { Err(AppError::NotFound) }
}

#[tracing::instrument(skip_all)]
pub async fn list_warehouses(
    app: &App,
    ctx: &Ctx,
    station: Option<StationId>,
    page: PageRequest,
) -> Result<Page<Warehouse>> {
    let actor = ctx.require_read(Permission::WarehouseRead)?;
    let mut rd = app.db.read().await?;
    Ok(warehouses::list_warehouses(&mut rd.conn(), &actor.scope, station, page).await?)
}
