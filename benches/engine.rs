//! Engine benchmarks: speed and quality figures for the parts of pitchmatch that dominate cost.
//!
//! Sections (all run by default, in this order):
//! - `encoder`   — multilingual-e5 encoder from [`pitchmatch::engine::default_models_dir`], loaded
//!   with 2 and with 1 thread: load time, ms per short query (~10 tokens; median of 30 runs after
//!   3 warm-ups) and texts/s for a batch of 64 passages of ~150 tokens built from the dev
//!   profile summaries (median of 3 runs after 1 warm-up).
//! - `tatoeba`   — top-1 bitext retrieval accuracy nl->en and fr->en on the Tatoeba test set in
//!   `../shared/eval/tatoeba` (skipped with a message when absent), batched (padded batches, as
//!   imports embed) and one sentence per call (as search queries are embedded).
//! - `dense`     — exact dot-product scoring ([`VectorSet::score_all`]) over 100,000 and 1,000,000
//!   profiles of seeded random unit 384-d vectors (one passage each): ms per query (median of 20
//!   after 2 warm-ups) and the size of the vector matrix.
//! - `selection` — a seeded season (20 events x 10 demand areas x 5,000 profiles, quotas on every
//!   other event, conflicts, bans and pins): exact solve time, objective and optimal flag against
//!   the greedy baseline, and the same season curated (two locked pitches and a ban per event)
//!   solved again.
//!
//! Run with `cargo bench --bench engine` or `cargo bench --bench engine -- dense selection` for
//! some sections only. Figures are printed and written as JSON to `target/bench-results.json`
//! (`$CARGO_TARGET_DIR/bench-results.json` when that is set); the file is merged, so sections not
//! run keep their previous figures. Timings are wall-clock on whatever else the machine is doing.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bitext::Batching;
use pitchmatch::domain::Profile;
use pitchmatch::embed::{E5Encoder, VectorSet};
use pitchmatch::engine::default_models_dir;
use pitchmatch::select::{
    select_season, select_season_greedy, Ban, CandidateProfile, Conflict, DemandRanking, EventSpec, Pin, Quotas,
    SeasonRules,
};
use serde_json::{json, Map, Value};

#[path = "engine/bitext.rs"]
mod bitext;

type Section = fn() -> Result<Value, String>;

const SECTIONS: [(&str, Section); 4] =
    [("encoder", encoder), ("tatoeba", tatoeba), ("dense", dense), ("selection", selection)];

