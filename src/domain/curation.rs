//! What an organiser decides about an event's line-up beyond the ranking: profiles pinned to the
//! event, pitches locked as they were solved, profiles banned from an event or the whole season,
//! conflicts of interest of a profile with an organisation, and the season's rules. They are
//! stored, so that every re-solve starts from what was decided instead of from scratch, and every
//! front end (pages, API, command line) reads and writes the same records.

use serde::{Deserialize, Serialize};

/// Longest reason an organiser may give for a ban, conflict or pin, in characters.
pub const MAX_REASON_CHARS: usize = 300;

/// What an organiser decided about one profile at one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventRuleKind {
    /// The profile must pitch at the event (to the demand area, when one is given).
    Pin,
    /// The profile keeps the pitch it was solved into: same demand area, whatever else changes.
    Lock,
    /// The profile may not pitch at the event.
    Ban,
}

impl EventRuleKind {
    /// The stored name (`pin`, `lock`, `ban`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventRuleKind::Pin => "pin",
            EventRuleKind::Lock => "lock",
            EventRuleKind::Ban => "ban",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<EventRuleKind> {
        [EventRuleKind::Pin, EventRuleKind::Lock, EventRuleKind::Ban].into_iter().find(|k| k.as_str() == s)
    }
}

/// A pin, lock or ban of one profile at one event. One per (event, profile): pinning a banned
/// profile lifts the ban, and the other way round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRule {
    /// The event.
    pub event_id: String,
    /// The profile.
    pub profile_id: String,
    /// Pin, lock or ban.
    pub kind: EventRuleKind,
    /// The demand area it pitches to (a lock always has one; a pin may leave it to the solver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand_id: Option<String>,
    /// Why, in the organiser's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who decided it.
    pub set_by: String,
    /// When (RFC 3339).
    pub set_at: String,
}

/// A profile kept out of every event of the season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeasonBan {
    /// The profile.
    pub profile_id: String,
    /// Why, in the organiser's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who decided it.
    pub set_by: String,
    /// When (RFC 3339).
    pub set_at: String,
}

/// A profile that may not pitch to an organisation (e.g. an existing supplier of that OEM, or a
/// competitor in the same group): it is kept out of that organisation's events and demand areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileConflict {
    /// The profile.
    pub profile_id: String,
    /// The organisation, compared case-insensitively.
    pub organisation: String,
    /// Why, in the organiser's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who recorded it.
    pub set_by: String,
    /// When (RFC 3339).
    pub set_at: String,
}

/// The season's selection rules an organiser sets once for all events.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SeasonSettings {
    /// How many events of the season one profile may pitch at (1-100). Profiles already in the
    /// final line-ups of that many other events are not proposed again.
    pub max_events_per_profile: u32,
    /// Worth of the j-th pitch of a demand area: `value × decay^(j-1)`, in (0, 1]. Lower values
    /// spread the slots over more demand areas.
    pub decay: f64,
}

impl Default for SeasonSettings {
    fn default() -> Self {
        SeasonSettings { max_events_per_profile: 1, decay: 0.8 }
    }
}

impl SeasonSettings {
    /// Every broken rule, each at its field.
    pub fn violations(&self) -> Vec<super::Violation> {
        let mut out = Vec::new();
        if !(1..=100).contains(&self.max_events_per_profile) {
            out.push(super::Violation {
                field: "max_events_per_profile".into(),
                rule: "must be an integer from 1 to 100".into(),
                value: Some(self.max_events_per_profile.to_string()),
            });
        }
        if !(self.decay > 0.0 && self.decay <= 1.0) {
            out.push(super::Violation {
                field: "decay".into(),
                rule: "must be a number above 0 and at most 1".into(),
                value: Some(self.decay.to_string()),
            });
        }
        out
    }
}

/// A reason as stored: trimmed, `None` when empty; refused when longer than
/// [`MAX_REASON_CHARS`] or carrying control characters.
pub fn clean_reason(reason: Option<&str>) -> Result<Option<String>, super::Violation> {
    let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(super::Violation {
            field: "reason".into(),
            rule: format!("must be at most {MAX_REASON_CHARS} characters"),
            value: None,
        });
    }
    if r.chars().any(|c| c.is_control()) {
        return Err(super::Violation { field: "reason".into(), rule: "must be one line of text".into(), value: None });
    }
    Ok(Some(r.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn season_settings_name_each_broken_rule() {
        assert!(SeasonSettings::default().violations().is_empty());
        let bad = SeasonSettings { max_events_per_profile: 0, decay: 1.5 };
        let fields: Vec<String> = bad.violations().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["max_events_per_profile", "decay"]);
        assert_eq!(SeasonSettings { decay: 0.0, ..Default::default() }.violations().len(), 1);
    }

    #[test]
    fn reasons_are_trimmed_bounded_and_one_line() {
        assert_eq!(clean_reason(Some("  existing supplier ")).unwrap().as_deref(), Some("existing supplier"));
        assert_eq!(clean_reason(Some("   ")).unwrap(), None);
        assert_eq!(clean_reason(None).unwrap(), None);
        assert!(clean_reason(Some(&"x".repeat(MAX_REASON_CHARS + 1))).is_err());
        assert!(clean_reason(Some("line\nbreak")).is_err());
    }

    #[test]
    fn rule_kinds_round_trip_their_names() {
        for k in [EventRuleKind::Pin, EventRuleKind::Lock, EventRuleKind::Ban] {
            assert_eq!(EventRuleKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventRuleKind::parse("swap"), None);
    }
}
