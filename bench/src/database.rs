//! The throwaway database each backend is measured on: a new SQLite file, or
//! a new PostgreSQL database created through the admin URL and dropped at
//! the end.

use crate::BackendArg;
use anyhow::{Context, Result, anyhow};
use gantry_server::store;
use sqlx::Connection;
use std::path::Path;

/// A fresh database for one backend.
pub struct Database {
    pub backend: BackendArg,
    pub url: String,
    /// PostgreSQL: the admin URL and the database to drop afterwards.
    admin: Option<(String, String)>,
}

impl Database {
    /// `admin_url`: the PostgreSQL URL allowed to CREATE DATABASE.
    pub async fn create(backend: BackendArg, admin_url: Option<&str>, dir: &Path) -> Result<Self> {
        match backend {
            BackendArg::Sqlite => Ok(Self {
                backend,
                url: format!("sqlite://{}", dir.join("bench.db").display()),
                admin: None,
            }),
            BackendArg::Postgres => {
                let admin = admin_url.map(str::to_owned).ok_or_else(|| {
                    anyhow!("PostgreSQL needs --postgres-admin-url or GANTRY_TEST_POSTGRES_URL (scripts/with-postgres.sh sets it)")
                })?;
                let name = format!("gantry_bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .context("cannot connect to the PostgreSQL admin URL")?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let (base, query) = admin
                    .split_once('?')
                    .map_or((admin.as_str(), ""), |(b, q)| (b, q));
                let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
                let url = if query.is_empty() {
                    format!("{base}/{name}")
                } else {
                    format!("{base}/{name}?{query}")
                };
                Ok(Self {
                    backend,
                    url,
                    admin: Some((admin, name)),
                })
            }
        }
    }

    /// "SQLite 3.46.1", "PostgreSQL 15.14": what a section's title names.
    pub async fn version(&self) -> Result<String> {
        Ok(match self.backend {
            BackendArg::Sqlite => {
                let pool = store::open_sqlite_pool(&self.url, 1).await?;
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                format!("SQLite {v}")
            }
            BackendArg::Postgres => {
                let pool = store::open_postgres_pool(&self.url, 1).await?;
                let v: String = sqlx::query_scalar("SHOW server_version")
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                format!("PostgreSQL {v}")
            }
        })
    }

    pub async fn drop_database(&self) -> Result<()> {
        if let Some((admin, name)) = &self.admin {
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Ok(())
    }
}
