//! Greedy baseline (see [`super::select_season_greedy`]): used for comparison only.

use std::time::Instant;

use super::problem::Problem;
use super::solve::Outcome;

struct State {
    event_count: Vec<usize>,
    demand_count: Vec<Vec<usize>>,
    profile_events: Vec<Vec<usize>>,
    ki_count: Vec<usize>,
    theme_count: Vec<std::collections::HashMap<String, usize>>,
    taken: Vec<bool>,
}

pub(crate) fn solve_greedy(problem: &Problem) -> Outcome {
    let start = Instant::now();
    let rules = problem.rules;
    let mut st = State {
        event_count: vec![0; problem.events.len()],
        demand_count: problem.events.iter().map(|e| vec![0; e.demands.len()]).collect(),
        profile_events: vec![Vec::new(); problem.profiles.len()],
        ki_count: vec![0; problem.events.len()],
        theme_count: vec![Default::default(); problem.events.len()],
        taken: vec![false; problem.cands.len()],
    };
    let fits = |st: &State, c: usize, check_quota: bool| -> bool {
        let cand = &problem.cands[c];
        let e = cand.event;
        if st.event_count[e] >= problem.events[e].slots {
            return false;
        }
        let pe = &st.profile_events[cand.profile];
        if pe.contains(&e) || pe.len() >= rules.max_events_per_profile as usize {
            return false;
        }
        if check_quota {
            let q = &problem.specs[e].quotas;
            let prof = problem.profiles[cand.profile];
            if let Some(max) = q.max_knowledge_institutions {
                if prof.is_knowledge_institution() && st.ki_count[e] >= max as usize {
                    return false;
                }
            }
            if let Some(max) = q.max_per_theme {
                if prof.themes.iter().any(|t| st.theme_count[e].get(t).copied().unwrap_or(0) >= max as usize) {
                    return false;
                }
            }
        }
        true
    };
    let take = |st: &mut State, c: usize| {
        let cand = &problem.cands[c];
        let e = cand.event;
        st.taken[c] = true;
        st.event_count[e] += 1;
        st.demand_count[e][cand.demand] += 1;
        st.profile_events[cand.profile].push(e);
        let prof = problem.profiles[cand.profile];
        if prof.is_knowledge_institution() {
            st.ki_count[e] += 1;
        }
        let mut themes: Vec<&String> = prof.themes.iter().collect();
        themes.sort();
        themes.dedup();
        for t in themes {
            *st.theme_count[e].entry(t.clone()).or_default() += 1;
        }
    };

    // Pins first, each on its best fitting candidate (pins override maximum quotas).
    for pin in &problem.pins {
        if let Some(&c) = pin
            .cands
            .iter()
            .filter(|&&c| fits(&st, c, false))
            .max_by(|&&a, &&b| problem.cands[a].value.total_cmp(&problem.cands[b].value).then(b.cmp(&a)))
        {
            take(&mut st, c);
        }
    }
    // Then the best marginal pitch while anything fits.
    loop {
        let mut best: Option<(f64, usize)> = None;
        for (c, cand) in problem.cands.iter().enumerate() {
            if st.taken[c] {
                continue;
            }
            let gain = cand.value * problem.weight(st.demand_count[cand.event][cand.demand] + 1);
            if best.is_some_and(|(g, _)| gain <= g) {
                continue;
            }
            if fits(&st, c, true) {
                best = Some((gain, c));
            }
        }
        match best {
            Some((_, c)) => take(&mut st, c),
            None => break,
        }
    }
    let chosen = (0..problem.cands.len()).filter(|&c| st.taken[c]).collect();
    Outcome {
        chosen,
        optimal: false,
        method: "greedy",
        variables: 0,
        constraints: 0,
        solve_seconds: start.elapsed().as_secs_f64(),
        notes: Vec::new(),
    }
}
