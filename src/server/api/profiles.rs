//! Profile endpoints: the suppliers' side of the service. Anyone may submit a profile and receives
//! an edit token for it, once; with that token (or an organiser's) the profile can be read,
//! replaced and deleted. Records are validated by the same rules as a file import, and a write is
//! acknowledged only after the store transaction has committed; the search index follows at once.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::Principal;
use crate::domain::Profile;
use crate::server::error::{blocking, parse_json, ApiError};
use crate::server::submit::{submit_profile, SubmitError, Submitted};
use crate::server::AppState;

/// Default and largest page size of the profile list.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

fn validate(body: &[u8]) -> Result<Profile, ApiError> {
    Profile::from_json(&parse_json(body)?).map_err(ApiError::Invalid)
}

/// `POST /api/v1/profiles`
pub async fn create(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let record = parse_json(&body)?;
    let Submitted { profile, edit_token } =
        submit_profile(&state, req.peer_addr().map(|a| a.ip()), &record).await.map_err(|e| match e {
            SubmitError::Invalid(violations) => ApiError::Invalid(violations),
            SubmitError::RateLimited(retry_after) => ApiError::RateLimited { retry_after },
            SubmitError::Failed(e) => e.into(),
        })?;
    let id = profile.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/profiles/{id}")))
        .json(json!({"id": id, "edit_token": edit_token})))
}

/// `GET /api/v1/profiles/{id}`
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Profile>, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    let state = state.into_inner();
    let found = blocking(move || {
        state.engine.profile(&id)?.ok_or_else(|| ApiError::NotFound(format!("unknown profile id {id:?}")))
    })
    .await?;
    Ok(web::Json(found))
}

/// `PUT /api/v1/profiles/{id}`
pub async fn replace(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<Profile>, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    let profile = validate(&body)?;
    ApiError::check_path_id(&id, &profile.id)?;
    let state = state.into_inner();
    blocking(move || {
        state.engine.replace_profile(&profile)?;
        Ok(web::Json(profile))
    })
    .await
}

/// `DELETE /api/v1/profiles/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    let state = state.into_inner();
    blocking(move || Ok(state.engine.delete_profile(&id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Query of the profile list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/profiles?after=&limit=`
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let PageQuery { after, limit } = query.into_inner();
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad("bad_argument", Some("limit"), format!("limit must be 1-{MAX_PAGE}")));
    }
    let state = state.into_inner();
    let page = blocking(move || Ok(state.engine.profile_page(after.as_deref(), limit)?)).await?;
    let next_after = if page.len() == limit { page.last().map(|p| p.id.clone()) } else { None };
    Ok(HttpResponse::Ok().json(json!({"profiles": page, "next_after": next_after})))
}
