//! The Users page's break-glass passkeys (docs/break-glass.md): every one
//! with its owner, when it was registered and last used, Revoke (its owner,
//! or an admin of every environment; a plain form), and for an admin of
//! every environment Register, which needs JavaScript (the browser's
//! authenticator) and a recent sign-in.

use crate::api::{
    RevokePasskey, begin_passkey_registration, complete_passkey_registration, list_passkeys,
};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::layout::{ui_state, use_shell};
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::AppError;
use crate::webauthn::{Ceremony, ask};
use gantry_core::break_glass::PasskeyView;
use gantry_core::rbac::{Action, decide};
use leptos::form::ActionForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Listing {
    passkeys: Vec<PasskeyView>,
    me: String,
    may_manage: bool,
    may_register: bool,
}

#[component]
pub fn BreakGlassPasskeys() -> impl IntoView {
    let shell = use_shell();
    let revoke = ServerAction::<RevokePasskey>::new();
    let registered = RwSignal::new(0u32);
    // Out here, not in the form: a registration reloads the list, and the
    // form with it, which must not take the outcome along.
    let registration = RwSignal::new(None::<Result<String, String>>);
    let list = Resource::new(
        move || (revoke.version().get(), registered.get()),
        move |_| async move {
            let passkeys = list_passkeys().await?;
            let viewer = shell.principal().await;
            let allowed = |action: Action| {
                viewer
                    .as_ref()
                    .is_some_and(|p| decide(p, &action).is_allowed())
            };
            Ok::<_, AppError>(Listing {
                passkeys,
                me: viewer.as_ref().map(|p| p.id.0.clone()).unwrap_or_default(),
                may_manage: allowed(Action::ManageUsers),
                may_register: allowed(Action::RegisterPasskey)
                    && viewer
                        .as_ref()
                        .is_some_and(|p| p.break_glass_until.is_none()),
            })
        },
    );
    let revoked = move || match revoke.value().get() {
        Some(Ok(p)) => view! {
            <p class="alert alert-ok" role="status">
                "Revoked passkey " <strong>{p.name}</strong> " of " {p.display_name} "."
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <section class="break-glass-passkeys" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"Break-glass passkeys"</h2>
            <p>
                "When single sign-on is down, an admin signs in at "
                <a href="/break-glass">"/break-glass"</a>
                " with one of these: a session of fixed length, marked on every page, each action audited as break-glass, and an alert for privilege-escalation rules."
            </p>
            <div aria-live="polite">
                {revoked}
                {move || match registration.get() {
                    Some(Ok(n)) => view! {
                        <p class="alert alert-ok" role="status">"Registered passkey " <strong>{n}</strong> "."</p>
                    }.into_any(),
                    Some(Err(e)) => view! {
                        <div class="alert alert-error" role="alert"><p>{e}</p></div>
                    }.into_any(),
                    None => ().into_any(),
                }}
            </div>
            <Loaded resource=list let:listing>
                <PasskeyTable listing=listing.clone() revoke />
                {listing.may_register.then(|| view! { <RegisterForm registered outcome=registration /> })}
            </Loaded>
        </section>
    }
}

#[component]
fn PasskeyTable(listing: Listing, revoke: ServerAction<RevokePasskey>) -> impl IntoView {
    if listing.passkeys.is_empty() {
        return view! { <p class="empty-state">"No passkeys are registered."</p> }.into_any();
    }
    let rows = listing
        .passkeys
        .into_iter()
        .map(|p| {
            let may_revoke = listing.may_manage || p.user_id == listing.me;
            let form = may_revoke.then(|| {
                let label = format!("Revoke passkey {} of {}", p.name, p.username);
                view! {
                    <ActionForm action=revoke attr:class="passkey-revoke-form">
                        <input type="hidden" name="id" value=p.id.clone() />
                        <button type="submit" class="danger" aria-label=label disabled=move || revoke.pending().get()>
                            "Revoke"
                        </button>
                    </ActionForm>
                }
            });
            let last = match p.last_used_at {
                Some(at) => view! { <Time at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            };
            view! {
                <tr data-passkey=p.name.clone()>
                    <th scope="row">
                        <span class="user-name">{p.display_name.clone()}</span>
                        <span class="user-login"><code>{p.username.clone()}</code></span>
                    </th>
                    <td>{p.name.clone()}</td>
                    <td><Time at=p.created_at /></td>
                    <td>{last}</td>
                    <td>{form}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="passkeys" caption="Break-glass passkeys, newest first" headers=&["Owner", "Name", "Registered", "Last used", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}

/// Registers a passkey for the person looking: the server's challenge, the
/// browser's authenticator, the answer back.
#[component]
fn RegisterForm(
    registered: RwSignal<u32>,
    outcome: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let ready = ui_state().hydrated;
    let name = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let register = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        working.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let begun = begin_passkey_registration()
                    .await
                    .map_err(|e| e.to_string())?;
                let answer = ask(Ceremony::Create, &begun.options).await?;
                complete_passkey_registration(begun.ceremony, name.get_untracked(), answer)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            let done = result.is_ok();
            outcome.set(Some(result.map(|p| p.name)));
            if done {
                // Reloads the list (and this form, fresh).
                registered.update(|n| *n += 1);
            } else {
                working.set(false);
            }
        });
    };
    view! {
        <form class="passkey-register-form" on:submit=register>
            <h3>"Register a passkey for yourself"</h3>
            <div class="field">
                <label for="passkey-name">"Name"</label>
                <input
                    id="passkey-name"
                    name="name"
                    type="text"
                    maxlength="64"
                    placeholder="YubiKey in the safe"
                    required
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </div>
            <div class="actions">
                <button type="submit" disabled=move || !ready.get() || working.get()>
                    "Register a passkey"
                </button>
            </div>
            <noscript>
                <p class="alert alert-warn">"Registering a passkey needs JavaScript: the browser's authenticator is only reachable from a script."</p>
            </noscript>
        </form>
    }
}
