//! The organiser's event page, where a line-up is curated: it shows the kept line-up (draft or
//! final) with reserves, "why not" and what the OEM's reviewers said, what moved in the last change
//! and why, and the pins, locks and bans in force. Every action (pin, lock, ban for the event or
//! the season, swap for a reserve, lock all, mark final, reopen) is one form that changes the
//! stored rules through the engine, solves again and comes back here. The season page holds the
//! rules shared by every event: events per profile, decay, conflicts of interest, season bans.

use std::collections::{HashMap, HashSet};

use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::layout::{ban_form, button_form};
use super::organiser::{organiser_page, to_sign_in};
use super::{blocking, csv_download, see_other, CsrfToken, PageContext, WebError};
use crate::domain::{DemandArea, Event, EventRule, EventRuleKind, SeasonSettings, Verdict};
use crate::render::write_selection_csv;
use crate::select::{LineUpRecord, LineUpStatus, MoveKind, Pitch};
use crate::server::AppState;

/// Everything the event page shows, read in one blocking step.
struct EventView {
    event: Event,
    demands: Vec<DemandArea>,
    record: Option<LineUpRecord>,
    rules: Vec<EventRule>,
    verdicts: HashMap<(String, String), Verdict>,
    names: HashMap<String, String>,
}

fn read_event(state: &AppState, id: &str) -> Result<EventView, WebError> {
    let engine = &state.engine;
    let event = engine.event(id)?.ok_or_else(|| WebError::NotFound(format!("No event {id:?}.")))?;
    let mut demands = Vec::new();
    for d in &event.demand_ids {
        if let Some(demand) = engine.demand(d)? {
            demands.push(demand);
        }
    }
    let record = engine.line_up(id)?;
    let rules = engine.event_rules(id)?;
    let mut verdicts = HashMap::new();
    for d in &event.demand_ids {
        for (profile, verdict) in engine.verdicts(d)? {
            verdicts.insert((d.clone(), profile), verdict);
        }
    }
    let mut ids: Vec<String> = rules.iter().map(|r| r.profile_id.clone()).collect();
    ids.extend(verdicts.keys().map(|(_, p)| p.clone()));
    if let Some(r) = &record {
        let sel = &r.selection;
        ids.extend(sel.selected.iter().chain(&sel.reserves).map(|p| p.profile_id.clone()));
        ids.extend(sel.left_out.iter().map(|l| l.profile_id.clone()));
        ids.extend(r.moves.iter().map(|m| m.profile_id.clone()));
    }
    ids.sort();
    ids.dedup();
    let names = engine.profiles_by_id(&ids)?.into_iter().map(|p| (p.id, p.name)).collect();
    Ok(EventView { event, demands, record, rules, verdicts, names })
}

pub(crate) fn event_header(event: &Event, demands: &[DemandArea]) -> Markup {
    html! {
        p.crumbs { a href="/organiser" { "Dashboard" } " › " (event.organisation) }
        h1 { (event.title.as_deref().unwrap_or(&event.id)) }
        p.muted {
            (event.hosts().collect::<Vec<_>>().join(", ")) " · " (event.slots) " pitch slots"
            @if let Some(d) = &event.date { " · " (d) }
        }
        @let quotas = [
            (event.min_sme_or_startup, "at least {} start-ups/SMEs"),
            (event.min_knowledge_institutions, "at least {} knowledge institutions"),
            (event.max_knowledge_institutions, "at most {} knowledge institutions"),
            (event.max_per_theme, "at most {} per theme"),
        ];
        @if quotas.iter().any(|(v, _)| v.is_some()) {
            p id="event-quotas" {
                "Quotas: "
                (quotas.iter().filter_map(|(v, f)| v.map(|n| f.replace("{}", &n.to_string()))).collect::<Vec<_>>().join(" · "))
            }
        }
        @if !event.pitch_languages.is_empty() {
            p id="event-pitch-languages" {
                "Pitches in: "
                (event.pitch_languages.iter().map(|l| l.code()).collect::<Vec<_>>().join(", "))
                span.muted { " (profiles whose team pitches in none of these are not proposed)" }
            }
        }
        h2 { "Demand areas" }
        ul.plain {
            @for d in demands {
                li { a href=(format!("/organiser/demands/{}", d.id)) { (d.title) } " " span.muted { "(" (d.id) ")" } }
            }
        }
    }
}

