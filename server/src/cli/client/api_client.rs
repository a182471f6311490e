//! The client commands' HTTP caller: one request with the token, and a
//! failed call turned into the line the user reads.

use super::Connection;
use gantry_core::spec::SpecProblem;
use serde_json::Value;
use std::process::ExitCode;
use std::time::Duration;

pub(super) struct Client {
    pub(super) base: String,
    token: Option<String>,
    pub(super) http: reqwest::Client,
}

/// A failed call, ready to print.
pub(super) struct Failure(pub(super) String);

impl Client {
    pub(super) fn new(conn: &Connection) -> Self {
        Self {
            base: conn.url.trim_end_matches('/').to_owned(),
            token: conn.token.clone(),
            http: reqwest::Client::builder()
                .user_agent(concat!("gantry-cli/", env!("CARGO_PKG_VERSION")))
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
        }
    }

    pub(super) async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value), Failure> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(|e| {
            Failure(format!(
                "cannot reach Gantry at {} ({}); set GANTRY_URL",
                self.base,
                e.without_url()
            ))
        })?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status >= 400 {
            return Err(Failure(describe_error(status, &body)));
        }
        Ok((status, body))
    }

    pub(super) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, Failure> {
        let (_, body) = self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await?;
        serde_json::from_value(body)
            .map_err(|e| Failure(format!("unexpected answer from Gantry: {e}")))
    }
}

fn describe_error(status: u16, body: &Value) -> String {
    let err = &body["error"];
    let mut out = match err["message"].as_str() {
        Some(m) => m.to_owned(),
        None => format!("HTTP {status}"),
    };
    if status == 401 {
        out.push_str(" (set GANTRY_TOKEN)");
    }
    if let Some(problems) = err["details"]["problems"].as_array() {
        out = err["message"]
            .as_str()
            .and_then(|m| m.split(": ").next())
            .unwrap_or("invalid")
            .to_owned();
        for p in problems {
            if let Ok(p) = serde_json::from_value::<SpecProblem>(p.clone()) {
                out.push_str(&format!("\n  {p}"));
            }
        }
    }
    out
}

pub(super) fn fail(f: Failure) -> ExitCode {
    eprintln!("gantry: {}", f.0);
    ExitCode::from(1)
}

pub(super) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
