//! `/alerts/silences`: silences and mute windows (active, scheduled,
//! expired) with Expire, and the form for a new one. The Silence shortcut
//! of a firing alert opens this page with its matchers filled in
//! (`?rule=…&workflow=…&environment=…`). Silences hold notifications,
//! never state: the Alerts page still shows the instance firing.

use super::fields::{Field, Refusal, described_by};
use super::{AlertsNav, form_pairs, query_pairs};
use crate::api::{
    CreateSilence, ExpireSilence, PlainSilencePost, SILENCES_PAGE, SilenceFields, SilenceList,
    list_silences,
};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::url_error_for;
use chrono::{DateTime, Utc};
use gantry_core::alert::view::SilenceView;
use leptos::ev::SubmitEvent;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

/// Where a silence stands at `now`.
pub fn silence_state(s: &SilenceView, now: DateTime<Utc>) -> &'static str {
    if s.expired_at.is_some() || s.ends_at.is_some_and(|end| end <= now) {
        "expired"
    } else if s.active {
        "active"
    } else {
        "scheduled"
    }
}

#[component]
pub fn SilencesPage() -> impl IntoView {
    let plain = use_context::<PlainSilencePost>();
    let create = ServerAction::<CreateSilence>::new();
    let expire = ServerAction::<ExpireSilence>::new();
    let list = Resource::new(
        move || (create.version().get(), expire.version().get()),
        |_| list_silences(),
    );
    let expire_url_error = url_error_for(<ExpireSilence as ServerFn>::PATH);
    let expire_outcome = move || match expire.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(_)) => None,
        None => expire_url_error
            .clone()
            .map(|error| view! { <ErrorBox error /> }),
    };
    let (fields, outcome) = match plain {
        Some(p) => (p.fields, Some(p.result)),
        None => (
            SilenceFields::from_pairs(&query_pairs(&SilenceFields::NAMES)),
            None,
        ),
    };
    view! {
        <Title text="Silences" />
        <h1>"Silences and mute windows"</h1>
        <AlertsNav here=SILENCES_PAGE />
        <p class="lead">
            "A silence holds notifications for the alerts it matches; the state is still tracked and shown. A resolve is sent if its firing was. Empty matchers match everything."
        </p>
        <section aria-labelledby="silences-heading">
            <h2 id="silences-heading">"Silences"</h2>
            <div aria-live="polite">{expire_outcome}</div>
            <Loaded resource=list let:list>
                <SilencesTable list expire />
            </Loaded>
        </section>
        <section aria-labelledby="new-silence-heading" id="new-silence">
            <h2 id="new-silence-heading">"New silence"</h2>
            <SilenceForm fields outcome create />
        </section>
    }
}

