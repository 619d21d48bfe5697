//! The administrator's service-level page: calendars (weekly hours, company holidays and special
//! working days), policies (targets, calendar, active), and a preview of a due time on a calendar.
//! Who holds `SettingsWrite` edits here; the forms post to the same use cases as the API.
use super::{Chrome, CsrfForm, FormData, PageError, page_err, render, require_login};
use crate::AppState;
use crate::api::rfc3339;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use crate::pages::shared::{can, form_errors};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_app::sla::BusinessCalendarInfo;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::calendar::Interval;
use shouhou_domain::sla::Policy;

const PATH: &str = "/admin/sla";

/// One period of a weekday as the time inputs show it.
pub struct SlotVm {
    pub start: String,
    pub end: String,
}

pub struct WeekdayVm {
    pub index: usize,
    pub label: String,
    pub slots: Vec<SlotVm>,
    /// "08:30–12:00、13:30–17:30", or "休息" / "Closed".
    pub summary: String,
}

pub struct DayVm {
    pub day: String,
    pub off: bool,
    pub note: String,
}

pub struct CalendarVm {
    pub code: String,
    pub name: String,
    pub all_day: bool,
    pub prc: bool,
    pub version: i64,
    pub weekdays: Vec<WeekdayVm>,
    pub days: Vec<DayVm>,
    /// Field errors of the hours form, by field.
    pub errors: Vec<(String, String)>,
    /// The day form as last submitted (date, off, note) and its errors.
    pub day_date: String,
    pub day_off: bool,
    pub day_note: String,
    pub day_errors: Vec<(String, String)>,
}

impl CalendarVm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, m)| m.as_str())
    }
    pub fn day_error(&self, field: &str) -> Option<&str> {
        self.day_errors.iter().find(|(k, _)| k == field).map(|(_, m)| m.as_str())
    }
}

pub struct PolicyVm {
    pub id: i64,
    pub name: String,
    pub applies: String,
    pub response: String,
    pub resolution: String,
    pub response_h: String,
    pub response_m: String,
    pub resolution_h: String,
    pub resolution_m: String,
    pub calendar_code: String,
    pub active: bool,
    pub version: i64,
    pub errors: Vec<(String, String)>,
}

impl PolicyVm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    c: Chrome,
    can_edit: bool,
    calendars: Vec<CalendarVm>,
    policies: Vec<PolicyVm>,
    calendar: String,
    /// `YYYY-MM-DDTHH:MM` for the datetime-local input, Beijing time.
    start: String,
    target_h: String,
    target_m: String,
    due: Option<String>,
    error: Option<String>,
    /// A form that failed: a summary above everything.
    failed: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    calendar: Option<String>,
    start: Option<String>,
    target_h: Option<String>,
    target_m: Option<String>,
    saved: Option<String>,
}

/// "8 小时", "1 小时 30 分钟", "45 分钟" (English: "8 h", "1 h 30 min").
pub fn duration_label(tr: Tr, minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let hours = tr.t1("duration-hours", "n", h);
    let mins = tr.t1("duration-minutes", "n", m);
    match (h, m) {
        (0, _) => mins,
        (_, 0) => hours,
        _ => format!("{hours} {mins}"),
    }
}

fn hm(min: u16) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

const WEEKDAY_KEYS: [&str; 7] =
    ["weekday-mon", "weekday-tue", "weekday-wed", "weekday-thu", "weekday-fri", "weekday-sat", "weekday-sun"];

/// The form that failed, with its submitted fields and field errors.
struct Failed {
    /// `cal:CODE`, `day:CODE` or `pol:ID`.
    form: String,
    fields: FormData,
    errors: Vec<(String, String)>,
}

