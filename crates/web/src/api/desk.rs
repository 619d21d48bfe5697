//! The service desk API: product models, customers, devices, screen pop, service requests, SLA preview.
use super::{Created, PageQuery, Paged, etag, expected_version, rfc3339};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::{ApiResult, Problem};
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shouhou_app::desk::{ContactForm, CustomerForm, DeviceForm, Lookup, ProductModelForm};
use shouhou_app::service::RequestForm;
use utoipa::{IntoParams, ToSchema};

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductModelBody {
    pub code: String,
    pub name: String,
    pub product_line: String,
    /// Months of free warranty from the sale date (default 12).
    pub warranty_months: Option<i64>,
    pub coverage: Option<String>,
    pub first_maintenance_days: Option<i64>,
    pub first_maintenance_hours: Option<i64>,
}

/// Create a product model (administrators).
#[utoipa::path(post, path = "/api/v1/product-models", tag = "service desk", request_body = ProductModelBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_product_model(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<ProductModelBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let f = ProductModelForm {
        code: b.code,
        name: b.name,
        product_line: b.product_line,
        warranty_months: b.warranty_months,
        coverage: b.coverage,
        first_maintenance_days: b.first_maintenance_days,
        first_maintenance_hours: b.first_maintenance_hours,
    };
    let id = shouhou_app::desk::create_product_model(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Product models, by product line.
#[utoipa::path(get, path = "/api/v1/product-models", tag = "service desk", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<serde_json::Value>)))]
pub async fn list_product_models(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<Value>>> {
    let p = shouhou_app::desk::list_product_models(&s.app, &rc.ctx, q.page()?).await?;
    Ok(Json(Paged::from(p, |m| to_json(&m))))
}

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
    let id = shouhou_app::desk::create_customer(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Customers the caller may see, newest first; personal data masked without the right to see it.
#[utoipa::path(get, path = "/api/v1/customers", tag = "service desk", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<serde_json::Value>)))]
pub async fn list_customers(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<Value>>> {
    let p = shouhou_app::desk::list_customers(&s.app, &rc.ctx, q.page()?).await?;
    Ok(Json(Paged::from(p, |c| to_json(&c))))
}

/// One customer (reading personal data in clear is written to the audit trail).
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = serde_json::Value), (status = 404, body = super::ProblemDoc)))]
pub async fn get_customer(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let c = shouhou_app::desk::get_customer(&s.app, &rc.ctx, id).await?;
    Ok((etag(c.version), Json(to_json(&c))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    pub serial_number: String,
    pub model_code: String,
    pub customer_id: i64,
    /// YYYY-MM-DD, not in the future.
    pub sale_date: String,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    /// Warranty extended by contract through this day (YYYY-MM-DD).
    pub contract_until: Option<String>,
}

/// Register a device of a customer; its serial number is unique per model.
#[utoipa::path(post, path = "/api/v1/devices", tag = "service desk", request_body = DeviceBody, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_device(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<DeviceBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let f = DeviceForm {
        serial_number: b.serial_number,
        model_code: b.model_code,
        customer_id: b.customer_id,
        sale_date: b.sale_date,
        install_region_code: b.install_region_code,
        install_address: b.install_address,
        dealer_name: b.dealer_name,
        contract_until: b.contract_until,
    };
    let id = shouhou_app::desk::create_device(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScreenPopQuery {
    pub phone: Option<String>,
    pub serial_number: Option<String>,
}

/// The customer behind a phone number or a serial number, their devices with warranty, open
/// requests and history; 404 when nobody matches.
#[utoipa::path(get, path = "/api/v1/screen-pop", tag = "service desk", params(ScreenPopQuery), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), (status = 404, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn screen_pop(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ScreenPopQuery>,
) -> ApiResult<Response> {
    let by = match (
        q.phone.as_deref().filter(|p| !p.trim().is_empty()),
        q.serial_number.as_deref().filter(|p| !p.trim().is_empty()),
    ) {
        (Some(p), _) => Lookup::Phone(p),
        (None, Some(sn)) => Lookup::Serial(sn),
        (None, None) => {
            return Ok(Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "phone", "required")
                .into_response());
        }
    };
    match shouhou_app::desk::screen_pop(&s.app, &rc.ctx, by).await? {
        Some(pop) => Ok(Json(request_times(to_json(&pop))).into_response()),
        None => Ok(super::not_found().into_response()),
    }
}

