//! The personal-data keys (PRODUCT.md §2.14): which key file a database may be served with, and
//! their rotation. A database remembers the fingerprints of the keys it was written with, so a
//! server refuses a missing or wrong key file instead of writing under fresh keys (D32). A new
//! key (`data.N` in the key file) encrypts every value written from then on; `reencrypt`
//! rewrites the older values under it, so that `key_usage` shows an old key encrypting nothing
//! and its line can leave the key file.
use crate::audit::record_alone;
use crate::{App, AppError, Ctx, Keyring, Result};
use serde::Serialize;
use serde_json::json;
use shouhou_domain::auth::Permission;
use shouhou_store::personal::{self, ENCRYPTED, KeyFingerprint};
use shouhou_store::{Db, StoreError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Rows rewritten per transaction.
pub(crate) const BATCH: i64 = 500;

/// How many values of one encrypted column one key version encrypts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyUsage {
    pub table: &'static str,
    pub column: &'static str,
    /// `v1`, `v2`, …
    pub version: String,
    pub values: i64,
    /// Of those, how many no configured key decrypts (all of them when the version is not in the
    /// key file; with the version there, the ones its key does not open).
    pub undecryptable: i64,
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

/// Every encrypted column's values by key version, each value tried with the configured keys.
pub async fn key_usage(app: &App, ctx: &Ctx) -> Result<Vec<KeyUsage>> {
    allowed(ctx)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut out = vec![];
    let configured = app.keys.versions();
    for t in ENCRYPTED {
        for &column in t.columns {
            for (version, values) in personal::versions_in(&mut c, t, column).await? {
                let known = version.strip_prefix('v').and_then(|v| v.parse::<u32>().ok());
                let undecryptable = match known {
                    Some(v) if configured.contains(&v) => {
                        let mut failed = 0;
                        let mut after = 0;
                        loop {
                            let page = personal::values_under(&mut c, t, column, &version, after, BATCH).await?;
                            failed += page.iter().filter(|(_, value)| app.keys.decrypt(value).is_err()).count();
                            match page.last() {
                                Some((id, _)) if page.len() as i64 == BATCH => after = *id,
                                _ => break,
                            }
                        }
                        i64::try_from(failed).unwrap_or(i64::MAX)
                    }
                    _ => values,
                };
                out.push(KeyUsage { table: t.table, column, version, values, undecryptable });
            }
        }
    }
    Ok(out)
}

/// Where the keys come from: the text of `SHOUHOU_KEYS`, or a key file.
#[derive(Debug, Clone)]
pub enum KeySource {
    Env(String),
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env(_) => f.write_str("SHOUHOU_KEYS"),
            KeySource::File(p) => write!(f, "key file {}", p.display()),
        }
    }
}

/// Why a database cannot be served with these keys. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "the key file {path} does not exist, but the database already holds {held}. Restore the key file from its own \
         backup (or give it with --keys-file / SHOUHOU_KEYS_FILE, or its text in SHOUHOU_KEYS). No new key file was \
         created: data written under fresh keys could never be read together with the data already there"
    )]
    MissingKeyFile { path: PathBuf, held: String },
    #[error(
        "{key} of the {keys} is not the key this database was written with (its fingerprint differs). Use the key \
         file that belongs to this database; `shouhou keys status` compares them"
    )]
    Mismatch { key: String, keys: String },
    #[error(
        "the database holds {values} personal values under key data.{version}, which the {keys} lacks. Add the \
         data.{version} line of the key file that belongs to this database"
    )]
    MissingVersion { version: u32, values: String, keys: String },
    #[error("reading the {keys}: {error}")]
    Read { keys: String, error: String },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for KeyCheckError {
    fn from(e: StoreError) -> Self {
        KeyCheckError::App(e.into())
    }
}

