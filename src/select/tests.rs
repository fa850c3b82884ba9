//! Tests of the selection module: brute-force optimality on random small instances, greedy
//! sub-optimality, unmet reporting, pins/bans/conflicts, determinism and the JSON shapes.

use std::collections::{HashMap, HashSet};

use super::problem::Problem;
use super::solve::{solve_exact, solve_milp, weights};
use super::*;

/// Small seeded RNG (splitmix64) so the tests need no extra dependency.
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn profile(id: &str, kind: &str, size: Option<&str>, themes: &[&str]) -> CandidateProfile {
    CandidateProfile {
        profile_id: id.into(),
        kind: kind.into(),
        size: size.map(Into::into),
        themes: themes.iter().map(|t| t.to_string()).collect(),
        pitch_languages: Vec::new(),
    }
}

fn company(id: &str) -> CandidateProfile {
    profile(id, "company", Some("large"), &[])
}

fn map(ps: Vec<CandidateProfile>) -> HashMap<String, CandidateProfile> {
    ps.into_iter().map(|p| (p.profile_id.clone(), p)).collect()
}

fn demand(id: &str, ranked: &[(&str, f64)]) -> DemandRanking {
    DemandRanking {
        demand_id: id.into(),
        ranked: ranked.iter().map(|(p, v)| (p.to_string(), *v)).collect(),
        organisation: None,
    }
}

fn event(id: &str, org: &str, slots: u32, demands: Vec<DemandRanking>) -> EventSpec {
    EventSpec {
        event_id: id.into(),
        organisation: org.into(),
        slots,
        demands,
        quotas: Quotas::default(),
        pitch_languages: Vec::new(),
    }
}

fn selected_ids(sel: &EventSelection) -> Vec<(String, String)> {
    sel.selected.iter().map(|p| (p.profile_id.clone(), p.demand_id.clone())).collect()
}

// ---------- independent brute force ----------

/// Score of a line-up computed independently of the solver:
/// `(pins honoured, coverage − quota violations, decayed value)`.
fn brute_score(problem: &Problem, chosen: &[usize]) -> (usize, i64, f64) {
    let rules = problem.rules;
    let set: HashSet<usize> = chosen.iter().copied().collect();
    let pins = problem.pins.iter().filter(|p| p.cands.iter().any(|c| set.contains(c))).count();
    let mut soft = 0i64;
    let mut value = 0.0;
    for (e, ev) in problem.events.iter().enumerate() {
        let mut at_event = Vec::new();
        for d in &ev.demands {
            let mut vals: Vec<f64> =
                d.cands.iter().filter(|c| set.contains(c)).map(|&c| problem.cands[c].value).collect();
            vals.sort_by(|a, b| b.total_cmp(a));
            value += vals.iter().enumerate().map(|(j, v)| v * rules.decay.powi(j as i32)).sum::<f64>();
            soft += vals.len().min(rules.min_per_demand as usize) as i64;
            at_event.extend(d.cands.iter().copied().filter(|c| set.contains(c)));
        }
        let q = &problem.specs[e].quotas;
        let profs: Vec<&CandidateProfile> =
            at_event.iter().map(|&c| problem.profiles[problem.cands[c].profile]).collect();
        let sme = profs.iter().filter(|p| matches!(p.size.as_deref(), Some("sme") | Some("startup"))).count() as i64;
        let ki = profs.iter().filter(|p| p.kind == "knowledge_institution").count() as i64;
        if let Some(min) = q.min_sme_or_startup {
            soft -= (min as i64 - sme).max(0);
        }
        if let Some(min) = q.min_knowledge_institutions {
            soft -= (min as i64 - ki).max(0);
        }
        if let Some(max) = q.max_knowledge_institutions {
            soft -= (ki - max as i64).max(0);
        }
        if let Some(max) = q.max_per_theme {
            let mut counts: HashMap<&str, i64> = HashMap::new();
            for p in &profs {
                for t in p.themes.iter().collect::<HashSet<_>>() {
                    *counts.entry(t.as_str()).or_default() += 1;
                }
            }
            soft -= counts.values().map(|n| (n - max as i64).max(0)).sum::<i64>();
        }
    }
    (pins, soft, value)
}

