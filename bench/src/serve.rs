//! `bench-serve`: idle memory, login throughput and authenticated GET throughput of `shouhou demo`.
//!
//! One process, loopback only, bounded in time: it starts `shouhou demo` on a free port with a
//! fresh temporary data directory, waits for `/healthz`, lets the server idle, reads its RSS from
//! `/proc/PID/status`, then drives three load phases with N concurrent keep-alive clients:
//!
//! * A: `POST /api/v1/auth/login` (argon2id, CPU bound by design);
//! * B: `GET /api/v1/stations` with a bearer token (one login per client beforehand);
//! * C: `GET /healthz` (no auth, no database): the bare HTTP stack, the reference for B.
//!
//! It reads the RSS again after the load, stops the server (also on error or Ctrl-C), prints a
//! table and one machine-readable JSON line (starting with `{"bench":"serve"`).
//!
//! Usage: `bench-serve [--bin PATH] [--duration SECS] [--concurrency N] [--idle SECS]`
//!
//! The load generator runs in this process, on the same cores as the server: on a small machine
//! the figures are a lower bound of what the server alone could do.

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};
use shouhou_bench::stats::nearest_rank;
use shouhou_bench::sys::{clock_ticks_per_sec, cpu_ticks, loadavg, machine_busy_ticks};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

const USERNAME: &str = "admin";
const PASSWORD: &str = "Shouhou@2026";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many distinct error messages are kept per phase for printing.
const ERROR_SAMPLES: usize = 5;

struct Opts {
    bin: PathBuf,
    duration: Duration,
    concurrency: usize,
    idle: Duration,
}

fn usage() -> &'static str {
    "bench-serve: idle RSS, login and authenticated GET throughput of `shouhou demo`\n\n\
     Usage: bench-serve [--bin PATH] [--duration SECS] [--concurrency N] [--idle SECS]\n\n\
     Options:\n\
     \x20 --bin PATH         shouhou binary [default: target/release/shouhou]\n\
     \x20 --duration SECS    length of each load phase [default: 10]\n\
     \x20 --concurrency N    concurrent clients [default: 16]\n\
     \x20 --idle SECS        idle wait before the idle RSS reading [default: 3]\n\n\
     Example:\n\
     \x20 cargo build --release -p shouhou -p shouhou-bench\n\
     \x20 target/release/bench-serve --bin target/release/shouhou\n"
}

fn parse_args() -> anyhow::Result<Option<Opts>> {
    let mut o = Opts {
        bin: PathBuf::from("target/release/shouhou"),
        duration: Duration::from_secs(10),
        concurrency: 16,
        idle: Duration::from_secs(3),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        if key == "-h" || key == "--help" {
            return Ok(None);
        }
        let mut value = || -> anyhow::Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => args.next().ok_or_else(|| anyhow!("{key} needs a value")),
            }
        };
        match key.as_str() {
            "--bin" => o.bin = PathBuf::from(value()?),
            "--duration" => {
                let v = value()?;
                let secs: f64 = v.parse().with_context(|| format!("--duration {v}: not a number"))?;
                if !(secs > 0.0 && secs <= 3600.0) {
                    bail!("--duration must be in (0, 3600] seconds");
                }
                o.duration = Duration::from_secs_f64(secs);
            }
            "--concurrency" => {
                let v = value()?;
                o.concurrency = v.parse().with_context(|| format!("--concurrency {v}: not a number"))?;
                if o.concurrency == 0 || o.concurrency > 1024 {
                    bail!("--concurrency must be in 1..=1024");
                }
            }
            "--idle" => {
                let v = value()?;
                let secs: f64 = v.parse().with_context(|| format!("--idle {v}: not a number"))?;
                if !(0.0..=600.0).contains(&secs) {
                    bail!("--idle must be in [0, 600] seconds");
                }
                o.idle = Duration::from_secs_f64(secs);
            }
            other => bail!("unknown argument {other}\n\n{}", usage()),
        }
    }
    Ok(Some(o))
}

fn main() -> std::process::ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{}", usage());
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        tokio::select! {
            r = run(&opts) => r,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        }
    });
    // Dropping `run` above dropped the server guard, which kills the server and removes the data dir.
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test

/// A running `shouhou` process; killed (and its data dir removed) when dropped.
struct Server {
    child: Option<Child>,
    pid: u32,
    base: String,
    data_dir: PathBuf,
    log_file: PathBuf,
    remove_dir: bool,
}

