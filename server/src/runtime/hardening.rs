//! What `serve` and `worker` do to themselves before anything else, so a
//! process on the same machine (a step included) can't lift credentials
//! out of them:
//!
//! - **No secret in `/proc/PID/environ` or `/proc/PID/cmdline`.** Those
//!   files show the block the process was *executed* with (cmdline to
//!   every user), so removing a variable in-process is not enough. When a
//!   secret-carrying variable (every flag marked `hide_env_values`:
//!   `GANTRY_DATABASE_URL`, `GANTRY_BOOTSTRAP_TOKEN`,
//!   `GANTRY_OIDC_CLIENT_SECRET`, …) or such a typed flag is present, the
//!   process writes them into a pipe and re-executes itself without them,
//!   with the pipe as standard input; the new process reads them back and
//!   hands them to the parser with their precedence intact (typed flag,
//!   then variable, then `--config` file).
//! - **Non-dumpable** (`PR_SET_DUMPABLE` 0): no core dumps, and other
//!   processes of the same user can't ptrace it or read its
//!   `/proc/PID/environ`, `mem` or `fd`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};

/// Set (to "1") in the re-executed process: its secrets wait on stdin.
pub const SECRETS_ON_STDIN: &str = "GANTRY_SECRETS_ON_STDIN";

/// More than this would not fit the pipe before the new process reads it.
const MAX_PAYLOAD: usize = 60 * 1024;

/// The secrets moved from the old process to the new one.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Payload {
    /// Variable name → value.
    env: BTreeMap<String, String>,
    /// Typed flags, in order: (long name, value).
    flags: Vec<(String, String)>,
}

/// The command line to parse, and the secret variables that were set (so
/// the `--config` expansion knows they win over the file).
#[derive(Debug, Default)]
pub struct Recovered {
    pub argv: Vec<OsString>,
    pub env: BTreeMap<String, OsString>,
}

/// One secret-carrying flag: its long name and variable.
pub struct SecretArg {
    pub long: String,
    pub env: String,
}

/// First thing in `main`: re-executes without secrets when there are any
/// in the environment or on the command line (does not return then), or
/// reads them back when this is the re-executed process. `secret_args`
/// names a subcommand's secret-carrying flags (`cli::secret_args`), so
/// this module needs no clap type.
pub fn scrub(argv: Vec<OsString>, secret_args: fn(&str) -> Vec<SecretArg>) -> Recovered {
    let Some(subcommand) = argv
        .get(1)
        .and_then(|a| a.to_str())
        .filter(|s| matches!(*s, "serve" | "worker"))
        .map(str::to_owned)
    else {
        return Recovered {
            argv,
            env: BTreeMap::new(),
        };
    };
    let secrets = secret_args(&subcommand);
    if std::env::var_os(SECRETS_ON_STDIN).is_some() {
        return read_back(argv, &secrets);
    }
    let mut payload = Payload::default();
    for s in &secrets {
        if let Some(v) = std::env::var_os(&s.env).and_then(|v| v.into_string().ok())
            && !v.is_empty()
        {
            payload.env.insert(s.env.clone(), v);
        }
    }
    let kept = take_typed(&argv, &secrets, &mut payload.flags);
    if payload.env.is_empty() && payload.flags.is_empty() {
        return Recovered {
            argv,
            env: BTreeMap::new(),
        };
    }
    match reexec(&argv, kept, &payload, &secrets) {
        // `exec` only returns on failure.
        Err(e) => {
            eprintln!(
                "gantry: warning: could not re-execute to hide credentials from /proc ({e}); continuing"
            );
            Recovered {
                argv,
                env: BTreeMap::new(),
            }
        }
    }
}

