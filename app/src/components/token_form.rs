//! "Create a token": a name, a grid of role × environment boxes and a
//! lifetime. The form posts to the server's plain `POST /admin/tokens`
//! route, which answers with this page and the new secret; once the page is
//! hydrated it calls the `create_token` server function instead and shows
//! the secret in place. Either way the secret is shown once, here, and
//! never put in a URL, a cookie or the session.

use super::data_table::DataTable;
use super::error_box::ErrorBox;
use crate::api::{CreateToken, PlainCreate, TOKENS_PAGE};
use crate::error::{AppError, url_error_for};
use gantry_core::PortError;
use gantry_core::token::{CreatedToken, DEFAULT_LIFETIME_DAYS, NewToken};
use gantry_core::{EnvScope, Environment, Role};
use leptos::ev::SubmitEvent;
use leptos::form::FromFormData;
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// The lifetimes offered, in days.
const LIFETIMES: [i64; 5] = [7, 30, 90, 180, 365];

/// What the form needs from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenFormSetup {
    /// Configured environments, in promotion order: one column each.
    pub environments: Vec<Environment>,
    /// The `role@scope` boxes the caller may tick: those within their own
    /// admin reach. The others are shown disabled; the port decides anyway.
    pub grantable: Vec<String>,
    /// The caller may make SCIM provisioning tokens (admin everywhere).
    pub scim_allowed: bool,
    /// When this page answers a create form posted without JavaScript:
    /// what was asked for and what came of it.
    pub plain: Option<PlainCreate>,
}

/// The message of an `Invalid` error about `field`, for display beside it.
fn problem(error: Option<&AppError>, field: &str) -> Option<String> {
    match error {
        Some(AppError::Port(PortError::Invalid { field: f, message })) if f == field => {
            Some(message.clone())
        }
        _ => None,
    }
}

/// How a scope reads in a label.
fn scope_label(scope: &EnvScope) -> String {
    match scope {
        EnvScope::All => "all environments".to_owned(),
        EnvScope::Only(env) => env.to_string(),
    }
}

fn role_summary(role: Role) -> &'static str {
    match role {
        Role::Viewer => "reads workflows, runs and logs",
        Role::Operator => "viewer, plus starts and cancels runs",
        Role::Approver => "viewer, plus approves requests",
        Role::Admin => "everything, tokens included",
        Role::Auditor => "reads the audit log and the user list only",
    }
}

