//! One promotion request: what it moves, what the gate waits for, the
//! rollout checklist (with the forms to tick manual items and acknowledge
//! what is new), the approvals and the Approve / Reject / Cancel form, the
//! delegations in force, the diff reviewed, and what happened so far.
//!
//! Forms are plain posts that work without JavaScript and return here;
//! with it, the page reads the request again in place. Which forms are
//! offered follows core's rules as far as the page can tell; the port
//! decides.

use crate::api::{ControlCanary, DecidePromotion, MarkChecklistItem, PromotionAt, get_promotion};
use crate::components::canary_controls::{CanaryRights, CanarySection};
use crate::components::checklist_table::{ChecklistTable, MarkRights};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::freezes::BreakGlassForm;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::promotion_badges::{PromotionBadge, VerificationBadge};
use crate::components::promotion_timeline::{PromotionTimeline, events};
use crate::components::runs_table::Time;
use crate::components::spec_diff::SpecDiffView;
use crate::error::{AppError, url_error_for};
use crate::route_param::route_param;
use chrono::{DateTime, Utc};
use gantry_core::promotion::ItemCheck;
use gantry_core::promotion::gate::GateDecision;
use gantry_core::promotion::request::PromotionState;
use gantry_core::promotion::view::PromotionDetail;
use gantry_core::{Environment, Principal, Role};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// What the signed-in person may do here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Rights {
    approve: bool,
    cancel: bool,
    tick: Vec<String>,
    acknowledge: bool,
    /// Why they get no decision buttons, when they get none.
    why_not: Option<String>,
    canary: CanaryRights,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RequestData {
    detail: PromotionDetail,
    now: DateTime<Utc>,
    state: PromotionState,
    rights: Rights,
    /// Admin of the target: may break a freeze holding there.
    may_break: bool,
}

/// The person's rights on `detail`, by the rules the port applies
/// (`core::promotion::rules`) as far as the page knows the facts: the
/// authors of the version are the port's to check.
fn rights(p: Option<&Principal>, detail: &PromotionDetail, now: DateTime<Utc>) -> Rights {
    let Some(p) = p else {
        return Rights {
            why_not: Some("Sign in to decide this request.".into()),
            ..Rights::default()
        };
    };
    let r = &detail.request;
    let Ok(target) = Environment::parse(&r.to_environment) else {
        return Rights::default();
    };
    let holds = |role: Role| p.holds(role, &target) || p.holds(Role::Admin, &target);
    let me = p.id.0.as_str();
    let is_requester = r.requested_by.id == me;
    let delegated = detail
        .delegations
        .iter()
        .any(|d| d.to.id == me && d.is_active(&r.to_environment, now));
    let approver = holds(Role::Approver) || delegated;
    let tick = detail
        .policy
        .checklist
        .iter()
        .filter_map(|item| match &item.check {
            ItemCheck::Manual { role, .. } if holds(*role) => Some(item.id.clone()),
            _ => None,
        })
        .collect();
    let approve = approver && !is_requester;
    let cancel = is_requester || holds(Role::Admin);
    let why_not = (!approve && !cancel).then(|| {
        if is_requester {
            "You asked for this promotion; someone else must approve it.".to_owned()
        } else {
            format!(
                "Approving promotions into {} needs the approver or admin role there.",
                r.to_environment
            )
        }
    });
    let canary = CanaryRights {
        steer: holds(detail.policy.rollback_role),
        promote: holds(Role::Approver),
    };
    Rights {
        canary,
        approve,
        cancel,
        tick,
        acknowledge: approve,
        why_not,
    }
}

async fn load(shell: Shell, id: String) -> Result<RequestData, AppError> {
    let PromotionAt { detail, now } = get_promotion(id).await?;
    let principal = shell.principal().await;
    let rights = rights(principal.as_ref(), &detail, now);
    let state = detail.request.state_at(now);
    let may_break = principal.as_ref().is_some_and(|p| {
        Environment::parse(&detail.request.to_environment).is_ok_and(|e| p.holds(Role::Admin, &e))
    });
    Ok(RequestData {
        detail,
        now,
        state,
        rights,
        may_break,
    })
}

