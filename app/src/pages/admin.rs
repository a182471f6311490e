//! The Admin area's landing page: what can be administered here. Each page
//! it links to asks the port itself; this one only says "not allowed" to
//! callers the navigation already leaves it out for.

use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::error::AppError;
use gantry_core::PortError;
use gantry_core::rbac::{Action, Decision, decide};
use leptos::prelude::*;
use leptos_meta::Title;

async fn may_open(shell: Shell) -> Result<(), AppError> {
    let principal = shell.principal().await.ok_or(PortError::Unauthenticated)?;
    match decide(&principal, &Action::ViewAdmin) {
        Decision::Allow => Ok(()),
        Decision::Deny { reason } => Err(PortError::forbidden(reason).into()),
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let shell = use_shell();
    let access = Resource::new(|| (), move |_| may_open(shell));
    view! {
        <Title text="Admin" />
        <h1>"Admin"</h1>
        <p class="lead">"Who and what may act on this server."</p>
        <Loaded resource=access let:_allowed>
            <ul class="admin-areas">
                <li>
                    <a href="/admin/tokens">"Service tokens"</a>
                    <p class="hint">
                        "Credentials for CI systems and scripts, each scoped to roles in environments and expiring within a year."
                    </p>
                </li>
            </ul>
            <section class="placeholder" aria-labelledby="coming-heading">
                <h2 id="coming-heading">"Coming to this area"</h2>
                <ul>
                    <li>"Users and the roles they hold"</li>
                    <li>"SCIM provisioning tokens"</li>
                </ul>
            </section>
        </Loaded>
    }
}