/// The keys of `source`, checked against the database (see [`check_keyring`]). A key file that
/// does not exist is created with fresh keys (mode 0600) only for a database that holds no
/// encrypted value, no key fingerprint and no keyed audit entry; otherwise that is refused and
/// nothing is created. Answers the keys and the path of a key file it created.
pub async fn open_keyring(
    db: &Db,
    source: &KeySource,
    now_ms: i64,
) -> std::result::Result<(Keyring, Option<PathBuf>), KeyCheckError> {
    let read_err = |error: String| KeyCheckError::Read { keys: source.to_string(), error };
    let (keys, created) = match source {
        KeySource::Env(text) => (Keyring::parse(text).map_err(|e| read_err(e.to_string()))?, None),
        KeySource::File(path) if path.exists() => {
            let text = std::fs::read_to_string(path).map_err(|e| read_err(e.to_string()))?;
            (Keyring::parse(&text).map_err(|e| read_err(e.to_string()))?, None)
        }
        KeySource::File(path) => {
            if let Some(held) = holds_keyed_data(db).await? {
                return Err(KeyCheckError::MissingKeyFile { path: path.clone(), held });
            }
            let text = Keyring::generate_file().map_err(|e| read_err(e.to_string()))?;
            write_new_key_file(path, &text).map_err(|e| read_err(e.to_string()))?;
            (Keyring::parse(&text).map_err(|e| read_err(e.to_string()))?, Some(path.clone()))
        }
    };
    check_keyring(db, &keys, &source.to_string(), now_ms).await?;
    Ok((keys, created))
}

/// What in the database needs the keys it was written with, in words; `None` for a database
/// that may get fresh keys.
pub async fn holds_keyed_data(db: &Db) -> Result<Option<String>> {
    let mut rd = db.read().await?;
    let mut c = rd.conn();
    let prints = personal::fingerprints(&mut c).await?;
    if !prints.is_empty() {
        let mut names: Vec<&str> = prints.iter().map(|p| p.name.as_str()).collect();
        names.sort_by_key(|n| (!n.starts_with("data."), *n));
        return Ok(Some(format!("data written under the keys {} (their fingerprints are stored)", names.join(", "))));
    }
    if personal::any_encrypted(&mut c).await? {
        return Ok(Some("encrypted personal data".into()));
    }
    let head = shouhou_store::audit::head(&mut c).await?;
    if head.seq >= head.keyed_from {
        return Ok(Some("audit entries linked under an audit key".into()));
    }
    Ok(None)
}

