//! `Idempotency-Key` on POST: the first answer is kept and replayed to every retry.
//!
//! The key is claimed inside the command's own transaction, and the answer is stored in that
//! same transaction before it commits ([`Unit`]). So a key is visible only together with the
//! command it stands for: after a crash at any point, a retry either finds the committed answer
//! and replays it, or finds nothing and runs the command for the first time — never twice, and
//! without waiting for a lease to expire.
use crate::{Conn, Result, StoreError, Tx, both};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A key as a retry finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The command committed and its answer is stored: replay it (when the request hash matches).
    Done {
        request_hash: String,
        status: u16,
        content_type: String,
        body: String,
        location: Option<String>,
        /// Further headers of the answer, a JSON list of [name, value].
        headers: Option<String>,
    },
    /// The command committed before its answer was known and without a fallback answer (the web
    /// layer always gives one; a unit without it leaves the key pending until the answer comes).
    Pending { request_hash: String },
}

impl Found {
    pub fn request_hash(&self) -> &str {
        match self {
            Found::Done { request_hash, .. } | Found::Pending { request_hash } => request_hash,
        }
    }
}

/// (request hash, status, content type, body, location, headers) of a key; status is NULL while
/// the answer is pending. Body and location are stored as the web layer gives them (encrypted).
type StoredAnswer = (String, Option<i64>, Option<String>, Option<String>, Option<String>, Option<String>);

/// The key of `principal`, if a committed command holds it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lookup(c: &mut Conn<'_>, principal: &str, key: &str) -> Result<Option<Found>> {
    let row: Option<StoredAnswer> = both!(c, c => sqlx::query_as(
        "SELECT request_hash, status_code, content_type, response_body, location, headers FROM idempotency_keys \
         WHERE principal = $1 AND idem_key = $2")
        .bind(principal).bind(key).fetch_optional(c).await)?;
    Ok(row.map(|(request_hash, status, ct, body, location, headers)| match status {
        None => Found::Pending { request_hash },
        Some(status) => Found::Done {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            content_type: ct.unwrap_or_default(),
            body: body.unwrap_or_default(),
            location,
            headers,
        },
    }))
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

