//! OpenTelemetry traces, received by a real OTLP/gRPC receiver in this
//! process (`fake-opentelemetry-collector`) from real `gantry serve` and
//! `gantry worker` processes configured only by the standard `OTEL_*`
//! variables. One trace runs from the caller's `traceparent` through the
//! API span, the run, its steps and their attempts, into the step's own
//! process (`TRACEPARENT`) and the HTTP step's callee (`traceparent`).

use crate::helpers::{Backend, TOKEN, fresh_postgres_database};
use crate::on_both_backends;
use fake_opentelemetry_collector::{ExportedSpan, FakeCollectorServer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

on_both_backends!(
    a_run_is_one_trace_from_the_api_call_into_the_steps_own_process,
    a_re_claimed_step_continues_the_trace_on_another_worker,
    traces_go_to_an_otlp_http_receiver_by_default,
    an_unreachable_collector_costs_runs_nothing_and_drops_are_counted,
    traces_pass_through_a_real_collector_over_otlp_http
);

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

pub struct Serve {
    _child: Child,
    pub addr: SocketAddr,
    client: reqwest::Client,
    /// Its log lines (stdout), as printed.
    printed: Arc<Mutex<Vec<String>>>,
}

/// A real `gantry serve` with `env` set; returns once it listens.
pub async fn serve(db_url: &str, dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Serve {
    std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
        .args(["--bootstrap-token", TOKEN, "--log", "warn"])
        .arg("--site-root")
        .arg(dir.join("site"))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .args(extra)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start gantry serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Gantry is listening on http://") {
                return rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        }
        panic!("gantry serve exited before listening");
    })
    .await
    .expect("gantry serve listens within 30 s");
    let printed = Arc::new(Mutex::new(Vec::new()));
    let keep = printed.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            keep.lock().unwrap().push(line);
        }
    });
    Serve {
        _child: child,
        addr,
        client: reqwest::Client::new(),
        printed,
    }
}

impl Serve {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn apply(&self, yaml: &str) {
        let resp = self
            .client
            .post(self.url("/api/v1/workflows"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/yaml")
            .body(yaml.to_owned())
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "apply: {}",
            resp.text().await.unwrap()
        );
    }

