//! Return and exchange authorisation (退换货): the customer's 三包 remedy of a refund or a new unit,
//! allowed only when the rules open it on the day the fault was reported, decided by the station's
//! manager or the service administrator, and above a refund threshold by a manager.
use crate::entitlement::{Entitlement, Reason, Remedy};
use crate::lifecycle::IllegalTransition;
use crate::requests::choice_enum;

choice_enum! {
    pub enum Kind {
        /// 退货: the product back, the price refunded.
        Return => "return",
        /// 换货: a new unit for the faulty one.
        Exchange => "exchange",
    }
}

choice_enum! {
    pub enum Status {
        Submitted => "submitted",
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

impl Kind {
    /// The 三包 remedy it is.
    pub fn remedy(self) -> Remedy {
        match self {
            Kind::Return => Remedy::Refund,
            Kind::Exchange => Remedy::Exchange,
        }
    }
}

/// The article of the rule that opens `kind` in `ent`, if the rules open it at all.
pub fn opened_by(ent: &Entitlement, kind: Kind) -> Option<&'static str> {
    if !ent.remedies.contains(&kind.remedy()) {
        return None;
    }
    ent.reasons
        .iter()
        .find(|r| match kind {
            Kind::Return => matches!(r, Reason::WithinRefundDays { .. } | Reason::RepeatedRepairs { .. }),
            Kind::Exchange => r.article().is_some(),
        })
        .and_then(Reason::article)
}

impl Status {
    pub fn allowed(self) -> &'static [Decision] {
        match self {
            Status::Submitted => &[Decision::Approve, Decision::Reject],
            _ => &[],
        }
    }

    pub fn decide(self, d: Decision) -> Result<Status, IllegalTransition<Status, Decision>> {
        if !self.allowed().contains(&d) {
            return Err(IllegalTransition { from: self, action: d, allowed: self.allowed() });
        }
        Ok(match d {
            Decision::Approve => Status::Approved,
            Decision::Reject => Status::Rejected,
        })
    }
}

/// The number of an authorisation: `RA-20261206-0001`.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("RA", day, counter)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::entitlement::{Facts, SanbaoRules, entitlement};

    #[test]
    fn a_refund_and_an_exchange_open_by_their_articles() {
        let sale: jiff::civil::Date = "2025-01-31".parse().unwrap();
        let facts = Facts {
            sale,
            warranty_months: 12,
            contract_until: None,
            exchanged_on: None,
            void_reason: None,
            repairs: vec![],
        };
        let r = SanbaoRules::default();
        let day = |s: &str| entitlement(&facts, &r, s.parse().unwrap());
        assert_eq!(opened_by(&day("2025-02-05"), Kind::Return), Some("第八条"));
        assert_eq!(opened_by(&day("2025-02-12"), Kind::Return), None, "after 7 days no refund");
        assert_eq!(opened_by(&day("2025-02-12"), Kind::Exchange), Some("第九条"));
        assert_eq!(opened_by(&day("2025-03-20"), Kind::Exchange), None, "a repair only");
        assert!(Status::Approved.decide(Decision::Approve).is_err());
    }
}
