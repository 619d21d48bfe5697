//! The warranty card (三包卡): what a station claims for warranty work, its audit by the service
//! administrator (approve, reject, return for correction), the flags that point the auditor at
//! mistakes and abuse with their evidence, and the amounts by the published rates.
use crate::lifecycle::IllegalTransition;
use crate::requests::choice_enum;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

choice_enum! {
    /// Where a card is. `Approved` and `Rejected` are final.
    pub enum Status {
        /// Handed in, waiting for the audit.
        Submitted => "submitted",
        /// Sent back to the station to correct, with a reason.
        Returned => "returned",
        Approved => "approved",
        Rejected => "rejected",
    }
}

choice_enum! {
    /// What is done to a card.
    pub enum Action {
        Approve => "approve",
        /// Refuse the claim (a reason is required).
        Reject => "reject",
        /// Send it back for correction (a reason is required).
        Return => "return",
        /// The station hands the corrected card in again.
        Resubmit => "resubmit",
    }
}

impl Status {
    pub fn allowed_actions(self) -> &'static [Action] {
        match self {
            Status::Submitted => &[Action::Approve, Action::Reject, Action::Return],
            Status::Returned => &[Action::Resubmit],
            Status::Approved | Status::Rejected => &[],
        }
    }

    pub fn apply(self, action: Action) -> Result<Status, IllegalTransition<Status, Action>> {
        if !self.allowed_actions().contains(&action) {
            return Err(IllegalTransition { from: self, action, allowed: self.allowed_actions() });
        }
        Ok(match action {
            Action::Approve => Status::Approved,
            Action::Reject => Status::Rejected,
            Action::Return => Status::Returned,
            Action::Resubmit => Status::Submitted,
        })
    }
}

impl Action {
    /// A refusal and a return must say why.
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Reject | Action::Return)
    }

    /// The decisions of the audit (what `review` takes).
    pub fn is_decision(self) -> bool {
        matches!(self, Action::Approve | Action::Reject | Action::Return)
    }
}

/// The number of a card: `SB-20261206-0001`, the business day and that day's counter.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("SB", day, counter)
}

/// The published rates and the audit's thresholds (setting `warranty_card_rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Labour paid per hour, in fen.
    pub labour_fen_per_hour: i64,
    /// Paid per visit for travel, in fen.
    pub travel_fen: i64,
    /// The norm of labour minutes per fault code; `"*"` for any other code.
    pub labour_norms: std::collections::BTreeMap<String, i64>,
    /// Labour above this share of the norm (percent) is flagged.
    pub labour_flag_percent: i64,
    /// The same device and fault within this many days of an earlier repair is a repeat (二次故障).
    pub repeat_days: i64,
    /// A card is due this many days after the work order's completion.
    pub due_days: i64,
    /// A check-in farther than this from where visits in the same region check in is flagged.
    pub check_in_km: i64,
    /// Photos are expected from the check-in to the completion, give or take this.
    pub photo_slack_minutes: i64,
    /// A replaced catalog part worth at least this (fen), or with a serial, must come back.
    pub return_from_fen: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            labour_fen_per_hour: 8_000,
            travel_fen: 5_000,
            labour_norms: [("*".to_string(), 120)].into_iter().collect(),
            labour_flag_percent: 150,
            repeat_days: 30,
            due_days: 7,
            check_in_km: 30,
            photo_slack_minutes: 30,
            return_from_fen: 10_000,
        }
    }
}

impl Rules {
    /// The norm for a fault code (its own, else `"*"`, else 120 minutes).
    pub fn norm(&self, fault_code: &str) -> i64 {
        self.labour_norms.get(fault_code).or_else(|| self.labour_norms.get("*")).copied().unwrap_or(120)
    }

    /// Whether a replaced part must be sent back to the central warehouse.
    pub fn must_return(&self, in_catalog: bool, price_fen: i64, has_old_serial: bool) -> bool {
        in_catalog && (has_old_serial || price_fen >= self.return_from_fen)
    }

