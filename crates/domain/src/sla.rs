//! SLA clocks. A service request has two: first response and resolution. A clock is never a
//! counter patched in place; it is derived afresh from the request's recorded events, its target
//! and the business calendar, so a changed policy or an edited calendar is simply re-evaluated.
use crate::calendar::BusinessCalendar;
use crate::customers::CustomerTier;
use crate::requests::{RequestType, Step, StepKind, Urgency, choice_enum, clock_effects, on_creation};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// What a recorded status change does to a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Start counting: the request is created, or reopened after a stop.
    Start,
    /// Stop counting for a while, e.g. waiting for the customer or for parts.
    Pause,
    /// Count again after a pause.
    Resume,
    /// The clock's goal is reached: first response given, request resolved.
    Stop,
}

/// One recorded signal and when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockEvent {
    pub at: Timestamp,
    pub signal: Signal,
}

impl ClockEvent {
    pub fn new(at: Timestamp, signal: Signal) -> Self {
        Self { at, signal }
    }
}

/// How much counted time the clock allows. Whether that is business time or wall time comes from
/// the calendar's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub duration: SignedDuration,
}

impl Target {
    pub fn new(duration: SignedDuration) -> Self {
        Self { duration }
    }

    /// 80 % of the target, rounded up to the nanosecond: elapsed time from which the clock is at
    /// risk.
    pub fn warn_after(&self) -> SignedDuration {
        self.duration.saturating_sub(self.duration / 5)
    }
}

/// Where the clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockPhase {
    NotStarted,
    Running,
    Paused,
    Stopped,
}

/// How the clock is doing against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Less than 80 % of the target elapsed.
    Ok,
    /// At least 80 % elapsed, target not reached.
    AtRisk,
    /// The target is reached: using it all up is breaching it.
    Breached,
}

/// A clock as of one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockStatus {
    pub phase: ClockPhase,
    /// Counted time (business time on a working calendar), pauses excluded.
    pub elapsed: SignedDuration,
    /// Target minus elapsed; negative when breached.
    pub remaining: SignedDuration,
    /// While running: when the target is reached if nothing changes (the breach instant once
    /// breached). `None` while not started, paused or stopped.
    pub due: Option<Timestamp>,
    /// While running and not yet at risk: when 80 % of the target is reached.
    pub warn_at: Option<Timestamp>,
    pub health: Health,
    /// When stopped: whether the latest stop came before the target was reached.
    pub met: Option<bool>,
    /// When elapsed time reached the target, if it has, whatever the clock did afterwards.
    pub breached_at: Option<Timestamp>,
}

/// The clock described by `events` as of `now`.
///
/// Events are applied in time order (a stable sort, so events at the same instant keep their
/// recorded order); events after `now` are not yet known and are ignored. A Start begins the
/// clock, or after a Stop reopens it, counting on from the stopped total. A Pause while not
/// running, a Resume while not paused, a Start while running or paused and a Stop while not
/// running or paused are ignored. A Stop while paused stops the clock without counting the pause.
///
/// `met` describes the latest stop: a reopened clock that runs over turns it false. For the
/// first-response clock the caller stops at the first response and never restarts it; to ask how
/// a past stop stood, evaluate as of that stop.
pub fn evaluate(events: &[ClockEvent], target: &Target, cal: &BusinessCalendar, now: Timestamp) -> ClockStatus {
    let mut known: Vec<&ClockEvent> = events.iter().filter(|e| e.at <= now).collect();
    known.sort_by_key(|e| e.at);

    let mut clock = Tally { cal, target: target.duration, elapsed: SignedDuration::ZERO, breached_at: None };
    let mut phase = ClockPhase::NotStarted;
    let mut running_since = now;
    for e in known {
        match (phase, e.signal) {
            (ClockPhase::NotStarted | ClockPhase::Stopped, Signal::Start) | (ClockPhase::Paused, Signal::Resume) => {
                phase = ClockPhase::Running;
                running_since = e.at;
            }
            (ClockPhase::Running, Signal::Pause) => {
                clock.count(running_since, e.at);
                phase = ClockPhase::Paused;
            }
            (ClockPhase::Running, Signal::Stop) => {
                clock.count(running_since, e.at);
                phase = ClockPhase::Stopped;
            }
            (ClockPhase::Paused, Signal::Stop) => phase = ClockPhase::Stopped,
            _ => {}
        }
    }
    if phase == ClockPhase::Running {
        clock.count(running_since, now);
    }

    let Tally { elapsed, breached_at, .. } = clock;
    let remaining = target.duration.saturating_sub(elapsed);
    let warn_after = target.warn_after();
    let health = if phase == ClockPhase::NotStarted {
        Health::Ok
    } else if elapsed >= target.duration {
        Health::Breached
    } else if elapsed >= warn_after {
        Health::AtRisk
    } else {
        Health::Ok
    };
    let running = phase == ClockPhase::Running;
    ClockStatus {
        phase,
        elapsed,
        remaining,
        due: match running {
            true if remaining.is_positive() => Some(cal.add(now, remaining)),
            true => breached_at,
            false => None,
        },
        warn_at: (running && elapsed < warn_after).then(|| cal.add(now, warn_after.saturating_sub(elapsed))),
        health,
        met: (phase == ClockPhase::Stopped).then_some(elapsed < target.duration),
        breached_at,
    }
}

