//! Devices (PRODUCT.md §2.1): serial numbers, and the warranty rule from the sale date, the
//! product model's months and a service contract.
use crate::FieldError;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A device serial number: 1–64 of ASCII letters, digits, `-`, `_`, `/` and `.`; trimmed and
/// upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SerialNumber(String);

impl SerialNumber {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        if t.chars().count() > Self::MAX_LEN {
            return Err(FieldError::too_long(field, Self::MAX_LEN));
        }
        if !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.')) {
            return Err(FieldError::new(field, "invalid_serial"));
        }
        Ok(SerialNumber(t.to_ascii_uppercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_serde!(SerialNumber, "serial_number");

/// `d` plus `months` calendar months, the day clamped to the end of a shorter month
/// (31 January + 1 → 28 February, or 29 in a leap year). Saturates at the ends of jiff's range.
pub fn add_months_clamped(d: Date, months: i32) -> Date {
    let index = i64::from(d.year()) * 12 + i64::from(d.month()) - 1 + i64::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let (Ok(year), Ok(month)) = (i16::try_from(year), i8::try_from(month)) else {
        return if months < 0 { Date::MIN } else { Date::MAX };
    };
    match Date::new(year, month, 1) {
        Ok(first) => first.with().day(d.day().min(first.days_in_month())).build().unwrap_or(first),
        Err(_) if months < 0 => Date::MIN,
        Err(_) => Date::MAX,
    }
}

/// The free warranty when the product model says nothing else.
pub const DEFAULT_WARRANTY_MONTHS: i32 = 12;

/// Whether a device is covered today, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WarrantyStatus {
    /// Free warranty; `until` is the last covered day.
    InWarranty { until: Date },
    /// Not covered since the day after `until`.
    Expired { until: Date },
    /// Covered by a service contract that ends after the free warranty; `until` is the contract's
    /// last day.
    Extended { until: Date },
}

impl WarrantyStatus {
    /// Covered today, free or by contract.
    pub fn is_covered(self) -> bool {
        !matches!(self, WarrantyStatus::Expired { .. })
    }
    /// The last covered day (past for an expired warranty).
    pub fn until(self) -> Date {
        match self {
            WarrantyStatus::InWarranty { until }
            | WarrantyStatus::Expired { until }
            | WarrantyStatus::Extended { until } => until,
        }
    }
}

/// The warranty of a device sold on `sale_date` with `warranty_months` of free warranty (a
/// negative count counts as 0) and perhaps a service contract covering through `contract_until`.
///
/// The free warranty covers the sale date through `add_months_clamped(sale_date, months)`
/// inclusive. A contract that ends later than that makes the status `Extended` (from the sale on,
/// through the contract's last day); one that ends earlier or the same day changes nothing.
/// After the last covered day the status is `Expired` with that day.
pub fn warranty_status(
    sale_date: Date,
    warranty_months: i32,
    contract_until: Option<Date>,
    today: Date,
) -> WarrantyStatus {
    let free_until = add_months_clamped(sale_date, warranty_months.max(0));
    match contract_until.filter(|&c| c > free_until) {
        Some(until) if today <= until => WarrantyStatus::Extended { until },
        Some(until) => WarrantyStatus::Expired { until },
        None if today <= free_until => WarrantyStatus::InWarranty { until: free_until },
        None => WarrantyStatus::Expired { until: free_until },
    }
}

/// A sale date cannot lie in the future (`in_future`).
pub fn validate_sale_date(field: &str, sale: Date, today: Date) -> Result<(), FieldError> {
    if sale > today { Err(FieldError::new(field, "in_future")) } else { Ok(()) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn serial_numbers_are_trimmed_upper_cased_and_restricted() {
        let sn = |s: &str| SerialNumber::parse("serial_number", s).map(|s| s.as_str().to_string()).map_err(|e| e.code);
        assert_eq!(sn("  sn-2024/a_01.x "), Ok("SN-2024/A_01.X".into()));
        assert_eq!(sn("A"), Ok("A".into()));
        assert_eq!(sn(&"9".repeat(64)), Ok("9".repeat(64)));
        assert_eq!(sn(&"9".repeat(65)), Err("too_long"));
        assert_eq!(sn(""), Err("required"));
        assert_eq!(sn("SN 123"), Err("invalid_serial"));
        assert_eq!(sn("序列号1"), Err("invalid_serial"));
        assert_eq!(sn("ＳＮ１"), Err("invalid_serial"));
    }

    #[test]
    fn adding_months_clamps_to_the_end_of_a_shorter_month() {
        assert_eq!(add_months_clamped(date(2025, 1, 31), 1), date(2025, 2, 28));
        assert_eq!(add_months_clamped(date(2024, 1, 31), 1), date(2024, 2, 29));
        assert_eq!(add_months_clamped(date(2024, 2, 29), 12), date(2025, 2, 28));
        assert_eq!(add_months_clamped(date(2024, 2, 29), 48), date(2028, 2, 29));
        assert_eq!(add_months_clamped(date(2025, 3, 31), 1), date(2025, 4, 30));
        assert_eq!(add_months_clamped(date(2025, 11, 30), 3), date(2026, 2, 28));
        assert_eq!(add_months_clamped(date(2025, 1, 15), 0), date(2025, 1, 15));
        assert_eq!(add_months_clamped(date(2025, 3, 31), -1), date(2025, 2, 28));
        assert_eq!(add_months_clamped(date(2025, 1, 10), -13), date(2023, 12, 10));
        assert_eq!(add_months_clamped(date(9999, 6, 1), 12), Date::MAX);
        assert_eq!(add_months_clamped(date(-9999, 6, 1), -12), Date::MIN);
        assert_eq!(add_months_clamped(date(2025, 1, 1), i32::MAX), Date::MAX);
    }

    #[test]
    fn the_last_day_of_the_free_warranty_is_still_covered_and_the_next_is_not() {
        let sale = date(2025, 1, 15);
        let until = date(2026, 1, 15);
        assert_eq!(warranty_status(sale, DEFAULT_WARRANTY_MONTHS, None, sale), WarrantyStatus::InWarranty { until });
        assert_eq!(warranty_status(sale, 12, None, until), WarrantyStatus::InWarranty { until });
        assert_eq!(warranty_status(sale, 12, None, date(2026, 1, 16)), WarrantyStatus::Expired { until });
    }

    #[test]
    fn a_sale_on_31_january_with_one_month_ends_on_the_last_day_of_february() {
        let s = |today| warranty_status(date(2025, 1, 31), 1, None, today);
        assert_eq!(s(date(2025, 2, 28)), WarrantyStatus::InWarranty { until: date(2025, 2, 28) });
        assert_eq!(s(date(2025, 3, 1)), WarrantyStatus::Expired { until: date(2025, 2, 28) });
        let leap = |today| warranty_status(date(2024, 1, 31), 1, None, today);
        assert_eq!(leap(date(2024, 2, 29)), WarrantyStatus::InWarranty { until: date(2024, 2, 29) });
        assert_eq!(leap(date(2024, 3, 1)), WarrantyStatus::Expired { until: date(2024, 2, 29) });
    }

    #[test]
    fn a_sale_on_29_february_with_twelve_months_ends_on_28_february() {
        let s = |today| warranty_status(date(2024, 2, 29), DEFAULT_WARRANTY_MONTHS, None, today);
        assert_eq!(s(date(2025, 2, 28)), WarrantyStatus::InWarranty { until: date(2025, 2, 28) });
        assert_eq!(s(date(2025, 3, 1)), WarrantyStatus::Expired { until: date(2025, 2, 28) });
    }

    #[test]
    fn a_later_contract_extends_the_warranty_through_its_last_day() {
        let sale = date(2025, 1, 15);
        let contract = Some(date(2027, 6, 30));
        let extended = WarrantyStatus::Extended { until: date(2027, 6, 30) };
        assert_eq!(warranty_status(sale, 12, contract, date(2025, 6, 1)), extended);
        assert_eq!(warranty_status(sale, 12, contract, date(2026, 1, 16)), extended);
        assert_eq!(warranty_status(sale, 12, contract, date(2027, 6, 30)), extended);
        assert_eq!(
            warranty_status(sale, 12, contract, date(2027, 7, 1)),
            WarrantyStatus::Expired { until: date(2027, 6, 30) },
            "the latest until is reported"
        );
    }

    #[test]
    fn a_contract_ending_no_later_than_the_free_warranty_changes_nothing() {
        let sale = date(2025, 1, 15);
        let free = date(2026, 1, 15);
        for contract in [date(2025, 12, 31), free] {
            assert_eq!(
                warranty_status(sale, 12, Some(contract), date(2025, 6, 1)),
                WarrantyStatus::InWarranty { until: free }
            );
            assert_eq!(
                warranty_status(sale, 12, Some(contract), date(2026, 1, 16)),
                WarrantyStatus::Expired { until: free }
            );
        }
    }

    #[test]
    fn no_free_warranty_covers_the_sale_day_only() {
        let sale = date(2025, 5, 20);
        assert_eq!(warranty_status(sale, 0, None, sale), WarrantyStatus::InWarranty { until: sale });
        assert_eq!(warranty_status(sale, -3, None, date(2025, 5, 21)), WarrantyStatus::Expired { until: sale });
    }

    #[test]
    fn warranty_status_serializes_with_a_status_tag() {
        let s = WarrantyStatus::InWarranty { until: date(2026, 1, 31) };
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"status":"in_warranty","until":"2026-01-31"}"#);
        let e: WarrantyStatus = serde_json::from_str(r#"{"status":"extended","until":"2027-06-30"}"#).unwrap();
        assert_eq!(e, WarrantyStatus::Extended { until: date(2027, 6, 30) });
        assert!(e.is_covered());
        assert_eq!(e.until(), date(2027, 6, 30));
        assert!(!WarrantyStatus::Expired { until: date(2020, 1, 1) }.is_covered());
    }

    #[test]
    fn a_sale_date_cannot_be_in_the_future() {
        let today = date(2026, 11, 22);
        assert_eq!(validate_sale_date("sale_date", today, today), Ok(()));
        assert_eq!(validate_sale_date("sale_date", date(2020, 1, 1), today), Ok(()));
        assert_eq!(
            validate_sale_date("sale_date", date(2026, 11, 23), today),
            Err(FieldError::new("sale_date", "in_future"))
        );
    }
}
