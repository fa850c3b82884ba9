//! The day's agenda in the organiser pages: the event's line-up as a timetable with its settings
//! in a plain GET form (so a planned day is a link an organiser can share or bookmark), a printable
//! layout, and the same agenda as iCalendar and CSV downloads.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::organiser::{organiser_page, to_sign_in};
use super::{blocking, csv_download, secured, PageContext, WebError};
use crate::agenda::{Agenda, DayPlan, ItemKind};

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
                table.lineup id="agenda" {
                    thead { tr { th { "Room" } th { "From" } th { "Until" } th { "Pitch" } th { "Demand area" } } }
                    tbody {
                        @for item in &a.items {
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
