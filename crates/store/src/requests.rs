//! Service requests, their per-day numbers and their timeline of events.
use crate::{Conn, Page, PageRequest, Result, StoreError, both, scope_clause};
use jiff::Timestamp;
use serde::Serialize;
use shouhou_domain::FieldError;
use shouhou_domain::auth::Scope;
use shouhou_domain::ids::StationId;
use shouhou_domain::requests::{Action, Channel, Request, RequestType, Status, Step, StepKind, Urgency};
use shouhou_domain::sla::{ClockState, Figures};
use sqlx::AssertSqlSafe;

/// The next number of a day, atomically on both backends (the row lock of the upsert serialises
/// concurrent creators on PostgreSQL; a rolled-back command gives its number back).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn next_counter(c: &mut Conn<'_>, day: &str) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO request_counters (day, last) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last = request_counters.last + 1 RETURNING last")
        .bind(day).fetch_one(c).await)?)
}

/// A `service_requests` row as stored; read through `Request::try_from`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct RequestRow {
    pub id: i64,
    pub number: String,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub request_type: String,
    pub channel: String,
    pub urgency: String,
    pub status: String,
    pub description: String,
    pub fault_code: Option<String>,
    pub station_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_by: Option<i64>,
    pub first_contact_resolution: bool,
    pub promised_reply_at: Option<i64>,
    pub calendar_code: String,
    pub policy_id: Option<i64>,
    pub response_target_min: i64,
    pub resolution_target_min: i64,
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub response_state: String,
    pub resolution_state: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub response_warn_at: Option<i64>,
    pub resolution_warn_at: Option<i64>,
}

/// An instant stored as epoch milliseconds; out of range is corrupt, never 1970.
pub(crate) fn instant(field: &str, ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Corrupt(format!("{field}: {ms} is no instant")))
}

pub(crate) fn optional_instant(field: &str, ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(|ms| instant(field, ms)).transpose()
}

/// A stored choice the domain refuses is corrupt, never a default.
pub(crate) fn choice<T>(
    field: &str,
    v: &str,
    parse: impl Fn(&str, &str) -> std::result::Result<T, FieldError>,
) -> Result<T> {
    parse(field, v).map_err(|_| StoreError::Corrupt(format!("{field}: unknown value {v:?}")))
}

impl TryFrom<RequestRow> for Request {
    type Error = StoreError;
    fn try_from(r: RequestRow) -> Result<Self> {
        Ok(Request {
            request_type: choice("request_type", &r.request_type, RequestType::parse)?,
            channel: choice("channel", &r.channel, Channel::parse)?,
            urgency: choice("urgency", &r.urgency, Urgency::parse)?,
            status: choice("status", &r.status, Status::parse)?,
            promised_reply_at: optional_instant("promised_reply_at", r.promised_reply_at)?,
            sla: Figures {
                response_due_at: optional_instant("response_due_at", r.response_due_at)?,
                resolution_due_at: optional_instant("resolution_due_at", r.resolution_due_at)?,
                response_state: choice("response_state", &r.response_state, ClockState::parse)?,
                resolution_state: choice("resolution_state", &r.resolution_state, ClockState::parse)?,
                response_warn_at: optional_instant("response_warn_at", r.response_warn_at)?,
                resolution_warn_at: optional_instant("resolution_warn_at", r.resolution_warn_at)?,
            },
            created_at: instant("created_at", r.created_at)?,
            updated_at: instant("updated_at", r.updated_at)?,
            closed_at: optional_instant("closed_at", r.closed_at)?,
            id: r.id,
            number: r.number,
            customer_id: r.customer_id,
            device_id: r.device_id,
            description: r.description,
            fault_code: r.fault_code,
            station_id: r.station_id.map(StationId),
            assignee_id: r.assignee_id,
            created_by: r.created_by,
            first_contact_resolution: r.first_contact_resolution,
            calendar_code: r.calendar_code,
            policy_id: r.policy_id,
            response_target_min: r.response_target_min,
            resolution_target_min: r.resolution_target_min,
            version: r.version,
        })
    }
}

fn typed(rows: Vec<RequestRow>) -> Result<Vec<Request>> {
    rows.into_iter().map(Request::try_from).collect()
}

