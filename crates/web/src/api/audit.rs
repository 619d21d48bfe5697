//! The audit trail over the API: reading it with filters, and verifying the chain.
use super::{Instant, Paged};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiQuery;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shouhou_app::AppError;
use shouhou_app::audit::AuditRow;
use shouhou_domain::audit::ChainBreak;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only actions starting with this, e.g. `auth.`.
    pub action: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: Instant,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// What the action did, as recorded (a JSON object; its keys depend on the action).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub source: String,
    pub request_id: String,
    pub hash: String,
}

impl TryFrom<AuditRow> for AuditView {
    type Error = AppError;
    fn try_from(r: AuditRow) -> Result<Self, AppError> {
        let e = r.entry.event;
        Ok(AuditView {
            seq: r.entry.seq,
            at: Instant::from_ms(e.at_ms)?,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            // Written as JSON by this program; anything else is shown as the text it is.
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
            source: e.source,
            request_id: e.request_id,
            hash: r.hash,
        })
    }
}

/// The audit trail, newest first (administrators, managers).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<AuditView>)))]
pub async fn list_audit(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Paged<AuditView>>> {
    let page = super::page_of(q.page, q.per_page)?;
    let action = shouhou_domain::text::search_text("action", q.action.as_deref())
        .map_err(|e| shouhou_app::AppError::Validation(e.into()))?;
    let filter = shouhou_app::audit::AuditFilter { action_prefix: action, ..Default::default() };
    let p = shouhou_app::audit::list_audit(&s.app, &rc.ctx, &filter, page).await?;
    Ok(Json(Paged::try_from(p, AuditView::try_from)?))
}

#[derive(Serialize, ToSchema)]
pub struct VerifyAnswer {
    /// The chain holds, matches the signed checkpoints, and its append-only triggers are in place.
    pub intact: bool,
    pub checked: u64,
    /// Sequence number of the first entry whose link does not hold (for `truncated`: the first
    /// entry missing).
    pub first_broken_seq: Option<i64>,
    /// `hash_mismatch`, `prev_mismatch`, `gap`, `head_mismatch` (the head does not name the last
    /// entry), `checkpoint_mismatch` (a signed checkpoint names another hash: rewritten),
    /// `truncated` (a signed checkpoint saw more entries: the tail was removed or the log
    /// emptied), or `triggers_missing` (the chain holds but is no longer append-only).
    pub reason: Option<String>,
    /// How many entries the database's head names.
    pub head_seq: i64,
    /// The newest signed checkpoint compared with.
    pub checkpoint_seq: Option<i64>,
    /// Append-only triggers that are gone or disabled.
    pub missing_triggers: Vec<String>,
    /// Checkpoint lines whose signature does not hold.
    pub checkpoints_rejected: usize,
}

/// Walk the hash chain, compare it with the signed checkpoints kept outside the database, check
/// the append-only triggers, and report the first problem.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyAnswer)))]
pub async fn verify_audit(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<Json<VerifyAnswer>> {
    let v = shouhou_app::audit::verify_audit(&s.app, &rc.ctx).await?;
    Ok(Json(VerifyAnswer {
        intact: v.intact(),
        checked: v.checked,
        first_broken_seq: v.first_break.as_ref().map(ChainBreak::seq),
        reason: v.reason().map(str::to_string),
        head_seq: v.head.seq,
        checkpoint_seq: v.checkpoint_seq,
        missing_triggers: v.missing_triggers,
        checkpoints_rejected: v.checkpoints_rejected,
    }))
}