#[component]
fn SilencesTable(list: SilenceList, expire: ServerAction<ExpireSilence>) -> impl IntoView {
    let SilenceList { silences, now } = list;
    if silences.is_empty() {
        return view! { <p class="empty-state">"No silences."</p> }.into_any();
    }
    let rows = silences
        .into_iter()
        .map(|s| {
            let state = silence_state(&s, now);
            let any = |v: &Option<String>| v.clone().unwrap_or_else(|| "any".to_owned());
            let matchers = format!(
                "rule {}, workflow {}, environment {}",
                any(&s.rule),
                any(&s.workflow),
                any(&s.environment)
            );
            let when = match (&s.cron, s.duration_secs) {
                (Some(cron), Some(secs)) => view! {
                    "every " <code>{cron.clone()}</code> " for "
                    {crate::time::format_duration(chrono::Duration::seconds(secs as i64))}
                    " (" {s.time_zone.clone().unwrap_or_else(|| "UTC".into())} ")"
                }
                .into_any(),
                _ => view! {
                    <Time at=s.starts_at /> " to "
                    {match s.ends_at { Some(at) => view! { <Time at /> }.into_any(), None => view! { "no end" }.into_any() }}
                }
                .into_any(),
            };
            let id = s.id.clone();
            let expire_label = format!("Expire the silence: {}", s.reason);
            let action = (state != "expired").then(|| {
                view! {
                    <ActionForm action=expire attr:class="inline-form">
                        <input type="hidden" name="id" value=id.clone() />
                        <button type="submit" class="secondary" aria-label=expire_label.clone()>"Expire"</button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-silence=s.id.clone() data-state=state>
                    <td><span class=format!("badge badge-{}", match state { "active" => "run", "scheduled" => "wait", _ => "stop" })>{crate::components::status_badge::label(state)}</span></td>
                    <td>{matchers}</td>
                    <td>{when}</td>
                    <th scope="row">{s.reason.clone()}</th>
                    <td>{s.created_by.clone()}</td>
                    <td>{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="silences" caption="Silences and mute windows, active and scheduled first" caption_hidden=true headers=&["State", "Matches", "When", "Reason", "By", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[component]
fn SilenceForm(
    fields: SilenceFields,
    outcome: Option<Result<SilenceView, crate::error::AppError>>,
    create: ServerAction<CreateSilence>,
) -> impl IntoView {
    let refusal: Refusal = RwSignal::new(
        outcome
            .and_then(Result::err)
            .or_else(|| url_error_for(<CreateSilence as ServerFn>::PATH)),
    );
    let form_ref = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| match create.value().get() {
        Some(Ok(_)) => {
            refusal.set(None);
            if let Some(form) = form_ref.get_untracked() {
                form.reset();
            }
        }
        Some(Err(e)) => refusal.set(Some(e)),
        None => {}
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let form = event_target::<leptos::web_sys::HtmlFormElement>(&ev);
        let silence = SilenceFields::from_pairs(&form_pairs(&form, &SilenceFields::NAMES));
        create.dispatch(CreateSilence { silence });
    };
    let created = move || {
        matches!(create.value().get(), Some(Ok(_)))
            .then(|| view! { <p class="alert alert-ok" role="status">"The silence is saved."</p> })
    };
    let top_error = move || refusal.get().map(|error| view! { <ErrorBox error /> });
    let window = fields.is_window();
    let lasts = if fields.lasts.is_empty() && fields.ends_at.is_empty() {
        "2h".to_owned()
    } else {
        fields.lasts.clone()
    };
    view! {
        <div aria-live="polite">{created}</div>
        <form method="post" action=SILENCES_PAGE class="form silence-form" aria-labelledby="new-silence-heading" node_ref=form_ref on:submit=on_submit>
            <div aria-live="polite">{top_error}</div>
            <fieldset>
                <legend>"Which alerts"</legend>
                <Field id="silence-rule" label="Rule" path="rule" refusal hint="A rule's name; empty: every rule.">
                    <input type="text" id="silence-rule" name="rule" value=fields.rule.clone() aria-describedby=described_by("silence-rule", true) />
                </Field>
                <Field id="silence-workflow" label="Workflow" path="workflow" refusal hint="Empty: every workflow.">
                    <input type="text" id="silence-workflow" name="workflow" value=fields.workflow.clone() aria-describedby=described_by("silence-workflow", true) />
                </Field>
                <Field id="silence-environment" label="Environment" path="environment" refusal hint="Empty: every environment.">
                    <input type="text" id="silence-environment" name="environment" value=fields.environment.clone() aria-describedby=described_by("silence-environment", true) />
                </Field>
            </fieldset>
            <fieldset>
                <legend>"When"</legend>
                <div class="field field-check">
                    <input type="radio" id="silence-once" name="mode" value="once" checked=!window />
                    <label for="silence-once">"Once, from now"</label>
                </div>
                <Field id="silence-lasts" label="For (silence)" path="lasts" refusal hint="Like 2h or 30m; or give an end below.">
                    <input type="text" id="silence-lasts" name="lasts" value=lasts aria-describedby=described_by("silence-lasts", true) />
                </Field>
                <Field id="silence-ends-at" label="Or until (UTC, silence)" path="ends_at" refusal>
                    <input type="datetime-local" id="silence-ends-at" name="ends_at" value=fields.ends_at.clone() aria-describedby=described_by("silence-ends-at", false) />
                </Field>
                <div class="field field-check">
                    <input type="radio" id="silence-window" name="mode" value="window" checked=window />
                    <label for="silence-window">"A recurring mute window"</label>
                </div>
                <Field id="silence-cron" label="Starts (cron, mute window)" path="cron" refusal hint="5 fields, e.g. 0 2 * * * for 02:00 every day.">
                    <input type="text" id="silence-cron" name="cron" value=fields.cron.clone() aria-describedby=described_by("silence-cron", true) />
                </Field>
                <Field id="silence-duration" label="Lasts (mute window)" path="duration" refusal hint="Like 2h.">
                    <input type="text" id="silence-duration" name="duration" value=fields.duration.clone() aria-describedby=described_by("silence-duration", true) />
                </Field>
                <Field id="silence-time-zone" label="Time zone (mute window)" path="time_zone" refusal hint="An IANA name such as Europe/Berlin; empty: UTC.">
                    <input type="text" id="silence-time-zone" name="time_zone" value=fields.time_zone.clone() aria-describedby=described_by("silence-time-zone", true) />
                </Field>
            </fieldset>
            <Field id="silence-reason" label="Reason" path="reason" refusal hint="Shown with the silence and in the audit log.">
                <input type="text" id="silence-reason" name="reason" value=fields.reason.clone() required aria-describedby=described_by("silence-reason", true) />
            </Field>
            <div class="actions">
                <button type="submit" disabled=move || create.pending().get()>"Create the silence"</button>
            </div>
        </form>
    }
}
