//! `gantry token create|list|revoke`: service tokens straight from the
//! database, so the first admin token can be made before anyone can sign in.
//! It still goes through the port (authorization, validation, audit), as a
//! system principal: whoever can reach the database is already trusted with
//! it.

use crate::plane::{GantryPlane, PlaneSettings};
use crate::runtime::clock::{Clock, SystemClock};
use crate::store::{self, DatabaseUrl};
use clap::{Args, Subcommand};
use gantry_core::port::RequestContext;
use gantry_core::port::prelude::*;
use gantry_core::token::{NewToken, ServiceToken, TokenKind};
use gantry_core::{EnvScope, Environments, Principal, PrincipalKind, Role, RoleGrant, UserId};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a service token and print it once (alone on standard output, for scripts).
    Create(CreateArgs),
    /// List service tokens (never their secrets).
    List(DbArgs),
    /// Revoke a token by name or id; its next request is refused.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(flatten)]
    pub database: super::DatabaseArgs,

    /// The server's environments, in promotion order (as for `gantry serve`).
    #[arg(
        long,
        env = "GANTRY_ENVIRONMENTS",
        value_name = "LIST",
        default_value = "dev,stage,prod"
    )]
    pub environments: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A unique name: lowercase letters, digits, - _ or . (e.g. ci-deploy).
    #[arg(long)]
    pub name: String,
    /// ROLE@ENV, repeatable (e.g. --role operator@dev --role viewer@*); a bare role means every
    /// environment.
    #[arg(
        long = "role",
        value_name = "ROLE@ENV",
        required_unless_present_any = ["scim", "worker", "metrics"]
    )]
    pub roles: Vec<String>,
    /// A SCIM provisioning token instead: no roles, accepted on /scim/v2 only (for Okta or
    /// Microsoft Entra ID provisioning).
    #[arg(long, conflicts_with = "roles")]
    pub scim: bool,
    /// A worker token instead: no roles, accepted on the execution API only (for
    /// `gantry worker --server URL --token-file FILE`; see docs/workers.md).
    #[arg(long, conflicts_with_all = ["roles", "scim", "can_create_tokens"])]
    pub worker: bool,
    /// A metrics token instead: no roles, accepted on `GET /metrics` on the main port only (for
    /// Prometheus's `authorization: { credentials_file: … }`; see docs/observability.md).
    #[arg(long, conflicts_with_all = ["roles", "scim", "worker", "can_create_tokens"])]
    pub metrics: bool,
    /// The token may make tokens itself (none outliving it): for automation that hands out
    /// short-lived tokens.
    #[arg(long, conflicts_with = "scim")]
    pub can_create_tokens: bool,
    /// Lifetime, at most 365d.
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub expires: String,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The token's name or id.
    pub token: String,
}

pub async fn run(command: TokenCommand) -> ExitCode {
    match execute(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gantry token: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn plane(db: &DbArgs) -> anyhow::Result<GantryPlane> {
    let url = DatabaseUrl::parse(&db.database.database_url)
        .map_err(|e| anyhow::anyhow!("--database-url (GANTRY_DATABASE_URL): {e}"))?;
    let environments = Environments::parse_list(&db.environments)
        .map_err(|e| anyhow::anyhow!("--environments (GANTRY_ENVIRONMENTS): {e}"))?;
    let store = store::connect(&url, 2)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    // Making the first token may come before the first `serve`.
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database: {e}"))?;
    // It serves nothing: nothing to limit.
    let rate_limits =
        crate::ratelimit::Limiter::new(crate::ratelimit::LimiterSettings::off(), store.clone());
    Ok(GantryPlane::new(
        store,
        Arc::new(SystemClock),
        PlaneSettings {
            dev_mode: false,
            audit_key: None,
            environments,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            sso: None,
            public_url: "http://127.0.0.1".to_owned(),
            secrets: Default::default(),
            remote_worker_secrets: Default::default(),
            trace_link_template: None,
            alerts: Default::default(),
            role_mapping: Default::default(),
            step_up_max_age: std::time::Duration::from_secs(15 * 60),
            // The CLI decides no approvals.
            token_approvals: Vec::new(),
            bundle_keys: Vec::new(),
            rate_limits,
            backlog: Default::default(),
            retention: Default::default(),
            // The command line registers no passkeys and signs nobody in.
            break_glass: crate::plane::passkeys::relying_party::BreakGlassSettings::with_defaults(
                "http://127.0.0.1",
            ),
        },
    ))
}

/// The command line as a principal: admin everywhere, named for the record.
fn cli_context() -> RequestContext {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    RequestContext {
        principal: Some(Principal {
            id: UserId("system:gantry-token".into()),
            kind: PrincipalKind::System,
            username: "gantry-token".into(),
            display_name: format!("gantry token (OS user {user})"),
            email: None,
            grants: vec![RoleGrant {
                role: Role::Admin,
                scope: EnvScope::All,
                source: "database access".into(),
            }],
            signed_in_at: None,
            break_glass_until: None,
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
        trace_id: None,
        source_ip: None,
        user_agent: Some(format!("gantry/{} cli", env!("CARGO_PKG_VERSION"))),
    }
}

fn describe(t: &ServiceToken) -> String {
    let now = SystemClock.now();
    let state = format!("{:?}", t.state(now)).to_lowercase();
    let expires = t.expires_at.map_or("never".to_owned(), |e| {
        e.format("%Y-%m-%d %H:%M UTC").to_string()
    });
    let used = t.last_used_at.map_or("never".to_owned(), |e| {
        e.format("%Y-%m-%d %H:%M UTC").to_string()
    });
    let roles = match t.kind {
        TokenKind::Scim => "(SCIM provisioning)".to_owned(),
        TokenKind::Worker => "(worker: execution API)".to_owned(),
        TokenKind::Metrics => "(metrics: GET /metrics)".to_owned(),
        TokenKind::Service => t.roles.join(","),
    };
    // The person it acts for in four eyes (`unknown` for tokens made
    // before Gantry recorded it).
    let maker = t.maker.as_ref().map_or("unknown", |m| m.name.as_str());
    format!(
        "{:<24} {:<8} {:<14} roles {roles:<32} for {maker:<16} expires {expires:<20} last used {used}",
        t.name, state, t.hint,
    )
}

async fn execute(command: TokenCommand) -> anyhow::Result<()> {
    let ctx = cli_context();
    match command {
        TokenCommand::Create(args) => {
            let plane = plane(&args.db).await?;
            let created = plane
                .create_token(
                    &ctx,
                    NewToken {
                        name: args.name,
                        roles: args.roles,
                        expires_in: Some(args.expires),
                        scim: args.scim,
                        worker: args.worker,
                        metrics: args.metrics,
                        can_create_tokens: args.can_create_tokens,
                    },
                )
                .await?;
            eprintln!("{}", describe(&created.token));
            eprintln!("shown once; store it now (send it as Authorization: Bearer …):");
            println!("{}", created.secret);
        }
        TokenCommand::List(db) => {
            for t in plane(&db).await?.list_tokens(&ctx).await? {
                println!("{}", describe(&t));
            }
        }
        TokenCommand::Revoke(args) => {
            let revoked = plane(&args.db)
                .await?
                .revoke_token(&ctx, &args.token)
                .await?;
            println!("revoked: {}", describe(&revoked));
        }
    }
    Ok(())
}
