//! Admin → Secret providers: each provider steps' references are fetched
//! from, where it answers, its health (checked when the page loads, a few
//! seconds at most) and its recent fetches. Never a value.

use crate::api::get_secret_providers;
use crate::components::loaded::Loaded;
use crate::components::secret_providers::SecretProvidersTable;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SecretProvidersPage() -> impl IntoView {
    let providers = Resource::new(|| (), |_| get_secret_providers());
    view! {
        <Title text="Secret providers" />
        <h1>"Secret providers"</h1>
        <p class="lead">
            "Where steps' secret references are fetched from when an attempt starts. Each is checked now: whether it answers and accepts Gantry's credentials. Values are never shown here or kept anywhere."
        </p>
        <Loaded resource=providers let:providers>
            <SecretProvidersTable providers />
        </Loaded>
        <p><a href="/audit?action=secret.">"Every fetch in the audit log"</a></p>
    }
}
