//! The customer portal: what a customer without an account reported (the phone they gave), and
//! the counts that throttle its look-ups and reports.
use crate::crypto::Keyring;
use crate::{Conn, Result, both};

/// An attempt's number in its window and when the window began (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub number: i64,
    pub window_start: i64,
}

/// Count one attempt of `kind` (`track_source`, `track_number`, `report_source`) by `subject`, in
/// its own statement so parallel attempts each get their own number (D26): a window older than
/// `window_ms` starts afresh.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_attempt(c: &mut Conn<'_>, kind: &str, subject: &str, now: i64, window_ms: i64) -> Result<Attempt> {
    let (number, window_start): (i64, i64) = both!(c, c => sqlx::query_as(
        "INSERT INTO portal_attempts (kind, subject, window_start, attempts, last_at) VALUES ($1, $2, $3, 1, $3) \
         ON CONFLICT (kind, subject) DO UPDATE SET \
           attempts = CASE WHEN portal_attempts.window_start <= $4 THEN 1 ELSE portal_attempts.attempts + 1 END, \
           window_start = CASE WHEN portal_attempts.window_start <= $4 THEN $3 ELSE portal_attempts.window_start END, \
           last_at = $3 \
         RETURNING attempts, window_start")
        .bind(kind).bind(subject).bind(now).bind(now - window_ms).fetch_one(c).await)?;
    Ok(Attempt { number, window_start })
}

/// Give back an attempt that succeeded: only failures stay counted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn give_back(c: &mut Conn<'_>, kind: &str, subject: &str) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE portal_attempts SET attempts = attempts - 1 WHERE kind = $1 AND subject = $2 AND attempts > 0")
        .bind(kind).bind(subject).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forget counts whose window began before `before`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge_attempts(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query("DELETE FROM portal_attempts WHERE window_start < $1")
        .bind(before).execute(c).await.map(|r| r.rows_affected()))?)
}

/// What the portal records beside a request it registered. `contact_phone` is normalised.
pub struct NewPortalReport<'a> {
    pub service_request_id: i64,
    pub device_id: Option<i64>,
    /// Clear name and its mask, when the customer gave one.
    pub contact_name: Option<(&'a str, &'a str)>,
    pub contact_phone: &'a str,
    pub contact_phone_mask: &'a str,
    pub phone_on_record: bool,
    pub source: &'a str,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_report(c: &mut Conn<'_>, keys: &Keyring, r: &NewPortalReport<'_>, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO portal_reports (service_request_id, device_id, contact_name_enc, contact_name_mask, contact_phone_enc, \
         contact_phone_idx, contact_phone_mask, phone_on_record, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(r.service_request_id).bind(r.device_id)
        .bind(keys.encrypt_opt(r.contact_name.map(|(n, _)| n))?).bind(r.contact_name.map(|(_, m)| m))
        .bind(keys.encrypt(r.contact_phone)?).bind(keys.blind_index(r.contact_phone)).bind(r.contact_phone_mask)
        .bind(r.phone_on_record).bind(r.source).bind(now)
        .fetch_one(c).await)?)
}

/// What the agent sees of a portal report: the phone given (masked) and whether it is the
/// customer's phone on record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalReport {
    pub contact_phone_mask: String,
    pub contact_name_mask: Option<String>,
    pub phone_on_record: bool,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn report_of(c: &mut Conn<'_>, service_request_id: i64) -> Result<Option<PortalReport>> {
    Ok(both!(c, c => sqlx::query_as::<_, PortalReport>(
        "SELECT contact_phone_mask, contact_name_mask, phone_on_record FROM portal_reports WHERE service_request_id = $1")
        .bind(service_request_id).fetch_optional(c).await)?)
}

/// Whether the phone with blind index `idx` is one a request was registered with: its customer's
/// own phone, a contact's, or the phone given when it was reported through the portal.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn phone_belongs_to_request(c: &mut Conn<'_>, request_id: i64, customer_id: i64, idx: &str) -> Result<bool> {
    let n: i64 = both!(c, c => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM customers WHERE id = $1 AND phone_idx = $3) \
              + (SELECT COUNT(*) FROM customer_contacts WHERE customer_id = $1 AND phone_idx = $3) \
              + (SELECT COUNT(*) FROM portal_reports WHERE service_request_id = $2 AND contact_phone_idx = $3)")
        .bind(customer_id).bind(request_id).bind(idx).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Whether the phone with blind index `idx` is customer `customer_id`'s own or a contact's.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn phone_belongs_to_customer(c: &mut Conn<'_>, customer_id: i64, idx: &str) -> Result<bool> {
    let n: i64 = both!(c, c => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM customers WHERE id = $1 AND phone_idx = $2) \
              + (SELECT COUNT(*) FROM customer_contacts WHERE customer_id = $1 AND phone_idx = $2)")
        .bind(customer_id).bind(idx).fetch_one(c).await)?;
    Ok(n > 0)
}
