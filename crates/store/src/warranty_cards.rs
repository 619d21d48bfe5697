//! Warranty cards (三包卡): the cards with their parts and timeline, the facts their audit reads,
//! the faulty parts on their way back, and the overdue list. A card changes with one
//! version-guarded `UPDATE`; one card per work order is the database's unique key.
use crate::{Conn, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Card {
    pub id: i64,
    pub number: String,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub station_id: Option<i64>,
    pub device_id: i64,
    pub status: String,
    pub fault_code: String,
    pub cause: String,
    pub labour_minutes: i64,
    pub flags: String,
    pub flag_count: i64,
    pub labour_fen: i64,
    pub parts_fen: i64,
    pub travel_fen: i64,
    pub total_fen: i64,
    pub reason: String,
    pub submitted_at: i64,
    pub reviewed_at: Option<i64>,
    pub reviewed_by: Option<i64>,
    pub created_by: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const CARD_COLS: &str = "k.id, k.number, k.work_order_id, w.number AS work_order_number, k.station_id, k.device_id, \
    k.status, k.fault_code, k.cause, k.labour_minutes, k.flags, k.flag_count, k.labour_fen, k.parts_fen, k.travel_fen, \
    k.total_fen, k.reason, k.submitted_at, k.reviewed_at, k.reviewed_by, k.created_by, k.version, k.created_at, \
    k.updated_at";

/// Insert a new card; `None` when the work order already has one (whoever filed it first).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(c: &mut Conn<'_>, k: &Card) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO warranty_cards (number, work_order_id, station_id, device_id, status, fault_code, cause, \
         labour_minutes, flags, flag_count, labour_fen, parts_fen, travel_fen, total_fen, reason, submitted_at, \
         created_by, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $18) \
         ON CONFLICT (work_order_id) DO NOTHING RETURNING id")
        .bind(&k.number).bind(k.work_order_id).bind(k.station_id).bind(k.device_id).bind(&k.status)
        .bind(&k.fault_code).bind(&k.cause).bind(k.labour_minutes).bind(&k.flags).bind(k.flag_count)
        .bind(k.labour_fen).bind(k.parts_fen).bind(k.travel_fen).bind(k.total_fen).bind(&k.reason)
        .bind(k.submitted_at).bind(k.created_by).bind(k.created_at)
        .fetch_optional(c).await)?)
}

