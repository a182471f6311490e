//! The rule form: a name, the kind with its own fields, the scope, how it
//! fires and resolves, where it sends; **Backtest** replays it over the
//! last 7 or 30 days before it is saved.
//!
//! Without JavaScript the form posts to the page's own address (the
//! server's plain route), which answers with this page, the fields as
//! typed and the backtest or the problems; choosing another kind is a GET
//! of the same page with the fields typed so far. Once hydrated the kind's
//! fields change in place and both buttons call server functions.

use super::fields::{Field, Refusal, described_by};
use super::form_pairs;
use super::rule_kind::kind_fields;
use crate::api::{
    ALERTS_PAGE, BacktestAlertRule, CreateAlertRule, RULE_KINDS, ReplaceAlertRule, RuleFields,
    RuleOutcome, SEVERITIES,
};
use crate::components::backtest_svg::BacktestResult;
use crate::components::error_box::ErrorBox;
use crate::error::AppError;
use gantry_core::alert::ChannelView;
use gantry_core::alert::view::BacktestView;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// What the form needs besides the fields.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleFormSetup {
    pub fields: RuleFields,
    /// The page the form posts to (and GETs to choose a kind).
    pub action: String,
    pub editing: bool,
    pub channels: Vec<ChannelView>,
    pub environments: Vec<String>,
    /// A plain post's outcome, or an error a post left in the URL.
    pub outcome: Option<Result<RuleOutcome, AppError>>,
}

