//! The OEM reviewer's pages, in English and French (the OEMs are French): the demand areas of the
//! reviewer's organisation, and per demand area the shortlist as profile cards with three answers
//! (interested, maybe, not relevant) and a note. Plain forms, no JavaScript, CSRF-checked like
//! every page form; a reviewer never sees contact e-mails and reaches no other organisation's
//! demand area.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::layout::{layout, Nav};
use super::{blocking, see_other, PageContext, WebError};
use crate::domain::{Decision, DemandArea, Filter, Profile, Ranker, Verdict};
use crate::engine::for_reviewer;
use crate::rank::ShortlistEntry;

/// How many profiles a reviewer is shown per demand area: the pre-selection.
const PRESELECTION: usize = 10;

/// The page language: French when asked for (`?lang=fr`) or preferred by the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Fr,
}

impl Lang {
    fn of(ctx: &PageContext) -> Lang {
        let req = ctx.request();
        for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
            if k == "lang" {
                return if v == "fr" { Lang::Fr } else { Lang::En };
            }
        }
        if let Some(lang) = ctx.form.get("lang") {
            return if lang == "fr" { Lang::Fr } else { Lang::En };
        }
        let accept = req.headers().get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if accept.trim_start().to_ascii_lowercase().starts_with("fr") {
            Lang::Fr
        } else {
            Lang::En
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Every label of the review pages, in both languages.
    fn t(self, key: &str) -> &'static str {
        let (en, fr) = match key {
            "title" => ("Pre-selection review", "Revue de la présélection"),
            "areas" => ("Your demand areas", "Vos axes d'intérêt"),
            "none" => ("No demand areas for your organisation yet.", "Aucun axe d'intérêt pour votre organisation."),
            "decided" => ("decided", "décidés"),
            "of" => ("of", "sur"),
            "intro" => (
                "The organisers' pre-selection for this demand area. Say for each profile whether it interests you; your answers shape the final line-up.",
                "La présélection des organisateurs pour cet axe. Indiquez pour chaque profil s'il vous intéresse ; vos réponses orientent la sélection finale.",
            ),
            "interested" => ("Interested", "Intéressé"),
            "maybe" => ("Maybe", "Peut-être"),
            "not_relevant" => ("Not relevant", "Pas pertinent"),
            "note" => ("Note (optional)", "Remarque (facultative)"),
            "why" => ("Why it matches", "Pourquoi ce profil"),
            "innovations" => ("Innovations", "Innovations"),
            "current" => ("Your decision", "Votre décision"),
            "undecided" => ("Not decided yet", "Pas encore décidé"),
            "company" => ("Company", "Entreprise"),
            "knowledge_institution" => ("Knowledge institution", "Institut de recherche"),
            "back" => ("All demand areas", "Tous les axes"),
            "other" => ("English", "Français"),
            _ => ("", ""),
        };
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Fr,
            Lang::Fr => Lang::En,
        }
    }
}

fn page(ctx: &PageContext, lang: Lang, title: &str, content: Markup) -> HttpResponse {
    let body = layout(ctx, title, Nav::Reviewer, content);
    // The frame is English by default; the review pages say which language they are in.
    let html = body.into_string().replacen("<html lang=\"en\">", &format!("<html lang=\"{}\">", lang.code()), 1);
    ctx.page(StatusCode::OK, maud::PreEscaped(html))
}

/// `GET /review`: the reviewer's demand areas with how many profiles are decided.
pub(crate) async fn index(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let Some(organisation) = ctx.reviewer_organisation().map(str::to_string) else {
        return Ok(see_other("/organiser").finish());
    };
    let lang = Lang::of(&ctx);
    let state = ctx.state.clone().into_inner();
    let areas: Vec<(DemandArea, usize)> = blocking(move || {
        let mut out = Vec::new();
        for d in state.engine.demands()? {
            if crate::domain::same_organisation(&d.organisation, &organisation) {
                let decided = state.engine.decisions(&d.id)?.len();
                out.push((d, decided));
            }
        }
        Ok(out)
    })
    .await?;
    let content = html! {
        p.crumbs { a href=(format!("/review?lang={}", lang.other().code())) id="switch-lang" { (lang.other().t("other")) } }
        h1 { (lang.t("title")) }
        h2 { (lang.t("areas")) }
        @if areas.is_empty() { p.muted { (lang.t("none")) } }
        ul.plain id="review-areas" {
            @for (d, decided) in &areas {
                li {
                    a href=(format!("/review/demands/{}?lang={}", d.id, lang.code())) { (d.title) }
                    " " span.muted { "(" (decided) " " (lang.t("decided")) ")" }
                }
            }
        }
    };
    Ok(page(&ctx, lang, lang.t("title"), content))
}

struct Card {
    entry: ShortlistEntry,
    profile: Profile,
    decision: Option<Decision>,
}

/// The demand area, checked against the reviewer's organisation (a missing one is refused the same
/// way as another organisation's).
async fn own_demand(ctx: &PageContext, id: &str) -> Result<DemandArea, WebError> {
    let Some(organisation) = ctx.reviewer_organisation().map(str::to_string) else {
        return Err(WebError::Forbidden("Sign in with your reviewer token first.".into()));
    };
    let (state, wanted) = (ctx.state.clone().into_inner(), id.to_string());
    let demand = blocking(move || Ok(state.engine.demand(&wanted)?)).await?;
    match demand {
        Some(d) if crate::domain::same_organisation(&d.organisation, &organisation) => Ok(d),
        _ => Err(WebError::Forbidden("This demand area belongs to another organisation.".into())),
    }
}

