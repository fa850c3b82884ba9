//! The exact model: a mixed-integer linear programme solved with `good_lp` + `microlp`.
//!
//! # Formulation
//! For every candidate `c` (profile `p`, event `e`, demand area `d`, value `v`, 0-based
//! position `o` in the area's candidate list sorted best first) and every position
//! `j = 1..=min(K_ed, o + 1)`, with `K_ed = min(slots_e, |candidates of (e, d)|)`, a binary
//! `y[c, j]` says "c is the j-th pitch of its demand area". A candidate with `o` better
//! candidates can never be further than position `o + 1` in the sorted order, so later
//! positions are not generated.
//!
//! Maximise `Σ y[c,j] · (v · decay^(j-1) + B·[j ≤ min_per_demand] + P·pins(c)) − B·Σ slack`
//! subject to
//! * position: `Σ_c y[c, j] ≤ 1` for each (e, d, j);
//! * once per event: `Σ_{d, j} y ≤ 1` for each (p, e);
//! * season limit: `Σ_{e, d, j} y ≤ max_events_per_profile` for each p;
//! * slots: `Σ_{p, d, j} y ≤ slots_e` for each e;
//! * quotas (soft, slack `s ≥ 0`): `#sme/startup + s ≥ min`, `#ki + s ≥ min`,
//!   `#ki − s ≤ max`, `#theme − s ≤ max` for each theme present at the event.
//!
//! Because the position weights `decay^(j-1)` decrease, an optimal solution fills positions
//! `1..k` with the chosen candidates in value order (rearrangement inequality), so the value
//! part equals the exact concave utility `Σ_j v_(j) · decay^(j-1)`. `B` (one more than the
//! largest possible total value) rewards each of the first `min_per_demand` positions of a
//! demand area and charges each unit of quota slack, so coverage and quotas dominate value
//! lexicographically; `P` (a multiple of `B` larger than what one pitch can affect) rewards
//! each honoured pin, so pins dominate both. Bans and conflicts remove candidates up front.
//! Without quotas the constraint matrix is two laminar families (positions ⊂ event, event ⊂
//! profile), hence totally unimodular: the LP relaxation is integral and microlp's branch and
//! bound stops at the root. Quotas can make it branch.
//!
//! # Position caps
//! With `K_ed = min(slots, candidates)` positions the model has ~60k variables for a 20 × 10
//! × 5,000 season and microlp needs ~30 s. So the model is first solved with positions capped
//! at `min(m, |C_ed|) + slots_e − T_e`, where `T_e = min(slots_e, Σ_d min(m, |C_ed|))` is the
//! most coverage event `e` can have. The capped optimum is *certified* optimal for the full
//! model when it reaches the trivial bound on the soft part (all pins honoured, every event
//! at coverage `T_e`, quota violations only where too few candidates/slots exist): any full
//! optimum must then reach the same bound (the soft units outweigh all value), so every event
//! has coverage `T_e`, so it fits the caps and is feasible for the capped model. If the
//! certificate fails, the uncapped model is solved (slower, still exact); `stats.method` says
//! which path ran.

use std::time::Instant;

use good_lp::{
    microlp, variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable,
    WithTimeLimit,
};

use super::problem::Problem;
use super::SelectError;

/// Result of a solve (exact or greedy).
pub(crate) struct Outcome {
    /// Chosen candidate indices.
    pub chosen: Vec<usize>,
    pub optimal: bool,
    pub method: &'static str,
    pub variables: usize,
    pub constraints: usize,
    pub solve_seconds: f64,
    /// Season-level remarks (e.g. time limit reached).
    pub notes: Vec<String>,
}

/// Penalty weights of the soft constraints.
pub(crate) struct Weights {
    /// Per missing coverage position / quota unit.
    pub big: f64,
    /// Per honoured pin.
    pub pin: f64,
}

pub(crate) fn weights(problem: &Problem) -> Weights {
    let vmax = problem.cands.iter().map(|c| c.value).fold(0.0_f64, f64::max);
    let total_slots: usize = problem.events.iter().map(|e| e.slots).sum();
    let big = 1.0 + vmax * total_slots as f64;
    let max_themes = problem.profiles.iter().map(|p| p.themes.len()).max().unwrap_or(0);
    // One pitch touches at most: coverage + 2 minimum quotas + KI max + its themes, at its
    // own event and at the event it is displaced from.
    let pin = big * (2.0 * (4.0 + max_themes as f64) + 1.0);
    Weights { big, pin }
}

