//! The audit trail as the use cases write it, its checkpoints outside the database, and its verification.
use crate::{App, AppError, Ctx, Result};
use shouhou_domain::audit::{ChainBreak, Checkpoint, CheckpointLineError};
use shouhou_domain::auth::Permission;
use shouhou_store::audit::{self, Event, Head, Verification};
pub use shouhou_store::audit::{AuditFilter, AuditRow};
use shouhou_store::{Conn, Page, PageRequest};
use std::io::Write as _;
use std::sync::atomic::Ordering;

/// Append an audit entry for `ctx` inside the caller's transaction (call last, before commit).
pub async fn record(
    c: &mut Conn<'_>,
    app: &App,
    ctx: &Ctx,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    detail: serde_json::Value,
) -> Result<()> {
    append_as(c, app, ctx, (ctx.actor_id(), ctx.actor_name()), action, entity, entity_id, detail).await
}

/// Append an audit entry for what the customer portal did (a report, a confirmation): no user,
/// the actor named `portal`, the client's address as its source, whoever else may be signed in.
pub(crate) async fn record_portal(
    c: &mut Conn<'_>,
    app: &App,
    ctx: &Ctx,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    detail: serde_json::Value,
) -> Result<()> {
    append_as(c, app, ctx, (None, PORTAL.to_string()), action, entity, entity_id, detail).await
}

#[allow(clippy::too_many_arguments)]
async fn append_as(
    c: &mut Conn<'_>,
    app: &App,
    ctx: &Ctx,
    (actor_id, actor_name): (Option<i64>, String),
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    detail: serde_json::Value,
) -> Result<()> {
    audit::append(
        c,
        &app.keys,
        Event {
            at_ms: app.now(),
            actor_id,
            actor_name,
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id,
            detail: detail.to_string(),
            source: ctx.source.clone(),
            request_id: ctx.request_id.clone(),
        },
    )
    .await?;
    Ok(())
}

/// The actor name of what the customer portal records (audit entries, timeline events).
pub const PORTAL: &str = "portal";

/// Record an event on its own (a failed login, a read of personal data) in its own transaction.
pub async fn record_alone(
    app: &App,
    ctx: &Ctx,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    detail: serde_json::Value,
) -> Result<()> {
    let mut tx = app.db.begin().await?;
    record(&mut tx.conn(), app, ctx, action, entity, entity_id, detail).await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn list_audit(app: &App, ctx: &Ctx, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditRow>> {
    ctx.require_read(Permission::AuditRead)?;
    let mut rd = app.db.read().await?;
    Ok(audit::list(&mut rd.conn(), filter, page).await?)
}

/// Display names of the operators of `rows`, by user id.
pub async fn actor_names(app: &App, ctx: &Ctx, rows: &[AuditRow]) -> Result<std::collections::BTreeMap<i64, String>> {
    ctx.require_read(Permission::AuditRead)?;
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.entry.event.actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rd = app.db.read().await?;
    Ok(audit::actor_names(&mut rd.conn(), &ids).await?)
}

/// The signed checkpoints of the checkpoint file, oldest first, and how many lines were refused
/// for a signature that does not hold. No file (or none configured): none.
pub fn read_checkpoints(app: &App) -> Result<(Vec<Checkpoint>, usize)> {
    let Some(path) = &app.config.audit_checkpoints else { return Ok((vec![], 0)) };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], 0)),
        Err(e) => return Err(AppError::Internal(format!("reading {}: {e}", path.display()))),
    };
    let (mut good, mut rejected) = (vec![], 0);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match Checkpoint::parse_line(line, app.keys.audit_key()) {
            Ok(cp) => good.push(cp),
            // A line cut short by a crash while it was written.
            Err(CheckpointLineError::Malformed) => {}
            Err(CheckpointLineError::BadSignature) => rejected += 1,
        }
    }
    if rejected > 0 {
        tracing::warn!(file = %path.display(), rejected, "audit checkpoint lines not signed with this audit key");
    }
    Ok((good, rejected))
}

