//! Product models: what devices are instances of, with their warranty terms.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::text::{optional_text, required_text};
pub use shouhou_store::products::ProductModel;
use shouhou_store::products::{self, NewProductModel};
use shouhou_store::{Page, PageRequest};

// ---------- product models ----------

/// A product model as entered, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductModelForm {
    pub code: String,
    pub name: String,
    pub product_line: String,
    /// Months of free warranty from the sale date (default 12).
    pub warranty_months: Option<i64>,
    pub coverage: Option<String>,
    pub first_maintenance_days: Option<i64>,
    pub first_maintenance_hours: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn create_product_model(app: &App, ctx: &Ctx, f: &ProductModelForm) -> Result<i64> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    let code = e.take(shouhou_domain::text::OrgCode::parse("code", &f.code));
    let name = e.take(required_text("name", &f.name, 100));
    let line = e.take(required_text("product_line", &f.product_line, 50));
    let months = f.warranty_months.unwrap_or(12);
    if !(0..=240).contains(&months) {
        e.push("warranty_months", "out_of_range");
    }
    for (field, v) in
        [("first_maintenance_days", f.first_maintenance_days), ("first_maintenance_hours", f.first_maintenance_hours)]
    {
        if v.is_some_and(|v| v <= 0 || v > 100_000) {
            e.push(field, "out_of_range");
        }
    }
    let coverage = e.take(optional_text("coverage", f.coverage.as_deref(), 500));
    let (Some(code), Some(name), Some(line), Some(coverage)) = (code, name, line, coverage) else {
        return Err(e.into());
    };
    e.into_result()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let m = NewProductModel {
        code: code.as_str(),
        name: &name,
        product_line: &line,
        warranty_months: months,
        coverage: coverage.as_deref().unwrap_or(""),
        first_maintenance_days: f.first_maintenance_days,
        first_maintenance_hours: f.first_maintenance_hours,
    };
    let id = products::insert_model(&mut c, &m, app.now()).await.map_err(field_error("code"))?;
    record(
        &mut c,
        app,
        ctx,
        "product_model.create",
        "product_model",
        Some(id.to_string()),
        json!({"code": code.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list_product_models(app: &App, ctx: &Ctx, page: PageRequest) -> Result<Page<ProductModel>> {
    ctx.require_read(Permission::CustomerRead)?;
    let mut rd = app.db.read().await?;
    Ok(products::list_models(&mut rd.conn(), page).await?)
}

/// A unique-key violation of a command is a field error (422), like any other bad input.
pub(crate) fn field_error(field: &'static str) -> impl Fn(shouhou_store::StoreError) -> AppError {
    move |e| match e {
        shouhou_store::StoreError::Duplicate { .. } => ValidationErrors::single(field, "already_exists").into(),
        other => other.into(),
    }
}
