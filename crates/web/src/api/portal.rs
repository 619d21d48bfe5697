//! The customer portal over the API: tracking a request by its number and phone, without an
//! account. A wrong phone and an unknown number answer the same 404; failed look-ups are
//! throttled per client address and per number (429 with `Retry-After`).
use super::Instant;
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::json::ApiQuery;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shouhou_app::portal::{PortalDevice, Tracked};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrackQuery {
    /// The request number, e.g. `SR-20261122-0001`.
    pub number: Option<String>,
    /// The phone the request was registered with (the customer's, a contact's, or the one given
    /// when it was reported through the portal).
    pub phone: Option<String>,
}

/// One step of the customer-visible timeline.
#[derive(Serialize, ToSchema)]
pub struct PublicStepAnswer {
    pub at: Instant,
    /// `created` or `status`.
    pub kind: String,
    /// The status the request reached.
    pub status: String,
    /// The status in the caller's language.
    pub status_text: String,
    /// What the service side said to the customer at this step (a first answer, a question).
    pub message: Option<String>,
}

/// A device as the portal shows it: model, serial and warranty, never its owner.
#[derive(Serialize, ToSchema)]
pub struct PortalDeviceAnswer {
    pub model_code: String,
    pub model_name: String,
    pub serial_number: String,
    /// in_warranty, expired, void
    pub warranty: String,
    /// `YYYY-MM-DD`, the last covered day.
    pub warranty_until: String,
}

impl From<&PortalDevice> for PortalDeviceAnswer {
    fn from(d: &PortalDevice) -> Self {
        PortalDeviceAnswer {
            model_code: d.model_code.clone(),
            model_name: d.model_name.clone(),
            serial_number: d.serial_number.clone(),
            warranty: coverage_code(d.coverage).to_string(),
            warranty_until: d.warranty_until.to_string(),
        }
    }
}

pub fn coverage_code(c: shouhou_app::devices::Coverage) -> &'static str {
    use shouhou_app::devices::Coverage;
    match c {
        Coverage::InWarranty => "in_warranty",
        Coverage::Expired => "expired",
        Coverage::Void => "void",
    }
}

/// A request as its customer sees it.
#[derive(Serialize, ToSchema)]
pub struct TrackAnswer {
    pub number: String,
    pub status: String,
    pub status_text: String,
    /// consultation repair installation maintenance …
    #[serde(rename = "type")]
    pub request_type: String,
    pub created_at: Instant,
    pub timeline: Vec<PublicStepAnswer>,
    pub device: Option<PortalDeviceAnswer>,
    /// The request is resolved: the customer may confirm its completion.
    pub can_confirm: bool,
}

impl TrackAnswer {
    pub fn new(tr: crate::i18n::Tr, t: &Tracked) -> Self {
        TrackAnswer {
            number: t.number.clone(),
            status: t.status.as_str().to_string(),
            status_text: tr.t(&format!("status-{}", t.status.as_str())),
            request_type: t.request_type.as_str().to_string(),
            created_at: Instant(t.created_at),
            timeline: t
                .timeline
                .iter()
                .map(|e| PublicStepAnswer {
                    at: Instant(e.at),
                    kind: e.step.kind.to_string(),
                    status: e.step.status.as_str().to_string(),
                    status_text: tr.t(&format!("status-{}", e.step.status.as_str())),
                    message: e.step.message.clone(),
                })
                .collect(),
            device: t.device.as_ref().map(PortalDeviceAnswer::from),
            can_confirm: t.can_confirm,
        }
    }
}

/// Track a request without an account: its status and the customer-visible timeline, for its
/// number and the phone it was registered with. A wrong phone answers exactly as an unknown number
/// (404); failed look-ups are throttled per client address and per number (429, `Retry-After`),
/// and while throttled even the right phone is refused.
#[utoipa::path(get, path = "/api/v1/public/track", operation_id = "public_track", tag = "customer portal",
    params(TrackQuery),
    responses((status = 200, body = TrackAnswer), (status = 404, body = super::ProblemDoc),
        (status = 429, body = super::ProblemDoc)))]
pub async fn track(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<TrackQuery>,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], Json<TrackAnswer>)> {
    let t = shouhou_app::portal::track(
        &s.app,
        &rc.ctx,
        q.number.as_deref().unwrap_or(""),
        q.phone.as_deref().unwrap_or(""),
    )
    .await?;
    // What a phone opened is nobody else's: no cache keeps it.
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], Json(TrackAnswer::new(rc.tr, &t))))
}

/// The address customers reach the site at, for the links of QR labels: the configured
/// `public_base_url`, else the scheme (HTTPS when cookies are marked secure) and `Host` of the
/// request that asks for the label.
pub fn public_base(s: &AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(b) = &s.public_base_url {
        return b.clone();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("{}://{host}", if s.secure_cookies { "https" } else { "http" })
}
