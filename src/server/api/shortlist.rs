//! Ranking endpoints (organisers only): the shortlist of a stored demand area and ad-hoc text
//! search. Ranking is CPU-bound, so it runs on the blocking pool, at most one per CPU at a time;
//! further requests wait for a permit instead of oversubscribing the cores.

use actix_web::web;
use serde::Deserialize;

use super::auth::Principal;
use crate::domain::{Filter, Ranker};
use crate::domain::{Kind, Language, Size, Theme};
use crate::rank::Shortlist;
use crate::server::error::{blocking, from_value, parse_json, ApiError};
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShortlistQuery {
    k: Option<usize>,
    kind: Option<Kind>,
    size: Option<Size>,
    theme: Option<Theme>,
    min_trl: Option<u8>,
    ranker: Option<Ranker>,
}

/// `GET /api/v1/demands/{id}/shortlist?k=&kind=&size=&theme=&min_trl=&ranker=`
pub async fn shortlist(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ShortlistQuery>,
) -> Result<web::Json<Shortlist>, ApiError> {
    who.require_organiser()?;
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
    rank(state, move |s| s.engine.rank_demand(&id, k, &filter, ranker)).await
}

/// Body of the search endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    text: String,
    #[serde(default)]
    k: Option<usize>,
    #[serde(default)]
    language: Option<Language>,
    #[serde(default)]
    ranker: Option<Ranker>,
    #[serde(default)]
    filters: Filter,
}

/// `POST /api/v1/search` `{"text", "k"?, "language"?, "ranker"?, "filters"?}`
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