const REQUEST_COLS: &str = "id, number, customer_id, device_id, request_type, channel, urgency, status, description, fault_code, \
    station_id, assignee_id, created_by, first_contact_resolution, promised_reply_at, calendar_code, policy_id, response_target_min, \
    resolution_target_min, response_due_at, resolution_due_at, response_state, resolution_state, version, created_at, updated_at, closed_at, \
    response_warn_at, resolution_warn_at";

pub struct NewRequest<'a> {
    pub number: &'a str,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub request_type: &'a str,
    pub channel: &'a str,
    pub urgency: &'a str,
    pub status: &'a str,
    pub description: &'a str,
    pub fault_code: Option<&'a str>,
    pub station_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_by: Option<i64>,
    pub promised_reply_at: Option<i64>,
    pub calendar_code: &'a str,
    pub policy_id: Option<i64>,
    pub response_target_min: i64,
    pub resolution_target_min: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_request(c: &mut Conn<'_>, r: &NewRequest<'_>, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO service_requests (number, customer_id, device_id, request_type, channel, urgency, status, description, \
         fault_code, station_id, assignee_id, created_by, promised_reply_at, calendar_code, policy_id, response_target_min, \
         resolution_target_min, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id")
        .bind(r.number).bind(r.customer_id).bind(r.device_id).bind(r.request_type).bind(r.channel).bind(r.urgency)
        .bind(r.status).bind(r.description).bind(r.fault_code).bind(r.station_id).bind(r.assignee_id).bind(r.created_by)
        .bind(r.promised_reply_at).bind(r.calendar_code).bind(r.policy_id).bind(r.response_target_min)
        .bind(r.resolution_target_min).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_request(c: &mut Conn<'_>, id: i64) -> Result<Option<Request>> {
    let sql = format!("SELECT {REQUEST_COLS} FROM service_requests WHERE id = $1");
    let row = both!(c, c => sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    row.map(Request::try_from).transpose()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn request_by_number(c: &mut Conn<'_>, number: &str) -> Result<Option<Request>> {
    let sql = format!("SELECT {REQUEST_COLS} FROM service_requests WHERE number = $1");
    let row = both!(c, c => sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql)).bind(number).fetch_optional(c).await)?;
    row.map(Request::try_from).transpose()
}

/// The cached, derived SLA figures of a request (recomputed from its events by the application).
#[derive(Debug, Clone, Default)]
pub struct SlaCache {
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub response_state: String,
    pub resolution_state: String,
    /// While running and below 80 %: when 80 % of the target is reached.
    pub response_warn_at: Option<i64>,
    pub resolution_warn_at: Option<i64>,
}

impl From<Figures> for SlaCache {
    fn from(f: Figures) -> Self {
        let ms = |t: Option<Timestamp>| t.map(|t| t.as_millisecond());
        SlaCache {
            response_due_at: ms(f.response_due_at),
            resolution_due_at: ms(f.resolution_due_at),
            response_state: f.response_state.as_str().to_string(),
            resolution_state: f.resolution_state.as_str().to_string(),
            response_warn_at: ms(f.response_warn_at),
            resolution_warn_at: ms(f.resolution_warn_at),
        }
    }
}

/// Move a request to `status` if `version` is still current.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_status(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    status: &str,
    first_contact_resolution: Option<bool>,
    closed_at: Option<i64>,
    sla: &SlaCache,
    now: i64,
) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE service_requests SET status = $1, first_contact_resolution = COALESCE($2, first_contact_resolution), \
         closed_at = $3, response_due_at = $4, resolution_due_at = $5, response_state = $6, resolution_state = $7, \
         version = version + 1, updated_at = $8, response_warn_at = $11, resolution_warn_at = $12 \
         WHERE id = $9 AND version = $10 RETURNING version")
        .bind(status).bind(first_contact_resolution).bind(closed_at).bind(sla.response_due_at).bind(sla.resolution_due_at)
        .bind(&sla.response_state).bind(&sla.resolution_state).bind(now).bind(id).bind(version)
        .bind(sla.response_warn_at).bind(sla.resolution_warn_at)
        .fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match get_request(c, id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

/// Give the request to a person (or to nobody) if `version` is still current.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_assignee(c: &mut Conn<'_>, id: i64, version: i64, assignee: Option<i64>, now: i64) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE service_requests SET assignee_id = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4 RETURNING version")
        .bind(assignee).bind(now).bind(id).bind(version).fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match get_request(c, id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

/// A new type or urgency and the targets of the policy that now applies, if `version` is current.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reclassify(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    request_type: &str,
    urgency: &str,
    policy_id: i64,
    calendar_code: &str,
    response_target_min: i64,
    resolution_target_min: i64,
    now: i64,
) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE service_requests SET request_type = $1, urgency = $2, policy_id = $3, calendar_code = $4, response_target_min = $5, \
         resolution_target_min = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9 RETURNING version")
        .bind(request_type).bind(urgency).bind(policy_id).bind(calendar_code).bind(response_target_min).bind(resolution_target_min)
        .bind(now).bind(id).bind(version).fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match get_request(c, id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

/// Store recomputed SLA figures without touching the version (a policy or calendar edit).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_sla(c: &mut Conn<'_>, id: i64, sla: &SlaCache) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE service_requests SET response_due_at = $1, resolution_due_at = $2, response_state = $3, resolution_state = $4, \
         response_warn_at = $6, resolution_warn_at = $7 WHERE id = $5")
        .bind(sla.response_due_at).bind(sla.resolution_due_at).bind(&sla.response_state).bind(&sla.resolution_state).bind(id)
        .bind(sla.response_warn_at).bind(sla.resolution_warn_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestEvent {
    pub id: i64,
    pub request_id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub kind: String,
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
    pub data: String,
}

impl RequestEvent {
    /// The step the SLA clocks hear of, if this event is one (registration, a lifecycle step);
    /// a status event whose stored status or action the rules do not know is corrupt.
    pub fn step(&self) -> Result<Option<Step>> {
        let kind = match (self.kind.as_str(), self.from_status.as_deref(), self.action.as_deref()) {
            ("created", _, _) => StepKind::Created,
            ("parts_wait", _, _) => StepKind::PartsWait,
            ("parts_arrived", _, _) => StepKind::PartsArrived,
            ("status", Some(from), Some(action)) => StepKind::Transition {
                from: choice("from_status", from, Status::parse)?,
                action: choice("action", action, Action::parse)?,
            },
            ("status", _, _) => {
                return Err(StoreError::Corrupt(format!("event {}: a status event without its step", self.id)));
            }
            _ => return Ok(None),
        };
        Ok(Some(Step { at: instant("at", self.at)?, kind }))
    }
}

/// The steps of a timeline the SLA clocks hear of, in recorded order.
pub fn steps(events: &[RequestEvent]) -> Result<Vec<Step>> {
    events.iter().filter_map(|e| e.step().transpose()).collect()
}

pub struct NewEvent<'a> {
    pub request_id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub kind: &'a str,
    pub action: Option<&'a str>,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub note: &'a str,
    pub data: &'a str,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_event(c: &mut Conn<'_>, e: &NewEvent<'_>) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO request_events (request_id, at, actor_id, actor_name, kind, action, from_status, to_status, note, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(e.request_id).bind(e.at).bind(e.actor_id).bind(e.actor_name).bind(e.kind).bind(e.action)
        .bind(e.from_status).bind(e.to_status).bind(e.note).bind(e.data)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn events_of(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<RequestEvent>> {
    Ok(both!(c, c => sqlx::query_as::<_, RequestEvent>(
        "SELECT id, request_id, at, actor_id, actor_name, kind, action, from_status, to_status, note, data \
         FROM request_events WHERE request_id = $1 ORDER BY id").bind(request_id).fetch_all(c).await)?)
}

/// Requests of a customer, newest first: `open` narrows to open ones or to closed/cancelled ones.
/// Bounded however long the customer's history: each reads at most `limit` entries of its partial
/// index (`service_requests_customer_open` / `_closed`, migration 0010) in order.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn requests_of_customer(
    c: &mut Conn<'_>,
    customer_id: i64,
    scope: &Scope,
    open: bool,
    limit: i64,
) -> Result<Vec<Request>> {
    // A request of no station is headquarters': the same rule as a direct read.
    let (clause, ids) = crate::scope_clause(scope, "station_id", 3);
    let sql = requests_of_customer_sql(open, &clause);
    typed(both!(c, c => {
        let mut q = sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql)).bind(customer_id).bind(limit);
        for id in &ids { q = q.bind(id); }
        q.fetch_all(c).await
    })?)
}

/// The statement of [`requests_of_customer`]: customer `$1`, limit `$2`, `scope` the scope clause
/// (its parameters from `$3`). Public for the benchmark, which times and explains what ships.
pub fn requests_of_customer_sql(open: bool, scope: &str) -> String {
    // Word for word the predicates of the partial indexes, so that both planners match them.
    let cond = if open { "status NOT IN ('closed', 'cancelled')" } else { "status IN ('closed', 'cancelled')" };
    format!(
        "SELECT {REQUEST_COLS} FROM service_requests WHERE customer_id = $1 AND {cond} AND {scope} \
         ORDER BY created_at DESC LIMIT $2"
    )
}

/// Which queue an agent looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Mine(i64),
    Station,
    Unassigned,
    /// Open, with a due time before the given instant.
    DueBefore(i64),
    Breached,
    AllOpen,
}

/// Open requests of a queue in the scope, soonest due first. A page walks the open requests'
/// queue index (`service_requests_open_queue`, migration 0010) in order and stops at its end; the
/// count reads that index only, so both grow with the open requests, never with the history.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue(c: &mut Conn<'_>, scope: &Scope, q: Queue, page: PageRequest) -> Result<Page<Request>> {
    let (clause, ids) = scope_clause(scope, "station_id", 2);
    let scoped = if matches!(scope, Scope::All) { clause } else { format!("({clause})") };
    let (cond, arg) = queue_condition(q);
    let (sql, count_sql) = queue_sql(cond, &scoped, ids.len() + 2);
    let items = both!(c, c => {
        let mut qy = sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql)).bind(arg);
        for id in &ids { qy = qy.bind(id); }
        qy.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let total: i64 = both!(c, c => {
        let mut qy = sqlx::query_scalar(AssertSqlSafe(count_sql)).bind(arg);
        for id in &ids { qy = qy.bind(id); }
        qy.fetch_one(c).await
    })?;
    Ok(Page { items: typed(items)?, page: page.page, per_page: page.per_page, total })
}

