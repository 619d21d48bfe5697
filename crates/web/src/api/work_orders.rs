//! Work orders over the API: creation, one work order, recommendations with reasons in words,
//! dispatch to a station, assignment to an engineer, the lifecycle; station coverage and
//! engineers' skills.
use super::requests::ClockAnswer;
use super::{Instant, etag, expected_version};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::i18n::Tr;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::work_orders::{
    AppointmentForm, Created, FileMeta, Moved, PartForm, PartUsed, Recommendations, StepForm, WorkOrder,
    WorkOrderDetail, WorkOrderEvent, WorkOrderForm,
};
use shouhou_domain::dispatch::{Excluded, Ranked, Reason};
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::regions::region_name;
use utoipa::ToSchema;

/// A work order as the API answers it.
#[derive(Serialize, ToSchema)]
pub struct WorkOrderAnswer {
    pub id: i64,
    /// `WO-YYYYMMDD-NNNN`.
    pub number: String,
    /// repair installation inspection maintenance
    pub kind: String,
    /// created dispatched assigned accepted travelling on_site working waiting_parts completed closed cancelled
    pub status: String,
    pub service_request_id: Option<i64>,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub urgency: String,
    /// Where the visit is (GB/T 2260) and its name.
    pub region_code: String,
    pub region_name: String,
    pub description: String,
    pub station_id: Option<i64>,
    pub engineer_id: Option<i64>,
    /// When an engineer must have accepted ("arranged within"), on the calendar.
    pub arrange_due_at: Instant,
    pub arranged_at: Option<Instant>,
    /// The deadline of the tier that holds it now (the station to assign, the engineer to accept).
    pub accept_due_at: Option<Instant>,
    pub appointment_from: Option<Instant>,
    pub appointment_to: Option<Instant>,
    pub departed_at: Option<Instant>,
    pub checked_in_at: Option<Instant>,
    pub fault_code: Option<String>,
    pub cause: Option<String>,
    pub work_done: Option<String>,
    pub labour_minutes: Option<i64>,
    pub customer_confirmed: bool,
    pub completed_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    pub version: i64,
    pub created_at: Instant,
    pub updated_at: Instant,
}

impl From<&WorkOrder> for WorkOrderAnswer {
    fn from(w: &WorkOrder) -> Self {
        WorkOrderAnswer {
            id: w.id,
            number: w.number.clone(),
            kind: w.kind.as_str().into(),
            status: w.status.as_str().into(),
            service_request_id: w.service_request_id,
            customer_id: w.customer_id,
            device_id: w.device_id,
            urgency: w.urgency.as_str().into(),
            region_name: region_name(&w.region_code),
            region_code: w.region_code.clone(),
            description: w.description.clone(),
            station_id: w.station_id.map(|s| s.0),
            engineer_id: w.engineer_id.map(|u| u.0),
            arrange_due_at: Instant(w.arrange.due_at),
            arranged_at: Instant::opt(w.arrange.arranged_at),
            accept_due_at: Instant::opt(w.accept_due_at),
            appointment_from: w.appointment.map(|a| Instant(a.from)),
            appointment_to: w.appointment.map(|a| Instant(a.to)),
            departed_at: Instant::opt(w.departed_at),
            checked_in_at: Instant::opt(w.checked_in_at),
            fault_code: w.fault_code.clone(),
            cause: w.cause.clone(),
            work_done: w.work_done.clone(),
            labour_minutes: w.labour_minutes,
            customer_confirmed: w.customer_confirmed,
            completed_at: Instant::opt(w.completed_at),
            closed_at: Instant::opt(w.closed_at),
            version: w.version,
            created_at: Instant(w.created_at),
            updated_at: Instant(w.updated_at),
        }
    }
}

/// One step of a work order's timeline.
#[derive(Serialize, ToSchema)]
pub struct WorkOrderEventAnswer {
    pub id: i64,
    pub at: Instant,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// created status note
    pub kind: String,
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
}

impl TryFrom<&WorkOrderEvent> for WorkOrderEventAnswer {
    type Error = shouhou_app::AppError;
    fn try_from(e: &WorkOrderEvent) -> Result<Self, Self::Error> {
        Ok(WorkOrderEventAnswer {
            id: e.id,
            at: Instant::from_ms(e.at)?,
            actor_id: e.actor_id,
            actor_name: e.actor_name.clone(),
            kind: e.kind.clone(),
            action: e.action.clone(),
            from_status: e.from_status.clone(),
            to_status: e.to_status.clone(),
            note: e.note.clone(),
        })
    }
}

