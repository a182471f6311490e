//! Reads on large databases (issue 20): each dataset is measured on a
//! fresh database with a `gantry serve` built in this process, first at a
//! small size and then grown in the same database to a large one, the
//! same requests timed at each size over loopback, one at a time on a
//! kept-alive connection, the kinds in turn.
//!
//! - [`runs`]: the runs list, a run and their pages with 1,000 runs and
//!   with 1,000,000 (`--only large`);
//! - [`people`]: SCIM lists and the lookups Okta and Entra ID make, with
//!   1,000 people and with 100,000 (`--only scim`).

mod people;
mod report;
pub(crate) mod runs;

use crate::stats::Percentiles;
use anyhow::{Context, Result, bail};
use gantry_server::auth::SESSION_COOKIE;
use std::time::Instant;

pub use people::measure as measure_people;
pub use report::{print_markdown, print_text};
pub use runs::measure as measure_runs;

/// Untimed requests of each kind before the timed ones.
const WARM_UP: usize = 20;

/// One request's latencies at both sizes.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub small: Percentiles,
    pub large: Percentiles,
}

impl Row {
    /// Large p99 over small p99.
    pub fn ratio(&self) -> f64 {
        self.large.p99 / self.small.p99.max(f64::EPSILON)
    }
}

/// What a row must show to meet the goal.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// Large p99 within this factor of small p99.
    WithinRatio(f64),
    /// Large p99 under this many milliseconds.
    UnderMs(f64),
}

impl Goal {
    pub fn met(self, row: &Row) -> bool {
        match self {
            Goal::WithinRatio(r) => row.ratio() <= r,
            Goal::UnderMs(ms) => row.large.p99 < ms,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LargeFigures {
    pub title: &'static str,
    pub database: String,
    /// What the database holds many of: "runs", "people".
    pub unit: &'static str,
    pub small: usize,
    pub large: usize,
    pub samples: usize,
    /// Seconds the bulk insert of the large size took.
    pub seed_seconds: f64,
    /// Who reads: the credentials the requests carry.
    pub reader: &'static str,
    pub goal: Goal,
    pub rows: Vec<Row>,
}

/// How a request is signed in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// The section's token.
    Bearer,
    /// A dev session.
    Cookie,
}

/// One timed request.
pub(crate) struct Request {
    pub label: &'static str,
    /// Path and query.
    pub path: String,
    pub auth: Auth,
}

/// A dev sign-in as `username`: the `name=value` of its session cookie.
pub(crate) async fn dev_session(
    http: &reqwest::Client,
    base: &str,
    username: &str,
) -> Result<String> {
    let resp = http
        .post(format!("{base}/auth/dev/sign-in"))
        .form(&[("username", username)])
        .send()
        .await?;
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("the dev sign-in set no session cookie ({})", resp.status()))
}

/// A kept-alive client with a token and, if asked, a dev session.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    cookie: Option<String>,
}

impl Client {
    /// A client for `base` with `token`, signed in as the dev user
    /// `session_of` when given.
    pub async fn signed_in(base: &str, token: String, session_of: Option<&str>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let cookie = match session_of {
            Some(username) => Some(dev_session(&http, base, username).await?),
            None => None,
        };
        Ok(Self {
            http,
            base: base.to_owned(),
            token,
            cookie,
        })
    }

    /// One request; its latency in ms. Anything but 200 is an error.
    async fn once(&self, request: &Request) -> Result<f64> {
        let url = format!("{}{}", self.base, request.path);
        let start = Instant::now();
        let sent = self.http.get(&url);
        let sent = match (request.auth, &self.cookie) {
            (Auth::Cookie, Some(cookie)) => sent.header(reqwest::header::COOKIE, cookie),
            (Auth::Cookie, None) => bail!("{url} needs a session and the client has none"),
            (Auth::Bearer, _) => sent.bearer_auth(&self.token),
        };
        let resp = sent.send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if status != reqwest::StatusCode::OK {
            bail!(
                "{} ({url}) answered {status}: {}",
                request.label,
                String::from_utf8_lossy(&body)
            );
        }
        Ok(ms)
    }

    /// Every request `samples` times, in turn; percentiles per request.
    pub async fn sample_all(
        &self,
        requests: &[Request],
        samples: usize,
    ) -> Result<Vec<Percentiles>> {
        for request in requests {
            for _ in 0..WARM_UP {
                self.once(request).await?;
            }
        }
        let mut taken = vec![Vec::with_capacity(samples); requests.len()];
        for _ in 0..samples {
            for (request, out) in requests.iter().zip(&mut taken) {
                out.push(self.once(request).await?);
            }
        }
        Ok(taken.iter().map(|t| Percentiles::of(t)).collect())
    }
}
