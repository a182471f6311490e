//! Freeze windows on the pages (docs/ops/freezes.md): the banner per frozen
//! environment on the Promotions page, the windows with their create and
//! delete forms and the breaks awaiting review on the Policies page, and
//! the Break the freeze form on a request's page. Every form is a plain
//! post that works without JavaScript; the port checks every one again.

use crate::api::{BreakFreeze, CreateFreeze, DeleteFreeze, ReviewFreezeBreak, get_freezes};
use crate::components::error_box::ErrorBox;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::url_error_for;
use gantry_core::freeze::{FreezeBreak, FreezeOverview, FreezeSchedule, FreezeView};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// One line per environment a freeze holds in now.
#[component]
pub fn FreezeBanner() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_freezes());
    view! {
        <Loaded resource=data part=true let:overview>
            {overview
                .environments
                .into_iter()
                .filter_map(|env| {
                    let active = env.active?;
                    Some(view! {
                        <p class="alert alert-warn freeze-banner" role="status" data-environment=env.environment.clone()>
                            <strong>{env.environment.clone()} " is frozen"</strong>
                            " until " <Time at=active.until /> ": " {active.reason}
                            ". Promotions into it wait; rollbacks go through."
                        </p>
                    })
                })
                .collect_view()}
        </Loaded>
    }
}

fn schedule_text(view: &FreezeView) -> String {
    match &view.window.schedule {
        FreezeSchedule::OneOff { start, end } => format!(
            "From {} to {}",
            start.format("%Y-%m-%d %H:%M UTC"),
            end.format("%Y-%m-%d %H:%M UTC")
        ),
        FreezeSchedule::Recurring {
            cron,
            duration,
            timezone,
        } => format!("At {cron} ({timezone}), for {duration}"),
    }
}

/// The freeze windows of every environment, for the Policies page.
#[component]
pub fn FreezeManager() -> impl IntoView {
    let create = ServerAction::<CreateFreeze>::new();
    let delete = ServerAction::<DeleteFreeze>::new();
    let review = ServerAction::<ReviewFreezeBreak>::new();
    let data = Resource::new(
        move || {
            (
                create.version().get(),
                delete.version().get(),
                review.version().get(),
            )
        },
        |_| get_freezes(),
    );
    let errors = [
        url_error_for(<CreateFreeze as ServerFn>::PATH),
        url_error_for(<DeleteFreeze as ServerFn>::PATH),
        url_error_for(<ReviewFreezeBreak as ServerFn>::PATH),
    ];
    let problem = move || {
        let live = [
            create.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
            review.value().get().and_then(Result::err),
        ];
        live.into_iter()
            .flatten()
            .next()
            .or_else(|| errors.iter().flatten().next().cloned())
            .map(|error| view! { <ErrorBox error /> })
    };
    view! {
        <section class="freezes" aria-labelledby="freezes-heading">
            <h2 id="freezes-heading">"Freeze windows"</h2>
            <p class="hint">
                "While a window holds, promotions into its environment wait; rollbacks go through. Recurring windows follow the local clock of their time zone. See the operator's guide to freezes."
            </p>
            <div aria-live="polite">{problem}</div>
            <Loaded resource=data let:overview>
                <Overview overview create delete review />
            </Loaded>
        </section>
    }
}