/// Append a signed checkpoint of `head` to the checkpoint file (created 0600), unless this
/// process wrote it already or the chain is empty. Synced: it is the anchor a later verification
/// trusts.
fn append_checkpoint(app: &App, head: &Head) -> Result<Option<Checkpoint>> {
    let Some(path) = &app.config.audit_checkpoints else { return Ok(None) };
    if head.seq == 0 || app.checkpointed.load(Ordering::Relaxed) >= head.seq {
        return Ok(None);
    }
    let cp = Checkpoint { seq: head.seq, hash: head.last_hash.clone(), keyed_from: head.keyed_from, at_ms: app.now() };
    let write = || -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(path)?;
        if f.metadata()?.len() == 0 {
            f.write_all(
                b"# shouhou audit checkpoints: seq hash keyed_from at_ms hmac, signed with the audit key.\n\
                  # Appended by the server; `shouhou audit verify` compares the chain in the database with them.\n",
            )?;
        }
        // One write of one short line: appends of several processes do not interleave.
        f.write_all(cp.to_line(app.keys.audit_key()).as_bytes())?;
        f.sync_data()
    };
    write().map_err(|e| AppError::Internal(format!("writing {}: {e}", path.display())))?;
    app.checkpointed.fetch_max(head.seq, Ordering::Relaxed);
    Ok(Some(cp))
}

/// Write a checkpoint of the chain's head as it is now, if it moved since the last one. The
/// worker calls it every few minutes and the server once more when it stops.
pub async fn checkpoint_audit(app: &App) -> Result<Option<Checkpoint>> {
    let head = {
        let mut rd = app.db.read().await?;
        audit::head(&mut rd.conn()).await?
    };
    append_checkpoint(app, &head)
}

/// What the server finds at its start, cheaply (the whole chain is `verify_audit`'s work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditStartCheck {
    pub missing_triggers: Vec<String>,
    /// The head disagrees with the newest signed checkpoint.
    pub problem: Option<ChainBreak>,
}

/// At start: are the append-only triggers there, and does the head still reach the newest signed
/// checkpoint with the same hash? Problems are logged (and answered); if there is none, the head
/// is checkpointed.
pub async fn audit_start_check(app: &App) -> Result<AuditStartCheck> {
    let (checkpoints, _) = read_checkpoints(app)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let missing_triggers = audit::missing_triggers(&mut c).await?;
    let head = audit::head(&mut c).await?;
    let problem = match checkpoints.iter().max_by_key(|cp| cp.seq) {
        None => None,
        Some(cp) if cp.seq > head.seq => Some(ChainBreak::Truncated { head_seq: head.seq, checkpoint_seq: cp.seq }),
        Some(cp) if audit::hash_at(&mut c, cp.seq).await?.as_deref() != Some(cp.hash.as_str()) => {
            Some(ChainBreak::CheckpointMismatch { seq: cp.seq })
        }
        Some(cp) if cp.keyed_from != head.keyed_from => {
            Some(ChainBreak::CheckpointMismatch { seq: cp.keyed_from.min(head.keyed_from) })
        }
        Some(_) => None,
    };
    drop(rd);
    if !missing_triggers.is_empty() {
        tracing::warn!(
            triggers = %missing_triggers.join(", "),
            "the audit trail is no longer append-only: its triggers are missing; run `shouhou audit verify`"
        );
    }
    match &problem {
        Some(b) => tracing::error!(
            reason = b.reason(),
            seq = b.seq(),
            head = head.seq,
            "the audit trail does not match its signed checkpoints; run `shouhou audit verify`"
        ),
        None => {
            append_checkpoint(app, &head)?;
        }
    }
    Ok(AuditStartCheck { missing_triggers, problem })
}

/// Recompute the whole chain, compare it with the signed checkpoints and the append-only
/// triggers; an intact chain's head is checkpointed. The command line (no user) or a holder of
/// the audit permission.
#[tracing::instrument(skip_all)]
pub async fn verify_audit(app: &App, ctx: &Ctx) -> Result<Verification> {
    verify_audit_with_progress(app, ctx, |_, _| {}).await
}

/// [`verify_audit`], telling `progress` the entries checked so far and the total.
pub async fn verify_audit_with_progress(app: &App, ctx: &Ctx, progress: impl FnMut(u64, u64)) -> Result<Verification> {
    if !(ctx.actor.is_none() && ctx.source == "cli") {
        ctx.require_read(Permission::AuditRead)?;
    }
    // The checkpoints first, then the head (see `audit::verify`).
    let (checkpoints, rejected) = read_checkpoints(app)?;
    let mut v = audit::verify(&app.db, &app.keys, &checkpoints, 1000, progress).await?;
    v.checkpoints_rejected = rejected;
    if v.first_break.is_none() {
        append_checkpoint(app, &v.head)?;
    }
    Ok(v)
}
