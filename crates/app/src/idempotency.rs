//! Idempotency keys as commands keep them (D27): the key is claimed in the command's own
//! transaction (`Unit`), and the command's answer is stored, encrypted, in that same transaction,
//! so a retry after a crash anywhere either replays the answer or runs the command for the first
//! time. The web layer decides what a key and an answer are (headers, form fields, bodies); the
//! storing, the encryption and the instance's count of commands still running are here.
use crate::{App, Result};
use shouhou_store::Tx;
use shouhou_store::idempotency::{self as store, Answer, Fallback};
pub use shouhou_store::idempotency::{Found, Outcome, Unit};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// An answer to keep, in clear (it is encrypted here: it may hold personal data or a token).
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a str,
    pub location: Option<&'a str>,
    /// Other headers a replay gives back, as a JSON list of pairs.
    pub headers: Option<&'a str>,
}

/// The answer a command leaves if it commits before its real answer is known, in clear.
#[derive(Debug, Clone)]
pub struct FallbackReply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub location: Option<String>,
}

/// A stored answer, decrypted, as a retry gets it.
#[derive(Debug, Clone)]
pub struct Replay {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub location: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// The unit of one request under `key`: run the request in it (`Unit::run`), then `finish` it.
/// `fallback` makes the answer a command that commits early leaves behind.
pub fn unit(
    app: &App,
    principal: &str,
    key: &str,
    request_hash: &str,
    form: bool,
    fallback: impl Fn() -> Option<FallbackReply> + Send + Sync + 'static,
) -> Arc<Unit> {
    let keys = app.keys.clone();
    let make = Box::new(move || {
        let f = fallback()?;
        Some(Fallback {
            status: f.status,
            content_type: f.content_type,
            body: keys.encrypt(&f.body).ok()?,
            location: keys.encrypt_opt(f.location.as_deref()).ok()?,
        })
    });
    Unit::with_fallback(principal, key, request_hash, app.now(), form, Some(make))
}

/// The key of `principal` as a committed command left it.
pub async fn lookup(app: &App, principal: &str, key: &str) -> Result<Option<Found>> {
    let mut rd = app.db.read().await?;
    Ok(store::lookup(&mut rd.conn(), principal, key).await?)
}

/// The answer a finished command left, decrypted; `None` while the key holds none.
pub fn replay(app: &App, found: Found) -> Result<Option<Replay>> {
    let Found::Done { status, content_type, body, location, headers, .. } = found else { return Ok(None) };
    let body = app.keys.decrypt(&body)?;
    let location = app.keys.decrypt_opt(location.as_deref())?;
    let headers = headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
    Ok(Some(Replay { status, content_type, body, location, headers }))
}

/// Keep `reply` as the key's answer (`None`: give the key up) in the command's parked
/// transaction, and commit it with the command.
pub async fn commit_with(app: &App, mut tx: Tx, principal: &str, key: &str, reply: Option<Reply<'_>>) -> Result<()> {
    keep(app, &mut tx, principal, key, reply).await?;
    Ok(tx.commit().await?)
}

/// Keep `reply` as the answer of a command that committed already, in a transaction of its own.
pub async fn keep_alone(app: &App, principal: &str, key: &str, reply: Option<Reply<'_>>) -> Result<()> {
    let mut tx = app.db.begin().await?;
    keep(app, &mut tx, principal, key, reply).await?;
    Ok(tx.commit().await?)
}

async fn keep(app: &App, tx: &mut Tx, principal: &str, key: &str, reply: Option<Reply<'_>>) -> Result<()> {
    match reply {
        Some(r) => {
            let body = app.keys.encrypt(r.body)?;
            let location = app.keys.encrypt_opt(r.location)?;
            let answer = Answer {
                status: r.status,
                content_type: r.content_type,
                body: &body,
                location: location.as_deref(),
                headers: r.headers,
            };
            store::complete(&mut tx.conn(), principal, key, &answer).await?;
        }
        None => store::release(&mut tx.conn(), principal, key).await?,
    }
    Ok(())
}

/// A command of this instance still running; dropped when it has finished.
pub struct InFlight(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl App {
    /// Count a request task of this instance until the guard drops (its client may have gone).
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.in_flight.clone())
    }

    /// Wait (at most `limit`) until every request task of this instance has finished and stored
    /// its answer: a shutdown must not lose a committed command's answer to a closed pool.
    pub async fn settle(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
