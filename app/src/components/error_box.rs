//! How every page reports a failed port call: a labelled alert saying what
//! happened and, where there is one, what to do next.

use crate::error::AppError;
use gantry_core::PortError;
use leptos::prelude::*;

#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let (title, detail) = match &error {
        AppError::Port(PortError::Unauthenticated) => (
            "Your session has ended",
            "Sign in again to continue.".to_owned(),
        ),
        AppError::Port(PortError::Forbidden { reason }) => ("Not allowed", reason.clone()),
        AppError::Port(PortError::Invalid { field, message }) => {
            ("Please check the form", format!("{field}: {message}"))
        }
        AppError::Port(err) => ("Something went wrong", err.to_string()),
        AppError::Transport(msg) => ("The server could not be reached", msg.clone()),
    };
    let sign_in = error.is_unauthenticated();
    view! {
        <div class="alert alert-error" role="alert">
            <p class="alert-title">{title}</p>
            <p>{detail}</p>
            {sign_in.then(|| view! { <p><a href="/sign-in" rel="external">"Sign in"</a></p> })}
        </div>
    }
}
