//! JSON API under `/api/v1`; the OpenAPI 3.1 document is generated from these handlers.
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod complaints;
pub mod customers;
pub mod desk;
pub mod devices;
pub mod docs;
pub mod inbox;
pub mod maintenance;
pub mod part_applications;
pub mod parts;
pub mod portal;
pub mod products;
pub mod recalls;
pub mod regions;
pub mod requests;
pub mod return_visits;
pub mod returns;
pub mod sla;
pub mod stations;
pub mod stocktakes;
pub mod users;
pub mod warehouses;
pub mod warranty_cards;
pub mod work_orders;

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
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(stations::list_stations, stations::create_station))
        .routes(routes!(stations::get_station, stations::update_station))
        .routes(routes!(warehouses::list_warehouses, warehouses::create_warehouse))
        .routes(routes!(warehouses::get_warehouse))
        .routes(routes!(stations::set_station_calendar))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(regions::regions))
        .routes(routes!(products::list_product_models, products::create_product_model))
        .routes(routes!(customers::list_customers, customers::create_customer))
        .routes(routes!(customers::get_customer))
        .routes(routes!(devices::create_device))
        .routes(routes!(devices::entitlement))
        .routes(routes!(devices::set_warranty))
        .routes(routes!(desk::screen_pop))
        .routes(routes!(requests::list_requests, requests::create_request))
        .routes(routes!(requests::get_request, requests::reclassify))
        .routes(routes!(requests::transition))
        .routes(routes!(requests::add_note))
        .routes(routes!(sla::sla_preview))
        .routes(routes!(attachments::add_attachment))
        .routes(routes!(requests::assign))
        .routes(routes!(sla::update_calendar))
        .routes(routes!(sla::set_calendar_day))
        .routes(routes!(sla::update_policy))
        .routes(routes!(inbox::inbox))
        .routes(routes!(inbox::unread))
        .routes(routes!(inbox::mark_read))
        .routes(routes!(attachments::get_attachment))
        .routes(routes!(work_orders::create_work_order))
        .routes(routes!(work_orders::get_work_order))
        .routes(routes!(work_orders::recommendations))
        .routes(routes!(work_orders::dispatch))
        .routes(routes!(work_orders::assign))
        .routes(routes!(work_orders::transition))
        .routes(routes!(work_orders::set_coverage))
        .routes(routes!(work_orders::set_skills))
        .routes(routes!(work_orders::add_file))
        .routes(routes!(work_orders::get_file))
        .routes(routes!(work_orders::add_part))
        .routes(routes!(work_orders::set_appointment))
        .routes(routes!(work_orders::report))
        .routes(routes!(maintenance::create_plan, maintenance::list_plans))
        .routes(routes!(maintenance::due))
        .routes(routes!(work_orders::set_leave))
        .routes(routes!(work_orders::get_dispatch_settings, work_orders::set_dispatch_settings))
        .routes(routes!(parts::create_part, parts::list_parts))
        .routes(routes!(parts::record_movement))
        .routes(routes!(parts::stock))
        .routes(routes!(parts::set_threshold))
        .routes(routes!(parts::export_stock))
        .routes(routes!(parts::import))
        .routes(routes!(parts::export_movements))
        .routes(routes!(warranty_cards::file_card, warranty_cards::list_cards))
        .routes(routes!(warranty_cards::overdue))
        .routes(routes!(warranty_cards::get_card))
        .routes(routes!(warranty_cards::review))
        .routes(routes!(warranty_cards::resubmit))
        .routes(routes!(warranty_cards::list_returns))
        .routes(routes!(warranty_cards::receive_return))
        .routes(routes!(part_applications::apply, part_applications::list))
        .routes(routes!(part_applications::get))
        .routes(routes!(part_applications::decide))
        .routes(routes!(complaints::register, complaints::list))
        .routes(routes!(complaints::report))
        .routes(routes!(complaints::get))
        .routes(routes!(complaints::step))
        .routes(routes!(complaints::create_suggestion, complaints::list_suggestions))
        .routes(routes!(complaints::export_suggestions))
        .routes(routes!(complaints::get_suggestion))
        .routes(routes!(complaints::suggestion_step))
        .routes(routes!(return_visits::get_settings, return_visits::set_settings))
        .routes(routes!(return_visits::list))
        .routes(routes!(return_visits::results))
        .routes(routes!(return_visits::sample))
        .routes(routes!(return_visits::get))
        .routes(routes!(return_visits::record))
        .routes(routes!(return_visits::survey_link))
        .routes(routes!(return_visits::check))
        .routes(routes!(return_visits::follow_ups))
        .routes(routes!(return_visits::close_follow_up))
        .routes(routes!(stocktakes::open, stocktakes::list))
        .routes(routes!(stocktakes::get))
        .routes(routes!(stocktakes::step))
        .routes(routes!(returns::request))
        .routes(routes!(returns::list))
        .routes(routes!(returns::get))
        .routes(routes!(returns::decide))
        .routes(routes!(recalls::create, recalls::list))
        .routes(routes!(recalls::get))
        .routes(routes!(recalls::devices))
        .routes(routes!(recalls::record_state))
        .routes(routes!(recalls::make_work_orders))
        .routes(routes!(recalls::export))
        .routes(routes!(portal::track))
        .routes(routes!(devices::label_svg))
        .routes(routes!(devices::label_png))
        .routes(routes!(devices::label_sheet))
        .split_for_parts();
    let mut doc = doc;
    declare_problems(&mut doc);
    (router, doc)
}

