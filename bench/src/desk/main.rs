//! `bench-desk`: the service desk's performance targets, each measured side by side in one run.
//!
//! * `create` (`create.rs`): request creation throughput of the use case
//!   (`shouhou_app::requests::create_request` through an `App`) and of the whole product through HTTP
//!   against the raw limit of the database measured in the same run: a minimal program with the same
//!   sqlx driver and the same pool writes the same rows per request (counter upsert, request insert,
//!   one `created` event, the SLA-cache update, the audit append: head update, insert, head update),
//!   one transaction per request, same concurrency, precomputed values. Prints requests/s and ratios.
//! * `screen-pop` (`screen_pop.rs`): generates customers, devices and past requests with a
//!   fixed-seed PRNG (`rng.rs`, `plan.rs`, `generate.rs`) at bulk-load speed (`load.rs`: multi-row
//!   INSERTs in big transactions on SQLite, `COPY … FROM STDIN` on PostgreSQL, secondary indexes and
//!   foreign keys dropped during the load and rebuilt after), optionally with one customer holding
//!   thousands of open requests (`--big-open`), then measures `shouhou_app::desk::screen_pop` latency
//!   with sequential calls, the screen pop and the queue pages side by side for a customer with no
//!   requests and for the big one, as function calls and through HTTP (`side_by_side.rs`,
//!   `http.rs`), and explains the queries (`explain.rs`).
//!
//! Usage: `bench-desk create --backend sqlite|postgres [--n 2000] [--concurrency 8] [--rounds 2]`
//!        `bench-desk screen-pop --backend sqlite|postgres [--customers N] [--devices N] [--requests N]
//!         [--big-open N] [--lookups N] [--seed 42] [--keep PATH|DBNAME] [--reuse]`
//!
//! PostgreSQL databases are created as `shouhou_bench_<pid>_<tag>` on the server of
//! `--pg-admin-url` (default `postgres://postgres@127.0.0.1:5432/postgres`) and dropped at the end
//! unless kept with `--keep`.

mod create;
mod explain;
mod field;
mod generate;

mod load;
mod place;
mod plan;
mod rng;
mod screen_pop;
mod side_by_side;
mod sides;
mod stock;
mod visits;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

pub const DAY_MS: i64 = 86_400_000;
pub const YEAR_MS: i64 = 365 * DAY_MS;
pub use shouhou_bench::http::PASSWORD;

// ---------- command line ----------

#[derive(Parser)]
#[command(name = "bench-desk", about = "Service desk benchmarks: request creation vs raw, screen-pop latency")]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Request creation throughput: the use case against the same rows written by a minimal program.
    Create(CreateArgs),
    /// Screen-pop latency on generated customers, devices and past requests.
    ScreenPop(PopArgs),
    /// Dispatch recommendations over 300 stations, 3 000 engineers and 50 000 open work orders,
    /// and the service report PDF.
    Field(field::FieldArgs),
    /// Stock issues of one hot part under contention: the use case and HTTP against one ledger row
    /// committed per transaction.
    Stock(stock::StockArgs),
    /// Return visits recorded (the request closed by each): the use case and HTTP against one try
    /// row committed per transaction.
    Visits(visits::VisitsArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum BackendArg {
    Sqlite,
    Postgres,
}

impl BackendArg {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendArg::Sqlite => "sqlite",
            BackendArg::Postgres => "postgres",
        }
    }
}

#[derive(Args)]
pub struct CreateArgs {
    #[arg(long, value_enum)]
    pub backend: BackendArg,
    /// Requests per measured run.
    #[arg(long, default_value_t = 2000)]
    pub n: usize,
    /// Concurrent tasks (and PostgreSQL pool connections; SQLite has its one writer).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Rounds; each runs raw and ours on fresh databases, alternating which goes first.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Server where the PostgreSQL bench databases are created and dropped.
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_admin_url: String,
}

#[derive(Args)]
pub struct PopArgs {
    #[arg(long, value_enum)]
    pub backend: BackendArg,
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: usize,
    #[arg(long, default_value_t = 2_000_000)]
    pub devices: usize,
    #[arg(long, default_value_t = 10_000_000)]
    pub requests: usize,
    /// Timed phone look-ups per series (serial look-ups and misses: a tenth of it each).
    #[arg(long, default_value_t = 20_000)]
    pub lookups: usize,
    /// Untimed look-ups before the timed series.
    #[arg(long, default_value_t = 1000)]
    pub warmup: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Keep the data set: a SQLite file path, or a PostgreSQL database name.
    #[arg(long)]
    pub keep: Option<String>,
    /// With --keep: use the kept data set if it was loaded with the same seed and sizes.
    #[arg(long, requires = "keep")]
    pub reuse: bool,
    /// Rows per multi-row INSERT statement (SQLite).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Rows per transaction during the load (SQLite).
    #[arg(long, default_value_t = 100_000)]
    pub txn_rows: usize,
    /// Time budget of each timed series (and of the per-statement breakdown), in seconds: a series
    /// stops early when it runs out, and the output says so.
    #[arg(long, default_value_t = 300)]
    pub budget_secs: u64,
    /// Only run the row generator (no database) and print its rows/s.
    #[arg(long)]
    pub gen_only: bool,
    /// Skip ANALYZE after the load (the application itself never runs it).
    #[arg(long)]
    pub no_analyze: bool,
    /// Give one customer (the first key account) this many open requests on top of `--requests`,
    /// and none other, and keep another key account without any request; then measure the two
    /// side by side (screen pop as a function call and through HTTP, every queue page through HTTP
    /// with and without the big customer's open requests). 0: no such customer, no side by side.
    #[arg(long, default_value_t = 0)]
    pub big_open: usize,
    /// Concurrent clients (function-call tasks, HTTP keep-alive connections) of the side-by-side series.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Length of each side-by-side series, in seconds (after an untimed warm-up of a quarter of it).
    #[arg(long, default_value_t = 10)]
    pub sbs_secs: u64,
    /// Slices each side-by-side series is measured in, interleaved with the series it is compared
    /// with (a shared machine's load then falls on both alike).
    #[arg(long, default_value_t = 5)]
    pub sbs_rounds: u64,
    /// Skip the sequential screen-pop series and the per-statement breakdown (side by side and
    /// plans only).
    #[arg(long)]
    pub no_series: bool,
    #[arg(long, env = "SHOUHOU_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_admin_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Create(a) => create::cmd_create(a).await,
        Cmd::ScreenPop(a) => screen_pop::cmd_screen_pop(a).await,
        Cmd::Field(a) => field::cmd_field(a).await,
        Cmd::Stock(a) => stock::cmd_stock(a).await,
        Cmd::Visits(a) => visits::cmd_visits(a).await,
    }
}

// ---------- progress ----------

pub fn bar(len: u64, prefix: &'static str) -> anyhow::Result<ProgressBar> {
    let pb = ProgressBar::new(len).with_prefix(prefix);
    pb.set_style(ProgressStyle::with_template(
        "{prefix:>18} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {per_sec} eta {eta}",
    )?);
    Ok(pb)
}

pub fn spinner(msg: String) -> anyhow::Result<ProgressBar> {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")?);
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(200));
    Ok(pb)
}