    /// The rules are sane: amounts and thresholds not negative, a due period of at least a day.
    pub fn check(&self) -> Result<(), crate::FieldError> {
        let non_negative = [
            self.labour_fen_per_hour,
            self.travel_fen,
            self.labour_flag_percent,
            self.repeat_days,
            self.check_in_km,
            self.photo_slack_minutes,
            self.return_from_fen,
        ];
        if non_negative.iter().any(|v| *v < 0) || self.labour_norms.values().any(|v| *v <= 0) || self.due_days < 1 {
            return Err(crate::FieldError::new("warranty_card_rules", "out_of_range"));
        }
        Ok(())
    }
}

/// A flag on a card with its evidence: what the auditor should look at, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Flag {
    /// A part serial on this card is also claimed on another card.
    SerialClaimedTwice { serial: String, other_card: String },
    /// The same device had the same fault repaired `days` days before (work order `other_work_order`).
    RepeatRepair { other_work_order: String, fault_code: String, days: i64 },
    /// A replaced part is not listed for the device's model.
    PartNotFitting { part_code: String, model_code: String },
    /// Labour well above the norm for the fault code.
    LabourAboveNorm { fault_code: String, minutes: i64, norm: i64 },
    /// The check-in was `km` km from where `references` other visits in the region checked in.
    CheckInFar { region_code: String, km: i64, references: i64 },
    /// A photo was taken (uploaded) outside the visit, from check-in to completion.
    PhotoOutsideVisit { file_name: String, at: Timestamp, checked_in_at: Timestamp, completed_at: Timestamp },
    /// The device was not in warranty on the day of the work.
    OutOfWarranty { status: String, warranty_until: jiff::civil::Date },
}

impl Flag {
    pub fn code(&self) -> &'static str {
        match self {
            Flag::SerialClaimedTwice { .. } => "serial_claimed_twice",
            Flag::RepeatRepair { .. } => "repeat_repair",
            Flag::PartNotFitting { .. } => "part_not_fitting",
            Flag::LabourAboveNorm { .. } => "labour_above_norm",
            Flag::CheckInFar { .. } => "check_in_far",
            Flag::PhotoOutsideVisit { .. } => "photo_outside_visit",
            Flag::OutOfWarranty { .. } => "out_of_warranty",
        }
    }
}

/// A part on the card as the audit looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPart {
    pub part_code: String,
    pub old_serial: Option<String>,
    pub new_serial: Option<String>,
    /// The models the catalog lists it for (empty: not in the catalog, or fits any model).
    pub fits: Vec<String>,
}

/// An earlier repair of the same device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRepair {
    pub number: String,
    pub fault_code: Option<String>,
    pub completed_at: Timestamp,
}

/// Everything the audit looks at, read by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub model_code: String,
    pub fault_code: String,
    pub labour_minutes: i64,
    pub parts: Vec<ClaimedPart>,
    /// Serials of this card's parts claimed on other cards (serial, other card's number).
    pub claimed_elsewhere: Vec<(String, String)>,
    pub earlier_repairs: Vec<EarlierRepair>,
    pub region_code: String,
    pub check_in: Option<(f64, f64)>,
    /// Where other visits in the same region checked in.
    pub region_check_ins: Vec<(f64, f64)>,
    pub checked_in_at: Option<Timestamp>,
    pub completed_at: Timestamp,
    /// The photos (file name, when taken).
    pub photos: Vec<(String, Timestamp)>,
    /// The entitlement on the day of the work: covered, else its status and last covered day.
    pub coverage: Result<(), (String, jiff::civil::Date)>,
}

/// The fewest reference check-ins before "far from the region" is judged.
pub const MIN_REFERENCES: usize = 3;