/// A part the engineer recorded as used.
#[derive(Serialize, ToSchema)]
pub struct PartAnswer {
    pub part_code: String,
    pub part_name: String,
    pub quantity: i64,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    /// The part's own warranty once installed: its last covered day (YYYY-MM-DD), if any.
    pub warranty_until: Option<String>,
}

impl From<&PartUsed> for PartAnswer {
    fn from(p: &PartUsed) -> Self {
        PartAnswer {
            part_code: p.part_code.clone(),
            part_name: p.part_name.clone(),
            quantity: p.quantity,
            old_serial: p.old_serial.clone(),
            new_serial: p.new_serial.clone(),
            warranty_until: p.warranty_until.clone(),
        }
    }
}

/// A work order with its "arranged" clock, its timeline and its parts.
#[derive(Serialize, ToSchema)]
pub struct WorkOrderDetailAnswer {
    #[serde(flatten)]
    pub work_order: WorkOrderAnswer,
    pub arrange_clock: ClockAnswer,
    /// "On site by the agreed window" (wall time through the window), once a window is agreed.
    pub on_site_clock: Option<ClockAnswer>,
    pub events: Vec<WorkOrderEventAnswer>,
    pub parts: Vec<PartAnswer>,
    pub files: Vec<FileAnswer>,
}

/// A photo or the customer's signature (its bytes at `/api/v1/work-order-files/{id}`).
#[derive(Serialize, ToSchema)]
pub struct FileAnswer {
    pub id: i64,
    /// before after signature
    pub purpose: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: Instant,
}

impl TryFrom<&FileMeta> for FileAnswer {
    type Error = shouhou_app::AppError;
    fn try_from(f: &FileMeta) -> Result<Self, Self::Error> {
        Ok(FileAnswer {
            id: f.id,
            purpose: f.purpose.clone(),
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            size_bytes: f.size_bytes,
            created_at: Instant::from_ms(f.created_at)?,
        })
    }
}

impl TryFrom<WorkOrderDetail> for WorkOrderDetailAnswer {
    type Error = shouhou_app::AppError;
    fn try_from(d: WorkOrderDetail) -> Result<Self, Self::Error> {
        Ok(WorkOrderDetailAnswer {
            work_order: WorkOrderAnswer::from(&d.work_order),
            arrange_clock: ClockAnswer::from(&d.arrange),
            on_site_clock: d.on_site.as_ref().map(ClockAnswer::from),
            events: d.events.iter().map(WorkOrderEventAnswer::try_from).collect::<Result<_, _>>()?,
            parts: d.parts.iter().map(PartAnswer::from).collect(),
            files: d.files.iter().map(FileAnswer::try_from).collect::<Result<_, _>>()?,
        })
    }
}

/// What creation answers.
#[derive(Serialize, ToSchema)]
pub struct CreatedAnswer {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub version: i64,
}

impl From<Created> for CreatedAnswer {
    fn from(c: Created) -> Self {
        CreatedAnswer { id: c.id, number: c.number, status: c.status.as_str().into(), version: c.version }
    }
}

/// Where a step left the work order.
#[derive(Serialize, ToSchema)]
pub struct MovedAnswer {
    pub id: i64,
    pub status: String,
    pub station_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub version: i64,
}

impl From<Moved> for MovedAnswer {
    fn from(m: Moved) -> Self {
        MovedAnswer {
            id: m.id,
            status: m.status.as_str().into(),
            station_id: m.station_id.map(|s| s.0),
            engineer_id: m.engineer_id.map(|u| u.0),
            version: m.version,
        }
    }
}

/// A reason in the caller's language ("覆盖 广东省 深圳市 南山区", "持 空调 资质", "12月7日 3 单").
pub fn reason_words(tr: Tr, r: &Reason) -> String {
    let day = |d: &jiff::civil::Date| tr.t2("wo-reason-day", "month", d.month(), "day", d.day());
    match r {
        Reason::Covers { region_code } => tr.t1("wo-reason-covers", "region", region_name(region_code)),
        Reason::OpenLoad { count } => tr.t1("wo-reason-open-load", "count", count),
        Reason::Distance { steps } => tr.t(&format!("wo-reason-distance-{}", steps.min(&3))),
        Reason::Certified { product_line } => tr.t1("wo-reason-certified", "line", product_line),
        Reason::DayLoad { day: d, count } => tr.t2("wo-reason-day-load", "day", day(d), "count", count),
        Reason::Inactive => tr.t("wo-reason-inactive"),
        Reason::NotCertified { product_line } => tr.t1("wo-reason-not-certified", "line", product_line),
        Reason::OnLeave { day: d } => tr.t1("wo-reason-on-leave", "day", day(d)),
    }
}

