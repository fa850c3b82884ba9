//! Engine tests over a real data dir: the demo data, the real model. They check what only the
//! whole engine can show: a cached ranking that takes in writes gives the shortlist a fresh one
//! gives, within the bound the refresh policy sets, and writes reach shortlists at all.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use super::rankings::{RankingCache, RankingKey, RefreshPolicy};
use super::*;
use crate::domain::{Filter, Ranker};
use crate::rank::Shortlist;

const DEMAND: &str = "demo-d-01";

/// A data dir with the demo profiles and demand areas imported once; each test copies it.
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let engine = Engine::open(dir.path()).expect("engine");
            let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
            let files = ImportFiles {
                profiles: Some(demo.join("profiles.jsonl")),
                demands: Some(demo.join("demands.jsonl")),
                events: None,
            };
            engine.import(&files).expect("demo import");
            dir
        })
        .path()
}

fn demo_engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in walk(demo_template()) {
        let target = dir.path().join(entry.strip_prefix(demo_template()).expect("prefix"));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
    let engine = Engine::open(dir.path()).expect("engine");
    (dir, engine)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path.ends_with(".tantivy-writer.lock") {
            out.push(path);
        }
    }
    out
}

fn shortlist(engine: &Engine, k: usize) -> Shortlist {
    engine.rank_demand(DEMAND, k, &Filter::default(), Ranker::Hybrid).expect("shortlist")
}

fn ids(list: &Shortlist) -> Vec<&str> {
    list.results.iter().map(|r| r.profile_id.as_str()).collect()
}

/// New profiles written in the demand's own words, so that they compete for its top places.
fn newcomers(engine: &Engine, n: usize) -> Vec<Profile> {
    let demand = engine.demand(DEMAND).expect("read").expect("demand");
    (0..n)
        .map(|i| {
            let mut p = Profile::minimal(
                &format!("new-{i}"),
                &format!("Newcomer {i} B.V."),
                &format!("{} We have worked on this for {} years.", demand.description, 3 + i),
            );
            p.language = demand.language;
            p
        })
        .collect()
}

/// The ranking the cache holds for the demand, as it stands.
fn cached(engine: &Engine) -> Arc<rankings::Ranking> {
    let demand = engine.demand(DEMAND).expect("read").expect("demand");
    let key = RankingKey { ranker: Ranker::Hybrid, language: demand.language, text: Arc::from(demand.query_text()) };
    engine.rankings.current(&key, engine.indexer.latest_change()).expect("a current cached ranking")
}

/// Largest score difference allowed between a ranking that took in the changes its budget allows
/// and a fresh one, as a share of the fresh best score.
const DRIFT_SHARE: f32 = 0.05;

/// A collection of 1,120 profiles: twenty variants of each demo profile (own id and name, one
/// extra sentence), each with its demo profile's real vectors, so that no test has to embed them.
fn large_engine() -> (tempfile::TempDir, Engine) {
    let (_demo_dir, demo) = demo_engine();
    let dir = tempfile::tempdir().expect("tempdir");
    let demo_profiles = demo.indexer.store.all_profiles().expect("profiles");
    let demo_vectors: HashMap<String, Vec<Vec<f32>>> = demo
        .indexer
        .store
        .current_vectors(EmbedderChoice::E5.model_id(), demo.indexer.dim)
        .expect("vectors")
        .into_iter()
        .map(|v| (v.profile_id, v.passages))
        .collect();
    let mut variants = Vec::new();
    for copy in 0..20 {
        for p in &demo_profiles {
            let mut v = p.clone();
            v.id = format!("{}-v{copy}", p.id);
            v.name = format!("{} {copy}", p.name);
            v.summary = format!("{} Variant {copy}.", p.summary);
            variants.push(v);
        }
    }
    {
        let lexical_only = EngineConfig { defer_embedding: true, ..EngineConfig::new(dir.path()) };
        let engine = Engine::open_with(&lexical_only).expect("engine");
        let _writes = engine.indexer.lock_writes();
        engine.indexer.import_profiles(&variants, false).expect("import");
        engine.indexer.store.upsert_demands(&demo.demands().expect("demands")).expect("demands");
        let ids: Vec<String> = variants.iter().map(|v| v.id.clone()).collect();
        let seqs = engine.indexer.store.profile_seqs(&ids).expect("seqs");
        let items: Vec<(String, u64, Vec<Vec<f32>>)> = variants
            .iter()
            .zip(seqs)
            .map(|(v, seq)| {
                let base = v.id.rsplit_once("-v").expect("variant id").0;
                (v.id.clone(), seq.expect("seq"), demo_vectors[base].clone())
            })
            .collect();
        engine.indexer.store.put_vectors(EmbedderChoice::E5.model_id(), engine.indexer.dim, &items).expect("vectors");
    }
    let engine = Engine::open(dir.path()).expect("engine");
    assert_eq!(engine.indexer.read_vectors().len(), 1120);
    (dir, engine)
}

