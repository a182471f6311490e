//! The JSONL format of exports and archives: a header line naming the
//! stretch of chain the file holds, then its records and checkpoints in
//! order, one JSON object per line. A file verifies on its own: the header
//! gives the hash the first record must link to.

use gantry_core::audit::{AuditRecord, ChainLink, Checkpoint};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

pub const FORMAT: &str = "gantry-audit/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    /// `export` or `archive`.
    pub kind: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The record before the first one in the file.
    pub anchor: ChainLink,
    /// The last record in the file (the anchor when it holds none).
    pub last: ChainLink,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    Header(Header),
    Record(Box<AuditRecord>),
    Checkpoint(Checkpoint),
}

/// Writes one line; callers stream records through it.
pub fn write_line(out: &mut impl Write, line: &Line) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("line {line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a file's lines lazily: the header first, then records and
/// checkpoints as they come.
pub struct Reader<R> {
    lines: std::io::Lines<R>,
    number: usize,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Self {
        Reader {
            lines: input.lines(),
            number: 0,
        }
    }

    pub fn header(&mut self) -> Result<Header, FileError> {
        match self.next_line()? {
            Some(Line::Header(h)) if h.format == FORMAT => Ok(h),
            Some(Line::Header(h)) => Err(FileError::Malformed {
                line: self.number,
                message: format!("format {:?} is not {FORMAT}", h.format),
            }),
            _ => Err(FileError::Malformed {
                line: self.number.max(1),
                message: format!("the first line must be the {FORMAT} header"),
            }),
        }
    }

    /// The number of the line last read (1-based).
    pub fn line_number(&self) -> usize {
        self.number
    }

    pub fn next_line(&mut self) -> Result<Option<Line>, FileError> {
        loop {
            let Some(text) = self.lines.next().transpose()? else {
                return Ok(None);
            };
            self.number += 1;
            if text.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| FileError::Malformed {
                    line: self.number,
                    message: e.to_string(),
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::audit::{Actor, AuditAction, AuditEvent, GENESIS_HASH};

    #[test]
    fn lines_round_trip() {
        let record = AuditEvent::new(
            chrono::Utc::now(),
            Actor::system("t"),
            AuditAction::SignIn,
            "user/x",
        )
        .detail("method", "dev")
        .sequence(1, GENESIS_HASH, &mut || [7; 16]);
        let header = Header {
            format: FORMAT.into(),
            kind: "export".into(),
            created_at: chrono::Utc::now(),
            anchor: ChainLink::genesis(),
            last: ChainLink {
                seq: 1,
                hash: record.hash.clone(),
            },
        };
        let mut out = Vec::new();
        write_line(&mut out, &Line::Header(header.clone())).unwrap();
        write_line(&mut out, &Line::Record(Box::new(record.clone()))).unwrap();
        let mut reader = Reader::new(out.as_slice());
        assert_eq!(reader.header().unwrap(), header);
        let Some(Line::Record(back)) = reader.next_line().unwrap() else {
            panic!("a record");
        };
        assert_eq!(*back, record);
        assert_eq!(back.computed_hash(), record.hash);
        assert!(reader.next_line().unwrap().is_none());
    }

    #[test]
    fn a_file_without_header_is_refused_with_its_line() {
        let mut reader = Reader::new(&b"{\"type\":\"record\"}\n"[..]);
        let err = reader.header().unwrap_err().to_string();
        assert!(err.starts_with("line 1"), "{err}");
    }
}
