//! Event-selection optimiser: turns per-demand relevance rankings into pitch line-ups.
//!
//! pitchmatch ranks Dutch supplier profiles against the demand areas of French OEMs; an
//! organiser then has to fill the limited pitch slots of every Co-Innovation Day of a season.
//! Doing that greedily (best score first) wastes strong profiles on one event while others go
//! uncovered, ignores quotas and cannot respect the season limit globally, so this module
//! chooses the whole season's line-up at once with an integer linear programme (solved
//! exactly by the pure-Rust `microlp` solver through `good_lp`) and reports, per event, the
//! selected pitches, reserves, why strong candidates were left out, and — never silently —
//! every constraint that could not be met. It is self-contained: it defines its own input
//! types and depends on nothing else in pitchmatch.
//!
//! # Model (see [`solve`] for the details)
//! A pitch is a (profile, event, demand area) triple. Within one demand area the j-th best
//! pitch is worth `value × decay^(j-1)`. This concave utility is modelled *exactly* with
//! positional assignment variables `y[c, j]` ("candidate `c` takes position `j` of its demand
//! area"): each position holds at most one candidate and each candidate at most one position,
//! and because position weights decrease, an optimal solution always places the chosen
//! candidates in value order on positions `1..k` (rearrangement inequality), so the objective
//! equals the decayed sum of the sorted values. Hard constraints: slots, at most once per
//! event, season limit, bans, conflicts. Soft constraints (pins, `min_per_demand`, quotas) are
//! lexicographically more important than value: violating any of them costs a penalty larger
//! than the total value of the season, and every violation is reported in `unmet`.
//!
//! # Season file
//! See [`SeasonFile`] for the JSON shape the CLI reads with `pitchmatch select --season FILE`.

mod explain;
mod greedy;
mod lineup;
mod problem;
mod solve;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use self::lineup::{line_up_moves, LineUpInputs, LineUpMove, LineUpRecord, LineUpStatus, MoveKind};

/// A profile that may be selected to pitch, with the tags that quotas look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateProfile {
    /// Stable profile identifier, e.g. `nl-0042`.
    pub profile_id: String,
    /// `company` or `knowledge_institution` (only the latter is special-cased).
    pub kind: String,
    /// Company size; `sme` and `startup` count towards [`Quotas::min_sme_or_startup`].
    #[serde(default)]
    pub size: Option<String>,
    /// Themes of the profile, used by [`Quotas::max_per_theme`].
    #[serde(default)]
    pub themes: Vec<String>,
    /// Languages the team can pitch in (codes such as `fr`); empty = not known, no restriction.
    #[serde(default)]
    pub pitch_languages: Vec<String>,
}

impl CandidateProfile {
    /// Whether the profile counts as an SME or start-up (case-insensitive).
    pub fn is_sme_or_startup(&self) -> bool {
        self.size.as_deref().is_some_and(|s| {
            let s = s.trim();
            s.eq_ignore_ascii_case("sme") || s.eq_ignore_ascii_case("startup")
        })
    }

    /// Whether the profile is a knowledge institution (case-insensitive).
    pub fn is_knowledge_institution(&self) -> bool {
        self.kind.trim().eq_ignore_ascii_case("knowledge_institution")
    }
}

/// Relevance ranking of profiles for one demand area. The list does not need to be sorted:
/// it is sorted stably by value (descending), and the 1-based position in that order is the
/// profile's `rank`. A profile listed twice keeps its first (best) entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandRanking {
    /// Demand area identifier, e.g. `psa-03`.
    pub demand_id: String,
    /// `(profile_id, value)` pairs; values must be finite and non-negative.
    pub ranked: Vec<(String, f64)>,
    /// The organisation whose demand area it is, when an event has several hosts: a profile in
    /// conflict with it may not pitch to this demand area (matched like [`Conflict::organisation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// Optional per-event quotas. Each is soft: if it cannot be met it is reported in `unmet`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quotas {
    /// At least this many pitches by profiles whose size is `sme` or `startup`.
    pub min_sme_or_startup: Option<u32>,
    /// At least this many pitches by knowledge institutions.
    pub min_knowledge_institutions: Option<u32>,
    /// At most this many pitches by knowledge institutions.
    pub max_knowledge_institutions: Option<u32>,
    /// At most this many pitches by profiles carrying any single theme.
    pub max_per_theme: Option<u32>,
}