#[component]
pub fn CreateTokenForm(action: ServerAction<CreateToken>, setup: TokenFormSetup) -> impl IntoView {
    let TokenFormSetup {
        environments,
        grantable,
        scim_allowed,
        plain,
    } = setup;
    let url_error = url_error_for(<CreateToken as ServerFn>::PATH);
    // After a refusal of a plain post the form holds what was sent, so it
    // can be corrected; otherwise it starts empty.
    let initial = match &plain {
        Some(PlainCreate {
            request,
            result: Err(_),
        }) => request.clone(),
        _ => NewToken::default(),
    };
    let plain_result = plain.map(|p| p.result);
    // This page's own submission once there is one; before that, the plain
    // post this page answers, or an error a plain post left in the URL.
    let outcome: Memo<Option<Result<CreatedToken, AppError>>> =
        Memo::new(move |_| match action.value().get() {
            Some(result) => Some(result),
            None => plain_result.clone().or_else(|| url_error.clone().map(Err)),
        });
    let error = Memo::new(move |_| outcome.get().and_then(Result::err));
    let created = Memo::new(move |_| outcome.get().and_then(Result::ok));

    let form_ref = NodeRef::<html::Form>::new();
    let secret_ref = NodeRef::<html::Input>::new();
    // In the browser: the form is emptied for the next token, and a new
    // secret is focused and selected once it is on the page, ready to copy.
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get()
            && let Some(form) = form_ref.get_untracked()
        {
            form.reset();
        }
    });
    Effect::new(move |_| {
        if let Some(input) = secret_ref.get()
            && action.value().with_untracked(|v| matches!(v, Some(Ok(_))))
        {
            let _ = input.focus();
            input.select();
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match CreateToken::from_event(&ev) {
            Ok(input) => {
                action.dispatch(input);
            }
            Err(err) => action
                .value()
                .set(Some(Err(AppError::Transport(err.to_string())))),
        }
    };

    let select_all = |ev: leptos::ev::FocusEvent| {
        event_target::<leptos::web_sys::HtmlInputElement>(&ev).select();
    };
    let secret = move || {
        created.get().map(|c| {
            let name = c.token.name.clone();
            view! {
                <div class="alert alert-ok token-created" role="status">
                    <p class="alert-title">"Token " <code>{name.clone()}</code> " created"</p>
                    <p>
                        "Copy its secret now: it is shown only this once. Gantry keeps only a hash of it and cannot show it again."
                    </p>
                    <div class="field">
                        <label for="new-token-secret">"Secret of " {name}</label>
                        <input
                            id="new-token-secret"
                            class="secret"
                            type="text"
                            readonly
                            autofocus
                            autocomplete="off"
                            spellcheck="false"
                            aria-describedby="new-token-secret-hint"
                            value=c.secret
                            node_ref=secret_ref
                            on:focus=select_all
                        />
                    </div>
                    <p class="hint" id="new-token-secret-hint">
                        "Select it and copy it (Ctrl+C or ⌘C). Send it as "
                        <code>"Authorization: Bearer …"</code>
                        ", or set it as "
                        <code>"GANTRY_TOKEN"</code>
                        " for the CLI."
                    </p>
                </div>
            }
        })
    };

    let name_problem = Memo::new(move |_| error.with(|e| problem(e.as_ref(), "name")));
    let roles_problem = Memo::new(move |_| error.with(|e| problem(e.as_ref(), "roles")));
    let expiry_problem = Memo::new(move |_| error.with(|e| problem(e.as_ref(), "expires_in")));
    let described = |base: &'static str, err: &'static str, problem: Memo<Option<String>>| {
        move || {
            if problem.get().is_some() {
                format!("{base} {err}")
            } else {
                base.to_owned()
            }
        }
    };
    let invalid = |problem: Memo<Option<String>>| move || problem.get().is_some().then_some("true");
    let field_error = |id: &'static str, problem: Memo<Option<String>>| {
        move || {
            problem
                .get()
                .map(|p| view! { <p class="field-error" id=id>{p}</p> })
        }
    };

    let scopes: Vec<EnvScope> = environments
        .iter()
        .cloned()
        .map(EnvScope::Only)
        .chain([EnvScope::All])
        .collect();
    let headers: Vec<String> = std::iter::once("Role".to_owned())
        .chain(scopes.iter().map(|s| match s {
            EnvScope::All => "All environments".to_owned(),
            EnvScope::Only(env) => env.to_string(),
        }))
        .collect();
    let rows = Role::ALL
        .iter()
        .map(|&role| {
            let cells = scopes
                .iter()
                .map(|scope| {
                    let grant = format!("{role}@{scope}");
                    let id = format!("role-{role}-{}", scope.to_string().replace('*', "all"));
                    let label = format!("{role} in {}", scope_label(scope));
                    let checked = initial.roles.contains(&grant);
                    let disabled = !grantable.contains(&grant);
                    view! {
                        <td>
                            <input
                                type="checkbox"
                                id=id
                                name="roles[]"
                                value=grant
                                aria-label=label
                                checked=checked
                                disabled=disabled
                            />
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">
                        <span class="role-name">{role.as_str()}</span>
                        <span class="role-what">{role_summary(role)}</span>
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    let chosen_lifetime = initial
        .expires_in
        .clone()
        .unwrap_or_else(|| format!("{DEFAULT_LIFETIME_DAYS}d"));
    let lifetimes = LIFETIMES
        .iter()
        .map(|days| {
            let value = format!("{days}d");
            let selected = value == chosen_lifetime;
            view! { <option value=value selected=selected>{format!("{days} days")}</option> }
        })
        .collect_view();
    let busy = move || action.pending().get();

    view! {
        <div aria-live="polite" class="token-outcome">{secret}</div>
        <form
            method="post"
            action=TOKENS_PAGE
            class="form token-form"
            node_ref=form_ref
            on:submit=on_submit
        >
            <div class="field">
                <label for="token-name">"Name"</label>
                <input
                    id="token-name"
                    name="name"
                    type="text"
                    required
                    maxlength="64"
                    autocomplete="off"
                    spellcheck="false"
                    value=initial.name.clone()
                    aria-describedby=described("token-name-hint", "token-name-error", name_problem)
                    aria-invalid=invalid(name_problem)
                />
                <p class="hint" id="token-name-hint">
                    "Lowercase letters, digits, - _ or ., e.g. ci-deploy. A name is never reused, not even after its token is revoked."
                </p>
                {field_error("token-name-error", name_problem)}
            </div>
            <fieldset
                class="role-grid"
                aria-describedby=described("token-roles-hint", "token-roles-error", roles_problem)
            >
                <legend>"Roles"</legend>
                <p class="hint" id="token-roles-hint">
                    "Tick what the token may do in each environment. All environments includes ones added later. Boxes beyond your own admin role are disabled."
                </p>
                <DataTable class="role-table" caption="Roles per environment" caption_hidden=true headers>
                    {rows}
                </DataTable>
                {field_error("token-roles-error", roles_problem)}
            </fieldset>
            {scim_allowed
                .then(|| {
                    view! {
                        <div class="field field-check">
                            <input
                                type="checkbox"
                                id="token-scim"
                                name="scim"
                                checked=initial.scim
                                aria-describedby="token-scim-hint"
                            />
                            <label for="token-scim">"SCIM provisioning token"</label>
                            <p class="hint" id="token-scim-hint">
                                "For Okta or Microsoft Entra ID to provision users and groups at /scim/v2. It holds no roles: leave the boxes above empty."
                            </p>
                        </div>
                    }
                })}
            <div class="field">
                <label for="token-expires">"Expires after"</label>
                <select
                    id="token-expires"
                    name="expires_in"
                    aria-describedby=described("token-expires-hint", "token-expires-error", expiry_problem)
                    aria-invalid=invalid(expiry_problem)
                >
                    {lifetimes}
                </select>
                <p class="hint" id="token-expires-hint">"Revoke a token any time before then."</p>
                {field_error("token-expires-error", expiry_problem)}
            </div>
            <div class="actions">
                <button type="submit" disabled=busy>
                    {move || if busy() { "Creating…" } else { "Create token" }}
                </button>
            </div>
            <div aria-live="polite">
                {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_found_by_field() {
        let err = AppError::Port(PortError::invalid("name", "too long"));
        assert_eq!(problem(Some(&err), "name").as_deref(), Some("too long"));
        assert_eq!(problem(Some(&err), "roles"), None);
        assert_eq!(problem(None, "name"), None);
    }

    #[test]
    fn scopes_read_as_words() {
        assert_eq!(scope_label(&EnvScope::All), "all environments");
        assert_eq!(
            scope_label(&EnvScope::Only(Environment::parse("dev").unwrap())),
            "dev"
        );
    }
}
