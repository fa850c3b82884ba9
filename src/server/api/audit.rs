//! The audit log for organisers: every write by an organiser or a supplier (and the command line's),
//! newest first, a page at a time. Entries name records by id and never carry a token or a
//! record's content, so they stay when the records are deleted.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use crate::domain::AuditEntry;
use crate::server::error::{blocking, ApiError, ErrorBody};
use crate::server::AppState;

/// Query of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries older than this one (the previous page's `next_before`).
    #[param(example = 120)]
    before: Option<u64>,
    /// Only entries about this record id.
    #[param(example = "demo-p-001")]
    record_id: Option<String>,
    /// Page size, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500, example = 20)]
    limit: Option<usize>,
}

/// One page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// The `before` of the next (older) page; null on the last page.
    pub next_before: Option<u64>,
}

/// Read the audit log
///
/// Who changed which record how and when, newest first (organisers only).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "audit_log",
    tag = "audit",
    params(AuditQuery),
    security(("organiserToken" = [])),
    responses(
        (status = 200, description = "One page", body = AuditPage),
        (status = 400, description = "A query parameter is unknown or out of range", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organiser token", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    who.require_organiser()?;
    let AuditQuery { before, record_id, limit } = query.into_inner();
    let limit = super::page_limit(limit)?;
    let state = state.into_inner();
    let entries = blocking(move || Ok(state.engine.audit_log(before, record_id.as_deref(), limit)?)).await?;
    let next_before = if entries.len() == limit { entries.last().map(|e| e.seq) } else { None };
    Ok(web::Json(AuditPage { entries, next_before }))
}
