//! The supplier pages: submit a profile through a form, see the edit token once, and later edit or
//! delete the profile with that token. The form is turned into the same JSON record the API takes
//! and checked by [`Profile::from_json`], so a web submission obeys exactly the import and API
//! rules, and each violation is shown next to its field. These pages never show anything but the
//! supplier's own profile.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::html;
use serde_json::{json, Map, Value};

use super::layout::{layout, profile_form, profile_view, FormMode, Nav, ProfileFormValues};
use super::{blocking, FormFields, PageContext, WebError};
use crate::domain::{Profile, ProfileStatus, Violation};
use crate::engine::EDIT_TOKEN_PREFIX;
use crate::error::{Error, UserError};
use crate::server::submit::{submit_profile, SubmitError, Submitted};

/// `GET /`
pub(crate) async fn home(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let body = layout(
        &ctx,
        "Home",
        Nav::Public,
        html! {
            h1 { "Co-Innovation Days" }
            p.lead {
                "Dutch automotive suppliers and knowledge institutions meet French OEMs and Tier-1s. "
                "Describe what you offer; organisers match it with the OEMs' demand areas."
            }
            div.cards {
                section.card {
                    h2 { "Leveranciers / Suppliers" }
                    p lang="nl" { "Dien uw innovatieprofiel in, of wijzig het met uw wijzigingscode." }
                    p lang="en" { "Submit your innovation profile, or change it with your edit token." }
                    p {
                        a.button.primary href="/submit" id="go-submit" { "Profiel indienen / Submit a profile" }
                        " "
                        a.button href="/supplier/edit" { "Wijzigen / Edit" }
                    }
                }
                section.card {
                    h2 { "Organisers" }
                    p { "Shortlists per demand area, event line-ups, CSV exports and the landscape map." }
                    p { a.button href="/organiser" id="go-organiser" { "Sign in" } }
                }
            }
        },
    );
    Ok(ctx.page_without_forms(StatusCode::OK, body))
}

fn submit_page(
    ctx: &PageContext,
    status: StatusCode,
    values: &ProfileFormValues,
    violations: &[Violation],
) -> HttpResponse {
    let body = layout(
        ctx,
        "Submit a profile",
        Nav::Public,
        html! {
            h1 { "Profiel indienen / Submit a profile" }
            p.lead {
                span lang="nl" { "Beschrijf wat uw organisatie biedt. " }
                span lang="en" { "Describe what your organisation offers. " }
                "Nederlands, English " span lang="fr" { "ou français" } "."
            }
            (profile_form(&FormMode::Create, values, violations, &ctx.csrf))
        },
    );
    ctx.page(status, body)
}

/// `GET /submit`
pub(crate) async fn submit_form(ctx: PageContext) -> Result<HttpResponse, WebError> {
    Ok(submit_page(&ctx, StatusCode::OK, &ProfileFormValues::default(), &[]))
}

/// What the user typed, kept to re-show the form.
fn form_values(form: &FormFields) -> ProfileFormValues {
    let text = |name: &str| form.get(name).unwrap_or_default().to_string();
    ProfileFormValues {
        id: text("id"),
        name: text("name"),
        kind: text("kind"),
        size: text("size"),
        city: text("city"),
        language: text("language"),
        summary: text("summary"),
        innovations: text("innovations"),
        keywords: text("keywords"),
        themes: form.all("themes").into_iter().map(str::to_string).collect(),
        pitch_languages: form.all("pitch_languages").into_iter().map(str::to_string).collect(),
        trl: text("trl"),
        website: text("website"),
        contact_email: text("contact_email"),
    }
}