/// One event (Co-Innovation Day) with its demand areas and their rankings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSpec {
    /// Event identifier, e.g. `psa-2021`.
    pub event_id: String,
    /// Hosting organisation, matched case-insensitively against [`Conflict::organisation`].
    pub organisation: String,
    /// Number of pitch slots.
    pub slots: u32,
    /// Demand areas with their rankings.
    pub demands: Vec<DemandRanking>,
    /// Optional quotas.
    #[serde(default)]
    pub quotas: Quotas,
    /// Languages pitches are accepted in (codes such as `fr`); empty = any. A profile whose
    /// pitch languages are known and share none with these may not pitch at the event.
    #[serde(default)]
    pub pitch_languages: Vec<String>,
}

/// Organiser pin: the profile must pitch at the event (optionally for a given demand area).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pin {
    /// Pinned profile.
    pub profile_id: String,
    /// Event it must pitch at.
    pub event_id: String,
    /// Demand area it must pitch to; `None` = whichever of the event's areas is best.
    #[serde(default)]
    pub demand_id: Option<String>,
}

/// Organiser ban: the profile may not pitch at the event, or anywhere if `event_id` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ban {
    /// Banned profile.
    pub profile_id: String,
    /// Event it is banned from; `None` = the whole season.
    #[serde(default)]
    pub event_id: Option<String>,
    /// Why, in the organiser's words; repeated in "why not".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Conflict of interest: the profile may not pitch to the organisation (e.g. `Renault`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conflict {
    /// Profile with the conflict.
    pub profile_id: String,
    /// Organisation name, compared case-insensitively (trimmed) with [`EventSpec::organisation`].
    pub organisation: String,
    /// Why, in the organiser's words (e.g. "existing supplier"); repeated in "why not".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Season-wide selection rules. Every field has a default, so `{}` is a valid rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SeasonRules {
    /// How many events one profile may pitch at in the season (default 1).
    pub max_events_per_profile: u32,
    /// Minimum pitches per demand area of an event (default 1); soft.
    pub min_per_demand: u32,
    /// Decay of the j-th pitch in a demand area: worth `value × decay^(j-1)`; in `(0, 1]`
    /// (default 0.8).
    pub decay: f64,
    /// Candidates kept per demand area (best eligible first, default 30). Pinned profiles are
    /// always kept.
    pub top_n: usize,
    /// Reserves listed per event (default 5).
    pub reserves: usize,
    /// How many of the strongest left-out profiles get a reason per event (default 10).
    pub explain_top: usize,
    /// Solver time limit in seconds (default 60). If it fires, the best line-up found is
    /// returned with `optimal: false`.
    pub time_limit_secs: f64,
    /// Organiser pins.
    pub pins: Vec<Pin>,
    /// Organiser bans.
    pub bans: Vec<Ban>,
    /// Conflicts of interest.
    pub conflicts: Vec<Conflict>,
}

impl Default for SeasonRules {
    fn default() -> Self {
        SeasonRules {
            max_events_per_profile: 1,
            min_per_demand: 1,
            decay: 0.8,
            top_n: 30,
            reserves: 5,
            explain_top: 10,
            time_limit_secs: 60.0,
            pins: Vec::new(),
            bans: Vec::new(),
            conflicts: Vec::new(),
        }
    }
}

/// Largest solver time limit, in seconds: a selection holds a ranking permit (a CPU) for this long.
pub const MAX_TIME_LIMIT_SECS: f64 = 300.0;
/// Most candidates kept per demand area (the most a shortlist shows).
pub const MAX_TOP_N: usize = 200;
/// Most reserves listed per event.
pub const MAX_RESERVES: usize = 100;
/// Most left-out profiles explained per event.
pub const MAX_EXPLAIN_TOP: usize = 100;
/// Most events one profile may be allowed to pitch at.
pub const MAX_EVENTS_PER_PROFILE: u32 = 100;
/// Largest minimum of pitches per demand area (the most slots an event has).
pub const MAX_MIN_PER_DEMAND: u32 = 500;
/// Most pins, bans and conflicts, each: every one is a constraint of the programme.
pub const MAX_PINS: usize = 500;
/// See [`MAX_PINS`].
pub const MAX_BANS: usize = 5_000;
/// See [`MAX_PINS`].
pub const MAX_CONFLICTS: usize = 5_000;

