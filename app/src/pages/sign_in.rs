//! Sign-in: single sign-on when configured, seeded demo users in dev mode.
//! Plain HTML forms posting to the server's `/auth/...` routes, so signing in
//! never depends on JavaScript.

use crate::api::get_sign_in_options;
use crate::components::loaded::Loaded;
use gantry_core::overview::SignInOptions;
use gantry_core::redirect::safe_next_path;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = safe_next_path(query.read_untracked().get("next").as_deref()).to_owned();
    let problem = query.read_untracked().get("error");
    let options = Resource::new(|| (), |_| get_sign_in_options());
    view! {
        <Title text="Sign in" />
        <div class="sign-in">
            <h1>"Sign in to Gantry"</h1>
            {problem.map(|p| view! {
                <div class="alert alert-error" role="alert"><p>{p}</p></div>
            })}
            <Loaded resource=options let:options>
                <SignInChoices options next=next.clone() />
            </Loaded>
            <p class="break-glass-link">
                "Single sign-on down? Admins with a registered passkey: "
                <a href="/break-glass">"break-glass sign-in"</a>
                "."
            </p>
        </div>
    }
}

#[component]
fn SignInChoices(options: SignInOptions, next: String) -> impl IntoView {
    if options.dev_users.is_empty() && !options.sso {
        return view! {
            <p>
                "No way to sign in is configured. Start the server with "
                <code>"--dev"</code>
                " for demo users on this machine, or configure single sign-on (see docs/sso.md)."
            </p>
        }
        .into_any();
    }
    let unavailable = options.sso_unavailable;
    let sso = options.sso.then(|| {
        // A plain GET form: the browser leaves for the identity provider
        // (the client-side router would intercept a link).
        let next = next.clone();
        let notice = unavailable.then(|| {
            view! {
                <p class="alert alert-warn" role="status">
                    "Single sign-on is unavailable right now: the identity provider can't be reached. Gantry keeps trying; the button below tries again at once."
                </p>
            }
        });
        view! {
            <section aria-labelledby="sso-heading">
                <h2 id="sso-heading">"Single sign-on"</h2>
                {notice}
                <p>"Sign in with your organization's account. What you may do here follows your groups there."</p>
                <form method="get" action="/auth/login" class="sso-sign-in">
                    <input type="hidden" name="next" value=next />
                    <button type="submit">"Sign in with single sign-on"</button>
                </form>
            </section>
        }
    });
    let dev = (!options.dev_users.is_empty()).then(|| dev_users(options.dev_users, next));
    view! { {sso} {dev} }.into_any()
}

fn dev_users(dev_users: Vec<gantry_core::DevUser>, next: String) -> impl IntoView {
    let users = dev_users
        .into_iter()
        .map(|u| {
            let label = format!("Sign in as {}", u.display_name);
            view! {
                <li>
                    <button type="submit" name="username" value=u.username.clone() class="user-choice">
                        <span class="user-choice-name">{label}</span>
                        <span class="user-choice-role">{u.role.to_string()} " · " {u.description}</span>
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="dev-users-heading">
            <h2 id="dev-users-heading">"Demo users"</h2>
            <p>"This server runs in dev mode. Pick a seeded user; each holds one role in every environment."</p>
            <form method="post" action="/auth/dev/sign-in" class="dev-sign-in">
                <input type="hidden" name="next" value=next />
                <ul class="user-choices">{users}</ul>
            </form>
        </section>
    }
}
