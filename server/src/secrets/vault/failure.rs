//! Why one request to OpenBao/Vault failed, sorted into what the provider
//! needs to decide (log in again? unreachable or refused?) before it is
//! turned into a `FetchError` that names the reference.
//!
//! Texts here come from the HTTP stack and from the server's `errors` list,
//! never from a response body: a failed read's body is dropped unread, so no
//! value can reach an error message, and neither can the token (it travels
//! in a header, which no error text includes).

use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;
use vaultrs::error::ClientError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// The server answered with an error status.
    Status { code: u16, errors: Vec<String> },
    /// No answer: refused, unresolvable, TLS rejected, or too slow. The text
    /// says which, with the bound for a timeout.
    Unreachable(String),
    /// Gantry could not get a token: the login was refused, or the token or
    /// secret-id file can't be read.
    Login(String),
    /// Anything else (an answer we could not read, …).
    Other(String),
}

impl Failure {
    /// Sorts a vaultrs error: an error status, or the HTTP stack's reason
    /// for getting no answer.
    pub fn from_client(error: ClientError, timeout: Duration) -> Self {
        match error {
            ClientError::APIError { code, errors } => Failure::Status {
                code,
                errors: errors.iter().flat_map(|e| one_line(e)).collect(),
            },
            ClientError::RestClientError { source } => Self::from_rest(source, timeout),
            other => Failure::Other(format!("unexpected answer from the server: {other}")),
        }
    }

    fn from_rest(error: rustify::errors::ClientError, timeout: Duration) -> Self {
        use rustify::errors::ClientError as Rest;
        match error {
            // An error status whose body is not Vault's `{"errors": […]}`
            // (a KV v2 read of a deleted version, a proxy's page): the body
            // is not looked at.
            Rest::ServerResponseError { code, .. } => Failure::Status {
                code,
                errors: Vec::new(),
            },
            Rest::RequestError { source, .. } => match source.downcast_ref::<reqwest::Error>() {
                Some(http) => Self::from_reqwest(http, timeout),
                None => Failure::Unreachable(root_cause(source.as_ref())),
            },
            other => Failure::Other(format!("unexpected answer from the server: {other}")),
        }
    }

    /// Sorts an error from a request sent with reqwest directly.
    pub fn from_reqwest(error: &reqwest::Error, timeout: Duration) -> Self {
        if error.is_timeout() {
            Failure::Unreachable(no_answer_within(timeout))
        } else if error.is_connect() || error.is_request() {
            Failure::Unreachable(root_cause(error))
        } else {
            Failure::Other(format!(
                "unexpected answer from the server: {}",
                root_cause(error)
            ))
        }
    }

    /// The status code, for the checks that act on one.
    pub fn code(&self) -> Option<u16> {
        match self {
            Failure::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// One line for an error text: `403 (permission denied)`.
    pub fn describe(&self) -> String {
        match self {
            Failure::Status { code, errors } if errors.is_empty() => format!("status {code}"),
            Failure::Status { code, errors } => format!("status {code} ({})", errors.join("; ")),
            Failure::Unreachable(why) | Failure::Login(why) | Failure::Other(why) => why.clone(),
        }
    }
}

/// Runs one request with the configured bound. The HTTP client has the same
/// timeout; this one also covers what it does not (a stalled TLS handshake
/// inside a pooled connection, the body read), so nothing waits longer.
pub(super) async fn bounded<T>(
    timeout: Duration,
    request: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(timeout, request)
        .await
        .unwrap_or_else(|_| Err(Failure::Unreachable(no_answer_within(timeout))))
}

/// Vault wraps its reasons in a multi-line list ("1 error occurred:\n\t*
/// permission denied\n\n"); error texts are one line, so keep the reasons.
fn one_line(error: &str) -> Vec<String> {
    error
        .lines()
        .map(|line| line.trim().trim_start_matches("* ").trim())
        .filter(|line| !line.is_empty())
        .filter(|line| !(line.ends_with("occurred:") && line.contains("error")))
        .map(str::to_owned)
        .collect()
}

pub(super) fn no_answer_within(timeout: Duration) -> String {
    format!("no answer within {}", human(timeout))
}

/// `5 s`, `1.5 s`, `300 ms`: as the flag was most likely written.
pub(super) fn human(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis >= 1000 && millis.is_multiple_of(1000) {
        format!("{} s", duration.as_secs())
    } else if millis >= 1000 && millis.is_multiple_of(100) {
        format!("{:.1} s", duration.as_secs_f64())
    } else {
        format!("{millis} ms")
    }
}

/// The innermost cause: "Connection refused (os error 111)", "invalid peer
/// certificate: UnknownIssuer", rather than reqwest's "error sending request
/// for url (…)".
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::{human, one_line};

    #[test]
    fn vaults_error_lists_become_one_line_reasons() {
        assert_eq!(
            one_line("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"),
            ["permission denied", "invalid token"]
        );
        assert_eq!(
            one_line("invalid role or secret ID"),
            ["invalid role or secret ID"]
        );
    }
    use std::time::Duration;

    #[test]
    fn durations_read_as_the_flag_was_written() {
        assert_eq!(human(Duration::from_secs(5)), "5 s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human(Duration::from_millis(300)), "300 ms");
        assert_eq!(human(Duration::from_millis(1234)), "1234 ms");
    }
}
