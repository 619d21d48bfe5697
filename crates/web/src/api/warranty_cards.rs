//! Warranty cards (三包卡) and faulty-part returns over the API.
use super::{Instant, etag, expected_version};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::ApiResult;
use crate::i18n::Tr;
use crate::json::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shouhou_app::warranty_cards::{
    Card, CardDetail, CardEvent, CardPart, CorrectionForm, FaultyReturn, Overdue, ReceiveForm, ReviewForm,
};
use shouhou_domain::warranty_cards::Flag;
use utoipa::{IntoParams, ToSchema};

/// A flag in words: what the auditor should look at, with its evidence.
pub fn flag_words(tr: Tr, f: &Flag) -> String {
    let s = |v: &dyn std::fmt::Display| v.to_string();
    match f {
        Flag::SerialClaimedTwice { serial, other_card } => {
            tr.tn("flag-serial-claimed-twice", &[("serial", s(serial)), ("card", s(other_card))])
        }
        Flag::RepeatRepair { other_work_order, fault_code, days } => {
            tr.tn("flag-repeat-repair", &[("wo", s(other_work_order)), ("fault", s(fault_code)), ("days", s(days))])
        }
        Flag::PartNotFitting { part_code, model_code } => {
            tr.tn("flag-part-not-fitting", &[("part", s(part_code)), ("model", s(model_code))])
        }
        Flag::LabourAboveNorm { fault_code, minutes, norm } => {
            tr.tn("flag-labour-above-norm", &[("fault", s(fault_code)), ("minutes", s(minutes)), ("norm", s(norm))])
        }
        Flag::CheckInFar { region_code, km, references } => {
            tr.tn("flag-check-in-far", &[("region", s(region_code)), ("km", s(km)), ("refs", s(references))])
        }
        Flag::PhotoOutsideVisit { file_name, at, checked_in_at, completed_at } => tr.tn(
            "flag-photo-outside-visit",
            &[
                ("file", s(file_name)),
                ("at", Instant(*at).to_string()),
                ("from", Instant(*checked_in_at).to_string()),
                ("to", Instant(*completed_at).to_string()),
            ],
        ),
        Flag::OutOfWarranty { status, warranty_until } => tr.tn(
            "flag-out-of-warranty",
            &[("status", tr.t(&format!("ent-status-{status}"))), ("until", s(warranty_until))],
        ),
    }
}

/// A flag as the API answers it: its code, its evidence and the words.
#[derive(Serialize, ToSchema)]
pub struct FlagAnswer {
    pub code: String,
    /// The evidence (figures and references), by the flag's code.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub text: String,
}

fn flag_answer(tr: Tr, f: &Flag) -> FlagAnswer {
    let mut evidence = serde_json::to_value(f).unwrap_or_default();
    if let Some(o) = evidence.as_object_mut() {
        o.remove("code");
    }
    FlagAnswer { code: f.code().to_string(), evidence, text: flag_words(tr, f) }
}

#[derive(Serialize, ToSchema)]
pub struct CardPartAnswer {
    pub id: i64,
    pub part_code: String,
    pub part_name: String,
    pub quantity: i64,
    pub price_fen: i64,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    /// The faulty part must come back to the central warehouse before the card is paid.
    pub return_required: bool,
}

impl From<&CardPart> for CardPartAnswer {
    fn from(p: &CardPart) -> Self {
        CardPartAnswer {
            id: p.id,
            part_code: p.part_code.clone(),
            part_name: p.part_name.clone(),
            quantity: p.quantity,
            price_fen: p.price_fen,
            old_serial: p.old_serial.clone(),
            new_serial: p.new_serial.clone(),
            return_required: p.return_required,
        }
    }
}

/// A faulty part on its way back to the central warehouse, or arrived and inspected.
#[derive(Serialize, ToSchema)]
pub struct ReturnAnswer {
    pub id: i64,
    pub card_id: i64,
    pub card_number: String,
    pub part_code: String,
    pub part_name: String,
    pub serial: Option<String>,
    pub quantity: i64,
    pub from_station_id: Option<i64>,
    pub to_warehouse_id: i64,
    pub to_warehouse_code: String,
    /// in_transit, received
    pub status: String,
    /// confirmed_faulty, no_fault_found, user_damage
    pub inspection: Option<String>,
    pub note: String,
    pub shipped_at: Instant,
    pub received_at: Option<Instant>,
}

