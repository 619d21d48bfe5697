//! Where personal data is stored encrypted, in one list, and what key rotation needs of it: how
//! many values each key version encrypts, and rewriting old values under the newest key.
use crate::{Conn, Result, both};
use sqlx::{AssertSqlSafe, Row as _};

/// A table with encrypted columns (`v<version>:<base64>`, see `crypto`); its key is `id`.
#[derive(Debug, Clone, Copy)]
pub struct EncryptedTable {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

/// Every encrypted column of the schema. A migration that adds one adds it here; the test
/// `keys::*::every_encrypted_column_is_listed_for_rotation` compares this with the schema.
pub const ENCRYPTED: &[EncryptedTable] = &[
    EncryptedTable { table: "customers", columns: &["name_enc", "phone_enc", "address_enc", "id_number_enc"] },
    EncryptedTable { table: "customer_contacts", columns: &["name_enc", "phone_enc"] },
    EncryptedTable { table: "devices", columns: &["install_address_enc"] },
    EncryptedTable { table: "portal_reports", columns: &["contact_name_enc", "contact_phone_enc"] },
];

/// The key version prefix of a stored value (`v2` of `v2:…`) as an SQL expression.
fn version_expr(c: &Conn<'_>, column: &str) -> String {
    match c {
        // SQLite has no split_part.
        Conn::Sqlite(_) => format!("substr({column}, 1, instr({column}, ':') - 1)"),
        Conn::Postgres(_) => format!("split_part({column}, ':', 1)"),
    }
}

/// How many values of `table.column` each key version encrypts: (`v1`, 1200), …; NULLs aside.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn versions_in(c: &mut Conn<'_>, t: &EncryptedTable, column: &str) -> Result<Vec<(String, i64)>> {
    let v = version_expr(c, column);
    let sql = format!(
        "SELECT {v} AS version, COUNT(*) AS n FROM {table} WHERE {column} IS NOT NULL GROUP BY {v} ORDER BY 1",
        table = t.table
    );
    Ok(both!(c, c => sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql)).fetch_all(c).await)?)
}

/// A row with at least one value under an older key: its id and every encrypted column's value.
#[derive(Debug, Clone)]
pub struct StaleRow {
    pub id: i64,
    pub values: Vec<Option<String>>,
}

/// Up to `limit` rows of `t` after `after_id` (by id) holding a value not under key `current`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stale_rows(
    c: &mut Conn<'_>,
    t: &EncryptedTable,
    current: u32,
    after_id: i64,
    limit: i64,
) -> Result<Vec<StaleRow>> {
    let cols = t.columns.join(", ");
    let stale = t.columns.iter().map(|col| format!("{col} NOT LIKE $2")).collect::<Vec<_>>().join(" OR ");
    let sql =
        format!("SELECT id, {cols} FROM {table} WHERE id > $1 AND ({stale}) ORDER BY id LIMIT $3", table = t.table);
    let prefix = format!("v{current}:%");
    let n = t.columns.len();
    Ok(both!(c, c => {
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(after_id).bind(&prefix).bind(limit).fetch_all(c).await?;
        rows.iter()
            .map(|r| Ok(StaleRow {
                id: r.try_get(0)?,
                values: (1..=n).map(|i| r.try_get::<Option<String>, _>(i)).collect::<Result<_, sqlx::Error>>()?,
            }))
            .collect::<Result<Vec<_>, sqlx::Error>>()
    })?)
}

