//! `cdx`: the host wrapper for Codex CLI fleets managed by codex-central (SPEC §10).
//!
//! `cdx [--verbose] [<profile>] [codex arguments…]` syncs auth.json and the fleet's config with
//! the server, starts Codex with the arguments and reports usage when it exits.
//! `cdx --execute "<prompt>"` runs `codex exec` the same way; `cdx status` shows the last sync;
//! `cdx --update` replaces cdx with the server's build and brings Codex to the fleet's version;
//! `cdx --uninstall` deregisters the host and removes what cdx installed.
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
mod progress;
mod run;
mod session;
mod skills_sync;
mod state;
mod status;
mod sync;
mod uninstall;
mod update;
mod usage;

use std::ffi::OsString;

use crate::config::{Paths, ProcessEnv};
use crate::error::CdxError;

const HELP: &str = "usage: cdx [--verbose] [<profile>] [codex arguments...]
       cdx [--verbose] --execute \"<prompt>\"
       cdx status | --update | --uninstall [--force] | --version | --help

Syncs auth.json and the fleet's Codex config with the server, then runs Codex with the
arguments (exit code passed through) and reports its token usage when it exits.
<profile> is a shortcut for `-p <profile>` when $CODEX_HOME/<profile>.config.toml exists.
--execute runs `codex exec <prompt>` with the same sync and reporting.
--update replaces cdx with the build the server publishes (sha256 checked) and installs the
fleet's target Codex version with npm. --uninstall deregisters this host and removes what cdx
installed (your own Codex settings stay); --force removes it even when the server is away.";

enum Command {
    Run(Vec<OsString>),
    Status,
    Update,
    Uninstall { force: bool },
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
            "--update" => return (Command::Update, verbose),
            "--uninstall" => {
                rest.next();
                let force = rest.any(|a| a == "--force");
                return (Command::Uninstall { force }, verbose);
            }
            "--execute" => {
                rest.next();
                let mut args: Vec<OsString> = vec!["exec".into()];
                args.extend(rest);
                return (Command::Run(args), verbose);
            }
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
        Command::Update => update(&env).await,
        Command::Uninstall { force } => {
            let cfg = config::load(&env)?;
            let paths = Paths::from_env(&env)?;
            let report = uninstall::run(&cfg, &paths, std::env::current_exe().ok(), force).await?;
            if report.deregistered {
                eprintln!("cdx: this host is deregistered on the server");
            }
            for r in &report.removed {
                eprintln!("cdx: removed {r}");
            }
            for k in &report.kept {
                eprintln!("cdx: kept {k} (changed by you)");
            }
            Ok(0)
        }
        Command::Run(args) => {
            let cfg = config::load(&env)?;
            let paths = Paths::from_env(&env)?;
            let mut ui = flow::Ui {
                verbose,
                silent: false,
            };
            flow::main_run(&cfg, &paths, &args, &mut ui).await
        }
    }
}

/// `cdx --update`: cdx itself, then Codex.
async fn update(env: &ProcessEnv) -> Result<i32, CdxError> {
    let cfg = config::load(env)?;
    let paths = Paths::from_env(env)?;
    let api = api::Api::new(&cfg).map_err(CdxError::Config)?;
    let exe = std::env::current_exe()
        .map_err(|e| CdxError::Other(format!("cannot find cdx's own file: {e}")))?;
    let spin = progress::allowed(false);
    let updated = progress::spin(
        "checking for a new cdx",
        spin,
        update::self_update(&api, &exe),
    );
    match updated.await? {
        update::Outcome::UpToDate(v) => eprintln!("cdx: cdx is up to date ({v})"),
        update::Outcome::Updated { from, to } => {
            eprintln!("cdx: updated cdx {from} -> {to} ({})", exe.display());
        }
    }
    let versions = api.call(reqwest::Method::GET, "/versions", None).await.ok();
    let st = state::State::load(&paths.state_file());
    let Some(target) = update::codex_target(st.codex_pin.as_deref(), versions.as_ref()) else {
        eprintln!("cdx: the fleet names no Codex version; Codex left as it is");
        return Ok(0);
    };
    let bin = run::codex_bin();
    let installed = update::installed_codex(&bin).await;
    if installed.as_deref() == Some(target.as_str()) {
        eprintln!("cdx: Codex is at the fleet's version ({target})");
        return Ok(0);
    }
    progress::spin(
        &format!("installing Codex {target} with npm"),
        spin,
        update::install_codex(&target),
    )
    .await?;
    // The next run looks at the installed version again.
    let mut st = st;
    st.codex_seen = None;
    st.save(&paths.state_file())?;
    eprintln!(
        "cdx: Codex {} -> {target}",
        installed.as_deref().unwrap_or("(not installed)")
    );
    Ok(0)
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
