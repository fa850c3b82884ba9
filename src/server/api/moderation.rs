//! Moderation endpoints: public submissions wait until an organiser approves them, and these are
//! the organisers' queue — list what waits, approve (the profile is then ranked, searched, selected
//! and mapped like any other) or reject (it is deleted with its edit token).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use crate::domain::Profile;
use crate::server::error::{blocking, ApiError, ErrorBody};
use crate::server::AppState;

/// Query of the pending list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// Start after this profile id (the previous page's `next_after`).
    #[param(example = "acme-composites-b-v-7f3k2q9a")]
    after: Option<String>,
    /// Page size, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500, example = 20)]
    limit: Option<usize>,
}

/// A submission waiting for approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingItem {
    /// Unix seconds of the submission.
    pub submitted_at: i64,
    /// The record as submitted or last edited by its supplier.
    pub profile: Profile,
}

/// One page of the pending list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingPage {
    /// Pending submissions by id.
    pub pending: Vec<PendingItem>,
    /// The `after` of the next page; null on the last page.
    pub next_after: Option<String>,
}

/// List pending submissions
///
/// Public submissions waiting for an organiser's approval, with contact e-mails, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/pending",
    operation_id = "list_pending",
    tag = "moderation",
    params(PendingQuery),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "One page", body = PendingPage),
        (status = 400, description = "A query parameter is unknown or out of range", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<PendingQuery>,
) -> Result<web::Json<PendingPage>, ApiError> {
    who.require_organiser()?;
    let PendingQuery { after, limit } = query.into_inner();
    let limit = super::page_limit(limit)?;
    let state = state.into_inner();
    let rows = blocking(move || Ok(state.engine.pending_profiles(after.as_deref(), limit)?)).await?;
    let next_after = if rows.len() == limit { rows.last().map(|p| p.profile.id.clone()) } else { None };
    let pending = rows.into_iter().map(|p| PendingItem { submitted_at: p.submitted_at, profile: p.profile }).collect();
    Ok(web::Json(PendingPage { pending, next_after }))
}

/// Approve a pending submission
///
/// From now on the profile is ranked, searched, selected and on the map; its edit token keeps
/// working.
#[utoipa::path(
    post,
    path = "/api/v1/pending/{id}/approve",
    operation_id = "approve_profile",
    tag = "moderation",
    params(("id" = String, Path, description = "Pending profile id", example = "acme-composites-b-v-7f3k2q9a")),
    security(("organiserToken" = [])),
    responses(
        (status = 204, description = "Approved"),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No pending submission with this id", body = ErrorBody),
        (status = 409, description = "An approved profile with this id exists", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn approve(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let (state, id) = (state.into_inner(), id.into_inner());
    blocking(move || Ok(state.engine.approve_profile(&id, &who)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reject a pending submission
///
/// Deletes it and its edit token.
#[utoipa::path(
    post,
    path = "/api/v1/pending/{id}/reject",
    operation_id = "reject_profile",
    tag = "moderation",
    params(("id" = String, Path, description = "Pending profile id", example = "spam-b-v-2m4n6p8q")),
    security(("organiserToken" = [])),
    responses(
        (status = 204, description = "Rejected and deleted"),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No pending submission with this id", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn reject(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let (state, id) = (state.into_inner(), id.into_inner());
    blocking(move || Ok(state.engine.reject_profile(&id, &who)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
