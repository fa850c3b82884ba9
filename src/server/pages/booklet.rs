//! The profile booklet an organiser hands the OEM before a Co-Innovation Day: one card per
//! profile (who they are, what they offer, why they match the demand area), for an event's line-up
//! grouped by demand area or for one demand area's pre-selection. Made to be printed: each card
//! starts a new page, so Chromium's "Save as PDF" gives one page per profile. Contact data is left
//! out unless the organiser asks for it (`?contacts=1`): the booklet leaves the organisers' hands.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::organiser::{organiser_page, to_sign_in};
use super::{blocking, PageContext, WebError};
use crate::domain::{Filter, Profile, Ranker};
use crate::rank::ShortlistEntry;
use crate::select::SeasonRules;

/// Profiles in a demand area's booklet: the pre-selection a reviewer sees.
const DEMAND_BOOKLET_PROFILES: usize = 10;

/// One demand area's cards.
struct Section {
    title: String,
    organisation: String,
    cards: Vec<(ShortlistEntry, Profile)>,
}

fn wants_contacts(ctx: &PageContext) -> bool {
    form_urlencoded::parse(ctx.request().query_string().as_bytes()).any(|(k, v)| k == "contacts" && v == "1")
}

/// The entries of `wanted` profile ids (in that order) from demand area `demand_id`'s ranking, with
/// their profiles.
fn cards_for(
    engine: &crate::Engine,
    demand_id: &str,
    depth: usize,
    wanted: Option<&[String]>,
) -> crate::Result<Vec<(ShortlistEntry, Profile)>> {
    let list = engine.rank_demand(demand_id, depth, &Filter::default(), Ranker::default())?;
    let mut entries: Vec<ShortlistEntry> = match wanted {
        Some(ids) => {
            let mut by_id: HashMap<String, ShortlistEntry> =
                list.results.into_iter().map(|e| (e.profile_id.clone(), e)).collect();
            ids.iter().filter_map(|id| by_id.remove(id)).collect()
        }
        None => list.results,
    };
    let ids: Vec<String> = entries.iter().map(|e| e.profile_id.clone()).collect();
    let mut profiles: HashMap<String, Profile> =
        engine.profiles_by_id(&ids)?.into_iter().map(|p| (p.id.clone(), p)).collect();
    Ok(entries.drain(..).filter_map(|e| profiles.remove(&e.profile_id).map(|p| (e, p))).collect())
}

fn card(entry: &ShortlistEntry, p: &Profile, demand_title: &str, contacts: bool) -> Markup {
    html! {
        article.booklet-card id=(format!("b-{}", p.id)) {
            p.muted { (demand_title) }
            h2 { (p.name) }
            p.muted {
                (p.kind.as_str().replace('_', " "))
                @if let Some(s) = p.size { " · " (s.as_str()) }
                @if let Some(city) = &p.city { " · " (city) }
                @if let Some(trl) = p.trl { " · TRL " (trl) }
                " · " (p.language)
            }
            p { (p.summary) }
            @if !p.innovations.is_empty() {
                h3 { "Innovations" }
                ul { @for i in &p.innovations { li { (i) } } }
            }
            @if !p.keywords.is_empty() { p { strong { "Keywords: " } (p.keywords.join(", ")) } }
            p.reason { strong { "Why it matches: " } (entry.explanation.reason) }
            @if contacts {
                p.contact {
                    @if let Some(email) = &p.contact_email { strong { "Contact: " } (email) }
                    @if let Some(site) = &p.website { " · " (site) }
                }
            }
        }
    }
}

fn booklet(ctx: &PageContext, title: &str, self_path: &str, sections: &[Section]) -> HttpResponse {
    let contacts = wants_contacts(ctx);
    let count: usize = sections.iter().map(|s| s.cards.len()).sum();
    let content = html! {
        div.no-print {
            p.crumbs { a href="/organiser" { "Dashboard" } }
            p {
                (count) " profiles, one per printed page. Print this page (Ctrl+P, or ⌘P) and choose "
                "“Save as PDF” for a booklet to send the OEM. "
                @if contacts {
                    "Contact data is included. " a href=(self_path) id="booklet-without-contacts" { "Leave it out" }
                } @else {
                    "Contact data is left out. " a href=(format!("{self_path}?contacts=1")) id="booklet-with-contacts" { "Include it" }
                }
            }
        }
        h1 { (title) }
        div id="booklet" {
            @for s in sections {
                @for (entry, profile) in &s.cards {
                    (card(entry, profile, &format!("{} · {}", s.organisation, s.title), contacts))
                }
            }
        }
    };
    organiser_page(ctx, title, content)
}

/// Runs `work` on the engine off the async workers, holding a ranking permit (a booklet ranks
/// and may solve a line-up).
async fn ranking_work<T: Send + 'static>(
    ctx: &PageContext,
    work: impl FnOnce(&crate::Engine) -> crate::Result<T> + Send + 'static,
) -> Result<T, WebError> {
    let state = ctx.state.clone().into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let worker = state.clone();
    blocking(move || Ok(work(&worker.engine)?)).await
}

/// `GET /organiser/events/{id}/booklet`: the event's line-up, grouped by demand area.
pub(crate) async fn event(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let id = id.into_inner();
    let path = format!("/organiser/events/{id}/booklet");
    let (title, sections) = ranking_work(&ctx, move |engine| {
        let event = engine
            .event(&id)?
            .ok_or_else(|| crate::Error::from(crate::UserError::NotFound { kind: "event", id: id.clone() }))?;
        let pitches = engine.event_pitches(&id, None)?;
        let mut sections = Vec::new();
        for demand_id in &event.demand_ids {
            let Some(demand) = engine.demand(demand_id)? else { continue };
            let wanted: Vec<String> =
                pitches.iter().filter(|p| &p.demand_id == demand_id).map(|p| p.profile_id.clone()).collect();
            if wanted.is_empty() {
                continue;
            }
            let cards = cards_for(engine, demand_id, SeasonRules::default().top_n, Some(&wanted))?;
            sections.push(Section { title: demand.title, organisation: demand.organisation, cards });
        }
        let title = event.title.clone().filter(|t| !t.is_empty()).unwrap_or(event.id);
        Ok((format!("Profile booklet · {title}"), sections))
    })
    .await?;
    Ok(booklet(&ctx, &title, &path, &sections))
}

/// `GET /organiser/demands/{id}/booklet`: one demand area's pre-selection.
pub(crate) async fn demand(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let id = id.into_inner();
    let (title, path, sections) = ranking_work(&ctx, move |engine| {
        let demand = engine
            .demand(&id)?
            .ok_or_else(|| crate::Error::from(crate::UserError::NotFound { kind: "demand area", id: id.clone() }))?;
        let cards = cards_for(engine, &id, DEMAND_BOOKLET_PROFILES, None)?;
        let title = format!("Profile booklet · {}", demand.title);
        let path = format!("/organiser/demands/{}/booklet", demand.id);
        Ok((title, path, vec![Section { title: demand.title, organisation: demand.organisation, cards }]))
    })
    .await?;
    Ok(booklet(&ctx, &title, &path, &sections))
}
