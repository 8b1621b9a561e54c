//! What is generated from the key declarations for people: the README's table and the
//! `serve` flags with their `--help`.

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use super::{KEYS, KeyDoc, Layer};

/// The README's configuration table.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "| key (TOML) | environment | flag | default | meaning |\n|---|---|---|---|---|\n",
    );
    for k in KEYS {
        let default = Layer::default_text(k.key);
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            k.key,
            if k.env {
                format!("`{}`", k.env_var())
            } else {
                "–".into()
            },
            k.flag
                .map(|f| format!("`{f}`"))
                .unwrap_or_else(|| "–".into()),
            if default.is_empty() { "–" } else { &default },
            k.doc.trim()
        ));
    }
    out
}

/// The flags every subcommand that opens the database takes; the other flags are `serve`'s.
const STORE_KEYS: &[&str] = &["data_dir", "database_url"];

/// Configuration keys given as flags: a [`Layer`] of what was given. `STORE` selects the flags
/// of every database subcommand (`true`) or the rest, which only `serve` takes (`false`).
#[derive(Debug, Clone, Default)]
pub struct Flags<const STORE: bool>(pub Layer);

fn flags(store: bool) -> impl Iterator<Item = (&'static KeyDoc, &'static str)> {
    KEYS.iter()
        .filter(move |k| STORE_KEYS.contains(&k.key) == store)
        .filter_map(|k| k.flag.map(|f| (k, f.trim_start_matches("--"))))
}

impl<const STORE: bool> Args for Flags<STORE> {
    fn augment_args(cmd: Command) -> Command {
        flags(STORE).fold(cmd, |cmd, (key, long)| {
            let default = Layer::default_text(key.key);
            let help = if default.is_empty() || default == "(none)" {
                key.doc.trim().to_string()
            } else {
                format!("{} [default: {default}]", key.doc.trim())
            };
            let arg = Arg::new(key.key).long(long).help(help);
            cmd.arg(if key.switch {
                arg.action(ArgAction::SetTrue)
            } else {
                arg.value_name(key.key)
            })
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<const STORE: bool> FromArgMatches for Flags<STORE> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let layer = Layer::from_lookup(|key| {
            if key.flag.is_none() || STORE_KEYS.contains(&key.key) != STORE {
                return None;
            }
            if key.switch {
                matches.get_flag(key.key).then(|| "true".to_string())
            } else {
                matches.get_one::<String>(key.key).cloned()
            }
        })
        .map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, e.to_string()))?;
        Ok(Flags(layer))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
