//! Business calendars: when the service desk is open, on the PRC working calendar.
//!
//! A calendar is either open round the clock (24×7, wall time) or open during working hours on
//! working days. Working days follow the weekly hours, then the statutory holidays and make-up
//! working days (调休) published by the State Council, then the administrator's own overrides.
//!
//! Every date is a date in Asia/Shanghai (+08:00, no DST since 1991): a holiday starts at local
//! midnight, not at UTC midnight eight hours later.
use crate::{FieldError, ValidationErrors};
use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

/// Minutes in a day; the end of an interval may be midnight of the next day.
const DAY_MINUTES: u16 = 1440;

/// How many days in a row a calendar may be closed before a search for the next opening gives up
/// (the calendar is then treated as never opening again). The longest closure in the shipped PRC
/// table is 10 days (Spring Festival 2020); three years leaves room for any sane override.
const MAX_CLOSED_DAYS: u32 = 3 * 366;

/// Asia/Shanghai: China Standard Time, a fixed +08:00.
const CST: Offset = jiff::tz::offset(8);

/// The time zone every business date is reckoned in: Asia/Shanghai, a fixed +08:00.
pub fn shanghai() -> TimeZone {
    TimeZone::fixed(CST)
}

/// Opening hours within one day, as minutes after local midnight: open from `start_min`
/// (inclusive) to `end_min` (exclusive). `end_min` may be 1440, midnight at the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    pub start_min: u16,
    pub end_min: u16,
}

impl Interval {
    pub const fn new(start_min: u16, end_min: u16) -> Self {
        Self { start_min, end_min }
    }

    /// From hours and minutes, e.g. `Interval::hm(8, 30, 12, 0)` for 08:30–12:00.
    pub const fn hm(start_h: u16, start_m: u16, end_h: u16, end_m: u16) -> Self {
        Self { start_min: start_h * 60 + start_m, end_min: end_h * 60 + end_m }
    }

    /// The whole day, 00:00–24:00.
    pub const ALL_DAY: Interval = Interval { start_min: 0, end_min: DAY_MINUTES };

    /// Whether the interval is non-empty and within the day.
    pub fn is_valid(&self) -> bool {
        self.start_min < self.end_min && self.end_min <= DAY_MINUTES
    }

    /// Length of the interval.
    pub fn duration(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.end_min) - i64::from(self.start_min))
    }

    /// Parse hours as an administrator types them: `08:30-12:00` (`24:00` allowed as the end).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new(field, "invalid_hours");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60).then_some(h * 60 + m)
        };
        let iv = Interval { start_min: minutes(a).ok_or_else(bad)?, end_min: minutes(b).ok_or_else(bad)? };
        if iv.is_valid() { Ok(iv) } else { Err(bad()) }
    }
}

/// `08:30-12:00`, the form [`Interval::parse`] reads.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start_min, self.end_min);
        write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

/// Whether a calendar counts wall time or working hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarKind {
    /// Open 24×7: every instant counts, holidays and weekly hours are ignored.
    AlwaysOpen,
    /// Open during the weekly hours on working days only.
    Working,
}

impl CalendarKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarKind::AlwaysOpen => "always_open",
            CalendarKind::Working => "working",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "always_open" => Ok(CalendarKind::AlwaysOpen),
            "working" => Ok(CalendarKind::Working),
            _ => Err(FieldError::new("kind", "unknown_kind")),
        }
    }
}

/// When the service organisation counts time: the basis of every SLA clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    pub code: String,
    pub kind: CalendarKind,
    /// Opening hours per weekday, Monday = index 0 … Sunday = 6; each day sorted, not overlapping.
    pub weekly: [Vec<Interval>; 7],
    /// Apply the shipped statutory holidays and make-up working days (调休).
    pub use_prc_holidays: bool,
    /// Administrator overrides: company holidays, closed whatever the table and the week say.
    pub extra_days_off: BTreeSet<Date>,
    /// Administrator overrides: special working days, open whatever the table and the week say.
    pub extra_working_days: BTreeSet<Date>,
}

