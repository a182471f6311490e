//! Approval requests' SQL for both databases, compiled once per adapter
//! like the rest of `portable/`.

use super::audit::append_in;
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::approvals::{ApprovalStore, Decided, NewApproval, StoreDecision, StoredApproval};
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::{ApprovalDecided, ApprovalRequest, ApprovalStatus, Person};
use gantry_core::audit::AuditEvent;
use serde_json::Value;
use sqlx::Row;
use std::collections::BTreeMap;

const COLUMNS: &str = "id, action, workflow_id, workflow, version, environment, inputs, reason, \
    requested_by_id, requested_by_name, created_at, expires_at, status, decided_by_id, \
    decided_by_name, decided_at, comment, run_id, requested_by_person";

type DbRow = <Db as sqlx::Database>::Row;

fn request_from_row(row: &DbRow) -> StoreResult<StoredApproval> {
    let inputs: String = row.try_get("inputs")?;
    let inputs: BTreeMap<String, Value> =
        serde_json::from_str(&inputs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let status: String = row.try_get("status")?;
    let version: i32 = row.try_get("version")?;
    let decided_by = match (
        row.try_get::<Option<String>, _>("decided_by_id")?,
        row.try_get::<Option<String>, _>("decided_by_name")?,
    ) {
        (Some(id), Some(name)) => Some(Person { id, name }),
        _ => None,
    };
    let requested_by_id: String = row.try_get("requested_by_id")?;
    Ok(StoredApproval {
        // Requests filed before people were recorded: the credential
        // itself is the requester.
        requester_person: row
            .try_get::<Option<String>, _>("requested_by_person")?
            .unwrap_or_else(|| requested_by_id.clone()),
        author_person: None,
        workflow_id: row.try_get("workflow_id")?,
        request: ApprovalRequest {
            id: row.try_get("id")?,
            action: row.try_get("action")?,
            workflow: row.try_get("workflow")?,
            version: u32::try_from(version).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            environment: row.try_get("environment")?,
            input_names: inputs.keys().cloned().collect(),
            requested_by: Person {
                id: requested_by_id,
                name: row.try_get("requested_by_name")?,
            },
            reason: row.try_get("reason")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            status: ApprovalStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("approval status {status:?}")))?,
            decided_by,
            decided_at: row.try_get("decided_at")?,
            comment: row.try_get("comment")?,
            run_id: row.try_get("run_id")?,
        },
        inputs,
    })
}

#[async_trait]
impl ApprovalStore for Adapter {
    async fn create_approval(
        &self,
        new: NewApproval<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<ApprovalRequest> {
        let id = uuid::Uuid::now_v7().to_string();
        let expires_at = ApprovalRequest::expiry_from(now);
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(
            "INSERT INTO approval_requests (id, action, workflow_id, workflow, version, environment,
                 inputs, reason, requested_by_id, requested_by_name, created_at, expires_at, status,
                 requested_by_person)
             VALUES ($1, 'run', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12)",
        )
        .bind(&id)
        .bind(new.workflow_id)
        .bind(new.workflow)
        .bind(i32::try_from(new.version).unwrap_or(i32::MAX))
        .bind(new.environment)
        .bind(serde_json::to_string(new.inputs).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(new.reason)
        .bind(&new.requested_by.id)
        .bind(&new.requested_by.name)
        .bind(now)
        .bind(expires_at)
        .bind(new.requester_person)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            audit
                .detail("approval_id", id.clone())
                .detail("requester_person", new.requester_person),
        )
        .await?;
        tx.commit().await?;
        Ok(ApprovalRequest {
            id,
            action: "run".into(),
            workflow: new.workflow.to_owned(),
            version: new.version,
            environment: new.environment.to_owned(),
            input_names: new.inputs.keys().cloned().collect(),
            requested_by: new.requested_by.clone(),
            reason: new.reason.map(str::to_owned),
            created_at: now,
            expires_at,
            status: ApprovalStatus::Pending,
            decided_by: None,
            decided_at: None,
            comment: None,
            run_id: None,
        })
    }

    async fn approval(&self, id: &str) -> StoreResult<Option<StoredApproval>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM approval_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(mut stored) = row.as_ref().map(request_from_row).transpose()? else {
            return Ok(None);
        };
        stored.author_person = sqlx::query_scalar(
            "SELECT created_by_person FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
        )
        .bind(&stored.workflow_id)
        .bind(i32::try_from(stored.request.version).unwrap_or(i32::MAX))
        .fetch_optional(&self.pool)
        .await?
        .flatten();
        Ok(Some(stored))
    }

    async fn list_approvals(
        &self,
        pending: Option<bool>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        let filter = match pending {
            None => "",
            Some(true) => " WHERE status = 'pending' AND expires_at > $1",
            Some(false) => " WHERE NOT (status = 'pending' AND expires_at > $1)",
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM approval_requests{filter} ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        let query = sqlx::query(&sql);
        let rows = if pending.is_some() {
            query.bind(now)
        } else {
            query
        }
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| request_from_row(r).map(|s| s.request))
            .collect()
    }

    async fn decide_approval(
        &self,
        id: &str,
        decision: StoreDecision<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<Decided> {
        let StoreDecision {
            approve,
            decider,
            comment,
            run,
        } = decision;
        let mut tx = begin_write(&self.writes).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM approval_requests WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Decided::NotFound);
        };
        let mut request = request_from_row(&row)?.request;
        let status = request.status_at(now);
        if status != ApprovalStatus::Pending {
            return Ok(Decided::NoLongerPending(status));
        }
        let run = match (&run, approve) {
            (Some(new), true) => Some(self.insert_run(&mut tx, new, now).await?),
            _ => None,
        };
        request.status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        request.decided_by = Some(decider.clone());
        request.decided_at = Some(now);
        request.comment = comment.map(str::to_owned);
        request.run_id = run.as_ref().map(|r| r.id.clone());
        sqlx::query(
            "UPDATE approval_requests SET status = $1, decided_by_id = $2, decided_by_name = $3,
                 decided_at = $4, comment = $5, run_id = $6 WHERE id = $7",
        )
        .bind(request.status.as_str())
        .bind(&decider.id)
        .bind(&decider.name)
        .bind(now)
        .bind(comment)
        .bind(&request.run_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            audit
                .detail("approval_id", id)
                .detail("requested_by", request.requested_by.name.clone())
                .detail("requested_by_id", request.requested_by.id.clone())
                .detail("run_id", request.run_id.clone()),
        )
        .await?;
        tx.commit().await?;
        Ok(Decided::Done(Box::new(ApprovalDecided {
            request,
            run,
            on_behalf_of: None,
        })))
    }
}
