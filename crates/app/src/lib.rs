//! Use cases of shouhou. Each command runs in one transaction, checks permissions and station
//! scope here (never in handlers), and appends to the audit trail before it commits.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod attachments;
pub mod audit;
pub mod auth;
mod clock;
pub mod complaints;
mod context;
pub mod customers;
pub mod desk;
pub mod devices;
mod error;
pub mod exports;
pub mod idempotency;
pub mod imports;
pub mod inbox;
pub mod jobs;
pub mod keys;
pub mod labels;
pub mod maintenance;
pub mod part_applications;
pub mod parts;
pub mod portal;
pub mod products;
pub mod recalls;
pub mod reports;
pub mod requests;
pub mod return_visits;
pub mod returns;
pub mod secrets;
pub mod sheets;
pub mod sla;
pub mod stations;
pub mod stocktakes;
pub mod suggestions;
pub mod system;
pub mod users;
pub mod warehouses;
pub mod warranty_cards;
pub mod work_orders;

pub use clock::{Clock, FixedClock, SystemClock};
pub use context::{Actor, Ctx};
pub use error::{AppError, key_name};
pub use shouhou_store::crypto::Keyring;
pub use shouhou_store::{Backend, Db, Page, PageRequest};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// A JSON `null` read as the type's default (an API client may send `null` for "not given").
pub(crate) fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// Epoch milliseconds (the clock's, or a stored one already checked) as an instant; out of jiff's
/// range is a fault, never 1970.
pub(crate) fn instant(ms: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).map_err(|e| AppError::Internal(format!("instant {ms}: {e}")))
}

/// The instants `[start, end)` of the business days `from` to `to` (YYYY-MM-DD, both included, in
/// Asia/Shanghai; default: the first of this month to today). The one reading of a report's period.
pub(crate) fn business_period(app: &App, from: Option<&str>, to: Option<&str>) -> Result<(i64, i64)> {
    use shouhou_domain::ValidationErrors;
    let today = crate::devices::today(app);
    let mut e = ValidationErrors::default();
    let day = |field: &'static str, s: Option<&str>, default: jiff::civil::Date, e: &mut ValidationErrors| match s
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Some(default),
        Some(s) => match s.parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                e.push(field, "invalid_date");
                None
            }
        },
    };
    let from = day("from", from, today.first_of_month(), &mut e);
    let to = day("to", to, today, &mut e);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        e.push("to", "before_from");
    }
    let (Some(from), Some(to)) = (from, to) else { return Err(e.into()) };
    e.into_result()?;
    let start = |d: jiff::civil::Date| -> Result<i64> {
        Ok(d.to_zoned(shouhou_domain::calendar::shanghai())
            .map_err(|e| AppError::Internal(e.to_string()))?
            .timestamp()
            .as_millisecond())
    };
    Ok((start(from)?, start(to.tomorrow().map_err(|e| AppError::Internal(e.to_string()))?)?))
}

/// Settings of the application core.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Lifetime of a web session.
    pub session_ttl_ms: i64,
    /// Lifetime of an API bearer token.
    pub api_token_ttl_ms: i64,
    /// The file of signed audit checkpoints (`DATA_DIR/audit-checkpoints`), outside the
    /// database; `None` keeps none (a chain cut back is then not seen).
    pub audit_checkpoints: Option<PathBuf>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self { session_ttl_ms: 12 * 3600 * 1000, api_token_ttl_ms: 24 * 3600 * 1000, audit_checkpoints: None }
    }
}

/// The application: database, clock, personal-data keys and settings, shared by every request.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: AppConfig,
    pub keys: Arc<Keyring>,
    /// The head last written to the checkpoint file by this process (0: none yet).
    pub(crate) checkpointed: Arc<AtomicI64>,
    /// Request tasks of this instance still running (`idempotency::InFlight`).
    pub(crate) in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl App {
    /// The same instance (database, keys, settings) on another clock: the demo registers a
    /// request in the past with it.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> App {
        App { clock, ..self.clone() }
    }

    pub fn new(db: Db, clock: Arc<dyn Clock>, config: AppConfig, keys: Keyring) -> Self {
        Self {
            db,
            clock,
            config,
            keys: Arc::new(keys),
            checkpointed: Arc::new(AtomicI64::new(0)),
            in_flight: Default::default(),
        }
    }
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// An instant as people in China read it: `2026-12-06 18:56` (Asia/Shanghai, to the minute).
pub(crate) fn rfc3339_local(t: jiff::Timestamp) -> String {
    let z = t.to_zoned(shouhou_domain::calendar::shanghai());
    z.strftime("%Y-%m-%d %H:%M").to_string()
}
