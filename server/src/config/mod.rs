//! The checked settings a `gantry serve` process runs with. `cli/settings`
//! builds them from the flags (and `gantry.toml`), finding everything that
//! can be wrong before anything starts; the rest of the server reads these
//! plain types and never a clap one.

use crate::audit::checkpoint::CheckpointSettings;
use crate::audit::sink::SinkSettings;
use crate::auth::oidc::OidcSettings;
use crate::engine::WorkerSettings;
use crate::runtime::clock::Clock;
use crate::runtime::telemetry::LogFormat;
use crate::store::DatabaseUrl;
use gantry_core::role_mapping::RoleMapping;
use gantry_core::{Environment, Environments};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// Wall time for the whole process (tests hand in a `ManualClock`).
    pub clock: Arc<dyn Clock>,
    pub bind: SocketAddr,
    pub database_url: DatabaseUrl,
    pub database_max_connections: u32,
    pub dev: bool,
    pub environments: Environments,
    pub site_root: PathBuf,
    pub public_url: Option<String>,
    /// Session cookies carry `Secure` (the public URL is https).
    pub secure_cookies: bool,
    pub session_idle_timeout: Duration,
    pub session_max_lifetime: Duration,
    /// Sensitive actions need a sign-in at most this old.
    pub step_up_max_age: Duration,
    /// Where service tokens may decide approvals.
    pub token_approvals: Vec<Environment>,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Share of successful requests logged per route (`http::request_span`).
    pub log_request_sample: f64,
    pub bootstrap_token: Option<SecretString>,
    /// Failed authentications per source and window before 429s.
    pub auth_failure_limit: u32,
    pub auth_failure_window: Duration,
    /// Proxies whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins whose scripts may call the REST API with a token
    /// (`http/cors.rs`); empty: none.
    pub cors_allowed_origins: Vec<String>,
    /// Quotas per request class, where buckets live, failure modes.
    pub rate_limits: crate::ratelimit::LimiterSettings,
    /// Backpressure: limits on unfinished runs a new one must fit under.
    pub backlog: crate::store::runs::BacklogLimits,
    /// The worker in this process (None: `--worker-slots 0`).
    pub worker: Option<WorkerSettings>,
    /// Register the demo workflows (dev mode only).
    pub demo_workflows: bool,
    /// Signed audit checkpoints, when a signing key is configured.
    pub audit_checkpoints: Option<CheckpointSettings>,
    /// Streaming the audit log to a SIEM, when a sink URL is configured.
    pub audit_sink: Option<SinkSettings>,
    /// Single sign-on, when an issuer is configured.
    pub oidc: Option<OidcSettings>,
    /// Provider groups → roles.
    pub role_mapping: RoleMapping,
    /// Serving HTTPS ourselves, when a certificate is configured.
    pub tls: Option<crate::http::tls::TlsSettings>,
    /// Client certificates' names (`cn:…`, `dns:…`, `uri:…`) → roles.
    pub client_cert_mapping: RoleMapping,
    /// Where steps' secret references are fetched from.
    pub secrets: crate::secrets::SecretSettings,
    /// Where `GET /metrics` is served besides the main port, and the
    /// bounds on its series.
    pub metrics: crate::runtime::metrics::MetricsSettings,
    /// A run page's link to its trace (`{trace_id}` replaced).
    pub trace_link_template: Option<String>,
    /// Keys whose signed bundles are imported (`--bundle-trusted-key`).
    pub bundle_trusted_keys: Vec<ed25519_dalek::VerifyingKey>,
    /// Alert evaluation and notification delivery.
    pub alerting: AlertingConfig,
    /// How often `serve` verifies the audit chain (`None`: never).
    pub audit_verify_interval: Option<Duration>,
    /// How long runs, step logs and notification history are kept
    /// (`--retain-*`), and how often the purge runs.
    pub retention: gantry_core::retention::Retention,
    pub retention_interval: Duration,
    /// Break-glass passkeys per admin (`--break-glass-max-passkeys`) and a
    /// break-glass session's length (`--break-glass-session`).
    pub break_glass_max_passkeys: u32,
    pub break_glass_session: Duration,
    /// Who resolves remote workers' secrets, per environment.
    pub remote_worker_secrets: crate::secrets::remote::RemoteWorkerSecrets,
    /// Header deadline and connections per address.
    pub connections: crate::http::listener::ConnectionLimits,
    /// Body deadline and size.
    pub bodies: crate::http::edge::BodyLimits,
}

/// `--alert-*` and `--notification-*`.
#[derive(Debug, Clone)]
pub struct AlertingConfig {
    /// `None`: the SQLite default beside the database, or none on PostgreSQL.
    pub key_file: Option<PathBuf>,
    pub evaluation_interval: Duration,
    pub timeout: Duration,
    pub give_up_after: Duration,
}

/// What is wrong with the configuration, as one line naming the flag.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
