//! Display preferences. The form is an `ActionForm`: without JavaScript it
//! posts and the page reloads with the saved values; with it, the theme
//! previews as you choose and saving happens in place.

use crate::api::{SavePreferences, get_preferences};
use crate::components::error_box::ErrorBox;
use crate::components::layout::ui_state;
use crate::components::loaded::Loaded;
use crate::error::AppError;
use gantry_core::{Preferences, Theme, TimeDisplay};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PreferencesPage() -> impl IntoView {
    let current = Resource::new(|| (), |_| get_preferences());
    view! {
        <Title text="Preferences" />
        <h1>"Preferences"</h1>
        <p class="lead">"How Gantry looks for you. Saved to your account, on every device."</p>
        <Loaded resource=current let:current>
            <PreferencesForm current />
        </Loaded>
    }
}

#[component]
fn PreferencesForm(current: Preferences) -> impl IntoView {
    let ui = ui_state();
    let save = ServerAction::<SavePreferences>::new();
    // An error from a post made without JavaScript comes back in the URL.
    let url_error = use_query_map()
        .read_untracked()
        .get("__err")
        .and_then(|e| AppError::from_url_param(&e));
    let outcome = move || match save.value().get() {
        Some(Ok(_)) => {
            view! { <p class="alert alert-ok" role="status">"Preferences saved."</p> }.into_any()
        }
        Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
        None => url_error
            .clone()
            .map(|e| view! { <ErrorBox error=e /> })
            .into_any(),
    };
    let theme_options = Theme::ALL
        .into_iter()
        .map(
            |t| view! { <option value=t.as_str() selected=t == current.theme>{t.label()}</option> },
        )
        .collect_view();
    let time_options = TimeDisplay::ALL
        .into_iter()
        .map(|t| view! { <option value=t.as_str() selected=t == current.time_display>{t.label()}</option> })
        .collect_view();
    view! {
        <ActionForm action=save attr:class="form">
            <div class="field">
                <label for="theme">"Theme"</label>
                <select
                    id="theme"
                    name="theme"
                    on:change=move |ev| ui.theme_preview.set(Theme::parse(&event_target_value(&ev)))
                >
                    {theme_options}
                </select>
            </div>
            <div class="field">
                <label for="time_display">"Show times in"</label>
                <select id="time_display" name="time_display">{time_options}</select>
            </div>
            <div class="actions">
                <button type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save preferences" }}
                </button>
            </div>
            <div aria-live="polite">{outcome}</div>
        </ActionForm>
    }
}