impl SeasonRules {
    /// Every field beyond its documented maximum. Organisers are trusted with the rules but not
    /// with unbounded work: a time limit of a day or a million pins would hold a CPU (and the
    /// memory of the programme) for as long as they ask.
    pub fn limit_violations(&self) -> Vec<crate::domain::Violation> {
        let mut out = Vec::new();
        let mut over = |field: &str, max: String, value: String| {
            out.push(crate::domain::Violation {
                field: field.to_string(),
                rule: format!("must be at most {max}"),
                value: Some(value),
            });
        };
        if self.time_limit_secs > MAX_TIME_LIMIT_SECS {
            over("time_limit_secs", MAX_TIME_LIMIT_SECS.to_string(), self.time_limit_secs.to_string());
        }
        if self.top_n > MAX_TOP_N {
            over("top_n", MAX_TOP_N.to_string(), self.top_n.to_string());
        }
        if self.reserves > MAX_RESERVES {
            over("reserves", MAX_RESERVES.to_string(), self.reserves.to_string());
        }
        if self.explain_top > MAX_EXPLAIN_TOP {
            over("explain_top", MAX_EXPLAIN_TOP.to_string(), self.explain_top.to_string());
        }
        if self.max_events_per_profile > MAX_EVENTS_PER_PROFILE {
            over("max_events_per_profile", MAX_EVENTS_PER_PROFILE.to_string(), self.max_events_per_profile.to_string());
        }
        if self.min_per_demand > MAX_MIN_PER_DEMAND {
            over("min_per_demand", MAX_MIN_PER_DEMAND.to_string(), self.min_per_demand.to_string());
        }
        if self.pins.len() > MAX_PINS {
            over("pins", format!("{MAX_PINS} entries"), format!("{} entries", self.pins.len()));
        }
        if self.bans.len() > MAX_BANS {
            over("bans", format!("{MAX_BANS} entries"), format!("{} entries", self.bans.len()));
        }
        if self.conflicts.len() > MAX_CONFLICTS {
            over("conflicts", format!("{MAX_CONFLICTS} entries"), format!("{} entries", self.conflicts.len()));
        }
        out
    }

    /// [`SeasonRules::limit_violations`] as one error naming the first field and rule.
    pub fn check_limits(&self) -> Result<(), SelectError> {
        match self.limit_violations().into_iter().next() {
            None => Ok(()),
            Some(v) => Err(SelectError::InvalidInput(format!(
                "rules.{} {} (got {})",
                v.field,
                v.rule,
                v.value.unwrap_or_default()
            ))),
        }
    }
}

/// An event as described in a season file: demand ids only, the rankings come from
/// pitchmatch's ranker (see [`EventDef::with_rankings`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDef {
    /// Event identifier.
    pub event_id: String,
    /// Hosting organisation (for conflicts).
    pub organisation: String,
    /// Number of pitch slots.
    pub slots: u32,
    /// Demand area identifiers of the event.
    pub demands: Vec<String>,
    /// Optional quotas.
    #[serde(default)]
    pub quotas: Quotas,
    /// Accepted pitch languages; empty = any (see [`EventSpec::pitch_languages`]).
    #[serde(default)]
    pub pitch_languages: Vec<String>,
}

impl EventDef {
    /// Builds the solver input from this definition and the rankings of its demand areas.
    /// Rankings are matched by `demand_id`; a demand area without a ranking gets an empty one
    /// (and will show up in `unmet` as uncovered).
    pub fn with_rankings(&self, mut rankings: Vec<DemandRanking>) -> EventSpec {
        let demands = self
            .demands
            .iter()
            .map(|id| match rankings.iter().position(|r| &r.demand_id == id) {
                Some(i) => rankings.swap_remove(i),
                None => DemandRanking { demand_id: id.clone(), ranked: Vec::new(), organisation: None },
            })
            .collect();
        EventSpec {
            event_id: self.event_id.clone(),
            organisation: self.organisation.clone(),
            slots: self.slots,
            demands,
            quotas: self.quotas.clone(),
            pitch_languages: self.pitch_languages.clone(),
        }
    }
}

