//! The administrator's service-level page: calendars, policies, and a preview of a due time on a
//! calendar before switching it on.
use super::{Chrome, page_err, render, require_login};
use crate::AppState;
use crate::api::rfc3339;
use crate::ctx::ReqCtx;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_domain::auth::Permission;

pub struct CalendarVm {
    pub code: String,
    pub name: String,
    pub hours: String,
    pub prc: bool,
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    c: Chrome,
    calendars: Vec<CalendarVm>,
    /// (name, applies to, response, resolution, calendar)
    policies: Vec<(String, String, String, String, String)>,
    calendar: String,
    start: String,
    target: String,
    due: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    calendar: Option<String>,
    start: Option<String>,
    target: Option<String>,
}

fn duration_label(minutes: i64) -> String {
    match minutes {
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

pub async fn page(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<PreviewQuery>) -> Response {
    if let Err(e) = require_login(&rc, "/admin/sla") {
        return e.into_response();
    }
    if !rc.ctx.actor.as_ref().is_some_and(|a| a.can(Permission::SettingsWrite)) {
        return page_err(&rc, "/admin/sla")(AppError::NotFound).into_response();
    }
    let tr = rc.tr;
    let (calendars, policies) = match shouhou_app::sla::calendars_and_policies(&s.app, &rc.ctx).await {
        Ok(x) => x,
        Err(e) => return page_err(&rc, "/admin/sla")(e).into_response(),
    };
    let calendar = q.calendar.clone().unwrap_or_else(|| "cn-workday".into());
    let start = q.start.clone().unwrap_or_default();
    let target = q.target.clone().unwrap_or_else(|| "PT8H".into());
    let (mut due, mut error, mut status) = (None, None, StatusCode::OK);
    if !start.trim().is_empty() {
        match shouhou_app::sla::sla_preview(&s.app, &rc.ctx, &calendar, &start, &target).await {
            Ok(t) => due = Some(rfc3339(t.as_millisecond())),
            Err(AppError::Validation(v)) => {
                error = Some(super::joined_messages(tr, &v.0));
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(e) => return page_err(&rc, "/admin/sla")(e).into_response(),
        }
    }
    let any = tr.t("sla-any");
    let page = SlaPage {
        calendars: calendars
            .into_iter()
            .map(|c| CalendarVm {
                hours: c
                    .weekly
                    .iter()
                    .zip(["一", "二", "三", "四", "五", "六", "日"])
                    .filter(|(d, _)| !d.is_empty())
                    .map(|(d, n)| format!("{n} {}", d.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")))
                    .collect::<Vec<_>>()
                    .join("；"),
                code: c.code,
                name: c.name,
                prc: c.use_prc_holidays,
            })
            .collect(),
        policies: policies
            .into_iter()
            .map(|p| {
                let applies = [
                    p.request_type.map(|t| tr.t(&format!("type-{t}"))),
                    p.urgency.map(|u| tr.t(&format!("urgency-{u}"))),
                    p.tier.map(|t| tr.t(&format!("tier-{t}"))),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
                (
                    p.name,
                    if applies.is_empty() { any.clone() } else { applies },
                    duration_label(p.response_minutes),
                    duration_label(p.resolution_minutes),
                    p.calendar_code,
                )
            })
            .collect(),
        c: Chrome::new(&rc, "sla-title", "/admin/sla"),
        calendar,
        start,
        target,
        due,
        error,
    };
    (status, render(&page)).into_response()
}
