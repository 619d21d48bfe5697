//! The whole product served in this process on a loopback port (`shouhou_web::serve`: the same
//! router, middleware and edge as `shouhou serve`), clients logged in through
//! `POST /api/v1/auth/login`, and a closed-loop load driver shared by the function-call and the
//! HTTP series.
use crate::stats::{Pcts, pcts};
use crate::sys::{CpuUse, cpu_mark};
use anyhow::anyhow;
use serde_json::json;
use shouhou_app::App;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The password of every user the benchmarks create and log in.
pub const PASSWORD: &str = "Shouhou@2026";

/// A server of `app` on 127.0.0.1 (a free port), stopped by [`Server::stop`].
pub struct Server {
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(app: &App) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shouhou_web::AppState {
            app: app.clone(),
            secure_cookies: false,
            faults: Default::default(),
            metrics_token: None,
            public_base_url: None,
        };
        let task = tokio::spawn(shouhou_web::serve(state, listener, async move {
            let _ = stopped.await;
        }));
        Ok(Server { base, stop, task })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }

    /// `n` keep-alive clients (one connection each), each logged in as `username` with its own
    /// bearer token; the logins happen here, before any clock starts.
    pub async fn clients(&self, username: &str, n: usize) -> anyhow::Result<Vec<Client>> {
        let mut out = vec![];
        for _ in 0..n {
            let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(1).build()?;
            let r = http
                .post(format!("{}/api/v1/auth/login", self.base))
                .json(&json!({"username": username, "password": PASSWORD}));
            let answer: serde_json::Value = r.send().await?.error_for_status()?.json().await?;
            let token = answer["token"].as_str().ok_or_else(|| anyhow!("no token"))?.to_string();
            out.push(Client { http, token });
        }
        Ok(out)
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub token: String,
}

/// What a closed-loop run measured: one slice of a series.
pub struct Slice {
    pub lat: Vec<Duration>,
    /// Wall time from the start to the last answer.
    pub secs: f64,
    pub cpu: CpuUse,
}

/// A series measured in slices (interleaved with other series, so that all of them see the same
/// machine): the latencies of all its slices, their total time and CPU use.
#[derive(Default)]
pub struct Series {
    lat: Vec<Duration>,
    secs: f64,
    /// Core-seconds: bench, postgres, other.
    core_secs: [f64; 3],
}

impl Series {
    pub fn add(&mut self, s: Slice) {
        self.core_secs[0] += s.cpu.bench * s.secs;
        self.core_secs[1] += s.cpu.postgres * s.secs;
        self.core_secs[2] += s.cpu.other * s.secs;
        self.secs += s.secs;
        self.lat.extend(s.lat);
    }

    pub fn run(&self) -> Run {
        let t = self.secs.max(1e-9);
        let cpu =
            CpuUse { bench: self.core_secs[0] / t, postgres: self.core_secs[1] / t, other: self.core_secs[2] / t };
        Run { requests: self.lat.len(), secs: self.secs, lat: pcts(&self.lat), cpu }
    }
}

/// What a series measured, in all.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub requests: usize,
    pub secs: f64,
    pub lat: Pcts,
    pub cpu: CpuUse,
}

impl Run {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.secs.max(1e-9)
    }
}

/// `workers` concurrent loops, each calling `call(worker)` again as soon as it returned, until
/// `duration` has passed (a call under way then finishes and counts). Every call must succeed.
pub async fn closed_loop<F, Fut>(workers: usize, duration: Duration, call: Arc<F>) -> anyhow::Result<Slice>
where
    F: Fn(usize) -> Fut + Send + Sync + ?Sized + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let cpu = cpu_mark();
    let start = Instant::now();
    let deadline = start + duration;
    let mut set = tokio::task::JoinSet::new();
    for w in 0..workers {
        let call = call.clone();
        set.spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            while Instant::now() < deadline {
                let t = Instant::now();
                call(w).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        });
    }
    let mut lat = vec![];
    while let Some(r) = set.join_next().await {
        lat.extend(r??);
    }
    Ok(Slice { lat, secs: start.elapsed().as_secs_f64(), cpu: cpu.since() })
}
