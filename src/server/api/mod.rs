//! The JSON API under `/api/v1` (plus `/healthz` and `/metrics`): what suppliers' and organisers'
//! programs call. Each handler authenticates through the bearer-token [`Principal`](crate::domain::Principal)
//! extractor, parses and validates its body and calls one engine use case; every failure leaves in
//! the one JSON error shape of [`ApiError`](crate::server::ApiError). The route table below registers
//! the routes; each handler's `#[utoipa::path]` describes its operation in the OpenAPI document.

mod audit;
mod auth;
mod decisions;
mod demands;
mod doc;
mod events;
mod export;
mod moderation;
mod ops;
mod profiles;
mod shortlist;

use actix_web::web;

pub(crate) use self::doc::openapi_document;
use super::{ApiError, RouteDef, Verb};

/// Rows per page of a listing (profiles, pending submissions, audit entries) when `limit` is not
/// given, and the most a client may ask for (the OpenAPI parameters state the same bounds).
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

/// The page size a listing's `limit` asks for, or a 400 naming the bounds.
fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad("bad_argument", Some("limit"), format!("limit must be 1-{MAX_PAGE}")));
    }
    Ok(limit)
}

/// Every route of the API. The paths are a public contract.
pub(crate) const ROUTES: &[RouteDef] = &[
    RouteDef { verb: Verb::Post, path: "/api/v1/profiles", handler: |r| r.to(profiles::create) },
    RouteDef { verb: Verb::Get, path: "/api/v1/profiles", handler: |r| r.to(profiles::list) },
    RouteDef { verb: Verb::Get, path: "/api/v1/profiles/{id}", handler: |r| r.to(profiles::get) },
    RouteDef { verb: Verb::Put, path: "/api/v1/profiles/{id}", handler: |r| r.to(profiles::replace) },
    RouteDef { verb: Verb::Delete, path: "/api/v1/profiles/{id}", handler: |r| r.to(profiles::delete) },
    RouteDef { verb: Verb::Post, path: "/api/v1/demands", handler: |r| r.to(demands::create) },
    RouteDef { verb: Verb::Get, path: "/api/v1/demands", handler: |r| r.to(demands::list) },
    RouteDef { verb: Verb::Get, path: "/api/v1/demands/{id}", handler: |r| r.to(demands::get) },
    RouteDef { verb: Verb::Put, path: "/api/v1/demands/{id}", handler: |r| r.to(demands::replace) },
    RouteDef { verb: Verb::Delete, path: "/api/v1/demands/{id}", handler: |r| r.to(demands::delete) },
    RouteDef { verb: Verb::Get, path: "/api/v1/demands/{id}/shortlist", handler: |r| r.to(shortlist::shortlist) },
    RouteDef { verb: Verb::Post, path: "/api/v1/search", handler: |r| r.to(shortlist::search) },
    RouteDef { verb: Verb::Post, path: "/api/v1/events", handler: |r| r.to(events::create) },
    RouteDef { verb: Verb::Get, path: "/api/v1/events", handler: |r| r.to(events::list) },
    RouteDef { verb: Verb::Get, path: "/api/v1/events/{id}", handler: |r| r.to(events::get) },
    RouteDef { verb: Verb::Post, path: "/api/v1/events/{id}/selection", handler: |r| r.to(events::selection) },
    RouteDef { verb: Verb::Get, path: "/healthz", handler: |r| r.to(ops::healthz) },
    RouteDef { verb: Verb::Get, path: "/metrics", handler: |r| r.to(ops::metrics) },
    RouteDef { verb: Verb::Get, path: "/api/v1/openapi.json", handler: |r| r.to(ops::openapi) },
    RouteDef { verb: Verb::Get, path: "/api/v1/pending", handler: |r| r.to(moderation::list) },
    RouteDef { verb: Verb::Post, path: "/api/v1/pending/{id}/approve", handler: |r| r.to(moderation::approve) },
    RouteDef { verb: Verb::Post, path: "/api/v1/pending/{id}/reject", handler: |r| r.to(moderation::reject) },
    RouteDef { verb: Verb::Get, path: "/api/v1/audit", handler: |r| r.to(audit::list) },
    RouteDef { verb: Verb::Get, path: "/api/v1/profiles/{id}/export", handler: |r| r.to(export::export) },
    RouteDef { verb: Verb::Get, path: "/api/v1/demands/{id}/decisions", handler: |r| r.to(decisions::list) },
    RouteDef {
        verb: Verb::Put,
        path: "/api/v1/demands/{id}/decisions/{profile_id}",
        handler: |r| r.to(decisions::record),
    },
    RouteDef {
        verb: Verb::Delete,
        path: "/api/v1/demands/{id}/decisions/{profile_id}",
        handler: |r| r.to(decisions::delete),
    },
];

/// Registers every route of [`ROUTES`], one resource per path, so a known path with another
/// method is a 405 rather than a 404.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for def in ROUTES {
        if !paths.contains(&def.path) {
            paths.push(def.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        for def in ROUTES.iter().filter(|d| d.path == path) {
            resource = resource.route(def.to_route());
        }
        cfg.service(resource);
    }
}

/// The routes of the separate metrics listener (see `metrics_addr`): `/metrics` alone, open.
pub(crate) fn configure_metrics_listener(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(ops::open_metrics));
}