#[component]
pub fn RuleForm(setup: RuleFormSetup) -> impl IntoView {
    let RuleFormSetup {
        fields,
        action,
        editing,
        channels,
        environments,
        outcome,
    } = setup;
    let refusal: Refusal = RwSignal::new(outcome.clone().and_then(Result::err));
    let backtest: RwSignal<Option<BacktestView>> = RwSignal::new(match outcome {
        Some(Ok(RuleOutcome::Backtest(b))) => Some(b),
        _ => None,
    });
    let kind = RwSignal::new(fields.kind.clone());
    let intent = StoredValue::new("save");
    // Only in the hydrated browser: the GET button that shows another
    // kind's fields is for pages without JavaScript.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let create = ServerAction::<CreateAlertRule>::new();
    let replace = ServerAction::<ReplaceAlertRule>::new();
    let run_backtest = ServerAction::<BacktestAlertRule>::new();
    Effect::new(move |_| match run_backtest.value().get() {
        Some(Ok(b)) => {
            refusal.set(None);
            backtest.set(Some(b));
        }
        Some(Err(e)) => refusal.set(Some(e)),
        None => {}
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        let saved = create.value().get().or_else(|| replace.value().get());
        match saved {
            Some(Ok(rule)) => navigate(
                &format!(
                    "{ALERTS_PAGE}?saved={}",
                    crate::pages::runs::encode(&rule.spec.name)
                ),
                Default::default(),
            ),
            Some(Err(e)) => refusal.set(Some(e)),
            None => {}
        }
    });
    let busy =
        move || create.pending().get() || replace.pending().get() || run_backtest.pending().get();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let form = event_target::<leptos::web_sys::HtmlFormElement>(&ev);
        let rule = RuleFields::from_pairs(&form_pairs(&form, &RuleFields::NAMES));
        match intent.get_value() {
            "backtest" => {
                run_backtest.dispatch(BacktestAlertRule { rule });
            }
            _ if editing => {
                replace.dispatch(ReplaceAlertRule { rule });
            }
            _ => {
                create.dispatch(CreateAlertRule { rule });
            }
        }
    };

    let kind_options = RULE_KINDS
        .iter()
        .map(|(k, label)| {
            let selected = fields.kind == *k;
            view! { <option value=*k selected=selected>{*label}</option> }
        })
        .collect_view();
    let shown_fields = fields.clone();
    let kind_part = move || kind_fields(&kind.get(), &shown_fields, refusal);
    let env_options = environments
        .iter()
        .map(|e| {
            let selected = fields.environment == *e;
            view! { <option value=e.clone() selected=selected>{e.clone()}</option> }
        })
        .collect_view();
    let severity_options = SEVERITIES
        .iter()
        .map(|s| {
            let selected = fields.severity == *s || (fields.severity.is_empty() && *s == "warning");
            view! { <option value=*s selected=selected>{*s}</option> }
        })
        .collect_view();
    let channel_boxes = if channels.is_empty() {
        view! {
            <p class="hint">
                "No channels yet: without one the rule still tracks its state here. "
                <a href=crate::api::CHANNELS_PAGE>"Create a channel"</a>
            </p>
        }
        .into_any()
    } else {
        channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = format!("rule-channel-{i}");
                let ticked = fields.channels.contains(&c.name);
                view! {
                    <div class="field field-check">
                        <input type="checkbox" id=id.clone() name="channels" value=c.name.clone() checked=ticked />
                        <label for=id>{c.name.clone()} <span class="muted">" (" {c.kind.as_str()} ")"</span></label>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    let days_30 = fields.backtest_days() == 30;
    let top_error = move || refusal.get().map(|error| view! { <ErrorBox error /> });
    let result = move || {
        backtest
            .get()
            .map(|backtest| view! { <BacktestResult backtest /> })
    };
    let show_kind_button = {
        let action = action.clone();
        move || {
            (!hydrated.get()).then(|| {
                view! {
                    <button type="submit" class="secondary" formmethod="get" formaction=action.clone() formnovalidate>
                        "Show this kind's fields"
                    </button>
                }
            })
        }
    };
    let save_label = if editing { "Save changes" } else { "Save rule" };
    view! {
        <form method="post" action=action class="form rule-form" aria-labelledby="rule-form-heading" on:submit=on_submit>
            <div aria-live="polite">{top_error}</div>
            <input type="hidden" name="original" value=fields.original.clone() />
            <Field id="rule-name" label="Name" path="name" refusal hint="1 to 100 characters; notifications carry it.">
                <input type="text" id="rule-name" name="name" value=fields.name.clone() maxlength="100" required aria-describedby=described_by("rule-name", true) />
            </Field>
            <Field id="rule-kind" label="Kind" path="kind" refusal hint="What the rule watches; its fields follow.">
                <select id="rule-kind" name="kind" aria-describedby=described_by("rule-kind", true) on:change=move |ev| kind.set(event_target_value(&ev))>
                    {kind_options}
                </select>
            </Field>
            {show_kind_button}
            <fieldset class="rule-kind-fields">
                <legend>"When it fires"</legend>
                {kind_part}
            </fieldset>
            <fieldset>
                <legend>"What it watches"</legend>
                <Field id="rule-workflow" label="Workflow" path="workflow" refusal hint="A name, or a pattern: * for any characters, ? for one (etl-*). Empty: every workflow.">
                    <input type="text" id="rule-workflow" name="workflow" value=fields.workflow.clone() aria-describedby=described_by("rule-workflow", true) />
                </Field>
                <Field id="rule-labels" label="Labels" path="labels" refusal hint="Workflows whose spec has all of these: team=data, tier=gold. Empty: any.">
                    <input type="text" id="rule-labels" name="labels" value=fields.labels.clone() aria-describedby=described_by("rule-labels", true) />
                </Field>
                <Field id="rule-environment" label="Environment" path="environment" refusal>
                    <select id="rule-environment" name="environment" aria-describedby=described_by("rule-environment", false)>
                        <option value="" selected=fields.environment.is_empty()>"Every environment"</option>
                        {env_options}
                    </select>
                </Field>
            </fieldset>
            <fieldset>
                <legend>"Firing and resolving"</legend>
                <Field id="rule-for" label="Fire only after the breach lasts (optional)" path="for_duration" refusal hint="Like 5m; empty: at once.">
                    <input type="text" id="rule-for" name="for_duration" value=fields.for_duration.clone() aria-describedby=described_by("rule-for", true) />
                </Field>
                <Field id="rule-resolve-after" label="Resolve after this many clear results in a row" path="resolve_after" refusal hint="1 to 1000, e.g. 2 successful runs.">
                    <input type="number" id="rule-resolve-after" name="resolve_after" min="1" step="1" value=if fields.resolve_after.is_empty() { "1".to_owned() } else { fields.resolve_after.clone() } aria-describedby=described_by("rule-resolve-after", true) />
                </Field>
                <Field id="rule-renotify" label="Remind while firing, every (optional)" path="renotify" refusal hint="Like 4h; at least 1m; empty: never.">
                    <input type="text" id="rule-renotify" name="renotify" value=fields.renotify.clone() aria-describedby=described_by("rule-renotify", true) />
                </Field>
                <Field id="rule-severity" label="Severity" path="severity" refusal>
                    <select id="rule-severity" name="severity" aria-describedby=described_by("rule-severity", false)>{severity_options}</select>
                </Field>
            </fieldset>
            <fieldset>
                <legend>"Send to"</legend>
                {channel_boxes}
                <p class="field-error" id="rule-channels-error">{move || refusal.with(|e| super::fields::problem_at(e.as_ref(), "channels"))}</p>
            </fieldset>
            <div class="actions">
                <label for="rule-days">"Backtest over"</label>
                <select id="rule-days" name="days">
                    <option value="7" selected=!days_30>"the last 7 days"</option>
                    <option value="30" selected=days_30>"the last 30 days"</option>
                </select>
                <button type="submit" name="intent" value="backtest" class="secondary" disabled=busy on:click=move |_| intent.set_value("backtest")>"Backtest"</button>
                <button type="submit" name="intent" value="save" disabled=busy on:click=move |_| intent.set_value("save")>{save_label}</button>
                <a href=ALERTS_PAGE>"Cancel"</a>
            </div>
        </form>
        <div aria-live="polite">{result}</div>
    }
}
