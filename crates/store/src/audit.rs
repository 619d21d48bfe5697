//! The append-only, hash-chained audit trail, keyed under the audit key from `keyed_from` on.
use crate::crypto::Keyring;
use crate::{Backend, Conn, Db, Page, PageRequest, Result, both};
pub use shouhou_domain::audit::Event;
use shouhou_domain::audit::{AuditEntry, ChainBreak, ChainVerifier, Checkpoint, GENESIS};
use std::collections::BTreeMap;

/// Append one entry inside the caller's transaction. Taking the head row's lock first
/// (`UPDATE … RETURNING`) serialises appends on PostgreSQL as on SQLite's single writer, so the
/// chain never forks. Call it as the last statement of a transaction: the lock is then held
/// only for the commit. The link is an HMAC under the audit key (plain SHA-256 only for entries
/// before the switch-over, which were written before the keyed chain existed).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn append(c: &mut Conn<'_>, keys: &Keyring, event: Event) -> Result<i64> {
    let (seq, prev, keyed_from): (i64, String, i64) = both!(c, c => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash, keyed_from").fetch_one(c).await)?;
    let entry = AuditEntry { seq, event };
    let hash = entry.link(&prev, keys.audit_key(), keyed_from);
    let e = &entry.event;
    both!(c, c => sqlx::query(
        "INSERT INTO audit_log (seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(seq).bind(e.at_ms).bind(e.actor_id).bind(&e.actor_name).bind(&e.action)
        .bind(&e.entity).bind(&e.entity_id).bind(&e.detail).bind(&e.source).bind(&e.request_id)
        .bind(&prev).bind(&hash)
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(c, c => sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(seq)
}

/// A stored entry with its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for AuditRow
where
    &'r str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    /// The columns of [`AUDIT_COLS`], named once here.
    fn from_row(r: &'r R) -> std::result::Result<Self, sqlx::Error> {
        Ok(AuditRow {
            entry: AuditEntry {
                seq: r.try_get("seq")?,
                event: Event {
                    at_ms: r.try_get("at_ms")?,
                    actor_id: r.try_get("actor_id")?,
                    actor_name: r.try_get("actor_name")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    detail: r.try_get("detail")?,
                    source: r.try_get("source")?,
                    request_id: r.try_get("request_id")?,
                },
            },
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    }
}

const AUDIT_COLS: &str =
    "seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash";

/// What an audit list is narrowed to; every part unset is no restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Actions starting with this, e.g. `request.` or `customer.read_personal`.
    pub action_prefix: Option<String>,
    /// The operator: their user id, user name or display name.
    pub actor: Option<String>,
    /// Entries at or after this instant (epoch milliseconds).
    pub from_ms: Option<i64>,
    /// Entries before this instant (epoch milliseconds).
    pub to_ms: Option<i64>,
    /// The record's kind, e.g. `service_request`.
    pub entity: Option<String>,
    /// The record's id (with `entity`, or of any kind).
    pub entity_id: Option<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// The WHERE clause of a filter and its parameters, numbered from $1.
fn filter_clause(f: &AuditFilter) -> (String, Vec<Bind>) {
    let mut parts = vec!["1 = 1".to_string()];
    let mut binds = vec![];
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(a) = f.action_prefix.as_deref().filter(|a| !a.is_empty()) {
        let p = next(Bind::Text(format!("{a}%")), &mut binds);
        parts.push(format!("action LIKE {p}"));
    }
    if let Some(who) = f.actor.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        let by_name = next(Bind::Text(who.to_string()), &mut binds);
        let by_display = next(Bind::Text(who.to_string()), &mut binds);
        let mut clause =
            format!("(actor_name = {by_name} OR actor_id IN (SELECT id FROM users WHERE display_name = {by_display})");
        if let Ok(id) = who.parse::<i64>() {
            let by_id = next(Bind::Int(id), &mut binds);
            clause.push_str(&format!(" OR actor_id = {by_id}"));
        }
        clause.push(')');
        parts.push(clause);
    }
    if let Some(from) = f.from_ms {
        let p = next(Bind::Int(from), &mut binds);
        parts.push(format!("at_ms >= {p}"));
    }
    if let Some(to) = f.to_ms {
        let p = next(Bind::Int(to), &mut binds);
        parts.push(format!("at_ms < {p}"));
    }
    if let Some(e) = f.entity.as_deref().filter(|e| !e.is_empty()) {
        let p = next(Bind::Text(e.to_string()), &mut binds);
        parts.push(format!("entity = {p}"));
    }
    if let Some(id) = f.entity_id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
        let p = next(Bind::Text(id.to_string()), &mut binds);
        parts.push(format!("entity_id = {p}"));
    }
    (parts.join(" AND "), binds)
}

/// Entries matching `filter`, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditRow>> {
    let (clause, binds) = filter_clause(filter);
    let n = binds.len();
    let sql = format!(
        "SELECT {AUDIT_COLS} FROM audit_log WHERE {clause} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let items = both!(c, c => {
        let mut q = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = match b { Bind::Text(t) => q.bind(t.clone()), Bind::Int(i) => q.bind(*i) };
        }
        q.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE {clause}");
    let total: i64 = both!(c, c => {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            q = match b { Bind::Text(t) => q.bind(t.clone()), Bind::Int(i) => q.bind(*i) };
        }
        q.fetch_one(c).await
    })?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// Display names of users by id, for showing who did what.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn actor_names(c: &mut Conn<'_>, ids: &[i64]) -> Result<BTreeMap<i64, String>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let params: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT id, display_name FROM users WHERE id IN ({})", params.join(", "));
    let rows: Vec<(i64, String)> = both!(c, c => {
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Entries about one record, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn for_entity(c: &mut Conn<'_>, entity: &str, entity_id: &str) -> Result<Vec<AuditRow>> {
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq");
    Ok(
        both!(c, c => sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql)).bind(entity).bind(entity_id).fetch_all(c).await)?,
    )
}

/// The head of the chain: how many entries, the last one's hash, and the first keyed entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    pub seq: i64,
    pub last_hash: String,
    pub keyed_from: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn head(c: &mut Conn<'_>) -> Result<Head> {
    Ok(both!(c, c => sqlx::query_as::<_, Head>("SELECT seq, last_hash, keyed_from FROM audit_head WHERE id = 1")
        .fetch_one(c).await)?)
}

/// The stored hash of entry `seq`, if there is one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hash_at(c: &mut Conn<'_>, seq: i64) -> Result<Option<String>> {
    Ok(
        both!(c, c => sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1").bind(seq).fetch_optional(c).await)?,
    )
}

/// Whether the newest entry's keyed link holds under `keys`' audit key; `None` while no entry is
/// keyed yet (a database from before the keyed chain, with nothing appended since).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn newest_link_holds(c: &mut Conn<'_>, keys: &Keyring) -> Result<Option<bool>> {
    let h = head(c).await?;
    if h.seq < h.keyed_from {
        return Ok(None);
    }
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq = $1");
    let row =
        both!(c, c => sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql)).bind(h.seq).fetch_optional(c).await)?;
    Ok(row.map(|r| r.entry.chain_mac(&r.prev_hash, keys.audit_key()) == r.hash))
}

