//! What each subcommand does.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use codex_central_auth::domain::service_tokens::{self, Actor, Scope};
use codex_central_auth::domain::users;
use codex_central_common::time::ms_to_rfc3339;
use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_store::now_ms;

use crate::cli::{AdminCommand, Command, HealthcheckArgs, KeysCommand, ServeArgs};
use crate::config::Config;
use crate::{app, keys, listener, telemetry};

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(store) => {
            let config = store.config()?;
            let _log = telemetry::init(config.log_format, &config.log_level);
            let db = app::open_store(&config).await?;
            keys::open_keyring(&config, &db).await?;
            db.close().await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck(args) => healthcheck(args).await,
        Command::Admin(admin) => admin_command(admin).await,
        Command::Keys(KeysCommand::Rotate {
            store,
            drop_previous,
        }) => {
            let config = store.config()?;
            let _log = quiet_logs(&config);
            let db = app::open_store(&config).await?;
            let report = keys::rotate(&config, &db, drop_previous).await?;
            db.close().await?;
            println!(
                "master key id {} is current; re-encrypted {} secrets{}",
                report.key_id,
                report.reencrypted,
                if report.dropped_previous {
                    "; previous keys dropped"
                } else {
                    "; previous keys kept for reading until --drop-previous"
                }
            );
            eprintln!("restart running servers so they load the new key");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    let _telemetry = telemetry::init(config.log_format, &config.log_level);
    // Handlers go in before the listener opens: a SIGTERM that arrives as soon as the server
    // answers (a supervisor, a test) must shut it down gracefully, not kill it.
    let stop = ShutdownSignal::install()?;
    let mut running = app::start(config).await?;
    stop.wait().await;
    tracing::info!("shutting down: finishing in-flight requests");
    running.trigger_shutdown();
    running.wait().await;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM (Ctrl-C elsewhere).
struct ShutdownSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignal {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignal {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.int.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Admin commands print results on stdout; logs stay on stderr and quiet unless asked.
fn quiet_logs(config: &Config) -> telemetry::Telemetry {
    let level = if std::env::var_os("RUST_LOG").is_some() {
        config.log_level.as_str()
    } else {
        "warn"
    };
    telemetry::init(config.log_format, level)
}

fn cli_actor() -> Actor {
    Actor {
        principal: Principal {
            kind: PrincipalKind::LocalAdmin,
            id: "cli".into(),
            name: "codex-central admin".into(),
            role: Role::Admin,
        },
        client_ip: String::new(),
    }
}

async fn admin_command(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::CreateToken {
            store,
            name,
            scope,
            expires_in,
        } => {
            let config = store.config()?;
            let _log = quiet_logs(&config);
            let db = app::open_store(&config).await?;
            keys::open_keyring(&config, &db).await?;
            let scope = Scope::parse(&scope)?;
            let created =
                service_tokens::create(&db, &cli_actor(), &name, scope, expires_in).await?;
            db.close().await?;
            println!("{}", created.secret.expose());
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::ListTokens { store, all, json } => {
            let config = store.config()?;
            let _log = quiet_logs(&config);
            let db = app::open_store(&config).await?;
            let mut before: Option<String> = None;
            let now = now_ms();
            if !json {
                println!(
                    "{:<36}  {:<24}  {:<5}  {:<14}  {:<7}  {:<24}  LAST USED",
                    "ID", "NAME", "SCOPE", "PREFIX", "STATUS", "EXPIRES"
                );
            }
            loop {
                let page = service_tokens::list(&db, all, before.as_deref(), 500).await?;
                for t in &page {
                    let status = service_tokens::status(t, now);
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({
                                "id": t.id, "name": t.name, "scope": t.scope, "prefix": t.prefix, "status": status,
                                "created_at": ms_to_rfc3339(t.created_at),
                                "expires_at": t.expires_at.map(ms_to_rfc3339),
                                "last_used_at": t.last_used_at.map(ms_to_rfc3339),
                            })
                        );
                    } else {
                        println!(
                            "{:<36}  {:<24}  {:<5}  {:<14}  {:<7}  {:<24}  {}",
                            t.id,
                            t.name,
                            t.scope,
                            t.prefix,
                            status,
                            t.expires_at
                                .map(ms_to_rfc3339)
                                .unwrap_or_else(|| "never".into()),
                            t.last_used_at
                                .map(ms_to_rfc3339)
                                .unwrap_or_else(|| "never".into()),
                        );
                    }
                }
                match page.last() {
                    Some(last) if page.len() == 500 => before = Some(last.id.clone()),
                    _ => break,
                }
            }
            db.close().await?;
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::CreateUser {
            store,
            username,
            display_name,
            admin,
        } => {
            let password = read_password()?;
            let config = store.config()?;
            let _log = quiet_logs(&config);
            let db = app::open_store(&config).await?;
            keys::open_keyring(&config, &db).await?;
            let role = if admin {
                users::UserRole::Admin
            } else {
                users::UserRole::Member
            };
            let user =
                users::create(&db, &cli_actor(), &username, &display_name, &password, role).await?;
            db.close().await?;
            println!("created {} ({}, {})", user.username, user.role, user.id);
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::ResetPassword { store, username } => {
            let password = read_password()?;
            let config = store.config()?;
            let _log = quiet_logs(&config);
            let db = app::open_store(&config).await?;
            let Some(user) = codex_central_store::users::find_by_username(
                &db,
                &users::check_username(&username)?,
            )
            .await?
            else {
                db.close().await?;
                anyhow::bail!("no user named {username:?}");
            };
            users::reset_password(&db, &cli_actor(), &user.id, &password).await?;
            db.close().await?;
            println!("password reset for {}", user.username);
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::RevokeToken { store, id } => {
            let config = store.config()?;
            let _log = quiet_logs(&config);
            let db = app::open_store(&config).await?;
            let token = service_tokens::revoke(&db, &cli_actor(), &id).await?;
            db.close().await?;
            println!("revoked {} ({})", token.id, token.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One line from stdin (never echoed; a terminal user types it, scripts pipe it).
fn read_password() -> anyhow::Result<codex_central_common::crypto::Secret<String>> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        anyhow::bail!(
            "no password on stdin: pipe it in, e.g. `printf '%s' \"$PW\" | codex-central admin ...`"
        );
    }
    Ok(codex_central_common::crypto::Secret::new(password))
}

async fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    listener::install_crypto_provider();
    let url = readiness_url(&args.url);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        .build()
        .context("cannot build the HTTP client")?;
    match client.get(&url).send().await {
        Ok(res) if res.status() == reqwest::StatusCode::OK => {
            println!("ready");
            Ok(ExitCode::SUCCESS)
        }
        Ok(res) => {
            eprintln!("not ready: {url} answered {}", res.status());
            Ok(ExitCode::FAILURE)
        }
        Err(err) => {
            eprintln!("not ready: {url}: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A bare base URL gets `/readyz`; a URL with a path is used as given.
fn readiness_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let after_scheme = trimmed.split_once("://").map(|(_, r)| r).unwrap_or(trimmed);
    if after_scheme.contains('/') {
        trimmed.to_string()
    } else {
        format!("{trimmed}/readyz")
    }
}
