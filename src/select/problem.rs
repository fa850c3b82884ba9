//! Input validation and preprocessing: indexes profiles, sorts rankings, applies bans and
//! conflicts, prunes to the top-N eligible candidates per demand area and resolves pins.
//! Everything is ordered deterministically (profile ids sorted, events/demands in input order).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{CandidateProfile, EventSpec, SeasonRules, SelectError};

/// One entry of a sorted demand ranking.
#[derive(Debug, Clone)]
pub(crate) struct RankEntry {
    pub profile: usize,
    pub value: f64,
    /// 1-based rank.
    pub rank: usize,
}

/// A candidate pitch (profile, event, demand area) kept after pruning.
#[derive(Debug, Clone)]
pub(crate) struct Cand {
    pub event: usize,
    pub demand: usize,
    pub profile: usize,
    pub value: f64,
    /// 1-based rank in the demand's ranking; `None` if only added for a pin.
    pub rank: Option<usize>,
    /// 0-based index in the demand area's candidate list (sorted best first).
    pub order: usize,
}

#[derive(Debug)]
pub(crate) struct DemandData {
    pub demand_id: String,
    /// Full ranking, sorted by value desc (stable).
    pub ranking: Vec<RankEntry>,
    /// Candidate indices, best first.
    pub cands: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct EventData {
    pub slots: usize,
    pub demands: Vec<DemandData>,
}

/// A pin that survived preprocessing, with the candidates that satisfy it.
#[derive(Debug)]
pub(crate) struct PinData {
    pub profile: usize,
    pub event: usize,
    pub demand: Option<usize>,
    pub cands: Vec<usize>,
}

/// The preprocessed season.
pub(crate) struct Problem<'a> {
    pub profile_ids: Vec<&'a str>,
    pub profiles: Vec<&'a CandidateProfile>,
    pub specs: &'a [EventSpec],
    pub events: Vec<EventData>,
    pub cands: Vec<Cand>,
    pub pins: Vec<PinData>,
    pub rules: &'a SeasonRules,
    /// `banned[p]`: `None` = not banned anywhere; otherwise set of banned events, with
    /// `usize::MAX` meaning the whole season.
    banned: Vec<Option<HashSet<usize>>>,
    /// Lower-cased organisations each profile conflicts with.
    conflicts: Vec<Vec<String>>,
    /// The organiser's reasons for bans, by (profile, event or `usize::MAX` for the season).
    ban_reasons: HashMap<(usize, usize), &'a str>,
    /// The organiser's reasons for conflicts, by (profile, normalised organisation).
    conflict_reasons: HashMap<(usize, String), &'a str>,
    /// Unmet constraints found during preprocessing, per event.
    pub pre_unmet: Vec<Vec<String>>,
}

fn norm_org(s: &str) -> String {
    s.trim().to_lowercase()
}

