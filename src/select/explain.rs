//! Turns a solver outcome into the per-event output: line-ups with positions and weighted
//! values, reserves, reasons for strong left-out candidates, and sentences for every unmet
//! constraint. Works the same for the exact and the greedy outcome.

use std::collections::HashSet;
use std::time::Instant;

use super::problem::Problem;
use super::solve::Outcome;
use super::{EventSelection, LeftOut, LeftOutReason, Pitch, SeasonSelection, SolveStats};

/// Why a candidate lost to a full line-up, in its own numbers: what it would add as the next pitch
/// of its demand area (its value decayed by the pitches that area already has) against the weakest
/// pitch kept. Candidates differ in value and demand area, so their sentences differ too; when it
/// would add more than the weakest pitch, that pitch is there to cover its own demand area.
fn slot_limit_detail(slots: usize, demand_id: &str, value: f64, decay: f64, selected: &[Pitch]) -> String {
    let already = selected.iter().filter(|p| p.demand_id == demand_id).count();
    let adds = value * decay.powi(already as i32);
    let as_nth = match already {
        0 => format!("as the first pitch for {demand_id} it would add {adds:.3}"),
        n => format!("as pitch no. {} for {demand_id} it would add {adds:.3} ({value:.3} × {decay}^{n})", n + 1),
    };
    let weakest = selected
        .iter()
        .filter_map(|p| p.weighted_value.map(|w| (w, p)))
        .min_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.profile_id.cmp(&b.1.profile_id)));
    match weakest {
        Some((w, p)) if adds <= w => format!(
            "all {slots} slots are taken: {as_nth}, less than the weakest pitch kept ({} for {} adds {w:.3})",
            p.profile_id, p.demand_id
        ),
        Some((w, p)) => format!(
            "all {slots} slots are taken: {as_nth}, more than the weakest pitch kept ({} for {} adds {w:.3}), which covers its demand area (min_per_demand)",
            p.profile_id, p.demand_id
        ),
        None => format!("all {slots} slots are taken by pins: {as_nth}"),
    }
}

/// Per-event tallies of a line-up.
struct Tally {
    sme: usize,
    ki: usize,
    /// Lowest value among selected SMEs/start-ups and knowledge institutions.
    min_sme_value: Option<f64>,
    min_ki_value: Option<f64>,
}

