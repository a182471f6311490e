//! Sending one request and classifying the answer: delivered, worth
//! retrying (the receiver is busy, down or slow), or refused (retrying the
//! same bytes can't help: someone has to fix the channel).
//!
//! Error texts end up in the notification history and the logs, so they
//! never carry a credential: no URL (Slack's is one; reqwest's errors
//! include it), and every credential found in the request is scrubbed from
//! what the receiver or the network stack said.

use super::Request;
use super::shown::{MASK, credentials_in};
use std::time::{Duration, SystemTime};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// 408, 429, 5xx, or no answer (could not connect, timed out): try
    /// again after [`super::backoff`]; `after` is the receiver's
    /// `Retry-After`, capped at [`MAX_RETRY_AFTER`].
    Retry {
        status: Option<u16>,
        after: Option<Duration>,
        error: String,
    },
    /// Any other answer (other 4xx, or a redirect): the channel needs
    /// fixing. `status` 0: the request could not even be made (a URL no
    /// HTTP client accepts).
    Rejected { status: u16, error: String },
}

/// The longest `Retry-After` honoured: a receiver can't park a
/// notification for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// How much of a refusal's body goes into the error (Slack's
/// `invalid_blocks`, PagerDuty's `errors` list).
const EXCERPT_CHARS: usize = 200;

/// The client to send with: redirects are not followed (a receiver that
/// moved is a channel to fix, and following one could carry the body,
/// with its credentials, to another host).
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION"), " alerting"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// Sends once (giving up after `timeout`, body included) and classifies:
/// 2xx delivered; 429, 5xx, 408, connect errors and timeouts retry,
/// honouring `Retry-After` (seconds or HTTP-date); other answers rejected.
pub async fn send(client: &reqwest::Client, req: &Request, timeout: Duration) -> Outcome {
    let secrets = credentials_in(req);
    let mut builder = client
        .post(&req.url)
        .timeout(timeout)
        .body(req.body.clone());
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    let response = match builder.send().await {
        Ok(r) => r,
        Err(e) => return transport_failure(&e, timeout, &secrets),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered {
            status: status.as_u16(),
        };
    }
    let after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, SystemTime::now()));
    let said = scrub(&excerpt(response).await, &secrets);
    classify(status, after, &said)
}

/// The pure half of [`send`]: what an answer means.
fn classify(status: reqwest::StatusCode, after: Option<Duration>, said: &str) -> Outcome {
    let code = status.as_u16();
    let mut error = format!("the receiver answered {status}");
    if !said.is_empty() {
        error.push_str(": ");
        error.push_str(said);
    }
    if code == 408 || code == 429 || status.is_server_error() {
        return Outcome::Retry {
            status: Some(code),
            after,
            error,
        };
    }
    let hint = match code {
        300..=399 => " (a redirect: set the channel's URL to where it leads)",
        401 | 403 => " (check the channel's credentials)",
        404 | 410 => " (check the channel's URL: the receiver says it is gone)",
        _ => "",
    };
    error.push_str(hint);
    Outcome::Rejected {
        status: code,
        error,
    }
}

fn transport_failure(e: &reqwest::Error, timeout: Duration, secrets: &[String]) -> Outcome {
    if e.is_builder() {
        return Outcome::Rejected {
            status: 0,
            error: "the channel's URL can't be sent to (check it)".into(),
        };
    }
    let error = if e.is_timeout() {
        format!("no answer within {}", humantime::format_duration(timeout))
    } else {
        let what = if e.is_connect() {
            "could not connect"
        } else {
            "the request failed"
        };
        format!("{what}: {}", scrub(&causes(e), secrets))
    };
    Outcome::Retry {
        status: None,
        after: None,
        error,
    }
}

/// The error's causes, without the URL reqwest puts in its own message.
fn causes(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        // Only reqwest's own words: safe once the URL is gone.
        let bare = e.to_string();
        return match e.url() {
            Some(url) => bare.replace(url.as_str(), "the channel's URL"),
            None => bare,
        };
    }
    parts.join(": ")
}

/// The start of the answer's body, as one line of printable text.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    super::text::clip(&line, EXCERPT_CHARS)
}

fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), MASK))
}

/// A `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an
/// HTTP-date) as a wait from `now`, capped at [`MAX_RETRY_AFTER`]; `None`
/// when it is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit is "very long", not garbage.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date_and_is_capped() {
        let now = httpdate::parse_http_date("Sat, 05 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Sat, 05 Dec 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        // A date already past: retry now.
        assert_eq!(
            retry_after("Sat, 05 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        // The obsolete forms RFC 9110 still asks recipients to accept.
        assert_eq!(
            retry_after("Saturday, 05-Dec-26 10:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        for garbage in ["", "-5", "1.5", "soon", "Sat, 35 Dec 2026 10:00:00 GMT"] {
            assert_eq!(retry_after(garbage, now), None, "{garbage:?}");
        }
    }

    #[test]
    fn answers_are_classified_by_status() {
        let retry = |code: u16| {
            matches!(
                classify(StatusCode::from_u16(code).unwrap(), None, ""),
                Outcome::Retry { status: Some(s), .. } if s == code
            )
        };
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(retry(code), "{code} should be retried");
        }
        for code in [301, 400, 401, 403, 404, 410, 413, 422] {
            assert!(
                matches!(
                    classify(StatusCode::from_u16(code).unwrap(), None, ""),
                    Outcome::Rejected { status, .. } if status == code
                ),
                "{code} should be rejected"
            );
        }
    }

    #[test]
    fn a_refusal_says_what_the_receiver_said_and_what_to_check() {
        let Outcome::Rejected { error, .. } =
            classify(StatusCode::NOT_FOUND, None, "channel_not_found")
        else {
            panic!("404 is a refusal");
        };
        assert_eq!(
            error,
            "the receiver answered 404 Not Found: channel_not_found (check the channel's URL: the receiver says it is gone)"
        );
        let Outcome::Retry { after, error, .. } = classify(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(3)),
            "",
        ) else {
            panic!("429 is retried");
        };
        assert_eq!(after, Some(Duration::from_secs(3)));
        assert_eq!(error, "the receiver answered 429 Too Many Requests");
    }

    #[test]
    fn scrubbing_removes_every_credential() {
        let secrets = vec!["s3cr3t".to_string(), "T000/B000".to_string()];
        assert_eq!(
            scrub("bad key s3cr3t at /services/T000/B000", &secrets),
            format!("bad key {MASK} at /services/{MASK}")
        );
    }
}
