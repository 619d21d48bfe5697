//! The service request (服务请求): its choices, its lifecycle as a state machine, what each step
//! does to the SLA clocks, and its number.
use crate::FieldError;
use crate::sla::Signal;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

/// A closed set of choices stored and sent as a snake_case string.
///
/// Generates the enum (serde names taken from the same strings, so they cannot drift apart),
/// `ALL`, `as_str`, `parse(field, s)` (code `invalid_choice`) and `Display`.
macro_rules! choice_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $s:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $s)] $variant ),+
        }

        impl $name {
            /// Every choice, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The stable snake_case name, as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $s ),+
                }
            }

            /// The choice named `s` (surrounding blanks ignored); `invalid_choice` otherwise.
            pub fn parse(field: &str, s: &str) -> Result<Self, $crate::FieldError> {
                let s = s.trim();
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::FieldError::new(field, "invalid_choice"))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use choice_enum;

choice_enum! {
    /// How the request reached us.
    pub enum Channel {
        Phone => "phone",
        Email => "email",
        Web => "web",
        Chat => "chat",
        Wechat => "wechat",
        WalkIn => "walk_in",
        QrCode => "qr_code",
        Dealer => "dealer",
    }
}

choice_enum! {
    /// What the customer asks for.
    pub enum RequestType {
        Consultation => "consultation",
        Repair => "repair",
        Installation => "installation",
        Maintenance => "maintenance",
        Upgrade => "upgrade",
        Delivery => "delivery",
        Complaint => "complaint",
        Suggestion => "suggestion",
        ReturnExchange => "return_exchange",
        Training => "training",
    }
}

choice_enum! {
    /// How urgent the request is; declared most urgent first, so sorting puts urgent first.
    pub enum Urgency {
        Urgent => "urgent",
        High => "high",
        Normal => "normal",
        Low => "low",
    }
}

choice_enum! {
    /// Where a request is in its lifecycle. `Closed` and `Cancelled` are final.
    pub enum Status {
        New => "new",
        Accepted => "accepted",
        /// The customer has had a first answer; the response clock has stopped.
        Responded => "responded",
        InProgress => "in_progress",
        /// Waiting for the customer; the SLA clocks are paused.
        WaitingCustomer => "waiting_customer",
        /// The service side considers the request solved; the customer may confirm or reopen.
        Resolved => "resolved",
        Confirmed => "confirmed",
        Closed => "closed",
        Reopened => "reopened",
        Cancelled => "cancelled",
    }
}

choice_enum! {
    /// A step in the lifecycle; `Status::apply` says where it leads.
    pub enum Action {
        Accept => "accept",
        Respond => "respond",
        StartWork => "start_work",
        WaitForCustomer => "wait_for_customer",
        Resume => "resume",
        Resolve => "resolve",
        Confirm => "confirm",
        Close => "close",
        Reopen => "reopen",
        /// The caller must require a reason.
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
            // Resolve straight from new or accepted: first-contact resolution.
            Status::New => &[Accept, Respond, Resolve, Cancel],
            Status::Accepted => &[Respond, StartWork, Resolve, Cancel],
            Status::Responded => &[StartWork, WaitForCustomer, Resolve, Cancel],
            Status::InProgress => &[WaitForCustomer, Resolve, Cancel],
            Status::WaitingCustomer => &[Resume, Resolve, Cancel],
            Status::Resolved => &[Confirm, Close, Reopen],
            Status::Confirmed => &[Close, Reopen],
            Status::Reopened => &[StartWork, WaitForCustomer, Resolve, Cancel],
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
            Action::Accept => Status::Accepted,
            Action::Respond => Status::Responded,
            Action::StartWork | Action::Resume => Status::InProgress,
            Action::WaitForCustomer => Status::WaitingCustomer,
            Action::Resolve => Status::Resolved,
            Action::Confirm => Status::Confirmed,
            Action::Close => Status::Closed,
            Action::Reopen => Status::Reopened,
            Action::Cancel => Status::Cancelled,
        })
    }

    /// Not closed and not cancelled (resolved and confirmed requests are still open).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Cancelled)
    }

    /// Waiting for the customer: the SLA clocks are paused.
    pub fn is_paused(self) -> bool {
        self == Status::WaitingCustomer
    }

    /// Whether the response clock can still be running (or paused) in this status: it stops on
    /// respond, resolve and cancel. `InProgress` and `WaitingCustomer` can be reached without a
    /// respond (accepted → start_work), so for them it may or may not still run.
    fn response_clock_may_run(self) -> bool {
        matches!(self, Status::New | Status::Accepted | Status::InProgress | Status::WaitingCustomer)
    }
}

