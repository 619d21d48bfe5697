//! the system itself.
use crate::{App, Result};
use std::time::Duration;
/// What `housekeeping` forgot.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Housekeeping {
    pub idempotency_keys: u64,
    pub login_attempts: u64,
    /// Counts of the customer portal's throttle.
    pub portal_attempts: u64,
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
        portal_attempts: shouhou_store::portal::purge_attempts(&mut c, now - shouhou_domain::portal::REPORT_WINDOW_MS)
            .await?,
        tokens: shouhou_store::users::purge_tokens(&mut c, now - EXPIRED_TOKEN_KEEP_MS).await?,
    };
    tx.commit().await?;
    Ok(done)
}

/// How often the worker writes a checkpoint of the audit chain's head (when it moved).
pub const AUDIT_CHECKPOINT_EVERY: Duration = Duration::from_secs(300);
