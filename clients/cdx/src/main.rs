//! `cdx`: the host wrapper for Codex CLI fleets managed by codex-central (SPEC §10).
//!
//! `cdx [--verbose] [<profile>] [codex arguments…]` syncs auth.json and the fleet's config with
//! the server, starts Codex with the arguments and reports usage when it exits.
//! `cdx status` shows the last sync; `cdx --version` prints the version.
//! Exit codes: see `error.rs`.

mod api;
mod auth_sync;
mod config;
mod config_sync;
mod content_sync;
mod digest;
mod error;
mod files;
mod flow;
mod merge;
mod offline;
mod run;
mod state;
mod status;
mod sync;
mod usage;

use std::ffi::OsString;

use crate::config::{Paths, ProcessEnv};
use crate::error::CdxError;

const HELP: &str = "usage: cdx [--verbose] [<profile>] [codex arguments...]
       cdx status | --version | --help

Syncs auth.json and the fleet's Codex config with the server, then runs Codex with the
arguments (exit code passed through) and reports its token usage when it exits.
<profile> is a shortcut for `-p <profile>` when $CODEX_HOME/<profile>.config.toml exists.";

enum Command {
    Run(Vec<OsString>),
    Status,
    Version,
    Help,
}

fn parse_args(args: Vec<OsString>) -> (Command, bool) {
    let mut verbose = false;
    let mut rest = args.into_iter().peekable();
    while let Some(a) = rest.peek().and_then(|a| a.to_str()) {
        match a {
            "--verbose" => {
                verbose = true;
                rest.next();
            }
            "--version" => return (Command::Version, verbose),
            "--help" | "-h" => return (Command::Help, verbose),
            "status" => return (Command::Status, verbose),
            _ => break,
        }
    }
    (Command::Run(rest.collect()), verbose)
}

async fn real_main() -> Result<i32, CdxError> {
    let (command, verbose) = parse_args(std::env::args_os().skip(1).collect());
    let env = ProcessEnv;
    match command {
        Command::Help => {
            println!("{HELP}");
            Ok(0)
        }
        Command::Version => {
            println!("cdx {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Command::Status => {
            let cfg = config::load(&env)?;
            let paths = Paths::from_env(&env)?;
            let st = state::State::load(&paths.state_file());
            println!("{}", status::render(&cfg, &paths, &st));
            Ok(0)
        }
        Command::Run(args) => {
            let cfg = config::load(&env)?;
            let paths = Paths::from_env(&env)?;
            let ui = flow::Ui { verbose };
            flow::main_run(&cfg, &paths, &args, &ui).await
        }
    }
}

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cdx: cannot start: {e}");
            std::process::exit(error::code::SOFTWARE);
        }
    };
    let code = match runtime.block_on(real_main()) {
        Ok(code) => code,
        Err(e) => {
            let msg = e.to_string();
            if msg.starts_with("cdx:") {
                eprintln!("{msg}");
            } else {
                eprintln!("cdx: {msg}");
            }
            e.exit_code()
        }
    };
    // Drop the runtime (and its connections) before leaving.
    drop(runtime);
    std::process::exit(code);
}
