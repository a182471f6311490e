//! The tamper-evident audit log: what one record holds, how records chain
//! (`hash = SHA-256(prev_hash ‖ canonical record)`), and a streaming verifier
//! that names the first broken sequence number and why. Pure: the server
//! appends and reads records; everything that decides lives here.
//! Personal fields of a record (format 2) are hashed as salted digests
//! whose values live apart and can be erased ([`personal`]).

mod canonical;
mod chain;
mod event;
pub mod personal;
mod verify;
mod view;

#[cfg(test)]
mod erasure_tests;

pub use canonical::canonical_json;
pub use chain::{ChainLink, GENESIS_HASH, chain_hash, checkpoint_message};
pub use event::{
    Actor, ActorKind, AuditAction, AuditEvent, AuditRecord, MAX_FIELD_CHARS, Outcome, clip,
};
pub use personal::{PersonalField, PersonalFields};
pub use verify::{Anchor, Break, BreakKind, ChainVerifier, Checkpoint, VerifyReport, verify_all};
pub use view::{AuditFilter, AuditPage, ChainStatus};
