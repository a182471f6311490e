//! Workflows' and versions' SQL for both databases, compiled once per
//! adapter like the rest of `portable/`: registering a version, the
//! version active in each environment, and the workflow list and detail.

use super::audit::append_in;
use super::promotions::insert_deployment;
use super::run_rows::{SUMMARY_COLUMNS, Tx, db_int, push_environment_filter, run_summary, u32_of};
use super::{Adapter, Db, FOR_UPDATE, begin_write};
use crate::store::StoreResult;
use crate::store::versions::{ActiveSpec, NewVersion, VersionStore, WorkflowView};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::approval::Person;
use gantry_core::audit::AuditEvent;
use gantry_core::promotion::ledger::{Deployment, DeploymentKind};
use gantry_core::run::RunSummary;
use gantry_core::spec::WorkflowSpec;
use gantry_core::workflow::{
    ActiveVersion, ApplyOutcome, VersionInfo, WorkflowDetail, WorkflowSummary,
};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Adapter {
    /// A version's spec, read through `exec` (the open transaction, or the
    /// pool) unless cached; versions are immutable, so the cache never lies.
    async fn cached_spec<'e, E>(
        &self,
        exec: E,
        workflow_id: &str,
        version: u32,
    ) -> StoreResult<Arc<WorkflowSpec>>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let key = (workflow_id.to_owned(), version);
        if let Some(spec) = self.specs.get(&key) {
            return Ok(spec);
        }
        let Json(spec): Json<WorkflowSpec> = sqlx::query_scalar(
            "SELECT spec FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
        )
        .bind(workflow_id)
        .bind(db_int(version))
        .fetch_one(exec)
        .await?;
        Ok(self.specs.insert(key, spec))
    }

    /// A version's spec inside a write transaction (the run and queue
    /// files read it under their locks).
    pub(super) async fn spec_in(
        &self,
        tx: &mut Tx,
        workflow_id: &str,
        version: u32,
    ) -> StoreResult<Arc<WorkflowSpec>> {
        self.cached_spec(&mut **tx, workflow_id, version).await
    }

    /// The newest run per workflow among the environments the reader may
    /// see (ids are time-ordered): the newest of each workflow and
    /// environment, one step down `runs_workflow_env_id` each, rather than
    /// a scan of every run grouped by workflow.
    async fn last_runs(
        &self,
        runs_in: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, RunSummary>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs WHERE id IN (
                 SELECT (SELECT r.id FROM runs r
                         WHERE r.workflow_id = e.workflow_id AND r.environment = e.environment
                         ORDER BY r.id DESC LIMIT 1)
                 FROM workflow_environments e WHERE 1 = 1"
        ));
        if let Some(visible) = runs_in {
            push_environment_filter(&mut q, visible);
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut newest: BTreeMap<String, RunSummary> = BTreeMap::new();
        for row in &rows {
            let run = run_summary(row)?;
            match newest.get(&run.workflow) {
                Some(seen) if seen.id >= run.id => {}
                _ => {
                    newest.insert(run.workflow.clone(), run);
                }
            }
        }
        Ok(newest)
    }

    async fn active_versions(
        &self,
        environments: &[String],
    ) -> StoreResult<BTreeMap<String, Vec<ActiveVersion>>> {
        let rows = sqlx::query(
            "SELECT workflow_id, environment, version, schedule_enabled, next_fire_at
             FROM workflow_environments",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_workflow: BTreeMap<String, Vec<ActiveVersion>> = BTreeMap::new();
        for row in rows {
            let environment: String = row.try_get("environment")?;
            by_workflow
                .entry(row.try_get("workflow_id")?)
                .or_default()
                .push(ActiveVersion {
                    environment,
                    version: u32_of(row.try_get("version")?, "version")?,
                    schedule_enabled: row.try_get("schedule_enabled")?,
                    next_fire_at: row.try_get("next_fire_at")?,
                });
        }
        let rank = |env: &str| {
            environments
                .iter()
                .position(|e| e == env)
                .unwrap_or(usize::MAX)
        };
        for list in by_workflow.values_mut() {
            list.sort_by_key(|a| rank(&a.environment));
        }
        Ok(by_workflow)
    }

    async fn summaries_of_workflows(
        &self,
        only: Option<&str>,
        view: WorkflowView<'_>,
    ) -> StoreResult<Vec<(String, WorkflowSummary)>> {
        // The latest version's spec comes from the cache (versions never
        // change): reading and parsing every workflow's spec JSON on each
        // list was most of the Workflows page's time.
        let rows = sqlx::query(
            "SELECT w.id, w.name, v.version
             FROM workflows w
             JOIN workflow_versions v ON v.workflow_id = w.id
              AND v.version = (SELECT max(version) FROM workflow_versions WHERE workflow_id = w.id)
             WHERE $1 IS NULL OR w.name = $1
             ORDER BY w.name",
        )
        .bind(only)
        .fetch_all(&self.pool)
        .await?;
        let mut active = self.active_versions(view.environments).await?;
        let mut last = self.last_runs(view.runs_in).await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let name: String = row.try_get("name")?;
            let latest_version = u32_of(row.try_get("version")?, "version")?;
            let spec = self.cached_spec(&self.pool, &id, latest_version).await?;
            summaries.push((
                id.clone(),
                WorkflowSummary {
                    description: spec.description.clone(),
                    latest_version,
                    active: active.remove(&id).unwrap_or_default(),
                    schedule: spec.schedule.clone(),
                    last_run: last.remove(&name),
                    name,
                },
            ));
        }
        Ok(summaries)
    }
}

