//! Users with their roles and station memberships; sessions and API tokens; login failures.
use crate::{Conn, Page, PageRequest, Result, StoreError, both, scope_clause};
use serde::Serialize;
use shouhou_domain::auth::{Role, Scope};
use shouhou_domain::ids::{StationId, TokenId, UserId};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    password_hash: String,
    locale: String,
    active: bool,
    version: i64,
    created_at: i64,
    updated_at: i64,
    /// Comma-joined, in no particular order (one statement reads the user and both lists).
    roles: Option<String>,
    stations: Option<String>,
}

/// A user as the application sees it: the row with roles and station memberships.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub locale: String,
    pub active: bool,
    pub version: i64,
    pub roles: Vec<Role>,
    pub stations: Vec<StationId>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user's row with its roles and stations, in one statement (`FROM users`, not aliased): every
/// authenticated request reads one, so it costs one round trip, not three.
const USER_COLS: &str = "users.id, users.username, users.display_name, users.password_hash, users.locale, users.active, \
    users.version, users.created_at, users.updated_at, \
    (SELECT string_agg(r.role, ',') FROM user_roles r WHERE r.user_id = users.id) AS roles, \
    (SELECT string_agg(CAST(s.station_id AS TEXT), ',') FROM user_stations s WHERE s.user_id = users.id) AS stations";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub locale: &'a str,
    pub roles: &'a [Role],
    pub stations: &'a [StationId],
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_user(c: &mut Conn<'_>, u: &NewUser<'_>, now: i64) -> Result<UserId> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, locale, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
        .bind(u.username).bind(u.display_name).bind(u.password_hash).bind(u.locale).bind(now)
        .fetch_one(c).await)?;
    set_memberships(c, UserId(id), u.roles, u.stations).await?;
    Ok(UserId(id))
}

