//! Devices over the API.
use super::Created;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiJson;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shouhou_app::devices::{DeviceForm, DeviceView};
use shouhou_domain::devices::WarrantyStatus;
use utoipa::ToSchema;

/// Register a device of a customer; its serial number is unique per model.
#[utoipa::path(post, path = "/api/v1/devices", tag = "service desk", request_body = DeviceForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = super::ProblemDoc)))]
pub async fn create_device(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiJson(f): ApiJson<DeviceForm>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = shouhou_app::devices::create_device(&s.app, &rc.ctx, &f).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A device with its warranty as of today.
#[derive(Serialize, ToSchema)]
pub struct DeviceAnswer {
    pub id: i64,
    pub serial_number: String,
    pub model_code: String,
    pub model_name: String,
    pub product_line: String,
    pub customer_id: i64,
    /// `YYYY-MM-DD`.
    pub sale_date: String,
    pub warranty: WarrantyAnswer,
    pub install_region_code: Option<String>,
    pub install_address: Option<String>,
    pub dealer_name: Option<String>,
    /// When its first maintenance (首保) was done.
    pub first_maintenance_at: Option<super::Instant>,
}

/// in_warranty (free warranty through `until`), extended (a service contract through `until`) or
/// expired (not covered since the day after `until`).
#[derive(Serialize, ToSchema)]
pub struct WarrantyAnswer {
    pub status: String,
    /// `YYYY-MM-DD`, the last covered day.
    pub until: String,
}

impl From<WarrantyStatus> for WarrantyAnswer {
    fn from(w: WarrantyStatus) -> Self {
        let (status, until) = match w {
            WarrantyStatus::InWarranty { until } => ("in_warranty", until),
            WarrantyStatus::Expired { until } => ("expired", until),
            WarrantyStatus::Extended { until } => ("extended", until),
        };
        WarrantyAnswer { status: status.to_string(), until: until.to_string() }
    }
}

impl From<DeviceView> for DeviceAnswer {
    fn from(d: DeviceView) -> Self {
        DeviceAnswer {
            id: d.id,
            serial_number: d.serial_number,
            model_code: d.model_code,
            model_name: d.model_name,
            product_line: d.product_line,
            customer_id: d.customer_id,
            sale_date: d.sale_date,
            warranty: d.warranty.into(),
            install_region_code: d.install_region_code,
            install_address: d.install_address,
            dealer_name: d.dealer_name,
            first_maintenance_at: super::Instant::opt(d.first_maintenance_at),
        }
    }
}

/// One reason of an entitlement: the rule, the article of 《部分商品修理更换退货责任规定》 it comes
/// from (if any), in words, and its figures.
#[derive(Serialize, ToSchema)]
pub struct EntitlementReasonAnswer {
    /// warranty, contract, expired, void, within_refund_days, within_exchange_days,
    /// repeated_repairs, parts_wait, repair_too_long, free_repair
    pub rule: String,
    pub article: Option<String>,
    pub text: String,
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
}

/// A device's 三包 entitlement on a day.
#[derive(Serialize, ToSchema)]
pub struct EntitlementAnswer {
    /// in_warranty, expired, void
    pub status: String,
    /// YYYY-MM-DD, the last covered day.
    pub warranty_until: String,
    /// The remedies open for a performance fault reported that day: refund, exchange, repair.
    pub remedies: Vec<String>,
    /// What the warranty pays for that day: product, accessories, parts, labour, travel.
    pub covers: Vec<String>,
    pub reasons: Vec<EntitlementReasonAnswer>,
}

/// A reason in the caller's language, citing its article.
pub fn entitlement_words(tr: crate::i18n::Tr, r: &shouhou_app::devices::EntitlementReason) -> String {
    use shouhou_app::devices::EntitlementReason as R;
    let words = match r {
        R::Warranty { until, restarted_on: None } => tr.t1("ent-warranty", "until", until),
        R::Warranty { until, restarted_on: Some(on) } => tr.t2("ent-warranty-restarted", "until", until, "on", on),
        R::Contract { until } => tr.t1("ent-contract", "until", until),
        R::Expired { until } => tr.t1("ent-expired", "until", until),
        R::Void { reason } => tr.t1("ent-void", "reason", reason),
        R::WithinRefundDays { days, day } => tr.t2("ent-within-refund", "days", days, "day", day),
        R::WithinExchangeDays { days, day } => tr.t2("ent-within-exchange", "days", days, "day", day),
        R::RepeatedRepairs { fault_code, repairs } => tr.t2("ent-repeated", "fault", fault_code, "repairs", repairs),
        R::PartsWait { days, limit } => tr.t2("ent-parts-wait", "days", days, "limit", limit),
        R::RepairTooLong { days, limit } => tr.t2("ent-repair-too-long", "days", days, "limit", limit),
        R::FreeRepair => tr.t("ent-free-repair"),
    };
    match r.article() {
        Some(a) => format!("{words}（《部分商品修理更换退货责任规定》{a}）"),
        None => words,
    }
}

impl EntitlementAnswer {
    pub fn new(tr: crate::i18n::Tr, e: &shouhou_app::devices::Entitlement) -> Self {
        use shouhou_app::devices::Coverage;
        EntitlementAnswer {
            status: match e.coverage {
                Coverage::InWarranty => "in_warranty",
                Coverage::Expired => "expired",
                Coverage::Void => "void",
            }
            .to_string(),
            warranty_until: e.warranty_until.to_string(),
            remedies: e.remedies.iter().map(|r| r.as_str().to_string()).collect(),
            covers: e.covers.iter().map(|c| c.as_str().to_string()).collect(),
            reasons: e
                .reasons
                .iter()
                .map(|r| {
                    let mut figures = serde_json::to_value(r).unwrap_or_default();
                    let rule = figures.get("rule").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                    if let Some(o) = figures.as_object_mut() {
                        o.remove("rule");
                    }
                    EntitlementReasonAnswer {
                        rule,
                        article: r.article().map(str::to_string),
                        text: entitlement_words(tr, r),
                        figures,
                    }
                })
                .collect(),
        }
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntitlementQuery {
    /// YYYY-MM-DD; today if not given.
    pub at: Option<String>,
}

/// What the device is entitled to on a day: covered or not, until when, and which 三包 remedies
/// (refund, exchange, repair) are open for a performance fault reported that day, and why.
#[utoipa::path(get, path = "/api/v1/devices/{id}/entitlement", operation_id = "device_entitlement", tag = "warranty",
    params(("id" = i64, Path, description = "record id"), EntitlementQuery), security(("bearer" = [])),
    responses((status = 200, body = EntitlementAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn entitlement(
    State(s): State<AppState>,
    rc: ReqCtx,
    axum::extract::Path(id): axum::extract::Path<i64>,
    crate::json::ApiQuery(q): crate::json::ApiQuery<EntitlementQuery>,
) -> ApiResult<Json<EntitlementAnswer>> {
    let e = shouhou_app::devices::entitlement(&s.app, &rc.ctx, id, q.at.as_deref()).await?;
    Ok(Json(EntitlementAnswer::new(rc.tr, &e)))
}

/// Record a device's exchange for a new unit (its warranty runs again from that day) and/or void
/// its warranty with a reason (service administrators); answers the entitlement today.
#[utoipa::path(put, path = "/api/v1/devices/{id}/warranty", operation_id = "set_device_warranty", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), request_body = shouhou_app::devices::WarrantyForm,
    security(("bearer" = [])),
    responses((status = 200, body = EntitlementAnswer), (status = 404, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn set_warranty(
    State(s): State<AppState>,
    rc: ReqCtx,
    axum::extract::Path(id): axum::extract::Path<i64>,
    ApiJson(f): ApiJson<shouhou_app::devices::WarrantyForm>,
) -> ApiResult<Json<EntitlementAnswer>> {
    let e = shouhou_app::devices::set_warranty(&s.app, &rc.ctx, id, &f).await?;
    Ok(Json(EntitlementAnswer::new(rc.tr, &e)))
}

/// The QR label of a device as SVG (50 × 64 mm): the code links to the device's public report
/// page; the model and serial are printed under it.
#[utoipa::path(get, path = "/api/v1/devices/{id}/label.svg", operation_id = "device_label_svg", tag = "customer portal",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, description = "image/svg+xml", content_type = "image/svg+xml", body = String),
        (status = 404, body = super::ProblemDoc)))]
pub async fn label_svg(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: axum::http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> ApiResult<axum::response::Response> {
    let l = shouhou_app::labels::label(&s.app, &rc.ctx, &super::portal::public_base(&s, &headers), id).await?;
    Ok(image(
        "image/svg+xml",
        &format!("label-{}.svg", l.serial_number),
        shouhou_app::labels::label_svg(&l)?.into_bytes(),
    ))
}

/// The QR label of a device as PNG: the code, the model code and the serial under it.
#[utoipa::path(get, path = "/api/v1/devices/{id}/label.png", operation_id = "device_label_png", tag = "customer portal",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, description = "image/png", content_type = "image/png", body = Vec<u8>),
        (status = 404, body = super::ProblemDoc)))]
pub async fn label_png(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: axum::http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> ApiResult<axum::response::Response> {
    let l = shouhou_app::labels::label(&s.app, &rc.ctx, &super::portal::public_base(&s, &headers), id).await?;
    Ok(image("image/png", &format!("label-{}.png", l.serial_number), shouhou_app::labels::label_png(&l)?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LabelsQuery {
    /// Device ids, comma-separated (1 to 240), in print order.
    pub ids: String,
}

/// An A4 sheet (210 × 297 mm) of QR labels, 3 × 8, for up to 24 devices; a device the caller
/// cannot read makes the whole answer 404.
#[utoipa::path(get, path = "/api/v1/devices/labels.svg", operation_id = "device_label_sheet", tag = "customer portal",
    params(LabelsQuery), security(("bearer" = [])),
    responses((status = 200, description = "image/svg+xml", content_type = "image/svg+xml", body = String),
        (status = 404, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn label_sheet(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: axum::http::HeaderMap,
    crate::json::ApiQuery(q): crate::json::ApiQuery<LabelsQuery>,
) -> ApiResult<axum::response::Response> {
    let ids = shouhou_app::labels::parse_ids(&q.ids)?;
    if ids.len() > shouhou_app::labels::PER_SHEET {
        return Err(shouhou_app::AppError::from(shouhou_domain::FieldError::too_long(
            "ids",
            shouhou_app::labels::PER_SHEET,
        ))
        .into());
    }
    let labels = shouhou_app::labels::labels(&s.app, &rc.ctx, &super::portal::public_base(&s, &headers), &ids).await?;
    let sheet = shouhou_app::labels::sheet_svgs(&labels)?.into_iter().next().unwrap_or_default();
    Ok(image("image/svg+xml", "labels.svg", sheet.into_bytes()))
}

/// An image answer, offered under a file name; an SVG may not run anything.
pub fn image(content_type: &'static str, file_name: &str, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let name: String =
        file_name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'".to_string()),
        ],
        bytes,
    )
        .into_response()
}
