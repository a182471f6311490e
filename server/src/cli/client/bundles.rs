//! `gantry export` and `gantry import`: moving versions between
//! installations as signed bundles (docs/bundles.md).
//!
//! Export reads the versions' source text and the ledger through the REST
//! API and signs locally with the private key file; the key never leaves
//! the machine. Import checks the bundle here first with the same code the
//! server runs (offline, with the same messages), then uploads it.
//!
//! Exit codes: 0 done; 1 refused or failed (the reason on standard error);
//! 2 a bad command line (an unreadable key or file).

use super::Connection;
use super::api_client::{Client, Failure, fail, urlencode};
use crate::audit::keys::{load_signing_key, load_verifying_key};
use crate::runtime::clock::{Clock, SystemClock};
use clap::Args;
use gantry_core::bundle::{BundlePayload, BundledVersion, ImportOutcome, MAX_BUNDLE_BYTES};
use gantry_core::promotion::ledger::Deployment;
use gantry_core::workflow::WorkflowDetail;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The workflow whose versions are exported.
    #[arg(long)]
    pub workflow: String,
    /// Only the version active in this environment (with the ledger rows that brought it
    /// there); without it, every version.
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Ed25519 private key that signs the bundle: PEM from `gantry audit keygen` (or `openssl
    /// genpkey -algorithm ed25519`), or a 32-byte seed in hex or base64.
    #[arg(long, value_name = "FILE")]
    pub signing_key: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The bundle file `gantry export` wrote.
    pub file: PathBuf,
    /// The exporter's Ed25519 public key (PEM, or 32 bytes in hex or base64; a file or inline),
    /// checked here before uploading. The server checks again against its own
    /// --bundle-trusted-key.
    #[arg(long, value_name = "KEY")]
    pub public_key: String,
}

fn parse<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, Failure> {
    serde_json::from_value(body).map_err(|e| Failure(format!("unexpected answer from Gantry: {e}")))
}

pub async fn export(args: ExportArgs) -> ExitCode {
    let key = match load_signing_key(&args.signing_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("gantry: --signing-key: {e}");
            return ExitCode::from(2);
        }
    };
    let client = Client::new(&args.conn);
    let payload = match payload(&client, &args).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let text =
        crate::bundle::sign(payload, &key).and_then(|bundle| serde_json::to_string_pretty(&bundle));
    match text {
        Ok(text) if text.len() > MAX_BUNDLE_BYTES => fail(Failure(format!(
            "the bundle would be {} bytes; the limit is {MAX_BUNDLE_BYTES}: export one \
             environment's version at a time with --env",
            text.len()
        ))),
        Ok(text) => {
            say!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(Failure(format!("cannot write the bundle: {e}"))),
    }
}

async fn payload(client: &Client, args: &ExportArgs) -> Result<BundlePayload, Failure> {
    let name = urlencode(&args.workflow);
    let detail: WorkflowDetail = client.get(&format!("/api/v1/workflows/{name}")).await?;
    let mut numbers: Vec<u32> = match &args.environment {
        Some(env) => {
            let active = detail
                .summary
                .active
                .iter()
                .find(|a| &a.environment == env)
                .ok_or_else(|| {
                    Failure(format!(
                        "{} has no active version in {env} (active: {})",
                        args.workflow,
                        describe_active(&detail)
                    ))
                })?;
            vec![active.version]
        }
        None => detail.versions.iter().map(|v| v.version).collect(),
    };
    numbers.sort_unstable();
    let mut versions = Vec::with_capacity(numbers.len());
    for n in &numbers {
        let one: WorkflowDetail = client
            .get(&format!("/api/v1/workflows/{name}?version={n}"))
            .await?;
        versions.push(BundledVersion {
            version: one.shown.version,
            content_hash: one.shown.content_hash,
            source: one.source,
            created_at: one.shown.created_at,
            created_by: one.shown.created_by,
        });
    }
    let (_, body) = client
        .send(
            client
                .http
                .get(format!("{}/api/v1/deployments", client.base))
                .query(&[("workflow", args.workflow.as_str())]),
        )
        .await?;
    let mut ledger: Vec<Deployment> = parse(body)?;
    // Newest first from the API; the bundle keeps the order they happened.
    ledger.reverse();
    ledger.retain(|row| numbers.contains(&row.to_version));
    Ok(BundlePayload {
        workflow: args.workflow.clone(),
        environment: args.environment.clone(),
        exported_from: client.base.clone(),
        exported_at: SystemClock.now(),
        versions,
        ledger,
    })
}

fn describe_active(detail: &WorkflowDetail) -> String {
    if detail.summary.active.is_empty() {
        return "none".to_owned();
    }
    detail
        .summary
        .active
        .iter()
        .map(|a| format!("v{} in {}", a.version, a.environment))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn import(args: ImportArgs) -> ExitCode {
    let key = match load_verifying_key(&args.public_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("gantry: --public-key: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read(&args.file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return fail(Failure(format!(
                    "{}: the bundle must be UTF-8 JSON text",
                    args.file.display()
                )));
            }
        },
        Err(e) => {
            eprintln!("gantry: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    // Offline first: a damaged or forged file fails here, before any upload.
    if let Err(refusal) = crate::bundle::verify(&text, &[key], "--public-key") {
        return fail(Failure(format!("{}: {refusal}", args.file.display())));
    }
    let client = Client::new(&args.conn);
    let req = client
        .http
        .post(format!("{}/api/v1/bundles", client.base))
        .header("content-type", "application/json")
        .body(text);
    let outcome: ImportOutcome = match client.send(req).await.and_then(|(_, b)| parse(b)) {
        Ok(o) => o,
        Err(e) => return fail(Failure(format!("{}: {}", args.file.display(), e.0))),
    };
    for line in outcome.describe() {
        say!("{line}");
    }
    ExitCode::SUCCESS
}
