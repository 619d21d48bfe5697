//! The work order (派工单): one visit of an engineer, its kind, its lifecycle as a state machine
//! across the two tiers of dispatch (headquarters → station → engineer), and its number.
use crate::FieldError;
use crate::calendar::BusinessCalendar;
use crate::ids::{StationId, UserId};
use crate::requests::choice_enum;
use crate::sla::{ClockEvent, ClockStatus, Signal, Target, evaluate};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

choice_enum! {
    /// What the visit is for.
    pub enum Kind {
        /// 突发故障维修: a breakdown, usually from a service request.
        Repair => "repair",
        /// 安装调试: installation and commissioning.
        Installation => "installation",
        /// 例行检查: a routine inspection.
        Inspection => "inspection",
        /// 保养 (首保 included): scheduled maintenance.
        Maintenance => "maintenance",
    }
}

choice_enum! {
    /// Where a work order is. `Closed` and `Cancelled` are final.
    pub enum Status {
        /// On the dispatcher's board: no station yet.
        Created => "created",
        /// Sent to a station, which must assign an engineer (or hand it back) before its deadline.
        Dispatched => "dispatched",
        /// Given to an engineer, who must accept or decline before the deadline.
        Assigned => "assigned",
        /// The engineer took it: the "arranged" clock has stopped.
        Accepted => "accepted",
        Travelling => "travelling",
        /// Checked in at the customer's.
        OnSite => "on_site",
        /// Diagnosed, being worked on.
        Working => "working",
        /// Waiting for parts: the request's resolution clock is paused.
        WaitingParts => "waiting_parts",
        /// Work done and signed by the customer; the station reviews it.
        Completed => "completed",
        Closed => "closed",
        Cancelled => "cancelled",
    }
}

choice_enum! {
    /// A step in the lifecycle; `Status::apply` says where it leads.
    pub enum Action {
        /// Headquarters sends it to a station (again, to move it to another one).
        Dispatch => "dispatch",
        /// The station hands it back to headquarters' board, with a reason.
        Return => "return",
        /// The station gives it to an engineer (or to another one before the visit started).
        Assign => "assign",
        Accept => "accept",
        /// The engineer refuses it, with a reason: back to the station.
        Decline => "decline",
        /// The engineer sets off.
        Depart => "depart",
        CheckIn => "check_in",
        /// The engineer records the diagnosis (fault code, cause) and starts working.
        Diagnose => "diagnose",
        WaitForParts => "wait_for_parts",
        /// The parts are there: work goes on.
        Resume => "resume",
        /// Work done, labour time and the customer's signature recorded.
        Complete => "complete",
        /// The station reviewed it.
        Close => "close",
        /// From any open state, with a reason.
        Cancel => "cancel",
    }
}

/// An action that the status does not allow.
pub type IllegalTransition = crate::lifecycle::IllegalTransition<Status, Action>;

impl Status {
    /// The actions this status allows, in `Action` declaration order. Empty for final statuses.
    pub fn allowed_actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Status::Created => &[Dispatch, Cancel],
            // Headquarters may move it to another station until an engineer has it.
            Status::Dispatched => &[Dispatch, Return, Assign, Cancel],
            Status::Assigned => &[Return, Assign, Accept, Decline, Cancel],
            // Until the engineer has set off, the station may still give it to someone else.
            Status::Accepted => &[Assign, Depart, Cancel],
            Status::Travelling => &[CheckIn, Cancel],
            // A simple job is done without a separate diagnosis step.
            Status::OnSite => &[Diagnose, WaitForParts, Complete, Cancel],
            Status::Working => &[WaitForParts, Complete, Cancel],
            Status::WaitingParts => &[Resume, Cancel],
            Status::Completed => &[Close],
            Status::Closed | Status::Cancelled => &[],
        }
    }

    /// The status after `action`, or why not.
    pub fn apply(self, action: Action) -> Result<Status, IllegalTransition> {
        let allowed = self.allowed_actions();
        if !allowed.contains(&action) {
            return Err(IllegalTransition { from: self, action, allowed });
        }
        Ok(match action {
            Action::Dispatch | Action::Decline => Status::Dispatched,
            Action::Return => Status::Created,
            Action::Assign => Status::Assigned,
            Action::Accept => Status::Accepted,
            Action::Depart => Status::Travelling,
            Action::CheckIn => Status::OnSite,
            Action::Diagnose | Action::Resume => Status::Working,
            Action::WaitForParts => Status::WaitingParts,
            Action::Complete => Status::Completed,
            Action::Close => Status::Closed,
            Action::Cancel => Status::Cancelled,
        })
    }

    /// Neither closed nor cancelled. A completed visit is still open until the station closes it.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Cancelled)
    }

    /// The visit is still to be done or under way: its request cannot be resolved meanwhile.
    pub fn blocks_resolution(self) -> bool {
        self.is_open() && self != Status::Completed
    }

    /// Waiting for parts: the request's resolution clock is paused.
    pub fn is_waiting_parts(self) -> bool {
        self == Status::WaitingParts
    }

    /// An engineer has taken it (the "arranged" clock stopped on the way here).
    pub fn is_arranged(self) -> bool {
        !matches!(self, Status::Created | Status::Dispatched | Status::Assigned | Status::Cancelled)
    }

    /// The steps that need a reason in words.
    pub fn needs_reason(action: Action) -> bool {
        matches!(action, Action::Return | Action::Decline | Action::Cancel)
    }
}