#[component]
pub fn PromotionPage() -> impl IntoView {
    let shell = use_shell();
    let id = route_param("id");
    let decide = ServerAction::<DecidePromotion>::new();
    let mark = ServerAction::<MarkChecklistItem>::new();
    let control = ServerAction::<ControlCanary>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                decide.version().get(),
                mark.version().get(),
                control.version().get(),
            )
        },
        move |(id, _, _, _)| load(shell, id),
    );
    view! {
        <Loaded resource=data let:data>
            <RequestView data decide mark control />
        </Loaded>
        <p><a href="/promotions">"Back to promotions"</a></p>
    }
}

#[component]
fn RequestView(
    data: RequestData,
    decide: ServerAction<DecidePromotion>,
    mark: ServerAction<MarkChecklistItem>,
    control: ServerAction<ControlCanary>,
) -> impl IntoView {
    let RequestData {
        detail,
        now,
        state,
        rights,
        may_break,
    } = data;
    let r = detail.request.clone();
    let title = format!(
        "Promote {} version {} to {}",
        r.workflow, r.version, r.to_environment
    );
    let pending = state == PromotionState::Pending;
    let replaces = match r.replaces {
        Some(v) => view! {
            <a href=format!("/workflows/{}?version={v}", r.workflow)>"Version " {v}</a>
            " (active in " {r.to_environment.clone()} " when asked)"
        }
        .into_any(),
        None => view! { <span class="muted">"Nothing: the first version there"</span> }.into_any(),
    };
    let decided = r.decided_by.clone().map(|by| {
        view! {
            <dt>"Decided by"</dt>
            <dd>{by.name} {r.decided_at.map(|at| view! { " " <Time at /> })}</dd>
        }
    });
    let comment = r.comment.clone().map(|c| {
        view! {
            <dt>"Comment"</dt>
            <dd class="approval-comment">{c}</dd>
        }
    });
    let deployed = detail.deployment.clone().map(|d| {
        let href = format!(
            "/promotions/ledger?workflow={}&environment={}",
            d.workflow, d.environment
        );
        view! {
            <dt>"Active since"</dt>
            <dd><Time at=d.at /> " · " <a href=href>"In the ledger"</a></dd>
        }
    });
    // The smoke test the target's policy runs after the move, and what
    // became of it (a failure may have rolled it back).
    let verification = detail.verification.clone().map(|v| {
        let why = v.why.clone();
        let rollback = v.rollback_id.is_some().then(|| {
            let href = format!(
                "/promotions/ledger?workflow={}&environment={}",
                v.workflow, v.environment
            );
            view! { " · " <a href=href>"Rolled back"</a> }
        });
        view! {
            <dt>"Verification"</dt>
            <dd id="verification">
                <VerificationBadge verification=v.clone() />
                " " {v.verifier.clone()}
                {why.map(|w| view! { ": " {w} })}
                {rollback}
            </dd>
        }
    });
    let expires = pending.then(|| {
        view! {
            <dt>"Expires"</dt>
            <dd><Time at=r.expires_at /></dd>
        }
    });
    let hash: String = r.content_hash.chars().take(12).collect();
    let evidence_required = detail
        .policy
        .checklist
        .iter()
        .filter(|i| {
            matches!(
                i.check,
                ItemCheck::Manual {
                    evidence_required: true,
                    ..
                }
            )
        })
        .map(|i| i.id.clone())
        .collect();
    let mark_rights = MarkRights {
        tick: rights.tick.clone(),
        acknowledge: rights.acknowledge,
        evidence_required,
    };
    let mark_error = url_error_for(<MarkChecklistItem as ServerFn>::PATH);
    let mark_problem = move || match mark.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(_)) => None,
        None => mark_error.clone().map(|error| view! { <ErrorBox error /> }),
    };
    let timeline = events(&r, detail.deployment.as_ref(), &detail.checklist.items, now);
    view! {
        <Title text=title.clone() />
        <h1>{title}</h1>
        <p class="request-state">
            <PromotionBadge state />
            " "
            <span id="gate-summary">{state_sentence(state, &detail.gate)}</span>
        </p>
        <dl class="facts promotion-request">
            <dt>"Workflow"</dt>
            <dd><a href=format!("/workflows/{}?version={}", r.workflow, r.version)>{r.workflow.clone()} " version " {r.version}</a> " " <code title=r.content_hash.clone()>{hash}</code></dd>
            <dt>"Moves"</dt>
            <dd>{r.from_environment.clone()} " → " {r.to_environment.clone()}</dd>
            <dt>"Replaces"</dt>
            <dd>{replaces}</dd>
            <dt>"Asked by"</dt>
            <dd>{r.requested_by.name.clone()} " " <Time at=r.created_at /></dd>
            <dt>"Reason"</dt>
            <dd class="approval-reason">{r.reason.clone()}</dd>
            {expires}
            {decided}
            {comment}
            {deployed}
            {verification}
        </dl>
        {pending.then(|| view! { <WaitReasons gate=detail.gate.clone() /> })}
        {(pending && may_break && detail.freeze.holds()).then(|| view! {
            <BreakGlassForm request_id=r.id.clone() environment=r.to_environment.clone() />
        })}
        {detail.freeze.broken.clone().map(|b| view! {
            <p class="alert alert-warn freeze-broken">
                "The freeze of " {b.environment.clone()} " was broken for this request by "
                {b.by.name.clone()} " " <Time at=b.at /> ": " {b.reason.clone()}
            </p>
        })}
        {detail.waits_for.clone().map(|why| view! { <p class="alert alert-wait" id="waits-for">{why}</p> })}
        {detail.canary.clone().map(|canary| view! { <CanarySection canary rights=rights.canary control /> })}
        <section aria-labelledby="checklist-heading">
            <h2 id="checklist-heading">"Rollout checklist"</h2>
            <p class="hint">
                "Automatic items are checked again on every approval and tick, and once more at the moment of promotion."
            </p>
            <div aria-live="polite">{mark_problem}</div>
            <ChecklistTable
                request_id=r.id.clone()
                snapshot=detail.checklist.clone()
                pending
                rights=mark_rights
                mark
            />
        </section>
        <section aria-labelledby="approvals-heading">
            <h2 id="approvals-heading">"Approvals"</h2>
            <Approvals detail=detail.clone() now />
            <Decision id=r.id.clone() pending rights decide />
        </section>
        <section aria-labelledby="diff-heading">
            <h2 id="diff-heading">"What changes in " {r.to_environment.clone()}</h2>
            <SpecDiffView diff=detail.diff.clone() target=r.to_environment.clone() replaces=r.replaces />
        </section>
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"What happened"</h2>
            <PromotionTimeline events=timeline />
        </section>
    }
}