    /// Starts a run as a caller already inside a trace.
    pub async fn trigger_traced(&self, workflow: &str) -> String {
        let resp = self
            .client
            .post(self.url(&format!("/api/v1/workflows/{workflow}/runs")))
            .bearer_auth(TOKEN)
            .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
            .json(&json!({ "environment": "dev" }))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(self.url(&format!("/api/v1{path}")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn finished(&self, run: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.get(&format!("/runs/{run}")).await;
            // (A 503 answer says "try again shortly": it has no status.)
            if r["status"].is_string()
                && !matches!(r["status"].as_str(), Some("queued" | "running"))
            {
                return r;
            }
            assert!(Instant::now() < deadline, "run never finished: {r:#}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Its JSON log lines so far.
    pub fn log_lines(&self) -> Vec<Value> {
        self.printed
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub async fn log_text(&self, run: &str) -> String {
        self.get(&format!("/runs/{run}/logs")).await.to_string()
    }
}

async fn database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("gantry.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    }
}

/// The variables an operator sets to send traces to a gRPC collector.
fn otel_env(collector: &FakeCollectorServer) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ("OTEL_SERVICE_NAME", "gantry-under-test".into()),
        // Export within 100 ms instead of 5 s: the test waits for spans.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
    ]
}

/// Collects the caller's trace's spans until `done` holds for them.
async fn spans_until(
    collector: &mut FakeCollectorServer,
    done: impl Fn(&[ExportedSpan]) -> bool,
) -> Vec<ExportedSpan> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut all = Vec::new();
    while !done(&all) {
        assert!(
            Instant::now() < deadline,
            "spans never arrived; got: {:#?}",
            all.iter()
                .map(|s: &ExportedSpan| &s.name)
                .collect::<Vec<_>>()
        );
        all.extend(
            collector
                .exported_spans(1, Duration::from_millis(500))
                .await
                .into_iter()
                .filter(|s| s.trace_id == CALLER_TRACE),
        );
    }
    all
}

fn named<'a>(spans: &'a [ExportedSpan], name: &str) -> Vec<&'a ExportedSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(spans: &'a [ExportedSpan], name: &str) -> &'a ExportedSpan {
    let found = named(spans, name);
    assert_eq!(
        found.len(),
        1,
        "one span {name:?} among {:#?}",
        names(spans)
    );
    found[0]
}

fn names(spans: &[ExportedSpan]) -> Vec<(String, String, String)> {
    spans
        .iter()
        .map(|s| (s.name.clone(), s.span_id.clone(), s.parent_span_id.clone()))
        .collect()
}

/// An attribute's value (the receiver keeps them in their debug form).
fn attr(span: &ExportedSpan, key: &str) -> String {
    let raw = span
        .attributes
        .get(key)
        .unwrap_or_else(|| panic!("{} has no {key}: {:?}", span.name, span.attributes));
    for (open, close) in [("StringValue(\"", "\")"), ("IntValue(", ")")] {
        if let Some(at) = raw.find(open) {
            let rest = &raw[at + open.len()..];
            return rest[..rest.find(close).unwrap()].to_owned();
        }
    }
    raw.clone()
}

/// `TRACEPARENT=…` as a step printed it.
fn printed_traceparent(logs: &str) -> String {
    let at = logs
        .find("TRACEPARENT=")
        .expect("the step printed TRACEPARENT")
        + 12;
    logs[at..at + 55].to_owned()
}

async fn a_run_is_one_trace_from_the_api_call_into_the_steps_own_process(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path()).await;
    let mut collector = FakeCollectorServer::start().await.unwrap();
    let env = otel_env(&collector);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gantry = serve(
        &db,
        dir.path(),
        &env,
        &[
            "--http-step-allow",
            "127.0.0.1@dev",
            "--log",
            "info",
            "--trace-link-template",
            "https://tempo.example/trace/{trace_id}",
        ],
    )
    .await;
    let health = gantry.url("/healthz");
    gantry
        .apply(&format!(
            r#"
name: traced
steps:
  - id: hello
    run: echo "TRACEPARENT=$TRACEPARENT"
  - id: call
    needs: [hello]
    http: {{ method: GET, url: "{health}", expect_status: [200] }}
  - id: flaky
    needs: [hello]
    retries: {{ max_attempts: 2, backoff: fixed, initial: 100ms }}
    run: exit 3
"#
        ))
        .await;
    let run = gantry.trigger_traced("traced").await;
    let finished = gantry.finished(&run).await;
    assert_eq!(finished["status"], "failed", "{finished:#}");

    // (Only spans of the caller's trace are collected: the test's own
    // polling makes traces of its own.)
    // Spans arrive in the order they end, from several export batches.
    let wanted = [
        "run traced",
        "step hello",
        "step call",
        "step flaky",
        "attempt 1 of hello",
        "attempt 1 of call",
        "attempt 1 of flaky",
        "attempt 2 of flaky",
        "queued (attempt 2)",
        "GET /healthz",
    ];
    let spans = spans_until(&mut collector, |s| {
        wanted.iter().all(|w| !named(s, w).is_empty())
    })
    .await;