fn combined(problem: &Problem, s: (usize, i64, f64)) -> f64 {
    let w = weights(problem);
    w.pin * s.0 as f64 + w.big * s.1 as f64 + s.2
}

/// Enumerates every feasible line-up (each profile: per event none or one candidate; slots and
/// season limit respected) and returns the best combined score and its line-up.
fn brute_force(problem: &Problem) -> (f64, (usize, i64, f64), Vec<usize>) {
    let n_p = problem.profiles.len();
    // options[p] = list of candidate indices of p.
    let mut options: Vec<Vec<usize>> = vec![Vec::new(); n_p];
    for (c, cand) in problem.cands.iter().enumerate() {
        options[cand.profile].push(c);
    }
    let mut best = (f64::NEG_INFINITY, (0, 0, 0.0), Vec::new());
    let mut chosen = Vec::new();
    let mut slots_used = vec![0usize; problem.events.len()];
    fn rec(
        p: usize,
        problem: &Problem,
        options: &[Vec<usize>],
        chosen: &mut Vec<usize>,
        slots_used: &mut Vec<usize>,
        best: &mut (f64, (usize, i64, f64), Vec<usize>),
    ) {
        if p == options.len() {
            let s = brute_score(problem, chosen);
            let total = combined(problem, s);
            if total > best.0 + 1e-9 {
                *best = (total, s, chosen.clone());
            }
            return;
        }
        // Enumerate subsets of p's candidates: at most one per event, at most max_events.
        let opts = &options[p];
        let n = opts.len();
        for mask in 0u32..(1 << n) {
            let picked: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| opts[i]).collect();
            if picked.len() > problem.rules.max_events_per_profile as usize {
                continue;
            }
            let evs: HashSet<usize> = picked.iter().map(|&c| problem.cands[c].event).collect();
            if evs.len() != picked.len() {
                continue;
            }
            if picked
                .iter()
                .any(|&c| slots_used[problem.cands[c].event] >= problem.events[problem.cands[c].event].slots)
            {
                continue;
            }
            for &c in &picked {
                slots_used[problem.cands[c].event] += 1;
                chosen.push(c);
            }
            rec(p + 1, problem, options, chosen, slots_used, best);
            for &c in &picked {
                slots_used[problem.cands[c].event] -= 1;
                chosen.pop();
            }
        }
    }
    rec(0, problem, &options, &mut chosen, &mut slots_used, &mut best);
    best
}

struct Instance {
    profiles: HashMap<String, CandidateProfile>,
    events: Vec<EventSpec>,
    rules: SeasonRules,
}

fn random_instance(seed: u64) -> Instance {
    let mut rng = Rng(seed);
    let n_p = 5 + rng.below(2);
    let themes = ["a", "b", "c"];
    let mut ps = Vec::new();
    for i in 0..n_p {
        let ki = rng.f() < 0.25;
        let size = if ki { None } else { Some(["sme", "startup", "large"][rng.below(3)]) };
        let t: Vec<&str> = (0..1 + rng.below(2)).map(|_| themes[rng.below(3)]).collect();
        ps.push(profile(&format!("p{i}"), if ki { "knowledge_institution" } else { "company" }, size, &t));
    }
    let n_e = 2;
    let mut events = Vec::new();
    for e in 0..n_e {
        let mut demands = Vec::new();
        for d in 0..1 + rng.below(2) {
            let mut ranked = Vec::new();
            for p in &ps {
                if rng.f() < 0.6 {
                    ranked.push((p.profile_id.clone(), (rng.f() * 100.0).round() / 100.0));
                }
            }
            demands.push(DemandRanking { demand_id: format!("e{e}d{d}"), ranked, organisation: None });
        }
        let mut quotas = Quotas::default();
        if rng.f() < 0.5 {
            quotas.min_sme_or_startup = Some(rng.below(3) as u32);
            quotas.max_knowledge_institutions = Some(rng.below(2) as u32);
            quotas.max_per_theme = Some(1 + rng.below(2) as u32);
            quotas.min_knowledge_institutions = Some(rng.below(2) as u32);
        }
        events.push(EventSpec {
            event_id: format!("e{e}"),
            organisation: ["Renault", "PSA"][e % 2].into(),
            slots: 1 + rng.below(3) as u32,
            demands,
            quotas,
            pitch_languages: Vec::new(),
        });
    }
    let mut rules = SeasonRules {
        max_events_per_profile: 1 + rng.below(2) as u32,
        min_per_demand: rng.below(2) as u32,
        decay: 0.5 + 0.4 * rng.f(),
        top_n: 3 + rng.below(3),
        ..Default::default()
    };
    if rng.f() < 0.5 {
        rules.pins.push(Pin { profile_id: format!("p{}", rng.below(n_p)), event_id: "e0".into(), demand_id: None });
    }
    if rng.f() < 0.5 {
        rules.bans.push(Ban { profile_id: format!("p{}", rng.below(n_p)), event_id: Some("e1".into()), reason: None });
    }
    if rng.f() < 0.5 {
        rules.conflicts.push(Conflict {
            profile_id: format!("p{}", rng.below(n_p)),
            organisation: "renault".into(),
            reason: None,
        });
    }
    Instance { profiles: map(ps), events, rules }
}

