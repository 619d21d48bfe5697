//! The side-by-side runs shared by the one-command benches (`stock`, `visits`): the three sides,
//! their order per round (each side goes first once in three rounds), one line per run, and the
//! summary with each side's share of raw.
use crate::BackendArg;
use serde_json::json;
use shouhou_bench::stats::{Pcts, pcts_json};
use shouhou_bench::sys::{CpuUse, loadavg};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// One row inserted and committed per transaction, nothing else: the database's limit.
    Raw,
    /// The use case as a function call.
    Ours,
    /// The API over loopback HTTP with a bearer token.
    Http,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Raw => "raw",
            Side::Ours => "ours",
            Side::Http => "http",
        }
    }

    /// The order of the sides in `round`, so that no side always runs first.
    pub fn order(round: usize) -> [Side; 3] {
        match round % 3 {
            1 => [Side::Raw, Side::Ours, Side::Http],
            2 => [Side::Http, Side::Raw, Side::Ours],
            _ => [Side::Ours, Side::Http, Side::Raw],
        }
    }
}

pub struct Run {
    pub side: Side,
    pub round: usize,
    pub secs: f64,
    pub lat: Pcts,
    pub cpu: CpuUse,
}

impl Run {
    /// The run's line: `unit` is what one operation does ("issues", "visits").
    pub fn print(&self, n: usize, unit: &str) {
        println!(
            "round {} {:<4}: {n} {unit} in {:.2} s = {:>8.1} /s; latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
            self.round,
            self.side.as_str(),
            self.secs,
            n as f64 / self.secs,
            self.lat.p50,
            self.lat.p90,
            self.lat.p99,
            self.lat.max
        );
        println!("                {}", self.cpu);
    }
}

/// Each side's rate over all its runs, its share of raw, and the whole as one JSON line.
pub fn summarize(bench: &str, unit: &str, backend: BackendArg, n: usize, concurrency: usize, runs: &[Run]) {
    let rate = |s: Side| {
        let rs: Vec<&Run> = runs.iter().filter(|r| r.side == s).collect();
        (rs.len() * n) as f64 / rs.iter().map(|r| r.secs).sum::<f64>()
    };
    let (raw, ours, http) = (rate(Side::Raw), rate(Side::Ours), rate(Side::Http));
    println!(
        "{} total: raw {:.1} rows/s, ours {:.1} {unit}/s ({:.1} % of raw), http {:.1} {unit}/s ({:.1} % of raw)",
        backend.as_str(),
        raw,
        ours,
        ours / raw * 100.0,
        http,
        http / raw * 100.0
    );
    println!("load average at end: {}", loadavg());
    let js: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| json!({"round": r.round, "side": r.side.as_str(), "secs": r.secs, "per_s": n as f64 / r.secs, "latency": pcts_json(&r.lat), "cpu": r.cpu.json()}))
        .collect();
    println!(
        "{}",
        json!({"bench": bench, "backend": backend.as_str(), "n": n, "concurrency": concurrency,
               "raw_per_s": raw, "ours_per_s": ours, "http_per_s": http, "ours_share": ours / raw, "http_share": http / raw, "runs": js})
    );
}