/// A season file, read by `pitchmatch select --season FILE`. JSON shape (all `rules` fields
/// optional, defaults as in [`SeasonRules`]):
///
/// ```json
/// {
///   "events": [
///     {"event_id": "psa-2021", "organisation": "PSA", "slots": 12,
///      "demands": ["psa-01", "psa-02", "psa-03"],
///      "quotas": {"min_sme_or_startup": 3, "max_knowledge_institutions": 2,
///                 "min_knowledge_institutions": null, "max_per_theme": 4}}
///   ],
///   "rules": {
///     "max_events_per_profile": 1, "min_per_demand": 1, "decay": 0.8, "top_n": 30,
///     "reserves": 5, "explain_top": 10, "time_limit_secs": 60,
///     "pins": [{"profile_id": "nl-0042", "event_id": "psa-2021", "demand_id": "psa-03"}],
///     "bans": [{"profile_id": "nl-0666", "event_id": null}],
///     "conflicts": [{"profile_id": "nl-0107", "organisation": "Renault"}]
///   }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonFile {
    /// Events of the season.
    pub events: Vec<EventDef>,
    /// Rules; defaults apply to missing fields.
    #[serde(default)]
    pub rules: SeasonRules,
}

impl SeasonFile {
    /// Parses a season file from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, SelectError> {
        let season: SeasonFile =
            serde_json::from_str(text).map_err(|e| SelectError::InvalidInput(format!("season file: {e}")))?;
        season.rules.check_limits()?;
        Ok(season)
    }

    /// Reads and parses a season file.
    pub fn from_path(path: &Path) -> Result<Self, SelectError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SelectError::InvalidInput(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json_str(&text)
    }
}

/// One pitch in an output line-up or reserve list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pitch {
    /// Profile that pitches.
    pub profile_id: String,
    /// Demand area it pitches to.
    pub demand_id: String,
    /// Relevance value of the profile for that demand area.
    pub value: f64,
    /// 1-based rank of the profile in the demand area's ranking (`None` if it was not ranked
    /// there and was only added because of a pin).
    pub rank: Option<usize>,
    /// 1-based position among the selected pitches of its demand area (selected only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub position: Option<usize>,
    /// Contribution to the objective, `value × decay^(position-1)` (selected only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weighted_value: Option<f64>,
    /// Whether an organiser pin put it there.
    #[serde(default)]
    pub pinned: bool,
    /// Profile kind tag.
    pub kind: String,
    /// Profile size tag.
    pub size: Option<String>,
    /// Profile themes.
    pub themes: Vec<String>,
}

/// Why a strong candidate is not in an event's line-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeftOutReason {
    /// Outscored: the slots went to stronger (or coverage-required) pitches.
    SlotLimit,
    /// A quota (maximum reached, or places reserved by a minimum) kept it out.
    Quota,
    /// It pitches at other events and has reached `max_events_per_profile`.
    SeasonLimit,
    /// Conflict of interest with the event's organisation.
    Conflict,
    /// Banned from this event or the season.
    Ban,
    /// Its team pitches in none of the event's accepted languages.
    PitchLanguage,
    /// Not among the `top_n` eligible candidates of any demand area of the event.
    Pruned,
    /// None of the above applies (e.g. ties, or a line-up that is not proven optimal).
    Other,
}

/// A strong candidate that was left out, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeftOut {
    /// Profile left out.
    pub profile_id: String,
    /// Its best demand area at this event.
    pub demand_id: String,
    /// Its value there.
    pub value: f64,
    /// Its rank there.
    pub rank: usize,
    /// Machine-readable reason.
    pub reason: LeftOutReason,
    /// Human-readable explanation.
    pub detail: String,
}

