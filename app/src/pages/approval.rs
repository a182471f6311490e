//! One approval request in full and, for someone who may decide it, the
//! Approve / Reject form (a plain form post that works without JavaScript;
//! with it, the page updates in place). Anyone else is told why not. Once
//! decided, the page says how, and links to the run an approval started.

use crate::api::{ApprovalAt, DecideApproval, get_approval};
use crate::components::error_box::ErrorBox;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::runs_table::{Time, short_id};
use crate::components::status_badge::ApprovalBadge;
use crate::error::{AppError, url_error_for};
use crate::route_param::route_param;
use gantry_core::PortError;
use gantry_core::approval::{ApprovalRequest, ApprovalStatus, check_decider};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// Whether the signed-in person is offered the decision. The port checks
/// again on every decision; this only spares them a button that would be
/// refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Offer {
    Decide,
    /// Pending, but not theirs to decide: why.
    Refused(String),
    /// Already decided or expired.
    Closed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RequestData {
    request: ApprovalRequest,
    status: ApprovalStatus,
    offer: Offer,
}

/// "you asked…" → "You asked….".
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

async fn load(shell: Shell, id: String) -> Result<RequestData, AppError> {
    let ApprovalAt { request, now } = get_approval(id).await?;
    let status = request.status_at(now);
    let offer = if status != ApprovalStatus::Pending {
        Offer::Closed
    } else {
        match shell.principal().await {
            None => Offer::Refused("Sign in to decide this request.".into()),
            Some(p) => match check_decider(&p, &request, now) {
                Ok(()) => Offer::Decide,
                Err(PortError::Forbidden { reason }) => Offer::Refused(sentence(&reason)),
                Err(PortError::Conflict { .. }) => Offer::Closed,
                Err(other) => Offer::Refused(sentence(&other.to_string())),
            },
        }
    };
    Ok(RequestData {
        request,
        status,
        offer,
    })
}

#[component]
pub fn ApprovalPage() -> impl IntoView {
    let shell = use_shell();
    let id = route_param("id");
    let decide = ServerAction::<DecideApproval>::new();
    // Read again after a decision made on this page.
    let data = Resource::new(
        {
            let id = id.clone();
            move || (id(), decide.version().get())
        },
        move |(id, _)| load(shell, id),
    );
    let heading = move || format!("Approval request {}", short_id(&id()));
    view! {
        <Title text=heading.clone() />
        <h1>{heading}</h1>
        <Loaded resource=data let:data>
            <RequestView data decide />
        </Loaded>
        <p><a href="/approvals">"Back to approvals"</a></p>
    }
}

#[component]
fn RequestView(data: RequestData, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let RequestData {
        request: r,
        status,
        offer,
    } = data;
    let none = |text: &'static str| view! { <span class="muted">{text}</span> }.into_any();
    let workflow_href = format!("/workflows/{}?version={}", r.workflow, r.version);
    let inputs = if r.input_names.is_empty() {
        none("none")
    } else {
        let names = r
            .input_names
            .iter()
            .map(|n| view! { <li><code>{n.clone()}</code></li> })
            .collect_view();
        view! { <ul class="approval-inputs">{names}</ul> }.into_any()
    };
    let reason = match r.reason.clone() {
        Some(text) => view! { <span class="approval-reason">{text}</span> }.into_any(),
        None => none("none given"),
    };
    let decided = r.decided_by.clone().map(|by| {
        let at = r.decided_at.map(|at| view! { " at " <Time at /> });
        let comment = match r.comment.clone() {
            Some(text) => view! { <span class="approval-comment">{text}</span> }.into_any(),
            None => none("none"),
        };
        view! {
            <dt>"Decided by"</dt>
            <dd>{by.name} {at}</dd>
            <dt>"Comment"</dt>
            <dd>{comment}</dd>
        }
    });
    let expires = if status == ApprovalStatus::Expired {
        "Expired at"
    } else {
        "Expires at"
    };
    view! {
        <dl class="facts approval-request">
            <dt>"Status"</dt>
            <dd><ApprovalBadge status /></dd>
            <dt>"Asks to run"</dt>
            <dd><a href=workflow_href>{r.workflow.clone()} " v" {r.version}</a></dd>
            <dt>"Environment"</dt>
            <dd>{r.environment.clone()}</dd>
            <dt>"Inputs"</dt>
            <dd>{inputs}</dd>
            <dt>"Requested by"</dt>
            <dd>{r.requested_by.name.clone()}</dd>
            <dt>"Reason"</dt>
            <dd>{reason}</dd>
            <dt>"Asked at"</dt>
            <dd><Time at=r.created_at /></dd>
            <dt>{expires}</dt>
            <dd><Time at=r.expires_at /></dd>
            {decided}
        </dl>
        <section aria-labelledby="decision-heading">
            <h2 id="decision-heading">"Decision"</h2>
            <Decision request=r status offer decide />
        </section>
    }
}

#[component]
fn Decision(
    request: ApprovalRequest,
    status: ApprovalStatus,
    offer: Offer,
    decide: ServerAction<DecideApproval>,
) -> impl IntoView {
    let url_error = url_error_for(<DecideApproval as ServerFn>::PATH);
    let problem = move || match decide.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(_)) => None,
        None => url_error.clone().map(|error| view! { <ErrorBox error /> }),
    };
    let decider = request
        .decided_by
        .as_ref()
        .map_or_else(String::new, |p| p.name.clone());
    let body = match (status, offer) {
        (ApprovalStatus::Pending, Offer::Decide) => {
            view! { <DecideForm id=request.id.clone() decide /> }.into_any()
        }
        (ApprovalStatus::Pending, Offer::Refused(why)) => {
            view! { <p class="approval-why">{why}</p> }.into_any()
        }
        (ApprovalStatus::Approved, _) => {
            let run = request.run_id.clone().map(|id| {
                let text = format!("Open run {}", short_id(&id));
                view! { " " <a href=format!("/runs/{id}")>{text}</a> }
            });
            view! {
                <p class="alert alert-ok approval-outcome">
                    "Approved by " {decider} ". The run started as " {request.requested_by.name.clone()} "." {run}
                </p>
            }
            .into_any()
        }
        (ApprovalStatus::Rejected, _) => view! {
            <p class="alert approval-outcome">"Rejected by " {decider} ". Nothing ran."</p>
        }
        .into_any(),
        _ => view! {
            <p class="alert approval-outcome">
                "This request expired before anyone decided it. Nothing ran; ask again from the workflow's page."
            </p>
        }
        .into_any(),
    };
    view! {
        <div aria-live="polite">{problem}</div>
        {body}
    }
}

#[component]
fn DecideForm(id: String, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let busy = move || decide.pending().get();
    view! {
        <ActionForm action=decide attr:class="form decide-form">
            <input type="hidden" name="id" value=id />
            <div class="field">
                <label for="decision-comment">"Comment (optional, kept with the decision)"</label>
                <textarea id="decision-comment" name="comment" rows="3" maxlength="1000"></textarea>
            </div>
            <div class="actions">
                <button type="submit" name="decision" value="approve" disabled=busy>
                    "Approve"
                </button>
                <button type="submit" name="decision" value="reject" class="danger" disabled=busy>
                    "Reject"
                </button>
            </div>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            sentence("you asked for this; someone else must approve it"),
            "You asked for this; someone else must approve it."
        );
        assert_eq!(sentence("Done."), "Done.");
    }
}