/// Counted time so far, and when it reached the target.
struct Tally<'a> {
    cal: &'a BusinessCalendar,
    target: SignedDuration,
    elapsed: SignedDuration,
    breached_at: Option<Timestamp>,
}

impl Tally<'_> {
    /// Count the running segment `[from, to)`.
    fn count(&mut self, from: Timestamp, to: Timestamp) {
        let segment = self.cal.business_time_between(from, to);
        let total = self.elapsed.saturating_add(segment);
        if self.breached_at.is_none() && total >= self.target {
            let left = self.target.saturating_sub(self.elapsed);
            self.breached_at = Some(if left.is_positive() { self.cal.add(from, left) } else { from });
        }
        self.elapsed = total;
    }
}

choice_enum! {
    /// A clock's standing in one word, as cached on the request for queues and sweeps.
    pub enum ClockState {
        NotStarted => "not_started",
        Running => "running",
        AtRisk => "at_risk",
        Paused => "paused",
        Breached => "breached",
        /// Stopped before the target was reached.
        Met => "met",
        /// Stopped after the target was reached.
        Missed => "missed",
    }
}

impl ClockStatus {
    /// The clock's standing in one word.
    pub fn state(&self) -> ClockState {
        match (self.phase, self.health, self.met) {
            (ClockPhase::Stopped, _, Some(true)) => ClockState::Met,
            (ClockPhase::Stopped, _, _) => ClockState::Missed,
            (ClockPhase::Paused, Health::Breached, _) => ClockState::Breached,
            (ClockPhase::Paused, _, _) => ClockState::Paused,
            (ClockPhase::NotStarted, _, _) => ClockState::NotStarted,
            (_, Health::Ok, _) => ClockState::Running,
            (_, Health::AtRisk, _) => ClockState::AtRisk,
            (_, Health::Breached, _) => ClockState::Breached,
        }
    }

    /// While running: when the target falls due.
    fn running_due(&self) -> Option<Timestamp> {
        if self.phase == ClockPhase::Running { self.due } else { None }
    }

    /// While running and below 80 %: when 80 % is reached.
    fn running_warn_at(&self) -> Option<Timestamp> {
        if self.phase == ClockPhase::Running { self.warn_at } else { None }
    }
}

/// The targets of a request's two clocks, fixed by its policy when it was registered or
/// reclassified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub response: Target,
    pub resolution: Target,
}

impl Targets {
    pub fn from_minutes(response: i64, resolution: i64) -> Self {
        Self {
            response: Target::new(SignedDuration::from_mins(response)),
            resolution: Target::new(SignedDuration::from_mins(resolution)),
        }
    }
}

/// Both clocks of a request as of one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clocks {
    /// The code of the calendar they count on.
    pub calendar: String,
    pub response: ClockStatus,
    pub resolution: ClockStatus,
}

/// The clock signals of both clocks (first response, resolution), replayed from the steps of a
/// request's timeline in their recorded order.
pub fn replay(steps: &[Step]) -> (Vec<ClockEvent>, Vec<ClockEvent>) {
    let (mut response, mut resolution) = (vec![], vec![]);
    for step in steps {
        let effects = match step.kind {
            StepKind::Created => on_creation(),
            StepKind::Transition { from, action } => clock_effects(from, action),
            StepKind::PartsWait => crate::requests::ClockEffects { response: None, resolution: Some(Signal::Pause) },
            StepKind::PartsArrived => {
                crate::requests::ClockEffects { response: None, resolution: Some(Signal::Resume) }
            }
        };
        if let Some(s) = effects.response {
            response.push(ClockEvent::new(step.at, s));
        }
        if let Some(s) = effects.resolution {
            resolution.push(ClockEvent::new(step.at, s));
        }
    }
    (response, resolution)
}