#[test]
fn exact_matches_brute_force_on_random_instances() {
    let mut capped_paths = 0;
    for seed in 0..40 {
        let inst = random_instance(seed);
        let problem = Problem::build(&inst.profiles, &inst.events, &inst.rules).unwrap();
        let (best_total, best_score, _) = brute_force(&problem);
        let outcome = solve_exact(&problem).unwrap();
        assert!(outcome.optimal, "seed {seed}: not optimal");
        if outcome.method.starts_with("milp-capped") {
            capped_paths += 1;
        }
        let got = brute_score(&problem, &outcome.chosen);
        assert_eq!((got.0, got.1), (best_score.0, best_score.1), "seed {seed}: soft constraints differ");
        assert!(
            (combined(&problem, got) - best_total).abs() < 1e-6,
            "seed {seed}: solver {got:?} vs brute force {best_score:?}"
        );
        // The uncapped model agrees with the capped one.
        let full = solve_milp(&problem, None).unwrap();
        assert!(
            (combined(&problem, brute_score(&problem, &full.chosen)) - best_total).abs() < 1e-6,
            "seed {seed}: full model"
        );
        // The public API reports the same value objective.
        let sel = select_season(&inst.profiles, &inst.events, &inst.rules).unwrap();
        assert!(
            (sel.objective - best_score.2).abs() < 1e-6,
            "seed {seed}: objective {} vs {}",
            sel.objective,
            best_score.2
        );
        assert!(sel.optimal);
    }
    // Both the certified capped path and the fallback are exercised.
    assert!(capped_paths > 5 && capped_paths < 40, "capped path taken {capped_paths} times");
}

/// One event, two slots, two demand areas, decay 0.5. Greedy takes A for d1 (0.9) and then B
/// for d1 (0.8 × 0.5 = 0.4 beats 0.1) = 1.3; optimal is A→d2 (0.85) + B→d1 (0.8) = 1.65.
fn greedy_trap() -> Instance {
    let profiles = map(vec![company("A"), company("B")]);
    let events = vec![event(
        "ev",
        "PSA",
        2,
        vec![demand("d1", &[("A", 0.9), ("B", 0.8)]), demand("d2", &[("A", 0.85), ("B", 0.1)])],
    )];
    let rules = SeasonRules { min_per_demand: 0, decay: 0.5, ..Default::default() };
    Instance { profiles, events, rules }
}

#[test]
fn greedy_is_strictly_worse_on_trap() {
    let inst = greedy_trap();
    let exact = select_season(&inst.profiles, &inst.events, &inst.rules).unwrap();
    let greedy = select_season_greedy(&inst.profiles, &inst.events, &inst.rules).unwrap();
    assert!((exact.objective - 1.65).abs() < 1e-9, "exact {}", exact.objective);
    assert!((greedy.objective - 1.3).abs() < 1e-9, "greedy {}", greedy.objective);
    assert!(greedy.objective < exact.objective - 0.3);
    assert!(exact.optimal && !greedy.optimal);
    let mut got = selected_ids(&exact.events[0]);
    got.sort();
    assert_eq!(got, vec![("A".to_string(), "d2".to_string()), ("B".to_string(), "d1".to_string())]);
}

