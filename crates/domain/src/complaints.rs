//! Complaints (投诉, PRODUCT.md §2.7): severity and its clocks, the lifecycle from registration
//! to the customer's acknowledgement, escalation one level at a time, the repeat flag, the
//! root-cause categories and the reports' figures.
use crate::requests::choice_enum;
use crate::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

choice_enum! {
    /// How grave; declared gravest first.
    pub enum Severity {
        /// 重大投诉: reported to management at once.
        Major => "major",
        /// 严重投诉.
        Serious => "serious",
        /// 一般投诉.
        Ordinary => "ordinary",
    }
}

choice_enum! {
    /// What the customer complains about.
    pub enum Category {
        Quality => "quality",
        Attitude => "attitude",
        Timeliness => "timeliness",
        Charges => "charges",
        Other => "other",
    }
}

choice_enum! {
    /// What the investigation found the cause to be.
    pub enum RootCause {
        /// A defect of the product (质量问题).
        Quality => "quality",
        /// Not the product: use, environment, expectation (非质量问题).
        NonQuality => "non_quality",
        Attitude => "attitude",
        Timeliness => "timeliness",
        Charges => "charges",
        /// How the service is organised (流程).
        Process => "process",
        Other => "other",
    }
}

choice_enum! {
    /// Where a complaint is. `Closed` is final.
    pub enum Status {
        /// Registered; the first-contact clock runs.
        Open => "open",
        /// The customer has been called back and calmed.
        Contacted => "contacted",
        Investigating => "investigating",
        /// A solution and a corrective measure are recorded; waiting for the customer's word.
        Resolved => "resolved",
        Closed => "closed",
    }
}

choice_enum! {
    /// A step that changes the status.
    pub enum Action {
        Contact => "contact",
        Investigate => "investigate",
        Resolve => "resolve",
        /// The customer does not accept the solution: investigate again.
        Reopen => "reopen",
        /// With the customer's acknowledgement (from resolved), or by a manager with a reason.
        Close => "close",
    }
}

impl Status {
    pub fn allowed(self) -> &'static [Action] {
        use Action::*;
        match self {
            Status::Open => &[Contact, Close],
            Status::Contacted => &[Investigate, Resolve, Close],
            Status::Investigating => &[Resolve, Close],
            Status::Resolved => &[Reopen, Close],
            Status::Closed => &[],
        }
    }

    pub fn apply(self, action: Action) -> Result<Status, crate::lifecycle::IllegalTransition<Status, Action>> {
        if !self.allowed().contains(&action) {
            return Err(crate::lifecycle::IllegalTransition { from: self, action, allowed: self.allowed() });
        }
        Ok(match action {
            Action::Contact => Status::Contacted,
            Action::Investigate | Action::Reopen => Status::Investigating,
            Action::Resolve => Status::Resolved,
            Action::Close => Status::Closed,
        })
    }
}

/// Who closes, and on what ground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedBy {
    /// The customer acknowledged the solution (only once resolved).
    CustomerAcknowledged,
    /// A manager closes it with a reason (at any point).
    ManagerWithReason,
}

/// Whether a close is allowed: with the acknowledgement only from resolved, a manager's only with
/// a reason. `Err` names the field at fault.
pub fn may_close(from: Status, by: ClosedBy, reason: &str) -> Result<(), FieldError> {
    match by {
        ClosedBy::CustomerAcknowledged if from != Status::Resolved => {
            Err(FieldError::new("customer_ack", "not_resolved"))
        }
        ClosedBy::ManagerWithReason if reason.trim().is_empty() => Err(FieldError::new("reason", "reason_required")),
        _ => Ok(()),
    }
}

/// Escalation levels: 0 the desk, 1 the service department's head, 2 management, 3 the general manager.
pub const TOP_LEVEL: i64 = 3;

/// The level after one manual escalation, or `None` at the top.
pub fn escalate(level: i64) -> Option<i64> {
    (level < TOP_LEVEL).then_some(level + 1)
}

/// The level a new complaint starts at: a major one is with management from the start.
pub fn initial_level(s: Severity) -> i64 {
    if s == Severity::Major { 2 } else { 0 }
}

/// A severity's clocks: minutes on a calendar to the first contact and to the solution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ComplaintClock))]
#[serde(deny_unknown_fields)]
pub struct Clock {
    pub contact_minutes: i64,
    pub contact_calendar: String,
    pub solution_minutes: i64,
    pub solution_calendar: String,
}

