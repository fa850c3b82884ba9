//! The organisers' moderation and audit pages: the queue of public submissions waiting for
//! approval, each with its record and approve/reject buttons, and the audit log of who changed
//! what. Both need a live organiser session; the buttons post CSRF-checked forms and come back
//! to the queue.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::html;

use super::layout::{layout, profile_view, Nav};
use super::{blocking, see_other, PageContext, WebError};

/// Entries per page of the audit log and submissions per page of the queue.
const PAGE: usize = 100;

fn query_param(ctx: &PageContext, name: &str) -> Option<String> {
    form_urlencoded::parse(ctx.request().query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `GET /organiser/moderation[?after=]`
pub(crate) async fn queue(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(see_other("/organiser").finish());
    }
    let after = query_param(&ctx, "after");
    let state = ctx.state.clone().into_inner();
    let (pending, total) =
        blocking(move || Ok((state.engine.pending_profiles(after.as_deref(), PAGE)?, state.engine.pending_count()?)))
            .await?;
    let csrf = &ctx.csrf;
    let body = layout(
        &ctx,
        "Moderation",
        Nav::Organiser,
        html! {
            h1 { "Moderation" }
            p.lead id="pending-count" {
                (total) " submission(s) waiting for approval. Until approved they are in no shortlist, search, "
                "selection or map; rejecting deletes them."
            }
            @for p in &pending {
                section.card.pending id=(format!("pending-{}", p.profile.id)) {
                    h2 { (p.profile.name) " " small { code { (p.profile.id) } } }
                    (profile_view(&p.profile))
                    form.inline method="post" action=(format!("/organiser/moderation/{}/approve", p.profile.id)) {
                        input type="hidden" name="csrf" value=(csrf.value());
                        button.primary type="submit" id=(format!("approve-{}", p.profile.id)) { "Approve" }
                    }
                    " "
                    form.inline method="post" action=(format!("/organiser/moderation/{}/reject", p.profile.id)) {
                        input type="hidden" name="csrf" value=(csrf.value());
                        button.danger type="submit" id=(format!("reject-{}", p.profile.id)) { "Reject and delete" }
                    }
                }
            }
            @if pending.len() == PAGE {
                @if let Some(last) = pending.last() {
                    p { a href=(format!("/organiser/moderation?after={}", last.profile.id)) { "More…" } }
                }
            }
        },
    );
    Ok(ctx.page(StatusCode::OK, body))
}

/// `POST /organiser/moderation/{id}/approve`
pub(crate) async fn approve(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let who = ctx.principal.clone();
    ctx.require_organiser()?;
    let state = ctx.state.clone().into_inner();
    blocking(move || Ok(state.engine.approve_profile(&id, &who)?)).await?;
    Ok(see_other("/organiser/moderation").finish())
}

/// `POST /organiser/moderation/{id}/reject`
pub(crate) async fn reject(ctx: PageContext, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let who = ctx.principal.clone();
    ctx.require_organiser()?;
    let state = ctx.state.clone().into_inner();
    blocking(move || Ok(state.engine.reject_profile(&id, &who)?)).await?;
    Ok(see_other("/organiser/moderation").finish())
}

/// `GET /organiser/audit[?before=&record_id=]`
pub(crate) async fn audit(ctx: PageContext) -> Result<HttpResponse, WebError> {
    if ctx.organiser().is_none() {
        return Ok(see_other("/organiser").finish());
    }
    let before = match query_param(&ctx, "before") {
        Some(b) => Some(b.parse::<u64>().map_err(|_| WebError::BadRequest("before: must be a whole number".into()))?),
        None => None,
    };
    let record_id = query_param(&ctx, "record_id").filter(|r| !r.is_empty());
    let state = ctx.state.clone().into_inner();
    let filter = record_id.clone();
    let entries = blocking(move || Ok(state.engine.audit_log(before, filter.as_deref(), PAGE)?)).await?;
    let body = layout(
        &ctx,
        "Audit log",
        Nav::Organiser,
        html! {
            h1 { "Audit log" }
            p.lead { "Every change by an organiser, a supplier or the command line, newest first." }
            form.inline method="get" action="/organiser/audit" {
                label for="f-record" { "Record id " }
                input type="text" id="f-record" name="record_id" value=(record_id.as_deref().unwrap_or_default());
                " "
                button type="submit" { "Filter" }
            }
            table id="audit" {
                thead { tr { th { "#" } th { "When (UTC)" } th { "Who" } th { "Action" } th { "Kind" } th { "Record" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (e.seq) }
                            td { (crate::render::utc_time(e.at)) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.kind) }
                            td { code { (e.record_id) } }
                        }
                    }
                }
            }
            @if entries.len() == PAGE {
                @if let Some(last) = entries.last() {
                    @let more = match &record_id {
                        Some(r) => format!("/organiser/audit?before={}&record_id={}", last.seq,
                            form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()),
                        None => format!("/organiser/audit?before={}", last.seq),
                    };
                    p { a href=(more) { "Older…" } }
                }
            }
        },
    );
    Ok(ctx.page(StatusCode::OK, body))
}