/// The JSON record the form stands for. Blank inputs are left out (so a blank required field is
/// reported as "is required"); list inputs are split (innovations by line, keywords by comma)
/// keeping blank items in the middle so the validator can point at them; a TRL that is not a
/// number is passed on as text so the validator reports it in its own words.
pub(crate) fn form_record(v: &ProfileFormValues) -> Value {
    let mut record = Map::new();
    let mut put = |name: &str, value: &str| {
        if !value.trim().is_empty() {
            record.insert(name.to_string(), Value::String(value.trim().to_string()));
        }
    };
    put("id", &v.id);
    put("name", &v.name);
    put("kind", &v.kind);
    put("size", &v.size);
    put("city", &v.city);
    put("language", &v.language);
    put("website", &v.website);
    put("contact_email", &v.contact_email);
    if !v.summary.trim().is_empty() {
        // The summary's own line breaks are kept; only the ends are trimmed.
        record.insert("summary".into(), Value::String(v.summary.trim().replace("\r\n", "\n")));
    }
    let list = |text: &str, sep: char| -> Vec<Value> {
        let items: Vec<&str> = text.trim().split(sep).map(str::trim).collect();
        items.into_iter().map(|s| Value::String(s.to_string())).collect()
    };
    if !v.innovations.trim().is_empty() {
        record.insert("innovations".into(), Value::Array(list(&v.innovations.replace("\r\n", "\n"), '\n')));
    }
    if !v.keywords.trim().is_empty() {
        record.insert("keywords".into(), Value::Array(list(&v.keywords, ',')));
    }
    if !v.themes.is_empty() {
        record.insert("themes".into(), json!(v.themes));
    }
    if !v.pitch_languages.is_empty() {
        record.insert("pitch_languages".into(), json!(v.pitch_languages));
    }
    let trl = v.trl.trim();
    if !trl.is_empty() {
        let value = trl.parse::<i64>().map_or_else(|_| Value::String(trl.to_string()), Value::from);
        record.insert("trl".into(), value);
    }
    Value::Object(record)
}

/// `POST /submit`
pub(crate) async fn submit(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let values = form_values(&ctx.form);
    let client = ctx.state.client_key(ctx.request());
    let Submitted { profile, edit_token: token, status } =
        match submit_profile(&ctx.state, client, &form_record(&values)).await {
            Ok(submitted) => submitted,
            Err(SubmitError::Invalid(violations)) => {
                return Ok(submit_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &values, &violations))
            }
            Err(SubmitError::RateLimited(retry_after)) => return Err(WebError::RateLimited(retry_after)),
            Err(e @ SubmitError::TooManyPending(_)) => {
                return Err(WebError::TooManyPending(e.pending_message().unwrap_or_default()))
            }
            Err(e @ SubmitError::QueueFull) => {
                return Err(WebError::Unavailable(e.pending_message().unwrap_or_default()))
            }
            Err(SubmitError::Failed(e)) => return Err(e.into()),
        };
    let body = layout(
        &ctx,
        "Profile submitted",
        Nav::Public,
        html! {
            h1 id="submitted" { "Profiel ingediend / Profile submitted" }
            div.token-box role="status" {
                p {
                    strong lang="nl" { "Bewaar deze wijzigingscode nu: hij wordt maar één keer getoond. " }
                    strong lang="en" { "Save this edit token now: it is shown only once." }
                }
                p { code id="edit-token" { (token) } }
                p { "Profielcode / Profile id: " code id="profile-id" { (profile.id) } }
                p {
                    "Wijzigen of verwijderen / Edit or delete: "
                    a id="edit-link" href=(format!("/supplier/edit?id={}", profile.id)) {
                        "/supplier/edit?id=" (profile.id)
                    }
                    " — met deze code / with this token."
                }
            }
            (pending_note(status))
            h2 { "Opgeslagen profiel / Stored profile" }
            (profile_view(&profile))
        },
    );
    Ok(ctx.page(StatusCode::CREATED, body))
}

