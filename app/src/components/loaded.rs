//! The one way a page waits for its data: a resource, a busy note while it
//! loads, then either the page body or an [`ErrorBox`]. During server
//! rendering a failed load also sets the page's HTTP status (404 for an
//! unknown run, 403 when not allowed), so the status line tells the truth.

use super::error_box::ErrorBox;
use crate::error::AppError;
use leptos::prelude::*;

/// Renders `children` with the resource's value once it is ready. A
/// `Transition`: when the resource's inputs change (new filters, next page)
/// the previous content stays until the new data arrives.
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    /// A part of the page that may fail while the rest works (the
    /// Overview's promotions): its error shows, the page's status stays.
    #[prop(optional)]
    part: bool,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => children(data).into_any(),
                        Err(error) => {
                            if !part {
                                set_page_status(&error);
                            }
                            view! { <ErrorBox error /> }.into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

/// Gives a server-rendered page the status of the error it shows.
fn set_page_status(_error: &AppError) {
    #[cfg(feature = "ssr")]
    if let AppError::Port(err) = _error
        && let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(err.http_status())
    {
        resp.set_status(status);
    }
}
