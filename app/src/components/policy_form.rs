//! The form that replaces an environment's policy. It works without
//! JavaScript: every checklist item is a fieldset of text fields with a
//! "Remove" checkbox, and one more fieldset adds an item of any kind
//! (save, and another empty one appears). Each problem shows next to its
//! field, whether the form's text couldn't be read or the port refused the
//! policy (422 with field paths).

use super::error_box::ErrorBox;
use crate::api::SetEnvironmentPolicy;
use crate::error::{AppError, url_error_for};
use gantry_core::Role;
use gantry_core::promotion::checklist::{ChecklistItemTemplate, ItemCheck};
use gantry_core::promotion::verification::OnVerificationFailure;
use gantry_core::promotion::view::PolicyView;
use gantry_core::promotion::{EnvironmentPosition, PolicyDuration};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The kinds of item, as the form's `kind` values and their names.
pub const KINDS: [(&str, &str); 8] = [
    (
        "successful_runs_in_previous",
        "Successful runs in the previous environment",
    ),
    ("soak_time", "Soak time in the previous environment"),
    ("target_not_failing", "The target's last run is not failing"),
    ("no_firing_alerts", "No alerts firing on the workflow"),
    (
        "last_verification_passed",
        "The previous environment's last verification passed",
    ),
    ("no_new_http_hosts", "No new HTTP hosts (else acknowledge)"),
    (
        "no_new_secret_references",
        "No new secret references (else acknowledge)",
    ),
    ("manual", "Manual: a person ticks it"),
];

/// The roles that may request, roll back and tick.
const ROLES: [Role; 3] = [Role::Operator, Role::Approver, Role::Admin];

pub fn kind_key(check: &ItemCheck) -> &'static str {
    match check {
        ItemCheck::SuccessfulRunsInPrevious { .. } => "successful_runs_in_previous",
        ItemCheck::SoakTime { .. } => "soak_time",
        ItemCheck::TargetNotFailing => "target_not_failing",
        ItemCheck::NoFiringAlerts => "no_firing_alerts",
        ItemCheck::LastVerificationPassed => "last_verification_passed",
        ItemCheck::NoNewHttpHosts => "no_new_http_hosts",
        ItemCheck::NoNewSecretReferences => "no_new_secret_references",
        ItemCheck::Manual { .. } => "manual",
    }
}

pub fn kind_name(key: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("Unknown kind", |(_, name)| name)
}

