//! Admin → Users: every account, where it comes from (SCIM-managed ones
//! with their provisioned groups and when they were last provisioned), each
//! role it holds per environment and what granted it (the group, the seed),
//! its last sign-in, and, for admins of every environment, Disable / Enable,
//! a download of everything Gantry holds about the person (Export data), and
//! for a disabled account Erase, which asks for the username again.
//!
//! Auditors read it for access reviews; the port decides who may change
//! what, and this page only leaves out buttons that would be refused.

use crate::api::{EraseUser, SetUserAccess, list_users};
use crate::components::break_glass_passkeys::BreakGlassPasskeys;
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::layout::use_shell;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::{AppError, url_error_for};
use gantry_core::rbac::{Action, decide};
use gantry_core::user::UserSummary;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The accounts, and what the person looking may do to them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Listing {
    users: Vec<UserSummary>,
    me: String,
    may_manage: bool,
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let shell = use_shell();
    let change = ServerAction::<SetUserAccess>::new();
    let erase = ServerAction::<EraseUser>::new();
    let url_error = url_error_for(<SetUserAccess as ServerFn>::PATH)
        .or_else(|| url_error_for(<EraseUser as ServerFn>::PATH));
    // Read again after every change on this page. Who is looking comes
    // along: their own row gets no Disable button, and only admins of every
    // environment get buttons at all.
    let params = use_query_map();
    let search = Memo::new(move |_| {
        params.with(|p| {
            let get = |k: &str| p.get(k).unwrap_or_default();
            (get("q"), get("source"), get("state"))
        })
    });
    let list = Resource::new(
        move || (change.version().get() + erase.version().get(), search.get()),
        move |(_, (q, source, state))| async move {
            let users = list_users(q, source, state).await?;
            let viewer = shell.principal().await;
            let me = viewer.as_ref().map(|p| p.id.0.clone()).unwrap_or_default();
            let may_manage = viewer
                .as_ref()
                .is_some_and(|p| decide(p, &Action::ManageUsers).is_allowed());
            Ok::<_, AppError>(Listing {
                users,
                me,
                may_manage,
            })
        },
    );
    let erased = move || {
        match erase.value().get() {
        Some(Ok(report)) => view! {
            <p class="alert alert-ok" role="status">
                "Erased: the account now reads "
                <code>{report.pseudonym}</code>
                {format!(
                    " everywhere; {} personal field(s) of the audit log erased, and the chain still verifies.",
                    report.audit_fields_erased,
                )}
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
        None => ().into_any(),
    }
    };
    let outcome = move || match change.value().get() {
        Some(Ok(user)) => {
            let what = if user.disabled {
                " is disabled; their sessions have ended."
            } else {
                " is enabled; they can sign in again."
            };
            view! {
                <p class="alert alert-ok" role="status">
                    <strong>{user.display_name}</strong>
                    {what}
                </p>
            }
            .into_any()
        }
        Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
        None => url_error
            .clone()
            .map(|error| view! { <ErrorBox error /> })
            .into_any(),
    };
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <p class="lead">
            "Everyone with an account here, each role they hold per environment, and what granted it. Roles from single sign-on follow the identity provider's groups and are renewed at every sign-in."
        </p>
        <SearchForm search />
        <div aria-live="polite">{outcome} {erased}</div>
        <Loaded resource=list let:listing>
            <UsersTable listing change erase />
        </Loaded>
        <BreakGlassPasskeys />
    }
}

/// A GET form: bookmarkable, and it works without JavaScript.
#[component]
fn SearchForm(search: Memo<(String, String, String)>) -> impl IntoView {
    let (q, source, state) = search.get_untracked();
    let option = |value: &'static str, text: &'static str, current: &str| {
        let selected = value == current;
        view! { <option value=value selected=selected>{text}</option> }
    };
    view! {
        <form method="get" action="/admin/users" class="filters user-search" role="search" aria-label="Find people">
            <div class="field">
                <label for="user-q">"Name, username or e-mail"</label>
                <input id="user-q" name="q" type="search" value=q />
            </div>
            <div class="field">
                <label for="user-source">"Source"</label>
                <select id="user-source" name="source">
                    {option("", "Any", &source)}
                    {option("scim", "SCIM", &source)}
                    {option("oidc", "Single sign-on", &source)}
                    {option("dev", "Demo account", &source)}
                </select>
            </div>
            <div class="field">
                <label for="user-state">"State"</label>
                <select id="user-state" name="state">
                    {option("", "Any", &state)}
                    {option("active", "Active", &state)}
                    {option("disabled", "Disabled", &state)}
                </select>
            </div>
            <div class="actions">
                <button type="submit">"Find"</button>
            </div>
        </form>
    }
}

