//! Event endpoints (organisers only): Co-Innovation Days and their pitch selection. Solving a line-up
//! ranks every demand area of the event and runs the ILP, so it runs on the blocking pool under the
//! ranking semaphore.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use crate::domain::{Event, Ranker};
use crate::select::{EventSelection, SeasonRules};
use crate::server::error::{blocking, from_value, parse_json, ApiError, ErrorBody};
use crate::server::writes::charge_api_write;
use crate::server::AppState;

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("unknown event id {id:?}"))
}

/// Create an event
///
/// Every demand area it names must exist.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    operation_id = "create_event",
    tag = "events",
    request_body(
        content = Event,
        example = json!({
            "id": "psa-2028",
            "organisation": "PSA Group",
            "title": "PSA Group Co-Innovation Day 2028",
            "date": "2028-03-14",
            "slots": 6,
            "demand_ids": ["demo-d-01", "demo-d-02"]
        })
    ),
    security(("organiserToken" = [])),
    responses(
        (status = 201, description = "Created; the stored record", body = Event,
            headers(("Location" = String, description = "The event's URL"))),
        (status = 400, description = "The body is empty, not UTF-8 or not JSON", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 409, description = "An event with this id exists", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 422, description = "The record breaks the data-format rules or names an unknown demand area", body = ErrorBody),
        (status = 429, description = "Too many writes from this client or token",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a write is accepted"))),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    who.require_organiser()?;
    let event = Event::from_json(&parse_json(&body)?).map_err(ApiError::Invalid)?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    let event = blocking(move || {
        state.engine.create_event(&event, &who)?;
        Ok(event)
    })
    .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/events/{}", event.id))).json(event))
}

/// List events
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "list_events",
    tag = "events",
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "Every event, by id", body = Vec<Event>),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<Event>>, ApiError> {
    who.require_organiser_or_reviewer()?;
    let state = state.into_inner();
    let all = blocking(move || Ok(state.engine.events()?)).await?;
    Ok(web::Json(all.into_iter().filter(|e| e.hosts().any(|h| who.may_review(h))).collect()))
}

/// Read an event
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    operation_id = "get_event",
    tag = "events",
    params(("id" = String, Path, description = "Event id", example = "psa-2027")),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "The event", body = Event),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Event>, ApiError> {
    who.require_organiser_or_reviewer()?;
    let id = id.into_inner();
    let state = state.into_inner();
    let event = blocking(move || Ok(state.engine.event(&id)?.ok_or_else(|| not_found(&id)))).await?;
    // A reviewer of any of the event's hosts may read it.
    let host = event.as_ref().ok().map(|e| e.hosts().find(|h| who.may_review(h)).unwrap_or(&e.organisation));
    who.require_reviewer_of(host)?;
    Ok(web::Json(event?))
}

/// Solve the event's pitch line-up
///
/// Ranks every demand area of the event and solves the line-up exactly, with reserves and why
/// strong candidates were left out. The body is optional: selection rules (pins, bans, conflicts,
/// limits); without one the defaults apply.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/selection",
    operation_id = "select_event",
    tag = "events",
    params(("id" = String, Path, description = "Event id", example = "psa-2027")),
    request_body(
        content = Option<SeasonRules>,
        description = "Selection rules; every field is optional",
        example = json!({"reserves": 3, "explain_top": 5, "time_limit_secs": 30})
    ),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "The line-up", body = EventSelection),
        (status = 400, description = "The rules are not a JSON object or break a rule", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 422, description = "A rule is beyond its maximum (time_limit_secs 300, top_n 200, reserves and explain_top 100, 500 pins, 5,000 bans or conflicts); every one is listed", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn selection(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<EventSelection>, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    // Without a body, the event's stored pins, locks and bans and the season's rules apply.
    let rules: Option<SeasonRules> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(from_value(parse_json(&body)?, "selection rules")?)
    };
    let over = rules.as_ref().map(SeasonRules::limit_violations).unwrap_or_default();
    if !over.is_empty() {
        return Err(ApiError::Invalid(over));
    }
    let state = state.into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let worker = state.clone();
    let selection = blocking(move || {
        let engine = &worker.engine;
        if engine.event(&id)?.is_none() {
            return Err(crate::Error::from(crate::UserError::NotFound { kind: "event", id }).into());
        }
        let rules = match rules {
            Some(r) => r,
            None => engine.event_selection_rules(&id)?,
        };
        Ok(engine.select_event(&id, &rules, Ranker::default())?)
    })
    .await?;
    selection
        .events
        .into_iter()
        .next()
        .map(web::Json)
        .ok_or_else(|| ApiError::Internal("selection returned no event".into()))
}