/// Replace a user's roles and stations.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_memberships(c: &mut Conn<'_>, id: UserId, roles: &[Role], stations: &[StationId]) -> Result<()> {
    both!(c, c => sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
    both!(c, c => sqlx::query("DELETE FROM user_stations WHERE user_id = $1").bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
    for r in roles {
        both!(c, c => sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id.0).bind(r.as_str()).execute(c).await.map(|r| r.rows_affected()))?;
    }
    for s in stations {
        both!(c, c => sqlx::query("INSERT INTO user_stations (user_id, station_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id.0).bind(s.0).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub struct UserUpdate<'a> {
    pub display_name: &'a str,
    pub locale: &'a str,
    pub active: bool,
    pub roles: &'a [Role],
    pub stations: &'a [StationId],
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_user(c: &mut Conn<'_>, id: UserId, version: i64, u: &UserUpdate<'_>, now: i64) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE users SET display_name = $1, locale = $2, active = $3, version = version + 1, updated_at = $4 \
         WHERE id = $5 AND version = $6 RETURNING version")
        .bind(u.display_name).bind(u.locale).bind(u.active).bind(now).bind(id.0).bind(version)
        .fetch_optional(c).await)?;
    let Some(v) = v else {
        return match get_user(c, id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        };
    };
    set_memberships(c, id, u.roles, u.stations).await?;
    Ok(v)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_password(c: &mut Conn<'_>, id: UserId, hash: &str, now: i64) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE users SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(hash).bind(now).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_locale(c: &mut Conn<'_>, id: UserId, locale: &str, now: i64) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE users SET locale = $1, updated_at = $2 WHERE id = $3")
        .bind(locale).bind(now).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

fn complete(row: UserRow) -> User {
    let list = |s: &Option<String>| -> Vec<String> {
        s.as_deref().unwrap_or("").split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
    };
    let mut roles: Vec<Role> = list(&row.roles).iter().filter_map(|r| Role::parse(r).ok()).collect();
    roles.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut stations: Vec<StationId> =
        list(&row.stations).iter().filter_map(|s| s.parse().ok()).map(StationId).collect();
    stations.sort();
    User {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        password_hash: row.password_hash,
        locale: row.locale,
        active: row.active,
        version: row.version,
        roles,
        stations,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_user(c: &mut Conn<'_>, id: UserId) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    let row = both!(c, c => sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql)).bind(id.0).fetch_optional(c).await)?;
    match row {
        Some(r) => Ok(Some(complete(r))),
        None => Ok(None),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_by_username(c: &mut Conn<'_>, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
    let row = both!(c, c => sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql)).bind(username).fetch_optional(c).await)?;
    match row {
        Some(r) => Ok(Some(complete(r))),
        None => Ok(None),
    }
}

/// Users in the scope: HQ sees everyone; a station sees its own members.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_users(c: &mut Conn<'_>, scope: &Scope, q: Option<&str>, page: PageRequest) -> Result<Page<User>> {
    let (clause, ids) = scope_clause(scope, "us.station_id", 2);
    let scoped = if matches!(scope, Scope::All) {
        "1 = 1".to_string()
    } else {
        format!("EXISTS (SELECT 1 FROM user_stations us WHERE us.user_id = users.id AND {clause})")
    };
    let where_ = format!("WHERE ({scoped}) AND (username LIKE $1 OR display_name LIKE $1)");
    let n = ids.len() + 2;
    let list_sql = format!("SELECT {USER_COLS} FROM users {where_} ORDER BY username LIMIT ${n} OFFSET ${}", n + 1);
    let count_sql = format!("SELECT COUNT(*) FROM users {where_}");
    let pattern = format!("%{}%", q.unwrap_or("").trim());
    let ids: Vec<i64> = if matches!(scope, Scope::All) { vec![] } else { ids };
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, UserRow>(AssertSqlSafe(list_sql.clone())).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let total: i64 = both!(c, c => {
        let mut q = sqlx::query_scalar(AssertSqlSafe(count_sql.clone())).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.fetch_one(c).await
    })?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(complete(r));
    }
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// The active administrators, their rows locked until the transaction ends on PostgreSQL (SQLite's
/// single writer orders transactions anyway), so two administrators removing each other at once
/// cannot leave none.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active_admins_locked(c: &mut Conn<'_>) -> Result<Vec<i64>> {
    let lock = match c {
        Conn::Sqlite(_) => "",
        Conn::Postgres(_) => " FOR UPDATE OF u",
    };
    let sql = format!(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'admin' AND u.active ORDER BY u.id{lock}"
    );
    Ok(both!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_users(c: &mut Conn<'_>) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(c).await)?)
}

// ---- sessions and API tokens ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    Api,
}

impl TokenKind {
    fn as_str(&self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub csrf_token: Option<String>,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub user: UserId,
    pub kind: TokenKind,
    pub digest: &'a str,
    pub csrf_token: Option<&'a str>,
    pub expires_at: i64,
    pub source: &'a str,
    pub user_agent: &'a str,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_token(c: &mut Conn<'_>, t: &NewToken<'_>, now: i64) -> Result<TokenId> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO auth_tokens (user_id, kind, digest, csrf_token, created_at, expires_at, source, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(t.user.0).bind(t.kind.as_str()).bind(t.digest).bind(t.csrf_token).bind(now).bind(t.expires_at)
        .bind(t.source).bind(t.user_agent)
        .fetch_one(c).await)?;
    Ok(TokenId(id))
}

/// The live token with this digest and its user, in one statement (every authenticated request
/// asks this).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn live_token_user(c: &mut Conn<'_>, digest: &str, now: i64) -> Result<Option<(TokenRow, User)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        token_id: i64,
        token_kind: String,
        csrf_token: Option<String>,
        expires_at: i64,
        #[sqlx(flatten)]
        user: UserRow,
    }
    let sql = format!(
        "SELECT t.id AS token_id, t.kind AS token_kind, t.csrf_token, t.expires_at, {USER_COLS} \
         FROM auth_tokens t JOIN users ON users.id = t.user_id \
         WHERE t.digest = $1 AND t.revoked_at IS NULL AND t.expires_at > $2"
    );
    let row =
        both!(c, c => sqlx::query_as::<_, Row>(AssertSqlSafe(sql)).bind(digest).bind(now).fetch_optional(c).await)?;
    Ok(row.map(|r| {
        let token = TokenRow {
            id: r.token_id,
            user_id: r.user.id,
            kind: r.token_kind,
            csrf_token: r.csrf_token,
            expires_at: r.expires_at,
            revoked_at: None,
        };
        (token, complete(r.user))
    }))
}

/// Revoke by digest; true when a live token was revoked.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_token(c: &mut Conn<'_>, digest: &str, now: i64) -> Result<bool> {
    let r = both!(c, c => sqlx::query("UPDATE auth_tokens SET revoked_at = $1 WHERE digest = $2 AND revoked_at IS NULL")
        .bind(now).bind(digest).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(r > 0)
}

/// Revoke every token of a user (password change, deactivation), except one digest if given.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_user_tokens(c: &mut Conn<'_>, user: UserId, except_digest: Option<&str>, now: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE auth_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND digest <> $3")
        .bind(now).bind(user.0).bind(except_digest.unwrap_or("")).execute(c).await.map(|r| r.rows_affected()))?)
}

// ---- login throttling ----

/// One login attempt of `username` from `source`, as counted before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Attempts in the current window, this one included.
    pub number: i64,
    /// When the current window began.
    pub window_start: i64,
}