impl Server {
    /// Start `BIN ARGS... --addr 127.0.0.1:0 --data-dir DIR` and wait for the "serving on" line.
    async fn start(
        bin: &Path,
        args: &[&str],
        data_dir: &Path,
        remove_dir: bool,
        log_name: &str,
    ) -> anyhow::Result<Server> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let log_file = data_dir.join(log_name);
        let log = std::fs::File::create(&log_file).with_context(|| format!("creating {}", log_file.display()))?;
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("SHOUHOU_DATABASE_URL")
            .env_remove("SHOUHOU_CONFIG")
            .env_remove("SHOUHOU_ADDR")
            .env_remove("SHOUHOU_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let mut child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().ok_or_else(|| anyhow!("the server exited at once"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut server = Server {
            child: Some(child),
            pid,
            base: String::new(),
            data_dir: data_dir.to_path_buf(),
            log_file,
            remove_dir,
        };

        // Read stdout until the address shows, then keep draining it in the background.
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(STARTUP_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    let addr = rest.split(['/', ' ']).next().unwrap_or("").to_string();
                    return Ok::<_, anyhow::Error>(Some(addr));
                }
            }
            Ok(None)
        })
        .await;
        let addr = match found {
            Ok(Ok(Some(a))) if !a.is_empty() => a,
            Ok(Ok(_)) => bail!("the server exited before serving; its log:\n{}", server.log_tail(30)),
            Ok(Err(e)) => bail!("reading the server's output: {e}"),
            Err(_) => bail!("the server did not start within {STARTUP_TIMEOUT:?}; its log:\n{}", server.log_tail(30)),
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        server.base = format!("http://{addr}");
        Ok(server)
    }

    async fn wait_healthy(&self, client: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
                && r.text().await.map(|t| t.trim() == "ok").unwrap_or(false)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("/healthz did not answer ok within 30 s; server log:\n{}", self.log_tail(30));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    fn log_bytes(&self) -> u64 {
        std::fs::metadata(&self.log_file).map(|m| m.len()).unwrap_or(0)
    }

    /// SIGKILL and reap. Idempotent.
    async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(10), c.wait()).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
            // Best effort reap so that removing the directory does not race the process.
            for _ in 0..50 {
                if matches!(c.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /proc readings

#[derive(Clone, Copy, Default)]
struct Mem {
    rss_kb: u64,
    hwm_kb: u64,
    anon_kb: u64,
    file_kb: u64,
    threads: u64,
}

fn read_mem(pid: u32) -> anyhow::Result<Mem> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let mut m = Mem::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let n: u64 = v.split_whitespace().next().and_then(|x| x.parse().ok()).unwrap_or(0);
        match k {
            "VmRSS" => m.rss_kb = n,
            "VmHWM" => m.hwm_kb = n,
            "RssAnon" => m.anon_kb = n,
            "RssFile" => m.file_kb = n,
            "Threads" => m.threads = n,
            _ => {}
        }
    }
    if m.rss_kb == 0 {
        bail!("no VmRSS in /proc/{pid}/status");
    }
    Ok(m)
}

fn mem_json(m: &Mem) -> Value {
    json!({"vm_rss_kb": m.rss_kb, "vm_hwm_kb": m.hwm_kb, "rss_anon_kb": m.anon_kb, "rss_file_kb": m.file_kb, "threads": m.threads})
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// Load phases

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Login,
    Stations,
    Healthz,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Login => "A login",
            Kind::Stations => "B GET /api/v1/stations",
            Kind::Healthz => "C GET /healthz",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Stations => "stations",
            Kind::Healthz => "healthz",
        }
    }
}

#[derive(Default)]
struct WorkerOut {
    ok_us: Vec<u64>,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
    bytes: u64,
}

struct PhaseResult {
    kind: Kind,
    ok: u64,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
    elapsed: Duration,
    rps: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    mean_body_bytes: f64,
    server_cpu: f64,
    bench_cpu: f64,
    /// Busy CPU of the whole machine minus server and bench: other processes, kernel softirq.
    other_cpu: f64,
}

fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(1)
        .user_agent("shouhou-bench/serve")
        .build()
        .context("building the HTTP client")
}

async fn login(c: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": USERNAME, "password": PASSWORD}))
        .send()
        .await?;
    let status = r.status();
    let body = r.text().await?;
    if status != reqwest::StatusCode::OK {
        bail!("HTTP {status}: {}", body.chars().take(200).collect::<String>());
    }
    let v: Value = serde_json::from_str(&body).context("login answer is not JSON")?;
    v.get("token")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| anyhow!("login answer without a token: {}", body.chars().take(200).collect::<String>()))
}