impl BusinessCalendar {
    /// The usual office calendar: Monday to Friday 08:30–12:00 and 13:30–17:30, with the
    /// statutory holidays and make-up working days.
    pub fn cn_workday() -> Self {
        let day = || vec![Interval::hm(8, 30, 12, 0), Interval::hm(13, 30, 17, 30)];
        Self {
            code: "cn-workday".into(),
            kind: CalendarKind::Working,
            weekly: [day(), day(), day(), day(), day(), Vec::new(), Vec::new()],
            use_prc_holidays: true,
            extra_days_off: BTreeSet::new(),
            extra_working_days: BTreeSet::new(),
        }
    }

    /// Round the clock, every day: SLA time is wall time.
    pub fn always_open() -> Self {
        Self {
            code: "24x7".into(),
            kind: CalendarKind::AlwaysOpen,
            weekly: Default::default(),
            use_prc_holidays: false,
            extra_days_off: BTreeSet::new(),
            extra_working_days: BTreeSet::new(),
        }
    }

    /// Refuse a calendar that cannot be counted on: a blank code, hours that are out of range,
    /// unsorted or overlapping (`invalid_hours`), a working-hours calendar with no hours on any
    /// day (`no_working_hours`), a date both a day off and a working day (`conflicting_days`).
    ///
    /// A calendar that passes opens at least once a week, so [`BusinessCalendar::add`] always
    /// finds an answer unless the overrides close it for years.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        if self.code.trim().is_empty() {
            e.push("code", "required");
        }
        let well_formed = |day: &Vec<Interval>| {
            day.iter().all(Interval::is_valid) && day.windows(2).all(|w| w[0].end_min <= w[1].start_min)
        };
        if !self.weekly.iter().all(well_formed) {
            e.push("weekly", "invalid_hours");
        } else if self.kind == CalendarKind::Working && self.weekly.iter().all(Vec::is_empty) {
            e.push("weekly", "no_working_hours");
        }
        if self.extra_days_off.intersection(&self.extra_working_days).next().is_some() {
            e.push("extra_working_days", "conflicting_days");
        }
        e.into_result()
    }

    /// Whether `d` is a working day. The administrator's overrides come first (a company holiday
    /// wins over a special working day), then the PRC table when enabled, then the weekly hours.
    /// Every day is a working day on a 24×7 calendar.
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.kind == CalendarKind::AlwaysOpen {
            return true;
        }
        if self.extra_days_off.contains(&d) {
            return false;
        }
        if self.extra_working_days.contains(&d) {
            return true;
        }
        if self.use_prc_holidays
            && let Some(off) = prc_day(d)
        {
            return !off;
        }
        !self.weekly[weekday_index(d)].is_empty()
    }

    /// Opening hours on `d`: none on a day off; the day's weekly hours; on a working day that has
    /// no weekly hours (a make-up Saturday, a special working day) the hours of the first weekday
    /// Monday to Friday that has any, else of the first day of the week that has any.
    pub fn hours_on(&self, d: Date) -> &[Interval] {
        if self.kind == CalendarKind::AlwaysOpen {
            return std::slice::from_ref(&Interval::ALL_DAY);
        }
        if !self.is_working_day(d) {
            return &[];
        }
        let own = &self.weekly[weekday_index(d)];
        if !own.is_empty() {
            return own;
        }
        self.weekly.iter().find(|day| !day.is_empty()).map_or(&[], Vec::as_slice)
    }

    /// Whether the desk is open at `t`.
    pub fn is_open(&self, t: Timestamp) -> bool {
        match self.kind {
            CalendarKind::AlwaysOpen => true,
            CalendarKind::Working => self.spans(local_date(t)).any(|(s, e)| s <= t && t < e),
        }
    }

    /// The first open instant at or after `t`: `t` itself if open. [`Timestamp::MAX`] if the
    /// calendar stays closed for more than three years.
    pub fn next_open(&self, t: Timestamp) -> Timestamp {
        match self.kind {
            CalendarKind::AlwaysOpen => t,
            CalendarKind::Working => self.next_span(t).map_or(Timestamp::MAX, |(s, _)| s),
        }
    }

    /// The instant `d` of counted time after `start`: wall time on a 24×7 calendar; business time
    /// on a working calendar, counted from the next opening if `start` is outside hours. The
    /// answer is the earliest such instant, so it may be the very end of a period (12:00, not
    /// 13:30 after lunch). A zero duration gives `start`; a negative one counts backwards.
    /// Saturates at [`Timestamp::MAX`] / [`Timestamp::MIN`] if the calendar closes for more than
    /// three years or the time range runs out.
    pub fn add(&self, start: Timestamp, d: SignedDuration) -> Timestamp {
        if self.kind == CalendarKind::AlwaysOpen {
            return shift(start, d);
        }
        if d.is_zero() {
            return start;
        }
        if d.is_negative() {
            let mut left = d.checked_neg().unwrap_or(SignedDuration::MAX);
            let mut t = start;
            loop {
                let Some((s, e)) = self.prev_span(t) else { return Timestamp::MIN };
                let len = e.duration_since(s);
                if left <= len {
                    return shift(e, -left);
                }
                left -= len;
                t = s;
            }
        }
        let mut left = d;
        let mut t = start;
        loop {
            let Some((s, e)) = self.next_span(t) else { return Timestamp::MAX };
            let len = e.duration_since(s);
            if left <= len {
                return shift(s, left);
            }
            left -= len;
            t = e;
        }
    }

    /// Counted time in `[a, b)`: wall time on a 24×7 calendar, open time on a working calendar;
    /// zero if `b <= a`.
    pub fn business_time_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        if b <= a {
            return SignedDuration::ZERO;
        }
        if self.kind == CalendarKind::AlwaysOpen {
            return b.duration_since(a);
        }
        let mut total = SignedDuration::ZERO;
        let (mut d, last) = (local_date(a), local_date(b));
        loop {
            for (s, e) in self.spans(d) {
                let (s, e) = (s.max(a), e.min(b));
                if s < e {
                    total += e.duration_since(s);
                }
            }
            match d.tomorrow() {
                Ok(next) if next <= last => d = next,
                _ => return total,
            }
        }
    }

    /// The open periods of local day `d` as instants, in order.
    fn spans(&self, d: Date) -> impl DoubleEndedIterator<Item = (Timestamp, Timestamp)> + '_ {
        self.hours_on(d)
            .iter()
            .filter_map(move |iv| Some((local_instant(d, iv.start_min)?, local_instant(d, iv.end_min)?)))
    }

    /// The first open period ending after `t`, its start clipped to `t`.
    fn next_span(&self, t: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let mut d = local_date(t);
        for _ in 0..=MAX_CLOSED_DAYS {
            if let Some((s, e)) = self.spans(d).find(|&(_, e)| e > t) {
                return Some((s.max(t), e));
            }
            d = d.tomorrow().ok()?;
        }
        None
    }

    /// The last open period starting before `t`, its end clipped to `t`.
    fn prev_span(&self, t: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let mut d = local_date(t);
        for _ in 0..=MAX_CLOSED_DAYS {
            if let Some((s, e)) = self.spans(d).rev().find(|&(s, _)| s < t) {
                return Some((s, e.min(t)));
            }
            d = d.yesterday().ok()?;
        }
        None
    }
}

