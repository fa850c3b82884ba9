//! The organiser pages: sign-in with an organiser API token, the dashboard (demand areas per
//! organisation, events), the explained shortlist of a demand area with filters, the event page
//! that runs the selection and shows line-up, reserves and "why not", CSV exports and the landscape
//! map. Every page starts from the [`PageContext`], which has checked the sign-in session and,
//! through it, that the token is still active; pages that need a session say so first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde_json::Value;

use super::landscape::{self, Item, ItemKind, Landscape, PALETTE};
use super::layout::{highlighted, layout, Nav, KIND_OPTIONS, SIZE_OPTIONS, THEME_OPTIONS};
use super::{blocking, csv_download, see_other, PageContext, WebError};
use crate::domain::{DemandArea, Filter, Kind, Principal, Ranker, Size, Theme};
use crate::engine::{Engine, API_TOKEN_PREFIX};
use crate::rank::Shortlist;
use crate::render::{ShortlistFormat, ShortlistWriter};
use crate::server::session::{cookie, expired_cookie, read_cookie, SESSION_COOKIE, SESSION_LIFETIME};
use crate::server::AppState;

pub(crate) fn organiser_page(ctx: &PageContext, title: &str, content: Markup) -> HttpResponse {
    ctx.page(StatusCode::OK, layout(ctx, title, Nav::Organiser, content))
}

/// Pages for organisers only: without a live session, back to sign-in.
pub(crate) fn to_sign_in() -> HttpResponse {
    see_other("/organiser").finish()
}

fn sign_in_page(ctx: &PageContext, status: StatusCode, message: Option<&str>) -> HttpResponse {
    let body = layout(
        ctx,
        "Organiser sign-in",
        Nav::Public,
        html! {
            h1 { "Organiser sign-in" }
            @if let Some(m) = message { p.error-summary role="alert" id="sign-in-error" { (m) } }
            form.narrow method="post" action="/organiser/sign-in" {
                input type="hidden" name="csrf" value=(ctx.csrf.value());
                div.field {
                    label for="f-token" { "Organiser or reviewer token" }
                    input type="password" id="f-token" name="token" autocomplete="off";
                    small.help { "The " (API_TOKEN_PREFIX) "… token from " code { "pitchmatch token create --role organiser" } "." }
                }
                button.primary type="submit" id="sign-in" { "Sign in" }
            }
        },
    );
    ctx.page(status, body)
}

/// `GET /organiser`: the sign-in form, or the dashboard once signed in.
pub(crate) async fn dashboard(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.reviewer_organisation().is_some() {
        return Ok(see_other("/review").finish());
    }
    let Some(organiser) = ctx.organiser() else {
        return Ok(sign_in_page(&ctx, StatusCode::OK, None));
    };
    let engine_state = ctx.state.clone().into_inner();
    let (demands, events) = blocking(move || {
        let engine = &engine_state.engine;
        Ok((engine.demands()?, engine.events()?))
    })
    .await?;
    let mut by_organisation: BTreeMap<&str, Vec<&DemandArea>> = BTreeMap::new();
    for d in &demands {
        by_organisation.entry(d.organisation.as_str()).or_default().push(d);
    }
    let content = html! {
        h1 { "Dashboard" }
        p.muted { "Signed in as " strong { (organiser) } "." }
        div.cards {
            section.card {
                h2 { "Events" }
                p { a.button href="/organiser/new-event" id="new-event" { "New event" } }
                @if events.is_empty() { p.muted { "No events yet." } }
                ul.plain {
                    @for e in &events {
                        li {
                            a href=(format!("/organiser/events/{}", e.id)) { (e.title.as_deref().unwrap_or(&e.id)) }
                            " — " (e.organisation) ", " (e.slots) " slots"
                            @if let Some(d) = &e.date { ", " (d) }
                        }
                    }
                }
            }
            section.card {
                h2 { "Landscape" }
                p { "All profiles and demand areas on one map, clustered by topic." }
                p { a.button href="/landscape" id="go-landscape" { "Open the map" } }
            }
        }
        h2 { "Demand areas" }
        p { a.button href="/organiser/new-demand" id="new-demand" { "New demand area" } }
        @if demands.is_empty() { p.muted { "No demand areas yet." } }
        @for (organisation, list) in &by_organisation {
            section.organisation {
                h3 { (organisation) }
                ul.plain {
                    @for d in list {
                        li {
                            a href=(format!("/organiser/demands/{}", d.id)) { (d.title) }
                            " " span.muted { "(" (d.id) ", " (d.language.code()) ")" }
                        }
                    }
                }
            }
        }
    };
    Ok(organiser_page(&ctx, "Dashboard", content))
}