/// Solves exactly: first the capped model, then — only if its optimality certificate fails —
/// the uncapped one (see the module docs, "Position caps").
pub(crate) fn solve_exact(problem: &Problem) -> Result<Outcome, SelectError> {
    let caps = position_caps(problem);
    let capped = solve_milp(problem, Some(&caps))?;
    let (achieved, bound) = (penalty_score(problem, &capped.chosen), penalty_bound(problem));
    if achieved >= bound {
        return Ok(Outcome { method: "milp-capped (certified)", ..capped });
    }
    let mut full = solve_milp(problem, None)?;
    full.solve_seconds += capped.solve_seconds;
    full.method = "milp-full";
    Ok(full)
}

/// Per (event, demand) position caps, valid whenever a line-up reaches [`penalty_bound`]:
/// then every event has its maximal coverage `T_e`, so a demand area can hold at most its
/// own covered pitches plus the slots left over after coverage.
pub(crate) fn position_caps(problem: &Problem) -> Vec<Vec<usize>> {
    let m = problem.rules.min_per_demand as usize;
    problem
        .events
        .iter()
        .map(|ev| {
            let t_e = coverage_bound(ev.slots, ev.demands.iter().map(|d| d.cands.len()), m);
            ev.demands
                .iter()
                .map(|d| (m.min(d.cands.len()) + ev.slots - t_e).min(ev.slots.min(d.cands.len())))
                .collect()
        })
        .collect()
}

fn coverage_bound(slots: usize, sizes: impl Iterator<Item = usize>, m: usize) -> usize {
    slots.min(sizes.map(|n| n.min(m)).sum())
}

/// Integer penalty score of a line-up in units of the soft-constraint weights:
/// `(pins honoured, coverage units − quota violation units)`.
pub(crate) fn penalty_score(problem: &Problem, chosen: &[usize]) -> (usize, i64) {
    let set: std::collections::HashSet<usize> = chosen.iter().copied().collect();
    let pins = problem.pins.iter().filter(|p| p.cands.iter().any(|c| set.contains(c))).count();
    let m = problem.rules.min_per_demand as usize;
    let mut score = 0i64;
    for (e, ev) in problem.events.iter().enumerate() {
        let mut sel: Vec<usize> = Vec::new();
        for d in &ev.demands {
            let n = d.cands.iter().filter(|c| set.contains(c)).count();
            score += n.min(m) as i64;
            sel.extend(d.cands.iter().copied().filter(|c| set.contains(c)));
        }
        score -= quota_violation(problem, e, &sel) as i64;
    }
    (pins, score)
}

/// Quota violation units of a line-up (candidate indices) at event `e`, as the slacks count.
pub(crate) fn quota_violation(problem: &Problem, e: usize, sel: &[usize]) -> usize {
    let q = &problem.specs[e].quotas;
    let prof = |c: usize| problem.profiles[problem.cands[c].profile];
    let sme = sel.iter().filter(|&&c| prof(c).is_sme_or_startup()).count();
    let ki = sel.iter().filter(|&&c| prof(c).is_knowledge_institution()).count();
    let mut v = 0;
    if let Some(min) = q.min_sme_or_startup {
        v += (min as usize).saturating_sub(sme);
    }
    if let Some(min) = q.min_knowledge_institutions {
        v += (min as usize).saturating_sub(ki);
    }
    if let Some(max) = q.max_knowledge_institutions {
        v += ki.saturating_sub(max as usize);
    }
    if let Some(max) = q.max_per_theme {
        let mut counts: std::collections::HashMap<&str, usize> = Default::default();
        for &c in sel {
            let mut themes: Vec<&str> = prof(c).themes.iter().map(String::as_str).collect();
            themes.sort_unstable();
            themes.dedup();
            for t in themes {
                *counts.entry(t).or_default() += 1;
            }
        }
        v += counts.values().map(|n| n.saturating_sub(max as usize)).sum::<usize>();
    }
    v
}