/// The flags of a card, in a stable order.
pub fn audit(f: &Facts, rules: &Rules) -> Vec<Flag> {
    let mut flags = vec![];
    for (serial, other) in &f.claimed_elsewhere {
        flags.push(Flag::SerialClaimedTwice { serial: serial.clone(), other_card: other.clone() });
    }
    let repeat_window = jiff::SignedDuration::from_hours(24 * rules.repeat_days);
    if let Some(r) = f
        .earlier_repairs
        .iter()
        .filter(|r| r.fault_code.as_deref() == Some(f.fault_code.as_str()) && !f.fault_code.is_empty())
        .filter(|r| r.completed_at <= f.completed_at && f.completed_at.duration_since(r.completed_at) <= repeat_window)
        .max_by_key(|r| r.completed_at)
    {
        let days = f.completed_at.duration_since(r.completed_at).as_hours() / 24;
        flags.push(Flag::RepeatRepair { other_work_order: r.number.clone(), fault_code: f.fault_code.clone(), days });
    }
    for p in &f.parts {
        if !p.fits.is_empty() && !p.fits.contains(&f.model_code) {
            flags.push(Flag::PartNotFitting { part_code: p.part_code.clone(), model_code: f.model_code.clone() });
        }
    }
    let norm = rules.norm(&f.fault_code);
    if f.labour_minutes * 100 > norm * rules.labour_flag_percent {
        flags.push(Flag::LabourAboveNorm { fault_code: f.fault_code.clone(), minutes: f.labour_minutes, norm });
    }
    if let (Some(at), Some(centre)) = (f.check_in, median_point(&f.region_check_ins)) {
        let km = distance_km(at, centre).round() as i64;
        if km > rules.check_in_km {
            flags.push(Flag::CheckInFar {
                region_code: f.region_code.clone(),
                km,
                references: f.region_check_ins.len() as i64,
            });
        }
    }
    if let Some(from) = f.checked_in_at {
        let slack = jiff::SignedDuration::from_mins(rules.photo_slack_minutes);
        for (name, at) in &f.photos {
            if *at < from - slack || *at > f.completed_at + slack {
                flags.push(Flag::PhotoOutsideVisit {
                    file_name: name.clone(),
                    at: *at,
                    checked_in_at: from,
                    completed_at: f.completed_at,
                });
            }
        }
    }
    if let Err((status, until)) = &f.coverage {
        flags.push(Flag::OutOfWarranty { status: status.clone(), warranty_until: *until });
    }
    flags
}

/// The point whose latitude and longitude are the medians of `points` (robust against a few
/// stray check-ins); none below [`MIN_REFERENCES`].
fn median_point(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.len() < MIN_REFERENCES {
        return None;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some((median(points.iter().map(|p| p.0).collect()), median(points.iter().map(|p| p.1).collect())))
}

/// Great-circle distance in kilometres (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// A part's line of the claim: price × quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLine {
    pub price_fen: i64,
    pub quantity: i64,
}

/// What a card claims, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Amounts {
    pub labour_fen: i64,
    pub parts_fen: i64,
    pub travel_fen: i64,
    pub total_fen: i64,
}

/// The amounts by the published rates: labour by the minute (rounded to the fen), parts at their
/// catalog price, one travel allowance.
pub fn amounts(rules: &Rules, labour_minutes: i64, parts: &[PartLine]) -> Amounts {
    let labour_fen = (labour_minutes * rules.labour_fen_per_hour + 30) / 60;
    let parts_fen = parts.iter().map(|p| p.price_fen * p.quantity).sum();
    let travel_fen = rules.travel_fen;
    Amounts { labour_fen, parts_fen, travel_fen, total_fen: labour_fen + parts_fen + travel_fen }
}

choice_enum! {
    /// What the central warehouse found in a returned faulty part.
    pub enum Inspection {
        /// The fault is confirmed: the claim for the part stands.
        ConfirmedFaulty => "confirmed_faulty",
        /// Nothing wrong with it: the part is not paid.
        NoFaultFound => "no_fault_found",
        /// Damaged by use or by the customer, outside the warranty: the part is not paid.
        UserDamage => "user_damage",
    }
}

