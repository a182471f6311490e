//! The Admin area's landing page: what the caller may administer or review
//! here. Each page it links to asks the port itself; this one only says
//! "not allowed" to callers the navigation already leaves it out for.

use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::error::AppError;
use gantry_core::PortError;
use gantry_core::rbac::{Action, Decision, decide};
use leptos::prelude::*;
use leptos_meta::Title;

struct Area {
    href: &'static str,
    label: &'static str,
    hint: &'static str,
    needs: Action,
}

const AREAS: [Area; 5] = [
    Area {
        href: "/admin/users",
        label: "Users",
        hint: "Everyone with an account, each role they hold per environment and what granted it; disable an account to cut its access at once.",
        needs: Action::ViewUsers,
    },
    Area {
        href: "/admin/tokens",
        label: "Service tokens",
        hint: "Credentials for CI systems and scripts, each scoped to roles in environments and expiring within a year.",
        needs: Action::ManageTokens,
    },
    Area {
        href: "/admin/webhooks",
        label: "Webhooks",
        hint: "Addresses GitHub, GitLab or signing senders post to, each starting one workflow in one environment; recent deliveries, secret rotation.",
        // Admins anywhere, as for tokens: each sees their environments' hooks.
        needs: Action::ManageTokens,
    },
    Area {
        href: "/admin/rate-limits",
        label: "Rate limits",
        hint: "How many requests each person or token may send per kind of request, and the overrides for tokens and groups that need more (or less).",
        needs: Action::ManageRateLimits,
    },
    Area {
        href: "/admin/secret-providers",
        label: "Secret providers",
        hint: "Where steps' secrets are fetched from (OpenBao/Vault, files, variables), whether each answers now, and its latest fetches; never a value.",
        needs: Action::ViewAdmin,
    },
];

/// The areas the caller may open, or why not the Admin area at all.
async fn open_areas(shell: Shell) -> Result<Vec<usize>, AppError> {
    let principal = shell.principal().await.ok_or(PortError::Unauthenticated)?;
    match decide(&principal, &Action::ViewAdmin) {
        Decision::Allow => Ok((0..AREAS.len())
            .filter(|i| decide(&principal, &AREAS[*i].needs).is_allowed())
            .collect()),
        Decision::Deny { reason } => Err(PortError::forbidden(reason).into()),
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let shell = use_shell();
    let access = Resource::new(|| (), move |_| open_areas(shell));
    view! {
        <Title text="Admin" />
        <h1>"Admin"</h1>
        <p class="lead">"Who and what may act on this server."</p>
        <Loaded resource=access let:open>
            <ul class="admin-areas">
                {open
                    .into_iter()
                    .map(|i| {
                        let area = &AREAS[i];
                        view! {
                            <li>
                                <a href=area.href>{area.label}</a>
                                <p class="hint">{area.hint}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <section class="placeholder" aria-labelledby="coming-heading">
                <h2 id="coming-heading">"Coming to this area"</h2>
                <ul>
                    <li>"SCIM provisioning tokens"</li>
                </ul>
            </section>
        </Loaded>
    }
}