/// The triggers that keep `audit_log` append-only, by name, as the migrations create them.
fn guard_triggers(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &["audit_log_no_delete", "audit_log_no_update"],
        Backend::Postgres => &["audit_log_no_change", "audit_log_no_truncate"],
    }
}

/// The append-only triggers of `audit_log` that are gone, disabled or no longer refuse anything
/// (an emptied function on PostgreSQL, say). Empty when all is well.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn missing_triggers(c: &mut Conn<'_>) -> Result<Vec<String>> {
    let backend = match c {
        Conn::Sqlite(_) => Backend::Sqlite,
        Conn::Postgres(_) => Backend::Postgres,
    };
    let present: Vec<String> = match c {
        Conn::Sqlite(c) => {
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log' \
                 AND sql LIKE '%RAISE(ABORT%'",
            )
            .fetch_all(&mut **c)
            .await?
        }
        Conn::Postgres(c) => {
            sqlx::query_scalar(
                "SELECT t.tgname::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid \
                 WHERE t.tgrelid = 'audit_log'::regclass AND NOT t.tgisinternal AND t.tgenabled <> 'D' \
                 AND p.prosrc LIKE '%RAISE EXCEPTION%'",
            )
            .fetch_all(&mut **c)
            .await?
        }
    };
    Ok(guard_triggers(backend).iter().filter(|t| !present.iter().any(|p| p == *t)).map(|t| t.to_string()).collect())
}

