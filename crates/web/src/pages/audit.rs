//! The audit trail page: entries in words (what was done to which record, by whom), filtered in
//! SQL by operator, kind of action, dates and record; and the chain's verification.
use super::{Chrome, CsrfForm, PageError, Pager, page_err, render, require_login, urlencode};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::PageRequest;
use shouhou_app::audit::AuditFilter;
use shouhou_domain::audit::ChainBreak;

// ---------- audit ----------

/// The kinds of action offered in the "what" filter: the prefix of their codes.
const ACTION_GROUPS: [&str; 10] =
    ["request.", "customer.", "device.", "sla", "calendar.", "station.", "warehouse.", "user.", "auth.", "keys."];
/// The kinds of record offered in the "record" filter.
const ENTITIES: [&str; 9] = [
    "service_request",
    "customer",
    "device",
    "station",
    "warehouse",
    "user",
    "calendar",
    "sla_policy",
    "product_model",
];

pub struct AuditLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub code: String,
    pub target: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<AuditLine>,
    pager: Pager,
    verdict: Option<String>,
    q: AuditQuery,
    groups: Vec<(String, String)>,
    entities: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "verdict.html")]
struct Verdict {
    intact: bool,
    message: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub page: Option<u32>,
    #[serde(default)]
    pub who: String,
    #[serde(default)]
    pub what: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub id: String,
}

/// A label when the locale has one, else `fallback`.
fn label_or(tr: Tr, key: &str, fallback: &str) -> String {
    let l = tr.t(key);
    if l == key { fallback.to_string() } else { l }
}

/// "请求状态变更" for `request.transition`; the code itself for an action without a label.
pub fn action_label(tr: Tr, code: &str) -> String {
    label_or(tr, &format!("audit-do-{}", code.replace(['.', '_'], "-")), code)
}

/// "服务请求 #12" for (`service_request`, `12`).
pub fn target_label(tr: Tr, entity: &str, id: Option<&str>) -> String {
    let kind = label_or(tr, &format!("audit-what-{}", entity.replace('_', "-")), entity);
    match id {
        Some(id) if !id.is_empty() => format!("{kind} #{id}"),
        _ => kind,
    }
}

/// Midnight at the start of a date in Beijing, as epoch milliseconds; `None` for no or a bad date.
fn day_start_ms(date: &str, plus_days: i64) -> Option<i64> {
    let d: jiff::civil::Date = date.trim().parse().ok()?;
    let d = d.checked_add(jiff::Span::new().days(plus_days)).ok()?;
    d.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).ok().map(|z| z.timestamp().as_millisecond())
}

pub async fn audit(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<AuditQuery>) -> Result<Response, PageError> {
    require_login(&rc, "/audit")?;
    let err = page_err(&rc, "/audit");
    let tr = rc.tr;
    let filter = AuditFilter {
        action_prefix: ACTION_GROUPS.contains(&q.what.as_str()).then(|| q.what.clone()),
        actor: Some(q.who.trim().to_string()).filter(|w| !w.is_empty()),
        from_ms: day_start_ms(&q.from, 0),
        // The "to" date is included: up to the next midnight.
        to_ms: day_start_ms(&q.to, 1),
        entity: ENTITIES.contains(&q.entity.as_str()).then(|| q.entity.clone()),
        entity_id: Some(q.id.trim().to_string()).filter(|i| !i.is_empty()),
    };
    let p = shouhou_app::audit::list_audit(&s.app, &rc.ctx, &filter, PageRequest::new(q.page, Some(50)))
        .await
        .map_err(&err)?;
    let names = shouhou_app::audit::actor_names(&s.app, &rc.ctx, &p.items).await.map_err(&err)?;
    let extra = format!(
        "&who={}&what={}&from={}&to={}&entity={}&id={}",
        urlencode(&q.who),
        urlencode(&q.what),
        urlencode(&q.from),
        urlencode(&q.to),
        urlencode(&q.entity),
        urlencode(&q.id)
    );
    let pager = Pager::new(tr, "/audit", &extra, &p);
    let rows = p
        .items
        .into_iter()
        .map(|r| {
            let e = r.entry.event;
            AuditLine {
                seq: r.entry.seq,
                at: crate::api::rfc3339(e.at_ms).replace('T', " ").chars().take(16).collect(),
                actor: e.actor_id.and_then(|id| names.get(&id).cloned()).unwrap_or(e.actor_name),
                action: action_label(tr, &e.action),
                target: target_label(tr, &e.entity, e.entity_id.as_deref()),
                code: e.action,
                source: e.source,
            }
        })
        .collect();
    let page = AuditPage {
        c: Chrome::new(&rc, "audit-title", "/audit"),
        rows,
        pager,
        verdict: None,
        groups: ACTION_GROUPS
            .iter()
            .map(|g| (g.to_string(), tr.t(&format!("audit-group-{}", g.trim_end_matches('.')))))
            .collect(),
        entities: ENTITIES.iter().map(|e| (e.to_string(), target_label(tr, e, None))).collect(),
        q,
    };
    Ok(render(&page))
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