#[component]
fn Overview(
    overview: FreezeOverview,
    create: ServerAction<CreateFreeze>,
    delete: ServerAction<DeleteFreeze>,
    review: ServerAction<ReviewFreezeBreak>,
) -> impl IntoView {
    let reviews = (!overview.awaiting_review.is_empty()).then(|| {
        let items = overview
            .awaiting_review
            .into_iter()
            .map(|b| view! { <ReviewItem item=b review /> })
            .collect_view();
        view! {
            <section id="freeze-reviews" aria-labelledby="freeze-reviews-heading">
                <h3 id="freeze-reviews-heading">"Broken freezes awaiting review"</h3>
                <ul class="freeze-reviews">{items}</ul>
            </section>
        }
    });
    let envs = overview
        .environments
        .into_iter()
        .map(|env| {
            let name = env.environment.clone();
            let active = env.active.map(|a| {
                view! {
                    <p class="alert alert-warn">"Frozen until " <Time at=a.until /> ": " {a.reason}</p>
                }
            });
            let windows = if env.windows.is_empty() {
                view! { <p class="muted">"No freeze windows."</p> }.into_any()
            } else {
                let items = env
                    .windows
                    .into_iter()
                    .map(|w| {
                        let text = schedule_text(&w);
                        let next = w.next_start.map(|at| view! { " · next from " <Time at /> });
                        let holding = w
                            .active_until
                            .map(|at| view! { " · holds until " <Time at /> });
                        let window_id = w.window.id.clone();
                        let env_name = name.clone();
                        let remove_id = window_id.clone();
                        let remove = env.can_manage.then(move || {
                            view! {
                                <ActionForm action=delete attr:class="inline-form">
                                    <input type="hidden" name="environment" value=env_name />
                                    <input type="hidden" name="id" value=remove_id />
                                    <button type="submit" class="button-small">"Delete"</button>
                                </ActionForm>
                            }
                        });
                        view! {
                            <li data-window=window_id>
                                <strong>{w.window.reason.clone()}</strong> " — " {text} {holding} {next}
                                {remove}
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="freeze-windows">{items}</ul> }.into_any()
            };
            let form = env
                .can_manage
                .then(|| view! { <CreateForm environment=name.clone() create /> });
            view! {
                <section id=format!("freezes-{name}") data-environment=name.clone()>
                    <h3>{name.clone()}</h3>
                    {active}
                    {windows}
                    {form}
                </section>
            }
        })
        .collect_view();
    view! {
        {reviews}
        {envs}
    }
}

#[component]
fn CreateForm(environment: String, create: ServerAction<CreateFreeze>) -> impl IntoView {
    let id = {
        let environment = environment.clone();
        move |field: &str| format!("freeze-{field}-{environment}")
    };
    view! {
        <details class="freeze-create">
            <summary>"Declare a freeze window in " {environment.clone()}</summary>
            <ActionForm action=create attr:class="form freeze-form">
                <input type="hidden" name="environment" value=environment.clone() />
                <div class="field">
                    <label for=id("reason")>"Reason"</label>
                    <input id=id("reason") name="window[reason]" maxlength="500" required />
                </div>
                <fieldset>
                    <legend>"When"</legend>
                    <div class="field field-check">
                        <input type="radio" id=id("one-off") name="window[kind]" value="one_off" checked />
                        <label for=id("one-off")>"Once: from a start to an end (UTC)"</label>
                    </div>
                    <div class="field">
                        <label for=id("start")>"Start (UTC)"</label>
                        <input type="datetime-local" id=id("start") name="window[start]" />
                    </div>
                    <div class="field">
                        <label for=id("end")>"End (UTC)"</label>
                        <input type="datetime-local" id=id("end") name="window[end]" />
                    </div>
                    <div class="field field-check">
                        <input type="radio" id=id("recurring") name="window[kind]" value="recurring" />
                        <label for=id("recurring")>"Recurring: at a cron schedule, for a while"</label>
                    </div>
                    <div class="field">
                        <label for=id("cron")>"Cron (minute hour day month weekday)"</label>
                        <input id=id("cron") name="window[cron]" placeholder="0 18 * * 5" />
                    </div>
                    <div class="field">
                        <label for=id("duration")>"Lasting (wall-clock time)"</label>
                        <input id=id("duration") name="window[duration]" placeholder="60h" />
                    </div>
                    <div class="field">
                        <label for=id("timezone")>"Time zone (IANA)"</label>
                        <input id=id("timezone") name="window[timezone]" placeholder="Europe/Berlin" />
                    </div>
                </fieldset>
                <div class="actions">
                    <button type="submit">"Declare the freeze in " {environment.clone()}</button>
                </div>
            </ActionForm>
        </details>
    }
}

#[component]
fn ReviewItem(item: FreezeBreak, review: ServerAction<ReviewFreezeBreak>) -> impl IntoView {
    let comment_id = format!("freeze-review-{}", item.id);
    let break_id = item.id.clone();
    view! {
        <li data-break=break_id>
            <strong>{item.by.name.clone()}</strong> " broke the freeze of " {item.environment.clone()}
            " (" {item.freeze_reason.clone()} ", until " <Time at=item.frozen_until /> ") "
            <Time at=item.at /> " for "
            <a href=format!("/promotions/{}", item.request_id)>"this promotion"</a> ": "
            <span class="approval-reason">{item.reason.clone()}</span>
            <ActionForm action=review attr:class="form inline-form">
                <input type="hidden" name="id" value=item.id.clone() />
                <label for=comment_id.clone()>"Comment"</label>
                <input id=comment_id name="comment" maxlength="1000" />
                <button type="submit">"Mark reviewed"</button>
            </ActionForm>
        </li>
    }
}

/// The Break the freeze form on a pending request's page, for admins of
/// its target while a freeze holds there.
#[component]
pub fn BreakGlassForm(request_id: String, environment: String) -> impl IntoView {
    let action = ServerAction::<BreakFreeze>::new();
    let url_error = url_error_for(<BreakFreeze as ServerFn>::PATH);
    let problem = move || match action.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(_)) => None,
        None => url_error.clone().map(|error| view! { <ErrorBox error /> }),
    };
    view! {
        <details class="break-glass" id="break-freeze">
            <summary>"Break the freeze for this promotion…"</summary>
            <div aria-live="polite">{problem}</div>
            <ActionForm action attr:class="form break-freeze-form">
                <input type="hidden" name="id" value=request_id />
                <p class="hint">
                    "Lets this one request into " {environment.clone()}
                    " through the freeze. It needs a recent sign-in and a reason; it is audited, marked on the ledger row, and left for another admin of "
                    {environment.clone()} " to review."
                </p>
                <div class="field">
                    <label for="break-freeze-reason">"Reason"</label>
                    <textarea id="break-freeze-reason" name="reason" rows="2" maxlength="1000" required></textarea>
                </div>
                <div class="actions">
                    <button type="submit" class="danger">"Break the freeze of " {environment}</button>
                </div>
            </ActionForm>
        </details>
    }
}