/// The complaint rules (setting `complaint_rules`). PRODUCT.md §3 leaves the limits as [X]: these
/// are the defaults, editable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ComplaintRules))]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub major: Clock,
    pub serious: Clock,
    pub ordinary: Clock,
    /// Wall minutes for management to acknowledge a major complaint before it is escalated again.
    pub ack_minutes: i64,
    /// The same customer complaining of the same category within this many days is a repeat.
    pub repeat_days: i64,
}

impl Default for Rules {
    /// First contact within 5 minutes (10 for ordinary ones) round the clock; a solution within
    /// 4 hours (major), 24 hours (serious) or 3 working days (ordinary); management acknowledges
    /// a major complaint within 30 minutes; repeats within 30 days.
    fn default() -> Self {
        let clock = |c: i64, s: i64, cal: &str| Clock {
            contact_minutes: c,
            contact_calendar: "24x7".into(),
            solution_minutes: s,
            solution_calendar: cal.into(),
        };
        Self {
            major: clock(5, 240, "24x7"),
            serious: clock(5, 1440, "24x7"),
            ordinary: clock(10, 3 * 450, "cn-workday"),
            ack_minutes: 30,
            repeat_days: 30,
        }
    }
}

impl Rules {
    pub fn clock(&self, s: Severity) -> &Clock {
        match s {
            Severity::Major => &self.major,
            Severity::Serious => &self.serious,
            Severity::Ordinary => &self.ordinary,
        }
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        for (name, c) in [("major", &self.major), ("serious", &self.serious), ("ordinary", &self.ordinary)] {
            if !(1..=7 * 24 * 60).contains(&c.contact_minutes) {
                e.push(format!("{name}.contact_minutes"), "out_of_range");
            }
            if !(1..=60 * 24 * 60).contains(&c.solution_minutes) {
                e.push(format!("{name}.solution_minutes"), "out_of_range");
            }
        }
        if !(1..=24 * 60).contains(&self.ack_minutes) {
            e.push("ack_minutes", "out_of_range");
        }
        if !(1..=365).contains(&self.repeat_days) {
            e.push("repeat_days", "out_of_range");
        }
        e.into_result()
    }
}

/// The complaint this one repeats: the same customer's latest of the same category registered
/// within `days` before `now` (epoch ms). `earlier`: (id, category, registered at).
pub fn repeat_of(earlier: &[(i64, Category, i64)], category: Category, now: i64, days: i64) -> Option<i64> {
    let since = now - days * 86_400_000;
    earlier
        .iter()
        .filter(|(_, c, at)| *c == category && *at >= since && *at <= now)
        .max_by_key(|(_, _, at)| *at)
        .map(|(id, _, _)| *id)
}

/// The number of a complaint: `CP-20261206-0001`.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("CP", day, counter)
}

// ---------- reports ----------

choice_enum! {
    /// How the complaint report is grouped.
    pub enum Group {
        Cause => "cause",
        ProductLine => "product_line",
        Station => "station",
        Month => "month",
        Category => "category",
        Severity => "severity",
    }
}

/// One complaint as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub cause: Option<RootCause>,
    pub category: Category,
    pub severity: Severity,
    pub product_line: Option<String>,
    pub station_id: Option<i64>,
    /// `2026-12`: the business month it was registered in.
    pub month: String,
    pub repeat: bool,
    /// Contacted by its first-contact due time (`None`: not yet, and not yet late).
    pub contacted_on_time: Option<bool>,
    /// Resolved by its solution due time (`None`: not yet, and not yet late).
    pub solved_on_time: Option<bool>,
    pub closed: bool,
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub key: String,
    pub complaints: i64,
    pub closed: i64,
    pub repeats: i64,
    /// Of those whose clock has run out or stopped: handled in time.
    pub judged: i64,
    pub on_time: i64,
    pub contact_judged: i64,
    pub contact_on_time: i64,
}

/// The report by `group`, in key order.
pub fn report(rows: &[Reported], group: Group) -> Vec<Figures> {
    let mut by: BTreeMap<String, Figures> = BTreeMap::new();
    for r in rows {
        let key = match group {
            Group::Cause => r.cause.map(|c| c.as_str().to_string()).unwrap_or_default(),
            Group::ProductLine => r.product_line.clone().unwrap_or_default(),
            Group::Station => r.station_id.map(|s| s.to_string()).unwrap_or_default(),
            Group::Month => r.month.clone(),
            Group::Category => r.category.as_str().to_string(),
            Group::Severity => r.severity.as_str().to_string(),
        };
        let f = by.entry(key).or_default();
        f.complaints += 1;
        f.closed += i64::from(r.closed);
        f.repeats += i64::from(r.repeat);
        if let Some(ok) = r.solved_on_time {
            f.judged += 1;
            f.on_time += i64::from(ok);
        }
        if let Some(ok) = r.contacted_on_time {
            f.contact_judged += 1;
            f.contact_on_time += i64::from(ok);
        }
    }
    by.into_iter().map(|(key, f)| Figures { key, ..f }).collect()
}