/// Count an attempt of `username` from `source` atomically (one `INSERT … ON CONFLICT DO UPDATE …
/// RETURNING`, in its own transaction before the password is checked): of any number of parallel
/// attempts each gets its own number, so a limit holds under any concurrency and across
/// instances. A window older than `window_ms` starts afresh; attempts past `limit` are also
/// counted as throttled.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_attempt(
    c: &mut Conn<'_>,
    username: &str,
    source: &str,
    now: i64,
    window_ms: i64,
    limit: i64,
) -> Result<Attempt> {
    let (number, window_start): (i64, i64) = both!(c, c => sqlx::query_as(
        "INSERT INTO login_attempts (username, source, window_start, attempts, throttled, last_at) VALUES ($1, $2, $3, 1, 0, $3) \
         ON CONFLICT (username, source) DO UPDATE SET \
           attempts = CASE WHEN login_attempts.window_start <= $4 THEN 1 ELSE login_attempts.attempts + 1 END, \
           throttled = CASE WHEN login_attempts.window_start <= $4 THEN 0 \
                            WHEN login_attempts.attempts >= $5 THEN login_attempts.throttled + 1 \
                            ELSE login_attempts.throttled END, \
           window_start = CASE WHEN login_attempts.window_start <= $4 THEN $3 ELSE login_attempts.window_start END, \
           last_at = $3 \
         RETURNING attempts, window_start")
        .bind(username).bind(source).bind(now).bind(now - window_ms).bind(limit).fetch_one(c).await)?;
    Ok(Attempt { number, window_start })
}

/// A successful login clears its (username, source) count.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear_attempts(c: &mut Conn<'_>, username: &str, source: &str) -> Result<()> {
    both!(c, c => sqlx::query("DELETE FROM login_attempts WHERE username = $1 AND source = $2")
        .bind(username).bind(source).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Attempts refused by the throttle in the current windows, per (username, source), most first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn throttled_attempts(c: &mut Conn<'_>, since: i64) -> Result<Vec<(String, String, i64)>> {
    Ok(both!(c, c => sqlx::query_as(
        "SELECT username, source, throttled FROM login_attempts WHERE throttled > 0 AND window_start > $1 \
         ORDER BY throttled DESC, username LIMIT 100")
        .bind(since).fetch_all(c).await)?)
}

/// Forget counts whose window ended before `before` (the audit trail keeps every failure).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge_login_attempts(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(
        both!(c, c => sqlx::query("DELETE FROM login_attempts WHERE window_start < $1").bind(before).execute(c).await.map(|r| r.rows_affected()))?,
    )
}

/// Forget sessions and API tokens that expired before `before`; they open nothing any more.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge_tokens(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(
        both!(c, c => sqlx::query("DELETE FROM auth_tokens WHERE expires_at < $1").bind(before).execute(c).await.map(|r| r.rows_affected()))?,
    )
}

// ---------- recipients ----------

/// Active users with `role` who are members of `station_id`, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn station_members_with_role(c: &mut Conn<'_>, station_id: i64, role: &str) -> Result<Vec<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_stations us ON us.user_id = u.id JOIN user_roles ur ON ur.user_id = u.id \
         WHERE us.station_id = $1 AND ur.role = $2 AND u.active ORDER BY u.id")
        .bind(station_id).bind(role).fetch_all(c).await)?)
}

/// Every active user holding `role`, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active_with_role(c: &mut Conn<'_>, role: &str) -> Result<Vec<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id WHERE ur.role = $1 AND u.active ORDER BY u.id")
        .bind(role).fetch_all(c).await)?)
}

/// Active users holding `role` at headquarters (members of no station).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn headquarters_with_role(c: &mut Conn<'_>, role: &str) -> Result<Vec<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id WHERE ur.role = $1 AND u.active          AND NOT EXISTS (SELECT 1 FROM user_stations us WHERE us.user_id = u.id) ORDER BY u.id")
        .bind(role).fetch_all(c).await)?)
}

/// Whether the user exists and is active.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_is_active(c: &mut Conn<'_>, user_id: i64) -> Result<bool> {
    let a: Option<bool> = both!(c, c => sqlx::query_scalar("SELECT active FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(a == Some(true))
}

/// The working calendar of a user: that of their first station (lowest id), `None` when they
/// belong to no station or that station has no calendar of its own.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_calendar_code(c: &mut Conn<'_>, user_id: i64) -> Result<Option<String>> {
    let row: Option<Option<String>> = both!(c, c => sqlx::query_scalar(
        "SELECT s.calendar_code FROM user_stations us JOIN stations s ON s.id = us.station_id \
         WHERE us.user_id = $1 ORDER BY us.station_id LIMIT 1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(row.flatten())
}
