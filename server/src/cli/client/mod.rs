//! The CLI's client commands (`apply`, `run`, `runs`, `logs`, `cancel`, the
//! approvals and the promotions): thin callers of the REST API, reading
//! `GANTRY_URL` and `GANTRY_TOKEN`.

use crate::runtime::clock::{Clock, SystemClock};
use api_client::{Client, Failure, fail, urlencode};
use clap::Args;
use gantry_core::approval::ApprovalRequest;
use gantry_core::run::{LogPage, RunDetail, RunPage, RunSummary};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod api_client;

#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Gantry's base URL.
    #[arg(
        long,
        env = "GANTRY_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub url: String,

    /// API token (service token or the bootstrap token).
    #[arg(
        long,
        env = "GANTRY_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// A spec file, or a folder of them (*.yaml, *.yml, *.json). Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Workflow name.
    pub workflow: String,
    /// Environment to run in.
    #[arg(long = "env", value_name = "ENV", default_value = "dev")]
    pub environment: String,
    /// An input, as NAME=VALUE. Repeatable.
    #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// Wait for the run to finish; exit non-zero unless it succeeded.
    #[arg(long)]
    pub wait: bool,

    /// Why, for the approver where the environment requires approval.
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[arg(long)]
    pub workflow: Option<String>,
    #[arg(long = "env")]
    pub environment: Option<String>,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub conn: Connection,
    pub run: String,
    /// Only this step.
    #[arg(long)]
    pub step: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Workflow name.
    pub workflow: String,
    #[arg(long = "env", value_name = "ENV")]
    pub environment: String,
    /// `on` or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum SecretsCommand {
    /// Drop one cached reference (`vault:kv/data/prod/db#password`), or with --provider all
    /// a provider cached.
    Invalidate(InvalidateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct InvalidateArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The reference as fetches name it (placeholders filled in).
    #[arg(required_unless_present = "provider", conflicts_with = "provider")]
    pub reference: Option<String>,
    /// Every value this provider cached instead.
    #[arg(long)]
    pub provider: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CancelArgs {
    #[command(flatten)]
    pub conn: Connection,
    pub run: String,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Only the inbox: pending, unexpired requests.
    #[arg(long)]
    pub pending: bool,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The request's id (from `gantry approvals`).
    pub request: String,
    /// Kept with the decision and in the audit log.
    #[arg(long)]
    pub comment: Option<String>,
}

/// `println!` that ends the process quietly when stdout is closed (for
/// example `gantry runs | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

// After `say!`, which they use.
mod bundles;
mod promotion_args;
mod promotion_render;
mod promotions;

pub use bundles::{ExportArgs, ImportArgs, export, import};
pub use promotion_args::{
    CheckArgs, DeploymentsArgs, PromoteArgs, PromotionCommand, PromotionDecideArgs,
    PromotionIdArgs, PromotionsArgs, RollbackArgs,
};
pub use promotions::{deployments, promote, promotion, promotions, rollback};

pub async fn apply(args: ApplyArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let mut failed = false;
    for path in &args.files {
        let files = match super::spec_files::spec_files(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gantry: {e}");
                failed = true;
                continue;
            }
        };
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("gantry: cannot read {}: {e}", file.display());
                    failed = true;
                    continue;
                }
            };
            let req = client
                .http
                .post(format!("{}/api/v1/workflows", client.base))
                .header("content-type", "application/yaml")
                .body(text);
            match client.send(req).await {
                Ok((_, body)) => say!(
                    "{}: {}",
                    file.display(),
                    body["message"].as_str().unwrap_or("applied")
                ),
                Err(e) => {
                    eprintln!("gantry: {}: {}", file.display(), e.0);
                    failed = true;
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub async fn run(args: RunArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let mut inputs = BTreeMap::new();
    for pair in &args.inputs {
        let Some((k, v)) = pair.split_once('=') else {
            eprintln!("gantry: --input {pair:?} must look like NAME=VALUE");
            return ExitCode::from(2);
        };
        inputs.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let req = client
        .http
        .post(format!(
            "{}/api/v1/workflows/{}/runs",
            client.base,
            urlencode(&args.workflow)
        ))
        .json(&json!({
            "environment": args.environment,
            "inputs": inputs,
            "trigger": "manual",
            "reason": args.reason,
        }));
    let run: RunSummary = match client.send(req).await {
        // 202: the environment requires a second person's approval.
        Ok((202, body)) => {
            return match serde_json::from_value::<ApprovalRequest>(body) {
                Ok(a) => {
                    say!(
                        "{} in {} requires approval: request {} awaits another person's decision",
                        a.workflow,
                        a.environment,
                        a.id
                    );
                    say!("{}/approvals", client.base);
                    // Not started: a script waiting for the run must not
                    // take this for success.
                    ExitCode::from(3)
                }
                Err(e) => fail(Failure(format!("unexpected answer from Gantry: {e}"))),
            };
        }
        Ok((_, body)) => match serde_json::from_value(body) {
            Ok(r) => r,
            Err(e) => return fail(Failure(format!("unexpected answer from Gantry: {e}"))),
        },
        Err(e) => return fail(e),
    };
    say!(
        "run {} of {} v{} in {}: {}",
        run.id,
        run.workflow,
        run.version,
        run.environment,
        run.status
    );
    say!("{}/runs/{}", client.base, run.id);
    if !args.wait {
        return ExitCode::SUCCESS;
    }
    loop {
        let detail: RunDetail = match client.get(&format!("/api/v1/runs/{}", run.id)).await {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        if detail.summary.status.is_terminal() {
            for step in &detail.steps {
                say!("  {:<24} {}", step.id, step.status);
            }
            say!("run {}: {}", run.id, detail.summary.status);
            return if detail.summary.status == gantry_core::run::RunStatus::Succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn runs(args: RunsArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(w) = &args.workflow {
        query.append_pair("workflow", w);
    }
    if let Some(e) = &args.environment {
        query.append_pair("environment", e);
    }
    if let Some(s) = &args.status {
        query.append_pair("status", s);
    }
    query.append_pair("limit", &args.limit.to_string());
    let page: RunPage = match client
        .get(&format!("/api/v1/runs?{}", query.finish()))
        .await
    {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    say!(
        "{:<36}  {:<24} {:<6} {:<10} {:<20}",
        "RUN",
        "WORKFLOW",
        "ENV",
        "STATUS",
        "CREATED"
    );
    for r in page.runs {
        say!(
            "{:<36}  {:<24} {:<6} {:<10} {}",
            r.id,
            format!("{} v{}", r.workflow, r.version),
            r.environment,
            r.status,
            r.created_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
    ExitCode::SUCCESS
}

pub async fn logs(args: LogsArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let detail: RunDetail = match client
        .get(&format!("/api/v1/runs/{}", urlencode(&args.run)))
        .await
    {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    for step in detail
        .steps
        .iter()
        .filter(|s| args.step.as_ref().is_none_or(|w| *w == s.id))
    {
        say!("== {} ({})", step.id, step.status);
        let mut after: Option<i64> = None;
        loop {
            let mut path = format!(
                "/api/v1/runs/{}/logs?step={}",
                urlencode(&args.run),
                urlencode(&step.id)
            );
            if let Some(a) = after {
                path.push_str(&format!("&after={a}"));
            }
            let page: LogPage = match client.get(&path).await {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            if page.lines.is_empty() {
                break;
            }
            for l in &page.lines {
                say!(
                    "[{} #{} {}] {}",
                    l.at.format("%H:%M:%S%.3f"),
                    l.attempt,
                    l.stream.as_str(),
                    l.text
                );
            }
            after = page.last_seq;
        }
    }
    ExitCode::SUCCESS
}

pub async fn cancel(args: CancelArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let req = client.http.post(format!(
        "{}/api/v1/runs/{}/cancel",
        client.base,
        urlencode(&args.run)
    ));
    match client.send(req).await {
        Ok((_, body)) => {
            say!(
                "run {}: {}{}",
                args.run,
                body["status"].as_str().unwrap_or("?"),
                if body["cancel_requested"].as_bool() == Some(true) {
                    " (cancel requested)"
                } else {
                    ""
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub async fn secrets(command: SecretsCommand) -> ExitCode {
    let SecretsCommand::Invalidate(args) = command;
    let client = Client::new(&args.conn);
    let body = serde_json::json!({ "reference": args.reference, "provider": args.provider });
    let req = client
        .http
        .post(format!("{}/api/v1/secrets/invalidate", client.base))
        .json(&body);
    match client.send(req).await {
        Ok((_, answer)) => {
            if answer["cached"] == false {
                say!("nothing to drop: this provider has no cache (every attempt fetches afresh)");
            } else {
                say!("dropped {} cached value(s)", answer["removed"]);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub async fn approvals(args: ApprovalsArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let path = if args.pending {
        "/api/v1/approvals?pending=true"
    } else {
        "/api/v1/approvals"
    };
    let list: Vec<ApprovalRequest> = match client.get(path).await {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let now = SystemClock.now();
    for a in list {
        say!(
            "{}  {:<9} {} v{} in {}, asked by {} {}{}",
            a.id,
            a.status_at(now).as_str(),
            a.workflow,
            a.version,
            a.environment,
            a.requested_by.name,
            a.created_at.format("%Y-%m-%d %H:%M UTC"),
            a.reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
    }
    ExitCode::SUCCESS
}

/// `gantry approve` and `gantry reject`.
pub async fn decide(args: DecideArgs, approve: bool) -> ExitCode {
    let client = Client::new(&args.conn);
    let verb = if approve { "approve" } else { "reject" };
    let req = client
        .http
        .post(format!(
            "{}/api/v1/approvals/{}/{verb}",
            client.base,
            urlencode(&args.request)
        ))
        .json(&json!({ "comment": args.comment }));
    match client.send(req).await {
        Ok((_, body)) => {
            say!(
                "request {}: {}",
                args.request,
                body["request"]["status"].as_str().unwrap_or("?")
            );
            if let Some(run) = body["run"]["id"].as_str() {
                say!(
                    "run {run} started as {}",
                    body["run"]["triggered_by"].as_str().unwrap_or("?")
                );
                say!("{}/runs/{run}", client.base);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub async fn schedule(args: ScheduleArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let req = client
        .http
        .put(format!(
            "{}/api/v1/workflows/{}/schedule",
            client.base,
            urlencode(&args.workflow)
        ))
        .json(&json!({ "environment": args.environment, "enabled": args.state == "on" }));
    match client.send(req).await {
        Ok((_, body)) => {
            match body["next_fire_at"].as_str() {
                Some(next) => say!(
                    "{} in {}: schedule on, next run at {next}",
                    args.workflow,
                    args.environment
                ),
                None => say!("{} in {}: schedule off", args.workflow, args.environment),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