pub(crate) fn assemble(problem: &Problem, outcome: Outcome, start: Instant) -> SeasonSelection {
    let rules = problem.rules;
    let n_events = problem.events.len();
    let chosen_set: HashSet<usize> = outcome.chosen.iter().copied().collect();

    // Events each profile pitches at.
    let mut profile_events: Vec<Vec<usize>> = vec![Vec::new(); problem.profiles.len()];
    for &c in &outcome.chosen {
        profile_events[problem.cands[c].profile].push(problem.cands[c].event);
    }
    let pinned: HashSet<usize> = problem.pins.iter().flat_map(|p| p.cands.iter().copied()).collect();

    let mut events = Vec::with_capacity(n_events);
    for (e, ev) in problem.events.iter().enumerate() {
        let spec = &problem.specs[e];
        let mut selected = Vec::new();
        let mut objective = 0.0;
        let mut demand_counts = Vec::with_capacity(ev.demands.len());
        let mut selected_profiles = HashSet::new();
        let mut tally = Tally { sme: 0, ki: 0, min_sme_value: None, min_ki_value: None };
        for dd in &ev.demands {
            // dd.cands is sorted best first, so chosen ones come out in position order.
            let mut pos = 0;
            for &c in dd.cands.iter().filter(|c| chosen_set.contains(c)) {
                pos += 1;
                let cand = &problem.cands[c];
                let prof = problem.profiles[cand.profile];
                let weighted = cand.value * problem.weight(pos);
                objective += weighted;
                selected_profiles.insert(cand.profile);
                if prof.is_sme_or_startup() {
                    tally.sme += 1;
                    tally.min_sme_value = Some(tally.min_sme_value.map_or(cand.value, |m: f64| m.min(cand.value)));
                }
                if prof.is_knowledge_institution() {
                    tally.ki += 1;
                    tally.min_ki_value = Some(tally.min_ki_value.map_or(cand.value, |m: f64| m.min(cand.value)));
                }
                selected.push(Pitch {
                    profile_id: problem.profile_ids[cand.profile].to_string(),
                    demand_id: dd.demand_id.clone(),
                    value: cand.value,
                    rank: cand.rank,
                    position: Some(pos),
                    weighted_value: Some(weighted),
                    pinned: pinned.contains(&c),
                    kind: prof.kind.clone(),
                    size: prof.size.clone(),
                    themes: prof.themes.clone(),
                });
            }
            demand_counts.push(pos);
        }
        let used = selected.len();

        // ---- unmet constraints ----
        let mut unmet = problem.pre_unmet[e].clone();
        for pin in problem.pins.iter().filter(|p| p.event == e) {
            if pin.cands.iter().any(|c| chosen_set.contains(c)) {
                continue;
            }
            let pid = problem.profile_ids[pin.profile];
            let what = match pin.demand {
                Some(d) => format!("pin of {pid} to demand area {}", ev.demands[d].demand_id),
                None => format!("pin of {pid}"),
            };
            let pins_of_profile: HashSet<usize> =
                problem.pins.iter().filter(|p| p.profile == pin.profile).map(|p| p.event).collect();
            let pinned_here: HashSet<usize> = problem.pins.iter().filter(|p| p.event == e).map(|p| p.profile).collect();
            let why = if ev.slots == 0 {
                "the event has no slots".to_string()
            } else if pins_of_profile.len() > rules.max_events_per_profile as usize {
                format!(
                    "the profile is pinned at {} events but max_events_per_profile is {}",
                    pins_of_profile.len(),
                    rules.max_events_per_profile
                )
            } else if pinned_here.len() > ev.slots {
                format!("the event has {} pinned profiles for {} slots", pinned_here.len(), ev.slots)
            } else if problem.pins.iter().any(|p| p.event == e && p.profile == pin.profile && p.demand != pin.demand) {
                "the profile is pinned to several demand areas of this event but pitches at most once per event"
                    .to_string()
            } else {
                "it could not be combined with the other pins and constraints".to_string()
            };
            unmet.push(format!("{what} not honoured: {why}"));
        }
        let m = rules.min_per_demand as usize;
        let n_demands = ev.demands.len();
        for (d, dd) in ev.demands.iter().enumerate() {
            let got = demand_counts[d];
            if got >= m {
                continue;
            }
            let why = if dd.cands.is_empty() {
                if dd.ranking.is_empty() {
                    "no profiles are ranked for it".to_string()
                } else {
                    "all ranked profiles are banned or have a conflict with the organisation".to_string()
                }
            } else if dd.cands.len() < m {
                format!("only {} eligible candidate(s) exist", dd.cands.len())
            } else if n_demands * m > ev.slots {
                format!(
                    "the event has {} slots but its {n_demands} demand areas need {} pitches (min_per_demand = {m})",
                    ev.slots,
                    n_demands * m
                )
            } else {
                let elsewhere = dd
                    .cands
                    .iter()
                    .filter(|&&c| {
                        let p = problem.cands[c].profile;
                        !profile_events[p].contains(&e)
                            && profile_events[p].len() >= rules.max_events_per_profile as usize
                    })
                    .count();
                let free = dd
                    .cands
                    .iter()
                    .filter(|&&c| !selected_profiles.contains(&problem.cands[c].profile) && !chosen_set.contains(&c))
                    .count()
                    .saturating_sub(elsewhere);
                if free == 0 {
                    format!(
                        "its {} candidate(s) are all pitching elsewhere (season limit) or for other demand areas of this event",
                        dd.cands.len()
                    )
                } else {
                    format!(
                        "the slots are needed for pins, quotas or other demand areas ({elsewhere} of its candidates pitch at other events)"
                    )
                }
            };
            unmet.push(format!(
                "demand area {} has {got} pitch(es), fewer than min_per_demand = {m}: {why}",
                dd.demand_id
            ));
        }
        let all_cands: Vec<usize> = ev.demands.iter().flat_map(|d| d.cands.iter().copied()).collect();
        let distinct = |f: &dyn Fn(usize) -> bool| -> usize {
            all_cands.iter().map(|&c| problem.cands[c].profile).filter(|&p| f(p)).collect::<HashSet<_>>().len()
        };
        let q = &spec.quotas;
        if let (Some(min), Some(max)) = (q.min_knowledge_institutions, q.max_knowledge_institutions) {
            if min > max {
                unmet.push(format!(
                    "quotas contradict each other: min_knowledge_institutions = {min} > max_knowledge_institutions = {max}"
                ));
            }
        }
        let min_reason = |label: &str, available: usize, min: usize| -> String {
            if available < min {
                format!("only {available} eligible {label} candidate(s) exist")
            } else if min > ev.slots {
                format!("the event has only {} slots", ev.slots)
            } else {
                "the remaining eligible ones pitch elsewhere (season limit) or would break pins or other quotas"
                    .to_string()
            }
        };
        if let Some(min) = q.min_sme_or_startup {
            if tally.sme < min as usize {
                let avail = distinct(&|p| problem.profiles[p].is_sme_or_startup());
                unmet.push(format!(
                    "quota min_sme_or_startup = {min} not met ({} selected): {}",
                    tally.sme,
                    min_reason("SME/start-up", avail, min as usize)
                ));
            }
        }
        if let Some(min) = q.min_knowledge_institutions {
            if tally.ki < min as usize {
                let avail = distinct(&|p| problem.profiles[p].is_knowledge_institution());
                unmet.push(format!(
                    "quota min_knowledge_institutions = {min} not met ({} selected): {}",
                    tally.ki,
                    min_reason("knowledge-institution", avail, min as usize)
                ));
            }
        }
        if let Some(max) = q.max_knowledge_institutions {
            if tally.ki > max as usize {
                unmet.push(format!(
                    "quota max_knowledge_institutions = {max} exceeded ({} selected): pinned profiles or a conflicting minimum require it",
                    tally.ki
                ));
            }
        }
        let mut theme_full: Vec<String> = Vec::new();
        if let Some(max) = q.max_per_theme {
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            for p in &selected {
                let themes: HashSet<&str> = p.themes.iter().map(String::as_str).collect();
                for t in themes {
                    *counts.entry(t).or_default() += 1;
                }
            }
            for (t, n) in counts {
                if n > max as usize {
                    unmet.push(format!(
                        "quota max_per_theme = {max} exceeded for theme {t} ({n} selected): pinned profiles require it"
                    ));
                }
                if n >= max as usize {
                    theme_full.push(t.to_string());
                }
            }
        }

        // ---- reserves and left-out explanations ----
        let mut heads: Vec<(f64, usize, usize, usize)> = Vec::new(); // (value, demand, rank, profile)
        for (d, dd) in ev.demands.iter().enumerate() {
            for r in &dd.ranking {
                heads.push((r.value, d, r.rank, r.profile));
            }
        }
        heads.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let in_cands: HashSet<usize> = all_cands.iter().map(|&c| problem.cands[c].profile).collect();
        let mut seen = HashSet::new();
        let mut reserves = Vec::new();
        let mut left_out = Vec::new();
        for &(value, d, rank, p) in &heads {
            if reserves.len() >= rules.reserves && left_out.len() >= rules.explain_top {
                break;
            }
            if selected_profiles.contains(&p) || !seen.insert(p) {
                continue;
            }
            let prof = problem.profiles[p];
            let pid = problem.profile_ids[p].to_string();
            let demand_id = ev.demands[d].demand_id.clone();
            let ineligible = problem.ineligibility(p, e);
            let full_elsewhere = profile_events[p].len() >= rules.max_events_per_profile as usize;
            let demand_conflict = problem.demand_conflict(p, e, d);
            if ineligible.is_none() && demand_conflict.is_none() && !full_elsewhere && reserves.len() < rules.reserves {
                reserves.push(Pitch {
                    profile_id: pid.clone(),
                    demand_id: demand_id.clone(),
                    value,
                    rank: Some(rank),
                    position: None,
                    weighted_value: None,
                    pinned: false,
                    kind: prof.kind.clone(),
                    size: prof.size.clone(),
                    themes: prof.themes.clone(),
                });
            }
            if left_out.len() >= rules.explain_top {
                continue;
            }
            let ki_full = q.max_knowledge_institutions.is_some_and(|max| tally.ki >= max as usize);
            let blocking_theme = prof.themes.iter().find(|t| theme_full.contains(t));
            let (reason, detail) = if let Some(why) = ineligible {
                let reason = if problem.is_banned(p, e) {
                    LeftOutReason::Ban
                } else if !problem.speaks_event_language(p, e) {
                    LeftOutReason::PitchLanguage
                } else {
                    LeftOutReason::Conflict
                };
                (reason, format!("the profile {why}"))
            } else if full_elsewhere {
                let names: Vec<&str> = profile_events[p].iter().map(|&x| problem.specs[x].event_id.as_str()).collect();
                (
                    LeftOutReason::SeasonLimit,
                    format!(
                        "pitches at {} (max_events_per_profile = {})",
                        names.join(", "),
                        rules.max_events_per_profile
                    ),
                )
            } else if let (false, Some(why)) = (in_cands.contains(&p), &demand_conflict) {
                (LeftOutReason::Conflict, format!("the profile {why}"))
            } else if !in_cands.contains(&p) {
                (
                    LeftOutReason::Pruned,
                    format!("not among the top {} eligible candidates of any demand area", rules.top_n),
                )
            } else if prof.is_knowledge_institution() && ki_full {
                (
                    LeftOutReason::Quota,
                    format!("max_knowledge_institutions = {} reached", q.max_knowledge_institutions.unwrap_or(0)),
                )
            } else if let Some(t) = blocking_theme {
                (
                    LeftOutReason::Quota,
                    format!("max_per_theme = {} reached for theme {t}", q.max_per_theme.unwrap_or(0)),
                )
            } else if q.min_sme_or_startup.is_some_and(|min| min > 0 && tally.sme <= min as usize)
                && !prof.is_sme_or_startup()
                && tally.min_sme_value.is_some_and(|v| v < value)
            {
                (
                    LeftOutReason::Quota,
                    "places reserved for SMEs/start-ups (min_sme_or_startup) went to weaker profiles".to_string(),
                )
            } else if q.min_knowledge_institutions.is_some_and(|min| min > 0 && tally.ki <= min as usize)
                && !prof.is_knowledge_institution()
                && tally.min_ki_value.is_some_and(|v| v < value)
            {
                (
                    LeftOutReason::Quota,
                    "places reserved for knowledge institutions (min_knowledge_institutions) went to weaker profiles"
                        .to_string(),
                )
            } else if used >= ev.slots {
                (LeftOutReason::SlotLimit, slot_limit_detail(ev.slots, &demand_id, value, rules.decay, &selected))
            } else {
                (LeftOutReason::Other, "not selected although a slot is free (tie or non-optimal line-up)".to_string())
            };
            left_out.push(LeftOut { profile_id: pid, demand_id, value, rank, reason, detail });
        }

        events.push(EventSelection {
            event_id: spec.event_id.clone(),
            objective,
            optimal: outcome.optimal,
            selected,
            reserves,
            left_out,
            unmet,
        });
    }

    let mut unmet = outcome.notes.clone();
    for ev in &events {
        for u in &ev.unmet {
            unmet.push(format!("{}: {u}", ev.event_id));
        }
    }
    SeasonSelection {
        objective: events.iter().map(|e| e.objective).sum(),
        optimal: outcome.optimal,
        unmet,
        events,
        stats: SolveStats {
            method: outcome.method.to_string(),
            candidates: problem.cands.len(),
            variables: outcome.variables,
            constraints: outcome.constraints,
            solve_seconds: outcome.solve_seconds,
            total_seconds: start.elapsed().as_secs_f64(),
        },
    }
}

