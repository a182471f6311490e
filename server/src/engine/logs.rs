//! Captured output on its way to the database: masked, numbered, capped,
//! batched. A step that prints a gigabyte costs us a bounded number of rows
//! and says what it dropped; a step that prints a secret's value (in any of
//! its encodings, even split across writes) stores `***` instead.

use super::source::SharedSource;
use crate::runtime::clock::Clock;
use gantry_core::execution::{Lease, LogLine};
use gantry_core::run::LogStream;
use gantry_core::secret::{Masker, StreamMasker};
use std::collections::BTreeMap;
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

/// What a sink sends its writer.
enum Message {
    /// Text of one stream; `ends_line` unless a long line was cut while
    /// being read (its next piece continues it).
    Text {
        stream: LogStream,
        text: String,
        ends_line: bool,
    },
    /// Mask these secrets' values in everything written after this.
    Mask(Masker),
}

/// Where an attempt's lines go. Cheap to clone (one per stream reader).
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<Message>,
}

impl LogSink {
    pub async fn line(&self, stream: LogStream, text: impl Into<String>) {
        self.piece(stream, text, true).await;
    }

    /// Part of a line: `ends_line` false when the next piece continues it.
    pub async fn piece(&self, stream: LogStream, text: impl Into<String>, ends_line: bool) {
        // The writer only goes away after every sink is dropped.
        let _ = self
            .tx
            .send(Message::Text {
                stream,
                text: text.into(),
                ends_line,
            })
            .await;
    }

    pub async fn system(&self, text: impl Into<String>) {
        self.line(LogStream::System, text).await;
    }

    /// From now on, every stream is masked for these values (an attempt's
    /// fetched secrets; sent before the step starts, so no output of the
    /// step precedes it).
    pub async fn mask(&self, masker: Masker) {
        let _ = self.tx.send(Message::Mask(masker)).await;
    }
}

/// Masking per stream: each stream is one text whose lines are rebuilt
/// after masking, so a value spanning lines (a PEM key) or split across
/// writes is still one occurrence.
#[derive(Default)]
struct Masking {
    streams: BTreeMap<u8, (StreamMasker, String)>,
    masker: Option<Masker>,
}

impl Masking {
    /// The complete lines `text` finishes, masked.
    fn push(&mut self, stream: LogStream, text: &str, ends_line: bool) -> Vec<String> {
        let Some(masker) = &self.masker else {
            return vec![text.to_owned()];
        };
        let (streamer, partial) = self
            .streams
            .entry(stream_key(stream))
            .or_insert_with(|| (StreamMasker::new(masker.clone()), String::new()));
        partial.push_str(&streamer.push(text));
        if ends_line {
            partial.push_str(&streamer.push("\n"));
        }
        take_lines(partial)
    }

    /// The rest of every stream, at the end.
    fn finish(&mut self) -> Vec<(LogStream, String)> {
        let mut out = Vec::new();
        for (key, (streamer, partial)) in &mut self.streams {
            partial.push_str(&streamer.finish());
            let stream = stream_of(*key);
            out.extend(take_lines(partial).into_iter().map(|l| (stream, l)));
            if !partial.is_empty() {
                out.push((stream, std::mem::take(partial)));
            }
        }
        out
    }
}

/// Removes the complete lines from the front of `buffer`.
fn take_lines(buffer: &mut String) -> Vec<String> {
    let Some(end) = buffer.rfind('\n') else {
        return Vec::new();
    };
    let rest = buffer.split_off(end + 1);
    let done = std::mem::replace(buffer, rest);
    done[..end].split('\n').map(str::to_owned).collect()
}

fn stream_key(stream: LogStream) -> u8 {
    match stream {
        LogStream::Stdout => 0,
        LogStream::Stderr => 1,
        LogStream::System => 2,
    }
}

fn stream_of(key: u8) -> LogStream {
    match key {
        0 => LogStream::Stdout,
        1 => LogStream::Stderr,
        _ => LogStream::System,
    }
}

/// Starts the writer task of one attempt. Await the handle after dropping
/// every sink: it answers the lines not written yet, which the worker
/// hands in with the attempt's end (one write for both; for a short step,
/// its only one).
pub fn start(
    source: SharedSource,
    clock: Arc<dyn Clock>,
    lease: Lease,
    limits: LogLimits,
) -> (LogSink, tokio::task::JoinHandle<Vec<LogLine>>) {
    let (tx, mut rx) = mpsc::channel::<Message>(1024);
    let handle = tokio::spawn(async move {
        let mut out = Lines {
            batch: Vec::new(),
            line_no: 0,
            bytes: 0,
            dropped_lines: 0,
            dropped_bytes: 0,
            limits,
        };
        let mut masking = Masking::default();
        let flush_every = Duration::from_millis(150);
        loop {
            let next = tokio::time::timeout(flush_every, rx.recv()).await;
            match next {
                Ok(Some(Message::Mask(masker))) => masking.masker = Some(masker),
                Ok(Some(Message::Text {
                    stream,
                    text,
                    ends_line,
                })) => {
                    for line in masking.push(stream, &text, ends_line) {
                        out.add(stream, line, clock.now());
                    }
                    // Batches stay small in bytes too: a remote worker sends
                    // each as one request, under the server's body limit.
                    if out.batch.len() >= 256 || batch_bytes(&out.batch) >= MAX_BATCH_BYTES {
                        write(&source, &lease, &mut out.batch).await;
                    }
                }
                Ok(None) => break,
                Err(_) => write(&source, &lease, &mut out.batch).await,
            }
        }
        for (stream, line) in masking.finish() {
            out.add(stream, line, clock.now());
        }
        let Lines {
            mut batch,
            mut line_no,
            dropped_lines,
            dropped_bytes,
            ..
        } = out;
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
        batch
    });
    (LogSink { tx }, handle)
}

/// The attempt's numbered lines so far, within its limits.
struct Lines {
    batch: Vec<LogLine>,
    line_no: u32,
    bytes: usize,
    dropped_lines: u64,
    dropped_bytes: usize,
    limits: LogLimits,
}

impl Lines {
    fn add(&mut self, stream: LogStream, mut text: String, at: chrono::DateTime<chrono::Utc>) {
        let limits = self.limits;
        // PostgreSQL's text can't hold NUL, and one such line would fail
        // the write that carries the attempt's end with it.
        if text.contains('\0') {
            text = text.replace('\0', "\u{FFFD}");
        }
        let over = self.line_no >= limits.max_lines || self.bytes + text.len() > limits.max_bytes;
        if over && stream != LogStream::System {
            self.dropped_lines += 1;
            self.dropped_bytes += text.len();
            return;
        }
        if text.len() > limits.max_line_bytes {
            let cut = floor_char_boundary(&text, limits.max_line_bytes);
            let extra = text.len() - cut;
            text.truncate(cut);
            text.push_str(&format!(" … [line cut: {extra} more bytes]"));
        }
        self.bytes += text.len();
        self.line_no += 1;
        self.batch.push(LogLine {
            line: self.line_no,
            stream,
            at,
            text,
        });
    }
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
