//! Demand areas and events made in the pages: an organiser creates, edits and deletes them with the
//! same validation and messages as an import (every broken rule next to its field), instead of
//! writing JSON Lines files or raw API calls.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::layout::violations_by_field;
use super::organiser::{organiser_page, to_sign_in};
use super::{blocking, see_other, FormFields, PageContext, WebError};
use crate::domain::{DemandArea, Event, Theme, Violation};
use crate::error::{Error, UserError};

type Errors = BTreeMap<String, Vec<String>>;

const THEMES: [(Theme, &str); 4] = [
    (Theme::SmartMobility, "Smart mobility"),
    (Theme::GreenMobility, "Green mobility"),
    (Theme::Materials, "Materials"),
    (Theme::Manufacturing, "Manufacturing"),
];

fn field_errors(name: &str, errors: &Errors) -> Markup {
    html! {
        @if let Some(messages) = errors.get(name) {
            @for m in messages { p.field-error id=(format!("e-{name}")) role="alert" { (m) } }
        }
    }
}

fn class(name: &str, errors: &Errors) -> &'static str {
    if errors.contains_key(name) {
        "field invalid"
    } else {
        "field"
    }
}

fn text(name: &str, label: &str, value: &str, help: &str, errors: &Errors) -> Markup {
    html! {
        div class=(class(name, errors)) {
            label for=(format!("f-{name}")) { (label) }
            input type="text" id=(format!("f-{name}")) name=(name) value=(value);
            small.help { (help) }
            (field_errors(name, errors))
        }
    }
}

