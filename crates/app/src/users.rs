//! Administration of users: roles from PRODUCT.md §1 and station membership.
use crate::audit::record;
use crate::secrets::hash_password;
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Role, Username, check_password_policy, validate_role_assignment};
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::locale::Locale;
use shouhou_domain::text::required_text;
use shouhou_store::users::{self, NewUser, UserUpdate};
pub use shouhou_store::users::{TokenKind, User};
use shouhou_store::{Conn, Page, PageRequest, stations};

/// A new user, as the API takes it and the page sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserForm {
    pub username: String,
    /// Blank or absent: the user name.
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub display_name: String,
    pub password: String,
    /// `zh-CN` (default) or `en`.
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub locale: String,
    /// customer dealer agent dispatcher engineer station_manager warehouse finance manager admin
    pub roles: Vec<String>,
    /// Station codes; engineers and station managers need one.
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub stations: Vec<String>,
}

async fn resolve_stations(c: &mut Conn<'_>, codes: &[String], errs: &mut ValidationErrors) -> Result<Vec<StationId>> {
    let mut out = Vec::new();
    for code in codes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match stations::station_by_code(c, code).await? {
            Some(s) => out.push(StationId(s.id)),
            None => errs.push("station", "unknown_station"),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn parse_roles(raw: &[String], errs: &mut ValidationErrors) -> Vec<Role> {
    let mut roles: Vec<Role> =
        raw.iter().filter(|r| !r.trim().is_empty()).filter_map(|r| errs.take(Role::parse(r))).collect();
    roles.sort();
    roles.dedup();
    roles
}

fn parse_locale(s: &str) -> Locale {
    Locale::parse(s).unwrap_or_default()
}

/// Create a user. From the CLI `ctx` is the system; otherwise an administrator is needed.
#[tracing::instrument(skip_all)]
pub async fn create_user(app: &App, ctx: &Ctx, form: &UserForm) -> Result<UserId> {
    if ctx.actor.is_some() || ctx.source != "cli" {
        ctx.require(Permission::UserWrite)?;
    }
    let mut errs = ValidationErrors::default();
    let username = errs.take(Username::parse(&form.username));
    let display = if form.display_name.trim().is_empty() {
        username.as_ref().map(|u| u.as_str().to_string())
    } else {
        errs.take(required_text("display_name", &form.display_name, 50))
    };
    errs.take(check_password_policy("password", &form.password));
    let roles = parse_roles(&form.roles, &mut errs);
    let hash = if errs.is_empty() { Some(hash_password(form.password.clone()).await?) } else { None };

    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let stations = resolve_stations(&mut c, &form.stations, &mut errs).await?;
    if let Err(e) = validate_role_assignment(&roles, &stations) {
        errs.0.extend(e.0);
    }
    let (Some(username), Some(display), Some(hash)) = (username, display, hash) else {
        return Err(errs.into());
    };
    errs.into_result()?;
    let id = users::insert_user(
        &mut c,
        &NewUser {
            username: username.as_str(),
            display_name: &display,
            password_hash: &hash,
            locale: parse_locale(&form.locale).as_str(),
            roles: &roles,
            stations: &stations,
        },
        app.now(),
    )
    .await?;
    record(
        &mut c,
        app,
        ctx,
        "user.create",
        "user",
        Some(id.to_string()),
        json!({"username": username.as_str(), "roles": roles, "stations": stations}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: String,
    pub locale: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub stations: Vec<String>,
    /// A new password set by the administrator, if any.
    pub password: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn update_user(app: &App, ctx: &Ctx, id: UserId, version: i64, ch: &UserChange) -> Result<i64> {
    let actor = ctx.require(Permission::UserWrite)?;
    let mut errs = ValidationErrors::default();
    let display = errs.take(required_text("display_name", &ch.display_name, 50));
    let roles = parse_roles(&ch.roles, &mut errs);
    let password = ch.password.as_deref().filter(|p| !p.is_empty());
    if let Some(p) = password {
        errs.take(check_password_policy("password", p));
    }
    if actor.id == id && !roles.contains(&Role::Admin) {
        errs.push("roles", "cannot_remove_own_admin");
    }
    if actor.id == id && !ch.active {
        errs.push("active", "cannot_deactivate_self");
    }
    let hash = match password {
        Some(p) if errs.is_empty() => Some(hash_password(p.to_string()).await?),
        _ => None,
    };
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let stations = resolve_stations(&mut c, &ch.stations, &mut errs).await?;
    if let Err(e) = validate_role_assignment(&roles, &stations) {
        errs.0.extend(e.0);
    }
    // The last active administrator stays one: nobody could administer the system any more.
    let admins = users::active_admins_locked(&mut c).await?;
    if admins == [id.0] && (!ch.active || !roles.contains(&Role::Admin)) {
        errs.push(if ch.active { "roles" } else { "active" }, "last_admin");
    }
    let Some(display) = display else {
        return Err(errs.into());
    };
    errs.into_result()?;
    let now = app.now();
    let upd = UserUpdate {
        display_name: &display,
        locale: parse_locale(&ch.locale).as_str(),
        active: ch.active,
        roles: &roles,
        stations: &stations,
    };
    let v = users::update_user(&mut c, id, version, &upd, now).await?;
    if let Some(h) = &hash {
        users::set_password(&mut c, id, h, now).await?;
    }
    if hash.is_some() || !ch.active {
        users::revoke_user_tokens(&mut c, id, None, now).await?;
    }
    record(
        &mut c,
        app,
        ctx,
        "user.update",
        "user",
        Some(id.to_string()),
        json!({"roles": roles, "stations": stations, "active": ch.active, "password_reset": hash.is_some()}),
    )
    .await?;
    tx.commit().await?;
    Ok(v + i64::from(hash.is_some()))
}

/// A user the caller may see: HQ sees all, a station manager their station's members.
#[tracing::instrument(skip_all)]
pub async fn get_user(app: &App, ctx: &Ctx, id: UserId) -> Result<User> {
    let actor = ctx.require_read(Permission::UserRead)?;
    let mut rd = app.db.read().await?;
    let u = users::get_user(&mut rd.conn(), id).await?.ok_or(AppError::NotFound)?;
    let visible =
        matches!(actor.scope, shouhou_domain::auth::Scope::All) || u.stations.iter().any(|s| actor.scope.allows(*s));
    if visible { Ok(u) } else { Err(AppError::NotFound) }
}

#[tracing::instrument(skip_all)]
pub async fn list_users(app: &App, ctx: &Ctx, q: Option<&str>, page: PageRequest) -> Result<Page<User>> {
    let actor = ctx.require_read(Permission::UserRead)?;
    let mut rd = app.db.read().await?;
    Ok(users::list_users(&mut rd.conn(), &actor.scope, q, page).await?)
}

/// The signed-in user's own record.
pub async fn me(app: &App, ctx: &Ctx) -> Result<User> {
    let actor = ctx.actor()?;
    let mut rd = app.db.read().await?;
    users::get_user(&mut rd.conn(), actor.id).await?.ok_or(AppError::NotFound)
}

/// The display names of these users, for pages that show who holds or did something (a
/// colleague's name is not confidential to staff).
pub async fn display_names(app: &App, ctx: &Ctx, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
    ctx.require_read(Permission::BackOffice)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if let Some(u) = users::get_user(&mut c, UserId(*id)).await? {
            out.insert(*id, u.display_name);
        }
    }
    Ok(out)
}
