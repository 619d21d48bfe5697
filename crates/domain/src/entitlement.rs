//! What a device is entitled to on a given day (PRODUCT.md §2.4): in warranty (by the model's
//! months from the sale or from an exchange, or by a service contract), expired, or void; and for
//! a performance fault reported that day, which of the 三包 remedies are open — refund, exchange,
//! repair — each with the rule that opens it, cited by its article of 《部分商品修理更换退货责任规定》.
//!
//! Periods count as the Civil Code counts them (民法典 第二百零一条): the day of the sale is not
//! counted, so "within 7 days" of a sale on the 1st runs through the 8th.
use crate::devices::{WarrantyStatus, warranty_status};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The 三包 rules of a product line. The defaults are the regulation's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SanbaoRules {
    /// A performance fault within this many days of the sale: refund, exchange or repair (第八条).
    pub refund_days: i64,
    /// Within this many days: exchange or repair (第九条).
    pub exchange_days: i64,
    /// The same fault still there after this many repairs within the warranty: exchange or refund
    /// (第十条).
    pub repairs_before_exchange: i64,
    /// A repair that took longer than this many days for want of the maker's parts: exchange
    /// (第十一条).
    pub parts_wait_days: i64,
    /// A repair that took longer than this many days for the repairer's own reasons: exchange
    /// (第十二条).
    pub repair_days: i64,
}

impl Default for SanbaoRules {
    fn default() -> Self {
        SanbaoRules {
            refund_days: 7,
            exchange_days: 15,
            repairs_before_exchange: 2,
            parts_wait_days: 90,
            repair_days: 30,
        }
    }
}

/// What the warranty pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cover {
    /// The product itself (a new unit where the remedies say so).
    Product,
    Accessories,
    Parts,
    Labour,
    Travel,
}

impl Cover {
    pub fn as_str(self) -> &'static str {
        match self {
            Cover::Product => "product",
            Cover::Accessories => "accessories",
            Cover::Parts => "parts",
            Cover::Labour => "labour",
            Cover::Travel => "travel",
        }
    }
}

/// The free warranty pays for everything; a service contract beyond it for the repair (parts,
/// labour, travel); nothing otherwise.
const FREE: &[Cover] = &[Cover::Product, Cover::Accessories, Cover::Parts, Cover::Labour, Cover::Travel];
const CONTRACT: &[Cover] = &[Cover::Parts, Cover::Labour, Cover::Travel];

/// A 三包 remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    Refund,
    Exchange,
    Repair,
}

impl Remedy {
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::Refund => "refund",
            Remedy::Exchange => "exchange",
            Remedy::Repair => "repair",
        }
    }
}

/// What the device is, on the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    InWarranty,
    Expired,
    Void,
}

/// Why: a rule (its code), the article it comes from if any, and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    /// Free warranty through `until` (from the sale, or from an exchange on `restarted_on`).
    Warranty { until: Date, restarted_on: Option<Date> },
    /// A service contract covers through `until` (repairs only).
    Contract { until: Date },
    /// Not covered since the day after `until`.
    Expired { until: Date },
    /// Warranty void, for this reason.
    Void { reason: String },
    /// Within `days` days of the sale (`day` of them): refund, exchange or repair. 第八条.
    WithinRefundDays { days: i64, day: i64 },
    /// Within `days` days of the sale: exchange or repair. 第九条.
    WithinExchangeDays { days: i64, day: i64 },
    /// Repaired `repairs` times for the same fault (`fault_code`) within the warranty. 第十条.
    RepeatedRepairs { fault_code: String, repairs: i64 },
    /// A repair took `days` days waiting for the maker's parts (limit `limit`). 第十一条.
    PartsWait { days: i64, limit: i64 },
    /// A repair took `days` days (limit `limit`). 第十二条.
    RepairTooLong { days: i64, limit: i64 },
    /// In warranty: free repair.
    FreeRepair,
}

impl Reason {
    /// The article of 《部分商品修理更换退货责任规定》 the rule comes from.
    pub fn article(&self) -> Option<&'static str> {
        match self {
            Reason::WithinRefundDays { .. } => Some("第八条"),
            Reason::WithinExchangeDays { .. } => Some("第九条"),
            Reason::RepeatedRepairs { .. } => Some("第十条"),
            Reason::PartsWait { .. } => Some("第十一条"),
            Reason::RepairTooLong { .. } => Some("第十二条"),
            _ => None,
        }
    }
}

