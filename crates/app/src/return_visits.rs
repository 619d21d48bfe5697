//! Return visits (回访): one falls due on the agents' calendar when a request is resolved (and
//! after a complaint); the agent records it truthfully, or the customer answers the same survey
//! through a single-use link; a content, solved answer closes the request, a low score or "not
//! solved" opens a follow-up (and "not solved" reopens the request); tries on three different
//! days without reaching the customer give up and let the request close. Results per engineer,
//! station, product line and month, and the supervisor's sampling check (质检抽查).
use crate::audit::record;
use crate::requests::apply_step;
use crate::sla::calendar_or_default;
use crate::{App, AppError, Ctx, Result};
use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::{Permission, Scope};
use shouhou_domain::ids::StationId;
use shouhou_domain::requests::{Action, Request, Status as RequestStatus, business_day};
use shouhou_domain::return_visits::{
    Answer, Archived, CheckState, Figures, FollowUpReason, FollowUpStatus, Group, Outcome, Rules, Scores, Status,
    Verdict, gives_up, results as group_results, score,
};
use shouhou_domain::text::optional_text;
use shouhou_store::return_visits::{self as store, NewVisit, Queue, Recorded};
pub use shouhou_store::return_visits::{Attempt, FollowUp, Visit};
use shouhou_store::{Conn, requests};
use std::collections::BTreeSet;

/// The rules: the setting `return_visit_rules`, else the defaults.
pub(crate) async fn rules(c: &mut Conn<'_>) -> Result<Rules> {
    match shouhou_store::settings::get(c, "return_visit_rules").await? {
        None => Ok(Rules::default()),
        Some(raw) => {
            serde_json::from_str(&raw).map_err(|e| AppError::Internal(format!("setting return_visit_rules: {e}")))
        }
    }
}

/// The follow-up settings: return visits and complaint clocks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FollowUpSettings {
    pub return_visits: Rules,
    pub complaints: shouhou_domain::complaints::Rules,
}

/// The follow-up settings in force (the back office reads them).
pub async fn settings(app: &App, ctx: &Ctx) -> Result<FollowUpSettings> {
    ctx.require_read(Permission::BackOffice)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    Ok(FollowUpSettings { return_visits: rules(&mut c).await?, complaints: crate::complaints::rules(&mut c).await? })
}

