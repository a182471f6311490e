//! `make soak`: the mix at a steady rate for a long while, sampling what
//! leaks show up in (each process's resident memory and open files, the
//! database connections, the SQLite WAL, the step backlog), judging each
//! series for a growing trend ([`crate::trend`]) and plotting it.

use crate::Common;
use crate::check::{self, Checks};
use crate::cluster::{Cluster, Topology};
use crate::mix::{self, Driven};
use crate::plot;
use crate::setup::Fixture;
use crate::trend::{self, Allowance, Verdict};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What is sampled, with its unit and how much it may drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Memory,
    Files,
    DbConnections,
    Wal,
    Backlog,
}

impl Resource {
    pub fn title(self) -> &'static str {
        match self {
            Resource::Memory => "resident memory",
            Resource::Files => "open file descriptors",
            Resource::DbConnections => "database connections (pool)",
            Resource::Wal => "SQLite WAL",
            Resource::Backlog => "step backlog (ready and waiting)",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Resource::Memory | Resource::Wal => "MiB",
            Resource::Files | Resource::DbConnections => "count",
            Resource::Backlog => "steps",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Resource::Memory => "memory",
            Resource::Files => "files",
            Resource::DbConnections => "db-connections",
            Resource::Wal => "wal",
            Resource::Backlog => "backlog",
        }
    }

    /// Leaks grow without bound; these allow the drift a healthy process
    /// shows over a window (allocator arenas, a WAL between checkpoints).
    fn allowance(self) -> Allowance {
        match self {
            Resource::Memory => Allowance {
                floor: 32.0,
                relative: 0.25,
            },
            Resource::Files => Allowance {
                floor: 16.0,
                relative: 0.25,
            },
            Resource::DbConnections => Allowance {
                floor: 4.0,
                relative: 0.5,
            },
            Resource::Wal => Allowance {
                floor: 32.0,
                relative: 1.0,
            },
            Resource::Backlog => Allowance {
                floor: 50.0,
                relative: 1.0,
            },
        }
    }
}

/// One line of samples: a resource of one process (or of the database).
#[derive(Debug, Clone)]
pub struct Series {
    pub resource: Resource,
    /// `serve-1`, `worker`, `database`.
    pub of: String,
    /// (seconds since the start, value).
    pub points: Vec<(f64, f64)>,
}

pub struct SoakOutcome {
    pub topology: Topology,
    pub clients: usize,
    pub rate: u32,
    pub sample_every: Duration,
    pub driven: Driven,
    pub checks: Checks,
    pub series: Vec<(Series, Verdict)>,
    /// The charts written, one per resource.
    pub plots: Vec<PathBuf>,
}

impl SoakOutcome {
    pub fn problems(&self) -> Vec<String> {
        let mut p = self.checks.problems();
        let errors = self.driven.record.errors();
        if errors > 0 {
            p.insert(0, format!("{errors} requests failed"));
        }
        for (s, v) in &self.series {
            if v.too_short() {
                p.push(format!(
                    "{} of {}: {} samples after the warm-up, too few to judge (at least {}): soak longer or sample more often",
                    s.resource.title(),
                    s.of,
                    v.judged,
                    trend::MIN_SAMPLES
                ));
            } else if v.growing() {
                p.push(format!(
                    "{} of {} grows: {:.1} {} over the judged window, {:.1} allowed",
                    s.resource.title(),
                    s.of,
                    v.rise,
                    s.resource.unit(),
                    v.allowed
                ));
            }
        }
        p
    }
}

pub async fn soak(
    topology: &Topology,
    common: &Common,
    duration: Duration,
    rate: u32,
    sample_every: Duration,
) -> Result<SoakOutcome> {
    let dir = common.out.join(format!("soak-{}", topology.slug()));
    eprintln!("soak: starting {} in {}", topology.label(), dir.display());
    let cluster = Cluster::start(topology, &common.gantry, &dir).await?;
    let outcome = async {
        let fixture = Arc::new(Fixture::make(&cluster).await?);
        // Each user acts once a beat: together, `rate` actions a second.
        let beat = Duration::from_secs_f64(common.clients as f64 / f64::from(rate));
        eprintln!(
            "soak: {} clients, {rate} actions/s for {duration:?}, sampling every {sample_every:?}",
            common.clients
        );
        let (driven, samples) = tokio::join!(
            mix::drive(
                &cluster,
                &fixture,
                common.clients,
                common.seed,
                duration,
                Some(beat)
            ),
            sample(&cluster, duration, sample_every),
        );
        let (driven, samples) = (driven?, samples?);
        eprintln!("soak: checking the runs and the audit chain");
        let checks = check::check(&cluster, &fixture, &driven.started).await?;
        let series: Vec<(Series, Verdict)> = samples
            .into_iter()
            .map(|s| {
                let verdict = trend::judge(&s.points, s.resource.allowance());
                (s, verdict)
            })
            .collect();
        let plots = draw(&series, &cluster.dir, topology)?;
        anyhow::Ok(SoakOutcome {
            topology: topology.clone(),
            clients: common.clients,
            rate,
            sample_every,
            driven,
            checks,
            series,
            plots,
        })
    }
    .await;
    let stopped = cluster.stop().await;
    let outcome = outcome?;
    stopped?;
    Ok(outcome)
}