/// Selection for one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSelection {
    /// Event identifier.
    pub event_id: String,
    /// Sum over demand areas of `value × decay^(position-1)` of the selected pitches.
    pub objective: f64,
    /// Whether the season model was solved to proven optimality (shared by all events,
    /// because the season is solved as one model).
    pub optimal: bool,
    /// Selected pitches, by demand area (input order) then position.
    pub selected: Vec<Pitch>,
    /// Next best unselected profiles that could still step in (eligible, with season capacity
    /// left), best first, one entry per profile.
    pub reserves: Vec<Pitch>,
    /// The strongest left-out profiles and why.
    pub left_out: Vec<LeftOut>,
    /// Constraints of this event that could not be met, as sentences.
    pub unmet: Vec<String>,
}

/// Solver statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolveStats {
    /// `milp` for the exact model, `greedy` for the baseline.
    pub method: String,
    /// Candidate pitches after pruning.
    pub candidates: usize,
    /// Model variables.
    pub variables: usize,
    /// Model constraints.
    pub constraints: usize,
    /// Wall-clock seconds spent in the solver (model building excluded).
    pub solve_seconds: f64,
    /// Wall-clock seconds including preprocessing, model building and explanation.
    pub total_seconds: f64,
}

/// Selection for the whole season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonSelection {
    /// Per-event selections, in input order.
    pub events: Vec<EventSelection>,
    /// Sum of the event objectives.
    pub objective: f64,
    /// Whether the line-up is proven optimal (for the relaxed model if anything is unmet).
    pub optimal: bool,
    /// Every unmet constraint of the season (event ones prefixed with the event id).
    pub unmet: Vec<String>,
    /// Solver statistics (timings vary between runs; everything else is deterministic).
    pub stats: SolveStats,
}

/// Errors of [`select_season`]. User errors (bad input) and internal solver faults are kept
/// apart; see [`SelectError::is_user_error`].
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// A pin, ban, conflict or ranking names a profile that is not in the profile map.
    #[error("unknown profile `{profile_id}` referenced by {context}")]
    UnknownProfile {
        /// The unknown profile id.
        profile_id: String,
        /// Where it was referenced.
        context: String,
    },
    /// A pin or ban names an event that is not in the season.
    #[error("unknown event `{event_id}` referenced by {context}")]
    UnknownEvent {
        /// The unknown event id.
        event_id: String,
        /// Where it was referenced.
        context: String,
    },
    /// A pin names a demand area the event does not have.
    #[error("unknown demand area `{demand_id}` of event `{event_id}` referenced by {context}")]
    UnknownDemand {
        /// The unknown demand id.
        demand_id: String,
        /// The event.
        event_id: String,
        /// Where it was referenced.
        context: String,
    },
    /// Any other invalid input (bad decay, negative or NaN value, duplicate ids, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The solver failed in a way that is not the caller's fault.
    #[error("internal solver failure: {0}")]
    Solver(String),
}

impl SelectError {
    /// True for errors caused by the input (fix the season file / rankings), false for
    /// internal solver faults.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, SelectError::Solver(_))
    }
}

/// Chooses the season's line-ups exactly (see the module docs for the model).
///
/// `profiles` maps profile id → profile; every profile named in a ranking, pin, ban or
/// conflict must be in it. Same input → same output (apart from the timings in `stats`).
pub fn select_season(
    profiles: &HashMap<String, CandidateProfile>,
    events: &[EventSpec],
    rules: &SeasonRules,
) -> Result<SeasonSelection, SelectError> {
    let start = std::time::Instant::now();
    let problem = problem::Problem::build(profiles, events, rules)?;
    let outcome = solve::solve_exact(&problem)?;
    Ok(explain::assemble(&problem, outcome, start))
}

/// Greedy baseline for comparison: pins first, then repeatedly the feasible pitch with the
/// highest marginal value (`value × decay^(pitches already in its demand area)`), respecting
/// slots, the season limit, bans, conflicts and maximum quotas, until nothing fits. It ignores
/// minimum quotas and coverage (reported in `unmet` like for the exact solver) and is never
/// marked optimal.
pub fn select_season_greedy(
    profiles: &HashMap<String, CandidateProfile>,
    events: &[EventSpec],
    rules: &SeasonRules,
) -> Result<SeasonSelection, SelectError> {
    let start = std::time::Instant::now();
    let problem = problem::Problem::build(profiles, events, rules)?;
    let outcome = greedy::solve_greedy(&problem);
    Ok(explain::assemble(&problem, outcome, start))
}
