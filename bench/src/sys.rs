//! The machine and CPU use, from `/proc` (Linux).
use serde_json::json;
use std::time::Instant;

/// "2 cores, <model name>, 23.5 GiB RAM".
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!("{cpus} cores, {model}, {:.1} GiB RAM", mem_kb as f64 / 1024.0 / 1024.0)
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` shows them.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// utime + stime of the text of a `/proc/PID/stat` file, in clock ticks.
fn stat_ticks(stat: &str) -> Option<u64> {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// utime + stime of process `pid` (or `"self"`), in clock ticks.
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Busy time of all CPUs (user, nice, system, irq, softirq, steal), in clock ticks, from `/proc/stat`.
pub fn machine_busy_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal
    Some([0, 1, 2, 5, 6, 7].iter().filter_map(|i| f.get(*i)).sum())
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when it cannot be read).
pub fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// CPU time from `/proc` at an instant: the whole machine (busy), this process, and every
/// `postgres` process.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    busy: u64,
    me: u64,
    pg: u64,
}

/// Average cores used between two marks: this benchmark, the PostgreSQL server, everything else.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub bench: f64,
    pub postgres: f64,
    pub other: f64,
}

impl std::fmt::Display for CpuUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CPU cores: bench {:.2}, postgres {:.2}, other {:.2}", self.bench, self.postgres, self.other)
    }
}

impl CpuUse {
    pub fn json(&self) -> serde_json::Value {
        json!({"bench": self.bench, "postgres": self.postgres, "other": self.other})
    }
}

/// Mark the CPU counters now.
pub fn cpu_mark() -> CpuMark {
    let mut pg = 0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let p = e.path();
            if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                && std::fs::read_to_string(p.join("comm")).is_ok_and(|c| c.trim() == "postgres")
            {
                pg += std::fs::read_to_string(p.join("stat")).ok().and_then(|s| stat_ticks(&s)).unwrap_or(0);
            }
        }
    }
    CpuMark { at: Instant::now(), busy: machine_busy_ticks().unwrap_or(0), me: cpu_ticks("self").unwrap_or(0), pg }
}

impl CpuMark {
    /// Cores used since this mark. PostgreSQL backends that ended in between are not counted (the
    /// benchmarks keep their connections open while measuring).
    pub fn since(&self) -> CpuUse {
        let now = cpu_mark();
        let secs = now.at.duration_since(self.at).as_secs_f64().max(1e-9) * clock_ticks_per_sec();
        let d = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
        let (busy, bench, postgres) = (d(now.busy, self.busy), d(now.me, self.me), d(now.pg, self.pg));
        CpuUse { bench, postgres, other: (busy - bench - postgres).max(0.0) }
    }
}