/// One line under the title: where the request stands.
fn state_sentence(state: PromotionState, gate: &GateDecision) -> String {
    match state {
        PromotionState::Pending => {
            let mut text = gate.describe();
            if let Some(first) = text.get(..1) {
                text = format!("{}{}", first.to_uppercase(), &text[1..]);
            }
            text.push('.');
            text
        }
        PromotionState::Promoted => "Promoted: the version is active in the target.".into(),
        PromotionState::Rejected => "Rejected: nothing moved.".into(),
        PromotionState::Cancelled => "Cancelled: nothing moved.".into(),
        PromotionState::Expired => "Expired before it was promoted: nothing moved.".into(),
        PromotionState::Superseded => {
            "Superseded by a request for a newer version: nothing moved.".into()
        }
    }
}

#[component]
fn WaitReasons(gate: GateDecision) -> impl IntoView {
    let body = match gate {
        GateDecision::Ready => {
            view! { <p>"Everything it needs is there; it is promoted at the next check."</p> }
                .into_any()
        }
        GateDecision::Waiting { reasons } => {
            let items = reasons
                .iter()
                .map(|r| view! { <li>{r.to_string()}</li> })
                .collect_view();
            view! { <ul class="wait-reasons">{items}</ul> }.into_any()
        }
    };
    view! {
        <section aria-labelledby="gate-heading">
            <h2 id="gate-heading">"What it waits for"</h2>
            {body}
        </section>
    }
}