#[test]
fn writes_within_the_refresh_bound_are_taken_in_and_match_a_fresh_ranking() {
    let (_dir, mut engine) = large_engine();
    // The default policy: changes to 1 % of the collection.
    assert_eq!(engine.rankings.policy.budget(1120), 11);
    let before = shortlist(&engine, 20);
    // Ten ordinary writes: four suppliers submit a second profile much like one already there,
    // three replace theirs (one with text unrelated to the demand), three delete theirs.
    for (i, r) in before.results.iter().take(4).enumerate() {
        let mut copy = engine.profile(&r.profile_id).expect("read").expect("profile");
        copy.id = format!("second-{i}");
        copy.name = format!("{} (second site)", copy.name);
        engine.submit_profile(&copy).expect("submit");
    }
    for r in before.results.iter().skip(4).take(3) {
        let mut p = engine.profile(&r.profile_id).expect("read").expect("profile");
        p.summary = format!("{} Now also in Belgium.", p.summary);
        engine.replace_profile(&p, crate::engine::Actor::command_line()).expect("replace");
    }
    for r in before.results.iter().skip(7).take(3) {
        engine.delete_profile(&r.profile_id, crate::engine::Actor::command_line()).expect("delete");
    }
    engine.wait_for_vectors();
    let taken_in = shortlist(&engine, 20);
    assert_eq!(cached(&engine).changes_taken, 10, "the cached ranking took in the writes instead of starting over");
    for i in 0..4 {
        let entry = taken_in.results.iter().find(|r| r.profile_id == format!("second-{i}"));
        let entry = entry.expect("a new profile ranks where its twin did");
        assert!(entry.explanation.scores.cosine.is_some(), "its vectors arrived: {:?}", entry.explanation.scores);
    }
    for r in before.results.iter().skip(7).take(3) {
        assert!(!ids(&taken_in).contains(&r.profile_id.as_str()), "deleted {} left", r.profile_id);
    }

    engine.rankings = RankingCache::default();
    let fresh = shortlist(&engine, 40);
    let fresh_score = |id: &str| fresh.results.iter().find(|r| r.profile_id == id).map(|r| r.score);
    let mut drift = 0f32;
    for r in &taken_in.results {
        let f = fresh_score(&r.profile_id).expect("every row is near the top of a fresh ranking too");
        drift = drift.max((r.score - f).abs());
    }
    // Ten changes, all to the profiles at the top (the ones that move the statistics most), in a
    // collection where every profile has nineteen near-twins: measured 0.32 on a best score of
    // about 16.
    let allowed = DRIFT_SHARE * fresh.results[0].score;
    eprintln!("largest drift {drift} of {allowed} allowed");
    assert!(drift <= allowed, "scores moved by {drift}: {:?} vs fresh {:?}", ids(&taken_in), ids(&fresh));
    // The fresh order, but for rows whose fresh scores lie within twice the drift of each other
    // (the variants of one demo profile nearly tie).
    for pair in taken_in.results.windows(2) {
        let (a, b) = (fresh_score(&pair[0].profile_id).unwrap(), fresh_score(&pair[1].profile_id).unwrap());
        assert!(a >= b - 2.0 * allowed, "{} ({a}) before {} ({b})", pair[0].profile_id, pair[1].profile_id);
    }
    // Nothing a fresh ranking puts clearly inside the top 20 is missing.
    let cut = fresh.results[19].score;
    for r in fresh.results.iter().take(20).filter(|r| r.score > cut + 2.0 * allowed) {
        assert!(ids(&taken_in).contains(&r.profile_id.as_str()), "{} is missing", r.profile_id);
    }
}

