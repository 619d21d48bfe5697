//! Spare parts: the catalog, the figures of each warehouse, the ledger of movements and transfers.
//! A movement changes a warehouse's figures with one guarded `UPDATE` (the rule of
//! `domain::parts::Effect::leaves_valid` written in SQL) and appends its ledger row in the same
//! transaction: under any concurrency, on SQLite's single writer or PostgreSQL's row lock (which
//! re-reads the row it waited for), a movement that would leave a figure negative changes nothing.
use crate::{Conn, Page, PageRequest, Result, both, scope_clause};
use shouhou_domain::auth::Scope;
use shouhou_domain::parts::{Effect, MovementKind};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Part {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub specification: String,
    pub unit: String,
    pub divisible: bool,
    pub price_fen: i64,
    pub serialised: bool,
    pub active: bool,
    /// device, fresh, none: what warranty the part carries once installed.
    pub warranty_policy: String,
    pub warranty_months: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const PART_COLS: &str = "id, code, name, specification, unit, divisible, price_fen, serialised, active, warranty_policy, warranty_months, \
     version, created_at, updated_at";

pub struct NewPart<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub specification: &'a str,
    pub unit: &'a str,
    pub divisible: bool,
    pub price_fen: i64,
    pub serialised: bool,
    pub warranty_policy: &'a str,
    pub warranty_months: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_part(c: &mut Conn<'_>, p: &NewPart<'_>, models: &[i64], now: i64) -> Result<i64> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO parts (code, name, specification, unit, divisible, price_fen, serialised, created_at, updated_at, \
         warranty_policy, warranty_months) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id")
        .bind(p.code).bind(p.name).bind(p.specification).bind(p.unit).bind(p.divisible).bind(p.price_fen)
        .bind(p.serialised).bind(now).bind(p.warranty_policy).bind(p.warranty_months).fetch_one(c).await)?;
    for m in models {
        both!(c, c => sqlx::query("INSERT INTO part_models (part_id, model_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id).bind(m).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(id)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn part_by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<Part>> {
    let sql = format!("SELECT {PART_COLS} FROM parts WHERE code = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Part>(AssertSqlSafe(sql)).bind(code).fetch_optional(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_part(c: &mut Conn<'_>, id: i64) -> Result<Option<Part>> {
    let sql = format!("SELECT {PART_COLS} FROM parts WHERE id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, Part>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

/// The codes of the product models each of `parts` fits, in one statement: (part id, model code),
/// by code.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn models_of(c: &mut Conn<'_>, parts: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = vec![];
    for chunk in parts.chunks(crate::BATCH) {
        let sql = format!(
            "SELECT pm.part_id, m.code FROM part_models pm JOIN product_models m ON m.id = pm.model_id \
             WHERE pm.part_id IN ({}) ORDER BY m.code",
            crate::placeholders(1, chunk.len())
        );
        let rows: Vec<(i64, String)> = both!(c, c => {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Parts whose code or name holds `q`, by code.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_parts(c: &mut Conn<'_>, q: &str, page: PageRequest) -> Result<Page<Part>> {
    let pattern = format!("%{}%", q.trim());
    let sql =
        format!("SELECT {PART_COLS} FROM parts WHERE code LIKE $1 OR name LIKE $1 ORDER BY code LIMIT $2 OFFSET $3");
    let items = both!(c, c => sqlx::query_as::<_, Part>(AssertSqlSafe(sql)).bind(&pattern)
        .bind(page.limit()).bind(page.offset()).fetch_all(c).await)?;
    let total: i64 = both!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM parts WHERE code LIKE $1 OR name LIKE $1")
        .bind(&pattern).fetch_one(c).await)?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// What a ledger row refers to besides its warehouse and part.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refs<'a> {
    pub work_order_id: Option<i64>,
    pub transfer_id: Option<i64>,
    pub note: &'a str,
    pub created_by: Option<i64>,
}

/// A movement applied: its ledger row, and whether it took the available quantity below the
/// warehouse's threshold for the part (from at or above it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub id: i64,
    pub fell_below_threshold: bool,
}

/// Apply `effect` to the warehouse's figures for the part and append the ledger row, if the
/// figures it leaves are allowed; `None` (nothing written) if they are not. The caller's
/// transaction holds both.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn apply(
    c: &mut Conn<'_>,
    kind: MovementKind,
    warehouse: i64,
    part: i64,
    effect: Effect,
    refs: Refs<'_>,
    now: i64,
) -> Result<Option<Applied>> {
    both!(c, c => sqlx::query(
        "INSERT INTO stock_levels (warehouse_id, part_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(warehouse).bind(part).execute(c).await.map(|r| r.rows_affected()))?;
    let after: Option<(i64, i64, Option<i64>)> = both!(c, c => sqlx::query_as(
        "UPDATE stock_levels SET on_hand = on_hand + $3, reserved = reserved + $4, in_transit = in_transit + $5 \
         WHERE warehouse_id = $1 AND part_id = $2 AND on_hand + $3 >= 0 AND reserved + $4 >= 0 \
         AND in_transit + $5 >= 0 AND (on_hand + $3) - (reserved + $4) >= 0 \
         RETURNING on_hand, reserved, low_threshold")
        .bind(warehouse).bind(part).bind(effect.on_hand).bind(effect.reserved).bind(effect.in_transit)
        .fetch_optional(c).await)?;
    let Some((on_hand, reserved, threshold)) = after else {
        return Ok(None);
    };
    let available = on_hand - reserved;
    let before = available - (effect.on_hand - effect.reserved);
    let fell_below_threshold = threshold.is_some_and(|t| before >= t && available < t);
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO stock_movements (kind, warehouse_id, part_id, on_hand_delta, reserved_delta, in_transit_delta, \
         work_order_id, transfer_id, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING id")
        .bind(kind.as_str()).bind(warehouse).bind(part).bind(effect.on_hand).bind(effect.reserved).bind(effect.in_transit)
        .bind(refs.work_order_id).bind(refs.transfer_id).bind(refs.note).bind(refs.created_by).bind(now)
        .fetch_one(c).await)?;
    Ok(Some(Applied { id, fell_below_threshold }))
}

/// Set (or with `None` clear) the available quantity below which the part is low in the
/// warehouse, in thousandths.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_threshold(c: &mut Conn<'_>, warehouse: i64, part: i64, threshold: Option<i64>) -> Result<()> {
    both!(c, c => sqlx::query(
        "INSERT INTO stock_levels (warehouse_id, part_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(warehouse).bind(part).execute(c).await.map(|r| r.rows_affected()))?;
    both!(c, c => sqlx::query("UPDATE stock_levels SET low_threshold = $3 WHERE warehouse_id = $1 AND part_id = $2")
        .bind(warehouse).bind(part).bind(threshold).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Transfer {
    pub id: i64,
    pub part_id: i64,
    pub from_warehouse_id: i64,
    pub to_warehouse_id: i64,
    pub quantity: i64,
    pub status: String,
    pub created_at: i64,
    pub received_at: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_transfer(
    c: &mut Conn<'_>,
    part: i64,
    from: i64,
    to: i64,
    quantity: i64,
    refs: Refs<'_>,
    now: i64,
) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO stock_transfers (part_id, from_warehouse_id, to_warehouse_id, quantity, status, note, created_by, \
         created_at) VALUES ($1, $2, $3, $4, 'in_transit', $5, $6, $7) RETURNING id")
        .bind(part).bind(from).bind(to).bind(quantity).bind(refs.note).bind(refs.created_by).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_transfer(c: &mut Conn<'_>, id: i64) -> Result<Option<Transfer>> {
    Ok(both!(c, c => sqlx::query_as::<_, Transfer>(
        "SELECT id, part_id, from_warehouse_id, to_warehouse_id, quantity, status, created_at, received_at \
         FROM stock_transfers WHERE id = $1")
        .bind(id).fetch_optional(c).await)?)
}

/// Mark a transfer received; false if it was already (a second arrival changes nothing).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn receive_transfer(c: &mut Conn<'_>, id: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE stock_transfers SET status = 'received', received_at = $1 WHERE id = $2 AND status = 'in_transit'")
        .bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A warehouse's figures for a part, in thousandths.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StockRow {
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub station_id: Option<i64>,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub in_transit: i64,
    pub low_threshold: Option<i64>,
}

/// The figures of the warehouses in `scope` (by the warehouse's station; a central warehouse is
/// headquarters'), narrowed to one warehouse and/or part if asked, by warehouse and part code.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stock(
    c: &mut Conn<'_>,
    scope: &Scope,
    warehouse: Option<i64>,
    part: Option<i64>,
    only_low: bool,
    limit: i64,
) -> Result<Vec<StockRow>> {
    let (clause, ids) = scope_clause(scope, "w.station_id", 4);
    let low =
        if only_low { "AND l.low_threshold IS NOT NULL AND l.on_hand - l.reserved < l.low_threshold" } else { "" };
    let sql = format!(
        "SELECT l.warehouse_id, w.code AS warehouse_code, w.station_id, l.part_id, p.code AS part_code, p.name AS part_name, \
         p.unit, l.on_hand, l.reserved, l.in_transit, l.low_threshold \
         FROM stock_levels l JOIN warehouses w ON w.id = l.warehouse_id JOIN parts p ON p.id = l.part_id \
         WHERE ($1 IS NULL OR l.warehouse_id = $1) AND ($2 IS NULL OR l.part_id = $2) AND ({clause}) {low} \
         ORDER BY w.code, p.code LIMIT $3"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, StockRow>(AssertSqlSafe(sql)).bind(warehouse).bind(part).bind(limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// A ledger row as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MovementRow {
    pub id: i64,
    pub created_at: i64,
    pub warehouse_code: String,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub kind: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub in_transit_delta: i64,
    pub work_order_number: Option<String>,
    pub transfer_id: Option<i64>,
    pub stocktake_number: Option<String>,
    pub note: String,
    pub created_by_name: Option<String>,
}

/// The ledger rows of the warehouses in `scope` from `from` to `to` (epoch ms, `to` excluded),
/// narrowed to a warehouse, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn movements(
    c: &mut Conn<'_>,
    scope: &Scope,
    warehouse: Option<i64>,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<MovementRow>> {
    let (clause, ids) = scope_clause(scope, "w.station_id", 5);
    let sql = format!(
        "SELECT m.id, m.created_at, w.code AS warehouse_code, p.code AS part_code, p.name AS part_name, p.unit, m.kind, \
         m.on_hand_delta, m.reserved_delta, m.in_transit_delta, o.number AS work_order_number, m.transfer_id, \
         s.number AS stocktake_number, m.note, u.display_name AS created_by_name \
         FROM stock_movements m JOIN warehouses w ON w.id = m.warehouse_id JOIN parts p ON p.id = m.part_id \
         LEFT JOIN work_orders o ON o.id = m.work_order_id LEFT JOIN stocktakes s ON s.id = m.stocktake_id \
         LEFT JOIN users u ON u.id = m.created_by \
         WHERE ($1 IS NULL OR m.warehouse_id = $1) AND m.created_at >= $2 AND m.created_at < $3 AND ({clause}) \
         ORDER BY m.id LIMIT $4"
    );
    Ok(both!(c, c => {
        let mut q = sqlx::query_as::<_, MovementRow>(AssertSqlSafe(sql)).bind(warehouse).bind(from).bind(to).bind(limit);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?)
}

/// Where a serial of a serialised part is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SerialPlace {
    pub part_id: i64,
    pub serial: String,
    pub state: String,
    pub warehouse_id: Option<i64>,
    pub device_id: Option<i64>,
    pub work_order_id: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn serial_place(c: &mut Conn<'_>, part: i64, serial: &str) -> Result<Option<SerialPlace>> {
    Ok(both!(c, c => sqlx::query_as::<_, SerialPlace>(
        "SELECT part_id, serial, state, warehouse_id, device_id, work_order_id FROM part_serials \
         WHERE part_id = $1 AND serial = $2")
        .bind(part).bind(serial).fetch_optional(c).await)?)
}

/// Receive a serial into a warehouse's stock: new, or back from being removed (a refurbished
/// part). False if it is somewhere else (in stock, in transit, installed) or scrapped.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn receive_serial(c: &mut Conn<'_>, part: i64, serial: &str, warehouse: i64, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "INSERT INTO part_serials (part_id, serial, state, warehouse_id, updated_at) VALUES ($1, $2, 'in_stock', $3, $4) \
         ON CONFLICT (part_id, serial) DO UPDATE SET state = 'in_stock', warehouse_id = EXCLUDED.warehouse_id, \
         transfer_id = NULL, device_id = NULL, work_order_id = NULL, updated_at = EXCLUDED.updated_at \
         WHERE part_serials.state = 'removed'")
        .bind(part).bind(serial).bind(warehouse).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Where a serial goes next, from where it must be now.
#[derive(Debug, Clone, Copy)]
pub struct SerialMove<'a> {
    pub from_state: &'a str,
    /// The warehouse it must be in (`None`: any place, e.g. installed in a device).
    pub from_warehouse: Option<i64>,
    pub to_state: &'a str,
    pub to_warehouse: Option<i64>,
    pub transfer_id: Option<i64>,
    pub device_id: Option<i64>,
    pub work_order_id: Option<i64>,
}

/// Move a serial if it is where the move says; false (nothing changed) otherwise.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn move_serial(c: &mut Conn<'_>, part: i64, serial: &str, m: SerialMove<'_>, now: i64) -> Result<bool> {
    let n = both!(c, c => sqlx::query(
        "UPDATE part_serials SET state = $1, warehouse_id = $2, transfer_id = $3, device_id = $4, work_order_id = $5, \
         updated_at = $6 WHERE part_id = $7 AND serial = $8 AND state = $9 AND ($10 IS NULL OR warehouse_id = $10)")
        .bind(m.to_state).bind(m.to_warehouse).bind(m.transfer_id).bind(m.device_id).bind(m.work_order_id).bind(now)
        .bind(part).bind(serial).bind(m.from_state).bind(m.from_warehouse)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A transfer arrived: its serials are in stock where they went.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn serials_arrived(c: &mut Conn<'_>, transfer: i64, now: i64) -> Result<u64> {
    Ok(both!(c, c => sqlx::query(
        "UPDATE part_serials SET state = 'in_stock', transfer_id = NULL, updated_at = $1 \
         WHERE transfer_id = $2 AND state = 'in_transit'")
        .bind(now).bind(transfer).execute(c).await.map(|r| r.rows_affected()))?)
}
