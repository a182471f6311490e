//! Which `serve`/`worker` flags carry a secret (those marked
//! `hide_env_values`), for `hardening::scrub` to keep out of /proc.

use super::Cli;
use crate::runtime::hardening::SecretArg;
use clap::CommandFactory;

/// The flags of `subcommand` marked `hide_env_values`.
pub fn secret_args(subcommand: &str) -> Vec<SecretArg> {
    let command = Cli::command();
    let Some(sub) = command.find_subcommand(subcommand) else {
        return Vec::new();
    };
    sub.get_arguments()
        .filter(|a| a.is_hide_env_values_set())
        .filter_map(|a| {
            Some(SecretArg {
                long: a.get_long()?.to_owned(),
                env: a.get_env()?.to_str()?.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_flags_are_the_hidden_value_ones() {
        let serve: Vec<String> = secret_args("serve").into_iter().map(|s| s.env).collect();
        for name in [
            "GANTRY_DATABASE_URL",
            "GANTRY_BOOTSTRAP_TOKEN",
            "GANTRY_OIDC_CLIENT_SECRET",
        ] {
            assert!(serve.iter().any(|s| s == name), "{name} in {serve:?}");
        }
        // A worker takes no secret by flag or variable at all: its worker
        // token comes from a file (`--token-file`), and it has no database.
        let worker: Vec<String> = secret_args("worker").into_iter().map(|s| s.env).collect();
        assert!(worker.is_empty(), "{worker:?}");
    }
}