impl Inspection {
    /// Whether the part's amount is still paid.
    pub fn part_paid(self) -> bool {
        self == Inspection::ConfirmedFaulty
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn facts() -> Facts {
        Facts {
            model_code: "OLT-9000".into(),
            fault_code: "E01".into(),
            labour_minutes: 90,
            parts: vec![ClaimedPart {
                part_code: "OM-10G".into(),
                old_serial: Some("A1".into()),
                new_serial: Some("B1".into()),
                fits: vec!["OLT-9000".into()],
            }],
            claimed_elsewhere: vec![],
            earlier_repairs: vec![],
            region_code: "440305".into(),
            check_in: Some((22.54, 113.95)),
            region_check_ins: vec![(22.53, 113.93), (22.55, 113.96), (22.52, 113.94)],
            checked_in_at: Some(ts("2026-12-01T02:00:00Z")),
            completed_at: ts("2026-12-01T04:00:00Z"),
            photos: vec![("before.jpg".into(), ts("2026-12-01T02:10:00Z"))],
            coverage: Ok(()),
        }
    }

    #[test]
    fn a_clean_card_has_no_flag() {
        assert_eq!(audit(&facts(), &Rules::default()), vec![]);
    }

    #[test]
    fn each_flag_comes_with_its_evidence() {
        let r = Rules::default();
        let mut f = facts();
        f.claimed_elsewhere = vec![("A1".into(), "SB-20261101-0001".into())];
        f.earlier_repairs = vec![
            EarlierRepair {
                number: "WO-1".into(),
                fault_code: Some("E01".into()),
                completed_at: ts("2026-11-21T04:00:00Z"),
            },
            EarlierRepair {
                number: "WO-0".into(),
                fault_code: Some("E01".into()),
                completed_at: ts("2026-09-01T04:00:00Z"),
            },
            EarlierRepair {
                number: "WO-2".into(),
                fault_code: Some("E02".into()),
                completed_at: ts("2026-11-30T04:00:00Z"),
            },
        ];
        f.parts[0].fits = vec!["ONT-1".into()];
        f.labour_minutes = 181;
        f.check_in = Some((23.13, 113.26));
        f.photos.push(("after.jpg".into(), ts("2026-12-01T05:00:01Z")));
        f.coverage = Err(("expired".into(), "2026-10-31".parse().unwrap()));
        let codes: Vec<&str> = audit(&f, &r).iter().map(Flag::code).collect();
        assert_eq!(
            codes,
            [
                "serial_claimed_twice",
                "repeat_repair",
                "part_not_fitting",
                "labour_above_norm",
                "check_in_far",
                "photo_outside_visit",
                "out_of_warranty"
            ]
        );
        let flags = audit(&f, &r);
        assert_eq!(
            flags[1],
            Flag::RepeatRepair { other_work_order: "WO-1".into(), fault_code: "E01".into(), days: 10 }
        );
        assert!(matches!(flags[4], Flag::CheckInFar { km, references: 3, .. } if (95..=110).contains(&km)));
    }

    #[test]
    fn thresholds_are_edges() {
        let r = Rules::default();
        let mut f = facts();
        f.labour_minutes = 180; // exactly 150 % of 120
        f.earlier_repairs = vec![EarlierRepair {
            number: "WO-1".into(),
            fault_code: Some("E01".into()),
            completed_at: ts("2026-11-01T04:00:00Z"),
        }];
        f.photos = vec![("p.jpg".into(), ts("2026-12-01T01:30:00Z")), ("q.jpg".into(), ts("2026-12-01T04:30:00Z"))];
        assert_eq!(
            audit(&f, &r),
            vec![Flag::RepeatRepair { other_work_order: "WO-1".into(), fault_code: "E01".into(), days: 30 }]
        );
        // Too few references: no judgement on distance.
        f.earlier_repairs.clear();
        f.check_in = Some((39.9, 116.4));
        f.region_check_ins.truncate(2);
        assert_eq!(audit(&f, &r), vec![]);
    }

    #[test]
    fn amounts_follow_the_rates() {
        let r = Rules::default();
        let a = amounts(&r, 90, &[PartLine { price_fen: 45_000, quantity: 2 }]);
        assert_eq!(a, Amounts { labour_fen: 12_000, parts_fen: 90_000, travel_fen: 5_000, total_fen: 107_000 });
        assert!(r.must_return(true, 10_000, false));
        assert!(!r.must_return(true, 9_999, false));
        assert!(r.must_return(true, 0, true));
        assert!(!r.must_return(false, 99_999, true));
    }

    #[test]
    fn the_audit_moves_once_and_returns_need_a_reason() {
        assert_eq!(Status::Submitted.apply(Action::Return).unwrap(), Status::Returned);
        assert_eq!(Status::Returned.apply(Action::Resubmit).unwrap(), Status::Submitted);
        assert!(Status::Approved.apply(Action::Approve).is_err());
        assert!(Status::Returned.apply(Action::Approve).is_err());
        assert!(Action::Reject.needs_reason() && Action::Return.needs_reason() && !Action::Approve.needs_reason());
        for s in Status::ALL {
            for a in Action::ALL {
                assert_eq!(s.allowed_actions().contains(&a), s.apply(a).is_ok());
            }
        }
    }
}
