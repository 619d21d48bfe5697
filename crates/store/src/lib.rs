//! Storage of shouhou: one `Db` over SQLite or PostgreSQL, the same SQL text for both wherever
//! the dialects agree, and a local, commented branch where they do not.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod audit;
pub mod complaints;
pub mod crypto;
pub mod customers;
mod db;
pub mod devices;
mod error;
pub mod idempotency;
pub mod inbox;
pub mod jobs;
pub mod maintenance;
pub mod outbox;
pub mod page;
pub mod part_applications;
pub mod parts;
pub mod personal;
pub mod portal;
pub mod products;
pub mod recalls;
pub mod requests;
pub mod return_visits;
pub mod returns;
pub mod settings;
pub mod sla;
pub mod stations;
pub mod stocktakes;
pub mod users;
pub mod warehouses;
pub mod warranty_cards;
pub mod work_orders;

pub use db::{Backend, Conn, Db, DbOptions, Rd, Tx, redact_url};
pub use error::StoreError;
pub use page::{Page, PageRequest};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Run the same statement on whichever backend `conn` is: `both!(conn, c => query.fetch_one(c).await)`.
/// The body is expanded once per backend, so the SQL text must be valid on both.
#[macro_export]
macro_rules! both {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::Conn::Sqlite($c) => {
                let $c: &mut ::sqlx::SqliteConnection = &mut **$c;
                $body
            }
            $crate::Conn::Postgres($c) => {
                let $c: &mut ::sqlx::PgConnection = &mut **$c;
                $body
            }
        }
    };
}

/// SQL fragment restricting `column` to a station scope, with its parameters numbered from `first`.
pub(crate) fn scope_clause(scope: &shouhou_domain::auth::Scope, column: &str, first: usize) -> (String, Vec<i64>) {
    use shouhou_domain::auth::Scope;
    match scope {
        Scope::All => ("1 = 1".to_string(), vec![]),
        Scope::Nothing => ("1 = 0".to_string(), vec![]),
        Scope::Stations(ids) if ids.is_empty() => ("1 = 0".to_string(), vec![]),
        Scope::Stations(ids) => {
            let params: Vec<String> = (0..ids.len()).map(|i| format!("${}", first + i)).collect();
            (format!("{column} IN ({})", params.join(", ")), ids.iter().map(|s| s.0).collect())
        }
    }
}

/// SQL condition: the customer `table`.id (a table name or alias) is visible in `scope`, with its
/// parameters numbered from `first`. The one rule for every path to a customer (D25):
/// headquarters see every customer; a station sees the customers of its stations and those with
/// a service request or a work order at one of its stations (the engineer sent there must find
/// and call them); a customer of no station is headquarters' own.
pub(crate) fn customer_scope_clause(
    scope: &shouhou_domain::auth::Scope,
    table: &str,
    first: usize,
) -> (String, Vec<i64>) {
    use shouhou_domain::auth::Scope;
    match scope {
        Scope::Stations(ids) if !ids.is_empty() => {
            let (own, mut params) = scope_clause(scope, &format!("{table}.station_id"), first);
            let (via, more) = scope_clause(scope, "sr.station_id", first + ids.len());
            params.extend(more);
            let (visit, more) = scope_clause(scope, "wo.station_id", first + 2 * ids.len());
            params.extend(more);
            let sql = format!(
                "({own} OR EXISTS (SELECT 1 FROM service_requests sr WHERE sr.customer_id = {table}.id AND {via}) \
                 OR EXISTS (SELECT 1 FROM work_orders wo WHERE wo.customer_id = {table}.id AND {visit}))"
            );
            (sql, params)
        }
        _ => scope_clause(scope, "station_id", first),
    }
}

/// Values per `IN (…)` list: far below SQLite's and PostgreSQL's parameter limits.
pub(crate) const BATCH: usize = 500;

/// `$first, $first+1, …` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
