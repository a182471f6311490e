//! Property tests (issue 21). Each property runs a bounded number of
//! generated cases (fast enough for every `make test`); a failure prints
//! the shrunk input.
//!
//! - [`parsers`]: specs, templates, cron and time zones, durations, SCIM
//!   filters and PATCH, canonical JSON;
//! - [`canary`]: the canary analysis (failure rates, durations, admission);
//! - [`alerts`]: the alert state machine over any sequence of observations.

mod alerts;
mod canary;
mod parsers;

use proptest::prelude::ProptestConfig;

/// 256 cases each in `make test`; `make fuzz-long` asks for more through
/// `PROPTEST_CASES`.
pub(crate) fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // The shrunk input is in the failure message; no files in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
