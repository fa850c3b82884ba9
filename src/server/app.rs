//! Assembling the actix app and running it: one place that decides the order of the wrappers
//! (metrics outermost, then the JSON error shape, then the body deadline around the handlers), the
//! extractor limits, and mounts the API and the pages. [`serve`] runs it for `pitchmatch serve`;
//! [`spawn`] runs it on a thread of its own for tests and embedding.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};

use super::{api, deadline, error, pages, AppState, HttpConfig};
use crate::engine::Engine;

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
    let hsts_state = state.clone();
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .app_data(web::JsonConfig::default().limit(max_body_bytes).error_handler(error::json_config_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_config_error))
        .app_data(web::PathConfig::default().error_handler(error::path_config_error))
        .configure(api::configure)
        .configure(pages::configure)
        .default_service(web::to(error::no_route))
        .wrap(ErrorHandlers::new().default_handler(error::json_error_shape))
        // Innermost of the wrappers, so the deadline covers exactly the handlers' body reads.
        .wrap_fn(move |mut req, srv| {
            let payload = std::mem::replace(req.parts_mut().1, actix_web::dev::Payload::None);
            req.set_payload(deadline::with_deadline(payload, body_timeout));
            srv.call(req)
        })
        // HSTS on every response a browser gets over https: always when the public URL is https,
        // else when a trusted proxy says this request came over https.
        .wrap_fn(move |req, srv| {
            let https =
                hsts_state.hsts || hsts_state.proxies.forwarded_https(req.peer_addr().map(|a| a.ip()), req.headers());
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                if https {
                    res.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
                }
                Ok(res)
            }
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

/// Browsers that saw this over https use only https for the host for a year.
const HSTS: &str = "max-age=31536000";

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

/// Runs the service on `config.addr` until SIGINT/SIGTERM (in-flight requests are finished).
pub async fn serve(engine: Arc<Engine>, config: HttpConfig) -> std::io::Result<()> {
    let state = web::Data::new(AppState::new(engine, &config));
    let (max_body, body_timeout) = (config.max_body_bytes, config.body_timeout);
    if !config.metrics_addr.is_empty() {
        let listener = std::net::TcpListener::bind(config.metrics_addr.as_str())?;
        actix_web::rt::spawn(metrics_server(state.clone(), listener)?);
    }
    let srv = HttpServer::new(move || create_app(state.clone(), max_body, body_timeout)).bind(config.addr.as_str())?;
    for addr in srv.addrs() {
        tracing::info!(%addr, "pitchmatch listening");
    }
    srv.run().await
}

/// The listener of its own that `/metrics` moves to when `metrics_addr` is set: only `/metrics`,
/// without a token, for a scraper on a network the public cannot reach.
fn metrics_server(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let addr = listener.local_addr()?;
    let srv = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(api::configure_metrics_listener)
            .default_service(web::to(error::no_route))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(metrics_addr = %addr, "metrics served");
    Ok(srv)
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
            if !config.metrics_addr.is_empty() {
                match std::net::TcpListener::bind(config.metrics_addr.as_str())
                    .and_then(|l| metrics_server(state.clone(), l))
                {
                    Ok(metrics) => drop(actix_web::rt::spawn(metrics)),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
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