/// A station or an engineer, ranked, with its reasons in words.
#[derive(Serialize, ToSchema)]
pub struct StationChoice {
    pub station_id: i64,
    pub score: i64,
    pub reasons: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EngineerChoice {
    pub user_id: i64,
    pub score: i64,
    pub reasons: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StationLeftOut {
    pub station_id: i64,
    pub reasons: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EngineerLeftOut {
    pub user_id: i64,
    pub reasons: Vec<String>,
}

/// The stations for a work order best first, and the engineers of its station once dispatched;
/// those left out say why.
#[derive(Serialize, ToSchema)]
pub struct RecommendationsAnswer {
    pub stations: Vec<StationChoice>,
    pub engineers: Vec<EngineerChoice>,
    pub excluded_stations: Vec<StationLeftOut>,
    pub excluded_engineers: Vec<EngineerLeftOut>,
    /// Stations that do not cover the visit's region: no candidates, only counted.
    pub stations_outside: i64,
}

fn words(tr: Tr, rs: &[Reason]) -> Vec<String> {
    rs.iter().map(|r| reason_words(tr, r)).collect()
}

impl RecommendationsAnswer {
    fn new(tr: Tr, r: &Recommendations) -> Self {
        let st = |c: &Ranked<StationId>| StationChoice {
            station_id: c.id.0,
            score: c.score,
            reasons: words(tr, &c.reasons),
        };
        let en =
            |c: &Ranked<UserId>| EngineerChoice { user_id: c.id.0, score: c.score, reasons: words(tr, &c.reasons) };
        let xs = |c: &Excluded<StationId>| StationLeftOut { station_id: c.id.0, reasons: words(tr, &c.reasons) };
        let xe = |c: &Excluded<UserId>| EngineerLeftOut { user_id: c.id.0, reasons: words(tr, &c.reasons) };
        RecommendationsAnswer {
            stations: r.stations.ranked.iter().map(st).collect(),
            engineers: r.engineers.ranked.iter().map(en).collect(),
            excluded_stations: r.stations.excluded.iter().map(xs).collect(),
            excluded_engineers: r.engineers.excluded.iter().map(xe).collect(),
            stations_outside: r.stations.outside,
        }
    }
}

/// Create a work order from a service request, or on its own for a customer's device.
#[utoipa::path(post, path = "/api/v1/work-orders", operation_id = "create_work_order", tag = "field service", request_body = WorkOrderForm,
    security(("bearer" = [])), responses((status = 201, body = CreatedAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn create_work_order(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<WorkOrderForm>,
) -> ApiResult<(StatusCode, Json<CreatedAnswer>)> {
    let c = shouhou_app::work_orders::create_work_order(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(CreatedAnswer::from(c))))
}

/// One work order with its clock, timeline and parts; 404 outside the caller's stations.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}", operation_id = "get_work_order", tag = "field service", params(("id" = i64, Path, description = "record id")),
    security(("bearer" = [])), responses((status = 200, body = WorkOrderDetailAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get_work_order(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::work_orders::get_work_order(&s.app, &rc.ctx, id).await?;
    let v = d.work_order.version;
    Ok((etag(v), Json(WorkOrderDetailAnswer::try_from(d)?)).into_response())
}

/// The stations for a work order, best first, and the engineers of the station it is dispatched
/// to, each with its reasons in words; those left out say why.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/recommendations", operation_id = "work_order_recommendations", tag = "field service",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = RecommendationsAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn recommendations(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
) -> ApiResult<Json<RecommendationsAnswer>> {
    let r = shouhou_app::work_orders::recommendations(&s.app, &rc.ctx, id).await?;
    Ok(Json(RecommendationsAnswer::new(rc.tr, &r)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchBody {
    pub station_id: i64,
    /// The version read; or send `If-Match`.
    pub version: Option<i64>,
}

/// Send a work order to a station (headquarters' tier). The station must be active and cover the
/// visit's region unless the caller may override.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/dispatch", operation_id = "dispatch_work_order", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = DispatchBody, security(("bearer" = [])),
    responses((status = 200, body = MovedAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn dispatch(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<DispatchBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let m = shouhou_app::work_orders::dispatch(&s.app, &rc.ctx, id, version, b.station_id).await?;
    Ok((etag(m.version), Json(MovedAnswer::from(m))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub engineer_id: i64,
    /// The version read; or send `If-Match`.
    pub version: Option<i64>,
}

/// Give a work order to an engineer of its station (the station's tier). Two at once: one wins,
/// the other gets 409.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/assign", operation_id = "assign_work_order", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = AssignBody, security(("bearer" = [])),
    responses((status = 200, body = MovedAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn assign(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult<Response> {
    let version = expected_version(b.version, &headers)?;
    let m = shouhou_app::work_orders::assign(&s.app, &rc.ctx, id, version, b.engineer_id).await?;
    Ok((etag(m.version), Json(MovedAnswer::from(m))).into_response())
}

/// A step of the lifecycle: accept, decline (with a reason), depart, check_in, diagnose,
/// wait_for_parts, resume, complete, close, return (with a reason), cancel (with a reason). Out of
/// order: 409 naming the allowed steps; a stale version: 409.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/transitions", operation_id = "work_order_transition", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = StepForm, security(("bearer" = [])),
    responses((status = 200, body = MovedAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn transition(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<StepForm>,
) -> ApiResult<Response> {
    let version = expected_version(f.version, &headers)?;
    let m = shouhou_app::work_orders::step(&s.app, &rc.ctx, id, version, &f).await?;
    Ok((etag(m.version), Json(MovedAnswer::from(m))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageBody {
    /// GB/T 2260 codes at any level: a province, a city, a district. Replaces the whole list.
    pub region_codes: Vec<String>,
    /// Accepted and ignored: the list is replaced whole.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CoverageAnswer {
    pub station_id: i64,
    pub region_codes: Vec<String>,
}

/// Replace the regions a station covers.
#[utoipa::path(put, path = "/api/v1/stations/{id}/coverage", operation_id = "set_station_coverage", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = CoverageBody, security(("bearer" = [])),
    responses((status = 200, body = CoverageAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn set_coverage(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CoverageBody>,
) -> ApiResult<Json<CoverageAnswer>> {
    let list = shouhou_app::work_orders::set_coverage(&s.app, &rc.ctx, id, &b.region_codes).await?;
    Ok(Json(CoverageAnswer { station_id: id, region_codes: list }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillsBody {
    /// Product lines the engineer is certified for. Replaces the whole list.
    pub product_lines: Vec<String>,
    /// Accepted and ignored: the list is replaced whole.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SkillsAnswer {
    pub user_id: i64,
    pub product_lines: Vec<String>,
}

/// Replace the product lines an engineer is certified for.
#[utoipa::path(put, path = "/api/v1/users/{id}/skills", operation_id = "set_user_skills", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = SkillsBody, security(("bearer" = [])),
    responses((status = 200, body = SkillsAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn set_skills(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SkillsBody>,
) -> ApiResult<Json<SkillsAnswer>> {
    let list = shouhou_app::work_orders::set_skills(&s.app, &rc.ctx, id, &b.product_lines).await?;
    Ok(Json(SkillsAnswer { user_id: id, product_lines: list }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// before after signature
    pub purpose: String,
    /// When the photo was taken (RFC 3339), as the phone knows it: the warranty card's audit
    /// compares it with the visit.
    pub taken_at: Option<String>,
}

/// Add a photo (before or after the work) or the customer's signature to a visit under way: an
/// image, checked on its content; anything else is 422.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/files", operation_id = "add_work_order_file", tag = "field service",
    params(("id" = i64, Path, description = "record id"), FileQuery), security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = super::Created), (status = 422, body = super::ProblemDoc)))]
pub async fn add_file(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    crate::json::ApiQuery(q): crate::json::ApiQuery<FileQuery>,
    multipart: axum::extract::Multipart,
) -> ApiResult<Response> {
    let (name, bytes) = match super::attachments::read_file_field(multipart).await {
        Ok(f) => f,
        Err(p) => return Ok(p.into_response()),
    };
    let file =
        shouhou_app::work_orders::add_file(&s.app, &rc.ctx, id, &q.purpose, &name, &bytes, q.taken_at.as_deref())
            .await?;
    Ok((StatusCode::CREATED, Json(super::Created { id: file })).into_response())
}

/// A visit's photo or signature (served as a download, never rendered inline).
#[utoipa::path(get, path = "/api/v1/work-order-files/{id}", operation_id = "get_work_order_file", tag = "field service",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, description = "the file"), (status = 404, body = super::ProblemDoc)))]
pub async fn get_file(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let (meta, bytes) = shouhou_app::work_orders::get_file(&s.app, &rc.ctx, id).await?;
    Ok(super::attachments::download(&meta.file_name, &meta.content_type, bytes))
}

/// Record a part used on the visit (code, name, quantity, old and new serials).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/parts", operation_id = "add_work_order_part", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = PartForm, security(("bearer" = [])),
    responses((status = 201, body = super::Created), (status = 422, body = super::ProblemDoc)))]
pub async fn add_part(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<PartForm>,
) -> ApiResult<(StatusCode, Json<super::Created>)> {
    let p = shouhou_app::work_orders::add_part(&s.app, &rc.ctx, id, &f).await?;
    Ok((StatusCode::CREATED, Json(super::Created { id: p })))
}

/// Agree the visit window with the customer, or move it (with a reason); before check-in only.
#[utoipa::path(put, path = "/api/v1/work-orders/{id}/appointment", operation_id = "set_work_order_appointment", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = AppointmentForm, security(("bearer" = [])),
    responses((status = 200, body = MovedAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn set_appointment(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<AppointmentForm>,
) -> ApiResult<Response> {
    let version = expected_version(f.version, &headers)?;
    let m = shouhou_app::work_orders::set_appointment(&s.app, &rc.ctx, id, version, &f).await?;
    Ok((etag(m.version), Json(MovedAnswer::from(m))).into_response())
}

/// The service report as a PDF, from check-in on (a draft until completion); the customer as the
/// caller may see them.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/report.pdf", operation_id = "work_order_report",
    tag = "field service", params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, description = "the report", content_type = "application/pdf"),
        (status = 404, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn report(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let (name, pdf) = shouhou_app::work_orders::report(&s.app, &rc.ctx, id).await?;
    Ok(super::attachments::download(&name, "application/pdf", pdf))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveBody {
    /// Every day away from today on; replaces the list (past days stay as they were).
    pub days: Vec<shouhou_app::work_orders::LeaveDay>,
    /// Accepted and ignored: the list is replaced whole.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LeaveAnswer {
    pub user_id: i64,
    pub days: Vec<shouhou_app::work_orders::LeaveDay>,
}

/// Replace an engineer's days of leave from today on.
#[utoipa::path(put, path = "/api/v1/users/{id}/leave", operation_id = "set_user_leave", tag = "field service",
    params(("id" = i64, Path, description = "record id")), request_body = LeaveBody, security(("bearer" = [])),
    responses((status = 200, body = LeaveAnswer), (status = 422, body = super::ProblemDoc)))]
pub async fn set_leave(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<LeaveBody>,
) -> ApiResult<Json<LeaveAnswer>> {
    let days = shouhou_app::work_orders::set_leave(&s.app, &rc.ctx, id, &b.days).await?;
    Ok(Json(LeaveAnswer { user_id: id, days }))
}

/// The dispatch settings: the "arranged" target, each tier's accept deadlines by urgency (urgent,
/// high, normal, low), the urgencies dispatched automatically, the ranking's weights.
#[utoipa::path(get, path = "/api/v1/dispatch-settings", operation_id = "get_dispatch_settings", tag = "field service",
    security(("bearer" = [])), responses((status = 200, body = shouhou_app::work_orders::DispatchRules)))]
pub async fn get_dispatch_settings(
    State(s): State<AppState>,
    rc: ReqCtx,
) -> ApiResult<Json<shouhou_app::work_orders::DispatchRules>> {
    Ok(Json(shouhou_app::work_orders::dispatch_rules(&s.app, &rc.ctx).await?))
}

/// Replace the dispatch settings (administrators).
#[utoipa::path(put, path = "/api/v1/dispatch-settings", operation_id = "set_dispatch_settings", tag = "field service",
    request_body = shouhou_app::work_orders::DispatchRules, security(("bearer" = [])),
    responses((status = 200, body = shouhou_app::work_orders::DispatchRules), (status = 422, body = super::ProblemDoc)))]
pub async fn set_dispatch_settings(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(b): ApiJson<shouhou_app::work_orders::DispatchRules>,
) -> ApiResult<Json<shouhou_app::work_orders::DispatchRules>> {
    Ok(Json(shouhou_app::work_orders::set_dispatch_rules(&s.app, &rc.ctx, &b).await?))
}
