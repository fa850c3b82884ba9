//! Ranking endpoints (organisers only): the shortlist of a stored demand area and ad-hoc text
//! search. Ranking is CPU-bound, so it runs on the blocking pool, at most one per CPU at a time;
//! further requests wait for a permit instead of oversubscribing the cores.

use actix_web::web;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use crate::domain::{Filter, Ranker};
use crate::domain::{Kind, Language, Size, Theme};
use crate::rank::Shortlist;
use crate::server::error::{blocking, from_value, parse_json, ApiError, ErrorBody};
use crate::server::AppState;

/// Largest `k` over HTTP (the engine allows more for batch use).
pub const MAX_K: usize = 200;
/// Default `k`.
pub const DEFAULT_K: usize = 20;
/// Longest ad-hoc search text, in characters (as long as a demand description may be).
pub const MAX_TEXT_CHARS: usize = 5000;

fn check_k(k: Option<usize>) -> Result<usize, ApiError> {
    let k = k.unwrap_or(DEFAULT_K);
    if (1..=MAX_K).contains(&k) {
        Ok(k)
    } else {
        Err(ApiError::bad("bad_argument", Some("k"), format!("k must be 1-{MAX_K}")))
    }
}

fn check_filter(filter: &Filter) -> Result<(), ApiError> {
    match filter.min_trl {
        Some(t) if !(1..=9).contains(&t) => Err(ApiError::bad("bad_argument", Some("min_trl"), "min_trl must be 1-9")),
        _ => Ok(()),
    }
}

async fn rank(
    state: web::Data<AppState>,
    job: impl FnOnce(&AppState) -> crate::Result<Shortlist> + Send + 'static,
) -> Result<web::Json<Shortlist>, ApiError> {
    let state = state.into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let worker = state.clone();
    Ok(web::Json(blocking(move || Ok(job(&worker)?)).await?))
}

/// Query of the shortlist endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShortlistQuery {
    /// Results, 1-200 (default 20).
    #[param(minimum = 1, maximum = 200, example = 10)]
    k: Option<usize>,
    /// Only this kind of organisation.
    #[param(inline)]
    kind: Option<Kind>,
    /// Only this size class.
    #[param(inline)]
    size: Option<Size>,
    /// Only profiles with this theme.
    #[param(inline)]
    theme: Option<Theme>,
    /// Only profiles at or above this technology readiness level, 1-9.
    #[param(minimum = 1, maximum = 9)]
    min_trl: Option<u8>,
    /// Which signals rank (default hybrid).
    #[param(inline)]
    ranker: Option<Ranker>,
}

/// Shortlist for a demand area
///
/// The demand area's ranked, explained shortlist: every entry with its score breakdown, the terms
/// that matched and a highlighted passage. Filters narrow the profiles considered.
#[utoipa::path(
    get,
    path = "/api/v1/demands/{id}/shortlist",
    operation_id = "shortlist",
    tag = "ranking",
    params(("id" = String, Path, description = "Demand area id", example = "demo-d-10"), ShortlistQuery),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "The shortlist", body = Shortlist),
        (status = 400, description = "A query parameter is unknown or out of range", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 404, description = "No such demand area", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn shortlist(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ShortlistQuery>,
) -> Result<web::Json<Shortlist>, ApiError> {
    who.require_organiser_or_reviewer()?;
    if !who.is_organiser() {
        let (engine_state, wanted) = (state.clone().into_inner(), id.clone());
        let owner = blocking(move || Ok(engine_state.engine.demand(&wanted)?.map(|d| d.organisation))).await?;
        who.require_reviewer_of(owner.as_deref())?;
    }
    let q = query.into_inner();
    let k = check_k(q.k)?;
    let filter = Filter { kind: q.kind, size: q.size, theme: q.theme, min_trl: q.min_trl };
    check_filter(&filter)?;
    let ranker = q.ranker.unwrap_or_default();
    let id = id.into_inner();
    // Most requests re-open a demand area under another filter or length; answered from cached
    // work in well under a millisecond, they need no trip through the blocking pool.
    if let Some(list) = state.engine.rank_demand_if_cached(&id, k, &filter, ranker)? {
        return Ok(web::Json(list));
    }
    let state = state.into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    // Requests that queued behind the one bringing this demand area's ranking up to date (after a
    // write, every request for it misses at once) are answered from its work, not one by one.
    if let Some(list) = state.engine.rank_demand_if_cached(&id, k, &filter, ranker)? {
        return Ok(web::Json(list));
    }
    let worker = state.clone();
    Ok(web::Json(blocking(move || Ok(worker.engine.rank_demand(&id, k, &filter, ranker)?)).await?))
}

/// Body of the search endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// The demand text in Dutch, French or English, at most 5000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    text: String,
    /// Results, 1-200 (default 20).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 200)]
    k: Option<usize>,
    /// Language of the text (detected when absent).
    #[serde(default)]
    language: Option<Language>,
    /// Which signals rank (default hybrid).
    #[serde(default)]
    ranker: Option<Ranker>,
    /// Result filters.
    #[serde(default)]
    filters: Filter,
}

/// Shortlist for ad-hoc text
///
/// Ranks profiles for a demand text that is not stored, in Dutch, French or English.
#[utoipa::path(
    post,
    path = "/api/v1/search",
    operation_id = "search",
    tag = "ranking",
    request_body(
        content = SearchBody,
        example = json!({"text": "lichtere waterstoftanks voor bestelwagens", "k": 5, "filters": {"kind": "company"}})
    ),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "The shortlist", body = Shortlist),
        (status = 400, description = "The body is not a JSON object, or a field is missing or out of range", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn search(
    state: web::Data<AppState>,
    who: Principal,
    body: web::Bytes,
) -> Result<web::Json<Shortlist>, ApiError> {
    who.require_organiser()?;
    let value = parse_json(&body)?;
    // As in `from_value`: an array would be taken positionally as the filter fields.
    if value.get("filters").is_some_and(|f| !f.is_object() && !f.is_null()) {
        return Err(ApiError::bad("bad_argument", Some("filters"), "filters must be a JSON object"));
    }
    let b: SearchBody = from_value(value, "search request")?;
    let k = check_k(b.k)?;
    check_filter(&b.filters)?;
    let n = b.text.chars().count();
    if b.text.trim().is_empty() {
        return Err(ApiError::bad("bad_argument", Some("text"), "text must not be empty"));
    }
    if n > MAX_TEXT_CHARS {
        return Err(ApiError::bad(
            "bad_argument",
            Some("text"),
            format!("text must be at most {MAX_TEXT_CHARS} characters (is {n})"),
        ));
    }
    if b.text.contains('\0') {
        return Err(ApiError::bad("bad_argument", Some("text"), "text must not contain NUL characters"));
    }
    let ranker = b.ranker.unwrap_or_default();
    rank(state, move |s| s.engine.rank_text(&b.text, b.language, k, &b.filters, ranker)).await
}
