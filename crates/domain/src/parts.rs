//! Spare parts (备件) and the rules of the stock ledger: quantities, the kinds of movement and what
//! each does to a warehouse's on-hand, reserved and in-transit figures. Pure: the store applies an
//! effect only if the figures it leaves are allowed (`Effect::leaves_valid`), in one statement.
use crate::FieldError;
use crate::requests::choice_enum;

/// Thousandths: a quantity is kept as an integer number of thousandths of the part's unit, so
/// sums are exact (no float) and a divisible part (metres of cable) takes up to three decimals.
pub const SCALE: i64 = 1000;

/// The largest quantity one movement may carry (ten million units).
const MAX_UNITS: i64 = 10_000_000;

/// A quantity of a part, in thousandths of its unit; positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

impl Quantity {
    /// `s` as written (`"3"`, `"2.5"`, `"0.125"`): positive, at most three decimals, whole for a
    /// part counted in units (`divisible` false).
    pub fn parse(field: &str, s: &str, divisible: bool) -> Result<Quantity, FieldError> {
        let s = s.trim();
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f.trim_end_matches('0')),
            None => (s, ""),
        };
        if s.starts_with('-') {
            return Err(FieldError::new(field, "must_be_positive"));
        }
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, "invalid_number"));
        }
        if frac.len() > 3 {
            return Err(FieldError::new(field, "too_precise"));
        }
        if !frac.is_empty() && !divisible {
            return Err(FieldError::new(field, "whole_units"));
        }
        let units: i64 = int.parse().map_err(|_| FieldError::new(field, "out_of_range"))?;
        if units > MAX_UNITS {
            return Err(FieldError::new(field, "out_of_range"));
        }
        let milli: i64 = format!("{frac:0<3}").parse().unwrap_or(0);
        let q = units * SCALE + milli;
        if q == 0 {
            return Err(FieldError::new(field, "must_be_positive"));
        }
        Ok(Quantity(q))
    }

    /// Whole units (for counted parts and tests).
    pub fn units(n: i64) -> Quantity {
        Quantity(n * SCALE)
    }

    pub fn milli(self) -> i64 {
        self.0
    }

    pub fn from_milli(m: i64) -> Quantity {
        Quantity(m)
    }
}

