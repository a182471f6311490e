//! `gantry promote`, `promotions`, `promotion show|approve|reject|cancel|
//! check`, `rollback` and `deployments`: callers of the promotion REST API
//! (docs/promotions.md).
//!
//! Exit codes, as `gantry run` has them: 0 done (promoted, rolled back,
//! decided, listed); 1 refused or failed (the server's message on standard
//! error), or with `--wait` a request that ended other than promoted; 2 a
//! bad command line; 3 not promoted yet: the request waits for approvals or
//! checklist items (a script must not take that for success).

use super::api_client::{Client, Failure, fail, urlencode};
use super::promotion_args::{
    CheckArgs, DeploymentsArgs, PromoteArgs, PromotionCommand, PromotionDecideArgs, PromotionsArgs,
    RollbackArgs,
};
use super::promotion_render as render;
use crate::runtime::clock::{Clock, SystemClock};
use gantry_core::promotion::PromotionState;
use gantry_core::promotion::ledger::Deployment;
use gantry_core::promotion::request::PromotionRequest;
use gantry_core::promotion::view::{PromotionDetail, PromotionOutcome, RollbackOutcome};
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How often `--wait` looks at the request: promotions move at the pace of
/// people and soak times, so a few seconds late costs nothing.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Not promoted (yet): pending, or still pending when `--wait` gave up.
const NOT_YET: u8 = 3;

fn print(lines: Vec<String>) {
    for line in lines {
        say!("{line}");
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, Failure> {
    serde_json::from_value(body).map_err(|e| Failure(format!("unexpected answer from Gantry: {e}")))
}

/// The server's 409 for a rolled-back version names the API field; say
/// which flag that is here.
fn with_cli_hint(f: Failure) -> Failure {
    if f.0.contains("confirm_rolled_back") {
        Failure(format!("{} (here: --confirm-rolled-back)", f.0))
    } else {
        f
    }
}

pub async fn promote(args: PromoteArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let req = client
        .http
        .post(format!(
            "{}/api/v1/workflows/{}/promotions",
            client.base,
            urlencode(&args.workflow)
        ))
        .json(&args.ask());
    let outcome: PromotionOutcome = match client.send(req).await.and_then(|(_, b)| parse(b)) {
        Ok(o) => o,
        Err(e) => return fail(with_cli_hint(e)),
    };
    match outcome {
        PromotionOutcome::Promoted { deployment } => {
            let what = if deployment.kind == gantry_core::promotion::DeploymentKind::Canary {
                "canary started"
            } else {
                "promoted"
            };
            say!("{what}: {}", render::deployment_line(&deployment));
            ExitCode::SUCCESS
        }
        PromotionOutcome::Pending { promotion } => {
            print(render::summary(&promotion, SystemClock.now()));
            say!("  details: gantry promotion show {}", promotion.request.id);
            if args.wait {
                wait(&client, *promotion, args.timeout).await
            } else {
                ExitCode::from(NOT_YET)
            }
        }
    }
}

/// Polls a pending request until it is promoted or decided, printing what
/// changes, bounded by `timeout`.
async fn wait(client: &Client, mut last: PromotionDetail, timeout: Duration) -> ExitCode {
    let deadline = Instant::now() + timeout;
    let path = format!("/api/v1/promotions/{}", urlencode(&last.request.id));
    loop {
        let state = last.request.state_at(SystemClock.now());
        if state.is_final() {
            print(render::summary(&last, SystemClock.now()));
            return if state == PromotionState::Promoted {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            };
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            say!(
                "promotion {}: still pending after {}; it keeps waiting (gantry promotion show {})",
                last.request.id,
                humantime::format_duration(timeout),
                last.request.id
            );
            return ExitCode::from(NOT_YET);
        }
        tokio::time::sleep(POLL_INTERVAL.min(left)).await;
        let next: PromotionDetail = match client.get(&path).await {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        print(render::progress(&last, &next));
        last = next;
    }
}

pub async fn promotions(args: PromotionsArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    match client.get::<Vec<PromotionRequest>>(&args.path()).await {
        Ok(list) => {
            print(render::request_table(&list, SystemClock.now()));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `gantry promotion …`.
pub async fn promotion(command: PromotionCommand) -> ExitCode {
    match command {
        PromotionCommand::Show(args) => {
            let client = Client::new(&args.conn);
            let path = format!("/api/v1/promotions/{}", urlencode(&args.id));
            match client.get::<PromotionDetail>(&path).await {
                Ok(d) => {
                    print(render::detail(&d, SystemClock.now()));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        PromotionCommand::Approve(args) => decide(args, "approve").await,
        PromotionCommand::Reject(args) => decide(args, "reject").await,
        PromotionCommand::Cancel(args) => decide(args, "cancel").await,
        PromotionCommand::Check(args) => check(args).await,
    }
}

async fn decide(args: PromotionDecideArgs, verb: &str) -> ExitCode {
    let client = Client::new(&args.conn);
    let req = client
        .http
        .post(format!(
            "{}/api/v1/promotions/{}/{verb}",
            client.base,
            urlencode(&args.id)
        ))
        .json(&json!({ "comment": args.comment }));
    answer_with_detail(&client, req).await
}

async fn check(args: CheckArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let req = client
        .http
        .post(format!(
            "{}/api/v1/promotions/{}/checklist/{}",
            client.base,
            urlencode(&args.id),
            urlencode(&args.item)
        ))
        .json(&args.mark());
    answer_with_detail(&client, req).await
}

/// Sends a change that answers with the request, and prints where it stands.
async fn answer_with_detail(client: &Client, req: reqwest::RequestBuilder) -> ExitCode {
    match client
        .send(req)
        .await
        .and_then(|(_, b)| parse::<PromotionDetail>(b))
    {
        Ok(d) => {
            print(render::summary(&d, SystemClock.now()));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub async fn rollback(args: RollbackArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    let req = client
        .http
        .post(format!(
            "{}/api/v1/workflows/{}/rollback",
            client.base,
            urlencode(&args.workflow)
        ))
        .json(&args.ask());
    match client
        .send(req)
        .await
        .and_then(|(_, b)| parse::<RollbackOutcome>(b))
    {
        Ok(outcome) => {
            print(render::rollback(&outcome, args.cancel_running));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub async fn deployments(args: DeploymentsArgs) -> ExitCode {
    let client = Client::new(&args.conn);
    match client.get::<Vec<Deployment>>(&args.path()).await {
        Ok(rows) => {
            print(render::deployment_table(&rows, args.at));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
