//! Who is calling. A request carries at most one bearer token: an organiser's API token (made with
//! `pitchmatch token create`) or a profile's edit token (handed out once, on submission). Both are
//! stored only as SHA-256 hashes, so a request's token is hashed and looked up; a missing header
//! makes an anonymous caller, a token that matches nothing (or was revoked) is a 401, and the
//! handlers decide between allowed and 403 with [`Principal::require_organiser`] and
//! [`Principal::require_profile`].

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

pub use crate::domain::Principal;
use crate::server::error::{blocking, ApiError};
use crate::server::AppState;

// The API's wording of the domain's rights.
impl Principal {
    /// Allows organisers only.
    pub fn require_organiser(&self) -> Result<(), ApiError> {
        match self {
            Principal::Organiser(_) => Ok(()),
            Principal::Anonymous => Err(ApiError::Unauthorized("this endpoint needs an organiser token")),
            Principal::Supplier(_) | Principal::Reviewer { .. } => {
                Err(ApiError::Forbidden("this endpoint is for organisers only"))
            }
        }
    }

    /// Allows organisers and reviewers (who then see only their own organisation's records).
    pub fn require_organiser_or_reviewer(&self) -> Result<(), ApiError> {
        match self {
            Principal::Organiser(_) | Principal::Reviewer { .. } => Ok(()),
            Principal::Anonymous => Err(ApiError::Unauthorized("this endpoint needs an organiser or reviewer token")),
            Principal::Supplier(_) => Err(ApiError::Forbidden("this endpoint is for organisers and reviewers only")),
        }
    }

    /// Allows organisers, and reviewers of `organisation` (the owner of the record asked for;
    /// `None` when it does not exist, which a reviewer is told the same way as another's, so
    /// that ids cannot be probed).
    pub fn require_reviewer_of(&self, organisation: Option<&str>) -> Result<(), ApiError> {
        self.require_organiser_or_reviewer()?;
        match (self, organisation) {
            (Principal::Organiser(_), _) => Ok(()),
            (_, Some(org)) if self.may_review(org) => Ok(()),
            _ => Err(ApiError::Forbidden("this record belongs to another organisation")),
        }
    }

    /// Allows organisers and the holder of profile `id`'s edit token.
    pub fn require_profile(&self, id: &str) -> Result<(), ApiError> {
        match self {
            Principal::Organiser(_) => Ok(()),
            Principal::Supplier(own) if own == id => Ok(()),
            Principal::Supplier(_) => Err(ApiError::Forbidden("this token is for another profile")),
            Principal::Reviewer { .. } => Err(ApiError::Forbidden("reviewers do not edit profiles")),
            Principal::Anonymous => Err(ApiError::Unauthorized("this endpoint needs the profile's edit token")),
        }
    }
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::Unauthorized("expected 'Authorization: Bearer <token>'"));
    }
    Ok(Some(token.to_string()))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Principal, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Some(token) = token? else { return Ok(Principal::Anonymous) };
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            blocking(move || state.engine.principal(&token)?.ok_or(ApiError::Unauthorized("unknown or revoked token")))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights() {
        let org = Principal::Organiser("o".into());
        let a = Principal::Supplier("a".into());
        assert!(org.require_organiser().is_ok());
        assert!(matches!(a.require_organiser(), Err(ApiError::Forbidden(_))));
        assert!(matches!(Principal::Anonymous.require_organiser(), Err(ApiError::Unauthorized(_))));
        assert!(a.require_profile("a").is_ok());
        assert!(matches!(a.require_profile("b"), Err(ApiError::Forbidden(_))));
        assert!(org.require_profile("b").is_ok());
    }
}
