//! An event's line-up as it is solved, kept and changed: solving from the event's stored rules
//! (see `curation`) into a draft that records its inputs and what moved since the draft before,
//! making it final or reopening it, and swapping one pitch for another. The agenda and the
//! booklet read the pitches from here.

use super::curation::bad;
use super::decisions::rfc3339_now;
use super::{Actor, Engine};
use crate::domain::{EventRuleKind, Ranker};
use crate::error::Result;
use crate::select::{self, line_up_moves, LineUpInputs, LineUpRecord, LineUpStatus, SeasonRules};

impl Engine {
    /// The kept line-up of an event, if it was solved.
    pub fn line_up(&self, event_id: &str) -> Result<Option<LineUpRecord>> {
        self.indexer.store.line_up(event_id)
    }

    /// The pitches of event `event_id` as its agenda and booklet show them: those of its kept line-up
    /// (final or draft), else of a line-up solved from its stored rules (not kept). `rules`, when
    /// given, replaces all of that with a one-off solve under those rules.
    pub fn event_pitches(&self, event_id: &str, rules: Option<&SeasonRules>) -> Result<Vec<select::Pitch>> {
        let event = self.require_event(event_id)?;
        if rules.is_none() {
            if let Some(record) = self.indexer.store.line_up(event_id)? {
                return Ok(record.selection.selected);
            }
        }
        let rules = match rules {
            Some(r) => r.clone(),
            None => self.event_selection_rules(event_id)?,
        };
        Ok(self.line_up_inputs(&event, rules)?.solve()?.selected)
    }

    /// What event `event` is solved from under `rules`: its demand areas ranked, the candidates'
    /// facets, and the rules, less those naming profiles that are no candidates (they change
    /// nothing, and the solver wants every profile it is told about).
    fn line_up_inputs(&self, event: &crate::domain::Event, mut rules: SeasonRules) -> Result<LineUpInputs> {
        let spec = self.ranked_event(&self.event_def(event), rules.top_n, Ranker::default(), &mut |_| {})?;
        let profiles = self.candidate_profiles(std::slice::from_ref(&spec), &rules)?;
        rules.bans.retain(|b| profiles.contains_key(&b.profile_id));
        rules.conflicts.retain(|c| profiles.contains_key(&c.profile_id));
        rules.pins.retain(|p| profiles.contains_key(&p.profile_id));
        let mut facets: Vec<select::CandidateProfile> = profiles.into_values().collect();
        facets.sort_by(|a, b| a.profile_id.cmp(&b.profile_id));
        Ok(LineUpInputs { event: spec, rules, profiles: facets })
    }

    /// Solves event `event_id` from its stored rules and keeps the result as its draft line-up,
    /// with the inputs and what moved since the draft before. A final line-up is not solved again.
    pub fn solve_line_up(&self, event_id: &str, who: impl Into<Actor>) -> Result<LineUpRecord> {
        let who = who.into();
        let event = self.require_event(event_id)?;
        self.require_draft(event_id)?;
        let inputs = self.line_up_inputs(&event, self.event_selection_rules(event_id)?)?;
        let selection = inputs.solve()?;
        let _writes = self.indexer.lock_writes();
        let before = self.indexer.store.line_up(event_id)?;
        if before.as_ref().is_some_and(|b| b.status == LineUpStatus::Final) {
            return Err(bad("status", format!("the line-up of {event_id} was made final meanwhile")).into());
        }
        let moves = before.map(|b| line_up_moves(&b.selection, &selection, &inputs.rules)).unwrap_or_default();
        let record = LineUpRecord {
            status: LineUpStatus::Draft,
            selection,
            inputs,
            moves,
            solved_by: who.as_str().to_string(),
            solved_at: rfc3339_now(),
            finalised_by: None,
            finalised_at: None,
        };
        self.indexer.store.save_line_up(event_id, &record)?;
        self.audit(&who, "solve", "line-up", event_id)?;
        Ok(record)
    }

    /// Marks the event's draft line-up final: it is kept as it is (with its inputs) until
    /// reopened, its agenda and booklet follow it, and other events count its pitches against the
    /// season's limit.
    pub fn finalise_line_up(&self, event_id: &str, who: impl Into<Actor>) -> Result<LineUpRecord> {
        self.set_line_up_status(event_id, LineUpStatus::Final, who.into())
    }

    /// Reopens a final line-up as a draft.
    pub fn reopen_line_up(&self, event_id: &str, who: impl Into<Actor>) -> Result<LineUpRecord> {
        self.set_line_up_status(event_id, LineUpStatus::Draft, who.into())
    }

    fn set_line_up_status(&self, event_id: &str, status: LineUpStatus, who: Actor) -> Result<LineUpRecord> {
        let _writes = self.indexer.lock_writes();
        self.require_event(event_id)?;
        let mut record = self
            .indexer
            .store
            .line_up(event_id)?
            .ok_or_else(|| bad("event_id", format!("{event_id} has no line-up yet: solve it first")))?;
        if record.status != status {
            record.status = status;
            let (by, at) = match status {
                LineUpStatus::Final => (Some(who.as_str().to_string()), Some(rfc3339_now())),
                LineUpStatus::Draft => (None, None),
            };
            record.finalised_by = by;
            record.finalised_at = at;
            self.indexer.store.save_line_up(event_id, &record)?;
            let action = if status == LineUpStatus::Final { "finalise" } else { "reopen" };
            self.audit(&who, action, "line-up", event_id)?;
        }
        Ok(record)
    }

    /// Swaps `out` (a pitch of the draft line-up) for `into` (a reserve or any other profile): `out`
    /// is banned from the event with the swap as the reason, `into` is pinned to the demand area
    /// `out` pitched to, and the event is solved again.
    pub fn swap_pitch(&self, event_id: &str, out: &str, into: &str, who: impl Into<Actor>) -> Result<LineUpRecord> {
        let who = who.into();
        let record = self
            .line_up(event_id)?
            .ok_or_else(|| bad("event_id", format!("{event_id} has no line-up yet: solve it first")))?;
        let pitch = record
            .selection
            .selected
            .iter()
            .find(|p| p.profile_id == out)
            .ok_or_else(|| bad("out", format!("{out} does not pitch at {event_id}")))?;
        if out == into {
            return Err(bad("into", "a pitch cannot be swapped for itself").into());
        }
        let demand = pitch.demand_id.clone();
        self.set_event_rule(event_id, into, EventRuleKind::Pin, Some(&demand), None, who.clone())?;
        self.set_event_rule(
            event_id,
            out,
            EventRuleKind::Ban,
            None,
            Some(&format!("swapped for {into}")),
            who.clone(),
        )?;
        self.solve_line_up(event_id, who)
    }
}