/// One request of the phase; Ok(body bytes) on a 200 with the expected body.
async fn one(kind: Kind, c: &reqwest::Client, base: &str, token: Option<&str>) -> anyhow::Result<u64> {
    match kind {
        Kind::Login => login(c, base).await.map(|t| t.len() as u64),
        Kind::Stations | Kind::Healthz => {
            let path = if kind == Kind::Stations { "/api/v1/stations" } else { "/healthz" };
            let mut req = c.get(format!("{base}{path}"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            if status != reqwest::StatusCode::OK {
                bail!("HTTP {status}: {}", String::from_utf8_lossy(&body).chars().take(200).collect::<String>());
            }
            if body.is_empty() {
                bail!("HTTP 200 with an empty body");
            }
            Ok(body.len() as u64)
        }
    }
}

/// Short, groupable description of an error.
fn error_key(e: &anyhow::Error) -> String {
    let s = format!("{e:#}");
    let s = s.chars().take(160).collect::<String>();
    if let Some(re) = e.downcast_ref::<reqwest::Error>() {
        if re.is_timeout() {
            return format!("timeout: {s}");
        }
        if re.is_connect() {
            return format!("connect: {s}");
        }
    }
    s
}

async fn phase(
    kind: Kind,
    server: &Server,
    concurrency: usize,
    duration: Duration,
    ticks: f64,
) -> anyhow::Result<PhaseResult> {
    let base: Arc<str> = Arc::from(server.base.as_str());

    // Clients (and, for B, their tokens) are set up before the clock starts.
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let c = client()?;
        let token = if kind == Kind::Stations {
            Some(login(&c, &base).await.context("logging in before phase B")?)
        } else {
            None
        };
        // One unmeasured request per client opens its keep-alive connection.
        if kind != Kind::Login {
            one(kind, &c, &base, token.as_deref())
                .await
                .with_context(|| format!("warm-up request of {}", kind.name()))?;
        }
        clients.push((c, token));
    }

    let pid = server.pid.to_string();
    let server_cpu0 = cpu_ticks(&pid);
    let bench_cpu0 = cpu_ticks("self");
    let machine0 = machine_busy_ticks();
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for (c, token) in clients {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = WorkerOut::default();
            // Start requests until the deadline; the ones in flight then are finished and counted,
            // and the elapsed time runs until the last one finished.
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match one(kind, &c, &base, token.as_deref()).await {
                    Ok(b) => {
                        out.ok_us.push(t0.elapsed().as_micros() as u64);
                        out.bytes += b;
                    }
                    Err(e) => {
                        out.errors += 1;
                        *out.error_kinds.entry(error_key(&e)).or_default() += 1;
                        if matches!(e.downcast_ref::<reqwest::Error>(), Some(re) if re.is_connect()) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
            out
        }));
    }
    let mut all = WorkerOut::default();
    for t in tasks {
        let o = t.await.context("a load worker panicked")?;
        all.ok_us.extend(o.ok_us);
        all.errors += o.errors;
        all.bytes += o.bytes;
        for (k, n) in o.error_kinds {
            *all.error_kinds.entry(k).or_default() += n;
        }
    }
    let elapsed = start.elapsed();
    let cpu = |before: Option<u64>, who: &str| match (before, cpu_ticks(who)) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / ticks / elapsed.as_secs_f64(),
        _ => f64::NAN,
    };
    let server_cpu = cpu(server_cpu0, &pid);
    let bench_cpu = cpu(bench_cpu0, "self");
    let other_cpu = match (machine0, machine_busy_ticks()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / ticks / elapsed.as_secs_f64() - server_cpu - bench_cpu,
        _ => f64::NAN,
    };

    all.ok_us.sort_unstable();
    let pct = |p: f64| -> f64 { nearest_rank(&all.ok_us, p).map_or(f64::NAN, |us| us as f64 / 1000.0) };
    let ok = all.ok_us.len() as u64;
    Ok(PhaseResult {
        kind,
        ok,
        errors: all.errors,
        error_kinds: all.error_kinds,
        elapsed,
        rps: ok as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(50.0),
        p90_ms: pct(90.0),
        p99_ms: pct(99.0),
        max_ms: all.ok_us.last().map(|u| *u as f64 / 1000.0).unwrap_or(f64::NAN),
        mean_body_bytes: if ok > 0 { all.bytes as f64 / ok as f64 } else { f64::NAN },
        server_cpu,
        bench_cpu,
        other_cpu,
    })
}