#[test]
fn a_small_collection_is_ranked_afresh_after_every_write() {
    let (_dir, engine) = demo_engine();
    assert_eq!(engine.rankings.policy.budget(56), 0);
    shortlist(&engine, 20);
    engine.submit_profile(&newcomers(&engine, 1).remove(0)).expect("submit");
    engine.wait_for_vectors();
    shortlist(&engine, 20);
    assert_eq!(cached(&engine).changes_taken, 0);
}

#[test]
fn deletes_and_replacements_are_taken_in() {
    let (_dir, mut engine) = demo_engine();
    engine.rankings.policy = RefreshPolicy { share: 1.0, max_changes: 8, min_profiles: 0, ..RefreshPolicy::default() };
    let before = shortlist(&engine, 20);
    let gone = before.results[1].profile_id.clone();
    let mut replaced = engine.profile(&before.results[0].profile_id).expect("read").expect("profile");
    replaced.summary = "We bake bread and pastries for the local market.".into();
    replaced.innovations.clear();
    replaced.keywords.clear();
    engine.replace_profile(&replaced, crate::engine::Actor::command_line()).expect("replace");
    engine.delete_profile(&gone, crate::engine::Actor::command_line()).expect("delete");
    engine.wait_for_vectors();
    let after = shortlist(&engine, 20);
    assert_eq!(cached(&engine).changes_taken, 2);
    assert!(!ids(&after).contains(&gone.as_str()), "a deleted profile left the shortlist");
    let position = |list: &Shortlist, id: &str| list.results.iter().position(|r| r.profile_id == id);
    assert_eq!(position(&before, &replaced.id), Some(0));
    assert!(position(&after, &replaced.id).is_none_or(|p| p > 5), "the bakery fell: {:?}", ids(&after));
}

#[test]
fn writes_beyond_the_refresh_bound_give_exactly_the_fresh_ranking() {
    let (_dir, mut engine) = demo_engine();
    engine.rankings.policy = RefreshPolicy { min_profiles: 0, ..RefreshPolicy::default() };
    assert_eq!(engine.rankings.policy.budget(56), 1);
    shortlist(&engine, 20);
    for p in newcomers(&engine, 2) {
        engine.submit_profile(&p).expect("submit");
    }
    engine.wait_for_vectors();
    let refreshed = shortlist(&engine, 20);
    assert_eq!(cached(&engine).changes_taken, 0, "two changes exceed the budget: computed afresh");
    engine.rankings = RankingCache::default();
    assert_eq!(refreshed, shortlist(&engine, 20));
}

#[test]
fn while_one_caller_ranks_afresh_the_others_get_every_write_taken_in() {
    let (_dir, mut engine) = demo_engine();
    engine.rankings.policy = RefreshPolicy { min_profiles: 0, ..RefreshPolicy::default() };
    shortlist(&engine, 20);
    let demand = engine.demand(DEMAND).expect("read").expect("demand");
    let key = RankingKey { ranker: Ranker::Hybrid, language: demand.language, text: Arc::from(demand.query_text()) };
    let slot = engine.rankings.slot(&key);
    // As if another request were computing this ranking afresh right now.
    let claim = slot.claim_recompute().expect("nobody computes it yet");
    assert!(slot.claim_recompute().is_none(), "one fresh computation at a time");
    let arrivals = newcomers(&engine, 3);
    for p in &arrivals {
        engine.submit_profile(p).expect("submit");
    }
    engine.wait_for_vectors();
    let served = shortlist(&engine, 20);
    assert_eq!(cached(&engine).changes_taken, 3, "three changes taken in beyond the budget of one");
    for p in &arrivals {
        assert!(ids(&served).contains(&p.id.as_str()), "{} is missing from {:?}", p.id, ids(&served));
    }
    drop(claim);
    engine.submit_profile(&Profile { id: "new-late".into(), ..arrivals[0].clone() }).expect("submit");
    engine.wait_for_vectors();
    let refreshed = shortlist(&engine, 20);
    assert_eq!(cached(&engine).changes_taken, 0, "the claim released: computed afresh");
    engine.rankings = RankingCache::default();
    assert_eq!(refreshed, shortlist(&engine, 20));
}

