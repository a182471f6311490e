//! Registering a verified bundle's versions, for both databases: all of
//! them or none, active nowhere, each with its provenance row.

use super::audit::append_in;
use super::run_rows::{Tx, db_int, u32_of};
use super::{Adapter, FOR_UPDATE, begin_write};
use crate::store::StoreResult;
use crate::store::bundles::{BundleStore, NewImport};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::bundle::{ImportedVersion, VersionClash};
use sqlx::types::Json;

/// The workflow's id, its row created (and locked) when it is new here.
async fn lock_or_create_workflow(
    tx: &mut Tx,
    name: &str,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let select = format!("SELECT id FROM workflows WHERE name = $1{FOR_UPDATE}");
    if let Some(id) = sqlx::query_scalar::<_, String>(&select)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(id);
    }
    // As apply does: a concurrent first registration wins the insert, and
    // this transaction then locks its row.
    sqlx::query(
        "INSERT INTO workflows (id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query_scalar(&select)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?)
}

#[async_trait]
impl BundleStore for Adapter {
    async fn import_versions(
        &self,
        new: NewImport<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Result<Vec<ImportedVersion>, VersionClash>> {
        let payload = &new.bundle.payload;
        let mut tx = begin_write(&self.writes).await?;
        let workflow_id = lock_or_create_workflow(&mut tx, &payload.workflow, now).await?;
        let mut outcome = Vec::with_capacity(payload.versions.len());
        for (bundled, spec) in payload.versions.iter().zip(&new.bundle.specs) {
            let present: Option<i32> = sqlx::query_scalar(
                "SELECT version FROM workflow_versions WHERE workflow_id = $1 AND content_hash = $2",
            )
            .bind(&workflow_id)
            .bind(&bundled.content_hash)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(local) = present {
                outcome.push(ImportedVersion {
                    version: bundled.version,
                    content_hash: bundled.content_hash.clone(),
                    created: false,
                    present_as: Some(u32_of(local, "version")?),
                });
                continue;
            }
            let taken: Option<String> = sqlx::query_scalar(
                "SELECT content_hash FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
            )
            .bind(&workflow_id)
            .bind(db_int(bundled.version))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(here) = taken {
                // Dropping the transaction rolls back the versions already
                // inserted (and a workflow row made for them).
                return Ok(Err(VersionClash {
                    workflow: payload.workflow.clone(),
                    version: bundled.version,
                    here,
                    bundle: bundled.content_hash.clone(),
                }));
            }
            sqlx::query(
                "INSERT INTO workflow_versions (workflow_id, version, content_hash, spec, source,
                     created_at, created_by, created_by_person)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&workflow_id)
            .bind(db_int(bundled.version))
            .bind(&bundled.content_hash)
            .bind(Json(spec))
            .bind(&bundled.source)
            .bind(now)
            .bind(new.imported_by)
            .bind(new.imported_by_person)
            .execute(&mut *tx)
            .await?;
            let ledger: Vec<_> = payload
                .ledger
                .iter()
                .filter(|row| row.to_version == bundled.version)
                .collect();
            sqlx::query(
                "INSERT INTO bundle_imports (workflow_id, version, content_hash, signer_key,
                     exported_from, source_environment, source_created_at, source_created_by,
                     source_ledger, imported_at, imported_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&workflow_id)
            .bind(db_int(bundled.version))
            .bind(&bundled.content_hash)
            .bind(&new.bundle.signer_key)
            .bind(&payload.exported_from)
            .bind(payload.environment.as_deref())
            .bind(bundled.created_at)
            .bind(&bundled.created_by)
            .bind(serde_json::to_string(&ledger).unwrap_or_else(|_| "[]".to_owned()))
            .bind(now)
            .bind(new.imported_by)
            .execute(&mut *tx)
            .await?;
            outcome.push(ImportedVersion {
                version: bundled.version,
                content_hash: bundled.content_hash.clone(),
                created: true,
                present_as: None,
            });
        }
        let created: Vec<u32> = outcome
            .iter()
            .filter(|v| v.created)
            .map(|v| v.version)
            .collect();
        let present: Vec<u32> = outcome
            .iter()
            .filter(|v| !v.created)
            .map(|v| v.version)
            .collect();
        append_in(
            &mut tx,
            audit
                .detail("created", created)
                .detail("already_present", present),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(outcome))
    }
}
