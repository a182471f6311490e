//! `gantry serve --config gantry.toml`. Every key of the file is a `serve`
//! flag: top-level keys by their long name (`bind`, `database_url`), a
//! section's keys prefixed with the section (`[session] idle_timeout` is
//! `--session-idle-timeout`, `[oidc] issuer` is `--oidc-issuer`). The file
//! is turned into flags placed before the ones typed, so precedence is:
//! command-line flag, then `GANTRY_…` environment variable, then the file,
//! then the default. One parser (clap's) checks every value, whatever its
//! source.

use crate::cli::Cli;
use clap::CommandFactory;
use std::ffi::OsString;

/// The environment variable naming the file when `--config` isn't given.
pub const CONFIG_ENV: &str = "GANTRY_CONFIG";

/// Expands `serve`'s `--config FILE` (or `GANTRY_CONFIG`) into flags; any
/// other command line comes back unchanged.
pub fn expand(argv: Vec<OsString>) -> Result<Vec<OsString>, String> {
    expand_with(argv, |name| std::env::var_os(name))
}

/// [`expand`] with the environment passed in (tests).
pub fn expand_with(
    argv: Vec<OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<OsString>, String> {
    if argv.get(1).and_then(|a| a.to_str()) != Some("serve") {
        return Ok(argv);
    }
    let Some(path) = config_path(&argv[2..]).or_else(|| env(CONFIG_ENV).map(Into::into)) else {
        return Ok(argv);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("--config ({CONFIG_ENV}): cannot read {shown}: {e}"))?;
    let flags = flags_from_toml(&text, &env).map_err(|e| format!("{shown}: {e}"))?;
    let mut out = argv[..2].to_vec();
    out.extend(flags);
    out.extend_from_slice(&argv[2..]);
    Ok(out)
}

fn config_path(args: &[OsString]) -> Option<std::path::PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str()?;
        if text == "--config" {
            return iter.next().map(Into::into);
        }
        if let Some(value) = text.strip_prefix("--config=") {
            return Some(value.into());
        }
    }
    None
}

/// The flags a file stands for (environment variables that are set win
/// over the file, so their keys are skipped).
fn flags_from_toml(
    text: &str,
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<OsString>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        // The message and line only: the parser's snippet of the offending
        // line could show a secret.
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_owned(),
        }
    })?;
    let mut entries: Vec<(String, String, toml::Value)> = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(section) => {
                for (inner, v) in section {
                    entries.push((format!("[{key}] {inner}"), format!("{key}_{inner}"), v));
                }
            }
            toml::Value::Array(items) if key == "role_mapping" => {
                for item in items {
                    entries.push((
                        "[[role_mapping]]".into(),
                        "role_mapping".into(),
                        toml::Value::String(role_mapping(&item)?),
                    ));
                }
            }
            toml::Value::Array(items) if key == "client_cert_mapping" => {
                for item in items {
                    entries.push((
                        "[[client_cert_mapping]]".into(),
                        "client_cert_mapping".into(),
                        toml::Value::String(client_cert_mapping(&item)?),
                    ));
                }
            }
            v => entries.push((key.clone(), key, v)),
        }
    }
    let command = Cli::command();
    let serve = command
        .find_subcommand("serve")
        .ok_or("internal: no serve command")?;
    let mut flags = Vec::new();
    for (shown, name, value) in entries {
        let long = name.replace('_', "-");
        let arg = serve
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()) && long != "config")
            .ok_or_else(|| {
                format!(
                    "unknown key {shown}: keys are `gantry serve` flags without the dashes \
                     (bind, database_url, [session] idle_timeout, [oidc] issuer …)"
                )
            })?;
        if arg
            .get_env()
            .and_then(|e| e.to_str())
            .is_some_and(|e| env(e).is_some())
        {
            continue;
        }
        let takes_value = arg.get_action().takes_values();
        let flag = OsString::from(format!("--{long}"));
        match (value, takes_value) {
            (toml::Value::Boolean(on), false) => {
                if on {
                    flags.push(flag);
                }
            }
            (_, false) => return Err(format!("{shown}: use true or false")),
            (value, true) => {
                flags.push(flag);
                flags.push(scalar(&shown, value)?.into());
            }
        }
    }
    Ok(flags)
}

fn scalar(shown: &str, value: toml::Value) -> Result<String, String> {
    Ok(match value {
        toml::Value::String(s) => s,
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| scalar(shown, v))
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        _ => return Err(format!("{shown}: use a string, number, boolean or list")),
    })
}

