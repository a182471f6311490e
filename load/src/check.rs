//! After the load: did every run it started end as it should, once, and
//! does the audit chain still verify? Read through the REST API and
//! `gantry audit verify`, as an operator would check.

use crate::cluster::Cluster;
use crate::setup::Fixture;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long the runs may take to finish after the load stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Succeeded,
    /// Cancelled while it waited or slept.
    Cancelled,
}

impl Expect {
    fn status(self) -> &'static str {
        match self {
            Expect::Succeeded => "succeeded",
            Expect::Cancelled => "cancelled",
        }
    }
}

/// A run the load started (a trigger's 201, an approval's run).
#[derive(Debug, Clone)]
pub struct Started {
    pub id: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Runs the load started, and the history's before it.
    pub started: usize,
    pub history: usize,
    /// Of them, ended as expected (succeeded, or cancelled).
    pub as_expected: usize,
    /// `id: status, expected …`, the first few.
    pub unexpected: Vec<String>,
    pub unexpected_count: usize,
    /// Steps with more than one successful attempt.
    pub steps_twice: usize,
    /// Steps that needed more than one attempt (none should, unkilled).
    pub steps_retried: usize,
    /// Runs in the database, and of them ones nobody was told about
    /// (a trigger that made two) and ones told about but absent.
    pub runs_in_database: usize,
    pub unknown_runs: usize,
    pub missing_runs: usize,
    /// Seconds from the end of the load until the last run finished.
    pub drain_seconds: f64,
    /// `gantry audit verify`'s verdict line, and whether it passed.
    pub audit: String,
    pub audit_verified: bool,
}

impl Checks {
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.unexpected_count > 0 {
            p.push(format!(
                "{} runs did not end as expected: {}",
                self.unexpected_count,
                self.unexpected.join("; ")
            ));
        }
        if self.steps_twice > 0 {
            p.push(format!("{} steps succeeded twice", self.steps_twice));
        }
        if self.unknown_runs > 0 || self.missing_runs > 0 {
            p.push(format!(
                "the database holds {} runs nobody was told about and lacks {} that were",
                self.unknown_runs, self.missing_runs
            ));
        }
        if !self.audit_verified {
            p.push(format!("the audit chain does not verify: {}", self.audit));
        }
        p
    }
}

pub async fn check(cluster: &Cluster, fixture: &Fixture, started: &[Started]) -> Result<Checks> {
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1", cluster.urls().first().context("no serve")?);
    let token = &fixture.viewer;
    let mut expected: Vec<Started> = fixture
        .history
        .iter()
        .map(|id| Started {
            id: id.clone(),
            expect: Expect::Succeeded,
        })
        .collect();
    expected.extend_from_slice(started);

    // Wait for every run to finish, polling only those still open: the
    // engine runs in other processes.
    let drained = Instant::now();
    let mut open: Vec<&Started> = expected.iter().collect();
    let mut finished: Vec<(&Started, Value)> = Vec::with_capacity(expected.len());
    while !open.is_empty() {
        let mut still = Vec::new();
        for run in open {
            let view = get(&http, &format!("{base}/runs/{}", run.id), token).await?;
            if matches!(view["status"].as_str(), Some("queued" | "running")) {
                still.push(run);
            } else {
                finished.push((run, view));
            }
        }
        open = still;
        if !open.is_empty() {
            if drained.elapsed() > DRAIN_LIMIT {
                bail!(
                    "{} runs still open {DRAIN_LIMIT:?} after the load",
                    open.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let mut checks = Checks {
        started: started.len(),
        history: fixture.history.len(),
        drain_seconds: drained.elapsed().as_secs_f64(),
        ..Checks::default()
    };
    for (run, view) in &finished {
        let status = view["status"].as_str().unwrap_or("?");
        if status == run.expect.status() {
            checks.as_expected += 1;
        } else {
            checks.unexpected_count += 1;
            if checks.unexpected.len() < 5 {
                checks.unexpected.push(format!(
                    "{}: {status}, expected {}",
                    run.id,
                    run.expect.status()
                ));
            }
        }
        for step in view["steps"].as_array().into_iter().flatten() {
            let attempts = step["attempts"].as_array().map_or(&[][..], Vec::as_slice);
            let succeeded = attempts
                .iter()
                .filter(|a| a["status"] == "succeeded")
                .count();
            if succeeded > 1 {
                checks.steps_twice += 1;
            }
            if attempts.len() > 1 {
                checks.steps_retried += 1;
            }
        }
    }

    // Every run in the database is one somebody was told about, and the
    // other way round: no trigger made two, none was lost.
    let in_database = all_runs(&http, &base, token).await?;
    let told: HashSet<&str> = expected.iter().map(|r| r.id.as_str()).collect();
    checks.runs_in_database = in_database.len();
    checks.unknown_runs = in_database
        .iter()
        .filter(|id| !told.contains(id.as_str()))
        .count();
    checks.missing_runs = told.iter().filter(|id| !in_database.contains(**id)).count();

    let verify = tokio::process::Command::new(cluster.gantry())
        .args(["audit", "verify", "--database-url", &cluster.database_url])
        .output()
        .await?;
    let said = String::from_utf8_lossy(if verify.status.success() {
        &verify.stdout
    } else {
        &verify.stderr
    });
    checks.audit = said
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("(nothing printed)")
        .trim()
        .to_owned();
    checks.audit_verified = verify.status.success();
    Ok(checks)
}

/// Every run id the runs list holds, a page at a time.
async fn all_runs(http: &reqwest::Client, base: &str, token: &str) -> Result<HashSet<String>> {
    let mut ids = HashSet::new();
    let mut before = String::new();
    loop {
        let page = get(
            http,
            &format!("{base}/runs?limit=200&before={before}"),
            token,
        )
        .await?;
        for run in page["runs"].as_array().into_iter().flatten() {
            if let Some(id) = run["id"].as_str() {
                ids.insert(id.to_owned());
            }
        }
        match page["next_before"].as_str() {
            Some(next) if !next.is_empty() => before = next.to_owned(),
            _ => return Ok(ids),
        }
    }
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Result<Value> {
    let resp = http.get(url).bearer_auth(token).send().await?;
    let status = resp.status();
    if !status.is_success() {
        bail!("GET {url} answered {status}: {}", resp.text().await?);
    }
    Ok(resp.json().await?)
}
