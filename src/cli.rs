//! Command-line interface. Every subcommand that touches the database accepts the same
//! `--config/--data-dir/--database-url` and migrates an empty database as `serve` would.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, Flags, Layer};

#[derive(Parser, Debug)]
#[command(
    name = "codex-central",
    version,
    about = "Control plane for fleets and teams running OpenAI's Codex CLI"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server (gRPC, grpc-web, REST and ops on one port).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(StoreArgs),
    /// Exit 0 when the server at URL is ready (`/readyz` answers 200).
    Healthcheck(HealthcheckArgs),
    /// Administrative tasks on the database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Master-key management.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// TOML configuration file.
    #[arg(long, env = "CODEX_CENTRAL_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub flags: Flags<true>,
}

/// `serve`'s flags: every configuration key that has one (see the README's table).
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub flags: Flags<false>,
}

#[derive(Args, Debug)]
pub struct HealthcheckArgs {
    /// Server base URL or full readiness URL.
    #[arg(long, default_value = "http://127.0.0.1:8488")]
    pub url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a service token and print it (the only time it is shown) as one line on stdout.
    CreateToken {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "read"], default_value = "read")]
        scope: String,
        /// e.g. 30d, 12h, 90m, 3600s.
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<Duration>,
    },
    /// List service tokens (never their secrets).
    ListTokens {
        #[command(flatten)]
        store: StoreArgs,
        /// Include revoked tokens.
        #[arg(long)]
        all: bool,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a service token by id.
    RevokeToken {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Create a person's account; the password is read from stdin (one line).
    CreateUser {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// Make the user an admin (default: member).
        #[arg(long)]
        admin: bool,
    },
    /// Set a user's password; the new password is read from stdin (one line).
    ResetPassword {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Re-encrypt every secret under a new master key (file) or the configured one (env).
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
        /// After re-encrypting, forget previous keys in the key file.
        #[arg(long)]
        drop_previous: bool,
    },
}

impl StoreArgs {
    /// The configuration for non-serve subcommands.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::load(
            self.config.as_deref(),
            Layer::from_env(env_lookup)?,
            self.flags.0.clone(),
        )
    }
}

impl ServeArgs {
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::load(
            self.store.config.as_deref(),
            Layer::from_env(env_lookup)?,
            self.flags.0.clone().over(self.store.flags.0.clone()),
        )
    }
}

fn env_lookup(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// `30d`, `12h`, `90m`, `45s` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30d, 12h, 90m or 3600s"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        "w" => n.saturating_mul(7 * 86_400),
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use s, m, h, d or w)"
            ));
        }
    };
    if secs == 0 {
        return Err("a duration must be positive".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("15").unwrap(), Duration::from_secs(15));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3y").is_err());
        assert!(parse_duration("abc").is_err());
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
