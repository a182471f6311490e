//! The Promotions page: which version of each workflow is active in each
//! environment, as a matrix (workflows × environments in promotion order),
//! with the Promote and Roll back forms, the open requests, and the way to
//! the ledger and the policies.

use crate::api::{BoardAt, RequestPromotion, RollBack, get_promotion_board};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::freezes::FreezeBanner;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::promotion_actions::{Powers, id_part, load_powers};
use crate::components::promotion_cell::CellBody;
use crate::error::{AppError, url_error_for};
use gantry_core::promotion::view::{PromotionBoard, PromotionOutcome, RollbackOutcome};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct BoardData {
    board: PromotionBoard,
    powers: Powers,
}

async fn load(shell: Shell) -> Result<BoardData, AppError> {
    let BoardAt { board, .. } = get_promotion_board().await?;
    let powers = load_powers(shell, &board.environments).await;
    Ok(BoardData { board, powers })
}

/// What a promotion that went through at once says.
pub fn promoted_message(outcome: &PromotionOutcome) -> Option<String> {
    match outcome {
        PromotionOutcome::Promoted { deployment }
            if deployment.kind == gantry_core::promotion::DeploymentKind::Canary =>
        {
            Some(format!(
                "A canary of version {} of {} started in {}: it takes a share of the runs and \
                 advances as its analysis passes.",
                deployment.to_version, deployment.workflow, deployment.environment
            ))
        }
        PromotionOutcome::Promoted { deployment } => Some(format!(
            "Version {} of {} is now active in {}.",
            deployment.to_version, deployment.workflow, deployment.environment
        )),
        PromotionOutcome::Pending { .. } => None,
    }
}

/// What a rollback says.
pub fn rolled_back_message(outcome: &RollbackOutcome) -> String {
    let d = &outcome.deployment;
    let mut text = format!(
        "{} is back on version {} of {}",
        d.environment, d.to_version, d.workflow
    );
    if let Some(from) = d.from_version {
        text.push_str(&format!(" (version {from} rolled back)"));
    }
    match outcome.cancelled_runs.len() {
        0 => text.push('.'),
        1 => text.push_str("; 1 run of the rolled-back version was cancelled."),
        n => text.push_str(&format!(
            "; {n} runs of the rolled-back version were cancelled."
        )),
    }
    text
}

/// The outcome of the last Promote or Roll back on this page (with
/// JavaScript), or the error a plain post left in the URL.
#[component]
pub fn ActionOutcome(
    request: ServerAction<RequestPromotion>,
    roll: ServerAction<RollBack>,
) -> impl IntoView {
    let request_error = url_error_for(<RequestPromotion as ServerFn>::PATH);
    let roll_error = url_error_for(<RollBack as ServerFn>::PATH);
    // Which of the two acted last: its answer is the one to show.
    let last = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        if request.version().get() > 0 {
            last.set(Some(true));
        }
    });
    Effect::new(move |_| {
        if roll.version().get() > 0 {
            last.set(Some(false));
        }
    });
    let shown = move || {
        let ok =
            |text: String| view! { <p class="alert alert-ok" role="status">{text}</p> }.into_any();
        let error = |error: AppError| view! { <ErrorBox error /> }.into_any();
        match last.get() {
            Some(true) => match request.value().get() {
                Some(Ok(outcome)) => promoted_message(&outcome).map(ok),
                Some(Err(e)) => Some(error(e)),
                None => None,
            },
            Some(false) => match roll.value().get() {
                Some(Ok(outcome)) => Some(ok(rolled_back_message(&outcome))),
                Some(Err(e)) => Some(error(e)),
                None => None,
            },
            None => request_error
                .clone()
                .or_else(|| roll_error.clone())
                .map(error),
        }
    };
    view! { <div class="action-outcome" aria-live="polite">{shown}</div> }
}

#[component]
pub fn PromotionsPage() -> impl IntoView {
    let shell = use_shell();
    let request = ServerAction::<RequestPromotion>::new();
    let roll = ServerAction::<RollBack>::new();
    // Read again after every move made on this page.
    let data = Resource::new(
        move || (request.version().get(), roll.version().get()),
        move |_| load(shell),
    );
    view! {
        <Title text="Promotions" />
        <h1>"Promotions"</h1>
        <p class="lead">
            "Which version of each workflow is active in each environment. Versions move one environment at a time, under the target's policy; any environment can go back to a version that was active there before."
        </p>
        <ul class="sub-links">
            <li><a href="/promotions/ledger">"Deployment ledger"</a></li>
            <li><a href="/promotions/policies">"Environment policies"</a></li>
        </ul>
        <ActionOutcome request roll />
        <FreezeBanner />
        <Loaded resource=data let:data>
            <Board data request roll />
        </Loaded>
    }
}

#[component]
fn Board(
    data: BoardData,
    request: ServerAction<RequestPromotion>,
    roll: ServerAction<RollBack>,
) -> impl IntoView {
    let BoardData { board, powers } = data;
    if board.rows.is_empty() {
        return view! {
            <p class="empty-state">
                "No workflows yet. Register one on the "
                <a href="/workflows">"Workflows"</a>
                " page; it becomes active in the first environment, and can be promoted from there."
            </p>
        }
        .into_any();
    }
    let mut headers = vec!["Workflow".to_owned()];
    headers.extend(board.environments.iter().cloned());
    let rows = board
        .rows
        .into_iter()
        .map(|row| {
            let workflow = row.workflow.clone();
            let cells = row
                .cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let id = format!("cell-{}-{}", id_part(&workflow), id_part(&cell.environment));
                    view! {
                        <td id=id data-workflow=workflow.clone() data-environment=cell.environment.clone()>
                            <CellBody
                                workflow=workflow.clone()
                                cell=cell.clone()
                                next=row.cells.get(i + 1).cloned()
                                powers=powers.clone()
                                request
                                roll
                            />
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row"><a href=format!("/workflows/{workflow}")>{workflow.clone()}</a></th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="board" caption="Active version of each workflow, by environment in promotion order" headers>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use gantry_core::approval::Person;
    use gantry_core::promotion::ledger::{Deployment, DeploymentKind};

    fn deployment(kind: DeploymentKind) -> Deployment {
        Deployment {
            id: "d1".into(),
            workflow: "report".into(),
            environment: "prod".into(),
            from_version: Some(4),
            to_version: 3,
            kind,
            actor: Person {
                id: "u".into(),
                name: "Oscar".into(),
            },
            at: Utc::now(),
            reason: Some("broken".into()),
            request_id: None,
            approvers: vec![],
            checklist: None,
            freeze_break: None,
        }
    }

    #[test]
    fn outcomes_say_what_is_active_now() {
        let promoted = PromotionOutcome::Promoted {
            deployment: Box::new(deployment(DeploymentKind::Promotion)),
        };
        assert_eq!(
            promoted_message(&promoted).as_deref(),
            Some("Version 3 of report is now active in prod.")
        );
        let rollback = RollbackOutcome {
            deployment: deployment(DeploymentKind::Rollback),
            cancelled_runs: vec!["r1".into(), "r2".into()],
        };
        assert_eq!(
            rolled_back_message(&rollback),
            "prod is back on version 3 of report (version 4 rolled back); 2 runs of the rolled-back version were cancelled."
        );
    }
}
