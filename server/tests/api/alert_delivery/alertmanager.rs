//! The real Alertmanager (Debian's 0.25, unpacked by `make
//! tools-alertmanager`) on 127.0.0.1, configured to notify a webhook
//! receiver in this test: Gantry's alerts arrive through its v2 API and are
//! delivered by Alertmanager as firing and then resolved, and a silence
//! created in Alertmanager holds them back.

use super::{Seen, StandIn, notification};
use chrono::Utc;
use gantry_core::alert::{ChannelKind, NoticeKind, Notification};
use gantry_server::alerting::deliver::{Outcome, Target, client, request, send};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Alertmanager's grouping timers, short so the test is quick.
const GROUP_INTERVAL: Duration = Duration::from_secs(1);

struct Alertmanager {
    child: tokio::process::Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    async fn start(receiver: &str) -> Alertmanager {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/alertmanager");
        let binary = root.join("usr/bin/prometheus-alertmanager");
        // Debian's build reads its templates from this fixed path.
        let template = Path::new("/usr/share/prometheus/alertmanager/default.tmpl");
        assert!(
            binary.exists() && template.exists(),
            "Alertmanager is missing ({} or {}): run `make tools-alertmanager`",
            binary.display(),
            template.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        let interval = format!("{}s", GROUP_INTERVAL.as_secs());
        std::fs::write(
            &config,
            format!(
                "global:\n  resolve_timeout: 1m\n\
                 route:\n  receiver: test\n  group_by: ['alertname']\n  \
                 group_wait: {interval}\n  group_interval: {interval}\n  repeat_interval: 1h\n\
                 receivers:\n  - name: test\n    webhook_configs:\n      \
                 - url: '{receiver}/alertmanager'\n        send_resolved: true\n"
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.path().join("alertmanager.log");
        let child = tokio::process::Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No cluster: one private instance, no gossip port.
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}; run `make tools-alertmanager`", binary.display()));
        let mut am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        am.until_ready().await;
        am
    }

    async fn until_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Alertmanager exited ({status}):\n{}", self.log());
            }
            let ready = http.get(format!("{}/-/ready", self.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Alertmanager not ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn target(&self) -> Target {
        Target {
            kind: ChannelKind::Alertmanager,
            // With a trailing slash, as people paste it.
            url: format!("{}/", self.url),
            signing_keys: vec![],
            routing_key: None,
            bearer_token: None,
        }
    }

    /// Alertmanager's own view of the alert with this fingerprint label.
    async fn alert(&self, fingerprint: &str) -> Option<Value> {
        let alerts: Value = reqwest::Client::new()
            .get(format!("{}/api/v2/alerts", self.url))
            .query(&[("filter", format!("fingerprint=\"{fingerprint}\""))])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        alerts.as_array()?.first().cloned()
    }

    async fn silence(&self, fingerprint: &str) -> String {
        let now = Utc::now();
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/api/v2/silences", self.url))
            .json(&json!({
                "matchers": [{"name": "fingerprint", "value": fingerprint, "isRegex": false, "isEqual": true}],
                "startsAt": now.to_rfc3339(),
                "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
                "createdBy": "gantry-tests",
                "comment": "maintenance of nightly",
            }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["silenceID"].as_str().unwrap().to_string()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The alerts in the notifications Alertmanager sent, as (status,
/// fingerprint label).
fn alerts_in(seen: &[Seen]) -> Vec<(String, String)> {
    seen.iter()
        .map(Seen::json)
        .flat_map(|payload| payload["alerts"].as_array().cloned().unwrap_or_default())
        .map(|a| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (text(&a["status"]), text(&a["labels"]["fingerprint"]))
        })
        .collect()
}

fn delivered(receiver: &StandIn) -> Vec<(String, String)> {
    alerts_in(&receiver.seen())
}

async fn until<F: FnMut() -> bool>(what: &str, am: &Alertmanager, mut done: F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; Alertmanager's log:\n{}",
            am.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(am: &Alertmanager, n: &Notification) {
    let req = request(&am.target(), n, Utc::now());
    let outcome = send(&client().unwrap(), &req, Duration::from_secs(10)).await;
    assert_eq!(outcome, Outcome::Delivered { status: 200 }, "{}", am.log());
}

#[tokio::test]
async fn alertmanager_delivers_gantry_alerts_firing_then_resolved_and_a_silence_holds_them() {
    let receiver = StandIn::start(|_| Ok(()), vec![], (200, vec![], "")).await;
    let am = Alertmanager::start(&receiver.url).await;
    let fp = "f00dfeedcafe0001";

    // Firing: Alertmanager groups it and notifies the receiver.
    let firing = notification(NoticeKind::Firing, "nightly", fp);
    post(&am, &firing).await;
    until("the firing notification", &am, || {
        delivered(&receiver).contains(&("firing".into(), fp.into()))
    })
    .await;
    let payload = receiver.seen()[0].json();
    assert_eq!(receiver.seen()[0].path, "/alertmanager");
    assert_eq!(payload["version"], "4");
    let alert = &payload["alerts"][0];
    assert_eq!(
        alert["labels"],
        json!({
            "alertname": "nightly keeps failing",
            "gantry_rule_kind": "consecutive_failures",
            "workflow": "nightly",
            "environment": "prod",
            "severity": "error",
            "fingerprint": fp,
        })
    );
    assert_eq!(alert["annotations"]["summary"], "3 runs in a row failed");
    assert_eq!(
        alert["annotations"]["run_url"],
        "https://gantry.test/runs/run-42"
    );
    assert_eq!(alert["generatorURL"], "https://gantry.test/runs/run-42");

    // Resolved: the same labels with endsAt now end it, and Alertmanager
    // sends the resolve.
    let resolved = notification(NoticeKind::Resolved, "nightly", fp);
    post(&am, &resolved).await;
    until("the resolved notification", &am, || {
        delivered(&receiver).contains(&("resolved".into(), fp.into()))
    })
    .await;
    let resolve = receiver.seen().last().unwrap().json();
    assert_eq!(resolve["status"], "resolved");
    let ends =
        chrono::DateTime::parse_from_rfc3339(resolve["alerts"][0]["endsAt"].as_str().unwrap())
            .unwrap();
    assert_eq!(ends.timestamp(), resolved.resolved_at.unwrap().timestamp());

    // Silenced in Alertmanager: firing again is tracked but not delivered.
    let silence = am.silence(fp).await;
    let before = receiver.seen().len();
    post(&am, &notification(NoticeKind::Firing, "nightly", fp)).await;
    let suppressed = |alert: &Option<Value>| {
        alert.as_ref().is_some_and(|a| {
            a["status"]["state"] == "suppressed" && a["status"]["silencedBy"] == json!([silence])
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alert = am.alert(fp).await;
        if suppressed(&alert) {
            break;
        }
        assert!(Instant::now() < deadline, "never suppressed: {alert:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Alertmanager flushes a group every group_interval: over three of
    // them the alert stays suppressed and nothing reaches the receiver.
    let watch = Instant::now();
    while watch.elapsed() < GROUP_INTERVAL * 3 {
        let alert = am.alert(fp).await;
        assert!(suppressed(&alert), "the silence stopped holding: {alert:?}");
        assert_eq!(
            receiver.seen().len(),
            before,
            "delivered while silenced: {:?}",
            delivered(&receiver)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And a positive check that the group is being flushed: another
    // instance of the same rule (same group) is delivered, alone.
    let other = "f00dfeedcafe0002";
    post(&am, &notification(NoticeKind::Firing, "weekly", other)).await;
    until("the unsilenced alert", &am, || {
        delivered(&receiver).contains(&("firing".into(), other.into()))
    })
    .await;
    let after = alerts_in(&receiver.seen()[before..]);
    assert_eq!(after, [("firing".to_string(), other.to_string())]);
}
