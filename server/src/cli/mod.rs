//! Command-line interface. Every `serve` flag has a `GANTRY_…` environment
//! variable; flags win over the environment. Documented in
//! docs/configuration.md.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use secrets::secret_args;

pub mod alert_flags;
pub mod audit;
pub mod backup;
pub mod break_glass_flags;
pub mod client;
pub mod flow_control_flags;
pub mod metrics_flags;
pub mod retention_flags;
pub mod sandbox;
pub mod secret_providers;
mod secrets;
pub mod settings;
pub mod slo;
mod spec_files;
pub mod tls_flags;
pub mod token;

#[derive(Debug, Parser)]
#[command(
    name = "gantry",
    version,
    about = "Gantry: jobs and workflows orchestrator with a hardened control plane",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and APIs, with the scheduler and a worker in the same process.
    // A flag typed twice (or once in --config and once typed) takes the last.
    #[command(args_override_self = true)]
    Serve(Box<ServeArgs>),
    /// Run a worker only: it leases steps from a `serve` process over its execution API, with a
    /// worker token and no database credentials (see docs/workers.md).
    Worker(Box<WorkerArgs>),
    /// Register workflow specs (a YAML/JSON file, or every *.yaml, *.yml, *.json in a folder).
    Apply(client::ApplyArgs),
    /// Start a run and optionally wait for it.
    Run(client::RunArgs),
    /// List recent runs.
    Runs(client::RunsArgs),
    /// Print a run's steps and logs.
    Logs(client::LogsArgs),
    /// Cancel a queued or running run.
    Cancel(client::CancelArgs),
    /// Turn a workflow's schedule on or off in one environment.
    Schedule(client::ScheduleArgs),
    /// List approval requests (--pending: the inbox).
    Approvals(client::ApprovalsArgs),
    /// Approve someone else's request; its run starts at once, as the requester.
    Approve(client::DecideArgs),
    /// Reject someone else's request.
    Reject(client::DecideArgs),
    /// Ask to move a workflow's version into the next environment (dev -> stage -> prod).
    // `--version N` is the workflow version here, not the program's.
    #[command(disable_version_flag = true)]
    Promote(client::PromoteArgs),
    /// List promotion requests (--pending: those still waiting).
    Promotions(client::PromotionsArgs),
    /// Show, approve, reject or cancel a promotion request, or tick its checklist.
    #[command(subcommand)]
    Promotion(client::PromotionCommand),
    /// Return an environment to a version active there before, without a new approval.
    Rollback(client::RollbackArgs),
    /// The deployment ledger: every move of an active version (--at: what was active then).
    Deployments(client::DeploymentsArgs),
    /// Write a workflow's version(s) with their source, hashes and ledger rows as a signed
    /// bundle on standard output, for another installation's `gantry import`.
    Export(client::ExportArgs),
    /// Check a bundle's hashes and signature, then register its versions on the server (active
    /// nowhere: they pass this installation's own gates).
    Import(client::ImportArgs),
    /// Drop secret values the server cached (`--secrets-cache-ttl`), so the next attempts fetch
    /// afresh.
    #[command(subcommand)]
    Secrets(client::SecretsCommand),
    /// Verify, export or archive the audit log (reads the database directly).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Copy an embedded (SQLite) database while Gantry runs, and check the copy
    /// (PostgreSQL: use pg_dump; see docs/ops/backup.md).
    Backup(backup::BackupArgs),
    /// Create, list or revoke service tokens (works on the database directly).
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Prometheus rules for the SLOs in workflow specs (reads the files; needs no server).
    #[command(subcommand)]
    Slo(slo::SloCommand),
    /// Supervise one shell step (started by workers; reads its job from standard input).
    #[command(hide = true)]
    StepExec,
}

/// The audit log's checkpoint signing and streaming sink (`serve` only).
#[derive(Debug, Clone, Args)]
pub struct AuditFlags {
    /// Ed25519 private key that signs audit checkpoints: PKCS#8 PEM (`gantry audit keygen`,
    /// `openssl genpkey -algorithm ed25519`) or a 32-byte seed in hex or base64. Without it no
    /// checkpoints are signed.
    #[arg(long, env = "GANTRY_AUDIT_SIGNING_KEY", value_name = "FILE")]
    pub audit_signing_key: Option<PathBuf>,

