//! Curating an event's line-up: the organiser's pins, locks, bans, conflicts of interest and
//! season rules are stored, every re-solve starts from them, and the line-up is kept (draft, then
//! final) with the inputs it was solved from and what moved since the one before (`line_up`).
//! The use cases here validate, take the write lock and record each change in the audit log, like the others.

use std::collections::BTreeMap;

use super::decisions::rfc3339_now;
use super::{Actor, Engine};
use crate::domain::{
    clean_reason, EventRule, EventRuleKind, ProfileConflict, SeasonBan, SeasonSettings, MAX_REASON_CHARS,
};
use crate::error::{RecordProblem, Result, UserError};
use crate::select::{Ban, Conflict, LineUpStatus, Pin, SeasonRules};

/// Most pins, locks and bans one event may carry (each is a constraint of the line-up model).
pub const MAX_EVENT_RULES: usize = 500;

pub(super) fn bad(field: &str, message: impl Into<String>) -> UserError {
    UserError::BadArgument { field: field.to_string(), message: message.into() }
}

fn reason(text: Option<&str>) -> Result<Option<String>> {
    clean_reason(text).map_err(|v| bad("reason", v.rule).into())
}

/// How an event's stored rules become the solver's: pins and locks pin (a lock to its demand area),
/// bans ban, and the season's bans, conflicts and rules apply to every event. `elsewhere` lists,
/// per profile, the other events whose final line-ups it pitches in: a profile that reached the
/// season's limit there is banned here, saying where it pitches. Pure, so the rules a line-up was
/// solved from can be worked out by hand.
pub fn rules_for_event(
    event_id: &str,
    event_rules: &[EventRule],
    season_bans: &[SeasonBan],
    conflicts: &[ProfileConflict],
    settings: &SeasonSettings,
    elsewhere: &BTreeMap<String, Vec<String>>,
) -> SeasonRules {
    let mut rules = SeasonRules { decay: settings.decay, ..SeasonRules::default() };
    for r in event_rules.iter().filter(|r| r.event_id == event_id) {
        match r.kind {
            EventRuleKind::Pin | EventRuleKind::Lock => rules.pins.push(Pin {
                profile_id: r.profile_id.clone(),
                event_id: event_id.to_string(),
                demand_id: r.demand_id.clone(),
            }),
            EventRuleKind::Ban => rules.bans.push(Ban {
                profile_id: r.profile_id.clone(),
                event_id: Some(event_id.to_string()),
                reason: r.reason.clone(),
            }),
        }
    }
    for b in season_bans {
        rules.bans.push(Ban { profile_id: b.profile_id.clone(), event_id: None, reason: b.reason.clone() });
    }
    for (profile, events) in elsewhere {
        if events.len() >= settings.max_events_per_profile as usize {
            rules.bans.push(Ban {
                profile_id: profile.clone(),
                event_id: Some(event_id.to_string()),
                reason: Some(format!(
                    "pitches at {} already; at most {} event{} per profile this season",
                    events.join(", "),
                    settings.max_events_per_profile,
                    if settings.max_events_per_profile == 1 { "" } else { "s" }
                )),
            });
        }
    }
    rules.conflicts = conflicts
        .iter()
        .map(|c| Conflict {
            profile_id: c.profile_id.clone(),
            organisation: c.organisation.clone(),
            reason: c.reason.clone(),
        })
        .collect();
    rules
}

impl Engine {
    pub(super) fn require_event(&self, event_id: &str) -> Result<crate::domain::Event> {
        Ok(self.indexer.store.event(event_id)?.ok_or_else(|| UserError::not_found("event", event_id))?)
    }

    fn require_profile(&self, profile_id: &str) -> Result<()> {
        if self.indexer.store.profile(profile_id)?.is_none() {
            return Err(UserError::not_found("profile", profile_id).into());
        }
        Ok(())
    }

    /// Refuses changes to an event whose line-up is final.
    pub(super) fn require_draft(&self, event_id: &str) -> Result<()> {
        match self.indexer.store.line_up(event_id)? {
            Some(r) if r.status == LineUpStatus::Final => {
                Err(bad("status", format!("the line-up of {event_id} is final; reopen it as a draft to change it"))
                    .into())
            }
            _ => Ok(()),
        }
    }

    /// The pins, locks and bans of one event.
    pub fn event_rules(&self, event_id: &str) -> Result<Vec<EventRule>> {
        self.indexer.store.event_rules(event_id)
    }

