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
mod crash_chaos;
mod delegations;
mod edge;
mod engine;
mod four_eyes;
mod health;
mod helpers;
mod http_egress;
mod lockout;
mod metrics;
mod oidc;
mod openapi;
mod openbao;
mod overview_page;
mod own_secrets;
mod pages;
mod preferences;
mod promotion_cli;
mod promotion_pages;
mod promotions;
mod recovery;
mod remote_workers;
mod rest_api;
mod run_pages;
mod scim;
mod scim_compliance;
mod scim_sequences;
mod scoped_reads;
mod secret_leak;
mod secret_views;
mod secrets;
mod sessions;
mod step_sandbox;
mod step_up;
mod token_pages;
mod tokens;
mod traces;
mod users;
mod vault_connection;
mod vault_dynamic;
mod vault_logs;
mod vault_provider;
mod vault_secrets;