#[component]
fn Approvals(detail: PromotionDetail, now: DateTime<Utc>) -> impl IntoView {
    let required = detail.policy.required_approvals;
    let digest = detail.diff.digest();
    let r = &detail.request;
    let need = match required {
        0 => format!("{} needs no approval.", r.to_environment),
        1 => format!("{} needs 1 approval from someone else.", r.to_environment),
        n => format!(
            "{} needs {n} approvals from different people.",
            r.to_environment
        ),
    };
    let table = (!r.approvals.is_empty()).then(|| {
        let rows = r
            .approvals
            .iter()
            .map(|a| {
                let current =
                    a.reviewed.content_hash == r.content_hash && a.reviewed.diff_digest == digest;
                view! {
                    <tr>
                        <th scope="row">
                            {a.by.name.clone()}
                            {(!current).then(|| view! { <span class="item-kind">"For an earlier diff: no longer counts"</span> })}
                        </th>
                        <td>{a.on_behalf_of.as_ref().map_or_else(|| "–".to_owned(), |p| p.name.clone())}</td>
                        <td><Time at=a.at /></td>
                        <td class="approval-comment">{a.comment.clone().unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <DataTable caption="Approvals given" headers=&["Approver", "On behalf of", "When", "Comment"]>
                {rows}
            </DataTable>
        }
    });
    let delegations: Vec<_> = detail
        .delegations
        .iter()
        .filter(|d| d.is_active(&r.to_environment, now))
        .collect();
    let delegations = (!delegations.is_empty()).then(|| {
        let items = delegations
            .iter()
            .map(|d| {
                view! {
                    <li>
                        {d.to.name.clone()} " approves for " {d.from.name.clone()}
                        " in " {d.environment.clone()} " until " <Time at=d.until />
                    </li>
                }
            })
            .collect_view();
        view! {
            <h3 id="delegations-heading">"Delegations in force"</h3>
            <ul class="delegations" aria-labelledby="delegations-heading">{items}</ul>
        }
    });
    view! {
        <p>{need}</p>
        {table}
        {delegations}
    }
}

#[component]
fn Decision(
    id: String,
    pending: bool,
    rights: Rights,
    decide: ServerAction<DecidePromotion>,
) -> impl IntoView {
    let url_error = url_error_for(<DecidePromotion as ServerFn>::PATH);
    let problem = move || match decide.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(_)) => None,
        None => url_error.clone().map(|error| view! { <ErrorBox error /> }),
    };
    let body = if !pending {
        None
    } else if let Some(why) = rights.why_not.clone() {
        Some(view! { <p class="approval-why">{why}</p> }.into_any())
    } else {
        let busy = move || decide.pending().get();
        let approve = rights.approve.then(|| {
            view! {
                <button type="submit" name="decision" value="approve" disabled=busy>"Approve"</button>
                <button type="submit" name="decision" value="reject" class="danger" disabled=busy>"Reject"</button>
            }
        });
        let cancel = rights.cancel.then(|| {
            view! {
                <button type="submit" name="decision" value="cancel" class="secondary" disabled=busy>"Cancel request"</button>
            }
        });
        Some(
            view! {
                <ActionForm action=decide attr:class="form decide-form" attr:aria-label="Decide this promotion">
                    <input type="hidden" name="id" value=id.clone() />
                    <div class="field">
                        <label for="promotion-comment">"Comment (optional, kept with the decision)"</label>
                        <textarea id="promotion-comment" name="comment" rows="3" maxlength="1000"></textarea>
                    </div>
                    <div class="actions">{approve} {cancel}</div>
                </ActionForm>
            }
            .into_any(),
        )
    };
    view! {
        <div aria-live="polite">{problem}</div>
        {body}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::promotion::gate::WaitReason;

    #[test]
    fn the_state_line_says_what_it_waits_for() {
        let gate = GateDecision::Waiting {
            reasons: vec![WaitReason::Approvals { have: 0, need: 1 }],
        };
        assert_eq!(
            state_sentence(PromotionState::Pending, &gate),
            "Waiting: 0 of 1 required approval given."
        );
        assert_eq!(
            state_sentence(PromotionState::Rejected, &gate),
            "Rejected: nothing moved."
        );
    }
}
