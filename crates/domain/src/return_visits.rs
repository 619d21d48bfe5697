//! Return visits (回访, PRODUCT.md §2.6): what a recorded visit decides (the request closes, or a
//! follow-up opens), when the agents give up reaching the customer, the survey's scores, and the
//! results per engineer, station, product line and month.
use crate::requests::choice_enum;
use crate::{FieldError, ValidationErrors};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

choice_enum! {
    /// Where a visit is. Only `Open` changes; the others are the archive.
    pub enum Status {
        Open => "open",
        /// Recorded: the customer was reached (by phone or through the survey link).
        Done => "done",
        /// Given up after tries on `GIVE_UP_AFTER_DAYS` different days.
        Unreachable => "unreachable",
        /// The request was reopened before the visit: the next resolution brings a new one.
        Cancelled => "cancelled",
    }
}

choice_enum! {
    /// How one try went.
    pub enum Outcome {
        Reached => "reached",
        Unreachable => "unreachable",
    }
}

choice_enum! {
    /// Why a follow-up (跟进) was opened.
    pub enum FollowUpReason {
        /// A score of 3 or less.
        LowScore => "low_score",
        /// The customer says the problem is not really solved: the request is reopened too.
        NotSolved => "not_solved",
    }
}

choice_enum! {
    /// Where a follow-up is: open until the customer is satisfied, or a manager closes it with a reason.
    pub enum FollowUpStatus {
        Open => "open",
        Satisfied => "satisfied",
        Closed => "closed",
    }
}

choice_enum! {
    /// A supervisor's check of a sampled visit (质检抽查).
    pub enum CheckState {
        Sampled => "sampled",
        Verified => "verified",
        Failed => "failed",
    }
}

/// Tries on this many different days without reaching the customer end the visit as unreachable
/// (and let the request close).
pub const GIVE_UP_AFTER_DAYS: usize = 3;

/// A score above this is content; this or less opens a follow-up.
pub const CONTENT_ABOVE: u8 = 3;

/// The return-visit rules (setting `return_visit_rules`): on which calendar and how soon a visit
/// is due after the resolution, and how long a survey link stays valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ReturnVisitRules))]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub calendar: String,
    /// Business minutes on `calendar` from the resolution to the visit's due time.
    pub due_minutes: i64,
    /// Days a survey link may be answered.
    pub survey_days: i64,
}

impl Default for Rules {
    /// Two working days on the office calendar (2 × 7.5 h); a survey link answers for 7 days.
    fn default() -> Self {
        Self { calendar: "cn-workday".into(), due_minutes: 900, survey_days: 7 }
    }
}

impl Rules {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        if self.calendar.trim().is_empty() {
            e.push("calendar", "required");
        }
        if !(1..=30 * 24 * 60).contains(&self.due_minutes) {
            e.push("due_minutes", "out_of_range");
        }
        if !(1..=90).contains(&self.survey_days) {
            e.push("survey_days", "out_of_range");
        }
        e.into_result()
    }
}

/// One score of the survey, 1 to 5: `required` when missing, `out_of_range` otherwise.
pub fn score(field: &str, v: Option<i64>) -> Result<u8, FieldError> {
    match v {
        None => Err(FieldError::new(field, "required")),
        Some(n @ 1..=5) => Ok(n as u8),
        Some(_) => Err(FieldError::new(field, "out_of_range")),
    }
}

/// The four scores of a survey (1–5 each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    pub satisfaction: u8,
    pub attitude: u8,
    pub skill: u8,
    pub timeliness: u8,
}

impl Scores {
    /// Every score above 3.
    pub fn content(&self) -> bool {
        [self.satisfaction, self.attitude, self.skill, self.timeliness].iter().all(|&s| s > CONTENT_ABOVE)
    }
}

/// What the customer said when reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub scores: Scores,
    pub solved: bool,
}

/// What a reached visit decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Solved and content: the request closes, and any follow-up of it ends satisfied.
    Satisfied,
    /// A follow-up opens; for `NotSolved` the request is reopened too.
    FollowUp(FollowUpReason),
}

impl Answer {
    pub fn verdict(&self) -> Verdict {
        if !self.solved {
            Verdict::FollowUp(FollowUpReason::NotSolved)
        } else if !self.scores.content() {
            Verdict::FollowUp(FollowUpReason::LowScore)
        } else {
            Verdict::Satisfied
        }
    }
}

/// Whether the tries that did not reach the customer, by business day, are enough to give up.
pub fn gives_up(unreachable_days: &BTreeSet<Date>) -> bool {
    unreachable_days.len() >= GIVE_UP_AFTER_DAYS
}

// ---------- results ----------

choice_enum! {
    /// How the results are grouped.
    pub enum Group {
        Engineer => "engineer",
        Station => "station",
        ProductLine => "product_line",
        Month => "month",
    }
}

/// One archived visit as the results see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    pub engineer_id: Option<i64>,
    pub station_id: Option<i64>,
    pub product_line: Option<String>,
    /// `2026-12`: the business month the visit was recorded (or given up) in.
    pub month: String,
    pub reached: bool,
    pub on_time: bool,
    pub scores: Option<Scores>,
    pub solved: Option<bool>,
}

/// The figures of one group. Shares are of the reached visits (satisfaction, praise, solved) or
/// of all archived visits (on time); averages in hundredths (`480` = 4.80).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// The engineer's or station's id, the product line, or the month; empty: none recorded.
    pub key: String,
    pub visits: i64,
    pub reached: i64,
    pub on_time: i64,
    /// Overall satisfaction 4 or 5 (满意).
    pub satisfied: i64,
    /// Overall satisfaction 5 (好评).
    pub praised: i64,
    pub solved: i64,
    pub avg_satisfaction: Option<i64>,
    pub avg_attitude: Option<i64>,
    pub avg_skill: Option<i64>,
    pub avg_timeliness: Option<i64>,
}