impl ReturnAnswer {
    pub fn new(r: &FaultyReturn) -> Result<Self, shouhou_app::AppError> {
        Ok(ReturnAnswer {
            id: r.id,
            card_id: r.card_id,
            card_number: r.card_number.clone(),
            part_code: r.part_code.clone(),
            part_name: r.part_name.clone(),
            serial: r.serial.clone(),
            quantity: r.quantity,
            from_station_id: r.from_station_id,
            to_warehouse_id: r.to_warehouse_id,
            to_warehouse_code: r.to_warehouse_code.clone(),
            status: r.status.clone(),
            inspection: r.inspection.clone(),
            note: r.note.clone(),
            shipped_at: Instant::from_ms(r.shipped_at)?,
            received_at: r.received_at.map(Instant::from_ms).transpose()?,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct CardEventAnswer {
    pub at: Instant,
    pub actor_name: String,
    /// file, approve, reject, return, resubmit
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
}

impl CardEventAnswer {
    fn new(e: &CardEvent) -> Result<Self, shouhou_app::AppError> {
        Ok(CardEventAnswer {
            at: Instant::from_ms(e.at)?,
            actor_name: e.actor_name.clone(),
            action: e.action.clone(),
            from_status: e.from_status.clone(),
            to_status: e.to_status.clone(),
            reason: e.reason.clone(),
        })
    }
}

/// A warranty card with its flags, amounts, parts, returns and timeline.
#[derive(Serialize, ToSchema)]
pub struct CardAnswer {
    pub id: i64,
    /// `SB-YYYYMMDD-NNNN`
    pub number: String,
    /// submitted, returned, approved, rejected
    pub status: String,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub station_id: Option<i64>,
    pub device_id: i64,
    pub model_code: String,
    pub serial_number: String,
    pub fault_code: String,
    pub cause: String,
    pub labour_minutes: i64,
    /// What the audit found, flagged cards first in the queue.
    pub flags: Vec<FlagAnswer>,
    pub labour_fen: i64,
    pub parts_fen: i64,
    pub travel_fen: i64,
    pub total_fen: i64,
    /// Approved and every faulty part that must come back has arrived and been inspected.
    pub payable: bool,
    /// The claim less the parts the inspection did not confirm faulty.
    pub payable_fen: i64,
    /// The reason of the last return or rejection.
    pub reason: String,
    pub submitted_at: Instant,
    pub reviewed_at: Option<Instant>,
    pub version: i64,
    pub parts: Vec<CardPartAnswer>,
    pub returns: Vec<ReturnAnswer>,
    pub timeline: Vec<CardEventAnswer>,
    /// The visit's photos: download each at `/api/v1/work-order-files/{id}`.
    pub photos: Vec<PhotoAnswer>,
    /// What the caller may do now.
    pub actions: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PhotoAnswer {
    pub id: i64,
    /// before, after
    pub purpose: String,
    pub file_name: String,
    /// When it was taken, as the photo or the phone said.
    pub taken_at: Option<Instant>,
}

impl CardAnswer {
    pub fn new(tr: Tr, d: &CardDetail) -> Result<Self, shouhou_app::AppError> {
        let k = &d.card;
        Ok(CardAnswer {
            id: k.id,
            number: k.number.clone(),
            status: k.status.clone(),
            work_order_id: k.work_order_id,
            work_order_number: k.work_order_number.clone(),
            station_id: k.station_id,
            device_id: k.device_id,
            model_code: d.model_code.clone(),
            serial_number: d.serial_number.clone(),
            fault_code: k.fault_code.clone(),
            cause: k.cause.clone(),
            labour_minutes: k.labour_minutes,
            flags: d.flags.iter().map(|f| flag_answer(tr, f)).collect(),
            labour_fen: d.amounts.labour_fen,
            parts_fen: d.amounts.parts_fen,
            travel_fen: d.amounts.travel_fen,
            total_fen: d.amounts.total_fen,
            payable: d.payable,
            payable_fen: d.payable_fen,
            reason: k.reason.clone(),
            submitted_at: Instant::from_ms(k.submitted_at)?,
            reviewed_at: k.reviewed_at.map(Instant::from_ms).transpose()?,
            version: k.version,
            parts: d.parts.iter().map(CardPartAnswer::from).collect(),
            returns: d.returns.iter().map(ReturnAnswer::new).collect::<Result<_, _>>()?,
            timeline: d.events.iter().map(CardEventAnswer::new).collect::<Result<_, _>>()?,
            photos: d
                .photos
                .iter()
                .map(|f| {
                    Ok(PhotoAnswer {
                        id: f.id,
                        purpose: f.purpose.clone(),
                        file_name: f.file_name.clone(),
                        taken_at: f.taken_at.map(Instant::from_ms).transpose()?,
                    })
                })
                .collect::<Result<_, shouhou_app::AppError>>()?,
            actions: d.actions.iter().map(|a| a.as_str().to_string()).collect(),
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    pub work_order_id: i64,
}

/// File the warranty card of a completed warranty work order (the station): 201 with its flags;
/// 422 naming `work_order_id` when it is not completed or not warranty work; 409 when it has one.
#[utoipa::path(post, path = "/api/v1/warranty-cards", operation_id = "file_warranty_card", tag = "warranty",
    request_body = FileBody, security(("bearer" = [])),
    responses((status = 201, body = CardAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn file_card(State(s): State<AppState>, rc: ReqCtx, ApiJson(b): ApiJson<FileBody>) -> ApiResult<Response> {
    let d = shouhou_app::warranty_cards::file_card(&s.app, &rc.ctx, b.work_order_id).await?;
    Ok((StatusCode::CREATED, etag(d.card.version), Json(CardAnswer::new(rc.tr, &d)?)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CardQuery {
    /// submitted, returned, approved, rejected
    pub status: Option<String>,
    pub station_id: Option<i64>,
    pub device_id: Option<i64>,
}

/// A card in a list.
#[derive(Serialize, ToSchema)]
pub struct CardItem {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub station_id: Option<i64>,
    pub fault_code: String,
    /// The codes of its flags.
    pub flags: Vec<String>,
    pub total_fen: i64,
    pub submitted_at: Instant,
    pub version: i64,
}

impl CardItem {
    pub fn new(k: &Card) -> Result<Self, shouhou_app::AppError> {
        let flags: Vec<Flag> = serde_json::from_str(&k.flags).unwrap_or_default();
        Ok(CardItem {
            id: k.id,
            number: k.number.clone(),
            status: k.status.clone(),
            work_order_id: k.work_order_id,
            work_order_number: k.work_order_number.clone(),
            station_id: k.station_id,
            fault_code: k.fault_code.clone(),
            flags: flags.iter().map(|f| f.code().to_string()).collect(),
            total_fen: k.total_fen,
            submitted_at: Instant::from_ms(k.submitted_at)?,
            version: k.version,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct CardList {
    pub items: Vec<CardItem>,
}

/// The cards of the caller's stations: the audit queue first (submitted, flagged before clean,
/// oldest first), then returned, then decided ones.
#[utoipa::path(get, path = "/api/v1/warranty-cards", operation_id = "list_warranty_cards", tag = "warranty",
    params(CardQuery), security(("bearer" = [])), responses((status = 200, body = CardList)))]
pub async fn list_cards(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<CardQuery>,
) -> ApiResult<Json<CardList>> {
    let cards =
        shouhou_app::warranty_cards::list_cards(&s.app, &rc.ctx, q.status.as_deref(), q.station_id, q.device_id)
            .await?;
    Ok(Json(CardList { items: cards.iter().map(CardItem::new).collect::<Result<_, _>>()? }))
}

/// A warranty card.
#[utoipa::path(get, path = "/api/v1/warranty-cards/{id}", operation_id = "get_warranty_card", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), security(("bearer" = [])),
    responses((status = 200, body = CardAnswer), (status = 404, body = super::ProblemDoc)))]
pub async fn get_card(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> ApiResult<Response> {
    let d = shouhou_app::warranty_cards::get_card(&s.app, &rc.ctx, id).await?;
    Ok((etag(d.card.version), Json(CardAnswer::new(rc.tr, &d)?)).into_response())
}

/// The audit's decision (service administrators): approve, reject or return with a reason. A
/// second decision: 409 naming what the status allows; a stale version: 409.
#[utoipa::path(post, path = "/api/v1/warranty-cards/{id}/review", operation_id = "review_warranty_card", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), request_body = ReviewForm, security(("bearer" = [])),
    responses((status = 200, body = CardAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn review(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<ReviewForm>,
) -> ApiResult<Response> {
    let version = expected_version(f.version, &headers)?;
    let d = shouhou_app::warranty_cards::review(&s.app, &rc.ctx, id, version, &f).await?;
    Ok((etag(d.card.version), Json(CardAnswer::new(rc.tr, &d)?)).into_response())
}

/// Correct a returned card and hand it in again (the station); flags and amounts are recomputed.
#[utoipa::path(post, path = "/api/v1/warranty-cards/{id}/resubmit", operation_id = "resubmit_warranty_card", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), request_body = CorrectionForm, security(("bearer" = [])),
    responses((status = 200, body = CardAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn resubmit(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(f): ApiJson<CorrectionForm>,
) -> ApiResult<Response> {
    let version = expected_version(f.version, &headers)?;
    let d = shouhou_app::warranty_cards::resubmit(&s.app, &rc.ctx, id, version, &f).await?;
    Ok((etag(d.card.version), Json(CardAnswer::new(rc.tr, &d)?)).into_response())
}

/// Completed warranty work whose card was not handed in within the due days.
#[derive(Serialize, ToSchema)]
pub struct OverdueItem {
    pub work_order_id: i64,
    pub number: String,
    pub station_id: Option<i64>,
    pub completed_at: Instant,
    /// The station's managers were told.
    pub reminded: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OverdueList {
    pub items: Vec<OverdueItem>,
}

impl OverdueItem {
    pub fn new(o: &Overdue) -> Result<Self, shouhou_app::AppError> {
        Ok(OverdueItem {
            work_order_id: o.work_order_id,
            number: o.number.clone(),
            station_id: o.station_id,
            completed_at: Instant::from_ms(o.completed_at)?,
            reminded: o.reminded,
        })
    }
}

/// The overdue list: warranty work of the caller's stations completed more than the due days ago
/// without a card, oldest first.
#[utoipa::path(get, path = "/api/v1/warranty-cards/overdue", operation_id = "overdue_warranty_cards", tag = "warranty",
    security(("bearer" = [])), responses((status = 200, body = OverdueList)))]
pub async fn overdue(State(s): State<AppState>, rc: ReqCtx) -> ApiResult<Json<OverdueList>> {
    let items = shouhou_app::warranty_cards::overdue(&s.app, &rc.ctx).await?;
    Ok(Json(OverdueList { items: items.iter().map(OverdueItem::new).collect::<Result<_, _>>()? }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnQuery {
    /// in_transit (default) or received
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReturnList {
    pub items: Vec<ReturnAnswer>,
}

/// Faulty parts on their way back to the central warehouse (oldest first), or received.
#[utoipa::path(get, path = "/api/v1/faulty-returns", operation_id = "list_faulty_returns", tag = "warranty",
    params(ReturnQuery), security(("bearer" = [])), responses((status = 200, body = ReturnList)))]
pub async fn list_returns(
    State(s): State<AppState>,
    rc: ReqCtx,
    ApiQuery(q): ApiQuery<ReturnQuery>,
) -> ApiResult<Json<ReturnList>> {
    let items = shouhou_app::warranty_cards::faulty_returns(&s.app, &rc.ctx, q.status.as_deref().unwrap_or("")).await?;
    Ok(Json(ReturnList { items: items.iter().map(ReturnAnswer::new).collect::<Result<_, _>>()? }))
}

/// Receive a faulty part at the central warehouse and record what the inspection found
/// (headquarters' warehouse keepers); a second arrival: 409.
#[utoipa::path(post, path = "/api/v1/faulty-returns/{id}/receive", operation_id = "receive_faulty_return", tag = "warranty",
    params(("id" = i64, Path, description = "record id")), request_body = ReceiveForm, security(("bearer" = [])),
    responses((status = 200, body = ReturnAnswer), (status = 409, body = super::ProblemDoc), (status = 422, body = super::ProblemDoc)))]
pub async fn receive_return(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    ApiJson(f): ApiJson<ReceiveForm>,
) -> ApiResult<Json<ReturnAnswer>> {
    let r = shouhou_app::warranty_cards::receive_return(&s.app, &rc.ctx, id, &f).await?;
    Ok(Json(ReturnAnswer::new(&r)?))
}
