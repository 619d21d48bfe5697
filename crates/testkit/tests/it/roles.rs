//! The role × route table: for every operation of the OpenAPI document and every caller (nobody
//! and each of the ten roles), the status the API answers. A route added without its row fails
//! here, and so does a row whose route is gone. Station roles belong to station A; every record
//! asked for belongs to station B (or headquarters), so the table also says who reaches records
//! outside their stations: 404, exactly like a record that does not exist.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shouhou_store::Backend;
use std::collections::{BTreeMap, BTreeSet};

/// Callers, in the order of each row's statuses.
const CALLERS: [&str; 11] = [
    "nobody",
    "admin",
    "manager",
    "dispatcher",
    "agent",
    "engineer",
    "station_manager",
    "warehouse",
    "finance",
    "dealer",
    "customer",
];

/// (method, path, statuses for CALLERS). `{b}` is station B, `{wh}` its warehouse, `{user}` its
/// engineer, `{customer}`, `{device}`, `{request}`, `{attachment}` a customer of B, its device, its
/// request and a photo.
#[rustfmt::skip]
const TABLE: &[(&str, &str, [u16; 11])] = &[
    //                                                       nobody admin  mgr  disp agent  eng  stmg  wh   fin  dealer cust
    ("GET",   "/api/v1/attachments/{attachment}",           [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("GET",   "/api/v1/audit",                              [401, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/audit/verify",                       [401, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/auth/login",                         [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429]),
    ("POST",  "/api/v1/auth/logout",                        [401, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204]),
    ("PUT",   "/api/v1/calendars/cn-workday",               [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST",  "/api/v1/calendars/cn-workday/days",          [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/customers",                          [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("POST",  "/api/v1/customers",                          [401, 422, 403, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/customers/{customer}",               [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("POST",  "/api/v1/devices",                            [401, 422, 403, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/devices/{device}/entitlement",       [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("PUT",   "/api/v1/devices/{device}/warranty",          [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/inbox",                              [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/v1/inbox/unread",                       [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST",  "/api/v1/inbox/999999/read",                  [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("GET",   "/api/v1/me",                                 [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/v1/product-models",                     [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("POST",  "/api/v1/product-models",                     [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/regions?q=4403",                    [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/v1/screen-pop?phone=13700002222",       [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("GET",   "/api/v1/service-requests",                   [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("POST",  "/api/v1/service-requests",                   [401, 422, 403, 422, 422, 422, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/service-requests/{request}",         [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("PATCH", "/api/v1/service-requests/{request}",         [401, 409, 403, 409, 409, 404, 404, 404, 403, 404, 404]),
    ("POST",  "/api/v1/service-requests/{request}/assignee",[401, 409, 403, 409, 409, 404, 404, 404, 403, 404, 404]),
    ("POST",  "/api/v1/service-requests/{request}/attachments", [401, 422, 403, 422, 422, 404, 404, 404, 403, 404, 404]),
    ("POST",  "/api/v1/service-requests/{request}/notes",   [401, 422, 403, 422, 422, 404, 404, 404, 403, 404, 404]),
    ("POST",  "/api/v1/service-requests/{request}/transitions", [401, 409, 403, 409, 409, 404, 404, 404, 403, 404, 404]),
    ("PATCH", "/api/v1/sla-policies/1",                     [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/sla/preview?calendar=cn-workday&start=2025-09-30T16:00:00%2B08:00&target=PT8H",
                                                            [401, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404]),
    ("GET",   "/api/v1/stations",                           [401, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404]),
    ("POST",  "/api/v1/stations",                           [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/stations/{b}",                       [401, 200, 200, 200, 200, 404, 404, 200, 200, 404, 404]),
    ("PATCH", "/api/v1/stations/{b}",                       [401, 409, 403, 403, 403, 404, 404, 403, 403, 404, 404]),
    ("PUT",   "/api/v1/stations/{b}/calendar",              [401, 422, 403, 403, 403, 404, 404, 403, 403, 404, 404]),
    ("GET",   "/api/v1/users",                              [401, 200, 200, 200, 404, 404, 200, 404, 404, 404, 404]),
    ("POST",  "/api/v1/users",                              [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/users/{user}",                       [401, 200, 200, 200, 404, 404, 404, 404, 404, 404, 404]),
    ("PATCH", "/api/v1/users/{user}",                       [401, 409, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/warehouses",                         [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("POST",  "/api/v1/warehouses",                         [401, 422, 403, 403, 403, 403, 403, 422, 403, 403, 403]),
    ("GET",   "/api/v1/warehouses/{wh}",                    [401, 200, 200, 200, 404, 404, 404, 200, 200, 404, 404]),
    ("POST",  "/api/v1/work-orders",                        [401, 422, 403, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/work-orders/{wo}",                   [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("GET",   "/api/v1/work-orders/{wo}/recommendations",   [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("POST",  "/api/v1/work-orders/{wo}/dispatch",          [401, 409, 403, 409, 403, 404, 404, 404, 403, 404, 404]),
    ("POST",  "/api/v1/work-orders/{wo}/assign",            [401, 409, 403, 409, 403, 404, 404, 404, 403, 404, 404]),
    ("POST",  "/api/v1/work-orders/{wo}/transitions",       [401, 403, 403, 403, 403, 404, 404, 404, 403, 404, 404]),
    ("PUT",   "/api/v1/stations/{b}/coverage",              [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST",  "/api/v1/work-orders/{wo}/files?purpose=before", [401, 422, 403, 422, 403, 404, 404, 404, 403, 404, 404]),
    ("GET",   "/api/v1/work-orders/{wo}/report.pdf",        [401, 422, 422, 422, 422, 404, 404, 404, 422, 404, 404]),
    ("GET",   "/api/v1/work-order-files/999999",            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/work-orders/{wo}/parts",             [401, 422, 403, 422, 403, 404, 404, 404, 403, 404, 404]),
    ("PUT",   "/api/v1/work-orders/{wo}/appointment",       [401, 422, 403, 422, 422, 404, 404, 404, 403, 404, 404]),
    ("PUT",   "/api/v1/users/{user}/leave",                 [401, 422, 403, 422, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/maintenance-plans",                  [401, 422, 403, 422, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/maintenance-plans",                  [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/maintenance/due",                    [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("POST",  "/api/v1/parts",                              [401, 422, 403, 403, 403, 403, 403, 422, 403, 403, 403]),
    ("GET",   "/api/v1/parts",                              [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("POST",  "/api/v1/stock-movements",                    [401, 422, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    ("GET",   "/api/v1/stock",                              [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("PUT",   "/api/v1/stock-thresholds",                   [401, 422, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    ("POST",  "/api/v1/warranty-cards",                     [401, 422, 403, 403, 403, 403, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/warranty-cards",                     [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/warranty-cards/overdue",             [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/warranty-cards/999999",              [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/warranty-cards/999999/review",       [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST",  "/api/v1/warranty-cards/999999/resubmit",     [401, 404, 403, 403, 403, 403, 404, 403, 403, 403, 403]),
    ("GET",   "/api/v1/faulty-returns",                     [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("POST",  "/api/v1/faulty-returns/999999/receive",      [401, 422, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    ("POST",  "/api/v1/part-applications",                  [401, 422, 403, 403, 403, 422, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/part-applications",                  [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("GET",   "/api/v1/part-applications/999999",           [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/part-applications/999999/decision",  [401, 422, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    ("POST",  "/api/v1/parts/import",                       [401, 422, 403, 403, 403, 403, 403, 422, 403, 403, 403]),
    ("GET",   "/api/v1/stock/export.xlsx",                  [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("GET",   "/api/v1/stock-movements/export.xlsx",        [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("POST",  "/api/v1/stocktakes",                         [401, 422, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    ("GET",   "/api/v1/stocktakes",                         [401, 200, 200, 200, 404, 200, 200, 200, 200, 404, 404]),
    ("GET",   "/api/v1/stocktakes/999999",                  [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/stocktakes/999999/steps",            [401, 422, 403, 403, 403, 403, 422, 422, 403, 403, 403]),
    ("POST",  "/api/v1/service-requests/{request}/returns", [401, 422, 403, 422, 422, 404, 404, 403, 403, 403, 403]),
    ("GET",   "/api/v1/returns?service_request_id=999999",  [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/returns/999999",                     [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/returns/999999/decision",            [401, 422, 422, 403, 403, 403, 422, 403, 403, 403, 403]),
    ("POST",  "/api/v1/complaints",                         [401, 422, 422, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/complaints",                         [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/complaints/report",                  [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/complaints/999999",                  [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/complaints/999999/steps",            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/suggestions",                        [401, 422, 422, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("GET",   "/api/v1/suggestions",                        [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/suggestions/export.xlsx",            [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/suggestions/999999",                 [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/suggestions/999999/steps",           [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("GET",   "/api/v1/follow-up-settings",                 [401, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404]),
    ("PUT",   "/api/v1/follow-up-settings",                 [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/return-visits",                      [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/return-visits/results",              [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("POST",  "/api/v1/return-visits/samples",              [401, 422, 422, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/return-visits/999999",               [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/return-visits/999999/record",        [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/return-visits/999999/survey-link",   [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/return-visits/999999/check",         [401, 422, 422, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/follow-ups",                         [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("POST",  "/api/v1/follow-ups/999999/close",            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",  "/api/v1/recalls",                            [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",   "/api/v1/recalls",                            [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("GET",   "/api/v1/recalls/999999",                     [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("GET",   "/api/v1/recalls/999999/devices",             [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("PUT",   "/api/v1/recalls/999999/devices/999999",      [401, 422, 403, 422, 422, 403, 422, 403, 403, 403, 403]),
    ("POST",  "/api/v1/recalls/999999/work-orders",         [401, 404, 403, 404, 404, 403, 404, 403, 403, 403, 403]),
    ("GET",   "/api/v1/recalls/999999/export.xlsx",         [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("GET",   "/api/v1/dispatch-settings",                  [401, 200, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    ("PUT",   "/api/v1/dispatch-settings",                  [401, 422, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("PUT",   "/api/v1/users/{user}/skills",                [401, 422, 403, 422, 404, 404, 404, 404, 404, 404, 404]),
    ("GET",   "/api/v1/public/track?number={number}&phone=13700002222", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/v1/devices/{device}/label.svg",         [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("GET",   "/api/v1/devices/{device}/label.png",         [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
    ("GET",   "/api/v1/devices/labels.svg?ids={device}",    [401, 200, 200, 200, 200, 404, 404, 404, 200, 404, 404]),
];

/// A body that every extractor accepts but no use case does (or one naming a stale version), so
/// a caller with the right gets 422 or 409, one without it 403 or 404 — and nothing is written.
fn body_for(method: &str, path: &str) -> Option<Value> {
    if method == "GET" {
        return None;
    }
    let p = path.split('?').next().unwrap();
    Some(match p {
        "/api/v1/auth/login" => json!({"username": "nobody", "password": "wrong-password"}),
        "/api/v1/customers" => json!({"name": "", "phone": "not-a-phone", "region_code": "000000", "address": ""}),
        "/api/v1/devices" => json!({"serial_number": "", "model_code": "", "customer_id": 0, "sale_date": "tomorrow"}),
        "/api/v1/product-models" => json!({"code": "", "name": "", "product_line": ""}),
        "/api/v1/service-requests" => json!({"customer_id": 0, "type": "bogus", "channel": "phone", "description": ""}),
        "/api/v1/stations" | "/api/v1/warehouses" => {
            json!({"code": "", "name": "", "region_code": "000000", "address": ""})
        }
        "/api/v1/users" => json!({"username": "", "password": "x", "roles": []}),
        p if p.starts_with("/api/v1/calendars/") && p.ends_with("/days") => json!({"date": "not-a-date", "off": true}),
        p if p.starts_with("/api/v1/calendars/") => {
            json!({"name": "", "weekly": [], "use_prc_holidays": true, "version": 1})
        }
        p if p.starts_with("/api/v1/sla-policies/") => {
            json!({"response_minutes": -1, "resolution_minutes": -1, "calendar_code": "cn-workday", "active": true, "version": 1})
        }
        p if p.ends_with("/calendar") => json!({"calendar_code": "no-such-calendar"}),
        p if p.ends_with("/coverage") => json!({"region_codes": ["999999"]}),
        p if p.ends_with("/skills") => json!({"product_lines": ["不存在的产品线"]}),
        p if p.ends_with("/warranty") => json!({"exchanged_on": "bogus"}),
        p if p.ends_with("/leave") => json!({"days": [{"day": "2000-01-01", "reason": ""}]}),
        "/api/v1/dispatch-settings" => json!({"arrange_minutes": 0}),
        "/api/v1/follow-up-settings" => {
            let clock = json!({"contact_minutes": 0, "contact_calendar": "24x7", "solution_minutes": 0, "solution_calendar": "24x7"});
            json!({"return_visits": {"calendar": "cn-workday", "due_minutes": 0, "survey_days": 7},
                   "complaints": {"major": clock, "serious": clock, "ordinary": clock, "ack_minutes": 30, "repeat_days": 30}})
        }
        "/api/v1/maintenance-plans" => json!({"kind": "party"}),
        "/api/v1/parts" => json!({"code": "", "name": "", "unit": ""}),
        "/api/v1/stock-movements" => json!({"kind": "party", "warehouse_id": 0}),
        "/api/v1/stock-thresholds" => json!({"warehouse_id": 0, "part_code": ""}),
        p if p.ends_with("/dispatch") => json!({"station_id": 0, "version": 0}),
        p if p.ends_with("/assign") => json!({"engineer_id": 0, "version": 0}),
        "/api/v1/warranty-cards" => json!({"work_order_id": 0}),
        "/api/v1/part-applications" => json!({"warehouse_id": 0, "reason": "", "lines": []}),
        p if p.ends_with("/decision") => json!({"decision": "bogus", "version": 0}),
        "/api/v1/stocktakes" => json!({"warehouse_id": 0}),
        "/api/v1/return-visits/samples" => json!({"size": 0}),
        "/api/v1/complaints" => json!({"customer_id": 0, "severity": "huge", "category": "x", "description": ""}),
        "/api/v1/complaints/999999/steps" => json!({"action": "contact"}),
        "/api/v1/suggestions" => json!({"description": "", "category": "x"}),
        "/api/v1/suggestions/999999/steps" => json!({"action": "route"}),
        "/api/v1/return-visits/999999/record" => json!({"outcome": "bogus"}),
        "/api/v1/return-visits/999999/check" => json!({"verified": false}),
        "/api/v1/follow-ups/999999/close" => json!({"outcome": "bogus", "note": ""}),
        p if p.ends_with("/steps") => json!({"action": "bogus", "version": 0}),
        p if p.ends_with("/returns") => json!({"kind": "bogus", "reason": "", "inspection": ""}),
        "/api/v1/recalls" => json!({"name": "", "model_code": "", "serial_from": "A1", "serial_to": "A22"}),
        p if p.starts_with("/api/v1/recalls/") && p.contains("/devices/") => json!({"state": "bogus"}),
        p if p.ends_with("/review") => json!({"decision": "bogus", "version": 0}),
        p if p.ends_with("/resubmit") => json!({"labour_minutes": -1, "version": 0}),
        p if p.ends_with("/receive") => json!({"inspection": "bogus"}),
        p if p.ends_with("/parts") => json!({"part_code": "", "part_name": "", "quantity": 0}),
        p if p.ends_with("/appointment") => json!({"appointment_from": "x", "appointment_to": "y", "version": 0}),
        "/api/v1/work-orders" => json!({"service_request_id": 0, "kind": "bogus"}),
        p if p.ends_with("/notes") => json!({"note": ""}),
        p if p.ends_with("/transitions") => json!({"action": "accept", "version": 0}),
        p if p.ends_with("/assignee") => json!({"version": 0}),
        p if p.starts_with("/api/v1/service-requests/") => json!({"urgency": "low", "version": 0}),
        p if p.starts_with("/api/v1/stations/") => {
            json!({"code": "GZ-B", "name": "广州天河服务站", "region_code": "440106", "address": "体育西路 1 号", "version": 0})
        }
        p if p.starts_with("/api/v1/users/") => {
            json!({"display_name": "孙涛", "locale": "zh-CN", "active": true, "roles": ["engineer"], "stations": ["GZ-B"], "version": 0})
        }
        _ => json!({}),
    })
}

async fn every_route_answers_every_role_as_the_table_says(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    // The records asked for: station B's (or headquarters').
    let model = json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"});
    assert_eq!(post(&t, &o.admin, "/api/v1/product-models", model).await.status(), StatusCode::CREATED);
    let c = json!({"name": "陈乙", "phone": "13700002222", "region_code": "440106", "address": "广州市天河区体育西路 1 号", "station_code": "GZ-B"});
    let customer = post(&t, &o.admin, "/api/v1/customers", c).await.json::<Value>().await.unwrap()["id"].clone();
    let d = json!({"serial_number": "XG5K-B-0001", "model_code": "XG-5000", "customer_id": customer, "sale_date": "2025-01-31"});
    let r = post(&t, &o.admin, "/api/v1/devices", d).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let device = r.json::<Value>().await.unwrap()["id"].clone();
    let sr = json!({"customer_id": customer, "type": "repair", "channel": "phone", "description": "B 站的请求"});
    let request = post(&t, &o.admin, "/api/v1/service-requests", sr).await.json::<Value>().await.unwrap();
    let number = request["number"].as_str().unwrap().to_string();
    let request = request["id"].clone();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(png).file_name("a.png"));
    let r = client()
        .post(t.url(&format!("/api/v1/service-requests/{request}/attachments")))
        .bearer_auth(&o.admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let attachment = r.json::<Value>().await.unwrap()["id"].clone();
    // A work order of B's request, dispatched to B.
    let r = post(&t, &o.admin, "/api/v1/work-orders", json!({"service_request_id": request, "kind": "repair"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let wo = r.json::<Value>().await.unwrap()["id"].clone();
    let r = post(&t, &o.admin, &format!("/api/v1/work-orders/{wo}/dispatch"), json!({"station_id": o.b, "version": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let users: Value = get(&t, &o.admin, "/api/v1/users?q=eng.b").await.json().await.unwrap();
    let user = users["items"][0]["id"].clone();
    for (name, roles, stations) in [
        ("manager", "manager", None),
        ("dispatcher", "dispatcher", None),
        ("agent", "agent", None),
        ("warehouse", "warehouse", None),
        ("finance", "finance", None),
        ("dealer", "dealer", None),
        ("customer", "customer", None),
        ("engineer", "engineer", Some("SZ-A")),
        ("station_manager", "station_manager", Some("SZ-A")),
    ] {
        add_user(&t.app, name, &[roles], stations.as_slice()).await;
    }

    // Every operation of the document has its row, and every row its operation.
    let doc: Value = serde_json::from_str(&shouhou_web::openapi_json()).unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), p.clone())))
        .collect();
    let template = |path: &str| {
        let p = path.split('?').next().unwrap();
        let known = ["{attachment}", "{customer}", "{request}", "{b}", "{wh}", "{user}", "{wo}", "{device}"];
        let mut out = p.to_string();
        for k in known {
            out = out.replace(k, "{id}");
        }
        out.replace("/cn-workday", "/{code}")
            .replace("/999999/", "/{id}/")
            .replace("sla-policies/1", "sla-policies/{id}")
            .replace("files/999999", "files/{id}")
            .replace("cards/999999", "cards/{id}")
            .replace("recalls/999999", "recalls/{id}")
            .replace("applications/999999", "applications/{id}")
            .replace("stocktakes/999999", "stocktakes/{id}")
            .replace("returns/999999", "returns/{id}")
            .replace("visits/999999", "visits/{id}")
            .replace("complaints/999999", "complaints/{id}")
            .replace("suggestions/999999", "suggestions/{id}")
            .replace("devices/999999", "devices/{device_id}")
    };
    let tabled: BTreeSet<(String, String)> = TABLE.iter().map(|(m, p, _)| (m.to_string(), template(p))).collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row: {missing:?}; rows without a route: {stale:?}"
    );

    let mut tokens = BTreeMap::new();
    for caller in &CALLERS[1..] {
        tokens.insert(*caller, login(&t, caller).await);
    }
    let ids = [
        ("{attachment}", attachment.to_string()),
        ("{customer}", customer.to_string()),
        ("{request}", request.to_string()),
        ("{b}", o.b.to_string()),
        ("{wh}", o.wh_b.to_string()),
        ("{user}", user.to_string()),
        ("{wo}", wo.to_string()),
        ("{device}", device.to_string()),
        ("{number}", number),
    ];
    let mut wrong = vec![];
    let mut actual_table = String::new();
    for (method, path, expected) in TABLE {
        let mut url = path.to_string();
        for (k, v) in &ids {
            url = url.replace(k, v);
        }
        let mut got = [0u16; 11];
        for (i, caller) in CALLERS.iter().enumerate() {
            // Logging out ends the token: each caller logs out with a token of its own.
            let token = match (*caller, *path) {
                ("nobody", _) => None,
                (c, "/api/v1/auth/logout") => Some(login(&t, c).await),
                (c, _) => Some(tokens[c].clone()),
            };
            let mut req = client().request(Method::from_bytes(method.as_bytes()).unwrap(), t.url(&url));
            if let Some(tk) = &token {
                req = req.bearer_auth(tk);
            }
            if path.ends_with("/attachments")
                || path.ends_with("/import")
                || path.split('?').next().unwrap().ends_with("/files")
            {
                let part = reqwest::multipart::Part::bytes(b"plain text, not a photo".to_vec()).file_name("a.png");
                req = req.multipart(reqwest::multipart::Form::new().part("file", part));
            } else if let Some(body) = body_for(method, path) {
                req = req.json(&body);
            }
            let r = req.send().await.unwrap();
            got[i] = r.status().as_u16();
            if !r.status().is_success() {
                let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
                assert_eq!(ct.as_deref(), Some("application/problem+json"), "{method} {path} as {caller}");
            }
        }
        actual_table.push_str(&format!("    (\"{method}\", \"{path}\", {got:?}),\n"));
        if got != *expected {
            wrong.push(format!("{method} {path}\n  expected {expected:?}\n  answered {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}\n\nas answered:\n{actual_table}", wrong.join("\n"));
}

crate::on_both_backends!(every_route_answers_every_role_as_the_table_says);