/// What a step does to the two SLA clocks of a request; `None` leaves a clock as it is.
///
/// A service request as the rules see it: typed choices, typed instants, its station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: i64,
    /// `SR-YYYYMMDD-NNNN`.
    pub number: String,
    pub customer_id: i64,
    pub device_id: Option<i64>,
    pub request_type: RequestType,
    pub channel: Channel,
    pub urgency: Urgency,
    pub status: Status,
    pub description: String,
    pub fault_code: Option<String>,
    /// The responsible station; `None`: headquarters'.
    pub station_id: Option<crate::ids::StationId>,
    pub assignee_id: Option<i64>,
    pub created_by: Option<i64>,
    pub first_contact_resolution: bool,
    pub promised_reply_at: Option<Timestamp>,
    /// The calendar its clocks count on, and the policy that set its targets.
    pub calendar_code: String,
    pub policy_id: Option<i64>,
    pub response_target_min: i64,
    pub resolution_target_min: i64,
    /// The cached SLA figures (derived from the steps; see `sla::Figures`).
    pub sla: crate::sla::Figures,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

impl Request {
    pub fn targets(&self) -> crate::sla::Targets {
        crate::sla::Targets::from_minutes(self.response_target_min, self.resolution_target_min)
    }

    /// Open: neither closed nor cancelled.
    pub fn is_open(&self) -> bool {
        !matches!(self.status, Status::Closed | Status::Cancelled)
    }
}

/// A recorded step of a request's timeline that its SLA clocks hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: Timestamp,
    pub kind: StepKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The request was registered: both clocks start.
    Created,
    /// A lifecycle step from a status.
    Transition { from: Status, action: Action },
    /// A visit of the request waits for parts: the resolution clock pauses (the response clock
    /// is not touched).
    PartsWait,
    /// The parts are there (or the visit was cancelled while waiting): the resolution clock runs on.
    PartsArrived,
}

/// Signals are derived from the status a step starts from, which cannot tell everything (an
/// `InProgress` request may or may not have been responded to), so the clock must treat a signal
/// that does not apply to its state as a no-op: `Stop` on a stopped clock, `Pause` on a stopped
/// or paused one, `Resume` on one that is not paused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockEffects {
    pub response: Option<Signal>,
    pub resolution: Option<Signal>,
}

/// A new request starts both clocks.
pub fn on_creation() -> ClockEffects {
    ClockEffects { response: Some(Signal::Start), resolution: Some(Signal::Start) }
}

/// What `action` taken from `from` does to the clocks. Nothing for an action `from` does not allow.
///
/// - respond stops the response clock;
/// - resolve stops the resolution clock, and the response clock if it may still run
///   (first-contact resolution answers the customer);
/// - wait_for_customer pauses the resolution clock, and the response clock if it may still run;
/// - resume resumes both (a clock that is not paused ignores it);
/// - reopen restarts the resolution clock and never touches the response clock;
/// - cancel stops the resolution clock, and the response clock if it may still run;
/// - accept, start_work, confirm and close leave the clocks alone.
pub fn clock_effects(from: Status, action: Action) -> ClockEffects {
    if from.apply(action).is_err() {
        return ClockEffects::default();
    }
    let response_if_running = |s: Signal| from.response_clock_may_run().then_some(s);
    match action {
        Action::Accept | Action::StartWork | Action::Confirm | Action::Close => ClockEffects::default(),
        Action::Respond => ClockEffects { response: Some(Signal::Stop), resolution: None },
        Action::WaitForCustomer => {
            ClockEffects { response: response_if_running(Signal::Pause), resolution: Some(Signal::Pause) }
        }
        Action::Resume => {
            ClockEffects { response: response_if_running(Signal::Resume), resolution: Some(Signal::Resume) }
        }
        Action::Resolve | Action::Cancel => {
            ClockEffects { response: response_if_running(Signal::Stop), resolution: Some(Signal::Stop) }
        }
        Action::Reopen => ClockEffects { response: None, resolution: Some(Signal::Start) },
    }
}

