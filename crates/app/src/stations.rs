//! Service stations: create, edit, read in scope, and the calendar a station works on.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::StationId;
use shouhou_domain::stations::StationInput;
use shouhou_store::stations;
pub use shouhou_store::stations::Station;
use shouhou_store::{Page, PageRequest};

/// A station as entered by a person or an integration, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StationForm {
    /// 2–20 upper-case letters, digits or `-`, e.g. `SZ-NS01`.
    pub code: String,
    pub name: String,
    /// GB/T 2260 six-digit division code, e.g. `440305`.
    pub region_code: String,
    pub address: String,
    pub phone: Option<String>,
}

impl StationForm {
    fn parse(&self) -> Result<StationInput> {
        Ok(StationInput::parse(&self.code, &self.name, &self.region_code, &self.address, self.phone.as_deref())?)
    }
}

#[tracing::instrument(skip_all)]
pub async fn create_station(app: &App, ctx: &Ctx, form: &StationForm) -> Result<StationId> {
    ctx.require(Permission::StationWrite)?;
    let input = form.parse()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let id = stations::insert_station(&mut c, &input, app.now()).await?;
    record(
        &mut c,
        app,
        ctx,
        "station.create",
        "station",
        Some(id.to_string()),
        json!({"code": input.code.as_str(), "name": input.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Update with optimistic concurrency: `version` is the one the caller read.
#[tracing::instrument(skip_all)]
pub async fn update_station(
    app: &App,
    ctx: &Ctx,
    id: StationId,
    version: i64,
    form: &StationForm,
    active: bool,
) -> Result<i64> {
    // A station outside the caller's stations is not found; one they see but may not change is 403.
    let actor = ctx.require_read(Permission::StationRead)?;
    if !actor.scope.allows(id) {
        return Err(AppError::NotFound);
    }
    ctx.require(Permission::StationWrite)?;
    let input = form.parse()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let v = stations::update_station(&mut c, id, version, &input, active, app.now()).await?;
    record(
        &mut c,
        app,
        ctx,
        "station.update",
        "station",
        Some(id.to_string()),
        json!({"code": input.code.as_str(), "name": input.name, "active": active, "version": v}),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// A station the caller may see; 404 for any other, whether it exists or not.
#[tracing::instrument(skip_all)]
pub async fn get_station(app: &App, ctx: &Ctx, id: StationId) -> Result<Station> {
    let actor = ctx.require_read(Permission::StationRead)?;
    if !actor.scope.allows(id) {
        return Err(AppError::NotFound);
    }
    let mut rd = app.db.read().await?;
    stations::get_station(&mut rd.conn(), id).await?.ok_or(AppError::NotFound)
}

#[tracing::instrument(skip_all)]
pub async fn list_stations(app: &App, ctx: &Ctx, q: Option<&str>, page: PageRequest) -> Result<Page<Station>> {
    let actor = ctx.require_read(Permission::StationRead)?;
    let mut rd = app.db.read().await?;
    Ok(stations::list_stations(&mut rd.conn(), &actor.scope, q, page).await?)
}

/// Let a station work on its own business calendar (`None`: the calendar of the SLA policy).
/// Requests registered afterwards for the station count their working-calendar targets on it.
#[tracing::instrument(skip_all)]
pub async fn set_station_calendar(app: &App, ctx: &Ctx, id: StationId, calendar: Option<&str>) -> Result<()> {
    if !ctx.require_read(Permission::StationRead)?.scope.allows(id) {
        return Err(AppError::NotFound);
    }
    ctx.require(Permission::SettingsWrite)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let calendar = calendar.map(str::trim).filter(|s| !s.is_empty());
    if let Some(code) = calendar
        && shouhou_store::sla::calendar(&mut c, code).await?.is_none()
    {
        return Err(shouhou_domain::ValidationErrors::single("calendar_code", "unknown_calendar").into());
    }
    stations::set_station_calendar(&mut c, id, calendar, app.now()).await?;
    record(&mut c, app, ctx, "station.calendar", "station", Some(id.to_string()), json!({"calendar_code": calendar}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The names of these stations, for pages that show where a record they read belongs (a
/// station's name is not confidential to anyone signed in).
pub async fn station_names(app: &App, ctx: &Ctx, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
    ctx.actor.as_ref().ok_or(AppError::Unauthenticated)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if let Some(s) = stations::get_station(&mut c, StationId(*id)).await? {
            out.insert(*id, s.name);
        }
    }
    Ok(out)
}
