//! The audit trail as the use cases write it, and checks of the system itself.
use crate::{App, Ctx, Result};
use shouhou_domain::auth::Permission;
use shouhou_store::audit::{self, AuditRow, NewAuditEntry, Verification};
use shouhou_store::{Conn, Page, PageRequest};

/// Append an audit entry for `ctx` inside the caller's transaction (call last, before commit).
pub async fn record(
    c: &mut Conn<'_>,
    app: &App,
    ctx: &Ctx,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    detail: serde_json::Value,
) -> Result<()> {
    audit::append(
        c,
        NewAuditEntry {
            at_ms: app.now(),
            actor_id: ctx.actor_id(),
            actor_name: ctx.actor_name(),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id,
            detail: detail.to_string(),
            source: ctx.source.clone(),
            request_id: ctx.request_id.clone(),
        },
    )
    .await?;
    Ok(())
}

/// Record an event on its own (a failed login, a read of personal data) in its own transaction.
pub async fn record_alone(
    app: &App,
    ctx: &Ctx,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    detail: serde_json::Value,
) -> Result<()> {
    let mut tx = app.db.begin().await?;
    record(&mut tx.conn(), app, ctx, action, entity, entity_id, detail).await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn list_audit(
    app: &App,
    ctx: &Ctx,
    action_prefix: Option<&str>,
    page: PageRequest,
) -> Result<Page<AuditRow>> {
    ctx.require_read(Permission::AuditRead)?;
    let mut rd = app.db.read().await?;
    Ok(audit::list(&mut rd.conn(), action_prefix, page).await?)
}

/// What `housekeeping` forgot.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Housekeeping {
    pub idempotency_keys: u64,
    pub login_attempts: u64,
    pub tokens: u64,
}

/// Idempotency keys are kept a day (what clients retry within).
pub const IDEMPOTENCY_KEEP_MS: i64 = 24 * 3600 * 1000;
/// Expired sessions and tokens are kept 30 days, for the account pages and investigations.
pub const EXPIRED_TOKEN_KEEP_MS: i64 = 30 * 24 * 3600 * 1000;

/// Forget what has served its purpose, in one transaction: idempotency keys older than a day,
/// login failures outside the throttling window (the audit trail keeps them), tokens expired for
/// 30 days. The background worker runs it hourly.
#[tracing::instrument(skip_all)]
pub async fn housekeeping(app: &App) -> Result<Housekeeping> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let done = Housekeeping {
        idempotency_keys: shouhou_store::idempotency::purge(&mut c, now - IDEMPOTENCY_KEEP_MS).await?,
        login_attempts: shouhou_store::users::purge_login_attempts(
            &mut c,
            now - shouhou_domain::auth::LOGIN_FAILURE_WINDOW_MS,
        )
        .await?,
        tokens: shouhou_store::users::purge_tokens(&mut c, now - EXPIRED_TOKEN_KEEP_MS).await?,
    };
    tx.commit().await?;
    Ok(done)
}

#[tracing::instrument(skip_all)]
pub async fn verify_audit(app: &App, ctx: &Ctx) -> Result<Verification> {
    ctx.require_read(Permission::AuditRead)?;
    Ok(audit::verify(&app.db, 1000, |_, _| {}).await?)
}