/// A share in tenths of a percent (`985` = 98.5 %), or `None` of nothing.
pub fn permille(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 1000 + whole / 2) / whole)
}

/// The results of archived visits by `group`, in key order (cancelled visits are not archived).
pub fn results(rows: &[Archived], group: Group) -> Vec<Figures> {
    #[derive(Default)]
    struct Acc {
        f: Figures,
        sums: [i64; 4],
    }
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for r in rows {
        let key = match group {
            Group::Engineer => r.engineer_id.map(|i| i.to_string()).unwrap_or_default(),
            Group::Station => r.station_id.map(|i| i.to_string()).unwrap_or_default(),
            Group::ProductLine => r.product_line.clone().unwrap_or_default(),
            Group::Month => r.month.clone(),
        };
        let a = by.entry(key).or_default();
        a.f.visits += 1;
        a.f.on_time += i64::from(r.on_time);
        if let (true, Some(s)) = (r.reached, r.scores) {
            a.f.reached += 1;
            a.f.satisfied += i64::from(s.satisfaction >= 4);
            a.f.praised += i64::from(s.satisfaction == 5);
            a.f.solved += i64::from(r.solved == Some(true));
            for (sum, v) in a.sums.iter_mut().zip([s.satisfaction, s.attitude, s.skill, s.timeliness]) {
                *sum += i64::from(v);
            }
        }
    }
    by.into_iter()
        .map(|(key, mut a)| {
            let avg = |sum: i64| (a.f.reached > 0).then(|| (sum * 100 + a.f.reached / 2) / a.f.reached);
            a.f.avg_satisfaction = avg(a.sums[0]);
            a.f.avg_attitude = avg(a.sums[1]);
            a.f.avg_skill = avg(a.sums[2]);
            a.f.avg_timeliness = avg(a.sums[3]);
            a.f.key = key;
            a.f
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(satisfaction: u8, attitude: u8, skill: u8, timeliness: u8) -> Scores {
        Scores { satisfaction, attitude, skill, timeliness }
    }

    #[test]
    fn scores_are_one_to_five_and_required() {
        assert_eq!(score("skill", Some(1)).unwrap(), 1);
        assert_eq!(score("skill", Some(5)).unwrap(), 5);
        assert_eq!(score("skill", Some(0)).unwrap_err().code, "out_of_range");
        assert_eq!(score("skill", Some(6)).unwrap_err().code, "out_of_range");
        assert_eq!(score("skill", None).unwrap_err().code, "required");
    }

    #[test]
    fn solved_and_every_score_above_three_is_satisfied() {
        assert_eq!(Answer { scores: s(4, 4, 4, 4), solved: true }.verdict(), Verdict::Satisfied);
        assert_eq!(
            Answer { scores: s(5, 5, 3, 5), solved: true }.verdict(),
            Verdict::FollowUp(FollowUpReason::LowScore),
            "one score of 3 is enough"
        );
        assert_eq!(
            Answer { scores: s(5, 5, 5, 5), solved: false }.verdict(),
            Verdict::FollowUp(FollowUpReason::NotSolved),
            "not solved wins over good scores"
        );
    }

    #[test]
    fn three_different_days_without_reaching_give_up() {
        let d = |day: i8| jiff::civil::date(2026, 12, day);
        assert!(!gives_up(&[d(7), d(8)].into()));
        assert!(gives_up(&[d(7), d(8), d(9)].into()));
    }

    #[test]
    fn the_rules_refuse_nonsense() {
        assert!(Rules::default().validate().is_ok());
        let bad = Rules { calendar: " ".into(), due_minutes: 0, survey_days: 400 };
        assert_eq!(bad.validate().unwrap_err().0.len(), 3);
    }

    #[test]
    fn results_group_share_and_average() {
        let a =
            |eng: i64, month: &str, reached: bool, on_time: bool, sc: Option<Scores>, solved: Option<bool>| Archived {
                engineer_id: Some(eng),
                station_id: Some(1),
                product_line: Some("光传输".into()),
                month: month.into(),
                reached,
                on_time,
                scores: sc,
                solved,
            };
        let rows = [
            a(7, "2026-11", true, true, Some(s(5, 5, 5, 5)), Some(true)),
            a(7, "2026-12", true, false, Some(s(4, 5, 3, 4)), Some(true)),
            a(7, "2026-12", false, true, None, None),
            a(9, "2026-12", true, true, Some(s(2, 2, 2, 2)), Some(false)),
        ];
        let by_engineer = results(&rows, Group::Engineer);
        assert_eq!(by_engineer.len(), 2);
        let e7 = &by_engineer[0];
        assert_eq!((e7.key.as_str(), e7.visits, e7.reached, e7.on_time), ("7", 3, 2, 2));
        assert_eq!((e7.satisfied, e7.praised, e7.solved), (2, 1, 2));
        assert_eq!(e7.avg_satisfaction, Some(450));
        assert_eq!(e7.avg_skill, Some(400));
        let by_month = results(&rows, Group::Month);
        assert_eq!(
            by_month.iter().map(|f| (f.key.as_str(), f.visits)).collect::<Vec<_>>(),
            [("2026-11", 1), ("2026-12", 3)]
        );
        assert_eq!(results(&rows, Group::ProductLine)[0].visits, 4);
        assert_eq!(permille(2, 3), Some(667));
        assert_eq!(permille(0, 0), None);
    }
}
