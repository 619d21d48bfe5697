//! 三包配件申请: a station applies to headquarters for parts for warranty work. Its manager
//! approves first; above the threshold headquarters (the central warehouse) approves too; the
//! final approval sends the parts from the central warehouse.
use crate::lifecycle::IllegalTransition;
use crate::requests::choice_enum;

choice_enum! {
    /// Where an application is. `Approved` and `Rejected` are final.
    pub enum Status {
        Submitted => "submitted",
        /// The station's manager approved; headquarters must too (above the threshold).
        StationApproved => "station_approved",
        /// The parts are on their way.
        Approved => "approved",
        Rejected => "rejected",
    }
}

choice_enum! {
    pub enum Decision {
        Approve => "approve",
        Reject => "reject",
    }
}

/// Who decides: the station's manager, or headquarters (the central warehouse's keepers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Station,
    Headquarters,
}

impl Status {
    pub fn allowed(self) -> &'static [Decision] {
        match self {
            Status::Submitted | Status::StationApproved => &[Decision::Approve, Decision::Reject],
            Status::Approved | Status::Rejected => &[],
        }
    }

    /// The status after `decision` taken at `level` on an application of `amount_fen`: the
    /// station's approval is final up to `threshold_fen`, headquarters' always. Headquarters may
    /// decide a submitted one directly; a station may not decide one it has approved.
    pub fn decide(
        self,
        decision: Decision,
        level: Level,
        amount_fen: i64,
        threshold_fen: i64,
    ) -> Result<Status, IllegalTransition<Status, Decision>> {
        let refused = IllegalTransition { from: self, action: decision, allowed: self.allowed() };
        match (self, level, decision) {
            (Status::Submitted | Status::StationApproved, Level::Headquarters, Decision::Approve) => {
                Ok(Status::Approved)
            }
            (Status::Submitted, Level::Station, Decision::Approve) if amount_fen > threshold_fen => {
                Ok(Status::StationApproved)
            }
            (Status::Submitted, Level::Station, Decision::Approve) => Ok(Status::Approved),
            (Status::Submitted, _, Decision::Reject)
            | (Status::StationApproved, Level::Headquarters, Decision::Reject) => Ok(Status::Rejected),
            _ => Err(refused),
        }
    }
}

/// The number of an application: `PA-20261206-0001`.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("PA", day, counter)
}

/// What a line costs in fen: price per unit × quantity in thousandths, rounded to the fen.
pub fn line_amount(price_fen: i64, quantity_milli: i64) -> i64 {
    (price_fen * quantity_milli + 500) / 1000
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_amount_decides_who_approves() {
        let t = 500_000;
        assert_eq!(Status::Submitted.decide(Decision::Approve, Level::Station, t, t).unwrap(), Status::Approved);
        assert_eq!(
            Status::Submitted.decide(Decision::Approve, Level::Station, t + 1, t).unwrap(),
            Status::StationApproved
        );
        assert!(
            Status::StationApproved.decide(Decision::Approve, Level::Station, t + 1, t).is_err(),
            "not twice by the station"
        );
        assert_eq!(
            Status::StationApproved.decide(Decision::Approve, Level::Headquarters, t + 1, t).unwrap(),
            Status::Approved
        );
        assert_eq!(
            Status::Submitted.decide(Decision::Approve, Level::Headquarters, t + 1, t).unwrap(),
            Status::Approved
        );
        assert_eq!(Status::Submitted.decide(Decision::Reject, Level::Station, 1, t).unwrap(), Status::Rejected);
        assert!(Status::StationApproved.decide(Decision::Reject, Level::Station, t + 1, t).is_err());
        assert!(Status::Approved.decide(Decision::Approve, Level::Headquarters, 1, t).is_err(), "a second approval");
        assert_eq!(line_amount(128_000, 2_000), 256_000);
        assert_eq!(line_amount(350, 1_500), 525);
    }
}
