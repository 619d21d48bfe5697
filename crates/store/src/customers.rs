//! Customers and their contacts (personal data encrypted on the way in, decrypted on the way out), and the look-ups of imports.
use crate::crypto::Keyring;
use crate::{BATCH, Conn, Page, PageRequest, Result, both, customer_scope_clause, placeholders};
use serde::Serialize;
use shouhou_domain::auth::Scope;
use sqlx::AssertSqlSafe;

// ---------- customers ----------

/// A customer as stored, personal fields decrypted. Whether a caller may see them in clear is the
/// application's decision (`app::customers`), which masks them otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub name_mask: String,
    pub phone: String,
    pub phone_mask: String,
    pub credit_code: Option<String>,
    /// Citizen identity number of a person, in clear, with its mask.
    pub id_number: Option<String>,
    pub id_number_mask: Option<String>,
    pub region_code: String,
    pub address: String,
    pub tier: String,
    pub station_id: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: i64,
    pub role: String,
    pub name: String,
    pub name_mask: String,
    pub phone: String,
    pub phone_mask: String,
}

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: i64,
    kind: String,
    name_enc: String,
    name_mask: String,
    phone_enc: String,
    phone_mask: String,
    credit_code: Option<String>,
    id_number_enc: Option<String>,
    id_number_mask: Option<String>,
    region_code: String,
    address_enc: String,
    tier: String,
    station_id: Option<i64>,
    version: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: i64,
    role: String,
    name_enc: String,
    name_mask: String,
    phone_enc: String,
    phone_mask: String,
}

const CUSTOMER_COLS: &str = "id, kind, name_enc, name_mask, phone_enc, phone_mask, credit_code, id_number_enc, id_number_mask, \
    region_code, address_enc, tier, station_id, version, created_at";

/// Clear values and their masks, as the application prepared them.
pub struct PersonInput<'a> {
    pub name: &'a str,
    pub name_mask: &'a str,
    /// Normalised phone (what the blind index is computed over).
    pub phone: &'a str,
    pub phone_mask: &'a str,
}

