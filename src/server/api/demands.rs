//! Demand-area endpoints (organisers only): the OEM side of matchmaking, maintained over HTTP with
//! the same validation as a demands file import.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use crate::domain::DemandArea;
use crate::server::error::{blocking, parse_json, ApiError, ErrorBody};
use crate::server::writes::charge_api_write;
use crate::server::AppState;

fn validate(body: &[u8]) -> Result<DemandArea, ApiError> {
    DemandArea::from_json(&parse_json(body)?).map_err(ApiError::Invalid)
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("unknown demand area id {id:?}"))
}

/// Create a demand area
#[utoipa::path(
    post,
    path = "/api/v1/demands",
    operation_id = "create_demand",
    tag = "demands",
    request_body(
        content = DemandArea,
        description = "The demand area; `language` is detected when absent",
        example = json!({
            "id": "valeo-brake-2028",
            "organisation": "Valeo",
            "title": "Quieter regenerative braking for light commercial vehicles",
            "description": "We look for partners to reduce the noise and wear of blended regenerative and friction braking in electric vans.",
            "language": "en",
            "themes": ["green_mobility"]
        })
    ),
    security(("organiserToken" = [])),
    responses(
        (status = 201, description = "Created; the stored record", body = DemandArea,
            headers(("Location" = String, description = "The demand area's URL"))),
        (status = 400, description = "The body is empty, not UTF-8 or not JSON", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 409, description = "A demand area with this id exists", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 422, description = "The record breaks the data-format rules", body = ErrorBody),
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
    let demand = validate(&body)?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    let demand = blocking(move || {
        state.engine.create_demand(&demand, &who)?;
        Ok(demand)
    })
    .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/demands/{}", demand.id))).json(demand))
}

/// List demand areas
#[utoipa::path(
    get,
    path = "/api/v1/demands",
    operation_id = "list_demands",
    tag = "demands",
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "Every demand area, by id", body = Vec<DemandArea>),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<DemandArea>>, ApiError> {
    who.require_organiser_or_reviewer()?;
    let state = state.into_inner();
    let all = blocking(move || Ok(state.engine.demands()?)).await?;
    Ok(web::Json(all.into_iter().filter(|d| who.may_review(&d.organisation)).collect()))
}

/// Read a demand area
#[utoipa::path(
    get,
    path = "/api/v1/demands/{id}",
    operation_id = "get_demand",
    tag = "demands",
    params(("id" = String, Path, description = "Demand area id", example = "demo-d-10")),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "The demand area", body = DemandArea),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No such demand area", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<DemandArea>, ApiError> {
    who.require_organiser_or_reviewer()?;
    let id = id.into_inner();
    let state = state.into_inner();
    let demand = blocking(move || Ok(state.engine.demand(&id)?.ok_or_else(|| not_found(&id)))).await?;
    who.require_reviewer_of(demand.as_ref().ok().map(|d| d.organisation.as_str()))?;
    Ok(web::Json(demand?))
}

/// Replace a demand area
#[utoipa::path(
    put,
    path = "/api/v1/demands/{id}",
    operation_id = "replace_demand",
    tag = "demands",
    params(("id" = String, Path, description = "Demand area id", example = "demo-d-10")),
    request_body(
        content = DemandArea,
        description = "The whole new record; its id must be the path's",
        example = json!({
            "id": "demo-d-10",
            "organisation": "Renault",
            "title": "Lighter, cheaper hydrogen storage vessels",
            "description": "We look for lighter and cheaper hydrogen storage vessels for vans.",
            "language": "en"
        })
    ),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "Replaced; the stored record", body = DemandArea),
        (status = 400, description = "The body is not JSON, or its id is not the path's", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No such demand area", body = ErrorBody),
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
) -> Result<web::Json<DemandArea>, ApiError> {
    who.require_organiser()?;
    let id = id.into_inner();
    let demand = validate(&body)?;
    ApiError::check_path_id(&id, &demand.id)?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    blocking(move || {
        state.engine.replace_demand(&demand, &who)?;
        Ok(web::Json(demand))
    })
    .await
}

/// Delete a demand area
#[utoipa::path(
    delete,
    path = "/api/v1/demands/{id}",
    operation_id = "delete_demand",
    tag = "demands",
    params(("id" = String, Path, description = "Demand area id", example = "demo-d-10")),
    security(("organiserToken" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No such demand area", body = ErrorBody),
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
    who.require_organiser()?;
    charge_api_write(&state, &req, &who)?;
    let id = id.into_inner();
    let state = state.into_inner();
    blocking(move || Ok(state.engine.delete_demand(&id, &who)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