/// The error answers every operation may give, declared on each (RFC 9457 problem+json with the
/// `Problem` schema), so that a client or a fuzzer finds every status it can get documented:
/// 400/500/503 everywhere, 401/403/404 where a token is needed (an operation a role may not
/// reach at all answers 404, as a record outside its stations does), 404 with a path id, 413/415/422
/// with a body, 422 with parameters (a page out of range, a search text too long), 409/422 on
/// POST (an `Idempotency-Key` still running or reused), 409 on an update (a stale version), 429
/// on login. A status an operation declared itself keeps its description; its content becomes
/// the problem's.
fn declare_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    const ANSWERS: [(&str, &str, &str); 12] = [
        ("400", "BadRequest", "The request is malformed (path, query, headers or body)"),
        ("401", "Unauthenticated", "Not signed in, or the token has expired"),
        ("403", "Forbidden", "The caller's roles do not allow this"),
        ("404", "NotFound", "No such record, or outside the caller's stations"),
        ("409", "Conflict", "A stale version, an illegal transition, or an Idempotency-Key still running"),
        ("413", "PayloadTooLarge", "The body is too large"),
        ("415", "UnsupportedMediaType", "The body is not of the declared media type"),
        ("422", "ValidationFailed", "Invalid input: one entry per bad field in `errors`"),
        ("429", "Throttled", "Too many attempts; see Retry-After"),
        ("500", "Internal", "Internal error (the request id is in the log)"),
        ("503", "Unavailable", "The database is unavailable"),
        ("405", "MethodNotAllowed", "The path does not take this method"),
    ];
    let problem = || ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("Problem")))).build();
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in ANSWERS {
        let r = ResponseBuilder::new().description(description).content("application/problem+json", problem()).build();
        components.responses.insert(name.to_string(), RefOr::T(r));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_id = path.contains('{');
        for (method, op) in [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ] {
            let Some(op) = op.as_mut() else { continue };
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut statuses = vec!["400", "500", "503"];
            if secured {
                statuses.extend(["401", "403", "404"]);
            }
            if has_id {
                statuses.push("404");
            }
            if has_body {
                statuses.extend(["413", "415", "422"]);
            }
            if has_params {
                statuses.push("422");
            }
            match method {
                "post" => statuses.extend(["409", "422"]),
                "put" | "patch" => statuses.push("409"),
                _ => {}
            }
            if path == "/api/v1/auth/login" || path == "/api/v1/public/track" {
                statuses.push("429");
            }
            // What the operation declared itself stays declared, now as a problem.
            statuses.extend(
                op.responses
                    .responses
                    .keys()
                    .filter(|k| k.as_str() >= "400")
                    .map(|k| ANSWERS.iter().find(|(s, _, _)| s == k).map(|(s, _, _)| *s).unwrap_or("400")),
            );
            for status in statuses {
                let Some((_, name, _)) = ANSWERS.iter().find(|(s, _, _)| *s == status) else { continue };
                op.responses.responses.insert(status.to_string(), RefOr::Ref(Ref::from_response_name(*name)));
            }
        }
    }
}

/// The API routes anyone may call: everything else needs a signed-in caller.
const PUBLIC: [&str; 2] = ["/api/v1/auth/login", "/api/v1/public/track"];

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
#[schema(as = Problem)]
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
    /// The bound crossed: most characters of a `too_long` value, largest `per_page`.
    pub limit: Option<u32>,
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
    /// The page asked for, checked with the search text (see [`page_of`]).
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let mut e = shouhou_domain::ValidationErrors::default();
        e.take(shouhou_domain::text::search_text("q", self.q.as_deref()));
        match PageRequest::parse(self.page, self.per_page) {
            Ok(p) if e.is_empty() => Ok(p),
            Ok(_) => Err(AppError::Validation(e).into()),
            Err(pe) => {
                e.0.extend(pe.0);
                Err(AppError::Validation(e).into())
            }
        }
    }
}

