//! Verifications' SQL for both databases, compiled once per adapter like
//! the rest of `portable/`. The row itself is written by
//! [`insert_verification_for`], inside the transaction of the ledger row it
//! verifies.

use super::audit::append_in;
use super::run_rows::{Tx, corrupt, db_int, push_environment_filter, u32_of};
use super::{Adapter, Db, begin_write};
use crate::store::StoreResult;
use crate::store::verifications::{VerificationOutcome, VerificationQuery, VerificationStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::audit::AuditEvent;
use gantry_core::promotion::EnvironmentPolicy;
use gantry_core::promotion::ledger::{Deployment, DeploymentKind};
use gantry_core::promotion::verification::{
    OnVerificationFailure, Verification, VerificationPolicy, VerificationState,
};
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;

const COLUMNS: &str = "id, deployment_id, workflow, environment, version, kind, verifier, \
    on_failure, state, run_id, created_at, started_at, finished_at, why, rollback_id";

fn verification_from_row(row: &DbRow) -> StoreResult<Verification> {
    let kind: String = row.try_get("kind")?;
    let on_failure: String = row.try_get("on_failure")?;
    let state: String = row.try_get("state")?;
    Ok(Verification {
        id: row.try_get("id")?,
        deployment_id: row.try_get("deployment_id")?,
        workflow: row.try_get("workflow")?,
        environment: row.try_get("environment")?,
        version: u32_of(row.try_get("version")?, "version")?,
        kind: DeploymentKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("verification kind {kind:?}")))?,
        verifier: row.try_get("verifier")?,
        on_failure: OnVerificationFailure::parse(&on_failure)
            .ok_or_else(|| corrupt(format!("verification on_failure {on_failure:?}")))?,
        state: VerificationState::parse(&state)
            .ok_or_else(|| corrupt(format!("verification state {state:?}")))?,
        run_id: row.try_get("run_id")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        why: row.try_get("why")?,
        rollback_id: row.try_get("rollback_id")?,
    })
}

/// Writes the pending verification of ledger row `d`, inside its
/// transaction, when `d` is a move the environment's policy (as saved now)
/// verifies. Every pointer move goes through `insert_deployment`, so no
/// promotion or rollback can skip it, and a crash can't lose it.
pub(super) async fn insert_verification_for(
    tx: &mut Tx,
    workflow_id: &str,
    d: &Deployment,
) -> StoreResult<()> {
    if !VerificationPolicy::verifies(d.kind) {
        return Ok(());
    }
    let saved: Option<String> =
        sqlx::query_scalar("SELECT policy FROM environment_policies WHERE environment = $1")
            .bind(&d.environment)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(saved) = saved else {
        return Ok(());
    };
    let policy: EnvironmentPolicy = serde_json::from_str(&saved).map_err(corrupt)?;
    let Some(verification) = policy.verification else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO verifications (id, deployment_id, workflow_id, workflow, environment,
             version, kind, verifier, on_failure, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&d.id)
    .bind(workflow_id)
    .bind(&d.workflow)
    .bind(&d.environment)
    .bind(db_int(d.to_version))
    .bind(d.kind.as_str())
    .bind(&verification.workflow)
    .bind(verification.on_failure.as_str())
    .bind(d.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl VerificationStore for Adapter {
    async fn open_verifications(&self, limit: u32) -> StoreResult<Vec<Verification>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM verifications WHERE state IN ('pending', 'running')
             ORDER BY created_at, id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(verification_from_row).collect()
    }

    async fn claim_verification(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let claimed = sqlx::query(
            "UPDATE verifications SET state = 'running', run_id = id, started_at = $2
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            append_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn finish_verification(
        &self,
        outcome: VerificationOutcome<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        let finished = sqlx::query(
            "UPDATE verifications SET state = $2, why = $3, rollback_id = $4, finished_at = $5
             WHERE id = $1 AND state IN ('pending', 'running')",
        )
        .bind(outcome.id)
        .bind(outcome.state.as_str())
        .bind(outcome.why)
        .bind(outcome.rollback_id)
        .bind(outcome.at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if finished {
            append_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(finished)
    }

    async fn verifications(&self, query: VerificationQuery<'_>) -> StoreResult<Vec<Verification>> {
        let mut q =
            QueryBuilder::<Db>::new(format!("SELECT {COLUMNS} FROM verifications WHERE 1 = 1"));
        if let Some(w) = query.workflow {
            q.push(" AND workflow = ").push_bind(w);
        }
        if let Some(e) = query.environment {
            q.push(" AND environment = ").push_bind(e);
        }
        if let Some(visible) = query.visible {
            push_environment_filter(&mut q, visible);
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(verification_from_row).collect()
    }

    async fn verification_for_request(
        &self,
        request_id: &str,
    ) -> StoreResult<Option<Verification>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM verifications
             WHERE deployment_id IN (SELECT id FROM deployments WHERE request_id = $1)
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(verification_from_row).transpose()
    }

    async fn failed_last_verifications(&self, limit: u32) -> StoreResult<Vec<Verification>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM verifications v
             WHERE state = 'failed'
               AND NOT EXISTS (SELECT 1 FROM verifications w
                               WHERE w.workflow_id = v.workflow_id
                                 AND w.environment = v.environment
                                 AND (w.created_at, w.id) > (v.created_at, v.id)
                                 AND (v.rollback_id IS NULL OR w.deployment_id <> v.rollback_id))
             ORDER BY created_at DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(verification_from_row).collect()
    }

    async fn last_verification(
        &self,
        workflow: &str,
        environment: &str,
    ) -> StoreResult<Option<Verification>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM verifications v
             WHERE workflow_id = (SELECT id FROM workflows WHERE name = $1) AND environment = $2
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(workflow)
        .bind(environment)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(verification_from_row).transpose()
    }
}