impl<'a> Problem<'a> {
    pub fn build(
        profile_map: &'a HashMap<String, CandidateProfile>,
        specs: &'a [EventSpec],
        rules: &'a SeasonRules,
    ) -> Result<Self, SelectError> {
        if !(rules.decay > 0.0 && rules.decay <= 1.0) {
            return Err(SelectError::InvalidInput(format!("decay must be in (0, 1], got {}", rules.decay)));
        }
        if rules.max_events_per_profile == 0 {
            return Err(SelectError::InvalidInput("max_events_per_profile must be at least 1".into()));
        }
        if rules.top_n == 0 {
            return Err(SelectError::InvalidInput("top_n must be at least 1".into()));
        }
        if !rules.time_limit_secs.is_finite() || rules.time_limit_secs <= 0.0 {
            return Err(SelectError::InvalidInput("time_limit_secs must be positive".into()));
        }
        rules.check_limits()?;

        // Profiles, sorted by id for determinism.
        let mut sorted: Vec<(&'a String, &'a CandidateProfile)> = profile_map.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let profile_ids: Vec<&'a str> = sorted.iter().map(|(k, _)| k.as_str()).collect();
        let profiles: Vec<&'a CandidateProfile> = sorted.iter().map(|(_, p)| *p).collect();
        let pidx: HashMap<&str, usize> = profile_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let lookup_profile = |id: &str, context: &str| {
            pidx.get(id)
                .copied()
                .ok_or_else(|| SelectError::UnknownProfile { profile_id: id.to_string(), context: context.to_string() })
        };

        let mut eidx: HashMap<&str, usize> = HashMap::new();
        for (i, e) in specs.iter().enumerate() {
            if eidx.insert(e.event_id.as_str(), i).is_some() {
                return Err(SelectError::InvalidInput(format!("duplicate event id `{}`", e.event_id)));
            }
            let mut seen = HashSet::new();
            for d in &e.demands {
                if !seen.insert(d.demand_id.as_str()) {
                    return Err(SelectError::InvalidInput(format!(
                        "duplicate demand id `{}` in event `{}`",
                        d.demand_id, e.event_id
                    )));
                }
            }
        }
        let lookup_event = |id: &str, context: &str| {
            eidx.get(id)
                .copied()
                .ok_or_else(|| SelectError::UnknownEvent { event_id: id.to_string(), context: context.to_string() })
        };

        // Bans and conflicts.
        let mut banned: Vec<Option<HashSet<usize>>> = vec![None; profiles.len()];
        let mut ban_reasons = HashMap::new();
        for b in &rules.bans {
            let p = lookup_profile(&b.profile_id, "a ban")?;
            let e = match &b.event_id {
                Some(ev) => lookup_event(ev, &format!("the ban of `{}`", b.profile_id))?,
                None => usize::MAX,
            };
            banned[p].get_or_insert_with(HashSet::new).insert(e);
            if let Some(r) = b.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                ban_reasons.insert((p, e), r);
            }
        }
        let mut conflicts: Vec<Vec<String>> = vec![Vec::new(); profiles.len()];
        let mut conflict_reasons = HashMap::new();
        for c in &rules.conflicts {
            let p = lookup_profile(&c.profile_id, "a conflict")?;
            conflicts[p].push(norm_org(&c.organisation));
            if let Some(r) = c.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                conflict_reasons.insert((p, norm_org(&c.organisation)), r);
            }
        }

        let mut problem = Problem {
            profile_ids,
            profiles,
            specs,
            events: Vec::with_capacity(specs.len()),
            cands: Vec::new(),
            pins: Vec::new(),
            rules,
            banned,
            conflicts,
            ban_reasons,
            conflict_reasons,
            pre_unmet: vec![Vec::new(); specs.len()],
        };

        // Pins: validate, drop those contradicting a ban/conflict (reported), dedupe.
        let mut pins_by_event: Vec<Vec<(usize, Option<usize>)>> = vec![Vec::new(); specs.len()];
        for pin in &rules.pins {
            let p = lookup_profile(&pin.profile_id, "a pin")?;
            let e = lookup_event(&pin.event_id, &format!("the pin of `{}`", pin.profile_id))?;
            let d = match &pin.demand_id {
                Some(did) => Some(specs[e].demands.iter().position(|d| &d.demand_id == did).ok_or_else(|| {
                    SelectError::UnknownDemand {
                        demand_id: did.clone(),
                        event_id: pin.event_id.clone(),
                        context: format!("the pin of `{}`", pin.profile_id),
                    }
                })?),
                None => None,
            };
            if let Some(why) = problem.ineligibility(p, e) {
                problem.pre_unmet[e].push(format!(
                    "pin of {} could not be honoured: the profile {why}; the ban/conflict takes precedence",
                    pin.profile_id
                ));
                continue;
            }
            if specs[e].demands.is_empty() {
                problem.pre_unmet[e]
                    .push(format!("pin of {} could not be honoured: the event has no demand areas", pin.profile_id));
                continue;
            }
            if !pins_by_event[e].contains(&(p, d)) {
                pins_by_event[e].push((p, d));
            }
        }

        // Events, demands, candidates.
        for (e, spec) in specs.iter().enumerate() {
            let mut demands = Vec::with_capacity(spec.demands.len());
            for (d, dr) in spec.demands.iter().enumerate() {
                let mut seen = HashSet::new();
                let mut ranking = Vec::with_capacity(dr.ranked.len());
                for (pid, value) in &dr.ranked {
                    if !value.is_finite() || *value < 0.0 {
                        return Err(SelectError::InvalidInput(format!(
                            "value {value} of `{pid}` for demand `{}` of event `{}` must be finite and non-negative",
                            dr.demand_id, spec.event_id
                        )));
                    }
                    let p = lookup_profile(
                        pid,
                        &format!("the ranking of demand `{}` of event `{}`", dr.demand_id, spec.event_id),
                    )?;
                    if seen.insert(p) {
                        ranking.push(RankEntry { profile: p, value: *value, rank: 0 });
                    }
                }
                ranking.sort_by(|a, b| b.value.total_cmp(&a.value));
                for (i, r) in ranking.iter_mut().enumerate() {
                    r.rank = i + 1;
                }
                // Pinned profiles for this demand (pins naming it, or naming no demand).
                let pinned_here: Vec<usize> =
                    pins_by_event[e].iter().filter(|(_, pd)| pd.is_none_or(|pd| pd == d)).map(|(p, _)| *p).collect();
                let mut chosen: Vec<(usize, f64, Option<usize>)> = Vec::new();
                for r in &ranking {
                    if problem.ineligibility(r.profile, e).is_some()
                        || problem.demand_conflict(r.profile, e, d).is_some()
                    {
                        continue;
                    }
                    if chosen.len() < rules.top_n || pinned_here.contains(&r.profile) {
                        chosen.push((r.profile, r.value, Some(r.rank)));
                    }
                }
                // Pinned to this demand explicitly but not ranked here: value 0.
                for &(p, pd) in &pins_by_event[e] {
                    if pd != Some(d) || chosen.iter().any(|c| c.0 == p) {
                        continue;
                    }
                    match problem.demand_conflict(p, e, d) {
                        Some(why) => problem.pre_unmet[e].push(format!(
                            "pin of {} could not be honoured: the profile {why}; the conflict takes precedence",
                            problem.profile_ids[p]
                        )),
                        None => chosen.push((p, 0.0, None)),
                    }
                }
                demands.push(DemandData { demand_id: dr.demand_id.clone(), ranking, cands: Vec::new() });
                // Candidates are appended in order (value desc, rank asc; unranked last).
                for (order, (p, value, rank)) in chosen.into_iter().enumerate() {
                    let ci = problem.cands.len();
                    problem.cands.push(Cand { event: e, demand: d, profile: p, value, rank, order });
                    demands[d].cands.push(ci);
                }
            }
            problem.events.push(EventData { slots: spec.slots as usize, demands });

            // Pins without demand whose profile is ranked nowhere at the event: value 0
            // candidates in every demand area so the pin can still be honoured.
            for &(p, pd) in &pins_by_event[e] {
                if pd.is_some() {
                    continue;
                }
                let any =
                    problem.events[e].demands.iter().any(|dd| dd.cands.iter().any(|&c| problem.cands[c].profile == p));
                if !any {
                    for d in 0..problem.events[e].demands.len() {
                        if problem.demand_conflict(p, e, d).is_some() {
                            continue;
                        }
                        let ci = problem.cands.len();
                        let order = problem.events[e].demands[d].cands.len();
                        problem.cands.push(Cand { event: e, demand: d, profile: p, value: 0.0, rank: None, order });
                        problem.events[e].demands[d].cands.push(ci);
                    }
                }
            }
            for &(p, pd) in &pins_by_event[e] {
                let cands: Vec<usize> = problem.events[e]
                    .demands
                    .iter()
                    .enumerate()
                    .filter(|(d, _)| pd.is_none_or(|pd| pd == *d))
                    .flat_map(|(_, dd)| dd.cands.iter().copied())
                    .filter(|&c| problem.cands[c].profile == p)
                    .collect();
                problem.pins.push(PinData { profile: p, event: e, demand: pd, cands });
            }
        }
        Ok(problem)
    }

    /// Why profile `p` may not pitch at event `e` (ban or conflict), if it may not.
    pub fn ineligibility(&self, p: usize, e: usize) -> Option<String> {
        if let Some(set) = &self.banned[p] {
            if set.contains(&usize::MAX) {
                return Some(format!(
                    "is banned for the whole season{}",
                    self.because(self.ban_reasons.get(&(p, usize::MAX)))
                ));
            }
            if set.contains(&e) {
                return Some(format!("is banned from this event{}", self.because(self.ban_reasons.get(&(p, e)))));
            }
        }
        let org = norm_org(&self.specs[e].organisation);
        if self.conflicts[p].contains(&org) {
            let why = self.because(self.conflict_reasons.get(&(p, org)));
            return Some(format!("has a conflict of interest with {}{why}", self.specs[e].organisation));
        }
        if !self.speaks_event_language(p, e) {
            return Some(format!(
                "pitches in {}; the event takes pitches in {}",
                self.profiles[p].pitch_languages.join(", "),
                self.specs[e].pitch_languages.join(", ")
            ));
        }
        None
    }

    /// Why profile `p` may not pitch to demand area `d` of event `e` although it may pitch at the
    /// event: a conflict of interest with the organisation whose demand area it is (an event with
    /// several hosts).
    pub fn demand_conflict(&self, p: usize, e: usize, d: usize) -> Option<String> {
        let org = self.specs[e].demands[d].organisation.as_deref()?;
        self.conflicts[p].contains(&norm_org(org)).then(|| {
            format!(
                "has a conflict of interest with {org}, whose demand area {} is{}",
                self.specs[e].demands[d].demand_id,
                self.because(self.conflict_reasons.get(&(p, norm_org(org))))
            )
        })
    }

    /// `" (reason)"` for an organiser's reason, else nothing.
    fn because(&self, reason: Option<&&str>) -> String {
        reason.map(|r| format!(" ({r})")).unwrap_or_default()
    }

    /// Whether the ineligibility of `p` at `e` is a ban (vs a conflict).
    pub fn is_banned(&self, p: usize, e: usize) -> bool {
        self.banned[p].as_ref().is_some_and(|s| s.contains(&usize::MAX) || s.contains(&e))
    }

    /// Whether `p` may pitch in one of the languages event `e` accepts (true when either side
    /// states none).
    pub fn speaks_event_language(&self, p: usize, e: usize) -> bool {
        let accepted = &self.specs[e].pitch_languages;
        let spoken = &self.profiles[p].pitch_languages;
        accepted.is_empty()
            || spoken.is_empty()
            || spoken.iter().any(|l| accepted.iter().any(|a| a.trim().eq_ignore_ascii_case(l.trim())))
    }

    /// Themes present among the candidates of event `e`, sorted, with their candidates.
    pub fn theme_groups(&self, e: usize) -> BTreeMap<&'a str, Vec<usize>> {
        let mut groups: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for dd in &self.events[e].demands {
            for &c in &dd.cands {
                let prof = self.profiles[self.cands[c].profile];
                let mut seen = HashSet::new();
                for t in &prof.themes {
                    if seen.insert(t.as_str()) {
                        groups.entry(t.as_str()).or_default().push(c);
                    }
                }
            }
        }
        groups
    }

    /// Position weight `decay^(j-1)` for 1-based position `j`.
    pub fn weight(&self, j: usize) -> f64 {
        self.rules.decay.powi(j as i32 - 1)
    }
}
