//! What the product's users can do to its data, each in one place: submit, replace and delete a
//! profile; create, replace and delete demand areas and events; and the reads the front ends need
//! (tokens are made in `access`, line-ups curated in `curation` and `line_up`, by the same rules). The API, the pages and the command line call these and nothing below
//! them, so a rule (a uniqueness check, a token prefix, the order of "commit, then index") cannot
//! drift between two copies. Every write validates, takes the engine's write lock, commits to the
//! store and brings the derived data up to date before it returns, and appends who did it to the
//! audit log (under the same lock, right after its commit).
//!
//! Public submissions may wait for moderation: they are kept apart from the profiles (see
//! `store::moderation`) until an organiser approves them, and only their supplier and the
//! organisers can see them meanwhile.

use crate::domain::{AuditEntry, DemandArea, Event, Principal, Profile, ProfileStatus, Violation};
use crate::error::{RecordProblem, Result, UserError};
use crate::store::{generate_token, hash_token, AuditEvent, PendingInsert, PendingLimits, PendingProfile};

use super::access::EDIT_TOKEN_PREFIX;
use super::Engine;

/// Who a write is recorded against in the audit log: an organiser token's name, `supplier <profile
/// id>` for an edit token's holder, or `command line` for the operator at the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// The operator running `pitchmatch` commands on the data dir.
    pub fn command_line() -> Actor {
        Actor("command line".into())
    }

    /// The holder of profile `id`'s edit token.
    pub fn supplier(id: &str) -> Actor {
        Actor(format!("supplier {id}"))
    }

    /// As written in the log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&Principal> for Actor {
    fn from(who: &Principal) -> Actor {
        match who {
            Principal::Organiser(name) | Principal::Reviewer { name, .. } => Actor(name.clone()),
            Principal::Supplier(id) => Actor::supplier(id),
            Principal::Anonymous => Actor("anonymous".into()),
        }
    }
}

/// What became of a submission that waits for moderation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingSubmission {
    /// Queued; the edit token, shown this once.
    Stored(String),
    /// The client has as many submissions waiting as it may.
    ClientFull,
    /// As many submissions as the service keeps are waiting.
    QueueFull,
}

impl Engine {
    /// Stores a newly submitted profile and returns its edit token (the only time it is shown).
    /// A profile with the same id is a conflict; nothing is written then.
    /// Used when moderation is off: the profile is visible at once. Audited as its supplier's.
    pub fn submit_profile(&self, profile: &Profile) -> Result<String> {
        let token = generate_token(EDIT_TOKEN_PREFIX)?;
        let hash = hash_token(&token);
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.insert_profile_with_token(profile, &hash)? {
            return Err(UserError::Conflict { kind: "profile", id: profile.id.clone() }.into());
        }
        self.after_profile_write();
        self.audit(&Actor::supplier(&profile.id), "submit", "profile", &profile.id)?;
        Ok(token)
    }

    /// Queues a public submission for moderation and returns its edit token, unless `client` (an
    /// opaque key of the submitter) or everyone together already has as many waiting as `limits`
    /// allow. A profile (pending or not) with the same id is a conflict.
    pub fn submit_pending_profile(
        &self,
        profile: &Profile,
        client: &str,
        limits: PendingLimits,
    ) -> Result<PendingSubmission> {
        let token = generate_token(EDIT_TOKEN_PREFIX)?;
        let hash = hash_token(&token);
        let _writes = self.indexer.lock_writes();
        match self.indexer.store.insert_pending_profile(profile, &hash, client, limits)? {
            PendingInsert::Stored => {}
            PendingInsert::Taken => return Err(UserError::Conflict { kind: "profile", id: profile.id.clone() }.into()),
            PendingInsert::ClientFull => return Ok(PendingSubmission::ClientFull),
            PendingInsert::QueueFull => return Ok(PendingSubmission::QueueFull),
        }
        self.audit(&Actor::supplier(&profile.id), "submit", "profile", &profile.id)?;
        Ok(PendingSubmission::Stored(token))
    }

