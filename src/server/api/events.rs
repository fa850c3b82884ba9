//! Event endpoints (organisers only): Co-Innovation Days and their pitch selection. Solving a line-up
//! ranks every demand area of the event and runs the ILP, so it runs on the blocking pool under the
//! ranking semaphore.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::auth::Principal;
use crate::domain::{Event, Ranker};
use crate::select::{EventSelection, SeasonRules};
use crate::server::error::{blocking, from_value, parse_json, ApiError};
use crate::server::AppState;

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("unknown event id {id:?}"))
}

/// `POST /api/v1/events`
pub async fn create(state: web::Data<AppState>, who: Principal, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let event = Event::from_json(&parse_json(&body)?).map_err(ApiError::Invalid)?;
    let state = state.into_inner();
    let event = blocking(move || {
        state.engine.create_event(&event)?;
        Ok(event)
    })
    .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/events/{}", event.id))).json(event))
}

/// `GET /api/v1/events`
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<Event>>, ApiError> {
    who.require_organiser()?;
    let state = state.into_inner();
    Ok(web::Json(blocking(move || Ok(state.engine.events()?)).await?))
}

/// `GET /api/v1/events/{id}`
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Event>, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    let state = state.into_inner();
    Ok(web::Json(blocking(move || state.engine.event(&id)?.ok_or_else(|| not_found(&id))).await?))
}

/// `POST /api/v1/events/{id}/selection` with optional selection rules as the body.
pub async fn selection(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<EventSelection>, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    let rules: SeasonRules = if body.iter().all(u8::is_ascii_whitespace) {
        SeasonRules::default()
    } else {
        from_value(parse_json(&body)?, "selection rules")?
    };
    let state = state.into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let worker = state.clone();
    let selection = blocking(move || Ok(worker.engine.select_event(&id, &rules, Ranker::default())?)).await?;
    selection
        .events
        .into_iter()
        .next()
        .map(web::Json)
        .ok_or_else(|| ApiError::Internal("selection returned no event".into()))
}
