//! Product models over the API.
use super::{Created, PageQuery, Paged};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shouhou_app::products::{ProductModel, ProductModelForm};
use utoipa::ToSchema;

/// Create a product model (administrators).
#[utoipa::path(post, path = "/api/v1/product-models", tag = "service desk", request_body = ProductModelForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_product_model(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<ProductModelForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::products::create_product_model(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Product models, by product line.
#[utoipa::path(get, path = "/api/v1/product-models", tag = "service desk", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<ProductModelAnswer>)))]
pub async fn list_product_models(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<ProductModelAnswer>>> {
    let p = shouhou_app::products::list_product_models(&s.app, &rc.ctx, q.page()?).await?;
    Ok(Json(Paged::from(p, ProductModelAnswer::from)))
}

/// A product model and its warranty terms.
#[derive(Serialize, ToSchema)]
pub struct ProductModelAnswer {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub product_line: String,
    pub warranty_months: i64,
    /// What the warranty covers (product, accessories, parts, labour, travel).
    pub coverage: String,
    pub first_maintenance_days: Option<i64>,
    pub first_maintenance_hours: Option<i64>,
    pub active: bool,
    pub version: i64,
}

impl From<ProductModel> for ProductModelAnswer {
    fn from(m: ProductModel) -> Self {
        ProductModelAnswer {
            id: m.id,
            code: m.code,
            name: m.name,
            product_line: m.product_line,
            warranty_months: m.warranty_months,
            coverage: m.coverage,
            first_maintenance_days: m.first_maintenance_days,
            first_maintenance_hours: m.first_maintenance_hours,
            active: m.active,
            version: m.version,
        }
    }
}
