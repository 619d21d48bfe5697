//! JSON API under `/api/v1`; the OpenAPI 3.1 document is generated from these handlers.
pub mod auth;
pub mod desk;
pub mod docs;
pub mod org;
pub mod sla;
pub mod system;
pub mod users;

use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use shouhou_app::{AppError, PageRequest};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shouhou API",
        description = "售后服务管理系统 — after-sales service management. Every POST honours `Idempotency-Key`; \
                       updates need the record's `version` (or `If-Match`) and answer 409 when it is stale; \
                       errors are RFC 9457 `application/problem+json` with a stable `code`.",
        license(name = "MIT")
    ),
    modifiers(&BearerAuth),
    components(schemas(ProblemDoc, FieldErrorDoc))
)]
struct ApiDoc;

struct BearerAuth;
impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(org::list_stations, org::create_station))
        .routes(routes!(org::get_station, org::update_station))
        .routes(routes!(org::list_warehouses, org::create_warehouse))
        .routes(routes!(org::get_warehouse))
        .routes(routes!(org::set_station_calendar))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(system::list_audit))
        .routes(routes!(system::verify_audit))
        .routes(routes!(system::regions))
        .routes(routes!(desk::list_product_models, desk::create_product_model))
        .routes(routes!(desk::list_customers, desk::create_customer))
        .routes(routes!(desk::get_customer))
        .routes(routes!(desk::create_device))
        .routes(routes!(desk::screen_pop))
        .routes(routes!(desk::list_requests, desk::create_request))
        .routes(routes!(desk::get_request, desk::reclassify))
        .routes(routes!(desk::transition))
        .routes(routes!(desk::add_note))
        .routes(routes!(desk::sla_preview))
        .routes(routes!(desk::add_attachment))
        .routes(routes!(desk::assign))
        .routes(routes!(sla::update_calendar))
        .routes(routes!(sla::set_calendar_day))
        .routes(routes!(sla::update_policy))
        .routes(routes!(sla::inbox))
        .routes(routes!(sla::unread))
        .routes(routes!(sla::mark_read))
        .routes(routes!(desk::get_attachment))
        .split_for_parts()
}

/// The API routes anyone may call: everything else needs a signed-in caller.
const PUBLIC: [&str; 1] = ["/api/v1/auth/login"];

/// Answer 401 to an anonymous caller before anything reads or checks the body: an upload is not
/// read, an invalid body is not judged, an `Idempotency-Key` is not looked at.
pub async fn signed_in_layer(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let signed_in = req.extensions().get::<crate::ctx::ReqCtx>().is_some_and(|rc| rc.ctx.actor.is_some());
    if signed_in || PUBLIC.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated").into_response()
}

/// RFC 9457 problem details, as every error of this API is answered.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ProblemDoc {
    /// URI reference naming the problem type, e.g. `/api/problems/validation_failed`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Stable machine code: `validation_failed`, `not_found`, `stale_version`, `duplicate`, …
    pub code: String,
    /// Human message in the caller's language.
    pub detail: String,
    pub request_id: String,
    pub errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FieldErrorDoc {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// `?page=&per_page=` (per_page at most 100).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Text to look for (code, name).
    pub q: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> PageRequest {
        PageRequest::new(self.page, self.per_page)
    }
}

#[derive(Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T: ToSchema> Paged<T> {
    pub fn from<U>(p: shouhou_app::Page<U>, f: impl FnMut(U) -> T) -> Self {
        let p = p.map(f);
        Paged { items: p.items, page: p.page, per_page: p.per_page, total: p.total }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Versioned {
    pub id: i64,
    pub version: i64,
}

/// The version an update is based on: the body's `version`, else `If-Match: "N"`; one is required.
pub fn expected_version(body: Option<i64>, headers: &HeaderMap) -> Result<i64, ApiError> {
    if let Some(v) = body {
        return Ok(v);
    }
    let header = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'));
    match header.map(str::parse::<i64>) {
        Some(Ok(v)) => Ok(v),
        Some(Err(_)) => {
            Err(AppError::Validation(shouhou_domain::ValidationErrors::single("version", "invalid_value")).into())
        }
        None => Err(ApiError(AppError::Validation(shouhou_domain::ValidationErrors::single("version", "required")))),
    }
}

/// `ETag: "N"` for a record at version N.
pub fn etag(version: i64) -> [(header::HeaderName, String); 1] {
    [(header::ETAG, format!("\"{version}\""))]
}

/// A denied read or missing record, as the API answers it.
pub fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found")
}

/// Epoch milliseconds as RFC 3339 in the business zone (+08:00).
pub fn rfc3339(ms: i64) -> String {
    let offset = jiff::tz::Offset::constant(8);
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}
