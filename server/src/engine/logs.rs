//! Captured output on its way to the database: numbered, capped, batched.
//! A step that prints a gigabyte costs us a bounded number of rows and says
//! what it dropped.

use super::source::SharedSource;
use crate::runtime::clock::Clock;
use gantry_core::execution::{Lease, LogLine};
use gantry_core::run::LogStream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Per-attempt capture limits.
#[derive(Debug, Clone, Copy)]
pub struct LogLimits {
    pub max_lines: u32,
    pub max_bytes: usize,
    /// Longer lines are cut (and marked) so one line can't be a megabyte.
    pub max_line_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        Self {
            max_lines: 10_000,
            max_bytes: 2 * 1024 * 1024,
            max_line_bytes: 16 * 1024,
        }
    }
}

/// Where an attempt's lines go. Cheap to clone (one per stream reader).
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<(LogStream, String)>,
}

impl LogSink {
    pub async fn line(&self, stream: LogStream, text: impl Into<String>) {
        // The writer only goes away after every sink is dropped.
        let _ = self.tx.send((stream, text.into())).await;
    }

    pub async fn system(&self, text: impl Into<String>) {
        self.line(LogStream::System, text).await;
    }
}

/// Starts the writer task of one attempt; await the handle after dropping
/// every sink to flush the last batch.
pub fn start(
    source: SharedSource,
    clock: Arc<dyn Clock>,
    lease: Lease,
    limits: LogLimits,
) -> (LogSink, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<(LogStream, String)>(1024);
    let handle = tokio::spawn(async move {
        let mut batch: Vec<LogLine> = Vec::new();
        let mut line_no: u32 = 0;
        let mut bytes = 0usize;
        let (mut dropped_lines, mut dropped_bytes) = (0u64, 0usize);
        let flush_every = Duration::from_millis(150);
        loop {
            let next = tokio::time::timeout(flush_every, rx.recv()).await;
            match next {
                Ok(Some((stream, mut text))) => {
                    let over = line_no >= limits.max_lines || bytes + text.len() > limits.max_bytes;
                    if over && stream != LogStream::System {
                        dropped_lines += 1;
                        dropped_bytes += text.len();
                        continue;
                    }
                    if text.len() > limits.max_line_bytes {
                        let cut = floor_char_boundary(&text, limits.max_line_bytes);
                        let extra = text.len() - cut;
                        text.truncate(cut);
                        text.push_str(&format!(" … [line cut: {extra} more bytes]"));
                    }
                    bytes += text.len();
                    line_no += 1;
                    batch.push(LogLine {
                        line: line_no,
                        stream,
                        at: clock.now(),
                        text,
                    });
                    // Batches stay small in bytes too: a remote worker sends
                    // each as one request, under the server's body limit.
                    if batch.len() >= 256 || batch_bytes(&batch) >= MAX_BATCH_BYTES {
                        write(&source, &lease, &mut batch).await;
                    }
                }
                Ok(None) => break,
                Err(_) => write(&source, &lease, &mut batch).await,
            }
        }
        if dropped_lines > 0 {
            line_no += 1;
            batch.push(LogLine {
                line: line_no,
                stream: LogStream::System,
                at: clock.now(),
                text: format!(
                    "output truncated: {dropped_lines} more lines ({dropped_bytes} bytes) were dropped \
                     after the first {} lines / {} bytes",
                    limits.max_lines, limits.max_bytes
                ),
            });
        }
        write(&source, &lease, &mut batch).await;
    });
    (LogSink { tx }, handle)
}

/// Text per log batch before it is sent: well under the server's 2 MiB
/// request limit even if JSON escaping swells it several times.
const MAX_BATCH_BYTES: usize = 256 * 1024;

fn batch_bytes(batch: &[LogLine]) -> usize {
    batch.iter().map(|l| l.text.len()).sum()
}

async fn write(source: &SharedSource, lease: &Lease, batch: &mut Vec<LogLine>) {
    if batch.is_empty() {
        return;
    }
    if let Err(e) = source.append_logs(lease, batch.clone()).await {
        // Logs are best effort; the step's outcome is recorded separately.
        tracing::warn!(error = %e, lines = batch.len(), "could not store log lines");
    }
    batch.clear();
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
