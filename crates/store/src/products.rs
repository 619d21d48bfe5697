//! Product models: what a device is an instance of, with its warranty terms.
use crate::{Conn, Page, PageRequest, Result, both};
use serde::Serialize;
use sqlx::AssertSqlSafe;

// ---------- product models ----------

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ProductModel {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub product_line: String,
    pub warranty_months: i64,
    pub coverage: String,
    pub first_maintenance_days: Option<i64>,
    pub first_maintenance_hours: Option<i64>,
    pub active: bool,
    pub version: i64,
}

const MODEL_COLS: &str = "id, code, name, product_line, warranty_months, coverage, first_maintenance_days, first_maintenance_hours, active, version";

pub struct NewProductModel<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub product_line: &'a str,
    pub warranty_months: i64,
    pub coverage: &'a str,
    pub first_maintenance_days: Option<i64>,
    pub first_maintenance_hours: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_model(c: &mut Conn<'_>, m: &NewProductModel<'_>, now: i64) -> Result<i64> {
    Ok(both!(c, c => sqlx::query_scalar(
        "INSERT INTO product_models (code, name, product_line, warranty_months, coverage, first_maintenance_days, \
         first_maintenance_hours, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
        .bind(m.code).bind(m.name).bind(m.product_line).bind(m.warranty_months).bind(m.coverage)
        .bind(m.first_maintenance_days).bind(m.first_maintenance_hours).bind(now)
        .fetch_one(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn model_by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<ProductModel>> {
    let sql = format!("SELECT {MODEL_COLS} FROM product_models WHERE code = $1");
    Ok(both!(c, c => sqlx::query_as::<_, ProductModel>(AssertSqlSafe(sql)).bind(code).fetch_optional(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_model(c: &mut Conn<'_>, id: i64) -> Result<Option<ProductModel>> {
    let sql = format!("SELECT {MODEL_COLS} FROM product_models WHERE id = $1");
    Ok(both!(c, c => sqlx::query_as::<_, ProductModel>(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_models(c: &mut Conn<'_>, page: PageRequest) -> Result<Page<ProductModel>> {
    let sql = format!("SELECT {MODEL_COLS} FROM product_models ORDER BY product_line, code LIMIT $1 OFFSET $2");
    let items = both!(c, c => sqlx::query_as::<_, ProductModel>(AssertSqlSafe(sql)).bind(page.limit()).bind(page.offset()).fetch_all(c).await)?;
    let total: i64 = both!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM product_models").fetch_one(c).await)?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total })
}

/// The product lines of every model, each once, in order.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn product_lines(c: &mut Conn<'_>) -> Result<Vec<String>> {
    Ok(both!(c, c => sqlx::query_scalar("SELECT DISTINCT product_line FROM product_models ORDER BY product_line")
        .fetch_all(c).await)?)
}