/// Both clocks of a request with these targets and steps, on `cal`, as of `now`.
pub fn clocks(targets: &Targets, steps: &[Step], cal: &BusinessCalendar, now: Timestamp) -> Clocks {
    let (response, resolution) = replay(steps);
    Clocks {
        calendar: cal.code.clone(),
        response: evaluate(&response, &targets.response, cal, now),
        resolution: evaluate(&resolution, &targets.resolution, cal, now),
    }
}

/// What a request keeps of its clocks for queues and the sweep: due and warning instants while
/// running, and each clock's state. Derived, never edited: recomputed from the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub response_due_at: Option<Timestamp>,
    pub resolution_due_at: Option<Timestamp>,
    pub response_state: ClockState,
    pub resolution_state: ClockState,
    pub response_warn_at: Option<Timestamp>,
    pub resolution_warn_at: Option<Timestamp>,
}

impl Clocks {
    pub fn figures(&self) -> Figures {
        Figures {
            response_due_at: self.response.running_due(),
            resolution_due_at: self.resolution.running_due(),
            response_state: self.response.state(),
            resolution_state: self.resolution.state(),
            response_warn_at: self.response.running_warn_at(),
            resolution_warn_at: self.resolution.running_warn_at(),
        }
    }
}

/// An SLA policy: which requests it applies to (an unset field matches any value), its targets
/// and the calendar they count on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub request_type: Option<RequestType>,
    pub urgency: Option<Urgency>,
    pub tier: Option<CustomerTier>,
    pub calendar_code: String,
    pub response_minutes: i64,
    pub resolution_minutes: i64,
    /// Among equally specific policies, the lowest number wins.
    pub priority: i64,
    pub active: bool,
    pub version: i64,
}

impl Policy {
    fn applies_to(&self, t: RequestType, u: Urgency, tier: CustomerTier) -> bool {
        self.active
            && self.request_type.is_none_or(|x| x == t)
            && self.urgency.is_none_or(|x| x == u)
            && self.tier.is_none_or(|x| x == tier)
    }

    /// How many of type, urgency and tier the policy names.
    fn specificity(&self) -> usize {
        usize::from(self.request_type.is_some())
            + usize::from(self.urgency.is_some())
            + usize::from(self.tier.is_some())
    }

    pub fn targets(&self) -> Targets {
        Targets::from_minutes(self.response_minutes, self.resolution_minutes)
    }
}