/// A queue's condition on its one parameter `$1`, and that parameter.
pub fn queue_condition(q: Queue) -> (&'static str, i64) {
    match q {
        Queue::Mine(user) => ("assignee_id = $1", user),
        Queue::Station => ("station_id IS NOT NULL AND $1 = $1", 0),
        Queue::Unassigned => ("assignee_id IS NULL AND $1 = $1", 0),
        Queue::DueBefore(t) => ("COALESCE(response_due_at, resolution_due_at) < $1", t),
        Queue::Breached => ("(response_state = 'breached' OR resolution_state = 'breached') AND $1 = $1", 0),
        Queue::AllOpen => ("$1 = $1", 0),
    }
}

/// The page and count statements of a queue: `cond` its condition on `$1`, `scoped` the scope
/// clause (parameters from `$2`), `n` the number of the LIMIT parameter (OFFSET is `n + 1`).
/// Public for the benchmark, which times and explains what ships.
pub fn queue_sql(cond: &str, scoped: &str, n: usize) -> (String, String) {
    // The open predicate and the order are word for word those of the queue index.
    let where_ = format!("WHERE status NOT IN ('closed', 'cancelled') AND {cond} AND {scoped}");
    let order = "ORDER BY CASE WHEN resolution_due_at IS NULL THEN 1 ELSE 0 END, resolution_due_at, id";
    (
        format!("SELECT {REQUEST_COLS} FROM service_requests {where_} {order} LIMIT ${n} OFFSET ${}", n + 1),
        format!("SELECT COUNT(*) FROM service_requests {where_}"),
    )
}