/// A duration as the form takes it back (`7days`, `1h 30m`).
pub fn duration_text(d: PolicyDuration) -> String {
    serde_json::to_value(d)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The error to show for the policy form: this page's last save, or the
/// one a plain post left in the URL.
#[derive(Clone, Copy)]
struct Problems {
    save: ServerAction<SetEnvironmentPolicy>,
    from_url: StoredValue<Option<AppError>>,
}

impl Problems {
    fn current(&self) -> Option<AppError> {
        match self.save.value().get() {
            Some(Err(e)) => Some(e),
            Some(Ok(_)) => None,
            None => self.from_url.get_value(),
        }
    }

    fn at(&self, path: &str) -> Option<String> {
        self.current().and_then(|e| e.problem_at(path))
    }
}

/// A labelled field with its hint and, when there is one, its problem.
#[component]
fn Field(
    id: String,
    #[prop(into)] label: String,
    /// The problem path (`checklist[2].check.window`).
    path: String,
    problems: Problems,
    #[prop(optional, into)] hint: Option<String>,
    children: Children,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    // Always there (empty without a problem), so the field's
    // `aria-describedby` never names a missing element.
    let error_id = format!("{id}-error");
    let error_path = path.clone();
    let error = move || problems.at(&error_path);
    view! {
        <div class="field" data-path=path>
            <label for=id>{label}</label>
            {children()}
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <p class="field-error" id=error_id>{error}</p>
        </div>
    }
}

fn described_by(id: &str, has_hint: bool) -> String {
    if has_hint {
        format!("{id}-hint {id}-error")
    } else {
        format!("{id}-error")
    }
}

fn role_select(id: String, name: String, current: Role) -> impl IntoView {
    let options = ROLES
        .iter()
        .map(|r| {
            let selected = *r == current;
            view! { <option value=r.as_str() selected=selected>{r.as_str()}</option> }
        })
        .collect_view();
    view! { <select id=id.clone() name=name aria-describedby=described_by(&id, false)>{options}</select> }
}

#[component]
pub fn PolicyForm(view: PolicyView, save: ServerAction<SetEnvironmentPolicy>) -> impl IntoView {
    let problems = Problems {
        save,
        from_url: StoredValue::new(url_error_for(<SetEnvironmentPolicy as ServerFn>::PATH)),
    };
    let env = view.environment.clone();
    let policy = view.policy;
    let first = view.position == EnvironmentPosition::First;
    let last = view.position == EnvironmentPosition::Last;
    let top_error = move || problems.current().map(|error| view! { <ErrorBox error /> });
    let busy = move || save.pending().get();
    let approvals = if first {
        view! {
            <input type="hidden" name="required_approvals" value="0" />
            <p class="hint">
                "Nothing is promoted into " {env.clone()}
                ", the first environment (versions become active there on apply), so it has no approvals or checklist."
            </p>
        }
        .into_any()
    } else {
        view! {
            <Field id="policy-required-approvals".into() label="Required approvals" path="required_approvals".into() problems hint="Distinct people, 0 (none) to 5. Never the requester or the version's author.">
                <input
                    type="number"
                    id="policy-required-approvals"
                    name="required_approvals"
                    min="0"
                    max="5"
                    step="1"
                    value=policy.required_approvals.to_string()
                    aria-describedby=described_by("policy-required-approvals", true)
                />
            </Field>
        }
        .into_any()
    };
    let step_up = if last {
        view! {
            <div class="field field-check">
                <input type="hidden" name="step_up" value="true" />
                <input type="checkbox" id="policy-step-up" checked disabled aria-describedby="policy-step-up-hint" />
                <label for="policy-step-up">"Step-up: a recent sign-in to approve, reject and roll back"</label>
                <p class="hint" id="policy-step-up-hint">"Always on in the last environment."</p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="field field-check">
                <input type="checkbox" id="policy-step-up" name="step_up" value="true" checked=policy.step_up />
                <label for="policy-step-up">"Step-up: a recent sign-in to approve, reject and roll back"</label>
            </div>
        }
        .into_any()
    };
    let checklist = (!first).then(|| {
        let count = policy.checklist.len();
        let items = policy
            .checklist
            .iter()
            .cloned()
            .enumerate()
            .map(|(row, item)| view! { <ItemFieldset row item=Some(item) problems /> })
            .collect_view();
        view! {
            <fieldset class="policy-checklist">
                <legend>"Rollout checklist"</legend>
                <p class="hint" id="policy-checklist-hint">
                    "Every promotion into this environment gets these items. Automatic ones check themselves; manual ones are ticked by a person holding their role."
                </p>
                {move || problems.at("checklist").map(|text| view! { <p class="field-error">{text}</p> })}
                {items}
                <ItemFieldset row=count item=None problems />
            </fieldset>
        }
    });
    let verification = (!first).then(|| {
        let (workflow, on_failure) = policy
            .verification
            .as_ref()
            .map(|v| (v.workflow.clone(), v.on_failure))
            .unwrap_or_default();
        let options = [
            (OnVerificationFailure::Hold, "Hold: keep the version, alert, block the next environment"),
            (OnVerificationFailure::Rollback, "Roll back to the version it replaced"),
        ]
        .into_iter()
        .map(|(o, text)| {
            view! { <option value=o.as_str() selected=o == on_failure>{text}</option> }
        })
        .collect_view();
        view! {
            <fieldset class="policy-verification">
                <legend>"Verification after promotion"</legend>
                <Field id="policy-verification-workflow".into() label="Verification workflow" path="verification.workflow".into() problems hint="Run in this environment after every promotion and rollback into it, with workflow, version, environment and kind as inputs where it declares them. Empty: none.">
                    <input type="text" id="policy-verification-workflow" name="verification[workflow]" value=workflow aria-describedby=described_by("policy-verification-workflow", true) />
                </Field>
                <Field id="policy-verification-on-failure".into() label="When a promotion's verification fails" path="verification.on_failure".into() problems>
                    <select id="policy-verification-on-failure" name="verification[on_failure]" aria-describedby=described_by("policy-verification-on-failure", false)>{options}</select>
                </Field>
            </fieldset>
        }
    });
    let request_role = policy.request_role;
    let rollback_role = policy.rollback_role;
    let ttl = duration_text(policy.request_ttl);
    let form_id = format!("policy-{env}-form");
    let form_label = format!("Edit the {env} policy");
    view! {
        <ActionForm action=save attr:class="form policy-form" attr:id=form_id attr:aria-label=form_label>
            <div aria-live="polite">{top_error}</div>
            <input type="hidden" name="environment" value=env.clone() />
            {approvals}
            <Field id="policy-request-role".into() label="Who may ask for a promotion (or admin)" path="request_role".into() problems>
                {role_select("policy-request-role".into(), "request_role".into(), request_role)}
            </Field>
            <Field id="policy-rollback-role".into() label="Who may roll back (or admin)" path="rollback_role".into() problems>
                {role_select("policy-rollback-role".into(), "rollback_role".into(), rollback_role)}
            </Field>
            {step_up}
            {move || problems.at("step_up").map(|text| view! { <p class="field-error">{text}</p> })}
            <Field id="policy-request-ttl".into() label="Requests expire after" path="request_ttl".into() problems hint="Like 7d or 36h; 1 hour to 30 days.">
                <input type="text" id="policy-request-ttl" name="request_ttl" value=ttl aria-describedby=described_by("policy-request-ttl", true) />
            </Field>
            {checklist}
            {verification}
            <div class="actions">
                <button type="submit" disabled=busy>"Save the " {env.clone()} " policy"</button>
                <a href=format!("/promotions/policies#policy-{env}")>"Cancel"</a>
            </div>
        </ActionForm>
    }
}

/// One checklist item's fields (`item` given), or the fields of a new one.
#[component]
fn ItemFieldset(
    row: usize,
    item: Option<ChecklistItemTemplate>,
    problems: Problems,
) -> impl IntoView {
    let name = move |field: &str| format!("checklist[{row}][{field}]");
    let id = move |field: &str| format!("item-{row}-{field}");
    let path = move |field: &str| format!("checklist[{row}].{field}");
    let is_new = item.is_none();
    let key = item.as_ref().map(|i| kind_key(&i.check));
    let shows = move |k: &str| is_new || key == Some(k);
    let check = item.as_ref().map(|i| i.check.clone());
    let (min_runs, window, ratio) = match &check {
        Some(ItemCheck::SuccessfulRunsInPrevious {
            min_runs,
            window,
            min_success_ratio,
        }) => (
            min_runs.to_string(),
            duration_text(*window),
            min_success_ratio.to_string(),
        ),
        _ => (String::new(), String::new(), String::new()),
    };
    let soak = match &check {
        Some(ItemCheck::SoakTime { min }) => duration_text(*min),
        _ => String::new(),
    };
    let (text, role, evidence) = match &check {
        Some(ItemCheck::Manual {
            text,
            role,
            evidence_required,
        }) => (text.clone(), *role, *evidence_required),
        _ => (String::new(), Role::Operator, false),
    };
    // In the new item's fieldset every kind's fields show, each saying
    // which kind reads it.
    let for_kind = move |what: &str| {
        if is_new {
            format!(" ({what} only)")
        } else {
            String::new()
        }
    };
    let legend = match &key {
        Some(k) => format!("Item {}: {}", row + 1, kind_name(k)),
        None => "Add an item".to_owned(),
    };
    let kind = match key {
        Some(k) => view! { <input type="hidden" name=name("kind") value=k /> }.into_any(),
        None => {
            let options = KINDS
                .iter()
                .map(|(k, label)| view! { <option value=*k>{*label}</option> })
                .collect_view();
            view! {
                <Field id=id("kind") label="What it checks" path=path("check.kind") problems>
                    <select id=id("kind") name=name("kind") aria-describedby=described_by(&id("kind"), false)>
                        <option value="" selected>"Nothing: leave empty to add no item"</option>
                        {options}
                    </select>
                </Field>
            }
            .into_any()
        }
    };
    let item_id = item.as_ref().map(|i| i.id.clone()).unwrap_or_default();
    let runs = shows("successful_runs_in_previous").then(|| {
        let what = for_kind("successful runs");
        view! {
            <Field id=id("min_runs") label=format!("Minimum successful runs{what}") path=path("check.min_runs") problems hint="1 to 1000, of this version in the previous environment.">
                <input type="number" min="1" max="1000" id=id("min_runs") name=name("min_runs") value=min_runs aria-describedby=described_by(&id("min_runs"), true) />
            </Field>
            <Field id=id("window") label=format!("Within the last{what}") path=path("check.window") problems hint="Like 7d or 12h; 1 hour to 30 days.">
                <input type="text" id=id("window") name=name("window") value=window aria-describedby=described_by(&id("window"), true) />
            </Field>
            <Field id=id("min_success_ratio") label=format!("Minimum success ratio{what}") path=path("check.min_success_ratio") problems hint="0 to 1 of the runs that finished there, e.g. 0.9 for 90%.">
                <input type="number" min="0" max="1" step="0.01" id=id("min_success_ratio") name=name("min_success_ratio") value=ratio aria-describedby=described_by(&id("min_success_ratio"), true) />
            </Field>
        }
    });
    let soak = shows("soak_time").then(|| {
        let what = for_kind("soak time");
        view! {
            <Field id=id("min") label=format!("Active in the previous environment for at least{what}") path=path("check.min") problems hint="Like 1h or 30m; 1 minute to 30 days.">
                <input type="text" id=id("min") name=name("min") value=soak aria-describedby=described_by(&id("min"), true) />
            </Field>
        }
    });
    let manual = shows("manual").then(|| {
        let what = for_kind("manual");
        view! {
            <Field id=id("text") label=format!("What the person confirms{what}") path=path("check.text") problems>
                <input type="text" id=id("text") name=name("text") value=text maxlength="300" aria-describedby=described_by(&id("text"), false) />
            </Field>
            <Field id=id("role") label=format!("Who may tick it (or admin){what}") path=path("check.role") problems>
                {role_select(id("role"), name("role"), role)}
            </Field>
            <div class="field field-check">
                <input type="checkbox" id=id("evidence_required") name=name("evidence_required") value="true" checked=evidence />
                <label for=id("evidence_required")>"Evidence required when ticking" {for_kind("manual")}</label>
            </div>
        }
    });
    let remove = (!is_new).then(|| {
        view! {
            <div class="field field-check">
                <input type="checkbox" id=id("remove") name=name("remove") value="true" />
                <label for=id("remove")>"Remove this item"</label>
            </div>
        }
    });
    view! {
        <fieldset class="policy-item" id=format!("policy-item-{row}")>
            <legend>{legend}</legend>
            {kind}
            <Field id=id("id") label="Item id" path=path("id") problems hint="Lowercase letters, digits, _ and -; names the item in ticks and URLs.">
                <input type="text" id=id("id") name=name("id") value=item_id maxlength="64" aria-describedby=described_by(&id("id"), true) />
            </Field>
            {runs}
            {soak}
            {manual}
            {remove}
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::promotion::checklist::default_checklist;

    #[test]
    fn every_kind_has_a_form_key_and_a_name() {
        for item in default_checklist() {
            let key = kind_key(&item.check);
            assert!(KINDS.iter().any(|(k, _)| *k == key), "{key}");
            assert_ne!(kind_name(key), "Unknown kind");
        }
        assert_eq!(kind_name("canary"), "Unknown kind");
    }

    #[test]
    fn durations_go_back_into_the_form_as_they_are_read() {
        assert_eq!(duration_text(PolicyDuration::from_days(7)), "7days");
        assert_eq!(duration_text(PolicyDuration::from_mins(90)), "1h 30m");
    }
}
