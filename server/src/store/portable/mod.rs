//! The SQL and transaction logic both database adapters share, one file per
//! store capability (`versions.rs` implements `VersionStore`, `queue.rs`
//! `QueueStore`, …), plus `run_rows.rs`, how the run files read a run row.
//! Each adapter includes this folder once (`#[path = "portable/mod.rs"] mod
//! portable;`) and supplies what it is compiled against: its driver (`Db`,
//! `Adapter`), its row-lock clauses (`FOR_UPDATE`, `SKIP_LOCKED`), an index
//! hint (`ATTENTION_INDEX`), whether a finishing attempt hands its worker
//! the next step (`HANDS_OFF`), its date
//! arithmetic (`RAN_MICROS`, `FINISHED_HOUR`) and its wake-up
//! (`begin_write`, `notify_work`). Placeholders are `$N`, which both drivers
//! accept. Plain Rust, no macros, no generics over the database.

use super::{
    ATTENTION_INDEX, Adapter, DATABASE_BYTES, Db, FINISHED_HOUR, FOR_SHARE, FOR_UPDATE, HANDS_OFF,
    RAN_MICROS, SKIP_LOCKED, begin_write, notify_work,
};

mod alert_facts;
mod alert_pass;
mod alerts;
mod approvals;
mod audit;
mod audit_convert;
mod bundles;
mod canaries;
mod delegations;
mod freezes;
mod passkeys;
mod personal_data;
mod promotions;
mod queue;
mod rate_limits;
mod retention;
mod run_rows;
mod run_views;
pub(super) mod runs;
mod schedules;
mod scim;
mod secret_leases;
pub(super) mod sessions;
mod slo;
mod tokens;
mod users;
mod verifications;
mod versions;
mod webhooks;
