//! The HTTP service (`pitchmatch serve`). It exists so that suppliers can submit and maintain their
//! own profiles and organisers can manage demand areas and events, rank and select, without shell
//! access to the data directory. It is a thin layer over the [`Engine`]: every rule about records
//! (validation, ranking, selection) lives in the library and is shared with the CLI; this module
//! adds what only a network service needs — authentication, one JSON error shape for every failure,
//! body and rate limits, moving CPU-heavy work off the async workers, metrics and an OpenAPI
//! document generated from the same route table that registers the routes.

mod auth;
mod config;
mod deadline;
mod demands;
mod error;
mod events;
mod limit;
mod ops;
mod profiles;
mod shortlist;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};

pub use self::config::HttpConfig;
pub use self::error::ApiError;
use crate::engine::Engine;

/// State shared by all workers.
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    /// Bounds concurrent ranking and selection to the number of CPUs.
    pub(crate) rank_permits: tokio::sync::Semaphore,
    pub(crate) submissions: limit::RateLimiter,
    metrics: ops::Metrics,
    /// Organiser sign-in sessions and the cached landscape map of the web pages.
    pub(crate) web: crate::web::WebState,
}

impl AppState {
    /// Shared state over `engine` with the limits from `config`.
    pub fn new(engine: Arc<Engine>, config: &HttpConfig) -> AppState {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            engine,
            rank_permits: tokio::sync::Semaphore::new(cpus),
            submissions: limit::RateLimiter::per_minute(config.submissions_per_minute),
            metrics: ops::Metrics::default(),
            web: crate::web::WebState::default(),
        }
    }
}

/// The HTTP verbs the API uses.
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
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// No token needed.
    Anyone,
    /// The profile's own edit token, or an organiser token.
    OwnerOrOrganiser,
    /// An organiser token.
    Organiser,
}

/// One route: registered by [`configure`] and described by the OpenAPI document.
pub(crate) struct RouteDef {
    pub(crate) verb: Verb,
    pub(crate) path: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) access: Access,
    pub(crate) tag: &'static str,
    handler: fn(actix_web::Route) -> actix_web::Route,
}

/// Every route of the service. The paths are a public contract.
pub(crate) const ROUTES: &[RouteDef] = &[
    RouteDef {
        verb: Verb::Post,
        path: "/api/v1/profiles",
        summary: "Submit a profile; returns its id and an edit token shown only once",
        access: Access::Anyone,
        tag: "profiles",
        handler: |r| r.to(profiles::create),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/profiles",
        summary: "List profiles by id, paginated with ?after=&limit=",
        access: Access::Organiser,
        tag: "profiles",
        handler: |r| r.to(profiles::list),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/profiles/{id}",
        summary: "Read a profile",
        access: Access::OwnerOrOrganiser,
        tag: "profiles",
        handler: |r| r.to(profiles::get),
    },
    RouteDef {
        verb: Verb::Put,
        path: "/api/v1/profiles/{id}",
        summary: "Replace a profile",
        access: Access::OwnerOrOrganiser,
        tag: "profiles",
        handler: |r| r.to(profiles::replace),
    },
    RouteDef {
        verb: Verb::Delete,
        path: "/api/v1/profiles/{id}",
        summary: "Delete a profile from the store and the index",
        access: Access::OwnerOrOrganiser,
        tag: "profiles",
        handler: |r| r.to(profiles::delete),
    },
    RouteDef {
        verb: Verb::Post,
        path: "/api/v1/demands",
        summary: "Create a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::create),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/demands",
        summary: "List demand areas",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::list),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/demands/{id}",
        summary: "Read a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::get),
    },
    RouteDef {
        verb: Verb::Put,
        path: "/api/v1/demands/{id}",
        summary: "Replace a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::replace),
    },
    RouteDef {
        verb: Verb::Delete,
        path: "/api/v1/demands/{id}",
        summary: "Delete a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::delete),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/demands/{id}/shortlist",
        summary: "Ranked, explained shortlist for a demand area (?k=&kind=&size=&theme=&min_trl=&ranker=)",
        access: Access::Organiser,
        tag: "ranking",
        handler: |r| r.to(shortlist::shortlist),
    },
    RouteDef {
        verb: Verb::Post,
        path: "/api/v1/search",
        summary: "Ranked shortlist for ad-hoc text in nl, fr or en",
        access: Access::Organiser,
        tag: "ranking",
        handler: |r| r.to(shortlist::search),
    },
    RouteDef {
        verb: Verb::Post,
        path: "/api/v1/events",
        summary: "Create an event",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::create),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/events",
        summary: "List events",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::list),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/events/{id}",
        summary: "Read an event",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::get),
    },
    RouteDef {
        verb: Verb::Post,
        path: "/api/v1/events/{id}/selection",
        summary: "Solve the event's pitch line-up; optional body: selection rules",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::selection),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/healthz",
        summary: "Liveness and store check",
        access: Access::Anyone,
        tag: "ops",
        handler: |r| r.to(ops::healthz),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/metrics",
        summary: "Prometheus metrics",
        access: Access::Anyone,
        tag: "ops",
        handler: |r| r.to(ops::metrics),
    },
    RouteDef {
        verb: Verb::Get,
        path: "/api/v1/openapi.json",
        summary: "This API's OpenAPI document",
        access: Access::Anyone,
        tag: "ops",
        handler: |r| r.to(ops::openapi),
    },
];

