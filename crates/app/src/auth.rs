//! Logging in and out, sessions and API tokens, changing one's password.
use crate::audit::{record, record_alone};
use crate::secrets::{DUMMY_HASH, hash_password, random_token, token_digest, verify_password};
use crate::{Actor, App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{LOGIN_FAILURE_WINDOW_MS, LOGIN_MAX_FAILURES, check_password_policy, throttle_source};
use shouhou_domain::ids::UserId;
use shouhou_store::users::{self, NewToken, TokenKind};

/// A new session or API token: the secret is shown once, only its digest is stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub csrf_token: Option<String>,
    pub expires_at_ms: i64,
    pub actor: Actor,
}

/// Check the credentials, throttling repeated attempts per username and client address, and issue
/// a token.
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn login(
    app: &App,
    ctx: &Ctx,
    username: &str,
    password: &str,
    kind: TokenKind,
    user_agent: &str,
) -> Result<Issued> {
    let mut errs = ValidationErrors::default();
    if username.trim().is_empty() {
        errs.push("username", "required");
    }
    if password.is_empty() {
        errs.push("password", "required");
    }
    errs.into_result()?;
    let name = username.trim().to_ascii_lowercase();
    let now = app.now();

    // The attempt is counted before the password is checked, in its own transaction: parallel
    // guesses each get their own number, so no more than the limit are ever checked (D26).
    let attempt = {
        let mut tx = app.db.begin().await?;
        let a = users::count_attempt(
            &mut tx.conn(),
            &name,
            &throttle_source(&ctx.source),
            now,
            LOGIN_FAILURE_WINDOW_MS,
            LOGIN_MAX_FAILURES,
        )
        .await?;
        tx.commit().await?;
        a
    };
    if attempt.number > LOGIN_MAX_FAILURES {
        let retry = (attempt.window_start + LOGIN_FAILURE_WINDOW_MS - now).max(1000) / 1000;
        // One audit entry when the throttle closes; further refused attempts are only counted.
        if attempt.number == LOGIN_MAX_FAILURES + 1 {
            tracing::warn!(username = %name, source = %ctx.source, "login throttled");
            record_alone(app, ctx, "auth.login_throttled", "user", None, json!({"username": name})).await?;
        }
        return Err(AppError::Throttled { retry_after_secs: retry });
    }

    let user = {
        let mut rd = app.db.read().await?;
        users::user_by_username(&mut rd.conn(), &name).await?
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = verify_password(password.to_string(), hash).await?;
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            tracing::warn!(username = %name, source = %ctx.source, "login failed");
            record_alone(app, ctx, "auth.login_failed", "user", None, json!({"username": name})).await?;
            return Err(AppError::BadCredentials);
        }
    };

    let token = random_token()?;
    let (ttl, csrf) = match kind {
        TokenKind::Session => (app.config.session_ttl_ms, Some(random_token()?)),
        TokenKind::Api => (app.config.api_token_ttl_ms, None),
    };
    let expires_at_ms = now + ttl;
    let actor = Actor::from_user(&user);
    let ctx = Ctx { actor: Some(actor.clone()), ..ctx.clone() };
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    users::clear_attempts(&mut c, &name, &throttle_source(&ctx.source)).await?;
    let kind_name = if kind == TokenKind::Session { "session" } else { "api" };
    let id = users::insert_token(
        &mut c,
        &NewToken {
            user: UserId(user.id),
            kind,
            digest: &token_digest(&token),
            csrf_token: csrf.as_deref(),
            expires_at: expires_at_ms,
            source: &ctx.source,
            user_agent,
        },
        now,
    )
    .await?;
    record(
        &mut c,
        app,
        &ctx,
        "auth.login",
        "user",
        Some(user.id.to_string()),
        json!({"kind": kind_name, "token_id": id.0}),
    )
    .await?;
    tx.commit().await?;
    Ok(Issued { token, csrf_token: csrf, expires_at_ms, actor })
}

/// The signed-in user behind a session or API token, if it is live and the user active.
pub async fn authenticate(app: &App, token: &str) -> Result<Option<(Actor, Option<String>, TokenKind)>> {
    let now = app.now();
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let Some((t, u)) = users::live_token_user(&mut c, &token_digest(token), now).await? else {
        return Ok(None);
    };
    if !u.active {
        return Ok(None);
    }
    let kind = if t.kind == "session" { TokenKind::Session } else { TokenKind::Api };
    Ok(Some((Actor::from_user(&u), t.csrf_token, kind)))
}

/// Revoke the token the caller presents (logout). Idempotent.
#[tracing::instrument(skip_all)]
pub async fn logout(app: &App, ctx: &Ctx, token: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    if users::revoke_token(&mut c, &token_digest(token), app.now()).await? {
        record(&mut c, app, ctx, "auth.logout", "user", ctx.actor_id().map(|i| i.to_string()), json!({})).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Change one's own password: the current one must be right; every other session ends.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    app: &App,
    ctx: &Ctx,
    current: &str,
    new: &str,
    confirm: &str,
    keep_token: Option<&str>,
) -> Result<()> {
    let actor = ctx.actor()?;
    let mut errs = ValidationErrors::default();
    if current.is_empty() {
        errs.push("current_password", "required");
    }
    errs.take(check_password_policy("new_password", new));
    if new != confirm {
        errs.push("confirm_password", "passwords_differ");
    }
    errs.into_result()?;
    let user = {
        let mut rd = app.db.read().await?;
        users::get_user(&mut rd.conn(), actor.id).await?.ok_or(AppError::NotFound)?
    };
    if !verify_password(current.to_string(), user.password_hash.clone()).await? {
        return Err(ValidationErrors::single("current_password", "wrong_password").into());
    }
    let hash = hash_password(new.to_string()).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    users::set_password(&mut c, actor.id, &hash, now).await?;
    let ended = users::revoke_user_tokens(&mut c, actor.id, keep_token.map(token_digest).as_deref(), now).await?;
    record(
        &mut c,
        app,
        ctx,
        "auth.password_changed",
        "user",
        Some(actor.id.to_string()),
        json!({"sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Switch one's own UI language.
pub async fn set_locale(app: &App, ctx: &Ctx, locale: shouhou_domain::locale::Locale) -> Result<()> {
    let actor = ctx.actor()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    users::set_locale(&mut c, actor.id, locale.as_str(), app.now()).await?;
    record(&mut c, app, ctx, "user.locale", "user", Some(actor.id.to_string()), json!({"locale": locale.as_str()}))
        .await?;
    tx.commit().await?;
    Ok(())
}