fn weekday_index(d: Date) -> usize {
    usize::from(d.weekday().to_monday_zero_offset().unsigned_abs())
}

/// The date in Shanghai at instant `t`.
fn local_date(t: Timestamp) -> Date {
    CST.to_datetime(t).date()
}

/// The instant `minute` minutes after midnight of local day `d` (1440 = the next midnight).
fn local_instant(d: Date, minute: u16) -> Option<Timestamp> {
    let midnight = CST.to_timestamp(d.to_datetime(Time::midnight())).ok()?;
    midnight.checked_add(SignedDuration::from_mins(i64::from(minute))).ok()
}

/// `t + d`, saturating at the ends of the time range.
fn shift(t: Timestamp, d: SignedDuration) -> Timestamp {
    let bound = if d.is_negative() { Timestamp::MIN } else { Timestamp::MAX };
    t.checked_add(d).unwrap_or(bound)
}

/// The shipped PRC working calendar (github.com/NateScarlet/holiday-cn, MIT), one file a year.
/// A year's file may also hold late-December days of the year before.
const PRC_FILES: [&str; 21] = [
    include_str!("../../../data/holiday-cn/2007.json"),
    include_str!("../../../data/holiday-cn/2008.json"),
    include_str!("../../../data/holiday-cn/2009.json"),
    include_str!("../../../data/holiday-cn/2010.json"),
    include_str!("../../../data/holiday-cn/2011.json"),
    include_str!("../../../data/holiday-cn/2012.json"),
    include_str!("../../../data/holiday-cn/2013.json"),
    include_str!("../../../data/holiday-cn/2014.json"),
    include_str!("../../../data/holiday-cn/2015.json"),
    include_str!("../../../data/holiday-cn/2016.json"),
    include_str!("../../../data/holiday-cn/2017.json"),
    include_str!("../../../data/holiday-cn/2018.json"),
    include_str!("../../../data/holiday-cn/2019.json"),
    include_str!("../../../data/holiday-cn/2020.json"),
    include_str!("../../../data/holiday-cn/2021.json"),
    include_str!("../../../data/holiday-cn/2022.json"),
    include_str!("../../../data/holiday-cn/2023.json"),
    include_str!("../../../data/holiday-cn/2024.json"),
    include_str!("../../../data/holiday-cn/2025.json"),
    include_str!("../../../data/holiday-cn/2026.json"),
    include_str!("../../../data/holiday-cn/2027.json"),
];