#[test]
fn season_limit_makes_greedy_worse_across_events() {
    // A is best at both events; giving A to e2 (where the alternative is weak) is optimal.
    let profiles = map(vec![company("A"), company("B"), company("C")]);
    let events = vec![
        event("e1", "X", 1, vec![demand("d", &[("A", 0.9), ("B", 0.85)])]),
        event("e2", "Y", 1, vec![demand("d", &[("A", 0.8), ("C", 0.1)])]),
    ];
    let rules = SeasonRules::default();
    let exact = select_season(&profiles, &events, &rules).unwrap();
    let greedy = select_season_greedy(&profiles, &events, &rules).unwrap();
    assert!((exact.objective - 1.65).abs() < 1e-9);
    assert!((greedy.objective - 1.0).abs() < 1e-9);
    assert_eq!(exact.events[0].selected[0].profile_id, "B");
    assert_eq!(exact.events[1].selected[0].profile_id, "A");
    // A is the strongest left out at e1, because it pitches at e2.
    let lo = &exact.events[0].left_out[0];
    assert_eq!((lo.profile_id.as_str(), lo.reason), ("A", LeftOutReason::SeasonLimit));
    assert!(lo.detail.contains("e2"));
}

#[test]
fn decay_spreads_coverage_exactly() {
    // Three strong profiles for d1, one weak for d2; with decay 0.5 the third d1 pitch (0.7×0.25)
    // is worth less than the d2 pitch (0.3), with decay 1.0 it is worth more.
    let profiles = map(vec![company("A"), company("B"), company("C"), company("D")]);
    let events = vec![event(
        "ev",
        "X",
        3,
        vec![demand("d1", &[("A", 0.9), ("B", 0.8), ("C", 0.7)]), demand("d2", &[("D", 0.3)])],
    )];
    let spread = SeasonRules { min_per_demand: 0, decay: 0.5, ..Default::default() };
    let sel = select_season(&profiles, &events, &spread).unwrap();
    let ids: HashSet<String> = sel.events[0].selected.iter().map(|p| p.profile_id.clone()).collect();
    assert_eq!(ids, ["A", "B", "D"].iter().map(|s| s.to_string()).collect());
    assert!((sel.objective - (0.9 + 0.8 * 0.5 + 0.3)).abs() < 1e-9);
    let b = sel.events[0].selected.iter().find(|p| p.profile_id == "B").unwrap();
    assert_eq!((b.position, b.rank), (Some(2), Some(2)));
    assert!((b.weighted_value.unwrap() - 0.4).abs() < 1e-12);
    let flat = SeasonRules { min_per_demand: 0, decay: 1.0, ..Default::default() };
    let sel = select_season(&profiles, &events, &flat).unwrap();
    let ids: HashSet<String> = sel.events[0].selected.iter().map(|p| p.profile_id.clone()).collect();
    assert_eq!(ids, ["A", "B", "C"].iter().map(|s| s.to_string()).collect());
    // min_per_demand = 1 forces D in even without decay.
    let covered = SeasonRules { min_per_demand: 1, decay: 1.0, ..Default::default() };
    let sel = select_season(&profiles, &events, &covered).unwrap();
    assert!(sel.events[0].selected.iter().any(|p| p.profile_id == "D"));
    assert!(sel.unmet.is_empty());
    // The left-out C is explained as outscored within the slot limit, and is the first reserve.
    assert_eq!(sel.events[0].left_out[0].reason, LeftOutReason::SlotLimit);
    assert_eq!(sel.events[0].reserves[0].profile_id, "C");
}