/// Registers every route of [`ROUTES`], one resource per path.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for def in ROUTES {
        if !paths.contains(&def.path) {
            paths.push(def.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        for def in ROUTES.iter().filter(|d| d.path == path) {
            resource = resource.route((def.handler)(def.verb.route()));
        }
        cfg.service(resource);
    }
}

/// The application: routes, limits, error shape and metrics. Used by [`serve`], [`spawn`] and tests.
pub fn create_app(
    state: web::Data<AppState>,
    max_body_bytes: usize,
    body_timeout: std::time::Duration,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics_state = state.clone();
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .app_data(web::JsonConfig::default().limit(max_body_bytes).error_handler(error::json_config_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_config_error))
        .app_data(web::PathConfig::default().error_handler(error::path_config_error))
        .configure(configure)
        .configure(crate::web::configure)
        .default_service(web::to(error::no_route))
        .wrap(ErrorHandlers::new().default_handler(error::json_error_shape))
        // Innermost of the wrappers, so the deadline covers exactly the handlers' body reads.
        .wrap_fn(move |mut req, srv| {
            let payload = std::mem::replace(req.parts_mut().1, actix_web::dev::Payload::None);
            req.set_payload(deadline::with_deadline(payload, body_timeout));
            srv.call(req)
        })
        .wrap_fn(move |req, srv| {
            let started = std::time::Instant::now();
            let method = metric_method(req.method());
            let state = metrics_state.clone();
            let fut = srv.call(req);
            async move {
                let res = fut.await;
                let (route, status) = match &res {
                    Ok(r) => (r.request().match_pattern(), r.status().as_u16()),
                    Err(e) => (None, e.as_response_error().status_code().as_u16()),
                };
                let route = route.unwrap_or_else(|| "(unmatched)".to_string());
                let elapsed = started.elapsed();
                state.metrics.observe(method, &route, status, elapsed);
                tracing::info!(method, route = %route, status, ms = elapsed.as_secs_f64() * 1e3, "request");
                res
            }
        })
}

/// The method as a metrics label. Labels must come from a closed set: HTTP lets a client invent any
/// method token, and one series per invented token grew the metrics map (and `/metrics`) without
/// bound (found by the bad-input drill).
fn metric_method(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        _ => "other",
    }
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

/// Runs the service on `config.addr` until SIGINT/SIGTERM (in-flight requests are finished).
pub async fn serve(engine: Arc<Engine>, config: HttpConfig) -> std::io::Result<()> {
    let state = web::Data::new(AppState::new(engine, &config));
    let (max_body, body_timeout) = (config.max_body_bytes, config.body_timeout);
    let srv = HttpServer::new(move || create_app(state.clone(), max_body, body_timeout)).bind(config.addr.as_str())?;
    for addr in srv.addrs() {
        tracing::info!(%addr, "pitchmatch listening");
    }
    srv.run().await
}

/// Starts the service on `config.addr` (use port 0 for a free one) on its own thread and returns
/// the bound address and a handle to stop it. For tests and embedding.
pub fn spawn(engine: Arc<Engine>, config: HttpConfig) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let listener = std::net::TcpListener::bind(config.addr.as_str())?;
    let addr = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let state = web::Data::new(AppState::new(engine, &config));
            let (max_body, body_timeout) = (config.max_body_bytes, config.body_timeout);
            let srv =
                HttpServer::new(move || create_app(state.clone(), max_body, body_timeout)).workers(2).disable_signals();
            let srv = match srv.listen(listener) {
                Ok(s) => s.run(),
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let _ = tx.send(Ok(srv.handle()));
            if let Err(e) = srv.await {
                tracing::error!(error = %e, "server stopped with an error");
            }
        })
    });
    let handle = rx.recv().map_err(|_| std::io::Error::other("server thread ended before starting"))??;
    Ok((addr, handle))
}

/// Sets up structured logs on stderr, filtered by `RUST_LOG` (default `info`). Safe to call twice.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
}
