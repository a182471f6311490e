//! `/break-glass`: signing in with a break-glass passkey while single
//! sign-on is down (docs/break-glass.md). Open to anyone, as the sign-in
//! page is. The browser's authenticator needs JavaScript: the button asks
//! the server for a challenge (a server function), hands it to the
//! authenticator, and posts the answer as a plain form to
//! `/auth/break-glass`, which starts a session that ends at a fixed time.

use crate::api::begin_break_glass;
use crate::components::layout::ui_state;
use crate::webauthn::{Ceremony, ask};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BreakGlassPage() -> impl IntoView {
    let problem = use_query_map().read_untracked().get("error");
    // Enabled once hydrated: without JavaScript there is no authenticator.
    let ready = ui_state().hydrated;
    let username = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let form = NodeRef::<html::Form>::new();
    let ceremony_input = NodeRef::<html::Input>::new();
    let credential_input = NodeRef::<html::Input>::new();
    let sign_in = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        working.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let outcome = async {
                let begun = begin_break_glass(username.get_untracked())
                    .await
                    .map_err(|e| e.to_string())?;
                let answer = ask(Ceremony::Get, &begun.options).await?;
                let (Some(form), Some(ceremony), Some(credential)) =
                    (form.get(), ceremony_input.get(), credential_input.get())
                else {
                    return Err("the page went away".to_owned());
                };
                ceremony.set_value(&begun.ceremony);
                credential.set_value(&answer);
                form.submit()
                    .map_err(|_| "could not send the answer".to_owned())
            }
            .await;
            if let Err(e) = outcome {
                failure.set(Some(e));
                working.set(false);
            }
        });
    };
    view! {
        <Title text="Break-glass sign-in" />
        <div class="sign-in break-glass">
            <h1>"Break-glass sign-in"</h1>
            <p class="lead">
                "For admins, when single sign-on is down: sign in with a passkey you registered on the Users page. The session lasts a fixed time and is never renewed; every action is audited as break-glass and raises an alert."
            </p>
            {problem.map(|p| view! {
                <div class="alert alert-error" role="alert"><p>{p}</p></div>
            })}
            <div aria-live="assertive">
                {move || failure.get().map(|p| view! {
                    <div class="alert alert-error" role="alert"><p>{p}</p></div>
                })}
            </div>
            <form class="break-glass-form" on:submit=sign_in>
                <div class="field">
                    <label for="break-glass-username">"Username"</label>
                    <input
                        id="break-glass-username"
                        name="username"
                        type="text"
                        autocomplete="username webauthn"
                        required
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))
                    />
                </div>
                <div class="actions">
                    <button type="submit" disabled=move || !ready.get() || working.get()>
                        "Sign in with a passkey"
                    </button>
                </div>
            </form>
            <noscript>
                <p class="alert alert-warn">
                    "Passkeys need JavaScript: the browser's authenticator is only reachable from a script."
                </p>
            </noscript>
            <form node_ref=form method="post" action="/auth/break-glass" hidden>
                <input node_ref=ceremony_input type="hidden" name="ceremony" />
                <input node_ref=credential_input type="hidden" name="credential" />
            </form>
            <p><a href="/sign-in">"Back to the usual sign-in"</a></p>
        </div>
    }
}