/// `{ group = "sre", roles = ["operator@dev", …] }` as `sre=operator@dev,…`.
fn role_mapping(item: &toml::Value) -> Result<String, String> {
    let bad = || "[[role_mapping]] needs group = \"NAME\" and roles = [\"ROLE@ENV\", …]".to_owned();
    let table = item.as_table().ok_or_else(bad)?;
    let group = table
        .get("group")
        .and_then(|g| g.as_str())
        .ok_or_else(bad)?;
    let roles = table
        .get("roles")
        .and_then(|r| r.as_array())
        .ok_or_else(bad)?
        .iter()
        .map(|r| r.as_str().map(str::to_owned).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    if table.keys().any(|k| k != "group" && k != "roles") {
        return Err(bad());
    }
    Ok(format!("{group}={}", roles.join(",")))
}

/// `{ cn = "deploy-bot", roles = ["operator@dev", …] }` (or `dns =`, `uri =`)
/// as `cn:deploy-bot=operator@dev,…`.
fn client_cert_mapping(item: &toml::Value) -> Result<String, String> {
    let bad = || {
        "[[client_cert_mapping]] needs one of cn, dns or uri = \"NAME\" and roles = [\"ROLE@ENV\", …]"
            .to_owned()
    };
    let table = item.as_table().ok_or_else(bad)?;
    let mut names = ["cn", "dns", "uri"]
        .into_iter()
        .filter_map(|kind| table.get(kind).map(|v| (kind, v)));
    let (kind, name) = match (names.next(), names.next()) {
        (Some((kind, v)), None) => (kind, v.as_str().ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    let roles = table
        .get("roles")
        .and_then(|r| r.as_array())
        .ok_or_else(bad)?
        .iter()
        .map(|r| r.as_str().map(str::to_owned).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    if table.keys().any(|k| k != kind && k != "roles") {
        return Err(bad());
    }
    Ok(format!("{kind}:{name}={}", roles.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use clap::Parser;

    fn serve_with(
        file: &str,
        typed: &[&str],
        env: &[(&str, &str)],
    ) -> Result<crate::cli::ServeArgs, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gantry.toml");
        std::fs::write(&path, file).unwrap();
        let mut argv: Vec<OsString> = vec![
            "gantry".into(),
            "serve".into(),
            "--config".into(),
            path.clone().into(),
        ];
        argv.extend(typed.iter().map(OsString::from));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let expanded = expand_with(argv, |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
        })?;
        match Cli::try_parse_from(expanded)
            .map_err(|e| e.to_string())?
            .command
        {
            Command::Serve(args) => Ok(*args),
            _ => unreachable!("a serve command"),
        }
    }

    #[test]
    fn keys_and_sections_become_flags() {
        let args = serve_with(
            "bind = \"127.0.0.1:4000\"\ndev = true\nenvironments = [\"dev\", \"prod\"]\n\
             [session]\nidle_timeout = \"30m\"\n[worker]\nslots = 2\n",
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(args.bind.to_string(), "127.0.0.1:4000");
        assert!(args.dev);
        assert_eq!(args.environments, "dev,prod");
        assert_eq!(
            args.session_idle_timeout,
            std::time::Duration::from_secs(1800)
        );
        assert_eq!(args.worker.worker_slots, 2);
    }

    #[test]
    fn metrics_bounds_and_audit_verification_come_from_the_file() {
        let args = serve_with(
            "[metrics]\nworkflow_cap = 50\nseries_idle = \"0\"\n[audit]\nverify_interval = \"1h\"\n",
            &[],
            &[],
        )
        .unwrap();
        let config = args.into_config().unwrap();
        assert_eq!(config.metrics.workflow_cap, 50);
        assert_eq!(config.metrics.series_idle, None, "0 keeps series");
        assert_eq!(
            config.audit_verify_interval,
            Some(std::time::Duration::from_secs(3600))
        );
        let defaults = serve_with("", &[], &[]).unwrap().into_config().unwrap();
        assert_eq!(defaults.metrics.workflow_cap, 500);
        assert_eq!(
            defaults.metrics.series_idle,
            Some(std::time::Duration::from_secs(14 * 24 * 3600))
        );
    }

    #[test]
    fn lists_of_http_step_allowances_become_one_flag() {
        let args = serve_with(
            "http_step_allow = [\"10.0.0.0/8\", \"127.0.0.1@dev\"]\n",
            &["--http-step-allow", "::1@dev"],
            &[],
        )
        .unwrap();
        let nets: Vec<String> = args
            .worker
            .http_step_allow
            .iter()
            .map(|e| format!("{}@{:?}", e.net, e.environment))
            .collect();
        assert_eq!(
            nets,
            [
                "10.0.0.0/8@None",
                "127.0.0.1/32@Some(\"dev\")",
                "::1/128@Some(\"dev\")"
            ]
        );
    }

    #[test]
    fn typed_flags_beat_the_environment_which_beats_the_file() {
        let file = "bind = \"127.0.0.1:4000\"\nlog = \"debug\"\n";
        let args = serve_with(
            file,
            &["--bind", "127.0.0.1:5000"],
            &[("GANTRY_LOG", "warn")],
        )
        .unwrap();
        assert_eq!(args.bind.to_string(), "127.0.0.1:5000");
        // The file's `log` was skipped; clap then reads GANTRY_LOG itself in
        // the real process (here no real variable is set: the default).
        assert_eq!(args.log, "info");
    }

    #[test]
    fn mistakes_name_the_key_or_line_without_echoing_values() {
        let err = serve_with("bnd = \"x\"\n", &[], &[]).unwrap_err();
        assert!(err.contains("unknown key bnd"), "{err}");
        let err = serve_with("[session]\nidle = \"1h\"\n", &[], &[]).unwrap_err();
        assert!(err.contains("unknown key [session] idle"), "{err}");
        let err = serve_with("dev = \"yes\"\n", &[], &[]).unwrap_err();
        assert!(err.contains("use true or false"), "{err}");
        let err = serve_with(
            "bind = \"127.0.0.1:4000\"\nbootstrap_token = \"gantry_s3cr3t\n",
            &[],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        let err = serve_with("bind = \"nowhere\"\n", &[], &[]).unwrap_err();
        assert!(err.contains("--bind"), "clap checks the value: {err}");
    }

    #[test]
    fn other_commands_and_files_left_out_pass_through() {
        let argv: Vec<OsString> = ["gantry", "runs"].iter().map(OsString::from).collect();
        assert_eq!(expand_with(argv.clone(), |_| None).unwrap(), argv);
        let argv: Vec<OsString> = ["gantry", "serve", "--dev"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(expand_with(argv.clone(), |_| None).unwrap(), argv);
    }
}
