//! The inbox: SLA warnings, breaches and escalations for the signed-in person.
use super::{Chrome, CsrfForm, PageError, Pager, page_err, render, require_login};
use crate::AppState;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::PageRequest;

pub struct NoteVm {
    pub id: i64,
    pub at: String,
    pub title: String,
    pub body: String,
    pub urgent: bool,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    c: Chrome,
    rows: Vec<NoteVm>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
pub struct PageQ {
    page: Option<u32>,
}

pub async fn page(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<PageQ>) -> Result<Response, PageError> {
    require_login(&rc, "/inbox")?;
    let p = shouhou_app::inbox::inbox(&s.app, &rc.ctx, PageRequest::new(q.page, None))
        .await
        .map_err(page_err(&rc, "/inbox"))?;
    let pager = Pager::new(rc.tr, "/inbox", "", &p);
    let rows = p
        .items
        .into_iter()
        .map(|n| NoteVm {
            id: n.id,
            at: crate::api::rfc3339(n.created_at).replace('T', " ").chars().take(16).collect(),
            title: n.title,
            body: n.body,
            urgent: n.urgent,
            read: n.read_at.is_some(),
        })
        .collect();
    Ok(render(&InboxPage { c: Chrome::new(&rc, "inbox-title", "/inbox"), rows, pager }))
}

/// The unread counter of the page header (an htmx fragment; empty when nothing is unread).
pub async fn count(State(s): State<AppState>, rc: ReqCtx) -> Response {
    if rc.ctx.actor.is_none() {
        return Html(String::new()).into_response();
    }
    match shouhou_app::inbox::unread_count(&s.app, &rc.ctx).await {
        Ok(0) | Err(_) => Html(String::new()).into_response(),
        Ok(n) => Html(format!("<span class=\"badge\" data-testid=\"unread\">{n}</span>")).into_response(),
    }
}

/// Mark read and go where the notification points.
pub async fn open(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(_f): CsrfForm,
) -> Result<Response, PageError> {
    let err = page_err(&rc, "/inbox");
    let link = shouhou_app::inbox::inbox(&s.app, &rc.ctx, PageRequest::new(Some(1), Some(100)))
        .await
        .map_err(&err)?
        .items
        .into_iter()
        .find(|n| n.id == id)
        .and_then(|n| n.link);
    shouhou_app::inbox::mark_read(&s.app, &rc.ctx, id).await.map_err(&err)?;
    Ok(Redirect::to(&super::safe_next(link.as_deref().unwrap_or("/inbox"))).into_response())
}
