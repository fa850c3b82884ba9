//! The day's agenda in the organiser pages: the event's line-up as a timetable with its settings
//! in a plain GET form (so a planned day is a link an organiser can share or bookmark), a printable
//! layout, the same agenda as iCalendar and CSV downloads, and buttons that move a pitch (among
//! its demand area's) or a demand area (within its room) a place earlier or later.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::layout::button_form;
use super::organiser::{organiser_page, to_sign_in};
use super::{blocking, csv_download, secured, see_other, CsrfToken, PageContext, WebError};
use crate::agenda::{Agenda, AgendaItem, DayPlan, Direction, ItemKind};
use crate::engine::AgendaMove;

/// The day's settings from the query string; defaults for what is missing, numbers that do not
/// parse kept as text so the form shows them back with their error.
fn day_plan(query: &str) -> (DayPlan, Vec<(&'static str, String)>) {
    let mut plan = DayPlan::on("");
    let mut problems = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        let mut number = |field: &'static str, slot: &mut u32| match value.parse::<u32>() {
            Ok(n) => *slot = n,
            Err(_) => problems.push((field, format!("must be a whole number (got {value:?})"))),
        };
        match key.as_ref() {
            "date" => plan.date = value.clone(),
            "start" => plan.start = value.clone(),
            "utc_offset" => plan.utc_offset = value.clone(),
            "pitch_minutes" => number("pitch_minutes", &mut plan.pitch_minutes),
            "changeover_minutes" => number("changeover_minutes", &mut plan.changeover_minutes),
            "break_after" => number("break_after", &mut plan.break_after),
            "break_minutes" => number("break_minutes", &mut plan.break_minutes),
            "rooms" => number("rooms", &mut plan.rooms),
            _ => {}
        }
    }
    (plan, problems)
}

/// The agenda, or the setting that stops it (as the form shows it).
async fn plan(ctx: &PageContext, id: &str) -> Result<(DayPlan, Result<Agenda, (String, String)>), WebError> {
    let (plan, problems) = day_plan(ctx.request().query_string());
    if let Some((field, rule)) = problems.into_iter().next() {
        return Ok((plan, Err((field.to_string(), rule))));
    }
    let state = ctx.state.clone().into_inner();
    let _permit = state.rank_permits.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let (worker, id, wanted) = (state.clone(), id.to_string(), plan.clone());
    let agenda = blocking(move || match worker.engine.event_agenda(&id, None, &wanted) {
        Ok(a) => Ok(Ok(a)),
        Err(crate::Error::User(crate::UserError::BadArgument { field, message })) => Ok(Err((field, message))),
        Err(e) => Err(e.into()),
    })
    .await?;
    Ok((plan, agenda))
}

/// The move buttons of agenda item `at`: the pitch among its demand area's neighbours in the
/// room, and, on a demand area's first pitch, the demand area among the room's others.
fn move_buttons(event_id: &str, query: &str, csrf: &CsrfToken, items: &[AgendaItem], at: usize) -> Markup {
    let action = format!("/organiser/events/{event_id}/agenda/move?{query}");
    let Some(p) = items[at].pitch.as_ref() else { return html! {} };
    let room = items[at].room;
    let in_room = |i: &usize| items[*i].room == room;
    let before = (0..at).rev().filter(in_room).find_map(|i| items[i].pitch.as_ref());
    let after = (at + 1..items.len()).filter(in_room).find_map(|i| items[i].pitch.as_ref());
    let same = |q: Option<&crate::agenda::LineUpPitchView>| q.is_some_and(|q| q.demand_id == p.demand_id);
    let first_of_area = !same(before);
    let last_of_area = !same(after);
    let other_area = |i: &usize| items[*i].pitch.as_ref().is_some_and(|q| q.demand_id != p.demand_id);
    let area_before = (0..at).filter(in_room).any(|i| other_area(&i));
    let area_after = (at + 1..items.len()).filter(in_room).any(|i| other_area(&i));
    let pitch = |to: &str, label: &str| {
        let id = format!("{to}-{}", p.profile_id);
        let fields =
            [("what", "pitch"), ("demand_id", p.demand_id.as_str()), ("profile_id", p.profile_id.as_str()), ("to", to)];
        button_form(&action, csrf, &fields, &id, label)
    };
    let area = |to: &str, label: &str| {
        let id = format!("{to}-area-{}", p.demand_id);
        button_form(&action, csrf, &[("what", "demand"), ("demand_id", p.demand_id.as_str()), ("to", to)], &id, label)
    };
    html! {
        @if !first_of_area { (pitch("earlier", "Earlier")) }
        @if !last_of_area { (pitch("later", "Later")) }
        @if first_of_area && area_before { (area("earlier", "Demand area earlier")) }
        @if first_of_area && area_after { (area("later", "Demand area later")) }
    }
}

fn number_field(name: &str, label: &str, value: u32, error: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(format!("a-{name}")) { (label) }
            input type="number" min="0" id=(format!("a-{name}")) name=(name) value=(value);
            @if let Some(e) = error { p.field-error id=(format!("a-{name}-error")) { (e) } }
        }
    }
}