    /// Sign a checkpoint once this many audit records follow the last one.
    #[arg(
        long,
        env = "GANTRY_AUDIT_CHECKPOINT_RECORDS",
        value_name = "N",
        default_value_t = 1000
    )]
    pub audit_checkpoint_records: u64,

    /// Sign a checkpoint at least this often while records keep coming.
    #[arg(long, env = "GANTRY_AUDIT_CHECKPOINT_INTERVAL", value_name = "DURATION",
          default_value = "10m", value_parser = humantime::parse_duration)]
    pub audit_checkpoint_interval: Duration,

    /// Verify the audit chain this often (the records appended since the last verification;
    /// the whole chain at start and after an archive), counting breaks in
    /// gantry_audit_chain_gap_total (0: never).
    #[arg(long, env = "GANTRY_AUDIT_VERIFY_INTERVAL", value_name = "DURATION",
          default_value = "10m", value_parser = humantime::parse_duration)]
    pub audit_verify_interval: Duration,

    /// Stream audit records to this HTTP(S) endpoint (a SIEM collector) as JSON-lines batches,
    /// in order, at least once, resuming where it left off after a restart.
    #[arg(long, env = "GANTRY_AUDIT_SINK_URL", value_name = "URL")]
    pub audit_sink_url: Option<String>,

    /// File holding a bearer token for the sink (sent as `Authorization: Bearer …`).
    #[arg(long, env = "GANTRY_AUDIT_SINK_TOKEN_FILE", value_name = "FILE")]
    pub audit_sink_token_file: Option<PathBuf>,

    /// The sink's bearer token as a secret reference (`vault:kv/data/gantry/siem#token`), read
    /// from its provider at start.
    #[arg(long, env = "GANTRY_AUDIT_SINK_TOKEN_REF", value_name = "REF")]
    pub audit_sink_token_ref: Option<String>,

    /// Records per sink request.
    #[arg(
        long,
        env = "GANTRY_AUDIT_SINK_BATCH",
        value_name = "N",
        default_value_t = 100
    )]
    pub audit_sink_batch: u32,
}

/// Single sign-on through an OpenID Connect provider, and how its groups map
/// to roles (`serve` only; see docs/sso.md). In a config file: `[oidc]
/// issuer = …` and `[[role_mapping]] group = … roles = […]`.
#[derive(Debug, Clone, Args)]
pub struct OidcFlags {
    /// The provider's issuer URL (discovery reads {URL}/.well-known/openid-configuration).
    /// Enables single sign-on; the redirect URI to register is {--public-url}/auth/callback.
    #[arg(long, env = "GANTRY_OIDC_ISSUER", value_name = "URL")]
    pub oidc_issuer: Option<String>,

    /// The client id Gantry is registered under at the provider.
    #[arg(long, env = "GANTRY_OIDC_CLIENT_ID", value_name = "ID")]
    pub oidc_client_id: Option<String>,

    /// The client secret (prefer --oidc-client-secret-file).
    #[arg(
        long,
        env = "GANTRY_OIDC_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,

    /// File holding the client secret.
    #[arg(long, env = "GANTRY_OIDC_CLIENT_SECRET_FILE", value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// The client secret as a secret reference (`vault:kv/data/gantry/oidc#client_secret`),
    /// read from its provider at start (see docs/secrets.md).
    #[arg(long, env = "GANTRY_OIDC_CLIENT_SECRET_REF", value_name = "REF")]
    pub oidc_client_secret_ref: Option<String>,

    /// Scopes to request, comma-separated (add `groups` where the provider needs it).
    #[arg(
        long,
        env = "GANTRY_OIDC_SCOPES",
        value_name = "LIST",
        default_value = "openid,profile,email"
    )]
    pub oidc_scopes: String,

    /// The claim listing the person's groups (ID token, else UserInfo).
    #[arg(
        long,
        env = "GANTRY_OIDC_GROUPS_CLAIM",
        value_name = "CLAIM",
        default_value = "groups"
    )]
    pub oidc_groups_claim: String,

    /// How old the provider's metadata and keys may be when someone starts
    /// signing in before they are read again (then a provider that went
    /// away is reported on the sign-in page instead of a dead redirect).
    #[arg(
        long,
        env = "GANTRY_OIDC_RECHECK_AFTER",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = humantime::parse_duration
    )]
    pub oidc_recheck_after: Duration,

    /// The claim used as username (falls back to `sub`).
    #[arg(
        long,
        env = "GANTRY_OIDC_USERNAME_CLAIM",
        value_name = "CLAIM",
        default_value = "preferred_username"
    )]
    pub oidc_username_claim: String,

    /// Roles a provider group grants, e.g. sre=operator@dev,operator@stage,approver@prod
    /// (a bare role means every environment). Repeatable; GANTRY_ROLE_MAPPING separates
    /// entries with `;`.
    #[arg(
        long,
        env = "GANTRY_ROLE_MAPPING",
        value_name = "GROUP=ROLE@ENV,…",
        value_delimiter = ';',
        action = clap::ArgAction::Append
    )]
    pub role_mapping: Vec<String>,
}

