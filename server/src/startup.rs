//! Building and running the application. `main` and the integration tests
//! both go through `Application::build`, so tests run the real wiring.

use crate::auth;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::health;
use crate::plane::{GantryPlane, PlaneSettings};
use crate::security_headers;
use crate::state::{AppState, AuthSettings};
use crate::store::{self, DEV_SEED_SOURCE, SeedUser, SharedStore};
use anyhow::Context;
use app::{App, shell};
use axum::Router;
use axum::http::Request;
use axum::routing::{get, post};
use gantry_core::DevUser;
use gantry_core::port::SharedControlPlane;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: SharedStore,
}

impl Application {
    /// Opens and migrates the database, seeds dev users, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = store::connect(&config.database_url, config.database_max_connections)
            .await
            .context("cannot open the database named by --database-url (GANTRY_DATABASE_URL)")?;
        store
            .migrate()
            .await
            .context("cannot apply database migrations")?;
        if config.dev {
            seed_dev_users(&store).await?;
        }
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {} (--bind, GANTRY_BIND)", config.bind))?;
        let addr = listener.local_addr()?;
        warn_if_assets_missing(&config);
        let router = build_router(&config, store.clone(), addr);
        Ok(Self {
            listener,
            router,
            store,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let sessions = self.store.sessions();
        let sweeper = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(e) = sessions.delete_expired().await {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
            }
        });
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        served
    }
}

async fn seed_dev_users(store: &SharedStore) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    for user in DevUser::seeds() {
        let seed = SeedUser {
            username: user.username.clone(),
            display_name: user.display_name,
            grants: vec![(user.role, "*".to_owned())],
        };
        store
            .upsert_seed_user(&seed, now)
            .await
            .with_context(|| format!("cannot seed the demo user {:?}", user.username))?;
    }
    tracing::info!(source = DEV_SEED_SOURCE, "dev mode: demo users seeded");
    Ok(())
}

fn warn_if_assets_missing(config: &Config) {
    let js = config.site_root.join("pkg").join("gantry.js");
    if !js.exists() {
        tracing::warn!(
            path = %js.display(),
            "dashboard assets not found: pages render but won't hydrate; build them with `make site` or set --site-root"
        );
    }
}

fn build_router(config: &Config, store: SharedStore, addr: SocketAddr) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("gantry")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let plane: SharedControlPlane = Arc::new(GantryPlane::new(
        store.clone(),
        Arc::new(SystemClock),
        PlaneSettings {
            dev_mode: config.dev,
            environments: config.environments.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    ));
    let state = AppState {
        leptos_options: leptos_options.clone(),
        plane: plane.clone(),
        store: store.clone(),
        auth: Arc::new(AuthSettings {
            dev_mode: config.dev,
            max_lifetime: config.session_max_lifetime,
        }),
    };

    let sessions = SessionManagerLayer::new(store.sessions())
        .with_name(auth::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        // Saving on every request slides the idle expiry forward; empty
        // (anonymous) sessions are never saved.
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(config.session_idle_timeout.as_secs()).unwrap_or(i64::MAX),
        )));

    // Static assets and probes never need a session: keeping them outside
    // the session layer spares a database round trip per request.
    let sessionless = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest_service("/pkg", ServeDir::new(config.site_root.join("pkg")));

    let routes = generate_route_list(App);
    let with_session = Router::new()
        .route("/auth/dev/sign-in", post(auth::routes::dev_sign_in))
        .route("/auth/sign-out", post(auth::routes::sign_out))
        .leptos_routes_with_context(&state, routes, move || provide_context(plane.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_context,
        ))
        .layer(sessions);

    let mut router = sessionless.merge(with_session);
    for header in security_headers::layers() {
        router = router.layer(header);
    }
    router
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                        let request_id = req
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "request",
                            method = %req.method(),
                            path = %req.uri().path(),
                            request_id
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}