fn status_line(record: &LineUpRecord) -> Markup {
    html! {
        @match record.status {
            LineUpStatus::Final => p.notice id="line-up-status" {
                strong { "Final line-up" } " · solved " (record.solved_at) " by " (record.solved_by)
                @if let (Some(by), Some(at)) = (&record.finalised_by, &record.finalised_at) { " · final since " (at) " (" (by) ")" }
                br;
                span.muted {
                    "Kept with the inputs it was solved from: " (record.inputs.event.demands.len()) " demand area rankings, "
                    (record.inputs.profiles.len()) " candidate profiles, " (record.inputs.rules.pins.len()) " pins and locks, "
                    (record.inputs.rules.bans.len()) " bans, " (record.inputs.rules.conflicts.len()) " conflicts, decay "
                    (record.inputs.rules.decay) ". Reopen it to change anything."
                }
            },
            LineUpStatus::Draft => p.muted id="line-up-status" {
                "Draft line-up · solved " (record.solved_at) " by " (record.solved_by)
            },
        }
    }
}

/// `GET /organiser/events/{id}`
pub(crate) async fn event(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let (state, id) = (ctx.state.clone().into_inner(), id.into_inner());
    let view = blocking(move || read_event(&state, &id)).await?;
    Ok(organiser_page(&ctx, "Event", render_event(&ctx, &view)))
}

