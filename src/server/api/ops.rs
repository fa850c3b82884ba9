//! Operations endpoints: a health check for load balancers, Prometheus metrics and the API's own
//! OpenAPI document.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Principal;
use crate::server::error::{blocking, ApiError, ErrorBody};
use crate::server::AppState;

/// The health check's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (any failure is an error response).
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Profiles in the store.
    pub profiles: usize,
}

/// Liveness and store check
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "ops",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 500, description = "The store does not answer", body = ErrorBody),
    )
)]
pub async fn healthz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let state = state.into_inner();
    let profiles = blocking(move || Ok(state.engine.profile_count()?)).await?;
    Ok(web::Json(Health { status: "ok", profiles }))
}

/// Prometheus metrics
///
/// Request counts by method, route and status, latency histograms by route and the profile count,
/// in the Prometheus text format. Organisers only: the figures tell how busy the service is and
/// which routes are slow. When the server has a separate metrics address, `/metrics` is served
/// there (without a token) and is a 404 here.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "ops",
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain"),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "Metrics are served on a separate address", body = ErrorBody),
    )
)]
pub async fn metrics(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    if state.metrics_elsewhere {
        return Err(ApiError::NotFound("no route for GET /metrics".into()));
    }
    who.require_organiser()?;
    Ok(open_metrics(state).await)
}

/// The metrics without a token check, for the separate metrics listener.
pub(crate) async fn open_metrics(state: web::Data<AppState>) -> HttpResponse {
    let state = state.into_inner();
    let worker = state.clone();
    let profiles = blocking(move || Ok(worker.engine.profile_count()?)).await.ok();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(profiles))
}

/// This API's OpenAPI document
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub async fn openapi() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| super::openapi_document().to_string());
    HttpResponse::Ok().content_type("application/json").body(body.as_str())
}
