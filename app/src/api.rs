//! Server functions: the dashboard's way to the control plane (the only
//! others are the plain form routes that start or end a session and the
//! token form posted without JavaScript, see `tokens`). Each one resolves
//! the port and the caller's context, calls exactly one port method and
//! returns its typed result. No business logic lives here.

mod alert_forms;
mod alerts;
mod approvals;
mod audit;
mod canaries;
mod freezes;
mod passkeys;
mod policies;
mod promotions;
mod rate_limits;
mod retention;
mod runs;
mod secrets;
mod slo;
mod tokens;
mod users;
mod webhooks;
mod workflows;

pub use alerts::*;
pub use approvals::*;
pub use audit::*;
pub use canaries::*;
pub use freezes::*;
pub use passkeys::*;
pub use policies::*;
pub use promotions::*;
pub use rate_limits::*;
pub use retention::*;
pub use runs::*;
pub use secrets::*;
pub use slo::*;
pub use tokens::*;
pub use users::*;
pub use webhooks::*;
pub use workflows::*;

use crate::error::AppError;
use gantry_core::Preferences;
use gantry_core::overview::{Overview, ShellInfo, SignInOptions};
use leptos::prelude::*;

#[server(prefix = "/ui", endpoint = "shell")]
pub async fn get_shell() -> Result<ShellInfo, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.shell(&ctx).await)
}

#[server(prefix = "/ui", endpoint = "sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.sign_in_options(&ctx).await)
}

#[server(prefix = "/ui", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.overview(&ctx).await)
}

#[server(prefix = "/ui", endpoint = "preferences")]
pub async fn get_preferences() -> Result<Preferences, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.preferences(&ctx).await)
}

/// Form fields arrive as text so a bad value gets a message naming the field
/// instead of a deserialization failure.
#[server(prefix = "/ui", endpoint = "save_preferences")]
pub async fn save_preferences(
    theme: String,
    time_display: String,
) -> Result<Preferences, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let preferences = match parse_preferences(&theme, &time_display) {
        Ok(p) => p,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.update_preferences(&ctx, preferences).await)
}

#[cfg(any(feature = "ssr", test))]
fn parse_preferences(
    theme: &str,
    time_display: &str,
) -> Result<Preferences, gantry_core::PortError> {
    use gantry_core::{PortError, Theme, TimeDisplay};
    let theme = Theme::parse(theme).ok_or_else(|| {
        PortError::invalid(
            "theme",
            format!("unknown theme {theme:?}: choose system, light or dark"),
        )
    })?;
    let time_display = TimeDisplay::parse(time_display).ok_or_else(|| {
        PortError::invalid(
            "time_display",
            format!("unknown time display {time_display:?}: choose utc or local"),
        )
    })?;
    Ok(Preferences {
        theme,
        time_display,
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-side plumbing shared by every server function.

    use crate::error::AppError;
    use axum::http::header::ACCEPT;
    use axum::http::request::Parts;
    use gantry_core::PortError;
    use gantry_core::port::{RequestContext, SharedControlPlane};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    /// The port (provided by the server through Leptos context) and the
    /// caller's context (put on the request by the server's auth layer).
    pub async fn port() -> Result<(SharedControlPlane, RequestContext), AppError> {
        let plane = use_context::<SharedControlPlane>().ok_or_else(|| {
            AppError::Transport("the control plane is not wired into this server".into())
        })?;
        let parts = use_context::<Parts>()
            .ok_or_else(|| AppError::Transport("no request in context".into()))?;
        let ctx = parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default();
        Ok((plane, ctx))
    }

    /// Passes a port result through, giving errors their real HTTP status.
    /// Plain form posts (no JavaScript) keep the redirect back to the form
    /// that server functions use to report errors, so their status is left
    /// alone. So is a page's: while a page renders, the server functions
    /// it calls leave its status to the page (`Loaded`), where a part that
    /// may fail alone (the Overview's promotions) doesn't fail the page.
    pub fn answer<T>(result: Result<T, PortError>) -> Result<T, AppError> {
        if let Err(err) = &result
            && serving_server_function()
            && !plain_form_post()
            && let Some(resp) = use_context::<ResponseOptions>()
            && let Ok(status) = axum::http::StatusCode::from_u16(err.http_status())
        {
            resp.set_status(status);
        }
        result.map_err(AppError::from)
    }

    /// This request is a server function's own (`/ui/…`), not a page
    /// calling it while it renders.
    fn serving_server_function() -> bool {
        use_context::<Parts>().is_some_and(|p| p.uri.path().starts_with("/ui/"))
    }

    /// A form the browser posted itself (no JavaScript): it asks for HTML.
    pub fn plain_form_post() -> bool {
        use_context::<Parts>()
            .and_then(|p| {
                p.headers
                    .get(ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false)
    }

    /// Keeps this answer out of every cache (it carries a secret).
    pub fn no_store() {
        if let Some(resp) = use_context::<ResponseOptions>() {
            resp.insert_header(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
        }
    }

    /// Where the browser goes after a successful form post: a real 302 for
    /// plain posts (no JavaScript), client-side navigation otherwise.
    pub fn redirect_to(path: &str) {
        leptos_axum::redirect(path);
    }

    /// After a plain form post (no JavaScript) that succeeded: back to the
    /// page it came from, without the error an earlier attempt left in
    /// its URL (which would still show). The hydrated page stays put.
    pub fn redirect_back() {
        if !plain_form_post() {
            return;
        }
        let referer = use_context::<Parts>().and_then(|p| {
            p.headers
                .get(axum::http::header::REFERER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        if let Some(referer) = referer {
            // The edge keeps the Location on this site (`form_redirects`).
            redirect_to(&super::without_form_error(&referer));
        }
    }
}

/// `url` without the `__err` and `__path` parameters a failed plain form
/// post added to it.
#[cfg(any(feature = "ssr", test))]
fn without_form_error(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && name != "__err" && name != "__path"
        })
        .collect();
    let mut out = path.to_owned();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::{Theme, TimeDisplay};

    #[test]
    fn going_back_drops_only_the_form_error() {
        assert_eq!(
            without_form_error("http://h/promotions?__err=abc&__path=/ui/roll_back"),
            "http://h/promotions"
        );
        assert_eq!(
            without_form_error("/workflows/x?version=2&__err=abc#active"),
            "/workflows/x?version=2#active"
        );
        assert_eq!(without_form_error("/promotions"), "/promotions");
    }

    #[test]
    fn preference_fields_are_parsed_or_named_in_the_error() {
        assert_eq!(
            parse_preferences("dark", "local"),
            Ok(Preferences {
                theme: Theme::Dark,
                time_display: TimeDisplay::Local
            })
        );
        let err = parse_preferences("neon", "utc").unwrap_err();
        assert!(err.to_string().starts_with("theme: unknown theme"), "{err}");
        let err = parse_preferences("light", "mars").unwrap_err();
        assert!(err.to_string().starts_with("time_display:"), "{err}");
    }
}