/// Store the answer under the key (in the command's transaction, or after it when it committed
/// early, replacing the fallback stored then); false if the key is not there.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete(c: &mut Conn<'_>, principal: &str, key: &str, a: &Answer<'_>) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE idempotency_keys SET status_code = $1, content_type = $2, response_body = $3, location = $6, headers = $7 \
         WHERE principal = $4 AND idem_key = $5")
        .bind(i64::from(a.status)).bind(a.content_type).bind(a.body).bind(principal).bind(key).bind(a.location)
        .bind(a.headers)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Give a key up, so a retry runs afresh (an answer that cannot be replayed: one setting a cookie).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release(c: &mut Conn<'_>, principal: &str, key: &str) -> Result<()> {
    both!(c, c => sqlx::query(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2")
        .bind(principal).bind(key).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forget keys older than `before` (a day is what clients retry within).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(
        both!(c, c => sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before).execute(c).await.map(|r| r.rows_affected()))?,
    )
}

tokio::task_local! {
    static UNIT: Arc<Unit>;
}

/// One idempotent request in flight. While its future runs inside [`Unit::run`], the first write
/// transaction it begins claims the key (`INSERT … ON CONFLICT DO NOTHING`: a concurrent
/// holder's uncommitted row makes PostgreSQL wait for its outcome, SQLite's single writer
/// orders them anyway), and that transaction's `commit` parks it instead of committing. When
/// the request has its answer, [`Unit::finish`] hands the parked transaction back: the answer
/// is stored in it and it commits — command, key and answer at once. If the request uses the
/// database again first, the parked transaction commits then (the key marked pending) and the
/// answer is stored on its own afterwards.
pub struct Unit {
    principal: String,
    key: String,
    request_hash: String,
    now: i64,
    /// A web form: a key found with another body lets the request run without a claim (a page
    /// restored from the back-forward cache) instead of refusing it.
    form: bool,
    /// What a retry is answered if the command had to commit before its answer was known and the
    /// answer never followed (its process died): see [`Unit::with_fallback`]. Made only then.
    fallback: Option<MakeFallback>,
    state: Mutex<State>,
}

/// Makes the fallback answer, when a command does commit early (rarely: no work on the hot path).
pub type MakeFallback = Box<dyn Fn() -> Option<Fallback> + Send + Sync>;

/// A definite answer stored with a command that commits early, replaced by the real one when it
/// comes: a retry after a crash in between gets this instead of waiting for ever.
#[derive(Debug, Clone)]
pub struct Fallback {
    pub status: u16,
    pub content_type: String,
    /// Stored as given (the web layer encrypts what it stores).
    pub body: String,
    pub location: Option<String>,
}

enum State {
    /// Nothing claimed: no write transaction yet, or the one that claimed rolled back.
    Open,
    /// A running write transaction holds the claim.
    Claiming,
    /// The command's transaction, done with its work and not committed.
    Parked(Tx),
    /// The command committed before its answer was known.
    Committed,
    /// A committed command holds the key for the same request.
    Taken,
    /// The key was used before with another body.
    Reused,
    /// A form's key was used before with another body: this one runs without a claim.
    Unclaimed,
}

/// What became of an idempotent request's key once it has its answer.
pub enum Outcome {
    /// Nothing was claimed: no command committed under the key.
    Unclaimed,
    /// The command's uncommitted transaction: store the answer in it and commit it (or roll it
    /// back: nothing was written).
    Parked(Tx),
    /// The command committed already; store the answer on its own.
    Committed,
    /// Another request with this key and body committed first: answer as it did.
    Taken,
    /// The key stands for another request.
    Reused,
}

impl Unit {
    pub fn new(principal: &str, key: &str, request_hash: &str, now: i64, form: bool) -> Arc<Unit> {
        Self::with_fallback(principal, key, request_hash, now, form, None)
    }

    /// A unit whose command, if it commits before its answer is known, stores `fallback` as its
    /// answer in that commit; the real answer replaces it afterwards.
    pub fn with_fallback(
        principal: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        form: bool,
        fallback: Option<MakeFallback>,
    ) -> Arc<Unit> {
        Arc::new(Unit {
            principal: principal.to_string(),
            key: key.to_string(),
            request_hash: request_hash.to_string(),
            now,
            form,
            fallback,
            state: Mutex::new(State::Open),
        })
    }

    /// Run `f` (the request) as this unit: its transactions claim the key as described above.
    pub async fn run<F: Future>(self: &Arc<Self>, f: F) -> F::Output {
        UNIT.scope(Arc::clone(self), f).await
    }

    pub(crate) fn current() -> Option<Arc<Unit>> {
        UNIT.try_with(Arc::clone).ok()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Before the request uses the database again: commit the parked command, so what follows
    /// sees it (and, on SQLite, the single writer is free).
    pub(crate) async fn flush(&self) -> Result<()> {
        let parked = {
            let mut s = self.lock();
            match std::mem::replace(&mut *s, State::Committed) {
                State::Parked(tx) => Some(tx),
                other => {
                    *s = other;
                    None
                }
            }
        };
        if let Some(mut tx) = parked {
            let committed = async {
                if let Some(f) = self.fallback.as_ref().and_then(|make| make()) {
                    let answer = Answer {
                        status: f.status,
                        content_type: &f.content_type,
                        body: &f.body,
                        location: f.location.as_deref(),
                        headers: None,
                    };
                    complete(&mut tx.conn(), &self.principal, &self.key, &answer).await?;
                }
                tx.commit().await
            }
            .await;
            if let Err(e) = committed {
                *self.lock() = State::Open;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Claim the key in `tx` if nothing holds it for this request yet.
    pub(crate) async fn claim_in(self: &Arc<Self>, tx: &mut Tx) -> Result<()> {
        if !matches!(*self.lock(), State::Open) {
            return Ok(());
        }
        let (principal, key, hash) = (&self.principal, &self.key, &self.request_hash);
        for _ in 0..3 {
            let inserted = both!(&mut tx.conn(), c => sqlx::query(
                "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (principal, idem_key) DO NOTHING")
                .bind(principal).bind(key).bind(hash).bind(self.now).execute(c).await.map(|r| r.rows_affected()))?;
            if inserted == 1 {
                *self.lock() = State::Claiming;
                tx.set_claim(Arc::clone(self));
                return Ok(());
            }
            let found: Option<String> = both!(&mut tx.conn(), c => sqlx::query_scalar(
                "SELECT request_hash FROM idempotency_keys WHERE principal = $1 AND idem_key = $2")
                .bind(principal).bind(key).fetch_optional(c).await)?;
            match found {
                // Forgotten meanwhile (housekeeping): claim afresh.
                None => continue,
                Some(h) if h == *hash => {
                    *self.lock() = State::Taken;
                    return Err(StoreError::AlreadyDone);
                }
                Some(_) if self.form => {
                    *self.lock() = State::Unclaimed;
                    return Ok(());
                }
                Some(_) => {
                    *self.lock() = State::Reused;
                    return Err(StoreError::AlreadyDone);
                }
            }
        }
        *self.lock() = State::Taken;
        Err(StoreError::AlreadyDone)
    }

    pub(crate) fn park(&self, tx: Tx) {
        *self.lock() = State::Parked(tx);
    }

    /// The claiming transaction rolled back: the key is free again.
    pub(crate) fn released(&self) {
        let mut s = self.lock();
        if matches!(*s, State::Claiming) {
            *s = State::Open;
        }
    }

    /// The request has its answer: what became of the key.
    pub fn finish(&self) -> Outcome {
        match std::mem::replace(&mut *self.lock(), State::Unclaimed) {
            State::Open | State::Claiming | State::Unclaimed => Outcome::Unclaimed,
            State::Parked(tx) => Outcome::Parked(tx),
            State::Committed => Outcome::Committed,
            State::Taken => Outcome::Taken,
            State::Reused => Outcome::Reused,
        }
    }
}
