//! How every page reports a failed port call: a labelled alert saying what
//! happened and, where there is one, what to do next. A rejected spec or
//! run lists each problem with where it is.

use crate::error::AppError;
use gantry_core::PortError;
use gantry_core::spec::SpecProblem;
use leptos::prelude::*;

#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let mut problems: Vec<SpecProblem> = Vec::new();
    let (title, detail) = match &error {
        AppError::Port(PortError::Unauthenticated) => (
            "Your session has ended",
            "Sign in again to continue.".to_owned(),
        ),
        AppError::Port(PortError::Forbidden { reason }) => ("Not allowed", reason.clone()),
        AppError::Port(PortError::Invalid { field, message }) => {
            ("Please check the form", format!("{field}: {message}"))
        }
        AppError::Port(PortError::NotFound { what }) => {
            ("Not found", format!("There is no {what}."))
        }
        AppError::Port(PortError::Unprocessable {
            message,
            problems: found,
        }) => {
            problems.clone_from(found);
            ("Please fix these problems", format!("{message}."))
        }
        AppError::Port(PortError::TooLarge { message }) => ("Too large", message.clone()),
        AppError::Port(err) => ("Something went wrong", err.to_string()),
        AppError::Transport(msg) => ("The server could not be reached", msg.clone()),
    };
    let sign_in = error.is_unauthenticated();
    view! {
        <div class="alert alert-error" role="alert">
            <p class="alert-title">{title}</p>
            <p>{detail}</p>
            {(!problems.is_empty()).then(|| view! { <ProblemList problems /> })}
            {sign_in.then(|| view! { <p><a href="/sign-in" rel="external">"Sign in"</a></p> })}
        </div>
    }
}

/// Each problem with its line and field path, when known.
#[component]
fn ProblemList(problems: Vec<SpecProblem>) -> impl IntoView {
    let items = problems
        .into_iter()
        .map(|p| {
            let line = p
                .line
                .map(|l| view! { <span class="problem-line">"Line " {l}</span> " " });
            let path = (!p.path.is_empty()).then(|| {
                view! { <code class="problem-path">{p.path.clone()}</code> ": " }
            });
            view! { <li>{line}{path}{p.message}</li> }
        })
        .collect_view();
    view! { <ul class="problems">{items}</ul> }
}
