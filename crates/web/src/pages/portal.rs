//! The customer portal's pages (客户自助), phone-width first, without an account: the landing
//! page, reporting a fault from a device's QR code (`/q/{token}`) or from the web
//! (`/portal/report`), the thank-you page with the request number, tracking and confirming.
//! Forms are protected like the login form: a double-submit cookie (`SameSite=Lax`, so another
//! site's form does not carry it) must match the hidden `_csrf` field.
use super::shared::{REGION_LEVELS, RegionPicker};
use super::{Chrome, FormData, PageError, constant_time_eq, joined_messages, page_err, render, require_login};
use crate::AppState;
use crate::ctx::{ReqCtx, cookie, set_cookie};
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_app::portal::{Photo, PortalDevice, ReportForm, Tracked};

const PORTAL_COOKIE: &str = "shouhou_portal";

/// What every portal page needs around its content.
pub struct PortalChrome {
    pub tr: Tr,
    pub title: String,
    /// This page, for the language switch to come back to.
    pub path: String,
}

impl PortalChrome {
    fn new(tr: Tr, title_key: &str, path: &str) -> Self {
        PortalChrome { tr, title: tr.t(title_key), path: super::urlencode(path) }
    }
}

/// The form token of this browser: the cookie's if it has one, else a new one to set.
fn form_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, PORTAL_COOKIE).filter(|t| t.len() >= 32) {
        Some(t) => (t, false),
        None => (shouhou_app::secrets::random_token().unwrap_or_default(), true),
    }
}

/// A page answer, setting the form cookie when it is new; portal pages are never cached.
fn answer(s: &AppState, status: StatusCode, body: Response, token: &str, fresh: bool) -> Response {
    let mut resp = (status, body).into_response();
    if fresh {
        resp.headers_mut().append(header::SET_COOKIE, set_cookie(PORTAL_COOKIE, token, Some(86400), s.secure_cookies));
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn csrf_ok(headers: &HeaderMap, given: &str) -> bool {
    let expected = cookie(headers, PORTAL_COOKIE).unwrap_or_default();
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), given.as_bytes())
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    p: PortalChrome,
}

pub async fn home(rc: ReqCtx) -> Response {
    let page = HomePage { p: PortalChrome::new(rc.tr, "portal-title", "/portal") };
    ([(header::CACHE_CONTROL, "no-store")], render(&page)).into_response()
}

// ---------- reporting ----------

#[derive(Default)]
struct Fields {
    name: String,
    phone: String,
    address: String,
    model: String,
    serial_number: String,
    request_type: String,
    description: String,
}

#[derive(Template)]
#[template(path = "portal_report.html")]
struct ReportPage {
    p: PortalChrome,
    action: String,
    csrf: String,
    device: Option<PortalDevice>,
    warranty_text: String,
    error: Option<String>,
    f: Fields,
    r: RegionPicker,
    types: Vec<(&'static str, String)>,
}

/// A device's warranty in words: covered until a day, expired since, or void.
pub(crate) fn warranty_words(tr: Tr, d: &PortalDevice) -> String {
    use shouhou_app::devices::Coverage;
    match d.coverage {
        Coverage::InWarranty => tr.t1("portal-warranty-in", "until", d.warranty_until),
        Coverage::Expired => tr.t1("portal-warranty-expired", "until", d.warranty_until),
        Coverage::Void => tr.t("portal-warranty-void"),
    }
}

#[allow(clippy::too_many_arguments)]
fn report_page(
    s: &AppState,
    tr: Tr,
    headers: &HeaderMap,
    status: StatusCode,
    action: &str,
    device: Option<PortalDevice>,
    f: Fields,
    region: &str,
    error: Option<String>,
) -> Response {
    let (token, fresh) = form_token(headers);
    let title = if device.is_some() { "portal-report-device-title" } else { "portal-report-title" };
    let page = ReportPage {
        p: PortalChrome::new(tr, title, action),
        action: action.to_string(),
        csrf: token.clone(),
        warranty_text: device.as_ref().map(|d| warranty_words(tr, d)).unwrap_or_default(),
        device,
        error,
        r: RegionPicker::new(tr, region),
        types: ["repair", "consultation", "installation", "maintenance"]
            .into_iter()
            .map(|t| (t, tr.t(&format!("type-{t}"))))
            .collect(),
        f: Fields { request_type: if f.request_type.is_empty() { "repair".into() } else { f.request_type }, ..f },
    };
    answer(s, status, render(&page), &token, fresh)
}

pub async fn report_form(State(s): State<AppState>, rc: ReqCtx, headers: HeaderMap) -> Response {
    report_page(&s, rc.tr, &headers, StatusCode::OK, "/portal/report", None, Fields::default(), "", None)
}

pub async fn device_form(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let device = shouhou_app::portal::device_for_link(&s.app, &token).await.map_err(page_err(&rc, "/portal"))?;
    let action = format!("/q/{token}");
    Ok(report_page(&s, rc.tr, &headers, StatusCode::OK, &action, Some(device), Fields::default(), "", None))
}

/// A submitted report form: its fields and photos. A body over the size limit is a message on
/// the form, not an error page.
async fn read_report(mut multipart: axum::extract::Multipart) -> Result<(FormData, Vec<Photo>), &'static str> {
    let mut fields = vec![];
    let mut photos = vec![];
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "photo" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    let bytes = field.bytes().await.map_err(|e| multipart_message(&e))?;
                    // An empty file input sends a part with no name and no bytes.
                    if !(file_name.is_empty() && bytes.is_empty()) {
                        photos.push(Photo { file_name, bytes: bytes.to_vec() });
                    }
                } else {
                    let text = field.text().await.map_err(|e| multipart_message(&e))?;
                    fields.push((name, text));
                }
            }
            Ok(None) => break,
            Err(e) => return Err(multipart_message(&e)),
        }
    }
    Ok((FormData(fields), photos))
}