fn value_of<'a>(values: &'a Map<String, Value>, name: &str) -> &'a str {
    values.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn listed(values: &Map<String, Value>, name: &str) -> Vec<String> {
    values
        .get(name)
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |items| items.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

/// The record a form describes, as the validator reads it: empty fields left out, so a missing
/// required field says "is required" as in an import.
fn record(form: &FormFields, fields: &[&str], lists: &[&str], numbers: &[&str]) -> Value {
    let mut out = Map::new();
    for &name in fields {
        let v = form.get(name).unwrap_or_default().trim();
        if v.is_empty() {
            continue;
        }
        let value = match numbers.contains(&name) {
            true => v.parse::<u64>().map_or_else(|_| Value::String(v.to_string()), Value::from),
            false => Value::String(v.to_string()),
        };
        out.insert(name.to_string(), value);
    }
    for &name in lists {
        let items: Vec<Value> = form.all(name).into_iter().map(|s| Value::String(s.to_string())).collect();
        if !items.is_empty() {
            out.insert(name.to_string(), Value::Array(items));
        }
    }
    Value::Object(out)
}

fn demand_form(ctx: &PageContext, action: &str, editing: bool, values: &Map<String, Value>, errors: &Errors) -> Markup {
    let themes = listed(values, "themes");
    let language = value_of(values, "language");
    html! {
        @if !errors.is_empty() {
            p.error-summary role="alert" id="form-errors" { "Please correct the fields marked below; nothing was saved." }
        }
        form.narrow method="post" action=(action) id="demand-form" {
            input type="hidden" name="csrf" value=(ctx.csrf.value());
            @if editing {
                input type="hidden" name="id" value=(value_of(values, "id"));
                p { "Id: " code { (value_of(values, "id")) } }
            } @else {
                (text("id", "Id", value_of(values, "id"), "1-64 characters of A-Z, a-z, 0-9, . _ - (for example renault-batteries)", errors))
            }
            (text("organisation", "Organisation", value_of(values, "organisation"), "The OEM or Tier-1, written the same way for all its demand areas.", errors))
            (text("title", "Title", value_of(values, "title"), "3-200 characters, in the demand's language.", errors))
            div class=(class("description", errors)) {
                label for="f-description" { "Description" }
                textarea id="f-description" name="description" rows="8" { (value_of(values, "description")) }
                small.help { "20-5000 characters: what the OEM looks for. French or English (or Dutch)." }
                (field_errors("description", errors))
            }
            div class=(class("language", errors)) {
                label for="f-language" { "Language" }
                select id="f-language" name="language" {
                    @for (code, label) in [("", "Detect automatically"), ("fr", "French"), ("en", "English"), ("nl", "Dutch")] {
                        option value=(code) selected[language == code] { (label) }
                    }
                }
                (field_errors("language", errors))
            }
            fieldset class=(class("themes", errors)) {
                legend { "Themes" }
                @for (theme, label) in THEMES {
                    label.check {
                        input type="checkbox" name="themes" value=(theme.as_str()) checked[themes.iter().any(|t| t == theme.as_str())];
                        " " (label)
                    }
                }
                (field_errors("themes", errors))
            }
            (text("event", "Event", value_of(values, "event"), "Optional: the id of the event it belongs to.", errors))
            button.primary type="submit" id="save-demand" { "Save demand area" }
        }
    }
}

fn event_form(
    ctx: &PageContext,
    action: &str,
    editing: bool,
    values: &Map<String, Value>,
    errors: &Errors,
    demands: &[DemandArea],
) -> Markup {
    let chosen = listed(values, "demand_ids");
    let pitch_languages = listed(values, "pitch_languages");
    let number = |name: &str| {
        values
            .get(name)
            .map(|v| v.as_u64().map_or_else(|| v.as_str().unwrap_or_default().to_string(), |n| n.to_string()))
            .unwrap_or_default()
    };
    html! {
        @if !errors.is_empty() {
            p.error-summary role="alert" id="form-errors" { "Please correct the fields marked below; nothing was saved." }
        }
        form.narrow method="post" action=(action) id="event-form" {
            input type="hidden" name="csrf" value=(ctx.csrf.value());
            @if editing {
                input type="hidden" name="id" value=(value_of(values, "id"));
                p { "Id: " code { (value_of(values, "id")) } }
            } @else {
                (text("id", "Id", value_of(values, "id"), "1-64 characters of A-Z, a-z, 0-9, . _ - (for example valeo-2027)", errors))
            }
            (text("organisation", "Host organisation", value_of(values, "organisation"), "The OEM or Tier-1 that hosts the day.", errors))
            (text("co_hosts", "Further hosts", &listed(values, "co_hosts").join(", "), "Optional, comma-separated: other organisations that bring demand areas (a cluster's tech day). Their reviewers see the event; a conflict of interest keeps a profile from that host's demand areas only.", errors))
            (text("title", "Title", value_of(values, "title"), "Optional, up to 200 characters.", errors))
            (text("date", "Date", value_of(values, "date"), "Optional: YYYY-MM-DD.", errors))
            (text("slots", "Pitch slots", &number("slots"), "1-500: how many pitches the day holds.", errors))
            fieldset {
                legend { "Quotas" }
                div.row {
                    @for (name, label, help) in QUOTAS { (text(name, label, &number(name), help, errors)) }
                }
            }
            fieldset class=(class("pitch_languages", errors)) {
                legend { "Pitch languages" }
                p.muted { "The languages pitches are accepted in; none ticked = any. A profile whose team pitches in none of them is not proposed." }
                @for (code, name) in PITCH_LANGUAGES {
                    label.check {
                        input type="checkbox" name="pitch_languages" value=(code) checked[pitch_languages.iter().any(|l| l == code)];
                        " " (name)
                    }
                }
                (field_errors("pitch_languages", errors))
            }
            fieldset class=(class("demand_ids", errors)) {
                legend { "Demand areas" }
                @if demands.is_empty() { p.muted { "No demand areas yet: create them first." } }
                @for d in demands {
                    label.check {
                        input type="checkbox" name="demand_ids" value=(d.id) checked[chosen.contains(&d.id)];
                        " " (d.title) " " span.muted { "(" (d.organisation) ", " (d.id) ")" }
                    }
                }
                (field_errors("demand_ids", errors))
            }
            button.primary type="submit" id="save-event" { "Save event" }
        }
    }
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// What a failed save says at each field: the validator's rules, or the engine's (an id that
/// exists already, an unknown demand area).
fn save_errors(e: Error) -> Result<Errors, WebError> {
    match e {
        Error::User(UserError::Conflict { kind, id }) => {
            Ok(BTreeMap::from([("id".to_string(), vec![format!("a {kind} with id {id:?} already exists")])]))
        }
        Error::User(UserError::InvalidRecords(problems)) => {
            let violations: Vec<Violation> = problems.into_iter().map(|p| p.violation).collect();
            Ok(violations_by_field(&violations))
        }
        e => Err(e.into()),
    }
}

async fn all_demands(ctx: &PageContext) -> Result<Vec<DemandArea>, WebError> {
    let state = ctx.state.clone().into_inner();
    blocking(move || Ok(state.engine.demands()?)).await
}

/// `GET /organiser/new-demand`
pub(crate) async fn new_demand(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let values = as_map(json!({}));
    let content =
        html! { h1 { "New demand area" } (demand_form(&ctx, "/organiser/new-demand", false, &values, &Errors::new())) };
    Ok(organiser_page(&ctx, "New demand area", content))
}

/// `GET /organiser/demands/{id}/edit`
pub(crate) async fn edit_demand(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let state = ctx.state.clone().into_inner();
    let wanted = id.into_inner();
    let demand = blocking(move || {
        state.engine.demand(&wanted)?.ok_or_else(|| WebError::NotFound(format!("No demand area {wanted:?}.")))
    })
    .await?;
    let values = as_map(serde_json::to_value(&demand).map_err(|e| WebError::Internal(e.to_string()))?);
    let action = format!("/organiser/demands/{}/edit", demand.id);
    let content = html! {
        h1 { "Edit demand area" }
        (demand_form(&ctx, &action, true, &values, &Errors::new()))
        form.inline method="post" action=(format!("/organiser/demands/{}/delete", demand.id)) {
            input type="hidden" name="csrf" value=(ctx.csrf.value());
            button.danger type="submit" id="delete-demand" { "Delete this demand area" }
        }
    };
    Ok(organiser_page(&ctx, "Edit demand area", content))
}

const DEMAND_FIELDS: [&str; 6] = ["id", "organisation", "title", "description", "language", "event"];
const QUOTAS: [(&str, &str, &str); 4] = [
    ("min_sme_or_startup", "At least … start-ups and SMEs", "Optional, 0-500."),
    ("min_knowledge_institutions", "At least … knowledge institutions", "Optional, 0-500."),
    ("max_knowledge_institutions", "At most … knowledge institutions", "Optional, 0-500."),
    ("max_per_theme", "At most … pitches per theme", "Optional, 0-500: keeps one theme from taking the day."),
];
const EVENT_FIELDS: [&str; 9] = [
    "id",
    "organisation",
    "title",
    "date",
    "slots",
    "min_sme_or_startup",
    "min_knowledge_institutions",
    "max_knowledge_institutions",
    "max_per_theme",
];
/// The languages a pitch can be given in, as codes and as the form names them.
pub(crate) const PITCH_LANGUAGES: [(&str, &str); 3] = [("fr", "Français"), ("en", "English"), ("nl", "Nederlands")];
const EVENT_NUMBERS: [&str; 5] =
    ["slots", "min_sme_or_startup", "min_knowledge_institutions", "max_knowledge_institutions", "max_per_theme"];

async fn save_demand(ctx: PageContext, editing: bool, action: String) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let raw = record(&ctx.form, &DEMAND_FIELDS, &["themes"], &[]);
    let errors = match DemandArea::from_json(&raw) {
        Err(violations) => violations_by_field(&violations),
        Ok(demand) => {
            let (state, who, id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), demand.id.clone());
            let saved = blocking(move || {
                let result = match editing {
                    true => state.engine.replace_demand(&demand, &who),
                    false => state.engine.create_demand(&demand, &who),
                };
                result.err().map(save_errors).transpose()
            })
            .await?;
            match saved {
                None => return Ok(see_other(&format!("/organiser/demands/{id}")).finish()),
                Some(errors) => errors,
            }
        }
    };
    let title = if editing { "Edit demand area" } else { "New demand area" };
    let content = html! { h1 { (title) } (demand_form(&ctx, &action, editing, &as_map(raw), &errors)) };
    Ok(ctx.page(
        StatusCode::UNPROCESSABLE_ENTITY,
        super::layout::layout(&ctx, title, super::layout::Nav::Organiser, content),
    ))
}

