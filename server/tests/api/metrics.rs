//! `GET /metrics` on `--metrics-bind`'s own listener: Prometheus's text
//! format, histograms with explicit buckets, routes as templates (never
//! ids), step outcomes counted as they happen; never anonymous on the main
//! port (`metrics_token.rs` covers the main port's token door).

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    metrics_count_what_happened_on_their_own_listener,
    queue_gauges_equal_the_database_and_show_the_wait,
    a_real_prometheus_scrapes_exact_counts,
    a_remote_worker_serves_its_own_step_metrics,
    missed_cron_slots_and_worker_slots_are_counted,
);

/// The value of the sample `name{labels}` (labels as rendered, sorted as
/// the exporter writes them), if present.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

pub async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr.expect("started with --metrics-bind");
    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    resp.text().await.unwrap()
}

async fn metrics_count_what_happened_on_their_own_listener(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--metrics-bind", "127.0.0.1:0"]).await;
    let id = app
        .apply_and_run(
            "name: counted\nsteps:\n  - id: ok\n    run: \"true\"\n  - id: bad\n    run: exit 3\n",
            json!({}),
        )
        .await;
    app.finished_run(&id).await;
    let (status, _) = app.api_get(&format!("/runs/{id}")).await;
    assert_eq!(status, 200);
    // A refusal and a bad credential, for the security counters.
    let viewer = app.person("viewer").await;
    let (status, _) = viewer
        .post("/workflows/counted/runs", json!({"environment": "dev"}))
        .await;
    assert_eq!(status, 403);
    let bad = reqwest::Client::new()
        .get(app.url("/api/v1/runs"))
        .bearer_auth("gantry_not-a-real-token-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gantry_authz_denied_total{action=\"trigger_run\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "gantry_auth_failures_total{method=\"token\"}"),
        Some(1.0),
        "{text}"
    );
    let database = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(
        sample(
            &text,
            &format!(
                "gantry_build_info{{version=\"{}\",database=\"{database}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_steps_finished_total{kind=\"shell\",outcome=\"succeeded\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_steps_finished_total{kind=\"shell\",outcome=\"failed\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // Runs by workflow, environment and trigger or outcome.
    assert_eq!(
        sample(
            &text,
            "gantry_runs_started_total{workflow=\"counted\",environment=\"dev\",trigger=\"api\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_runs_finished_total{workflow=\"counted\",environment=\"dev\",outcome=\"failed\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_run_duration_seconds_count{workflow=\"counted\",environment=\"dev\",outcome=\"failed\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // The pool has connections (the scrape itself uses one).
    let pool: f64 = ["idle", "used"]
        .iter()
        .filter_map(|s| {
            sample(
                &text,
                &format!("gantry_db_pool_connections{{state=\"{s}\"}}"),
            )
        })
        .sum();
    assert!(pool >= 1.0, "{text}");
    // The worker's 4 slots are free again.
    assert_eq!(
        sample(&text, "gantry_worker_slots{state=\"busy\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "gantry_worker_slots{state=\"free\"}"),
        Some(4.0),
        "{text}"
    );
    // A histogram with our buckets, not a summary.
    assert!(
        text.contains("# TYPE gantry_step_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains(
            "gantry_step_duration_seconds_bucket{kind=\"shell\",outcome=\"failed\",le=\"0.01\"}"
        ),
        "{text}"
    );
    // Requests by route template: the run's id is nowhere in a label.
    let run_route = "gantry_http_server_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"200\"}";
    assert!(sample(&text, run_route).is_some_and(|n| n >= 1.0), "{text}");
    assert!(!text.contains(&id), "no run id in any label");
    assert!(
        text.contains("route=\"/api/v1/runs/{id}\",status=\"200\",le=\"0.005\"}"),
        "HTTP buckets start at 5 ms: {text}"
    );
    // promtool (Debian's Prometheus, unpacked by `make tools-prometheus`)
    // finds nothing to complain about.
    let promtool = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/prometheus/usr/bin/promtool");
    let mut check = tokio::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}; run `make tools-prometheus`", promtool.display()));
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = check.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).await.unwrap();
    }
    let checked = check.wait_with_output().await.unwrap();
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool: {checked:?}"
    );
    // Never anonymous on the main port.
    let (status, _) = app.get_html("/metrics").await;
    assert_eq!(status, 401);
}

async fn queue_gauges_equal_the_database_and_show_the_wait(backend: Backend) {
    // No worker: steps stay queued while the clock moves on.
    let clock = std::sync::Arc::new(gantry_server::runtime::clock::ShiftedClock::default());
    let app = TestApp::spawn_with_clock(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
        clock.clone(),
    )
    .await;
    app.apply_and_run(
        "name: waiting\nsteps:\n  - id: a\n    run: \"true\"\n  - id: b\n    run: \"true\"\n  - id: c\n    run: \"true\"\n",
        json!({}),
    )
    .await;
    clock.advance(chrono::Duration::seconds(90));
    let text = scrape(&app).await;
    let queued = app
        .count_sql("SELECT COUNT(*) FROM run_steps WHERE status = 'queued'")
        .await;
    assert_eq!(queued, 3);
    assert_eq!(
        sample(&text, "gantry_queue_depth{state=\"ready\"}"),
        Some(queued as f64),
        "{text}"
    );
    assert_eq!(
        sample(&text, "gantry_queue_depth{state=\"running\"}"),
        Some(0.0)
    );
    let age = sample(&text, "gantry_queue_oldest_ready_age_seconds").unwrap();
    assert!((90.0..120.0).contains(&age), "waited at least 90 s: {age}");
    let active = app
        .count_sql("SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running')")
        .await;
    let reported: f64 = text
        .lines()
        .filter(|l| l.starts_with("gantry_runs_active{environment=\"dev\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(reported, active as f64, "{text}");
}

/// A real Prometheus (Debian's, unpacked by `make tools-prometheus`)
/// scraping `addr` every second, killed on drop.
struct Prometheus {
    child: tokio::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn scraping(addr: std::net::SocketAddr) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
                 scrape_configs:\n  - job_name: gantry\n    static_configs: [{{ targets: [\"{addr}\"] }}]\n"
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/prometheus/usr/bin/prometheus");
        let child = tokio::process::Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}; run `make tools-prometheus`", binary.display()));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The value of an instant query's single sample, once there is one.
    async fn query(&self, expr: &str) -> Option<f64> {
        let answer: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        answer["data"]["result"][0]["value"][1]
            .as_str()?
            .parse()
            .ok()
    }

    /// Polls `expr` until it equals `want` (bounded: 60 s).
    async fn until(&self, expr: &str, want: f64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let got = self.query(expr).await;
            if got == Some(want) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Prometheus says {expr} = {got:?}, not {want}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn a_real_prometheus_scrapes_exact_counts(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--metrics-bind", "127.0.0.1:0"]).await;
    let prometheus = Prometheus::scraping(app.metrics_addr.unwrap()).await;
    // The target is up before anything happens.
    prometheus.until("up{job=\"gantry\"}", 1.0).await;
    let spec = "name: scripted\ninputs: { fail: { type: string, default: \"no\" } }\nsteps:\n  - id: s\n    run: test \"${{ inputs.fail }}\" = no\n";
    let (status, body) = app.apply(spec).await;
    assert_eq!(status, 201, "{body}");
    for fail in ["no", "yes", "no", "no", "yes"] {
        let id = app.trigger("scripted", json!({ "fail": fail })).await;
        app.finished_run(&id).await;
    }
    prometheus
        .until(
            "sum(gantry_runs_finished_total{workflow=\"scripted\",outcome=\"succeeded\"})",
            3.0,
        )
        .await;
    prometheus
        .until(
            "sum(gantry_runs_finished_total{workflow=\"scripted\",outcome=\"failed\"})",
            2.0,
        )
        .await;
    prometheus
        .until(
            "sum(gantry_runs_started_total{workflow=\"scripted\",environment=\"dev\"})",
            5.0,
        )
        .await;
    // Histograms aggregate in PromQL (buckets, not a summary).
    prometheus
        .until(
            "sum(gantry_run_duration_seconds_count{workflow=\"scripted\"})",
            5.0,
        )
        .await;
    let p99 = prometheus
        .query("histogram_quantile(0.99, sum by (le) (gantry_step_duration_seconds_bucket))")
        .await;
    assert!(p99.is_some_and(|v| v > 0.0 && v <= 60.0), "{p99:?}");
}

async fn a_remote_worker_serves_its_own_step_metrics(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    let token = app.worker_token("measured").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let _worker = app.spawn_worker_process(&token, "measured", &["--metrics-bind", &bind]);
    let id = app
        .apply_and_run(
            "name: remote-counted\nsteps:\n  - id: s\n    run: \"true\"\n",
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let text = reqwest::get(format!("http://{bind}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &text,
            "gantry_steps_finished_total{kind=\"shell\",outcome=\"succeeded\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // A worker has no database: no queue gauges of its own.
    assert!(!text.contains("gantry_queue_depth{"), "{text}");
}

async fn missed_cron_slots_and_worker_slots_are_counted(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--metrics-bind", "127.0.0.1:0"]).await;
    let (status, body) = app
        .apply("name: nightly\nschedule: \"0 3 * * *\"\nsteps:\n  - id: work\n    run: \"true\"\n")
        .await;
    assert_eq!(status, 201, "{body}");
    // As if the server had been down for three days: the slots since then
    // collapse into one catch-up run for the latest.
    let now = chrono::Utc::now();
    // A real slot three days ago (the stored next slot always is one).
    let since = (now.date_naive() - chrono::Duration::days(3))
        .and_hms_opt(3, 0, 0)
        .unwrap()
        .and_utc();
    let past = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    // The 03:00 UTC slots from then to now; all but the latest are missed.
    let slots = (0..=4)
        .map(|d| {
            (since.date_naive() + chrono::Duration::days(d))
                .and_hms_opt(3, 0, 0)
                .unwrap()
                .and_utc()
        })
        .filter(|t| *t >= since && *t <= now)
        .count();
    app.exec_sql(&format!(
        "UPDATE workflow_environments SET next_fire_at = '{past}'"
    ))
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let text = loop {
        let text = scrape(&app).await;
        if sample(&text, "gantry_schedule_missed_total{workflow=\"nightly\"}").is_some() {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        sample(&text, "gantry_schedule_missed_total{workflow=\"nightly\"}"),
        Some((slots - 1) as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gantry_runs_started_total{workflow=\"nightly\",environment=\"dev\",trigger=\"schedule\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // Late by most of a day (the latest slot was up to 24 h ago).
    assert_eq!(
        sample(
            &text,
            "gantry_run_schedule_delay_seconds_count{workflow=\"nightly\"}"
        ),
        Some(1.0),
        "{text}"
    );
}
