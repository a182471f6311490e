//! The frame around every page: skip link, header with the DEV MODE banner,
//! main navigation and user menu, the main landmark and a footer.

use super::nav::PrimaryNav;
use super::runs_table::Time;
use crate::api::get_shell;
use crate::error::AppError;
use gantry_core::overview::ShellInfo;
use gantry_core::{Principal, Theme};
use leptos::prelude::*;
use leptos_meta::Html;

/// Client-side UI state shared across pages.
#[derive(Clone, Copy)]
pub struct UiState {
    /// A theme picked on the Preferences page, applied before (and after) it
    /// is saved.
    pub theme_preview: RwSignal<Option<Theme>>,
    /// True once the browser has hydrated the page. Tests and scripts wait
    /// for `data-hydrated="true"` on the app root.
    pub hydrated: RwSignal<bool>,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            theme_preview: RwSignal::new(None),
            hydrated: RwSignal::new(false),
        }
    }
}

pub fn ui_state() -> UiState {
    use_context::<UiState>().unwrap_or_default()
}

/// The frame's data (who is signed in, dev mode), shared with pages so they
/// can hide what the caller can't do without asking the server again.
///
/// Held as an [`ArcResource`] in a [`StoredValue`]: pages await it from
/// inside their own resources' fetches, which the server runs as tasks of
/// their own, and a client that hangs up mid-render disposes the page's
/// reactive owner under them. Awaiting a disposed arena `Resource` panics;
/// a stored value that is gone reads as `None` (treated as "not loaded").
#[derive(Clone, Copy)]
pub struct Shell(StoredValue<ArcResource<Result<ShellInfo, AppError>>>);

impl Shell {
    /// The signed-in principal, once the frame's data is loaded.
    pub async fn principal(self) -> Option<Principal> {
        self.info().await.and_then(|info| info.principal)
    }

    /// The configured environments in promotion order (none when signed
    /// out or when the frame's data failed to load).
    pub async fn environments(self) -> Vec<gantry_core::environment::Environment> {
        self.info()
            .await
            .map(|info| info.environments)
            .unwrap_or_default()
    }

    /// The frame's data; `None` when it failed to load or the page was
    /// torn down (its client went away) before it could be read.
    pub async fn info(self) -> Option<ShellInfo> {
        let resource = self.0.try_get_value()?;
        resource.await.ok()
    }

    fn new(resource: ArcResource<Result<ShellInfo, AppError>>) -> Self {
        Self(StoredValue::new(resource))
    }
}

/// The frame's [`Shell`]; outside a frame, one loaded on demand.
pub fn use_shell() -> Shell {
    use_context::<Shell>().unwrap_or_else(|| Shell::new(ArcResource::new(|| (), |_| get_shell())))
}

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let ui = ui_state();
    // Effects run only in the browser: this flips once hydration is done.
    Effect::new(move |_| ui.hydrated.set(true));
    let shell = ArcResource::new(|| (), |_| get_shell());
    provide_context(Shell::new(shell.clone()));

    view! {
        <div class="app" data-hydrated=move || ui.hydrated.get().to_string()>
            <a class="skip-link" href="#main">"Skip to main content"</a>
            <Transition fallback=|| view! { <header class="site-header"></header> }>
                {move || Suspend::new({
                    let shell = shell.clone();
                    async move { match shell.await {
                        Ok(info) => view! { <Header info /> }.into_any(),
                        Err(_) => view! {
                            <header class="site-header">
                                <a class="brand" href="/">"Gantry"</a>
                            </header>
                        }.into_any(),
                    } }
                })}
            </Transition>
            <main id="main" tabindex="-1">{children()}</main>
            <footer class="site-footer">
                <p>"Gantry: jobs and workflows with a hardened control plane."</p>
            </footer>
        </div>
    }
}

#[component]
fn Header(info: ShellInfo) -> impl IntoView {
    let ui = ui_state();
    let saved_theme = info.preferences.theme;
    let theme = move || ui.theme_preview.get().unwrap_or(saved_theme).as_str();
    let dev_mode = info.dev_mode;
    let version = info.version.clone();
    let break_glass = info
        .principal
        .as_ref()
        .and_then(|p| p.break_glass_until)
        .map(|until| {
            view! {
                <div class="break-glass-banner" role="alert" data-break-glass="on">
                    <strong>"BREAK-GLASS SESSION"</strong>
                    " Signed in with a passkey while single sign-on is down. Every action is audited as break-glass, admins are alerted, and the session ends at "
                    <Time at=until />
                    " without renewal."
                </div>
            }
        });
    view! {
        <Html {..} data-theme=theme />
        {dev_mode.then(|| view! {
            <div class="dev-banner" role="note" aria-label="Development mode">
                <strong>"DEV MODE"</strong>
                " Demo users, no single sign-on. Never expose this server beyond this machine."
            </div>
        })}
        {break_glass}
        <header class="site-header">
            <a class="brand" href="/" aria-label="Gantry home">
                // A gantry crane: a beam on two legs with a hoist.
                <svg class="brand-mark" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
                    <path
                        d="M3 5h18M5 5v15M19 5v15M12 5v7M9 12h6v3H9z"
                        fill="none"
                        stroke="currentColor"
                        stroke-width="2"
                        stroke-linecap="round"
                    />
                </svg>
                "Gantry"
                <span class="brand-version">{version}</span>
            </a>
            {info.principal.map(|p| {
                let name = p.display_name.clone();
                let roles = p.roles_summary();
                view! {
                    <PrimaryNav principal=p />
                    <details class="user-menu">
                        <summary aria-label=format!("Account menu for {name}")>{name.clone()}</summary>
                        <div class="user-menu-body">
                            <p class="user-roles">"Roles: " {roles}</p>
                            <a href="/preferences">"Preferences"</a>
                            <form method="post" action="/auth/sign-out">
                                <button type="submit" class="link-button">"Sign out"</button>
                            </form>
                        </div>
                    </details>
                }
            })}
        </header>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// A page's resource still fetching when its client hangs up reads the
    /// frame after the page's owner is gone: it finds nothing (a panic in
    /// the server's task before).
    #[test]
    fn the_frame_read_after_its_page_is_torn_down_is_absent() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let _ = any_spawner::Executor::init_tokio();
            let owner = Owner::new();
            let shell = owner.with(|| {
                Shell::new(ArcResource::new(
                    || (),
                    |_| async { Err(AppError::Transport("the client hung up".to_owned())) },
                ))
            });
            owner.cleanup();
            assert!(shell.info().await.is_none());
            assert!(shell.principal().await.is_none());
            assert!(shell.environments().await.is_empty());
        });
    }
}