#[derive(Deserialize)]
struct PrcFile {
    year: i16,
    days: Vec<PrcFileDay>,
}

#[derive(Deserialize)]
struct PrcFileDay {
    name: String,
    date: Date,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// One entry of the PRC table.
struct PrcDay {
    off: bool,
    name: String,
}

struct PrcTable {
    days: BTreeMap<Date, PrcDay>,
    /// Years whose arrangement has been published (their file lists days).
    published: BTreeSet<i16>,
}

/// The table, indexed by date. The files are compiled in and a test proves each one parses, so a
/// file that does not is left out rather than failing at run time.
static PRC: LazyLock<PrcTable> = LazyLock::new(|| {
    let mut table = PrcTable { days: BTreeMap::new(), published: BTreeSet::new() };
    for file in PRC_FILES.iter().filter_map(|text| serde_json::from_str::<PrcFile>(text).ok()) {
        if !file.days.is_empty() {
            table.published.insert(file.year);
        }
        for day in file.days {
            table.days.insert(day.date, PrcDay { off: day.is_off_day, name: day.name });
        }
    }
    table
});

/// The PRC working calendar on `d`: `Some(true)` a statutory holiday (closed even on a weekday),
/// `Some(false)` a make-up working day (调休, open even on a weekend), `None` an ordinary day.
pub fn prc_day(d: Date) -> Option<bool> {
    PRC.days.get(&d).map(|day| day.off)
}

/// The name of the holiday a PRC table day belongs to, e.g. `国庆节`, for telling a user why a
/// due time moved.
pub fn prc_day_name(d: Date) -> Option<&'static str> {
    PRC.days.get(&d).map(|day| day.name.as_str())
}