/// `POST /organiser/new-demand`
pub(crate) async fn create_demand(ctx: PageContext) -> Result<HttpResponse, WebError> {
    save_demand(ctx, false, "/organiser/new-demand".into()).await
}

/// `POST /organiser/demands/{id}/edit`: the id comes from the path, never from the form.
pub(crate) async fn replace_demand(mut ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.form.set("id", &id);
    save_demand(ctx, true, format!("/organiser/demands/{id}/edit")).await
}

/// `POST /organiser/demands/{id}/delete`
pub(crate) async fn delete_demand(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.delete_demand(&id, &who)?)).await?;
    Ok(see_other("/organiser").finish())
}

/// `GET /organiser/new-event`
pub(crate) async fn new_event(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let demands = all_demands(&ctx).await?;
    let values = as_map(json!({}));
    let content = html! { h1 { "New event" } (event_form(&ctx, "/organiser/new-event", false, &values, &Errors::new(), &demands)) };
    Ok(organiser_page(&ctx, "New event", content))
}

/// `GET /organiser/events/{id}/edit`
pub(crate) async fn edit_event(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(to_sign_in());
    }
    let state = ctx.state.clone().into_inner();
    let wanted = id.into_inner();
    let (event, demands) = blocking(move || {
        let event = state.engine.event(&wanted)?.ok_or_else(|| WebError::NotFound(format!("No event {wanted:?}.")))?;
        Ok((event, state.engine.demands()?))
    })
    .await?;
    let values = as_map(serde_json::to_value(&event).map_err(|e| WebError::Internal(e.to_string()))?);
    let action = format!("/organiser/events/{}/edit", event.id);
    let content = html! {
        h1 { "Edit event" }
        (event_form(&ctx, &action, true, &values, &Errors::new(), &demands))
        form.inline method="post" action=(format!("/organiser/events/{}/delete", event.id)) {
            input type="hidden" name="csrf" value=(ctx.csrf.value());
            button.danger type="submit" id="delete-event" { "Delete this event" }
        }
    };
    Ok(organiser_page(&ctx, "Edit event", content))
}

