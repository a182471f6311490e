//! HTTP steps: one request, judged by its status code. The response body
//! goes to the step's log (capped like any output).

use super::http_clients::{StepClients, refusal};
use super::logs::LogSink;
use gantry_core::run::{AttemptEnd, LogStream};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub struct HttpJob {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// Empty: any 2xx.
    pub expect_status: Vec<u16>,
    pub timeout: Option<Duration>,
}

pub struct HttpOutcome {
    pub end: AttemptEnd,
    pub error: Option<String>,
}

/// Bodies beyond this are not read into memory.
const MAX_BODY: usize = 256 * 1024;

/// Requests without their own timeout still end.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Sends `job` with the client of the step's environment, whose egress
/// policy decides which addresses it may connect to.
pub async fn run(
    clients: &StepClients,
    environment: &str,
    job: HttpJob,
    logs: &LogSink,
    stop: &CancellationToken,
) -> HttpOutcome {
    let fail = |end, error: String| HttpOutcome {
        end,
        error: Some(error),
    };
    let method = match reqwest::Method::from_bytes(job.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => return fail(AttemptEnd::Failed, format!("invalid method {}", job.method)),
    };
    // The URL may carry a rendered input; it is the caller's own value, and
    // we log only scheme, host and path (never the query, which may hold a key).
    let shown = redact_url(&job.url);
    logs.system(format!("{method} {shown}")).await;
    let client = match clients.for_environment(environment) {
        Ok(c) => c,
        Err(e) => return fail(AttemptEnd::Failed, e),
    };
    let timeout = job.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut request = match client.request(method, &job.url) {
        Ok(r) => r.timeout(timeout),
        Err(refused) => return fail(AttemptEnd::Failed, refused.to_string()),
    };
    for (k, v) in &job.headers {
        request = request.header(k, v);
    }
    if let Some(body) = job.body {
        request = request.body(body);
    }
    let started = Instant::now();
    let response = tokio::select! {
        r = request.send() => r,
        () = stop.cancelled() => return fail(AttemptEnd::Stopped, "stopped: the run was cancelled or timed out".into()),
    };
    let mut response = match response {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            let t = humantime::format_duration(timeout);
            return fail(AttemptEnd::TimedOut, format!("no response within {t}"));
        }
        Err(e) => {
            // Refused by the egress policy (at resolution or on a redirect).
            let error = match refusal(&e) {
                Some(refused) => refused.to_string(),
                None => format!("request failed: {}", without_url(&e)),
            };
            return fail(AttemptEnd::Failed, error);
        }
    };
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let mut truncated = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_BODY.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    truncated = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                logs.system(format!("reading the response failed: {}", without_url(&e)))
                    .await;
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    for line in text.lines() {
        logs.line(LogStream::Stdout, line).await;
    }
    if truncated {
        logs.system(format!("response body truncated after {MAX_BODY} bytes"))
            .await;
    }
    logs.system(format!(
        "HTTP {status} in {} ms",
        started.elapsed().as_millis()
    ))
    .await;
    let ok = if job.expect_status.is_empty() {
        (200..300).contains(&status)
    } else {
        job.expect_status.contains(&status)
    };
    let expected = if job.expect_status.is_empty() {
        "2xx".to_owned()
    } else {
        job.expect_status
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    HttpOutcome {
        end: if ok {
            AttemptEnd::Succeeded
        } else {
            AttemptEnd::Failed
        },
        error: (!ok).then(|| format!("HTTP {status} (expected {expected})")),
    }
}

/// reqwest errors print the full URL; ours must not (query strings may
/// carry credentials).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), &redact_url(url.as_str()));
    }
    s
}

fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            let had_query = u.query().is_some();
            u.set_query(None);
            u.set_fragment(None);
            if had_query {
                format!("{u}?…")
            } else {
                u.to_string()
            }
        }
        Err(_) => "(invalid URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_drop_credentials_and_queries() {
        assert_eq!(
            redact_url("https://u:p@example.test/hook?key=s3cret"),
            "https://example.test/hook?…"
        );
        assert_eq!(redact_url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
    }
}