#[test]
fn a_profile_waiting_for_its_vectors_ranks_on_its_lexical_score() {
    let (_dir, engine) = demo_engine();
    shortlist(&engine, 20);
    // The background embedder is stopped, so the new profile's vectors never come.
    engine.indexer.stop_queue();
    let p = newcomers(&engine, 1).remove(0);
    engine.submit_profile(&p).expect("submit");
    let list = shortlist(&engine, 60);
    let entry = list.results.iter().find(|r| r.profile_id == p.id).expect("the new profile ranks");
    let scores = &entry.explanation.scores;
    assert!(scores.bm25.is_some() && scores.cosine.is_none(), "lexical evidence only: {scores:?}");
}

#[test]
fn a_cached_shortlist_is_answered_without_ranking_only_while_current() {
    let (_dir, engine) = demo_engine();
    let all = Filter::default();
    assert!(engine.rank_demand_if_cached(DEMAND, 10, &all, Ranker::Hybrid).expect("cached").is_none());
    let computed = shortlist(&engine, 10);
    let cached = engine.rank_demand_if_cached(DEMAND, 10, &all, Ranker::Hybrid).expect("cached");
    assert_eq!(cached.as_ref(), Some(&computed));
    // Longer than what was explained: needs explaining, so not answered from the cache.
    assert!(engine.rank_demand_if_cached(DEMAND, 11, &all, Ranker::Hybrid).expect("cached").is_none());
    engine.submit_profile(&newcomers(&engine, 1).remove(0)).expect("submit");
    assert!(engine.rank_demand_if_cached(DEMAND, 10, &all, Ranker::Hybrid).expect("cached").is_none());
}

/// The fixed embedder drives the whole dense path without model files, and its vectors are
/// stored under their own name, so a later engine with the model recomputes them all.
#[test]
fn a_fixed_embedder_ranks_densely_and_keeps_its_vectors_apart() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/profiles.jsonl");
    let config = EngineConfig { embedder: EmbedderChoice::Fixed, ..EngineConfig::new(&dir.path().join("data")) };
    let engine = Engine::open_with(&config).unwrap();
    assert_eq!(engine.embedder().unwrap().dim(), crate::embed::FixedEmbedder::DIM);
    let report = engine.import(&ImportFiles { profiles: Some(demo), demands: None, events: None }).unwrap();
    let ids: Vec<String> = engine
        .rank_text("hydrogen pressure vessels", Some(Language::En), 5, &Filter::default(), Ranker::Dense)
        .unwrap()
        .results
        .into_iter()
        .map(|e| e.profile_id)
        .collect();
    assert_eq!(ids.len(), 5);
    let first = engine.profile(&ids[0]).unwrap().unwrap();
    let text = crate::search::profile_text(&first).to_lowercase();
    assert!(text.contains("hydrogen") || text.contains("waterstof"), "{text}");
    drop(engine);
    let store = Store::open(&dir.path().join("data/pitchmatch.sqlite")).unwrap();
    let model = EmbedderChoice::E5.model_id();
    assert_eq!(store.profiles_needing_vectors(model, 384).unwrap().len(), report.profiles);
    assert!(store.profiles_needing_vectors(EmbedderChoice::Fixed.model_id(), 384).unwrap().is_empty());
}

