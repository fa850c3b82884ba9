//! Engine tests over a real data dir: the demo data, the real model. They check what only the
//! whole engine can show: a cached ranking that takes in writes gives the shortlist a fresh one
//! gives, within the bound the refresh policy sets, and writes reach shortlists at all.

mod line_up;
mod ranking_cache;

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use super::rankings::{RankingCache, RankingKey, RefreshPolicy};
use super::*;
use crate::domain::{DemandArea, Filter, Ranker};
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

/// An explanation names the concepts a profile shares with the demand area fewest-profiles first,
/// so that those nearly every profile mentions do not crowd the telling ones out of the sentence.
#[test]
fn shared_concepts_are_named_rarest_first() {
    let (_dir, engine) = demo_engine();
    let glossary = engine.explainer.glossary();
    let mut mentioning: HashMap<String, usize> = HashMap::new();
    for profile in engine.profile_page(None, 1000).expect("profiles") {
        let mut ids = glossary.concept_ids(profile.language, &crate::search::profile_text(&profile));
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            *mentioning.entry(id.to_string()).or_default() += 1;
        }
    }
    let mut compared = 0;
    for demand in engine.demands().expect("demands") {
        let list = engine.rank_demand(&demand.id, 10, &Filter::default(), Ranker::Hybrid).expect("shortlist");
        for entry in &list.results {
            let counts: Vec<usize> =
                entry.explanation.scores.shared_concepts.iter().map(|c| mentioning[c.as_str()]).collect();
            assert!(
                counts.windows(2).all(|w| w[0] <= w[1]),
                "{} for {}: {:?} named in the order {counts:?}",
                entry.profile_id,
                demand.id,
                entry.explanation.scores.shared_concepts
            );
            compared += counts.windows(2).filter(|w| w[0] < w[1]).count();
        }
    }
    assert!(compared > 0, "no explanation named concepts mentioned by different numbers of profiles");
}

/// The demo collection's terms are aligned across languages when it is imported: the concepts are
/// kept beside the store, and where a profile in another language shares them with a demand area
/// its explanation names each pair in the profile's and the demand's own words.
#[test]
fn induced_concepts_cross_languages_and_are_named() {
    let (dir, engine) = demo_engine();
    let kept = std::fs::read_to_string(dir.path().join(INDUCED_FILE)).expect("kept beside the store");
    let induced = engine.induced_concepts();
    assert!(induced.len() >= 50, "{} concepts", induced.len());
    assert_eq!(InducedConcepts::parse(&kept).expect("parses"), *induced);
    let mut named = 0;
    for demand in engine.demands().expect("demands") {
        let list = engine.rank_demand(&demand.id, 10, &Filter::default(), Ranker::Hybrid).expect("shortlist");
        let demand_text = demand.query_text().to_lowercase();
        for entry in &list.results {
            let profile = engine.profile(&entry.profile_id).expect("read").expect("profile");
            let profile_text = crate::search::profile_text(&profile).to_lowercase();
            let found: Vec<String> =
                entry.explanation.matched.iter().flat_map(|m| m.terms.iter().map(|t| t.to_lowercase())).collect();
            for pair in &entry.explanation.aligned_terms {
                let (mine, theirs) = pair
                    .strip_suffix(')')
                    .and_then(|p| p.split_once(" ("))
                    .unwrap_or_else(|| panic!("not `profile term (demand term)`: {pair}"));
                assert!(profile_text.contains(mine), "{pair}: {mine} not in {}", profile.id);
                assert!(
                    !mine.split(' ').all(|w| found.iter().any(|f| f == w)),
                    "{pair} is a demand word found already"
                );
                assert!(demand_text.contains(theirs), "{pair}: {theirs} not in {}", demand.id);
                assert_ne!(profile.language, demand.language, "{pair}");
                let z = entry.explanation.scores.induced.expect("the signal's score");
                assert!(z >= crate::rank::ALIGNED_SHOWN_FROM, "{pair} named at {z}");
                named += 1;
            }
            if !entry.explanation.aligned_terms.is_empty() {
                assert!(
                    entry.explanation.reason.contains("Words that mean the same: "),
                    "{}",
                    entry.explanation.reason
                );
            }
        }
    }
    assert!(named >= 10, "only {named} aligned pairs named over the demo shortlists");
}

