use crate::config::{Layer, Settings};
use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use shouhou_app::{App, AppConfig, Ctx, SystemClock};
use shouhou_store::{Db, DbOptions};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "shouhou",
    version,
    about = "售后服务管理系统 — after-sales service management in one binary",
    long_about = "shouhou runs an after-sales service operation: service requests, stations, engineers, warranty, \
spare parts. It keeps its data in an embedded SQLite file by default, or on PostgreSQL.",
    after_help = "Examples:\n  shouhou demo                      # fresh demo database, served on 127.0.0.1:8080\n  shouhou serve --data-dir /srv/shouhou\n  shouhou serve --database-url postgres://shouhou@db/shouhou\n  echo 'S3cret!pass' | shouhou user add --username zhangsan --role engineer --station SZ-NS01"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// `serve` and `demo` run the server; the other commands print and end.
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve { .. } | Command::Demo { .. })
    }
}

#[derive(Args, Clone)]
struct Common {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://DATA_DIR/shouhou.db]
    #[arg(long, env = "SHOUHOU_DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// Directory for the SQLite database and backups [default: ./data]
    #[arg(long, env = "SHOUHOU_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Optional TOML configuration file (flags and SHOUHOU_* variables take precedence)
    #[arg(long, env = "SHOUHOU_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Key file for personal data and the audit chain [default: DATA_DIR/keys.txt, created for an empty database only]; or put its text in SHOUHOU_KEYS
    #[arg(long, env = "SHOUHOU_KEYS_FILE", global = true)]
    keys_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the API (migrates the database first)
    #[command(
        after_help = "Examples:\n  shouhou serve\n  shouhou serve --addr 0.0.0.0:8080 --data-dir /srv/shouhou\n  SHOUHOU_DATABASE_URL=postgres://postgres@127.0.0.1/shouhou shouhou serve"
    )]
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "SHOUHOU_ADDR")]
        addr: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Apply pending database migrations and report the schema version
    #[command(after_help = "Example:\n  shouhou migrate --database-url postgres://postgres@127.0.0.1/shouhou")]
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create a fresh database full of realistic demo data and serve it
    #[command(
        after_help = "Example:\n  shouhou demo --addr 127.0.0.1:8080 --data-dir ./demo-data\n\nThe demo database is DATA_DIR/demo.db and is recreated on every start."
    )]
    Demo {
        #[arg(long, env = "SHOUHOU_ADDR")]
        addr: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Make a consistent copy of the database while it is in use
    #[command(
        after_help = "Examples:\n  shouhou backup --out /backup/shouhou-$(date +%F).db\n\nOn PostgreSQL use pg_dump: pg_dump --format=custom --file shouhou.dump \"$SHOUHOU_DATABASE_URL\""
    )]
    Backup {
        /// File to write [default: DATA_DIR/backups/shouhou-<time>.db]
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Replace the database with a backup (stop the server first)
    #[command(
        after_help = "Example:\n  shouhou restore --from /backup/shouhou-2026-11-26.db --force\n\nOn PostgreSQL use pg_restore: pg_restore --clean --dbname \"$SHOUHOU_DATABASE_URL\" shouhou.dump"
    )]
    Restore {
        /// Backup file made by `shouhou backup`
        #[arg(long)]
        from: PathBuf,
        /// Overwrite an existing database
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Import customers or devices from CSV or Excel (.xlsx): all rows or none, with a report of the rows at fault
    #[command(
        after_help = "Examples:\n  shouhou import customers 客户.xlsx\n  shouhou import devices devices.csv --user admin\n\nColumns (Chinese or English headers): customers — 客户名称/name, 手机/phone, 行政区划代码/region_code, 地址/address, …;\ndevices — 序列号/serial_number, 产品型号/model_code, 客户手机/customer_phone, 销售日期/sale_date, …"
    )]
    Import {
        /// customers or devices
        #[arg(value_parser = ["customers", "devices"])]
        what: String,
        /// The CSV (UTF-8) or .xlsx file
        file: PathBuf,
        /// The administrator the import is recorded under
        #[arg(long, default_value = "admin")]
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Print the OpenAPI 3.1 document of the API (as served at /api/openapi.json)
    Openapi,
    /// Check the audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rotate the personal-data keys
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Show how many stored values each key version encrypts, how many no configured key decrypts, and whether the keys match the database (exit status 1 if not)
    #[command(after_help = "Example:\n  shouhou keys status --data-dir /srv/shouhou")]
    Status {
        #[command(flatten)]
        common: Common,
    },
    /// Print a fresh key line to add to the key file (the next version)
    #[command(
        after_help = "Rotation, step by step:\n  1. shouhou keys generate >> /srv/shouhou/keys.txt   (on every instance's key file)\n  2. restart the instances: new values are encrypted with the new key\n  3. shouhou keys reencrypt                            (old values rewritten; may run beside the server)\n  4. shouhou keys status                               (the old version encrypts nothing)\n  5. back up, then remove the old data.N line"
    )]
    Generate {
        #[command(flatten)]
        common: Common,
    },
    /// Rewrite every value under an older key with the newest key, in batches (interruptible, rerunnable)
    #[command(after_help = "Example:\n  shouhou keys reencrypt --data-dir /srv/shouhou")]
    Reencrypt {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from stdin when it is not a terminal, else prompted
    #[command(
        after_help = "Examples:\n  shouhou user add --username admin --role admin\n  printf 'S3cret!pass\\n' | shouhou user add --username zhaolei --display-name 赵磊 --role engineer --station SZ-NS01\n\nRoles: customer dealer agent dispatcher engineer station_manager warehouse finance manager admin"
    )]
    Add {
        #[arg(long)]
        username: String,
        /// Role; repeat or separate with commas for several
        #[arg(long, required = true, value_delimiter = ',')]
        role: Vec<String>,
        /// Station code; repeat for several (engineers and station managers need one)
        #[arg(long)]
        station: Vec<String>,
        /// Name shown in the UI
        #[arg(long)]
        display_name: Option<String>,
        /// zh-CN or en
        #[arg(long, default_value = "zh-CN")]
        locale: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the keyed hash chain, compare it with the signed checkpoints in DATA_DIR/audit-checkpoints and check the append-only triggers (exit status 1 if anything is wrong)
    #[command(
        after_help = "Example:\n  shouhou audit verify --data-dir /srv/shouhou\n\nReasons: hash_mismatch, prev_mismatch, gap, head_mismatch (a link does not hold), checkpoint_mismatch (rewritten),\ntruncated (entries removed from the end, or the log emptied), triggers_missing (no longer append-only)."
    )]
    Verify {
        #[command(flatten)]
        common: Common,
    },
}