/// Samples every `every` for `duration`; the series, by resource.
async fn sample(cluster: &Cluster, duration: Duration, every: Duration) -> Result<Vec<Series>> {
    let http = reqwest::Client::new();
    let began = Instant::now();
    let mut series: Vec<Series> = Vec::new();
    let mut push = |resource: Resource, of: &str, at: f64, value: f64| match series
        .iter_mut()
        .find(|s| s.resource == resource && s.of == of)
    {
        Some(s) => s.points.push((at, value)),
        None => series.push(Series {
            resource,
            of: of.to_owned(),
            points: vec![(at, value)],
        }),
    };
    let mut ticks = tokio::time::interval(every);
    while began.elapsed() < duration {
        ticks.tick().await;
        let at = began.elapsed().as_secs_f64();
        let mut backlog: f64 = 0.0;
        for process in cluster.processes() {
            let pid = process.pid().context("a process under soak has exited")?;
            push(Resource::Memory, &process.name, at, rss_mib(pid)?);
            push(Resource::Files, &process.name, at, open_files(pid)? as f64);
            if process.url.is_none() {
                continue;
            }
            let text = http.get(&process.metrics).send().await?.text().await?;
            if let Some(n) = metric(&text, "gantry_db_pool_connections", |_| true) {
                push(Resource::DbConnections, &process.name, at, n);
            }
            // One process reads the database-wide gauges; the others may
            // report none or a stale copy, so the largest stands.
            if let Some(n) = metric(&text, "gantry_queue_depth", |labels| {
                !labels.contains("\"running\"")
            }) {
                backlog = backlog.max(n);
            }
        }
        push(Resource::Backlog, "database", at, backlog);
        if let Some(file) = &cluster.sqlite_file {
            let wal = PathBuf::from(format!("{}-wal", file.display()));
            let bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
            push(Resource::Wal, "database", at, bytes as f64 / 1_048_576.0);
        }
    }
    series.sort_by(|a, b| a.resource.cmp(&b.resource).then(a.of.cmp(&b.of)));
    Ok(series)
}

/// Resident memory of `pid`, from `/proc/PID/status`.
fn rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/PID/status")?;
    Ok(kib / 1024.0)
}

fn open_files(pid: u32) -> Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// The sum of `name`'s samples whose labels pass `keep`, from Prometheus'
/// text format; `None` when there are none.
fn metric(text: &str, name: &str, keep: impl Fn(&str) -> bool) -> Option<f64> {
    let mut total = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (metric, labels) = series.split_once('{').unwrap_or((series, ""));
        if metric == name
            && keep(labels)
            && let Ok(v) = value.parse::<f64>()
        {
            total = Some(total.unwrap_or(0.0) + v);
        }
    }
    total
}

/// A chart per resource into `dir`; their paths.
fn draw(
    series: &[(Series, Verdict)],
    dir: &std::path::Path,
    topology: &Topology,
) -> Result<Vec<PathBuf>> {
    let mut resources: Vec<Resource> = series.iter().map(|(s, _)| s.resource).collect();
    resources.dedup();
    let mut paths = Vec::new();
    for resource in resources {
        let lines: Vec<plot::Line<'_>> = series
            .iter()
            .filter(|(s, _)| s.resource == resource)
            .map(|(s, _)| plot::Line {
                label: &s.of,
                points: &s.points,
            })
            .collect();
        let path = dir.join(format!("{}.svg", resource.slug()));
        plot::chart(
            &path,
            &format!("{}: {}", topology.label(), resource.title()),
            resource.unit(),
            &lines,
        )?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::metric;

    #[test]
    fn a_metric_is_summed_over_the_labels_kept() {
        let text = "# HELP gantry_queue_depth x\n# TYPE gantry_queue_depth gauge\n\
                    gantry_queue_depth{state=\"ready\"} 3\n\
                    gantry_queue_depth{state=\"waiting\"} 2\n\
                    gantry_queue_depth{state=\"running\"} 4\n\
                    gantry_queue_depth_other 9\n";
        assert_eq!(
            metric(text, "gantry_queue_depth", |l| !l.contains("\"running\"")),
            Some(5.0)
        );
        assert_eq!(metric(text, "gantry_queue_depth", |_| true), Some(9.0));
        assert_eq!(metric(text, "gantry_missing", |_| true), None);
    }
}
