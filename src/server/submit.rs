//! The one way a new profile enters through the service, whether posted to the API or through the
//! submission form: give it a server-made id, validate the record, then count it against the
//! client's submission budget, then store it through the engine — as pending, for an organiser to
//! approve, unless moderation is off. Both front ends call [`submit_profile`], so they cannot drift
//! apart on the order: a malformed submission (a supplier fixing typos) never uses up the budget,
//! and a flood of valid ones is refused before it reaches the store.
//!
//! The id is never the submitter's: ids are guessable, and a stranger who claimed an id before the
//! organisers imported it would hold an edit token for their record. Any `id` in the body is
//! ignored.

use std::net::IpAddr;

use actix_web::web;
use serde_json::Value;

use super::AppState;
use crate::domain::{new_profile_id, Profile, ProfileStatus, Violation};
use crate::engine::{Engine, PendingSubmission};
use crate::error::UserError;

/// New ids tried when a made id happens to be taken (40 random bits: practically never).
const ID_ATTEMPTS: usize = 3;

/// Why a submission was not stored.
#[derive(Debug)]
pub(crate) enum SubmitError {
    /// The record broke the data-format rules; nothing was counted or stored.
    Invalid(Vec<Violation>),
    /// The client has used its budget; a submission will be accepted after this many seconds.
    RateLimited(u64),
    /// The client has as many submissions waiting for approval as it may.
    TooManyPending(u32),
    /// As many submissions as the service keeps are waiting for approval.
    QueueFull,
    /// The engine refused or failed.
    Failed(crate::Error),
}

/// A stored submission.
#[derive(Debug)]
pub(crate) struct Submitted {
    /// The profile as stored (its id made by the server, language detected when the record had none).
    pub(crate) profile: Profile,
    /// The profile's edit token, shown to the submitter only this once.
    pub(crate) edit_token: String,
    /// Pending until an organiser approves it, unless moderation is off.
    pub(crate) status: ProfileStatus,
}

fn random_id(name: &str) -> Result<String, SubmitError> {
    let mut random = [0u8; 5];
    getrandom::getrandom(&mut random)
        .map_err(|e| SubmitError::Failed(crate::Error::Internal(format!("no randomness: {e}"))))?;
    Ok(new_profile_id(name, random))
}

/// `record` with a new server-made id in place of whatever id it had.
fn with_new_id(record: &Value) -> Result<Value, SubmitError> {
    let mut record = record.clone();
    if let Value::Object(fields) = &mut record {
        let name = fields.get("name").and_then(Value::as_str).unwrap_or_default();
        let id = random_id(name)?;
        fields.insert("id".into(), Value::String(id));
    }
    Ok(record)
}

impl SubmitError {
    /// The words for the two moderation bounds, the same on the API and the form.
    pub(crate) fn pending_message(&self) -> Option<String> {
        match self {
            SubmitError::TooManyPending(n) => Some(format!(
                "your address already has {n} profile(s) waiting for an organiser's approval; \
                 submit more once they have been reviewed"
            )),
            SubmitError::QueueFull => {
                Some("too many profiles are waiting for an organiser's approval; please try again later".to_string())
            }
            _ => None,
        }
    }
}

/// Validates `record`, charges `client`'s budget (its key, see [`AppState::client_key`]) and the
/// global write budget, and stores the profile under a new id.
pub(crate) async fn submit_profile(
    state: &web::Data<AppState>,
    client: Option<IpAddr>,
    record: &Value,
) -> Result<Submitted, SubmitError> {
    let mut profile = Profile::from_json(&with_new_id(record)?).map_err(SubmitError::Invalid)?;
    if let Some(ip) = client {
        state.submissions.check(&ip).map_err(SubmitError::RateLimited)?;
    }
    state.writes.charge_global().map_err(SubmitError::RateLimited)?;
    // Only a key of the address is kept with a pending submission, to count them per client.
    let client_key = Engine::token_hash(&format!("client {}", client.map_or("unknown".into(), |ip| ip.to_string())));
    let moderation = state.moderation;
    let state = state.clone().into_inner();
    let stored = web::block(move || {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match moderation {
                Some(limits) => state.engine.submit_pending_profile(&profile, &client_key, limits).map(|s| match s {
                    PendingSubmission::Stored(token) => Ok((token, ProfileStatus::Pending)),
                    PendingSubmission::ClientFull => Err(SubmitError::TooManyPending(limits.per_client)),
                    PendingSubmission::QueueFull => Err(SubmitError::QueueFull),
                }),
                None => state.engine.submit_profile(&profile).map(|token| Ok((token, ProfileStatus::Approved))),
            };
            match outcome {
                Ok(done) => return done.map(|(token, status)| (profile, token, status)),
                Err(crate::Error::User(UserError::Conflict { .. })) if attempt < ID_ATTEMPTS => {
                    profile.id = random_id(&profile.name)?;
                }
                Err(e) => return Err(SubmitError::Failed(e)),
            }
        }
    })
    .await
    .map_err(|e| SubmitError::Failed(crate::Error::Internal(format!("blocking task: {e}"))))??;
    let (profile, edit_token, status) = stored;
    Ok(Submitted { profile, edit_token, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_id_is_replaced_and_a_missing_one_supplied() {
        let given = serde_json::json!({"id": "nl-0043", "name": "Acme Composites B.V."});
        let id = with_new_id(&given).ok().unwrap()["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("acme-composites-b-v-") && id != "nl-0043", "{id}");
        let none = with_new_id(&serde_json::json!({"name": 5})).ok().unwrap();
        assert!(none["id"].as_str().unwrap().starts_with("profile-"));
        assert_eq!(with_new_id(&serde_json::json!([1])).ok().unwrap(), serde_json::json!([1]));
    }
}
