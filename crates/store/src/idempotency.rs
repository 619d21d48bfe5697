//! `Idempotency-Key` on POST: the first answer is kept and replayed to every retry.
use crate::{Conn, Result, StoreError, both};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request holds the key now; run it and `complete` or `release`.
    Claimed,
    /// A request with this key is still running.
    InProgress,
    /// Done before: replay this answer (when the request hash matches).
    Done { request_hash: String, status: u16, content_type: String, body: String, location: Option<String> },
}

/// (request hash, status, content type, body, location) of a key; status is NULL while in progress.
type StoredAnswer = (String, Option<i64>, Option<String>, Option<String>, Option<String>);

/// Claim the key for this principal, atomically: the unique key decides between two racers.
pub async fn claim(c: &mut Conn<'_>, principal: &str, key: &str, request_hash: &str, now: i64) -> Result<Claim> {
    let inserted = both!(c, c => sqlx::query(
        "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (principal, idem_key) DO NOTHING")
        .bind(principal).bind(key).bind(request_hash).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    let row: Option<StoredAnswer> = both!(c, c => sqlx::query_as(
        "SELECT request_hash, status_code, content_type, response_body, location FROM idempotency_keys WHERE principal = $1 AND idem_key = $2")
        .bind(principal).bind(key).fetch_optional(c).await)?;
    match row {
        None => Err(StoreError::NotFound),
        Some((_, None, _, _, _)) => Ok(Claim::InProgress),
        Some((request_hash, Some(status), ct, body, location)) => Ok(Claim::Done {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            content_type: ct.unwrap_or_default(),
            body: body.unwrap_or_default(),
            location,
        }),
    }
}

/// The answer given to the holder of a key: what every retry gets back.
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a str,
    /// The `Location` of a redirect.
    pub location: Option<&'a str>,
}

pub async fn complete(c: &mut Conn<'_>, principal: &str, key: &str, a: &Answer<'_>) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE idempotency_keys SET status_code = $1, content_type = $2, response_body = $3, location = $6 \
         WHERE principal = $4 AND idem_key = $5")
        .bind(i64::from(a.status)).bind(a.content_type).bind(a.body).bind(principal).bind(key).bind(a.location)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Give the key up (the request failed on our side), so a retry runs afresh.
pub async fn release(c: &mut Conn<'_>, principal: &str, key: &str) -> Result<()> {
    both!(c, c => sqlx::query("DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND status_code IS NULL")
        .bind(principal).bind(key).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forget keys older than `before` (a day is what clients retry within).
pub async fn purge(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(
        both!(c, c => sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before).execute(c).await.map(|r| r.rows_affected()))?,
    )
}