/// How long clients may take and how many connections one may hold (`serve`
/// only; see docs/security.md, "The edge").
#[derive(Debug, Clone, Args)]
pub struct EdgeFlags {
    /// Close a connection whose request headers haven't all arrived this long after it opened
    /// (or after its previous answer, for a kept-alive connection).
    #[arg(long, env = "GANTRY_HEADER_READ_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,

    /// Answer 408 and close the connection when a request body hasn't arrived whole this long
    /// after its headers.
    #[arg(long, env = "GANTRY_BODY_READ_TIMEOUT", value_name = "DURATION",
          default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_read_timeout: Duration,

    /// Open connections one client address (an IPv6 /64) may hold at once; more are closed as
    /// they arrive (0: no cap). Behind a reverse proxy every client shares the proxy's address.
    #[arg(
        long,
        env = "GANTRY_MAX_CONNECTIONS_PER_ADDRESS",
        value_name = "N",
        default_value_t = 128
    )]
    pub max_connections_per_address: usize,
}

/// Where a worker runs steps; shared by `serve` and `worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerFlags {
    /// Steps this process runs at once (0: no worker in this process).
    #[arg(
        long,
        env = "GANTRY_WORKER_SLOTS",
        value_name = "N",
        default_value_t = 4
    )]
    pub worker_slots: usize,

    /// How long a claimed step stays owned without a heartbeat; a worker that dies loses its
    /// steps after this long and they are retried as new attempts.
    #[arg(long, env = "GANTRY_WORKER_LEASE", value_name = "DURATION", default_value = "15s",
          value_parser = humantime::parse_duration)]
    pub worker_lease: Duration,

    /// Folder under which each step attempt gets its own working directory.
    #[arg(
        long,
        env = "GANTRY_WORK_DIR",
        value_name = "DIR",
        default_value = "data/work"
    )]
    pub work_dir: PathBuf,

    /// Reserved addresses HTTP steps may reach after all (loopback, link-local and cloud
    /// metadata addresses are refused by default; private ranges are allowed): addresses or
    /// networks, each for every environment (10.0.0.0/8) or one (127.0.0.1@dev), comma-separated,
    /// repeatable. See docs/security.md.
    #[arg(long, env = "GANTRY_HTTP_STEP_ALLOW", value_name = "CIDR[@ENV],…",
          value_delimiter = ',', value_parser = crate::engine::egress::parse_allow)]
    pub http_step_allow: Vec<crate::engine::egress::AllowEntry>,
    #[command(flatten)]
    pub sandbox: sandbox::StepSandboxFlags,
    #[command(flatten)]
    pub secrets: secret_providers::SecretProviderFlags,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The URL a `gantry serve` answers at; the worker leases and reports steps through its
    /// execution API (/exec/v1) and never touches the database.
    #[arg(long, env = "GANTRY_SERVER", value_name = "URL")]
    pub server: String,

    /// File holding a worker token (`gantry token create --name NAME --worker`).
    #[arg(long, env = "GANTRY_WORKER_TOKEN_FILE", value_name = "FILE")]
    pub token_file: PathBuf,

    #[command(flatten)]
    pub worker: WorkerFlags,

    /// Serve this worker's Prometheus metrics (its steps, secret fetches) at `GET /metrics` on
    /// this address. Off by default.
    #[arg(long, env = "GANTRY_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,

    #[arg(long, env = "GANTRY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    #[arg(
        long,
        env = "GANTRY_LOG",
        value_name = "FILTER",
        default_value = "info"
    )]
    pub log: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines, for a terminal.
    Text,
}