    /// Stores a pin, lock or ban of `profile_id` at `event_id` (replacing what it had there). A
    /// lock needs the demand area; a pin's demand area is optional; both must be the event's.
    pub fn set_event_rule(
        &self,
        event_id: &str,
        profile_id: &str,
        kind: EventRuleKind,
        demand_id: Option<&str>,
        why: Option<&str>,
        who: impl Into<Actor>,
    ) -> Result<EventRule> {
        let who = who.into();
        let why = reason(why)?;
        let _writes = self.indexer.lock_writes();
        let event = self.require_event(event_id)?;
        self.require_profile(profile_id)?;
        self.require_draft(event_id)?;
        let demand_id = match (kind, demand_id.filter(|d| !d.is_empty())) {
            (EventRuleKind::Ban, _) => None,
            (EventRuleKind::Lock, None) => {
                return Err(bad("demand_id", "a lock keeps a pitch to a demand area: name it").into())
            }
            (_, Some(d)) if !event.demand_ids.iter().any(|e| e == d) => {
                return Err(bad("demand_id", format!("{d} is not a demand area of {event_id}")).into())
            }
            (_, d) => d.map(str::to_string),
        };
        let existing = self.indexer.store.event_rules(event_id)?;
        if existing.len() >= MAX_EVENT_RULES && !existing.iter().any(|r| r.profile_id == profile_id) {
            return Err(
                bad("profile_id", format!("an event carries at most {MAX_EVENT_RULES} pins, locks and bans")).into()
            );
        }
        let rule = EventRule {
            event_id: event_id.to_string(),
            profile_id: profile_id.to_string(),
            kind,
            demand_id,
            reason: why,
            set_by: who.as_str().to_string(),
            set_at: rfc3339_now(),
        };
        self.indexer.store.set_event_rule(&rule)?;
        self.audit(&who, kind.as_str(), "line-up", &format!("{profile_id} at {event_id}"))?;
        Ok(rule)
    }

    /// Removes the pin, lock or ban of `profile_id` at `event_id`; false when there was none.
    pub fn remove_event_rule(&self, event_id: &str, profile_id: &str, who: impl Into<Actor>) -> Result<bool> {
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        self.require_event(event_id)?;
        self.require_draft(event_id)?;
        let removed = self.indexer.store.remove_event_rule(event_id, profile_id)?;
        if removed {
            self.audit(&who, "lift", "line-up", &format!("{profile_id} at {event_id}"))?;
        }
        Ok(removed)
    }

    /// Locks every pitch of the event's draft line-up (the whole event), so that re-solving keeps
    /// them; returns how many were locked.
    pub fn lock_line_up(&self, event_id: &str, who: impl Into<Actor>) -> Result<usize> {
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        self.require_event(event_id)?;
        self.require_draft(event_id)?;
        let record = self
            .indexer
            .store
            .line_up(event_id)?
            .ok_or_else(|| bad("event_id", format!("{event_id} has no line-up yet: solve it first")))?;
        let at = rfc3339_now();
        let rules: Vec<EventRule> = record
            .selection
            .selected
            .iter()
            .map(|p| EventRule {
                event_id: event_id.to_string(),
                profile_id: p.profile_id.clone(),
                kind: EventRuleKind::Lock,
                demand_id: Some(p.demand_id.clone()),
                reason: None,
                set_by: who.as_str().to_string(),
                set_at: at.clone(),
            })
            .collect();
        self.indexer.store.set_event_rules(&rules)?;
        self.audit(&who, "lock all", "line-up", event_id)?;
        Ok(rules.len())
    }

    /// Bans `profile_id` from every event of the season.
    pub fn ban_for_season(&self, profile_id: &str, why: Option<&str>, who: impl Into<Actor>) -> Result<()> {
        let who = who.into();
        let why = reason(why)?;
        let _writes = self.indexer.lock_writes();
        self.require_profile(profile_id)?;
        let ban = SeasonBan {
            profile_id: profile_id.to_string(),
            reason: why,
            set_by: who.as_str().to_string(),
            set_at: rfc3339_now(),
        };
        self.indexer.store.set_season_ban(&ban)?;
        self.audit(&who, "ban for the season", "profile", profile_id)
    }

    /// Lifts a season ban; false when there was none.
    pub fn lift_season_ban(&self, profile_id: &str, who: impl Into<Actor>) -> Result<bool> {
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        let removed = self.indexer.store.remove_season_ban(profile_id)?;
        if removed {
            self.audit(&who, "lift season ban", "profile", profile_id)?;
        }
        Ok(removed)
    }

    /// Every season ban.
    pub fn season_bans(&self) -> Result<Vec<SeasonBan>> {
        self.indexer.store.season_bans()
    }

    /// Records that `profile_id` may not pitch to `organisation` (its events and demand areas).
    pub fn set_conflict(
        &self,
        profile_id: &str,
        organisation: &str,
        why: Option<&str>,
        who: impl Into<Actor>,
    ) -> Result<()> {
        let who = who.into();
        let why = reason(why)?;
        let organisation = organisation.trim();
        if organisation.is_empty() || organisation.chars().count() > MAX_REASON_CHARS {
            return Err(bad("organisation", format!("must be 1-{MAX_REASON_CHARS} characters")).into());
        }
        if organisation.chars().any(char::is_control) {
            return Err(bad("organisation", "must be one line of text").into());
        }
        let _writes = self.indexer.lock_writes();
        self.require_profile(profile_id)?;
        let conflict = ProfileConflict {
            profile_id: profile_id.to_string(),
            organisation: organisation.to_string(),
            reason: why,
            set_by: who.as_str().to_string(),
            set_at: rfc3339_now(),
        };
        self.indexer.store.set_conflict(&conflict)?;
        self.audit(&who, "conflict", "profile", &format!("{profile_id} with {organisation}"))
    }