/// Tells the supplier that a pending profile is not yet visible to the OEMs' shortlists.
fn pending_note(status: ProfileStatus) -> maud::Markup {
    html! {
        @if status == ProfileStatus::Pending {
            p.notice id="pending-note" role="status" {
                span lang="nl" { "Uw profiel wacht op goedkeuring door de organisatoren. " }
                span lang="en" { "Your profile is waiting for the organisers' approval; until then it is in no shortlist." }
            }
        }
    }
}

fn open_page(ctx: &PageContext, status: StatusCode, id: &str, message: Option<&str>) -> HttpResponse {
    let body = layout(
        ctx,
        "Edit a profile",
        Nav::Public,
        html! {
            h1 { "Profiel wijzigen / Edit a profile" }
            @if let Some(m) = message { p.error-summary role="alert" { (m) } }
            form.narrow method="post" action="/supplier/edit" {
                input type="hidden" name="csrf" value=(ctx.csrf.value());
                div.field {
                    label for="f-id" { "Profielcode / Profile id" }
                    input type="text" id="f-id" name="id" value=(id);
                }
                div.field {
                    label for="f-token" { "Wijzigingscode / Edit token" }
                    input type="password" id="f-token" name="edit_token" autocomplete="off";
                    small.help { "The " (EDIT_TOKEN_PREFIX) "… token shown once after you submitted." }
                }
                button.primary type="submit" { "Openen / Open" }
            }
        },
    );
    ctx.page(status, body)
}

/// `GET /supplier/edit?id=`
pub(crate) async fn open_form(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let id = form_urlencoded::parse(ctx.request().query_string().as_bytes())
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    Ok(open_page(&ctx, StatusCode::OK, &id, None))
}

/// Profile `id` (approved or pending) and its status, when the request acts as its owner (by the
/// edit token in its form).
async fn owned_profile(ctx: &PageContext, id: &str) -> Result<Option<(Profile, ProfileStatus)>, WebError> {
    if !ctx.owns_profile(id) {
        return Ok(None);
    }
    let (state, id) = (ctx.state.clone().into_inner(), id.to_string());
    blocking(move || Ok(state.engine.profile_with_status(&id)?)).await
}

const WRONG_TOKEN: &str = "Onbekende profielcode of verkeerde wijzigingscode / Unknown profile id or wrong edit token.";

fn edit_page(
    ctx: &PageContext,
    status: StatusCode,
    token: &str,
    values: &ProfileFormValues,
    violations: &[Violation],
) -> HttpResponse {
    let csrf = &ctx.csrf;
    let body = layout(
        ctx,
        "Edit your profile",
        Nav::Public,
        html! {
            h1 { "Profiel wijzigen / Edit your profile" }
            (profile_form(&FormMode::Edit { token }, values, violations, csrf))
            h2 { "Verwijderen / Delete" }
            form.inline method="post" action="/supplier/delete" {
                input type="hidden" name="csrf" value=(csrf.value());
                input type="hidden" name="id" value=(values.id);
                input type="hidden" name="edit_token" value=(token);
                button.danger type="submit" id="delete-profile" { "Profiel verwijderen / Delete profile" }
            }
            h2 { "Uw gegevens / Your data" }
            form.inline method="post" action="/supplier/export" {
                input type="hidden" name="csrf" value=(csrf.value());
                input type="hidden" name="id" value=(values.id);
                input type="hidden" name="edit_token" value=(token);
                button type="submit" id="export-profile" { "Alles wat over dit profiel is opgeslagen downloaden / Download everything stored about this profile (JSON)" }
            }
        },
    );
    ctx.page(status, body)
}

/// `POST /supplier/edit`: checks the id and token, then shows the filled-in form.
pub(crate) async fn open(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let form = &ctx.form;
    let (id, token) = (form.get("id").unwrap_or_default().trim(), form.get("edit_token").unwrap_or_default());
    match owned_profile(&ctx, id).await? {
        Some((p, _)) => Ok(edit_page(&ctx, StatusCode::OK, token.trim(), &ProfileFormValues::from_profile(&p), &[])),
        None => Ok(open_page(&ctx, StatusCode::FORBIDDEN, id, Some(WRONG_TOKEN))),
    }
}