/// Thousandths as written for people: `3`, `2.5`, `0.125`, `-1`.
pub fn format_milli(m: i64) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let (units, frac) = (m.abs() / SCALE, m.abs() % SCALE);
    if frac == 0 {
        format!("{sign}{units}")
    } else {
        format!("{sign}{units}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

choice_enum! {
    /// What happened to the stock.
    pub enum MovementKind {
        /// Goods received into a warehouse (purchase, from the maker).
        Receipt => "receipt",
        /// Set aside for a work order: still on hand, no longer available.
        Reserve => "reserve",
        /// A reservation let go.
        Release => "release",
        /// Taken out for a work order (from the engineer's van or the station's shelf).
        Issue => "issue",
        /// Brought back unused from a work order.
        Return => "return",
        /// Sent to another warehouse: off this one's hand, in transit at the other.
        TransferOut => "transfer_out",
        /// A transfer arrived: from in transit onto the hand of the receiving warehouse.
        TransferIn => "transfer_in",
        /// Written off (damaged, obsolete).
        Scrap => "scrap",
    }
}

/// What a movement does to one warehouse's figures for a part, in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effect {
    pub on_hand: i64,
    pub reserved: i64,
    pub in_transit: i64,
}

impl Effect {
    /// Whether the figures `(on_hand, reserved, in_transit)` with this effect applied are allowed:
    /// nothing negative, never more reserved than on hand (so available never goes below zero).
    /// The store writes this same condition into its guarded `UPDATE`.
    pub fn leaves_valid(self, on_hand: i64, reserved: i64, in_transit: i64) -> bool {
        let (h, r, t) = (on_hand + self.on_hand, reserved + self.reserved, in_transit + self.in_transit);
        h >= 0 && r >= 0 && t >= 0 && h - r >= 0
    }
}

impl MovementKind {
    /// The effect on the warehouse the movement names (for a transfer out, the sending one).
    pub fn effect(self, q: Quantity) -> Effect {
        let q = q.milli();
        match self {
            MovementKind::Receipt | MovementKind::Return => Effect { on_hand: q, ..Effect::default() },
            MovementKind::Issue | MovementKind::Scrap | MovementKind::TransferOut => {
                Effect { on_hand: -q, ..Effect::default() }
            }
            MovementKind::Reserve => Effect { reserved: q, ..Effect::default() },
            MovementKind::Release => Effect { reserved: -q, ..Effect::default() },
            MovementKind::TransferIn => Effect { on_hand: q, in_transit: -q, ..Effect::default() },
        }
    }

    /// A transfer out's effect on the receiving warehouse: in transit there.
    pub fn transit_effect(q: Quantity) -> Effect {
        Effect { in_transit: q.milli(), ..Effect::default() }
    }

    /// The kinds a caller records directly (a transfer's arrival names its transfer instead of a
    /// quantity; issue and return come from work orders too).
    pub fn takes_quantity(self) -> bool {
        !matches!(self, MovementKind::TransferIn)
    }
}

/// A part code: 1–40 of letters, digits, `-`, `_`, `.`, `/`; trimmed and upper-cased.
pub fn part_code(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if t.chars().count() > 40 {
        return Err(FieldError::too_long(field, 40));
    }
    if !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) {
        return Err(FieldError::new(field, "invalid_code"));
    }
    Ok(t.to_ascii_uppercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_positive_exact_and_whole_for_counted_parts() {
        assert_eq!(Quantity::parse("q", "3", false), Ok(Quantity::units(3)));
        assert_eq!(Quantity::parse("q", "2.50", true).map(Quantity::milli), Ok(2_500));
        assert_eq!(Quantity::parse("q", "0.125", true).map(Quantity::milli), Ok(125));
        assert_eq!(Quantity::parse("q", "3.0", false), Ok(Quantity::units(3)), "3.0 is whole");
        for (s, div, code) in [
            ("0", true, "must_be_positive"),
            ("0.000", true, "must_be_positive"),
            ("-1", true, "must_be_positive"),
            ("1.5", false, "whole_units"),
            ("0.0001", true, "too_precise"),
            ("abc", true, "invalid_number"),
            ("", true, "invalid_number"),
            ("1e3", true, "invalid_number"),
            ("10000001", true, "out_of_range"),
        ] {
            assert_eq!(Quantity::parse("q", s, div), Err(FieldError::new("q", code)), "{s}");
        }
        assert_eq!(format_milli(2_500), "2.5");
        assert_eq!(format_milli(3_000), "3");
        assert_eq!(format_milli(-125), "-0.125");
    }

    #[test]
    fn the_ledger_never_goes_below_zero_nor_reserves_what_is_not_there() {
        let one = Quantity::units(1);
        // 10 on hand, 9 reserved: one available.
        assert!(MovementKind::Issue.effect(one).leaves_valid(10_000, 9_000, 0));
        assert!(!MovementKind::Issue.effect(Quantity::units(2)).leaves_valid(10_000, 9_000, 0));
        assert!(!MovementKind::Reserve.effect(Quantity::units(2)).leaves_valid(10_000, 9_000, 0));
        assert!(!MovementKind::Release.effect(one).leaves_valid(10_000, 0, 0));
        // A transfer arrives only as far as it is in transit.
        assert!(MovementKind::TransferIn.effect(one).leaves_valid(0, 0, 1_000));
        assert!(!MovementKind::TransferIn.effect(one).leaves_valid(0, 0, 0));
        assert_eq!(MovementKind::transit_effect(one), Effect { in_transit: 1_000, ..Effect::default() });
    }

    #[test]
    fn part_codes_are_upper_cased_and_plain() {
        assert_eq!(part_code("code", " om-10g-lr "), Ok("OM-10G-LR".into()));
        assert_eq!(part_code("code", "光模块"), Err(FieldError::new("code", "invalid_code")));
    }
}

crate::requests::choice_enum! {
    /// What warranty a part installed under warranty carries.
    pub enum WarrantyPolicy {
        /// The rest of the device's warranty.
        Device => "device",
        /// A fresh period from the installation (the part's `warranty_months`).
        Fresh => "fresh",
        /// None of its own.
        NoWarranty => "none",
    }
}

/// The last day an installed part is covered: by its policy, from the day it was installed and the
/// device's last covered day that day (none when the device was not covered).
pub fn part_warranty_until(
    policy: WarrantyPolicy,
    months: i64,
    installed: jiff::civil::Date,
    device_until: Option<jiff::civil::Date>,
) -> Option<jiff::civil::Date> {
    match policy {
        WarrantyPolicy::Device => device_until,
        WarrantyPolicy::Fresh if months > 0 => installed.checked_add(jiff::Span::new().months(months)).ok(),
        WarrantyPolicy::Fresh | WarrantyPolicy::NoWarranty => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod warranty_tests {
    use super::*;

    #[test]
    fn a_part_is_covered_by_its_policy() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        let day = d("2025-08-31");
        assert_eq!(part_warranty_until(WarrantyPolicy::Device, 0, day, Some(d("2026-01-31"))), Some(d("2026-01-31")));
        assert_eq!(part_warranty_until(WarrantyPolicy::Device, 0, day, None), None);
        assert_eq!(
            part_warranty_until(WarrantyPolicy::Fresh, 6, day, None),
            Some(d("2026-02-28")),
            "31 August + 6 months"
        );
        assert_eq!(part_warranty_until(WarrantyPolicy::NoWarranty, 6, day, Some(d("2026-01-31"))), None);
    }
}