fn render_event(ctx: &PageContext, view: &EventView) -> Markup {
    let EventView { event, demands, record, rules, verdicts, names } = view;
    let csrf = &ctx.csrf;
    let eid = event.id.as_str();
    let rule_url = format!("/organiser/events/{eid}/rule");
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let titles: HashMap<&str, &str> = demands.iter().map(|d| (d.id.as_str(), d.title.as_str())).collect();
    let title = |id: &str| titles.get(id).map_or_else(|| id.to_string(), |t| t.to_string());
    let rule_of: HashMap<&str, &EventRule> = rules.iter().map(|r| (r.profile_id.as_str(), r)).collect();
    let verdict =
        |p: &Pitch| verdicts.get(&(p.demand_id.clone(), p.profile_id.clone())).map(|v| v.as_str().replace('_', " "));
    let draft = record.as_ref().is_none_or(|r| r.status == LineUpStatus::Draft);
    let links = html! {
        p {
            a.button href=(format!("/organiser/events/{eid}/agenda")) id="plan-agenda" { "Plan the day's agenda" }
            " " a.button href=(format!("/organiser/events/{eid}/booklet")) id="event-booklet" { "Profile booklet for the OEM" }
            " " a.button href=(format!("/organiser/events/{eid}/edit")) id="edit-event" { "Edit the event" }
            " " a.button href="/organiser/season" id="season-rules" { "Season rules" }
        }
    };
    let run = |again: bool| {
        button_form(
            &format!("/organiser/events/{eid}/selection"),
            csrf,
            &[],
            "run-selection",
            if again { "Run the selection again" } else { "Run the selection" },
        )
    };
    let Some(record) = record else {
        return html! {
            (event_header(event, demands))
            p { "Solves the optimal line-up for this event (ILP over the demand areas' shortlists), with reserves and why strong candidates were left out. Pins, locks and bans set here are kept for every later run." }
            (run(false))
            (rules_table(eid, csrf, rules, &name, &title, draft))
            (links)
        };
    };
    let sel = &record.selection;
    let reserves: Vec<&Pitch> = sel.reserves.iter().collect();
    // The line-up and the reserves: the same table under two ids; the actions differ.
    let pitch_table = |table_id: &str, list: &[Pitch], in_line_up: bool| {
        html! {
            table.lineup id=(table_id) {
                thead { tr { th { "#" } th { "Profile" } th { "Demand area" } th { "Value" } th { "Rank" } th { "Reviewer" } @if draft { th { "Curate" } } } }
                tbody {
                    @for (i, p) in list.iter().enumerate() {
                        @let rule = rule_of.get(p.profile_id.as_str()).map(|r| r.kind);
                        tr id=(format!("{table_id}-{}", p.profile_id)) {
                            td { (i + 1) }
                            td { strong { (name(&p.profile_id)) } br; span.muted { (p.profile_id) } }
                            td { (title(&p.demand_id)) }
                            td.num { (format!("{:.3}", p.value)) }
                            td {
                                (p.rank.map(|r| format!("#{r}")).unwrap_or_default())
                                @match rule { Some(EventRuleKind::Lock) => " locked", Some(EventRuleKind::Pin) => " pinned", _ => @if p.pinned { " pinned" } }
                            }
                            td.decision { (verdict(p).unwrap_or_default()) }
                            @if draft {
                                td.actions {
                                    @if in_line_up {
                                        @if rule == Some(EventRuleKind::Lock) {
                                            (button_form(&rule_url, csrf, &[("profile_id", &p.profile_id), ("action", "lift")], &format!("unlock-{}", p.profile_id), "Unlock"))
                                        } @else {
                                            (button_form(&rule_url, csrf, &[("profile_id", &p.profile_id), ("action", "lock"), ("demand_id", &p.demand_id)], &format!("lock-{}", p.profile_id), "Lock"))
                                        }
                                        @if !reserves.is_empty() {
                                            form.inline method="post" action=(format!("/organiser/events/{eid}/swap")) {
                                                input type="hidden" name="csrf" value=(csrf.value());
                                                input type="hidden" name="out" value=(p.profile_id);
                                                select name="into" id=(format!("swap-into-{}", p.profile_id)) {
                                                    @for r in &reserves { option value=(r.profile_id) { (name(&r.profile_id)) } }
                                                }
                                                button type="submit" id=(format!("swap-{}", p.profile_id)) { "Swap" }
                                            }
                                        }
                                    } @else {
                                        (button_form(&rule_url, csrf, &[("profile_id", &p.profile_id), ("action", "pin"), ("demand_id", &p.demand_id)], &format!("pin-{}", p.profile_id), "Pin"))
                                    }
                                    (ban_form(eid, csrf, &p.profile_id, ""))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    // The OEM's "interested" on a profile the line-up leaves out is a request to pin it.
    let in_line_up: HashSet<(&str, &str)> =
        sel.selected.iter().map(|p| (p.demand_id.as_str(), p.profile_id.as_str())).collect();
    let mut requests: Vec<(&String, &String)> = verdicts
        .iter()
        .filter(|((d, p), v)| **v == Verdict::Interested && !in_line_up.contains(&(d.as_str(), p.as_str())))
        .filter(|((_, p), _)| !rule_of.contains_key(p.as_str()))
        .map(|((d, p), _)| (d, p))
        .collect();
    requests.sort();
    html! {
        (event_header(event, demands))
        h2 { "Line-up" }
        (status_line(record))
        p.muted id="selection-summary" {
            (sel.selected.len()) " of " (event.slots) " slots filled · objective " (format!("{:.3}", sel.objective))
            " (the sum of each pitch's value, the j-th pitch of a demand area counted at decay^(j-1))"
            " · " (if sel.optimal { "proven optimal" } else { "not proven optimal" })
        }
        p {
            a.button href=(format!("/organiser/events/{eid}/selection.csv")) id="selection-csv" download { "Export CSV" }
            @if draft {
                " " (run(true))
                " " (button_form(&format!("/organiser/events/{eid}/lock-all"), csrf, &[], "lock-all", "Lock every pitch"))
                " " (button_form(&format!("/organiser/events/{eid}/final"), csrf, &[], "mark-final", "Mark final"))
            } @else {
                " " (button_form(&format!("/organiser/events/{eid}/reopen"), csrf, &[], "reopen", "Reopen as draft"))
            }
        }
        @if !record.moves.is_empty() {
            section.card id="moves" {
                h3 { "What moved in the last change" }
                ul {
                    @for m in &record.moves {
                        li {
                            strong { (match m.kind { MoveKind::In => "In: ", MoveKind::Out => "Out: ", MoveKind::Moved => "Moved: " }) }
                            (name(&m.profile_id)) " (" (title(&m.demand_id)) ") — " (m.why)
                        }
                    }
                }
            }
        }
        @if !sel.unmet.is_empty() {
            div.error-summary { strong { "Unmet: " } ul { @for u in &sel.unmet { li { (u) } } } }
        }
        (pitch_table("lineup", &sel.selected, true))
        @if !requests.is_empty() && draft {
            h2 { "Pin requests" }
            p.muted { "The OEM marked these profiles interested, but the line-up leaves them out. Accepting one pins it to its demand area and solves again." }
            table.lineup id="pin-requests" {
                thead { tr { th { "Profile" } th { "Demand area" } th { "" } } }
                tbody {
                    @for (d, p) in &requests {
                        tr {
                            td { strong { (name(p)) } br; span.muted { (p) } }
                            td { (title(d)) }
                            td { (button_form(&rule_url, csrf, &[("profile_id", p), ("action", "pin"), ("demand_id", d)], &format!("accept-{p}"), "Accept: pin it")) }
                        }
                    }
                }
            }
        }
        h2 { "Reserves" }
        @if sel.reserves.is_empty() { p.muted { "No reserves." } }
        @else { (pitch_table("reserves", &sel.reserves, false)) }
        h2 { "Why not?" }
        @if sel.left_out.is_empty() { p.muted { "No strong candidate was left out." } }
        @else {
            table.lineup id="why-not" {
                thead { tr { th { "Profile" } th { "Demand area" } th { "Rank" } th { "Why not" } } }
                tbody {
                    @for l in &sel.left_out {
                        tr {
                            td { strong { (name(&l.profile_id)) } br; span.muted { (l.profile_id) } }
                            td { (title(&l.demand_id)) }
                            td { "#" (l.rank) }
                            td { (l.detail) }
                        }
                    }
                }
            }
        }
        (rules_table(eid, csrf, rules, &name, &title, draft))
        (links)
    }
}

fn rules_table(
    eid: &str,
    csrf: &CsrfToken,
    rules: &[EventRule],
    name: &dyn Fn(&str) -> String,
    title: &dyn Fn(&str) -> String,
    draft: bool,
) -> Markup {
    html! {
        h2 { "Pins, locks and bans" }
        @if rules.is_empty() {
            p.muted id="no-event-rules" { "None yet: pin a profile from a shortlist or the reserves, lock or ban one from the line-up." }
        } @else {
            table.lineup id="event-rules" {
                thead { tr { th { "Profile" } th { "Rule" } th { "Demand area" } th { "Reason" } th { "Set by" } @if draft { th { "" } } } }
                tbody {
                    @for r in rules {
                        tr id=(format!("rule-{}", r.profile_id)) {
                            td { strong { (name(&r.profile_id)) } br; span.muted { (r.profile_id) } }
                            td { (r.kind.as_str()) }
                            td { (r.demand_id.as_deref().map(title).unwrap_or_else(|| "any".into())) }
                            td { (r.reason.as_deref().unwrap_or("")) }
                            td.muted { (r.set_by) " · " (r.set_at) }
                            @if draft {
                                td { (button_form(&format!("/organiser/events/{eid}/rule"), csrf, &[("profile_id", &r.profile_id), ("action", "lift")], &format!("lift-{}", r.profile_id), "Lift")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Solves event `id` from its stored rules under a ranking permit and keeps the draft.
async fn solve(ctx: &PageContext, id: &str) -> Result<LineUpRecord, WebError> {
    let state = ctx.state.clone().into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let (worker, id, who) = (state.clone(), id.to_string(), ctx.principal.clone());
    blocking(move || Ok(worker.engine.solve_line_up(&id, &who)?)).await
}

fn back_to(id: &str) -> HttpResponse {
    see_other(&format!("/organiser/events/{id}")).finish()
}

/// `POST /organiser/events/{id}/selection`: solves the event from its stored rules.
pub(crate) async fn run_selection(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    solve(&ctx, &id).await?;
    Ok(back_to(&id))
}

/// `POST /organiser/events/{id}/rule` (`profile_id`, `action` = pin | lock | ban | ban-season |
/// lift, `demand_id`, `reason`): changes one profile's rule, then solves again.
pub(crate) async fn set_rule(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let id = id.into_inner();
    let profile = ctx.required_field("profile_id")?.to_string();
    let action = ctx.required_field("action")?.to_string();
    let demand = ctx.form.get("demand_id").map(str::to_string);
    let reason = ctx.form.get("reason").map(str::to_string);
    let (state, who, event_id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), id.clone());
    blocking(move || {
        let engine = &state.engine;
        let kind = match action.as_str() {
            "pin" => EventRuleKind::Pin,
            "lock" => EventRuleKind::Lock,
            "ban" => EventRuleKind::Ban,
            "ban-season" => {
                engine.ban_for_season(&profile, reason.as_deref(), &who)?;
                return Ok(());
            }
            "lift" => {
                engine.remove_event_rule(&event_id, &profile, &who)?;
                return Ok(());
            }
            other => return Err(WebError::BadRequest(format!("action: unknown action {other:?}"))),
        };
        engine.set_event_rule(&event_id, &profile, kind, demand.as_deref(), reason.as_deref(), &who)?;
        Ok(())
    })
    .await?;
    solve(&ctx, &id).await?;
    Ok(back_to(&id))
}

/// `POST /organiser/events/{id}/swap` (`out`, `into`): swaps a pitch for a reserve.
pub(crate) async fn swap(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let id = id.into_inner();
    let (out, into) = (ctx.required_field("out")?.to_string(), ctx.required_field("into")?.to_string());
    let state = ctx.state.clone().into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let (worker, who, event_id) = (state.clone(), ctx.principal.clone(), id.clone());
    blocking(move || Ok(worker.engine.swap_pitch(&event_id, &out, &into, &who)?)).await?;
    Ok(back_to(&id))
}

/// `POST /organiser/events/{id}/lock-all`: locks every pitch of the draft.
pub(crate) async fn lock_all(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (state, who, event_id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), id.to_string());
    blocking(move || Ok(state.engine.lock_line_up(&event_id, &who)?)).await?;
    Ok(back_to(&id))
}

/// `POST /organiser/events/{id}/final`: marks the draft final.
pub(crate) async fn finalise(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (state, who, event_id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), id.to_string());
    blocking(move || Ok(state.engine.finalise_line_up(&event_id, &who)?)).await?;
    Ok(back_to(&id))
}

/// `POST /organiser/events/{id}/reopen`: reopens a final line-up as a draft.
pub(crate) async fn reopen(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (state, who, event_id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), id.to_string());
    blocking(move || Ok(state.engine.reopen_line_up(&event_id, &who)?)).await?;
    Ok(back_to(&id))
}

/// `GET /organiser/events/{id}/selection.csv` — the kept line-up and reserves (solved and kept
/// first when the event has none yet).
pub(crate) async fn selection_csv(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    let id = id.into_inner();
    let (state, event_id) = (ctx.state.clone().into_inner(), id.clone());
    let record = match blocking(move || Ok(state.engine.line_up(&event_id)?)).await? {
        Some(r) => r,
        None => solve(&ctx, &id).await?,
    };
    let mut out = Vec::new();
    write_selection_csv(std::slice::from_ref(&record.selection), &mut out)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(csv_download(&format!("selection-{id}.csv"), out))
}

/// `GET /organiser/season`: the rules every event shares.
pub(crate) async fn season(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let state = ctx.state.clone().into_inner();
    let (settings, conflicts, bans, names) = blocking(move || {
        let engine = &state.engine;
        let (conflicts, bans) = (engine.conflicts()?, engine.season_bans()?);
        let ids: Vec<String> =
            conflicts.iter().map(|c| c.profile_id.clone()).chain(bans.iter().map(|b| b.profile_id.clone())).collect();
        let names: HashMap<String, String> = engine.profiles_by_id(&ids)?.into_iter().map(|p| (p.id, p.name)).collect();
        Ok((engine.season_settings()?, conflicts, bans, names))
    })
    .await?;
    let error = ctx.request().query_string().contains("error=settings");
    Ok(organiser_page(&ctx, "Season rules", render_season(&ctx.csrf, &settings, error, &conflicts, &bans, &names)))
}

fn render_season(
    csrf: &CsrfToken,
    settings: &SeasonSettings,
    error: bool,
    conflicts: &[crate::domain::ProfileConflict],
    bans: &[crate::domain::SeasonBan],
    names: &HashMap<String, String>,
) -> Markup {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    html! {
        p.crumbs { a href="/organiser" { "Dashboard" } " › Season rules" }
        h1 { "Season rules" }
        p.lead { "Rules every event's line-up is solved with. A change applies the next time an event is solved; final line-ups stay as they are." }
        form id="season-form" method="post" action="/organiser/season" {
            input type="hidden" name="csrf" value=(csrf.value());
            label for="f-max_events_per_profile" { "Events per profile in the season" }
            input type="number" id="f-max_events_per_profile" name="max_events_per_profile" min="1" max="100" value=(settings.max_events_per_profile);
            p.muted { "A profile in the final line-ups of this many other events is not proposed again." }
            label for="f-decay" { "Decay" }
            input type="text" id="f-decay" name="decay" value=(settings.decay);
            p.muted { "The j-th pitch of a demand area is worth value × decay^(j-1): lower spreads the slots over more demand areas." }
            @if error { p.field-error id="e-season" { "Events per profile must be 1-100 and decay a number above 0 and at most 1." } }
            button.primary type="submit" id="save-season" { "Save season rules" }
        }
        h2 { "Conflicts of interest" }
        p.muted { "A profile in conflict with an organisation (for example an existing supplier, or a competitor in the same group) is not proposed to that organisation's events or demand areas." }
        @if conflicts.is_empty() { p.muted id="no-conflicts" { "None recorded." } }
        @else {
            table.lineup id="conflicts" {
                thead { tr { th { "Profile" } th { "Organisation" } th { "Reason" } th { "" } } }
                tbody {
                    @for c in conflicts {
                        tr {
                            td { strong { (name(&c.profile_id)) } br; span.muted { (c.profile_id) } }
                            td { (c.organisation) }
                            td { (c.reason.as_deref().unwrap_or("")) }
                            td { (button_form("/organiser/season/conflicts/remove", csrf, &[("profile_id", &c.profile_id), ("organisation", &c.organisation)], &format!("remove-conflict-{}", c.profile_id), "Remove")) }
                        }
                    }
                }
            }
        }
        form id="conflict-form" method="post" action="/organiser/season/conflicts" {
            input type="hidden" name="csrf" value=(csrf.value());
            label for="f-conflict-profile" { "Profile id" }
            input type="text" id="f-conflict-profile" name="profile_id" required;
            label for="f-conflict-organisation" { "Organisation" }
            input type="text" id="f-conflict-organisation" name="organisation" required maxlength="300";
            label for="f-conflict-reason" { "Reason" }
            input type="text" id="f-conflict-reason" name="reason" maxlength="300";
            button type="submit" id="add-conflict" { "Record the conflict" }
        }
        h2 { "Banned for the season" }
        @if bans.is_empty() { p.muted id="no-season-bans" { "Nobody." } }
        @else {
            table.lineup id="season-bans" {
                thead { tr { th { "Profile" } th { "Reason" } th { "Set by" } th { "" } } }
                tbody {
                    @for b in bans {
                        tr {
                            td { strong { (name(&b.profile_id)) } br; span.muted { (b.profile_id) } }
                            td { (b.reason.as_deref().unwrap_or("")) }
                            td.muted { (b.set_by) " · " (b.set_at) }
                            td { (button_form("/organiser/season/bans/lift", csrf, &[("profile_id", &b.profile_id)], &format!("lift-season-ban-{}", b.profile_id), "Lift")) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /organiser/season` (`max_events_per_profile`, `decay`)
pub(crate) async fn save_season(ctx: PageContext) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let parsed = (
        ctx.form.get("max_events_per_profile").and_then(|v| v.trim().parse::<u32>().ok()),
        ctx.form.get("decay").and_then(|v| v.trim().parse::<f64>().ok()),
    );
    let (Some(max_events_per_profile), Some(decay)) = parsed else {
        return Ok(see_other("/organiser/season?error=settings").finish());
    };
    let settings = SeasonSettings { max_events_per_profile, decay };
    if !settings.violations().is_empty() {
        return Ok(see_other("/organiser/season?error=settings").finish());
    }
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.set_season_settings(&settings, &who)?)).await?;
    Ok(see_other("/organiser/season").finish())
}

/// `POST /organiser/season/conflicts` (`profile_id`, `organisation`, `reason`)
pub(crate) async fn add_conflict(ctx: PageContext) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (profile, organisation) =
        (ctx.required_field("profile_id")?.to_string(), ctx.required_field("organisation")?.to_string());
    let reason = ctx.form.get("reason").map(str::to_string);
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.set_conflict(&profile, &organisation, reason.as_deref(), &who)?)).await?;
    Ok(see_other("/organiser/season").finish())
}

/// `POST /organiser/season/conflicts/remove` (`profile_id`, `organisation`)
pub(crate) async fn remove_conflict(ctx: PageContext) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (profile, organisation) =
        (ctx.required_field("profile_id")?.to_string(), ctx.required_field("organisation")?.to_string());
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.remove_conflict(&profile, &organisation, &who)?)).await?;
    Ok(see_other("/organiser/season").finish())
}

/// `POST /organiser/season/bans/lift` (`profile_id`)
pub(crate) async fn lift_season_ban(ctx: PageContext) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let profile = ctx.required_field("profile_id")?.to_string();
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.lift_season_ban(&profile, &who)?)).await?;
    Ok(see_other("/organiser/season").finish())
}
