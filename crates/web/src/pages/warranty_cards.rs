//! Warranty-card pages: the list (the audit queue, the station's cards, the overdue list, the
//! faulty parts on their way back) and a card with its flags, amounts, timeline and the forms of
//! the audit and of the correction.
use super::{Chrome, CsrfForm, FormData, PageError, page_err, render, require_login};
use crate::AppState;
use crate::api::warranty_cards::flag_words;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::warranty_cards::{Action, Flag};

/// ¥1,234.50 from fen.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    let whole = (f / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{:02}", f % 100)
}

fn when(ms: i64) -> String {
    crate::api::Instant::from_ms(ms).map(|i| i.to_string()[..16].replace('T', " ")).unwrap_or_default()
}

pub struct CardRow {
    pub id: i64,
    pub number: String,
    pub work_order_id: i64,
    pub work_order_number: String,
    pub status: String,
    pub status_class: &'static str,
    pub fault_code: String,
    pub flags: Vec<String>,
    pub total: String,
    pub submitted_at: String,
}

fn status_class(status: &str) -> &'static str {
    match status {
        "approved" => "ok",
        "rejected" => "bad",
        "returned" => "warn",
        _ => "",
    }
}

pub struct ReturnRow {
    pub id: i64,
    pub card_id: i64,
    pub card_number: String,
    pub part: String,
    pub serial: String,
    pub to: String,
    pub status: String,
    pub inspection: String,
    pub shipped_at: String,
}

fn return_row(tr: crate::i18n::Tr, r: &shouhou_app::warranty_cards::FaultyReturn) -> ReturnRow {
    ReturnRow {
        id: r.id,
        card_id: r.card_id,
        card_number: r.card_number.clone(),
        part: format!("{} {} × {}", r.part_code, r.part_name, r.quantity),
        serial: r.serial.clone().unwrap_or_else(|| "—".into()),
        to: r.to_warehouse_code.clone(),
        status: tr.t(&format!("wc-return-{}", r.status)),
        inspection: r.inspection.as_ref().map(|i| tr.t(&format!("wc-inspection-{i}"))).unwrap_or_default(),
        shipped_at: when(r.shipped_at),
    }
}

#[derive(Template)]
#[template(path = "warranty_cards.html")]
struct ListPage {
    c: Chrome,
    cards: Vec<CardRow>,
    /// (work order id, number, completed, reminded)
    overdue: Vec<(i64, String, String, bool)>,
    returns: Vec<ReturnRow>,
    /// Headquarters' keeper: may receive the faulty parts.
    may_receive: bool,
    status: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
}

pub async fn list(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<ListQuery>) -> Result<Response, PageError> {
    list_page(&s, &rc, q.status.unwrap_or_default(), None, StatusCode::OK).await
}

async fn list_page(
    s: &AppState,
    rc: &ReqCtx,
    status: String,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    require_login(rc, "/warranty-cards")?;
    let err = page_err(rc, "/warranty-cards");
    let tr = rc.tr;
    let actor = rc.ctx.actor().map_err(&err)?.clone();
    let filter = Some(status.as_str()).filter(|s| !s.is_empty());
    // Headquarters' warehouse keepers come for the faulty parts only.
    let sees_cards = actor.can(Permission::WorkOrderRead);
    let cards = if sees_cards {
        shouhou_app::warranty_cards::list_cards(&s.app, &rc.ctx, filter, None, None).await.map_err(&err)?
    } else {
        vec![]
    };
    let cards = cards
        .iter()
        .map(|k| {
            let flags: Vec<Flag> = serde_json::from_str(&k.flags).unwrap_or_default();
            CardRow {
                id: k.id,
                number: k.number.clone(),
                work_order_id: k.work_order_id,
                work_order_number: k.work_order_number.clone(),
                status: tr.t(&format!("wc-status-{}", k.status)),
                status_class: status_class(&k.status),
                fault_code: k.fault_code.clone(),
                flags: flags.iter().map(|f| tr.t(&format!("wc-flag-{}", f.code()))).collect(),
                total: yuan(k.total_fen),
                submitted_at: when(k.submitted_at),
            }
        })
        .collect();
    let overdue = if sees_cards {
        shouhou_app::warranty_cards::overdue(&s.app, &rc.ctx)
            .await
            .map_err(&err)?
            .into_iter()
            .map(|o| (o.work_order_id, o.number, when(o.completed_at), o.reminded))
            .collect()
    } else {
        vec![]
    };
    let returns = if actor.can(Permission::WarehouseRead) {
        shouhou_app::warranty_cards::faulty_returns(&s.app, &rc.ctx, "in_transit")
            .await
            .map_err(&err)?
            .iter()
            .map(|r| return_row(tr, r))
            .collect()
    } else {
        vec![]
    };
    let may_receive = actor.can(Permission::StockWrite) && matches!(actor.scope, Scope::All);
    let page = ListPage {
        c: Chrome::new(rc, "wc-title", "/warranty-cards"),
        cards,
        overdue,
        returns,
        may_receive,
        status,
        error,
    };
    Ok((code, render(&page)).into_response())
}

pub struct PartRow {
    pub id: i64,
    pub part: String,
    pub price: String,
    pub old_serial: String,
    pub new_serial: String,
    pub returns: bool,
}

