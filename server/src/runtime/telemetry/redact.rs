//! The last line of defence for log lines: whatever field a value ended up
//! in (a message, an error chain, a header dump), these never reach stdout:
//!
//! - Gantry tokens (`gantry_` + 43 random characters);
//! - credentials after `Bearer` / `Basic` (an `Authorization` header);
//! - session cookies (`gantry_session=…`);
//! - the values of secrets this process holds right now (registered by
//!   the worker for the life of an attempt), in all their encoded forms.
//!
//! Every log line is written through [`RedactingStdout`], which masks the
//! whole formatted line before one write.

use gantry_core::secret::{MASK, Masker, SecretValue};
use regex::{Captures, Regex};
use std::io::{self, Write};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use tracing_subscriber::fmt::MakeWriter;

static CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?P<token>gantry_[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
        r"|(?P<scheme>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}",
        r"|(?P<cookie>gantry_session=)[^;\s\x22\\]+",
    ))
    .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
});

/// Masks credentials and live secret values in one formatted line.
pub fn redact(line: &str) -> String {
    let masked = CREDENTIALS.replace_all(line, |c: &Captures<'_>| {
        let whole = &c[0];
        if let Some(token) = c.name("token") {
            // Metric and field names share the prefix; a token is random,
            // so it has an upper-case letter or a digit (2^-200 otherwise).
            let t = token.as_str();
            if t[7..]
                .bytes()
                .any(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return format!("gantry_{MASK}{}", &whole[t.len()..]);
            }
            return whole.to_owned();
        }
        if let Some(scheme) = c.name("scheme") {
            return format!("{}{MASK}", scheme.as_str());
        }
        if let Some(cookie) = c.name("cookie") {
            return format!("{}{MASK}", cookie.as_str());
        }
        whole.to_owned()
    });
    let secrets = LIVE
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .masker
        .clone();
    match secrets {
        Some(m) => m.mask(&masked),
        None => masked.into_owned(),
    }
}

#[derive(Default)]
struct Live {
    next: u64,
    held: Vec<(u64, Vec<SecretValue>)>,
}

struct Current {
    masker: Option<Masker>,
}

static HELD: LazyLock<Mutex<Live>> = LazyLock::new(Mutex::default);
static LIVE: RwLock<Current> = RwLock::new(Current { masker: None });

/// Secret values masked in log lines until the guard drops.
pub struct Held(u64);

/// Masks `values` in every log line while the returned guard lives.
pub fn hold(values: Vec<SecretValue>) -> Held {
    let mut live = HELD.lock().unwrap_or_else(|p| p.into_inner());
    live.next += 1;
    let id = live.next;
    live.held.push((id, values));
    rebuild(&live);
    Held(id)
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut live = HELD.lock().unwrap_or_else(|p| p.into_inner());
        live.held.retain(|(id, _)| *id != self.0);
        rebuild(&live);
    }
}

fn rebuild(live: &Live) {
    let values: Vec<SecretValue> = live.held.iter().flat_map(|(_, v)| v.clone()).collect();
    let masker = if values.is_empty() {
        None
    } else {
        // Values were accepted by the same rules when fetched; a masker
        // that can't be built masks nothing more than the stream masker.
        Masker::new(&values).ok()
    };
    LIVE.write().unwrap_or_else(|p| p.into_inner()).masker = masker;
}

/// Stdout, one redacted write per log line.
#[derive(Clone, Default)]
pub struct RedactingStdout {
    // Tests capture lines here instead of stdout.
    capture: Option<Arc<Mutex<Vec<u8>>>>,
}

impl RedactingStdout {
    #[cfg(test)]
    fn capturing() -> (Self, Arc<Mutex<Vec<u8>>>) {
        let out = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                capture: Some(out.clone()),
            },
            out,
        )
    }
}

pub struct LineWriter {
    buf: Vec<u8>,
    capture: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let line = redact(&String::from_utf8_lossy(&self.buf));
        match &self.capture {
            Some(out) => out
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(line.as_bytes()),
            None => {
                let _ = io::stdout().lock().write_all(line.as_bytes());
            }
        }
    }
}

impl<'a> MakeWriter<'a> for RedactingStdout {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            buf: Vec::with_capacity(256),
            capture: self.capture.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "gantry_Q2xhc3NpZmllZC1jcmVkZW50aWFsLXRva2VuLTAx9xk";

    #[test]
    fn tokens_bearer_credentials_and_session_cookies_are_masked() {
        assert_eq!(TOKEN.len(), 7 + 43);
        let line = format!(
            r#"{{"msg":"auth","token":"{TOKEN}","authorization":"Bearer abcdefgh12345678","cookie":"gantry_session=s3ss10n; theme=dark"}}"#
        );
        let out = redact(&line);
        assert!(!out.contains(TOKEN), "{out}");
        assert!(!out.contains("abcdefgh12345678"), "{out}");
        assert!(!out.contains("s3ss10n"), "{out}");
        assert!(out.contains("theme=dark"), "{out}");
        assert!(out.contains("Bearer "), "the scheme stays: {out}");
    }

    #[test]
    fn metric_and_field_names_with_the_prefix_are_left_alone() {
        let line =
            "gantry_http_server_request_duration_seconds_bucket and gantry_steps_finished_total";
        assert_eq!(redact(line), line);
    }

    #[test]
    fn held_secret_values_are_masked_until_released() {
        let value = SecretValue::new("hunter2-is-not-a-password").unwrap();
        let line = "connecting with hunter2-is-not-a-password";
        let held = hold(vec![value]);
        assert!(!redact(line).contains("hunter2"));
        drop(held);
        assert_eq!(redact(line), line);
    }

    #[test]
    fn a_line_is_written_once_whole_and_redacted() {
        let (stdout, out) = RedactingStdout::capturing();
        {
            let mut w = stdout.make_writer();
            w.write_all(b"token ").unwrap();
            w.write_all(TOKEN.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
        }
        let written = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert_eq!(written, format!("token gantry_{MASK}\n"));
    }
}