fn multipart_message(e: &axum::extract::multipart::MultipartError) -> &'static str {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "portal-photos-too-large" } else { "portal-form-broken" }
}

fn fields_of(f: &FormData) -> Fields {
    Fields {
        name: f.get("name"),
        phone: f.get("phone"),
        address: f.get("address"),
        model: f.get("model"),
        serial_number: f.get("serial_number"),
        request_type: f.get("type"),
        description: f.get("description"),
    }
}

fn region_of(f: &FormData) -> String {
    let typed = f.get("region_code");
    if !typed.trim().is_empty() {
        return typed;
    }
    REGION_LEVELS.iter().rev().map(|l| f.get(l)).find(|v| !v.trim().is_empty()).unwrap_or_default()
}

/// The answer to a report: the thank-you page, or the form again with what to correct.
#[allow(clippy::too_many_arguments)]
async fn after_report(
    s: &AppState,
    rc: &ReqCtx,
    headers: &HeaderMap,
    action: &str,
    device: Option<PortalDevice>,
    f: &FormData,
    r: Result<shouhou_app::requests::Registered, AppError>,
) -> Result<Response, PageError> {
    let again = |status, msg: String, device| {
        report_page(s, rc.tr, headers, status, action, device, fields_of(f), &region_of(f), Some(msg))
    };
    match r {
        Ok(reg) => Ok(Redirect::to(&format!("/portal/thanks/{}", reg.number)).into_response()),
        Err(AppError::Validation(v)) => {
            Ok(again(StatusCode::UNPROCESSABLE_ENTITY, joined_messages(rc.tr, &v.0), device))
        }
        Err(AppError::Throttled { retry_after_secs }) => {
            let minutes = (retry_after_secs + 59) / 60;
            let mut resp =
                again(StatusCode::TOO_MANY_REQUESTS, rc.tr.t1("portal-too-many", "minutes", minutes), device);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(resp)
        }
        Err(e) => Err(page_err(rc, action)(e)),
    }
}

pub async fn report_submit(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let action = "/portal/report";
    let (f, photos) = match read_report(multipart).await {
        Ok(x) => x,
        Err(key) => {
            let (status, msg) = (StatusCode::PAYLOAD_TOO_LARGE, rc.tr.t(key));
            return Ok(report_page(&s, rc.tr, &headers, status, action, None, Fields::default(), "", Some(msg)));
        }
    };
    if !csrf_ok(&headers, &f.get("_csrf")) {
        let msg = rc.tr.t("error-csrf");
        return Ok(report_page(
            &s,
            rc.tr,
            &headers,
            StatusCode::FORBIDDEN,
            action,
            None,
            fields_of(&f),
            &region_of(&f),
            Some(msg),
        ));
    }
    let form = ReportForm {
        name: f.get("name"),
        phone: f.get("phone"),
        region_code: region_of(&f),
        address: f.get("address"),
        request_type: f.get("type"),
        description: f.get("description"),
        model: f.get("model"),
        serial_number: f.get("serial_number"),
    };
    let r = shouhou_app::portal::report(&s.app, &rc.ctx, &form, &photos).await;
    after_report(&s, &rc, &headers, action, None, &f, r).await
}

