//! Promotion's SQL for both databases, compiled once per adapter like the
//! rest of `portable/`. Pointer moves lock the workflow's row first (the
//! same lock apply takes), so every move of one workflow's pointers is
//! serialized and checked against what its caller saw.

use super::audit::append_in;
use super::run_rows::{Tx, corrupt, db_int, u32_of};
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::StoreResult;
use crate::store::promotions::{
    LedgerQuery, Moved, NewPromotion, PointerMove, PromotionClose, PromotionQuery, PromotionStore,
    RunCounts, StoredPolicy, StoredPromotion,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::freeze::LedgerFreezeBreak;
use gantry_core::promotion::EnvironmentPolicy;
use gantry_core::promotion::evaluation::{ChecklistSnapshot, ChecklistTick};
use gantry_core::promotion::ledger::{Deployment, DeploymentKind};
use gantry_core::promotion::request::{
    PromotionApproval, PromotionRequest, PromotionState, ReviewBasis,
};
use gantry_core::run::RunStatus;
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;

const REQUEST_COLUMNS: &str = "id, workflow_id, workflow, version, content_hash, from_environment, \
    to_environment, replaces, reason, requested_by_id, requested_by_name, created_at, expires_at, \
    state, decided_by_id, decided_by_name, decided_at, comment, deployment_id";

const DEPLOYMENT_COLUMNS: &str = "id, workflow, environment, from_version, to_version, kind, \
    actor_id, actor_name, at, reason, request_id, approvers, checklist, freeze_break";

fn person(row: &DbRow, id: &str, name: &str) -> StoreResult<Option<Person>> {
    Ok(
        match (
            row.try_get::<Option<String>, _>(id)?,
            row.try_get::<Option<String>, _>(name)?,
        ) {
            (Some(id), Some(name)) => Some(Person { id, name }),
            _ => None,
        },
    )
}

fn opt_u32(v: Option<i32>, what: &str) -> StoreResult<Option<u32>> {
    v.map(|v| u32_of(v, what)).transpose()
}

fn state_of(s: &str) -> StoreResult<PromotionState> {
    PromotionState::parse(s).ok_or_else(|| corrupt(format!("promotion state {s:?}")))
}

fn request_from_row(row: &DbRow) -> StoreResult<StoredPromotion> {
    let state: String = row.try_get("state")?;
    Ok(StoredPromotion {
        workflow_id: row.try_get("workflow_id")?,
        deployment_id: row.try_get("deployment_id")?,
        request: PromotionRequest {
            id: row.try_get("id")?,
            workflow: row.try_get("workflow")?,
            version: u32_of(row.try_get("version")?, "version")?,
            content_hash: row.try_get("content_hash")?,
            from_environment: row.try_get("from_environment")?,
            to_environment: row.try_get("to_environment")?,
            replaces: opt_u32(row.try_get("replaces")?, "version")?,
            requested_by: Person {
                id: row.try_get("requested_by_id")?,
                name: row.try_get("requested_by_name")?,
            },
            reason: row.try_get("reason")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            state: state_of(&state)?,
            approvals: Vec::new(),
            ticks: Vec::new(),
            decided_by: person(row, "decided_by_id", "decided_by_name")?,
            decided_at: row.try_get("decided_at")?,
            comment: row.try_get("comment")?,
        },
    })
}

fn deployment_from_row(row: &DbRow) -> StoreResult<Deployment> {
    let kind: String = row.try_get("kind")?;
    let approvers: String = row.try_get("approvers")?;
    let checklist: Option<String> = row.try_get("checklist")?;
    let freeze_break: Option<String> = row.try_get("freeze_break")?;
    Ok(Deployment {
        id: row.try_get("id")?,
        workflow: row.try_get("workflow")?,
        environment: row.try_get("environment")?,
        from_version: opt_u32(row.try_get("from_version")?, "version")?,
        to_version: u32_of(row.try_get("to_version")?, "version")?,
        kind: DeploymentKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("deployment kind {kind:?}")))?,
        actor: Person {
            id: row.try_get("actor_id")?,
            name: row.try_get("actor_name")?,
        },
        at: row.try_get("at")?,
        reason: row.try_get("reason")?,
        request_id: row.try_get("request_id")?,
        approvers: serde_json::from_str(&approvers).map_err(corrupt)?,
        checklist: checklist
            .map(|c| serde_json::from_str::<ChecklistSnapshot>(&c))
            .transpose()
            .map_err(corrupt)?,
        freeze_break: freeze_break
            .map(|b| serde_json::from_str::<LedgerFreezeBreak>(&b))
            .transpose()
            .map_err(corrupt)?,
    })
}