async fn save_event(ctx: PageContext, editing: bool, action: String) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let mut raw = record(&ctx.form, &EVENT_FIELDS, &["demand_ids", "pitch_languages"], &EVENT_NUMBERS);
    let co_hosts: Vec<Value> = ctx
        .form
        .get("co_hosts")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| Value::String(h.to_string()))
        .collect();
    if let (false, Some(record)) = (co_hosts.is_empty(), raw.as_object_mut()) {
        record.insert("co_hosts".into(), Value::Array(co_hosts));
    }
    let errors = match Event::from_json(&raw) {
        Err(violations) => violations_by_field(&violations),
        Ok(event) => {
            let (state, who, id) = (ctx.state.clone().into_inner(), ctx.principal.clone(), event.id.clone());
            let saved = blocking(move || {
                let result = match editing {
                    true => state.engine.replace_event(&event, &who),
                    false => state.engine.create_event(&event, &who),
                };
                result.err().map(save_errors).transpose()
            })
            .await?;
            match saved {
                None => return Ok(see_other(&format!("/organiser/events/{id}")).finish()),
                Some(errors) => errors,
            }
        }
    };
    let demands = all_demands(&ctx).await?;
    let title = if editing { "Edit event" } else { "New event" };
    let content = html! { h1 { (title) } (event_form(&ctx, &action, editing, &as_map(raw), &errors, &demands)) };
    Ok(ctx.page(
        StatusCode::UNPROCESSABLE_ENTITY,
        super::layout::layout(&ctx, title, super::layout::Nav::Organiser, content),
    ))
}

/// `POST /organiser/new-event`
pub(crate) async fn create_event(ctx: PageContext) -> Result<HttpResponse, WebError> {
    save_event(ctx, false, "/organiser/new-event".into()).await
}

/// `POST /organiser/events/{id}/edit`: the id comes from the path, never from the form.
pub(crate) async fn replace_event(mut ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.form.set("id", &id);
    save_event(ctx, true, format!("/organiser/events/{id}/edit")).await
}

/// `POST /organiser/events/{id}/delete`
pub(crate) async fn delete_event(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    ctx.require_organiser()?;
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let (state, who) = (ctx.state.clone().into_inner(), ctx.principal.clone());
    blocking(move || Ok(state.engine.delete_event(&id, &who)?)).await?;
    Ok(see_other("/organiser").finish())
}