/// `page` and `per_page` of a list, checked: out of range is a 422 field error, not capped.
pub fn page_of(page: Option<u32>, per_page: Option<u32>) -> Result<PageRequest, ApiError> {
    PageRequest::parse(page, per_page).map_err(|e| AppError::Validation(e).into())
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

    /// The page with every item answered by `f`; the first failure fails the answer.
    pub fn try_from<U, E>(p: shouhou_app::Page<U>, f: impl FnMut(U) -> Result<T, E>) -> Result<Self, E> {
        let items = p.items.into_iter().map(f).collect::<Result<Vec<_>, E>>()?;
        Ok(Paged { items, page: p.page, per_page: p.per_page, total: p.total })
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

/// An instant as an API answer carries it: RFC 3339 in the business zone, `2026-11-26T17:03:00+08:00`
/// (seconds precision). In the OpenAPI document a string of format `date-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub jiff::Timestamp);

impl Instant {
    pub fn opt(t: Option<jiff::Timestamp>) -> Option<Instant> {
        t.map(Instant)
    }

    /// Stored epoch milliseconds; out of range is a fault, never 1970.
    pub fn from_ms(ms: i64) -> Result<Instant, AppError> {
        jiff::Timestamp::from_millisecond(ms)
            .map(Instant)
            .map_err(|e| AppError::Internal(format!("stored instant {ms}: {e}")))
    }
}

impl std::fmt::Display for Instant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let zoned = self.0.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)));
        write!(f, "{}", zoned.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    }
}

impl Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl utoipa::PartialSchema for Instant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 at +08:00 (Asia/Shanghai)"))
            .examples(["2026-11-26T17:03:00+08:00"])
            .into()
    }
}

impl ToSchema for Instant {}

/// Epoch milliseconds as RFC 3339 in the business zone (+08:00).
pub fn rfc3339(ms: i64) -> String {
    let offset = jiff::tz::Offset::constant(8);
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// Every answer of every operation has a real schema: no untyped JSON (`{}`, what
    /// `serde_json::Value` gives), neither as a body nor as a property of a schema.
    #[test]
    fn the_openapi_document_has_no_untyped_answer() {
        fn untyped(v: &serde_json::Value) -> bool {
            v.as_object().is_some_and(|o| o.is_empty() || o.keys().all(|k| k == "description" || k == "default"))
        }
        fn walk(path: &str, v: &serde_json::Value, found: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(o) => {
                    for (k, child) in o {
                        let here = format!("{path}/{k}");
                        let is_schema_slot = k == "schema" || k == "items" || path.ends_with("/properties");
                        if is_schema_slot && untyped(child) {
                            found.push(here.clone());
                        }
                        walk(&here, child, found);
                    }
                }
                serde_json::Value::Array(a) => {
                    a.iter().enumerate().for_each(|(i, c)| walk(&format!("{path}/{i}"), c, found))
                }
                _ => {}
            }
        }
        let doc = serde_json::to_value(super::router().1).unwrap_or_default();
        let mut found = vec![];
        walk("", &doc, &mut found);
        assert!(found.is_empty(), "untyped schemas: {found:#?}");
        assert!(doc["components"]["schemas"]["RequestDetailAnswer"].is_object());
    }

    /// Operation ids are unique across the document (OpenAPI requires it; two handlers named
    /// `assign` in two modules once gave two operations the same id).
    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(super::router().1).unwrap_or_default();
        let mut seen = std::collections::BTreeMap::new();
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in ops.as_object().into_iter().flatten() {
                if let Some(id) = op["operationId"].as_str() {
                    let first = seen.insert(id.to_string(), format!("{method} {path}"));
                    assert!(first.is_none(), "operation id {id} of {method} {path} is also {first:?}");
                }
            }
        }
        assert!(seen.len() > 40);
    }

    /// Every operation declares its error answers as problem+json with the `Problem` schema, and
    /// no error answer is declared as plain JSON (schemathesis counted thousands undocumented).
    #[test]
    fn every_operation_declares_its_problem_answers() {
        let doc = serde_json::to_value(super::router().1).unwrap_or_default();
        let responses = &doc["components"]["responses"];
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                operations += 1;
                let answers = op["responses"].as_object().cloned().unwrap_or_default();
                let mut expected = vec!["400", "500", "503"];
                if op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty())) {
                    expected.extend(["401", "403", "404"]);
                }
                if path.contains('{') {
                    expected.push("404");
                }
                if op.get("requestBody").is_some() {
                    expected.extend(["413", "415", "422"]);
                }
                if method == "post" {
                    expected.extend(["409", "422"]);
                }
                for status in expected {
                    assert!(answers.contains_key(status), "{method} {path} declares {status}");
                }
                for (status, answer) in answers.iter().filter(|(s, _)| s.as_str() >= "400") {
                    let name = answer["$ref"].as_str().and_then(|r| r.rsplit('/').next()).unwrap_or("");
                    let content = &responses[name]["content"];
                    assert_eq!(
                        content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                    assert!(content.get("application/json").is_none(), "{method} {path} {status}");
                }
            }
        }
        assert!(operations > 30, "{operations}");
        assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
        assert!(doc["components"]["schemas"]["FieldErrorDoc"]["properties"]["limit"].is_object());
    }
}
