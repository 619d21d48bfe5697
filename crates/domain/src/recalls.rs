//! Product recalls (产品召回): the serial range a campaign covers, and where each device of it is.
use crate::FieldError;
use crate::requests::choice_enum;

/// A range of serial numbers: the same prefix and length at both ends, the numbers at their tail
/// from `from` to `to` (`XG5K-00100` … `XG5K-00199`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialRange {
    pub prefix: String,
    pub from: u64,
    pub to: u64,
    /// Digits of the tail (serials are fixed-width).
    pub width: usize,
}

/// The prefix and numeric tail of a serial: `XG5K-00100` → (`XG5K-`, `00100`).
fn split(serial: &str) -> (&str, &str) {
    let tail = serial.bytes().rev().take_while(u8::is_ascii_digit).count();
    serial.split_at(serial.len() - tail)
}

impl SerialRange {
    /// The range from `from` to `to`: both ends end in digits, have the same length and the same
    /// prefix, and `from` is not after `to`; otherwise the rule they break, on `serial_to` (or
    /// `serial_from` when an end has no number).
    pub fn parse(from: &str, to: &str) -> Result<SerialRange, FieldError> {
        let (from, to) = (from.trim().to_ascii_uppercase(), to.trim().to_ascii_uppercase());
        if from.is_empty() {
            return Err(FieldError::new("serial_from", "required"));
        }
        if to.is_empty() {
            return Err(FieldError::new("serial_to", "required"));
        }
        if from.len() > 64 || to.len() > 64 {
            return Err(FieldError::with_limit("serial_from", "too_long", 64));
        }
        let ((fp, fd), (tp, td)) = (split(&from), split(&to));
        if fd.is_empty() {
            return Err(FieldError::new("serial_from", "range_without_number"));
        }
        if td.is_empty() {
            return Err(FieldError::new("serial_to", "range_without_number"));
        }
        if from.len() != to.len() {
            return Err(FieldError::new("serial_to", "range_length_differs"));
        }
        if fp != tp || fd.len() != td.len() {
            return Err(FieldError::new("serial_to", "range_prefix_differs"));
        }
        if fd.len() > 18 {
            return Err(FieldError::new("serial_to", "range_too_wide"));
        }
        let (a, b): (u64, u64) = (fd.parse().unwrap_or(0), td.parse().unwrap_or(0));
        if a > b {
            return Err(FieldError::new("serial_to", "range_reversed"));
        }
        Ok(SerialRange { prefix: fp.to_string(), from: a, to: b, width: fd.len() })
    }

    /// The first and last serial, as written.
    pub fn ends(&self) -> (String, String) {
        let w = self.width;
        (format!("{}{:0w$}", self.prefix, self.from), format!("{}{:0w$}", self.prefix, self.to))
    }

    /// Whether `serial` is in the range (compared without case).
    pub fn contains(&self, serial: &str) -> bool {
        let s = serial.trim().to_ascii_uppercase();
        let (p, d) = split(&s);
        p == self.prefix && d.len() == self.width && d.parse::<u64>().is_ok_and(|n| (self.from..=self.to).contains(&n))
    }

    /// How many serials the range spans.
    pub fn span(&self) -> u64 {
        self.to - self.from + 1
    }
}

/// The number of a recall: `RC-20261206-0001`.
pub fn format_number(day: jiff::civil::Date, counter: u64) -> String {
    crate::requests::format_number("RC", day, counter)
}

choice_enum! {
    /// Where a recalled device is.
    pub enum DeviceState {
        /// Not reached yet.
        Pending => "pending",
        /// The customer was told.
        Contacted => "contacted",
        /// A visit is arranged (its work order exists).
        Scheduled => "scheduled",
        /// The recall work is done.
        Done => "done",
        /// The customer could not be reached.
        Unreachable => "unreachable",
    }
}

impl DeviceState {
    /// Whether a work order may still be made for it.
    pub fn needs_visit(self) -> bool {
        matches!(self, DeviceState::Pending | DeviceState::Contacted | DeviceState::Unreachable)
    }

    /// What a person may record by hand (scheduled comes with a work order, done with its completion
    /// or by hand).
    pub fn recordable(self) -> bool {
        !matches!(self, DeviceState::Scheduled)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_range_has_one_prefix_and_one_length() {
        let r = SerialRange::parse("xg5k-00100", "XG5K-00199").unwrap();
        assert_eq!((r.prefix.as_str(), r.from, r.to, r.width, r.span()), ("XG5K-", 100, 199, 5, 100));
        assert_eq!(r.ends(), ("XG5K-00100".to_string(), "XG5K-00199".to_string()));
        assert!(r.contains("XG5K-00100") && r.contains("xg5k-00199") && r.contains("XG5K-00150"));
        assert!(!r.contains("XG5K-00200") && !r.contains("XG5K-0150") && !r.contains("XG5X-00150"));
        assert!(!r.contains("XG5K-0015A"), "letters in the number are outside");
        let code = |a: &str, b: &str| SerialRange::parse(a, b).unwrap_err().code;
        assert_eq!(code("XG5K-00100", "XG5K-001999"), "range_length_differs");
        assert_eq!(code("XG5K-00100", "XG6K-00199"), "range_prefix_differs");
        assert_eq!(code("XG5K-0A100", "XG5K-00199"), "range_prefix_differs");
        assert_eq!(code("XG5K-00199", "XG5K-00100"), "range_reversed");
        assert_eq!(code("XG5K-", "XG5K-"), "range_without_number");
        assert_eq!(code("", "XG5K-1"), "required");
        // A single serial is a range of one.
        assert_eq!(SerialRange::parse("A1", "A1").unwrap().span(), 1);
    }
}
