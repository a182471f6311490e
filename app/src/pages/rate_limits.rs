//! Admin → Rate limits: each request class's quota and what it does when
//! the bucket store is down, where buckets live, and the overrides admins
//! set per service token or group, with forms to add and delete them.

use crate::api::{DeleteRateLimitOverride, SetRateLimitOverride, get_rate_limits};
use crate::components::data_table::DataTable;
use crate::components::error_box::ErrorBox;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::url_error_for;
use gantry_core::ratelimit::{Quota, RateLimits, RouteClass};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

fn quota_text(quota: Option<Quota>) -> String {
    quota.map_or_else(|| "no limit".to_owned(), |q| q.to_string())
}

#[component]
pub fn RateLimitsPage() -> impl IntoView {
    let set = ServerAction::<SetRateLimitOverride>::new();
    let delete = ServerAction::<DeleteRateLimitOverride>::new();
    let data = Resource::new(
        move || (set.version().get(), delete.version().get()),
        |_| get_rate_limits(),
    );
    let errors = [
        url_error_for(<SetRateLimitOverride as ServerFn>::PATH),
        url_error_for(<DeleteRateLimitOverride as ServerFn>::PATH),
    ];
    let problem = move || {
        [
            set.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .or_else(|| errors.iter().flatten().next().cloned())
        .map(|error| view! { <ErrorBox error /> })
    };
    view! {
        <Title text="Rate limits" />
        <h1>"Rate limits"</h1>
        <p class="lead">
            "How many requests each person or token may send, per kind of request. A request over \
             its quota gets 429 with Retry-After and the RateLimit headers."
        </p>
        <div aria-live="polite">{problem}</div>
        <Loaded resource=data let:limits>
            <Limits limits delete />
        </Loaded>
        <AddForm set />
    }
}

#[component]
fn Limits(limits: RateLimits, delete: ServerAction<DeleteRateLimitOverride>) -> impl IntoView {
    let store = if limits.store == "database" {
        "Buckets live in the database: the limits hold across every server process on it."
    } else {
        "Buckets live in this process's memory: each server process counts alone."
    };
    let defaults = limits
        .defaults
        .into_iter()
        .map(|d| {
            view! {
                <tr data-class=d.class.as_str()>
                    <th scope="row"><code>{d.class.as_str()}</code></th>
                    <td>{quota_text(d.quota)}</td>
                    <td>{if d.fail_open { "let through" } else { "refused (503)" }}</td>
                </tr>
            }
        })
        .collect_view();
    let overrides = if limits.overrides.is_empty() {
        view! { <p class="muted">"No overrides: every token and group has the defaults."</p> }
            .into_any()
    } else {
        let rows = limits
            .overrides
            .into_iter()
            .map(|o| {
                let label = format!(
                    "Delete the {} override of {} {}",
                    o.class.as_str(),
                    o.subject_kind.as_str(),
                    o.subject
                );
                let id = o.id.clone();
                view! {
                    <tr data-override=o.id.clone()>
                        <td>{o.subject_kind.as_str()} " " <code>{o.subject.clone()}</code></td>
                        <td><code>{o.class.as_str()}</code></td>
                        <td>{quota_text(o.quota)}</td>
                        <td>{o.note.clone()}</td>
                        <td>{o.created_by.clone()} ", " <Time at=o.created_at /></td>
                        <td>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=id />
                                <button type="submit" class="danger" aria-label=label>"Delete"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <DataTable caption="Overrides" caption_hidden=true headers=&["For", "Class", "Quota", "Note", "Set by", "Delete"]>
                {rows}
            </DataTable>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="defaults-heading">
            <h2 id="defaults-heading">"Defaults"</h2>
            <p class="hint">{store} " Set with --rate-limit and --rate-limit-fail-open."</p>
            <DataTable caption="Default quota per class" caption_hidden=true headers=&["Class", "Quota", "When the store is down"]>
                {defaults}
            </DataTable>
        </section>
        <section aria-labelledby="overrides-heading">
            <h2 id="overrides-heading">"Overrides"</h2>
            <p class="hint">"A token's own override comes first; among a person's groups the most generous applies."</p>
            {overrides}
        </section>
    }
}

#[component]
fn AddForm(set: ServerAction<SetRateLimitOverride>) -> impl IntoView {
    let classes = RouteClass::ALL
        .map(|c| view! { <option value=c.as_str()>{c.as_str()}</option> })
        .collect_view();
    view! {
        <section aria-labelledby="add-heading">
            <h2 id="add-heading">"Set an override"</h2>
            <ActionForm action=set attr:class="stacked">
                <div class="field">
                    <label for="rl-kind">"For"</label>
                    <select id="rl-kind" name="subject_kind">
                        <option value="token">"a service token"</option>
                        <option value="group">"a group (from the identity provider)"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="rl-subject">"Token name or id, or group name"</label>
                    <input type="text" id="rl-subject" name="subject" required />
                </div>
                <div class="field">
                    <label for="rl-class">"Class"</label>
                    <select id="rl-class" name="class">{classes}</select>
                </div>
                <div class="field">
                    <label for="rl-quota">"Quota (REQUESTS/WINDOW such as 600/1m, or off)"</label>
                    <input type="text" id="rl-quota" name="quota" required />
                </div>
                <div class="field">
                    <label for="rl-note">"Why"</label>
                    <input type="text" id="rl-note" name="note" maxlength="500" />
                </div>
                <div class="actions">
                    <button type="submit">"Set the override"</button>
                </div>
            </ActionForm>
        </section>
    }
}
