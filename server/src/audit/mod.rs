//! The audit log's server side: verifying the chain in the database or in a
//! file (and on a timer in `serve`), the JSONL export/archive format,
//! Ed25519 checkpoints and streaming to a SIEM. What a record is and how the chain is checked lives in
//! `gantry_core::audit`; appends happen in the store, inside each change's
//! transaction.

pub mod checkpoint;
pub mod file;
pub mod keys;
pub mod sink;
pub mod upgrade;
pub mod verify;
pub mod watch;