impl From<LogFormat> for crate::runtime::telemetry::LogFormat {
    fn from(format: LogFormat) -> Self {
        match format {
            LogFormat::Json => Self::Json,
            LogFormat::Text => Self::Text,
        }
    }
}

/// `--database-url`, the same for `serve`, `token` and `audit`.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database: sqlite://PATH (embedded, created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "GANTRY_DATABASE_URL",
        value_name = "URL",
        default_value = "sqlite://data/gantry.db",
        hide_env_values = true
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML file of these flags' settings (keys are the flags' names; see docs/configuration.md).
    /// Typed flags and GANTRY_… variables win over the file.
    #[arg(long, env = "GANTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "GANTRY_BIND",
        value_name = "ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Most database connections this process opens.
    #[arg(
        long,
        env = "GANTRY_DATABASE_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 10
    )]
    pub database_max_connections: u32,

    /// Development mode: seeded demo users instead of single sign-on. Loopback addresses only.
    #[arg(long, env = "GANTRY_DEV")]
    pub dev: bool,

    /// With --dev, skip registering the demo workflows.
    #[arg(long, env = "GANTRY_NO_DEMO")]
    pub no_demo: bool,

    /// Environments in promotion order, comma-separated.
    #[arg(
        long,
        env = "GANTRY_ENVIRONMENTS",
        value_name = "LIST",
        default_value = "dev,stage,prod"
    )]
    pub environments: String,

    /// Folder holding the dashboard's built assets (pkg/gantry.js, pkg/gantry_bg.wasm, pkg/gantry.css).
    #[arg(
        long,
        env = "GANTRY_SITE_ROOT",
        value_name = "DIR",
        default_value = "target/site"
    )]
    pub site_root: PathBuf,

    /// The URL users reach Gantry at. An https:// URL marks session cookies Secure.
    #[arg(long, env = "GANTRY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Sign a session out after this long without a request (e.g. 30m, 8h).
    #[arg(
        long,
        env = "GANTRY_SESSION_IDLE_TIMEOUT",
        value_name = "DURATION",
        default_value = "8h",
        value_parser = humantime::parse_duration
    )]
    pub session_idle_timeout: Duration,

    /// Sign a session out this long after sign-in, however active (e.g. 12h, 7d).
    #[arg(
        long,
        env = "GANTRY_SESSION_MAX_LIFETIME",
        value_name = "DURATION",
        default_value = "7d",
        value_parser = humantime::parse_duration
    )]
    pub session_max_lifetime: Duration,

    /// Sensitive actions (approving, running in the last environment, creating tokens) need a
    /// sign-in at most this old; older sessions are asked to sign in again (e.g. 15m, 1h).
    #[arg(
        long,
        env = "GANTRY_STEP_UP_MAX_AGE",
        value_name = "DURATION",
        default_value = "15m",
        value_parser = humantime::parse_duration
    )]
    pub step_up_max_age: Duration,

    /// Environments where service tokens may approve or reject requests (comma-separated, or
    /// "none"). Default: every environment but the last, where a person with a recent sign-in
    /// must decide.
    #[arg(long, env = "GANTRY_TOKEN_APPROVALS", value_name = "ENV,…")]
    pub token_approvals: Option<String>,

    /// API token with the admin role everywhere, for automation before service tokens exist
    /// (must start with "gantry_"). Without it, the first start generates one and prints it once.
    #[arg(
        long,
        env = "GANTRY_BOOTSTRAP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub bootstrap_token: Option<String>,

    /// Failed sign-ins or token checks one address may make per --auth-failure-window before
    /// further attempts are refused with 429.
    #[arg(
        long,
        env = "GANTRY_AUTH_FAILURE_LIMIT",
        value_name = "N",
        default_value_t = 10
    )]
    pub auth_failure_limit: u32,

    /// The window of --auth-failure-limit, and how long a locked-out address waits.
    #[arg(long, env = "GANTRY_AUTH_FAILURE_WINDOW", value_name = "DURATION",
          default_value = "5m", value_parser = humantime::parse_duration)]
    pub auth_failure_window: Duration,

    /// Serve Prometheus metrics at `GET /metrics` on this address, a listener of its own (e.g.
    /// 127.0.0.1:9464; anyone who can reach it reads them, so keep it on loopback or a private
    /// network). Off by default. The main port answers `GET /metrics` too, to metrics tokens only
    /// (`gantry token create --metrics`). See docs/observability.md.
    #[arg(long, env = "GANTRY_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,

    /// Link a run's trace from its page: a URL with `{trace_id}` in it, e.g. Jaeger's
    /// https://jaeger.example/trace/{trace_id} or Grafana Tempo's explore URL.
    #[arg(long, env = "GANTRY_TRACE_LINK_TEMPLATE", value_name = "URL",
          value_parser = parse_trace_link)]
    pub trace_link_template: Option<String>,

    /// An Ed25519 public key whose signed bundles (`gantry export`) this server imports: PEM
    /// from `gantry audit keygen` or 32 bytes in hex or base64, in a file or inline. Repeatable,
    /// or a comma-separated list. Without one, imports are refused.
    #[arg(
        long,
        env = "GANTRY_BUNDLE_TRUSTED_KEYS",
        value_name = "FILE",
        value_delimiter = ',',
        action = clap::ArgAction::Append
    )]
    pub bundle_trusted_key: Vec<String>,

    #[command(flatten)]
    pub metrics: metrics_flags::MetricsFlags,

    #[command(flatten)]
    pub retention: retention_flags::RetentionFlags,

    #[command(flatten)]
    pub break_glass: break_glass_flags::BreakGlassFlags,

    #[command(flatten)]
    pub alerts: alert_flags::AlertFlags,

    /// Who fetches the secrets of steps that remote workers (`gantry worker`) run: `worker` (with
    /// the worker's own --vault-* credentials; values never cross the network) or `server` (the
    /// server fetches them and hands them over the execution API, which then needs https outside
    /// loopback), for every environment (`worker`) or one (`server@dev`); comma-separated.
    #[arg(
        long,
        env = "GANTRY_REMOTE_WORKER_SECRETS",
        value_name = "MODE[@ENV],…",
        default_value = "worker"
    )]
    pub remote_worker_secrets: Vec<String>,

    /// Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For is
    /// believed: requests from them count as from the client it names, for lockout and the
    /// audit log. Without it, the header is ignored.
    #[arg(long, env = "GANTRY_TRUSTED_PROXIES", value_name = "CIDR,…",
          value_delimiter = ',', value_parser = crate::auth::client_ip::parse_trusted)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Origins (comma-separated, like https://tools.example.com, or *) whose scripts may call
    /// the REST API with a bearer token. Never with cookies. Default: none.
    #[arg(long, env = "GANTRY_CORS_ALLOWED_ORIGINS", value_name = "ORIGIN,…",
          value_delimiter = ',', value_parser = crate::http::cors::parse_origin)]
    pub cors_allowed_origins: Vec<String>,

    #[command(flatten)]
    pub edge: EdgeFlags,

    #[command(flatten)]
    pub flow: flow_control_flags::FlowControlFlags,

    #[command(flatten)]
    pub worker: WorkerFlags,

    #[command(flatten)]
    pub audit: AuditFlags,

    #[command(flatten)]
    pub oidc: OidcFlags,

    #[command(flatten)]
    pub tls: tls_flags::TlsFlags,

    /// Log format [default: text with --dev, json otherwise].
    #[arg(long, env = "GANTRY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. info or gantry_server=debug,info.
    #[arg(
        long,
        env = "GANTRY_LOG",
        value_name = "FILTER",
        default_value = "info"
    )]
    pub log: String,

    /// Share of successful requests written to the log, per route: 1 all, 0.1 one in ten, 0
    /// none. Refused and failed requests are always written.
    #[arg(long, env = "GANTRY_LOG_REQUEST_SAMPLE", value_name = "RATIO", default_value = "1",
          value_parser = parse_ratio)]
    pub log_request_sample: f64,
}

/// An http(s) URL template naming `{trace_id}`.
fn parse_trace_link(text: &str) -> Result<String, String> {
    let text = text.trim();
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return Err(format!("{text:?} is not an http(s) URL"));
    }
    if !text.contains("{trace_id}") {
        return Err(format!(
            "{text:?} has no {{trace_id}} where the run's trace id goes"
        ));
    }
    Ok(text.to_owned())
}

/// A ratio from 0 to 1.
fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{text:?} is not a ratio from 0 to 1 (e.g. 0.1)")),
    }
}
