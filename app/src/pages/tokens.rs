//! Admin → Service tokens: every token with its roles, hint and state, a
//! Revoke button on each active one, and the form that makes a new one and
//! shows its secret exactly once.
//!
//! The first list is loaded first and gates the rest: a caller who may not
//! manage tokens sees one "Not allowed" message (and leaves one denial in
//! the log), not one per section.

use crate::api::{CreateToken, PlainCreate, RevokeToken, TokenList, list_tokens};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::layout::{Shell, use_shell};
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::components::status_badge::label;
use crate::components::token_form::{CreateTokenForm, TokenFormSetup};
use crate::error::{AppError, url_error_for};
use chrono::{DateTime, Utc};
use gantry_core::rbac::{Action, decide};
use gantry_core::token::{ServiceToken, TokenKind, TokenState, grant_text};
use gantry_core::{EnvScope, Role};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

async fn load_setup(shell: Shell, plain: Option<PlainCreate>) -> Result<TokenFormSetup, AppError> {
    let environments = shell.environments().await;
    let principal = shell.principal().await;
    let scopes = environments
        .iter()
        .cloned()
        .map(EnvScope::Only)
        .chain([EnvScope::All]);
    let grantable = scopes
        .flat_map(|scope| Role::ALL.map(|role| (role, scope.clone())))
        .filter(|(role, scope)| {
            principal.as_ref().is_some_and(|p| {
                decide(
                    p,
                    &Action::GrantTokenRole {
                        role: *role,
                        scope: scope.clone(),
                    },
                )
                .is_allowed()
            })
        })
        .map(|(role, scope)| grant_text(role, &scope))
        .collect();
    let scim_allowed = principal
        .as_ref()
        .is_some_and(|p| decide(p, &Action::ManageUsers).is_allowed());
    Ok(TokenFormSetup {
        environments,
        grantable,
        scim_allowed,
        plain,
    })
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let shell = use_shell();
    // Only present while the server answers a create form posted without
    // JavaScript (see `api::tokens`).
    let plain = use_context::<PlainCreate>();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let revoke_url_error = url_error_for(<RevokeToken as ServerFn>::PATH);

    let first = Resource::new(|| (), |_| list_tokens());
    let setup = Resource::new(
        || (),
        move |_| {
            let plain = plain.clone();
            async move {
                first.await?;
                load_setup(shell, plain).await
            }
        },
    );
    // Read again after every creation or revocation on this page.
    let list = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |changes| async move {
            let first = first.await?;
            if changes == (0, 0) {
                Ok(first)
            } else {
                list_tokens().await
            }
        },
    );
    let revoke_outcome = move || match revoke.value().get() {
        Some(Ok(token)) => view! {
            <p class="alert alert-ok" role="status">
                "Revoked " <code>{token.name}</code> ". It is refused from its next request on."
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
        None => revoke_url_error
            .clone()
            .map(|error| view! { <ErrorBox error /> })
            .into_any(),
    };

    view! {
        <Title text="Service tokens" />
        <h1>"Service tokens"</h1>
        <p class="lead">
            "Credentials for CI systems and scripts. Each holds the roles ticked for it, per environment, until it expires or is revoked."
        </p>
        <Loaded resource=first let:_allowed>
            <section aria-labelledby="create-heading">
                <h2 id="create-heading">"Create a token"</h2>
                <Loaded resource=setup let:setup>
                    <CreateTokenForm action=create setup />
                </Loaded>
            </section>
            <section aria-labelledby="tokens-heading">
                <h2 id="tokens-heading">"Tokens"</h2>
                <div aria-live="polite">{revoke_outcome.clone()}</div>
                <Loaded resource=list let:list>
                    <TokensTable list revoke />
                </Loaded>
            </section>
        </Loaded>
    }
}

#[component]
fn TokensTable(list: TokenList, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let TokenList { tokens, now } = list;
    if tokens.is_empty() {
        return view! { <p class="empty-state">"No service tokens yet."</p> }.into_any();
    }
    let rows = tokens
        .into_iter()
        .map(|token| view! { <Row token now revoke /> })
        .collect_view();
    view! {
        <DataTable class="tokens" caption="Service tokens, newest first" headers=&["Name", "Roles", "Hint", "Created", "Expires", "Last used", "State", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}

/// A time, or what its absence means.
fn time_or(at: Option<DateTime<Utc>>, none: &'static str) -> AnyView {
    match at {
        Some(at) => view! { <Time at /> }.into_any(),
        None => view! { <span class="muted">{none}</span> }.into_any(),
    }
}

#[component]
fn Row(
    token: ServiceToken,
    now: DateTime<Utc>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let state = token.state(now);
    let roles = match token.kind {
        TokenKind::Scim => view! { <li>"SCIM provisioning"</li> }.into_any(),
        TokenKind::Worker => view! { <li>"Worker (execution API)"</li> }.into_any(),
        TokenKind::Metrics => view! { <li>"Metrics (GET /metrics)"</li> }.into_any(),
        TokenKind::Service => token
            .roles
            .iter()
            .map(|r| view! { <li><code>{r.clone()}</code></li> })
            .collect_view()
            .into_any(),
    };
    let action = (state == TokenState::Active).then(|| {
        let name = token.name.clone();
        view! {
            <ActionForm action=revoke attr:class="revoke-form">
                <input type="hidden" name="id" value=token.id.clone() />
                <button
                    type="submit"
                    class="danger"
                    aria-label=format!("Revoke {name}")
                    disabled=move || revoke.pending().get()
                >
                    "Revoke"
                </button>
            </ActionForm>
        }
    });
    // A token made by a token acts for that token's person: say whom.
    let acts_for = token
        .maker
        .as_ref()
        .filter(|m| m.name != token.created_by)
        .map(|m| view! { <span class="token-person">{format!("for {}", m.name)}</span> });
    view! {
        <tr>
            <th scope="row">{token.name.clone()}</th>
            <td><ul class="token-roles">{roles}</ul></td>
            <td><code class="token-hint">{token.hint.clone()}</code></td>
            <td>
                <span class="token-maker">{token.created_by.clone()}</span>
                {acts_for}
                <Time at=token.created_at />
            </td>
            <td>{time_or(token.expires_at, "Never")}</td>
            <td>{time_or(token.last_used_at, "Never")}</td>
            <td><StateBadge state /></td>
            <td>{action}</td>
        </tr>
    }
}

/// A token's state as a word and a symbol; colour only repeats the word.
#[component]
fn StateBadge(state: TokenState) -> impl IntoView {
    let (key, tone, symbol) = match state {
        TokenState::Active => ("active", "ok", "✓"),
        TokenState::Expired => ("expired", "wait", "○"),
        TokenState::Revoked => ("revoked", "err", "⊘"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-state=key>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {label(key)}
        </span>
    }
}