/// Outcome of a verification of the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    /// The head the chain was verified up to.
    pub head: Head,
    pub first_break: Option<ChainBreak>,
    /// Append-only triggers that are gone (see [`missing_triggers`]).
    pub missing_triggers: Vec<String>,
    /// The newest signed checkpoint compared with, if any.
    pub checkpoint_seq: Option<i64>,
    /// Checkpoint lines whose signature does not hold (not written with this audit key).
    pub checkpoints_rejected: usize,
}

impl Verification {
    /// The chain holds and nothing guards it less than the migrations made it.
    pub fn intact(&self) -> bool {
        self.first_break.is_none() && self.missing_triggers.is_empty()
    }

    /// What is wrong, as the API and the command line name it: the chain's first break, else
    /// `triggers_missing`.
    pub fn reason(&self) -> Option<&'static str> {
        match &self.first_break {
            Some(b) => Some(b.reason()),
            None if !self.missing_triggers.is_empty() => Some("triggers_missing"),
            None => None,
        }
    }
}

/// Walk the chain in pages of `batch` entries and report the first broken link, comparing it
/// with the signed `checkpoints` (read from outside the database, their signatures checked).
/// `progress` is called with the number checked so far and the total.
///
/// It checks one consistent chain while the server keeps appending: the head is read first, then
/// the entries up to it. Appends are serialised on the head row and commit together with it, so
/// every entry up to a committed head is committed, and none of them changes afterwards; entries
/// appended meanwhile lie beyond the head read and are left to the next run. Checkpoints must be
/// read before the head: a checkpoint is only written of a committed head, so none read before
/// can lie beyond the head unless the chain was cut back.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify(
    db: &Db,
    keys: &Keyring,
    checkpoints: &[Checkpoint],
    batch: i64,
    mut progress: impl FnMut(u64, u64),
) -> Result<Verification> {
    let mut rd = db.read().await?;
    let mut c = rd.conn();
    let missing_triggers = missing_triggers(&mut c).await?;
    let head = head(&mut c).await?;
    let by_seq: BTreeMap<i64, &Checkpoint> = checkpoints.iter().map(|cp| (cp.seq, cp)).collect();
    let newest = by_seq.last_key_value().map(|(_, cp)| *cp);
    let mut done = Verification {
        checked: 0,
        head: head.clone(),
        first_break: None,
        missing_triggers,
        checkpoint_seq: newest.map(|cp| cp.seq),
        checkpoints_rejected: 0,
    };
    let total = u64::try_from(head.seq).unwrap_or(0);
    let mut v = ChainVerifier::new(keys.audit_key(), head.keyed_from);
    let mut after = 0i64;
    let mut last_hash = GENESIS.to_string();
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3");
    let first_break = 'walk: {
        loop {
            let rows = both!(&mut c, c => sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(after).bind(head.seq).bind(batch).fetch_all(c).await)?;
            let Some(last) = rows.last() else { break };
            for r in &rows {
                if by_seq.get(&r.entry.seq).is_some_and(|cp| cp.hash != r.hash) {
                    break 'walk Some(ChainBreak::CheckpointMismatch { seq: r.entry.seq });
                }
                if let Err(b) = v.check(&r.entry, &r.prev_hash, &r.hash) {
                    break 'walk Some(b);
                }
            }
            after = last.entry.seq;
            last_hash = last.hash.clone();
            progress(v.checked, total);
        }
        // The head must name the last entry: a removed tail is a break too.
        if after != head.seq || last_hash != head.last_hash {
            break 'walk Some(ChainBreak::HeadMismatch { seq: if after < head.seq { after + 1 } else { head.seq } });
        }
        // A checkpoint beyond the head: the tail was removed and the head moved back with it.
        if let Some(cp) = newest.filter(|cp| cp.seq > head.seq) {
            break 'walk Some(ChainBreak::Truncated { head_seq: head.seq, checkpoint_seq: cp.seq });
        }
        // The switch-over to the keyed chain moved (to pass entries off as plain ones).
        if let Some(cp) = checkpoints.iter().find(|cp| cp.keyed_from != head.keyed_from) {
            break 'walk Some(ChainBreak::CheckpointMismatch { seq: cp.keyed_from.min(head.keyed_from) });
        }
        None
    };
    done.checked = v.checked;
    done.first_break = first_break;
    Ok(done)
}
