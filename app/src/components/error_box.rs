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
        AppError::Port(PortError::StepUpRequired { message }) => (
            "Please sign in again",
            format!("{message}. Then repeat what you were doing."),
        ),
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
        AppError::Port(PortError::Overloaded {
            message,
            retry_after_seconds,
            ..
        }) => (
            "Too much is waiting",
            format!("{message}. Try again in {retry_after_seconds} seconds."),
        ),
        AppError::Port(err) => ("Something went wrong", err.to_string()),
        AppError::Transport(msg) => ("The server could not be reached", msg.clone()),
    };
    let sign_in = error.is_unauthenticated();
    // Step-up: back through sign-in (the identity provider with a fresh
    // login when single sign-on is configured, else the sign-in page; the
    // server picks), then to this page, where the person repeats the action.
    let step_up = matches!(error, AppError::Port(PortError::StepUpRequired { .. })).then(|| {
        let location = leptos_router::hooks::use_location();
        let here = format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        );
        let href = format!("/auth/login?step_up=1&next={}", encode_component(&here));
        view! { <p><a href=href rel="external">"Sign in again"</a></p> }
    });
    view! {
        <div class="alert alert-error" role="alert">
            <p class="alert-title">{title}</p>
            <p>{detail}</p>
            {(!problems.is_empty()).then(|| view! { <ProblemList problems /> })}
            {sign_in.then(|| view! { <p><a href="/sign-in" rel="external">"Sign in"</a></p> })}
            {step_up}
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

/// Percent-encodes `s` for use as one query parameter value.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_encoded_as_one_parameter() {
        assert_eq!(
            encode_component("/runs?env=prod&x=a b"),
            "/runs%3Fenv%3Dprod%26x%3Da%20b"
        );
    }
}
