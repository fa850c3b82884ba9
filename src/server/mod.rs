//! The web service (`pitchmatch serve`): the JSON API for programs and the server-rendered pages for
//! people, in one actix app over one [`Engine`]. It exists so that suppliers can submit and maintain
//! their own profiles and organisers can manage demand areas and events, rank and select, without
//! shell access to the data directory. This module holds what both front ends share — the state
//! (engine handle, ranking permits, the submission limit, metrics, organiser sign-in sessions, cached
//! drawings), the one submission path, the body deadline, the JSON error shape — and assembles the
//! app. [`api`] and [`pages`] are siblings that never import each other: what both need lives here.
//! Every rule about records (validation, ranking, selection, tokens) is the library's, reached
//! through the engine's use cases.

mod api;
mod app;
mod cache;
mod config;
mod deadline;
mod error;
mod limit;
mod metrics;
mod pages;
mod session;
mod submit;
mod writes;

use std::sync::Arc;

use actix_web::web;

pub use self::app::{create_app, serve, spawn};
pub use self::config::HttpConfig;
pub use self::error::ApiError;
use crate::engine::Engine;

/// State shared by all workers.
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    /// Bounds concurrent ranking and selection to the number of CPUs.
    pub(crate) rank_permits: tokio::sync::Semaphore,
    pub(crate) submissions: limit::KeyedLimit<std::net::IpAddr>,
    pub(crate) metrics: metrics::Metrics,
    /// Organiser sign-in sessions of the pages.
    pub(crate) sessions: session::Sessions,
    /// Views that are expensive to draw (the landscape map), kept until the data changes.
    pub(crate) drawings: cache::Drawings,
    /// The write budgets per client, per token and overall.
    pub(crate) writes: writes::WriteLimits,
    /// Proxies whose forwarding headers are believed.
    pub(crate) proxies: limit::TrustedProxies,
    /// Whether cookies carry `Secure` and the `__Host-` prefix.
    pub(crate) cookies: session::CookiePolicy,
    /// Whether responses carry `Strict-Transport-Security` whatever the request (an https public
    /// URL); a trusted proxy's `X-Forwarded-Proto: https` turns it on per request.
    pub(crate) hsts: bool,
    /// Whether `/metrics` is served on a listener of its own (and so not on the main address).
    pub(crate) metrics_elsewhere: bool,
    /// The bounds on submissions waiting for approval; `None` when moderation is off and
    /// submissions are visible at once.
    pub(crate) moderation: Option<crate::store::PendingLimits>,
}

impl AppState {
    /// Shared state over `engine` with the limits from `config`.
    pub fn new(engine: Arc<Engine>, config: &HttpConfig) -> AppState {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            engine,
            rank_permits: tokio::sync::Semaphore::new(cpus),
            submissions: limit::KeyedLimit::per_minute(config.submissions_per_minute),
            metrics: metrics::Metrics::default(),
            sessions: session::Sessions::default(),
            drawings: cache::Drawings::default(),
            writes: writes::WriteLimits::new(config),
            proxies: limit::TrustedProxies::new(config.trusted_proxies.clone()),
            cookies: session::CookiePolicy { secure: !config.insecure_http_cookies },
            hsts: config.public_url.starts_with("https://"),
            metrics_elsewhere: !config.metrics_addr.is_empty(),
            moderation: config.moderation.then_some(crate::store::PendingLimits {
                per_client: config.max_pending_per_client,
                total: config.max_pending,
            }),
        }
    }
}

/// The HTTP methods the service routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    fn route(self) -> actix_web::Route {
        match self {
            Verb::Get => web::get(),
            Verb::Post => web::post(),
            Verb::Put => web::put(),
            Verb::Delete => web::delete(),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// One route: a method and path bound to a handler. The API and the pages each keep a table of
/// these that both registers their routes and lists them ([`routes`]), so the list cannot drift
/// from what is served.
pub(crate) struct RouteDef {
    pub(crate) verb: Verb,
    pub(crate) path: &'static str,
    pub(crate) handler: fn(actix_web::Route) -> actix_web::Route,
}

impl RouteDef {
    /// The actix route: the method guard with the handler.
    pub(crate) fn to_route(&self) -> actix_web::Route {
        (self.handler)(self.verb.route())
    }
}

/// Every route the service registers, as `(method, path pattern)`: the API's and the pages'.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    api::ROUTES.iter().chain(pages::ROUTES).map(|r| (r.verb.as_str(), r.path)).collect()
}

/// The OpenAPI document of the JSON API, as served at `/api/v1/openapi.json`.
pub fn openapi_document() -> serde_json::Value {
    api::openapi_document()
}

/// Caps glibc's malloc at 2 arenas unless `MALLOC_ARENA_MAX` is set. By default glibc gives busy
/// threads arenas of their own (up to 8 per core) and keeps their freed memory: under the soak
/// drill's mixed traffic the server's RSS went from 555 to 636 MB in 4.5 minutes and was still
/// rising; with 2 arenas it levelled off at 342 MB, at the same throughput. Call before the
/// worker threads start.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only adjusts allocator parameters; M_ARENA_MAX with a positive value is a
        // documented, thread-safe setting that leaves existing allocations untouched.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Sets up structured logs on stderr, filtered by `RUST_LOG` (default `info`). Safe to call twice.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
}