/// Replace the follow-up settings (administrators); the calendars named must exist.
#[tracing::instrument(skip_all)]
pub async fn set_settings(app: &App, ctx: &Ctx, s: &FollowUpSettings) -> Result<FollowUpSettings> {
    ctx.require(Permission::SettingsWrite)?;
    let mut e = ValidationErrors::default();
    if let Err(v) = s.return_visits.validate() {
        e.0.extend(
            v.0.into_iter().map(|f| shouhou_domain::FieldError { field: format!("return_visits.{}", f.field), ..f }),
        );
    }
    if let Err(v) = s.complaints.validate() {
        e.0.extend(
            v.0.into_iter().map(|f| shouhou_domain::FieldError { field: format!("complaints.{}", f.field), ..f }),
        );
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let c3 = &s.complaints;
    let calendars = [
        ("return_visits.calendar", &s.return_visits.calendar),
        ("complaints.major.contact_calendar", &c3.major.contact_calendar),
        ("complaints.major.solution_calendar", &c3.major.solution_calendar),
        ("complaints.serious.contact_calendar", &c3.serious.contact_calendar),
        ("complaints.serious.solution_calendar", &c3.serious.solution_calendar),
        ("complaints.ordinary.contact_calendar", &c3.ordinary.contact_calendar),
        ("complaints.ordinary.solution_calendar", &c3.ordinary.solution_calendar),
    ];
    for (field, code) in calendars {
        if crate::sla::load_calendar(&mut c, code).await?.is_none() {
            e.push(field, "unknown_calendar");
        }
    }
    e.into_result()?;
    shouhou_store::settings::put(&mut c, "return_visit_rules", &json_text(&s.return_visits)?).await?;
    shouhou_store::settings::put(&mut c, "complaint_rules", &json_text(&s.complaints)?).await?;
    record(
        &mut c,
        app,
        ctx,
        "settings.follow_up",
        "settings",
        Some("follow_up".into()),
        serde_json::to_value(s).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(s.clone())
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

/// When a visit made now falls due: `due_minutes` of business time on the rules' calendar.
async fn due_from(c: &mut Conn<'_>, now: i64) -> Result<i64> {
    let r = rules(c).await?;
    let cal = calendar_or_default(c, &r.calendar).await?;
    Ok(cal.add(crate::instant(now)?, SignedDuration::from_mins(r.due_minutes)).as_millisecond())
}

/// What a lifecycle step of request `r` (as it was before the step) means for its visits: a
/// resolution makes one due (unless one is open), a reopening cancels the open one.
pub(crate) async fn after_step(c: &mut Conn<'_>, r: &Request, to: RequestStatus, now: i64) -> Result<()> {
    match to {
        RequestStatus::Resolved => {
            // The engineer of the request's last completed visit is the one whose work is judged.
            let engineer = shouhou_store::work_orders::of_request(c, r.id)
                .await?
                .into_iter()
                .filter(|w| w.completed_at.is_some())
                .max_by_key(|w| w.completed_at)
                .and_then(|w| w.engineer_id.map(|u| u.0));
            let line = match r.device_id {
                Some(d) => store::product_line_of_device(c, d).await?,
                None => None,
            };
            let due_at = due_from(c, now).await?;
            let v = NewVisit {
                service_request_id: Some(r.id),
                complaint_id: None,
                customer_id: r.customer_id,
                station_id: r.station_id.map(|s| s.0),
                engineer_id: engineer,
                product_line: line.as_deref(),
                due_at,
            };
            store::insert(c, &v, now).await?;
        }
        RequestStatus::Reopened | RequestStatus::Cancelled => {
            store::cancel_open_of_request(c, r.id, now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Make the visit after a closed complaint (none if one is open for it already).
pub(crate) async fn after_complaint(
    c: &mut Conn<'_>,
    complaint: i64,
    customer: i64,
    station: Option<i64>,
    product_line: Option<&str>,
    now: i64,
) -> Result<Option<i64>> {
    let due_at = due_from(c, now).await?;
    let v = NewVisit {
        service_request_id: None,
        complaint_id: Some(complaint),
        customer_id: customer,
        station_id: station,
        engineer_id: None,
        product_line,
        due_at,
    };
    Ok(store::insert(c, &v, now).await?)
}

/// A visit the actor may see: in their scope by the station whose work it visits (headquarters'
/// own only for headquarters); 404 otherwise.
async fn in_scope(c: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<Visit> {
    let v = store::get(c, id).await?.ok_or(AppError::NotFound)?;
    let visible = match (scope, v.station_id) {
        (Scope::All, _) => true,
        (s, Some(st)) => s.allows(StationId(st)),
        (_, None) => false,
    };
    if visible { Ok(v) } else { Err(AppError::NotFound) }
}

// ---------- lists ----------

/// One line of a visit list: the visit with its customer as the caller may see them.
#[derive(Debug, Clone)]
pub struct VisitItem {
    pub visit: Visit,
    pub customer_name: String,
    pub station_name: Option<String>,
    pub engineer_name: Option<String>,
}

/// Which list: `open` (soonest due first), `archived` (last recorded first), `sampled` (waiting
/// for the supervisor's check).
pub async fn queue(app: &App, ctx: &Ctx, name: &str) -> Result<Vec<VisitItem>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let q = match name {
        "" | "open" => Queue::Open,
        "archived" => Queue::Archived,
        "sampled" => Queue::Sampled,
        _ => return Err(ValidationErrors::single("queue", "invalid_choice").into()),
    };
    let visits = {
        let mut rd = app.db.read().await?;
        store::list(&mut rd.conn(), &actor.scope, q, 500).await?
    };
    with_names(app, ctx, visits).await
}

async fn with_names(app: &App, ctx: &Ctx, visits: Vec<Visit>) -> Result<Vec<VisitItem>> {
    let actor = ctx.actor()?;
    let n = crate::requests::names(
        app,
        ctx,
        actor,
        "return_visit_list",
        visits.iter().map(|v| v.customer_id).collect(),
        visits.iter().filter_map(|v| v.station_id).collect::<Vec<_>>(),
        visits.iter().filter_map(|v| v.engineer_id).collect::<Vec<_>>(),
    )
    .await?;
    Ok(visits
        .into_iter()
        .map(|v| VisitItem {
            customer_name: n.customers.get(&v.customer_id).map(|c| c.0.clone()).unwrap_or_default(),
            station_name: v.station_id.and_then(|s| n.stations.get(&s).cloned()),
            engineer_name: v.engineer_id.and_then(|u| n.users.get(&u).cloned()),
            visit: v,
        })
        .collect())
}

/// A visit with its tries, its follow-ups and what the caller may do.
#[derive(Debug, Clone)]
pub struct VisitDetail {
    pub item: VisitItem,
    pub attempts: Vec<Attempt>,
    pub follow_ups: Vec<FollowUp>,
    /// The caller may record it (and send a survey link).
    pub can_record: bool,
    /// The caller may check it (it is sampled).
    pub can_check: bool,
    /// The customer's phone to call, as the caller may see it (masked without the right; a read in
    /// clear is audited); `None` for one who may not read the customer.
    pub customer_phone: Option<String>,
}

pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<VisitDetail> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let (v, attempts, follow_ups) = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let v = in_scope(&mut c, &actor.scope, id).await?;
        let attempts = store::attempts_of(&mut c, id).await?;
        let follow_ups = store::follow_ups_of_visit(&mut c, id).await?;
        (v, attempts, follow_ups)
    };
    let can_record = v.status == Status::Open.as_str() && actor.can(Permission::ReturnVisit);
    let can_check = v.check_state.as_deref() == Some(CheckState::Sampled.as_str()) && actor.can(Permission::Supervise);
    let customer_phone = if can_record {
        match crate::customers::get_customer(app, ctx, v.customer_id).await {
            Ok(c) => Some(c.phone),
            Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let item = with_names(app, ctx, vec![v]).await?.pop().ok_or(AppError::NotFound)?;
    Ok(VisitDetail { item, attempts, follow_ups, can_record, can_check, customer_phone })
}

/// The visits of a request (its page shows them), newest first.
pub async fn of_request(app: &App, ctx: &Ctx, request: i64) -> Result<(Vec<Visit>, Vec<FollowUp>)> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    crate::requests::request_in_scope(&mut c, actor, request).await?;
    Ok((store::of_request(&mut c, request).await?, store::follow_ups_of_request(&mut c, request).await?))
}

// ---------- recording ----------

/// A visit's record: reached (with the four scores and whether the problem is solved) or not.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordForm {
    /// reached, unreachable
    pub outcome: String,
    /// 1–5, required when reached.
    #[serde(default)]
    pub satisfaction: Option<i64>,
    #[serde(default)]
    pub attitude: Option<i64>,
    #[serde(default)]
    pub skill: Option<i64>,
    #[serde(default)]
    pub timeliness: Option<i64>,
    /// Whether the problem is really solved; required when reached.
    #[serde(default)]
    pub solved: Option<bool>,
    #[serde(default)]
    pub comment: Option<String>,
    /// The visit's version as read (optional: a visit is recorded once either way).
    #[serde(default)]
    pub version: Option<i64>,
}

/// What the form says, validated.
enum Told {
    Reached(Answer, String),
    Unreachable(String),
}

fn validate(f: &RecordForm) -> Result<Told> {
    let mut e = ValidationErrors::default();
    let outcome = e.take(Outcome::parse("outcome", &f.outcome));
    let comment = e.take(optional_text("comment", f.comment.as_deref(), 1000)).flatten().unwrap_or_default();
    match outcome {
        Some(Outcome::Reached) => {
            let s = e.take(score("satisfaction", f.satisfaction));
            let a = e.take(score("attitude", f.attitude));
            let k = e.take(score("skill", f.skill));
            let t = e.take(score("timeliness", f.timeliness));
            if f.solved.is_none() {
                e.push("solved", "required");
            }
            e.into_result()?;
            match (s, a, k, t, f.solved) {
                (Some(satisfaction), Some(attitude), Some(skill), Some(timeliness), Some(solved)) => Ok(Told::Reached(
                    Answer { scores: Scores { satisfaction, attitude, skill, timeliness }, solved },
                    comment,
                )),
                _ => Err(AppError::Internal("validated survey incomplete".into())),
            }
        }
        Some(Outcome::Unreachable) => {
            e.into_result()?;
            Ok(Told::Unreachable(comment))
        }
        None => Err(e.into()),
    }
}

/// What recording a visit did.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedVisit {
    pub id: i64,
    /// open (a try that did not reach the customer), done, unreachable
    pub status: String,
    pub attempts: i64,
    /// The request's status afterwards.
    pub request_status: Option<String>,
    pub follow_up_id: Option<i64>,
    pub version: i64,
}

/// Who records: an agent, or the customer through the survey link.
struct Recorder<'a> {
    user: Option<i64>,
    name: &'a str,
    via: &'static str,
}

/// Record a visit (an agent with the right, in their scope).
#[tracing::instrument(skip_all)]
pub async fn record_visit(app: &App, ctx: &Ctx, id: i64, f: &RecordForm) -> Result<RecordedVisit> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let v = in_scope(&mut c, &actor.scope, id).await?;
    if !actor.can(Permission::ReturnVisit) {
        return Err(AppError::Forbidden);
    }
    let told = validate(f)?;
    if f.version.is_some_and(|ver| ver != v.version) {
        return Err(AppError::Stale);
    }
    let who = Recorder { user: Some(actor.id.0), name: &actor.display_name, via: "agent" };
    let out = apply(&mut c, &v, told, &who, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "return_visit.record",
        "return_visit",
        Some(id.to_string()),
        json!({"request": v.subject_number, "outcome": f.outcome, "status": out.status, "follow_up": out.follow_up_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The one place a visit's answer takes effect, inside the caller's transaction.
async fn apply(c: &mut Conn<'_>, v: &Visit, told: Told, who: &Recorder<'_>, now: i64) -> Result<RecordedVisit> {
    if v.status != Status::Open.as_str() {
        return Err(AppError::IllegalTransition { from: v.status.clone(), action: "record".into(), allowed: vec![] });
    }
    let mut follow_up_id = None;
    let (status, version) = match told {
        Told::Unreachable(note) => {
            store::insert_attempt(c, v.id, now, who.user, Outcome::Unreachable.as_str(), &note).await?;
            let days: BTreeSet<_> = store::attempts_of(c, v.id)
                .await?
                .iter()
                .filter(|a| a.outcome == Outcome::Unreachable.as_str())
                .filter_map(|a| crate::instant(a.at).ok().map(business_day))
                .collect();
            if gives_up(&days) {
                let r = Recorded {
                    status: Status::Unreachable.as_str(),
                    scores: None,
                    solved: None,
                    comment: &note,
                    answered_via: who.via,
                    recorded_by: who.user,
                };
                let ver = store::record(c, v.id, v.version, &r, now).await?.ok_or(AppError::Stale)?;
                // Attempts were counted by the record; the tries are in their own table.
                close_request_after(c, v, who, "回访三次未能联系到客户，归档", now).await?;
                (Status::Unreachable, ver)
            } else {
                let ver = store::count_try(c, v.id, v.version, now).await?.ok_or(AppError::Stale)?;
                (Status::Open, ver)
            }
        }
        Told::Reached(answer, comment) => {
            store::insert_attempt(c, v.id, now, who.user, Outcome::Reached.as_str(), &comment).await?;
            let s = answer.scores;
            let r = Recorded {
                status: Status::Done.as_str(),
                scores: Some([s.satisfaction, s.attitude, s.skill, s.timeliness].map(i64::from)),
                solved: Some(answer.solved),
                comment: &comment,
                answered_via: who.via,
                recorded_by: who.user,
            };
            let ver = store::record(c, v.id, v.version, &r, now).await?.ok_or(AppError::Stale)?;
            match answer.verdict() {
                Verdict::Satisfied => {
                    if let Some(req) = v.service_request_id {
                        store::satisfy_follow_ups_of_request(c, req, "回访：客户满意", now).await?;
                    }
                    close_request_after(c, v, who, "回访：客户满意，问题已解决", now).await?;
                }
                Verdict::FollowUp(reason) => {
                    follow_up_id = Some(store::insert_follow_up(c, v, reason.as_str(), &comment, now).await?);
                    if reason == FollowUpReason::NotSolved {
                        reopen_request_after(c, v, who, now).await?;
                    }
                }
            }
            (Status::Done, ver)
        }
    };
    let request_status = match v.service_request_id {
        Some(id) => requests::get_request(c, id).await?.map(|r| r.status.as_str().to_string()),
        None => None,
    };
    let attempts = store::get(c, v.id).await?.map(|x| x.attempts).unwrap_or(v.attempts);
    Ok(RecordedVisit { id: v.id, status: status.as_str().into(), attempts, request_status, follow_up_id, version })
}

/// Close the visit's request if it is resolved or confirmed and nothing else holds it open.
async fn close_request_after(c: &mut Conn<'_>, v: &Visit, who: &Recorder<'_>, note: &str, now: i64) -> Result<()> {
    let Some(id) = v.service_request_id else { return Ok(()) };
    let Some(r) = requests::get_request(c, id).await? else { return Ok(()) };
    if !matches!(r.status, RequestStatus::Resolved | RequestStatus::Confirmed)
        || store::request_has_open_follow_up_or_visit(c, id).await?
    {
        return Ok(());
    }
    apply_step(c, &r, Action::Close, who.user, who.name, note, now).await?;
    Ok(())
}

/// "Not solved": the request is worked on again (its resolution clock restarts).
async fn reopen_request_after(c: &mut Conn<'_>, v: &Visit, who: &Recorder<'_>, now: i64) -> Result<()> {
    let Some(id) = v.service_request_id else { return Ok(()) };
    let Some(r) = requests::get_request(c, id).await? else { return Ok(()) };
    if r.status.apply(Action::Reopen).is_ok() {
        apply_step(c, &r, Action::Reopen, who.user, who.name, "回访：客户反映问题未解决，重新处理", now).await?;
    }
    Ok(())
}

// ---------- the survey link ----------

/// A survey link: the URL (root-relative) and until when it may be answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SurveyLink {
    pub url: String,
    pub expires_at: i64,
}

/// Where the survey of a secret is answered.
pub fn survey_path(secret: &str) -> String {
    format!("/survey/{secret}")
}

/// Make a survey link for an open visit (a new link replaces the previous one). Only the digest of
/// its secret is kept.
#[tracing::instrument(skip_all)]
pub async fn survey_link(app: &App, ctx: &Ctx, id: i64) -> Result<SurveyLink> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let v = in_scope(&mut c, &actor.scope, id).await?;
    if !actor.can(Permission::ReturnVisit) {
        return Err(AppError::Forbidden);
    }
    if v.status != Status::Open.as_str() {
        return Err(AppError::IllegalTransition { from: v.status, action: "survey_link".into(), allowed: vec![] });
    }
    let link = issue_survey(&mut c, id, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "return_visit.survey_link",
        "return_visit",
        Some(id.to_string()),
        json!({"request": v.subject_number, "expires_at": link.expires_at}),
    )
    .await?;
    tx.commit().await?;
    Ok(link)
}

/// A new survey link for open visit `id` (replacing the previous one), in the caller's
/// transaction; only the digest of its secret is kept.
async fn issue_survey(c: &mut Conn<'_>, id: i64, now: i64) -> Result<SurveyLink> {
    let days = rules(c).await?.survey_days;
    let secret = crate::secrets::random_token()?;
    let expires_at = now + days * 86_400_000;
    if !store::set_survey(c, id, &crate::secrets::token_digest(&secret), expires_at, now).await? {
        return Err(AppError::IllegalTransition {
            from: "closed".into(),
            action: "survey_link".into(),
            allowed: vec![],
        });
    }
    Ok(SurveyLink { url: survey_path(&secret), expires_at })
}

/// A survey link for the open visit of request `request`, for its customer (who has shown the
/// request's number and phone to the portal); `NotFound` when no visit is open.
pub(crate) async fn survey_for_customer(c: &mut Conn<'_>, request: i64, now: i64) -> Result<SurveyLink> {
    let v = store::open_of_request(c, request).await?.ok_or(AppError::NotFound)?;
    issue_survey(c, v.id, now).await
}

/// Whether request `request` has a return visit open (its customer may rate the service).
pub(crate) async fn visit_open(c: &mut Conn<'_>, request: i64) -> Result<bool> {
    Ok(store::open_of_request(c, request).await?.is_some())
}

/// What the customer sees above the survey: no personal data, only what the service was.
#[derive(Debug, Clone)]
pub struct SurveyInfo {
    /// The request's or complaint's number.
    pub number: String,
    pub product: Option<String>,
    pub expires_at: i64,
}

/// The open visit a survey secret names: 404 for one never issued (or replaced), 410 for one
/// answered, expired or whose visit is no longer open.
async fn visit_of_secret(c: &mut Conn<'_>, secret: &str, now: i64) -> Result<Visit> {
    if secret.is_empty() || secret.len() > 100 {
        return Err(AppError::NotFound);
    }
    let digest = crate::secrets::token_digest(secret);
    // An answered visit keeps its link's digest, so a second answer is told "used", not "unknown".
    match store::by_survey_digest(c, &digest).await? {
        None => Err(AppError::NotFound),
        Some(v) if v.status != Status::Open.as_str() => Err(AppError::Gone),
        Some(v) if v.survey_expires_at.is_none_or(|t| t <= now) => Err(AppError::Gone),
        Some(v) => Ok(v),
    }
}

/// The survey behind a link, for its page.
pub async fn survey(app: &App, secret: &str) -> Result<SurveyInfo> {
    let now = app.now();
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let v = visit_of_secret(&mut c, secret, now).await?;
    let product = match v.service_request_id {
        Some(r) => store::product_of_request(&mut c, r).await?,
        None => None,
    };
    Ok(SurveyInfo {
        number: v.subject_number.unwrap_or_default(),
        product,
        expires_at: v.survey_expires_at.unwrap_or(now),
    })
}

/// The customer's answer through the link: it lands where the agent's would. The link works once.
#[tracing::instrument(skip_all)]
pub async fn answer_survey(app: &App, ctx: &Ctx, secret: &str, f: &RecordForm) -> Result<RecordedVisit> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let v = visit_of_secret(&mut c, secret, now).await?;
    let told = match validate(f)? {
        t @ Told::Reached(..) => t,
        Told::Unreachable(_) => return Err(ValidationErrors::single("outcome", "invalid_choice").into()),
    };
    let who = Recorder { user: None, name: "客户（回访问卷）", via: "survey" };
    let out = apply(&mut c, &v, told, &who, now).await?;
    record(
        &mut c,
        app,
        ctx,
        "return_visit.survey_answer",
        "return_visit",
        Some(v.id.to_string()),
        json!({"request": v.subject_number, "follow_up": out.follow_up_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

// ---------- follow-ups ----------

/// Open follow-ups in the caller's scope, oldest first.
pub async fn follow_ups(app: &App, ctx: &Ctx) -> Result<Vec<FollowUp>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let mut rd = app.db.read().await?;
    Ok(store::open_follow_ups(&mut rd.conn(), &actor.scope, 500).await?)
}

/// How a follow-up ends: the customer is satisfied now (an agent), or a manager closes it with a reason.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseFollowUp {
    /// satisfied, closed
    pub outcome: String,
    /// What the customer said, or why a manager closes it; required.
    pub note: String,
    #[serde(default)]
    pub version: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn close_follow_up(app: &App, ctx: &Ctx, id: i64, f: &CloseFollowUp) -> Result<FollowUp> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let fu = store::get_follow_up(&mut c, id).await?.ok_or(AppError::NotFound)?;
    let visible = match (&actor.scope, fu.station_id) {
        (Scope::All, _) => true,
        (s, Some(st)) => s.allows(StationId(st)),
        (_, None) => false,
    };
    if !visible {
        return Err(AppError::NotFound);
    }
    let mut e = ValidationErrors::default();
    let outcome = e.take(FollowUpStatus::parse("outcome", &f.outcome));
    let note = e.take(optional_text("note", Some(&f.note), 1000)).flatten().unwrap_or_default();
    if outcome == Some(FollowUpStatus::Open) {
        e.push("outcome", "invalid_choice");
    }
    if note.is_empty() {
        e.push("note", "reason_required");
    }
    let needed = match outcome {
        Some(FollowUpStatus::Closed) => Permission::Supervise,
        _ => Permission::ReturnVisit,
    };
    if !actor.can(needed) {
        return Err(AppError::Forbidden);
    }
    e.into_result()?;
    let Some(outcome) = outcome else { return Err(AppError::Internal("validated outcome missing".into())) };
    if f.version.is_some_and(|v| v != fu.version) {
        return Err(AppError::Stale);
    }
    if fu.status != FollowUpStatus::Open.as_str() {
        return Err(AppError::IllegalTransition { from: fu.status, action: outcome.as_str().into(), allowed: vec![] });
    }
    store::close_follow_up(&mut c, id, fu.version, outcome.as_str(), &note, Some(actor.id.0), now)
        .await?
        .ok_or(AppError::Stale)?;
    // The request it held open closes now if nothing else holds it.
    if let Some(req) = fu.service_request_id {
        let visit = store::get(&mut c, fu.return_visit_id).await?.ok_or(AppError::NotFound)?;
        let who = Recorder { user: Some(actor.id.0), name: &actor.display_name, via: "agent" };
        debug_assert_eq!(visit.service_request_id, Some(req));
        close_request_after(&mut c, &visit, &who, &format!("跟进结束：{note}"), now).await?;
    }
    record(
        &mut c,
        app,
        ctx,
        "follow_up.close",
        "follow_up",
        Some(id.to_string()),
        json!({"outcome": outcome.as_str(), "request": fu.subject_number}),
    )
    .await?;
    let out = store::get_follow_up(&mut c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

// ---------- results and sampling ----------

/// The archived visits' figures by `group` over `[from, to)` (business days, inclusive `from`,
/// exclusive `to`), in the caller's scope, with the names of engineers and stations.
#[derive(Debug, Clone)]
pub struct ResultLine {
    pub figures: Figures,
    /// The engineer's or station's name, the product line, or the month.
    pub label: String,
}

pub async fn results(app: &App, ctx: &Ctx, group: &str, from: &str, to: &str) -> Result<Vec<ResultLine>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let group = Group::parse("group", if group.is_empty() { "month" } else { group })?;
    let (from_ms, to_ms) = crate::business_period(app, Some(from), Some(to))?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let visits = store::archived_between(&mut c, &actor.scope, from_ms, to_ms).await?;
    let rows: Vec<Archived> = visits.iter().map(archived).collect::<Result<_>>()?;
    let mut out = vec![];
    for f in group_results(&rows, group) {
        let label = match (group, f.key.parse::<i64>()) {
            (_, _) if f.key.is_empty() => String::new(),
            (Group::Engineer, Ok(id)) => shouhou_store::users::get_user(&mut c, shouhou_domain::ids::UserId(id))
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default(),
            (Group::Station, Ok(id)) => {
                shouhou_store::stations::get_station(&mut c, StationId(id)).await?.map(|s| s.name).unwrap_or_default()
            }
            _ => f.key.clone(),
        };
        out.push(ResultLine { figures: f, label });
    }
    Ok(out)
}

fn archived(v: &Visit) -> Result<Archived> {
    let at = crate::instant(v.recorded_at.unwrap_or(v.created_at))?;
    let day = business_day(at);
    let scores = match (v.satisfaction, v.attitude, v.skill, v.timeliness) {
        (Some(s), Some(a), Some(k), Some(t)) => {
            let u = |x: i64| u8::try_from(x).unwrap_or(0);
            Some(Scores { satisfaction: u(s), attitude: u(a), skill: u(k), timeliness: u(t) })
        }
        _ => None,
    };
    Ok(Archived {
        engineer_id: v.engineer_id,
        station_id: v.station_id,
        product_line: v.product_line.clone(),
        month: format!("{:04}-{:02}", day.year(), day.month()),
        reached: v.status == Status::Done.as_str(),
        on_time: v.recorded_at.is_some_and(|t| t <= v.due_at),
        scores,
        solved: v.solved,
    })
}

/// Draw `size` archived visits at random from `[from, to)` for the supervisor's check.
#[tracing::instrument(skip_all)]
pub async fn sample(app: &App, ctx: &Ctx, size: i64, from: &str, to: &str) -> Result<Vec<i64>> {
    let actor = ctx.require(Permission::Supervise)?;
    if !(1..=200).contains(&size) {
        return Err(ValidationErrors::single("size", "out_of_range").into());
    }
    let (from_ms, to_ms) = crate::business_period(app, Some(from), Some(to))?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let ids = store::sample(&mut c, &actor.scope, from_ms, to_ms, size, now).await?;
    record(&mut c, app, ctx, "return_visit.sample", "return_visit", None, json!({"from": from, "to": to, "ids": ids}))
        .await?;
    tx.commit().await?;
    Ok(ids)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckForm {
    /// Whether the record matches what the customer said (listening to the call, calling again).
    pub verified: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// The supervisor's verdict on a sampled visit; a failed check needs a note.
#[tracing::instrument(skip_all)]
pub async fn check(app: &App, ctx: &Ctx, id: i64, f: &CheckForm) -> Result<VisitDetail> {
    let actor = ctx.require(Permission::Supervise)?;
    let note = optional_text("note", f.note.as_deref(), 1000)?.unwrap_or_default();
    if !f.verified && note.is_empty() {
        return Err(ValidationErrors::single("note", "reason_required").into());
    }
    let now = app.now();
    {
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let v = in_scope(&mut c, &actor.scope, id).await?;
        let state = if f.verified { CheckState::Verified } else { CheckState::Failed };
        if !store::check(&mut c, id, state.as_str(), &note, actor.id.0, now).await? {
            return Err(AppError::IllegalTransition {
                from: v.check_state.unwrap_or_else(|| "not_sampled".into()),
                action: "check".into(),
                allowed: vec![],
            });
        }
        record(
            &mut c,
            app,
            ctx,
            "return_visit.check",
            "return_visit",
            Some(id.to_string()),
            json!({"verified": f.verified, "request": v.subject_number}),
        )
        .await?;
        tx.commit().await?;
    }
    get(app, ctx, id).await
}
