//! Work orders (派工单), their timeline, parts and files; what dispatch reads: station coverage,
//! engineers' skills and leave, open loads.
use crate::requests::{choice, instant, optional_instant};
use crate::{Conn, Result, StoreError, both, scope_clause};
use jiff::Timestamp;
use shouhou_domain::auth::Scope;
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::requests::Urgency;
use shouhou_domain::work_orders::{Arrange, Kind, Status, Window, WorkOrder};
use sqlx::AssertSqlSafe;

/// A `work_orders` row as stored; read through `WorkOrder::try_from`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct WorkOrderRow {
    id: i64,
    number: String,
    kind: String,
    status: String,
    service_request_id: Option<i64>,
    customer_id: i64,
    device_id: Option<i64>,
    urgency: String,
    region_code: String,
    description: String,
    station_id: Option<i64>,
    engineer_id: Option<i64>,
    calendar_code: String,
    arrange_from: i64,
    arrange_due_at: i64,
    arrange_warn_at: i64,
    arranged_at: Option<i64>,
    accept_due_at: Option<i64>,
    passed_stations: String,
    passed_engineers: String,
    appointment_from: Option<i64>,
    appointment_to: Option<i64>,
    departed_at: Option<i64>,
    checked_in_at: Option<i64>,
    check_in_lat: Option<f64>,
    check_in_lng: Option<f64>,
    fault_code: Option<String>,
    cause: Option<String>,
    work_done: Option<String>,
    labour_minutes: Option<i64>,
    customer_confirmed: bool,
    completed_at: Option<i64>,
    closed_at: Option<i64>,
    created_by: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

const COLS: &str = "id, number, kind, status, service_request_id, customer_id, device_id, urgency, region_code, description, \
    station_id, engineer_id, calendar_code, arrange_from, arrange_due_at, arrange_warn_at, arranged_at, accept_due_at, \
    passed_stations, passed_engineers, appointment_from, appointment_to, departed_at, checked_in_at, check_in_lat, check_in_lng, \
    fault_code, cause, work_done, labour_minutes, customer_confirmed, completed_at, closed_at, created_by, version, created_at, updated_at";

fn ids<T>(field: &str, json: &str, wrap: fn(i64) -> T) -> Result<Vec<T>> {
    let v: Vec<i64> =
        serde_json::from_str(json).map_err(|_| StoreError::Corrupt(format!("{field}: not a list of ids: {json:?}")))?;
    Ok(v.into_iter().map(wrap).collect())
}

impl TryFrom<WorkOrderRow> for WorkOrder {
    type Error = StoreError;
    fn try_from(r: WorkOrderRow) -> Result<Self> {
        let appointment = match (r.appointment_from, r.appointment_to) {
            (Some(f), Some(t)) => {
                Some(Window { from: instant("appointment_from", f)?, to: instant("appointment_to", t)? })
            }
            (None, None) => None,
            _ => return Err(StoreError::Corrupt(format!("work order {}: half an appointment", r.id))),
        };
        Ok(WorkOrder {
            kind: choice("kind", &r.kind, Kind::parse)?,
            status: choice("status", &r.status, Status::parse)?,
            urgency: choice("urgency", &r.urgency, Urgency::parse)?,
            arrange: Arrange {
                from: instant("arrange_from", r.arrange_from)?,
                due_at: instant("arrange_due_at", r.arrange_due_at)?,
                warn_at: instant("arrange_warn_at", r.arrange_warn_at)?,
                arranged_at: optional_instant("arranged_at", r.arranged_at)?,
            },
            accept_due_at: optional_instant("accept_due_at", r.accept_due_at)?,
            passed_stations: ids("passed_stations", &r.passed_stations, StationId)?,
            passed_engineers: ids("passed_engineers", &r.passed_engineers, UserId)?,
            appointment,
            departed_at: optional_instant("departed_at", r.departed_at)?,
            checked_in_at: optional_instant("checked_in_at", r.checked_in_at)?,
            check_in_location: r.check_in_lat.zip(r.check_in_lng),
            completed_at: optional_instant("completed_at", r.completed_at)?,
            closed_at: optional_instant("closed_at", r.closed_at)?,
            created_at: instant("created_at", r.created_at)?,
            updated_at: instant("updated_at", r.updated_at)?,
            id: r.id,
            number: r.number,
            service_request_id: r.service_request_id,
            customer_id: r.customer_id,
            device_id: r.device_id,
            region_code: r.region_code,
            description: r.description,
            station_id: r.station_id.map(StationId),
            engineer_id: r.engineer_id.map(UserId),
            calendar_code: r.calendar_code,
            fault_code: r.fault_code,
            cause: r.cause,
            work_done: r.work_done,
            labour_minutes: r.labour_minutes,
            customer_confirmed: r.customer_confirmed,
            created_by: r.created_by,
            version: r.version,
        })
    }
}