/// Trivial upper bound on [`penalty_score`]: every pin honoured, every event at its maximal
/// coverage, quota violations only where too few candidates or slots exist.
pub(crate) fn penalty_bound(problem: &Problem) -> (usize, i64) {
    let m = problem.rules.min_per_demand as usize;
    let mut score = 0i64;
    for (e, ev) in problem.events.iter().enumerate() {
        score += coverage_bound(ev.slots, ev.demands.iter().map(|d| d.cands.len()), m) as i64;
        let q = &problem.specs[e].quotas;
        let distinct = |f: &dyn Fn(&super::CandidateProfile) -> bool| -> usize {
            let set: std::collections::HashSet<usize> = ev
                .demands
                .iter()
                .flat_map(|d| d.cands.iter())
                .map(|&c| problem.cands[c].profile)
                .filter(|&p| f(problem.profiles[p]))
                .collect();
            set.len().min(ev.slots)
        };
        if let Some(min) = q.min_sme_or_startup {
            score -= (min as usize).saturating_sub(distinct(&|p| p.is_sme_or_startup())) as i64;
        }
        let ki_avail = distinct(&|p| p.is_knowledge_institution());
        let (lo, hi) =
            (q.min_knowledge_institutions.unwrap_or(0) as usize, q.max_knowledge_institutions.map(|x| x as usize));
        let best =
            (0..=ki_avail).map(|k| lo.saturating_sub(k) + hi.map_or(0, |h| k.saturating_sub(h))).min().unwrap_or(0);
        score -= best as i64;
    }
    (problem.pins.len(), score)
}

