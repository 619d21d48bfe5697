//! Suggestions (建议): recorded from any channel, classified, passed to a department, evaluated
//! (adopted, under study, declined with a reason) and answered; the monthly summary as Excel.
use crate::audit::record;
use crate::{App, AppError, Ctx, Result};
use serde::Deserialize;
use serde_json::json;
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::requests::{Channel, business_day};
use shouhou_domain::suggestions::{Action, Category, Department, Status, format_number, needs};
use shouhou_domain::text::{optional_text, required_text};
use shouhou_store::complaints as store;
pub use shouhou_store::complaints::Suggestion;
use shouhou_store::{customers, requests};

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SuggestionForm {
    pub description: String,
    /// product, service, other
    pub category: String,
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// phone (default), email, web, chat, wechat, walk_in, qr_code, dealer
    #[serde(default)]
    pub channel: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn create(app: &App, ctx: &Ctx, f: &SuggestionForm) -> Result<Suggestion> {
    let actor = ctx.require(Permission::FeedbackWrite)?;
    let mut e = ValidationErrors::default();
    let description = e.take(required_text("description", &f.description, 4000));
    let category = e.take(Category::parse("category", &f.category));
    let channel = e.take(Channel::parse("channel", f.channel.as_deref().unwrap_or("phone")));
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    if let Some(id) = f.customer_id
        && customers::customers_by_ids(c, &app.keys, &[id], &actor.scope).await?.is_empty()
    {
        e.push("customer_id", "unknown_customer");
    }
    e.into_result()?;
    let (Some(description), Some(category), Some(channel)) = (description, category, channel) else {
        return Err(AppError::Internal("validated suggestion incomplete".into()));
    };
    let day = business_day(crate::instant(now)?);
    let counter = requests::next_counter(c, &format!("SG {day}")).await?;
    let number = format_number(day, u64::try_from(counter).unwrap_or(0));
    let id = store::insert_suggestion(
        c,
        &number,
        f.customer_id,
        channel.as_str(),
        category.as_str(),
        &description,
        Some(actor.id.0),
        now,
    )
    .await?;
    record(
        c,
        app,
        ctx,
        "suggestion.create",
        "suggestion",
        Some(id.to_string()),
        json!({"number": number, "category": category.as_str()}),
    )
    .await?;
    let s = store::get_suggestion(c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(s)
}

/// Suggestions are not a station's: every member of the back office with the right to read
/// requests sees them.
pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<Suggestion> {
    ctx.require_read(Permission::RequestRead)?;
    let mut rd = app.db.read().await?;
    store::get_suggestion(&mut rd.conn(), id).await?.ok_or(AppError::NotFound)
}

/// The suggestions registered in the period (default: this month), newest first.
pub async fn list(app: &App, ctx: &Ctx, from: &str, to: &str) -> Result<Vec<Suggestion>> {
    ctx.require_read(Permission::RequestRead)?;
    let (lo, hi) = crate::business_period(app, Some(from), Some(to))?;
    let mut rd = app.db.read().await?;
    Ok(store::suggestions_between(&mut rd.conn(), lo, hi, 5000).await?)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SuggestionStep {
    /// route, study, adopt, decline, answer
    pub action: String,
    /// Route: product, service, quality, sales, other.
    #[serde(default)]
    pub department: Option<String>,
    /// The evaluation (the reason of a decline) or the answer to the customer.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn step(app: &App, ctx: &Ctx, id: i64, f: &SuggestionStep) -> Result<Suggestion> {
    ctx.require_read(Permission::RequestRead)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut conn = tx.conn();
    let c = &mut conn;
    let mut s = store::get_suggestion(c, id).await?.ok_or(AppError::NotFound)?;
    let actor = ctx.require(Permission::FeedbackWrite)?;
    let mut e = ValidationErrors::default();
    let action = Action::parse("action", &f.action)?;
    let department = match f.department.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => e.take(Department::parse("department", d)),
    };
    let note = e.take(optional_text("note", f.note.as_deref(), 2000)).flatten().unwrap_or_default();
    if let Err(err) = needs(action, department, &note) {
        e.push(err.field, err.code);
    }
    e.into_result()?;
    if f.version.is_some_and(|v| v != s.version) {
        return Err(AppError::Stale);
    }
    let from = Status::parse("status", &s.status)?;
    let to = from.apply(action)?;
    let version = s.version;
    match action {
        Action::Route => s.department = department.map(|d| d.as_str().to_string()),
        Action::Answer => {
            s.answer = note.clone();
            s.answered_at = Some(now);
        }
        Action::Study | Action::Adopt | Action::Decline => {
            s.evaluation_note = note.clone();
            s.decided_by = Some(actor.id.0);
        }
    }
    s.status = to.as_str().into();
    store::save_suggestion(c, &s, version, now).await?.ok_or(AppError::Stale)?;
    record(
        c,
        app,
        ctx,
        &format!("suggestion.{}", action.as_str()),
        "suggestion",
        Some(id.to_string()),
        json!({"number": s.number, "status": s.status, "department": s.department}),
    )
    .await?;
    let s = store::get_suggestion(c, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(s)
}

fn label(kind: &str, v: &str) -> String {
    let l = match (kind, v) {
        ("category", "product") | ("department", "product") => "产品",
        ("category", "service") | ("department", "service") => "服务",
        ("department", "quality") => "质量",
        ("department", "sales") => "销售",
        (_, "other") => "其他",
        ("status", "received") => "已登记",
        ("status", "routed") => "已转部门",
        ("status", "under_study") => "研究中",
        ("status", "adopted") => "已采纳",
        ("status", "declined") => "未采纳",
        _ => v,
    };
    l.to_string()
}

/// The period's suggestions as an .xlsx file, one row each (the monthly summary's detail).
pub async fn export_xlsx(app: &App, ctx: &Ctx, from: &str, to: &str) -> Result<Vec<u8>> {
    let items = list(app, ctx, from, to).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|s| {
            vec![
                s.number.clone(),
                crate::exports::local_time(s.created_at),
                label("category", &s.category),
                s.channel.clone(),
                s.description.clone(),
                s.department.as_deref().map(|d| label("department", d)).unwrap_or_default(),
                label("status", &s.status),
                s.evaluation_note.clone(),
                s.answer.clone(),
            ]
        })
        .collect();
    const HEADERS: &[&str] = &["编号", "登记时间", "类别", "渠道", "建议内容", "转交部门", "状态", "评估意见", "答复"];
    let headers = HEADERS;
    crate::exports::workbook_bytes("建议", headers, rows).await
}
