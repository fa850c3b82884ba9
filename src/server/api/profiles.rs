//! Profile endpoints: the suppliers' side of the service. Anyone may submit a profile and receives
//! a server-made id and an edit token for it, once; with that token (or an organiser's) the
//! profile can be read, replaced and deleted, also while it waits for an organiser's approval. Records are validated by the same rules as a file import, and a write is
//! acknowledged only after the store transaction has committed; the search index follows at once.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use crate::domain::{Profile, ProfileStatus};
use crate::server::error::{blocking, parse_json, ApiError, ErrorBody};
use crate::server::submit::{submit_profile, SubmitError, Submitted};
use crate::server::writes::charge_api_write;
use crate::server::AppState;

fn validate(body: &[u8]) -> Result<Profile, ApiError> {
    Profile::from_json(&parse_json(body)?).map_err(ApiError::Invalid)
}

/// A stored submission: the profile's id, its edit token and whether it waits for approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedProfile {
    /// The profile's id, made by the server from its name and a random part.
    #[schema(example = "acme-composites-b-v-7f3k2q9a")]
    pub id: String,
    /// The edit token for reading, replacing and deleting the profile: shown only this once.
    #[schema(example = "pme_4f1c…")]
    pub edit_token: String,
    /// `pending` until an organiser approves it (then it is ranked and selected); `approved` at
    /// once when the service runs without moderation.
    pub status: ProfileStatus,
}

/// Submit a profile
///
/// Anyone may submit. The server gives the profile its id (a slug of the name and a random part;
/// an `id` in the body is ignored) and returns it. The record is validated first (a malformed one
/// does not count against the client's submission budget), then counted, then stored as
/// `pending`: it appears in no shortlist, search, selection or map until an organiser approves it
/// (unless the service runs without moderation). The response carries the profile's edit token,
/// which is shown only this once.
#[utoipa::path(
    post,
    path = "/api/v1/profiles",
    operation_id = "submit_profile",
    tag = "profiles",
    request_body(
        content = Profile,
        description = "The profile without an `id` (the server assigns it; a given one is ignored); \
            `language` is detected when absent",
        example = json!({
            "name": "Acme Composites B.V.",
            "kind": "company",
            "size": "sme",
            "city": "Eindhoven",
            "language": "en",
            "summary": "We design and build lightweight type IV hydrogen tanks for vans and light trucks.",
            "innovations": ["Thermoplastic liner that cuts permeation by half"],
            "keywords": ["hydrogen", "composite tanks"],
            "themes": ["green_mobility", "materials"],
            "trl": 6,
            "website": "https://acme.example",
            "contact_email": "info@acme.example"
        })
    ),
    responses(
        (status = 201, description = "Stored", body = SubmittedProfile,
            headers(("Location" = String, description = "The profile's URL"))),
        (status = 400, description = "The body is empty, not UTF-8 or not JSON", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 422, description = "The record breaks the data-format rules; every violation is listed", body = ErrorBody),
        (status = 429, description = "Too many submissions from this client per minute (`rate_limited`, with \
            Retry-After), or too many of its submissions waiting for approval (`too_many_pending`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a submission is accepted (rate_limited only)"))),
        (status = 500, description = "Internal error", body = ErrorBody),
        (status = 503, description = "Too many submissions from everyone waiting for approval", body = ErrorBody),
    )
)]
pub async fn create(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let record = parse_json(&body)?;
    let Submitted { profile, edit_token, status } =
        submit_profile(&state, state.client_key(&req), &record).await.map_err(|e| {
            let message = e.pending_message().unwrap_or_default();
            match e {
                SubmitError::Invalid(violations) => ApiError::Invalid(violations),
                SubmitError::RateLimited(retry_after) => ApiError::RateLimited { retry_after },
                SubmitError::TooManyPending(_) => ApiError::TooManyPending(message),
                SubmitError::QueueFull => ApiError::QueueFull(message),
                SubmitError::Failed(e) => e.into(),
            }
        })?;
    let id = profile.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/profiles/{id}")))
        .json(SubmittedProfile { id, edit_token, status }))
}