/// `POST /organiser/sign-in`
pub(crate) async fn sign_in(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let (state, req) = (&ctx.state, ctx.request());
    let token = ctx.form.get("token").unwrap_or_default().trim().to_string();
    let hash = Engine::token_hash(&token);
    let lookup = state.clone().into_inner();
    let found = blocking(move || Ok(lookup.engine.principal_for_hash(&hash)?)).await?;
    let (organiser, home) = match found {
        Some(Principal::Organiser(name)) if !token.is_empty() => (name, "/organiser"),
        Some(Principal::Reviewer { name, .. }) if !token.is_empty() => (name, "/review"),
        _ => {
            let message = Some("Unknown or revoked token.");
            return Ok(sign_in_page(&ctx, StatusCode::UNAUTHORIZED, message));
        }
    };
    // A new session id on every sign-in, so an id planted before sign-in is worth nothing after it.
    if let Some(old) = read_cookie(req, SESSION_COOKIE) {
        state.sessions.end(&old);
    }
    let session = state.sessions.start(&organiser, &Engine::token_hash(&token), Instant::now())?;
    Ok(see_other(home)
        .append_header((header::SET_COOKIE, cookie(req, SESSION_COOKIE, &session, SESSION_LIFETIME)))
        .finish())
}

/// `POST /organiser/sign-out`
pub(crate) async fn sign_out(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let req = ctx.request();
    if let Some(id) = read_cookie(req, SESSION_COOKIE) {
        ctx.state.sessions.end(&id);
    }
    Ok(see_other("/organiser").append_header((header::SET_COOKIE, expired_cookie(req, SESSION_COOKIE))).finish())
}

/// The shortlist filters as typed in the query string; unknown values are reported, not fatal.
#[derive(Debug, Default, Clone)]
struct ShortlistQuery {
    filter: Filter,
    k: usize,
    /// The query string to repeat in the CSV link.
    raw: String,
    problems: Vec<String>,
}

fn parse_enum<T: for<'de> serde::Deserialize<'de>>(value: &str) -> Option<T> {
    serde_json::from_value(Value::String(value.to_string())).ok()
}

fn shortlist_query(req: &HttpRequest) -> ShortlistQuery {
    let mut q = ShortlistQuery { k: 20, raw: req.query_string().to_string(), ..Default::default() };
    for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "kind" => match parse_enum::<Kind>(value) {
                Some(k) => q.filter.kind = Some(k),
                None => q.problems.push(format!("unknown kind {value:?} ignored")),
            },
            "size" => match parse_enum::<Size>(value) {
                Some(s) => q.filter.size = Some(s),
                None => q.problems.push(format!("unknown size {value:?} ignored")),
            },
            "theme" => match parse_enum::<Theme>(value) {
                Some(t) => q.filter.theme = Some(t),
                None => q.problems.push(format!("unknown theme {value:?} ignored")),
            },
            "min_trl" => match value.parse::<u8>() {
                Ok(t) if (1..=9).contains(&t) => q.filter.min_trl = Some(t),
                _ => q.problems.push(format!("min TRL must be 1-9; {value:?} ignored")),
            },
            "k" => match value.parse::<usize>() {
                Ok(k) if (1..=200).contains(&k) => q.k = k,
                _ => q.problems.push(format!("results must be 1-200; {value:?} ignored")),
            },
            _ => {}
        }
    }
    q
}