fn demo_event(engine: &Engine, id: &str, demands: &[&str], slots: u32) {
    let event = crate::domain::Event {
        id: id.into(),
        organisation: "PSA Group".into(),
        co_hosts: Vec::new(),
        title: None,
        date: None,
        slots,
        demand_ids: demands.iter().map(|d| d.to_string()).collect(),
        min_sme_or_startup: None,
        min_knowledge_institutions: None,
        max_knowledge_institutions: None,
        max_per_theme: None,
        pitch_languages: Vec::new(),
    };
    engine.create_event(&event, Actor::command_line()).expect("event");
}

fn pitching(record: &crate::select::LineUpRecord) -> Vec<(String, String)> {
    record.selection.selected.iter().map(|p| (p.profile_id.clone(), p.demand_id.clone())).collect()
}

#[test]
fn a_curated_line_up_keeps_locks_pins_and_bans_and_replays_from_its_inputs() {
    use crate::domain::EventRuleKind;
    use crate::select::{LineUpStatus, MoveKind};
    let (_dir, engine) = demo_engine();
    let who = Actor::command_line;
    demo_event(&engine, "e1", &["demo-d-01", "demo-d-02"], 4);
    let first = engine.solve_line_up("e1", who()).expect("solve");
    assert_eq!(first.status, LineUpStatus::Draft);
    assert_eq!(first.selection.selected.len(), 4);
    assert!(first.moves.is_empty(), "the first line-up has nothing to compare with");

    // Lock two pitches, ban a third, pin a profile from far down the first demand area's list.
    let locked: Vec<(String, String)> = pitching(&first).into_iter().take(2).collect();
    for (p, d) in &locked {
        engine.set_event_rule("e1", p, EventRuleKind::Lock, Some(d), None, who()).expect("lock");
    }
    let banned = first.selection.selected[2].profile_id.clone();
    engine.set_event_rule("e1", &banned, EventRuleKind::Ban, None, Some("met them last year"), who()).expect("ban");
    let far = shortlist(&engine, 30).results[15..]
        .iter()
        .map(|r| r.profile_id.clone())
        .find(|id| !first.selection.selected.iter().chain(&first.selection.reserves).any(|p| p.profile_id == *id))
        .expect("a profile outside the line-up and reserves");
    engine.set_event_rule("e1", &far, EventRuleKind::Pin, Some(DEMAND), None, who()).expect("pin");
    let second = engine.solve_line_up("e1", who()).expect("re-solve");
    let now = pitching(&second);
    for l in &locked {
        assert!(now.contains(l), "locked pitch {l:?} moved: {now:?}");
    }
    assert!(now.contains(&(far.clone(), DEMAND.to_string())), "pinned profile missing: {now:?}");
    assert!(!now.iter().any(|(p, _)| *p == banned), "banned profile {banned} still pitches: {now:?}");
    assert!(second.selection.optimal);
    let out = second.moves.iter().find(|m| m.profile_id == banned).expect("the ban is a move");
    assert_eq!(out.kind, MoveKind::Out);
    assert_eq!(out.why, "banned by the organiser (met them last year)");
    let came = second.moves.iter().find(|m| m.profile_id == far).expect("the pin is a move");
    assert_eq!((came.kind, came.why.as_str()), (MoveKind::In, "pinned by the organiser"));
    let why_not = second.selection.left_out.iter().find(|l| l.profile_id == banned);
    if let Some(l) = why_not {
        assert!(l.detail.contains("met them last year"), "{}", l.detail);
    }

    // The same inputs give the same line-up, also as read back from the store.
    let replayed = second.inputs.solve().expect("replay");
    assert_eq!(replayed, second.selection);
    let stored = engine.line_up("e1").unwrap().expect("kept");
    assert_eq!(stored.inputs.solve().expect("replay stored"), stored.selection);

    // Final: kept as it is, changes refused until reopened; the store keeps it across a reopen.
    engine.finalise_line_up("e1", who()).expect("final");
    let err = engine.set_event_rule("e1", &far, EventRuleKind::Ban, None, None, who()).unwrap_err();
    assert!(err.to_string().contains("is final"), "{err}");
    assert!(engine.solve_line_up("e1", who()).is_err());
    let kept = engine.line_up("e1").unwrap().expect("kept");
    assert_eq!((kept.status, kept.selection.clone()), (LineUpStatus::Final, second.selection.clone()));
    assert!(kept.finalised_at.is_some());

    // Another event of the season: a profile in e1's final line-up is not proposed again (one
    // event per profile by default), and says where it pitches.
    demo_event(&engine, "e2", &["demo-d-01"], 3);
    let other = engine.solve_line_up("e2", who()).expect("solve e2");
    for (p, _) in pitching(&other) {
        assert!(!now.iter().any(|(q, _)| *q == p), "{p} pitches at e1 and e2");
    }
    let rules = engine.event_selection_rules("e2").unwrap();
    assert!(rules.bans.iter().any(|b| b.reason.as_deref().is_some_and(|r| r.starts_with("pitches at e1 already"))));

    // Reopened, the whole event locked, then a swap: the locked pitches stay, the swapped one goes.
    engine.reopen_line_up("e1", who()).expect("reopen");
    assert_eq!(engine.lock_line_up("e1", who()).expect("lock all"), 4);
    let reserve = second.selection.reserves[0].profile_id.clone();
    let out_id = second.selection.selected[3].profile_id.clone();
    let swapped = engine.swap_pitch("e1", &out_id, &reserve, who()).expect("swap");
    let after = pitching(&swapped);
    assert!(after.iter().any(|(p, _)| *p == reserve) && !after.iter().any(|(p, _)| *p == out_id), "{after:?}");
    let keep: Vec<_> = now.iter().filter(|(p, _)| *p != out_id).collect();
    assert!(keep.iter().all(|l| after.contains(l)), "{after:?}");
    let audit = engine.audit_log(None, None, 50).unwrap();
    for action in ["lock", "ban", "pin", "solve", "finalise", "reopen", "lock all"] {
        assert!(audit.iter().any(|e| e.action == action), "no {action} in the audit log");
    }
}

