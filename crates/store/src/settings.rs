//! Key–value settings of the installation (organisation name, flags set by `demo`).
use crate::{Conn, Result, both};

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, key: &str) -> Result<Option<String>> {
    Ok(
        both!(c, c => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(c).await)?,
    )
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn put(c: &mut Conn<'_>, key: &str, value: &str) -> Result<()> {
    both!(c, c => sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key).bind(value).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