/// Instants of requests as RFC 3339 (+08:00) next to the stored milliseconds.
fn request_times(mut v: Value) -> Value {
    fn fix(r: &mut Value) {
        if let Value::Object(m) = r {
            for key in [
                "created_at",
                "updated_at",
                "closed_at",
                "response_due_at",
                "resolution_due_at",
                "promised_reply_at",
                "at",
            ] {
                if let Some(ms) = m.get(key).and_then(Value::as_i64) {
                    m.insert(key.to_string(), Value::String(rfc3339(ms)));
                }
            }
        }
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(walk),
            Value::Object(m) => {
                for key in ["open_requests", "history", "items", "events"] {
                    if let Some(Value::Array(a)) = m.get_mut(key) {
                        a.iter_mut().for_each(fix);
                    }
                }
                if let Some(r) = m.get_mut("request") {
                    fix(r);
                }
            }
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequestBody {
    pub customer_id: i64,
    pub serial_number: Option<String>,
    /// consultation repair installation maintenance upgrade delivery complaint suggestion return_exchange training
    #[serde(rename = "type")]
    pub request_type: String,
    /// phone email web chat wechat walk_in qr_code dealer
    pub channel: String,
    /// urgent high normal low (default normal)
    pub urgency: Option<String>,
    pub description: String,
    pub fault_code: Option<String>,
    /// RFC 3339: when the agent promised to reply.
    pub promised_reply_at: Option<String>,
    /// Solved during the call (first-contact resolution): how.
    pub resolve_now: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisteredAnswer {
    pub id: i64,
    /// `SR-YYYYMMDD-NNNN`, the day of creation in Asia/Shanghai.
    pub number: String,
}

/// Register a service request; it gets its number and SLA due times at once.
#[utoipa::path(post, path = "/api/v1/service-requests", tag = "service desk", request_body = ServiceRequestBody, security(("bearer" = [])),
    responses((status = 201, body = RegisteredAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn create_request(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<ServiceRequestBody>,
) -> ApiResult<(StatusCode, Json<RegisteredAnswer>)> {
    let f = RequestForm {
        customer_id: b.customer_id,
        serial_number: b.serial_number,
        request_type: b.request_type,
        channel: b.channel,
        urgency: b.urgency.unwrap_or_default(),
        description: b.description,
        fault_code: b.fault_code,
        promised_reply_at: b.promised_reply_at,
        resolve_now: b.resolve_now,
    };
    let r = shouhou_app::service::create_request(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(RegisteredAnswer { id: r.id, number: r.number })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// mine, station, unassigned, due_soon, breached, all (default)
    pub queue: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Open requests of a queue, soonest due first.
#[utoipa::path(get, path = "/api/v1/service-requests", tag = "service desk", params(QueueQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<serde_json::Value>)))]
pub async fn list_requests(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Value>> {
    let page = super::page_of(q.page, q.per_page)?;
    let p = shouhou_app::service::queue(&s.app, &rc.ctx, q.queue.as_deref().unwrap_or(""), page).await?;
    Ok(Json(request_times(to_json(&p))))
}

/// One request with its SLA clocks, allowed actions and timeline; 404 outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/service-requests/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = serde_json::Value), (status = 404, body = super::ProblemDoc)))]
pub async fn get_request(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::service::get_request(&s.app, &rc.ctx, id).await?;
    let version = d.request.version;
    let mut v = request_times(to_json(&d));
    if let Some(r) = v.get("request").cloned() {
        // The request's own fields at the top level, as `GET /service-requests/{id}` promises.
        if let (Value::Object(top), Value::Object(req)) = (&mut v, r) {
            for (k, val) in req {
                top.entry(k).or_insert(val);
            }
        }
    }
    Ok((etag(version), Json(v)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// accept respond start_work wait_for_customer resume resolve confirm close reopen cancel
    pub action: String,
    /// What was done or said; the reason of a cancellation (required then).
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// Move a request through its lifecycle; an illegal action answers 409 naming the allowed ones.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/transitions", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = TransitionBody, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), (status = 409, body = super::ProblemDoc)))]
pub async fn transition(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<TransitionBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let t = shouhou_app::service::transition(&s.app, &rc.ctx, id, version, &b.action, b.note.as_deref().unwrap_or(""))
        .await?;
    Ok((etag(t.version), Json(to_json(&t))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub note: String,
}

/// Add a note to a request's timeline.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/notes", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = NoteBody, security(("bearer" = [])), responses((status = 204), (status = 404, body = super::ProblemDoc)))]
pub async fn add_note(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<StatusCode> {
    shouhou_app::service::add_note(&s.app, &rc.ctx, id, &b.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// Calendar code: `cn-workday`, `24x7` or one an administrator made.
    pub calendar: String,
    /// RFC 3339 instant, e.g. `2025-09-30T16:00:00+08:00`.
    pub start: String,
    /// ISO 8601 duration, e.g. `PT8H`: business time on a working calendar, wall time on 24 × 7.
    pub target: String,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewAnswer {
    /// RFC 3339 with +08:00.
    pub due: String,
}

/// When a target started at `start` falls due on a calendar.
#[utoipa::path(get, path = "/api/v1/sla/preview", tag = "service desk", params(PreviewQuery), security(("bearer" = [])),
    responses((status = 200, body = PreviewAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn sla_preview(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> ApiResult<Json<PreviewAnswer>> {
    let due = shouhou_app::service::sla_preview(&s.app, &rc.ctx, &q.calendar, &q.start, &q.target).await?;
    Ok(Json(PreviewAnswer { due: rfc3339(due.as_millisecond()) }))
}

/// Attach a photo or document (multipart field `file`, at most 10 MiB); the type is judged by the
/// content, and a name claiming another type is refused.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/attachments", tag = "service desk",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn add_attachment(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> ApiResult<Response> {
    let (name, bytes) = match read_file_field(multipart).await {
        Ok(f) => f,
        Err(p) => return Ok(p.into_response()),
    };
    let att = shouhou_app::service::add_attachment(&s.app, &rc.ctx, id, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(Created { id: att })).into_response())
}

/// The field `file` of a multipart body: its file name and bytes. A body too large is 413, a
/// malformed one or a file name with a control character 400 (see `json::multipart_problem`).
pub async fn read_file_field(mut multipart: axum::extract::Multipart) -> Result<(String, Vec<u8>), Problem> {
    use crate::json::{multipart_problem, upload_file_name};
    while let Some(field) = multipart.next_field().await.map_err(|e| multipart_problem(&e))? {
        if field.name() == Some("file") {
            let name = upload_file_name(field.file_name().unwrap_or(""))?;
            let bytes = field.bytes().await.map_err(|e| multipart_problem(&e))?;
            return Ok((name, bytes.to_vec()));
        }
    }
    Err(Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "file", "required"))
}

/// Download an attachment (served as a download, never rendered inline).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, description = "the file"), (status = 404, body = super::ProblemDoc)))]
pub async fn get_attachment(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let (meta, bytes) = shouhou_app::service::get_attachment(&s.app, &rc.ctx, id).await?;
    Ok(attachment_response(&meta, bytes))
}

pub fn attachment_response(meta: &shouhou_store::requests::AttachmentMeta, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    let encoded: String = meta
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, max-age=0".to_string()),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The person to work on it; omit to take it yourself; `null` with `unassign: true` returns it to the queue.
    pub user_id: Option<i64>,
    #[serde(default)]
    pub unassign: bool,
    pub version: Option<i64>,
}

/// Assign a request to a person (engineer, agent) who may work on it, or take it yourself.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/assignee", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = AssignBody, security(("bearer" = [])), responses((status = 200, body = serde_json::Value), (status = 409, body = super::ProblemDoc)))]
pub async fn assign(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let me = rc.ctx.actor()?.id.0;
    let user = if b.unassign { None } else { Some(b.user_id.unwrap_or(me)) };
    let t = shouhou_app::service::assign(&s.app, &rc.ctx, id, version, user).await?;
    Ok((etag(t.version), Json(to_json(&t))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReclassifyBody {
    #[serde(rename = "type")]
    pub request_type: Option<String>,
    pub urgency: Option<String>,
    pub version: Option<i64>,
}

/// Change the type or urgency of an open request; the SLA policy is chosen again and the clocks
/// are recomputed from the recorded events (paused time stays excluded).
#[utoipa::path(patch, path = "/api/v1/service-requests/{id}", tag = "service desk", params(("id" = i64, Path, description = "record id")),
    request_body = ReclassifyBody, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn reclassify(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ReclassifyBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let t =
        shouhou_app::service::reclassify(&s.app, &rc.ctx, id, version, b.request_type.as_deref(), b.urgency.as_deref())
            .await?;
    Ok((etag(t.version), Json(to_json(&t))).into_response())
}