fn main() {
    // `cargo bench` passes `--bench` (and possibly other flags) to harness-less benches.
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if let Some(bad) = wanted.iter().find(|w| !SECTIONS.iter().any(|(name, _)| name == w)) {
        let names: Vec<&str> = SECTIONS.iter().map(|(name, _)| *name).collect();
        eprintln!("unknown section `{bad}`; expected one of: {}", names.join(", "));
        std::process::exit(2);
    }

    let out_path = results_path();
    let mut results = read_results(&out_path);
    let mut failed = false;
    for (name, run) in SECTIONS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        println!("== {name}");
        let started = Instant::now();
        let value = match run() {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
                json!({ "error": e })
            }
        };
        println!("   ({name} took {:.1}s)\n", started.elapsed().as_secs_f64());
        let mut entry = match value {
            Value::Object(m) => m,
            other => Map::from_iter([("value".to_string(), other)]),
        };
        entry.insert("unix_time".into(), json!(unix_time()));
        results.insert(name.to_string(), Value::Object(entry));
    }

    if let Some(dir) = out_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(&Value::Object(results)).expect("results serialise");
    match std::fs::write(&out_path, text + "\n") {
        Ok(()) => println!("wrote {}", out_path.display()),
        Err(e) => {
            eprintln!("could not write {}: {e}", out_path.display());
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// encoder

const SHORT_QUERY: &str = "lichtgewicht batterijbehuizing voor elektrische bussen";
const PASSAGES: usize = 64;
const PASSAGE_TOKENS: usize = 150;

fn encoder() -> Result<Value, String> {
    let models = default_models_dir();
    println!("   models: {}", models.display());
    let summaries = dev_summaries()?;
    let mut out = Map::new();
    let mut passages_info = Value::Null;
    for threads in [2usize, 1] {
        let t = Instant::now();
        let enc =
            E5Encoder::load_with_threads(&models, threads).map_err(|e| format!("load {}: {e}", models.display()))?;
        let load_ms = ms(t);

        let query_tokens = enc.xlmr_token_ids("query: ", SHORT_QUERY).map_err(|e| e.to_string())?.len();
        for _ in 0..3 {
            black_box(enc.embed_queries(&[SHORT_QUERY]).map_err(|e| e.to_string())?);
        }
        let mut query_ms = Vec::with_capacity(30);
        for _ in 0..30 {
            let t = Instant::now();
            black_box(enc.embed_queries(&[SHORT_QUERY]).map_err(|e| e.to_string())?);
            query_ms.push(ms(t));
        }

        let (texts, tokens) = build_passages(&enc, &summaries)?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        black_box(enc.embed_passages(&refs).map_err(|e| e.to_string())?);
        let mut batch_s = Vec::with_capacity(3);
        for _ in 0..3 {
            let t = Instant::now();
            black_box(enc.embed_passages(&refs).map_err(|e| e.to_string())?);
            batch_s.push(t.elapsed().as_secs_f64());
        }
        let batch = median(&mut batch_s);
        let texts_per_s = PASSAGES as f64 / batch;
        let (q_med, q_min, q_max) = (median(&mut query_ms), min(&query_ms), max(&query_ms));

        println!(
            "   threads={threads}: load {load_ms:.0} ms | query ({query_tokens} tokens incl. prefix and <s></s>) {q_med:.2} ms median \
             [min {q_min:.2}, max {q_max:.2}] | {PASSAGES} passages: {batch:.3} s/batch = {texts_per_s:.1} texts/s"
        );
        passages_info = json!({
            "count": PASSAGES,
            "tokens_min": tokens.iter().min(),
            "tokens_max": tokens.iter().max(),
            "tokens_mean": tokens.iter().sum::<usize>() as f64 / tokens.len() as f64,
        });
        out.insert(
            format!("threads_{threads}"),
            json!({
                "threads": threads,
                "dim": enc.dim(),
                "load_ms": load_ms,
                "query_tokens": query_tokens,
                "query_ms_median": q_med,
                "query_ms_min": q_min,
                "query_ms_max": q_max,
                "passage_batch_s_median": batch,
                "passages_texts_per_s": texts_per_s,
            }),
        );
    }
    let p = &passages_info;
    println!(
        "   passages: {} texts of {}-{} tokens (mean {:.1}, incl. prefix and <s></s>)",
        p["count"],
        p["tokens_min"],
        p["tokens_max"],
        p["tokens_mean"].as_f64().unwrap_or(f64::NAN)
    );
    out.insert("query".into(), json!(SHORT_QUERY));
    out.insert("passages".into(), passages_info);
    Ok(Value::Object(out))
}

/// Summaries of `../shared/eval/dev/profiles.jsonl`, in file order.
fn dev_summaries() -> Result<Vec<String>, String> {
    let path = shared_dir().join("eval/dev/profiles.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        if let Some(s) = v["summary"].as_str() {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no summaries", path.display()));
    }
    Ok(out)
}

/// `PASSAGES` texts of at least `PASSAGE_TOKENS` model tokens (the first word boundary reaching
/// it): text i starts with summary i and continues with the following summaries as needed.
/// Returns the texts and their token counts as [`E5Encoder::xlmr_token_ids`] sees them.
fn build_passages(enc: &E5Encoder, summaries: &[String]) -> Result<(Vec<String>, Vec<usize>), String> {
    let mut texts = Vec::with_capacity(PASSAGES);
    let mut counts = Vec::with_capacity(PASSAGES);
    for i in 0..PASSAGES {
        let mut words = (0..summaries.len()).flat_map(|k| summaries[(i + k) % summaries.len()].split_whitespace());
        let mut text = String::new();
        let mut tokens = 0;
        while tokens < PASSAGE_TOKENS {
            let Some(w) = words.next() else { break };
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(w);
            tokens = enc.xlmr_token_ids("passage: ", &text).map_err(|e| e.to_string())?.len();
        }
        texts.push(text);
        counts.push(tokens);
    }
    Ok((texts, counts))
}