pub async fn device_submit(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    Path(token): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let action = format!("/q/{token}");
    let device = shouhou_app::portal::device_for_link(&s.app, &token).await.map_err(page_err(&rc, "/portal"))?;
    let (f, photos) = match read_report(multipart).await {
        Ok(x) => x,
        Err(key) => {
            let (status, msg) = (StatusCode::PAYLOAD_TOO_LARGE, rc.tr.t(key));
            return Ok(report_page(
                &s,
                rc.tr,
                &headers,
                status,
                &action,
                Some(device),
                Fields::default(),
                "",
                Some(msg),
            ));
        }
    };
    if !csrf_ok(&headers, &f.get("_csrf")) {
        let msg = rc.tr.t("error-csrf");
        return Ok(report_page(
            &s,
            rc.tr,
            &headers,
            StatusCode::FORBIDDEN,
            &action,
            Some(device),
            fields_of(&f),
            "",
            Some(msg),
        ));
    }
    let form = ReportForm {
        name: f.get("name"),
        phone: f.get("phone"),
        request_type: f.get("type"),
        description: f.get("description"),
        ..Default::default()
    };
    let r = shouhou_app::portal::report_from_link(&s.app, &rc.ctx, &token, &form, &photos).await;
    after_report(&s, &rc, &headers, &action, Some(device), &f, r).await
}

#[derive(Template)]
#[template(path = "portal_thanks.html")]
struct ThanksPage {
    p: PortalChrome,
    number: String,
}

pub async fn thanks(rc: ReqCtx, Path(number): Path<String>) -> Result<Response, PageError> {
    // Only what a request number looks like is shown back: the page cannot be made to say anything else.
    let ok =
        number.len() <= 32 && number.starts_with("SR-") && number[3..].chars().all(|c| c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(page_err(&rc, "/portal")(AppError::NotFound));
    }
    let page = ThanksPage { p: PortalChrome::new(rc.tr, "portal-thanks", "/portal"), number };
    Ok(([(header::CACHE_CONTROL, "no-store")], render(&page)).into_response())
}

// ---------- tracking ----------

/// One step as the track page shows it.
struct StepView {
    at: String,
    status_text: String,
    message: Option<String>,
}

struct TrackView {
    number: String,
    status_text: String,
    type_text: String,
    created_at: String,
    can_confirm: bool,
    can_rate: bool,
    device: Option<PortalDevice>,
    warranty_text: String,
    timeline: Vec<StepView>,
}

fn local(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8))).strftime("%Y-%m-%d %H:%M").to_string()
}

impl TrackView {
    fn new(tr: Tr, t: Tracked) -> Self {
        TrackView {
            status_text: tr.t(&format!("status-{}", t.status.as_str())),
            type_text: tr.t(&format!("type-{}", t.request_type.as_str())),
            created_at: local(t.created_at),
            can_confirm: t.can_confirm,
            can_rate: t.can_rate,
            warranty_text: t.device.as_ref().map(|d| warranty_words(tr, d)).unwrap_or_default(),
            device: t.device,
            timeline: t
                .timeline
                .into_iter()
                .map(|e| StepView {
                    at: local(e.at),
                    status_text: tr.t(&format!("status-{}", e.step.status.as_str())),
                    message: e.step.message,
                })
                .collect(),
            number: t.number,
        }
    }
}

#[derive(Template)]
#[template(path = "portal_track.html")]
struct TrackPage {
    p: PortalChrome,
    csrf: String,
    number: String,
    phone: String,
    result: Option<TrackView>,
    /// A suggestion looked up by its number (`SG-…`) instead of a request.
    suggestion: Option<SuggestionView>,
    error: Option<String>,
    done: Option<String>,
}

/// A customer's suggestion as the track page shows it: its status and the answer, in words.
pub struct SuggestionView {
    pub number: String,
    pub category: String,
    pub status: String,
    pub answer: String,
    pub answered_at: String,
    pub created_at: String,
}