fn typed(rows: Vec<WorkOrderRow>) -> Result<Vec<WorkOrder>> {
    rows.into_iter().map(WorkOrder::try_from).collect()
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn opt_ms(t: Option<Timestamp>) -> Option<i64> {
    t.map(ms)
}

fn id_list<T: Copy>(v: &[T], raw: fn(T) -> i64) -> String {
    serde_json::Value::from(v.iter().map(|x| raw(*x)).collect::<Vec<_>>()).to_string()
}

/// Insert a new work order (its `id` and `version` are ignored); answers the new id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(c: &mut Conn<'_>, w: &WorkOrder) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO work_orders (number, kind, status, service_request_id, customer_id, device_id, urgency, region_code, \
         description, station_id, engineer_id, calendar_code, arrange_from, arrange_due_at, arrange_warn_at, accept_due_at, \
         appointment_from, appointment_to, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) RETURNING id")
        .bind(&w.number).bind(w.kind.as_str()).bind(w.status.as_str()).bind(w.service_request_id).bind(w.customer_id)
        .bind(w.device_id).bind(w.urgency.as_str()).bind(&w.region_code).bind(&w.description)
        .bind(w.station_id.map(|s| s.0)).bind(w.engineer_id.map(|u| u.0)).bind(&w.calendar_code)
        .bind(ms(w.arrange.from)).bind(ms(w.arrange.due_at)).bind(ms(w.arrange.warn_at)).bind(opt_ms(w.accept_due_at))
        .bind(w.appointment.map(|a| ms(a.from))).bind(w.appointment.map(|a| ms(a.to))).bind(w.created_by)
        .bind(ms(w.created_at))
        .fetch_one(c).await)?)
}

/// Write every changing column of `w` if its `version` is still the stored one; answers the new
/// version. Stale: someone changed it meanwhile.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save(c: &mut Conn<'_>, w: &WorkOrder, now: Timestamp) -> Result<i64> {
    let v: Option<i64> = both!(c, c => sqlx::query_scalar(
        "UPDATE work_orders SET status = $1, station_id = $2, engineer_id = $3, calendar_code = $4, arrange_due_at = $5, \
         arrange_warn_at = $6, arranged_at = $7, accept_due_at = $8, passed_stations = $9, passed_engineers = $10, \
         appointment_from = $11, appointment_to = $12, departed_at = $13, checked_in_at = $14, check_in_lat = $15, \
         check_in_lng = $16, fault_code = $17, cause = $18, work_done = $19, labour_minutes = $20, customer_confirmed = $21, \
         completed_at = $22, closed_at = $23, description = $24, version = version + 1, updated_at = $25 \
         WHERE id = $26 AND version = $27 RETURNING version")
        .bind(w.status.as_str()).bind(w.station_id.map(|s| s.0)).bind(w.engineer_id.map(|u| u.0)).bind(&w.calendar_code)
        .bind(ms(w.arrange.due_at)).bind(ms(w.arrange.warn_at)).bind(opt_ms(w.arrange.arranged_at))
        .bind(opt_ms(w.accept_due_at)).bind(id_list(&w.passed_stations, |s| s.0))
        .bind(id_list(&w.passed_engineers, |u| u.0)).bind(w.appointment.map(|a| ms(a.from)))
        .bind(w.appointment.map(|a| ms(a.to))).bind(opt_ms(w.departed_at)).bind(opt_ms(w.checked_in_at))
        .bind(w.check_in_location.map(|l| l.0)).bind(w.check_in_location.map(|l| l.1)).bind(&w.fault_code)
        .bind(&w.cause).bind(&w.work_done).bind(w.labour_minutes).bind(w.customer_confirmed)
        .bind(opt_ms(w.completed_at)).bind(opt_ms(w.closed_at)).bind(&w.description).bind(ms(now))
        .bind(w.id).bind(w.version)
        .fetch_optional(c).await)?;
    match v {
        Some(v) => Ok(v),
        None => match get(c, w.id).await? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        },
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<WorkOrder>> {
    let sql = format!("SELECT {COLS} FROM work_orders WHERE id = $1");
    let row = both!(c, c => sqlx::query_as::<_, WorkOrderRow>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    row.map(WorkOrder::try_from).transpose()
}

/// The work orders of a request, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_request(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<WorkOrder>> {
    let sql = format!("SELECT {COLS} FROM work_orders WHERE service_request_id = $1 ORDER BY id");
    typed(both!(c, c => sqlx::query_as::<_, WorkOrderRow>(AssertSqlSafe(sql)).bind(request_id).fetch_all(c).await)?)
}

