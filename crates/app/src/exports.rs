//! Export of customers and requests to Excel, masked as the caller would see them; an export in clear is audited.
use crate::audit::record_alone;
use crate::{App, AppError, Ctx, Result};
use serde_json::json;
use shouhou_domain::auth::Permission;
use shouhou_domain::ids::StationId;
use shouhou_store::customers::{self};
use shouhou_store::requests;
use shouhou_store::{PageRequest, stations};
use std::collections::HashMap;

// ---------- exports ----------

/// Rows fetched per query while exporting.
const EXPORT_PAGE: u32 = 5000;

/// Epoch milliseconds as `YYYY-MM-DD HH:MM` in the business zone (+08:00).
pub(crate) fn local_time(ms: i64) -> String {
    let t = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let d = jiff::tz::Offset::constant(8).to_datetime(t);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", d.year(), d.month(), d.day(), d.hour(), d.minute())
}

fn opt_time(ms: Option<i64>) -> String {
    ms.map(local_time).unwrap_or_default()
}

/// `workbook` on a blocking thread: 100 000 rows take seconds of CPU.
pub(crate) async fn workbook_bytes(
    sheet: &'static str,
    headers: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || workbook(sheet, headers, &rows))
        .await
        .map_err(|e| AppError::Internal(format!("writing xlsx: {e}")))?
}

/// A one-sheet workbook: bold, frozen header with a filter, columns as wide as their text.
pub(crate) fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(xe)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    // Display width: CJK characters count double.
    let width = |s: &str| s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(xe)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| AppError::Internal("too many rows for a sheet".into()))?;
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                // Always text: a phone or code keeps its leading zero, and nothing becomes a formula.
                ws.write_string(r, c as u16, v.as_str()).map_err(xe)?;
            }
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(width(v));
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w).clamp(6, 60) as f64 + 2.0).map_err(xe)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xe)?;
    let last_col = u16::try_from(headers.len().saturating_sub(1)).unwrap_or(0);
    ws.autofilter(0, 0, u32::try_from(rows.len()).unwrap_or(u32::MAX), last_col).map_err(xe)?;
    wb.save_to_buffer().map_err(xe)
}

/// Station codes by id, looked up once each.
struct StationCodes(HashMap<i64, String>);

impl StationCodes {
    async fn get(&mut self, c: &mut shouhou_store::Conn<'_>, id: Option<i64>) -> Result<String> {
        let Some(id) = id else { return Ok(String::new()) };
        if let Some(code) = self.0.get(&id) {
            return Ok(code.clone());
        }
        let code = stations::get_station(c, StationId(id)).await?.map(|s| s.code).unwrap_or_default();
        self.0.insert(id, code.clone());
        Ok(code)
    }
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "person" => "个人",
        "company" => "企业",
        other => other,
    }
}

fn tier_label(tier: &str) -> &str {
    match tier {
        "vip" => "VIP",
        "key" => "重点客户",
        "standard" => "普通",
        other => other,
    }
}

/// Headers of the customer export: those the import reads, so a file exported in clear can be
/// edited and imported elsewhere, and a few for reading.
pub const CUSTOMER_EXPORT_HEADERS: [&str; 12] = [
    "客户编号",
    "客户名称",
    "类型",
    "手机",
    "统一社会信用代码",
    "身份证号",
    "行政区划代码",
    "地区",
    "地址",
    "等级",
    "服务站编码",
    "登记时间",
];

/// Every customer in the caller's scope as an .xlsx file, newest first. Personal fields are
/// masked without `PersonalDataRead` (as everywhere, by `desk::view`); an export in clear is written to the audit
/// trail (`customer.export`, with the count).
#[tracing::instrument(skip_all)]
pub async fn export_customers_xlsx(app: &App, ctx: &Ctx) -> Result<Vec<u8>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let clear = actor.can(Permission::PersonalDataRead);
    let mut rows = vec![];
    {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let mut stations = StationCodes(HashMap::new());
        for page in 1.. {
            let p =
                customers::list_customers(&mut c, &app.keys, &actor.scope, PageRequest { page, per_page: EXPORT_PAGE })
                    .await?;
            let last = p.items.len() < EXPORT_PAGE as usize;
            for cu in p.items {
                let station = stations.get(&mut c, cu.station_id).await?;
                let created = local_time(cu.created_at);
                let cu = crate::customers::view(cu, clear);
                rows.push(vec![
                    cu.id.to_string(),
                    cu.name,
                    kind_label(&cu.kind).to_string(),
                    cu.phone,
                    cu.credit_code.unwrap_or_default(),
                    cu.id_number.unwrap_or_default(),
                    cu.region_code,
                    cu.region_name,
                    cu.address,
                    tier_label(&cu.tier).to_string(),
                    station,
                    created,
                ]);
            }
            if last {
                break;
            }
        }
    }
    let count = rows.len();
    let bytes = workbook_bytes("客户", &CUSTOMER_EXPORT_HEADERS, rows).await?;
    if clear {
        record_alone(app, ctx, "customer.export", "customer", None, json!({"count": count, "format": "xlsx"})).await?;
    }
    tracing::info!(count, clear, "customers exported");
    Ok(bytes)
}