// ---------------------------------------------------------------------------------------------
// tatoeba

fn tatoeba() -> Result<Value, String> {
    let dir = shared_dir().join("eval/tatoeba");
    if !dir.is_dir() {
        println!("   skipped: {} not found", dir.display());
        return Ok(json!({ "skipped": format!("{} not found", dir.display()) }));
    }
    let models = default_models_dir();
    let enc = E5Encoder::load_with_threads(&models, 2).map_err(|e| format!("load {}: {e}", models.display()))?;
    let mut out = Map::new();
    for (pair, src_lang, key) in [("nld-eng", "nld", "nl_en"), ("fra-eng", "fra", "fr_en")] {
        let src = read_lines(&dir.join(format!("tatoeba.{pair}.{src_lang}")))?;
        let tgt = read_lines(&dir.join(format!("tatoeba.{pair}.eng")))?;
        let mut by_path = Map::new();
        for (batching, path) in [(Batching::Batched, "batched"), (Batching::OneByOne, "one_by_one")] {
            let t = Instant::now();
            let acc = bitext::top1(&enc, &src, &tgt, batching).map_err(|e| format!("{pair}: {e}"))?;
            let secs = t.elapsed().as_secs_f64();
            println!("   {} {path}: top-1 {acc:.3} ({} pairs, {secs:.1}s)", key.replace('_', "->"), src.len());
            by_path.insert(path.into(), json!({ "top1": acc, "pairs": src.len(), "seconds": secs }));
        }
        out.insert(key.into(), Value::Object(by_path));
    }
    Ok(Value::Object(out))
}

fn read_lines(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().map(str::to_string).collect())
}

// ---------------------------------------------------------------------------------------------
// dense

const DIM: usize = 384;

fn dense() -> Result<Value, String> {
    let mut rng = Rng(7);
    let mut out = Map::new();
    for n in [100_000usize, 1_000_000] {
        let rss_before = rss_mb();
        let t = Instant::now();
        let mut set = VectorSet::new(DIM);
        let mut profile = minimal_profile();
        for i in 0..n {
            profile.id = format!("p-{i:07}");
            set.upsert(&profile, &[rng.unit_vector(DIM)]);
        }
        let build_s = t.elapsed().as_secs_f64();
        let rss_after = rss_mb();
        let matrix_mb = (set.len() * DIM * std::mem::size_of::<f32>()) as f64 / 1e6;

        let queries: Vec<Vec<f32>> = (0..22).map(|_| rng.unit_vector(DIM)).collect();
        let mut times = Vec::with_capacity(20);
        for (k, q) in queries.iter().enumerate() {
            let t = Instant::now();
            let hits = black_box(set.score_all(q));
            if k >= 2 {
                times.push(ms(t));
            }
            assert_eq!(hits.len(), n);
        }
        let med = median(&mut times);
        let rss_growth = rss_after.zip(rss_before).map(|(a, b)| a - b);
        println!(
            "   {n:>9} profiles: score_all {med:.2} ms/query median [min {:.2}, max {:.2}] | matrix {matrix_mb:.1} MB \
             | RSS growth {} | built in {build_s:.1}s",
            min(&times),
            max(&times),
            rss_growth.map_or("n/a".to_string(), |g| format!("{g:.0} MB")),
        );
        out.insert(
            n.to_string(),
            json!({
                "profiles": n,
                "dim": DIM,
                "score_all_ms_median": med,
                "score_all_ms_min": min(&times),
                "score_all_ms_max": max(&times),
                "matrix_mb": matrix_mb,
                "rss_growth_mb": rss_growth,
                "build_s": build_s,
            }),
        );
    }
    Ok(Value::Object(out))
}

fn minimal_profile() -> Profile {
    Profile::minimal("", "bench", "a summary of twenty characters")
}

/// Resident set size in MB (10^6 bytes) from `/proc/self/status`; None off Linux.
fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}

// ---------------------------------------------------------------------------------------------
// selection (ported from the seldev `season_bench` example)

const THEMES: [&str; 12] = [
    "batteries",
    "hydrogen",
    "lightweight",
    "sensors",
    "ai",
    "cybersecurity",
    "recycling",
    "composites",
    "power-electronics",
    "hmi",
    "additive",
    "logistics",
];
const ORGS: [&str; 5] = ["Renault", "Stellantis", "Airbus", "Safran", "Valeo"];

