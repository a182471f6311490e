//! One workflow in one environment, as the Promotions page's matrix and a
//! workflow's page show it: the active version, since when and by whom,
//! its last run, versions rolled back there, the open request into it, and
//! the Promote and Roll back forms where the person may use them.

use super::live_canary_bar::LiveCanaryBar;
use super::promotion_actions::{Powers, PromoteForm, PromoteTarget, RollbackForm, RollbackTarget};
use super::promotion_badges::kind_label;
use super::runs_table::Time;
use super::status_badge::StatusBadge;
use crate::api::{RequestPromotion, RollBack, promotion_href};
use gantry_core::promotion::view::BoardCell;
use leptos::prelude::*;

#[component]
pub fn CellBody(
    workflow: String,
    cell: BoardCell,
    /// The next environment's cell; `None` in the last environment.
    next: Option<BoardCell>,
    powers: Powers,
    request: ServerAction<RequestPromotion>,
    roll: ServerAction<RollBack>,
) -> impl IntoView {
    let env = cell.environment.clone();
    let active = match &cell.active {
        Some(a) => {
            let href = format!("/workflows/{workflow}?version={}", a.version);
            let how = kind_label(a.kind).to_lowercase();
            let last_run = cell.last_run.as_ref().map(|r| {
                view! {
                    <span class="cell-run">
                        "Last run "
                        <a href=format!("/runs/{}", r.id)><StatusBadge status=r.status.as_str() /></a>
                    </span>
                }
            });
            view! {
                <a class="cell-version" href=href>"Version " {a.version}</a>
                <span class="cell-since">{how} " " <Time at=a.since /> " by " {a.by.clone()}</span>
                {last_run}
            }
            .into_any()
        }
        None => view! { <span class="muted">"Not active"</span> }.into_any(),
    };
    let rolled_back = (!cell.rolled_back.is_empty()).then(|| {
        let versions = cell
            .rolled_back
            .iter()
            .map(|v| {
                view! {
                    <span class="badge badge-stop" data-rolled-back=v.to_string()>
                        <span class="badge-symbol" aria-hidden="true">"↶"</span>
                        "v" {*v}
                    </span>
                    " "
                }
            })
            .collect_view();
        view! { <span class="cell-rolled-back">"Rolled back here: " {versions}</span> }
    });
    let pending = cell.pending.as_ref().map(|p| {
        view! {
            <span class="cell-pending">
                <a href=promotion_href(&p.id)>"Request for version " {p.version} " pending"</a>
                <span class="cell-progress">
                    "Checklist " {p.checklist_done} "/" {p.checklist_total}
                    ", approvals " {p.approvals} "/" {p.approvals_required}
                </span>
            </span>
        }
    });
    let promote = match (cell.promotable, &next) {
        (Some(version), Some(next))
            if powers.may_request_into(&next.environment)
                && next.pending.as_ref().is_none_or(|p| p.version != version) =>
        {
            let target = PromoteTarget {
                workflow: workflow.clone(),
                version,
                from: env.clone(),
                to: next.environment.clone(),
                rolled_back_there: next.rolled_back.contains(&version),
            };
            Some(view! { <PromoteForm target action=request /> })
        }
        _ => None,
    };
    let rollback = match (cell.rollback_to, &cell.active) {
        (Some(to), Some(active)) if powers.may_roll_back_in(&env) => {
            let target = RollbackTarget {
                workflow: workflow.clone(),
                environment: env.clone(),
                current: active.version,
                to,
            };
            Some(view! { <RollbackForm target action=roll /> })
        }
        _ => None,
    };
    let canary = cell.canary.clone().map(|c| {
        let href = promotion_href(&c.request_id);
        view! { <a class="cell-canary" href=href><LiveCanaryBar canary=c compact=true /></a> }
    });
    view! {
        <div class="cell">
            {active}
            {canary}
            {rolled_back}
            {pending}
            {promote}
            {rollback}
        </div>
    }
}