    // API call → run → steps → attempts.
    let api = one(&spans, "POST /api/v1/workflows/{name}/runs");
    assert_eq!(
        api.parent_span_id, CALLER_SPAN,
        "the API span continues the caller's"
    );
    assert_eq!(api.kind, "SPAN_KIND_SERVER");
    let run_span = one(&spans, "run traced");
    assert_eq!(run_span.parent_span_id, api.span_id);
    assert_eq!(attr(run_span, "gantry.run_id"), run);
    assert_eq!(attr(run_span, "gantry.run.status"), "failed");
    let step = |id: &str| one(&spans, &format!("step {id}"));
    for id in ["hello", "call", "flaky"] {
        assert_eq!(
            step(id).parent_span_id,
            run_span.span_id,
            "step {id} under the run"
        );
    }
    assert_eq!(attr(step("flaky"), "gantry.step.attempts"), "2");
    let hello = one(&spans, "attempt 1 of hello");
    assert_eq!(hello.parent_span_id, step("hello").span_id);
    // Retries are sibling attempts under their step.
    let flaky: Vec<_> = ["attempt 1 of flaky", "attempt 2 of flaky"]
        .iter()
        .map(|n| one(&spans, n))
        .collect();
    for a in &flaky {
        assert_eq!(a.parent_span_id, step("flaky").span_id);
        assert_eq!(attr(a, "gantry.outcome"), "failed");
    }
    // The retry's wait in the queue, from claimable (after its backoff)
    // to claimed, is a span of its own that ends as the attempt starts.
    let queued = one(&spans, "queued (attempt 2)");
    assert_eq!(queued.parent_span_id, step("flaky").span_id);
    assert!(queued.start_time_unix_nano <= queued.end_time_unix_nano);
    assert!(queued.end_time_unix_nano <= flaky[1].start_time_unix_nano + 1_000_000);
    // A step handed to the worker that finished its predecessor, in the
    // same transaction (SQLite's hand-off: one of `call` and `flaky`),
    // waited for nothing and gets no "queued" span; every other claim does.
    let waited: Vec<&str> = named(&spans, "queued (attempt 1)")
        .iter()
        .map(|s| s.parent_span_id.as_str())
        .collect();
    let handed_off = usize::from(backend == Backend::Sqlite);
    assert_eq!(waited.len(), 3 - handed_off, "{:#?}", names(&spans));
    assert!(waited.contains(&step("hello").span_id.as_str()));

    // Into the step's own process: its TRACEPARENT names its attempt span.
    let logs = gantry.log_text(&run).await;
    assert_eq!(
        printed_traceparent(&logs),
        format!("00-{CALLER_TRACE}-{}-01", hello.span_id)
    );
    // And to the HTTP step's callee (here, Gantry's own /healthz).
    let call = one(&spans, "attempt 1 of call");
    let callee = one(&spans, "GET /healthz");
    assert_eq!(callee.parent_span_id, call.span_id);

    // The run names its trace, and links it where traces are shown.
    assert_eq!(finished["trace_id"], CALLER_TRACE);
    assert_eq!(
        finished["trace_url"],
        format!("https://tempo.example/trace/{CALLER_TRACE}")
    );

    // Log lines carry the ids that join them to the trace and the request.
    let lines = gantry.log_lines();
    let triggered = lines
        .iter()
        .find(|l| l["message"] == "run triggered")
        .unwrap_or_else(|| panic!("no 'run triggered' line in {lines:#?}"));
    assert_eq!(triggered["trace_id"], CALLER_TRACE, "{triggered}");
    assert_eq!(triggered["span_id"], api.span_id, "{triggered}");
    assert_eq!(triggered["user"], "bootstrap", "{triggered}");
    assert!(triggered["request_id"].is_string(), "{triggered}");
    for key in ["timestamp", "level", "target"] {
        assert!(triggered[key].is_string(), "{key} in {triggered}");
    }
    assert!(
        !gantry
            .printed
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(TOKEN)),
        "no log line holds the bootstrap token"
    );

    // The audit record of the trigger carries the trace id.
    let audit = gantry.get("/audit?action=run.trigger").await;
    assert!(
        audit.to_string().contains(CALLER_TRACE),
        "the trigger's audit record names the trace: {audit}"
    );
}

