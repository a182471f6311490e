//! The fields of each rule kind, as `docs/alerting.md` lists them: only
//! the chosen kind's are on the form, so nothing of another kind is sent.

use super::fields::{Field, Refusal, described_by};
use crate::api::RuleFields;
use leptos::prelude::*;

fn text_input(id: &'static str, name: &'static str, value: String, hint: bool) -> impl IntoView {
    view! { <input type="text" id=id name=name value=value aria-describedby=described_by(id, hint) /> }
}

fn number_input(
    id: &'static str,
    name: &'static str,
    value: String,
    min: &'static str,
    step: &'static str,
) -> impl IntoView {
    view! { <input type="number" id=id name=name value=value min=min step=step aria-describedby=described_by(id, true) /> }
}

/// The fields of `kind`, filled from `f`.
pub fn kind_fields(kind: &str, f: &RuleFields, refusal: Refusal) -> AnyView {
    let RuleFields {
        threshold,
        ratio,
        min_runs,
        window,
        resolve_ratio,
        max_duration,
        target,
        grace,
        max_depth,
        max_oldest_age,
        max_failures,
        per_source,
        pairs,
        ..
    } = f.clone();
    match kind {
        "consecutive_failures" => view! {
            <Field id="rule-threshold" label="Failed runs in a row" path="threshold" refusal hint="1 to 1000: fires when the last this many finished runs of a workflow in an environment all failed.">
                {number_input("rule-threshold", "threshold", threshold, "1", "1")}
            </Field>
        }
        .into_any(),
        "failure_ratio" => view! {
            <Field id="rule-ratio" label="Failure ratio" path="ratio" refusal hint="A fraction above 0 and at most 1: 0.5 fires when half the runs in the window failed.">
                {number_input("rule-ratio", "ratio", ratio, "0", "any")}
            </Field>
            <Field id="rule-min-runs" label="At least this many runs" path="min_runs" refusal hint="1 to 100000: fewer runs in the window say nothing.">
                {number_input("rule-min-runs", "min_runs", min_runs, "1", "1")}
            </Field>
            <Field id="rule-window" label="Window" path="window" refusal hint="Like 1h or 1d; 1 second to 90 days.">
                {text_input("rule-window", "window", window, true)}
            </Field>
            <Field id="rule-resolve-ratio" label="Resolves under this ratio (optional)" path="resolve_ratio" refusal hint="Lower than the ratio, so a ratio hovering at the line doesn't flap; empty: the ratio itself.">
                {number_input("rule-resolve-ratio", "resolve_ratio", resolve_ratio, "0", "any")}
            </Field>
        }
        .into_any(),
        "run_too_long" => {
            let step = target.trim() == "step";
            view! {
                <Field id="rule-max-duration" label="Still going after" path="max_duration" refusal hint="Like 2h; 1 minute to 7 days.">
                    {text_input("rule-max-duration", "max_duration", max_duration, true)}
                </Field>
                <Field id="rule-target" label="What is measured" path="target" refusal>
                    <select id="rule-target" name="target" aria-describedby=described_by("rule-target", false)>
                        <option value="run" selected=!step>"A run, from its start"</option>
                        <option value="step" selected=step>"A step's current attempt"</option>
                    </select>
                </Field>
            }
            .into_any()
        }
        "missed_schedule" => view! {
            <Field id="rule-grace" label="Grace after the cron slot" path="grace" refusal hint="Like 15m; 1 minute to 7 days. Only workflows with a schedule.">
                {text_input("rule-grace", "grace", grace, true)}
            </Field>
        }
        .into_any(),
        "queue_backlog" => view! {
            <p class="hint">"About the whole installation: leave workflow, labels and environment empty. Give one limit or both."</p>
            <Field id="rule-max-depth" label="More than this many steps waiting" path="max_depth" refusal hint="1 to 10000000; empty: no limit on depth.">
                {number_input("rule-max-depth", "max_depth", max_depth, "1", "1")}
            </Field>
            <Field id="rule-max-oldest-age" label="Or the oldest waiting longer than" path="max_oldest_age" refusal hint="Like 5m; 1 minute to 7 days; empty: no limit on age.">
                {text_input("rule-max-oldest-age", "max_oldest_age", max_oldest_age, true)}
            </Field>
        }
        .into_any(),
        "auth_failures" => {
            let per_source = crate::api::checked(&per_source);
            view! {
                <p class="hint">"About the whole installation: leave workflow, labels and environment empty."</p>
                <Field id="rule-max-failures" label="More than this many failures" path="max_failures" refusal hint="1 to 100000 failed sign-ins and rejected credentials.">
                    {number_input("rule-max-failures", "max_failures", max_failures, "1", "1")}
                </Field>
                <Field id="rule-auth-window" label="Within" path="window" refusal hint="Like 5m; 1 minute to 1 day.">
                    {text_input("rule-auth-window", "window", window, true)}
                </Field>
                <div class="field field-check">
                    <input type="checkbox" id="rule-per-source" name="per_source" value="true" checked=per_source />
                    <label for="rule-per-source">"Count per source address (an alert per address)"</label>
                </div>
            }
            .into_any()
        }
        "privilege_escalation" => view! {
            <p class="hint">
                "Fires on every audit record that widens who may do what: an admin-capable token made, an admin group changed, an environment policy changed, a freeze broken. It takes only an environment, and no wait before firing."
            </p>
        }
        .into_any(),
        "rollout_attention" => view! {
            <p class="hint">
                "Fires while a rollout into an environment waits on a person: a canary paused because a step ran out of time without a decision, a canary rolled back automatically whose hold nobody cleared, or a failed verification after promotion. Resolves once nothing waits."
            </p>
        }
        .into_any(),
        "slo_burn" => {
            let ticket = pairs.trim() == "ticket";
            view! {
                <Field id="rule-pairs" label="Burn-rate pairs" path="pairs" refusal hint="The workflow's spec must declare an slo: for the environment.">
                    <select id="rule-pairs" name="pairs" aria-describedby=described_by("rule-pairs", true)>
                        <option value="page" selected=!ticket>"Page: 14.4× over 1h and 5m, 6× over 6h and 30m"</option>
                        <option value="ticket" selected=ticket>"Ticket: 3× over 1d and 2h, 1× over 3d and 6h"</option>
                    </select>
                </Field>
            }
            .into_any()
        }
        _ => view! { <p class="hint">"Choose a kind to see its fields."</p> }.into_any(),
    }
}