/// `POST /supplier/save`
pub(crate) async fn save(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let token = ctx.form.get("edit_token").unwrap_or_default().trim().to_string();
    let values = form_values(&ctx.form);
    if owned_profile(&ctx, &values.id).await?.is_none() {
        return Err(WebError::Forbidden(WRONG_TOKEN.into()));
    }
    let profile = match Profile::from_json(&form_record(&values)) {
        Ok(p) => p,
        Err(v) => return Ok(edit_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &token, &values, &v)),
    };
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let state = ctx.state.clone().into_inner();
    let (stored, who) = (profile.clone(), ctx.principal.clone());
    let replaced = blocking(move || match state.engine.replace_profile(&stored, &who) {
        Ok(status) => Ok(Some(status)),
        Err(Error::User(UserError::NotFound { .. })) => Ok(None),
        Err(e) => Err(e.into()),
    })
    .await?;
    let Some(status) = replaced else {
        return Err(WebError::NotFound("The profile no longer exists.".into()));
    };
    let body = layout(
        &ctx,
        "Profile saved",
        Nav::Public,
        html! {
            h1 id="saved" { "Profiel opgeslagen / Profile saved" }
            (pending_note(status))
            (profile_view(&profile))
            p { a href=(format!("/supplier/edit?id={}", profile.id)) { "Opnieuw wijzigen / Edit again" } }
        },
    );
    Ok(ctx.page(StatusCode::OK, body))
}

/// `POST /supplier/delete`
pub(crate) async fn delete(ctx: PageContext) -> Result<HttpResponse, WebError> {
    let id = ctx.form.get("id").unwrap_or_default().trim().to_string();
    if owned_profile(&ctx, &id).await?.is_none() {
        return Err(WebError::Forbidden(WRONG_TOKEN.into()));
    }
    ctx.state.charge_write(ctx.request(), &ctx.principal).map_err(WebError::RateLimited)?;
    let state = ctx.state.clone().into_inner();
    let (gone, who) = (id.clone(), ctx.principal.clone());
    blocking(move || match state.engine.delete_profile(&gone, &who) {
        Ok(()) | Err(Error::User(UserError::NotFound { .. })) => Ok(()),
        Err(e) => Err(e.into()),
    })
    .await?;
    let body = layout(
        &ctx,
        "Profile deleted",
        Nav::Public,
        html! {
            h1 id="deleted" { "Profiel verwijderd / Profile deleted" }
            p { "Profile " code { (id) } " and its edit token no longer exist." }
            p { a href="/" { "Home" } }
        },
    );
    Ok(ctx.page_without_forms(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_record_keeps_what_the_validator_must_see() {
        let values = ProfileFormValues {
            id: " acme ".into(),
            name: "Acme".into(),
            kind: "company".into(),
            summary: "  We build hydrogen tanks for vans and trucks.  ".into(),
            innovations: "Type IV tank\r\n\r\nLiner".into(),
            keywords: "hydrogen, tanks".into(),
            themes: vec!["green_mobility".into()],
            trl: "seven".into(),
            ..Default::default()
        };
        let record = form_record(&values);
        assert_eq!(record["id"], "acme");
        assert_eq!(record["innovations"], json!(["Type IV tank", "", "Liner"]));
        assert_eq!(record["keywords"], json!(["hydrogen", "tanks"]));
        assert!(record.get("size").is_none(), "blank optional fields are left out");
        let violations = Profile::from_json(&record).unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["innovations[1]", "trl"]);
        let fixed = form_record(&ProfileFormValues { innovations: "Type IV tank".into(), trl: "7".into(), ..values });
        assert_eq!(Profile::from_json(&fixed).unwrap().trl, Some(7));
    }
}
