//! The primary navigation. Links a user's roles can't use are left out; the
//! server still checks every request.

use gantry_core::Principal;
use gantry_core::rbac::{Action, decide};
use leptos::prelude::*;
use leptos_router::components::A;

struct Link {
    href: &'static str,
    label: &'static str,
    needs: Option<Action>,
}

const LINKS: [Link; 8] = [
    Link {
        href: "/",
        label: "Overview",
        needs: Some(Action::ViewDashboard),
    },
    Link {
        href: "/workflows",
        label: "Workflows",
        needs: Some(Action::ViewDashboard),
    },
    Link {
        href: "/runs",
        label: "Runs",
        needs: Some(Action::ViewDashboard),
    },
    Link {
        href: "/promotions",
        label: "Promotions",
        needs: Some(Action::ViewDashboard),
    },
    Link {
        href: "/approvals",
        label: "Approvals",
        needs: Some(Action::ViewDashboard),
    },
    Link {
        href: "/alerts",
        label: "Alerts",
        needs: Some(Action::ViewDashboard),
    },
    Link {
        href: "/audit",
        label: "Audit",
        needs: Some(Action::ViewAudit),
    },
    Link {
        href: "/admin",
        label: "Admin",
        needs: Some(Action::ViewAdmin),
    },
];

#[component]
pub fn PrimaryNav(principal: Principal) -> impl IntoView {
    let links = LINKS
        .iter()
        .filter(|l| {
            l.needs
                .as_ref()
                .is_none_or(|a| decide(&principal, a).is_allowed())
        })
        .map(|l| {
            view! {
                <li>
                    // A section stays marked on its sub-pages (a run, a
                    // token list); only the overview needs an exact match.
                    <A href=l.href exact={l.href == "/"}>{l.label}</A>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="primary-nav" aria-label="Main">
            <ul>{links}</ul>
        </nav>
    }
}
