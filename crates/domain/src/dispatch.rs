//! Two-tier dispatch (两级派工): which stations may take a work order and in which order, and
//! within the chosen station which engineers. Every candidate carries its reasons, every excluded
//! one why; the weights are settings. Pure: the caller loads the candidates and their loads.
use crate::ids::{StationId, UserId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How much each criterion counts. With the defaults the order is lexicographic: coverage
/// (district over city over province), then open load, then distance in the region tree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Per level of the covering code: 3 district, 2 city, 1 province.
    pub coverage: i64,
    /// Per open work order of the station (subtracted).
    pub station_load: i64,
    /// Per step between the station's own region and the visit's (0 same district … 3 another
    /// province; subtracted).
    pub distance: i64,
    /// Per open work order of the engineer (subtracted).
    pub engineer_load: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { coverage: 1_000_000, station_load: 10, distance: 1, engineer_load: 1 }
    }
}

/// A station as the ranking sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationCandidate {
    pub id: StationId,
    pub active: bool,
    /// Where the station itself is (six-digit GB/T 2260 code).
    pub region_code: String,
    /// The codes it covers, at any level.
    pub coverage: Vec<String>,
    /// Its open work orders.
    pub open_load: i64,
}

/// An engineer of the chosen station as the ranking sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineerCandidate {
    pub id: UserId,
    pub active: bool,
    /// Product lines they are certified for.
    pub skills: Vec<String>,
    /// Days they are on leave (only the visit day matters).
    pub on_leave: bool,
    /// Their open work orders, and those of them due on the visit day.
    pub open_load: i64,
    pub load_on_day: i64,
}

