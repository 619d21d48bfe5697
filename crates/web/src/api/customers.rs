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
use serde::{Deserialize, Serialize};
use shouhou_app::customers::{ContactForm, ContactView, CustomerForm, CustomerView};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// `operator` (机手, who uses the equipment) or `contact`.
    pub role: Option<String>,
    pub name: String,
    pub phone: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    /// `person` (default) or `company`.
    pub kind: Option<String>,
    pub name: String,
    /// Mobile (`13812345678`, `+86 138 1234 5678`) or landline (`0755-26581234`).
    pub phone: String,
    /// 统一社会信用代码, required for a company.
    pub credit_code: Option<String>,
    /// 公民身份号码 of a person (18 characters, check character verified); optional.
    pub id_number: Option<String>,
    /// GB/T 2260 division code.
    pub region_code: String,
    pub address: String,
    /// `vip`, `key` or `standard` (default).
    pub tier: Option<String>,
    pub station_code: Option<String>,
    #[serde(default)]
    pub contacts: Vec<ContactBody>,
}

/// Register a customer; personal data is stored encrypted.
#[utoipa::path(post, path = "/api/v1/customers", tag = "service desk", request_body = CustomerBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_customer(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<CustomerBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let f = CustomerForm {
        kind: b.kind,
        name: b.name,
        phone: b.phone,
        credit_code: b.credit_code,
        id_number: b.id_number,
        region_code: b.region_code,
        address: b.address,
        tier: b.tier,
        station_code: b.station_code,
        contacts: b
            .contacts
            .into_iter()
            .map(|c| ContactForm { role: c.role.unwrap_or_default(), name: c.name, phone: c.phone })
            .collect(),
    };
    let id = shouhou_app::customers::create_customer(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Customers the caller may see, newest first; personal data masked without the right to see it.
#[utoipa::path(get, path = "/api/v1/customers", tag = "service desk", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<CustomerAnswer>)))]
pub async fn list_customers(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<CustomerAnswer>>> {
    let p = shouhou_app::customers::list_customers(&s.app, &rc.ctx, q.page()?).await?;
    Ok(Json(Paged::from(p, CustomerAnswer::from)))
}

/// One customer (reading personal data in clear is written to the audit trail).
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = CustomerAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get_customer(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let c = shouhou_app::customers::get_customer(&s.app, &rc.ctx, id).await?;
    Ok((etag(c.version), Json(CustomerAnswer::from(c))).into_response())
}

/// A customer as the caller may see them: personal fields masked (`masked: true`) without the
/// right to read them in clear.
#[derive(Serialize, ToSchema)]
pub struct CustomerAnswer {
    pub id: i64,
    /// person, company
    pub kind: String,
    pub name: String,
    pub phone: String,
    pub credit_code: Option<String>,
    pub id_number: Option<String>,
    /// GB/T 2260 code and its name.
    pub region_code: String,
    pub region_name: String,
    pub address: String,
    /// vip, key, standard
    pub tier: String,
    pub station_id: Option<i64>,
    pub contacts: Vec<ContactAnswer>,
    pub masked: bool,
    pub version: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ContactAnswer {
    pub role: String,
    pub name: String,
    pub phone: String,
}

impl From<ContactView> for ContactAnswer {
    fn from(c: ContactView) -> Self {
        ContactAnswer { role: c.role, name: c.name, phone: c.phone }
    }
}

impl From<CustomerView> for CustomerAnswer {
    fn from(c: CustomerView) -> Self {
        CustomerAnswer {
            id: c.id,
            kind: c.kind,
            name: c.name,
            phone: c.phone,
            credit_code: c.credit_code,
            id_number: c.id_number,
            region_code: c.region_code,
            region_name: c.region_name,
            address: c.address,
            tier: c.tier,
            station_id: c.station_id,
            contacts: c.contacts.into_iter().map(ContactAnswer::from).collect(),
            masked: c.masked,
            version: c.version,
        }
    }
}
