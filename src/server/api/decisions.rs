//! Reviewers' decisions over HTTP: an OEM reviewer (or an organiser) says, per demand area, which
//! profiles interest them. Reviewers reach only their own organisation's demand areas.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::Principal;
use crate::domain::{Decision, Verdict, Violation, MAX_NOTE_CHARS};
use crate::server::error::{blocking, parse_json, ApiError, ErrorBody};
use crate::server::writes::charge_api_write;
use crate::server::AppState;

/// Body of a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct DecisionBody {
    /// `interested`, `maybe` or `not_relevant`.
    decision: Verdict,
    /// Why, up to 1,000 characters.
    #[serde(default)]
    note: Option<String>,
}

/// Reads a decision body, naming every broken rule.
fn read_body(body: &[u8]) -> Result<(Verdict, Option<String>), ApiError> {
    let value = parse_json(body)?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::Invalid(vec![violation("(record)", "must be a JSON object")]));
    };
    let mut problems = Vec::new();
    for key in fields.keys().filter(|k| !matches!(k.as_str(), "decision" | "note")) {
        problems.push(violation(key, "is not a known field"));
    }
    let verdict = match fields.get("decision") {
        None => {
            problems.push(violation("decision", "is required"));
            None
        }
        Some(v) => match v.as_str().and_then(Verdict::parse) {
            Some(verdict) => Some(verdict),
            None => {
                problems.push(violation("decision", "must be one of interested, maybe, not_relevant"));
                None
            }
        },
    };
    let note = match fields.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_NOTE_CHARS => Some(s.clone()),
        Some(Value::String(s)) => {
            problems.push(violation(
                "note",
                &format!("must be at most {MAX_NOTE_CHARS} characters (is {})", s.chars().count()),
            ));
            None
        }
        Some(_) => {
            problems.push(violation("note", "must be a string"));
            None
        }
    };
    match verdict {
        Some(v) if problems.is_empty() => Ok((v, note)),
        _ => Err(ApiError::Invalid(problems)),
    }
}

fn violation(field: &str, rule: &str) -> Violation {
    Violation { field: field.to_string(), rule: rule.to_string(), value: None }
}

/// Organisers, and reviewers of the demand area's organisation (a missing demand area is refused
/// to reviewers like another organisation's).
async fn require_demand_access(state: &web::Data<AppState>, who: &Principal, demand_id: &str) -> Result<(), ApiError> {
    who.require_organiser_or_reviewer()?;
    let (engine_state, wanted) = (state.clone().into_inner(), demand_id.to_string());
    let owner = blocking(move || Ok(engine_state.engine.demand(&wanted)?.map(|d| d.organisation))).await?;
    who.require_reviewer_of(owner.as_deref())?;
    if owner.is_none() {
        return Err(ApiError::NotFound(format!("unknown demand area id {demand_id:?}")));
    }
    Ok(())
}

/// Record a decision
///
/// The reviewer's (or organiser's) verdict on one profile for one demand area; replaces any
/// earlier one and is kept in the audit log.
#[utoipa::path(
    put,
    path = "/api/v1/demands/{id}/decisions/{profile_id}",
    operation_id = "record_decision",
    tag = "decisions",
    params(
        ("id" = String, Path, description = "Demand area id", example = "demo-d-01"),
        ("profile_id" = String, Path, description = "Profile id", example = "demo-p-017"),
    ),
    request_body(content = DecisionBody, example = json!({"decision": "interested", "note": "Meet at the pitch day"})),
    security(("organiserToken" = []), ("reviewerToken" = [])),
    responses(
        (status = 200, description = "The stored decision", body = Decision),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser, nor a reviewer of the demand area's organisation", body = ErrorBody),
        (status = 404, description = "No such demand area or profile", body = ErrorBody),
        (status = 422, description = "A bad decision or note", body = ErrorBody),
        (status = 429, description = "Too many writes from this client or token",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a write is accepted"))),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<web::Json<Decision>, ApiError> {
    let (demand_id, profile_id) = path.into_inner();
    require_demand_access(&state, &who, &demand_id).await?;
    let (verdict, note) = read_body(&body)?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    let decision =
        blocking(move || Ok(state.engine.record_decision(&demand_id, &profile_id, verdict, note.as_deref(), &who)?))
            .await?;
    Ok(web::Json(decision))
}

/// Withdraw a decision
#[utoipa::path(
    delete,
    path = "/api/v1/demands/{id}/decisions/{profile_id}",
    operation_id = "delete_decision",
    tag = "decisions",
    params(
        ("id" = String, Path, description = "Demand area id", example = "demo-d-01"),
        ("profile_id" = String, Path, description = "Profile id", example = "demo-p-017"),
    ),
    security(("organiserToken" = []), ("reviewerToken" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser, nor a reviewer of the demand area's organisation", body = ErrorBody),
        (status = 404, description = "No such demand area or decision", body = ErrorBody),
        (status = 429, description = "Too many writes from this client or token",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a write is accepted"))),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (demand_id, profile_id) = path.into_inner();
    require_demand_access(&state, &who, &demand_id).await?;
    charge_api_write(&state, &req, &who)?;
    let state = state.into_inner();
    blocking(move || Ok(state.engine.delete_decision(&demand_id, &profile_id, &who)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a demand area's decisions
#[utoipa::path(
    get,
    path = "/api/v1/demands/{id}/decisions",
    operation_id = "list_decisions",
    tag = "decisions",
    params(("id" = String, Path, description = "Demand area id", example = "demo-d-01")),
    security(("organiserToken" = []), ("reviewerToken" = [])),
    responses(
        (status = 200, description = "The current decisions, by profile id", body = Vec<Decision>),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser, nor a reviewer of the demand area's organisation", body = ErrorBody),
        (status = 404, description = "No such demand area", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<Decision>>, ApiError> {
    let demand_id = id.into_inner();
    require_demand_access(&state, &who, &demand_id).await?;
    let state = state.into_inner();
    Ok(web::Json(blocking(move || Ok(state.engine.decisions(&demand_id)?)).await?))
}