fn label<'a>(table: &[(&str, &'a str)], code: &'a str) -> &'a str {
    table.iter().find(|(k, _)| *k == code).map(|(_, v)| *v).unwrap_or(code)
}

const TYPE_LABELS: &[(&str, &str)] = &[
    ("consultation", "咨询"),
    ("repair", "报修"),
    ("installation", "安装调试"),
    ("maintenance", "保养"),
    ("upgrade", "系统升级"),
    ("delivery", "配送"),
    ("complaint", "投诉"),
    ("suggestion", "建议"),
    ("return_exchange", "退换货"),
    ("training", "培训"),
];
const CHANNEL_LABELS: &[(&str, &str)] = &[
    ("phone", "电话"),
    ("email", "邮件"),
    ("web", "网站"),
    ("chat", "在线客服"),
    ("wechat", "微信"),
    ("walk_in", "上门"),
    ("qr_code", "扫码报修"),
    ("dealer", "经销商代报"),
];
const URGENCY_LABELS: &[(&str, &str)] = &[("urgent", "紧急"), ("high", "高"), ("normal", "一般"), ("low", "低")];
const STATUS_LABELS: &[(&str, &str)] = &[
    ("new", "新建"),
    ("accepted", "已受理"),
    ("responded", "已响应"),
    ("in_progress", "处理中"),
    ("waiting_customer", "等待客户"),
    ("resolved", "已解决"),
    ("confirmed", "客户已确认"),
    ("closed", "已关闭"),
    ("reopened", "已重开"),
    ("cancelled", "已取消"),
];
const SLA_LABELS: &[(&str, &str)] = &[
    ("running", "计时中"),
    ("at_risk", "即将超时"),
    ("breached", "已超时"),
    ("paused", "已暂停"),
    ("met", "已达成"),
    ("missed", "未达成"),
    ("not_started", "未开始"),
];

pub const REQUEST_EXPORT_HEADERS: [&str; 14] = [
    "工单号",
    "类型",
    "渠道",
    "紧急程度",
    "状态",
    "客户名称",
    "客户电话",
    "服务站编码",
    "问题描述",
    "受理时间",
    "响应截止",
    "解决截止",
    "响应SLA",
    "解决SLA",
];

/// The queue `name` (as `service::queue` names them: `mine`, `station`, `unassigned`, `due_soon`,
/// `breached`, `all`) as an .xlsx file, soonest due first, in the caller's scope. The customer's
/// name and phone are masked without `PersonalDataRead`; an export in clear is written to the
/// audit trail (`request.export`, with the count).
#[tracing::instrument(skip_all)]
pub async fn export_requests_xlsx(app: &App, ctx: &Ctx, queue: &str) -> Result<Vec<u8>> {
    let actor = ctx.require_read(Permission::RequestRead)?;
    let q = crate::requests::queue_named(app, actor, queue)?;
    let clear = actor.can(Permission::PersonalDataRead);
    let mut rows = vec![];
    {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let mut stations = StationCodes(HashMap::new());
        let mut customers: HashMap<i64, (String, String)> = HashMap::new();
        for page in 1.. {
            let p = requests::queue(&mut c, &actor.scope, q, PageRequest { page, per_page: EXPORT_PAGE }).await?;
            let last = p.items.len() < EXPORT_PAGE as usize;
            for r in p.items {
                if let std::collections::hash_map::Entry::Vacant(slot) = customers.entry(r.customer_id) {
                    let cu = customers::get_customer_in_scope(&mut c, &app.keys, r.customer_id, &actor.scope).await?;
                    let shown = match cu {
                        Some(cu) if clear => (cu.name, cu.phone),
                        Some(cu) => (cu.name_mask, cu.phone_mask),
                        None => (String::new(), String::new()),
                    };
                    slot.insert(shown);
                }
                let (name, phone) = customers.get(&r.customer_id).cloned().unwrap_or_default();
                rows.push(vec![
                    r.number.clone(),
                    label(TYPE_LABELS, r.request_type.as_str()).to_string(),
                    label(CHANNEL_LABELS, r.channel.as_str()).to_string(),
                    label(URGENCY_LABELS, r.urgency.as_str()).to_string(),
                    label(STATUS_LABELS, r.status.as_str()).to_string(),
                    name,
                    phone,
                    stations.get(&mut c, r.station_id.map(|s| s.0)).await?,
                    r.description.clone(),
                    local_time(r.created_at.as_millisecond()),
                    opt_time(r.sla.response_due_at.map(|t| t.as_millisecond())),
                    opt_time(r.sla.resolution_due_at.map(|t| t.as_millisecond())),
                    label(SLA_LABELS, r.sla.response_state.as_str()).to_string(),
                    label(SLA_LABELS, r.sla.resolution_state.as_str()).to_string(),
                ]);
            }
            if last {
                break;
            }
        }
    }
    let count = rows.len();
    let bytes = workbook_bytes("工单", &REQUEST_EXPORT_HEADERS, rows).await?;
    if clear && count > 0 {
        record_alone(
            app,
            ctx,
            "request.export",
            "service_request",
            None,
            json!({"count": count, "queue": queue.trim(), "format": "xlsx"}),
        )
        .await?;
    }
    tracing::info!(count, clear, "requests exported");
    Ok(bytes)
}
