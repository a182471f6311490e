//! The HTTP plumbing every route shares, below the routes themselves: the
//! accept loop with its header deadline and per-address connection cap
//! (`listener`), body limits and deadlines (`edge`), security headers,
//! cross-site writes refused (`csrf`), cross-origin reads (`cors`),
//! Content-Security-Policy violation reports (`csp_reports`),
//! same-origin form redirects, and the probes (`health`).

pub mod cors;
pub mod csp_reports;
pub mod csrf;
pub mod edge;
pub mod error;
pub mod form_redirects;
pub mod health;
pub mod listener;
pub mod metrics;
pub mod request_span;
pub mod security_headers;
pub mod tls;
