//! A line-up as an organiser keeps it: the solved selection of one event together with every input
//! it was solved from (the demand areas' rankings with their values, the rules with pins, locks,
//! bans and conflicts, and the profiles' facets), so that solving the same inputs again gives the
//! same line-up and anyone can see later why it looked that way; and what changed from the line-up
//! before, with a reason per change, so that an organiser who pins, bans or swaps sees what moved.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{CandidateProfile, EventSelection, EventSpec, LeftOutReason, SeasonRules, SelectError};

/// Everything one event's line-up was solved from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineUpInputs {
    /// The event with its demand areas' rankings (values as the solver saw them).
    pub event: EventSpec,
    /// The rules, including the organiser's pins, locks (as pins to a demand area), bans and
    /// conflicts.
    pub rules: SeasonRules,
    /// The facets of every profile the rankings and rules name, by id order.
    pub profiles: Vec<CandidateProfile>,
}

impl LineUpInputs {
    /// Solves these inputs (exactly, as when the line-up was made).
    pub fn solve(&self) -> Result<EventSelection, SelectError> {
        let profiles: HashMap<String, CandidateProfile> =
            self.profiles.iter().map(|p| (p.profile_id.clone(), p.clone())).collect();
        let season = super::select_season(&profiles, std::slice::from_ref(&self.event), &self.rules)?;
        season.events.into_iter().next().ok_or_else(|| SelectError::Solver("the solver returned no event".into()))
    }
}

/// Whether a line-up may still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineUpStatus {
    /// Solved, open to pins, bans, swaps and re-solving.
    Draft,
    /// Decided: kept as it is until an organiser reopens it.
    Final,
}

impl LineUpStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LineUpStatus::Draft => "draft",
            LineUpStatus::Final => "final",
        }
    }
}

/// What happened to one profile between two line-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    /// It pitches now and did not before.
    In,
    /// It pitched before and does not now.
    Out,
    /// It pitches to another demand area than before.
    Moved,
}

/// One change between two line-ups, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineUpMove {
    /// The profile.
    pub profile_id: String,
    /// In, out or moved.
    pub kind: MoveKind,
    /// The demand area it pitches to now (in, moved) or pitched to before (out).
    pub demand_id: String,
    /// Why, in words.
    pub why: String,
}

/// A line-up as kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineUpRecord {
    /// Draft or final.
    pub status: LineUpStatus,
    /// The solved line-up, reserves and why-not.
    pub selection: EventSelection,
    /// What it was solved from.
    pub inputs: LineUpInputs,
    /// What changed from the line-up before it (empty for the first).
    pub moves: Vec<LineUpMove>,
    /// Who solved it.
    pub solved_by: String,
    /// When (RFC 3339).
    pub solved_at: String,
    /// Who marked it final, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalised_by: Option<String>,
    /// When it was marked final (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalised_at: Option<String>,
}

/// The changes from `before` to `after`, each with a reason read from `after`'s rules and
/// explanations: a pitch that came in because the organiser pinned or locked it says so, one that
/// went out because of a ban gives the ban's reason, one displaced by others says what the
/// solver said about it. Order: in, moved, out, each by profile id.
pub fn line_up_moves(before: &EventSelection, after: &EventSelection, rules: &SeasonRules) -> Vec<LineUpMove> {
    let was: HashMap<&str, &str> =
        before.selected.iter().map(|p| (p.profile_id.as_str(), p.demand_id.as_str())).collect();
    let now: HashMap<&str, &str> =
        after.selected.iter().map(|p| (p.profile_id.as_str(), p.demand_id.as_str())).collect();
    let pinned = |id: &str| rules.pins.iter().find(|p| p.profile_id == id);
    let banned = |id: &str| {
        rules.bans.iter().find(|b| b.profile_id == id && b.event_id.as_deref().is_none_or(|e| e == after.event_id))
    };
    let mut moves = Vec::new();
    for p in &after.selected {
        let id = p.profile_id.as_str();
        match was.get(id) {
            None => {
                let why = match pinned(id) {
                    Some(_) => "pinned by the organiser".to_string(),
                    None => "takes a slot the changes freed (the best value left)".to_string(),
                };
                moves.push(LineUpMove {
                    profile_id: id.into(),
                    kind: MoveKind::In,
                    demand_id: p.demand_id.clone(),
                    why,
                });
            }
            Some(d) if *d != p.demand_id => {
                let why = match pinned(id).and_then(|pin| pin.demand_id.as_deref()) {
                    Some(pd) if pd == p.demand_id => "pinned to this demand area by the organiser".to_string(),
                    _ => format!("moved from {d}: its slot there went to a stronger pitch"),
                };
                moves.push(LineUpMove {
                    profile_id: id.into(),
                    kind: MoveKind::Moved,
                    demand_id: p.demand_id.clone(),
                    why,
                });
            }
            Some(_) => {}
        }
    }
    for p in &before.selected {
        let id = p.profile_id.as_str();
        if now.contains_key(id) {
            continue;
        }
        let left_out = after.left_out.iter().find(|l| l.profile_id == id);
        let why = if let Some(b) = banned(id) {
            match b.reason.as_deref() {
                Some(r) => format!("banned by the organiser ({r})"),
                None => "banned by the organiser".to_string(),
            }
        } else if let Some(l) = left_out.filter(|l| l.reason != LeftOutReason::Other) {
            l.detail.clone()
        } else {
            "its slot went to a pinned or stronger pitch".to_string()
        };
        moves.push(LineUpMove { profile_id: id.into(), kind: MoveKind::Out, demand_id: p.demand_id.clone(), why });
    }
    let order = |k: MoveKind| match k {
        MoveKind::In => 0,
        MoveKind::Moved => 1,
        MoveKind::Out => 2,
    };
    moves.sort_by(|a, b| (order(a.kind), &a.profile_id).cmp(&(order(b.kind), &b.profile_id)));
    moves
}
