//! `shouhou`: the after-sales service management system in one binary.
#![forbid(unsafe_code)]

mod cli;
mod config;

use clap::Parser;

/// glibc's malloc raises its mmap threshold after the first large free, so the 19 MiB block of
/// every later argon2 password hash stays on the heap: an idle server sat at hundreds of MiB
/// (docs/BENCHMARKS.md). A fixed threshold keeps large blocks mmapped and returns them at once.
/// glibc reads it only at process start, so we re-execute ourselves once with it set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_threshold() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MALLOC_MMAP_THRESHOLD_";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env(VAR, "131072").exec();
        // exec only returns on failure: carry on with the default allocator settings.
        eprintln!("note: could not re-execute with {VAR} set: {err}");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_malloc_threshold() {}

/// `shouhou openapi | head` closes our stdout early and the next `println!` panics. Leave
/// quietly instead, with the status a shell tool killed by SIGPIPE has (128 + 13).
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if msg.is_some_and(|m| m.contains("Broken pipe")) {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> std::process::ExitCode {
    fix_malloc_threshold();
    let args = cli::Cli::parse();
    // Only for commands that print: in the server a panic must stay a 500 of one request.
    if !args.serves() {
        quiet_on_broken_pipe();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: cli::Cli) -> std::process::ExitCode {
    match cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
