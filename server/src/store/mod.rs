//! Storage behind capability traits, combined by `Store`, with one adapter
//! per database: SQLite (the embedded default) and PostgreSQL (several
//! processes or machines). Both adapters compile the same SQL and
//! transaction logic from `portable/` (one file per capability, included
//! with `#[path]`); each adapter file (`sqlite.rs`, `postgres.rs`) is that
//! database's whole seam: its driver and connection, its row-lock clauses,
//! its wake-up mechanism and its migrations. The integration tests run on
//! both databases (`on_both_backends!`), which holds them to one behaviour.
//!
//! Each capability is a trait here with the records it takes and gives
//! (`versions.rs`: `VersionStore`, `NewVersion`, …) and its SQL under the
//! same name in `portable/`. Adding one, say promotions:
//! - `promotions.rs`: the `PromotionStore` trait and its records;
//! - `portable/promotions.rs`: `impl PromotionStore for Adapter`;
//! - `mod promotions;` in `portable/mod.rs`, and here `pub mod`, `pub use`
//!   and `+ PromotionStore` in `Store`'s list.
//!
//! No adapter changes, unless the capability needs something that differs
//! between the databases (a lock clause, a wake-up): that is one item in
//! `sqlite.rs` and one in `postgres.rs`, used from the portable file.

pub mod alert_facts;
pub mod alerts;
pub mod approvals;
pub mod audit;
mod audit_batch;
pub mod bundles;
pub mod canaries;
pub mod delegations;
pub mod freezes;
pub mod passkeys;
pub mod personal_data;
mod postgres;
pub mod promotions;
pub mod queue;
pub mod rate_limits;
pub mod retention;
pub mod run_views;
pub mod runs;
pub mod schedules;
pub mod scim;
pub mod secret_leases;
mod sessions;
mod signal;
pub mod slo;
mod spec_cache;
mod sqlite;
mod sqlite_checkpoint;
pub mod tokens;
pub mod users;
pub mod verifications;
pub mod versions;
pub mod webhooks;

pub use alerts::AlertStore;
pub use approvals::ApprovalStore;
pub use audit::AuditStore;
pub use delegations::DelegationStore;
pub use freezes::FreezeStore;
pub use passkeys::PasskeyStore;
pub use personal_data::PersonalDataStore;
pub use postgres::open_postgres_pool;
pub use promotions::PromotionStore;
pub use queue::QueueStore;
pub use rate_limits::RateLimitStore;
pub use retention::RetentionStore;
pub use run_views::RunViewStore;
pub use runs::RunStore;
pub use schedules::ScheduleStore;
pub use scim::ScimStore;
pub use secret_leases::SecretLeaseStore;
pub use sessions::SessionBackend;
pub use signal::WorkSignal;
pub mod write_turn;
pub use slo::SloStore;
pub use sqlite::open_sqlite_pool;
pub use tokens::TokenStore;
pub use users::UserStore;
pub use verifications::VerificationStore;
pub use versions::VersionStore;
pub use webhooks::WebhookStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::{Preferences, Role, RoleGrant, UserId};
use std::fmt;
use std::sync::Arc;

pub type SharedStore = Arc<dyn Store>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A run was admitted to a canary that ended meanwhile: the caller
    /// picks the run's version again.
    #[error("the canary ended while the run was admitted")]
    CanaryEnded,
    /// Backpressure: the run would break a limit on unfinished runs.
    #[error("too many unfinished runs ({} limit {})", .0.scope.as_str(), .0.limit)]
    Backlogged(runs::Backlogged),
    /// A re-run of a run no longer on the Needs attention list (re-run or
    /// dismissed meanwhile).
    #[error("the run is no longer waiting for attention")]
    AttentionClosed,
    /// Not something this database does (the message says what to use).
    #[error("{0}")]
    Unsupported(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// A unique index refused the write: someone else took the name in a
    /// concurrent transaction.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// The database could not be reached or went away mid-statement (down,
    /// restarting, refusing connections): worth a retry, not a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // PostgreSQL's SQLSTATE classes 08 (connection exception) and
            // 57P (the server shutting down or starting up), and too many
            // connections (53300).
            StoreError::Database(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
            _ => false,
        }
    }

    /// The database's disk is full: SQLite's `SQLITE_FULL` (13),
    /// PostgreSQL's `disk_full` (53100). Nothing was written; freeing space
    /// fixes it.
    pub fn is_out_of_space(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if e.code().is_some_and(|c| c == "13" || c == "53100"))
    }
}

/// How the database's schema compares with the migrations this binary carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: u32,
    /// Known to this binary but not applied (or failed part-way).
    pub pending: Vec<i64>,
    /// Applied in the database but unknown to this binary (it is older than
    /// the schema).
    pub unknown: Vec<i64>,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub source: String,
    pub disabled: bool,
    pub preferences: Preferences,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The generation of sessions that counts: each session keeps the one
    /// it started in, and disabling the account moves it on.
    pub session_epoch: i64,
    /// The identity provider manages it over SCIM.
    pub scim_managed: bool,
    /// When SCIM last changed it.
    pub provisioned_at: Option<DateTime<Utc>>,
}

