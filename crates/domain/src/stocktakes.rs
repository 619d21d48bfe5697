//! Stocktake (盘点): a count sheet per warehouse; its differences become ledger adjustments only
//! once someone other than the counter approves them.
use crate::lifecycle::IllegalTransition;
use crate::requests::choice_enum;

choice_enum! {
    /// Where a count sheet is. `Approved` and `Rejected` are final.
    pub enum Status {
        Counting => "counting",
        Submitted => "submitted",
        Approved => "approved",
        Rejected => "rejected",
    }
}

choice_enum! {
    pub enum Action {
        /// Record counts (while counting).
        Count => "count",
        Submit => "submit",
        Approve => "approve",
        /// Back to counting, with a reason (recount).
        Return => "return",
        Reject => "reject",
    }
}

impl Status {
    pub fn allowed(self) -> &'static [Action] {
        match self {
            Status::Counting => &[Action::Count, Action::Submit],
            Status::Submitted => &[Action::Approve, Action::Return, Action::Reject],
            Status::Approved | Status::Rejected => &[],
        }
    }

    pub fn apply(self, action: Action) -> Result<Status, IllegalTransition<Status, Action>> {
        if !self.allowed().contains(&action) {
            return Err(IllegalTransition { from: self, action, allowed: self.allowed() });
        }
        Ok(match action {
            Action::Count | Action::Return => Status::Counting,
            Action::Submit => Status::Submitted,
            Action::Approve => Status::Approved,
            Action::Reject => Status::Rejected,
        })
    }
}

impl Action {
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Return | Action::Reject)
    }
}

/// The number of a count sheet: `ST-20261206-0001`.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("ST", day, counter)
}

/// The adjustment a line posts: counted less expected (thousandths); surplus positive.
pub fn difference(expected: i64, counted: i64) -> i64 {
    counted - expected
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_is_counted_submitted_and_decided_once() {
        assert_eq!(Status::Counting.apply(Action::Count).unwrap(), Status::Counting);
        assert_eq!(Status::Counting.apply(Action::Submit).unwrap(), Status::Submitted);
        assert_eq!(Status::Submitted.apply(Action::Return).unwrap(), Status::Counting);
        assert_eq!(Status::Submitted.apply(Action::Approve).unwrap(), Status::Approved);
        assert!(Status::Approved.apply(Action::Approve).is_err());
        assert!(Status::Submitted.apply(Action::Count).is_err(), "no counting once handed in");
        assert_eq!(difference(10_000, 8_000), -2_000);
    }
}