/// Save a card read at `version`; the new version, or `None` if someone saved it meanwhile.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save(c: &mut Conn<'_>, k: &Card, version: i64, now: i64) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "UPDATE warranty_cards SET status = $1, fault_code = $2, cause = $3, labour_minutes = $4, flags = $5, \
         flag_count = $6, labour_fen = $7, parts_fen = $8, travel_fen = $9, total_fen = $10, reason = $11, \
         submitted_at = $12, reviewed_at = $13, reviewed_by = $14, version = version + 1, updated_at = $15 \
         WHERE id = $16 AND version = $17 RETURNING version")
        .bind(&k.status).bind(&k.fault_code).bind(&k.cause).bind(k.labour_minutes).bind(&k.flags)
        .bind(k.flag_count).bind(k.labour_fen).bind(k.parts_fen).bind(k.travel_fen).bind(k.total_fen)
        .bind(&k.reason).bind(k.submitted_at).bind(k.reviewed_at).bind(k.reviewed_by).bind(now)
        .bind(k.id).bind(version)
        .fetch_optional(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Card>> {
    let sql = format!(
        "SELECT {CARD_COLS} FROM warranty_cards k JOIN work_orders w ON w.id = k.work_order_id WHERE k.id = $1"
    );
    Ok(both!(c, c => sqlx::query_as::<_, Card>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The card filed for a work order, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_work_order(c: &mut Conn<'_>, work_order: i64) -> Result<Option<(i64, String, String)>> {
    Ok(both!(c, c => sqlx::query_as(
        "SELECT id, number, status FROM warranty_cards WHERE work_order_id = $1")
        .bind(work_order).fetch_optional(c).await)?)
}

/// What a card list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub station_id: Option<i64>,
    pub device_id: Option<i64>,
    pub limit: i64,
}

/// The cards in `scope`: submitted ones first, flagged before clean, oldest submission first (the
/// audit queue); then returned, then decided ones, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(c: &mut Conn<'_>, scope: &Scope, f: &Filter) -> Result<Vec<Card>> {
    let (clause, ids) = scope_clause(scope, "k.station_id", 5);
    let sql = format!(
        "SELECT {CARD_COLS} FROM warranty_cards k JOIN work_orders w ON w.id = k.work_order_id \
         WHERE ($1 IS NULL OR k.status = $1) AND ($2 IS NULL OR k.station_id = $2) AND ($3 IS NULL OR k.device_id = $3) \
         AND ({clause}) \
         ORDER BY CASE k.status WHEN 'submitted' THEN 0 WHEN 'returned' THEN 1 ELSE 2 END, \
         CASE WHEN k.status = 'submitted' THEN k.flag_count ELSE 0 END DESC, \
         CASE WHEN k.status = 'submitted' THEN k.submitted_at ELSE -k.updated_at END, k.id LIMIT $4"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Card>(AssertSqlSafe(sql))
            .bind(f.status.as_deref()).bind(f.station_id).bind(f.device_id).bind(f.limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CardPart {
    pub id: i64,
    pub card_id: i64,
    pub work_order_part_id: Option<i64>,
    pub part_id: Option<i64>,
    pub part_code: String,
    pub part_name: String,
    pub quantity: i64,
    pub price_fen: i64,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    pub return_required: bool,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_part(c: &mut Conn<'_>, p: &CardPart) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO warranty_card_parts (card_id, work_order_part_id, part_id, part_code, part_name, quantity, \
         price_fen, old_serial, new_serial, return_required) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(p.card_id).bind(p.work_order_part_id).bind(p.part_id).bind(&p.part_code).bind(&p.part_name)
        .bind(p.quantity).bind(p.price_fen).bind(&p.old_serial).bind(&p.new_serial).bind(p.return_required)
        .fetch_one(c).await)?)
}

/// Correct a claimed part's serials.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_part_serials(c: &mut Conn<'_>, id: i64, old: Option<&str>, new: Option<&str>) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE warranty_card_parts SET old_serial = $1, new_serial = $2 WHERE id = $3")
        .bind(old).bind(new).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn parts_of(c: &mut Conn<'_>, card: i64) -> Result<Vec<CardPart>> {
    Ok(both!(c, c => sqlx::query_as::<_, CardPart>(
        "SELECT id, card_id, work_order_part_id, part_id, part_code, part_name, quantity, price_fen, old_serial, \
         new_serial, return_required FROM warranty_card_parts WHERE card_id = $1 ORDER BY id")
        .bind(card).fetch_all(c).await)?)
}

/// Another live card (not rejected) claiming `serial` as the same side: a faulty part taken out
/// (`old`) or a new one put in. Its number.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claimed_elsewhere(c: &mut Conn<'_>, card: i64, serial: &str, old: bool) -> Result<Option<String>> {
    let column = if old { "old_serial" } else { "new_serial" };
    let sql = format!(
        "SELECT k.number FROM warranty_card_parts p JOIN warranty_cards k ON k.id = p.card_id \
         WHERE p.{column} = $1 AND k.id <> $2 AND k.status <> 'rejected' ORDER BY k.id LIMIT 1"
    );
    Ok(both!(c, c => sqlx::query_scalar(AssertSqlSafe(sql)).bind(serial).bind(card).fetch_optional(c).await)?)
}

/// Earlier completed visits to the device (number, fault code, completion), newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn earlier_repairs(
    c: &mut Conn<'_>,
    device: i64,
    work_order: i64,
    until: i64,
) -> Result<Vec<(String, Option<String>, i64)>> {
    Ok(both!(c, c => sqlx::query_as(
        "SELECT number, fault_code, completed_at FROM work_orders WHERE device_id = $1 AND id <> $2 \
         AND completed_at IS NOT NULL AND completed_at <= $3 ORDER BY completed_at DESC LIMIT 20")
        .bind(device).bind(work_order).bind(until).fetch_all(c).await)?)
}

/// Where the latest 50 other visits in `region` checked in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn region_check_ins(c: &mut Conn<'_>, region: &str, work_order: i64) -> Result<Vec<(f64, f64)>> {
    Ok(both!(c, c => sqlx::query_as(
        "SELECT check_in_lat, check_in_lng FROM work_orders WHERE region_code = $1 AND id <> $2 \
         AND check_in_lat IS NOT NULL AND check_in_lng IS NOT NULL ORDER BY id DESC LIMIT 50")
        .bind(region).bind(work_order).fetch_all(c).await)?)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CardEvent {
    pub id: i64,
    pub card_id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub data: String,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_event(c: &mut Conn<'_>, e: &CardEvent) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO warranty_card_events (card_id, at, actor_id, actor_name, action, from_status, to_status, reason, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(e.card_id).bind(e.at).bind(e.actor_id).bind(&e.actor_name).bind(&e.action).bind(&e.from_status)
        .bind(&e.to_status).bind(&e.reason).bind(&e.data).fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn events_of(c: &mut Conn<'_>, card: i64) -> Result<Vec<CardEvent>> {
    Ok(both!(c, c => sqlx::query_as::<_, CardEvent>(
        "SELECT id, card_id, at, actor_id, actor_name, action, from_status, to_status, reason, data \
         FROM warranty_card_events WHERE card_id = $1 ORDER BY id")
        .bind(card).fetch_all(c).await)?)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FaultyReturn {
    pub id: i64,
    pub card_id: i64,
    pub card_number: String,
    pub card_part_id: i64,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub serial: Option<String>,
    pub quantity: i64,
    pub from_station_id: Option<i64>,
    pub to_warehouse_id: i64,
    pub to_warehouse_code: String,
    pub status: String,
    pub inspection: Option<String>,
    pub note: String,
    pub shipped_at: i64,
    pub received_at: Option<i64>,
}

const RETURN_COLS: &str = "r.id, r.card_id, k.number AS card_number, r.card_part_id, r.part_id, p.code AS part_code, \
    p.name AS part_name, r.serial, r.quantity, r.from_station_id, r.to_warehouse_id, h.code AS to_warehouse_code, \
    r.status, r.inspection, r.note, r.shipped_at, r.received_at";
const RETURN_FROM: &str = "faulty_returns r JOIN warranty_cards k ON k.id = r.card_id JOIN parts p ON p.id = r.part_id \
    JOIN warehouses h ON h.id = r.to_warehouse_id";

/// Send a faulty part back; nothing if its card line already has its return.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_return(
    c: &mut Conn<'_>,
    card: i64,
    card_part: i64,
    part: i64,
    serial: Option<&str>,
    quantity: i64,
    from_station: Option<i64>,
    to_warehouse: i64,
    now: i64,
) -> Result<()> {
    both!(c, c => sqlx::query(
        "INSERT INTO faulty_returns (card_id, card_part_id, part_id, serial, quantity, from_station_id, to_warehouse_id, \
         status, shipped_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'in_transit', $8) ON CONFLICT (card_part_id) DO NOTHING")
        .bind(card).bind(card_part).bind(part).bind(serial).bind(quantity).bind(from_station).bind(to_warehouse)
        .bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Correct the serial of a faulty part still on its way (the card's line was corrected).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_return_serial(c: &mut Conn<'_>, card_part: i64, serial: Option<&str>) -> Result<()> {
    both!(c, c => sqlx::query(
        "UPDATE faulty_returns SET serial = $1 WHERE card_part_id = $2 AND status = 'in_transit'")
        .bind(serial).bind(card_part).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn returns_of(c: &mut Conn<'_>, card: i64) -> Result<Vec<FaultyReturn>> {
    let sql = format!("SELECT {RETURN_COLS} FROM {RETURN_FROM} WHERE r.card_id = $1 ORDER BY r.id");
    Ok(both!(c, c => sqlx::query_as::<_, FaultyReturn>(AssertSqlSafe(sql)).bind(card).fetch_all(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_return(c: &mut Conn<'_>, id: i64) -> Result<Option<FaultyReturn>> {
    let sql = format!("SELECT {RETURN_COLS} FROM {RETURN_FROM} WHERE r.id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, FaultyReturn>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// Faulty parts by status (`in_transit` oldest first; `received` newest first), of the stations in
/// `scope` (headquarters sees all).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_returns(c: &mut Conn<'_>, scope: &Scope, status: &str, limit: i64) -> Result<Vec<FaultyReturn>> {
    let (clause, ids) = scope_clause(scope, "r.from_station_id", 3);
    let order = if status == "in_transit" { "r.shipped_at, r.id" } else { "r.received_at DESC, r.id DESC" };
    let sql =
        format!("SELECT {RETURN_COLS} FROM {RETURN_FROM} WHERE r.status = $1 AND ({clause}) ORDER BY {order} LIMIT $2");
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, FaultyReturn>(AssertSqlSafe(sql)).bind(status).bind(limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Record a faulty part's arrival and inspection; false if it had already arrived.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn receive_return(
    c: &mut Conn<'_>,
    id: i64,
    inspection: &str,
    note: &str,
    by: i64,
    now: i64,
) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE faulty_returns SET status = 'received', inspection = $1, note = $2, received_by = $3, received_at = $4 \
         WHERE id = $5 AND status = 'in_transit'")
        .bind(inspection).bind(note).bind(by).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Record whether the device was in warranty on the day its work order was completed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_under_warranty(c: &mut Conn<'_>, work_order: i64, under: bool) -> Result<()> {
    both!(c, c => sqlx::query("UPDATE work_orders SET under_warranty = $1 WHERE id = $2")
        .bind(under).bind(work_order).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Completed warranty work without a card.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Overdue {
    pub work_order_id: i64,
    pub number: String,
    pub station_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub completed_at: i64,
    pub reminded: bool,
}

/// Warranty work completed before `before` whose card was not filed, in `scope`, oldest first;
/// with `unreminded`, only those whose station was not told yet (the sweep's to-do list).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn overdue(
    c: &mut Conn<'_>,
    scope: &Scope,
    before: i64,
    unreminded: bool,
    limit: i64,
) -> Result<Vec<Overdue>> {
    let (clause, ids) = scope_clause(scope, "w.station_id", 4);
    let sql = format!(
        "SELECT w.id AS work_order_id, w.number, w.station_id, w.engineer_id, w.completed_at, \
         (m.work_order_id IS NOT NULL) AS reminded \
         FROM work_orders w LEFT JOIN warranty_cards k ON k.work_order_id = w.id \
         LEFT JOIN warranty_card_reminders m ON m.work_order_id = w.id \
         WHERE w.completed_at IS NOT NULL AND w.completed_at < $1 AND w.under_warranty = TRUE AND k.id IS NULL \
         AND w.status <> 'cancelled' AND ($3 = FALSE OR m.work_order_id IS NULL) AND ({clause}) ORDER BY w.completed_at, w.id LIMIT $2"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, Overdue>(AssertSqlSafe(sql)).bind(before).bind(limit).bind(unreminded);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Mark an overdue card's station as told; false if another instance did it first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remind(c: &mut Conn<'_>, work_order: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "INSERT INTO warranty_card_reminders (work_order_id, fired_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(work_order).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Where faulty parts go back to: the first active central warehouse (no station).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn central_warehouse(c: &mut Conn<'_>) -> Result<Option<i64>> {
    Ok(both!(c, c => sqlx::query_scalar(
        "SELECT id FROM warehouses WHERE station_id IS NULL AND active ORDER BY id LIMIT 1")
        .fetch_optional(c).await)?)
}