struct SeasonInstance {
    profiles: HashMap<String, CandidateProfile>,
    events: Vec<EventSpec>,
    rules: SeasonRules,
}

/// Profiles with a latent quality and 1-3 themes; each demand area focuses on 1-2 themes and
/// values a profile at quality x theme match + noise, so strong profiles rank high in many areas
/// (the season limit bites). Quotas on every other event, plus 50 conflicts, 5 bans and 5 pins.
fn season_instance(seed: u64, n_events: usize, n_demands: usize, n_profiles: usize) -> SeasonInstance {
    let mut rng = Rng(seed);
    let mut profiles = HashMap::new();
    let mut latent = Vec::new();
    for i in 0..n_profiles {
        let id = format!("nl-{i:04}");
        let ki = rng.f() < 0.08;
        let size = if ki {
            None
        } else {
            let r = rng.f();
            Some(
                if r < 0.5 {
                    "sme"
                } else if r < 0.65 {
                    "startup"
                } else {
                    "large"
                }
                .to_string(),
            )
        };
        let mut themes: Vec<String> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let t = THEMES[rng.below(THEMES.len())].to_string();
            if !themes.contains(&t) {
                themes.push(t);
            }
        }
        let quality = rng.f().powf(0.7);
        latent.push((id.clone(), quality, themes.clone()));
        let kind = if ki { "knowledge_institution" } else { "company" }.to_string();
        profiles
            .insert(id.clone(), CandidateProfile { profile_id: id, kind, size, themes, pitch_languages: Vec::new() });
    }

    let mut events = Vec::new();
    for e in 0..n_events {
        let org = ORGS[e % ORGS.len()];
        let event_id = format!("{}-{}", org.to_lowercase(), 2021 + e / ORGS.len());
        let mut demands = Vec::new();
        for d in 0..n_demands {
            let focus: Vec<&str> = (0..1 + rng.below(2)).map(|_| THEMES[rng.below(THEMES.len())]).collect();
            let mut ranked: Vec<(String, f64)> = latent
                .iter()
                .map(|(id, q, themes)| {
                    let hit =
                        focus.iter().filter(|f| themes.iter().any(|t| t == *f)).count() as f64 / focus.len() as f64;
                    let v = 0.25 * q + 0.45 * hit * q + 0.3 * rng.f();
                    (id.clone(), (v * 1000.0).round() / 1000.0)
                })
                .collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            demands.push(DemandRanking { demand_id: format!("{event_id}-{d:02}"), ranked, organisation: None });
        }
        let quotas = if e % 2 == 0 {
            Quotas {
                min_sme_or_startup: Some(5),
                min_knowledge_institutions: Some(1),
                max_knowledge_institutions: Some(2),
                max_per_theme: Some(5),
            }
        } else {
            Quotas::default()
        };
        events.push(EventSpec {
            event_id,
            organisation: org.to_string(),
            slots: 12,
            demands,
            quotas,
            pitch_languages: Vec::new(),
        });
    }

    let mut rules = SeasonRules { max_events_per_profile: 1, top_n: 30, ..Default::default() };
    for i in 0..50 {
        rules.conflicts.push(Conflict {
            profile_id: format!("nl-{:04}", (i * 97) % n_profiles),
            organisation: ORGS[i % ORGS.len()].to_string(),
            reason: None,
        });
    }
    for i in 0..5 {
        rules.bans.push(Ban {
            profile_id: format!("nl-{:04}", (i * 331 + 7) % n_profiles),
            event_id: None,
            reason: None,
        });
    }
    for ev in events.iter().take(5) {
        // Pin the 40th-ranked profile of the first demand area (not one greedy would pick).
        let d = &ev.demands[0];
        let pid = d.ranked[39.min(d.ranked.len() - 1)].0.clone();
        rules.pins.push(Pin { profile_id: pid, event_id: ev.event_id.clone(), demand_id: None });
    }
    SeasonInstance { profiles, events, rules }
}