/// The number of a work order: `WO-20261206-0001`, the business day and that day's counter.
pub fn format_number(day: Date, counter: u64) -> String {
    crate::requests::format_number("WO", day, counter)
}

/// The business day and counter of a work-order number as [`format_number`] writes it.
pub fn parse_number(s: &str) -> Option<(Date, u64)> {
    crate::requests::parse_number("WO", s)
}

/// A work order as the rules see it: typed choices and instants, its station and engineer.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkOrder {
    pub id: i64,
    /// `WO-YYYYMMDD-NNNN`.
    pub number: String,
    pub kind: Kind,
    pub status: Status,
    pub service_request_id: Option<i64>,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub urgency: crate::requests::Urgency,
    /// Where the visit is (GB/T 2260): the device's installation region, else the customer's.
    pub region_code: String,
    pub description: String,
    pub station_id: Option<StationId>,
    pub engineer_id: Option<UserId>,
    /// The calendar the "arranged" clock counts on.
    pub calendar_code: String,
    pub arrange: Arrange,
    /// The deadline of the tier holding it now (the station to assign, the engineer to accept).
    pub accept_due_at: Option<Timestamp>,
    /// Stations and engineers that declined it or let their deadline pass.
    pub passed_stations: Vec<StationId>,
    pub passed_engineers: Vec<UserId>,
    pub appointment: Option<Window>,
    pub departed_at: Option<Timestamp>,
    pub checked_in_at: Option<Timestamp>,
    /// Where the phone was at check-in (latitude, longitude), if it said.
    pub check_in_location: Option<(f64, f64)>,
    pub fault_code: Option<String>,
    pub cause: Option<String>,
    pub work_done: Option<String>,
    pub labour_minutes: Option<i64>,
    pub customer_confirmed: bool,
    pub completed_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_by: Option<i64>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The "arranged within" clock: from the request's registration (or the work order's creation)
/// until an engineer accepts, on the calendar, with its 80 % warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrange {
    pub from: Timestamp,
    pub due_at: Timestamp,
    pub warn_at: Timestamp,
    pub arranged_at: Option<Timestamp>,
}

impl Arrange {
    /// The clock started at `from` with `target` on `cal`.
    pub fn start(from: Timestamp, target: SignedDuration, cal: &BusinessCalendar) -> Arrange {
        let t = Target::new(target);
        Arrange { from, due_at: cal.add(from, target), warn_at: cal.add(from, t.warn_after()), arranged_at: None }
    }

    /// Where the clock stands at `now` (stopped once arranged).
    pub fn status(&self, target: SignedDuration, cal: &BusinessCalendar, now: Timestamp) -> ClockStatus {
        let mut events = vec![ClockEvent::new(self.from, Signal::Start)];
        if let Some(at) = self.arranged_at {
            events.push(ClockEvent::new(at, Signal::Stop));
        }
        evaluate(&events, &Target::new(target), cal, now)
    }
}

/// A visit window agreed with the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Window {
    /// `from` before `to`, at most two days long: a visit window, not a season.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Window, FieldError> {
        if to <= from {
            return Err(FieldError::new("appointment_to", "before_start"));
        }
        if to.duration_since(from) > SignedDuration::from_hours(48) {
            return Err(FieldError::new("appointment_to", "window_too_long"));
        }
        Ok(Window { from, to })
    }
}

impl Window {
    /// The "on site by the agreed window" clock: it runs in wall time through the window agreed
    /// with the customer (the customer's clock, not the station's calendar) and stops at the
    /// check-in; met when the engineer arrived before the window closed, at risk once 80 % of the
    /// window has gone by without them, breached when it closed. A check-in before the window
    /// opened meets it.
    pub fn on_site_status(&self, checked_in_at: Option<Timestamp>, now: Timestamp) -> ClockStatus {
        let mut events = vec![ClockEvent::new(self.from, Signal::Start)];
        if let Some(at) = checked_in_at {
            events.push(ClockEvent::new(at.max(self.from), Signal::Stop));
        }
        evaluate(&events, &Target::new(self.to.duration_since(self.from)), &BusinessCalendar::always_open(), now)
    }

