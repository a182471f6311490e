use super::*;
use crate::approval::{ApprovalStatus, Person};
use crate::run::Trigger;
use crate::workflow::ActiveVersion;
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn workflow(name: &str, active: &[(&str, u32)]) -> WorkflowSummary {
    WorkflowSummary {
        name: name.into(),
        description: None,
        latest_version: 9,
        active: active
            .iter()
            .map(|(env, version)| ActiveVersion {
                environment: (*env).into(),
                version: *version,
                schedule_enabled: false,
                next_fire_at: None,
            })
            .collect(),
        schedule: None,
        last_run: None,
    }
}

fn count(env: &str, status: RunStatus, count: u32) -> RunCount {
    RunCount {
        environment: env.into(),
        status,
        count,
    }
}

fn run(id: &str, workflow: &str, env: &str, status: RunStatus) -> RunSummary {
    RunSummary {
        id: id.into(),
        workflow: workflow.into(),
        version: 2,
        environment: env.into(),
        status,
        trigger: Trigger::Manual,
        triggered_by: "Oscar".into(),
        created_at: t0(),
        started_at: Some(t0()),
        finished_at: Some(t0()),
        cancel_requested: false,
    }
}

fn approval(env: &str) -> ApprovalRequest {
    ApprovalRequest {
        id: format!("a-{env}"),
        action: "run".into(),
        workflow: "deploy".into(),
        version: 1,
        environment: env.into(),
        input_names: vec![],
        requested_by: Person {
            id: "u1".into(),
            name: "Oscar".into(),
        },
        reason: None,
        created_at: t0(),
        expires_at: t0(),
        status: ApprovalStatus::Pending,
        decided_by: None,
        decided_at: None,
        comment: None,
        run_id: None,
    }
}

#[test]
fn each_visible_environment_gets_its_workflows_runs_failures_and_approvals() {
    let envs = ["dev".to_owned(), "prod".to_owned()];
    let workflows = [
        workflow("report", &[("dev", 3), ("stage", 2), ("prod", 1)]),
        workflow("backup", &[("dev", 5)]),
    ];
    let counts = [
        count("dev", RunStatus::Succeeded, 8),
        count("dev", RunStatus::Failed, 1),
        count("dev", RunStatus::TimedOut, 1),
        count("dev", RunStatus::Cancelled, 2),
        count("dev", RunStatus::Running, 1),
        count("dev", RunStatus::Queued, 1),
        count("prod", RunStatus::Succeeded, 3),
        // Not visible to this reader: left out.
        count("stage", RunStatus::Failed, 7),
    ];
    let last = [
        run("r1", "report", "dev", RunStatus::Failed),
        run("r2", "backup", "dev", RunStatus::TimedOut),
        run("r3", "report", "prod", RunStatus::Succeeded),
        run("r4", "report", "stage", RunStatus::Failed),
    ];
    let approvals = [approval("prod"), approval("prod"), approval("stage")];
    let health = environment_health(HealthFacts {
        environments: &envs,
        workflows: &workflows,
        run_counts: &counts,
        last_finished: &last,
        needs_attention: &[],
        pending_approvals: &approvals,
    });
    assert_eq!(health.len(), 2);
    let dev = &health[0];
    assert_eq!(dev.environment, "dev");
    assert_eq!(
        dev.active,
        vec![
            ActiveWorkflow {
                workflow: "backup".into(),
                version: 5
            },
            ActiveWorkflow {
                workflow: "report".into(),
                version: 3
            },
        ]
    );
    assert_eq!(
        dev.runs,
        RunTally {
            total: 14,
            succeeded: 8,
            failed: 2,
            cancelled: 2,
            in_progress: 2,
        }
    );
    assert_eq!(dev.runs.finished(), 10);
    assert_eq!(dev.runs.success_ratio(), Some(0.8));
    let failing: Vec<(&str, &str)> = dev
        .failing
        .iter()
        .map(|f| (f.workflow.as_str(), f.run_id.as_str()))
        .collect();
    assert_eq!(failing, [("backup", "r2"), ("report", "r1")]);
    assert_eq!(dev.pending_approvals, 0);

    let prod = &health[1];
    assert_eq!(prod.active.len(), 1);
    assert_eq!(prod.runs.success_ratio(), Some(1.0));
    assert!(prod.failing.is_empty());
    assert_eq!(prod.pending_approvals, 2);
}

#[test]
fn a_quiet_environment_has_no_ratio_and_cancelled_runs_do_not_count_as_failing() {
    let envs = ["dev".to_owned()];
    let counts = [count("dev", RunStatus::Cancelled, 3)];
    let last = [run("r1", "report", "dev", RunStatus::Cancelled)];
    let health = environment_health(HealthFacts {
        environments: &envs,
        workflows: &[],
        run_counts: &counts,
        last_finished: &last,
        needs_attention: &[],
        pending_approvals: &[],
    });
    assert_eq!(health[0].runs.total, 3);
    assert_eq!(health[0].runs.success_ratio(), None);
    assert!(health[0].failing.is_empty());
    assert!(health[0].active.is_empty());
}