/// The arguments after the subcommand without the secret flags, whose
/// values go to `taken`.
fn take_typed(
    argv: &[OsString],
    secrets: &[SecretArg],
    taken: &mut Vec<(String, String)>,
) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut rest = argv.iter().skip(2);
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            kept.push(arg.clone());
            continue;
        };
        if text == "--" {
            kept.push(arg.clone());
            kept.extend(rest.cloned());
            break;
        }
        let found = secrets.iter().find_map(|s| {
            let flag = format!("--{}", s.long);
            if text == flag {
                Some((s.long.clone(), None))
            } else {
                text.strip_prefix(&format!("{flag}="))
                    .map(|v| (s.long.clone(), Some(v.to_owned())))
            }
        });
        match found {
            Some((long, Some(value))) => taken.push((long, value)),
            Some((long, None)) => match rest.next().and_then(|v| v.to_str()) {
                Some(value) => taken.push((long, value.to_owned())),
                // A flag without its value: leave it for clap to explain.
                None => kept.push(arg.clone()),
            },
            None => kept.push(arg.clone()),
        }
    }
    kept
}

fn reexec(
    argv: &[OsString],
    kept: Vec<OsString>,
    payload: &Payload,
    secrets: &[SecretArg],
) -> Result<std::convert::Infallible, String> {
    use std::os::unix::process::CommandExt;
    let bytes = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
    if bytes.len() > MAX_PAYLOAD {
        return Err("the credentials are too large to pass on".into());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let (reader, mut writer) = std::io::pipe().map_err(|e| e.to_string())?;
    writer.write_all(&bytes).map_err(|e| e.to_string())?;
    drop(writer);
    let mut cmd = std::process::Command::new(exe);
    if let Some(arg0) = argv.first() {
        cmd.arg0(arg0);
    }
    cmd.args(argv.iter().skip(1).take(1)).args(kept);
    for s in secrets {
        cmd.env_remove(&s.env);
    }
    cmd.env(SECRETS_ON_STDIN, "1").stdin(reader);
    Err(cmd.exec().to_string())
}

/// In the re-executed process: the secrets, back where the parser finds
/// them. Variables become flags placed first (a typed flag, later, wins;
/// the `--config` expansion is told they are set, so the file's key is
/// skipped); typed flags go last, as they were typed.
fn read_back(argv: Vec<OsString>, secrets: &[SecretArg]) -> Recovered {
    let mut text = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(MAX_PAYLOAD as u64 + 1)
        .read_to_end(&mut text);
    let payload: Payload = match read {
        Ok(_) => serde_json::from_slice(&text).unwrap_or_default(),
        Err(_) => Payload::default(),
    };
    let mut out: Vec<OsString> = argv.iter().take(2).cloned().collect();
    let typed: Vec<&str> = payload.flags.iter().map(|(l, _)| l.as_str()).collect();
    let mut env = BTreeMap::new();
    for (name, value) in &payload.env {
        let Some(secret) = secrets.iter().find(|s| &s.env == name) else {
            continue;
        };
        env.insert(name.clone(), OsString::from(value));
        if !typed.contains(&secret.long.as_str()) {
            out.push(format!("--{}", secret.long).into());
            out.push(value.into());
        }
    }
    out.extend(argv.iter().skip(2).cloned());
    for (long, value) in payload.flags {
        out.push(format!("--{long}").into());
        out.push(value.into());
    }
    Recovered { argv: out, env }
}

/// No core dumps, no ptrace or /proc/PID/{environ,mem} for other
/// processes of our user (Linux).
pub fn make_undumpable() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("gantry: warning: cannot mark the process non-dumpable: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn typed_secret_flags_are_taken_out_in_both_spellings() {
        let secret = |long: &str, env: &str| SecretArg {
            long: long.to_owned(),
            env: env.to_owned(),
        };
        let secrets = [
            secret("bootstrap-token", "GANTRY_BOOTSTRAP_TOKEN"),
            secret("database-url", "GANTRY_DATABASE_URL"),
        ];
        let mut taken = Vec::new();
        let kept = take_typed(
            &os(&[
                "gantry",
                "serve",
                "--dev",
                "--bootstrap-token",
                "gantry_x",
                "--database-url=sqlite://a.db",
                "--bind",
                "127.0.0.1:0",
            ]),
            &secrets,
            &mut taken,
        );
        assert_eq!(kept, os(&["--dev", "--bind", "127.0.0.1:0"]));
        assert_eq!(
            taken,
            vec![
                ("bootstrap-token".to_owned(), "gantry_x".to_owned()),
                ("database-url".to_owned(), "sqlite://a.db".to_owned()),
            ]
        );
    }
}
