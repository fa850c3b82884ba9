//! Server-rendered web pages for the people who are not API users: suppliers submit and maintain
//! their profile through a form, organisers sign in with their token and browse shortlists, run
//! event selections, export CSV and look at the landscape map. The pages are served by the same
//! actix app as the API and are thin: every rule (validation, ranking, selection, tokens) is the
//! library's, exactly as the API applies it. They work without JavaScript and are safe by default:
//! maud escapes all text, every form that posts is CSRF-checked, and every response carries a
//! strict Content-Security-Policy (no inline script or style; the stylesheet is a static route).

mod agenda;
mod booklet;
mod context;
mod csrf;
mod duplicates;
mod export;
mod landscape;
mod layout;
mod lineup;
mod moderation;
mod organiser;
mod records;
mod review;
mod supplier;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use maud::Markup;

pub(crate) use self::context::{FormFields, PageContext};
pub(crate) use self::csrf::CsrfToken;
use super::{RouteDef, Verb};

/// Everything the pages' responses forbid: scripts entirely, styles, images, fonts and form targets
/// other than our own origin, framing by other sites, and `<base>` rewriting.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Every page route. Each is registered as a resource of its own (so a wrong method on a page path
/// is a 404, as for any unknown page).
pub(crate) const ROUTES: &[RouteDef] = &[
    RouteDef { verb: Verb::Get, path: "/", handler: |r| r.to(supplier::home) },
    RouteDef { verb: Verb::Get, path: "/static/style.css", handler: |r| r.to(stylesheet) },
    RouteDef { verb: Verb::Get, path: "/submit", handler: |r| r.to(supplier::submit_form) },
    RouteDef { verb: Verb::Post, path: "/submit", handler: |r| r.to(supplier::submit) },
    RouteDef { verb: Verb::Get, path: "/supplier/edit", handler: |r| r.to(supplier::open_form) },
    RouteDef { verb: Verb::Post, path: "/supplier/edit", handler: |r| r.to(supplier::open) },
    RouteDef { verb: Verb::Post, path: "/supplier/save", handler: |r| r.to(supplier::save) },
    RouteDef { verb: Verb::Post, path: "/supplier/delete", handler: |r| r.to(supplier::delete) },
    RouteDef { verb: Verb::Get, path: "/organiser", handler: |r| r.to(organiser::dashboard) },
    RouteDef { verb: Verb::Post, path: "/organiser/sign-in", handler: |r| r.to(organiser::sign_in) },
    RouteDef { verb: Verb::Post, path: "/organiser/sign-out", handler: |r| r.to(organiser::sign_out) },
    RouteDef { verb: Verb::Get, path: "/organiser/demands/{id}", handler: |r| r.to(organiser::shortlist) },
    RouteDef {
        verb: Verb::Get,
        path: "/organiser/demands/{id}/shortlist.csv",
        handler: |r| r.to(organiser::shortlist_csv),
    },
    RouteDef { verb: Verb::Get, path: "/organiser/events/{id}", handler: |r| r.to(lineup::event) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/selection", handler: |r| r.to(lineup::run_selection) },
    RouteDef {
        verb: Verb::Get,
        path: "/organiser/events/{id}/selection.csv",
        handler: |r| r.to(lineup::selection_csv),
    },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/rule", handler: |r| r.to(lineup::set_rule) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/swap", handler: |r| r.to(lineup::swap) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/lock-all", handler: |r| r.to(lineup::lock_all) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/final", handler: |r| r.to(lineup::finalise) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/reopen", handler: |r| r.to(lineup::reopen) },
    RouteDef { verb: Verb::Get, path: "/organiser/season", handler: |r| r.to(lineup::season) },
    RouteDef { verb: Verb::Post, path: "/organiser/season", handler: |r| r.to(lineup::save_season) },
    RouteDef { verb: Verb::Post, path: "/organiser/season/conflicts", handler: |r| r.to(lineup::add_conflict) },
    RouteDef {
        verb: Verb::Post,
        path: "/organiser/season/conflicts/remove",
        handler: |r| r.to(lineup::remove_conflict),
    },
    RouteDef { verb: Verb::Post, path: "/organiser/season/bans/lift", handler: |r| r.to(lineup::lift_season_ban) },
    RouteDef { verb: Verb::Get, path: "/landscape", handler: |r| r.to(organiser::landscape) },
    RouteDef { verb: Verb::Get, path: "/organiser/moderation", handler: |r| r.to(moderation::queue) },
    RouteDef { verb: Verb::Post, path: "/organiser/moderation/{id}/approve", handler: |r| r.to(moderation::approve) },
    RouteDef { verb: Verb::Post, path: "/organiser/moderation/{id}/reject", handler: |r| r.to(moderation::reject) },
    RouteDef { verb: Verb::Get, path: "/organiser/audit", handler: |r| r.to(moderation::audit) },
    RouteDef { verb: Verb::Get, path: "/organiser/duplicates", handler: |r| r.to(duplicates::list) },
    RouteDef { verb: Verb::Post, path: "/organiser/duplicates/merge", handler: |r| r.to(duplicates::merge) },
    RouteDef { verb: Verb::Post, path: "/organiser/duplicates/distinct", handler: |r| r.to(duplicates::distinct) },
    RouteDef { verb: Verb::Post, path: "/supplier/export", handler: |r| r.to(export::export) },
    RouteDef { verb: Verb::Get, path: "/organiser/events/{id}/agenda", handler: |r| r.to(agenda::page) },
    RouteDef { verb: Verb::Get, path: "/organiser/events/{id}/agenda.ics", handler: |r| r.to(agenda::ics) },
    RouteDef { verb: Verb::Get, path: "/organiser/events/{id}/agenda.csv", handler: |r| r.to(agenda::csv) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/agenda/move", handler: |r| r.to(agenda::move_item) },
    RouteDef { verb: Verb::Get, path: "/organiser/events/{id}/booklet", handler: |r| r.to(booklet::event) },
    RouteDef { verb: Verb::Get, path: "/organiser/demands/{id}/booklet", handler: |r| r.to(booklet::demand) },
    RouteDef { verb: Verb::Get, path: "/organiser/new-demand", handler: |r| r.to(records::new_demand) },
    RouteDef { verb: Verb::Post, path: "/organiser/new-demand", handler: |r| r.to(records::create_demand) },
    RouteDef { verb: Verb::Get, path: "/organiser/demands/{id}/edit", handler: |r| r.to(records::edit_demand) },
    RouteDef { verb: Verb::Post, path: "/organiser/demands/{id}/edit", handler: |r| r.to(records::replace_demand) },
    RouteDef { verb: Verb::Post, path: "/organiser/demands/{id}/delete", handler: |r| r.to(records::delete_demand) },
    RouteDef { verb: Verb::Get, path: "/organiser/new-event", handler: |r| r.to(records::new_event) },
    RouteDef { verb: Verb::Post, path: "/organiser/new-event", handler: |r| r.to(records::create_event) },
    RouteDef { verb: Verb::Get, path: "/organiser/events/{id}/edit", handler: |r| r.to(records::edit_event) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/edit", handler: |r| r.to(records::replace_event) },
    RouteDef { verb: Verb::Post, path: "/organiser/events/{id}/delete", handler: |r| r.to(records::delete_event) },
    RouteDef { verb: Verb::Get, path: "/review", handler: |r| r.to(review::index) },
    RouteDef { verb: Verb::Get, path: "/review/demands/{id}", handler: |r| r.to(review::demand) },
    RouteDef { verb: Verb::Post, path: "/review/demands/{id}/decide", handler: |r| r.to(review::decide) },
];

/// Registers the pages. Called once from [`crate::server::create_app`].
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    for def in ROUTES {
        cfg.route(def.path, def.to_route());
    }
}

const STYLESHEET: &str = include_str!("style.css");

async fn stylesheet() -> HttpResponse {
    let mut res = secured(StatusCode::OK);
    res.insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    res.content_type("text/css; charset=utf-8").body(STYLESHEET)
}

/// A response builder with the security headers every page response carries. Pages are never
/// cached: some show tokens, all show data that changes.
pub(crate) fn secured(status: StatusCode) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        // Links out of a page must not carry its URL (and so an id or a query) to other sites.
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    res
}

/// An HTML page response; sets the CSRF cookie when the page's forms handed out a new token.
pub(crate) fn html_page(req: &HttpRequest, status: StatusCode, csrf: Option<&CsrfToken>, body: Markup) -> HttpResponse {
    let mut res = secured(status);
    if let Some(set) = csrf.and_then(|c| c.set_cookie(req)) {
        res.append_header((header::SET_COOKIE, set));
    }
    res.content_type("text/html; charset=utf-8").body(body.into_string())
}

/// A 303 redirect (after a successful POST, so a reload does not post again).
pub(crate) fn see_other(location: &str) -> HttpResponseBuilder {
    let mut res = secured(StatusCode::SEE_OTHER);
    if let Ok(v) = HeaderValue::from_str(location) {
        res.insert_header((header::LOCATION, v));
    }
    res
}

/// A CSV download.
pub(crate) fn csv_download(filename: &str, body: Vec<u8>) -> HttpResponse {
    let safe: String = filename
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    secured(StatusCode::OK)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")))
        .content_type("text/csv; charset=utf-8")
        .body(body)
}

/// What can go wrong on a page; rendered as an HTML error page (never as a stack trace or JSON).
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The form's CSRF token was missing or wrong (403).
    #[error("This form has expired or did not come from this site. Go back, reload the page and try again.")]
    Csrf,
    /// Not found (404).
    #[error("{0}")]
    NotFound(String),
    /// Wrong or missing token (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many submissions or changes (429).
    #[error("Too many changes from your address or with your token; please try again in {0} seconds.")]
    RateLimited(u64),
    /// A request the page cannot serve (400).
    #[error("{0}")]
    BadRequest(String),
    /// Our fault (500); details are logged only.
    #[error("Something went wrong on our side. Please try again later.")]
    Internal(String),
    /// The submitter has too many profiles waiting for approval (429).
    #[error("{0}")]
    TooManyPending(String),
    /// Too many profiles from everyone are waiting for approval (503).
    #[error("{0}")]
    Unavailable(String),
}

impl From<crate::Error> for WebError {
    fn from(e: crate::Error) -> WebError {
        match e {
            crate::Error::User(crate::UserError::NotFound { kind, id }) => {
                WebError::NotFound(format!("No {kind} {id:?}."))
            }
            e if e.is_user_error() => WebError::BadRequest(e.to_string()),
            e => WebError::Internal(e.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(e: actix_web::error::BlockingError) -> WebError {
        WebError::Internal(e.to_string())
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::Csrf | WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::TooManyPending(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::Internal(detail) = self {
            tracing::error!(error = %detail, "web page failed");
        }
        let body = layout::error_page(self.status_code(), &self.to_string()).into_string();
        secured(self.status_code()).content_type("text/html; charset=utf-8").body(body)
    }
}

/// Runs store, ranking or selection work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    web::block(f).await?
}