fn settings_form(event_id: &str, plan: &DayPlan, error: Option<&(String, String)>) -> Markup {
    let error_for = |field: &str| error.filter(|(f, _)| f == field).map(|(_, rule)| rule.as_str());
    let text = |name: &str, label: &str, value: &str, help: &str| {
        html! {
            div.field {
                label for=(format!("a-{name}")) { (label) }
                input type="text" id=(format!("a-{name}")) name=(name) value=(value);
                small.help { (help) }
                @if let Some(e) = error_for(name) { p.field-error id=(format!("a-{name}-error")) { (e) } }
            }
        }
    };
    html! {
        form.filters.no-print method="get" action=(format!("/organiser/events/{event_id}/agenda")) id="agenda-settings" {
            (text("date", "Day", &plan.date, "YYYY-MM-DD; empty: the event's date"))
            (text("start", "First pitch", &plan.start, "HH:MM"))
            (number_field("pitch_minutes", "Minutes per pitch", plan.pitch_minutes, error_for("pitch_minutes")))
            (number_field("changeover_minutes", "Changeover minutes", plan.changeover_minutes, error_for("changeover_minutes")))
            (number_field("break_after", "Break after … pitches", plan.break_after, error_for("break_after")))
            (number_field("break_minutes", "Break minutes", plan.break_minutes, error_for("break_minutes")))
            (number_field("rooms", "Parallel rooms", plan.rooms, error_for("rooms")))
            (text("utc_offset", "UTC offset", &plan.utc_offset, "+01:00 in winter, +02:00 in summer (Paris, Amsterdam)"))
            button.primary type="submit" id="plan-day" { "Plan the day" }
        }
    }
}

/// `GET /organiser/events/{id}/agenda`
pub(crate) async fn page(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let id = id.into_inner();
    let (plan, agenda) = plan(&ctx, &id).await?;
    let query = ctx.request().query_string().to_string();
    let content = html! {
        p.crumbs.no-print { a href="/organiser" { "Dashboard" } " › " a href=(format!("/organiser/events/{id}")) { "Event" } }
        @match &agenda {
            Ok(a) => h1 { "Agenda · " (a.event_title) },
            Err(_) => h1 { "Agenda" },
        }
        (settings_form(&id, &plan, agenda.as_ref().err()))
        @match &agenda {
            Err((field, rule)) => p.error-summary role="alert" id="agenda-error" { (field) ": " (rule) },
            Ok(a) => {
                p.no-print {
                    a.button href=(format!("/organiser/events/{id}/agenda.ics?{query}")) id="agenda-ics" download { "Calendar (.ics)" }
                    " "
                    a.button href=(format!("/organiser/events/{id}/agenda.csv?{query}")) id="agenda-csv" download { "Export CSV" }
                }
                p.muted { "Local times (UTC" (a.utc_offset) "). Pitches are grouped by demand area; a demand area stays in one room." }
                p.muted.no-print { "Move a pitch among its demand area's pitches, or a whole demand area within its room; the order is kept when the line-up is solved again." }
                table.lineup id="agenda" {
                    thead { tr { th { "Room" } th { "From" } th { "Until" } th { "Pitch" } th { "Demand area" } th.no-print { "Move" } } }
                    tbody {
                        @for (at, item) in a.items.iter().enumerate() {
                            @let (_, from) = item.start.split_once('T').unwrap_or(("", &item.start));
                            @let (_, until) = item.end.split_once('T').unwrap_or(("", &item.end));
                            tr.break[item.kind == ItemKind::Break] {
                                td { (item.room) }
                                td { (from) }
                                td { (until) }
                                @match &item.pitch {
                                    Some(p) => {
                                        td { strong { (p.profile_name) } }
                                        td { (p.demand_title) }
                                    }
                                    None => { td colspan="2" { em { "Break" } } }
                                }
                                td.no-print.curate { (move_buttons(&id, &query, &ctx.csrf, &a.items, at)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(organiser_page(&ctx, "Agenda", content))
}

async fn agenda_or_400(ctx: &PageContext, id: &str) -> Result<Agenda, WebError> {
    ctx.require_organiser()?;
    match plan(ctx, id).await?.1 {
        Ok(a) => Ok(a),
        Err((field, rule)) => Err(WebError::BadRequest(format!("{field}: {rule}"))),
    }
}

/// `GET /organiser/events/{id}/agenda.ics`: one calendar entry per pitch.
pub(crate) async fn ics(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let agenda = agenda_or_400(&ctx, &id).await?;
    let safe: String =
        agenda.event_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    Ok(secured(StatusCode::OK)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"agenda-{safe}.ics\"")))
        .content_type("text/calendar; charset=utf-8")
        .body(crate::agenda::to_ics(&agenda)))
}

/// `GET /organiser/events/{id}/agenda.csv`
pub(crate) async fn csv(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let agenda = agenda_or_400(&ctx, &id).await?;
    let mut out = Vec::new();
    crate::render::write_agenda_csv(&agenda, &mut out).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(csv_download(&format!("agenda-{}.csv", agenda.event_id), out))
}

/// `POST /organiser/events/{id}/agenda/move?<day settings>` (`what` = pitch | demand,
/// `demand_id`, `profile_id`, `to` = earlier | later): moves one place and keeps the order, then
/// shows the agenda with the same settings.
pub(crate) async fn move_item(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let demand_id = ctx.required_field("demand_id")?.to_string();
    let what = match ctx.required_field("what")? {
        "pitch" => AgendaMove::Pitch { demand_id, profile_id: ctx.required_field("profile_id")?.to_string() },
        "demand" => AgendaMove::DemandArea { demand_id },
        other => return Err(WebError::BadRequest(format!("what: must be pitch or demand (got {other:?})"))),
    };
    let to = match ctx.required_field("to")? {
        "earlier" => Direction::Earlier,
        "later" => Direction::Later,
        other => return Err(WebError::BadRequest(format!("to: must be earlier or later (got {other:?})"))),
    };
    let query = ctx.request().query_string().to_string();
    let rooms = day_plan(&query).0.rooms;
    let (state, who, event_id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), id.to_string());
    blocking(move || Ok(state.engine.move_on_agenda(&event_id, &what, to, rooms, &who)?)).await?;
    Ok(see_other(&format!("/organiser/events/{id}/agenda?{query}")).finish())
}
