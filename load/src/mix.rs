//! The workload: simulated users, each on a kept-alive connection of its
//! own to one serve (round the list), picking its next action at random by
//! the weights in [`MIX`], either as soon as the last was answered (load)
//! or on a fixed beat (soak).

use crate::Common;
use crate::check::{self, Checks, Started};
use crate::cluster::{Cluster, Topology};
use crate::record::{Class, Record};
use crate::setup::{Fixture, GUARDED, LONG};
use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// What a user does next, and how often (out of the total): mostly reading,
/// as on-call engineers and CI systems do, with a steady stream of
/// triggers and the occasional approval and cancel.
#[derive(Debug, Clone, Copy)]
enum Action {
    RunsPage,
    RunPage,
    ApiRunsList,
    ApiRun,
    ApiWorkflows,
    Trigger,
    /// Ask for a guarded run (202), then approve it as a second person.
    Approval,
    /// Trigger a long run, then cancel it.
    Cancel,
    ScimLookup,
}

const MIX: [(Action, u32); 9] = [
    (Action::RunsPage, 12),
    (Action::RunPage, 10),
    (Action::ApiRunsList, 25),
    (Action::ApiRun, 18),
    (Action::ApiWorkflows, 5),
    (Action::Trigger, 12),
    (Action::Approval, 3),
    (Action::Cancel, 3),
    (Action::ScimLookup, 12),
];

/// What a load or soak run sent and what the checks afterwards found.
pub struct Driven {
    pub record: Record,
    pub started: Vec<Started>,
    pub seconds: f64,
}

/// A load run on one topology: the figures and the checks.
pub struct LoadOutcome {
    pub topology: Topology,
    pub clients: usize,
    pub driven: Driven,
    pub checks: Checks,
}

impl LoadOutcome {
    /// What failed: errors, or a check.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.checks.problems();
        let errors = self.driven.record.errors();
        if errors > 0 {
            problems.insert(0, format!("{errors} requests failed"));
        }
        problems
    }
}

/// `make load` on `topology`: start it, prepare, send as fast as answers
/// come back for `duration`, check, stop.
pub async fn load(topology: &Topology, common: &Common, duration: Duration) -> Result<LoadOutcome> {
    let dir = common.out.join(topology.slug());
    eprintln!("load: starting {} in {}", topology.label(), dir.display());
    let cluster = Cluster::start(topology, &common.gantry, &dir).await?;
    let outcome = async {
        let fixture = Arc::new(Fixture::make(&cluster).await?);
        eprintln!("load: {} clients for {duration:?}", common.clients);
        let driven = drive(
            &cluster,
            &fixture,
            common.clients,
            common.seed,
            duration,
            None,
        )
        .await?;
        eprintln!(
            "load: {} requests; checking the runs and the audit chain",
            driven.record.requests()
        );
        let checks = check::check(&cluster, &fixture, &driven.started).await?;
        anyhow::Ok(LoadOutcome {
            topology: topology.clone(),
            clients: common.clients,
            driven,
            checks,
        })
    }
    .await;
    let stopped = cluster.stop().await;
    let outcome = outcome?;
    stopped?;
    Ok(outcome)
}

/// `clients` users against `cluster` for `duration`; each acts as soon as
/// its last action was answered, or every `beat` when given.
pub async fn drive(
    cluster: &Cluster,
    fixture: &Arc<Fixture>,
    clients: usize,
    seed: u64,
    duration: Duration,
    beat: Option<Duration>,
) -> Result<Driven> {
    let urls = cluster.urls();
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let serve = i % urls.len();
        let mut user = User {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: urls[serve].clone(),
            cookie: fixture.cookies[serve].clone(),
            fixture: fixture.clone(),
            rng: StdRng::seed_from_u64(seed.wrapping_add(i as u64)),
            record: Record::default(),
            started: Vec::new(),
        };
        let start = start.clone();
        tasks.spawn(async move {
            start.wait().await;
            let deadline = Instant::now() + duration;
            let mut ticks = beat.map(|b| {
                // Spread the users over the beat so the rate is even.
                let offset = b.mul_f64(i as f64 / clients as f64);
                let mut t = tokio::time::interval_at(tokio::time::Instant::now() + offset, b);
                t.set_missed_tick_behavior(MissedTickBehavior::Delay);
                t
            });
            while Instant::now() < deadline {
                if let Some(t) = ticks.as_mut() {
                    t.tick().await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                user.act().await?;
            }
            anyhow::Ok((user.record, user.started))
        });
    }
    start.wait().await;
    let began = Instant::now();
    let mut record = Record::default();
    let mut started = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (r, s) = done??;
        record.merge(r)?;
        started.extend(s);
    }
    Ok(Driven {
        record,
        started,
        seconds: began.elapsed().as_secs_f64(),
    })
}

/// One simulated user.
struct User {
    http: reqwest::Client,
    base: String,
    cookie: String,
    fixture: Arc<Fixture>,
    rng: StdRng,
    record: Record,
    started: Vec<Started>,
}

impl User {
    fn pick(&mut self) -> Action {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.random_range(0..total);
        for (action, weight) in MIX {
            if roll < weight {
                return action;
            }
            roll -= weight;
        }
        MIX[0].0
    }

