//! Environment policies: what a promotion into each environment needs,
//! read-only for everyone; the environment's admins get an Edit link that
//! opens the form on this page (`?edit=prod`), so a plain post that fails
//! comes back to the same form with its problems.

use crate::api::{SetEnvironmentPolicy, get_environment_policies};
use crate::components::data_table::DataTable;
use crate::components::freezes::FreezeManager;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::policy_form::{PolicyForm, kind_key, kind_name};
use crate::components::runs_table::Time;
use crate::error::AppError;
use gantry_core::promotion::EnvironmentPosition;
use gantry_core::promotion::verification::OnVerificationFailure;
use gantry_core::promotion::view::PolicyView;
use gantry_core::{Environment, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct PolicyEntry {
    view: PolicyView,
    /// The environment before it, for the items' titles.
    previous: Option<String>,
    /// Admin there: the port's rule for editing (it also asks for a recent
    /// sign-in where the policy in force says so).
    may_edit: bool,
}

async fn load(shell: Shell) -> Result<Vec<PolicyEntry>, AppError> {
    let policies = get_environment_policies().await?;
    let principal = shell.principal().await;
    let mut previous: Option<String> = None;
    let mut out = Vec::with_capacity(policies.len());
    for view in policies {
        let may_edit = principal.as_ref().is_some_and(|p| {
            Environment::parse(&view.environment).is_ok_and(|e| p.holds(Role::Admin, &e))
        });
        let env = view.environment.clone();
        out.push(PolicyEntry {
            view,
            previous: previous.replace(env),
            may_edit,
        });
    }
    Ok(out)
}

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let shell = use_shell();
    let query = use_query_map();
    let editing = Memo::new(move |_| query.read().get("edit").unwrap_or_default());
    let save = ServerAction::<SetEnvironmentPolicy>::new();
    // Read again after a successful save only: a refused one keeps the
    // form as typed, with its problems.
    let saves = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saves.update(|n| *n += 1);
        }
    });
    let data = Resource::new(move || saves.get(), move |_| load(shell));
    let saved = move || match save.value().get() {
        Some(Ok(view)) => Some(view! {
            <p class="alert alert-ok" role="status">"The " {view.environment} " policy is saved."</p>
        }),
        _ => None,
    };
    view! {
        <Title text="Environment policies" />
        <h1>"Environment policies"</h1>
        <p class="lead">
            "What a promotion into each environment needs. Policies belong to the environments' admins, not to workflow specs: a workflow's author can't weaken their own gate."
        </p>
        <p><a href="/promotions">"Back to promotions"</a></p>
        <div aria-live="polite">{saved}</div>
        <Loaded resource=data let:entries>
            {entries
                .into_iter()
                .map(|entry| view! { <PolicySection entry editing save /> })
                .collect_view()}
        </Loaded>
        <FreezeManager />
    }
}

fn position_sentence(position: EnvironmentPosition, env: &str) -> String {
    match position {
        EnvironmentPosition::First => {
            format!("The first environment: versions become active in {env} when applied.")
        }
        EnvironmentPosition::Middle => {
            format!("Versions are promoted into {env} from the environment before it.")
        }
        EnvironmentPosition::Last => format!(
            "The last environment: promotions into {env} always need a recent sign-in to decide."
        ),
    }
}

#[component]
fn PolicySection(
    entry: PolicyEntry,
    editing: Memo<String>,
    save: ServerAction<SetEnvironmentPolicy>,
) -> impl IntoView {
    let PolicyEntry {
        view: policy_view,
        previous,
        may_edit,
    } = entry;
    let env = policy_view.environment.clone();
    let heading = format!("policy-{env}-heading");
    let labelled_by = heading.clone();
    let position = policy_view.position;
    let p = policy_view.policy.clone();
    let origin = match (&policy_view.updated_by, policy_view.updated_at) {
        (Some(by), Some(at)) if !policy_view.is_default => {
            view! { "Set by " {by.name.clone()} " " <Time at /> "." }.into_any()
        }
        _ => view! { "The default for its place in the order." }.into_any(),
    };
    let approvals = match p.required_approvals {
        0 => "None".to_owned(),
        1 => "1 person".to_owned(),
        n => format!("{n} different people"),
    };
    let step_up = if p.step_up_applies(policy_view.position) {
        "Yes: approving, rejecting and rolling back need a recent sign-in"
    } else {
        "No"
    };
    let verification = match &p.verification {
        None => "None".to_owned(),
        Some(v) => format!(
            "{} runs after every promotion and rollback; when a promotion's fails: {}",
            v.workflow,
            match v.on_failure {
                OnVerificationFailure::Hold => "hold and alert",
                OnVerificationFailure::Rollback => "roll back",
            }
        ),
    };
    let previous = previous.unwrap_or_else(|| "the previous environment".to_owned());
    let checklist = if p.checklist.is_empty() {
        view! { <p class="muted">"No checklist."</p> }.into_any()
    } else {
        let rows = p
            .checklist
            .iter()
            .map(|item| {
                let kind = if item.check.is_automatic() {
                    "Automatic"
                } else {
                    "Manual"
                };
                view! {
                    <tr data-item=item.id.clone()>
                        <th scope="row"><code>{item.id.clone()}</code></th>
                        <td>{item.check.title(&previous, &env)}</td>
                        <td>{kind} " · " {kind_name(kind_key(&item.check))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <DataTable caption=format!("Rollout checklist for promotions into {env}") headers=&["Item", "Checks", "Kind"]>
                {rows}
            </DataTable>
        }
        .into_any()
    };
    let env_for_edit = env.clone();
    let edit = move || {
        if !may_edit {
            return None;
        }
        if editing.get() == env_for_edit {
            Some(view! { <PolicyForm view=policy_view.clone() save /> }.into_any())
        } else {
            let href =
                format!("/promotions/policies?edit={env_for_edit}#policy-{env_for_edit}-form");
            Some(
                view! {
                    <p><a class="edit-link" href=href>"Edit the " {env_for_edit.clone()} " policy"</a></p>
                }
                .into_any(),
            )
        }
    };
    view! {
        <section class="policy" id=format!("policy-{env}") aria-labelledby=labelled_by data-environment=env.clone()>
            <h2 id=heading>{env.clone()}</h2>
            <p class="hint">{position_sentence(position, &env)} " " {origin}</p>
            <dl class="facts">
                <dt>"Required approvals"</dt>
                <dd>{approvals}</dd>
                <dt>"Who may ask"</dt>
                <dd>{p.request_role.as_str()} " (or admin) in " {env.clone()}</dd>
                <dt>"Who may roll back"</dt>
                <dd>{p.rollback_role.as_str()} " (or admin) in " {env.clone()}</dd>
                <dt>"Step-up"</dt>
                <dd>{step_up}</dd>
                <dt>"Requests expire after"</dt>
                <dd>{p.request_ttl.to_string()}</dd>
                <dt>"Verification"</dt>
                <dd>{verification}</dd>
            </dl>
            {checklist}
            {edit}
        </section>
    }
}
