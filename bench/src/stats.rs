//! Nearest-rank percentiles of latencies.
use serde_json::json;
use std::time::Duration;

/// The element at percentile `p` (0–100) of `sorted` by the nearest-rank method; `None` when empty.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Count, nearest-rank percentiles, maximum and mean of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pcts {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// Nearest-rank percentiles of `ds`, in milliseconds (all zero when empty).
pub fn pcts(ds: &[Duration]) -> Pcts {
    if ds.is_empty() {
        return Pcts::default();
    }
    let mut ms: Vec<f64> = ds.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let rank = |p: f64| nearest_rank(&ms, p).unwrap_or(0.0);
    Pcts {
        n: ms.len(),
        p50: rank(50.0),
        p90: rank(90.0),
        p99: rank(99.0),
        max: ms[ms.len() - 1],
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

pub fn pcts_json(p: &Pcts) -> serde_json::Value {
    json!({"n": p.n, "p50_ms": p.p50, "p90_ms": p.p90, "p99_ms": p.p99, "max_ms": p.max, "mean_ms": p.mean})
}

/// Run `n` operations on `workers` concurrent tasks, each taking the next index until `n` are
/// taken, timing each: (seconds, latency percentiles, CPU used). `op` gets its own clone of the
/// task's worker (an app, a client with its token) and the operation's index.
pub async fn concurrently<W, F, Fut>(
    workers: Vec<W>,
    n: usize,
    op: F,
) -> anyhow::Result<(f64, Pcts, crate::sys::CpuUse)>
where
    W: Clone + Send + 'static,
    F: Fn(W, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = crate::sys::cpu_mark();
    let start = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in workers {
        let (next, op) = (next.clone(), op.clone());
        set.spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = std::time::Instant::now();
                op(w.clone(), i).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        });
    }
    let mut lat = vec![];
    while let Some(r) = set.join_next().await {
        lat.extend(r??);
    }
    Ok((start.elapsed().as_secs_f64(), pcts(&lat), cpu.since()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_of_ten() {
        let xs: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&xs, 50.0), Some(5));
        assert_eq!(nearest_rank(&xs, 90.0), Some(9));
        assert_eq!(nearest_rank(&xs, 99.0), Some(10));
        assert_eq!(nearest_rank(&xs, 0.0), Some(1));
        assert_eq!(nearest_rank::<u64>(&[], 50.0), None);
    }
}
