//! Gantry's server: implements the `gantry_core` control-plane port over a
//! SQL store and serves the dashboard, probes and (later) the REST API.

pub mod alerting;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod config;
mod demo;
pub mod engine;
pub mod http;
pub mod pages;
pub mod plane;
pub mod ratelimit;
pub mod runtime;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod store;