/// A new key file, mode 0600, never over an existing one.
fn write_new_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Check `keys` against what the database remembers of the keys it was written with, then
/// remember the ones seen for the first time:
/// - a key whose stored fingerprint differs is refused;
/// - a stored data key missing from the key file is refused while values under it remain (and
///   marked retired once none do);
/// - a data key seen for the first time must decrypt a value under its version, if there is one;
///   the index key must give a stored phone's blind index; the audit key must give the newest
///   keyed link (this is how a database from before the fingerprints is checked once);
/// - while no data key fingerprint is stored, every version in use must be in the key file.
///
/// Fingerprints are recorded only if all holds; a concurrent first start with other keys loses
/// (the first recorded stays) and is refused by the comparison after the commit.
pub async fn check_keyring(
    db: &Db,
    keys: &Keyring,
    source: &str,
    now_ms: i64,
) -> std::result::Result<(), KeyCheckError> {
    let mismatch = |key: &str| KeyCheckError::Mismatch { key: key.to_string(), keys: source.to_string() };
    // Data keys named first: they are what an operator recognises.
    let compare = |stored: &[KeyFingerprint]| -> std::result::Result<(), KeyCheckError> {
        let differs = |s: &&KeyFingerprint| keys.fingerprints().get(&s.name).is_some_and(|fp| *fp != s.fingerprint);
        match stored.iter().filter(differs).min_by_key(|s| (!s.name.starts_with("data."), s.name.clone())) {
            Some(s) => Err(mismatch(&s.name)),
            None => Ok(()),
        }
    };
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let stored = personal::fingerprints(&mut c).await?;
    compare(&stored)?;
    let by_name: BTreeMap<&str, &KeyFingerprint> = stored.iter().map(|s| (s.name.as_str(), s)).collect();
    let configured = keys.versions();

    for s in stored.iter().filter(|s| s.retired_at_ms.is_none()) {
        let Some(v) = s.name.strip_prefix("data.").and_then(|v| v.parse::<u32>().ok()) else { continue };
        if configured.contains(&v) {
            continue;
        }
        if personal::sample_under(&mut c, v).await?.is_some() {
            return Err(KeyCheckError::MissingVersion { version: v, values: "some".into(), keys: source.into() });
        }
        personal::retire_fingerprint(&mut c, &s.name, now_ms).await?;
    }
    for &v in &configured {
        if by_name.contains_key(format!("data.{v}").as_str()) {
            continue;
        }
        if let Some(sample) = personal::sample_under(&mut c, v).await?
            && keys.decrypt(&sample).is_err()
        {
            return Err(mismatch(&format!("data.{v}")));
        }
    }
    if !stored.iter().any(|s| s.name.starts_with("data.")) {
        let mut unknown: BTreeMap<u32, i64> = BTreeMap::new();
        for t in ENCRYPTED {
            for &column in t.columns {
                for (version, n) in personal::versions_in(&mut c, t, column).await? {
                    let v = version.strip_prefix('v').and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
                    if !configured.contains(&v) {
                        *unknown.entry(v).or_default() += n;
                    }
                }
            }
        }
        if let Some((v, n)) = unknown.into_iter().next() {
            return Err(KeyCheckError::MissingVersion { version: v, values: n.to_string(), keys: source.into() });
        }
    }
    if !by_name.contains_key("index")
        && let Some((phone_enc, phone_idx)) = personal::sample_phone(&mut c).await?
        && keys.decrypt(&phone_enc).map(|phone| keys.blind_index(&phone)).ok().as_deref() != Some(phone_idx.as_str())
    {
        return Err(mismatch("index"));
    }
    if !by_name.contains_key("audit") && shouhou_store::audit::newest_link_holds(&mut c, keys).await? == Some(false) {
        return Err(mismatch("audit"));
    }
    for (name, fp) in keys.fingerprints() {
        personal::record_fingerprint(&mut c, name, fp, now_ms).await?;
    }
    tx.commit().await?;
    let mut rd = db.read().await?;
    compare(&personal::fingerprints(&mut rd.conn()).await?)
}

/// What the key file says to each stored fingerprint, for `shouhou keys status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyState {
    /// `data.1`, `index`, `audit`.
    pub key: String,
    /// `matches`, `differs` (not the key the data was written with), `missing` (stored, not in
    /// the key file), `retired` (left the key file after it encrypted nothing), `new` (in the key
    /// file, not yet seen by this database).
    pub state: &'static str,
}

/// The key file's keys compared with the fingerprints the database stores.
pub async fn key_states(app: &App, ctx: &Ctx) -> Result<Vec<KeyState>> {
    allowed(ctx)?;
    let mut rd = app.db.read().await?;
    let stored = personal::fingerprints(&mut rd.conn()).await?;
    let mut out: Vec<KeyState> = stored
        .iter()
        .map(|s| KeyState {
            key: s.name.clone(),
            state: match app.keys.fingerprints().get(&s.name) {
                Some(fp) if *fp == s.fingerprint => "matches",
                Some(_) => "differs",
                None if s.retired_at_ms.is_some() => "retired",
                None => "missing",
            },
        })
        .collect();
    for name in app.keys.fingerprints().keys() {
        if !stored.iter().any(|s| &s.name == name) {
            out.push(KeyState { key: name.clone(), state: "new" });
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
                            let clear = keys.decrypt(old).map_err(|e| match StoreError::from(e) {
                                StoreError::Undecryptable { version, detail } => AppError::Undecryptable {
                                    version,
                                    detail: format!("{} {}: {detail}", t.table, row.id),
                                },
                                other => AppError::from(other),
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
