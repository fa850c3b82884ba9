//! What every page handler starts from, resolved once per request by the [`PageContext`]
//! extractor: the shared state, who is asking, the CSRF token for the page's forms and, for a post,
//! its form fields — already checked against the CSRF cookie, so no form handler can forget to.
//! Who is asking is the same [`Principal`] the API's bearer tokens resolve to: an organiser sign-in
//! session whose token is still active is `Organiser`; a posted form carrying a profile's edit token
//! acts as that `Supplier`; anyone else is `Anonymous`.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use maud::Markup;

use super::csrf::{self, CsrfToken};
use super::{blocking, html_page, WebError};
use crate::domain::Principal;
use crate::server::session::{read_cookie, SESSION_COOKIE};
use crate::server::AppState;

/// The request as the pages see it.
pub(crate) struct PageContext {
    /// The shared state (engine, sessions, limits).
    pub(crate) state: web::Data<AppState>,
    /// Who is asking.
    pub(crate) principal: Principal,
    /// The token this page's forms carry (the browser's, or a new one the response sets).
    pub(crate) csrf: CsrfToken,
    /// The posted form fields (empty for a GET).
    pub(crate) form: FormFields,
    req: HttpRequest,
}

impl PageContext {
    /// The request itself, for what only the pages' cookie handling needs.
    pub(crate) fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// The signed-in organiser's token name.
    pub(crate) fn organiser(&self) -> Option<&str> {
        match &self.principal {
            Principal::Organiser(name) => Some(name),
            _ => None,
        }
    }

    /// For requests a page does not make by hand (CSV downloads, form posts): without a live
    /// organiser session they are refused rather than redirected.
    pub(crate) fn require_organiser(&self) -> Result<&str, WebError> {
        self.organiser().ok_or_else(|| WebError::Forbidden("Sign in as an organiser first.".into()))
    }

    /// Form field `name` of a post, trimmed; a missing or blank one is a bad request naming it.
    pub(crate) fn required_field(&self, name: &str) -> Result<&str, WebError> {
        match self.form.get(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(WebError::BadRequest(format!("{name}: is required"))),
        }
    }

    /// The signed-in reviewer's organisation.
    pub(crate) fn reviewer_organisation(&self) -> Option<&str> {
        match &self.principal {
            Principal::Reviewer { organisation, .. } => Some(organisation),
            _ => None,
        }
    }

    /// Whether the request acts as the owner of profile `id` (by the edit token in its form).
    pub(crate) fn owns_profile(&self, id: &str) -> bool {
        matches!(&self.principal, Principal::Supplier(own) if own == id)
    }

    /// An HTML page; sets the CSRF cookie when the page's forms handed out a new token.
    pub(crate) fn page(&self, status: StatusCode, body: Markup) -> HttpResponse {
        html_page(&self.req, status, Some(&self.csrf), body)
    }

    /// An HTML page without forms: it leaves the CSRF cookie alone.
    pub(crate) fn page_without_forms(&self, status: StatusCode, body: Markup) -> HttpResponse {
        html_page(&self.req, status, None, body)
    }
}

/// The organiser of the request's sign-in session, when the session is live and its token still
/// active in the store (so `pitchmatch token revoke` ends sessions too).
async fn session_principal(state: &web::Data<AppState>, req: &HttpRequest) -> Result<Option<Principal>, WebError> {
    let Some(id) = read_cookie(req, SESSION_COOKIE) else { return Ok(None) };
    let Some(session) = state.sessions.lookup(&id, Instant::now()) else { return Ok(None) };
    let lookup = state.clone().into_inner();
    let active = blocking(move || Ok(lookup.engine.principal_for_hash(&session.token_hash)?)).await?;
    Ok(match active {
        Some(Principal::Organiser(name)) if name == session.organiser => Some(Principal::Organiser(name)),
        Some(Principal::Reviewer { name, organisation }) if name == session.organiser => {
            Some(Principal::Reviewer { name, organisation })
        }
        _ => None,
    })
}

/// The profile whose edit token a posted form carries.
async fn edit_token_principal(state: &web::Data<AppState>, form: &FormFields) -> Result<Option<Principal>, WebError> {
    let Some(token) = form.get("edit_token").map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let (lookup, token) = (state.clone().into_inner(), token.to_string());
    let found = blocking(move || Ok(lookup.engine.principal(&token)?)).await?;
    Ok(found.filter(|p| matches!(p, Principal::Supplier(_))))
}

impl FromRequest for PageContext {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<PageContext, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        // Only posts carry forms; the body is read with the app's size limit and deadline, and its
        // failures (413, 408) keep the service's error shape.
        let body = (req.method() == Method::POST).then(|| web::Bytes::from_request(&req, payload));
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| WebError::Internal("app state missing".into()))?;
            let form = match body {
                Some(body) => {
                    let form = FormFields::parse(&body.await?);
                    if !csrf::verify(&req, form.get(csrf::CSRF_FIELD)) {
                        return Err(WebError::Csrf.into());
                    }
                    form
                }
                None => FormFields::default(),
            };
            let csrf = CsrfToken::for_request(&req).map_err(WebError::from)?;
            let principal = match edit_token_principal(&state, &form).await? {
                Some(supplier) => supplier,
                None => session_principal(&state, &req).await?.unwrap_or(Principal::Anonymous),
            };
            Ok(PageContext { state, principal, csrf, form, req })
        })
    }
}

/// A posted `application/x-www-form-urlencoded` body: repeated names (checkboxes) are kept.
#[derive(Debug, Default)]
pub(crate) struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub(crate) fn parse(body: &[u8]) -> FormFields {
        FormFields(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Sets `name` to `value` alone, whatever the form posted for it (a record's id comes from
    /// the page's path, not from a field the client could change).
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_string(), value.to_string()));
    }
}