#[async_trait]
impl VersionStore for Adapter {
    async fn apply_version(
        &self,
        new: NewVersion<'_>,
        now: DateTime<Utc>,
        audit: AuditEvent,
    ) -> StoreResult<ApplyOutcome> {
        let hash = new.spec.content_hash();
        let name = &new.spec.name;
        let mut tx = begin_write(&self.writes).await?;
        let existing: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM workflows WHERE name = $1{FOR_UPDATE}"
        ))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let workflow_id = match existing {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                // ON CONFLICT: a concurrent first apply of the same name wins
                // the insert; we then lock and use its row.
                sqlx::query(
                    "INSERT INTO workflows (id, name, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(&id)
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query_scalar(&format!(
                    "SELECT id FROM workflows WHERE name = $1{FOR_UPDATE}"
                ))
                .bind(name)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let same: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM workflow_versions WHERE workflow_id = $1 AND content_hash = $2",
        )
        .bind(&workflow_id)
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        // A version imported from a bundle (`portable/bundles.rs`) and never
        // active here: applying its content is how it enters this
        // installation's first environment, as a new version would.
        let never_active = match same {
            Some(version) => {
                let moves: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM bundle_imports b
                     WHERE b.workflow_id = $1 AND b.version = $2
                       AND NOT EXISTS (SELECT 1 FROM deployments d
                                       WHERE d.workflow_id = b.workflow_id
                                         AND d.to_version = b.version)",
                )
                .bind(&workflow_id)
                .bind(version)
                .fetch_one(&mut *tx)
                .await?;
                moves > 0
            }
            None => false,
        };
        if let Some(version) = same.filter(|_| !never_active) {
            // Nothing changes, but the attempt is still on record.
            append_in(
                &mut tx,
                audit
                    .detail("version", version)
                    .detail("content_hash", hash.clone())
                    .detail("created", false),
            )
            .await?;
            tx.commit().await?;
            return Ok(ApplyOutcome {
                workflow: name.clone(),
                version: u32_of(version, "version")?,
                content_hash: hash,
                created: false,
                activated_in: None,
            });
        }
        let version = match same {
            Some(imported) => imported,
            None => {
                let latest: Option<i32> = sqlx::query_scalar(
                    "SELECT max(version) FROM workflow_versions WHERE workflow_id = $1",
                )
                .bind(&workflow_id)
                .fetch_one(&mut *tx)
                .await?;
                let version = latest.unwrap_or(0) + 1;
                sqlx::query(
                    "INSERT INTO workflow_versions (workflow_id, version, content_hash, spec, source,
                         created_at, created_by, created_by_person)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&workflow_id)
                .bind(version)
                .bind(&hash)
                .bind(Json(new.spec))
                .bind(new.source)
                .bind(now)
                .bind(new.created_by)
                .bind(new.created_by_person)
                .execute(&mut *tx)
                .await?;
                version
            }
        };
        let replaced: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM workflow_environments WHERE workflow_id = $1 AND environment = $2",
        )
        .bind(&workflow_id)
        .bind(new.activate_in)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO workflow_environments (workflow_id, environment, version, schedule_enabled,
                                                next_fire_at, activated_at, activated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workflow_id, environment) DO UPDATE SET
                version = excluded.version, next_fire_at = excluded.next_fire_at,
                activated_at = excluded.activated_at, activated_by = excluded.activated_by",
        )
        .bind(&workflow_id)
        .bind(new.activate_in)
        .bind(version)
        .bind(true)
        .bind(new.next_fire_at)
        .bind(now)
        .bind(new.created_by)
        .execute(&mut *tx)
        .await?;
        // Activation on apply is a pointer move like any other: the ledger
        // has it.
        insert_deployment(
            &mut tx,
            &workflow_id,
            &Deployment {
                id: uuid::Uuid::now_v7().to_string(),
                workflow: name.clone(),
                environment: new.activate_in.to_owned(),
                from_version: replaced.map(|v| u32_of(v, "version")).transpose()?,
                to_version: u32_of(version, "version")?,
                kind: DeploymentKind::Apply,
                actor: Person {
                    id: new.created_by_person.unwrap_or(new.created_by).to_owned(),
                    name: new.created_by.to_owned(),
                },
                at: now,
                reason: None,
                request_id: None,
                approvers: Vec::new(),
                checklist: None,
                freeze_break: None,
            },
        )
        .await?;
        append_in(
            &mut tx,
            audit
                .detail("version", version)
                .detail("content_hash", hash.clone())
                .detail("created", !never_active)
                .detail("activated_in", new.activate_in),
        )
        .await?;
        tx.commit().await?;
        Ok(ApplyOutcome {
            workflow: name.clone(),
            version: u32_of(version, "version")?,
            content_hash: hash,
            created: !never_active,
            activated_in: Some(new.activate_in.to_owned()),
        })
    }

    async fn active_spec(
        &self,
        workflow: &str,
        environment: &str,
    ) -> StoreResult<Option<ActiveSpec>> {
        let row: Option<(String, i32)> = sqlx::query_as(
            "SELECT w.id, e.version FROM workflows w
             JOIN workflow_environments e ON e.workflow_id = w.id AND e.environment = $2
             WHERE w.name = $1",
        )
        .bind(workflow)
        .bind(environment)
        .fetch_optional(&self.pool)
        .await?;
        let Some((workflow_id, version)) = row else {
            return Ok(None);
        };
        let version = u32_of(version, "version")?;
        let spec = self.version_spec(&workflow_id, version).await?;
        Ok(Some(ActiveSpec {
            workflow_id,
            workflow: workflow.to_owned(),
            version,
            spec,
        }))
    }

    async fn workflow_exists(&self, workflow: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM workflows WHERE name = $1")
            .bind(workflow)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn version_spec(
        &self,
        workflow_id: &str,
        version: u32,
    ) -> StoreResult<Arc<WorkflowSpec>> {
        self.cached_spec(&self.pool, workflow_id, version).await
    }

    async fn list_workflows(&self, view: WorkflowView<'_>) -> StoreResult<Vec<WorkflowSummary>> {
        Ok(self
            .summaries_of_workflows(None, view)
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    async fn workflow_names(&self) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM workflows ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn workflow_detail(
        &self,
        workflow: &str,
        version: Option<u32>,
        view: WorkflowView<'_>,
    ) -> StoreResult<Option<WorkflowDetail>> {
        let Some((workflow_id, summary)) = self
            .summaries_of_workflows(Some(workflow), view)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let rows: Vec<(i32, String, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT version, content_hash, created_at, created_by FROM workflow_versions
             WHERE workflow_id = $1 ORDER BY version DESC",
        )
        .bind(&workflow_id)
        .fetch_all(&self.pool)
        .await?;
        let versions = rows
            .into_iter()
            .map(|(v, content_hash, created_at, created_by)| {
                Ok(VersionInfo {
                    version: u32_of(v, "version")?,
                    content_hash,
                    created_at,
                    created_by,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let wanted = version.unwrap_or(summary.latest_version);
        let Some(shown) = versions.iter().find(|v| v.version == wanted).cloned() else {
            return Ok(None);
        };
        let source: String = sqlx::query_scalar(
            "SELECT source FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
        )
        .bind(&workflow_id)
        .bind(db_int(wanted))
        .fetch_one(&self.pool)
        .await?;
        let spec = self.version_spec(&workflow_id, wanted).await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs WHERE workflow_name = "
        ));
        q.push_bind(workflow);
        if let Some(visible) = view.runs_in {
            push_environment_filter(&mut q, visible);
        }
        q.push(" ORDER BY id DESC LIMIT 20");
        let recent_runs = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(run_summary)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(WorkflowDetail {
            summary,
            versions,
            shown,
            spec: (*spec).clone(),
            source,
            recent_runs,
        }))
    }
}