/// The policy for a request: among active policies whose set fields all match, the most
/// specific, then the lowest priority number, then the lowest id.
pub fn select_policy(policies: &[Policy], t: RequestType, u: Urgency, tier: CustomerTier) -> Option<&Policy> {
    policies
        .iter()
        .filter(|p| p.applies_to(t, u, tier))
        .min_by_key(|p| (std::cmp::Reverse(p.specificity()), p.priority, p.id))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::Signal::{Pause, Resume, Start, Stop};
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    fn ev(s: &str, signal: Signal) -> ClockEvent {
        ClockEvent::new(at(s), signal)
    }
    fn hours(h: i64) -> Target {
        Target::new(SignedDuration::from_hours(h))
    }
    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }
    fn workday() -> BusinessCalendar {
        BusinessCalendar::cn_workday()
    }

    #[test]
    fn a_clock_without_events_has_not_started() {
        let s = evaluate(&[], &hours(8), &workday(), at("2025-10-13T09:00:00+08:00"));
        assert_eq!(s.phase, ClockPhase::NotStarted);
        assert_eq!((s.elapsed, s.remaining), (SignedDuration::ZERO, mins(480)));
        assert_eq!((s.due, s.warn_at, s.met, s.breached_at), (None, None, None, None));
        assert_eq!(s.health, Health::Ok);
    }

    #[test]
    fn pause_and_resume_excludes_the_paused_time() {
        // Mon 13 Oct 2025: 09:00–10:00 counted, 10:00–14:00 paused, 14:00–15:00 counted.
        let events = [
            ev("2025-10-13T09:00:00+08:00", Start),
            ev("2025-10-13T10:00:00+08:00", Pause),
            ev("2025-10-13T14:00:00+08:00", Resume),
        ];
        let s = evaluate(&events, &hours(8), &workday(), at("2025-10-13T15:00:00+08:00"));
        assert_eq!(s.phase, ClockPhase::Running);
        assert_eq!((s.elapsed, s.remaining), (mins(120), mins(360)));
        // 6 h left from Mon 15:00: 2.5 h today, 3.5 h Tuesday morning.
        assert_eq!(s.due, Some(at("2025-10-14T12:00:00+08:00")));
        // 80 % is 6 h 24 min: 4 h 24 min left, Tue 08:30 + 1 h 54 min.
        assert_eq!(s.warn_at, Some(at("2025-10-14T10:24:00+08:00")));
        assert_eq!((s.health, s.met, s.breached_at), (Health::Ok, None, None));
    }

    #[test]
    fn resolving_straight_from_paused_keeps_the_paused_time_excluded() {
        let events = [
            ev("2025-10-13T09:00:00+08:00", Start),
            ev("2025-10-13T10:00:00+08:00", Pause),
            ev("2025-10-13T16:00:00+08:00", Stop),
        ];
        let s = evaluate(&events, &hours(8), &workday(), at("2025-10-14T10:00:00+08:00"));
        assert_eq!(s.phase, ClockPhase::Stopped);
        assert_eq!((s.elapsed, s.remaining), (mins(60), mins(420)));
        assert_eq!((s.due, s.warn_at), (None, None));
        assert_eq!((s.health, s.met, s.breached_at), (Health::Ok, Some(true), None));
    }

    #[test]
    fn a_policy_change_while_paused_neither_loses_nor_double_counts_the_pause() {
        // Mon 09:00–11:00 counted (2 h), paused until 16:00, then 16:00–17:30 and Tue 08:30–10:00.
        let events = [
            ev("2025-10-13T09:00:00+08:00", Start),
            ev("2025-10-13T11:00:00+08:00", Pause),
            ev("2025-10-13T16:00:00+08:00", Resume),
        ];
        let paused_at = at("2025-10-13T15:00:00+08:00");
        let (old, new) =
            (evaluate(&events, &hours(8), &workday(), paused_at), evaluate(&events, &hours(4), &workday(), paused_at));
        assert_eq!((old.phase, new.phase), (ClockPhase::Paused, ClockPhase::Paused));
        assert_eq!((old.elapsed, new.elapsed), (mins(120), mins(120)));
        assert_eq!((old.remaining, new.remaining), (mins(360), mins(120)));
        assert_eq!((old.due, new.due), (None, None));

        let now = at("2025-10-14T10:00:00+08:00");
        let old = evaluate(&events, &hours(8), &workday(), now);
        assert_eq!((old.elapsed, old.remaining, old.health), (mins(300), mins(180), Health::Ok));
        assert_eq!(old.due, Some(at("2025-10-14T14:30:00+08:00")));
        assert_eq!(old.warn_at, Some(at("2025-10-14T11:24:00+08:00")));
        let new = evaluate(&events, &hours(4), &workday(), now);
        assert_eq!((new.elapsed, new.remaining, new.health), (mins(300), mins(-60), Health::Breached));
        assert_eq!(new.breached_at, Some(at("2025-10-14T09:00:00+08:00")));
        assert_eq!(new.due, new.breached_at);
        assert_eq!(new.warn_at, None);
    }

    #[test]
    fn a_reopen_after_a_met_target_counts_on_from_the_stopped_total() {
        let mut events = vec![ev("2025-10-13T09:00:00+08:00", Start), ev("2025-10-13T12:00:00+08:00", Stop)];
        let first = evaluate(&events, &hours(8), &workday(), at("2025-10-13T13:00:00+08:00"));
        assert_eq!(
            (first.phase, first.elapsed, first.met, first.health),
            (ClockPhase::Stopped, mins(180), Some(true), Health::Ok)
        );

        events.push(ev("2025-10-14T09:00:00+08:00", Start));
        let reopened = evaluate(&events, &hours(8), &workday(), at("2025-10-14T12:00:00+08:00"));
        assert_eq!((reopened.phase, reopened.elapsed, reopened.met), (ClockPhase::Running, mins(360), None));
        assert_eq!(reopened.due, Some(at("2025-10-14T15:30:00+08:00")));
        assert_eq!(reopened.warn_at, Some(at("2025-10-14T13:54:00+08:00")));

        events.push(ev("2025-10-14T16:00:00+08:00", Stop));
        let last = evaluate(&events, &hours(8), &workday(), at("2025-10-15T09:00:00+08:00"));
        assert_eq!((last.phase, last.elapsed, last.remaining), (ClockPhase::Stopped, mins(510), mins(-30)));
        assert_eq!((last.met, last.health), (Some(false), Health::Breached));
        assert_eq!(last.breached_at, Some(at("2025-10-14T15:30:00+08:00")));

        // The first stop, evaluated as of then, is still met: later events are not yet known.
        let historical = evaluate(&events, &hours(8), &workday(), at("2025-10-13T13:00:00+08:00"));
        assert_eq!(historical, first);
    }

    #[test]
    fn at_risk_begins_at_80_percent_and_breach_at_100_percent_to_the_minute() {
        // 8 h from Mon 08:30: 80 % (6 h 24 min) at 16:24; 7.5 h by 17:30; 100 % at Tue 09:00.
        let events = [ev("2025-10-13T08:30:00+08:00", Start)];
        let cal = workday();
        let s = |now: &str| evaluate(&events, &hours(8), &cal, at(now));

        let before = s("2025-10-13T16:23:00+08:00");
        assert_eq!((before.health, before.elapsed), (Health::Ok, mins(383)));
        assert_eq!(before.warn_at, Some(at("2025-10-13T16:24:00+08:00")));

        let risk = s("2025-10-13T16:24:00+08:00");
        assert_eq!((risk.health, risk.elapsed, risk.warn_at), (Health::AtRisk, mins(384), None));
        assert_eq!(risk.due, Some(at("2025-10-14T09:00:00+08:00")));

        let night = s("2025-10-13T23:00:00+08:00");
        assert_eq!((night.health, night.elapsed), (Health::AtRisk, mins(450)));

        let last_minute = s("2025-10-14T08:59:00+08:00");
        assert_eq!(
            (last_minute.health, last_minute.remaining, last_minute.breached_at),
            (Health::AtRisk, mins(1), None)
        );

        let breach = s("2025-10-14T09:00:00+08:00");
        assert_eq!((breach.health, breach.remaining), (Health::Breached, SignedDuration::ZERO));
        assert_eq!(breach.breached_at, Some(at("2025-10-14T09:00:00+08:00")));
        assert_eq!(breach.due, breach.breached_at);

        let later = s("2025-10-14T10:00:00+08:00");
        assert_eq!((later.health, later.remaining), (Health::Breached, mins(-60)));
        assert_eq!(later.breached_at, Some(at("2025-10-14T09:00:00+08:00")));
    }

    #[test]
    fn a_request_created_at_2359_local_time_is_not_breached_at_once() {
        // Thu 9 Oct 2025 23:59 +08:00 is 15:59 UTC, inside working hours if the date slipped to UTC.
        let events = [ev("2025-10-09T23:59:00+08:00", Start)];
        let created = evaluate(&events, &hours(8), &workday(), at("2025-10-09T23:59:00+08:00"));
        assert_eq!((created.elapsed, created.health, created.breached_at), (SignedDuration::ZERO, Health::Ok, None));
        // Fri 10 Oct 7.5 h, then the make-up Saturday 11 Oct from 08:30.
        assert_eq!(created.due, Some(at("2025-10-11T09:00:00+08:00")));

        let after_midnight = evaluate(&events, &Target::new(mins(1)), &workday(), at("2025-10-10T00:30:00+08:00"));
        assert_eq!(after_midnight.elapsed, SignedDuration::ZERO);
        assert_eq!((after_midnight.health, after_midnight.breached_at), (Health::Ok, None));
        assert_eq!(after_midnight.due, Some(at("2025-10-10T08:31:00+08:00")));
    }

    #[test]
    fn a_24x7_clock_counts_wall_time_through_the_holiday() {
        let events = [
            ev("2025-09-30T16:00:00+08:00", Start),
            ev("2025-10-01T00:00:00+08:00", Pause),
            ev("2025-10-01T02:00:00+08:00", Resume),
        ];
        let s = evaluate(&events, &hours(24), &BusinessCalendar::always_open(), at("2025-10-01T10:00:00+08:00"));
        assert_eq!((s.elapsed, s.remaining, s.health), (mins(16 * 60), mins(8 * 60), Health::Ok));
        assert_eq!(s.due, Some(at("2025-10-01T18:00:00+08:00")));
        // 80 % of 24 h is 19 h 12 min: 3 h 12 min after 10:00.
        assert_eq!(s.warn_at, Some(at("2025-10-01T13:12:00+08:00")));
    }

    #[test]
    fn events_apply_in_time_order_and_repeated_signals_are_ignored() {
        // Recorded out of order; a second Pause while paused, a Resume while running, a Resume
        // after the stop and a second Stop change nothing.
        let events = [
            ev("2025-10-13T14:00:00+08:00", Resume),
            ev("2025-10-13T11:00:00+08:00", Pause),
            ev("2025-10-13T09:00:00+08:00", Start),
            ev("2025-10-13T10:00:00+08:00", Pause),
            ev("2025-10-13T15:00:00+08:00", Resume),
            ev("2025-10-13T16:00:00+08:00", Stop),
            ev("2025-10-13T16:30:00+08:00", Resume),
            ev("2025-10-13T17:00:00+08:00", Stop),
        ];
        let s = evaluate(&events, &hours(8), &workday(), at("2025-10-14T09:00:00+08:00"));
        assert_eq!((s.phase, s.elapsed, s.met), (ClockPhase::Stopped, mins(180), Some(true)));
    }

    #[test]
    fn an_edited_calendar_recomputes_the_clock_from_the_same_events() {
        let events = [ev("2025-09-30T16:00:00+08:00", Start)];
        let now = at("2025-10-09T10:00:00+08:00");
        let s = evaluate(&events, &hours(8), &workday(), now);
        assert_eq!((s.elapsed, s.due), (mins(180), Some(at("2025-10-09T16:30:00+08:00"))));

        let mut edited = workday();
        edited.extra_days_off.insert(date(2025, 10, 9));
        let s = evaluate(&events, &hours(8), &edited, now);
        assert_eq!((s.elapsed, s.due), (mins(90), Some(at("2025-10-10T16:30:00+08:00"))));
    }

    #[test]
    fn a_zero_target_is_breached_as_soon_as_the_clock_starts() {
        let events = [ev("2025-10-13T09:00:00+08:00", Start)];
        let s = evaluate(&events, &Target::new(SignedDuration::ZERO), &workday(), at("2025-10-13T09:00:00+08:00"));
        assert_eq!((s.health, s.breached_at), (Health::Breached, Some(at("2025-10-13T09:00:00+08:00"))));
    }

    // ---------- a request's clocks replayed from its steps ----------

    fn step(s: &str, kind: StepKind) -> Step {
        Step { at: at(s), kind }
    }

    #[test]
    fn a_requests_clocks_are_replayed_from_its_steps_to_the_minute() {
        use crate::requests::{Action, Status};
        // Registered Friday 16:00, first answer 17:00; waiting for the customer Monday 09:00–10:00.
        let steps = [
            step("2026-11-27T16:00:00+08:00", StepKind::Created),
            step("2026-11-27T17:00:00+08:00", StepKind::Transition { from: Status::New, action: Action::Respond }),
            step(
                "2026-11-30T09:00:00+08:00",
                StepKind::Transition { from: Status::Responded, action: Action::WaitForCustomer },
            ),
            step(
                "2026-11-30T10:00:00+08:00",
                StepKind::Transition { from: Status::WaitingCustomer, action: Action::Resume },
            ),
        ];
        let c = clocks(&Targets::from_minutes(120, 480), &steps, &workday(), at("2026-11-30T11:00:00+08:00"));
        assert_eq!(c.calendar, "cn-workday");
        // First response after 60 working minutes of 120: met.
        assert_eq!((c.response.state(), c.response.elapsed), (ClockState::Met, mins(60)));
        // Resolution: Friday 16:00–17:30 (90) + Monday 08:30–09:00 (30), paused an hour, 10:00–11:00 (60).
        assert_eq!((c.resolution.state(), c.resolution.elapsed), (ClockState::Running, mins(180)));
        // 300 minutes left: 11:00–12:00 and 13:30–17:30. 80 % (384) is 204 minutes on: 15:54.
        let f = c.figures();
        assert_eq!(f.resolution_due_at, Some(at("2026-11-30T17:30:00+08:00")));
        assert_eq!(f.resolution_warn_at, Some(at("2026-11-30T15:54:00+08:00")));
        assert_eq!((f.response_due_at, f.response_warn_at, f.response_state), (None, None, ClockState::Met));
    }

    #[test]
    fn a_paused_clock_past_its_target_is_breached_and_caches_no_due_time() {
        use crate::requests::{Action, Status};
        let steps = [
            step("2026-11-30T08:30:00+08:00", StepKind::Created),
            step(
                "2026-11-30T09:30:00+08:00",
                StepKind::Transition { from: Status::InProgress, action: Action::WaitForCustomer },
            ),
        ];
        let c = clocks(&Targets::from_minutes(60, 60), &steps, &workday(), at("2026-11-30T12:00:00+08:00"));
        assert_eq!(c.response.state(), ClockState::Breached);
        assert_eq!(c.figures().resolution_due_at, None);
        assert_eq!(c.figures().resolution_state, ClockState::Breached);
    }

    #[test]
    fn clock_states_keep_their_stored_names() {
        assert_eq!(ClockState::parse("state", "at_risk"), Ok(ClockState::AtRisk));
        assert!(ClockState::parse("state", "late").is_err());
    }

    // ---------- the policy a request falls under ----------

    fn policy(
        id: i64,
        t: Option<RequestType>,
        u: Option<Urgency>,
        tier: Option<CustomerTier>,
        priority: i64,
    ) -> Policy {
        Policy {
            id,
            name: format!("p{id}"),
            request_type: t,
            urgency: u,
            tier,
            calendar_code: "cn-workday".into(),
            response_minutes: 60,
            resolution_minutes: 480,
            priority,
            active: true,
            version: 1,
        }
    }

    #[test]
    fn the_most_specific_active_policy_wins_then_the_lowest_priority() {
        use CustomerTier::{Standard, Vip};
        use RequestType::{Consultation, Repair};
        use Urgency::{Low, Normal, Urgent};
        let mut inactive = policy(9, Some(Repair), Some(Urgent), Some(Standard), 0);
        inactive.active = false;
        let ps = vec![
            policy(1, None, None, None, 100),
            policy(2, Some(Repair), None, None, 10),
            policy(3, Some(Repair), Some(Urgent), None, 50),
            policy(4, None, None, Some(Vip), 1),
            inactive,
        ];
        let pick = |t, u, tier| select_policy(&ps, t, u, tier).map(|p| p.id);
        assert_eq!(pick(Repair, Urgent, Standard), Some(3), "two fields named beat one; the inactive one is skipped");
        assert_eq!(pick(Repair, Normal, Vip), Some(4), "equally specific: the lower priority number");
        assert_eq!(pick(Repair, Normal, Standard), Some(2));
        assert_eq!(pick(Consultation, Low, Standard), Some(1), "the catch-all");
        assert_eq!(select_policy(&ps[1..4], Consultation, Low, Standard), None, "no catch-all, no policy");
        let tie = vec![policy(7, None, None, None, 5), policy(6, None, None, None, 5)];
        assert_eq!(select_policy(&tie, Repair, Low, Standard).map(|p| p.id), Some(6), "then the lowest id");
    }

    #[test]
    fn a_visit_waiting_for_parts_pauses_only_the_resolution_clock() {
        use crate::requests::{Step, StepKind};
        let steps = [
            Step { at: at("2025-10-13T09:00:00+08:00"), kind: StepKind::Created },
            Step { at: at("2025-10-13T10:00:00+08:00"), kind: StepKind::PartsWait },
            Step { at: at("2025-10-14T10:00:00+08:00"), kind: StepKind::PartsArrived },
        ];
        let (response, resolution) = replay(&steps);
        assert_eq!(response.iter().map(|e| e.signal).collect::<Vec<_>>(), vec![Signal::Start]);
        assert_eq!(
            resolution.iter().map(|e| e.signal).collect::<Vec<_>>(),
            vec![Signal::Start, Signal::Pause, Signal::Resume]
        );
        // One working hour counted before the wait; the wait itself not at all.
        let cal = BusinessCalendar::cn_workday();
        let st =
            evaluate(&resolution, &Target::new(SignedDuration::from_hours(8)), &cal, at("2025-10-14T10:00:00+08:00"));
        assert_eq!(st.elapsed, SignedDuration::from_hours(1));
    }
}
