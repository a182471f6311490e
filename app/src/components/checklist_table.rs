//! A request's rollout checklist as evaluated: each item with its state and
//! why (the live value for automatic items, who ticked and their evidence
//! for manual ones, what is new for an acknowledgement), and, while the
//! request is pending, the Tick / Untick / Acknowledge forms for the items
//! the person may mark.

use super::data_table::DataTable;
use super::promotion_actions::id_part;
use super::promotion_badges::ItemBadge;
use super::runs_table::Time;
use crate::api::MarkChecklistItem;
use crate::time::format_time;
use gantry_core::promotion::evaluation::{ChecklistSnapshot, ItemEvaluation, ItemStatus};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Which items the person may mark, and how.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarkRights {
    /// Manual items they may tick and untick (their role holds the item's).
    pub tick: Vec<String>,
    /// Whether they may acknowledge what the diff adds.
    pub acknowledge: bool,
    /// Manual items that need an evidence note.
    pub evidence_required: Vec<String>,
}

#[component]
pub fn ChecklistTable(
    request_id: String,
    snapshot: ChecklistSnapshot,
    /// Marks are only offered while the request is pending.
    pending: bool,
    rights: MarkRights,
    mark: ServerAction<MarkChecklistItem>,
) -> impl IntoView {
    if snapshot.items.is_empty() {
        return view! { <p class="muted">"The policy has no checklist: nothing to check."</p> }
            .into_any();
    }
    let (green, total) = snapshot.progress();
    let caption = format!(
        "{green} of {total} items green, evaluated {}",
        format_time(snapshot.evaluated_at)
    );
    let rows = snapshot
        .items
        .into_iter()
        .map(|item| {
            let action = pending
                .then(|| mark_form(&request_id, &item, &rights, mark))
                .flatten();
            view! { <ItemRow item action /> }
        })
        .collect_view();
    view! {
        <DataTable class="checklist" caption headers=&["Item", "State", "Why", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[component]
fn ItemRow(item: ItemEvaluation, action: Option<AnyView>) -> impl IntoView {
    let detail = match &item.status {
        ItemStatus::Manual {
            checked_by,
            evidence,
            at,
        } => Some(
            view! {
                <span class="item-detail">
                    "Ticked by " {checked_by.name.clone()} " " <Time at=*at />
                    {evidence.clone().map(|e| view! { ". Evidence: " <span class="evidence">{e}</span> })}
                </span>
            }
            .into_any(),
        ),
        ItemStatus::Acknowledged { new, by, at } => Some(
            view! {
                <span class="item-detail">
                    "Acknowledged by " {by.name.clone()} " " <Time at=*at /> ": " {new.join(", ")}
                </span>
            }
            .into_any(),
        ),
        ItemStatus::NeedsAcknowledgement { new } => {
            let items = new
                .iter()
                .map(|n| view! { <li><code>{n.clone()}</code></li> })
                .collect_view();
            Some(view! { <ul class="item-new">{items}</ul> }.into_any())
        }
        ItemStatus::Pass | ItemStatus::Fail | ItemStatus::Unchecked => None,
    };
    let kind = if item.automatic {
        "Automatic"
    } else {
        "Manual"
    };
    view! {
        <tr id=format!("item-{}", id_part(&item.id)) data-item=item.id.clone()>
            <th scope="row">
                {item.title.clone()}
                <span class="item-kind">{kind} " · " <code>{item.id.clone()}</code></span>
            </th>
            <td><ItemBadge status=item.status.clone() /></td>
            <td>
                <span class="item-explanation">{item.explanation.clone()}</span>
                {detail}
            </td>
            <td>{action}</td>
        </tr>
    }
}

/// The form for an item, if the person may mark it in its state.
fn mark_form(
    request_id: &str,
    item: &ItemEvaluation,
    rights: &MarkRights,
    mark: ServerAction<MarkChecklistItem>,
) -> Option<AnyView> {
    let may_tick = rights.tick.contains(&item.id);
    let (checked, verb, evidence) = match &item.status {
        ItemStatus::Unchecked if may_tick => (true, "Tick", true),
        ItemStatus::Manual { .. } if may_tick => (false, "Untick", false),
        ItemStatus::NeedsAcknowledgement { .. } if rights.acknowledge => {
            (true, "Acknowledge", false)
        }
        ItemStatus::Acknowledged { .. } if rights.acknowledge => {
            (false, "Withdraw acknowledgement", false)
        }
        _ => return None,
    };
    let evidence_id = format!("evidence-{}", id_part(&item.id));
    let required = rights.evidence_required.contains(&item.id);
    let evidence = evidence.then(|| {
        let label = if required {
            "Evidence (a link or a note, required)"
        } else {
            "Evidence (a link or a note, optional)"
        };
        view! {
            <div class="field">
                <label for=evidence_id.clone()>{label}</label>
                <input type="text" id=evidence_id name="evidence" maxlength="1000" required=required />
            </div>
        }
    });
    let busy = move || mark.pending().get();
    let request_id = request_id.to_owned();
    let item_id = item.id.clone();
    let label = format!("{verb}: {}", item.title);
    Some(
        view! {
            <ActionForm action=mark attr:class="mark-form">
                <input type="hidden" name="id" value=request_id />
                <input type="hidden" name="item" value=item_id />
                <input type="hidden" name="checked" value=checked.to_string() />
                {evidence}
                <button type="submit" disabled=busy aria-label=label>
                    {verb}
                </button>
            </ActionForm>
        }
        .into_any(),
    )
}