#[test]
fn infeasible_coverage_and_quotas_are_reported() {
    let profiles = map(vec![
        profile("s1", "company", Some("sme"), &["x"]),
        company("L1"),
        company("L2"),
        profile("k1", "knowledge_institution", None, &["x"]),
    ]);
    let mut ev = event(
        "ev",
        "X",
        2,
        vec![
            demand("d1", &[("L1", 0.9), ("s1", 0.2)]),
            demand("d2", &[("L2", 0.8)]),
            demand("d3", &[("k1", 0.7)]),
            demand("d4", &[]),
        ],
    );
    ev.quotas = Quotas { min_sme_or_startup: Some(2), ..Default::default() };
    let sel = select_season(&profiles, &[ev], &SeasonRules::default()).unwrap();
    let e = &sel.events[0];
    assert_eq!(e.selected.len(), 2);
    assert!(sel.optimal);
    let joined = e.unmet.join("\n");
    assert!(joined.contains("demand area d4 has 0 pitch(es)") && joined.contains("no profiles are ranked"), "{joined}");
    assert!(joined.contains("the event has 2 slots but its 4 demand areas need 4 pitches"), "{joined}");
    assert!(
        joined.contains("quota min_sme_or_startup = 2 not met") && joined.contains("only 1 eligible SME/start-up"),
        "{joined}"
    );
    // The SME is taken (quota unit and coverage both count), so d1 is covered by s1 or L1.
    assert!(e.selected.iter().any(|p| p.profile_id == "s1"));
    // Season-level list carries the same sentences with the event id.
    assert!(sel.unmet.iter().all(|u| u.starts_with("ev: ")));
    assert_eq!(sel.unmet.len(), e.unmet.len());
}

#[test]
fn pins_bans_and_conflicts_are_honoured() {
    let profiles = map(vec![company("A"), company("B"), company("C"), company("D"), company("E")]);
    let events = vec![
        event("e1", " renault ", 2, vec![demand("d", &[("A", 0.9), ("B", 0.8), ("C", 0.7), ("D", 0.6), ("E", 0.1)])]),
        event("e2", "PSA", 2, vec![demand("d", &[("B", 0.9), ("A", 0.5), ("E", 0.4)])]),
    ];
    let rules = SeasonRules {
        min_per_demand: 0,
        pins: vec![Pin { profile_id: "E".into(), event_id: "e1".into(), demand_id: Some("d".into()) }],
        bans: vec![Ban { profile_id: "B".into(), event_id: None, reason: None }],
        conflicts: vec![Conflict { profile_id: "A".into(), organisation: "Renault".into(), reason: None }],
        ..Default::default()
    };
    let sel = select_season(&profiles, &events, &rules).unwrap();
    let e1 = &sel.events[0];
    let ids: Vec<&str> = e1.selected.iter().map(|p| p.profile_id.as_str()).collect();
    assert_eq!(ids, vec!["C", "E"]); // E pinned although weakest; A conflicted; B banned.
    assert!(e1.selected.iter().find(|p| p.profile_id == "E").unwrap().pinned);
    let reason = |ev: &EventSelection, id: &str| ev.left_out.iter().find(|l| l.profile_id == id).map(|l| l.reason);
    assert_eq!(reason(e1, "A"), Some(LeftOutReason::Conflict));
    assert_eq!(reason(e1, "B"), Some(LeftOutReason::Ban));
    assert!(sel.events.iter().all(|e| e.selected.iter().all(|p| p.profile_id != "B")));
    let e2 = &sel.events[1];
    assert_eq!(e2.selected.iter().map(|p| p.profile_id.as_str()).collect::<Vec<_>>(), vec!["A"]);
    assert!(sel.unmet.is_empty(), "{:?}", sel.unmet);
    // Reserves never contain banned, conflicted or already selected profiles.
    assert_eq!(e1.reserves.iter().map(|p| p.profile_id.as_str()).collect::<Vec<_>>(), vec!["D"]);
}

#[test]
fn contradictory_pins_are_reported_not_silently_dropped() {
    let profiles = map(vec![company("A"), company("B")]);
    let events = vec![
        event("e1", "X", 1, vec![demand("d", &[("A", 0.9), ("B", 0.5)])]),
        event("e2", "Y", 1, vec![demand("d", &[("A", 0.8), ("B", 0.4)])]),
    ];
    let rules = SeasonRules {
        pins: vec![
            Pin { profile_id: "A".into(), event_id: "e1".into(), demand_id: None },
            Pin { profile_id: "A".into(), event_id: "e2".into(), demand_id: None },
            Pin { profile_id: "B".into(), event_id: "e2".into(), demand_id: None },
        ],
        bans: vec![Ban { profile_id: "B".into(), event_id: Some("e2".into()), reason: None }],
        ..Default::default()
    };
    let sel = select_season(&profiles, &events, &rules).unwrap();
    assert!(sel.optimal);
    let all = sel.unmet.join("\n");
    assert!(all.contains("pin of B could not be honoured: the profile is banned from this event"), "{all}");
    assert!(all.contains("pinned at 2 events but max_events_per_profile is 1"), "{all}");
    // Exactly one of A's pins is honoured.
    let a_count = sel.events.iter().filter(|e| e.selected.iter().any(|p| p.profile_id == "A")).count();
    assert_eq!(a_count, 1);
}

