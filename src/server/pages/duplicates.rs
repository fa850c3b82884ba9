//! The organisers' duplicates page: pairs of profiles that are likely one organisation, side by
//! side with the evidence, each settled with one button: merge one into the other (the other's
//! reviewer decisions carried over, the copy erased) or mark the pair distinct.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::html;

use super::layout::{layout, Nav};
use super::{blocking, see_other, PageContext, WebError};
use crate::engine::PairMember;

fn member(m: &PairMember) -> maud::Markup {
    html! {
        div.member {
            h3 { (m.name) " " small { code { (m.id) } } }
            p.muted {
                (m.language.code())
                @if let Some(c) = &m.city { " · " (c) }
                @if m.decisions > 0 { " · " (m.decisions) " reviewer decision(s)" }
            }
            p { (m.summary) }
        }
    }
}

/// `GET /organiser/duplicates`
pub(crate) async fn list(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(see_other("/organiser").finish());
    }
    let state = ctx.state.clone().into_inner();
    let pairs = blocking(move || Ok(state.engine.likely_duplicates()?)).await?;
    let csrf = &ctx.csrf;
    let body = layout(
        &ctx,
        "Likely duplicates",
        Nav::Organiser,
        html! {
            h1 { "Likely duplicates" }
            p.lead id="duplicates-count" {
                (pairs.len()) " pair(s) of profiles that are likely one organisation: alike names, one website or "
                "company e-mail domain, or similar names with texts that say the same. Merging keeps one profile, "
                "moves the other's reviewer decisions to it (where it has none for that demand area) and erases the other."
            }
            @for p in &pairs {
                @let (a, b) = (&p.first.id, &p.second.id);
                section.card.pair id=(format!("pair-{a}-{b}")) {
                    p.why { "Why: " (p.reasons.join("; ")) }
                    div.row { (member(&p.first)) (member(&p.second)) }
                    @for (keep, remove) in [(a, b), (b, a)] {
                        form.inline method="post" action="/organiser/duplicates/merge" {
                            input type="hidden" name="csrf" value=(csrf.value());
                            input type="hidden" name="keep" value=(keep);
                            input type="hidden" name="remove" value=(remove);
                            button.primary type="submit" id=(format!("merge-{remove}-into-{keep}")) {
                                "Keep " (keep) ", merge the other into it"
                            }
                        }
                        " "
                    }
                    form.inline method="post" action="/organiser/duplicates/distinct" {
                        input type="hidden" name="csrf" value=(csrf.value());
                        input type="hidden" name="first" value=(a);
                        input type="hidden" name="second" value=(b);
                        button type="submit" id=(format!("distinct-{a}-{b}")) { "Different organisations" }
                    }
                }
            }
        },
    );
    Ok(ctx.page(StatusCode::OK, body))
}

/// `POST /organiser/duplicates/merge` (`keep`, `remove`)
pub(crate) async fn merge(ctx: PageContext) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (keep, remove) = (ctx.required_field("keep")?.to_string(), ctx.required_field("remove")?.to_string());
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.merge_profiles(&keep, &remove, &who)?)).await?;
    Ok(see_other("/organiser/duplicates").finish())
}

/// `POST /organiser/duplicates/distinct` (`first`, `second`)
pub(crate) async fn distinct(ctx: PageContext) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (first, second) = (ctx.required_field("first")?.to_string(), ctx.required_field("second")?.to_string());
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.mark_distinct(&first, &second, &who)?)).await?;
    Ok(see_other("/organiser/duplicates").finish())
}