    fn any<'a>(&mut self, of: &'a [String]) -> &'a str {
        &of[self.rng.random_range(0..of.len())]
    }

    async fn act(&mut self) -> Result<()> {
        let fx = self.fixture.clone();
        let api = format!("{}/api/v1", self.base);
        match self.pick() {
            Action::RunsPage => {
                let req = self.page("/runs");
                self.send(Class::RunsPage, req, StatusCode::OK).await?;
            }
            Action::RunPage => {
                let id = self.any(&fx.history).to_owned();
                let req = self.page(&format!("/runs/{id}"));
                self.send(Class::RunPage, req, StatusCode::OK).await?;
            }
            Action::ApiRunsList => {
                let req = self.http.get(format!("{api}/runs")).bearer_auth(&fx.viewer);
                self.send(Class::ApiRunsList, req, StatusCode::OK).await?;
            }
            Action::ApiRun => {
                let id = self.any(&fx.history).to_owned();
                let req = self
                    .http
                    .get(format!("{api}/runs/{id}"))
                    .bearer_auth(&fx.viewer);
                self.send(Class::ApiRun, req, StatusCode::OK).await?;
            }
            Action::ApiWorkflows => {
                let req = self
                    .http
                    .get(format!("{api}/workflows"))
                    .bearer_auth(&fx.viewer);
                self.send(Class::ApiWorkflows, req, StatusCode::OK).await?;
            }
            Action::Trigger => {
                let workflow = self.any(&fx.short_workflows).to_owned();
                let req = self
                    .http
                    .post(format!("{api}/workflows/{workflow}/runs"))
                    .bearer_auth(&fx.operator)
                    .json(&json!({"environment": "dev"}));
                if let Some(run) = self.send(Class::Trigger, req, StatusCode::CREATED).await? {
                    self.started(Class::Trigger, &run["id"], check::Expect::Succeeded)?;
                }
            }
            Action::Approval => {
                let req = self
                    .http
                    .post(format!("{api}/workflows/{GUARDED}/runs"))
                    .bearer_auth(&fx.requester)
                    .json(&json!({"environment": "dev", "reason": "load test"}));
                let Some(request) = self
                    .send(Class::AskApproval, req, StatusCode::ACCEPTED)
                    .await?
                else {
                    return Ok(());
                };
                let Some(id) = request["id"].as_str() else {
                    return self
                        .record
                        .error(Class::AskApproval, format!("no request id in {request}"));
                };
                let req = self
                    .http
                    .post(format!("{api}/approvals/{id}/approve"))
                    .bearer_auth(&fx.approver)
                    .json(&json!({"comment": "looks right"}));
                if let Some(decided) = self.send(Class::Approve, req, StatusCode::OK).await? {
                    self.started(
                        Class::Approve,
                        &decided["run"]["id"],
                        check::Expect::Succeeded,
                    )?;
                }
            }
            Action::Cancel => {
                let req = self
                    .http
                    .post(format!("{api}/workflows/{LONG}/runs"))
                    .bearer_auth(&fx.operator)
                    .json(&json!({"environment": "dev"}));
                let Some(run) = self
                    .send(Class::TriggerToCancel, req, StatusCode::CREATED)
                    .await?
                else {
                    return Ok(());
                };
                self.started(Class::TriggerToCancel, &run["id"], check::Expect::Cancelled)?;
                let Some(id) = run["id"].as_str() else {
                    return Ok(());
                };
                let req = self
                    .http
                    .post(format!("{api}/runs/{id}/cancel"))
                    .bearer_auth(&fx.operator);
                self.send(Class::Cancel, req, StatusCode::OK).await?;
            }
            Action::ScimLookup => {
                let person = self.any(&fx.people).to_owned();
                let req = self
                    .http
                    .get(format!("{}/scim/v2/Users", self.base))
                    .query(&[("filter", format!("userName eq \"{person}\""))])
                    .bearer_auth(&fx.scim);
                self.send(Class::ScimLookup, req, StatusCode::OK).await?;
            }
        }
        Ok(())
    }

    fn page(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
    }

    /// Notes a run this user started and what it should end as.
    fn started(&mut self, class: Class, id: &Value, expect: check::Expect) -> Result<()> {
        match id.as_str() {
            Some(id) => {
                self.started.push(Started {
                    id: id.to_owned(),
                    expect,
                });
                Ok(())
            }
            None => self
                .record
                .error(class, "an answer without a run id".to_owned()),
        }
    }

    /// Sends `req` and records it under `class`: the parsed answer when it
    /// had the `expected` status, `None` when it was refused (429 with
    /// `Retry-After`) or failed. Only a broken recorder is an `Err`.
    async fn send(
        &mut self,
        class: Class,
        req: RequestBuilder,
        expected: StatusCode,
    ) -> Result<Option<Value>> {
        let began = Instant::now();
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                self.record.error(class, format!("no answer: {e}"))?;
                return Ok(None);
            }
        };
        let status = resp.status();
        let retry_after = resp.headers().contains_key(reqwest::header::RETRY_AFTER);
        let json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        let body = match resp.bytes().await {
            Ok(body) => body,
            Err(e) => {
                self.record.error(class, format!("a broken answer: {e}"))?;
                return Ok(None);
            }
        };
        let took = began.elapsed();
        if status == StatusCode::TOO_MANY_REQUESTS && retry_after {
            self.record.refused(class)?;
            return Ok(None);
        }
        if status != expected {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            self.record.error(class, format!("{status}: {text}"))?;
            return Ok(None);
        }
        if !json {
            self.record.answered(class, took)?;
            return Ok(Some(Value::Null));
        }
        match serde_json::from_slice(&body) {
            Ok(value) => {
                self.record.answered(class, took)?;
                Ok(Some(value))
            }
            Err(e) => {
                self.record
                    .error(class, format!("JSON that doesn't parse: {e}"))?;
                Ok(None)
            }
        }
    }
}
