//! Suggestions (建议, PRODUCT.md §2.8): recorded from any channel, classified, passed to the
//! department concerned, evaluated (adopted, under study, declined with a reason) and answered;
//! summarised by month.
use crate::FieldError;
use crate::requests::choice_enum;

choice_enum! {
    /// What the suggestion is about.
    pub enum Category {
        Product => "product",
        Service => "service",
        Other => "other",
    }
}

choice_enum! {
    /// The department a suggestion is passed to.
    pub enum Department {
        /// 产品部 (research and development).
        Product => "product",
        /// 服务部.
        Service => "service",
        /// 质量部.
        Quality => "quality",
        /// 销售部.
        Sales => "sales",
        Other => "other",
    }
}

choice_enum! {
    /// Where a suggestion is. `Adopted` and `Declined` are decided (still answerable).
    pub enum Status {
        Received => "received",
        Routed => "routed",
        UnderStudy => "under_study",
        Adopted => "adopted",
        Declined => "declined",
    }
}

choice_enum! {
    pub enum Action {
        /// Pass it to a department.
        Route => "route",
        Study => "study",
        Adopt => "adopt",
        /// With a reason.
        Decline => "decline",
        /// Tell the customer (the answer they see).
        Answer => "answer",
    }
}

impl Status {
    pub fn allowed(self) -> &'static [Action] {
        use Action::*;
        match self {
            Status::Received => &[Route],
            Status::Routed => &[Route, Study, Adopt, Decline],
            Status::UnderStudy => &[Adopt, Decline, Answer],
            Status::Adopted | Status::Declined => &[Answer],
        }
    }

    pub fn apply(self, action: Action) -> Result<Status, crate::lifecycle::IllegalTransition<Status, Action>> {
        if !self.allowed().contains(&action) {
            return Err(crate::lifecycle::IllegalTransition { from: self, action, allowed: self.allowed() });
        }
        Ok(match action {
            Action::Route => Status::Routed,
            Action::Study => Status::UnderStudy,
            Action::Adopt => Status::Adopted,
            Action::Decline => Status::Declined,
            Action::Answer => self,
        })
    }
}

/// What a step needs besides the action: a department to route, a reason to decline, the text
/// of an answer.
pub fn needs(action: Action, department: Option<Department>, text: &str) -> Result<(), FieldError> {
    match action {
        Action::Route if department.is_none() => Err(FieldError::new("department", "required")),
        Action::Decline if text.trim().is_empty() => Err(FieldError::new("note", "reason_required")),
        Action::Answer if text.trim().is_empty() => Err(FieldError::new("note", "required")),
        _ => Ok(()),
    }
}

/// The number of a suggestion: `SG-20261206-0001`.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("SG", day, counter)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_suggestion_is_routed_evaluated_and_answered() {
        assert!(Status::Received.apply(Action::Adopt).is_err(), "routed to a department first");
        assert_eq!(Status::Received.apply(Action::Route).unwrap(), Status::Routed);
        assert_eq!(Status::Routed.apply(Action::Study).unwrap(), Status::UnderStudy);
        assert_eq!(Status::UnderStudy.apply(Action::Adopt).unwrap(), Status::Adopted);
        assert_eq!(Status::Adopted.apply(Action::Answer).unwrap(), Status::Adopted);
        assert!(Status::Declined.apply(Action::Adopt).is_err());
        assert_eq!(needs(Action::Decline, None, " ").unwrap_err().code, "reason_required");
        assert_eq!(needs(Action::Route, None, "").unwrap_err().code, "required");
        assert!(needs(Action::Route, Some(Department::Product), "").is_ok());
    }
}