#[derive(Deserialize)]
pub struct TrackQuery {
    number: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn track_page(
    s: &AppState,
    tr: Tr,
    headers: &HeaderMap,
    status: StatusCode,
    number: &str,
    phone: &str,
    result: Option<TrackView>,
    error: Option<String>,
    done: Option<String>,
) -> Response {
    let (token, fresh) = form_token(headers);
    let page = TrackPage {
        p: PortalChrome::new(tr, "portal-track-title", "/portal/track"),
        csrf: token.clone(),
        number: number.chars().take(32).collect(),
        phone: phone.to_string(),
        result,
        suggestion: None,
        error,
        done,
    };
    answer(s, status, render(&page), &token, fresh)
}

/// The track page showing a suggestion.
fn suggestion_page(
    s: &AppState,
    tr: Tr,
    headers: &HeaderMap,
    phone: &str,
    t: shouhou_app::portal::TrackedSuggestion,
) -> Response {
    let (token, fresh) = form_token(headers);
    let when =
        |t: jiff::Timestamp| crate::api::Instant(t).to_string().replace('T', " ").chars().take(16).collect::<String>();
    let view = SuggestionView {
        category: tr.t(&format!("sg-category-{}", t.category)),
        status: tr.t(&format!("sg-status-{}", t.status)),
        answered_at: t.answered_at.map(when).unwrap_or_default(),
        created_at: when(t.created_at),
        answer: t.answer,
        number: t.number,
    };
    let page = TrackPage {
        p: PortalChrome::new(tr, "portal-track-title", "/portal/track"),
        csrf: token.clone(),
        number: view.number.clone(),
        phone: phone.to_string(),
        result: None,
        suggestion: Some(view),
        error: None,
        done: None,
    };
    answer(s, StatusCode::OK, render(&page), &token, fresh)
}

pub async fn track_form(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    Query(q): Query<TrackQuery>,
) -> Response {
    track_page(&s, rc.tr, &headers, StatusCode::OK, q.number.as_deref().unwrap_or(""), "", None, None, None)
}

/// A look-up's or a confirmation's answer as the track page shows it.
fn tracked_page(
    s: &AppState,
    rc: &ReqCtx,
    headers: &HeaderMap,
    f: &FormData,
    r: Result<Tracked, AppError>,
    done: Option<String>,
) -> Result<Response, PageError> {
    let (number, phone) = (f.get("number"), f.get("phone"));
    let tr = rc.tr;
    match r {
        Ok(t) => {
            Ok(track_page(s, tr, headers, StatusCode::OK, &number, &phone, Some(TrackView::new(tr, t)), None, done))
        }
        Err(AppError::NotFound) => {
            let msg = tr.t("portal-not-found");
            Ok(track_page(s, tr, headers, StatusCode::NOT_FOUND, &number, "", None, Some(msg), None))
        }
        Err(AppError::Validation(v)) => {
            let msg = joined_messages(tr, &v.0);
            Ok(track_page(s, tr, headers, StatusCode::UNPROCESSABLE_ENTITY, &number, "", None, Some(msg), None))
        }
        Err(AppError::Throttled { retry_after_secs }) => {
            let msg = tr.t1("portal-too-many", "minutes", (retry_after_secs + 59) / 60);
            let mut resp =
                track_page(s, tr, headers, StatusCode::TOO_MANY_REQUESTS, &number, "", None, Some(msg), None);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(resp)
        }
        Err(AppError::IllegalTransition { .. }) => {
            let msg = tr.t("portal-cannot-confirm");
            Ok(track_page(s, tr, headers, StatusCode::CONFLICT, &number, "", None, Some(msg), None))
        }
        Err(e) => Err(page_err(rc, "/portal/track")(e)),
    }
}

/// A tracking form posted without the page's double-submit token (another site's form): the
/// track page with 403, nothing looked up.
fn foreign_form(s: &AppState, rc: &ReqCtx, headers: &HeaderMap, f: &FormData) -> Option<Response> {
    if csrf_ok(headers, &f.get("_csrf")) {
        return None;
    }
    let msg = rc.tr.t("error-csrf");
    Some(track_page(s, rc.tr, headers, StatusCode::FORBIDDEN, &f.get("number"), "", None, Some(msg), None))
}

pub async fn track_submit(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = FormData(f);
    if let Some(refused) = foreign_form(&s, &rc, &headers, &f) {
        return Ok(refused);
    }
    // A suggestion's number (建议, `SG-…`) shows its status and answer; a request's its progress.
    if f.get("number").trim().to_ascii_uppercase().starts_with("SG-") {
        return match shouhou_app::portal::suggestion(&s.app, &rc.ctx, &f.get("number"), &f.get("phone")).await {
            Ok(t) => Ok(suggestion_page(&s, rc.tr, &headers, &f.get("phone"), t)),
            Err(e) => tracked_page(&s, &rc, &headers, &f, Err(e), None),
        };
    }
    let r = shouhou_app::portal::track(&s.app, &rc.ctx, &f.get("number"), &f.get("phone")).await;
    tracked_page(&s, &rc, &headers, &f, r, None)
}

pub async fn confirm_submit(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = FormData(f);
    if let Some(refused) = foreign_form(&s, &rc, &headers, &f) {
        return Ok(refused);
    }
    let r = shouhou_app::portal::confirm(&s.app, &rc.ctx, &f.get("number"), &f.get("phone")).await;
    tracked_page(&s, &rc, &headers, &f, r, Some(rc.tr.t("portal-confirmed")))
}

/// Rate the service: a fresh survey link for the request's open return visit, then its page.
pub async fn rate_submit(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = FormData(f);
    if let Some(refused) = foreign_form(&s, &rc, &headers, &f) {
        return Ok(refused);
    }
    match shouhou_app::portal::rate(&s.app, &rc.ctx, &f.get("number"), &f.get("phone")).await {
        Ok(url) => Ok(axum::response::Redirect::to(&url).into_response()),
        Err(e) => tracked_page(&s, &rc, &headers, &f, Err(e), None),
    }
}

// ---------- labels (staff) ----------

pub async fn label_svg(
    s: State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    id: Path<i64>,
) -> Result<Response, PageError> {
    label_file(s, rc, headers, id, "svg").await
}

pub async fn label_png(
    s: State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    id: Path<i64>,
) -> Result<Response, PageError> {
    label_file(s, rc, headers, id, "png").await
}

/// A device's QR label as a file (`svg` or `png`), for staff signed in to the pages.
async fn label_file(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    kind: &str,
) -> Result<Response, PageError> {
    let path = format!("/devices/{id}/label.{kind}");
    require_login(&rc, &path)?;
    let base = crate::api::portal::public_base(&s, &headers);
    let l = shouhou_app::labels::label(&s.app, &rc.ctx, &base, id).await.map_err(page_err(&rc, &path))?;
    let name = format!("label-{}.{kind}", l.serial_number);
    Ok(match kind {
        "png" => {
            let png = shouhou_app::labels::label_png(&l).map_err(page_err(&rc, &path))?;
            crate::api::devices::image("image/png", &name, png)
        }
        _ => {
            let svg = shouhou_app::labels::label_svg(&l).map_err(page_err(&rc, &path))?;
            crate::api::devices::image("image/svg+xml", &name, svg.into_bytes())
        }
    })
}

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    c: Chrome,
    hint: String,
    sheets: Vec<String>,
}

