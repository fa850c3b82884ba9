//! The one way a new profile enters through the service, whether posted to the API or through the
//! submission form: validate the record, then count it against the client's submission budget, then
//! store it through the engine. Both front ends call [`submit_profile`], so they cannot drift apart
//! on the order: a malformed submission (a supplier fixing typos) never uses up the budget, and a
//! flood of valid ones is refused before it reaches the store.

use std::net::IpAddr;

use actix_web::web;
use serde_json::Value;

use super::AppState;
use crate::domain::{Profile, Violation};

/// Why a submission was not stored.
#[derive(Debug)]
pub(crate) enum SubmitError {
    /// The record broke the data-format rules; nothing was counted or stored.
    Invalid(Vec<Violation>),
    /// The client has used its budget; a submission will be accepted after this many seconds.
    RateLimited(u64),
    /// The engine refused or failed (a taken id is `UserError::Conflict`).
    Failed(crate::Error),
}

/// A stored submission.
#[derive(Debug)]
pub(crate) struct Submitted {
    /// The profile as stored (language detected when the record had none).
    pub(crate) profile: Profile,
    /// The profile's edit token, shown to the submitter only this once.
    pub(crate) edit_token: String,
}

/// Validates `record`, charges `client`'s budget (its key, see [`AppState::client_key`]) and the
/// global write budget, and stores the profile.
pub(crate) async fn submit_profile(
    state: &web::Data<AppState>,
    client: Option<IpAddr>,
    record: &Value,
) -> Result<Submitted, SubmitError> {
    let profile = Profile::from_json(record).map_err(SubmitError::Invalid)?;
    if let Some(ip) = client {
        state.submissions.check(&ip).map_err(SubmitError::RateLimited)?;
    }
    state.writes.charge_global().map_err(SubmitError::RateLimited)?;
    let state = state.clone().into_inner();
    let stored = profile.clone();
    let edit_token = web::block(move || state.engine.submit_profile(&stored))
        .await
        .map_err(|e| SubmitError::Failed(crate::Error::Internal(format!("blocking task: {e}"))))?
        .map_err(SubmitError::Failed)?;
    Ok(Submitted { profile, edit_token })
}