/// Why a candidate ranks where it does, or why it is out. Words are the caller's (its language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// Covers the visit's region through this code (a district, city or province).
    Covers {
        region_code: String,
    },
    /// Open work orders now.
    OpenLoad {
        count: i64,
    },
    /// In the same district / city / province as the visit, or farther.
    Distance {
        steps: u8,
    },
    /// Certified for the device's product line.
    Certified {
        product_line: String,
    },
    /// Work orders on the visit day.
    DayLoad {
        day: Date,
        count: i64,
    },
    // Exclusions.
    Inactive,
    NotCertified {
        product_line: String,
    },
    OnLeave {
        day: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked<Id> {
    pub id: Id,
    pub score: i64,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded<Id> {
    pub id: Id,
    pub reasons: Vec<Reason>,
}

/// Candidates best first, and the ones left out with why; `outside` counts those that were never
/// candidates (stations that do not cover the visit's region), named by nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking<Id> {
    pub ranked: Vec<Ranked<Id>>,
    pub excluded: Vec<Excluded<Id>>,
    pub outside: i64,
}

impl<Id> Default for Ranking<Id> {
    fn default() -> Self {
        Ranking { ranked: vec![], excluded: vec![], outside: 0 }
    }
}

/// The six-digit codes a region code belongs to, widest first: province, city, district (a
/// province code has only itself, a city code its province and itself); a station covering any
/// of them covers the region. Empty for a malformed code.
pub fn ancestry(code: &str) -> Vec<String> {
    let Ok(c) = code.trim().parse::<u32>() else { return vec![] };
    if code.trim().len() != 6 {
        return vec![];
    }
    let mut out = vec![format!("{:06}", c / 10_000 * 10_000)];
    if c % 10_000 != 0 {
        out.push(format!("{:06}", c / 100 * 100));
    }
    if c % 100 != 0 {
        out.push(format!("{c:06}"));
    }
    out
}

/// Steps apart in the region tree: 0 same district, 1 same city, 2 same province, 3 otherwise.
pub fn distance(a: &str, b: &str) -> u8 {
    let (a, b) = (ancestry(a), ancestry(b));
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if !a.is_empty() && a == b { 0 } else { 3 - common.min(3) as u8 }
}

/// The stations for a visit in `visit_region`, best first. A station covers the visit when one
/// of its codes is the visit's district, city or province; the nearest covering code counts.
pub fn rank_stations(visit_region: &str, stations: &[StationCandidate], w: &Weights) -> Ranking<StationId> {
    let visit = ancestry(visit_region);
    let mut r = Ranking::default();
    for s in stations {
        // The nearest covering code: the longest of the visit's ancestry the station lists.
        let best = visit.iter().enumerate().rev().find(|(_, a)| s.coverage.iter().any(|c| c.trim() == a.as_str()));
        let Some((level, code)) = best else {
            r.outside += 1;
            continue;
        };
        if !s.active {
            r.excluded.push(Excluded { id: s.id, reasons: vec![Reason::Inactive] });
            continue;
        }
        let steps = distance(&s.region_code, visit_region);
        let score = w.coverage * (level as i64 + 1) - w.station_load * s.open_load - w.distance * i64::from(steps);
        r.ranked.push(Ranked {
            id: s.id,
            score,
            reasons: vec![
                Reason::Covers { region_code: code.clone() },
                Reason::OpenLoad { count: s.open_load },
                Reason::Distance { steps },
            ],
        });
    }
    // Best score first; a tie goes to the lower id, so the order never depends on load order.
    r.ranked.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
    r
}

/// Whether coverage code `c` holds the visit's region: `c` is the visit's code or one of its
/// ancestors.
pub fn covers(c: &str, visit_region: &str) -> bool {
    ancestry(visit_region).iter().any(|a| a == c.trim())
}

/// The engineers of the chosen station for a device of `product_line` on `day`, best first:
/// certified, not on leave, fewest open work orders.
pub fn rank_engineers(product_line: &str, day: Date, engineers: &[EngineerCandidate], w: &Weights) -> Ranking<UserId> {
    let mut ranked = vec![];
    let mut excluded = vec![];
    for e in engineers {
        let mut why = vec![];
        if !e.active {
            why.push(Reason::Inactive);
        }
        if !e.skills.iter().any(|s| s == product_line) {
            why.push(Reason::NotCertified { product_line: product_line.into() });
        }
        if e.on_leave {
            why.push(Reason::OnLeave { day });
        }
        if !why.is_empty() {
            excluded.push(Excluded { id: e.id, reasons: why });
            continue;
        }
        ranked.push(Ranked {
            id: e.id,
            score: -w.engineer_load * e.open_load,
            reasons: vec![
                Reason::Certified { product_line: product_line.into() },
                Reason::DayLoad { day, count: e.load_on_day },
                Reason::OpenLoad { count: e.open_load },
            ],
        });
    }
    ranked.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
    Ranking { ranked, excluded, outside: 0 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn st(id: i64, region: &str, coverage: &[&str], load: i64) -> StationCandidate {
        StationCandidate {
            id: StationId(id),
            active: true,
            region_code: region.into(),
            coverage: coverage.iter().map(|c| c.to_string()).collect(),
            open_load: load,
        }
    }

    #[test]
    fn the_nearest_covering_code_wins_over_a_wider_one_whatever_the_load() {
        let stations = [
            st(1, "440103", &["440000"], 0),           // covers all of Guangdong
            st(2, "440305", &["440305", "440306"], 9), // covers Nanshan itself
            st(3, "440304", &["440300"], 1),           // covers Shenzhen
            st(4, "110105", &["110000"], 0),           // Beijing only
        ];
        let r = rank_stations("440305", &stations, &Weights::default());
        let order: Vec<i64> = r.ranked.iter().map(|c| c.id.0).collect();
        assert_eq!(order, vec![2, 3, 1]);
        assert_eq!(r.ranked[0].reasons[0], Reason::Covers { region_code: "440305".into() });
        assert_eq!(r.ranked[1].reasons[0], Reason::Covers { region_code: "440300".into() });
        // Beijing's station is no candidate at all: counted, not listed.
        assert!(r.excluded.is_empty());
        assert_eq!(r.outside, 1);
    }

    #[test]
    fn at_equal_cover_the_lighter_load_then_the_nearer_station_wins() {
        let stations =
            [st(1, "440103", &["440300"], 5), st(2, "440304", &["440300"], 2), st(3, "440305", &["440300"], 2)];
        let r = rank_stations("440305", &stations, &Weights::default());
        assert_eq!(r.ranked.iter().map(|c| c.id.0).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert_eq!(r.ranked[0].reasons[2], Reason::Distance { steps: 0 });
        assert_eq!(r.ranked[1].reasons[2], Reason::Distance { steps: 1 });
        assert_eq!(r.ranked[2].reasons[1], Reason::OpenLoad { count: 5 });
    }

    #[test]
    fn weights_are_settings() {
        let stations = [st(1, "440305", &["440305"], 50), st(2, "440304", &["440300"], 0)];
        let by_cover = rank_stations("440305", &stations, &Weights::default());
        assert_eq!(by_cover.ranked[0].id, StationId(1));
        let load_first = Weights { coverage: 1, station_load: 100, ..Weights::default() };
        assert_eq!(rank_stations("440305", &stations, &load_first).ranked[0].id, StationId(2));
    }

    #[test]
    fn an_inactive_station_is_out_and_says_so() {
        let mut s = st(1, "440305", &["440305"], 0);
        s.active = false;
        let mut far = st(2, "110105", &["110000"], 0);
        far.active = false;
        let r = rank_stations("440305", &[s, far], &Weights::default());
        assert!(r.ranked.is_empty());
        assert_eq!(r.excluded, vec![Excluded { id: StationId(1), reasons: vec![Reason::Inactive] }]);
        assert_eq!(r.outside, 1, "an inactive station that does not cover the visit is simply outside");
    }

    #[test]
    fn a_visit_known_only_by_its_city_is_not_covered_by_a_district() {
        assert!(covers("440300", "440300") && covers("440000", "440300"));
        assert!(!covers("440305", "440300"));
        assert!(!covers("4403", "440305"), "a malformed code covers nothing");
    }

    #[test]
    fn region_distance_counts_tree_steps() {
        assert_eq!(distance("440305", "440305"), 0);
        assert_eq!(distance("440304", "440305"), 1);
        assert_eq!(distance("440103", "440305"), 2);
        assert_eq!(distance("110105", "440305"), 3);
    }

    fn eng(id: i64, skills: &[&str], leave: bool, load: i64) -> EngineerCandidate {
        EngineerCandidate {
            id: UserId(id),
            active: true,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            on_leave: leave,
            open_load: load,
            load_on_day: load.min(3),
        }
    }

    #[test]
    fn engineers_certified_and_present_by_fewest_open_orders() {
        let day = jiff::civil::date(2026, 12, 7);
        let es = [
            eng(1, &["空调"], false, 4),
            eng(2, &["空调", "冰箱"], false, 1),
            eng(3, &["冰箱"], false, 0),
            eng(4, &["空调"], true, 0),
            eng(5, &["空调"], false, 1),
        ];
        let r = rank_engineers("空调", day, &es, &Weights::default());
        assert_eq!(r.ranked.iter().map(|c| c.id.0).collect::<Vec<_>>(), vec![2, 5, 1]);
        assert_eq!(r.ranked[0].reasons[0], Reason::Certified { product_line: "空调".into() });
        assert_eq!(r.ranked[0].reasons[1], Reason::DayLoad { day, count: 1 });
        let out: Vec<(i64, Vec<Reason>)> = r.excluded.iter().map(|e| (e.id.0, e.reasons.clone())).collect();
        assert_eq!(
            out,
            vec![(3, vec![Reason::NotCertified { product_line: "空调".into() }]), (4, vec![Reason::OnLeave { day }]),]
        );
    }
}
