//! `/alerts/channels`: every channel (kind, the URL as the port shows it,
//! key ids; never a credential) with Send test, Edit (`?edit=NAME`) and
//! Delete (`?delete=NAME` asks first), and the form for a new one.

use super::AlertsNav;
use super::channel_form::{ChannelForm, ChannelFormSetup};
use crate::api::{
    CHANNELS_PAGE, ChannelFields, DeleteAlertChannel, NOTIFICATIONS_PAGE, PlainChannelPost,
    TestAlertChannel, list_alert_channels,
};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::{AppError, url_error_for};
use crate::pages::runs::encode;
use gantry_core::alert::ChannelView;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let query = use_query_map();
    let (editing, deleting) = {
        let q = query.read_untracked();
        (q.get("edit"), q.get("delete"))
    };
    let plain = use_context::<PlainChannelPost>();
    let test = ServerAction::<TestAlertChannel>::new();
    let delete = ServerAction::<DeleteAlertChannel>::new();
    let saves = RwSignal::new(0u32);
    let list = Resource::new(
        move || (saves.get(), delete.version().get()),
        |_| list_alert_channels(),
    );
    let edit_name = editing.clone();
    let form = Resource::new(
        || (),
        move |_| {
            let plain = plain.clone();
            let edit_name = edit_name.clone();
            async move {
                if let Some(p) = plain {
                    return Ok::<_, AppError>(ChannelFormSetup {
                        editing: !p.fields.original.is_empty(),
                        fields: p.fields,
                        outcome: Some(p.result),
                    });
                }
                let Some(name) = edit_name else {
                    return Ok(ChannelFormSetup {
                        fields: ChannelFields::default(),
                        editing: false,
                        outcome: None,
                    });
                };
                let channel = list_alert_channels()
                    .await?
                    .into_iter()
                    .find(|c| c.name == name)
                    .ok_or_else(|| {
                        AppError::Port(gantry_core::PortError::not_found(format!(
                            "channel {name:?}"
                        )))
                    })?;
                Ok(ChannelFormSetup {
                    fields: ChannelFields {
                        original: channel.name.clone(),
                        name: channel.name.clone(),
                        kind: channel.kind.as_str().to_owned(),
                        url: if channel.kind == gantry_core::alert::ChannelKind::Slack {
                            String::new()
                        } else {
                            channel.url.clone()
                        },
                        key_id: channel.signing_key_ids.first().cloned().unwrap_or_default(),
                        ..ChannelFields::default()
                    },
                    editing: true,
                    outcome: None,
                })
            }
        },
    );
    let test_url_error = url_error_for(<TestAlertChannel as ServerFn>::PATH);
    let delete_url_error = url_error_for(<DeleteAlertChannel as ServerFn>::PATH);
    let outcome = move || {
        match (test.value().get(), delete.value().get()) {
        (Some(Err(error)), _) | (_, Some(Err(error))) => Some(view! { <ErrorBox error /> }.into_any()),
        (Some(Ok(sent)), _) => Some(
            view! {
                <p class="alert alert-ok" role="status">
                    "A test notification to " <strong>{sent.channel.clone()}</strong> " is queued. "
                    <a href=format!("{NOTIFICATIONS_PAGE}?status=")>"See its delivery in the history"</a>
                </p>
            }
            .into_any(),
        ),
        _ => test_url_error
            .clone()
            .or_else(|| delete_url_error.clone())
            .map(|error| view! { <ErrorBox error /> }.into_any()),
    }
    };
    let on_saved = Callback::new(move |()| saves.update(|n| *n += 1));
    let confirm = deleting.map(|name| view! { <ConfirmDelete name delete /> });
    view! {
        <Title text="Alert channels" />
        <h1>"Alert channels"</h1>
        <AlertsNav here=CHANNELS_PAGE />
        <p class="lead">"Where notifications go. A channel carries every environment's alerts, so only admins of every environment manage them."</p>
        <div aria-live="polite">{outcome}</div>
        {confirm}
        <section aria-labelledby="channels-heading">
            <h2 id="channels-heading">"Channels"</h2>
            <Loaded resource=list let:channels>
                <ChannelsTable channels test />
            </Loaded>
        </section>
        <section aria-label="Channel form" id="channel-form-section">
            <Loaded resource=form let:setup>
                <ChannelForm setup on_saved />
            </Loaded>
        </section>
    }
}

#[component]
fn ConfirmDelete(name: String, delete: ServerAction<DeleteAlertChannel>) -> impl IntoView {
    view! {
        <div class="alert alert-warn" role="region" aria-label="Confirm deletion">
            <p>"Delete the channel " <strong>{name.clone()}</strong> "? Rules that send to it must be changed first; its notification history stays."</p>
            <ActionForm action=delete attr:class="inline-form">
                <input type="hidden" name="name" value=name.clone() />
                <button type="submit" class="danger">"Delete " {name.clone()}</button>
                " "
                <a href=CHANNELS_PAGE>"Keep it"</a>
            </ActionForm>
        </div>
    }
}

#[component]
fn ChannelsTable(
    channels: Vec<ChannelView>,
    test: ServerAction<TestAlertChannel>,
) -> impl IntoView {
    if channels.is_empty() {
        return view! { <p class="empty-state">"No channels yet: create one below, then pick it in a rule."</p> }.into_any();
    }
    let rows = channels
        .into_iter()
        .map(|c| {
            let name = c.name.clone();
            let test_label = format!("Send a test to {name}");
            let edit_label = format!("Edit {name}");
            let delete_label = format!("Delete {name}");
            let edit_href = format!("{CHANNELS_PAGE}?edit={}#channel-form", encode(&name));
            let delete_href = format!("{CHANNELS_PAGE}?delete={}", encode(&name));
            let keys = if c.signing_key_ids.is_empty() {
                "–".to_owned()
            } else {
                c.signing_key_ids.join(", ")
            };
            view! {
                <tr data-channel=c.name.clone()>
                    <th scope="row">{c.name.clone()}</th>
                    <td>{c.kind.as_str()}</td>
                    <td><code>{c.url.clone()}</code></td>
                    <td>{keys}</td>
                    <td>{c.created_by.clone()} " · " <Time at=c.created_at /></td>
                    <td class="row-actions">
                        <ActionForm action=test attr:class="inline-form">
                            <input type="hidden" name="name" value=name />
                            <button type="submit" class="secondary" aria-label=test_label disabled=move || test.pending().get()>"Send test"</button>
                        </ActionForm>
                        " "
                        <a href=edit_href aria-label=edit_label>"Edit"</a>
                        " "
                        <a href=delete_href aria-label=delete_label>"Delete"</a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="alert-channels" caption="Alert channels" caption_hidden=true headers=&["Name", "Kind", "URL", "Signing keys", "Created", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}
