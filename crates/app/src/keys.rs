//! Rotation of the personal-data keys (PRODUCT.md §2.14). A new key (`data.N` in the key file)
//! encrypts every value written from then on; `reencrypt` rewrites the older values under it, so
//! that `key_usage` shows an old key encrypting nothing and its line can leave the key file.
use crate::system::record_alone;
use crate::{App, AppError, Ctx, Result};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::auth::Permission;
use shouhou_store::StoreError;
use shouhou_store::personal::{self, ENCRYPTED};

/// Rows rewritten per transaction.
const BATCH: i64 = 500;

/// How many values of one encrypted column one key version encrypts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyUsage {
    pub table: &'static str,
    pub column: &'static str,
    /// `v1`, `v2`, …
    pub version: String,
    pub values: i64,
}

/// What `reencrypt` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reencrypted {
    /// The key version everything is now under.
    pub version: u32,
    pub rows: u64,
    pub values: u64,
}

/// The command line (no user) or an administrator.
fn allowed(ctx: &Ctx) -> Result<()> {
    match &ctx.actor {
        None if ctx.source == "cli" => Ok(()),
        _ => ctx.require(Permission::SettingsWrite).map(|_| ()),
    }
}

/// Every encrypted column's values by key version.
pub async fn key_usage(app: &App, ctx: &Ctx) -> Result<Vec<KeyUsage>> {
    allowed(ctx)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut out = vec![];
    for t in ENCRYPTED {
        for &column in t.columns {
            for (version, values) in personal::versions_in(&mut c, t, column).await? {
                out.push(KeyUsage { table: t.table, column, version, values });
            }
        }
    }
    Ok(out)
}

/// Rewrite every value not under the newest key, table by table in batches of one transaction
/// each, so it can run beside the server and be interrupted and run again. `progress` hears the
/// table and the rows rewritten so far. A value under a key no longer configured stops it with
/// that key's version named; nothing already committed is lost. Audited (`keys.reencrypt`).
pub async fn reencrypt(app: &App, ctx: &Ctx, mut progress: impl FnMut(&str, u64)) -> Result<Reencrypted> {
    allowed(ctx)?;
    let keys = &app.keys;
    let current = keys.current_version();
    let mut done = Reencrypted { version: current, ..Default::default() };
    for t in ENCRYPTED {
        let mut after = 0;
        loop {
            let mut tx = app.db.begin().await?;
            let mut c = tx.conn();
            let rows = personal::stale_rows(&mut c, t, current, after, BATCH).await?;
            for row in &rows {
                let mut values = 0;
                let mut new = Vec::with_capacity(row.values.len());
                for v in &row.values {
                    new.push(match v {
                        Some(old) if crate::Keyring::version_of(old) != Some(current) => {
                            values += 1;
                            let clear = keys.decrypt(old).map_err(|e| {
                                AppError::from(StoreError::Unavailable(format!("{} {}: {e}", t.table, row.id)))
                            })?;
                            Some(keys.encrypt(&clear).map_err(StoreError::from)?)
                        }
                        other => other.clone(),
                    });
                }
                if personal::rewrite_row(&mut c, t, row.id, &row.values, &new).await? {
                    done.rows += 1;
                    done.values += values;
                }
            }
            tx.commit().await?;
            progress(t.table, done.rows);
            match rows.last() {
                Some(last) if rows.len() as i64 == BATCH => after = last.id,
                _ => break,
            }
        }
    }
    record_alone(app, ctx, "keys.reencrypt", "keys", Some(format!("v{current}")), json!(done)).await?;
    Ok(done)
}