/// What a list of work orders is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this engineer's (the engineer's day).
    pub engineer: Option<UserId>,
    /// At most this many, soonest "arranged" due first.
    pub limit: i64,
}

/// Open work orders in the scope, soonest due first (the boards, the engineer's day).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open(c: &mut Conn<'_>, scope: &Scope, f: &Filter) -> Result<Vec<WorkOrder>> {
    let (clause, mut params) = scope_clause(scope, "station_id", 1);
    // Headquarters' own board holds work orders of no station: they are in an "all" scope only.
    let mut sql = format!("SELECT {COLS} FROM work_orders WHERE status NOT IN ('closed', 'cancelled') AND ({clause})");
    if let Some(e) = f.engineer {
        params.push(e.0);
        sql.push_str(&format!(" AND engineer_id = ${}", params.len()));
    }
    params.push(f.limit.max(1));
    sql.push_str(&format!(" ORDER BY arrange_due_at, id LIMIT ${}", params.len()));
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, WorkOrderRow>(AssertSqlSafe(sql));
        for p in &params {
            q = q.bind(*p);
        }
        q.fetch_all(c).await
    })?;
    typed(rows)
}

/// Work orders whose tier let its deadline pass by `now` (dispatched and not assigned, assigned
/// and not accepted), oldest deadline first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn accept_overdue(c: &mut Conn<'_>, now: Timestamp, limit: i64) -> Result<Vec<WorkOrder>> {
    let sql = format!(
        "SELECT {COLS} FROM work_orders WHERE status IN ('dispatched', 'assigned') AND accept_due_at <= $1 \
         ORDER BY accept_due_at, id LIMIT $2"
    );
    typed(
        both!(c, c => sqlx::query_as::<_, WorkOrderRow>(AssertSqlSafe(sql)).bind(ms(now)).bind(limit).fetch_all(c).await)?,
    )
}

/// Open work orders not yet arranged whose "arranged" warning instant has come by `now`, leaving
/// out those whose breach has fired already (nothing more to say about them, and they must not
/// crowd newer ones out of the batch).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn arrange_due(c: &mut Conn<'_>, now: Timestamp, limit: i64) -> Result<Vec<WorkOrder>> {
    let sql = format!(
        "SELECT {COLS} FROM work_orders WHERE arranged_at IS NULL AND status NOT IN ('closed', 'cancelled') \
         AND arrange_warn_at <= $1 AND NOT EXISTS (SELECT 1 FROM work_order_alerts a \
           WHERE a.work_order_id = work_orders.id AND a.clock = 'arrange' AND a.level = 'breach') \
         ORDER BY arrange_warn_at, id LIMIT $2"
    );
    typed(
        both!(c, c => sqlx::query_as::<_, WorkOrderRow>(AssertSqlSafe(sql)).bind(ms(now)).bind(limit).fetch_all(c).await)?,
    )
}

/// Open visits whose agreed window has begun by `now` without a check-in, leaving out those whose
/// on-site breach has fired already: the on-site clock's sweep decides which are at risk.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn on_site_due(c: &mut Conn<'_>, now: Timestamp, limit: i64) -> Result<Vec<WorkOrder>> {
    let sql = format!(
        "SELECT {COLS} FROM work_orders WHERE checked_in_at IS NULL AND appointment_from IS NOT NULL \
         AND appointment_from <= $1 AND status NOT IN ('closed', 'cancelled') AND NOT EXISTS (SELECT 1 \
           FROM work_order_alerts a WHERE a.work_order_id = work_orders.id AND a.clock = 'on_site' AND a.level = 'breach') \
         ORDER BY appointment_from, id LIMIT $2"
    );
    typed(
        both!(c, c => sqlx::query_as::<_, WorkOrderRow>(AssertSqlSafe(sql)).bind(ms(now)).bind(limit).fetch_all(c).await)?,
    )
}