#[test]
fn same_input_same_output() {
    for seed in [3, 17, 29] {
        let inst = random_instance(seed);
        let a = select_season(&inst.profiles, &inst.events, &inst.rules).unwrap();
        // Rebuild the profile map so HashMap iteration order differs.
        let profiles2: HashMap<String, CandidateProfile> = {
            let mut v: Vec<_> = inst.profiles.clone().into_iter().collect();
            v.reverse();
            v.into_iter().collect()
        };
        let b = select_season(&profiles2, &inst.events, &inst.rules).unwrap();
        let ja = serde_json::to_string(&(&a.events, a.objective, &a.unmet, a.optimal)).unwrap();
        let jb = serde_json::to_string(&(&b.events, b.objective, &b.unmet, b.optimal)).unwrap();
        assert_eq!(ja, jb, "seed {seed}");
    }
    // Ties: two identical profiles, one slot → always the same one.
    let profiles = map(vec![company("X"), company("Y")]);
    let events = vec![event("e", "O", 1, vec![demand("d", &[("Y", 0.5), ("X", 0.5)])])];
    let first = select_season(&profiles, &events, &SeasonRules::default()).unwrap();
    for _ in 0..3 {
        let again = select_season(&profiles, &events, &SeasonRules::default()).unwrap();
        assert_eq!(selected_ids(&again.events[0]), selected_ids(&first.events[0]));
    }
}

#[test]
fn user_errors_are_distinguished() {
    let inst = greedy_trap();
    let mut rules = inst.rules.clone();
    rules.pins.push(Pin { profile_id: "nobody".into(), event_id: "ev".into(), demand_id: None });
    let err = select_season(&inst.profiles, &inst.events, &rules).unwrap_err();
    assert!(matches!(err, SelectError::UnknownProfile { .. }) && err.is_user_error(), "{err}");
    let mut rules = inst.rules.clone();
    rules.pins.push(Pin { profile_id: "A".into(), event_id: "ev".into(), demand_id: Some("zz".into()) });
    assert!(matches!(select_season(&inst.profiles, &inst.events, &rules), Err(SelectError::UnknownDemand { .. })));
    let mut rules = inst.rules.clone();
    rules.bans.push(Ban { profile_id: "A".into(), event_id: Some("nope".into()), reason: None });
    assert!(matches!(select_season(&inst.profiles, &inst.events, &rules), Err(SelectError::UnknownEvent { .. })));
    let mut events = inst.events.clone();
    events[0].demands[0].ranked[0].1 = f64::NAN;
    assert!(matches!(select_season(&inst.profiles, &events, &inst.rules), Err(SelectError::InvalidInput(_))));
    let rules = SeasonRules { decay: 0.0, ..inst.rules.clone() };
    assert!(matches!(select_season(&inst.profiles, &inst.events, &rules), Err(SelectError::InvalidInput(_))));
    assert!(!SelectError::Solver("x".into()).is_user_error());
}

#[test]
fn output_json_shape_and_season_file() {
    let inst = greedy_trap();
    let sel = select_season(&inst.profiles, &inst.events, &inst.rules).unwrap();
    let v = serde_json::to_value(&sel.events[0]).unwrap();
    assert_eq!(v["event_id"], "ev");
    assert!(v["objective"].as_f64().unwrap() > 1.6);
    assert_eq!(v["optimal"], true);
    let first = &v["selected"][0];
    assert!(first["profile_id"].is_string() && first["demand_id"].is_string() && first["value"].is_f64());
    assert!(v["reserves"].is_array() && v["unmet"].is_array());

    let text = r#"{
      "events": [{"event_id": "psa-2021", "organisation": "PSA", "slots": 12,
                  "demands": ["psa-01", "psa-02"], "quotas": {"min_sme_or_startup": 3}}],
      "rules": {"decay": 0.7, "pins": [{"profile_id": "nl-0042", "event_id": "psa-2021"}],
                "conflicts": [{"profile_id": "nl-0107", "organisation": "Renault"}]}
    }"#;
    let file = SeasonFile::from_json_str(text).unwrap();
    assert_eq!(file.rules.decay, 0.7);
    assert_eq!(file.rules.top_n, 30);
    assert_eq!(file.rules.max_events_per_profile, 1);
    assert_eq!(file.events[0].quotas.min_sme_or_startup, Some(3));
    let spec = file.events[0].with_rankings(vec![DemandRanking {
        demand_id: "psa-02".into(),
        ranked: vec![],
        organisation: None,
    }]);
    assert_eq!(spec.demands.iter().map(|d| d.demand_id.as_str()).collect::<Vec<_>>(), vec!["psa-01", "psa-02"]);
    assert!(SeasonFile::from_json_str("{\"events\": 3}").unwrap_err().is_user_error());
}