#[derive(Deserialize)]
pub struct LabelsQuery {
    ids: Option<String>,
}

/// A4 sheets of QR labels for the devices `?ids=`, with a print button.
pub async fn labels(
    State(s): State<AppState>,
    rc: ReqCtx,
    headers: HeaderMap,
    Query(q): Query<LabelsQuery>,
) -> Result<Response, PageError> {
    let path = "/devices/labels";
    require_login(&rc, path)?;
    let base = crate::api::portal::public_base(&s, &headers);
    let r = async {
        let ids = shouhou_app::labels::parse_ids(q.ids.as_deref().unwrap_or(""))?;
        let labels = shouhou_app::labels::labels(&s.app, &rc.ctx, &base, &ids).await?;
        shouhou_app::labels::sheet_svgs(&labels).map(|sheets| (labels.len(), sheets))
    }
    .await;
    let (n, sheets) = match r {
        Ok(x) => x,
        Err(AppError::Validation(v)) => {
            let page = LabelsPage {
                c: Chrome::new(&rc, "labels-title", path),
                hint: joined_messages(rc.tr, &v.0),
                sheets: vec![],
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
        Err(e) => return Err(page_err(&rc, path)(e)),
    };
    let hint = rc.tr.t2("labels-hint", "count", n, "sheets", sheets.len());
    Ok(render(&LabelsPage { c: Chrome::new(&rc, "labels-title", path), hint, sheets }))
}
