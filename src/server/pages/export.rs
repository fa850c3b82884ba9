//! The supplier's data export as a page action: the edit page posts the profile id and the edit
//! token (never put in a URL) and gets back the same JSON document as
//! `GET /api/v1/profiles/{id}/export`, as a download.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use super::{blocking, secured, PageContext, WebError};

/// `POST /supplier/export`: everything stored about the profile, for its edit token's holder.
pub(crate) async fn export(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let id = ctx.form.get("id").unwrap_or_default().trim().to_string();
    if !ctx.owns_profile(&id) {
        return Err(WebError::Forbidden(
            "Onbekende profielcode of verkeerde wijzigingscode / Unknown profile id or wrong edit token.".into(),
        ));
    }
    let state = ctx.state.clone().into_inner();
    let wanted = id.clone();
    let Some(export) = blocking(move || Ok(state.engine.export_profile(&wanted)?)).await? else {
        return Err(WebError::NotFound("The profile no longer exists.".into()));
    };
    let body = serde_json::to_vec_pretty(&export).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(secured(StatusCode::OK)
        // Ids are [A-Za-z0-9._-]: safe inside the quoted file name.
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"profile-{id}.json\"")))
        .content_type("application/json")
        .body(body))
}