fn card(c: &Card, demand_id: &str, lang: Lang, csrf: &str) -> Markup {
    let p = &c.profile;
    let current = c.decision.as_ref().map(|d| d.decision);
    html! {
        article.card.profile-card id=(format!("p-{}", p.id)) {
            h3 { (c.entry.rank) ". " (p.name) }
            p.muted {
                (lang.t(p.kind.as_str()))
                @if let Some(s) = p.size { " · " (s.as_str()) }
                @if let Some(city) = &p.city { " · " (city) }
                @if let Some(trl) = p.trl { " · TRL " (trl) }
            }
            p { (p.summary) }
            @if !p.innovations.is_empty() {
                h4 { (lang.t("innovations")) }
                ul { @for i in &p.innovations { li { (i) } } }
            }
            p.reason {
                strong { (lang.t("why")) ": " }
                @match lang {
                    Lang::Fr => (crate::rank::french::raison(&c.entry.explanation)),
                    Lang::En => (c.entry.explanation.reason),
                }
            }
            p.decision {
                strong { (lang.t("current")) ": " }
                span.verdict { @match current { Some(v) => (lang.t(v.as_str())), None => (lang.t("undecided")) } }
                @if let Some(note) = c.decision.as_ref().and_then(|d| d.note.as_deref()) { " — " em { (note) } }
            }
            form method="post" action=(format!("/review/demands/{demand_id}/decide")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="profile_id" value=(p.id);
                input type="hidden" name="lang" value=(lang.code());
                div.field {
                    label for=(format!("note-{}", p.id)) { (lang.t("note")) }
                    textarea id=(format!("note-{}", p.id)) name="note" rows="2" maxlength="1000" {
                        (c.decision.as_ref().and_then(|d| d.note.as_deref()).unwrap_or_default())
                    }
                }
                @for v in Verdict::ALL {
                    button type="submit" name="decision" value=(v.as_str())
                        class=(if current == Some(v) { "primary" } else { "" }) { (lang.t(v.as_str())) }
                    " "
                }
            }
        }
    }
}

/// `GET /review/demands/{id}`: the pre-selection as cards with the three answers.
pub(crate) async fn demand(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.reviewer_organisation().is_none() {
        return Ok(see_other("/organiser").finish());
    }
    let lang = Lang::of(&ctx);
    let demand = own_demand(&ctx, &id).await?;
    let state = ctx.state.clone().into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let (worker, demand_id) = (state.clone(), demand.id.clone());
    let cards: Vec<Card> = blocking(move || {
        let engine = &worker.engine;
        let list = engine.rank_demand(&demand_id, PRESELECTION, &Filter::default(), Ranker::default())?;
        let ids: Vec<String> = list.results.iter().map(|r| r.profile_id.clone()).collect();
        let mut profiles: HashMap<String, Profile> =
            engine.profiles_by_id(&ids)?.into_iter().map(|p| (p.id.clone(), for_reviewer(p))).collect();
        let mut decisions: HashMap<String, Decision> =
            engine.decisions(&demand_id)?.into_iter().map(|d| (d.profile_id.clone(), d)).collect();
        Ok(list
            .results
            .into_iter()
            .filter_map(|entry| {
                let profile = profiles.remove(&entry.profile_id)?;
                let decision = decisions.remove(&entry.profile_id);
                Some(Card { entry, profile, decision })
            })
            .collect())
    })
    .await?;
    let csrf = ctx.csrf.value().to_string();
    let content = html! {
        p.crumbs {
            a href=(format!("/review?lang={}", lang.code())) { (lang.t("back")) }
            " · "
            a href=(format!("/review/demands/{}?lang={}", demand.id, lang.other().code())) id="switch-lang" { (lang.other().t("other")) }
        }
        h1 { (demand.title) }
        p.muted { (demand.organisation) }
        p.description { (demand.description) }
        p { (lang.t("intro")) }
        div id="review-cards" { @for c in &cards { (card(c, &demand.id, lang, &csrf)) } }
    };
    Ok(page(&ctx, lang, &demand.title, content))
}

/// `POST /review/demands/{id}/decide`: records the reviewer's answer and goes back to the card.
pub(crate) async fn decide(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let demand = own_demand(&ctx, &id).await?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let lang = Lang::of(&ctx);
    let profile_id = ctx.form.get("profile_id").unwrap_or_default().to_string();
    let verdict = ctx
        .form
        .get("decision")
        .and_then(Verdict::parse)
        .ok_or_else(|| WebError::BadRequest("decision: must be interested, maybe or not_relevant".into()))?;
    let note = ctx.form.get("note").map(str::to_string).filter(|n| !n.trim().is_empty());
    let (state, who, demand_id, pid) =
        (ctx.state.clone().into_inner(), ctx.principal.clone(), demand.id.clone(), profile_id.clone());
    blocking(move || Ok(state.engine.record_decision(&demand_id, &pid, verdict, note.as_deref(), &who)?)).await?;
    let safe: String =
        profile_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    Ok(see_other(&format!("/review/demands/{}?lang={}#p-{safe}", demand.id, lang.code())).finish())
}