pub struct NewCustomer<'a> {
    pub kind: &'a str,
    pub person: PersonInput<'a>,
    pub credit_code: Option<&'a str>,
    /// Clear identity number and its mask.
    pub id_number: Option<(&'a str, &'a str)>,
    pub region_code: &'a str,
    pub address: &'a str,
    pub tier: &'a str,
    pub station_id: Option<i64>,
    pub created_by: Option<i64>,
    pub contacts: Vec<(&'a str, PersonInput<'a>)>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_customer(c: &mut Conn<'_>, keys: &Keyring, n: &NewCustomer<'_>, now: i64) -> Result<i64> {
    let id: i64 = both!(c, c => sqlx::query_scalar(
        "INSERT INTO customers (kind, name_enc, name_mask, phone_enc, phone_idx, phone_mask, credit_code, region_code, \
         address_enc, tier, station_id, created_by, created_at, updated_at, id_number_enc, id_number_mask) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15) RETURNING id")
        .bind(n.kind).bind(keys.encrypt(n.person.name)?).bind(n.person.name_mask)
        .bind(keys.encrypt(n.person.phone)?).bind(keys.blind_index(n.person.phone)).bind(n.person.phone_mask)
        .bind(n.credit_code).bind(n.region_code).bind(keys.encrypt(n.address)?).bind(n.tier).bind(n.station_id)
        .bind(n.created_by).bind(now)
        .bind(keys.encrypt_opt(n.id_number.map(|(id, _)| id))?).bind(n.id_number.map(|(_, mask)| mask))
        .fetch_one(c).await)?;
    for (role, p) in &n.contacts {
        both!(c, c => sqlx::query(
            "INSERT INTO customer_contacts (customer_id, role, name_enc, name_mask, phone_enc, phone_idx, phone_mask, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id).bind(*role).bind(keys.encrypt(p.name)?).bind(p.name_mask).bind(keys.encrypt(p.phone)?)
            .bind(keys.blind_index(p.phone)).bind(p.phone_mask).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(id)
}

fn open_customer(keys: &Keyring, r: CustomerRow, contacts: Vec<Contact>) -> Result<Customer> {
    Ok(Customer {
        id: r.id,
        kind: r.kind,
        name: keys.decrypt(&r.name_enc)?,
        name_mask: r.name_mask,
        phone: keys.decrypt(&r.phone_enc)?,
        phone_mask: r.phone_mask,
        credit_code: r.credit_code,
        id_number: keys.decrypt_opt(r.id_number_enc.as_deref())?,
        id_number_mask: r.id_number_mask,
        region_code: r.region_code,
        address: keys.decrypt(&r.address_enc)?,
        tier: r.tier,
        station_id: r.station_id,
        version: r.version,
        created_at: r.created_at,
        contacts,
    })
}

fn open_contact(keys: &Keyring, r: ContactRow) -> Result<Contact> {
    Ok(Contact {
        id: r.id,
        role: r.role,
        name: keys.decrypt(&r.name_enc)?,
        name_mask: r.name_mask,
        phone: keys.decrypt(&r.phone_enc)?,
        phone_mask: r.phone_mask,
    })
}

async fn contacts_of(c: &mut Conn<'_>, keys: &Keyring, customer_id: i64) -> Result<Vec<Contact>> {
    let rows = both!(c, c => sqlx::query_as::<_, ContactRow>(
        "SELECT id, role, name_enc, name_mask, phone_enc, phone_mask FROM customer_contacts WHERE customer_id = $1 ORDER BY id")
        .bind(customer_id).fetch_all(c).await)?;
    rows.into_iter().map(|r| open_contact(keys, r)).collect()
}

/// One customer, whoever may see it (for commands that checked the scope already).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_customer(c: &mut Conn<'_>, keys: &Keyring, id: i64) -> Result<Option<Customer>> {
    get_customer_in_scope(c, keys, id, &Scope::All).await
}

/// One customer if it is visible in `scope` (see `customer_scope_clause`), in one query: what every
/// read of a single customer on behalf of a user goes through.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_customer_in_scope(
    c: &mut Conn<'_>,
    keys: &Keyring,
    id: i64,
    scope: &Scope,
) -> Result<Option<Customer>> {
    let (clause, ids) = customer_scope_clause(scope, "customers", 2);
    let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1 AND {clause}");
    let row = both!(c, c => {
        let mut q = sqlx::query_as::<_, CustomerRow>(AssertSqlSafe(sql)).bind(id);
        for s in &ids { q = q.bind(s); }
        q.fetch_optional(c).await
    })?;
    match row {
        None => Ok(None),
        Some(r) => {
            let contacts = contacts_of(c, keys, r.id).await?;
            Ok(Some(open_customer(keys, r, contacts)?))
        }
    }
}

/// The customers whose own phone or one of whose contacts' phones has blind index `$1`, in the
/// scope `clause` (see `customer_scope_clause`). A `UNION` of the two index look-ups:
/// written as `phone_idx = $1 OR id IN (…)` PostgreSQL walks every customer (0.3 s at 1 M, see
/// docs/BENCHMARKS.md). Public so the benchmark times this very text.
pub fn customers_by_phone_sql(clause: &str) -> String {
    format!(
        "SELECT {CUSTOMER_COLS} FROM customers WHERE id IN (SELECT id FROM customers WHERE phone_idx = $1 \
         UNION SELECT customer_id FROM customer_contacts WHERE phone_idx = $1) \
         AND {clause} ORDER BY id LIMIT 20"
    )
}

/// Customers whose own phone or a contact's phone is exactly this one (through the blind index),
/// see [`customers_by_phone_sql`].
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customers_by_phone(c: &mut Conn<'_>, keys: &Keyring, phone: &str, scope: &Scope) -> Result<Vec<Customer>> {
    let idx = keys.blind_index(phone);
    let (clause, ids) = customer_scope_clause(scope, "customers", 2);
    let sql = customers_by_phone_sql(&clause);
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, CustomerRow>(AssertSqlSafe(sql)).bind(&idx);
        for id in &ids { q = q.bind(id); }
        q.fetch_all(c).await
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let contacts = contacts_of(c, keys, r.id).await?;
        out.push(open_customer(keys, r, contacts)?);
    }
    Ok(out)
}

/// Newest customers first, in the scope (see `customer_scope_clause`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_customers(
    c: &mut Conn<'_>,
    keys: &Keyring,
    scope: &Scope,
    page: PageRequest,
) -> Result<Page<Customer>> {
    let (clause, ids) = customer_scope_clause(scope, "customers", 1);
    let where_ = format!("WHERE {clause}");
    let n = ids.len() + 1;
    let sql = format!("SELECT {CUSTOMER_COLS} FROM customers {where_} ORDER BY id DESC LIMIT ${n} OFFSET ${}", n + 1);
    let count_sql = format!("SELECT COUNT(*) FROM customers {where_}");
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, CustomerRow>(AssertSqlSafe(sql));
        for id in &ids { q = q.bind(id); }
        q.bind(page.limit()).bind(page.offset()).fetch_all(c).await
    })?;
    let total: i64 = both!(c, c => {
        let mut q = sqlx::query_scalar(AssertSqlSafe(count_sql));
        for id in &ids { q = q.bind(id); }
        q.fetch_one(c).await
    })?;
    let items = rows.into_iter().map(|r| open_customer(keys, r, vec![])).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// These customers (without their contacts), those visible in `scope` only: the names a list of
