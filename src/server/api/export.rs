//! A supplier's data export (the right of access and portability): with its edit token a supplier
//! downloads, as one JSON document, everything pitchmatch keeps about its profile. An organiser
//! may fetch it too, to answer a request made to the organisation.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::auth::Principal;
use crate::engine::ProfileExport;
use crate::server::error::{blocking, ApiError, ErrorBody};
use crate::server::AppState;

/// Export everything stored about a profile
///
/// The stored record, its state in the derived data (version, search index, embeddings) and its
/// edit token described without the secret, as a JSON download.
#[utoipa::path(
    get,
    path = "/api/v1/profiles/{id}/export",
    operation_id = "export_profile",
    tag = "profiles",
    params(("id" = String, Path, description = "Profile id", example = "demo-p-001")),
    security(("editToken" = []), ("organiserToken" = [])),
    responses(
        (status = 200, description = "Everything stored about the profile", body = ProfileExport,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"profile-{id}.json\""))),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The token is another profile's", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn export(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    who.require_profile(&id)?;
    let state = state.into_inner();
    let export = blocking(move || {
        state.engine.export_profile(&id)?.ok_or_else(|| ApiError::NotFound(format!("unknown profile id {id:?}")))
    })
    .await?;
    Ok(download(&export))
}

/// The export as a JSON attachment.
fn download(export: &ProfileExport) -> HttpResponse {
    // Ids are [A-Za-z0-9._-]: safe inside the quoted file name.
    let disposition = format!("attachment; filename=\"profile-{}.json\"", export.profile.id);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(export)
}