    /// Replaces an existing profile, approved or pending (its edit token stays valid, a pending
    /// one stays pending). Returns its status. A record equal to the stored approved one is a
    /// no-op: storing it again would start a new version, which the index, the cached rankings and
    /// the encoder would all take in for nothing.
    pub fn replace_profile(&self, profile: &Profile, who: impl Into<Actor>) -> Result<ProfileStatus> {
        let _writes = self.indexer.lock_writes();
        if self.indexer.store.profile(&profile.id)?.as_ref() == Some(profile) {
            return Ok(ProfileStatus::Approved);
        }
        let status = if self.indexer.store.replace_profile(profile)? {
            self.after_profile_write();
            ProfileStatus::Approved
        } else if self.indexer.store.replace_pending_profile(profile)? {
            ProfileStatus::Pending
        } else {
            return Err(UserError::not_found("profile", &profile.id).into());
        };
        self.audit(&who.into(), "replace", "profile", &profile.id)?;
        Ok(status)
    }

    /// Deletes a profile, approved or pending, with its edit token and its vectors, and erases it
    /// (the right to erasure): from the store's file and WAL, from the index's files and from every
    /// in-memory cache.
    pub fn delete_profile(&self, id: &str, who: impl Into<Actor>) -> Result<()> {
        let writes = self.indexer.lock_writes();
        // Its text may be the key of a ranking (relevance feedback ranks decided profiles' texts).
        let likeness = self.indexer.store.profile(id)?.map(|p| super::feedback::likeness_text(&p));
        if !self.indexer.remove_profile(id)? && !self.indexer.store.delete_pending_profile(id)? {
            return Err(UserError::not_found("profile", id).into());
        }
        self.audit(&who.into(), "delete", "profile", id)?;
        let alias = format!("erased-{}", &hash_token(&generate_token("")?)[..12]);
        self.indexer.store.pseudonymise_audit(id, &alias)?;
        drop(writes);
        self.explainer.forget(id);
        // Outside the write lock: a ranking being computed holds its slot meanwhile.
        self.rankings.forget(id);
        if let Some(text) = likeness {
            self.rankings.forget_text(&text);
            self.query_vectors.invalidate(&text);
        }
        Ok(())
    }

    /// Approves a pending submission: from now on it is ranked, searched, selected and mapped like
    /// any profile, and its edit token keeps working.
    pub fn approve_profile(&self, id: &str, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.approve_pending_profile(id)? {
            return Err(UserError::not_found("pending profile", id).into());
        }
        self.after_profile_write();
        self.audit(&who.into(), "approve", "profile", id)
    }

    /// Rejects a pending submission: it is deleted with its edit token.
    pub fn reject_profile(&self, id: &str, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.delete_pending_profile(id)? {
            return Err(UserError::not_found("pending profile", id).into());
        }
        self.audit(&who.into(), "reject", "profile", id)
    }

    /// Up to `limit` pending submissions with ids after `after`, by id.
    pub fn pending_profiles(&self, after: Option<&str>, limit: usize) -> Result<Vec<PendingProfile>> {
        self.indexer.store.pending_page(after, limit)
    }

    /// Number of pending submissions.
    pub fn pending_count(&self) -> Result<usize> {
        self.indexer.store.pending_count()
    }

    /// A profile, approved or pending, with its status: for its supplier and the organisers only
    /// ([`Engine::profile`] sees approved profiles alone).
    pub fn profile_with_status(&self, id: &str) -> Result<Option<(Profile, ProfileStatus)>> {
        if let Some(p) = self.indexer.store.profile(id)? {
            return Ok(Some((p, ProfileStatus::Approved)));
        }
        Ok(self.indexer.store.pending_profile(id)?.map(|p| (p.profile, ProfileStatus::Pending)))
    }

    /// Up to `limit` audit entries newest first, older than entry `before` when given, about
    /// record `record_id` only when given.
    pub fn audit_log(&self, before: Option<u64>, record_id: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.indexer.store.audit_page(before, record_id, limit)
    }

    /// Appends one entry to the audit log. Call under the write lock, right after the write: the
    /// write stands either way, but a failure to log it is reported, not swallowed.
    pub(super) fn audit(&self, who: &Actor, action: &'static str, kind: &'static str, id: &str) -> Result<()> {
        self.audit_many(who, action, kind, std::iter::once(id))
    }

