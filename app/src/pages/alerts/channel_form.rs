//! Create or change a channel: a webhook (URL, signing keys), Slack (its
//! incoming-webhook URL), PagerDuty (routing key, optional URL) or
//! Alertmanager (base URL, optional bearer token). Credentials are
//! write-only: the form never shows them back, and changing a channel
//! replaces them, so a key rotation gives the old and the new key at once.
//! A webhook saved without keys gets one from Gantry, shown here once.
//!
//! Without JavaScript the form posts to the page's plain route, which
//! answers with this page (the new key, or the fields as typed without
//! credentials and the problems); every kind's fields show, each label
//! saying which kind reads it. Once hydrated only the chosen kind's show.

use super::fields::{Field, Refusal, described_by};
use super::form_pairs;
use crate::api::{
    CHANNEL_KINDS, CHANNELS_PAGE, ChannelFields, CreateAlertChannel, ReplaceAlertChannel,
};
use crate::components::error_box::ErrorBox;
use crate::error::AppError;
use gantry_core::alert::view::CreatedChannel;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChannelFormSetup {
    pub fields: ChannelFields,
    pub editing: bool,
    pub outcome: Option<Result<CreatedChannel, AppError>>,
}

#[component]
pub fn ChannelForm(setup: ChannelFormSetup, on_saved: Callback<()>) -> impl IntoView {
    let ChannelFormSetup {
        fields,
        editing,
        outcome,
    } = setup;
    let refusal: Refusal = RwSignal::new(outcome.clone().and_then(Result::err));
    let created: RwSignal<Option<CreatedChannel>> = RwSignal::new(outcome.and_then(Result::ok));
    let kind = RwSignal::new(if fields.kind.is_empty() {
        "webhook".to_owned()
    } else {
        fields.kind.clone()
    });
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let create = ServerAction::<CreateAlertChannel>::new();
    let replace = ServerAction::<ReplaceAlertChannel>::new();
    let form_ref = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        let saved = create.value().get().or_else(|| replace.value().get());
        match saved {
            Some(Ok(channel)) => {
                refusal.set(None);
                created.set(Some(channel));
                if let Some(form) = form_ref.get_untracked() {
                    form.reset();
                }
                on_saved.run(());
            }
            Some(Err(e)) => refusal.set(Some(e)),
            None => {}
        }
    });
    let busy = move || create.pending().get() || replace.pending().get();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let form = event_target::<leptos::web_sys::HtmlFormElement>(&ev);
        let channel = ChannelFields::from_pairs(&form_pairs(&form, &ChannelFields::NAMES));
        if editing {
            replace.dispatch(ReplaceAlertChannel { channel });
        } else {
            create.dispatch(CreateAlertChannel { channel });
        }
    };
    // Without JavaScript every kind's fields show; once hydrated, the
    // chosen kind's.
    let shows = move |k: &'static [&'static str]| {
        move || !hydrated.get() || k.contains(&kind.get().as_str())
    };
    let kind_options = CHANNEL_KINDS
        .iter()
        .map(|(k, label)| {
            let selected = kind.get_untracked() == *k;
            view! { <option value=*k selected=selected>{*label}</option> }
        })
        .collect_view();
    let key_id = StoredValue::new(fields.key_id.clone());
    let next_key_id = StoredValue::new(fields.next_key_id.clone());
    let top_error = move || refusal.get().map(|error| view! { <ErrorBox error /> });
    let key_box = move || created.get().map(|c| view! { <CreatedBox created=c /> });
    let name_field = if editing {
        view! {
            <input type="hidden" name="original" value=fields.original.clone() />
            <input type="hidden" name="name" value=fields.name.clone() />
            <p>"Channel " <strong>{fields.name.clone()}</strong> " (channels can't be renamed: rules name them)."</p>
        }
        .into_any()
    } else {
        view! {
            <Field id="channel-name" label="Name" path="name" refusal hint="Letters, digits, '-', '_' or '.', e.g. ops-webhook.">
                <input type="text" id="channel-name" name="name" value=fields.name.clone() required maxlength="100" aria-describedby=described_by("channel-name", true) />
            </Field>
        }
        .into_any()
    };
    let heading = if editing {
        "Change the channel"
    } else {
        "New channel"
    };
    let submit = if editing {
        "Save the channel"
    } else {
        "Create the channel"
    };
    view! {
        <div aria-live="polite">{key_box}</div>
        <h2 id="channel-form-heading">{heading}</h2>
        <form method="post" action=CHANNELS_PAGE class="form channel-form" id="channel-form" aria-labelledby="channel-form-heading" node_ref=form_ref on:submit=on_submit>
            <div aria-live="polite">{top_error}</div>
            {name_field}
            <Field id="channel-kind" label="Kind" path="kind" refusal>
                <select id="channel-kind" name="kind" aria-describedby=described_by("channel-kind", false) on:change=move |ev| kind.set(event_target_value(&ev))>
                    {kind_options}
                </select>
            </Field>
            <Field id="channel-url" label="URL" path="url" refusal hint="Webhook: where to post. Slack: the incoming-webhook URL. PagerDuty: optional (Events API v2 by default). Alertmanager: its base URL. A Slack URL is a credential: never shown back, give it again when changing the channel.">
                <input type="url" id="channel-url" name="url" value=fields.url.clone() aria-describedby=described_by("channel-url", true) />
            </Field>
            <Show when=shows(&["webhook"])>
                <fieldset>
                    <legend>"Signing keys (webhook)"</legend>
                    <p class="hint" id="channel-keys-hint">
                        "Every request is signed with each key (Gantry-Signature). Leave both empty and Gantry makes one, shown once. To rotate: give the old and the new key, move receivers to the new one, then save with the new key alone. Saving replaces the keys: give the ones to keep."
                    </p>
                    <Field id="channel-key-id" label="Key id" path="signing_keys" refusal>
                        <input type="text" id="channel-key-id" name="key_id" value=key_id.get_value() aria-describedby=described_by("channel-key-id", false) />
                    </Field>
                    <div class="field">
                        <label for="channel-key-secret">"Key secret (at least 16 characters)"</label>
                        <input type="password" id="channel-key-secret" name="key_secret" autocomplete="new-password" />
                    </div>
                    <div class="field">
                        <label for="channel-next-key-id">"Second key id (rotation)"</label>
                        <input type="text" id="channel-next-key-id" name="next_key_id" value=next_key_id.get_value() />
                    </div>
                    <div class="field">
                        <label for="channel-next-key-secret">"Second key secret"</label>
                        <input type="password" id="channel-next-key-secret" name="next_key_secret" autocomplete="new-password" />
                    </div>
                </fieldset>
            </Show>
            <Show when=shows(&["pagerduty"])>
                <Field id="channel-routing-key" label="Routing key (PagerDuty)" path="routing_key" refusal hint="The integration key of the PagerDuty service (Events API v2). Write-only.">
                    <input type="password" id="channel-routing-key" name="routing_key" autocomplete="off" aria-describedby=described_by("channel-routing-key", true) />
                </Field>
            </Show>
            <Show when=shows(&["alertmanager"])>
                <Field id="channel-bearer" label="Bearer token, optional (Alertmanager)" path="bearer_token" refusal hint="If a proxy in front of Alertmanager asks for one. Write-only.">
                    <input type="password" id="channel-bearer" name="bearer_token" autocomplete="off" aria-describedby=described_by("channel-bearer", true) />
                </Field>
            </Show>
            <div class="actions">
                <button type="submit" disabled=busy>{submit}</button>
                {editing.then(|| view! { <a href=CHANNELS_PAGE>"Cancel"</a> })}
            </div>
        </form>
    }
}

/// The channel just saved, and its generated signing key, shown this once.
#[component]
fn CreatedBox(created: CreatedChannel) -> impl IntoView {
    let name = created.channel.name.clone();
    let key = created.generated_signing_key.map(|key| {
        view! {
            <p class="alert-title">"Copy the signing key now: it is shown only this once."</p>
            <p>"Gantry keeps it sealed and cannot show it again. Give it to the receiver, which checks " <code>"Gantry-Signature"</code> " with it (docs/alerting.md)."</p>
            <div class="field">
                <label for="new-signing-key-id">"Key id"</label>
                <input id="new-signing-key-id" class="secret" type="text" readonly value=key.id />
            </div>
            <div class="field">
                <label for="new-signing-key">"Key secret"</label>
                <input id="new-signing-key" class="secret" type="text" readonly autocomplete="off" spellcheck="false" value=key.secret />
            </div>
        }
    });
    view! {
        <div class="alert alert-ok channel-saved" role="status">
            <p>"Channel " <code>{name}</code> " saved."</p>
            {key}
        </div>
    }
}
