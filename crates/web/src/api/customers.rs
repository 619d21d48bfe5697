//! Customers over the API.
use super::{Created, PageQuery, Paged, etag};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shouhou_app::customers::{CustomerForm, CustomerView};

/// Register a customer; personal data is stored encrypted.
#[utoipa::path(post, path = "/api/v1/customers", tag = "service desk", request_body = CustomerForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_customer(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<CustomerForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::customers::create_customer(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Customers the caller may see, newest first; personal data masked without the right to see it.
#[utoipa::path(get, path = "/api/v1/customers", tag = "service desk", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<CustomerView>)))]
pub async fn list_customers(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<CustomerView>>> {
    let p = shouhou_app::customers::list_customers(&s.app, &rc.ctx, q.page()?).await?;
    Ok(Json(Paged::from(p, std::convert::identity)))
}

/// One customer (reading personal data in clear is written to the audit trail).
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = CustomerView), (status = 404, body = super::ProblemDoc)))]
pub async fn get_customer(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let c = shouhou_app::customers::get_customer(&s.app, &rc.ctx, id).await?;
    Ok((etag(c.version), Json(c)).into_response())
}