/// The offset of Asia/Shanghai, which has had no daylight saving time since 1991.
const SHANGHAI: Offset = Offset::constant(8);

/// The business day of an instant: its date in Asia/Shanghai (+08:00).
pub fn business_day(t: Timestamp) -> Date {
    SHANGHAI.to_datetime(t).date()
}

/// The number of a request: `SR-20261122-0001`, the business day and that day's counter,
/// at least four digits (`SR-20261122-10000` after 9999).
pub fn format_request_number(day: Date, counter: u64) -> String {
    format_number("SR", day, counter)
}

/// A day-counter number of any kind of record: `PREFIX-YYYYMMDD-NNNN`.
pub(crate) fn format_number(prefix: &str, day: Date, counter: u64) -> String {
    format!("{prefix}-{:04}{:02}{:02}-{counter:04}", day.year(), day.month(), day.day())
}

/// The business day and counter of a request number as `format_request_number` writes it
/// (surrounding blanks and a lower-case `sr` tolerated). `None` for anything else, including
/// counter 0 and non-canonical widths such as `SR-20261122-001` or `SR-20261122-00001`.
pub fn parse_request_number(s: &str) -> Option<(Date, u64)> {
    parse_number("SR", s)
}

/// The day and counter of a number `format_number(prefix, …)` wrote (the prefix in either case).
pub(crate) fn parse_number(prefix: &str, s: &str) -> Option<(Date, u64)> {
    let s = s.trim();
    let head = s.get(..prefix.len() + 1)?;
    if !head.eq_ignore_ascii_case(&format!("{prefix}-")) {
        return None;
    }
    let rest = &s[prefix.len() + 1..];
    let (day, counter) = rest.split_once('-')?;
    if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if counter.len() < 4 || !counter.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = Date::new(day[..4].parse().ok()?, day[4..6].parse().ok()?, day[6..].parse().ok()?).ok()?;
    let n: u64 = counter.parse().ok()?;
    if n == 0 || format!("{n:04}") != counter {
        return None;
    }
    Some((date, n))
}

/// The longest description, in characters.
pub const DESCRIPTION_MAX: usize = 4000;

/// The customer's description of the problem: required, trimmed, at most 4000 characters.
pub fn description(field: &str, s: &str) -> Result<String, FieldError> {
    crate::text::required_text(field, s, DESCRIPTION_MAX)
}

/// The longest note on a request's timeline (a note, what a transition did, how a first-contact
/// resolution solved it), in characters.
pub const NOTE_MAX: usize = 4000;