fn settings(addr: Option<String>, c: Common) -> anyhow::Result<Settings> {
    Settings::resolve(Layer {
        addr,
        database_url: c.database_url,
        data_dir: c.data_dir,
        config: c.config,
        keys_file: c.keys_file,
        metrics_token: std::env::var("SHOUHOU_METRICS_TOKEN").ok(),
    })
}

/// The file of signed audit checkpoints of this data directory (docs/DECISIONS.md D30).
const CHECKPOINTS: &str = "audit-checkpoints";

fn app_config(s: &Settings) -> AppConfig {
    AppConfig { audit_checkpoints: Some(s.data_dir.join(CHECKPOINTS)), ..AppConfig::default() }
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOUHOU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if format == "json" {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

async fn open(s: &Settings) -> anyhow::Result<Db> {
    if s.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&s.data_dir)
            .with_context(|| format!("creating data directory {}", s.data_dir.display()))?;
    }
    let db = Db::connect(&s.database_url, &DbOptions { max_connections: s.max_connections, ..Default::default() })
        .await
        .with_context(|| format!("connecting to {}", shouhou_store::redact_url(&s.database_url)))?;
    Ok(db)
}

async fn keys(command: KeysCommand) -> anyhow::Result<ExitCode> {
    let common = match &command {
        KeysCommand::Status { common } | KeysCommand::Generate { common } | KeysCommand::Reencrypt { common } => {
            common.clone()
        }
    };
    let s = settings(None, common)?;
    if let KeysCommand::Generate { .. } = command {
        let keyring = read_keys(&s)?;
        let key = shouhou_store::crypto::generate_key().context("generating a key")?;
        println!("data.{} = {key}", keyring.current_version() + 1);
        return Ok(ExitCode::SUCCESS);
    }
    let db = open(&s).await?;
    db.migrate().await?;
    // `status` reports on any key file, even the wrong one; `reencrypt` writes, so only with the right one.
    let keyring = match command {
        KeysCommand::Reencrypt { .. } => open_keys(&s, &db).await?,
        _ => read_keys(&s)?,
    };
    let configured = keyring.versions();
    let app = App::new(db, Arc::new(SystemClock), app_config(&s), keyring);
    let ctx = Ctx::system();
    if let KeysCommand::Reencrypt { .. } = command {
        let pb = spinner("re-encrypting");
        let done = shouhou_app::keys::reencrypt(&app, &ctx, |table, rows| {
            pb.set_message(format!("re-encrypting {table}: {rows} rows so far"));
        })
        .await?;
        pb.finish_and_clear();
        println!("{} values in {} rows rewritten under key version {}", done.values, done.rows, done.version);
    }
    let pb = spinner("trying every stored value with the configured keys");
    let usage = shouhou_app::keys::key_usage(&app, &ctx).await?;
    let states = shouhou_app::keys::key_states(&app, &ctx).await?;
    pb.finish_and_clear();
    println!("{:<20} {:<22} {:>8} {:>12} {:>14}", "table", "column", "version", "values", "undecryptable");
    for u in &usage {
        println!("{:<20} {:<22} {:>8} {:>12} {:>14}", u.table, u.column, u.version, u.values, u.undecryptable);
    }
    for v in &configured {
        let used: i64 = usage.iter().filter(|u| u.version == format!("v{v}")).map(|u| u.values).sum();
        let note = if *v == app.keys.current_version() {
            "the newest: encrypts new values".to_string()
        } else if used == 0 {
            "encrypts nothing: its line may leave the key file (after a backup)".to_string()
        } else {
            format!("still needed for {used} values: run `shouhou keys reencrypt`")
        };
        println!("key data.{v}: {note}");
    }
    for st in &states {
        let note = match st.state {
            "matches" => "is the key this database was written with",
            "differs" => "is NOT the key this database was written with (fingerprint differs)",
            "missing" => "is not in the key file, but the database was written with it",
            "retired" => "left the key file after it encrypted nothing",
            _ => "is new to this database",
        };
        println!("key {}: {note}", st.key);
    }
    let mut unreadable: Vec<(String, i64)> = vec![];
    for u in usage.iter().filter(|u| u.undecryptable > 0) {
        match unreadable.iter_mut().find(|(v, _)| *v == u.version) {
            Some((_, n)) => *n += u.undecryptable,
            None => unreadable.push((u.version.clone(), u.undecryptable)),
        }
    }
    let differs = states.iter().any(|s| s.state == "differs" || s.state == "missing");
    for (version, n) in &unreadable {
        let key = version.replacen('v', "data.", 1);
        if version.strip_prefix('v').and_then(|v| v.parse::<u32>().ok()).is_some_and(|v| configured.contains(&v)) {
            println!(
                "PROBLEM: {n} values under {key} cannot be decrypted: {key} in the key file is not the key they were written with"
            );
        } else {
            println!("PROBLEM: {n} values under {key} cannot be decrypted: the key file has no {key}");
        }
    }
    if differs && unreadable.is_empty() {
        println!("PROBLEM: the key file does not match the keys this database was written with");
    }
    Ok(if unreadable.is_empty() && !differs { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { addr, common } => {
            let s = settings(addr, common)?;
            init_logs(&s.log_format);
            let db = open(&s).await?;
            db.migrate().await.context("applying migrations")?;
            let app = App::new(db.clone(), Arc::new(SystemClock), app_config(&s), open_keys(&s, &db).await?);
            serve(&s, app, None).await?;
        }
        Command::Migrate { common } => {
            let s = settings(None, common)?;
            let db = open(&s).await?;
            let pb = spinner("applying migrations");
            db.migrate().await.context("applying migrations")?;
            pb.finish_and_clear();
            let (shipped, applied) = db.migration_status().await?;
            println!(
                "database {} is at schema version {} ({} of {} migrations applied)",
                shouhou_store::redact_url(&s.database_url),
                applied.last().copied().unwrap_or(0),
                applied.len(),
                shipped.len()
            );
        }
        Command::User { command: UserCommand::Add { username, role, station, display_name, locale, common } } => {
            let s = settings(None, common)?;
            let password = read_password()?;
            let db = open(&s).await?;
            db.migrate().await?;
            let app = App::new(db.clone(), Arc::new(SystemClock), app_config(&s), open_keys(&s, &db).await?);
            let form = shouhou_app::users::UserForm {
                username: username.clone(),
                display_name: display_name.unwrap_or_default(),
                password,
                locale,
                roles: role,
                stations: station,
            };
            match shouhou_app::users::create_user(&app, &Ctx::system(), &form).await {
                Ok(id) => println!("user {username} created (id {id})"),
                Err(shouhou_app::AppError::Validation(v)) => {
                    for e in v.0 {
                        eprintln!("  {}: {}", e.field, e.code);
                    }
                    bail!("the user was not created");
                }
                Err(e) => return Err(e).context("the user was not created"),
            }
        }
        Command::Demo { addr, common } => {
            let mut s = settings(addr, common)?;
            init_logs(&s.log_format);
            if s.database_url.starts_with("sqlite:") {
                std::fs::create_dir_all(&s.data_dir)?;
                let file = s.data_dir.join("demo.db");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                s.database_url = format!("sqlite://{}", file.display());
            }
            let mut config = app_config(&s);
            if s.database_url.starts_with("sqlite:") {
                // The demo database is new on every start: so are the checkpoints of its chain.
                let checkpoints = s.data_dir.join(format!("demo-{CHECKPOINTS}"));
                let _ = std::fs::remove_file(&checkpoints);
                config.audit_checkpoints = Some(checkpoints);
            }
            let db = open(&s).await?;
            db.migrate().await?;
            let app = App::new(db.clone(), Arc::new(SystemClock), config, open_keys(&s, &db).await?);
            let empty = {
                let mut rd = db.read().await?;
                shouhou_store::users::count_users(&mut rd.conn()).await? == 0
            };
            if empty {
                let pb = spinner("loading demo data");
                shouhou_testkit::demo::seed(&app).await.context("loading demo data")?;
                pb.finish_and_clear();
            } else {
                println!("the database already holds users: demo data not loaded again");
            }
            serve(&s, app, Some(shouhou_testkit::demo::logins())).await?;
        }
        Command::Backup { out, common } => {
            let s = settings(None, common)?;
            let db = open(&s).await?;
            if !s.database_url.starts_with("sqlite:") {
                println!(
                    "PostgreSQL keeps its own consistent copies: run\n  pg_dump --format=custom --file shouhou.dump \"$SHOUHOU_DATABASE_URL\"\nand restore with\n  pg_restore --clean --dbname \"$SHOUHOU_DATABASE_URL\" shouhou.dump"
                );
                return Ok(ExitCode::SUCCESS);
            }
            let out = match out {
                Some(o) => o,
                None => {
                    let dir = s.data_dir.join("backups");
                    std::fs::create_dir_all(&dir)?;
                    let stamp = jiff_stamp();
                    dir.join(format!("shouhou-{stamp}.db"))
                }
            };
            if out.exists() {
                bail!("{} exists already; choose another file", out.display());
            }
            let pb = spinner("copying the database");
            db.backup_sqlite_to(&out.display().to_string()).await.context("backup failed")?;
            pb.finish_and_clear();
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!("backup written to {} ({} KiB)", out.display(), size / 1024);
        }
        Command::Restore { from, force, common } => {
            let s = settings(None, common)?;
            let Some(target) = s.database_url.strip_prefix("sqlite://").map(PathBuf::from) else {
                println!(
                    "On PostgreSQL restore with\n  pg_restore --clean --dbname \"$SHOUHOU_DATABASE_URL\" shouhou.dump"
                );
                return Ok(ExitCode::SUCCESS);
            };
            if !from.exists() {
                bail!("{} does not exist", from.display());
            }
            if target.exists() && !force {
                bail!("{} exists; stop the server and add --force to replace it", target.display());
            }
            let pb = spinner("checking the backup");
            let check = Db::connect(&format!("sqlite://{}", from.display()), &DbOptions::default()).await?;
            let integrity = check.integrity_check().await?;
            let (_, applied) = check.migration_status().await?;
            check.close().await;
            pb.finish_and_clear();
            if integrity != "ok" {
                bail!("the backup is damaged: {integrity}");
            }
            if applied.is_empty() {
                bail!("{} is not a shouhou database", from.display());
            }
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = target.with_extension("restoring");
            std::fs::copy(&from, &tmp)?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            std::fs::rename(&tmp, &target)?;
            // The checkpoints saw the chain of the replaced database, which may be longer than
            // the backup's: kept aside, so the restored chain is anchored afresh from here on.
            let checkpoints = s.data_dir.join(CHECKPOINTS);
            if checkpoints.exists() {
                let aside = s.data_dir.join(format!("{CHECKPOINTS}.before-restore-{}", jiff_stamp()));
                std::fs::rename(&checkpoints, &aside)?;
                println!("audit checkpoints of the replaced database moved to {}", aside.display());
            }
            println!(
                "restored {} into {} (schema version {})",
                from.display(),
                target.display(),
                applied.last().copied().unwrap_or(0)
            );
        }
        Command::Openapi => println!("{}", shouhou_web::openapi_json()),
        Command::Import { what, file, user, common } => {
            let s = settings(None, common)?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let db = open(&s).await?;
            db.migrate().await?;
            let app = App::new(db.clone(), Arc::new(SystemClock), app_config(&s), open_keys(&s, &db).await?);
            let actor = {
                let mut rd = db.read().await?;
                shouhou_store::users::user_by_username(&mut rd.conn(), &user.to_ascii_lowercase()).await?
            };
            let Some(actor) = actor else { bail!("no user {user}: give an administrator with --user") };
            let ctx = Ctx {
                actor: Some(shouhou_app::Actor::from_user(&actor)),
                source: "cli".into(),
                request_id: String::new(),
            };
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let table = shouhou_app::sheets::read_rows(&name, &bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
            let pb = ProgressBar::new(0);
            pb.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let progress = |done: usize, total: usize| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            };
            let report = if what == "devices" {
                shouhou_app::imports::import_devices(&app, &ctx, &table, progress).await
            } else {
                shouhou_app::imports::import_customers(&app, &ctx, &table, progress).await
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            pb.finish_and_clear();
            if report.is_ok() {
                println!("imported {} of {} rows from {}", report.imported, report.rows, file.display());
            } else {
                println!(
                    "nothing imported: {} errors in {} rows",
                    report.errors.len() + report.more_errors,
                    report.rows
                );
                for e in &report.errors {
                    println!("  row {:>6}  {:<16} {:<24} {}", e.row, e.field, e.code, e.value);
                }
                if report.more_errors > 0 {
                    println!("  … and {} more", report.more_errors);
                }
                return Ok(ExitCode::from(1));
            }
        }
        Command::Keys { command } => return keys(command).await,
        Command::Audit { command: AuditCommand::Verify { common } } => {
            let s = settings(None, common)?;
            let db = open(&s).await?;
            let pb = ProgressBar::new(0);
            pb.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} entries")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            db.migrate().await.context("applying migrations")?;
            let app = App::new(db.clone(), Arc::new(SystemClock), app_config(&s), open_keys(&s, &db).await?);
            let v = shouhou_app::audit::verify_audit_with_progress(&app, &Ctx::system(), |done, total| {
                pb.set_length(total);
                pb.set_position(done);
            })
            .await?;
            pb.finish_and_clear();
            return Ok(report_verification(&v, &s));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `audit verify` prints: a verdict line, then what is wrong in words. Exit status 1 unless intact.
fn report_verification(v: &shouhou_store::audit::Verification, s: &Settings) -> ExitCode {
    use shouhou_domain::audit::ChainBreak;
    let anchor = match v.checkpoint_seq {
        Some(seq) => format!("signed checkpoint at entry {seq} in {}", s.data_dir.join(CHECKPOINTS).display()),
        None => format!("no signed checkpoint yet in {}", s.data_dir.join(CHECKPOINTS).display()),
    };
    if v.intact() {
        println!("audit trail intact: {} entries verified, head {}, {anchor}", v.checked, v.head.seq);
    } else {
        println!(
            "audit trail BROKEN: reason {}, first broken entry {}, {} good entries before it",
            v.reason().unwrap_or("unknown"),
            v.first_break.as_ref().map(|b| b.seq().to_string()).unwrap_or_else(|| "-".into()),
            v.checked
        );
        match &v.first_break {
            Some(ChainBreak::Truncated { head_seq, checkpoint_seq }) => println!(
                "  the database holds {head_seq} entries, but a signed checkpoint saw {checkpoint_seq}: \
                 its tail was removed (or the log emptied) and the head moved back"
            ),
            Some(ChainBreak::CheckpointMismatch { seq }) => {
                println!("  entry {seq} is not what the signed checkpoint recorded: the chain was rewritten")
            }
            Some(ChainBreak::HeadMismatch { seq }) => {
                println!("  the head of the chain does not name its last entry (entry {seq})")
            }
            Some(b) => println!("  the link of entry {} does not hold ({})", b.seq(), b.reason()),
            None => {}
        }
        if !v.missing_triggers.is_empty() {
            println!(
                "  the append-only triggers {} are missing or disabled: anyone with the database can change the log",
                v.missing_triggers.join(", ")
            );
        }
    }
    if v.checkpoints_rejected > 0 {
        println!(
            "  warning: {} checkpoint lines are not signed with this audit key (another key file, or forged)",
            v.checkpoints_rejected
        );
    }
    if v.intact() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn jiff_stamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    secs.to_string()
}

/// Where the personal-data keys come from: `SHOUHOU_KEYS` (the file's text), else the key file.
fn key_source(s: &Settings) -> shouhou_app::keys::KeySource {
    match std::env::var("SHOUHOU_KEYS") {
        Ok(text) => shouhou_app::keys::KeySource::Env(text),
        Err(_) => shouhou_app::keys::KeySource::File(s.keys_file.clone()),
    }
}

/// The personal-data keys for a command that reads or writes data, checked against the database
/// (docs/DECISIONS.md D32): a key file that does not exist is created with fresh random keys
/// (mode 0600) only for a database holding nothing encrypted; a missing or wrong key file for a
/// database with data is refused, and nothing is created.
async fn open_keys(s: &Settings, db: &Db) -> anyhow::Result<shouhou_app::Keyring> {
    use shouhou_app::Clock as _;
    let (keys, created) = shouhou_app::keys::open_keyring(db, &key_source(s), SystemClock.now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("refusing to start: {e}"))?;
    if let Some(path) = created {
        eprintln!("created a new personal-data key file {}: back it up apart from the database", path.display());
    }
    Ok(keys)
}

/// The keys as they are, neither created nor checked (for `keys status` and `keys generate`).
fn read_keys(s: &Settings) -> anyhow::Result<shouhou_app::Keyring> {
    match key_source(s) {
        shouhou_app::keys::KeySource::Env(text) => shouhou_app::Keyring::parse(&text).context("reading SHOUHOU_KEYS"),
        shouhou_app::keys::KeySource::File(path) => {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading key file {}", path.display()))?;
            shouhou_app::Keyring::parse(&text).with_context(|| format!("key file {}", path.display()))
        }
    }
}

/// From stdin when it is not a terminal (scripts), else a hidden prompt typed twice.
fn read_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let p = s.lines().next().unwrap_or("").to_string();
        if p.is_empty() {
            bail!("no password on stdin");
        }
        return Ok(p);
    }
    let p1 = rpassword::prompt_password("Password: ")?;
    let p2 = rpassword::prompt_password("Repeat password: ")?;
    if p1 != p2 {
        bail!("the passwords differ");
    }
    Ok(p1)
}

async fn serve(s: &Settings, app: App, demo: Option<Vec<(String, String, String)>>) -> anyhow::Result<()> {
    let db = app.db.clone();
    let listener = tokio::net::TcpListener::bind(&s.addr).await.with_context(|| format!("binding {}", s.addr))?;
    let addr = listener.local_addr()?;
    println!(
        "shouhou {} serving on http://{addr}/ (database: {}, {})",
        env!("CARGO_PKG_VERSION"),
        db.backend().as_str(),
        shouhou_store::redact_url(&s.database_url)
    );
    println!("  API docs: http://{addr}/api/docs   OpenAPI: http://{addr}/api/openapi.json");
    if let Some(logins) = demo {
        println!("  demo logins (password {}):", shouhou_testkit::demo::DEMO_PASSWORD);
        for (u, n, r) in logins {
            println!("    {u:<12} {n:<12} {r}");
        }
    }
    // Missing append-only triggers and a chain cut back below its checkpoints are logged.
    if let Err(e) = shouhou_app::audit::audit_start_check(&app).await {
        tracing::warn!(error = %e, "checking the audit trail at start failed");
    }
    // The SLA worker: sweeps for warnings and breaches, delivers the outbox, runs queued jobs.
    // Every instance runs one; unique alert rows and leases make each alert fire once.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let instance = format!(
        "{}-{}",
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "shouhou".into()),
        std::process::id()
    );
    let worker = tokio::spawn(shouhou_app::jobs::run_worker(
        app.clone(),
        instance,
        std::time::Duration::from_secs(30),
        async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        },
    ));
    let state = shouhou_web::AppState {
        app: app.clone(),
        secure_cookies: s.secure_cookies,
        faults: Default::default(),
        metrics_token: s.metrics_token.clone(),
        public_base_url: s.public_base_url.clone(),
    };
    shouhou_web::serve(state, listener, async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    })
    .await?;
    let _ = worker.await;
    if let Err(e) = shouhou_app::audit::checkpoint_audit(&app).await {
        tracing::warn!(error = %e, "writing the audit checkpoint at shutdown failed");
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