#[cfg(test)]
mod slot_limit_tests {
    use super::*;

    fn pitch(profile_id: &str, demand_id: &str, weighted: f64) -> Pitch {
        Pitch {
            profile_id: profile_id.into(),
            demand_id: demand_id.into(),
            value: weighted,
            rank: Some(1),
            position: Some(1),
            weighted_value: Some(weighted),
            pinned: false,
            kind: "company".into(),
            size: None,
            themes: Vec::new(),
        }
    }

    #[test]
    fn candidates_beaten_by_a_full_line_up_are_told_their_own_numbers() {
        let line_up = [pitch("a", "d1", 1.0), pitch("b", "d1", 0.72), pitch("c", "d2", 0.5)];
        let third_for_d1 = slot_limit_detail(3, "d1", 0.9, 0.8, &line_up);
        assert!(third_for_d1.contains("as pitch no. 3 for d1 it would add 0.576 (0.900 × 0.8^2)"), "{third_for_d1}");
        assert!(third_for_d1.contains("weakest pitch kept (c for d2 adds 0.500)"), "{third_for_d1}");
        assert!(third_for_d1.contains("more than"), "{third_for_d1}");
        let weak_new_area = slot_limit_detail(3, "d3", 0.4, 0.8, &line_up);
        assert!(weak_new_area.contains("as the first pitch for d3 it would add 0.400, less than"), "{weak_new_area}");
        assert_ne!(third_for_d1, weak_new_area);
    }
}