/// Builds and solves the MILP, with positions limited to `caps` if given.
pub(crate) fn solve_milp(problem: &Problem, caps: Option<&Vec<Vec<usize>>>) -> Result<Outcome, SelectError> {
    let rules = problem.rules;
    let w = weights(problem);
    let min_per_demand = rules.min_per_demand as usize;

    // Pins satisfied per candidate.
    let mut pin_count = vec![0u32; problem.cands.len()];
    for pin in &problem.pins {
        for &c in &pin.cands {
            pin_count[c] += 1;
        }
    }

    let mut vars = ProblemVariables::new();
    // y[c] = list of (position j, variable).
    let mut y: Vec<Vec<(usize, Variable)>> = vec![Vec::new(); problem.cands.len()];
    let mut objective = Expression::with_capacity(problem.cands.len() * 8);
    let mut n_vars = 0usize;
    let cap = |e: usize, d: usize, ev: &super::problem::EventData| {
        caps.map_or(ev.slots.min(ev.demands[d].cands.len()), |caps| caps[e][d])
    };
    for (e, ev) in problem.events.iter().enumerate() {
        for (d, dd) in ev.demands.iter().enumerate() {
            let k = cap(e, d, ev);
            for &c in &dd.cands {
                let cand = &problem.cands[c];
                for j in 1..=k.min(cand.order + 1) {
                    let v = vars.add(variable().binary());
                    n_vars += 1;
                    let mut coef = cand.value * problem.weight(j);
                    if j <= min_per_demand {
                        coef += w.big;
                    }
                    coef += w.pin * f64::from(pin_count[c]);
                    objective.add_mul(coef, v);
                    y[c].push((j, v));
                }
            }
        }
    }

    // Constraints are collected first (slack variables must exist before `maximise`).
    let mut constraints: Vec<good_lp::Constraint> = Vec::new();
    let sum = |cs: &mut dyn Iterator<Item = usize>| -> (Expression, usize) {
        let mut ex = Expression::with_capacity(16);
        let mut n = 0;
        for c in cs {
            for &(_, v) in &y[c] {
                ex.add_mul(1.0, v);
                n += 1;
            }
        }
        (ex, n)
    };

    // Position rows.
    for (e, ev) in problem.events.iter().enumerate() {
        for (d, dd) in ev.demands.iter().enumerate() {
            let k = cap(e, d, ev);
            for j in 1..=k {
                let mut ex = Expression::with_capacity(dd.cands.len());
                let mut n = 0;
                for &c in &dd.cands {
                    if let Some(&(_, v)) = y[c].iter().find(|(jj, _)| *jj == j) {
                        ex.add_mul(1.0, v);
                        n += 1;
                    }
                }
                if n > 1 {
                    constraints.push(ex.leq(1.0));
                }
            }
        }
    }

    // Once per event per profile, and season limit.
    let mut by_profile: Vec<Vec<Vec<usize>>> = vec![Vec::new(); problem.profiles.len()];
    // by_profile[p] = list of candidate groups, one per event (events ascending).
    {
        let mut last_event: Vec<usize> = vec![usize::MAX; problem.profiles.len()];
        // Candidates are stored event by event, so grouping by scanning is deterministic.
        for (c, cand) in problem.cands.iter().enumerate() {
            if y[c].is_empty() {
                continue;
            }
            if last_event[cand.profile] != cand.event {
                last_event[cand.profile] = cand.event;
                by_profile[cand.profile].push(Vec::new());
            }
            by_profile[cand.profile].last_mut().expect("group").push(c);
        }
    }
    for groups in &by_profile {
        for g in groups {
            let (ex, n) = sum(&mut g.iter().copied());
            if n > 1 {
                constraints.push(ex.leq(1.0));
            }
        }
        if groups.len() > rules.max_events_per_profile as usize {
            let (ex, _) = sum(&mut groups.iter().flatten().copied());
            constraints.push(ex.leq(f64::from(rules.max_events_per_profile)));
        }
    }

    // Slots and quotas.
    for (e, ev) in problem.events.iter().enumerate() {
        let all: Vec<usize> = ev.demands.iter().flat_map(|d| d.cands.iter().copied()).collect();
        let reachable: usize = (0..ev.demands.len()).map(|d| cap(e, d, ev)).sum();
        if reachable > ev.slots {
            let (ex, _) = sum(&mut all.iter().copied());
            constraints.push(ex.leq(ev.slots as f64));
        }
        let q = &problem.specs[e].quotas;
        let profiles = &problem.profiles;
        let cands = &problem.cands;
        let group = |f: &dyn Fn(usize) -> bool| -> Vec<usize> {
            all.iter().copied().filter(|&c| f(cands[c].profile)).collect()
        };
        let mut soft_min = |members: Vec<usize>, min: u32, constraints: &mut Vec<good_lp::Constraint>| {
            if min == 0 {
                return;
            }
            let s = vars.add(variable().min(0.0).max(f64::from(min)));
            n_vars += 1;
            objective.add_mul(-w.big, s);
            let (mut ex, _) = sum(&mut members.into_iter());
            ex.add_mul(1.0, s);
            constraints.push(ex.geq(f64::from(min)));
        };
        if let Some(min) = q.min_sme_or_startup {
            soft_min(group(&|p| profiles[p].is_sme_or_startup()), min, &mut constraints);
        }
        if let Some(min) = q.min_knowledge_institutions {
            soft_min(group(&|p| profiles[p].is_knowledge_institution()), min, &mut constraints);
        }
        let mut soft_max = |members: Vec<usize>, max: u32, constraints: &mut Vec<good_lp::Constraint>| {
            let (mut ex, n) = sum(&mut members.into_iter());
            if n <= max as usize {
                return;
            }
            let s = vars.add(variable().min(0.0));
            n_vars += 1;
            objective.add_mul(-w.big, s);
            ex.add_mul(-1.0, s);
            constraints.push(ex.leq(f64::from(max)));
        };
        if let Some(max) = q.max_knowledge_institutions {
            soft_max(group(&|p| profiles[p].is_knowledge_institution()), max, &mut constraints);
        }
        if let Some(max) = q.max_per_theme {
            for (_, members) in problem.theme_groups(e) {
                soft_max(members, max, &mut constraints);
            }
        }
    }

    let n_constraints = constraints.len();
    let start = Instant::now();
    let mut model = vars.maximise(objective).using(microlp).with_time_limit(rules.time_limit_secs);
    for c in constraints {
        model.add_constraint(c);
    }
    let solution = match model.solve() {
        Ok(s) => s,
        Err(ResolutionError::Other(msg)) if msg.contains("Time limit") => {
            return Err(SelectError::Solver(format!(
                "no feasible line-up found within the time limit of {} s",
                rules.time_limit_secs
            )))
        }
        Err(e) => return Err(SelectError::Solver(e.to_string())),
    };
    let solve_seconds = start.elapsed().as_secs_f64();
    let status = solution.status();
    let optimal = matches!(status, SolutionStatus::Optimal);
    let mut notes = Vec::new();
    if !optimal {
        notes.push(format!(
            "the solver stopped ({status:?}) after {solve_seconds:.1} s (time limit {} s): the line-up is feasible but NOT proven optimal",
            rules.time_limit_secs
        ));
    }

    let mut chosen = Vec::new();
    for (c, ys) in y.iter().enumerate() {
        let total: f64 = ys.iter().map(|&(_, v)| solution.value(v)).sum();
        if total > 0.5 {
            chosen.push(c);
        }
    }
    Ok(Outcome { chosen, optimal, method: "milp", variables: n_vars, constraints: n_constraints, solve_seconds, notes })
}