/// A note that may be blank: trimmed, at most [`NOTE_MAX`] characters.
pub fn note(field: &str, s: &str) -> Result<String, FieldError> {
    crate::text::optional_text(field, Some(s), NOTE_MAX).map(Option::unwrap_or_default)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use Action::*;
    use Status::*;
    use jiff::civil::date;

    /// Every allowed transition, and nothing else.
    const TRANSITIONS: &[(Status, Action, Status)] = &[
        (New, Accept, Accepted),
        (New, Respond, Responded),
        (New, Resolve, Resolved),
        (New, Cancel, Cancelled),
        (Accepted, Respond, Responded),
        (Accepted, StartWork, InProgress),
        (Accepted, Resolve, Resolved),
        (Accepted, Cancel, Cancelled),
        (Responded, StartWork, InProgress),
        (Responded, WaitForCustomer, WaitingCustomer),
        (Responded, Resolve, Resolved),
        (Responded, Cancel, Cancelled),
        (InProgress, WaitForCustomer, WaitingCustomer),
        (InProgress, Resolve, Resolved),
        (InProgress, Cancel, Cancelled),
        (WaitingCustomer, Resume, InProgress),
        (WaitingCustomer, Resolve, Resolved),
        (WaitingCustomer, Cancel, Cancelled),
        (Resolved, Confirm, Confirmed),
        // Closed by its return visit (a person may close it only when no visit is open).
        (Resolved, Close, Closed),
        (Resolved, Reopen, Reopened),
        (Confirmed, Close, Closed),
        (Confirmed, Reopen, Reopened),
        (Reopened, StartWork, InProgress),
        (Reopened, WaitForCustomer, WaitingCustomer),
        (Reopened, Resolve, Resolved),
        (Reopened, Cancel, Cancelled),
    ];

    #[test]
    fn every_allowed_transition_leads_where_it_should() {
        for &(from, action, to) in TRANSITIONS {
            assert_eq!(from.apply(action), Ok(to), "{from} --{action}-->");
            assert!(from.allowed_actions().contains(&action), "{from} should list {action}");
        }
    }

    #[test]
    fn every_pair_not_in_the_table_is_refused_naming_the_allowed_actions() {
        let mut refused = 0;
        for from in Status::ALL {
            for action in Action::ALL {
                if TRANSITIONS.iter().any(|&(f, a, _)| f == from && a == action) {
                    continue;
                }
                refused += 1;
                let Err(e) = from.apply(action) else { panic!("{from} --{action}--> was accepted") };
                assert_eq!(e.from, from);
                assert_eq!(e.action, action);
                let expected: Vec<Action> =
                    TRANSITIONS.iter().filter(|&&(f, _, _)| f == from).map(|&(_, a, _)| a).collect();
                assert_eq!(e.allowed, expected.as_slice(), "allowed from {from}");
                let message = e.to_string();
                assert!(message.contains(action.as_str()) && message.contains(from.as_str()), "{message}");
                for a in expected {
                    assert!(message.contains(a.as_str()), "{message} should name {a}");
                }
            }
        }
        assert_eq!(refused, Status::ALL.len() * Action::ALL.len() - TRANSITIONS.len());
    }

    #[test]
    fn the_refusal_message_reads_well() {
        let e = InProgress.apply(Confirm).unwrap_err();
        assert_eq!(e.to_string(), "cannot confirm from in_progress; allowed: wait_for_customer, resolve, cancel");
        let e = Closed.apply(Reopen).unwrap_err();
        assert_eq!(e.to_string(), "cannot reopen from closed; allowed: none");
    }

    #[test]
    fn a_request_waiting_for_the_customer_can_be_resolved_directly() {
        assert_eq!(WaitingCustomer.apply(Resolve), Ok(Resolved));
    }

    #[test]
    fn a_new_request_can_be_resolved_at_first_contact() {
        assert_eq!(New.apply(Resolve), Ok(Resolved));
        assert_eq!(Accepted.apply(Resolve), Ok(Resolved));
    }

    #[test]
    fn closed_and_cancelled_are_final() {
        for s in [Closed, Cancelled] {
            assert!(s.allowed_actions().is_empty());
            assert!(!s.is_open());
            for a in Action::ALL {
                assert!(s.apply(a).is_err(), "{s} --{a}-->");
            }
        }
    }

    #[test]
    fn resolved_and_confirmed_cannot_be_cancelled_but_every_other_open_status_can() {
        for s in Status::ALL {
            let can = s.apply(Cancel).is_ok();
            assert_eq!(can, s.is_open() && !matches!(s, Resolved | Confirmed), "{s}");
        }
    }

    #[test]
    fn only_waiting_for_the_customer_is_paused() {
        let paused: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_paused()).collect();
        assert_eq!(paused, [WaitingCustomer]);
        let open = Status::ALL.into_iter().filter(|s| s.is_open()).count();
        assert_eq!(open, 8);
    }

    #[test]
    fn names_round_trip_through_as_str_parse_and_serde() {
        fn check<T>(all: &[T], parse: fn(&str, &str) -> Result<T, FieldError>, name: fn(&T) -> &'static str)
        where
            T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            for v in all {
                assert_eq!(parse("f", name(v)).as_ref(), Ok(v));
                assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{}\"", name(v)));
                assert_eq!(&serde_json::from_str::<T>(&format!("\"{}\"", name(v))).unwrap(), v);
            }
            assert_eq!(parse("f", "nonsense"), Err(FieldError::new("f", "invalid_choice")));
        }
        check(&Channel::ALL, Channel::parse, |v| v.as_str());
        check(&RequestType::ALL, RequestType::parse, |v| v.as_str());
        check(&Urgency::ALL, Urgency::parse, |v| v.as_str());
        check(&Status::ALL, Status::parse, |v| v.as_str());
        check(&Action::ALL, Action::parse, |v| v.as_str());
    }

    #[test]
    fn the_snake_case_names_are_the_agreed_ones() {
        let names = |v: Vec<&str>| v.join(" ");
        assert_eq!(
            names(Channel::ALL.iter().map(|v| v.as_str()).collect()),
            "phone email web chat wechat walk_in qr_code dealer"
        );
        assert_eq!(
            names(RequestType::ALL.iter().map(|v| v.as_str()).collect()),
            "consultation repair installation maintenance upgrade delivery complaint suggestion return_exchange training"
        );
        assert_eq!(names(Urgency::ALL.iter().map(|v| v.as_str()).collect()), "urgent high normal low");
        assert_eq!(
            names(Status::ALL.iter().map(|v| v.as_str()).collect()),
            "new accepted responded in_progress waiting_customer resolved confirmed closed reopened cancelled"
        );
        assert_eq!(
            names(Action::ALL.iter().map(|v| v.as_str()).collect()),
            "accept respond start_work wait_for_customer resume resolve confirm close reopen cancel"
        );
        assert_eq!(Status::parse("s", "  in_progress "), Ok(InProgress));
        assert_eq!(Status::parse("s", "InProgress"), Err(FieldError::new("s", "invalid_choice")));
    }

    fn fx(response: Option<Signal>, resolution: Option<Signal>) -> ClockEffects {
        ClockEffects { response, resolution }
    }

    #[test]
    fn creation_starts_both_clocks() {
        assert_eq!(on_creation(), fx(Some(Signal::Start), Some(Signal::Start)));
    }

    #[test]
    fn responding_stops_only_the_response_clock() {
        assert_eq!(clock_effects(New, Respond), fx(Some(Signal::Stop), None));
        assert_eq!(clock_effects(Accepted, Respond), fx(Some(Signal::Stop), None));
    }

    #[test]
    fn resolving_stops_resolution_and_a_still_running_response_clock() {
        assert_eq!(clock_effects(New, Resolve), fx(Some(Signal::Stop), Some(Signal::Stop)));
        assert_eq!(clock_effects(Accepted, Resolve), fx(Some(Signal::Stop), Some(Signal::Stop)));
        assert_eq!(clock_effects(InProgress, Resolve), fx(Some(Signal::Stop), Some(Signal::Stop)));
        assert_eq!(clock_effects(WaitingCustomer, Resolve), fx(Some(Signal::Stop), Some(Signal::Stop)));
        assert_eq!(clock_effects(Responded, Resolve), fx(None, Some(Signal::Stop)));
        assert_eq!(clock_effects(Reopened, Resolve), fx(None, Some(Signal::Stop)));
    }

    #[test]
    fn waiting_for_the_customer_pauses_and_resuming_resumes() {
        assert_eq!(clock_effects(Responded, WaitForCustomer), fx(None, Some(Signal::Pause)));
        assert_eq!(clock_effects(Reopened, WaitForCustomer), fx(None, Some(Signal::Pause)));
        assert_eq!(clock_effects(InProgress, WaitForCustomer), fx(Some(Signal::Pause), Some(Signal::Pause)));
        assert_eq!(clock_effects(WaitingCustomer, Resume), fx(Some(Signal::Resume), Some(Signal::Resume)));
    }

    #[test]
    fn reopening_restarts_resolution_and_never_touches_response() {
        assert_eq!(clock_effects(Resolved, Reopen), fx(None, Some(Signal::Start)));
        assert_eq!(clock_effects(Confirmed, Reopen), fx(None, Some(Signal::Start)));
    }

    #[test]
    fn cancelling_stops_both_clocks() {
        for from in [New, Accepted, InProgress, WaitingCustomer] {
            assert_eq!(clock_effects(from, Cancel), fx(Some(Signal::Stop), Some(Signal::Stop)), "{from}");
        }
        // The response clock already stopped at respond (or at the resolve before a reopen).
        for from in [Responded, Reopened] {
            assert_eq!(clock_effects(from, Cancel), fx(None, Some(Signal::Stop)), "{from}");
        }
    }

    #[test]
    fn bookkeeping_steps_and_refused_steps_leave_the_clocks_alone() {
        for (from, action) in [(New, Accept), (Accepted, StartWork), (Reopened, StartWork), (Resolved, Confirm)] {
            assert_eq!(clock_effects(from, action), ClockEffects::default(), "{from} {action}");
        }
        assert_eq!(clock_effects(Confirmed, Close), ClockEffects::default());
        assert_eq!(clock_effects(Closed, Reopen), ClockEffects::default());
        assert_eq!(clock_effects(New, Confirm), ClockEffects::default());
    }

    #[test]
    fn request_numbers_have_four_digits_and_widen_past_9999() {
        let d = date(2026, 11, 22);
        assert_eq!(format_request_number(d, 1), "SR-20261122-0001");
        assert_eq!(format_request_number(d, 9999), "SR-20261122-9999");
        assert_eq!(format_request_number(d, 10000), "SR-20261122-10000");
        assert_eq!(format_request_number(date(2027, 1, 5), 42), "SR-20270105-0042");
    }

    #[test]
    fn request_numbers_parse_back() {
        let d = date(2026, 11, 22);
        for n in [1, 42, 9999, 10000, 123_456] {
            assert_eq!(parse_request_number(&format_request_number(d, n)), Some((d, n)));
        }
        assert_eq!(parse_request_number(" sr-20261122-0007 "), Some((d, 7)));
    }

    #[test]
    fn malformed_request_numbers_are_none() {
        for s in [
            "",
            "SR-20261122",
            "SR-20261122-001",
            "SR-20261122-00001",
            "SR-20261122-0000",
            "SR-20261322-0001",
            "SR-20260230-0001",
            "SR-2026112-0001",
            "XX-20261122-0001",
            "SR-20261122-00a1",
            "SR-20261122-+001",
            "SR-20261122-0001-1",
        ] {
            assert_eq!(parse_request_number(s), None, "{s:?}");
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_business_day_is_the_date_in_shanghai() {
        assert_eq!(business_day(ts("2026-11-21T16:30:00Z")), date(2026, 11, 22));
        assert_eq!(business_day(ts("2026-11-21T15:59:59.999Z")), date(2026, 11, 21));
        assert_eq!(business_day(ts("2026-11-21T16:00:00Z")), date(2026, 11, 22));
        assert_eq!(business_day(ts("2026-11-22T00:00:00Z")), date(2026, 11, 22));
        assert_eq!(business_day(ts("2026-11-22T15:59:59Z")), date(2026, 11, 22));
        assert_eq!(business_day(ts("2026-12-31T16:00:00Z")), date(2027, 1, 1));
    }

    #[test]
    fn a_description_is_required_trimmed_and_bounded() {
        assert_eq!(description("description", "  打印机卡纸 \n"), Ok("打印机卡纸".to_string()));
        assert_eq!(description("description", " \t"), Err(FieldError::new("description", "required")));
        assert_eq!(description("description", &"修".repeat(4000)).map(|s| s.chars().count()), Ok(4000));
        assert_eq!(description("description", &"修".repeat(4001)), Err(FieldError::too_long("description", 4000)));
    }
}
