//! What an OEM reviewer decided about one profile for one of its demand areas. Decisions are the
//! best signal the product gets: they are shown to organisers, they move the undecided profiles of
//! that demand area (relevance feedback), they train the cross-demand model and they shape the
//! line-up. One type, validated by the same rules whether it comes from a page, the API or a file.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FieldReader, Violation};

/// The three answers a reviewer can give about a proposed pitch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The OEM wants to hear this pitch.
    Interested,
    /// Undecided, worth keeping in view.
    Maybe,
    /// Not for this demand area.
    NotRelevant,
}

impl Verdict {
    /// Every verdict, in the order the pages offer them.
    pub const ALL: [Verdict; 3] = [Verdict::Interested, Verdict::Maybe, Verdict::NotRelevant];

    /// The wire name (`interested`, `maybe`, `not_relevant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Interested => "interested",
            Verdict::Maybe => "maybe",
            Verdict::NotRelevant => "not_relevant",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The graded judgment this verdict stands for (the 0-3 scale of `qrels.tsv`): interested is
    /// relevant (2), maybe is partly relevant (1), not relevant is 0. Learning and evaluation read
    /// decisions and judgments on this one scale.
    pub fn grade(self) -> u8 {
        match self {
            Verdict::Interested => 2,
            Verdict::Maybe => 1,
            Verdict::NotRelevant => 0,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest note a reviewer may attach to a decision, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// The current decision of a reviewer (or organiser) on one profile for one demand area. There is
/// at most one per (demand_id, profile_id); a new one replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// The demand area decided for.
    #[schema(example = "renault-batteries")]
    pub demand_id: String,
    /// The profile decided on.
    #[schema(example = "voltaic-b-3f9a2c1d")]
    pub profile_id: String,
    /// `interested`, `maybe` or `not_relevant`.
    pub decision: Verdict,
    /// Free text, up to 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who decided: the token's name (set by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When, RFC 3339 (set by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Decision {
    const FIELDS: [&'static str; 6] = ["demand_id", "profile_id", "decision", "note", "by", "at"];

    /// Validates a raw JSON record (one line of `decisions import`); on failure returns every
    /// violated rule. Whether the demand area and the profile exist is the store's question.
    pub fn from_json(value: &Value) -> Result<Decision, Vec<Violation>> {
        let mut r = FieldReader::new(value, &Self::FIELDS)?;
        let demand_id = r.id("demand_id");
        let profile_id = r.id("profile_id");
        let decision = r.enum_value::<Verdict>("decision", true, "interested, maybe, not_relevant");
        let note = r.multiline("note", false, 0, MAX_NOTE_CHARS).filter(|n| !n.trim().is_empty());
        let by = r.string("by", false, 1, 200);
        let at = r.string("at", false, 1, 40);
        let record = match (demand_id, profile_id, decision) {
            (Some(demand_id), Some(profile_id), Some(decision)) => {
                Some(Decision { demand_id, profile_id, decision, note, by, at })
            }
            _ => None,
        };
        r.finish(record)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_decision_line_is_read_with_its_optional_note() {
        let d = Decision::from_json(&json!({"demand_id": "d1", "profile_id": "p1", "decision": "not_relevant",
            "note": "already a supplier"}))
        .unwrap();
        assert_eq!(d.decision, Verdict::NotRelevant);
        assert_eq!(d.note.as_deref(), Some("already a supplier"));
        assert_eq!(serde_json::to_value(&d).unwrap()["decision"], "not_relevant");
    }

    #[test]
    fn every_broken_rule_of_a_decision_is_reported() {
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        let errors = Decision::from_json(&json!({"demand_id": "../x", "decision": "yes", "note": long, "colour": 1}))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|v| v.field.as_str()).collect();
        for field in ["colour", "demand_id", "profile_id", "decision", "note"] {
            assert!(fields.contains(&field), "{field} missing from {fields:?}");
        }
    }

    #[test]
    fn verdicts_read_as_grades_of_the_judgment_scale() {
        assert_eq!(Verdict::parse("interested").map(Verdict::grade), Some(2));
        assert_eq!(Verdict::parse("maybe").map(Verdict::grade), Some(1));
        assert_eq!(Verdict::NotRelevant.grade(), 0);
        assert_eq!(Verdict::parse("Interested"), None);
    }
}