async fn a_re_claimed_step_continues_the_trace_on_another_worker(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path()).await;
    let mut collector = FakeCollectorServer::start().await.unwrap();
    let env = otel_env(&collector);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // No worker in the server: remote workers run the steps, and a lost
    // lease comes back after 2 s.
    let gantry = serve(&db, dir.path(), &env_ref, &["--worker-slots", "0"]).await;
    gantry
        .apply(
            r#"
name: crashy
steps:
  - id: slow
    run: echo "TRACEPARENT=$TRACEPARENT"; sleep 2
"#,
        )
        .await;
    let token: Value = gantry
        .client
        .post(gantry.url("/api/v1/tokens"))
        .bearer_auth(TOKEN)
        .json(&json!({ "name": "w", "worker": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["secret"].as_str().unwrap().to_owned();
    let worker = |name: &str| {
        let file = dir.path().join(format!("{name}.token"));
        std::fs::write(&file, &token).unwrap();
        Command::new(env!("CARGO_BIN_EXE_gantry"))
            .args(["worker", "--server", &gantry.url(""), "--log", "warn"])
            .args(["--worker-lease", "2s"])
            .arg("--token-file")
            .arg(&file)
            .arg("--work-dir")
            .arg(dir.path().join(name))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let mut first = worker("first");
    let run = gantry.trigger_traced("crashy").await;
    // The first worker dies (SIGKILL) once its attempt is running.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = gantry.get(&format!("/runs/{run}")).await;
        if r["steps"][0]["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "never started: {r:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let _second = worker("second");
    let finished = gantry.finished(&run).await;
    assert_eq!(finished["status"], "succeeded", "{finished:#}");

    let spans = spans_until(&mut collector, |s| {
        ["run crashy", "step slow", "attempt 2 of slow"]
            .iter()
            .all(|w| !named(s, w).is_empty())
    })
    .await;
    let by_name: BTreeMap<_, _> = spans.iter().map(|s| (s.name.as_str(), s)).collect();
    let step = by_name["step slow"];
    let run_span = by_name["run crashy"];
    assert_eq!(step.parent_span_id, run_span.span_id);
    // The first attempt died with its process; the second, on another
    // worker, is a child of the same step span in the same trace.
    let second = by_name["attempt 2 of slow"];
    assert_eq!(second.trace_id, CALLER_TRACE);
    assert_eq!(second.parent_span_id, step.span_id);
    assert_eq!(attr(second, "gantry.outcome"), "succeeded");
    let logs = gantry.log_text(&run).await;
    assert!(
        logs.contains(&format!(
            "TRACEPARENT=00-{CALLER_TRACE}-{}-01",
            second.span_id
        )),
        "the re-claimed attempt's process joined the trace: {logs}"
    );
}

/// An OTLP/HTTP receiver (`POST /v1/traces`, protobuf bodies), as a
/// collector's `otlphttp` receiver implements the protocol.
struct HttpReceiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<(String, opentelemetry_proto::tonic::trace::v1::Span)>>>,
}

impl HttpReceiver {
    async fn start() -> Self {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use prost::Message;
        let spans: Arc<Mutex<Vec<_>>> = Arc::default();
        let keep = spans.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let keep = keep.clone();
                    async move {
                        assert_eq!(headers["content-type"], "application/x-protobuf");
                        // gzip by its magic bytes (what rotel sends).
                        let body = if body.starts_with(&[0x1f, 0x8b]) {
                            let mut plain = Vec::new();
                            std::io::Read::read_to_end(
                                &mut flate2::read::GzDecoder::new(&body[..]),
                                &mut plain,
                            )
                            .expect("gzip body");
                            axum::body::Bytes::from(plain)
                        } else {
                            body
                        };
                        let request =
                            ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                        for resource in request.resource_spans {
                            let service = resource
                                .resource
                                .iter()
                                .flat_map(|r| r.attributes.iter())
                                .find(|kv| kv.key == "service.name")
                                .and_then(|kv| kv.value.as_ref())
                                .map(|v| format!("{:?}", v.value))
                                .unwrap_or_default();
                            for scope in resource.scope_spans {
                                for span in scope.spans {
                                    keep.lock().unwrap().push((service.clone(), span));
                                }
                            }
                        }
                        // An empty ExportTraceServiceResponse.
                        (
                            [("content-type", "application/x-protobuf")],
                            Vec::<u8>::new(),
                        )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, spans }
    }

    fn names_in(&self, trace: &str) -> Vec<String> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| hex::encode(&s.trace_id) == trace)
            .map(|(_, s)| s.name.clone())
            .collect()
    }
}

async fn traces_go_to_an_otlp_http_receiver_by_default(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path()).await;
    let receiver = HttpReceiver::start().await;
    let endpoint = format!("http://{}", receiver.addr);
    // No protocol named: OTLP's default, http/protobuf; no service name:
    // "gantry".
    let gantry = serve(
        &db,
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
        &[],
    )
    .await;
    gantry
        .apply("name: over-http\nsteps:\n  - id: only\n    run: echo hi\n")
        .await;
    let run = gantry.trigger_traced("over-http").await;
    assert_eq!(gantry.finished(&run).await["status"], "succeeded");
    let deadline = Instant::now() + Duration::from_secs(30);
    let wanted = ["run over-http", "step only", "attempt 1 of only"];
    while !wanted
        .iter()
        .all(|w| receiver.names_in(CALLER_TRACE).iter().any(|n| n == w))
    {
        assert!(
            Instant::now() < deadline,
            "spans never arrived over OTLP/HTTP: {:?}",
            receiver.names_in(CALLER_TRACE)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let services: Vec<String> = receiver
        .spans
        .lock()
        .unwrap()
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert!(
        services.iter().all(|s| s.contains("\"gantry\"")),
        "service.name defaults to gantry: {services:?}"
    );
}

async fn an_unreachable_collector_costs_runs_nothing_and_drops_are_counted(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path()).await;
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_addr = metrics.local_addr().unwrap().to_string();
    drop(metrics);
    // Nothing listens on port 1.
    let gantry = serve(
        &db,
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
        &["--metrics-bind", &metrics_addr],
    )
    .await;
    gantry
        .apply("name: no-collector\nsteps:\n  - id: only\n    run: echo hi\n")
        .await;
    let run = gantry.trigger_traced("no-collector").await;
    assert_eq!(gantry.finished(&run).await["status"], "succeeded");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let dropped = text
            .lines()
            .find_map(|l| l.strip_prefix("gantry_telemetry_dropped_total{signal=\"traces\"} "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if dropped > 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no dropped spans counted: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A port free a moment ago (rotel takes fixed addresses).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// rotel, a real OpenTelemetry collector (`make tools-rotel`), receiving
/// OTLP/HTTP from Gantry and exporting it on, over OTLP/HTTP (gzipped), to
/// `receiver`.
fn rotel(receiver: &HttpReceiver, http_port: u16) -> Child {
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/rotel-venv/bin/rotel-agent");
    assert!(
        agent.exists(),
        "{} is missing: run `make tools-rotel`",
        agent.display()
    );
    Command::new(agent)
        .arg("start")
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
        .args([
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .args(["--exporter", "otlp", "--otlp-exporter-protocol", "http"])
        .args([
            "--otlp-exporter-endpoint",
            &format!("http://{}", receiver.addr),
        ])
        .args(["--traces-batch-timeout", "100ms"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start rotel-agent")
}

async fn traces_pass_through_a_real_collector_over_otlp_http(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path()).await;
    let receiver = HttpReceiver::start().await;
    let http_port = free_port();
    let _rotel = rotel(&receiver, http_port);
    // rotel listens once its HTTP port answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", http_port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "rotel never listened on {http_port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let endpoint = format!("http://127.0.0.1:{http_port}");
    let gantry = serve(
        &db,
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
        &[],
    )
    .await;
    gantry
        .apply(
            "name: via-rotel\nsteps:\n  - id: only\n    run: echo \"TRACEPARENT=$TRACEPARENT\"\n",
        )
        .await;
    let run = gantry.trigger_traced("via-rotel").await;
    assert_eq!(gantry.finished(&run).await["status"], "succeeded");
    let wanted = [
        "POST /api/v1/workflows/{name}/runs",
        "run via-rotel",
        "step only",
        "attempt 1 of only",
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    while !wanted
        .iter()
        .all(|w| receiver.names_in(CALLER_TRACE).iter().any(|n| n == w))
    {
        assert!(
            Instant::now() < deadline,
            "spans never came through rotel: {:?}",
            receiver.names_in(CALLER_TRACE)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // (span id, parent id) by name, as rotel passed them on.
    let ids = |name: &str| {
        let spans = receiver.spans.lock().unwrap();
        let (_, s) = spans
            .iter()
            .find(|(_, s)| s.name == name && hex::encode(&s.trace_id) == CALLER_TRACE)
            .unwrap();
        (hex::encode(&s.span_id), hex::encode(&s.parent_span_id))
    };
    let (api, api_parent) = ids(wanted[0]);
    assert_eq!(api_parent, CALLER_SPAN);
    let (run_span, run_parent) = ids(wanted[1]);
    assert_eq!(run_parent, api);
    let (step, step_parent) = ids(wanted[2]);
    assert_eq!(step_parent, run_span);
    let (attempt, attempt_parent) = ids(wanted[3]);
    assert_eq!(attempt_parent, step);
    assert_eq!(
        printed_traceparent(&gantry.log_text(&run).await),
        format!("00-{CALLER_TRACE}-{attempt}-01")
    );
}
