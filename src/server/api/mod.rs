//! The JSON API under `/api/v1` (plus `/healthz` and `/metrics`): what suppliers' and organisers'
//! programs call. Each handler authenticates through the bearer-token [`Principal`] extractor,
//! parses and validates its body, and calls one engine use case; every failure leaves in the one
//! JSON error shape of [`ApiError`]. The route table below registers the routes and is the source
//! of the OpenAPI document.

mod auth;
mod demands;
mod events;
mod ops;
mod profiles;
mod shortlist;

use actix_web::web;

pub(crate) use self::ops::openapi_document;
use super::Verb;

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
pub(crate) struct ApiRoute {
    pub(crate) verb: Verb,
    pub(crate) path: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) access: Access,
    pub(crate) tag: &'static str,
    pub(crate) handler: fn(actix_web::Route) -> actix_web::Route,
}

/// Every route of the service. The paths are a public contract.
pub(crate) const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        verb: Verb::Post,
        path: "/api/v1/profiles",
        summary: "Submit a profile; returns its id and an edit token shown only once",
        access: Access::Anyone,
        tag: "profiles",
        handler: |r| r.to(profiles::create),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/profiles",
        summary: "List profiles by id, paginated with ?after=&limit=",
        access: Access::Organiser,
        tag: "profiles",
        handler: |r| r.to(profiles::list),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/profiles/{id}",
        summary: "Read a profile",
        access: Access::OwnerOrOrganiser,
        tag: "profiles",
        handler: |r| r.to(profiles::get),
    },
    ApiRoute {
        verb: Verb::Put,
        path: "/api/v1/profiles/{id}",
        summary: "Replace a profile",
        access: Access::OwnerOrOrganiser,
        tag: "profiles",
        handler: |r| r.to(profiles::replace),
    },
    ApiRoute {
        verb: Verb::Delete,
        path: "/api/v1/profiles/{id}",
        summary: "Delete a profile from the store and the index",
        access: Access::OwnerOrOrganiser,
        tag: "profiles",
        handler: |r| r.to(profiles::delete),
    },
    ApiRoute {
        verb: Verb::Post,
        path: "/api/v1/demands",
        summary: "Create a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::create),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/demands",
        summary: "List demand areas",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::list),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/demands/{id}",
        summary: "Read a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::get),
    },
    ApiRoute {
        verb: Verb::Put,
        path: "/api/v1/demands/{id}",
        summary: "Replace a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::replace),
    },
    ApiRoute {
        verb: Verb::Delete,
        path: "/api/v1/demands/{id}",
        summary: "Delete a demand area",
        access: Access::Organiser,
        tag: "demands",
        handler: |r| r.to(demands::delete),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/demands/{id}/shortlist",
        summary: "Ranked, explained shortlist for a demand area (?k=&kind=&size=&theme=&min_trl=&ranker=)",
        access: Access::Organiser,
        tag: "ranking",
        handler: |r| r.to(shortlist::shortlist),
    },
    ApiRoute {
        verb: Verb::Post,
        path: "/api/v1/search",
        summary: "Ranked shortlist for ad-hoc text in nl, fr or en",
        access: Access::Organiser,
        tag: "ranking",
        handler: |r| r.to(shortlist::search),
    },
    ApiRoute {
        verb: Verb::Post,
        path: "/api/v1/events",
        summary: "Create an event",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::create),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/events",
        summary: "List events",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::list),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/api/v1/events/{id}",
        summary: "Read an event",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::get),
    },
    ApiRoute {
        verb: Verb::Post,
        path: "/api/v1/events/{id}/selection",
        summary: "Solve the event's pitch line-up; optional body: selection rules",
        access: Access::Organiser,
        tag: "events",
        handler: |r| r.to(events::selection),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/healthz",
        summary: "Liveness and store check",
        access: Access::Anyone,
        tag: "ops",
        handler: |r| r.to(ops::healthz),
    },
    ApiRoute {
        verb: Verb::Get,
        path: "/metrics",
        summary: "Prometheus metrics",
        access: Access::Anyone,
        tag: "ops",
        handler: |r| r.to(ops::metrics),
    },
    ApiRoute {
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