    /// Removes a conflict of interest; false when there was none.
    pub fn remove_conflict(&self, profile_id: &str, organisation: &str, who: impl Into<Actor>) -> Result<bool> {
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        let removed = self.indexer.store.remove_conflict(profile_id, organisation)?;
        if removed {
            self.audit(&who, "lift conflict", "profile", &format!("{profile_id} with {organisation}"))?;
        }
        Ok(removed)
    }

    /// Every conflict of interest.
    pub fn conflicts(&self) -> Result<Vec<ProfileConflict>> {
        self.indexer.store.conflicts()
    }

    /// The season's rules.
    pub fn season_settings(&self) -> Result<SeasonSettings> {
        self.indexer.store.season_settings()
    }

    /// Replaces the season's rules, refusing them with every broken rule at its field.
    pub fn set_season_settings(&self, settings: &SeasonSettings, who: impl Into<Actor>) -> Result<()> {
        let problems = settings.violations();
        if !problems.is_empty() {
            return Err(UserError::InvalidRecords(
                problems
                    .into_iter()
                    .map(|v| RecordProblem { source: "season rules".into(), line: None, id: None, violation: v })
                    .collect(),
            )
            .into());
        }
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        self.indexer.store.set_season_settings(settings)?;
        self.audit(&who, "set", "season rules", "season")
    }

    /// The rules event `event_id` is solved with now (see [`rules_for_event`]).
    pub fn event_selection_rules(&self, event_id: &str) -> Result<SeasonRules> {
        let mut elsewhere: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (other, record) in self.indexer.store.final_line_ups()? {
            if other == event_id {
                continue;
            }
            for p in &record.selection.selected {
                elsewhere.entry(p.profile_id.clone()).or_default().push(other.clone());
            }
        }
        Ok(rules_for_event(
            event_id,
            &self.indexer.store.event_rules(event_id)?,
            &self.indexer.store.season_bans()?,
            &self.indexer.store.conflicts()?,
            &self.indexer.store.season_settings()?,
            &elsewhere,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(profile: &str, kind: EventRuleKind, demand: Option<&str>) -> EventRule {
        EventRule {
            event_id: "e1".into(),
            profile_id: profile.into(),
            kind,
            demand_id: demand.map(str::to_string),
            reason: Some("why".into()),
            set_by: "o".into(),
            set_at: "t".into(),
        }
    }

    #[test]
    fn stored_rules_become_pins_bans_and_conflicts() {
        let rules = [
            rule("a", EventRuleKind::Pin, None),
            rule("b", EventRuleKind::Lock, Some("d1")),
            rule("c", EventRuleKind::Ban, None),
            EventRule { event_id: "e2".into(), ..rule("x", EventRuleKind::Ban, None) },
        ];
        let season = [SeasonBan { profile_id: "s".into(), reason: None, set_by: "o".into(), set_at: "t".into() }];
        let conflicts = [ProfileConflict {
            profile_id: "k".into(),
            organisation: "Renault".into(),
            reason: Some("existing supplier".into()),
            set_by: "o".into(),
            set_at: "t".into(),
        }];
        let settings = SeasonSettings { max_events_per_profile: 2, decay: 0.5 };
        let elsewhere = BTreeMap::from([
            ("once".to_string(), vec!["e0".to_string()]),
            ("twice".to_string(), vec!["e0".to_string(), "e9".to_string()]),
        ]);
        let out = rules_for_event("e1", &rules, &season, &conflicts, &settings, &elsewhere);
        assert_eq!(out.decay, 0.5);
        let pins: Vec<(&str, Option<&str>)> =
            out.pins.iter().map(|p| (p.profile_id.as_str(), p.demand_id.as_deref())).collect();
        assert_eq!(pins, [("a", None), ("b", Some("d1"))]);
        let bans: Vec<(&str, Option<&str>)> =
            out.bans.iter().map(|b| (b.profile_id.as_str(), b.event_id.as_deref())).collect();
        assert_eq!(bans, [("c", Some("e1")), ("s", None), ("twice", Some("e1"))], "another event's ban stays there");
        let limit = out.bans.last().and_then(|b| b.reason.as_deref()).unwrap();
        assert_eq!(limit, "pitches at e0, e9 already; at most 2 events per profile this season");
        assert_eq!(out.conflicts[0].reason.as_deref(), Some("existing supplier"));
    }
}
