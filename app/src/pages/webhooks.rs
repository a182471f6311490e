//! Admin → Webhooks: the hooks the caller administers, each with its
//! recent deliveries (outcome, status, the run or approval request it
//! led to) and buttons to rotate or retire its secret or delete it, and
//! the form that makes one. Every form posts to the server's
//! `POST /admin/webhooks` (a full page post, with or without JavaScript),
//! which answers with this page around the outcome: a new secret is shown
//! there once and never travels in a URL or a cookie.

use crate::api::{PlainWebhookForm, WEBHOOKS_PAGE, WebhookChange, list_webhooks};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use gantry_core::webhook::{
    CreatedWebhook, DeliveryOutcome, DeliveryView, SignatureMode, WebhookAsk, WebhookDetail,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let plain = use_context::<PlainWebhookForm>();
    let hooks = Resource::new(|| (), |_| list_webhooks());
    let ask = plain
        .as_ref()
        .and_then(|p| p.ask.clone())
        .unwrap_or_default();
    let outcome = plain.map(|p| view! { <Outcome result=p.result /> });
    view! {
        <Title text="Webhooks" />
        <h1>"Webhooks"</h1>
        <p class="lead">
            "Addresses GitHub, GitLab or any signing sender posts to (" <code>"POST /hooks/<name>"</code>
            ") to start a workflow in one environment. Each delivery must carry an HMAC-SHA256 signature made with the hook's secret."
        </p>
        <div aria-live="polite">{outcome}</div>
        <Loaded resource=hooks let:hooks>
            <section aria-labelledby="hooks-heading">
                <h2 id="hooks-heading">"Hooks"</h2>
                <HookList hooks />
            </section>
            <section aria-labelledby="create-heading">
                <h2 id="create-heading">"Create a webhook"</h2>
                <CreateForm ask=ask.clone() />
            </section>
        </Loaded>
    }
}

/// The secret shown once, or what went wrong.
#[component]
fn Outcome(result: Result<WebhookChange, crate::error::AppError>) -> impl IntoView {
    match result {
        Ok(WebhookChange::Created(created)) => {
            view! { <Secret created verb="Created" /> }.into_any()
        }
        Ok(WebhookChange::Rotated(created)) => view! { <Secret created verb="Rotated" /> }.into_any(),
        Ok(WebhookChange::Retired(name)) => view! {
            <p class="alert alert-ok" role="status">
                "Retired the previous secret of " <code>{name}</code> ". Deliveries signed with it are refused from now on."
            </p>
        }
        .into_any(),
        Ok(WebhookChange::Deleted(name)) => view! {
            <p class="alert alert-ok" role="status">"Deleted " <code>{name}</code> "."</p>
        }
        .into_any(),
        Err(error) => view! { <ErrorBox error /> }.into_any(),
    }
}

#[component]
fn Secret(created: CreatedWebhook, verb: &'static str) -> impl IntoView {
    let name = created.hook.name.clone();
    view! {
        <div class="alert alert-ok secret-once" role="status">
            <p>{verb} " " <code>{name.clone()}</code> ". Its signing secret, shown this once:"</p>
            <p><code class="webhook-secret">{created.secret}</code></p>
            <p>"Give it to the sender now; it can't be shown again. Deliveries go to "
               <code>{format!("/hooks/{name}")}</code> "."</p>
        </div>
    }
}

#[component]
fn HookList(hooks: Vec<WebhookDetail>) -> impl IntoView {
    if hooks.is_empty() {
        return view! { <p class="empty-state">"No webhooks yet."</p> }.into_any();
    }
    hooks
        .into_iter()
        .map(|detail| view! { <Hook detail /> })
        .collect_view()
        .into_any()
}

/// A small form posting one change of one hook.
#[component]
fn HookButton(op: &'static str, name: String, label: &'static str, danger: bool) -> impl IntoView {
    let class = if danger { "danger" } else { "" };
    view! {
        <form method="post" action=WEBHOOKS_PAGE class="inline-form">
            <input type="hidden" name="op" value=op />
            <input type="hidden" name="hook" value=name.clone() />
            <button type="submit" class=class
                aria-label=format!("{label} {name}")>{label}</button>
        </form>
    }
}