#[test]
fn quotas_shape_the_line_up() {
    // Without quotas the three strongest (two KIs, same theme) win; with max 1 KI and
    // max_per_theme 2 the line-up changes exactly as required.
    let profiles = map(vec![
        profile("k1", "knowledge_institution", None, &["t"]),
        profile("k2", "knowledge_institution", None, &["t"]),
        profile("c1", "company", Some("large"), &["t"]),
        profile("s1", "company", Some("startup"), &["u"]),
    ]);
    let mut ev = event("e", "O", 3, vec![demand("d", &[("k1", 0.9), ("k2", 0.85), ("c1", 0.8), ("s1", 0.3)])]);
    let rules = SeasonRules { decay: 1.0, ..Default::default() };
    let sel = select_season(&profiles, std::slice::from_ref(&ev), &rules).unwrap();
    let ids: HashSet<&str> = sel.events[0].selected.iter().map(|p| p.profile_id.as_str()).collect();
    assert_eq!(ids, HashSet::from(["k1", "k2", "c1"]));
    ev.quotas = Quotas { max_knowledge_institutions: Some(1), max_per_theme: Some(2), ..Default::default() };
    let sel = select_season(&profiles, std::slice::from_ref(&ev), &rules).unwrap();
    let ids: HashSet<&str> = sel.events[0].selected.iter().map(|p| p.profile_id.as_str()).collect();
    assert_eq!(ids, HashSet::from(["k1", "c1", "s1"]));
    assert!(sel.unmet.is_empty());
    let k2 = sel.events[0].left_out.iter().find(|l| l.profile_id == "k2").unwrap();
    assert_eq!(k2.reason, LeftOutReason::Quota);
}

#[test]
fn an_event_takes_only_pitches_in_its_languages_and_says_so_for_those_left_out() {
    let speaking = |id: &str, languages: &[&str]| CandidateProfile {
        pitch_languages: languages.iter().map(|l| l.to_string()).collect(),
        ..company(id)
    };
    let profiles = map(vec![
        speaking("nl-only", &["nl"]),
        speaking("en-fr", &["en", "fr"]),
        speaking("fr", &["FR"]),
        company("unknown"),
    ]);
    let ranked = demand("d", &[("nl-only", 0.9), ("en-fr", 0.8), ("fr", 0.7), ("unknown", 0.6)]);
    let mut french = event("e", "Renault", 3, vec![ranked.clone()]);
    french.pitch_languages = vec!["fr".into()];
    let rules = SeasonRules {
        min_per_demand: 0,
        pins: vec![Pin { profile_id: "nl-only".into(), event_id: "e".into(), demand_id: None }],
        ..Default::default()
    };
    let sel = select_season(&profiles, &[french], &rules).unwrap();
    let e = &sel.events[0];
    let ids: Vec<&str> = e.selected.iter().map(|p| p.profile_id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["en-fr", "fr", "unknown"],
        "the best profile pitches only in Dutch; a profile stating no language is not held to it"
    );
    let left = e.left_out.iter().find(|l| l.profile_id == "nl-only").expect("explained");
    assert_eq!(left.reason, LeftOutReason::PitchLanguage);
    assert_eq!(left.detail, "the profile pitches in nl; the event takes pitches in fr");
    assert!(e.unmet.iter().any(|u| u.contains("pin of nl-only could not be honoured")), "{:?}", e.unmet);

    let any_language = event("e", "Renault", 3, vec![ranked]);
    let sel =
        select_season(&profiles, &[any_language], &SeasonRules { min_per_demand: 0, ..Default::default() }).unwrap();
    assert_eq!(sel.events[0].selected[0].profile_id, "nl-only", "no accepted languages, no rule");
}

