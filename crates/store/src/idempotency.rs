//! `Idempotency-Key` on POST: the first answer is kept and replayed to every retry.
use crate::{Conn, Result, both};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request holds the key now, claimed at `since`; run it and `complete` or `release`
    /// with that instant, which tells this holder from one that took an abandoned key over.
    Claimed { since: i64 },
    /// A request with this key is still running.
    InProgress,
    /// Done before: replay this answer (when the request hash matches).
    Done {
        request_hash: String,
        status: u16,
        content_type: String,
        body: String,
        location: Option<String>,
        /// Further headers of the answer, a JSON list of [name, value].
        headers: Option<String>,
    },
}

/// (request hash, status, content type, body, location, created at) of a key; status is NULL
/// while in progress. Body and location are stored as the web layer gives them (encrypted).
type StoredAnswer = (String, Option<i64>, Option<String>, Option<String>, Option<String>, Option<String>, i64);

/// Claim the key for this principal, atomically: the unique key decides between two racers. A
/// key still in progress since before `stale_before` (its holder died) is taken over; a key that
/// vanished meanwhile (released, purged) is claimed afresh.
pub async fn claim(
    c: &mut Conn<'_>,
    principal: &str,
    key: &str,
    request_hash: &str,
    now: i64,
    stale_before: i64,
) -> Result<Claim> {
    for _ in 0..3 {
        let inserted = both!(c, c => sqlx::query(
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (principal, idem_key) DO NOTHING")
            .bind(principal).bind(key).bind(request_hash).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        if inserted == 1 {
            return Ok(Claim::Claimed { since: now });
        }
        let row: Option<StoredAnswer> = both!(c, c => sqlx::query_as(
            "SELECT request_hash, status_code, content_type, response_body, location, headers, created_at FROM idempotency_keys \
             WHERE principal = $1 AND idem_key = $2")
            .bind(principal).bind(key).fetch_optional(c).await)?;
        match row {
            None => continue,
            Some((_, None, _, _, _, _, created)) if created < stale_before => {
                let taken = both!(c, c => sqlx::query(
                    "UPDATE idempotency_keys SET request_hash = $3, created_at = $4 \
                     WHERE principal = $1 AND idem_key = $2 AND status_code IS NULL AND created_at < $5")
                    .bind(principal).bind(key).bind(request_hash).bind(now).bind(stale_before)
                    .execute(c).await.map(|r| r.rows_affected()))?;
                if taken == 1 {
                    return Ok(Claim::Claimed { since: now });
                }
            }
            Some((_, None, _, _, _, _, _)) => return Ok(Claim::InProgress),
            Some((request_hash, Some(status), ct, body, location, headers, _)) => {
                return Ok(Claim::Done {
                    request_hash,
                    status: u16::try_from(status).unwrap_or(500),
                    content_type: ct.unwrap_or_default(),
                    body: body.unwrap_or_default(),
                    location,
                    headers,
                });
            }
        }
    }
    Ok(Claim::InProgress)
}

/// The answer given to the holder of a key: what every retry gets back.
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a str,
    /// The `Location` of a redirect.
    pub location: Option<&'a str>,
    /// Further headers to give back, a JSON list of [name, value].
    pub headers: Option<&'a str>,
}

/// Store the answer of the holder that claimed the key at `since`; false if the key is no longer
/// its own (taken over as abandoned).
pub async fn complete(c: &mut Conn<'_>, principal: &str, key: &str, since: i64, a: &Answer<'_>) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE idempotency_keys SET status_code = $1, content_type = $2, response_body = $3, location = $6, headers = $7 \
         WHERE principal = $4 AND idem_key = $5 AND created_at = $8 AND status_code IS NULL")
        .bind(i64::from(a.status)).bind(a.content_type).bind(a.body).bind(principal).bind(key).bind(a.location)
        .bind(a.headers).bind(since)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Give the key claimed at `since` up (the request failed on our side), so a retry runs afresh.
pub async fn release(c: &mut Conn<'_>, principal: &str, key: &str, since: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND created_at = $3 AND status_code IS NULL")
        .bind(principal).bind(key).bind(since).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forget keys older than `before` (a day is what clients retry within).
pub async fn purge(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(
        both!(c, c => sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before).execute(c).await.map(|r| r.rows_affected()))?,
    )
}