impl Adapter {
    /// Loads the approvals and ticks of `requests` (one query each).
    async fn with_reviews(
        &self,
        mut requests: Vec<StoredPromotion>,
    ) -> StoreResult<Vec<StoredPromotion>> {
        if requests.is_empty() {
            return Ok(requests);
        }
        let mut q = QueryBuilder::<Db>::new(
            "SELECT request_id, by_id, by_name, on_behalf_of_id, on_behalf_of_name, at, comment,
                    content_hash, diff_digest
             FROM promotion_approvals WHERE request_id IN (",
        );
        let mut ids = q.separated(", ");
        for r in &requests {
            ids.push_bind(r.request.id.clone());
        }
        q.push(") ORDER BY at");
        for row in q.build().fetch_all(&self.pool).await? {
            let id: String = row.try_get("request_id")?;
            let approval = PromotionApproval {
                by: Person {
                    id: row.try_get("by_id")?,
                    name: row.try_get("by_name")?,
                },
                on_behalf_of: person(&row, "on_behalf_of_id", "on_behalf_of_name")?,
                at: row.try_get("at")?,
                comment: row.try_get("comment")?,
                reviewed: ReviewBasis {
                    content_hash: row.try_get("content_hash")?,
                    diff_digest: row.try_get("diff_digest")?,
                },
            };
            if let Some(r) = requests.iter_mut().find(|r| r.request.id == id) {
                r.request.approvals.push(approval);
            }
        }
        let mut q = QueryBuilder::<Db>::new(
            "SELECT request_id, item, by_id, by_name, at, evidence, acknowledged
             FROM promotion_ticks WHERE request_id IN (",
        );
        let mut ids = q.separated(", ");
        for r in &requests {
            ids.push_bind(r.request.id.clone());
        }
        q.push(") ORDER BY at");
        for row in q.build().fetch_all(&self.pool).await? {
            let id: String = row.try_get("request_id")?;
            let acknowledged: String = row.try_get("acknowledged")?;
            let tick = ChecklistTick {
                item: row.try_get("item")?,
                by: Person {
                    id: row.try_get("by_id")?,
                    name: row.try_get("by_name")?,
                },
                at: row.try_get("at")?,
                evidence: row.try_get("evidence")?,
                acknowledged: serde_json::from_str(&acknowledged).map_err(corrupt)?,
            };
            if let Some(r) = requests.iter_mut().find(|r| r.request.id == id) {
                r.request.ticks.push(tick);
            }
        }
        Ok(requests)
    }

    /// The request's state, locked for the rest of the transaction.
    pub(super) async fn lock_request(tx: &mut Tx, id: &str) -> StoreResult<Option<PromotionState>> {
        let state: Option<String> = sqlx::query_scalar(&format!(
            "SELECT state FROM promotion_requests WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        state.as_deref().map(state_of).transpose()
    }
}

#[async_trait]
impl PromotionStore for Adapter {
    async fn workflow_id(&self, workflow: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM workflows WHERE name = $1")
                .bind(workflow)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn environment_policies(&self) -> StoreResult<Vec<StoredPolicy>> {
        let rows = sqlx::query(
            "SELECT environment, policy, updated_at, updated_by_id, updated_by_name
             FROM environment_policies",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let policy: String = row.try_get("policy")?;
                Ok(StoredPolicy {
                    environment: row.try_get("environment")?,
                    policy: serde_json::from_str::<EnvironmentPolicy>(&policy).map_err(corrupt)?,
                    updated_by: Person {
                        id: row.try_get("updated_by_id")?,
                        name: row.try_get("updated_by_name")?,
                    },
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn save_policy(&self, policy: &StoredPolicy, audit: AuditEvent) -> StoreResult<()> {
        let text = serde_json::to_string(&policy.policy).map_err(corrupt)?;
        let mut tx = begin_write(&self.writes).await?;
        sqlx::query(
            "INSERT INTO environment_policies (environment, policy, updated_at, updated_by_id,
                                               updated_by_name)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (environment) DO UPDATE SET policy = excluded.policy,
                updated_at = excluded.updated_at, updated_by_id = excluded.updated_by_id,
                updated_by_name = excluded.updated_by_name",
        )
        .bind(&policy.environment)
        .bind(&text)
        .bind(policy.updated_at)
        .bind(&policy.updated_by.id)
        .bind(&policy.updated_by.name)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn file_promotion(&self, new: NewPromotion<'_>, audit: AuditEvent) -> StoreResult<()> {
        let r = new.request;
        let mut tx = begin_write(&self.writes).await?;
        if let Some(old) = new.supersede {
            sqlx::query(
                "UPDATE promotion_requests SET state = 'superseded', decided_at = $2
                 WHERE id = $1 AND state = 'pending'",
            )
            .bind(old)
            .bind(r.created_at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(&format!(
            "INSERT INTO promotion_requests ({REQUEST_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending',
                     NULL, NULL, NULL, NULL, NULL)"
        ))
        .bind(new.id)
        .bind(new.workflow_id)
        .bind(&r.workflow)
        .bind(db_int(r.version))
        .bind(&r.content_hash)
        .bind(&r.from_environment)
        .bind(&r.to_environment)
        .bind(r.replaces.map(db_int))
        .bind(&r.reason)
        .bind(&r.requested_by.id)
        .bind(&r.requested_by.name)
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn promotion_request(&self, id: &str) -> StoreResult<Option<StoredPromotion>> {
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self
            .with_reviews(vec![request_from_row(&row)?])
            .await?
            .pop())
    }

    async fn promotion_requests(
        &self,
        query: PromotionQuery<'_>,
    ) -> StoreResult<Vec<StoredPromotion>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE 1 = 1"
        ));
        if let Some(w) = query.workflow {
            q.push(" AND workflow = ").push_bind(w);
        }
        if let Some(e) = query.to_environment {
            q.push(" AND to_environment = ").push_bind(e);
        }
        if let Some(s) = query.state {
            q.push(" AND state = ").push_bind(s.as_str());
        }
        if let Some(visible) = query.visible {
            q.push(" AND to_environment IN (");
            let mut list = q.separated(", ");
            for env in visible {
                list.push_bind(env.as_str());
            }
            if visible.is_empty() {
                list.push_bind("");
            }
            q.push(")");
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        let requests = rows
            .iter()
            .map(request_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.with_reviews(requests).await
    }

    async fn record_promotion_approval(
        &self,
        id: &str,
        approval: &PromotionApproval,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        if Adapter::lock_request(&mut tx, id).await? != Some(PromotionState::Pending) {
            return Ok(false);
        }
        sqlx::query("DELETE FROM promotion_approvals WHERE request_id = $1 AND by_id = $2")
            .bind(id)
            .bind(&approval.by.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO promotion_approvals (request_id, by_id, by_name, on_behalf_of_id,
                 on_behalf_of_name, at, comment, content_hash, diff_digest)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(&approval.by.id)
        .bind(&approval.by.name)
        .bind(approval.on_behalf_of.as_ref().map(|p| p.id.as_str()))
        .bind(approval.on_behalf_of.as_ref().map(|p| p.name.as_str()))
        .bind(approval.at)
        .bind(approval.comment.as_deref())
        .bind(&approval.reviewed.content_hash)
        .bind(&approval.reviewed.diff_digest)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn mark_promotion_item(
        &self,
        id: &str,
        item: &str,
        tick: Option<&ChecklistTick>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        if Adapter::lock_request(&mut tx, id).await? != Some(PromotionState::Pending) {
            return Ok(false);
        }
        sqlx::query("DELETE FROM promotion_ticks WHERE request_id = $1 AND item = $2")
            .bind(id)
            .bind(item)
            .execute(&mut *tx)
            .await?;
        if let Some(t) = tick {
            sqlx::query(
                "INSERT INTO promotion_ticks (request_id, item, by_id, by_name, at, evidence,
                                              acknowledged)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(item)
            .bind(&t.by.id)
            .bind(&t.by.name)
            .bind(t.at)
            .bind(t.evidence.as_deref())
            .bind(serde_json::to_string(&t.acknowledged).map_err(corrupt)?)
            .execute(&mut *tx)
            .await?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn close_promotion(
        &self,
        close: PromotionClose<'_>,
        audit: AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = begin_write(&self.writes).await?;
        if Adapter::lock_request(&mut tx, close.id).await? != Some(PromotionState::Pending) {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE promotion_requests SET state = $2, decided_by_id = $3, decided_by_name = $4,
                    decided_at = $5, comment = $6
             WHERE id = $1",
        )
        .bind(close.id)
        .bind(close.state.as_str())
        .bind(close.by.map(|p| p.id.as_str()))
        .bind(close.by.map(|p| p.name.as_str()))
        .bind(close.at)
        .bind(close.comment)
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn move_pointer(&self, change: PointerMove<'_>, audit: AuditEvent) -> StoreResult<Moved> {
        let mut tx = begin_write(&self.writes).await?;
        // The lock every pointer move of this workflow (and apply) takes.
        sqlx::query(&format!(
            "SELECT id FROM workflows WHERE id = $1{FOR_UPDATE}"
        ))
        .bind(change.workflow_id)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(request) = change.request {
            match Adapter::lock_request(&mut tx, request).await? {
                Some(PromotionState::Pending) => {}
                Some(other) => return Ok(Moved::NotPending(other)),
                None => return Ok(Moved::NotPending(PromotionState::Cancelled)),
            }
        }
        let active: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM workflow_environments WHERE workflow_id = $1 AND environment = $2",
        )
        .bind(change.workflow_id)
        .bind(change.environment)
        .fetch_optional(&mut *tx)
        .await?;
        let active = opt_u32(active, "version")?;
        if active != change.expected {
            return Ok(Moved::Stale { active });
        }
        sqlx::query(
            "INSERT INTO workflow_environments (workflow_id, environment, version, schedule_enabled,
                                                next_fire_at, activated_at, activated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workflow_id, environment) DO UPDATE SET
                version = excluded.version,
                next_fire_at = CASE WHEN workflow_environments.schedule_enabled
                                    THEN excluded.next_fire_at END,
                activated_at = excluded.activated_at, activated_by = excluded.activated_by",
        )
        .bind(change.workflow_id)
        .bind(change.environment)
        .bind(db_int(change.to_version))
        .bind(true)
        .bind(change.next_fire_at)
        .bind(change.at)
        .bind(&change.actor.name)
        .execute(&mut *tx)
        .await?;
        // A freeze broken for this request shows on its ledger row.
        let freeze_break = match change.request {
            Some(request) => super::freezes::ledger_break(&mut tx, request).await?,
            None => None,
        };
        let deployment = Deployment {
            id: uuid::Uuid::now_v7().to_string(),
            workflow: change.workflow.to_owned(),
            environment: change.environment.to_owned(),
            from_version: active,
            to_version: change.to_version,
            kind: change.kind,
            actor: change.actor.clone(),
            at: change.at,
            reason: change.reason.map(str::to_owned),
            request_id: change.request.map(str::to_owned),
            approvers: change.approvers.to_vec(),
            checklist: change.checklist.cloned(),
            freeze_break,
        };
        insert_deployment(&mut tx, change.workflow_id, &deployment).await?;
        if let Some(request) = change.request {
            sqlx::query(
                "UPDATE promotion_requests SET state = 'promoted', decided_at = $2,
                        deployment_id = $3
                 WHERE id = $1",
            )
            .bind(request)
            .bind(change.at)
            .bind(&deployment.id)
            .execute(&mut *tx)
            .await?;
        }
        append_in(
            &mut tx,
            audit
                .detail("deployment", deployment.id.clone())
                .detail(
                    "from_version",
                    active.map_or(serde_json::Value::Null, Into::into),
                )
                .detail("to_version", change.to_version),
        )
        .await?;
        tx.commit().await?;
        Ok(Moved::Done(Box::new(deployment)))
    }

    async fn deployments(&self, query: LedgerQuery<'_>) -> StoreResult<Vec<Deployment>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE 1 = 1"
        ));
        if let Some(w) = query.workflow {
            q.push(" AND workflow = ").push_bind(w);
        }
        if let Some(e) = query.environment {
            q.push(" AND environment = ").push_bind(e);
        }
        if let Some(t) = query.until {
            q.push(" AND at <= ").push_bind(t);
        }
        if let Some(visible) = query.visible {
            q.push(" AND environment IN (");
            let mut list = q.separated(", ");
            for env in visible {
                list.push_bind(env.as_str());
            }
            if visible.is_empty() {
                list.push_bind("");
            }
            q.push(")");
        }
        q.push(" ORDER BY at DESC, id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(deployment_from_row).collect()
    }

    async fn deployment_history(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Vec<Deployment>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments
             WHERE workflow_id = $1 AND environment = $2 ORDER BY at, id"
        ))
        .bind(workflow_id)
        .bind(environment)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(deployment_from_row).collect()
    }

    async fn deployment(&self, id: &str) -> StoreResult<Option<Deployment>> {
        let row = sqlx::query(&format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(deployment_from_row).transpose()
    }

    async fn run_counts(
        &self,
        workflow_id: &str,
        environment: &str,
        version: u32,
        since: DateTime<Utc>,
    ) -> StoreResult<RunCounts> {
        let rows = sqlx::query(
            "SELECT status, count(*) AS n FROM runs
             WHERE workflow_id = $1 AND environment = $2 AND version = $3 AND created_at >= $4
               AND status IN ('succeeded', 'failed', 'timed_out')
             GROUP BY status",
        )
        .bind(workflow_id)
        .bind(environment)
        .bind(db_int(version))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = RunCounts::default();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n = u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(u32::MAX);
            counts.finished += n;
            if status == "succeeded" {
                counts.succeeded += n;
            }
        }
        Ok(counts)
    }

    async fn last_finished_run(
        &self,
        workflow_id: &str,
        environment: &str,
    ) -> StoreResult<Option<(String, RunStatus)>> {
        let row = sqlx::query(
            "SELECT id, status FROM runs
             WHERE workflow_id = $1 AND environment = $2
               AND status IN ('succeeded', 'failed', 'cancelled', 'timed_out')
             ORDER BY id DESC LIMIT 1",
        )
        .bind(workflow_id)
        .bind(environment)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let status: String = row.try_get("status")?;
            Ok((
                row.try_get("id")?,
                RunStatus::parse(&status)
                    .ok_or_else(|| corrupt(format!("run status {status:?}")))?,
            ))
        })
        .transpose()
    }

    async fn unfinished_runs(
        &self,
        workflow_id: &str,
        environment: &str,
        version: u32,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM runs
             WHERE workflow_id = $1 AND environment = $2 AND version = $3
               AND status IN ('queued', 'running')
             ORDER BY id",
        )
        .bind(workflow_id)
        .bind(environment)
        .bind(db_int(version))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn version_authors(&self, workflow_id: &str, version: u32) -> StoreResult<Vec<String>> {
        let author: Option<Option<String>> = sqlx::query_scalar(
            "SELECT created_by_person FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
        )
        .bind(workflow_id)
        .bind(db_int(version))
        .fetch_optional(&self.pool)
        .await?;
        Ok(author.flatten().into_iter().collect())
    }
}

/// Appends a ledger row inside the caller's transaction (apply uses it too).
pub(super) async fn insert_deployment(
    tx: &mut Tx,
    workflow_id: &str,
    d: &Deployment,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO deployments (id, workflow_id, workflow, environment, from_version, to_version,
             kind, actor_id, actor_name, at, reason, request_id, approvers, checklist,
             freeze_break)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&d.id)
    .bind(workflow_id)
    .bind(&d.workflow)
    .bind(&d.environment)
    .bind(d.from_version.map(db_int))
    .bind(db_int(d.to_version))
    .bind(d.kind.as_str())
    .bind(&d.actor.id)
    .bind(&d.actor.name)
    .bind(d.at)
    .bind(d.reason.as_deref())
    .bind(d.request_id.as_deref())
    .bind(serde_json::to_string(&d.approvers).map_err(corrupt)?)
    .bind(
        d.checklist
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(corrupt)?,
    )
    .bind(
        d.freeze_break
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(corrupt)?,
    )
    .execute(&mut **tx)
    .await?;
    super::verifications::insert_verification_for(tx, workflow_id, d).await
}