/// Deleting a profile erases its words from the induced concepts too, when no other text uses
/// them, and leaves the index valid for the concepts that remain: it is not rebuilt on the next
/// open.
#[test]
fn a_deleted_profiles_own_terms_leave_the_induced_concepts() {
    let (dir, engine) = demo_engine();
    let induced = engine.induced_concepts();
    let profiles = engine.profile_page(None, 1000).expect("profiles");
    let demands = engine.demands().expect("demands");
    let texts: Vec<(Language, String)> = profiles
        .iter()
        .map(|p| (p.language, crate::search::profile_text(p)))
        .chain(demands.iter().map(|d| (d.language, d.query_text())))
        .collect();
    let mut users: HashMap<(Language, String), usize> = HashMap::new();
    for (language, text) in &texts {
        let mut terms: Vec<&str> = induced.mentions(*language, text).into_iter().map(|(_, t)| t).collect();
        terms.sort_unstable();
        terms.dedup();
        for t in terms {
            *users.entry((*language, t.to_string())).or_default() += 1;
        }
    }
    let (victim, own, shared) = profiles
        .iter()
        .find_map(|p| {
            let terms: Vec<String> = induced
                .mentions(p.language, &crate::search::profile_text(p))
                .into_iter()
                .map(|(_, t)| t.to_string())
                .collect();
            let (own, shared): (Vec<String>, Vec<String>) =
                terms.into_iter().partition(|t| users[&(p.language, t.clone())] == 1);
            (!own.is_empty() && !shared.is_empty()).then(|| (p.clone(), own, shared))
        })
        .expect("a demo profile with terms of its own and terms others use");
    engine.delete_profile(&victim.id, crate::engine::Actor::command_line()).expect("delete");
    let after = engine.induced_concepts();
    let kept = std::fs::read_to_string(dir.path().join(INDUCED_FILE)).expect("file");
    assert_eq!(InducedConcepts::parse(&kept).expect("parses"), *after);
    for term in &own {
        assert!(after.mentions(victim.language, term).is_empty(), "{term} of the deleted {} stayed", victim.id);
    }
    for term in &shared {
        assert!(!after.mentions(victim.language, term).is_empty(), "{term}, used by others, went");
    }
    assert_eq!(after.len(), induced.len(), "concepts keep their ids");
    drop(engine);
    // Opened again, the index matches its stamp: it is kept as it is (a rebuilt one would list
    // new segments), and it holds every remaining profile.
    let meta = || std::fs::read_to_string(dir.path().join("tantivy/meta.json")).expect("meta.json");
    let before = meta();
    let engine = Engine::open(dir.path()).expect("reopen");
    assert_eq!(meta(), before, "the index was rebuilt");
    assert_eq!(engine.index_consistency().expect("consistency"), (Vec::new(), Vec::new()));
    assert_eq!(*engine.induced_concepts(), *after);
}

/// Asserts that the index holds every stored profile with exactly the induced concepts its text
/// mentions under the concepts in force: per concept, the profiles the index finds are those
/// whose text mentions it. Returns how many concepts the profiles mention.
fn assert_indexed_with_induced_concepts(engine: &Engine) -> usize {
    let induced = engine.induced_concepts();
    let mut mentioning: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for p in engine.profile_page(None, 1000).expect("profiles") {
        let mut concepts: Vec<String> =
            induced.mentions(p.language, &crate::search::profile_text(&p)).into_iter().map(|(id, _)| id).collect();
        concepts.sort_unstable();
        concepts.dedup();
        for c in concepts {
            mentioning.entry(c).or_default().push(p.id.clone());
        }
    }
    for (concept, mut expected) in mentioning.clone() {
        expected.sort_unstable();
        let found = engine.indexer.index.ids_mentioning_induced(std::slice::from_ref(&concept), None).expect("search");
        assert_eq!(found, expected, "profiles indexed with induced concept {concept}");
    }
    mentioning.len()
}

/// Asserts that the concepts in force are those `induced.tsv` keeps, that the index holds every
/// stored profile with them ([`assert_indexed_with_induced_concepts`], whose count it returns)
/// and nothing else.
fn assert_concepts_kept_and_indexed(dir: &Path, engine: &Engine) -> usize {
    let kept = std::fs::read_to_string(dir.join(INDUCED_FILE)).expect("the concepts are kept");
    assert_eq!(InducedConcepts::parse(&kept).expect("parses"), *engine.induced_concepts());
    let mentioned = assert_indexed_with_induced_concepts(engine);
    assert_eq!(engine.index_consistency().expect("consistency"), (Vec::new(), Vec::new()));
    mentioned
}

#[test]
fn an_import_indexes_every_profile_with_the_concepts_it_induced() {
    let (dir, engine) = demo_engine();
    assert!(assert_concepts_kept_and_indexed(dir.path(), &engine) >= 20, "the demo profiles mention induced concepts");
}

#[test]
fn a_store_without_concepts_induces_them_at_open_unless_told_to_wait() {
    let (dir, engine) = demo_engine();
    let imported = engine.induced_concepts();
    drop(engine);
    let file = dir.path().join(INDUCED_FILE);
    std::fs::remove_file(&file).expect("remove the concepts");
    // A command that induces them itself right after opening (an import) opens without them.
    let waiting = EngineConfig { induce_missing_concepts: false, ..EngineConfig::new(dir.path()) };
    let engine = Engine::open_with(&waiting).expect("open without inducing");
    assert!(!file.exists(), "induced while told to wait");
    drop(engine);
    let engine = Engine::open(dir.path()).expect("open");
    assert_eq!(*engine.induced_concepts(), *imported, "the same collection induces the same concepts");
    assert_concepts_kept_and_indexed(dir.path(), &engine);
}

