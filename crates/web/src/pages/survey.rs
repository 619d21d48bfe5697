//! The customer's satisfaction survey behind a single-use link (no login): the same questions as
//! the agent's return visit, answered on a phone; the answer lands where the agent's would.
use super::{FormData, PageError, render};
use crate::AppState;
use crate::ctx::ReqCtx;
use crate::i18n::Tr;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shouhou_app::AppError;
use shouhou_app::return_visits::{RecordForm, SurveyInfo};

/// The four questions, in the order asked: (form field, label key).
pub const QUESTIONS: [(&str, &str); 4] = [
    ("satisfaction", "rv-satisfaction"),
    ("attitude", "rv-attitude"),
    ("skill", "rv-skill"),
    ("timeliness", "rv-timeliness"),
];

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    tr: Tr,
    path: String,
    info: Option<SurveyInfo>,
    /// thanks, form, gone, not_found
    state: &'static str,
    error: Option<String>,
    /// What was entered, to keep on a refusal.
    form: FormData,
    questions: [(&'static str, &'static str); 4],
}

impl SurveyPage {
    fn picked(&self, field: &str, value: &str) -> bool {
        self.form.get(field) == value
    }
}

fn page(rc: &ReqCtx, secret: &str, status: StatusCode, p: SurveyPageParts) -> Response {
    let page = SurveyPage {
        tr: rc.tr,
        path: shouhou_app::return_visits::survey_path(secret),
        info: p.info,
        state: p.state,
        error: p.error,
        form: p.form,
        questions: QUESTIONS,
    };
    (status, render(&page)).into_response()
}

struct SurveyPageParts {
    info: Option<SurveyInfo>,
    state: &'static str,
    error: Option<String>,
    form: FormData,
}

impl SurveyPageParts {
    fn state(state: &'static str) -> Self {
        Self { info: None, state, error: None, form: FormData(vec![]) }
    }
}

/// A link never issued, used up or expired: the same page for the customer, 404 or 410.
fn refused(rc: &ReqCtx, secret: &str, e: AppError) -> Result<Response, PageError> {
    match e {
        AppError::NotFound => Ok(page(rc, secret, StatusCode::NOT_FOUND, SurveyPageParts::state("not_found"))),
        AppError::Gone => Ok(page(rc, secret, StatusCode::GONE, SurveyPageParts::state("gone"))),
        e => Err(PageError { err: e, rc: rc.clone(), path: "/".into() }),
    }
}

pub async fn form(State(s): State<AppState>, rc: ReqCtx, Path(secret): Path<String>) -> Result<Response, PageError> {
    match shouhou_app::return_visits::survey(&s.app, &secret).await {
        Ok(info) => Ok(page(
            &rc,
            &secret,
            StatusCode::OK,
            SurveyPageParts { info: Some(info), state: "form", error: None, form: FormData(vec![]) },
        )),
        Err(e) => refused(&rc, &secret, e),
    }
}

/// A score as the form sends it: blank is missing, anything but a whole number is out of range.
fn score(f: &FormData, field: &str) -> Option<i64> {
    let v = f.get(field);
    let v = v.trim();
    if v.is_empty() { None } else { Some(v.parse().unwrap_or(0)) }
}

pub async fn answer(
    State(s): State<AppState>,
    rc: ReqCtx,
    Path(secret): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = FormData(fields);
    let solved = match f.get("solved").trim() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    };
    let comment = f.get("comment");
    let record = RecordForm {
        outcome: "reached".into(),
        satisfaction: score(&f, "satisfaction"),
        attitude: score(&f, "attitude"),
        skill: score(&f, "skill"),
        timeliness: score(&f, "timeliness"),
        solved,
        comment: (!comment.trim().is_empty()).then_some(comment),
        version: None,
    };
    match shouhou_app::return_visits::answer_survey(&s.app, &rc.ctx, &secret, &record).await {
        Ok(_) => Ok(page(&rc, &secret, StatusCode::OK, SurveyPageParts::state("thanks"))),
        Err(AppError::Validation(_)) => {
            let info = shouhou_app::return_visits::survey(&s.app, &secret).await.ok();
            let error = Some(rc.tr.t("rv-survey-incomplete"));
            Ok(page(
                &rc,
                &secret,
                StatusCode::UNPROCESSABLE_ENTITY,
                SurveyPageParts { info, state: "form", error, form: f },
            ))
        }
        Err(e) => refused(&rc, &secret, e),
    }
}