async fn rank_demand(state: &web::Data<AppState>, id: String, q: &ShortlistQuery) -> Result<Shortlist, WebError> {
    let state = state.clone().into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let (k, filter) = (q.k, q.filter.clone());
    let worker = state.clone();
    blocking(move || Ok(worker.engine.rank_demand(&id, k, &filter, Ranker::default())?)).await
}

fn select_options(name: &str, label: &str, options: &[(&str, &str)], current: Option<&str>) -> Markup {
    html! {
        label for=(format!("q-{name}")) { (label) }
        select id=(format!("q-{name}")) name=(name) {
            option value="" { "any" }
            @for (v, text) in options.iter().filter(|(v, _)| !v.is_empty()) {
                option value=(v) selected[current == Some(*v)] { (text) }
            }
        }
    }
}

fn score(v: Option<f32>) -> String {
    v.map_or_else(|| "—".to_string(), |s| format!("{s:.3}"))
}

/// `GET /organiser/demands/{id}?kind=&size=&theme=&min_trl=&k=`
pub(crate) async fn shortlist(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let state = &ctx.state;
    let id = id.into_inner();
    let q = shortlist_query(ctx.request());
    let lookup = state.clone().into_inner();
    let demand_id = id.clone();
    let demand = blocking(move || Ok(lookup.engine.demand(&demand_id)?))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No demand area {id:?}.")))?;
    let list = rank_demand(state, id.clone(), &q).await?;
    let (lookup, ranked) = (state.clone().into_inner(), list.clone());
    let likelihood = blocking(move || Ok(lookup.engine.likelihood_of_interest(&ranked)?)).await?;
    let (lookup, demand_id) = (state.clone().into_inner(), id.clone());
    let decisions = blocking(move || Ok(lookup.engine.decisions(&demand_id)?)).await?;
    // The events this demand area is part of: a profile can be pinned to or banned from each.
    let (lookup, demand_id) = (state.clone().into_inner(), id.clone());
    let events: Vec<(String, String)> = blocking(move || {
        Ok(lookup
            .engine
            .events()?
            .into_iter()
            .filter(|e| e.demand_ids.contains(&demand_id))
            .map(|e| (e.id.clone(), e.title.clone().unwrap_or(e.id)))
            .collect())
    })
    .await?;
    let csv_href = if q.raw.is_empty() {
        format!("/organiser/demands/{id}/shortlist.csv")
    } else {
        format!("/organiser/demands/{id}/shortlist.csv?{}", q.raw)
    };
    let content = html! {
        p.crumbs { a href="/organiser" { "Dashboard" } " › " (demand.organisation) }
        h1 { (demand.title) }
        p.description { (demand.description) }
        p { a href=(format!("/organiser/demands/{id}/edit")) id="edit-demand" { "Edit the demand area" } }
        form.filters method="get" action=(format!("/organiser/demands/{id}")) id="filters" {
            div { (select_options("kind", "Kind", KIND_OPTIONS, q.filter.kind.map(Kind::as_str))) }
            div { (select_options("size", "Size", SIZE_OPTIONS, q.filter.size.map(Size::as_str))) }
            div { (select_options("theme", "Theme", THEME_OPTIONS, q.filter.theme.map(Theme::as_str))) }
            div {
                label for="q-min_trl" { "Min TRL" }
                input type="text" id="q-min_trl" name="min_trl" size="2"
                    value=(q.filter.min_trl.map(|t| t.to_string()).unwrap_or_default());
            }
            div {
                label for="q-k" { "Results" }
                input type="text" id="q-k" name="k" size="3" value=(q.k);
            }
            div { button type="submit" id="apply-filters" { "Apply" } }
        }
        @for p in &q.problems { p.field-error { (p) } }
        p {
            a.button href=(csv_href) id="shortlist-csv" download { "Export CSV" }
            " " a.button href=(format!("/organiser/demands/{id}/booklet")) id="demand-booklet" { "Profile booklet" }
            " " span.muted { (list.results.len()) " results · ranker " (list.ranker.as_str()) }
        }
        @if list.results.is_empty() { p.muted id="no-results" { "No profile matches these filters." } }
        ol.results id="results" {
            @for (i, r) in list.results.iter().enumerate() {
                li.result id=(format!("result-{}", r.profile_id)) {
                    div.result-head {
                        span.rank { "#" (r.rank) }
                        strong.name { (r.name) }
                        span.muted { " " (r.profile_id) }
                        @if let Some(p) = likelihood.as_ref().and_then(|l| l.get(i)) {
                            span.likelihood title="The learned model's probability that the OEM marks this profile interested" {
                                (format!("{:.0} % likely to interest", p * 100.0))
                            }
                        }
                        span.score { (format!("{:.3}", r.score)) }
                    }
                    p.facets {
                        (r.kind.as_str())
                        @if let Some(s) = r.size { " · " (s.as_str()) }
                        " · " (r.language.code())
                        @if let Some(t) = r.trl { " · TRL " (t) }
                        @for t in &r.themes { " · " (t.as_str()) }
                    }
                    p.reason { (r.explanation.reason) }
                    @for (event_id, event_title) in &events {
                        p.curate {
                            (super::layout::button_form(
                                &format!("/organiser/events/{event_id}/rule"),
                                &ctx.csrf,
                                &[("profile_id", &r.profile_id), ("action", "pin"), ("demand_id", &id)],
                                &format!("pin-{event_id}-{}", r.profile_id),
                                &format!("Pin to {event_title}"),
                            ))
                            " " (super::layout::ban_form(event_id, &ctx.csrf, &r.profile_id, &format!("{event_id}-")))
                        }
                    }
                    @if let Some(d) = r.decision { p.decision { strong { "Reviewer: " } (d.as_str().replace('_', " ")) } }
                    @if let Some(passage) = &r.explanation.passage {
                        blockquote.passage { span.muted { (passage.field) ": " } (highlighted(passage)) }
                    } @else if let Some(s) = &r.explanation.snippet {
                        blockquote.passage { (s) }
                    }
                    details {
                        summary { "Score breakdown and matched terms" }
                        table.breakdown {
                            tr { th { "bm25" } td { (score(r.explanation.scores.bm25)) } }
                            tr { th { "lexical (BM25, centred)" } td { (score(r.explanation.scores.lexical)) } }
                            tr { th { "concepts" } td { (score(r.explanation.scores.concepts)) } }
                            tr { th { "concept coverage" } td { (score(r.explanation.scores.concept_coverage)) } }
                            tr { th { "query concepts" } td { (r.explanation.scores.query_concepts.map_or("—".to_string(), |n| n.to_string())) } }
                            tr { th { "cosine" } td { (score(r.explanation.scores.cosine)) } }
                            tr { th { "dense (centred)" } td { (score(r.explanation.scores.dense)) } }
                            @if r.explanation.scores.cognates.is_some() {
                                tr { th { "word roots (BM25 over word grams)" } td { (score(r.explanation.scores.cognate_bm25)) } }
                                tr { th { "word roots (centred)" } td { (score(r.explanation.scores.cognates)) } }
                            }
                            @if !r.explanation.shared_roots.is_empty() {
                                tr { th { "shared roots" } td { (r.explanation.shared_roots.join(", ")) } }
                            }
                            @if r.explanation.scores.induced.is_some() {
                                tr { th { "aligned terms (BM25 over induced concepts)" } td { (score(r.explanation.scores.induced_bm25)) } }
                                tr { th { "aligned terms (centred)" } td { (score(r.explanation.scores.induced)) } }
                            }
                            @if !r.explanation.aligned_terms.is_empty() {
                                tr { th { "terms that mean the same" } td { (r.explanation.aligned_terms.join(", ")) } }
                            }
                            @if r.explanation.scores.best_match.is_some() {
                                tr { th { "likeness to the best match (cosine)" } td { (score(r.explanation.scores.best_match_cosine)) } }
                                tr { th { "likeness to the best match (centred)" } td { (score(r.explanation.scores.best_match)) } }
                            }
                            @if r.explanation.scores.feedback.is_some() {
                                tr { th { "reviewers' feedback" } td { (score(r.explanation.scores.feedback)) } }
                            }
                            @if !r.explanation.scores.shared_concepts.is_empty() {
                                tr { th { "shared concepts" } td { (r.explanation.concepts.join(", ")) } }
                            }
                            @for m in &r.explanation.matched {
                                tr { th { "terms in " (m.field) } td { (m.terms.join(", ")) } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Reviewers' decisions" }
        @if decisions.is_empty() { p.muted id="no-decisions" { "No reviewer has decided on this demand area yet." } }
        @else {
            table.lineup id="decisions" {
                thead { tr { th { "Profile" } th { "Decision" } th { "Note" } th { "By" } th { "When" } } }
                tbody {
                    @for d in &decisions {
                        tr {
                            td { (d.profile_id) }
                            td { (d.decision.as_str().replace('_', " ")) }
                            td { (d.note.as_deref().unwrap_or_default()) }
                            td { (d.by.as_deref().unwrap_or_default()) }
                            td { (d.at.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    Ok(organiser_page(&ctx, &demand.title, content))
}

/// `GET /organiser/demands/{id}/shortlist.csv?…` — the same list as the page, as CSV.
pub(crate) async fn shortlist_csv(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    let id = id.into_inner();
    let list = rank_demand(&ctx.state, id.clone(), &shortlist_query(ctx.request())).await?;
    let mut out = Vec::new();
    ShortlistWriter::new(ShortlistFormat::Csv, &mut out)
        .and_then(|mut w| w.write(&list))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(csv_download(&format!("shortlist-{id}.csv"), out))
}

/// A drawn landscape, or why it cannot be drawn yet.
pub(crate) enum LandscapePage {
    Map(Landscape),
    Unavailable(String),
}

/// Draws the landscape from the store and the vectors (embedding the demand areas).
fn draw_landscape(state: &AppState) -> Result<LandscapePage, WebError> {
    let engine = &state.engine;
    let vectors: HashMap<String, Vec<f32>> = engine.profile_vectors().into_iter().collect();
    let mut ids: Vec<String> = vectors.keys().cloned().collect();
    ids.sort();
    let profiles = engine.profiles_by_id(&ids)?;
    let demands = engine.demands()?;
    let demand_texts: Vec<String> = demands.iter().map(DemandArea::query_text).collect();
    let demand_vectors = engine.embed_as_passages(&demand_texts.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut items: Vec<Item> = profiles
        .into_iter()
        .filter_map(|p| {
            let vector = vectors.get(&p.id)?.clone();
            // Concepts label clusters the same way whatever language their profiles are in;
            // keywords stand in for profiles the glossary does not cover.
            let text = format!("{} {} {}", p.summary, p.innovations.join(" "), p.keywords.join(" "));
            let mut terms: Vec<String> =
                engine.concepts(p.language, &text).into_iter().map(|c| c.replace('_', " ")).collect();
            if terms.is_empty() {
                terms = p.keywords.iter().map(|k| k.to_lowercase()).collect();
            }
            Some(Item { id: p.id, label: p.name, kind: ItemKind::Profile, language: p.language, terms, vector })
        })
        .collect();
    for (d, vector) in demands.into_iter().zip(demand_vectors) {
        let label = format!("{}: {}", d.organisation, d.title);
        items.push(Item { id: d.id, label, kind: ItemKind::Demand, language: d.language, terms: Vec::new(), vector });
    }
    Ok(match landscape::build(items, landscape::DEFAULT_SEED) {
        Ok(map) => LandscapePage::Map(map),
        Err(e) => LandscapePage::Unavailable(e.to_string()),
    })
}

/// The landscape map's name among the server's kept drawings.
const LANDSCAPE: &str = "landscape";

/// The landscape of the data as it is now, kept until profiles or demand areas change (drawing it
/// embeds every demand area).
async fn current_landscape(state: &web::Data<AppState>) -> Result<Arc<LandscapePage>, WebError> {
    let state = state.clone().into_inner();
    blocking(move || {
        let demands = state.engine.demands()?;
        let version =
            format!("{}:{}", state.engine.profiles_version()?, serde_json::to_string(&demands).unwrap_or_default());
        if let Some(page) = state.drawings.get::<LandscapePage>(LANDSCAPE, &version) {
            return Ok(page);
        }
        let page = Arc::new(draw_landscape(&state)?);
        state.drawings.put(LANDSCAPE, version, page.clone());
        Ok(page)
    })
    .await
}

/// `GET /landscape` (organisers only)
pub(crate) async fn landscape(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let page = {
        let _permit = ctx.state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
        current_landscape(&ctx.state).await?
    };
    let content = match page.as_ref() {
        LandscapePage::Unavailable(why) => html! { h1 { "Landscape" } p.error-summary { "No map yet: " (why) "." } },
        LandscapePage::Map(map) => {
            let profiles = map.items.iter().filter(|i| i.kind == ItemKind::Profile).count();
            html! {
                h1 { "Landscape" }
                p.lead {
                    (profiles) " profiles (dots) and " (map.items.len() - profiles) " demand areas (diamonds), "
                    "placed by the two main directions of their embeddings (PCA) and coloured by topic cluster (k-means). "
                    "Hover a point for its name."
                }
                div.map-and-legend {
                    figure.map id="landscape-map" { (landscape::render_svg(map)) }
                    aside.legend {
                        h2 { "Clusters" }
                        ol.plain id="clusters" {
                            @for (c, cluster) in map.clusters.iter().enumerate() {
                                li {
                                    svg.swatch xmlns="http://www.w3.org/2000/svg" viewBox="0 0 12 12" width="12" height="12" {
                                        circle cx="6" cy="6" r="6" fill=(PALETTE[c % PALETTE.len()]) {}
                                    }
                                    " " strong { (c + 1) } " " (cluster.terms.join(", "))
                                    " " span.muted { "(" (cluster.profiles) ")" }
                                }
                            }
                        }
                    }
                }
                h2 { "Supply around each demand area" }
                p.muted {
                    "Profiles within a tenth of the map's width, and the cosine similarity of the closest profile in the full "
                    "space (after removing each language's average, as the map does). Sparsest first: these demand areas sit in "
                    "empty space."
                }
                table.lineup id="demand-supply" {
                    thead { tr { th { "Demand area" } th { "Cluster" } th.num { "Profiles nearby" } th.num { "Closest cosine" } } }
                    tbody {
                        @for s in &map.demand_supply {
                            tr class=(if s.nearby_profiles == 0 { "sparse" } else { "" }) {
                                td { a href=(format!("/organiser/demands/{}", map.items[s.item].id)) { (map.items[s.item].label) } }
                                td { (map.points[s.item].cluster + 1) }
                                td.num { (s.nearby_profiles) }
                                td.num { (format!("{:.3}", s.best_cosine)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(organiser_page(&ctx, "Landscape", content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_filters_are_reported_not_fatal() {
        let req =
            actix_web::test::TestRequest::with_uri("/x?kind=company&theme=nope&min_trl=12&k=5&size=").to_http_request();
        let q = shortlist_query(&req);
        assert_eq!(q.filter.kind, Some(Kind::Company));
        assert_eq!(q.filter.theme, None);
        assert_eq!(q.filter.min_trl, None);
        assert_eq!(q.k, 5);
        assert_eq!(q.problems.len(), 2, "{:?}", q.problems);
    }
}
