//! Reviewers' decisions as use cases: who may decide on what is the caller's business (the
//! [`crate::domain::Principal`] check in the front ends); here each decision is checked against
//! the store (the demand area and the profile exist), stamped with who and when, stored, and
//! logged.

use std::collections::HashMap;

use super::{Actor, Engine};
use crate::domain::{clean_text, text_problem, Decision, Profile, TextKind, Verdict, Violation, MAX_NOTE_CHARS};
use crate::error::{RecordProblem, Result, UserError};
use crate::store::{hash_token, TokenRole};

/// Now as RFC 3339 (UTC, seconds), the way decisions say when they were made.
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A reviewer's note, cleaned; the rule it breaks otherwise.
fn checked_note(note: Option<&str>) -> std::result::Result<Option<String>, String> {
    let Some(note) = note else { return Ok(None) };
    let note = clean_text(note, TextKind::Multiline);
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!("must be at most {MAX_NOTE_CHARS} characters (is {})", note.chars().count()));
    }
    if let Some(rule) = text_problem(&note, TextKind::Multiline) {
        return Err(rule);
    }
    Ok(Some(note).filter(|n| !n.trim().is_empty()))
}

impl Engine {
    /// Makes a reviewer token scoped to `organisation` and returns it (shown once).
    pub fn create_reviewer_token(&self, name: &str, organisation: &str) -> Result<String> {
        let organisation = organisation.trim();
        if organisation.is_empty() || organisation.chars().count() > 200 {
            return Err(UserError::BadArgument {
                field: "organisation".into(),
                message: "a reviewer token needs the organisation it reviews for (1-200 characters)".into(),
            }
            .into());
        }
        let token = crate::store::generate_token(super::API_TOKEN_PREFIX)?;
        let _writes = self.indexer.lock_writes();
        self.indexer.store.create_scoped_api_token(
            name,
            TokenRole::Reviewer,
            Some(organisation),
            &hash_token(&token),
        )?;
        self.audit(&Actor::command_line(), "create-token", "token", name)?;
        Ok(token)
    }

    /// Records `verdict` on `profile_id` for `demand_id` (replacing any earlier one) and returns the
    /// stored decision.
    pub fn record_decision(
        &self,
        demand_id: &str,
        profile_id: &str,
        verdict: Verdict,
        note: Option<&str>,
        who: impl Into<Actor>,
    ) -> Result<Decision> {
        let note = checked_note(note).map_err(|message| UserError::BadArgument { field: "note".into(), message })?;
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        if self.indexer.store.demand(demand_id)?.is_none() {
            return Err(UserError::not_found("demand area", demand_id).into());
        }
        if self.indexer.store.profile(profile_id)?.is_none() {
            return Err(UserError::not_found("profile", profile_id).into());
        }
        let decision = Decision {
            demand_id: demand_id.to_string(),
            profile_id: profile_id.to_string(),
            decision: verdict,
            note,
            by: Some(who.as_str().to_string()),
            at: Some(rfc3339_now()),
        };
        self.indexer.store.upsert_decisions(std::slice::from_ref(&decision))?;
        self.audit(&who, "decide", "decision", &format!("{demand_id}/{profile_id}"))?;
        Ok(decision)
    }

    /// Withdraws the decision on `profile_id` for `demand_id`.
    pub fn delete_decision(&self, demand_id: &str, profile_id: &str, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.delete_decision(demand_id, profile_id)? {
            return Err(UserError::not_found("decision", &format!("{demand_id}/{profile_id}")).into());
        }
        self.audit(&who.into(), "undecide", "decision", &format!("{demand_id}/{profile_id}"))
    }

    /// The decisions of one demand area.
    pub fn decisions(&self, demand_id: &str) -> Result<Vec<Decision>> {
        self.indexer.store.decisions_for(demand_id)
    }

    /// The decisions of one demand area, by profile id: what ranking and the pages look up.
    pub fn verdicts(&self, demand_id: &str) -> Result<HashMap<String, Verdict>> {
        Ok(self.decisions(demand_id)?.into_iter().map(|d| (d.profile_id, d.decision)).collect())
    }

    /// Every decision (or those of `demand_ids`), by demand area and profile.
    pub fn all_decisions(&self, demand_ids: &[String]) -> Result<Vec<Decision>> {
        let all = self.indexer.store.all_decisions()?;
        Ok(all.into_iter().filter(|d| demand_ids.is_empty() || demand_ids.contains(&d.demand_id)).collect())
    }

    /// Stores decisions read from a file, all or nothing: every line that names an unknown demand
    /// area or profile, or has a bad note, is reported with its line; `by` and `at` default to the
    /// command line and now.
    pub fn import_decisions(&self, source: &str, lines: Vec<(usize, Decision)>) -> Result<usize> {
        let _writes = self.indexer.lock_writes();
        let mut problems = Vec::new();
        let mut known_profiles: HashMap<String, bool> = HashMap::new();
        let mut stored = Vec::with_capacity(lines.len());
        for (line, mut d) in lines {
            let mut fail = |field: &str, rule: String| {
                problems.push(RecordProblem {
                    source: source.to_string(),
                    line: Some(line),
                    id: Some(format!("{}/{}", d.demand_id, d.profile_id)),
                    violation: Violation { field: field.into(), rule, value: None },
                })
            };
            if self.indexer.store.demand(&d.demand_id)?.is_none() {
                fail("demand_id", format!("unknown demand area {:?}", d.demand_id));
            }
            let exists = match known_profiles.get(&d.profile_id) {
                Some(&e) => e,
                None => {
                    let e = self.indexer.store.profile(&d.profile_id)?.is_some();
                    known_profiles.insert(d.profile_id.clone(), e);
                    e
                }
            };
            if !exists {
                fail("profile_id", format!("unknown profile {:?}", d.profile_id));
            }
            match checked_note(d.note.as_deref()) {
                Ok(note) => d.note = note,
                Err(rule) => fail("note", rule),
            }
            d.by = Some(d.by.unwrap_or_else(|| Actor::command_line().as_str().to_string()));
            d.at = Some(d.at.unwrap_or_else(rfc3339_now));
            stored.push(d);
        }
        if !problems.is_empty() {
            return Err(UserError::InvalidRecords(problems).into());
        }
        self.indexer.store.upsert_decisions(&stored)?;
        let ids: Vec<String> = stored.iter().map(|d| format!("{}/{}", d.demand_id, d.profile_id)).collect();
        self.audit_many(&Actor::command_line(), "decide", "decision", ids.iter().map(String::as_str))?;
        Ok(stored.len())
    }
}

/// Keeps the fields a reviewer may see of a profile: everything but the contact e-mail.
pub fn for_reviewer(mut profile: Profile) -> Profile {
    profile.contact_email = None;
    profile
}