#[component]
fn UsersTable(
    listing: Listing,
    change: ServerAction<SetUserAccess>,
    erase: ServerAction<EraseUser>,
) -> impl IntoView {
    let Listing {
        users,
        me,
        may_manage,
    } = listing;
    if users.is_empty() {
        return view! {
            <p class="empty-state">
                "No accounts match. People appear at their first sign-in, or when the identity provider provisions them."
            </p>
        }
        .into_any();
    }
    let rows = users
        .into_iter()
        .map(|user| {
            let manage = may_manage && user.id != me;
            view! { <Row user manage change erase /> }
        })
        .collect_view();
    view! {
        <DataTable class="users" caption="Accounts, by name" headers=&["Person", "Source", "Roles, and why", "Last sign-in", "State", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}

#[component]
fn Row(
    user: UserSummary,
    manage: bool,
    change: ServerAction<SetUserAccess>,
    erase: ServerAction<EraseUser>,
) -> impl IntoView {
    let roles = if user.roles.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        let items = user
            .roles
            .iter()
            .map(|r| {
                view! {
                    <li>
                        <code>{format!("{}@{}", r.role, r.environment)}</code>
                        <span class="role-source">" from " {r.source.clone()}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="user-roles">{items}</ul> }.into_any()
    };
    let last = match user.last_sign_in_at {
        Some(at) => view! { <Time at /> }.into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let (state_key, tone, symbol, state_label) = if user.disabled {
        ("disabled", "err", "⊘", "Disabled")
    } else {
        ("active", "ok", "✓", "Active")
    };
    let username = user.username.clone();
    let id = user.id.clone();
    let export = manage.then(|| {
        view! {
            <a
                class="button"
                href=format!("/api/v1/users/{}/export", user.id)
                download=format!("{}.json", user.username)
                aria-label=format!("Export the data of {}", user.username)
            >
                "Export data"
            </a>
        }
    });
    // Only a disabled account may be erased: the identity provider
    // deprovisions first. Erasing can't be undone, so the username is
    // typed again.
    let erasable = (manage && user.disabled && !user.username.starts_with("erased-")).then({
        let id = user.id.clone();
        let name = user.username.clone();
        move || {
            let field = format!("erase-confirm-{id}");
            view! {
                <ActionForm action=erase attr:class="user-erase-form">
                    <input type="hidden" name="id" value=id />
                    <label for=field.clone()>"Type " <code>{name.clone()}</code> " to erase"</label>
                    <input id=field type="text" name="confirm" autocomplete="off" required />
                    <button
                        type="submit"
                        class="danger"
                        aria-label=format!("Erase {name}")
                        disabled=move || erase.pending().get()
                    >
                        "Erase"
                    </button>
                </ActionForm>
            }
        }
    });
    let action = manage.then(move || {
        let (verb, next, class) = if user.disabled {
            ("Enable", "false", "")
        } else {
            ("Disable", "true", "danger")
        };
        view! {
            <ActionForm action=change attr:class="user-access-form">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="disabled" value=next />
                <button
                    type="submit"
                    class=class
                    aria-label=format!("{verb} {username}")
                    disabled=move || change.pending().get()
                >
                    {verb}
                </button>
            </ActionForm>
        }
    });
    view! {
        <tr data-user=user.username.clone()>
            <th scope="row">
                <span class="user-name">{user.display_name.clone()}</span>
                <span class="user-login">
                    <code>{user.username.clone()}</code>
                    {user.email.clone().map(|e| view! { " · " {e} })}
                </span>
            </th>
            <td>
                {if user.scim_managed {
                    view! {
                        <span class="badge badge-run" data-managed="scim">"SCIM"</span>
                        <span class="user-provisioned">
                            " provisioned "
                            {user.provisioned_at.map(|at| view! { <Time at /> })}
                        </span>
                    }
                        .into_any()
                } else {
                    view! { {user.source.label()} }.into_any()
                }}
                {(!user.groups.is_empty())
                    .then(|| {
                        view! {
                            <span class="user-groups">"Groups: " {user.groups.join(", ")}</span>
                        }
                    })}
            </td>
            <td>{roles}</td>
            <td>{last}</td>
            <td>
                <span class=format!("badge badge-{tone}") data-state=state_key>
                    <span class="badge-symbol" aria-hidden="true">{symbol}</span>
                    {state_label}
                </span>
            </td>
            <td>{action} {export} {erasable}</td>
        </tr>
    }
}
