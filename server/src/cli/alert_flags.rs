//! How `serve` evaluates alerts and delivers notifications (see
//! docs/alerting.md).

use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct AlertFlags {
    /// The key sealing notification channels' credentials (Slack URLs, PagerDuty routing keys,
    /// webhook signing keys) in the database: a file holding at least 32 random bytes, e.g.
    /// `openssl rand -base64 48`. Give every serve process the same file. Default with SQLite: a
    /// key made on first start beside the database file (gantry-alert-credentials.key); with
    /// PostgreSQL there is no default and channels can't be created without it.
    #[arg(long, env = "GANTRY_ALERT_CREDENTIALS_KEY_FILE", value_name = "PATH")]
    pub alert_credentials_key_file: Option<PathBuf>,

    /// How often alert rules are evaluated (finished runs are judged, pending alerts whose `for`
    /// elapsed fire, reminders go out) and due notifications are sent.
    #[arg(long, env = "GANTRY_ALERT_EVALUATION_INTERVAL", value_name = "DURATION",
          default_value = "5s", value_parser = humantime::parse_duration)]
    pub alert_evaluation_interval: Duration,

    /// How long one notification request may take before it counts as failed (and is retried).
    #[arg(long, env = "GANTRY_NOTIFICATION_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = humantime::parse_duration)]
    pub notification_timeout: Duration,

    /// A notification still undelivered this long after it was queued is marked failed and no
    /// longer retried (it shows as failed in the notification history).
    #[arg(long, env = "GANTRY_NOTIFICATION_GIVE_UP_AFTER", value_name = "DURATION",
          default_value = "24h", value_parser = humantime::parse_duration)]
    pub notification_give_up_after: Duration,
}