/// A past repair of the device, as the rules look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastRepair {
    /// The day the repair was asked for and the day it was done (`None`: still open).
    pub from: Date,
    pub done: Option<Date>,
    pub fault_code: Option<String>,
    /// It waited for the maker's parts.
    pub waited_for_parts: bool,
}

/// What the rules need to know of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub sale: Date,
    pub warranty_months: i32,
    pub contract_until: Option<Date>,
    /// The last exchange for a new unit: the warranty runs again from that day.
    pub exchanged_on: Option<Date>,
    pub void_reason: Option<String>,
    pub repairs: Vec<PastRepair>,
}

/// The device's entitlement on `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entitlement {
    pub coverage: Coverage,
    /// The last covered day (past when expired).
    pub warranty_until: Date,
    /// Open to the customer for a performance fault reported on `at`, best first.
    pub remedies: Vec<Remedy>,
    /// What the warranty pays for that day.
    pub covers: Vec<Cover>,
    pub reasons: Vec<Reason>,
}

/// Days from `from` to `to` as a period counts them (the first day not counted).
fn days(from: Date, to: Date) -> i64 {
    (to - from).get_days().into()
}

/// The entitlement of a device with `facts` on `at` under `rules`.
pub fn entitlement(facts: &Facts, rules: &SanbaoRules, at: Date) -> Entitlement {
    let start = facts.exchanged_on.filter(|e| *e > facts.sale).unwrap_or(facts.sale);
    let restarted_on = (start != facts.sale).then_some(start);
    let status = warranty_status(start, facts.warranty_months, facts.contract_until, at);
    if let Some(reason) = &facts.void_reason {
        return Entitlement {
            coverage: Coverage::Void,
            warranty_until: status.until(),
            remedies: vec![],
            covers: vec![],
            reasons: vec![Reason::Void { reason: reason.clone() }],
        };
    }
    let free_until = crate::devices::add_months_clamped(start, facts.warranty_months.max(0));
    match status {
        WarrantyStatus::Expired { until } => Entitlement {
            coverage: Coverage::Expired,
            warranty_until: until,
            remedies: vec![],
            covers: vec![],
            reasons: vec![Reason::Expired { until }],
        },
        // Beyond the free warranty a contract pays for repairs; the 三包 remedies are the law's
        // for the free warranty only.
        WarrantyStatus::Extended { until } if at > free_until => Entitlement {
            coverage: Coverage::InWarranty,
            warranty_until: until,
            remedies: vec![Remedy::Repair],
            covers: CONTRACT.to_vec(),
            reasons: vec![Reason::Contract { until }],
        },
        WarrantyStatus::InWarranty { until } | WarrantyStatus::Extended { until } => {
            let mut reasons = vec![Reason::Warranty { until: free_until, restarted_on }];
            if until > free_until {
                reasons.push(Reason::Contract { until });
            }
            let mut remedies = vec![Remedy::Repair];
            let day = days(facts.sale, at);
            if (0..=rules.refund_days).contains(&day) {
                remedies.extend([Remedy::Refund, Remedy::Exchange]);
                reasons.push(Reason::WithinRefundDays { days: rules.refund_days, day });
            } else if (0..=rules.exchange_days).contains(&day) {
                remedies.push(Remedy::Exchange);
                reasons.push(Reason::WithinExchangeDays { days: rules.exchange_days, day });
            }
            // Repairs within the present warranty (an exchange starts a new count).
            let within: Vec<&PastRepair> = facts.repairs.iter().filter(|r| r.from >= start && r.from <= at).collect();
            let mut by_fault: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
            for r in within.iter().filter(|r| r.done.is_some()) {
                if let Some(code) = r.fault_code.as_deref() {
                    *by_fault.entry(code).or_default() += 1;
                }
            }
            let repeated =
                by_fault.iter().filter(|(_, n)| **n >= rules.repairs_before_exchange).max_by_key(|(_, n)| **n);
            if let Some((code, n)) = repeated {
                remedies.extend([Remedy::Exchange, Remedy::Refund]);
                reasons.push(Reason::RepeatedRepairs { fault_code: code.to_string(), repairs: *n });
            }
            for r in &within {
                let took = days(r.from, r.done.unwrap_or(at));
                if r.waited_for_parts && took > rules.parts_wait_days {
                    remedies.push(Remedy::Exchange);
                    reasons.push(Reason::PartsWait { days: took, limit: rules.parts_wait_days });
                } else if !r.waited_for_parts && took > rules.repair_days {
                    remedies.push(Remedy::Exchange);
                    reasons.push(Reason::RepairTooLong { days: took, limit: rules.repair_days });
                }
            }
            remedies.sort();
            remedies.dedup();
            if remedies == [Remedy::Repair] {
                reasons.push(Reason::FreeRepair);
            }
            Entitlement {
                coverage: Coverage::InWarranty,
                warranty_until: until,
                remedies,
                covers: FREE.to_vec(),
                reasons,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn facts(sale: Date) -> Facts {
        Facts {
            sale,
            warranty_months: 12,
            contract_until: None,
            exchanged_on: None,
            void_reason: None,
            repairs: vec![],
        }
    }
    fn remedies(f: &Facts, at: Date) -> Vec<Remedy> {
        entitlement(f, &SanbaoRules::default(), at).remedies
    }
    use Remedy::*;

    #[test]
    fn the_free_warranty_covers_all_a_contract_the_repair_nothing_after() {
        let mut f = facts(date(2025, 1, 31));
        f.contract_until = Some(date(2027, 1, 31));
        let covers = |at| entitlement(&f, &SanbaoRules::default(), at).covers;
        assert_eq!(
            covers(date(2025, 6, 1)),
            vec![Cover::Product, Cover::Accessories, Cover::Parts, Cover::Labour, Cover::Travel]
        );
        assert_eq!(covers(date(2026, 6, 1)), vec![Cover::Parts, Cover::Labour, Cover::Travel]);
        assert_eq!(covers(date(2027, 2, 1)), vec![]);
    }

    #[test]
    fn seven_days_refund_fifteen_exchange_then_repair_counted_from_the_day_after_the_sale() {
        let f = facts(date(2025, 3, 1));
        assert_eq!(remedies(&f, date(2025, 3, 1)), vec![Refund, Exchange, Repair]);
        assert_eq!(remedies(&f, date(2025, 3, 8)), vec![Refund, Exchange, Repair], "day 7 is the 8th");
        assert_eq!(remedies(&f, date(2025, 3, 9)), vec![Exchange, Repair], "day 8");
        assert_eq!(remedies(&f, date(2025, 3, 16)), vec![Exchange, Repair], "day 15");
        assert_eq!(remedies(&f, date(2025, 3, 17)), vec![Repair]);
        let e = entitlement(&f, &SanbaoRules::default(), date(2025, 3, 8));
        assert_eq!(e.reasons[1], Reason::WithinRefundDays { days: 7, day: 7 });
        assert_eq!(e.reasons[1].article(), Some("第八条"));
        let e = entitlement(&f, &SanbaoRules::default(), date(2025, 3, 16));
        assert_eq!(e.reasons[1].article(), Some("第九条"));
    }

    #[test]
    fn the_warranty_ends_on_its_last_day_at_the_month_ends() {
        // Sold on 31 January: twelve months end on 31 January; on 29 February (leap) it is 28 Feb next year.
        let f = facts(date(2025, 1, 31));
        let e = entitlement(&f, &SanbaoRules::default(), date(2026, 1, 31));
        assert_eq!((e.coverage, e.warranty_until), (Coverage::InWarranty, date(2026, 1, 31)));
        let e = entitlement(&f, &SanbaoRules::default(), date(2026, 2, 1));
        assert_eq!((e.coverage, e.remedies.len()), (Coverage::Expired, 0));
        let leap = facts(date(2024, 2, 29));
        assert_eq!(entitlement(&leap, &SanbaoRules::default(), date(2025, 2, 28)).coverage, Coverage::InWarranty);
        assert_eq!(entitlement(&leap, &SanbaoRules::default(), date(2025, 3, 1)).coverage, Coverage::Expired);
        let mut one_month = facts(date(2025, 1, 31));
        one_month.warranty_months = 1;
        assert_eq!(
            entitlement(&one_month, &SanbaoRules::default(), date(2025, 2, 28)).warranty_until,
            date(2025, 2, 28)
        );
    }

    #[test]
    fn a_contract_pays_repairs_after_the_free_warranty_but_opens_no_other_remedy() {
        let mut f = facts(date(2025, 1, 15));
        f.contract_until = Some(date(2027, 6, 30));
        let e = entitlement(&f, &SanbaoRules::default(), date(2026, 6, 1));
        assert_eq!(
            (e.coverage, e.warranty_until, e.remedies.clone()),
            (Coverage::InWarranty, date(2027, 6, 30), vec![Repair])
        );
        assert_eq!(e.reasons, vec![Reason::Contract { until: date(2027, 6, 30) }]);
        assert_eq!(entitlement(&f, &SanbaoRules::default(), date(2027, 7, 1)).coverage, Coverage::Expired);
    }

    #[test]
    fn an_exchange_restarts_the_warranty_and_the_repair_count() {
        let mut f = facts(date(2024, 1, 10));
        f.repairs = vec![
            PastRepair {
                from: date(2024, 5, 1),
                done: Some(date(2024, 5, 3)),
                fault_code: Some("E-LOS".into()),
                waited_for_parts: false,
            },
            PastRepair {
                from: date(2024, 7, 1),
                done: Some(date(2024, 7, 2)),
                fault_code: Some("E-LOS".into()),
                waited_for_parts: false,
            },
        ];
        // Twice for the same fault: exchange or refund (第十条).
        let e = entitlement(&f, &SanbaoRules::default(), date(2024, 8, 1));
        assert_eq!(e.remedies, vec![Refund, Exchange, Repair]);
        let r = e.reasons.iter().find(|r| r.article() == Some("第十条")).unwrap();
        assert_eq!(r, &Reason::RepeatedRepairs { fault_code: "E-LOS".into(), repairs: 2 });
        // Exchanged on 1 August: twelve months from then, and the count starts again.
        f.exchanged_on = Some(date(2024, 8, 1));
        let e = entitlement(&f, &SanbaoRules::default(), date(2025, 3, 1));
        assert_eq!(
            (e.coverage, e.warranty_until, e.remedies.clone()),
            (Coverage::InWarranty, date(2025, 8, 1), vec![Repair])
        );
        assert_eq!(e.reasons[0], Reason::Warranty { until: date(2025, 8, 1), restarted_on: Some(date(2024, 8, 1)) });
    }

    #[test]
    fn a_repair_too_long_opens_an_exchange_citing_its_article() {
        let mut f = facts(date(2025, 1, 10));
        f.repairs = vec![PastRepair { from: date(2025, 3, 1), done: None, fault_code: None, waited_for_parts: false }];
        assert_eq!(remedies(&f, date(2025, 3, 31)), vec![Repair], "30 days is within the limit");
        let e = entitlement(&f, &SanbaoRules::default(), date(2025, 4, 1));
        assert_eq!(e.remedies, vec![Exchange, Repair]);
        assert!(e.reasons.contains(&Reason::RepairTooLong { days: 31, limit: 30 }));
        f.repairs[0].waited_for_parts = true;
        assert_eq!(remedies(&f, date(2025, 4, 1)), vec![Repair], "waiting for the maker's parts: 90 days");
        let e = entitlement(&f, &SanbaoRules::default(), date(2025, 5, 31));
        assert_eq!(e.reasons.last().unwrap().article(), Some("第十一条"));
    }

    #[test]
    fn void_and_expired_open_nothing() {
        let mut f = facts(date(2025, 1, 10));
        f.void_reason = Some("私自拆机".into());
        let e = entitlement(&f, &SanbaoRules::default(), date(2025, 1, 11));
        assert_eq!((e.coverage, e.remedies.len()), (Coverage::Void, 0));
        assert_eq!(e.reasons, vec![Reason::Void { reason: "私自拆机".into() }]);
    }
}