/// Read a profile
///
/// With the profile's own edit token or an organiser token; also while the profile waits for
/// approval (the `Profile-Status` header says `pending` or `approved`).
#[utoipa::path(
    get,
    path = "/api/v1/profiles/{id}",
    operation_id = "get_profile",
    tag = "profiles",
    params(("id" = String, Path, description = "Profile id", example = "demo-p-001")),
    security(("editToken" = []), ("organiserToken" = [])),
    responses(
        (status = 200, description = "The profile", body = Profile,
            headers(("Profile-Status" = String, description = "`pending` or `approved`"))),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The token is another profile's", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn get(state: web::Data<AppState>, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    let state = state.into_inner();
    let (found, status) = blocking(move || {
        state.engine.profile_with_status(&id)?.ok_or_else(|| ApiError::NotFound(format!("unknown profile id {id:?}")))
    })
    .await?;
    let status = match status {
        ProfileStatus::Pending => "pending",
        ProfileStatus::Approved => "approved",
    };
    Ok(HttpResponse::Ok().insert_header(("Profile-Status", status)).json(found))
}

/// Replace a profile
///
/// The body is the whole new record, with the same id as the path; the edit token stays valid.
#[utoipa::path(
    put,
    path = "/api/v1/profiles/{id}",
    operation_id = "replace_profile",
    tag = "profiles",
    params(("id" = String, Path, description = "Profile id", example = "demo-p-001")),
    request_body(
        content = Profile,
        description = "The whole new record; its id must be the path's",
        example = json!({
            "id": "demo-p-001",
            "name": "Spadscope B.V.",
            "kind": "company",
            "size": "startup",
            "city": "Enschede",
            "language": "en",
            "summary": "Spadscope develops short-range flash lidar for cars and vans, with no moving parts.",
            "keywords": ["lidar", "SPAD"],
            "themes": ["smart_mobility"],
            "trl": 5
        })
    ),
    security(("editToken" = []), ("organiserToken" = [])),
    responses(
        (status = 200, description = "Replaced; the stored record", body = Profile),
        (status = 400, description = "The body is not JSON, or its id is not the path's", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The token is another profile's", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 422, description = "The record breaks the data-format rules", body = ErrorBody),
        (status = 429, description = "Too many writes from this client or token",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a write is accepted"))),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<Profile>, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    let profile = validate(&body)?;
    ApiError::check_path_id(&id, &profile.id)?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    blocking(move || {
        state.engine.replace_profile(&profile, &who)?;
        Ok(web::Json(profile))
    })
    .await
}

/// Delete a profile
///
/// Removes it from the store, the index and the vectors; its edit token stops working.
#[utoipa::path(
    delete,
    path = "/api/v1/profiles/{id}",
    operation_id = "delete_profile",
    tag = "profiles",
    params(("id" = String, Path, description = "Profile id", example = "demo-p-001")),
    security(("editToken" = []), ("organiserToken" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The token is another profile's", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 429, description = "Too many writes from this client or token",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a write is accepted"))),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    blocking(move || Ok(state.engine.delete_profile(&id, &who)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Query of the profile list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Start after this profile id (the previous page's `next_after`).
    #[param(example = "demo-p-010")]
    after: Option<String>,
    /// Page size, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500, example = 20)]
    limit: Option<usize>,
}

/// One page of the profile list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilePage {
    /// Profiles by id.
    pub profiles: Vec<Profile>,
    /// The `after` of the next page; null on the last page.
    pub next_after: Option<String>,
}

/// List profiles
///
/// Every approved profile by id, with contact e-mails, a page at a time (organisers only; pending
/// submissions are listed by `GET /api/v1/pending`).
#[utoipa::path(
    get,
    path = "/api/v1/profiles",
    operation_id = "list_profiles",
    tag = "profiles",
    params(PageQuery),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "One page", body = ProfilePage),
        (status = 400, description = "A query parameter is unknown or out of range", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<PageQuery>,
) -> Result<web::Json<ProfilePage>, ApiError> {
    who.require_organiser()?;
    let PageQuery { after, limit } = query.into_inner();
    let limit = super::page_limit(limit)?;
    let state = state.into_inner();
    let profiles = blocking(move || Ok(state.engine.profile_page(after.as_deref(), limit)?)).await?;
    let next_after = if profiles.len() == limit { profiles.last().map(|p| p.id.clone()) } else { None };
    Ok(web::Json(ProfilePage { profiles, next_after }))
}