/// requests shows beside each request.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customers_by_ids(c: &mut Conn<'_>, keys: &Keyring, ids: &[i64], scope: &Scope) -> Result<Vec<Customer>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let (clause, sids) = customer_scope_clause(scope, "customers", chunk.len() + 1);
        let sql = format!(
            "SELECT {CUSTOMER_COLS} FROM customers WHERE id IN ({}) AND {clause}",
            placeholders(1, chunk.len())
        );
        let rows = both!(c, c => {
            let mut q = sqlx::query_as::<_, CustomerRow>(AssertSqlSafe(sql));
            for id in chunk { q = q.bind(id); }
            for s in &sids { q = q.bind(s); }
            q.fetch_all(c).await
        })?;
        for r in rows {
            out.push(open_customer(keys, r, vec![])?);
        }
    }
    Ok(out)
}

/// Companies whose unified social credit code starts with `prefix` (it is stored in clear), in
/// the scope, at most 50.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customers_by_credit_code(
    c: &mut Conn<'_>,
    keys: &Keyring,
    prefix: &str,
    scope: &Scope,
) -> Result<Vec<Customer>> {
    let (clause, ids) = customer_scope_clause(scope, "customers", 2);
    let sql = format!(
        "SELECT {CUSTOMER_COLS} FROM customers WHERE credit_code LIKE $1 AND {clause} ORDER BY id DESC LIMIT 50"
    );
    let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
    let rows = both!(c, c => {
        let mut q = sqlx::query_as::<_, CustomerRow>(AssertSqlSafe(sql)).bind(&pattern);
        for id in &ids { q = q.bind(id); }
        q.fetch_all(c).await
    })?;
    rows.into_iter().map(|r| open_customer(keys, r, vec![])).collect()
}

// ---------- batch look-ups for imports ----------

/// Which of these phone blind indexes are already a customer's own phone (any station).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customer_phone_indexes_in_use(
    c: &mut Conn<'_>,
    indexes: &[String],
) -> Result<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for chunk in indexes.chunks(BATCH) {
        let sql =
            format!("SELECT DISTINCT phone_idx FROM customers WHERE phone_idx IN ({})", placeholders(1, chunk.len()));
        let found: Vec<String> = both!(c, c => {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
            for v in chunk { q = q.bind(v); }
            q.fetch_all(c).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

/// Which of these unified social credit codes are taken already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn credit_codes_in_use(c: &mut Conn<'_>, codes: &[String]) -> Result<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for chunk in codes.chunks(BATCH) {
        let sql = format!("SELECT credit_code FROM customers WHERE credit_code IN ({})", placeholders(1, chunk.len()));
        let found: Vec<String> = both!(c, c => {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
            for v in chunk { q = q.bind(v); }
            q.fetch_all(c).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

/// A customer reached through a phone's blind index, without decrypting anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneRef {
    pub phone_idx: String,
    pub customer_id: i64,
    pub station_id: Option<i64>,
    /// The customer's own phone, rather than one of their contacts'.
    pub own: bool,
}

/// Customers in the scope whose own or a contact's phone has one of these blind indexes, like
/// `customers_by_phone` for many phones at once.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customer_refs_by_phone_indexes(
    c: &mut Conn<'_>,
    indexes: &[String],
    scope: &Scope,
) -> Result<Vec<PhoneRef>> {
    let mut out = vec![];
    for chunk in indexes.chunks(BATCH) {
        let (clause, ids) = customer_scope_clause(scope, "customers", chunk.len() + 1);
        let (k_clause, _) = customer_scope_clause(scope, "cu", chunk.len() + 1);
        let list = placeholders(1, chunk.len());
        let own_sql =
            format!("SELECT phone_idx, id, station_id FROM customers WHERE phone_idx IN ({list}) AND {clause}");
        let contact_sql = format!(
            "SELECT k.phone_idx, cu.id, cu.station_id FROM customer_contacts k JOIN customers cu ON cu.id = k.customer_id \
             WHERE k.phone_idx IN ({list}) AND {k_clause}"
        );
        for (sql, own) in [(own_sql, true), (contact_sql, false)] {
            let rows: Vec<(String, i64, Option<i64>)> = both!(c, c => {
                let mut q = sqlx::query_as(AssertSqlSafe(sql));
                for v in chunk { q = q.bind(v); }
                for id in &ids { q = q.bind(id); }
                q.fetch_all(c).await
            })?;
            out.extend(rows.into_iter().map(|(phone_idx, customer_id, station_id)| PhoneRef {
                phone_idx,
                customer_id,
                station_id,
                own,
            }));
        }
    }
    Ok(out)
}
