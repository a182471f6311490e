//! The flags (and `gantry.toml`) → the checked [`Config`]. Everything that
//! can be wrong with them is found here, before anything starts, and
//! reported as one line saying what to change.

use crate::audit::checkpoint::CheckpointSettings;
use crate::audit::sink::SinkSettings;
use crate::cli::ServeArgs;
use crate::config::{Config, ConfigError};
use crate::engine::{WorkerSettings, worker_id};
use crate::runtime::clock::SystemClock;
use crate::runtime::telemetry::LogFormat;
use crate::store::DatabaseUrl;
use gantry_core::{Environment, Environments};
use secrecy::SecretString;
use std::sync::Arc;

mod audit_sink;
pub mod file;
pub mod oidc;
mod sandbox;
mod secrets;
mod tls;
mod worker;

impl ServeArgs {
    /// The checked settings these flags describe, or the first problem.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let args = self;
        let fail = |msg: String| Err(ConfigError(msg));
        if args.dev && !args.bind.ip().is_loopback() {
            return fail(format!(
                "--dev (GANTRY_DEV) offers demo users without sign-on and only binds to loopback, \
                 but --bind (GANTRY_BIND) is {}: use --bind 127.0.0.1:{} or drop --dev",
                args.bind,
                args.bind.port()
            ));
        }
        let database_url = match DatabaseUrl::parse(&args.database.database_url) {
            Ok(u) => u,
            Err(e) => return fail(format!("--database-url (GANTRY_DATABASE_URL): {e}")),
        };
        if args.database_max_connections == 0 {
            return fail(
                "--database-max-connections (GANTRY_DATABASE_MAX_CONNECTIONS) must be at least 1"
                    .into(),
            );
        }
        let environments = match Environments::parse_list(&args.environments) {
            Ok(e) => e,
            Err(e) => return fail(format!("--environments (GANTRY_ENVIRONMENTS): {e}")),
        };
        let environment_names: Vec<String> =
            environments.iter().map(|e| e.as_str().to_owned()).collect();
        let retention = match args.retention.retention(&environment_names) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let (break_glass_max_passkeys, break_glass_session) = match args.break_glass.checked() {
            Ok(b) => b,
            Err(e) => return fail(e),
        };
        let token_approvals = match token_approvals(args.token_approvals.as_deref(), &environments)
        {
            Ok(t) => t,
            Err(e) => return fail(format!("--token-approvals (GANTRY_TOKEN_APPROVALS): {e}")),
        };
        let public_url = args.public_url.map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return fail(format!(
                "--public-url (GANTRY_PUBLIC_URL) {u:?} must start with https:// or http://"
            ));
        }
        if args.session_idle_timeout.is_zero() || args.session_max_lifetime.is_zero() {
            return fail("session timeouts must be longer than zero".into());
        }
        if args.step_up_max_age.is_zero() {
            return fail(
                "--step-up-max-age (GANTRY_STEP_UP_MAX_AGE) must be longer than zero".into(),
            );
        }
        if args.session_idle_timeout > args.session_max_lifetime {
            return fail(format!(
                "--session-idle-timeout ({}) is longer than --session-max-lifetime ({}): make it shorter",
                humantime::format_duration(args.session_idle_timeout),
                humantime::format_duration(args.session_max_lifetime)
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&args.log) {
            return fail(format!(
                "--log (GANTRY_LOG) {:?} is not a valid filter: {e}",
                args.log
            ));
        }
        if let Some(t) = &args.bootstrap_token
            && (!t.starts_with(crate::plane::tokens::TOKEN_PREFIX) || t.len() < 40)
        {
            // Never echo the value: it is a credential.
            return fail(
                "--bootstrap-token (GANTRY_BOOTSTRAP_TOKEN) must start with \"gantry_\" and be at least 40 characters, \
                 e.g. gantry_ followed by the output of `openssl rand -base64 32 | tr +/ -_ | tr -d =`"
                    .into(),
            );
        }
        if args.auth_failure_limit == 0 || args.auth_failure_window.is_zero() {
            return fail(
                "--auth-failure-limit and --auth-failure-window must be above zero".into(),
            );
        }
        if args.edge.header_read_timeout.is_zero() || args.edge.body_read_timeout.is_zero() {
            return fail(
                "--header-read-timeout and --body-read-timeout must be longer than zero".into(),
            );
        }
        let audit_checkpoints = match &args.audit.audit_signing_key {
            None => None,
            Some(path) => {
                if args.audit.audit_checkpoint_records == 0
                    || args.audit.audit_checkpoint_interval.is_zero()
                {
                    return fail(
                        "--audit-checkpoint-records and --audit-checkpoint-interval must be above zero"
                            .into(),
                    );
                }
                match crate::audit::keys::load_signing_key(path) {
                    Ok(key) => Some(CheckpointSettings {
                        key,
                        every_records: args.audit.audit_checkpoint_records,
                        every: args.audit.audit_checkpoint_interval,
                    }),
                    Err(e) => {
                        return fail(format!(
                            "--audit-signing-key (GANTRY_AUDIT_SIGNING_KEY): {e}"
                        ));
                    }
                }
            }
        };
        let mut bundle_trusted_keys = Vec::new();
        for key in &args.bundle_trusted_key {
            match crate::audit::keys::load_verifying_key(key) {
                Ok(k) => bundle_trusted_keys.push(k),
                Err(e) => {
                    return fail(format!(
                        "--bundle-trusted-key (GANTRY_BUNDLE_TRUSTED_KEYS): {e}"
                    ));
                }
            }
        }
        let rate_limits = match args.flow.settings(&database_url) {
            Ok(settings) => settings,
            Err(e) => return fail(e),
        };
        let audit_sink = match SinkSettings::from_flags(&args.audit) {
            Ok(sink) => sink,
            Err(e) => return fail(e),
        };
        let (oidc, role_mapping) = match oidc::from_flags(&args.oidc, &environments) {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        let (tls, client_cert_mapping) = match tls::from_flags(&args.tls, &environments) {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        let allowed = crate::engine::egress::EgressPolicy::new(&args.worker.http_step_allow);
        if let Some(env) = allowed
            .environments()
            .find(|e| Environment::parse(e).map_or(true, |e| !environments.contains(&e)))
        {
            return fail(format!(
                "--http-step-allow (GANTRY_HTTP_STEP_ALLOW) names environment {env:?}, which this \
                 server doesn't have (it has {}): write CIDR@ENV with one of them",
                args.environments
            ));
        }
        let secrets = match crate::secrets::SecretSettings::from_flags(
            &args.worker.secrets,
            Some(&environments),
        ) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let remote_worker_secrets =
            match crate::secrets::remote::RemoteWorkerSecrets::parse(&args.remote_worker_secrets) {
                Ok(r) => r,
                Err(e) => {
                    return fail(format!(
                        "--remote-worker-secrets (GANTRY_REMOTE_WORKER_SECRETS): {e}"
                    ));
                }
            };
        if let Some(env) = remote_worker_secrets
            .environments()
            .find(|e| Environment::parse(e).map_or(true, |e| !environments.contains(&e)))
        {
            return fail(format!(
                "--remote-worker-secrets (GANTRY_REMOTE_WORKER_SECRETS) names environment {env:?}, which this server doesn't have"
            ));
        }
        // Dev mode's demo secrets (`demo/secrets.rs`), before the sandbox
        // learns which folder steps must not read.
        let secrets = if args.dev && !args.no_demo {
            match crate::demo::secrets::with_demo_file_root(
                secrets,
                &args.database.database_url,
                &args.worker.work_dir,
                &environments,
            ) {
                Ok(s) => s,
                Err(e) => return fail(e),
            }
        } else {
            secrets
        };
        let step_sandbox = {
            use crate::engine::sandbox::{StepSandbox, protected_paths};
            let mut protected = protected_paths(
                &args.worker.work_dir,
                Some(&args.database.database_url),
                &[
                    args.config.as_deref(),
                    args.audit.audit_signing_key.as_deref(),
                    args.audit.audit_sink_token_file.as_deref(),
                    args.oidc.oidc_client_secret_file.as_deref(),
                    args.tls.tls_key.as_deref(),
                ],
            );
            // A step must not read what Gantry fetches secrets with.
            protected.extend(secrets.protected_paths());
            match StepSandbox::from_flags(&args.worker.sandbox, &protected) {
                Ok(s) => s,
                Err(e) => return fail(e),
            }
        };
        // Served over TLS, the server is only reachable by https.
        let secure_cookies = tls.is_some()
            || public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"));
        let worker = (args.worker.worker_slots > 0).then(|| {
            let mut settings = WorkerSettings::from_flags(worker_id(0), &args.worker);
            settings.sandbox = step_sandbox;
            settings
        });
        Ok(Config {
            clock: Arc::new(SystemClock),
            bind: args.bind,
            database_url,
            database_max_connections: args.database_max_connections,
            dev: args.dev,
            environments,
            site_root: args.site_root,
            public_url,
            secure_cookies,
            session_idle_timeout: args.session_idle_timeout,
            session_max_lifetime: args.session_max_lifetime,
            step_up_max_age: args.step_up_max_age,
            token_approvals,
            log_format: args.log_format.map(LogFormat::from).unwrap_or(if args.dev {
                LogFormat::Text
            } else {
                LogFormat::Json
            }),
            log_filter: args.log,
            log_request_sample: args.log_request_sample,
            bootstrap_token: args.bootstrap_token.map(SecretString::from),
            auth_failure_limit: args.auth_failure_limit,
            auth_failure_window: args.auth_failure_window,
            trusted_proxies: args.trusted_proxies,
            cors_allowed_origins: args.cors_allowed_origins,
            rate_limits,
            backlog: args.flow.backlog(),
            worker,
            demo_workflows: args.dev && !args.no_demo,
            audit_checkpoints,
            audit_sink,
            oidc,
            role_mapping,
            tls,
            client_cert_mapping,
            secrets,
            remote_worker_secrets,
            metrics: crate::runtime::metrics::MetricsSettings {
                bind: args.metrics_bind,
                workflow_cap: args.metrics.metrics_workflow_cap,
                series_idle: Some(args.metrics.metrics_series_idle).filter(|d| !d.is_zero()),
            },
            trace_link_template: args.trace_link_template,
            bundle_trusted_keys,
            alerting: crate::config::AlertingConfig {
                key_file: args.alerts.alert_credentials_key_file,
                evaluation_interval: args
                    .alerts
                    .alert_evaluation_interval
                    .max(std::time::Duration::from_millis(50)),
                timeout: args.alerts.notification_timeout,
                give_up_after: args.alerts.notification_give_up_after,
            },
            audit_verify_interval: Some(args.audit.audit_verify_interval).filter(|d| !d.is_zero()),
            retention,
            retention_interval: args.retention.retention_interval,
            break_glass_max_passkeys,
            break_glass_session,
            connections: crate::http::listener::ConnectionLimits {
                header_read_timeout: args.edge.header_read_timeout,
                max_per_address: args.edge.max_connections_per_address,
            },
            bodies: crate::http::edge::BodyLimits {
                read_timeout: args.edge.body_read_timeout,
                max_bytes: crate::http::edge::MAX_REQUEST_BODY_BYTES,
            },
        })
    }
}

/// `--token-approvals`: the environments listed (known ones only), `none`,
/// or by default every environment but the last.
fn token_approvals(
    list: Option<&str>,
    environments: &Environments,
) -> Result<Vec<Environment>, String> {
    let Some(list) = list.map(str::trim) else {
        let last = environments.last();
        return Ok(environments
            .iter()
            .filter(|e| *e != last)
            .cloned()
            .collect());
    };
    if list == "none" {
        return Ok(Vec::new());
    }
    let mut allowed = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let env = Environment::parse(name).map_err(|e| format!("{name:?}: {e}"))?;
        if !environments.contains(&env) {
            let known: Vec<&str> = environments.iter().map(|e| e.as_str()).collect();
            return Err(format!(
                "unknown environment {name}; this server has {} (or none)",
                known.join(", ")
            ));
        }
        if !allowed.contains(&env) {
            allowed.push(env);
        }
    }
    if allowed.is_empty() {
        return Err("list environments, e.g. dev,stage, or say none".into());
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn serve_args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["gantry", "serve"];
        argv.extend_from_slice(extra);
        let Command::Serve(args) = Cli::try_parse_from(argv).unwrap().command else {
            unreachable!("parsed a serve command")
        };
        *args
    }

    fn parse(extra: &[&str]) -> Result<Config, ConfigError> {
        serve_args(extra).into_config()
    }

    #[test]
    fn defaults_are_a_local_sqlite_server() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert!(matches!(c.database_url, DatabaseUrl::Sqlite(_)));
        assert!(!c.dev && !c.secure_cookies);
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn dev_mode_refuses_non_loopback_addresses() {
        let err = parse(&["--dev", "--bind", "0.0.0.0:3000"]).unwrap_err();
        assert!(err.0.contains("only binds to loopback"), "{err}");
        assert!(err.0.contains("--bind 127.0.0.1:3000"), "{err}");
        assert!(parse(&["--dev", "--bind", "[::1]:3000"]).is_ok());
        assert!(parse(&["--bind", "0.0.0.0:3000"]).is_ok());
    }

    #[test]
    fn each_bad_value_names_its_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--database-url", "mysql://x"], "--database-url"),
            (&["--environments", "dev,Prod"], "--environments"),
            (&["--public-url", "gantry.example.com"], "--public-url"),
            (&["--session-idle-timeout", "9d"], "--session-idle-timeout"),
            (
                &["--database-max-connections", "0"],
                "--database-max-connections",
            ),
            (&["--log", "info,[["], "--log"),
            (&["--bootstrap-token", "hunter2"], "--bootstrap-token"),
            (&["--http-step-allow", "127.0.0.1@prd"], "--http-step-allow"),
            (&["--header-read-timeout", "0s"], "--header-read-timeout"),
            (&["--body-read-timeout", "0s"], "--body-read-timeout"),
        ];
        for (argv, flag) in cases {
            let err = parse(argv).unwrap_err();
            assert!(err.0.contains(flag), "{argv:?} -> {err}");
            assert!(!err.0.contains('\n'), "one line: {err}");
            assert!(!err.0.contains("hunter2"), "never echo secrets: {err}");
        }
    }

    #[test]
    fn bundle_trusted_keys_load_from_files_or_values_and_bad_ones_name_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let (_, public) = crate::audit::keys::generate().unwrap();
        let file = dir.path().join("exporter.pub");
        std::fs::write(&file, public).unwrap();
        let inline = hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&[9u8; 32])
                .verifying_key()
                .as_bytes(),
        );
        let c = parse(&[
            "--bundle-trusted-key",
            file.to_str().unwrap(),
            "--bundle-trusted-key",
            &inline,
        ])
        .unwrap();
        assert_eq!(c.bundle_trusted_keys.len(), 2);
        let listed = format!("{},{inline}", file.display());
        assert_eq!(
            parse(&["--bundle-trusted-key", &listed])
                .unwrap()
                .bundle_trusted_keys,
            c.bundle_trusted_keys
        );
        assert!(parse(&[]).unwrap().bundle_trusted_keys.is_empty());
        let err = parse(&["--bundle-trusted-key", "not-a-key"]).unwrap_err();
        assert!(
            err.0
                .contains("--bundle-trusted-key (GANTRY_BUNDLE_TRUSTED_KEYS)"),
            "{err}"
        );
    }

    #[test]
    fn http_step_allow_entries_accumulate_across_repeats() {
        let args = serve_args(&[
            "--http-step-allow",
            "10.0.0.0/8,127.0.0.1@dev",
            "--http-step-allow",
            "::1@dev",
        ]);
        assert!(args.clone().into_config().is_ok());
        let entries = &args.worker.http_step_allow;
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert_eq!(entries[2].environment.as_deref(), Some("dev"));
    }

    #[test]
    fn tokens_approve_everywhere_but_the_last_environment_unless_configured() {
        let names = |c: &Config| -> Vec<String> {
            c.token_approvals.iter().map(|e| e.to_string()).collect()
        };
        assert_eq!(names(&parse(&[]).unwrap()), ["dev", "stage"]);
        let c = parse(&["--environments", "qa,live", "--token-approvals", "qa, live"]).unwrap();
        assert_eq!(names(&c), ["qa", "live"]);
        let none = parse(&["--token-approvals", "none"]).unwrap();
        assert!(none.token_approvals.is_empty());
        let err = parse(&["--token-approvals", "dev,qa"]).unwrap_err();
        assert!(err.0.contains("--token-approvals"), "{err}");
        assert!(err.0.contains("unknown environment qa"), "{err}");
        assert!(parse(&["--token-approvals", ","]).is_err());
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let c = parse(&["--public-url", "https://gantry.example.com/"]).unwrap();
        assert!(c.secure_cookies);
        assert_eq!(c.public_url.as_deref(), Some("https://gantry.example.com"));
    }
}
