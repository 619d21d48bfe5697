//! The audit trail page: entries and the chain's verification.
use super::{Chrome, CsrfForm, Pager, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::pages::shared::ListQuery;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use shouhou_app::PageRequest;
use shouhou_domain::audit::ChainBreak;

// ---------- audit ----------

pub struct AuditLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<AuditLine>,
    pager: Pager,
    verdict: Option<String>,
}

#[derive(Template)]
#[template(path = "verdict.html")]
struct Verdict {
    intact: bool,
    message: String,
}

pub async fn audit(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Response {
    if let Err(e) = require_login(&rc, "/audit") {
        return e.into_response();
    }
    match shouhou_app::audit::list_audit(&s.app, &rc.ctx, None, PageRequest::new(q.page, Some(50))).await {
        Ok(p) => {
            let pager = Pager::new(rc.tr, "/audit", "", &p);
            let rows = p
                .items
                .into_iter()
                .map(|r| AuditLine {
                    seq: r.seq,
                    at: crate::api::rfc3339(r.at_ms).replace('T', " ").chars().take(19).collect(),
                    actor: r.actor_name,
                    action: r.action,
                    entity: format!("{} {}", r.entity, r.entity_id.unwrap_or_default()),
                    source: r.source,
                })
                .collect();
            render(&AuditPage { c: Chrome::new(&rc, "audit-title", "/audit"), rows, pager, verdict: None })
        }
        Err(e) => page_err(&rc, "/audit")(e).into_response(),
    }
}

pub async fn verify_audit(State(s): State<AppState>, rc: ReqCtx, CsrfForm(_f): CsrfForm) -> Response {
    match shouhou_app::audit::verify_audit(&s.app, &rc.ctx).await {
        Ok(v) => {
            let message = match &v.first_break {
                None if v.missing_triggers.is_empty() => rc.tr.t1("audit-ok", "count", v.checked),
                None => rc.tr.t1("audit-triggers-missing", "triggers", v.missing_triggers.join(", ")),
                Some(ChainBreak::Truncated { head_seq, checkpoint_seq }) => {
                    rc.tr.t2("audit-truncated", "head", *head_seq, "checkpoint", *checkpoint_seq)
                }
                Some(b @ ChainBreak::CheckpointMismatch { .. }) => {
                    rc.tr.t1("audit-checkpoint-mismatch", "seq", b.seq())
                }
                Some(b) => rc.tr.t1("audit-broken", "seq", b.seq()),
            };
            let verdict = Verdict { intact: v.intact(), message };
            render(&verdict)
        }
        Err(e) => page_err(&rc, "/audit")(e).into_response(),
    }
}