#[component]
fn Hook(detail: WebhookDetail) -> impl IntoView {
    let WebhookDetail { hook, deliveries } = detail;
    let name = hook.name.clone();
    let events = if hook.events.is_empty() {
        "every event".to_owned()
    } else {
        hook.events.join(", ")
    };
    let inputs = hook
        .inputs
        .iter()
        .map(|(input, pointer)| view! { <li><code>{input.clone()}</code> " ← " <code>{pointer.clone()}</code></li> })
        .collect_view();
    let secret_state = if hook.previous_active {
        "current and previous (rotation in progress)"
    } else {
        "current only"
    };
    let retire = hook.previous_active.then(|| {
        view! { <HookButton op="retire" name=name.clone() label="Retire previous secret" danger=false /> }
    });
    view! {
        <article class="webhook" aria-labelledby=format!("hook-{name}")>
            <h3 id=format!("hook-{name}")><code>{name.clone()}</code></h3>
            <dl class="facts">
                <dt>"Starts"</dt><dd>{hook.workflow.clone()} " in " {hook.environment.clone()}</dd>
                <dt>"Signature"</dt><dd>{mode_text(hook.mode)}</dd>
                <dt>"Events"</dt><dd>{events}</dd>
                <dt>"Inputs"</dt><dd><ul>{inputs}</ul></dd>
                <dt>"Secrets accepted"</dt><dd>{secret_state}</dd>
                <dt>"Created"</dt><dd>{hook.created_by.clone()} " " <Time at=hook.created_at /></dd>
            </dl>
            <div class="actions">
                <HookButton op="rotate" name=name.clone() label="Rotate secret" danger=false />
                {retire}
                <HookButton op="delete" name=name.clone() label="Delete" danger=true />
            </div>
            <Deliveries deliveries />
        </article>
    }
}

fn mode_text(mode: SignatureMode) -> &'static str {
    match mode {
        SignatureMode::Gantry => "X-Gantry-Signature (timestamped)",
        SignatureMode::Github => "X-Hub-Signature-256 (GitHub)",
    }
}

#[component]
fn Deliveries(deliveries: Vec<DeliveryView>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="empty-state">"No deliveries yet."</p> }.into_any();
    }
    let rows = deliveries
        .into_iter()
        .map(|d| {
            let led_to = match (&d.run_id, &d.approval_id) {
                (Some(run), _) => view! { <a href=format!("/runs/{run}")>"run"</a> }.into_any(),
                (None, Some(approval)) => {
                    view! { <a href=format!("/approvals/{approval}")>"approval request"</a> }.into_any()
                }
                _ => view! { <span class="muted">{d.error.clone().unwrap_or_default()}</span> }.into_any(),
            };
            let tone = match d.outcome {
                DeliveryOutcome::Started | DeliveryOutcome::AwaitingApproval => "ok",
                DeliveryOutcome::Ignored => "wait",
                DeliveryOutcome::Rejected | DeliveryOutcome::Failed => "err",
            };
            view! {
                <tr>
                    <td><Time at=d.received_at /></td>
                    <td><code>{d.delivery_id.clone()}</code></td>
                    <td>{d.event.clone().unwrap_or_default()}</td>
                    <td><span class=format!("badge badge-{tone}") data-outcome=d.outcome.as_str()>{d.outcome.as_str()}</span></td>
                    <td>{d.status}</td>
                    <td>{led_to}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="webhook-deliveries" caption="Recent deliveries, newest first"
            headers=&["Received", "Delivery", "Event", "Outcome", "Status", "Led to"]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[component]
fn CreateForm(ask: WebhookAsk) -> impl IntoView {
    let inputs: String = ask
        .inputs
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let github = ask.mode == SignatureMode::Github;
    view! {
        <form method="post" action=WEBHOOKS_PAGE class="webhook-form">
            <input type="hidden" name="op" value="create" />
            <label>"Name (its address: /hooks/<name>)"
                <input name="name" required value=ask.name.clone() /></label>
            <label>"Environment" <input name="environment" required value=ask.environment.clone() /></label>
            <label>"Workflow" <input name="workflow" required value=ask.workflow.clone() /></label>
            <label>"Signature"
                <select name="mode">
                    <option value="gantry" selected=!github>"Gantry (X-Gantry-Signature, timestamped)"</option>
                    <option value="github" selected=github>"GitHub (X-Hub-Signature-256)"</option>
                </select>
            </label>
            <label>"Inputs, one per line: input = /json/pointer"
                <textarea name="inputs" rows="3">{inputs}</textarea></label>
            <label>"Event types that start a run (comma-separated; empty: every event)"
                <input name="events" value=ask.events.join(", ") /></label>
            <button type="submit">"Create webhook"</button>
        </form>
    }
}