fn calendar_vm(tr: Tr, c: BusinessCalendarInfo, failed: Option<&Failed>) -> CalendarVm {
    let hours_failed = failed.filter(|f| f.form == format!("cal:{}", c.code));
    let day_failed = failed.filter(|f| f.form == format!("day:{}", c.code));
    let weekdays = (0..7)
        .map(|i| {
            let mut slots: Vec<SlotVm> = match hours_failed {
                Some(f) => f
                    .fields
                    .all(&format!("w{i}_s"))
                    .into_iter()
                    .zip(f.fields.all(&format!("w{i}_e")))
                    .filter(|(s, e)| !s.is_empty() || !e.is_empty())
                    .map(|(start, end)| SlotVm { start, end })
                    .collect(),
                None => c.weekly[i].iter().map(|p| SlotVm { start: hm(p.start_min), end: hm(p.end_min) }).collect(),
            };
            let summary = if c.weekly[i].is_empty() {
                tr.t("sla-closed")
            } else {
                c.weekly[i]
                    .iter()
                    .map(|p| format!("{}–{}", hm(p.start_min), hm(p.end_min)))
                    .collect::<Vec<_>>()
                    .join("、")
            };
            // One blank period to add another.
            slots.push(SlotVm { start: String::new(), end: String::new() });
            WeekdayVm { index: i, label: tr.t(WEEKDAY_KEYS[i]), slots, summary }
        })
        .collect();
    CalendarVm {
        name: hours_failed.map(|f| f.fields.get("name")).unwrap_or(c.name),
        prc: hours_failed.map(|f| f.fields.checked("use_prc_holidays")).unwrap_or(c.use_prc_holidays),
        errors: hours_failed.map(|f| f.errors.clone()).unwrap_or_default(),
        day_date: day_failed.map(|f| f.fields.get("date")).unwrap_or_default(),
        day_off: day_failed.is_none_or(|f| f.fields.get("off") != "false"),
        day_note: day_failed.map(|f| f.fields.get("note")).unwrap_or_default(),
        day_errors: day_failed.map(|f| f.errors.clone()).unwrap_or_default(),
        code: c.code,
        all_day: c.all_day,
        version: c.version,
        weekdays,
        days: c.days.into_iter().map(|d| DayVm { day: d.day, off: d.off, note: d.note }).collect(),
    }
}

