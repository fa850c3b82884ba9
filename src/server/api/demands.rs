//! Demand-area endpoints (organisers only): the OEM side of matchmaking, maintained over HTTP with
//! the same validation as a demands file import.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::auth::Principal;
use crate::domain::DemandArea;
use crate::server::error::{blocking, parse_json, ApiError};
use crate::server::AppState;

fn validate(body: &[u8]) -> Result<DemandArea, ApiError> {
    DemandArea::from_json(&parse_json(body)?).map_err(ApiError::Invalid)
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("unknown demand area id {id:?}"))
}

/// `POST /api/v1/demands`
pub async fn create(state: web::Data<AppState>, who: Principal, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let demand = validate(&body)?;
    let state = state.into_inner();
    let demand = blocking(move || {
        state.engine.create_demand(&demand)?;
        Ok(demand)
    })
    .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/demands/{}", demand.id))).json(demand))
}

/// `GET /api/v1/demands`
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<DemandArea>>, ApiError> {
    who.require_organiser()?;
    let state = state.into_inner();
    Ok(web::Json(blocking(move || Ok(state.engine.demands()?)).await?))
}

/// `GET /api/v1/demands/{id}`
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<DemandArea>, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    let state = state.into_inner();
    Ok(web::Json(blocking(move || state.engine.demand(&id)?.ok_or_else(|| not_found(&id))).await?))
}

/// `PUT /api/v1/demands/{id}`
pub async fn replace(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<DemandArea>, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    let demand = validate(&body)?;
    ApiError::check_path_id(&id, &demand.id)?;
    let state = state.into_inner();
    blocking(move || {
        state.engine.replace_demand(&demand)?;
        Ok(web::Json(demand))
    })
    .await
}

/// `DELETE /api/v1/demands/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    let state = state.into_inner();
    blocking(move || Ok(state.engine.delete_demand(&id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
