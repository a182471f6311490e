//! Integration tests: each boots the real application on port 0 against its
//! own temporary SQLite database and talks HTTP to it.

// A test crate: panicking on a broken fixture is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod approval_pages;
mod approvals;
mod audit;
mod audit_delivery;
mod audit_pages;
mod audit_processes;
mod auth;
mod authz_matrix;
mod cli;
mod edge;
mod engine;
mod health;
mod helpers;
mod lockout;
mod oidc;
mod openapi;
mod pages;
mod preferences;
mod recovery;
mod rest_api;
mod run_pages;
mod scim;
mod scim_compliance;
mod scim_sequences;
mod scoped_reads;
mod step_up;
mod token_pages;
mod tokens;
mod users;