    /// Appends one entry per id, in one transaction.
    pub(super) fn audit_many<'a>(
        &self,
        who: &Actor,
        action: &'static str,
        kind: &'static str,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let events: Vec<AuditEvent> = ids
            .into_iter()
            .map(|id| AuditEvent { actor: who.as_str().to_string(), action, kind, record_id: id.to_string() })
            .collect();
        self.indexer.store.append_audit(&events)
    }

    /// Creates a demand area; one with the same id is a conflict.
    pub fn create_demand(&self, demand: &DemandArea, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if self.indexer.store.demand(&demand.id)?.is_some() {
            return Err(UserError::Conflict { kind: "demand area", id: demand.id.clone() }.into());
        }
        self.indexer.store.upsert_demands(std::slice::from_ref(demand))?;
        self.indexer.note_text_written();
        self.audit(&who.into(), "create", "demand", &demand.id)
    }

    /// Replaces an existing demand area.
    pub fn replace_demand(&self, demand: &DemandArea, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if self.indexer.store.demand(&demand.id)?.is_none() {
            return Err(UserError::not_found("demand area", &demand.id).into());
        }
        self.indexer.store.upsert_demands(std::slice::from_ref(demand))?;
        self.indexer.note_text_written();
        self.audit(&who.into(), "replace", "demand", &demand.id)
    }

    /// Deletes a demand area.
    pub fn delete_demand(&self, id: &str, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.delete_demand(id)? {
            return Err(UserError::not_found("demand area", id).into());
        }
        self.audit(&who.into(), "delete", "demand", id)
    }

    /// Replaces an existing event. Every demand area it names must exist.
    pub fn replace_event(&self, event: &Event, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if self.indexer.store.event(&event.id)?.is_none() {
            return Err(UserError::not_found("event", &event.id).into());
        }
        self.check_event_demands(event)?;
        self.indexer.store.upsert_events(std::slice::from_ref(event))?;
        self.audit(&who.into(), "replace", "event", &event.id)
    }

    /// Deletes an event (its demand areas stay).
    pub fn delete_event(&self, id: &str, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.delete_event(id)? {
            return Err(UserError::not_found("event", id).into());
        }
        self.audit(&who.into(), "delete", "event", id)
    }

    /// Creates an event. Every demand area it names must exist; one with the same id is a conflict.
    pub fn create_event(&self, event: &Event, who: impl Into<Actor>) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        self.check_event_demands(event)?;
        if self.indexer.store.event(&event.id)?.is_some() {
            return Err(UserError::Conflict { kind: "event", id: event.id.clone() }.into());
        }
        self.indexer.store.upsert_events(std::slice::from_ref(event))?;
        self.audit(&who.into(), "create", "event", &event.id)
    }

    /// Every demand area an event names must exist: else the rule, as for an import.
    fn check_event_demands(&self, event: &Event) -> Result<()> {
        let missing = self.indexer.store.missing_demand_ids(event.demand_ids.iter().map(String::as_str))?;
        if !missing.is_empty() {
            let problems = missing
                .into_iter()
                .map(|m| RecordProblem {
                    source: "request".into(),
                    line: None,
                    id: Some(event.id.clone()),
                    violation: Violation {
                        field: "demand_ids".into(),
                        rule: format!("refers to unknown demand area {m:?} (create it first)"),
                        value: None,
                    },
                })
                .collect();
            return Err(UserError::InvalidRecords(problems).into());
        }
        Ok(())
    }

    /// A stored, approved profile (pending submissions: [`Engine::profile_with_status`]).
    pub fn profile(&self, id: &str) -> Result<Option<Profile>> {
        self.indexer.store.profile(id)
    }

    /// Stored profiles with these ids (unknown ids are skipped), in id order.
    pub fn profiles_by_id(&self, ids: &[String]) -> Result<Vec<Profile>> {
        self.indexer.store.profiles_by_id(ids)
    }

    /// Up to `limit` profiles with ids after `after`, in id order.
    pub fn profile_page(&self, after: Option<&str>, limit: usize) -> Result<Vec<Profile>> {
        self.indexer.store.profile_page(after, limit)
    }

    /// Number of stored profiles.
    pub fn profile_count(&self) -> Result<usize> {
        self.indexer.store.profile_count()
    }

    /// A stored demand area.
    pub fn demand(&self, id: &str) -> Result<Option<DemandArea>> {
        self.indexer.store.demand(id)
    }

    /// Every demand area, by id.
    pub fn demands(&self) -> Result<Vec<DemandArea>> {
        self.indexer.store.all_demands()
    }

    /// A stored event.
    pub fn event(&self, id: &str) -> Result<Option<Event>> {
        self.indexer.store.event(id)
    }

    /// Every event, by id.
    pub fn events(&self) -> Result<Vec<Event>> {
        self.indexer.store.all_events()
    }

    /// A number that grows with every profile change: anything drawn from the profiles (the
    /// landscape map) is current while it is unchanged.
    pub fn profiles_version(&self) -> Result<u64> {
        self.indexer.store.profile_seq()
    }
}