/// An account `--dev` seeds, with the roles it holds.
#[derive(Debug, Clone)]
pub struct SeedUser {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<(Role, String)>,
}

/// Where seeded grants say they came from.
pub const DEV_SEED_SOURCE: &str = "dev seed";

#[async_trait]
pub trait Store:
    VersionStore
    + RunStore
    + QueueStore
    + ScheduleStore
    + RunViewStore
    + UserStore
    + AuditStore
    + TokenStore
    + ApprovalStore
    + ScimStore
    + PromotionStore
    + DelegationStore
    + SecretLeaseStore
    + AlertStore
    + alert_facts::AlertFactStore
    + SloStore
    + FreezeStore
    + bundles::BundleStore
    + canaries::CanaryStore
    + VerificationStore
    + WebhookStore
    + RateLimitStore
    + PersonalDataStore
    + RetentionStore
    + PasskeyStore
{
    fn backend(&self) -> Backend;

    /// The connection pool now: connections open, and how many are idle.
    fn pool_connections(&self) -> (u32, usize);

    /// Fires when steps may have become claimable.
    fn work_signal(&self) -> WorkSignal;

    /// Starts forwarding other processes' wake-ups into [`Self::work_signal`]
    /// (PostgreSQL LISTEN); a no-op where one process owns the database.
    async fn listen_for_work(&self) -> StoreResult<()>;

    /// Applies every pending migration this binary carries.
    async fn migrate(&self) -> StoreResult<()>;

    /// Compares the database with this binary's migrations; fails when the
    /// database can't be reached.
    async fn migration_status(&self) -> StoreResult<MigrationStatus>;

    /// The session store living in this same database.
    fn sessions(&self) -> SessionBackend;

    /// Writes a consistent copy of the whole database to `path` (which
    /// must not exist) while it stays in use: SQLite's `VACUUM INTO`.
    /// PostgreSQL answers [`StoreError::Unsupported`]: its own tools
    /// (`pg_dump`, point-in-time recovery) back it up.
    async fn backup_into(&self, path: &std::path::Path) -> StoreResult<()>;
}

/// Opens the database named by a `sqlite://…` or `postgres://…` URL.
pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> StoreResult<SharedStore> {
    Ok(match url {
        DatabaseUrl::Sqlite(u) => Arc::new(sqlite::SqliteStore::connect(u, max_connections).await?),
        DatabaseUrl::Postgres(u) => Arc::new(postgres::PgStore::connect(u, max_connections).await?),
    })
}

/// A database URL whose scheme has been checked.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(url.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            // Only the scheme is echoed: the rest may hold a password.
            let scheme = url.split_once(':').map_or("(none)", |(s, _)| s);
            Err(format!(
                "database URL scheme {scheme:?} is not supported: use sqlite://PATH or postgres://USER@HOST/DB"
            ))
        }
    }
}

/// Never prints credentials.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(u) => write!(f, "Sqlite({u:?})"),
            Self::Postgres(_) => f.write_str("Postgres(<redacted>)"),
        }
    }
}

/// Parses a stored role grant; unknown roles or scopes mean the row was not
/// written by us.
fn grant_from_row(role: &str, environment: &str, source: String) -> StoreResult<RoleGrant> {
    let role =
        Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
    let scope = gantry_core::EnvScope::parse(environment)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(RoleGrant {
        role,
        scope,
        source,
    })
}

/// Compares applied migration versions with the ones this binary carries.
fn compare_migrations(known: &sqlx::migrate::Migrator, applied: &[(i64, bool)]) -> MigrationStatus {
    let ok: Vec<i64> = applied
        .iter()
        .filter(|(_, s)| *s)
        .map(|(v, _)| *v)
        .collect();
    let known_versions: Vec<i64> = known.iter().map(|m| m.version).collect();
    MigrationStatus {
        applied: u32::try_from(ok.len()).unwrap_or(u32::MAX),
        pending: known_versions
            .iter()
            .copied()
            .filter(|v| !ok.contains(v))
            .collect(),
        unknown: ok
            .iter()
            .copied()
            .filter(|v| !known_versions.contains(v))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_accepts_the_two_backends() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/g.db"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
    }

    #[test]
    fn database_url_errors_never_echo_credentials() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/x").unwrap_err();
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let dbg = format!(
            "{:?}",
            DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap()
        );
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }
}

#[cfg(test)]
mod unavailable_tests {
    use super::StoreError;

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_anything_else_is_not() {
        let gone = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(StoreError::Database(sqlx::Error::Io(gone)).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt("run status".to_owned()).is_unavailable());
        assert!(!StoreError::Corrupt("run status".to_owned()).is_out_of_space());
    }
}
