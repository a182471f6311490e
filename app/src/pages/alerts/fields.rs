//! A labelled form field with its hint and, when the last attempt was
//! refused, the problem the form or the port found with it, always in the
//! same place so `aria-describedby` never names a missing element.

use crate::error::AppError;
use leptos::prelude::*;

/// The error the form shows now: the last attempt's, if refused.
pub type Refusal = RwSignal<Option<AppError>>;

/// The problem at `path` (`threshold`, `channels[0]`), or for `Invalid`
/// errors naming that field.
pub fn problem_at(error: Option<&AppError>, path: &str) -> Option<String> {
    use gantry_core::PortError;
    let error = error?;
    if let AppError::Port(PortError::Invalid { field, message }) = error
        && field == path
    {
        return Some(message.clone());
    }
    if path == "channels" {
        // Problems about one channel (`channels[1]`) show at the group.
        if let AppError::Port(PortError::Unprocessable { problems, .. }) = error {
            let found: Vec<&str> = problems
                .iter()
                .filter(|p| p.path.starts_with("channels"))
                .map(|p| p.message.as_str())
                .collect();
            return (!found.is_empty()).then(|| found.join("; "));
        }
    }
    error.problem_at(path)
}

pub fn described_by(id: &str, hint: bool) -> String {
    if hint {
        format!("{id}-hint {id}-error")
    } else {
        format!("{id}-error")
    }
}

#[component]
pub fn Field(
    /// The input's id; the hint and error take it as prefix.
    id: &'static str,
    #[prop(into)] label: String,
    /// Where the port reports problems with it.
    path: &'static str,
    refusal: Refusal,
    #[prop(optional, into)] hint: Option<String>,
    children: Children,
) -> impl IntoView {
    let error = move || refusal.with(|e| problem_at(e.as_ref(), path));
    view! {
        <div class="field" data-path=path>
            <label for=id>{label}</label>
            {children()}
            {hint.map(|h| view! { <p class="hint" id=format!("{id}-hint")>{h}</p> })}
            <p class="field-error" id=format!("{id}-error")>{error}</p>
        </div>
    }
}
