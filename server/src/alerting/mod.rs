//! Alerting in the server: evaluating rules over Gantry's own run records
//! (`evaluator`, with what some kinds judge gathered in `facts`), which
//! silences hold notices (`silences`), channel credentials at rest (`seal`),
//! and delivering the outbox (`sender`, through `deliver`'s channel
//! formats). Rules, channels and silences are managed through the port
//! (`plane/alerts.rs`).

pub mod deliver;
pub mod evaluator;
pub mod facts;
pub mod run;
pub mod seal;
pub mod sender;
pub mod silences;
pub mod spec_rules;

use std::sync::Arc;

/// What the port needs of alerting: the sealer for channel credentials
/// (`None`: none configured, so channels can't be stored) and a way to
/// wake the loop when something changed (a test notification queued, a
/// silence ended early).
#[derive(Debug, Clone, Default)]
pub struct AlertSettings {
    pub sealer: Option<Arc<seal::Sealer>>,
    pub wake: Arc<tokio::sync::Notify>,
}