/// Whether the holiday arrangement of `year` is in the shipped table. The State Council publishes
/// each year's late in the year before; for a year not covered, only the weekly hours and the
/// administrator's overrides apply.
pub fn prc_year_published(year: i16) -> bool {
    PRC.published.contains(&year)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }
    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }
    fn due(cal: &BusinessCalendar, start: &str, d: SignedDuration) -> Timestamp {
        cal.add(at(start), d)
    }

    #[test]
    fn every_shipped_holiday_file_parses() {
        for (i, text) in PRC_FILES.iter().enumerate() {
            let file: PrcFile = serde_json::from_str(text).unwrap();
            assert_eq!(i64::from(file.year), 2007 + i as i64);
        }
        assert!((2007..=2026).all(prc_year_published));
        assert!(!prc_year_published(2027), "2027 is not published yet; update this test when it is");
    }

    #[test]
    fn the_table_knows_national_day_2025_and_its_make_up_days() {
        assert_eq!(prc_day(date(2025, 9, 28)), Some(false));
        for day in 1..=8 {
            assert_eq!(prc_day(date(2025, 10, day)), Some(true), "2025-10-{day:02}");
        }
        assert_eq!(prc_day(date(2025, 10, 9)), None);
        assert_eq!(prc_day(date(2025, 10, 11)), Some(false));
        assert_eq!(prc_day_name(date(2025, 10, 1)), Some("国庆节、中秋节"));
        assert_eq!(prc_day(date(2025, 10, 13)), None);
    }

    #[test]
    fn a_late_december_day_from_the_next_years_file_is_known() {
        // 2018-12-29 (Saturday) and 2018-12-31 (Monday) are only in 2019.json.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(prc_day(date(2018, 12, 29)), Some(false));
        assert_eq!(prc_day(date(2018, 12, 31)), Some(true));
        assert!(cal.is_working_day(date(2018, 12, 29)));
        assert!(!cal.is_working_day(date(2018, 12, 31)));
    }

    #[test]
    fn the_standard_calendars_are_valid() {
        assert_eq!(BusinessCalendar::cn_workday().validate(), Ok(()));
        assert_eq!(BusinessCalendar::always_open().validate(), Ok(()));
    }

    #[test]
    fn validate_refuses_a_working_calendar_with_no_working_hours() {
        let mut cal = BusinessCalendar::cn_workday();
        cal.weekly = Default::default();
        assert_eq!(cal.validate(), Err(ValidationErrors::single("weekly", "no_working_hours")));
    }

    #[test]
    fn validate_refuses_overlapping_unsorted_and_out_of_range_hours() {
        let bad_days = [
            vec![Interval::hm(8, 0, 12, 0), Interval::hm(11, 0, 13, 0)],
            vec![Interval::hm(13, 30, 17, 30), Interval::hm(8, 30, 12, 0)],
            vec![Interval::new(1200, 1441)],
            vec![Interval::hm(9, 0, 9, 0)],
            vec![Interval::hm(18, 0, 9, 0)],
        ];
        for day in bad_days {
            let mut cal = BusinessCalendar::cn_workday();
            cal.weekly[2] = day.clone();
            assert_eq!(cal.validate(), Err(ValidationErrors::single("weekly", "invalid_hours")), "{day:?}");
        }
        let mut cal = BusinessCalendar::cn_workday();
        cal.weekly[2] = vec![Interval::hm(8, 0, 12, 0), Interval::hm(12, 0, 24, 0)];
        assert_eq!(cal.validate(), Ok(()), "touching intervals and an end at midnight are fine");
    }

    #[test]
    fn validate_refuses_a_date_that_is_both_a_day_off_and_a_working_day() {
        let mut cal = BusinessCalendar::cn_workday();
        cal.extra_days_off.insert(date(2025, 10, 18));
        cal.extra_working_days.insert(date(2025, 10, 18));
        assert_eq!(cal.validate(), Err(ValidationErrors::single("extra_working_days", "conflicting_days")));
    }

    #[test]
    fn hours_are_read_and_written_as_an_administrator_types_them() {
        assert_eq!(Interval::parse("h", " 08:30-12:00 "), Ok(Interval::hm(8, 30, 12, 0)));
        assert_eq!(Interval::parse("h", "13:30 - 24:00"), Ok(Interval::new(810, 1440)));
        for bad in ["", "8-12", "12:00-08:00", "08:60-09:00", "23:00-24:30", "x:00-09:00"] {
            assert_eq!(Interval::parse("h", bad), Err(FieldError::new("h", "invalid_hours")), "{bad}");
        }
        assert_eq!(Interval::hm(8, 30, 24, 0).to_string(), "08:30-24:00");
    }

    #[test]
    fn a_request_before_national_day_2025_is_due_on_the_first_working_day_after_it() {
        // Tue 30 Sep 16:00–17:30 = 1.5 h; holiday 1–8 Oct; Thu 9 Oct 08:30–12:00 = 3.5 h, 13:30 + 3 h.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2025-09-30T16:00:00+08:00", hours(8)), at("2025-10-09T16:30:00+08:00"));
    }

    #[test]
    fn the_make_up_saturday_after_national_day_2025_is_counted() {
        // Fri 10 Oct 16:00–17:30 = 1.5 h; Sat 11 Oct is a make-up working day: 3.5 h, then 13:30 + 3 h.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(cal.hours_on(date(2025, 10, 11)), cal.weekly[0].as_slice());
        assert_eq!(due(&cal, "2025-10-10T16:00:00+08:00", hours(8)), at("2025-10-11T16:30:00+08:00"));
    }

    #[test]
    fn the_make_up_sunday_before_national_day_2025_is_counted() {
        // Fri 26 Sep 16:00 + 1.5 h; Sat 27 Sep closed; Sun 28 Sep is a make-up working day.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2025-09-26T16:00:00+08:00", hours(8)), at("2025-09-28T16:30:00+08:00"));
    }

    #[test]
    fn a_request_before_national_day_2026_is_due_on_the_first_working_day_after_it() {
        // 2026: holiday Thu 1 – Wed 7 Oct; Wed 30 Sep 16:00 + 1.5 h, then Thu 8 Oct 08:30 + 6.5 h.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2026-09-30T16:00:00+08:00", hours(8)), at("2026-10-08T16:30:00+08:00"));
    }

    #[test]
    fn the_make_up_days_around_national_day_2026_are_counted() {
        // Sat 10 Oct 2026 and Sun 20 Sep 2026 are make-up working days.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2026-10-09T16:00:00+08:00", hours(8)), at("2026-10-10T16:30:00+08:00"));
        assert_eq!(due(&cal, "2026-09-18T16:00:00+08:00", hours(8)), at("2026-09-20T16:30:00+08:00"));
        // Mid-Autumn Festival: Fri 25 Sep 2026 is a holiday, then the weekend.
        assert_eq!(due(&cal, "2026-09-24T16:00:00+08:00", hours(8)), at("2026-09-28T16:30:00+08:00"));
    }

    #[test]
    fn a_start_on_saturday_night_starts_counting_on_monday_morning() {
        // Mon 20 Oct 2025: 3.5 h + 4 h; Tue 21 Oct 08:30 + 0.5 h.
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2025-10-18T22:00:00+08:00", hours(8)), at("2025-10-21T09:00:00+08:00"));
        assert_eq!(cal.next_open(at("2025-10-18T22:00:00+08:00")), at("2025-10-20T08:30:00+08:00"));
    }

    #[test]
    fn a_start_in_the_lunch_break_starts_counting_at_1330() {
        let cal = BusinessCalendar::cn_workday();
        assert!(!cal.is_open(at("2025-10-20T12:30:00+08:00")));
        assert_eq!(due(&cal, "2025-10-20T12:30:00+08:00", hours(2)), at("2025-10-20T15:30:00+08:00"));
    }

    #[test]
    fn a_start_at_1730_exactly_starts_counting_the_next_morning() {
        let cal = BusinessCalendar::cn_workday();
        assert!(cal.is_open(at("2025-10-20T17:29:59+08:00")));
        assert!(!cal.is_open(at("2025-10-20T17:30:00+08:00")));
        assert!(cal.is_open(at("2025-10-20T08:30:00+08:00")));
        assert!(!cal.is_open(at("2025-10-20T12:00:00+08:00")));
        assert_eq!(due(&cal, "2025-10-20T17:30:00+08:00", hours(1)), at("2025-10-21T09:30:00+08:00"));
    }

    #[test]
    fn a_target_reached_at_the_end_of_a_period_is_due_then_not_after_the_break() {
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2025-10-20T08:30:00+08:00", mins(210)), at("2025-10-20T12:00:00+08:00"));
        assert_eq!(due(&cal, "2025-10-20T12:00:00+08:00", SignedDuration::ZERO), at("2025-10-20T12:00:00+08:00"));
    }

    #[test]
    fn a_negative_duration_counts_backwards_in_business_time() {
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(due(&cal, "2025-10-09T16:30:00+08:00", hours(-8)), at("2025-09-30T16:00:00+08:00"));
        assert_eq!(due(&cal, "2025-10-20T13:30:00+08:00", mins(-30)), at("2025-10-20T11:30:00+08:00"));
    }

    #[test]
    fn a_24x7_calendar_counts_wall_time_and_ignores_holidays() {
        let cal = BusinessCalendar::always_open();
        assert_eq!(due(&cal, "2025-09-30T16:00:00+08:00", hours(8)), at("2025-10-01T00:00:00+08:00"));
        assert!(cal.is_open(at("2025-10-01T03:00:00+08:00")));
        assert!(cal.is_working_day(date(2025, 10, 1)));
        assert_eq!(cal.hours_on(date(2025, 10, 1)), &[Interval::ALL_DAY]);
        let t = at("2025-10-04T03:17:00+08:00");
        assert_eq!(cal.next_open(t), t);
        assert_eq!(
            cal.business_time_between(at("2025-09-30T16:00:00+08:00"), at("2025-10-09T16:00:00+08:00")),
            hours(9 * 24)
        );
        assert_eq!(cal.business_time_between(t, at("2025-10-01T00:00:00+08:00")), SignedDuration::ZERO);
    }

    #[test]
    fn business_time_between_skips_a_weekend_and_a_holiday() {
        let cal = BusinessCalendar::cn_workday();
        // Fri 17 Oct 16:00 – Mon 20 Oct 10:00: 1.5 h + 1.5 h.
        assert_eq!(
            cal.business_time_between(at("2025-10-17T16:00:00+08:00"), at("2025-10-20T10:00:00+08:00")),
            hours(3)
        );
        // Tue 30 Sep 16:00 – Thu 9 Oct 10:00 across National Day: 1.5 h + 1.5 h.
        assert_eq!(
            cal.business_time_between(at("2025-09-30T16:00:00+08:00"), at("2025-10-09T10:00:00+08:00")),
            hours(3)
        );
        // A whole week with its make-up Saturday: Mon 13 – Mon 20 Oct 2025 is 5 × 7.5 h.
        assert_eq!(
            cal.business_time_between(at("2025-10-13T00:00:00+08:00"), at("2025-10-20T00:00:00+08:00")),
            mins(5 * 450)
        );
        assert_eq!(
            cal.business_time_between(at("2025-10-06T00:00:00+08:00"), at("2025-10-13T00:00:00+08:00")),
            mins(3 * 450),
            "Mon 6 – Wed 8 Oct are holidays; Thu, Fri and the make-up Saturday count"
        );
    }

    #[test]
    fn business_time_between_is_zero_for_an_empty_or_backward_range() {
        let cal = BusinessCalendar::cn_workday();
        let (a, b) = (at("2025-10-20T09:00:00+08:00"), at("2025-10-20T11:00:00+08:00"));
        assert_eq!(cal.business_time_between(a, a), SignedDuration::ZERO);
        assert_eq!(cal.business_time_between(b, a), SignedDuration::ZERO);
        assert_eq!(cal.business_time_between(a, b), hours(2));
    }

    #[test]
    fn a_company_holiday_closes_an_ordinary_working_day() {
        let mut cal = BusinessCalendar::cn_workday();
        cal.extra_days_off.insert(date(2025, 10, 9));
        assert!(!cal.is_working_day(date(2025, 10, 9)));
        assert!(cal.hours_on(date(2025, 10, 9)).is_empty());
        assert_eq!(due(&cal, "2025-09-30T16:00:00+08:00", hours(8)), at("2025-10-10T16:30:00+08:00"));
        cal.extra_days_off.insert(date(2025, 10, 11));
        assert!(!cal.is_working_day(date(2025, 10, 11)), "a company holiday wins over a make-up day");
    }

    #[test]
    fn a_special_working_day_opens_a_weekend_or_a_holiday() {
        let mut cal = BusinessCalendar::cn_workday();
        cal.extra_working_days.insert(date(2025, 10, 18));
        assert_eq!(due(&cal, "2025-10-17T16:00:00+08:00", hours(8)), at("2025-10-18T16:30:00+08:00"));
        cal.extra_working_days.insert(date(2025, 10, 8));
        assert!(cal.is_working_day(date(2025, 10, 8)), "the override wins over the PRC table");
        assert_eq!(due(&cal, "2025-09-30T16:00:00+08:00", hours(8)), at("2025-10-08T16:30:00+08:00"));
    }

    #[test]
    fn a_calendar_without_prc_holidays_follows_the_week_only() {
        let mut cal = BusinessCalendar::cn_workday();
        cal.use_prc_holidays = false;
        assert!(cal.is_working_day(date(2025, 10, 1)));
        assert!(!cal.is_working_day(date(2025, 10, 11)));
    }

    #[test]
    fn a_make_up_day_takes_the_hours_of_the_first_weekday_with_hours() {
        let mut cal = BusinessCalendar::cn_workday();
        cal.weekly[0] = Vec::new();
        cal.weekly[1] = vec![Interval::hm(9, 0, 18, 0)];
        assert_eq!(cal.hours_on(date(2025, 10, 11)), &[Interval::hm(9, 0, 18, 0)]);
    }

    #[test]
    fn just_after_midnight_on_new_years_day_is_a_holiday_not_new_years_eve() {
        // 2026-01-01T00:30+08:00 is 2025-12-31T16:30Z, a Wednesday in UTC.
        let t = at("2026-01-01T00:30:00+08:00");
        assert_eq!(t, at("2025-12-31T16:30:00Z"));
        let mut cal = BusinessCalendar::cn_workday();
        cal.weekly = std::array::from_fn(|_| vec![Interval::ALL_DAY]);
        assert!(!cal.is_open(t));
        assert!(!cal.is_working_day(date(2026, 1, 1)));
        assert!(cal.is_open(at("2025-12-31T23:59:00+08:00")));
        // 1–3 Jan 2026 are holidays; Sun 4 Jan is a make-up day.
        assert_eq!(cal.next_open(t), at("2026-01-04T00:00:00+08:00"));
        assert_eq!(
            cal.business_time_between(at("2025-12-31T23:00:00+08:00"), at("2026-01-01T01:00:00+08:00")),
            hours(1)
        );
    }

    #[test]
    fn a_calendar_closed_for_years_gives_up_instead_of_looping() {
        let mut cal = BusinessCalendar::cn_workday();
        let mut d = date(2025, 1, 1);
        while d < date(2029, 1, 1) {
            cal.extra_days_off.insert(d);
            d = d.tomorrow().unwrap();
        }
        assert_eq!(due(&cal, "2025-01-01T09:00:00+08:00", hours(1)), Timestamp::MAX);
        assert_eq!(cal.next_open(at("2025-01-01T09:00:00+08:00")), Timestamp::MAX);
        assert_eq!(due(&cal, "2028-12-31T09:00:00+08:00", hours(-1)), Timestamp::MIN);
    }

    #[test]
    fn the_ends_of_time_saturate_instead_of_panicking() {
        let cal = BusinessCalendar::cn_workday();
        assert_eq!(cal.add(Timestamp::MAX, hours(1)), Timestamp::MAX);
        assert_eq!(cal.add(Timestamp::MIN, hours(-1)), Timestamp::MIN);
        assert_eq!(BusinessCalendar::always_open().add(Timestamp::MAX, hours(1)), Timestamp::MAX);
        assert!(!cal.is_open(Timestamp::MAX));
    }

    /// A fixed-seed linear congruential generator, so the property test is repeatable.
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn add_then_business_time_between_gives_back_the_duration() {
        let mut rng = Lcg(20251001);
        let mut cal = BusinessCalendar::cn_workday();
        cal.extra_days_off.insert(date(2025, 12, 24));
        cal.extra_working_days.insert(date(2026, 3, 7));
        let calendars = [cal, BusinessCalendar::always_open()];
        let base = at("2024-12-20T00:00:00+08:00");
        for i in 0..400 {
            let cal = &calendars[i % 2];
            let start = base + SignedDuration::from_secs(rng.below(2 * 366 * 86_400) as i64);
            let d = SignedDuration::from_secs(rng.below(60 * 60 * 200) as i64 + 1);
            let end = cal.add(start, d);
            assert!(end > start, "{start} + {d:?}");
            assert_eq!(cal.business_time_between(start, end), d, "{start} + {d:?} = {end}");
            let just_before = end - SignedDuration::from_secs(1);
            assert!(cal.business_time_between(start, just_before) < d, "{end} is the earliest");
            let back = cal.add(end, -d);
            assert_eq!(cal.business_time_between(back, end), d, "{end} - {d:?} = {back}");
            assert!(back >= start);
            let open = cal.next_open(start);
            assert!(open >= start && cal.is_open(open));
            assert_eq!(cal.business_time_between(start, open), SignedDuration::ZERO);
        }
    }
}
