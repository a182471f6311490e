//! Route parameters (`/runs/:id`) that can be read after the page's
//! reactive owner is gone. leptos_axum reads a page's `<Title>` once
//! rendering is done; under load the route's parameters were sometimes
//! disposed by then, and the run page's title closure panicked in the
//! server's task (`make load` saw the connection drop). Such a late read
//! gets the value the page was rendered with.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use leptos_router::params::ParamsMap;

/// The current route's parameter `name`, as a closure: reactive while the
/// page lives, the value it was created with once the page is torn down.
pub fn route_param(name: &'static str) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    param_of(use_params_map(), name)
}

fn param_of(
    params: Memo<ParamsMap>,
    name: &'static str,
) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let first: std::sync::Arc<str> = params.read_untracked().get(name).unwrap_or_default().into();
    move || match params.try_read() {
        Some(p) => p.get(name).unwrap_or_default(),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_read_after_its_page_is_torn_down_is_the_one_it_rendered() {
        let owner = Owner::new();
        let id = owner.with(|| {
            let params = Memo::new(|_| {
                let mut p = ParamsMap::new();
                p.insert("id", "01a2".to_owned());
                p
            });
            param_of(params, "id")
        });
        assert_eq!(owner.with(&id), "01a2");
        owner.cleanup();
        assert_eq!(id(), "01a2");
    }
}