// ---------- attachments ----------

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentMeta {
    pub id: i64,
    pub request_id: i64,
    pub event_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

pub struct NewAttachment<'a> {
    pub request_id: i64,
    pub event_id: Option<i64>,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub content: &'a [u8],
    pub created_by: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_attachment(c: &mut Conn<'_>, a: &NewAttachment<'_>, now: i64) -> Result<i64> {
    let size = i64::try_from(a.content.len()).unwrap_or(i64::MAX);
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO attachments (request_id, event_id, file_name, content_type, size, sha256, content, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(a.request_id).bind(a.event_id).bind(a.file_name).bind(a.content_type).bind(size).bind(a.sha256)
        .bind(a.content).bind(a.created_by).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn attachments_of(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<AttachmentMeta>> {
    Ok(both!(c, c => sqlx::query_as::<_, AttachmentMeta>(
        "SELECT id, request_id, event_id, file_name, content_type, size, sha256, created_at FROM attachments WHERE request_id = $1 ORDER BY id")
        .bind(request_id).fetch_all(c).await)?)
}

/// The metadata and bytes of one attachment.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn attachment(c: &mut Conn<'_>, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
    let meta = both!(c, c => sqlx::query_as::<_, AttachmentMeta>(
        "SELECT id, request_id, event_id, file_name, content_type, size, sha256, created_at FROM attachments WHERE id = $1")
        .bind(id).fetch_optional(c).await)?;
    let Some(meta) = meta else { return Ok(None) };
    let bytes: Vec<u8> =
        both!(c, c => sqlx::query_scalar("SELECT content FROM attachments WHERE id = $1").bind(id).fetch_one(c).await)?;
    Ok(Some((meta, bytes)))
}

// ---------- start-page figures and a device's history ----------

/// What a start page counts over the requests in a scope: open ones by queue, and today's flow.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct QueueFigures {
    pub open: i64,
    pub mine: i64,
    pub unassigned: i64,
    pub due_soon: i64,
    pub at_risk: i64,
    pub breached: i64,
    pub registered_today: i64,
    pub closed_today: i64,
}

/// The figures of the requests in `scope`: `me` for "mine", open ones due before `due_before` as
/// "due soon", and "today" from `day_start` on (epoch milliseconds).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn figures(
    c: &mut Conn<'_>,
    scope: &Scope,
    me: i64,
    due_before: i64,
    day_start: i64,
) -> Result<QueueFigures> {
    let (clause, ids) = scope_clause(scope, "station_id", 4);
    let open = "status NOT IN ('closed', 'cancelled')";
    let n = |cond: &str| format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let sql = format!(
        "SELECT {} AS open, {} AS mine, {} AS unassigned, {} AS due_soon, {} AS at_risk, {} AS breached, \
         {} AS registered_today, {} AS closed_today FROM service_requests WHERE {clause}",
        n(open),
        n(&format!("{open} AND assignee_id = $1")),
        n(&format!("{open} AND assignee_id IS NULL")),
        n(&format!("{open} AND COALESCE(response_due_at, resolution_due_at) < $2")),
        n(&format!("{open} AND (response_state = 'at_risk' OR resolution_state = 'at_risk')")),
        n(&format!("{open} AND (response_state = 'breached' OR resolution_state = 'breached')")),
        n("created_at >= $3"),
        n("closed_at >= $3"),
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, QueueFigures>(AssertSqlSafe(sql)).bind(me).bind(due_before).bind(day_start);
        for id in &ids { q = q.bind(id); }
        q.fetch_one(c).await
    })?)
}

/// The requests about one device, newest first, those the scope may read only.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn requests_of_device(c: &mut Conn<'_>, device_id: i64, scope: &Scope, limit: i64) -> Result<Vec<Request>> {
    let (clause, ids) = scope_clause(scope, "station_id", 3);
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM service_requests WHERE device_id = $1 AND {clause} ORDER BY created_at DESC LIMIT $2"
    );
    typed(both!(c, c => {
        let mut q = sqlx::query_as::<_, RequestRow>(AssertSqlSafe(sql)).bind(device_id).bind(limit);
        for id in &ids { q = q.bind(id); }
        q.fetch_all(c).await
    })?)
}