#[derive(Template)]
#[template(path = "warranty_card.html")]
struct CardPage {
    c: Chrome,
    k: shouhou_app::warranty_cards::Card,
    status: String,
    status_class: &'static str,
    device: String,
    flags: Vec<String>,
    parts: Vec<PartRow>,
    amounts: Vec<(String, String)>,
    payable: bool,
    payable_amount: String,
    returns: Vec<ReturnRow>,
    /// (when, who, what, reason)
    events: Vec<(String, String, String, String)>,
    may_review: bool,
    may_correct: bool,
    /// (file id, purpose in words, name)
    photos: Vec<(i64, String, String)>,
    error: Option<String>,
}

pub async fn card(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    card_page(&s, &rc, id, None, StatusCode::OK).await
}

async fn card_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/warranty-cards/{id}");
    require_login(rc, &path)?;
    let err = page_err(rc, &path);
    let tr = rc.tr;
    let d = shouhou_app::warranty_cards::get_card(&s.app, &rc.ctx, id).await.map_err(&err)?;
    let page = CardPage {
        c: Chrome::new(rc, "wc-title", "/warranty-cards"),
        status: tr.t(&format!("wc-status-{}", d.card.status)),
        status_class: status_class(&d.card.status),
        device: format!("{} · {}", d.model_code, d.serial_number),
        flags: d.flags.iter().map(|f| flag_words(tr, f)).collect(),
        parts: d
            .parts
            .iter()
            .map(|p| PartRow {
                id: p.id,
                part: format!("{} {} × {}", p.part_code, p.part_name, p.quantity),
                price: yuan(p.price_fen * p.quantity),
                old_serial: p.old_serial.clone().unwrap_or_default(),
                new_serial: p.new_serial.clone().unwrap_or_default(),
                returns: p.return_required,
            })
            .collect(),
        amounts: vec![
            (tr.t("wc-labour"), yuan(d.amounts.labour_fen)),
            (tr.t("wc-parts"), yuan(d.amounts.parts_fen)),
            (tr.t("wc-travel"), yuan(d.amounts.travel_fen)),
            (tr.t("wc-total"), yuan(d.amounts.total_fen)),
        ],
        payable: d.payable,
        payable_amount: yuan(d.payable_fen),
        returns: d.returns.iter().map(|r| return_row(tr, r)).collect(),
        events: d
            .events
            .iter()
            .map(|e| (when(e.at), e.actor_name.clone(), tr.t(&format!("wc-action-{}", e.action)), e.reason.clone()))
            .collect(),
        photos: d.photos.iter().map(|f| (f.id, tr.t(&format!("wo-file-{}", f.purpose)), f.file_name.clone())).collect(),
        may_review: d.actions.contains(&Action::Approve),
        may_correct: d.actions.contains(&Action::Resubmit),
        k: d.card,
        error,
    };
    Ok((code, render(&page)).into_response())
}

/// After a form: to the card, or the page again with the message.
async fn after_card(s: &AppState, rc: &ReqCtx, id: i64, r: Result<(), AppError>) -> Result<Response, PageError> {
    super::after_form(rc, r, &format!("/warranty-cards/{id}"), |msg, code| card_page(s, rc, id, Some(msg), code)).await
}

fn version(f: &FormData) -> i64 {
    f.get("version").parse().unwrap_or(0)
}

/// File the card of a work order (from the work order's page).
pub async fn file(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let wo: i64 = f.get("work_order_id").parse().unwrap_or(0);
    match shouhou_app::warranty_cards::file_card(&s.app, &rc.ctx, wo).await {
        Ok(d) => Ok(Redirect::to(&format!("/warranty-cards/{}", d.card.id)).into_response()),
        Err(e) => Err(page_err(&rc, &format!("/work-orders/{wo}"))(e)),
    }
}

pub async fn review(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = shouhou_app::warranty_cards::ReviewForm {
        decision: f.get("decision"),
        reason: Some(f.get("reason")),
        version: Some(version(&f)),
    };
    let r = shouhou_app::warranty_cards::review(&s.app, &rc.ctx, id, version(&f), &form).await.map(|_| ());
    after_card(&s, &rc, id, r).await
}

pub async fn resubmit(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let opt = |k: &str| Some(f.get(k)).filter(|v| !v.trim().is_empty());
    // The part lines: part_id_N with old_serial_N and new_serial_N.
    let mut parts = vec![];
    for (k, v) in f.0.iter() {
        if let Some(n) = k.strip_prefix("part_id_")
            && let Ok(line) = v.parse()
        {
            parts.push(shouhou_app::warranty_cards::PartCorrection {
                id: line,
                old_serial: Some(f.get(&format!("old_serial_{n}"))),
                new_serial: Some(f.get(&format!("new_serial_{n}"))),
            });
        }
    }
    let form = shouhou_app::warranty_cards::CorrectionForm {
        fault_code: opt("fault_code"),
        cause: opt("cause"),
        labour_minutes: f.get("labour_minutes").trim().parse().ok(),
        parts: Some(parts),
        note: opt("note"),
        version: Some(version(&f)),
    };
    let r = shouhou_app::warranty_cards::resubmit(&s.app, &rc.ctx, id, version(&f), &form).await.map(|_| ());
    after_card(&s, &rc, id, r).await
}

/// Receive a faulty part at the central warehouse (from the list).
pub async fn receive(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let form = shouhou_app::warranty_cards::ReceiveForm { inspection: f.get("inspection"), note: Some(f.get("note")) };
    let r = shouhou_app::warranty_cards::receive_return(&s.app, &rc.ctx, id, &form).await.map(|_| ());
    super::after_form(&rc, r, "/warranty-cards#returns", |msg, code| list_page(&s, &rc, String::new(), Some(msg), code))
        .await
}