/// Record that a clock's level fired for a work order; false if it had already (another
/// instance got there first): the primary key makes it once.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn fire_alert(c: &mut Conn<'_>, id: i64, clock: &str, level: &str, now: Timestamp, by: &str) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "INSERT INTO work_order_alerts (work_order_id, clock, level, fired_at, fired_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING")
        .bind(id).bind(clock).bind(level).bind(ms(now)).bind(by).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

// ---------- timeline ----------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkOrderEvent {
    pub id: i64,
    pub work_order_id: i64,
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

pub struct NewEvent<'a> {
    pub work_order_id: i64,
    pub at: Timestamp,
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
        "INSERT INTO work_order_events (work_order_id, at, actor_id, actor_name, kind, action, from_status, to_status, note, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(e.work_order_id).bind(ms(e.at)).bind(e.actor_id).bind(e.actor_name).bind(e.kind).bind(e.action)
        .bind(e.from_status).bind(e.to_status).bind(e.note).bind(e.data)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn events_of(c: &mut Conn<'_>, id: i64) -> Result<Vec<WorkOrderEvent>> {
    Ok(both!(c, c => sqlx::query_as::<_, WorkOrderEvent>(
        "SELECT id, work_order_id, at, actor_id, actor_name, kind, action, from_status, to_status, note, data \
         FROM work_order_events WHERE work_order_id = $1 ORDER BY id").bind(id).fetch_all(c).await)?)
}

