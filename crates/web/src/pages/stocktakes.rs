//! Stocktake pages: a count sheet with its lines, the counts form, and the decision.
use super::{Chrome, CsrfForm, PageError, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shouhou_domain::parts::format_milli;

pub struct LineRow {
    pub n: usize,
    pub part_code: String,
    pub part: String,
    pub unit: String,
    pub expected: String,
    pub counted: String,
    pub difference: String,
    pub class: &'static str,
    /// On hand moved since the sheet was made.
    pub moved: Option<String>,
}

#[derive(Template)]
#[template(path = "stocktake.html")]
struct SheetPage {
    c: Chrome,
    s: shouhou_app::stocktakes::Stocktake,
    status: String,
    lines: Vec<LineRow>,
    actions: Vec<&'static str>,
    error: Option<String>,
}

pub async fn sheet(State(s): State<AppState>, rc: ReqCtx, Path(id): Path<i64>) -> Result<Response, PageError> {
    sheet_page(&s, &rc, id, None, StatusCode::OK).await
}

async fn sheet_page(
    s: &AppState,
    rc: &ReqCtx,
    id: i64,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let path = format!("/stocktakes/{id}");
    require_login(rc, &path)?;
    let tr = rc.tr;
    let d = shouhou_app::stocktakes::get(&s.app, &rc.ctx, id).await.map_err(page_err(rc, &path))?;
    let lines = d
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let diff = l.counted.map(|c| c - l.expected);
            LineRow {
                n: i,
                part_code: l.part_code.clone(),
                part: format!("{} {}", l.part_code, l.part_name),
                unit: l.unit.clone(),
                expected: format_milli(l.expected),
                counted: l.counted.map(format_milli).unwrap_or_default(),
                difference: diff.map(format_milli).unwrap_or_default(),
                class: match diff {
                    Some(x) if x < 0 => "sla-bad",
                    Some(x) if x > 0 => "sla-warn",
                    _ => "",
                },
                moved: (l.on_hand_now != l.expected && d.stocktake.status != "approved")
                    .then(|| format_milli(l.on_hand_now)),
            }
        })
        .collect();
    let page = SheetPage {
        c: Chrome::new(rc, "st-title", "/warehouses"),
        status: tr.t(&format!("st-status-{}", d.stocktake.status)),
        lines,
        actions: d.actions.iter().map(|a| a.as_str()).collect(),
        s: d.stocktake,
        error,
    };
    Ok((code, render(&page)).into_response())
}

/// Open a count sheet (from the warehouses page).
pub async fn open(State(s): State<AppState>, rc: ReqCtx, CsrfForm(f): CsrfForm) -> Result<Response, PageError> {
    let form = shouhou_app::stocktakes::NewStocktake {
        warehouse_id: f.get("warehouse_id").trim().parse().unwrap_or(0),
        note: Some(f.get("note")),
    };
    let d = shouhou_app::stocktakes::open(&s.app, &rc.ctx, &form).await.map_err(page_err(&rc, "/warehouses"))?;
    Ok(Redirect::to(&format!("/stocktakes/{}", d.stocktake.id)).into_response())
}

/// A step from the sheet's page: the counts typed (count_N / part_N), or a decision.
pub async fn step(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    let version = f.get("version").parse().unwrap_or(0);
    let mut counts = vec![];
    for (k, v) in f.0.iter() {
        if let Some(n) = k.strip_prefix("count_")
            && !v.trim().is_empty()
        {
            let counted = v.trim().parse::<serde_json::Number>().unwrap_or_else(|_| (-1).into());
            counts.push(shouhou_app::stocktakes::CountLine { part_code: f.get(&format!("part_{n}")), counted });
        }
    }
    let form = shouhou_app::stocktakes::StepForm {
        action: f.get("action"),
        counts: Some(counts),
        reason: Some(f.get("reason")),
        version: Some(version),
    };
    let r = shouhou_app::stocktakes::step(&s.app, &rc.ctx, id, version, &form).await.map(|_| ());
    super::after_form(&rc, r, &format!("/stocktakes/{id}"), |msg, code| sheet_page(&s, &rc, id, Some(msg), code)).await
}