/// A Dutch profile for the French demand area, sharing roots with its words but hardly a word:
/// the word-root signal finds it and its explanation names the pairs; a short search text goes
/// without the signal.
#[test]
fn shared_word_roots_cross_languages_and_are_named() {
    let (_dir, engine) = demo_engine();
    let mut p = Profile::minimal(
        "roots-nl",
        "Tweede Leven B.V.",
        "Wij doen de diagnose van tractiebatterijen zonder demontage, bieden stationaire opslag en \
         mobiele energie als tweede leven, en de recycling van modules volgens de Europese regelgeving.",
    );
    p.language = Language::Nl;
    engine.submit_profile(&p).expect("submit");
    engine.wait_for_vectors();
    let list = shortlist(&engine, 60);
    let entry = list.results.iter().find(|r| r.profile_id == p.id).expect("the Dutch profile ranks");
    let cognates = entry.explanation.scores.cognates.expect("the signal applies to a long demand text");
    assert!(cognates >= crate::rank::ROOTS_SHOWN_FROM, "{:?}", entry.explanation.scores);
    assert!(
        entry.explanation.shared_roots.iter().any(|pair| pair == "diagnose (diagnostic)"),
        "{:?}",
        entry.explanation.shared_roots
    );
    assert!(entry.explanation.reason.contains("Words with the same roots: "), "{}", entry.explanation.reason);

    let short = engine
        .rank_text("recyclage des batteries", Some(Language::Fr), 60, &Filter::default(), Ranker::Hybrid)
        .expect("search");
    let entry = short.results.iter().find(|r| r.profile_id == p.id).expect("ranked");
    assert_eq!(entry.explanation.scores.cognates, None);
    assert!(entry.explanation.shared_roots.is_empty());
}
