//! Gantry's server: implements the `gantry_core` control-plane port over a
//! SQL store and serves the dashboard, probes and (later) the REST API.

pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
mod demo;
pub mod edge;
pub mod engine;
pub mod form_redirects;
pub mod hardening;
pub mod health;
pub mod listener;
pub mod plane;
pub mod security_headers;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