    /// When the on-site clock warns: 80 % through the window.
    pub fn on_site_warn_at(&self) -> Timestamp {
        self.from + Target::new(self.to.duration_since(self.from)).warn_after()
    }
}

/// The longest free text of a work order (diagnosis, cause, work done, a reason), in characters.
pub const TEXT_MAX: usize = 2000;

/// A labour time in minutes: 1 to 24 hours of work on one visit.
pub fn labour_minutes(field: &str, m: i64) -> Result<i64, FieldError> {
    if (1..=24 * 60).contains(&m) { Ok(m) } else { Err(FieldError::new(field, "out_of_range")) }
}

/// A phone's position: latitude −90…90, longitude −180…180, both or neither.
pub fn location(lat: Option<f64>, lng: Option<f64>) -> Result<Option<(f64, f64)>, FieldError> {
    match (lat, lng) {
        (None, None) => Ok(None),
        (Some(a), Some(o)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&o) => Ok(Some((a, o))),
        (Some(_), Some(_)) => Err(FieldError::new("lat", "out_of_range")),
        _ => Err(FieldError::new("lat", "both_or_neither")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn on_site_by_the_agreed_window() {
        use crate::sla::Health;
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let w = Window::new(t("2026-12-07T01:00:00Z"), t("2026-12-07T03:00:00Z")).unwrap();
        // Before the window: nothing counts yet.
        assert_eq!(w.on_site_status(None, t("2026-12-07T00:30:00Z")).health, Health::Ok);
        // 80 % through (1 h 36 min) without a check-in: at risk; past the end: breached.
        assert_eq!(w.on_site_warn_at(), t("2026-12-07T02:36:00Z"));
        assert_eq!(w.on_site_status(None, t("2026-12-07T02:35:00Z")).health, Health::Ok);
        assert_eq!(w.on_site_status(None, t("2026-12-07T02:36:00Z")).health, Health::AtRisk);
        assert_eq!(w.on_site_status(None, t("2026-12-07T03:00:01Z")).health, Health::Breached);
        // Checked in within the window: met, whenever asked; early counts as met.
        let met = w.on_site_status(Some(t("2026-12-07T02:50:00Z")), t("2026-12-08T00:00:00Z"));
        assert_eq!(met.met, Some(true));
        let early = w.on_site_status(Some(t("2026-12-07T00:40:00Z")), t("2026-12-07T05:00:00Z"));
        assert_eq!(early.met, Some(true));
        // Late: stopped, not met.
        let late = w.on_site_status(Some(t("2026-12-07T03:10:00Z")), t("2026-12-07T05:00:00Z"));
        assert_eq!(late.met, Some(false));
    }

    #[test]
    fn the_happy_path_goes_from_the_board_to_closed() {
        let mut s = Status::Created;
        for (a, to) in [
            (Action::Dispatch, Status::Dispatched),
            (Action::Assign, Status::Assigned),
            (Action::Accept, Status::Accepted),
            (Action::Depart, Status::Travelling),
            (Action::CheckIn, Status::OnSite),
            (Action::Diagnose, Status::Working),
            (Action::WaitForParts, Status::WaitingParts),
            (Action::Resume, Status::Working),
            (Action::Complete, Status::Completed),
            (Action::Close, Status::Closed),
        ] {
            s = s.apply(a).unwrap();
            assert_eq!(s, to, "after {a}");
        }
        assert!(s.allowed_actions().is_empty());
    }

    #[test]
    fn declines_and_returns_go_back_one_tier() {
        assert_eq!(Status::Assigned.apply(Action::Decline), Ok(Status::Dispatched));
        assert_eq!(Status::Dispatched.apply(Action::Return), Ok(Status::Created));
        assert_eq!(Status::Assigned.apply(Action::Return), Ok(Status::Created));
        assert!(Status::Travelling.apply(Action::Decline).is_err(), "too late to decline on the way");
    }

    #[test]
    fn a_check_in_before_departure_is_refused_and_says_what_is_allowed() {
        let e = Status::Accepted.apply(Action::CheckIn).unwrap_err();
        assert_eq!(e.allowed, &[Action::Assign, Action::Depart, Action::Cancel]);
        assert_eq!(e.to_string(), "cannot check_in from accepted; allowed: assign, depart, cancel");
    }

    #[test]
    fn every_open_state_can_be_cancelled_and_no_final_one_moves() {
        for s in Status::ALL {
            let can_cancel = s.apply(Action::Cancel).is_ok();
            // A completed visit happened: it is closed after review, not cancelled.
            assert_eq!(can_cancel, s.is_open() && s != Status::Completed, "{s}");
            if !s.is_open() {
                assert!(Action::ALL.iter().all(|a| s.apply(*a).is_err()), "{s} is final");
            }
        }
    }

    #[test]
    fn every_pair_is_either_allowed_with_a_target_or_refused() {
        let mut allowed = 0;
        for s in Status::ALL {
            for a in Action::ALL {
                match s.apply(a) {
                    Ok(_) => allowed += 1,
                    Err(e) => assert_eq!((e.from, e.action), (s, a)),
                }
            }
        }
        assert_eq!(allowed, 26, "the table above has 26 allowed pairs");
    }

    #[test]
    fn arranged_means_an_engineer_took_it() {
        let arranged: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_arranged()).collect();
        assert_eq!(
            arranged,
            vec![
                Status::Accepted,
                Status::Travelling,
                Status::OnSite,
                Status::Working,
                Status::WaitingParts,
                Status::Completed,
                Status::Closed
            ]
        );
        assert!(!Status::Completed.blocks_resolution() && Status::WaitingParts.blocks_resolution());
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    const TWO_HOURS: SignedDuration = SignedDuration::from_hours(2);

    #[test]
    fn the_arranged_clock_skips_the_lunch_break() {
        // Mon 13 Oct 2025 11:00: one hour before lunch, one after 13:30; 80 % (96 min) at 13:06.
        let cal = BusinessCalendar::cn_workday();
        let a = Arrange::start(at("2025-10-13T11:00:00+08:00"), TWO_HOURS, &cal);
        assert_eq!(a.due_at, at("2025-10-13T14:30:00+08:00"));
        assert_eq!(a.warn_at, at("2025-10-13T14:06:00+08:00"));
        let s = a.status(TWO_HOURS, &cal, at("2025-10-13T14:10:00+08:00"));
        assert_eq!(s.health, crate::sla::Health::AtRisk);
        let mut done = a;
        done.arranged_at = Some(at("2025-10-13T14:29:00+08:00"));
        let s = done.status(TWO_HOURS, &cal, at("2025-10-13T18:00:00+08:00"));
        assert_eq!((s.met, s.breached_at), (Some(true), None));
    }

    #[test]
    fn the_arranged_clock_sleeps_through_a_holiday_and_counts_the_make_up_saturday() {
        // Tue 30 Sep 2025 17:00: half an hour that day; 1–8 Oct national day; Thu 9 Oct from 08:30.
        let cal = BusinessCalendar::cn_workday();
        let a = Arrange::start(at("2025-09-30T17:00:00+08:00"), TWO_HOURS, &cal);
        assert_eq!(a.due_at, at("2025-10-09T10:00:00+08:00"));
        // Fri 10 Oct 17:00: the make-up Saturday 11 Oct is a working day.
        let b = Arrange::start(at("2025-10-10T17:00:00+08:00"), TWO_HOURS, &cal);
        assert_eq!(b.due_at, at("2025-10-11T10:00:00+08:00"));
        let late = b.status(TWO_HOURS, &cal, at("2025-10-11T10:01:00+08:00"));
        assert_eq!(late.breached_at, Some(at("2025-10-11T10:00:00+08:00")));
    }

    #[test]
    fn windows_labour_and_locations_are_checked() {
        let (a, b) = (at("2026-12-07T09:00:00+08:00"), at("2026-12-07T12:00:00+08:00"));
        assert!(Window::new(a, b).is_ok());
        assert_eq!(Window::new(b, a), Err(FieldError::new("appointment_to", "before_start")));
        assert_eq!(labour_minutes("labour_minutes", 0), Err(FieldError::new("labour_minutes", "out_of_range")));
        assert_eq!(labour_minutes("labour_minutes", 90), Ok(90));
        assert_eq!(location(Some(22.5), Some(113.9)), Ok(Some((22.5, 113.9))));
        assert_eq!(location(Some(22.5), None), Err(FieldError::new("lat", "both_or_neither")));
        assert_eq!(location(Some(95.0), Some(0.0)), Err(FieldError::new("lat", "out_of_range")));
    }

    #[test]
    fn numbers_are_wo_day_counter() {
        let d = jiff::civil::date(2026, 12, 6);
        assert_eq!(format_number(d, 7), "WO-20261206-0007");
        assert_eq!(parse_number("WO-20261206-0007"), Some((d, 7)));
        assert_eq!(parse_number("SR-20261206-0007"), None);
    }
}