fn selection() -> Result<Value, String> {
    let (seed, n_events, n_demands, n_profiles) = (42, 20, 10, 5000);
    let t = Instant::now();
    let inst = season_instance(seed, n_events, n_demands, n_profiles);
    let generate_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let exact = select_season(&inst.profiles, &inst.events, &inst.rules).map_err(|e| format!("exact: {e}"))?;
    let exact_wall = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let greedy = select_season_greedy(&inst.profiles, &inst.events, &inst.rules).map_err(|e| format!("greedy: {e}"))?;
    let greedy_wall = t.elapsed().as_secs_f64();
    let ratio = greedy.objective / exact.objective;

    // The season curated as an organiser does between two solves: in every event two pitches of
    // the solved line-up locked (pinned to their demand area) and a third banned, then solved again.
    let mut curated = inst.rules.clone();
    for ev in &exact.events {
        for p in ev.selected.iter().take(2) {
            curated.pins.push(Pin {
                profile_id: p.profile_id.clone(),
                event_id: ev.event_id.clone(),
                demand_id: Some(p.demand_id.clone()),
            });
        }
        if let Some(p) = ev.selected.get(2) {
            curated.bans.push(Ban {
                profile_id: p.profile_id.clone(),
                event_id: Some(ev.event_id.clone()),
                reason: Some("met last year".into()),
            });
        }
    }
    let t = Instant::now();
    let locked = select_season(&inst.profiles, &inst.events, &curated).map_err(|e| format!("locked: {e}"))?;
    let locked_wall = t.elapsed().as_secs_f64();
    let locks_kept = exact.events.iter().zip(&locked.events).all(|(before, after)| {
        before
            .selected
            .iter()
            .take(2)
            .all(|l| after.selected.iter().any(|p| p.profile_id == l.profile_id && p.demand_id == l.demand_id))
    });

    println!(
        "   instance: seed={seed} events={n_events} demands/event={n_demands} profiles={n_profiles} slots=12 \
         top_n=30 max_events=1 quotas=every other event (generated in {generate_s:.2}s)"
    );
    println!(
        "   exact : objective={:.4} optimal={} unmet={} candidates={} vars={} constraints={} solve={:.3}s total={:.3}s",
        exact.objective,
        exact.optimal,
        exact.unmet.len(),
        exact.stats.candidates,
        exact.stats.variables,
        exact.stats.constraints,
        exact.stats.solve_seconds,
        exact_wall
    );
    println!("   greedy: objective={:.4} unmet={} total={greedy_wall:.3}s", greedy.objective, greedy.unmet.len());
    println!("   greedy/exact objective ratio = {ratio:.4}");
    println!(
        "   locked: 2 locks + 1 ban per event, re-solved: objective={:.4} optimal={} locks kept={locks_kept} \
         total={locked_wall:.3}s ({:.2}x the first solve)",
        locked.objective,
        locked.optimal,
        locked_wall / exact_wall
    );

    Ok(json!({
        "instance": {
            "seed": seed, "events": n_events, "demands_per_event": n_demands, "profiles": n_profiles,
            "slots": 12, "top_n": 30, "max_events_per_profile": 1,
        },
        "exact": {
            "objective": exact.objective,
            "optimal": exact.optimal,
            "unmet": exact.unmet.len(),
            "candidates": exact.stats.candidates,
            "variables": exact.stats.variables,
            "constraints": exact.stats.constraints,
            "solve_s": exact.stats.solve_seconds,
            "total_s": exact_wall,
        },
        "greedy": { "objective": greedy.objective, "unmet": greedy.unmet.len(), "total_s": greedy_wall },
        "greedy_over_exact": ratio,
        "locked_resolve": {
            "locks": 2 * exact.events.len(), "bans": exact.events.len(),
            "objective": locked.objective, "optimal": locked.optimal, "locks_kept": locks_kept,
            "total_s": locked_wall, "over_first_solve": locked_wall / exact_wall,
        },
    }))
}

// ---------------------------------------------------------------------------------------------
// helpers

/// splitmix64: small, seeded, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform direction on the unit sphere is not needed for a timing; uniform in [-1, 1)^dim,
    /// normalised, is.
    fn unit_vector(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| (self.f() * 2.0 - 1.0) as f32).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn results_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-results.json")
}

/// The previous results file as a map, or an empty one.
fn read_results(path: &Path) -> Map<String, Value> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

fn unix_time() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