/// Replace a row's encrypted values by `new`, only if they are still `old` (a concurrent edit
/// wins; the next pass picks the row up again if it still needs it). Answers whether it did.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rewrite_row(
    c: &mut Conn<'_>,
    t: &EncryptedTable,
    id: i64,
    old: &[Option<String>],
    new: &[Option<String>],
) -> Result<bool> {
    let n = t.columns.len();
    let set = t.columns.iter().enumerate().map(|(i, col)| format!("{col} = ${}", i + 1)).collect::<Vec<_>>();
    let same = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, col)| format!("COALESCE({col}, '') = COALESCE(${}, '')", n + 2 + i))
        .collect::<Vec<_>>();
    let sql = format!(
        "UPDATE {table} SET {set} WHERE id = ${id_at} AND {same}",
        table = t.table,
        set = set.join(", "),
        id_at = n + 1,
        same = same.join(" AND ")
    );
    let done = both!(c, c => {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in new { q = q.bind(v.as_deref()); }
        q = q.bind(id);
        for v in old { q = q.bind(v.as_deref()); }
        q.execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// One stored value, of any encrypted column, under key version `version`, if there is one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sample_under(c: &mut Conn<'_>, version: u32) -> Result<Option<String>> {
    let prefix = format!("v{version}:%");
    for t in ENCRYPTED {
        for column in t.columns {
            let sql = format!("SELECT {column} FROM {table} WHERE {column} LIKE $1 LIMIT 1", table = t.table);
            let found: Option<String> =
                both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).bind(&prefix).fetch_optional(c).await)?;
            if found.is_some() {
                return Ok(found);
            }
        }
    }
    Ok(None)
}

/// Whether any encrypted column holds a value at all (a database with personal data in it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn any_encrypted(c: &mut Conn<'_>) -> Result<bool> {
    for t in ENCRYPTED {
        for column in t.columns {
            let sql = format!("SELECT 1 FROM {table} WHERE {column} IS NOT NULL LIMIT 1", table = t.table);
            let found: Option<i32> = both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_optional(c).await)?;
            if found.is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// One customer's encrypted phone and its blind index, to check the index key against.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sample_phone(c: &mut Conn<'_>) -> Result<Option<(String, String)>> {
    Ok(both!(c, c => sqlx::query_as("SELECT phone_enc, phone_idx FROM customers ORDER BY id LIMIT 1")
        .fetch_optional(c).await)?)
}

/// Up to `limit` values of `table.column` under key version `version` after `after_id`, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn values_under(
    c: &mut Conn<'_>,
    t: &EncryptedTable,
    column: &str,
    version: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT id, {column} FROM {table} WHERE id > $1 AND {column} LIKE $2 ORDER BY id LIMIT $3",
        table = t.table
    );
    let prefix = format!("{version}:%");
    Ok(both!(c, c => sqlx::query_as(AssertSqlSafe(sql)).bind(after_id).bind(&prefix).bind(limit).fetch_all(c).await)?)
}

/// A stored key fingerprint (docs/DECISIONS.md D32).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyFingerprint {
    /// `data.1`, `index`, `audit`.
    pub name: String,
    pub fingerprint: String,
    pub first_seen_ms: i64,
    pub retired_at_ms: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn fingerprints(c: &mut Conn<'_>) -> Result<Vec<KeyFingerprint>> {
    Ok(both!(c, c => sqlx::query_as::<_, KeyFingerprint>(
        "SELECT name, fingerprint, first_seen_ms, retired_at_ms FROM key_fingerprints ORDER BY name").fetch_all(c).await)?)
}

/// Record a key's fingerprint the first time it is seen (a concurrent first sight keeps the
/// first one written), and mark it in use again if it had retired.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_fingerprint(c: &mut Conn<'_>, name: &str, fingerprint: &str, now: i64) -> Result<()> {
    both!(c, c => sqlx::query(
        "INSERT INTO key_fingerprints (name, fingerprint, first_seen_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
        .bind(name).bind(fingerprint).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    both!(c, c => sqlx::query(
        "UPDATE key_fingerprints SET retired_at_ms = NULL WHERE name = $1 AND fingerprint = $2 AND retired_at_ms IS NOT NULL")
        .bind(name).bind(fingerprint).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A key left the key file and encrypts nothing any more.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn retire_fingerprint(c: &mut Conn<'_>, name: &str, now: i64) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE key_fingerprints SET retired_at_ms = $2 WHERE name = $1 AND retired_at_ms IS NULL")
        .bind(name).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