#[test]
fn at_an_event_with_several_hosts_a_conflict_keeps_a_profile_from_that_hosts_demand_areas_only() {
    let profiles = map(vec![company("A"), company("B"), company("C")]);
    let hosted_by = |id: &str, org: &str, ranked: &[(&str, f64)]| DemandRanking {
        organisation: Some(org.into()),
        ..demand(id, ranked)
    };
    let day = event(
        "cluster-day",
        "Automotive cluster",
        2,
        vec![
            hosted_by("renault-d", "Renault", &[("A", 0.9), ("B", 0.5), ("C", 0.4)]),
            hosted_by("valeo-d", "Valeo", &[("A", 0.8), ("C", 0.3)]),
        ],
    );
    let conflicts = vec![Conflict { profile_id: "A".into(), organisation: " renault ".into(), reason: None }];
    let rules = SeasonRules { min_per_demand: 1, conflicts: conflicts.clone(), ..Default::default() };
    let sel = select_season(&profiles, std::slice::from_ref(&day), &rules).unwrap();
    let e = &sel.events[0];
    assert_eq!(
        selected_ids(e),
        vec![("B".into(), "renault-d".into()), ("A".into(), "valeo-d".into())],
        "A pitches to Valeo, not to Renault, at the same event"
    );
    assert!(e.reserves.iter().all(|r| r.profile_id != "A"), "{:?}", e.reserves);

    let pinned = SeasonRules {
        pins: vec![Pin { profile_id: "A".into(), event_id: "cluster-day".into(), demand_id: Some("renault-d".into()) }],
        ..rules
    };
    let sel = select_season(&profiles, &[day], &pinned).unwrap();
    let unmet = sel.events[0].unmet.join(" | ");
    assert!(
        unmet.contains("pin of A could not be honoured: the profile has a conflict of interest with Renault"),
        "{unmet}"
    );
    assert!(!selected_ids(&sel.events[0]).contains(&("A".into(), "renault-d".into())));
}

#[test]
fn the_organisers_reasons_reach_why_not_and_a_changed_line_up_says_what_moved() {
    let profiles = map(vec![company("A"), company("B"), company("C"), company("D")]);
    let events = vec![event("e1", "Renault", 2, vec![demand("d", &[("A", 0.9), ("B", 0.8), ("C", 0.7), ("D", 0.1)])])];
    let before = select_season(&profiles, &events, &SeasonRules::default()).unwrap().events.remove(0);
    assert_eq!(selected_ids(&before), [("A".to_string(), "d".to_string()), ("B".to_string(), "d".to_string())]);
    let rules = SeasonRules {
        pins: vec![Pin { profile_id: "D".into(), event_id: "e1".into(), demand_id: None }],
        bans: vec![Ban { profile_id: "A".into(), event_id: Some("e1".into()), reason: Some("met last year".into()) }],
        conflicts: vec![Conflict {
            profile_id: "C".into(),
            organisation: "renault".into(),
            reason: Some("supplier".into()),
        }],
        ..Default::default()
    };
    let after = select_season(&profiles, &events, &rules).unwrap().events.remove(0);
    let detail = |id: &str| after.left_out.iter().find(|l| l.profile_id == id).map(|l| l.detail.clone());
    assert_eq!(detail("A").as_deref(), Some("the profile is banned from this event (met last year)"));
    assert_eq!(detail("C").as_deref(), Some("the profile has a conflict of interest with Renault (supplier)"));
    let moves: Vec<(String, MoveKind, String)> =
        line_up_moves(&before, &after, &rules).into_iter().map(|m| (m.profile_id, m.kind, m.why)).collect();
    assert_eq!(
        moves,
        [
            ("D".to_string(), MoveKind::In, "pinned by the organiser".to_string()),
            ("A".to_string(), MoveKind::Out, "banned by the organiser (met last year)".to_string()),
        ]
    );
    assert!(line_up_moves(&after, &after, &rules).is_empty(), "nothing moved, nothing said");
}