/// Whether a deadline was kept: met at `done` (if done), missed once `now` is past it, else not
/// yet judged.
pub fn kept(due: i64, done: Option<i64>, now: i64) -> Option<bool> {
    match done {
        Some(t) => Some(t <= due),
        None if now > due => Some(false),
        None => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_runs_from_contact_to_close() {
        assert_eq!(Status::Open.apply(Action::Contact).unwrap(), Status::Contacted);
        assert!(Status::Open.apply(Action::Resolve).is_err(), "first contact first");
        assert_eq!(Status::Contacted.apply(Action::Investigate).unwrap(), Status::Investigating);
        assert_eq!(Status::Investigating.apply(Action::Resolve).unwrap(), Status::Resolved);
        assert_eq!(Status::Resolved.apply(Action::Reopen).unwrap(), Status::Investigating);
        assert_eq!(Status::Resolved.apply(Action::Close).unwrap(), Status::Closed);
        assert!(Status::Closed.allowed().is_empty());
    }

    #[test]
    fn a_close_needs_the_acknowledgement_of_a_resolved_complaint_or_a_managers_reason() {
        assert!(may_close(Status::Resolved, ClosedBy::CustomerAcknowledged, "").is_ok());
        assert_eq!(
            may_close(Status::Investigating, ClosedBy::CustomerAcknowledged, "").unwrap_err().code,
            "not_resolved"
        );
        assert_eq!(may_close(Status::Open, ClosedBy::ManagerWithReason, "  ").unwrap_err().code, "reason_required");
        assert!(may_close(Status::Open, ClosedBy::ManagerWithReason, "客户撤回投诉").is_ok());
    }

    #[test]
    fn escalation_goes_one_level_at_a_time_to_the_top() {
        assert_eq!(escalate(0), Some(1));
        assert_eq!(escalate(2), Some(3));
        assert_eq!(escalate(TOP_LEVEL), None);
        assert_eq!(initial_level(Severity::Major), 2);
        assert_eq!(initial_level(Severity::Ordinary), 0);
    }

    #[test]
    fn the_same_category_within_thirty_days_is_a_repeat() {
        let day = 86_400_000;
        let now = 100 * day;
        let earlier = [
            (1, Category::Attitude, now - 31 * day),
            (2, Category::Quality, now - 3 * day),
            (3, Category::Attitude, now - 29 * day),
        ];
        assert_eq!(repeat_of(&earlier, Category::Attitude, now, 30), Some(3));
        assert_eq!(repeat_of(&earlier, Category::Quality, now, 30), Some(2));
        assert_eq!(repeat_of(&earlier, Category::Charges, now, 30), None);
        assert_eq!(repeat_of(&earlier[..1], Category::Attitude, now, 30), None, "31 days ago is not a repeat");
    }

    #[test]
    fn the_default_rules_hold_and_nonsense_is_refused() {
        let r = Rules::default();
        assert!(r.validate().is_ok());
        assert_eq!(r.clock(Severity::Ordinary).solution_calendar, "cn-workday");
        let bad = Rules { ack_minutes: 0, repeat_days: 0, ..Rules::default() };
        assert_eq!(bad.validate().unwrap_err().0.len(), 2);
    }

    #[test]
    fn the_report_counts_on_time_handling_and_repeats() {
        let r = |cause: Option<RootCause>, month: &str, repeat: bool, solved: Option<bool>| Reported {
            cause,
            category: Category::Attitude,
            severity: Severity::Ordinary,
            product_line: None,
            station_id: Some(1),
            month: month.into(),
            repeat,
            contacted_on_time: Some(true),
            solved_on_time: solved,
            closed: solved.is_some(),
        };
        let rows = [
            r(Some(RootCause::Attitude), "2026-11", false, Some(true)),
            r(Some(RootCause::Attitude), "2026-12", true, Some(false)),
            r(None, "2026-12", false, None),
        ];
        let by_cause = report(&rows, Group::Cause);
        assert_eq!(
            by_cause.iter().map(|f| (f.key.as_str(), f.complaints)).collect::<Vec<_>>(),
            [("", 1), ("attitude", 2)]
        );
        let att = &by_cause[1];
        assert_eq!((att.judged, att.on_time, att.repeats), (2, 1, 1));
        assert_eq!(kept(10, Some(9), 20), Some(true));
        assert_eq!(kept(10, None, 20), Some(false));
        assert_eq!(kept(10, None, 5), None);
    }
}