// ---------- parts used ----------

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PartUsed {
    pub id: i64,
    pub work_order_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub quantity: i64,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    pub created_at: i64,
    /// Taken from this warehouse's stock, by this ledger row (none: not from stock).
    pub warehouse_id: Option<i64>,
    pub movement_id: Option<i64>,
    /// The part's own warranty: its last covered day (YYYY-MM-DD), if it has one.
    pub warranty_until: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_part(c: &mut Conn<'_>, p: &PartUsed) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO work_order_parts (work_order_id, part_code, part_name, quantity, old_serial, new_serial, created_at, \
         warehouse_id, movement_id, warranty_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(p.work_order_id).bind(&p.part_code).bind(&p.part_name).bind(p.quantity).bind(&p.old_serial)
        .bind(&p.new_serial).bind(p.created_at).bind(p.warehouse_id).bind(p.movement_id).bind(&p.warranty_until)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn parts_of(c: &mut Conn<'_>, id: i64) -> Result<Vec<PartUsed>> {
    Ok(both!(c, c => sqlx::query_as::<_, PartUsed>(
        "SELECT id, work_order_id, part_code, part_name, quantity, old_serial, new_serial, created_at, warehouse_id, \
         movement_id, warranty_until FROM work_order_parts WHERE work_order_id = $1 ORDER BY id").bind(id).fetch_all(c).await)?)
}

// ---------- what dispatch reads ----------

/// Replace a station's coverage with `codes`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_coverage(c: &mut Conn<'_>, station: StationId, codes: &[String]) -> Result<()> {
    both!(c, c => sqlx::query("DELETE FROM station_coverage WHERE station_id = $1").bind(station.0).execute(c).await
        .map(|r| r.rows_affected()))?;
    for code in codes {
        both!(c, c => sqlx::query("INSERT INTO station_coverage (station_id, region_code) VALUES ($1, $2)")
            .bind(station.0).bind(code).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// One station's coverage codes.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn coverage(c: &mut Conn<'_>, station: StationId) -> Result<Vec<String>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT region_code FROM station_coverage WHERE station_id = $1 ORDER BY region_code")
        .bind(station.0).fetch_all(c).await)?)
}

/// Replace an engineer's product lines.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_skills(c: &mut Conn<'_>, user: UserId, lines: &[String]) -> Result<()> {
    both!(c, c => sqlx::query("DELETE FROM user_skills WHERE user_id = $1").bind(user.0).execute(c).await
        .map(|r| r.rows_affected()))?;
    for l in lines {
        both!(c, c => sqlx::query("INSERT INTO user_skills (user_id, product_line) VALUES ($1, $2)")
            .bind(user.0).bind(l).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn skills_of(c: &mut Conn<'_>, user: UserId) -> Result<Vec<String>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT product_line FROM user_skills WHERE user_id = $1 ORDER BY product_line").bind(user.0).fetch_all(c).await)?)
}

/// Mark `day` (YYYY-MM-DD) as leave for `user`, or clear it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_leave(c: &mut Conn<'_>, user: UserId, day: &str, reason: Option<&str>) -> Result<()> {
    both!(c, c => sqlx::query("DELETE FROM user_leave WHERE user_id = $1 AND day = $2").bind(user.0).bind(day)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if let Some(reason) = reason {
        both!(c, c => sqlx::query("INSERT INTO user_leave (user_id, day, reason) VALUES ($1, $2, $3)")
            .bind(user.0).bind(day).bind(reason).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The leave days of a user from `from` on (YYYY-MM-DD), with their reasons.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn leave_of(c: &mut Conn<'_>, user: UserId, from: &str) -> Result<Vec<(String, String)>> {
    Ok(both!(c, c => sqlx::query_as(
        "SELECT day, reason FROM user_leave WHERE user_id = $1 AND day >= $2 ORDER BY day")
        .bind(user.0).bind(from).fetch_all(c).await)?)
}

/// An engineer of a station as dispatch sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineerRow {
    pub id: UserId,
    pub display_name: String,
    pub active: bool,
    pub skills: Vec<String>,
    pub on_leave: bool,
    pub open_load: i64,
    pub load_on_day: i64,
}

/// The engineers of `station` with their skills, whether they are away on `day` (YYYY-MM-DD),
/// their open work orders and those with an appointment on that day (`day_from`..`day_to`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn engineers_of(
    c: &mut Conn<'_>,
    station: StationId,
    day: &str,
    day_from: Timestamp,
    day_to: Timestamp,
) -> Result<Vec<EngineerRow>> {
    // One statement: each engineer with leave, loads and product lines (joined by the unit
    // separator, which no typed name holds).
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        display_name: String,
        active: bool,
        on_leave: bool,
        open_load: i64,
        load_on_day: i64,
        lines: Option<String>,
    }
    let rows: Vec<Row> = both!(c, c => sqlx::query_as(
        "SELECT u.id, u.display_name, u.active, \
           EXISTS (SELECT 1 FROM user_leave l WHERE l.user_id = u.id AND l.day = $2) AS on_leave, \
           (SELECT COUNT(*) FROM work_orders w WHERE w.engineer_id = u.id AND w.status NOT IN ('closed', 'cancelled')) AS open_load, \
           (SELECT COUNT(*) FROM work_orders w WHERE w.engineer_id = u.id AND w.status NOT IN ('closed', 'cancelled') \
              AND w.appointment_from >= $3 AND w.appointment_from < $4) AS load_on_day, \
           (SELECT string_agg(s.product_line, $5) FROM user_skills s WHERE s.user_id = u.id) AS lines \
         FROM users u JOIN user_stations us ON us.user_id = u.id JOIN user_roles r ON r.user_id = u.id \
         WHERE us.station_id = $1 AND r.role = 'engineer' ORDER BY u.id")
        .bind(station.0).bind(day).bind(ms(day_from)).bind(ms(day_to)).bind(UNIT_SEPARATOR).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|r| EngineerRow {
            id: UserId(r.id),
            display_name: r.display_name,
            active: r.active,
            skills: r
                .lines
                .as_deref()
                .unwrap_or("")
                .split(UNIT_SEPARATOR)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            on_leave: r.on_leave,
            open_load: r.open_load,
            load_on_day: r.load_on_day,
        })
        .collect())
}

const UNIT_SEPARATOR: &str = "\u{1f}";

/// The stations dispatch ranks for a visit in `visit_region`: those covering its district, its
/// city or its province (active or not), each with the covering codes, where it is and its open
/// load; and how many stations cover none of them. One statement reads the coverage index and
/// each covering station's open work orders from their own index, so a call costs the same with
/// 300 stations or 3 000 and never reads the stations that cannot take the visit.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn station_candidates(
    c: &mut Conn<'_>,
    visit_region: &str,
) -> Result<(Vec<shouhou_domain::dispatch::StationCandidate>, i64)> {
    let codes = shouhou_domain::dispatch::ancestry(visit_region);
    if codes.is_empty() {
        let all: i64 = both!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM stations").fetch_one(c).await)?;
        return Ok((vec![], all));
    }
    let sql = format!(
        "SELECT s.id, s.active, s.region_code, v.region_code, \
           (SELECT COUNT(*) FROM work_orders w WHERE w.station_id = s.id AND w.status NOT IN ('closed', 'cancelled')), \
           (SELECT COUNT(*) FROM stations) \
         FROM station_coverage v JOIN stations s ON s.id = v.station_id \
         WHERE v.region_code IN ({}) ORDER BY s.id, v.region_code",
        crate::placeholders(1, codes.len())
    );
    let rows: Vec<(i64, bool, String, String, i64, i64)> = both!(c, c => {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for code in &codes {
            q = q.bind(code);
        }
        q.fetch_all(c).await
    })?;
    let total = match rows.first() {
        Some(r) => r.5,
        None => both!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM stations").fetch_one(c).await)?,
    };
    let mut out: Vec<shouhou_domain::dispatch::StationCandidate> = vec![];
    for (id, active, region_code, code, open_load, _) in rows {
        match out.last_mut() {
            Some(last) if last.id.0 == id => last.coverage.push(code),
            _ => out.push(shouhou_domain::dispatch::StationCandidate {
                id: StationId(id),
                active,
                region_code,
                coverage: vec![code],
                open_load,
            }),
        }
    }
    let outside = total - out.len() as i64;
    Ok((out, outside))
}

// ---------- files of a visit ----------

/// A photo, the customer's signature or the report, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileMeta {
    pub id: i64,
    pub work_order_id: i64,
    pub purpose: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    /// When the photo was taken, as the phone said (epoch ms), if it did.
    pub taken_at: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_file(
    c: &mut Conn<'_>,
    work_order_id: i64,
    purpose: &str,
    file_name: &str,
    content_type: &str,
    content: &[u8],
    created_by: Option<i64>,
    taken_at: Option<i64>,
    now: Timestamp,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO work_order_files (work_order_id, purpose, file_name, content_type, size_bytes, content, created_by, created_at, taken_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(work_order_id).bind(purpose).bind(file_name).bind(content_type).bind(content.len() as i64).bind(content)
        .bind(created_by).bind(ms(now)).bind(taken_at)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn files_of(c: &mut Conn<'_>, id: i64) -> Result<Vec<FileMeta>> {
    Ok(both!(c, c => sqlx::query_as::<_, FileMeta>(
        "SELECT id, work_order_id, purpose, file_name, content_type, size_bytes, created_by, created_at, taken_at \
         FROM work_order_files WHERE work_order_id = $1 ORDER BY id").bind(id).fetch_all(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn file(c: &mut Conn<'_>, file_id: i64) -> Result<Option<(FileMeta, Vec<u8>)>> {
    let meta = both!(c, c => sqlx::query_as::<_, FileMeta>(
        "SELECT id, work_order_id, purpose, file_name, content_type, size_bytes, created_by, created_at, taken_at \
         FROM work_order_files WHERE id = $1").bind(file_id).fetch_optional(c).await)?;
    let Some(meta) = meta else { return Ok(None) };
    let bytes: Vec<u8> = both!(c, c => sqlx::query_scalar("SELECT content FROM work_order_files WHERE id = $1")
        .bind(file_id).fetch_one(c).await)?;
    Ok(Some((meta, bytes)))
}

// ---------- the service report filed on the request ----------

/// Completed visits of a request whose service report is not filed on it yet, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reports_to_file(c: &mut Conn<'_>, limit: i64) -> Result<Vec<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT id FROM work_orders WHERE report_attachment_id IS NULL AND service_request_id IS NOT NULL \
         AND completed_at IS NOT NULL ORDER BY id LIMIT $1")
        .bind(limit).fetch_all(c).await)?)
}

/// The request attachment holding a visit's filed report, if it is filed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn report_attachment(c: &mut Conn<'_>, id: i64) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar("SELECT report_attachment_id FROM work_orders WHERE id = $1")
        .bind(id).fetch_optional(c).await)?
    .flatten())
}

/// Record the attachment as the visit's filed report; false if one was filed first (the caller
/// rolls back its own).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_report_attachment(c: &mut Conn<'_>, id: i64, attachment: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE work_orders SET report_attachment_id = $1 WHERE id = $2 AND report_attachment_id IS NULL")
        .bind(attachment).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