fn policy_vm(tr: Tr, p: Policy, failed: Option<&Failed>) -> PolicyVm {
    let failed = failed.filter(|f| f.form == format!("pol:{}", p.id));
    let applies = [
        p.request_type.map(|t| tr.t(&format!("type-{t}"))),
        p.urgency.map(|u| tr.t(&format!("urgency-{u}"))),
        p.tier.map(|t| tr.t(&format!("tier-{t}"))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let field = |name: &str, value: i64| failed.map(|f| f.fields.get(name)).unwrap_or_else(|| value.to_string());
    PolicyVm {
        id: p.id,
        applies: if applies.is_empty() { tr.t("sla-any") } else { applies },
        response: duration_label(tr, p.response_minutes),
        resolution: duration_label(tr, p.resolution_minutes),
        response_h: field("response_h", p.response_minutes / 60),
        response_m: field("response_m", p.response_minutes % 60),
        resolution_h: field("resolution_h", p.resolution_minutes / 60),
        resolution_m: field("resolution_m", p.resolution_minutes % 60),
        calendar_code: failed.map(|f| f.fields.get("calendar_code")).unwrap_or(p.calendar_code),
        active: failed.map(|f| f.fields.checked("active")).unwrap_or(p.active),
        version: p.version,
        errors: failed.map(|f| f.errors.clone()).unwrap_or_default(),
        name: p.name,
    }
}

async fn sla_page(s: &AppState, rc: &ReqCtx, q: PreviewQuery, failed: Option<Failed>) -> Result<Response, PageError> {
    require_login(rc, PATH)?;
    let err = page_err(rc, PATH);
    let tr = rc.tr;
    let (calendars, policies) = shouhou_app::sla::calendars_and_policies(&s.app, &rc.ctx).await.map_err(&err)?;
    let calendar = q.calendar.clone().unwrap_or_else(|| "cn-workday".into());
    // The datetime-local input gives Beijing wall time without an offset.
    let start = q.start.clone().unwrap_or_default();
    let start_rfc = match start.trim() {
        s if s.len() == 16 => format!("{s}:00+08:00"),
        s => s.to_string(),
    };
    let target_h = q.target_h.clone().unwrap_or_else(|| "8".into());
    let target_m = q.target_m.clone().unwrap_or_else(|| "0".into());
    let num = |v: &str| if v.trim().is_empty() { Some(0) } else { v.trim().parse::<u32>().ok() };
    let target = match (num(&target_h), num(&target_m)) {
        (Some(h), Some(m)) => format!("PT{h}H{m}M"),
        _ => "invalid".to_string(),
    };
    let (mut due, mut error) = (None, None);
    let mut status = if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    if !start.trim().is_empty() {
        match shouhou_app::sla::sla_preview(&s.app, &rc.ctx, &calendar, &start_rfc, &target).await {
            Ok(t) => due = Some(rfc3339(t.as_millisecond())),
            Err(AppError::Validation(v)) => {
                error = Some(super::joined_messages(tr, &v.0));
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(e) => return Err(err(e)),
        }
    }
    let flash = q.saved.is_some().then(|| tr.t("common-saved"));
    let page = SlaPage {
        can_edit: can(rc, Permission::SettingsWrite),
        calendars: calendars.into_iter().map(|c| calendar_vm(tr, c, failed.as_ref())).collect(),
        policies: policies.into_iter().map(|p| policy_vm(tr, p, failed.as_ref())).collect(),
        c: Chrome::new(rc, "sla-title", PATH).with_flash(flash),
        calendar,
        start,
        target_h,
        target_m,
        due,
        error,
        failed: failed.map(|_| tr.t("error-validation")),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(State(s): State<AppState>, rc: ReqCtx, Query(q): Query<PreviewQuery>) -> Result<Response, PageError> {
    sla_page(&s, &rc, q, None).await
}

/// After a failed edit: the page again, with the form as submitted and its field errors; any
/// other failure is the error page.
async fn answer_failure(
    s: &AppState,
    rc: &ReqCtx,
    form: String,
    fields: FormData,
    e: AppError,
) -> Result<Response, PageError> {
    let errors = form_errors(rc, PATH, e)?;
    sla_page(s, rc, PreviewQuery::default(), Some(Failed { form, fields, errors })).await
}

fn saved(anchor: &str) -> Response {
    Redirect::to(&format!("{PATH}?saved=1#{anchor}")).into_response()
}

/// The weekly hours of the form: per weekday `wN_s` / `wN_e` pairs of `HH:MM` (time inputs); a
/// pair left empty is no period, an end of 00:00 is midnight at the end of the day.
fn weekly_from(f: &FormData, e: &mut ValidationErrors) -> Vec<Vec<Interval>> {
    (0..7)
        .map(|i| {
            f.all(&format!("w{i}_s"))
                .into_iter()
                .zip(f.all(&format!("w{i}_e")))
                .filter(|(s, e)| !s.trim().is_empty() || !e.trim().is_empty())
                .filter_map(|(s, end)| {
                    let end = if end.trim() == "00:00" { "24:00".to_string() } else { end };
                    e.take(Interval::parse("weekly", &format!("{}-{}", s.trim(), end.trim())))
                })
                .collect()
        })
        .collect()
}

pub async fn update_calendar(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    // The right first, as in the API: a caller without it learns nothing from the validation.
    rc.ctx.require(Permission::SettingsWrite).map_err(page_err(&rc, PATH))?;
    let version = f.get("version").parse().unwrap_or(0);
    let mut e = ValidationErrors::default();
    let weekly = weekly_from(&f, &mut e);
    let r = match e.into_result() {
        Ok(()) => {
            shouhou_app::sla::update_calendar(
                &s.app,
                &rc.ctx,
                &code,
                version,
                &f.get("name"),
                &weekly,
                f.checked("use_prc_holidays"),
            )
            .await
        }
        Err(v) => Err(AppError::from(v)),
    };
    match r {
        Ok(_) => Ok(saved(&format!("cal-{code}"))),
        Err(e) => answer_failure(&s, &rc, format!("cal:{code}"), f, e).await,
    }
}

pub async fn set_calendar_day(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    // `remove` clears the override of `date`; else `off` says holiday (true) or working day (false).
    let off = if f.get("remove").is_empty() { Some(f.get("off") != "false") } else { None };
    match shouhou_app::sla::set_calendar_day(&s.app, &rc.ctx, &code, &f.get("date"), off, &f.get("note")).await {
        Ok(_) => Ok(saved(&format!("days-{code}"))),
        Err(e) => answer_failure(&s, &rc, format!("day:{code}"), f, e).await,
    }
}

/// Hours and minutes of a target as two inputs into minutes; a bad part is an error of `field`.
fn minutes_from(f: &FormData, prefix: &str, field: &str, e: &mut ValidationErrors) -> i64 {
    let part = |name: &str| {
        let v = f.get(&format!("{prefix}_{name}"));
        if v.trim().is_empty() { Some(0) } else { v.trim().parse::<i64>().ok().filter(|n| *n >= 0) }
    };
    match (part("h"), part("m")) {
        (Some(h), Some(m)) if m < 60 && h <= 24 * 366 => h * 60 + m,
        _ => {
            e.push(field, "out_of_range");
            0
        }
    }
}

pub async fn update_policy(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm,
) -> Result<Response, PageError> {
    rc.ctx.require(Permission::SettingsWrite).map_err(page_err(&rc, PATH))?;
    let version = f.get("version").parse().unwrap_or(0);
    let mut e = ValidationErrors::default();
    let response = minutes_from(&f, "response", "response_minutes", &mut e);
    let resolution = minutes_from(&f, "resolution", "resolution_minutes", &mut e);
    let r = match e.into_result() {
        Ok(()) => {
            shouhou_app::sla::update_policy(
                &s.app,
                &rc.ctx,
                id,
                version,
                response,
                resolution,
                &f.get("calendar_code"),
                f.checked("active"),
            )
            .await
        }
        Err(v) => Err(AppError::from(v)),
    };
    match r {
        Ok(_) => Ok(saved(&format!("pol-{id}"))),
        Err(e) => answer_failure(&s, &rc, format!("pol:{id}"), f, e).await,
    }
}