fn phase_json(p: &PhaseResult) -> Value {
    json!({
        "ok": p.ok,
        "errors": p.errors,
        "error_kinds": p.error_kinds,
        "elapsed_s": round(p.elapsed.as_secs_f64(), 3),
        "rps": round(p.rps, 1),
        "p50_ms": round(p.p50_ms, 3),
        "p90_ms": round(p.p90_ms, 3),
        "p99_ms": round(p.p99_ms, 3),
        "max_ms": round(p.max_ms, 3),
        "mean_body_bytes": round(p.mean_body_bytes, 0),
        "server_cpu_cores": round(p.server_cpu, 2),
        "bench_cpu_cores": round(p.bench_cpu, 2),
        "other_cpu_cores": round(p.other_cpu, 2),
    })
}

fn round(x: f64, digits: i32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let f = 10f64.powi(digits);
    json!((x * f).round() / f)
}

// ---------------------------------------------------------------------------------------------

fn fresh_dir() -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("shouhou-bench-{}-{nanos}", std::process::id()))
}

fn first_line_of(path: &str, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string())
}

async fn run(o: &Opts) -> anyhow::Result<()> {
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let bin = o.bin.canonicalize().with_context(|| {
        format!("the shouhou binary {} (build it: cargo build --release -p shouhou)", o.bin.display())
    })?;
    let ticks = clock_ticks_per_sec();
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpu_model = first_line_of("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let version = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let dir = fresh_dir();
    let load_before = loadavg();

    eprintln!("bench-serve: starting {} demo (data dir {})", bin.display(), dir.display());
    let t_start = Instant::now();
    let mut server = Server::start(&bin, &["demo"], &dir, true, "server.log").await?;
    let probe = client()?;
    server.wait_healthy(&probe).await?;
    let startup = t_start.elapsed();
    drop(probe);
    eprintln!(
        "bench-serve: {} ready after {:.1} s (pid {}); idling {:?}",
        server.base,
        startup.as_secs_f64(),
        server.pid,
        o.idle
    );
    tokio::time::sleep(o.idle).await;
    let idle = read_mem(server.pid)?;
    eprintln!("bench-serve: idle VmRSS {:.1} MiB", mib(idle.rss_kb));

    let mut phases = Vec::new();
    for kind in [Kind::Login, Kind::Stations, Kind::Healthz] {
        eprintln!("bench-serve: phase {} ({} clients, {:?})", kind.name(), o.concurrency, o.duration);
        let p = phase(kind, &server, o.concurrency, o.duration, ticks).await?;
        eprintln!("bench-serve:   {} ok, {} errors, {:.1} req/s", p.ok, p.errors, p.rps);
        let after = read_mem(server.pid)?;
        phases.push((p, after));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = read_mem(server.pid)?;
    let log_bytes = server.log_bytes();
    let load_after = loadavg();
    server.stop().await;

    // The same database served by `shouhou serve` (no demo seeding in the process): the idle RSS a
    // production start would show, for comparison with the demo figure.
    let db_file = dir.join("demo.db");
    let serve_idle = {
        let url = format!("sqlite://{}", db_file.display());
        let serve_dir = dir.join("serve");
        match Server::start(&bin, &["serve", "--database-url", &url], &serve_dir, false, "serve.log").await {
            Ok(mut s) => {
                let probe = client()?;
                let r = match s.wait_healthy(&probe).await {
                    Ok(()) => {
                        tokio::time::sleep(o.idle).await;
                        read_mem(s.pid).ok()
                    }
                    Err(e) => {
                        eprintln!("bench-serve: `shouhou serve` of the demo database did not get healthy: {e:#}");
                        None
                    }
                };
                s.stop().await;
                r
            }
            Err(e) => {
                eprintln!("bench-serve: could not start `shouhou serve` of the demo database: {e:#}");
                None
            }
        }
    };
    drop(server); // removes the data dir

    // ------------------------------------------------------------------ report
    let healthz_rps = phases.iter().find(|(p, _)| p.kind == Kind::Healthz).map(|(p, _)| p.rps).unwrap_or(f64::NAN);
    let stations = phases.iter().find(|(p, _)| p.kind == Kind::Stations).map(|(p, _)| p);
    let ratio = stations.map(|s| s.rps / healthz_rps).unwrap_or(f64::NAN);
    let p50_ratio = stations
        .zip(phases.iter().find(|(p, _)| p.kind == Kind::Healthz).map(|(p, _)| p))
        .map(|(s, h)| s.p50_ms / h.p50_ms)
        .unwrap_or(f64::NAN);
    let target_kb = 40 * 1024;
    let date = std::process::Command::new("date")
        .arg("-Is")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();

    println!();
    println!("shouhou serve benchmark");
    println!("  command      : {command_line}");
    println!("  server       : {} ({version}) demo, SQLite, loopback", bin.display());
    println!("  machine      : {nproc} cores, {cpu_model}; load generator in this process on the same cores");
    println!("  date         : {date}");
    println!(
        "  load average : {load_before} before, {load_after} after the load (other processes on the machine skew the figures)"
    );
    println!("  phases       : {:?} each, {} concurrent keep-alive clients", o.duration, o.concurrency);
    println!("  startup      : {:.1} s to a healthy /healthz (demo seeding included)", startup.as_secs_f64());
    println!();
    println!("  memory of the server process (MiB)    VmRSS   VmHWM  RssAnon  RssFile  threads");
    let mem_row = |label: &str, m: &Mem| {
        println!(
            "  {label:<38} {:>6.1}  {:>6.1}  {:>7.1}  {:>7.1}  {:>7}",
            mib(m.rss_kb),
            mib(m.hwm_kb),
            mib(m.anon_kb),
            mib(m.file_kb),
            m.threads
        );
    };
    mem_row(&format!("idle, {:?} after ready (demo)", o.idle), &idle);
    for (p, m) in &phases {
        mem_row(&format!("after phase {}", p.kind.name()), m);
    }
    mem_row("after load, 1 s later", &after);
    if let Some(m) = &serve_idle {
        mem_row("idle, `shouhou serve` of the same db", m);
    }
    println!(
        "  idle RSS target < 40 MB (40 MiB = {} kB): {} ({:.1} MiB)",
        target_kb,
        if idle.rss_kb < target_kb { "MET" } else { "NOT MET" },
        mib(idle.rss_kb)
    );
    println!();
    println!(
        "  phase                     requests  errors    req/s   p50 ms   p90 ms   p99 ms   max ms  server CPU  bench CPU  other CPU"
    );
    for (p, _) in &phases {
        println!(
            "  {:<24} {:>9} {:>7} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2}c {:>9.2}c {:>9.2}c",
            p.kind.name(),
            p.ok,
            p.errors,
            p.rps,
            p.p50_ms,
            p.p90_ms,
            p.p99_ms,
            p.max_ms,
            p.server_cpu,
            p.bench_cpu,
            p.other_cpu
        );
    }
    println!(
        "  (req/s = successful requests / wall time until the last request finished; CPU in cores, from /proc/PID/stat;"
    );
    println!(
        "   other CPU = busy CPU of the machine (/proc/stat) minus server and bench: other processes, kernel softirq)"
    );
    println!();
    println!("  authenticated GET vs /healthz: {:.1}% of the req/s, p50 latency x{:.2}", ratio * 100.0, p50_ratio);
    for (p, _) in &phases {
        for (k, n) in p.error_kinds.iter().take(ERROR_SAMPLES) {
            println!("  error in {}: {n} x {k}", p.kind.name());
        }
    }
    println!("  server log: {log_bytes} bytes written to stderr during the run");
    println!();

    let mut phase_map = serde_json::Map::new();
    for (p, m) in &phases {
        let mut v = phase_json(p);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("mem_after".into(), mem_json(m));
        }
        phase_map.insert(p.kind.key().into(), v);
    }
    let line = json!({
        "bench": "serve",
        "command": command_line,
        "date": date,
        "server_version": version,
        "nproc": nproc,
        "cpu_model": cpu_model,
        "duration_s": o.duration.as_secs_f64(),
        "concurrency": o.concurrency,
        "startup_s": round(startup.as_secs_f64(), 2),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "idle": mem_json(&idle),
        "after_load": mem_json(&after),
        "serve_idle": serve_idle.as_ref().map(mem_json),
        "idle_rss_target_kb": target_kb,
        "idle_rss_target_met": idle.rss_kb < target_kb,
        "phases": phase_map,
        "stations_vs_healthz_rps": round(ratio, 4),
        "stations_vs_healthz_p50": round(p50_ratio, 3),
        "server_log_bytes": log_bytes,
    });
    println!("{line}");

    let total_errors: u64 = phases.iter().map(|(p, _)| p.errors).sum();
    if total_errors > 0 {
        bail!("{total_errors} requests failed (see above)");
    }
    Ok(())
}
