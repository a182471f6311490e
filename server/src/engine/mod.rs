//! The engine: workers that execute steps and the scheduler, both driven
//! by the database queue. Pure decisions (what runs next, retries) come from
//! `gantry_core::run`; this module does the I/O.

pub mod admission;
pub mod egress;
pub mod http;
pub mod http_clients;
pub mod leases;
pub mod logs;
pub mod remote;
pub mod sandbox;
pub mod scheduler;
pub mod shell;
pub mod source;
pub mod worker;

pub use scheduler::Scheduler;
pub use worker::{Worker, WorkerSettings, worker_id};
