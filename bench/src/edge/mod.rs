//! What the edge costs a request (issue 19's closing figure), in two parts.
//!
//! Over loopback, per backend on a fresh database: four `gantry serve`s
//! built in this process on that database, the same build with different
//! edge settings, answer `GET /api/v1/me` with a viewer token one request
//! at a time on kept-alive connections. The raw baseline is the server
//! with every rate limit off; the others add the rate limit with buckets
//! in memory, with buckets in the database (one upsert per request), and
//! HTTPS on top of the in-memory limit. The quota is set far above what
//! the benchmark sends, so every request takes the limiter's full path and
//! none is refused (a refusal fails the section). Requests go to the four
//! servers in turn, the order rotating every request, in blocks; each
//! difference from the baseline comes with a 90 % interval from a paired
//! bootstrap over the blocks.
//!
//! In process ([`layers`]): the layers every server has and no setting
//! turns off (security headers, the CSRF check, a CORS allow-list) around
//! a handler that does nothing, called without a network, each beside the
//! bare handler.

mod certificate;
pub mod layers;
mod report;

use crate::database::Database;
use crate::served::Served;
use crate::stats::{Difference, Percentiles, Spread, paired_difference};
use crate::{Args, ENVIRONMENT};
use anyhow::{Context, Result, bail};
use certificate::{HOST, ServerCertificate};
use std::path::Path;
use std::time::Instant;

pub use report::{print_markdown, print_text};

/// Untimed requests to each server before the timed ones.
const WARM_UP: usize = 100;
/// A quota no benchmark reaches: the limiter does all its work and never
/// refuses.
const UNREACHED_QUOTA: &str = "read=1000000/1s";
const PATH: &str = "/api/v1/me";

/// One server's edge settings.
struct Setting {
    label: &'static str,
    flags: Vec<String>,
    tls: bool,
}

fn settings(cert: &ServerCertificate) -> Vec<Setting> {
    let limit = |store: &str| {
        vec![
            "--rate-limit".to_owned(),
            UNREACHED_QUOTA.to_owned(),
            "--rate-limit-store".to_owned(),
            store.to_owned(),
        ]
    };
    let mut tls = limit("memory");
    tls.extend([
        "--tls-cert".to_owned(),
        cert.cert.display().to_string(),
        "--tls-key".to_owned(),
        cert.key.display().to_string(),
    ]);
    vec![
        Setting {
            label: "rate limits off (raw)",
            flags: vec![
                "--rate-limit".to_owned(),
                "read=off,trigger=off,write=off,sign_in=off,scim=off,webhook=off".to_owned(),
            ],
            tls: false,
        },
        Setting {
            label: "rate limit, buckets in memory",
            flags: limit("memory"),
            tls: false,
        },
        Setting {
            label: "rate limit, buckets in the database",
            flags: limit("database"),
            tls: false,
        },
        Setting {
            label: "HTTPS + rate limit in memory",
            flags: tls,
            tls: true,
        },
    ]
}

/// One server's latencies, and its differences from the raw baseline.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: &'static str,
    pub latency: Percentiles,
    pub p95: f64,
    /// `None` for the baseline itself.
    pub added_p50: Option<Difference>,
    pub added_p99: Option<Difference>,
}

#[derive(Debug, Clone)]
pub struct EdgeFigures {
    pub database: String,
    pub rows: Vec<Row>,
    pub samples: usize,
    pub blocks: usize,
}

/// A server under one setting and a client kept alive to it.
struct Target {
    served: Served,
    client: reqwest::Client,
    url: String,
}

impl Target {
    async fn start(db: &Database, dir: &Path, setting: &Setting, ca: &str) -> Result<Self> {
        let flags: Vec<&str> = setting.flags.iter().map(String::as_str).collect();
        let served = Served::start(&db.url, dir, ENVIRONMENT, &flags).await?;
        let client = reqwest::Client::builder().pool_max_idle_per_host(1);
        let (client, url) = if setting.tls {
            let addr: std::net::SocketAddr = served
                .url
                .trim_start_matches("https://")
                .parse()
                .context("the HTTPS server's address")?;
            let client = client
                .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes())?)
                .resolve(HOST, addr);
            (client, format!("https://{HOST}:{}{PATH}", addr.port()))
        } else {
            (client, format!("{}{PATH}", served.url))
        };
        Ok(Self {
            served,
            client: client.build()?,
            url,
        })
    }

    /// One request, its latency in ms; anything but 200 is an error.
    async fn once(&self, token: &str) -> Result<f64> {
        let start = Instant::now();
        let resp = self.client.get(&self.url).bearer_auth(token).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if status != reqwest::StatusCode::OK {
            bail!(
                "{} answered {status}: {}",
                self.url,
                String::from_utf8_lossy(&body)
            );
        }
        Ok(ms)
    }
}

/// The loopback part on `db` (see the module comment).
pub async fn measure(db: &Database, args: &Args, dir: &Path) -> Result<EdgeFigures> {
    let cert = ServerCertificate::write(&dir.join("tls"))?;
    let settings = settings(&cert);
    let mut targets = Vec::new();
    for (i, setting) in settings.iter().enumerate() {
        let own = dir.join(format!("server-{i}"));
        targets.push(Target::start(db, &own, setting, &cert.authority_pem).await?);
    }
    let token = targets[0]
        .served
        .engine(dir)?
        .role_token("bench-edge", "viewer")
        .await?;

    for target in &targets {
        for _ in 0..WARM_UP {
            target.once(&token).await?;
        }
    }
    let blocks = args.edge_blocks;
    let per_block = args.edge_samples.div_ceil(blocks);
    // samples[server][block] = latencies, ms.
    let mut samples: Vec<Vec<Vec<f64>>> = vec![Vec::with_capacity(blocks); targets.len()];
    for _ in 0..blocks {
        let mut block = vec![Vec::with_capacity(per_block); targets.len()];
        for i in 0..per_block {
            for k in 0..targets.len() {
                let which = (i + k) % targets.len();
                block[which].push(targets[which].once(&token).await?);
            }
        }
        for (side, taken) in samples.iter_mut().zip(block) {
            side.push(taken);
        }
    }
    for target in targets {
        target.served.stop().await;
    }

    let raw = &samples[0];
    let rows = settings
        .iter()
        .zip(&samples)
        .enumerate()
        .map(|(i, (setting, side))| {
            let all: Vec<f64> = side.iter().flatten().copied().collect();
            Row {
                label: setting.label,
                latency: Percentiles::of(&all),
                p95: Spread::of(&all).p95,
                added_p50: (i > 0)
                    .then(|| paired_difference(raw, side, |s| Percentiles::of(s).p50)),
                added_p99: (i > 0)
                    .then(|| paired_difference(raw, side, |s| Percentiles::of(s).p99)),
            }
        })
        .collect();
    Ok(EdgeFigures {
        database: db.version().await?,
        rows,
        samples: per_block * blocks,
        blocks,
    })
}