/// Texts written through the engine (the service's path) bring words no concept aligns yet; an
/// engine told to realign induces the concepts again in the background after such writes, keeps
/// them in `induced.tsv` and indexes every profile with them, as an import would have.
#[test]
fn written_texts_have_their_words_aligned_in_the_background() {
    let (dir, engine) = demo_engine();
    let imported = engine.induced_concepts();
    drop(engine);
    let realigning = EngineConfig { realign_after: Some(std::time::Duration::ZERO), ..EngineConfig::new(dir.path()) };
    let engine = Engine::open_with(&realigning).expect("open");
    assert_eq!(*engine.induced_concepts(), *imported, "nothing written yet");
    let mut p = Profile::minimal(
        "printed-parts-nl",
        "Reserveprint B.V.",
        "Wij printen reserveonderdelen op aanvraag: een digitaal magazijn van onderdelen, \
         additieve productie in kunststof en metaal dicht bij de garage, zonder voorraad.",
    );
    p.language = Language::Nl;
    engine.submit_profile(&p).expect("submit");
    let demand = DemandArea {
        id: "printed-parts-fr".into(),
        organisation: "OEM".into(),
        title: "Pièces de rechange imprimées à la demande".into(),
        description: "Un magasin numérique de pièces de rechange, imprimées à la demande par fabrication \
                      additive près du garage, sans stock."
            .into(),
        language: Language::Fr,
        themes: Vec::new(),
        event: None,
    };
    engine.create_demand(&demand, Actor::command_line()).expect("demand");
    engine.wait_for_vectors();
    let realigned = engine.induced_concepts();
    assert_ne!(*realigned, *imported, "the new texts' words were not aligned");
    assert!(
        !realigned.mentions(Language::Nl, &crate::search::profile_text(&p)).is_empty(),
        "the written profile mentions induced concepts"
    );
    assert!(
        engine.indexer.induce_changed_concepts().expect("induce").is_none(),
        "the concepts in force are those the collection induces"
    );
    assert_concepts_kept_and_indexed(dir.path(), &engine);
}

/// Every hybrid score is the weighted sum of the standardised parts its breakdown lists, the
/// likeness to the best match among them, and the best match is the one profile every entry is
/// compared with: the first of the shortlist, named where a profile is much like it.
#[test]
fn every_hybrid_score_adds_up_from_its_breakdown_with_the_best_match_named() {
    let (_dir, engine) = demo_engine();
    let w = crate::rank::hybrid::FusionWeights::default();
    let mut named = 0;
    for demand in engine.demands().expect("demands") {
        let list = engine.rank_demand(&demand.id, 20, &Filter::default(), Ranker::Hybrid).expect("shortlist");
        let first = &list.results[0];
        let s = &first.explanation.scores;
        assert_eq!(
            s.best_match_id.as_deref(),
            Some(first.profile_id.as_str()),
            "{}: the first is the best match",
            demand.id
        );
        assert!((s.best_match_cosine.expect("cosine") - 1.0).abs() < 1e-4, "the best match is itself");
        for entry in &list.results {
            let s = &entry.explanation.scores;
            assert_eq!(s.best_match_id, first.explanation.scores.best_match_id, "one best match per ranking");
            let concept_weight = crate::rank::hybrid::concept_weight(
                w.concepts,
                s.concept_coverage.expect("coverage"),
                s.query_concepts.expect("query concepts"),
            );
            let parts = [
                (w.dense, s.dense),
                (w.lexical, s.lexical),
                (concept_weight, s.concepts),
                (w.cognates, s.cognates),
                (w.induced, s.induced),
                (w.best_match, s.best_match),
            ];
            let sum: f32 = parts.iter().map(|(weight, z)| weight * z.unwrap_or(0.0)).sum();
            assert!(
                (sum - entry.score).abs() < 1e-3,
                "{} for {}: parts {parts:?} sum to {sum}",
                entry.score,
                entry.profile_id
            );
            match &entry.explanation.like_best_match {
                Some(name) => {
                    assert_ne!(entry.profile_id, first.profile_id, "a profile is not named as like itself");
                    assert_eq!(name, &first.name);
                    assert!(s.best_match.expect("likeness") >= crate::rank::LIKENESS_SHOWN_FROM);
                    assert!(entry.explanation.reason.contains(&format!("Close in meaning to {name}, the best match.")));
                    named += 1;
                }
                None => assert!(
                    entry.profile_id == first.profile_id
                        || s.best_match.expect("likeness") < crate::rank::LIKENESS_SHOWN_FROM,
                    "{} is much like the best match but not named",
                    entry.profile_id
                ),
            }
        }
    }
    assert!(named >= 12, "only {named} entries named the best match over the demo shortlists");
}
