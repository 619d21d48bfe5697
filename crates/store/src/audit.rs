//! The append-only, hash-chained audit trail.
use crate::{Conn, Db, Page, PageRequest, Result, both};
use serde::Serialize;
use shouhou_domain::audit::{AuditEntry, ChainBreak, ChainVerifier, GENESIS};

/// What a caller gives; the sequence number and hashes are the store's.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub at_ms: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub detail: String,
    pub source: String,
    pub request_id: String,
}

/// Append one entry inside the caller's transaction. Taking the head row's lock first
/// (`UPDATE … RETURNING`) serialises appends on PostgreSQL as on SQLite's single writer, so the
/// chain never forks. Call it as the last statement of a transaction: the lock is then held
/// only for the commit.
pub async fn append(c: &mut Conn<'_>, e: NewAuditEntry) -> Result<i64> {
    let (seq, prev): (i64, String) = both!(c, c => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash").fetch_one(c).await)?;
    let entry = AuditEntry {
        seq,
        at_ms: e.at_ms,
        actor_id: e.actor_id,
        actor_name: e.actor_name,
        action: e.action,
        entity: e.entity,
        entity_id: e.entity_id,
        detail: e.detail,
        source: e.source,
        request_id: e.request_id,
    };
    let hash = entry.chain_hash(&prev);
    both!(c, c => sqlx::query(
        "INSERT INTO audit_log (seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(seq).bind(entry.at_ms).bind(entry.actor_id).bind(&entry.actor_name).bind(&entry.action)
        .bind(&entry.entity).bind(&entry.entity_id).bind(&entry.detail).bind(&entry.source).bind(&entry.request_id)
        .bind(&prev).bind(&hash)
        .execute(c).await.map(|r| r.rows_affected()))?;
    both!(c, c => sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(seq)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at_ms: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub detail: String,
    pub source: String,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    fn entry(&self) -> AuditEntry {
        AuditEntry {
            seq: self.seq,
            at_ms: self.at_ms,
            actor_id: self.actor_id,
            actor_name: self.actor_name.clone(),
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            detail: self.detail.clone(),
            source: self.source.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

const AUDIT_COLS: &str =
    "seq, at_ms, actor_id, actor_name, action, entity, entity_id, detail, source, request_id, prev_hash, hash";

/// Newest first, optionally one action prefix (`auth.`, `station.`).
pub async fn list(c: &mut Conn<'_>, action_prefix: Option<&str>, page: PageRequest) -> Result<Page<AuditRow>> {
    let pattern = format!("{}%", action_prefix.unwrap_or(""));
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE action LIKE $1 ORDER BY seq DESC LIMIT $2 OFFSET $3");
    let items = both!(c, c => sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql))
        .bind(&pattern).bind(page.limit()).bind(page.offset()).fetch_all(c).await)?;
    let total: i64 = both!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE $1")
        .bind(&pattern).fetch_one(c).await)?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// Entries about one record, oldest first.
pub async fn for_entity(c: &mut Conn<'_>, entity: &str, entity_id: &str) -> Result<Vec<AuditRow>> {
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq");
    Ok(
        both!(c, c => sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql)).bind(entity).bind(entity_id).fetch_all(c).await)?,
    )
}

/// Outcome of a verification of the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    pub first_break: Option<ChainBreak>,
}

/// Walk the chain in pages of `batch` entries and report the first broken link.
/// `progress` is called with the number checked so far and the total.
///
/// It checks one consistent chain while the server keeps appending: the head is read first, then
/// the entries up to it. Appends are serialised on the head row and commit together with it, so
/// every entry up to a committed head is committed, and none of them changes afterwards; entries
/// appended meanwhile lie beyond the head read and are left to the next run.
pub async fn verify(db: &Db, batch: i64, mut progress: impl FnMut(u64, u64)) -> Result<Verification> {
    let mut rd = db.read().await?;
    let (head_seq, head_hash): (i64, String) = both!(&mut rd.conn(), c => sqlx::query_as(
        "SELECT seq, last_hash FROM audit_head WHERE id = 1").fetch_one(c).await)?;
    let total = u64::try_from(head_seq).unwrap_or(0);
    let mut v = ChainVerifier::default();
    let mut after = 0i64;
    let mut last_hash = GENESIS.to_string();
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3");
    loop {
        let rows = both!(&mut rd.conn(), c => sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(after).bind(head_seq).bind(batch).fetch_all(c).await)?;
        let Some(last) = rows.last() else { break };
        for r in &rows {
            if let Err(b) = v.check(&r.entry(), &r.prev_hash, &r.hash) {
                return Ok(Verification { checked: v.checked, first_break: Some(b) });
            }
        }
        after = last.seq;
        last_hash = last.hash.clone();
        progress(v.checked, total);
    }
    // The head must name the last entry: a removed tail is a break too.
    if after != head_seq || last_hash != head_hash {
        let seq = if after < head_seq { after + 1 } else { head_seq };
        return Ok(Verification { checked: v.checked, first_break: Some(ChainBreak::HeadMismatch { seq }) });
    }
    Ok(Verification { checked: v.checked, first_break: None })
}
